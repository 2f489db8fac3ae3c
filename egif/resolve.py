"""Build working schema objects from registry bytes alone.

A stored version and every version it imports form a *closure*.  The closure
is laid out as a virtual tree, ``<name>/<version>/<path>``, in which every
xs:include / xs:import / xs:redefine schemaLocation is rewritten to the
relative path of the file the registry bound it to.  The same tree is what
``export`` writes to disk, so an exported tree resolves locally by
construction.

Compilers read the tree through hooks that serve only its files: lxml through
an ``etree.Resolver``, xmlschema through a private ``OpenerDirector`` with no
network or file handlers at all.  A location outside the tree is refused, so
nothing is ever fetched from the network or read from the file system,
whatever the schemaLocation hints in the stored documents say.
"""

from __future__ import annotations

import io
import os
import posixpath
import warnings
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lxml import etree

from egif.errors import InputError, SchemaCompileError
from egif.record import record
from egif.xmlsafe import VC_NS, XSD_NS, make_parser, parse_schema_bytes, syntax_position

if TYPE_CHECKING:  # imported when first compiled: xmlschema costs ~18 MB of resident memory
    import xmlschema

# egif.xsd11 (and the decimal module under it) is imported only for a document that carries
# vc: attributes, which few do: the plain path of every `egif validate` never needs it.
_VC_MARK = VC_NS.encode()

# A host that can never resolve (RFC 2606), used only as a name space for
# the virtual tree: the hooks below answer every request for it.
VIRTUAL_BASE = "http://egif.invalid/registry/"

DIRECTIVE_TAGS = {
    f"{{{XSD_NS}}}include": "include",
    f"{{{XSD_NS}}}import": "import",
    f"{{{XSD_NS}}}redefine": "redefine",
    f"{{{XSD_NS}}}override": "override",
}


class UnitDirective(NamedTuple):
    file: str
    kind: str
    namespace: str | None
    location: str | None
    target_path: str | None  # in the same unit
    target_unit: str | None  # key of another unit (its main file is the target)


class Unit(NamedTuple):
    """One schema version's own files, ready to be laid out."""

    key: str  # "<name>/<version>": its folder in the virtual tree
    main: str
    files: Mapping[str, bytes]
    directives: tuple[UnitDirective, ...]


def iter_directives(root: etree._Element) -> list[etree._Element]:
    """The include/import/redefine/override children of an xs:schema, in order."""
    return [c for c in root if isinstance(c.tag, str) and c.tag in DIRECTIVE_TAGS]


def closure_xsd_version(units: Mapping[str, Unit]) -> str:
    """``"1.1"`` when a document of the closure asks for an XSD 1.1 processor, else ``"1.0"``."""
    return documents_xsd_version({f"{u.key}/{p}": d for u in units.values() for p, d in u.files.items()})


def documents_xsd_version(files: Mapping[str, bytes]) -> str:
    """``"1.1"`` when one of the schema documents asks for an XSD 1.1 processor, else ``"1.0"``."""
    for name, data in files.items():
        if _VC_MARK in data:
            from egif import xsd11

            if xsd11.asks_for_xsd11(parse_schema_bytes(data, name).getroot()):
                return "1.1"
    return "1.0"


def normalise(data: bytes, name: str, xsd_version: str) -> bytes:
    """A schema document as every egif reader sees it: DOCTYPE dropped, conditional inclusion applied."""
    if _VC_MARK not in data and b"<!DOCTYPE" not in data:
        return data
    from egif import xsd11

    root = parse_schema_bytes(data, name).getroot()
    root, _ = xsd11.apply(root, xsd_version)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def lay_out(units: Mapping[str, Unit], xsd_version: str | None = None) -> dict[str, bytes]:
    """The virtual tree of a closure: path -> bytes, ready for any XSD reader.

    Each document's include/import/redefine locations are rewritten to the
    files the registry bound them to; a DOCTYPE is dropped (its few small
    entities expanded) and XSD 1.1 conditional inclusion is applied for the
    closure's XSD version (see :mod:`egif.xsd11`), so libxml2, xmlschema and
    egif's own readers all read the same schema.
    """
    version = xsd_version or closure_xsd_version(units)
    tree: dict[str, bytes] = {}
    for unit in units.values():
        by_file: dict[str, list[UnitDirective]] = {}
        for d in unit.directives:
            by_file.setdefault(d.file, []).append(d)
        for path, data in unit.files.items():
            vpath = f"{unit.key}/{path}"
            wanted = by_file.get(path)
            marked = _VC_MARK in data
            if not wanted and not marked and b"<!DOCTYPE" not in data:
                tree[vpath] = data
                continue
            root = parse_schema_bytes(data, vpath).getroot()
            elements = iter_directives(root)
            if len(elements) != len(wanted or ()):
                raise SchemaCompileError(
                    f"stored directives do not match the document ({len(elements)} != {len(wanted or ())})",
                    file=vpath,
                )
            here = posixpath.dirname("/" + vpath)
            for elem, d in zip(elements, wanted or (), strict=True):
                if d.target_unit is not None:
                    target_unit = units[d.target_unit]
                    target = f"/{target_unit.key}/{target_unit.main}"
                elif d.target_path is not None:
                    target = f"/{unit.key}/{d.target_path}"
                else:
                    # nothing bound: an import XSD processors skip; drop the location so that
                    # no reader tries to load it from anywhere
                    if "schemaLocation" in elem.attrib and d.kind == "import":
                        del elem.attrib["schemaLocation"]
                    continue
                elem.set("schemaLocation", posixpath.relpath(target, here))
            if marked:
                from egif import xsd11

                root, _ = xsd11.apply(root, version)
            # the root element alone: no DOCTYPE, entities already expanded
            tree[vpath] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return tree


def resolved_from_units(units: Mapping[str, Unit], main: str, label: str = "") -> ResolvedSchema:
    """Lay out a closure and wrap it, with the XSD version its documents ask for."""
    version = closure_xsd_version(units)
    return ResolvedSchema(lay_out(units, version), main, label=label, xsd_version=version)


class TreeResolver(etree.Resolver):
    """Serves the virtual tree to libxml2, and nothing else.

    ``stubs`` answers extra URLs with fixed documents (the linter uses it to
    stand in for imports it cannot resolve); any other URL is recorded in
    ``refused`` and answered with an empty document, which libxml2 then
    reports as a failure itself.
    """

    def __init__(self, files: Mapping[str, bytes], stubs: Mapping[str, bytes] | None = None) -> None:
        super().__init__()
        self.files = files
        self.stubs = stubs or {}
        self.refused: list[str] = []

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:  # type: ignore[override]
        if system_url in self.stubs:
            return self.resolve_string(self.stubs[system_url], context, base_url=system_url)
        if system_url.startswith(VIRTUAL_BASE):
            vpath = posixpath.normpath(system_url[len(VIRTUAL_BASE):])
            data = self.files.get(vpath)
            if data is not None:
                return self.resolve_string(data, context, base_url=VIRTUAL_BASE + vpath)
        self.refused.append(system_url)
        return self.resolve_string(b"", context, base_url=system_url)


def _tree_handler(files: Mapping[str, bytes], refused: list[str]) -> Any:
    """An opener handler for xmlschema, built on first use: urllib.request (with http,
    ssl and email) costs ~9 MB of resident memory in processes that never need it."""
    import urllib.error
    import urllib.parse
    import urllib.request
    import urllib.response
    from email.message import Message

    class _TreeHandler(urllib.request.BaseHandler):
        """Serves the virtual tree; nothing else while the schema is being built.

        Once built (``building`` false), xmlschema also uses this opener for the
        instance documents a caller names by path: those local files may then be
        read.  The network is never reachable: no HTTP handler is installed.
        """

        def __init__(self, files: Mapping[str, bytes], refused: list[str]) -> None:
            self.files = files
            self.refused = refused
            self.building = True

        def default_open(self, req: urllib.request.Request) -> urllib.response.addinfourl:
            url = req.full_url
            if url.startswith(VIRTUAL_BASE):
                vpath = posixpath.normpath(url[len(VIRTUAL_BASE):])
                data = self.files.get(vpath)
                if data is not None:
                    return urllib.response.addinfourl(io.BytesIO(data), Message(), url, 200)
            elif not self.building and url.startswith("file:"):
                path = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
                try:
                    with open(path, "rb") as handle:
                        data = handle.read()
                except OSError as exc:
                    raise urllib.error.URLError(f"cannot read {path}: {exc.strerror}") from None
                return urllib.response.addinfourl(io.BytesIO(data), Message(), url, 200)
            if self.building:
                self.refused.append(url)
            raise urllib.error.URLError(f"refused: {url} is not in the registry")

    return _TreeHandler(files, refused)


@record(frozen=False)
class ResolvedSchema:
    """A closure laid out in memory, compiled on demand (and then cached).

    ``files`` and ``main`` are plain data: pass them to another process and
    rebuild there with ``ResolvedSchema(files, main)``.
    """

    files: dict[str, bytes]
    main: str
    label: str = ""
    xsd_version: str = "1.0"  # the XSD version conditional inclusion was applied for
    _lxml: etree.XMLSchema | None = field(default=None, repr=False)
    _xmlschema: dict[str, xmlschema.XMLSchemaBase] = field(default_factory=dict, repr=False)

    def __init__(self, files: dict[str, bytes], main: str, label: str = "", xsd_version: str = "1.0",
                 _lxml: etree.XMLSchema | None = None,
                 _xmlschema: dict[str, xmlschema.XMLSchemaBase] | None = None) -> None:
        self.files = files
        self.main = main
        self.label = label
        self.xsd_version = xsd_version
        self._lxml = _lxml
        self._xmlschema = {} if _xmlschema is None else _xmlschema

    def url(self, vpath: str | None = None) -> str:
        """The virtual URL a stored file (``vpath``, default the main document) is compiled under:
        locations in error messages and between the files; never fetched."""
        return VIRTUAL_BASE + (vpath or self.main)

    def lxml_schema(self) -> etree.XMLSchema:
        """The libxml2 validator (fast; XSD 1.0)."""
        if self._lxml is None:
            self._lxml = compile_lxml(self.files, self.main, self.label)
        return self._lxml

    def xmlschema_schema(self, xsd_version: str = "1.0") -> xmlschema.XMLSchemaBase:
        """The xmlschema component model, read as XSD 1.0 as libxml2 reads it.

        Conditional inclusion has already been applied to the laid-out documents
        for the closure's own XSD version (``xsd_version``); what remains is read
        the way egif's validator (libxml2, an XSD 1.0 engine) reads it, so that
        the diff, the document generator and validation all see one schema.
        """
        if xsd_version not in self._xmlschema:
            self._xmlschema[xsd_version] = compile_xmlschema(
                self.files, self.main, self.label, xsd_version=xsd_version
            )
        return self._xmlschema[xsd_version]

    def write(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Write the tree under ``directory`` (made when missing), each file at its laid-out
        path; returns the paths written, the main document's among them."""
        root = Path(directory)
        written: list[Path] = []
        for vpath, data in sorted(self.files.items()):
            target = root.joinpath(*vpath.split("/"))
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            except OSError as exc:
                raise InputError(f"cannot write: {exc.strerror or exc}", file=target) from None
            written.append(target)
        return written


def compile_lxml(files: Mapping[str, bytes], main: str, label: str = "") -> etree.XMLSchema:
    parser = make_parser()
    resolver = TreeResolver(files)
    parser.resolvers.add(resolver)
    name = label or main
    try:
        root = etree.fromstring(files[main], parser, base_url=VIRTUAL_BASE + main)
        return etree.XMLSchema(root.getroottree())
    except etree.XMLSchemaParseError as exc:
        raise SchemaCompileError(_lxml_message(exc, resolver.refused), file=name) from None
    except etree.XMLSyntaxError as exc:
        line, column, message = syntax_position(exc)
        raise SchemaCompileError(f"not well-formed XML: {message}", file=name, line=line, column=column) from None


def _lxml_message(exc: etree.XMLSchemaParseError, refused: list[str]) -> str:
    entries = [e for e in exc.error_log if e.level_name in ("ERROR", "FATAL")] or list(exc.error_log)
    if refused:
        return f"schema does not compile: {refused[0]} is outside the registry"
    if not entries:
        return f"schema does not compile: {exc}"
    first = entries[0]
    where = first.filename or ""
    if where.startswith(VIRTUAL_BASE):
        where = where[len(VIRTUAL_BASE):]
    loc = f" ({where}:{first.line})" if where else ""
    return f"schema does not compile: {first.message.strip()}{loc}"


def compile_xmlschema(files: Mapping[str, bytes], main: str, label: str = "", *,
                      xsd_version: str = "1.0") -> xmlschema.XMLSchemaBase:
    import urllib.error
    import urllib.request

    import xmlschema
    from xmlschema.validators.exceptions import XMLSchemaImportWarning, XMLSchemaIncludeWarning

    refused: list[str] = []
    opener = urllib.request.OpenerDirector()
    handler = _tree_handler(files, refused)
    opener.add_handler(handler)
    cls = xmlschema.XMLSchema11 if xsd_version == "1.1" else xmlschema.XMLSchema10
    base = VIRTUAL_BASE + posixpath.dirname(main) + "/"
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            schema = cls(
                io.BytesIO(files[main]), base_url=base, opener=opener, defuse="always",
                use_fallback=False,
            )
        problems = [w for w in caught
                    if issubclass(w.category, (XMLSchemaImportWarning, XMLSchemaIncludeWarning))]
        if problems or refused:
            detail = f"{refused[0]} is outside the registry" if refused else str(problems[0].message)
            raise SchemaCompileError(f"schema does not compile (xmlschema): {detail}",
                                     file=label or main)
        handler.building = False
        return schema
    except (xmlschema.XMLSchemaException, urllib.error.URLError, OSError, SyntaxError) as exc:
        detail = f"{refused[0]} is outside the registry" if refused else _first_line(exc)
        raise SchemaCompileError(f"schema does not compile (xmlschema): {detail}",
                                 file=label or main) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
