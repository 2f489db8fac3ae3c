"""The layout of a collection read straight from the XSD documents, with lxml.

The streaming engine needs two facts about a collection root: which global
elements repeat directly under it (the *records*) and which identity
constraints it declares.  Compiling the closure with xmlschema to learn them
took half a second and ~30 MB in the parent process, so they are read from
the schema documents themselves here: global element and type declarations
by Clark name, then a walk of the root's content model (sequences, choices,
``all``, group references, complex-content extension and restriction).

:func:`read_layout` answers None when the root is not a collection, and
raises :class:`Unsupported` for the rare constructs it does not follow
(xs:redefine / xs:override, substitution groups headed by a record
candidate); the caller then asks xmlschema instead.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from egif.xmlsafe import XSD_NS, parse_bytes

_X = f"{{{XSD_NS}}}"
_MODEL = {_X + "sequence", _X + "choice", _X + "all"}
_IDC = {_X + "unique": "unique", _X + "key": "key", _X + "keyref": "keyref"}


class Unsupported(Exception):
    """A construct this reader does not follow; ask the full schema model."""


@dataclass(frozen=True)
class RootFacts:
    records: frozenset[str]
    constraints: tuple[tuple[str, str, str, tuple[str, ...], tuple[tuple[str, str], ...], str | None], ...]


class _Index:
    """Global components of every document of a closure, by Clark name."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.elements: dict[str, etree._Element] = {}
        self.types: dict[str, etree._Element] = {}
        self.groups: dict[str, etree._Element] = {}
        self.tns: dict[etree._Element, str] = {}
        docs: dict[str, etree._Element] = {}
        for vpath, data in files.items():
            docs[vpath] = parse_bytes(data, vpath).getroot()
        # an included schema without a target namespace takes the includer's (chameleon)
        inherited: dict[str, str] = {}
        for vpath, root in docs.items():
            if root.find(_X + "redefine") is not None or root.find(_X + "override") is not None:
                raise Unsupported("xs:redefine / xs:override")
            for inc in root.iter(_X + "include"):
                loc = inc.get("schemaLocation") or ""
                target = _join(vpath, loc)
                if target in docs and root.get("targetNamespace"):
                    inherited.setdefault(target, root.get("targetNamespace") or "")
        for vpath, root in docs.items():
            tns = root.get("targetNamespace") or inherited.get(vpath, "")
            for child in root:
                name = child.get("name")
                if not name or not isinstance(child.tag, str):
                    continue
                clark = f"{{{tns}}}{name}" if tns else name
                self.tns[child] = tns
                if child.tag == _X + "element":
                    self.elements[clark] = child
                elif child.tag == _X + "complexType":
                    self.types[clark] = child
                elif child.tag == _X + "group":
                    self.groups[clark] = child
        self.heads = {self.qname(el, el.get("substitutionGroup") or "")
                      for el in self.elements.values() if el.get("substitutionGroup")}

    def qname(self, el: etree._Element, value: str) -> str:
        prefix, _, local = value.strip().rpartition(":")
        ns = el.nsmap.get(prefix or None)
        if prefix and ns is None:
            raise Unsupported(f"undeclared prefix {prefix!r}")
        return f"{{{ns}}}{local}" if ns else local


def _join(base: str, location: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), location))


def read_layout(files: Mapping[str, bytes], root: str) -> RootFacts | None:
    """Records and identity constraints of global element *root*; None if it is no collection."""
    index = _Index(files)
    decl = index.elements.get(root)
    if decl is None:
        return None
    ctype = decl.find(_X + "complexType")
    if ctype is None and decl.get("type"):
        ctype = index.types.get(index.qname(decl, decl.get("type") or ""))
    records: set[str] = set()
    if ctype is not None:
        _walk_type(index, ctype, records, set())
    if not records:
        return None
    if records & index.heads:
        raise Unsupported("a record element heads a substitution group")
    tns = index.tns.get(decl, "")
    constraints = []
    for idc in decl:
        kind = _IDC.get(idc.tag) if isinstance(idc.tag, str) else None
        if kind is None:
            continue
        selector = idc.find(_X + "selector")
        if selector is None:
            continue
        name = idc.get("name") or ""
        refer = idc.get("refer")
        constraints.append((
            kind, f"{{{tns}}}{name}" if tns else name, selector.get("xpath") or "",
            tuple(f.get("xpath") or "" for f in idc.findall(_X + "field")),
            tuple(sorted((p, u) for p, u in idc.nsmap.items() if p)),
            index.qname(idc, refer) if refer else None,
        ))
    return RootFacts(frozenset(records), tuple(constraints))


def _walk_type(index: _Index, ctype: etree._Element, out: set[str], seen: set[str]) -> None:
    for child in ctype:
        if child.tag in (_X + "complexContent",):
            for derivation in child:
                if derivation.tag not in (_X + "extension", _X + "restriction"):
                    continue
                base = index.qname(derivation, derivation.get("base") or "")
                if derivation.tag == _X + "extension" and base not in seen:
                    base_type = index.types.get(base)
                    if base_type is not None:
                        _walk_type(index, base_type, out, seen | {base})
                _walk_particles(index, derivation, False, out, seen)
        elif child.tag in _MODEL or child.tag == _X + "group":
            _walk_particle(index, child, False, out, seen)


def _walk_particles(index: _Index, parent: etree._Element, repeating: bool, out: set[str],
                    seen: set[str]) -> None:
    for child in parent:
        if isinstance(child.tag, str):
            _walk_particle(index, child, repeating, out, seen)


def _many(el: etree._Element) -> bool:
    value = (el.get("maxOccurs") or "1").strip()
    return value == "unbounded" or (value.isdigit() and int(value) > 1)


def _walk_particle(index: _Index, el: etree._Element, repeating: bool, out: set[str],
                   seen: set[str]) -> None:
    many = repeating or _many(el)
    if el.tag in _MODEL:
        _walk_particles(index, el, many, out, seen)
    elif el.tag == _X + "group" and el.get("ref"):
        ref = index.qname(el, el.get("ref") or "")
        group = index.groups.get(ref)
        if group is not None and ref not in seen:
            for model in group:
                if model.tag in _MODEL:
                    _walk_particle(index, model, many, out, seen | {ref})
    elif el.tag == _X + "element" and el.get("ref") and many:
        out.add(index.qname(el, el.get("ref") or ""))
