"""Validating documents against a registered schema version.

A :class:`Validator` holds one compiled schema (libxml2, compiled once from
registry bytes) and the Schematron rules kept beside the version and the
versions it imports.  Each document goes through three steps:

1. a safe parse (:mod:`egif.xmlsafe`): entity declarations, external DTDs and
   XInclude are refused, libxml2's depth and size limits stay on;
2. the XSD pass: every libxml2 error becomes a :class:`~egif.model.Finding`
   with file, line, column, the path of the failing node, the record index
   (collections), the XSD constraint that failed (``xsd:cvc-...``) and the
   message;
3. the rules pass (Schematron), on every document, after the XSD pass.

Collection documents given as files are handed to the streaming engine
(:mod:`egif.validate.stream`) when it is available; the rules then run record
by record in a second bounded-memory pass.
"""

from __future__ import annotations

import copy
import datetime as _dt
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Union

from lxml import etree

from egif.errors import DocumentInvalid, EgifError, InputError, UnsafeInputError
from egif.model import Finding, SchemaRef, SchemaVersion, Severity, Status
from egif.resolve import ResolvedSchema
from egif.validate.detect import (
    RootInfo,
    candidates,
    check_usable,
    detect,
    root_info_from_tree,
)
from egif.validate.ranges import (
    LINE_LIMIT,
    BytesReader,
    FileReader,
    Piece,
    exact_lines,
    find_layout,
    node_key,
    pieces,
)
from egif.validate.rules import RuleSet, load_rules
from egif.validate.stream_split import ascii_compatible
from egif.validate.stream_worker import inner_path, step_name, top_child
from egif.xmlsafe import XSD_NS, check_doctype, make_parser, parse_bytes, read_file

Source = Union[str, "os.PathLike[str]", bytes, IO[bytes]]

XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
SCHEMATRON_KIND = "schematron"
_SNIFF_CHUNK = 64 * 1024
_SNIFF_LIMIT = 4 * 1024 * 1024
_MAX_MESSAGE = 300
_HINT_LIMIT = 4 * 1024 * 1024  # documents validated again against other versions on failure
# A Clark-notation namespace: "{" + an absolute URI (scheme ":" ...) + "}" right
# before a name.  Regex quantifiers ({1,2}), value sets ({'1.0'}) and other
# braces in patterns or values never have that shape.
_CLARK = re.compile(r"\{[A-Za-z][A-Za-z0-9+.\-]*:[^{}\s'\"]*\}(?=[A-Za-z_])")
_LIMIT_HINTS = ("XML_PARSE_HUGE", "Excessive depth", "huge text node", "xmlSAX2Characters",
                "AttValue length too long", "Huge input lookup", "too long")


@dataclass
class DocumentResult:
    """The outcome of validating one document."""

    source: str
    schema: str | None
    findings: list[Finding] = field(default_factory=list)
    records: int | None = None
    truncated: bool = False  # stopped at max_errors: more errors may follow

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.source, "schema": self.schema, "valid": self.valid,
                "records": self.records, "truncated": self.truncated,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "findings": [f.to_dict() for f in self.findings]}


# -- sources ------------------------------------------------------------------
def source_label(source: Source) -> str:
    if isinstance(source, bytes):
        return "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


def read_source(source: Source, label: str | None = None) -> tuple[str, bytes]:
    """The bytes of a source; a clear :class:`InputError` when it cannot be read."""
    name = label or source_label(source)
    if isinstance(source, bytes):
        return name, source
    if isinstance(source, (str, os.PathLike)):
        return name, read_file(Path(source), name)
    try:
        data = source.read()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", file=name) from None
    if not isinstance(data, bytes):
        raise InputError("a file object given to the validator must be opened in binary mode",
                         file=name)
    return name, data


def safe_parse(data: bytes, name: str) -> etree._ElementTree:
    """Parse untrusted bytes with the safe settings; refuse XInclude too."""
    try:
        tree = parse_bytes(data, name)
    except UnsafeInputError:
        raise
    except InputError as exc:
        if _declares_entities(data[:_SNIFF_CHUNK]):
            raise UnsafeInputError("refused: the DOCTYPE declares entities; entity declarations "
                                   "are not accepted", file=name) from None
        if any(h in exc.message for h in _LIMIT_HINTS):
            raise _limits_error(exc.message, name) from None
        raise
    root = tree.getroot()
    for ns in XINCLUDE_NAMESPACES:
        for found in root.iter(f"{{{ns}}}*"):
            raise UnsafeInputError(
                f"refused: XInclude element {etree.QName(found).localname!r} at line "
                f"{found.sourceline}; XInclude is never processed", file=name)
    return tree


def sniff_root(path: Path, name: str) -> RootInfo:
    """Read just enough of a file to see its root element (and refuse unsafe prologs)."""
    parser = etree.XMLPullParser(events=("start",), **_safe_options())  # type: ignore[arg-type]
    read = 0
    try:
        with path.open("rb") as fh:
            while read < _SNIFF_LIMIT:
                chunk = fh.read(_SNIFF_CHUNK)
                if not chunk:
                    parser.close()
                    break
                read += len(chunk)
                parser.feed(chunk)
                for _event, elem in parser.read_events():
                    if isinstance(elem, etree._Element):
                        check_doctype(elem.getroottree(), name)
                        return root_info_from_tree(elem)
    except FileNotFoundError:
        raise InputError("no such file", file=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    except etree.XMLSyntaxError as exc:
        if read == 0 or not path.stat().st_size:
            raise InputError("empty file, not XML", file=name) from None
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_CHUNK)
        raise _syntax_error(exc, head, name) from None
    if read == 0:
        raise InputError("empty file, not XML", file=name)
    raise InputError("no root element found in the first 4 MB", file=name)


def _safe_options() -> dict[str, bool]:
    return {"resolve_entities": False, "no_network": True, "load_dtd": False,
            "dtd_validation": False, "huge_tree": False}


def _line(el: etree._Element) -> int | None:
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) and line > 0 else None


_LIBXML_WHERE = re.compile(r",? line (\d+), column (\d+)(?: \(<string>, line \d+\))?\s*$")


def _declares_entities(head: bytes) -> bool:
    return any(m in head for m in (b"<!ENTITY", "<!ENTITY".encode("utf-16-le"),
                                   "<!ENTITY".encode("utf-16-be")))


def _syntax_error(exc: etree.XMLSyntaxError, head: bytes, name: str) -> InputError:
    if _declares_entities(head):
        return UnsafeInputError("refused: the DOCTYPE declares entities; entity declarations are "
                                "not accepted", file=name)
    text = _first_line(str(exc))
    if any(h in text for h in _LIMIT_HINTS):
        return _limits_error(text, name)
    m = _LIBXML_WHERE.search(text)
    if m:
        text = f"{text[: m.start()].rstrip(' ,.')} (line {m.group(1)}, column {m.group(2)})"
    return InputError(f"not well-formed XML: {text}", file=name)


def _limits_error(text: str, name: str) -> UnsafeInputError:
    detail = _first_line(text).replace(", use XML_PARSE_HUGE option", "")
    detail = detail.replace("not well-formed XML: ", "")
    return UnsafeInputError(
        "refused: the document exceeds the parser's safety limits (nesting deeper than 256 "
        f"levels, or a text or attribute value over 10 MB): {detail}", file=name)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


# -- paths and records ---------------------------------------------------------
class _Locator:
    """Turns elements into readable paths and record indexes, with caching."""

    def __init__(self, root: etree._Element, record_tag: str | None) -> None:
        self.root = root
        self.record_tag = record_tag
        self._positions: dict[etree._Element, tuple[int, int, int | None]] | None = None
        self._ns = {p: u for p, u in root.nsmap.items() if p}

    def _root_children(self) -> dict[etree._Element, tuple[int, int, int | None]]:
        if self._positions is None:
            counts: dict[Any, int] = {}
            totals: dict[Any, int] = {}
            for c in self.root:
                totals[c.tag] = totals.get(c.tag, 0) + 1
            positions: dict[etree._Element, tuple[int, int, int | None]] = {}
            rec = 0
            for c in self.root:
                counts[c.tag] = counts.get(c.tag, 0) + 1
                index = None
                # records are numbered in document order; anything standing
                # among them (a stray element) takes a record position too
                if self.record_tag is not None and (c.tag == self.record_tag or rec):
                    rec += 1
                    index = rec
                positions[c] = (counts[c.tag], totals[c.tag], index)
            self._positions = positions
        return self._positions

    def _step(self, el: etree._Element) -> str:
        q = etree.QName(el)
        name = f"{el.prefix}:{q.localname}" if el.prefix else q.localname
        parent = el.getparent()
        if parent is None:
            return name
        if parent is self.root:
            pos, total, _ = self._root_children().get(el, (1, 1, None))
        else:
            same = [c for c in parent if c.tag == el.tag]
            pos, total = same.index(el) + 1, len(same)
        return f"{name}[{pos}]" if total > 1 else name

    def path(self, el: etree._Element) -> str:
        steps = [self._step(a) for a in el.iterancestors()]
        steps.reverse()
        steps.append(self._step(el))
        return "/" + "/".join(steps)

    def record(self, el: etree._Element) -> int | None:
        if self.record_tag is None:
            return None
        top = el
        for a in el.iterancestors():
            if a is self.root:
                break
            top = a
        if top is self.root:
            return None
        return self._root_children().get(top, (0, 0, None))[2]

    def find(self, libxml_path: str | None) -> etree._Element | None:
        if not libxml_path:
            return None
        try:
            found = self.root.getroottree().xpath(libxml_path, namespaces=self._ns)
        except etree.XPathError:
            return None
        if isinstance(found, list) and found and isinstance(found[0], etree._Element):
            return found[0]
        return None


def xsd_rule(type_name: str) -> str:
    """``SCHEMAV_CVC_COMPLEX_TYPE_2_4`` -> ``xsd:cvc-complex-type.2.4``."""
    name = type_name.removeprefix("SCHEMAV_").lower()
    words: list[str] = []
    numbers: list[str] = []
    for part in name.split("_"):
        (numbers if part.isdigit() else words).append(part)
    text = "-".join(words)
    if numbers:
        text += "." + ".".join(numbers)
    return f"xsd:{text}"


def plain_message(message: str) -> str:
    """libxml2's message with Clark names shortened to local names and long values cut.

    Only namespace braces go (``{http://...}PostCode`` -> ``PostCode``); the
    braces of a pattern (``[0-9]{1,2}``, ``\\p{Lu}``) or of a value set
    (``{'1.0', '2.0'}``) are part of the message and stay.
    """
    text = _CLARK.sub(_drop_namespace, message.strip())
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return text


def _drop_namespace(m: re.Match[str]) -> str:
    # inside a quoted value ("The value '{urn:x}y' ...") the braces are data: keep them
    before = m.string[max(0, m.start() - 7):m.start()]
    return m.group(0) if before.endswith("value '") else ""


def record_tag_of(resolved: ResolvedSchema, root_tag: str) -> str | None:
    """The record element of a collection root, read from the root's declaration.

    A collection root is a global element whose content holds a reference to
    another global element with ``maxOccurs="unbounded"``.
    """
    ns, _, local = root_tag[1:].partition("}") if root_tag.startswith("{") else ("", "", root_tag)
    for scope in _declaration_scopes(resolved, ns, local) or []:
        for particle in scope.iter(f"{{{XSD_NS}}}element"):
            ref = particle.get("ref")
            if ref and particle.get("maxOccurs") == "unbounded":
                prefix, _, rlocal = ref.rpartition(":")
                rns = particle.nsmap.get(prefix or None, "")
                if _has_element_content(resolved, rns or "", rlocal):
                    return f"{{{rns}}}{rlocal}" if rns else rlocal
    return None


def _has_element_content(resolved: ResolvedSchema, ns: str, local: str) -> bool:
    """True when global element ``{ns}local`` has child elements (a record, not a field)."""
    groups = {f"{{{XSD_NS}}}{g}" for g in ("sequence", "choice", "all")}
    scopes = _declaration_scopes(resolved, ns, local) or []
    return any(el.tag in groups for scope in scopes for el in scope.iter())


def _declaration_scopes(resolved: ResolvedSchema, ns: str, local: str) -> list[etree._Element] | None:
    """The global declaration of element ``{ns}local`` and its named complex type, if any.

    None when no document of the closure declares it.
    """
    for vpath, data in resolved.files.items():
        try:
            doc = parse_bytes(data, vpath).getroot()
        except EgifError:
            continue
        if (doc.get("targetNamespace") or "") != ns:
            continue
        for decl in doc.findall(f"{{{XSD_NS}}}element"):
            if decl.get("name") != local:
                continue
            scopes = [decl]
            type_name = decl.get("type")
            if type_name:
                tlocal = type_name.rpartition(":")[2]
                scopes += [t for t in doc.findall(f"{{{XSD_NS}}}complexType") if t.get("name") == tlocal]
            return scopes
    return None


# -- the validator --------------------------------------------------------------
class Validator:
    """Validate documents against one schema version.

    ``Validator(registry, "BS7666@2.0")`` uses a registered version and its
    Schematron rules; ``Validator(resolved)`` validates against a
    :class:`~egif.resolve.ResolvedSchema` alone (``rules=`` optional).  The
    compiled schema is reused for every document.  A validator is not
    thread-safe: use one per thread.
    """

    def __init__(self, schema: Any, ref: str | SchemaRef | None = None, *,
                 rules: RuleSet | bool = True, allow_withdrawn: bool = False,
                 today: _dt.date | None = None, jobs: int | None = None,
                 max_errors: int | None = None,
                 progress: Callable[[Any], None] | None = None,
                 stream_threshold: int = 16 * 1024 * 1024) -> None:
        self.version: SchemaVersion | None = None
        self.lifecycle: list[Finding] = []
        if isinstance(schema, ResolvedSchema):
            self.resolved = schema
            self.label = schema.label or schema.main
            self.rules = rules if isinstance(rules, RuleSet) else RuleSet()
        else:
            from egif.registry import Registry

            if not isinstance(schema, Registry) or ref is None:
                raise TypeError("Validator(registry, 'NAME@VERSION') or Validator(resolved_schema)")
            version = schema.get(ref)
            check_usable(version, allow_withdrawn=allow_withdrawn)
            self.version = version
            self.resolved = schema.resolve(version.ref)
            self.label = f"{version.name}@{version.version}"
            if isinstance(rules, RuleSet):
                self.rules = rules
            elif rules:
                self.rules = load_rules(rules_for(schema, version))
            else:
                self.rules = RuleSet()
            self.lifecycle = lifecycle_findings(version)
        self.schema = self.resolved.lxml_schema()
        self.today = today
        self.jobs = jobs
        self.max_errors = max_errors
        self.progress = progress
        self.stream_threshold = stream_threshold
        self._record_tags: dict[str, str | None] = {}

    # -- the three entry points ----------------------------------------------
    def iter_findings(self, source: Source, *, label: str | None = None) -> Iterator[Finding]:
        """Every finding (errors, then rule findings; lifecycle warnings first), lazily."""
        name = label or source_label(source)
        for w in self.lifecycle:
            yield Finding(w.message, w.rule, w.severity, file=name)
        yield from self._check(source, name)

    def iter_errors(self, source: Source, *, label: str | None = None) -> Iterator[Finding]:
        """The errors of a document (severity error), lazily."""
        return (f for f in self.iter_findings(source, label=label) if f.severity == Severity.ERROR)

    def is_valid(self, source: Source) -> bool:
        return next(self.iter_errors(source), None) is None

    def validate(self, source: Source, *, label: str | None = None) -> DocumentResult:
        """Validate; raise :class:`DocumentInvalid` (with ``.findings``) if invalid."""
        result = self.check(source, label=label)
        if not result.valid:
            first = result.errors[0]
            where = f"{first.line}:" if first.line else ""
            exc = DocumentInvalid(
                f"not valid against {self.label}: {len(result.errors)} error(s); first: "
                f"{where} {first.message}".replace(":  ", ": "), file=result.source)
            exc.findings = result.findings  # type: ignore[attr-defined]
            exc.result = result  # type: ignore[attr-defined]
            raise exc
        return result

    def check(self, source: Source, *, label: str | None = None) -> DocumentResult:
        """Validate and return every finding as a :class:`DocumentResult`."""
        name = label or source_label(source)
        result = DocumentResult(name, self.label)
        result.findings = list(self.iter_findings(source, label=name))
        result.records = getattr(self, "_last_records", None)
        result.truncated = self.max_errors is not None and len(result.errors) >= self.max_errors
        return result

    def check_many(self, sources: Iterable[Source]) -> Iterator[DocumentResult]:
        """Validate many documents with the one compiled schema; a result per document.

        Unreadable or unsafe documents give a result holding one finding with
        rule ``xml:input`` instead of raising, so one bad file does not stop
        the batch.  Without business rules, small files take a fast path (one
        reused parser, no separate sniff of the root, parsed once; see
        :class:`egif.validate.stream.SmallDocuments`) with the same findings;
        every other source is checked as :meth:`check` does.
        """
        from egif.validate.stream import SmallDocuments

        quick = None if self.rules else SmallDocuments(self.resolved, self.stream_threshold)
        for source in sources:
            name = source_label(source)
            try:
                parsed = quick.parse(source) if quick is not None else None
                if parsed is None:
                    yield self.check(source, label=name)
                    continue
                tree, valid = parsed
                root = tree.getroot()
                tag = self.record_tag(str(root.tag))
                result = DocumentResult(name, self.label, [
                    Finding(w.message, w.rule, w.severity, file=name) for w in self.lifecycle],
                    sum(1 for c in root if c.tag == tag) if tag is not None else None)
                if not valid:
                    result.findings.extend(self._check_tree(tree, name))
                yield result
            except InputError as exc:
                yield DocumentResult(name, self.label, [Finding(
                    exc.message, "xml:unsafe" if isinstance(exc, UnsafeInputError) else "xml:input",
                    file=name)])

    # -- internals --------------------------------------------------------------
    def record_tag(self, root_tag: str) -> str | None:
        if root_tag not in self._record_tags:
            self._record_tags[root_tag] = record_tag_of(self.resolved, root_tag)
        return self._record_tags[root_tag]

    def _today(self) -> _dt.date:
        return self.today or _dt.date.today()

    def _check(self, source: Source, name: str) -> Iterator[Finding]:
        self._last_records: int | None = None
        if isinstance(source, (str, os.PathLike)) and not isinstance(source, bytes):
            path = Path(source)
            info = sniff_root(path, name)
            big = path.is_file() and path.stat().st_size >= self.stream_threshold
            streamed = self._stream(path, info, name) if big else None
            if streamed is not None:
                yield from streamed
                return
        _, data = read_source(source, name)
        tree = safe_parse(data, name)
        yield from self._check_tree(tree, name, data)

    def _check_tree(self, tree: etree._ElementTree, name: str,
                    data: bytes | None = None) -> Iterator[Finding]:
        """XSD then rules over a parsed document; lines past libxml2's 16-bit limit are
        corrected from *data* (see :mod:`egif.validate.ranges`)."""
        root = tree.getroot()
        record_tag = self.record_tag(str(root.tag))
        locator = _Locator(root, record_tag)
        if record_tag is not None:
            self._last_records = sum(1 for c in root if c.tag == record_tag)
        budget = self.max_errors
        errors = 0
        # each finding with the element its line was taken from (None: line not from a node)
        located: list[tuple[Finding, etree._Element | None]] = []
        self.schema.validate(tree)
        for entry in list(self.schema.error_log):  # type: ignore[call-overload]
            if entry.level_name not in ("ERROR", "FATAL"):
                continue
            el = locator.find(entry.path)
            line = entry.line or (_line(el) if el is not None else None)
            located.append((Finding(
                message=plain_message(entry.message), rule=xsd_rule(entry.type_name),
                file=name, line=line, column=entry.column or None,
                path=locator.path(el) if el is not None else entry.path,
                record=locator.record(el) if el is not None else None),
                el if el is not None and line == _line(el) else None))
            errors += 1
            if budget is not None and errors >= budget:
                break
        if self.rules and (budget is None or errors < budget):
            for finding, ctx in self.rules.check_document_nodes(
                    root, today=self._today(), file=name, record_tag=record_tag,
                    record_index=locator.record, path_of=locator.path):
                located.append((finding, ctx))
                if finding.severity == Severity.ERROR:
                    errors += 1
                    if budget is not None and errors >= budget:
                        break
        yield from _exact_lines(located, root, data, name, record_tag)

    def _stream(self, path: Path, info: RootInfo, name: str) -> Iterator[Finding] | None:
        """Findings of a big collection file through the streaming engine, if it applies.

        Files under ``stream_threshold`` bytes are validated whole: faster for
        small files, and rules may then look across records.
        """
        try:
            from egif.validate import stream  # type: ignore[attr-defined,unused-ignore]
        except ImportError:
            return None
        layout = stream.collection_layout(self.resolved, info.tag)
        if layout is None:
            return None
        return self._stream_findings(stream, layout, path, info, name)

    def _stream_findings(self, stream: Any, layout: Any, path: Path, info: RootInfo,
                         name: str) -> Iterator[Finding]:
        refuse_xinclude(path, name, frozenset(getattr(layout, "records", ())))
        errors = 0
        budget = self.max_errors
        last: list[Any] = []

        def progress(p: Any) -> None:
            last[:] = [p]
            if self.progress is not None:
                self.progress(p)

        broken = False
        for finding in stream.validate_collection(
                self.resolved, path, layout=layout, jobs=self.jobs, max_errors=budget,
                progress=progress, label=name):
            yield finding
            if finding.rule == "xml:syntax":
                broken = True
            if finding.severity == Severity.ERROR:
                errors += 1
        # the engine reports a last Progress when it has gone through the whole file
        done = last[0] if last else None
        if done is not None and done.bytes_done >= done.bytes_total:
            self._last_records = int(done.records)
        if broken or (budget is not None and errors >= budget):
            return
        if not self.rules:
            return
        remaining = None if budget is None else budget - errors
        records = frozenset(getattr(layout, "records", ()))
        counter = _Counter()
        for finding in stream_rules(self.rules, path, name, records, today=self._today(),
                                    counter=counter):
            yield finding
            if finding.severity == Severity.ERROR and remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    return
        if counter.complete:
            self._last_records = counter.records


@dataclass
class _Counter:
    """How many records a streamed pass saw, and whether it reached the end."""

    records: int = 0
    complete: bool = False


def _record_locals(record_tags: Iterable[str]) -> list[str]:
    return sorted({str(t).rpartition("}")[2] for t in record_tags})


def _exact_lines(located: list[tuple[Finding, etree._Element | None]], root: etree._Element,
                 data: bytes | None, name: str, record_tag: str | None) -> list[Finding]:
    """The findings, with lines at or past libxml2's 16-bit limit recomputed exactly."""
    need = [i for i, (f, el) in enumerate(located)
            if el is not None and f.line is not None and f.line >= LINE_LIMIT]
    findings = [f for f, _el in located]
    if not need or data is None:
        return findings
    reader = BytesReader(data)
    layout = find_layout(reader)
    if layout is None:
        return findings
    top_index = {c: i for i, c in enumerate(root)}
    keys: dict[int, tuple[int, tuple[int, ...]]] = {}
    for i in need:
        el = located[i][1]
        key = node_key(el, root, top_index) if el is not None else None
        if key is not None:
            keys[i] = key
    if record_tag is not None:
        names = _record_locals([record_tag])
    else:
        names = _record_locals(c.tag for c in root if isinstance(c.tag, str))
    try:
        lines = exact_lines(reader, layout, names, set(keys.values()), name=name)
    except InputError:
        return findings
    for i, key in keys.items():
        if key in lines:
            findings[i] = replace(findings[i], line=lines[key])
    return findings


def stream_rules(rules: RuleSet, path: Path, name: str, record_tags: frozenset[str], *,
                 today: _dt.date, counter: _Counter | None = None) -> Iterator[Finding]:
    """Run rules over a collection file record by record, in bounded memory.

    The file is parsed in pieces of fewer than 60,000 lines
    (:mod:`egif.validate.ranges`) so that every line is exact; a file whose
    bytes cannot be cut (a UTF-16 file, say) is read by one streaming parse
    instead, where lines past 65,535 may be one too high.
    """
    with FileReader(path) as reader:
        layout = find_layout(reader)
        if layout is None:
            yield from _iterparse_rules(rules, path, name, record_tags, today=today,
                                        counter=counter)
            return
        rules.begin_stream()
        count = 0
        counts: dict[str, int] = {}
        kept: list[tuple[etree._Element, Piece]] = []
        root_step = ""
        for piece in pieces(reader, layout, _record_locals(record_tags), name=name):
            root_step = "/" + step_name(piece.root)
            for child in piece.root:
                if not isinstance(child.tag, str):
                    continue
                if child.tag not in record_tags:
                    kept.append((copy.deepcopy(child), piece))
                    continue
                count += 1
                tag = str(child.tag)
                counts[tag] = counts.get(tag, 0) + 1
                head = f"{root_step}/{step_name(child)}[{counts[tag]}]"

                def path_of(el: etree._Element, head: str = head,
                            record: etree._Element = child) -> str:
                    return head + inner_path(el, record)

                for finding, ctx in rules.check_record_nodes(child, count, today=today, file=name,
                                                             path_of=path_of):
                    yield replace(finding, line=piece.line(ctx))
        skeleton = etree.fromstring(layout.head + layout.tail, make_parser())
        offsets: dict[etree._Element, Piece] = {}
        for el, piece in kept:
            skeleton.append(el)
            offsets[el] = piece
        for finding, ctx in rules.finish_stream_nodes(skeleton, count, today=today, file=name,
                                                      path_of=_Locator(skeleton, None).path):
            if ctx is skeleton:
                line: int | None = layout.root_line
            else:
                owner = offsets.get(top_child(ctx, skeleton))
                line = owner.line(ctx) if owner is not None else None
            yield replace(finding, line=line)
    if counter is not None:
        counter.records = count
        counter.complete = True


def refuse_xinclude(path: Path, name: str, record_tags: frozenset[str]) -> None:
    """Refuse a file holding XInclude elements, as the whole-document parse does.

    A byte scan decides cheaply whether an XInclude namespace could be
    declared at all (its name in the bytes, or a namespace declaration
    written with character references); only then is the file parsed piece
    by piece to find the element and its line.
    """
    with FileReader(path) as reader:
        if not _xinclude_hint(reader):
            return
        layout = find_layout(reader)
        if layout is None:
            _xinclude_by_iterparse(path, name)
            return
        for piece in pieces(reader, layout, _record_locals(record_tags), name=name):
            for ns in XINCLUDE_NAMESPACES:
                for found in piece.root.iter(f"{{{ns}}}*"):
                    raise UnsafeInputError(
                        f"refused: XInclude element {etree.QName(found).localname!r} at line "
                        f"{piece.line(found)}; XInclude is never processed", file=name)


_XI_HINT = re.compile(rb"XInclude|xmlns(?::[^\s=>]+)?\s*=\s*(?:\"[^\"<]*&|'[^'<]*&)")


def _xinclude_hint(reader: FileReader) -> bool:
    head = reader.read(0, _SNIFF_CHUNK)
    if not ascii_compatible(head):
        return True
    window = 1024 * 1024
    overlap = 256
    at = 0
    while at < reader.size:
        buf = reader.read(at, window + overlap)
        if _XI_HINT.search(buf):
            return True
        at += window
    return False


def _xinclude_by_iterparse(path: Path, name: str) -> None:
    tags = [f"{{{ns}}}*" for ns in XINCLUDE_NAMESPACES]
    context = etree.iterparse(str(path), events=("start", "end"), **_safe_options())
    try:
        for event, elem in context:
            if event == "start":
                if any(elem.tag.startswith(t[:-1]) for t in tags):
                    raise UnsafeInputError(
                        f"refused: XInclude element {etree.QName(elem).localname!r} at line "
                        f"{elem.sourceline}; XInclude is never processed", file=name)
                continue
            parent = elem.getparent()
            if parent is not None and parent.getparent() is None:
                parent.remove(elem)
    except etree.XMLSyntaxError:
        return  # the validation pass reports the syntax error


def _iterparse_rules(rules: RuleSet, path: Path, name: str, record_tags: frozenset[str], *,
                     today: _dt.date, counter: _Counter | None) -> Iterator[Finding]:
    """Rules over a collection by one streaming parse (files the ranges cannot cut)."""
    rules.begin_stream()
    count = 0
    root: etree._Element | None = None
    context = etree.iterparse(str(path), events=("start", "end"), **_safe_options())
    try:
        for event, elem in context:
            if event == "start":
                if root is None:
                    root = elem
                continue
            if elem.tag not in record_tags or elem.getparent() is not root or root is None:
                continue
            count += 1
            locator = _RecordLocator(root, elem, count)
            yield from rules.check_record(elem, count, today=today, file=name,
                                          path_of=locator.path)
            root.remove(elem)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"not well-formed XML: {_first_line(str(exc))}", file=name) from None
    if root is not None:
        yield from rules.finish_stream(root, count, today=today, file=name,
                                       path_of=_Locator(root, None).path)
    if counter is not None:
        counter.records = count
        counter.complete = True


class _RecordLocator:
    """Paths inside one streamed record, numbered as in the whole document."""

    def __init__(self, root: etree._Element, record: etree._Element, index: int) -> None:
        self.root = root
        self.record = record
        self.index = index
        self.inner = _Locator(record, None)

    def path(self, el: etree._Element) -> str:
        rq = etree.QName(self.record)
        rname = f"{self.record.prefix}:{rq.localname}" if self.record.prefix else rq.localname
        q = etree.QName(self.root)
        root_name = f"{self.root.prefix}:{q.localname}" if self.root.prefix else q.localname
        head = f"/{root_name}/{rname}[{self.index}]"
        if el is self.record:
            return head
        inner = self.inner.path(el)
        return head + inner[inner.index("/", 1):]


# -- rules and lifecycle from the registry -------------------------------------
def rules_for(registry: Any, version: SchemaVersion) -> list[tuple[str, bytes]]:
    """Schematron attachments of a version and of every version it imports."""
    seen: set[str] = set()
    out: list[tuple[str, bytes]] = []

    def visit(v: SchemaVersion) -> None:
        key = f"{v.name}@{v.version}"
        if key in seen:
            return
        seen.add(key)
        for b in v.imports:
            if b.target is not None:
                visit(registry.get(b.target))
        for rname, data in sorted(registry.attachments(v.ref, SCHEMATRON_KIND).items()):
            out.append((f"{key}:{rname}", data))

    visit(version)
    return out


def lifecycle_findings(version: SchemaVersion) -> list[Finding]:
    label = f"{version.name}@{version.version}"
    if version.status == Status.DEPRECATED:
        succ = f"; its successor is {version.name}@{version.successor}" if version.successor else ""
        return [Finding(f"{label} is deprecated{succ}", "lifecycle:deprecated", Severity.WARNING)]
    if version.status in (Status.WITHDRAWN, Status.REJECTED):
        return [Finding(f"{label} is {version.status.value}", f"lifecycle:{version.status.value}",
                        Severity.WARNING)]
    return []


# -- choosing the version of each document -----------------------------------------
class Session:
    """Validate many documents against a registry, choosing each one's version.

    The version is ``schema`` when given, else the newest version in
    ``status`` (of the standard the document's root belongs to), else the one
    detected from the root (see :mod:`egif.validate.detect`).  Compiled
    validators are cached per version.
    """

    def __init__(self, registry: Any, *, schema: str | None = None, status: str | None = None,
                 allow_withdrawn: bool = False, rules: bool = True, today: _dt.date | None = None,
                 jobs: int | None = None, max_errors: int | None = None,
                 progress: Callable[[Any], None] | None = None) -> None:
        self.registry = registry
        self.schema = SchemaRef.parse(schema) if schema else None
        self.status = Status.parse(status) if status else None
        self.allow_withdrawn = allow_withdrawn
        self.options: dict[str, Any] = {"rules": rules, "today": today, "jobs": jobs,
                                        "max_errors": max_errors, "progress": progress}
        self._validators: dict[str, Validator] = {}
        if self.schema is not None and self.schema.version is not None:
            self.validator(registry.get(self.schema))  # fail early on a bad --schema

    def validator(self, version: SchemaVersion, **overrides: Any) -> Validator:
        key = f"{version.name}@{version.version}:{sorted(overrides.items())}"
        if key not in self._validators:
            options = {**self.options, **overrides}
            self._validators[key] = Validator(self.registry, version.ref,
                                              allow_withdrawn=self.allow_withdrawn, **options)
        return self._validators[key]

    def choose(self, info: RootInfo, name: str) -> SchemaVersion:
        if self.schema is not None and self.schema.version is not None:
            return self.registry.get(self.schema)  # type: ignore[no-any-return]
        if self.schema is not None or self.status is not None:
            standard = self.schema.name if self.schema else detect(self.registry, info, file=name).name
            statuses = [self.status] if self.status else None
            return self.registry.newest(standard, statuses=statuses)  # type: ignore[no-any-return]
        return detect(self.registry, info, file=name)

    def root_of(self, source: Source, name: str) -> tuple[RootInfo, bytes | None]:
        if isinstance(source, (str, os.PathLike)) and not isinstance(source, bytes):
            return sniff_root(Path(source), name), None
        _, data = read_source(source, name)
        tree = safe_parse(data, name)
        return root_info_from_tree(tree.getroot()), data

    def check(self, source: Source, *, label: str | None = None) -> DocumentResult:
        """Detect the version of one document and validate it.

        When the version was detected (not named) and the document is invalid
        against it but valid against another registered version of the
        standard -- a BS 7666 1.0 address has no version attribute, so 2.0 is
        chosen -- an ``info`` finding (rule ``version:other``) says so.
        """
        name = label or source_label(source)
        info, data = self.root_of(source, name)
        version = self.choose(info, name)
        validator = self.validator(version)
        result = validator.check(data if data is not None else source, label=name)
        if (not result.valid and self.schema is None and self.status is None
                and info.version is None):
            result.findings.extend(self._other_versions(version, info, source, data, name))
        return result

    def _other_versions(self, chosen: SchemaVersion, info: RootInfo, source: Source,
                        data: bytes | None, name: str) -> list[Finding]:
        if data is None:
            path = Path(source) if isinstance(source, (str, os.PathLike)) else None
            if path is None or not path.is_file() or path.stat().st_size >= _HINT_LIMIT:
                return []  # too big to validate again
        hints: list[Finding] = []
        for v in reversed(candidates(self.registry, info)):
            if v.version == chosen.version or v.status in (Status.WITHDRAWN, Status.REJECTED):
                continue
            src = io.BytesIO(data) if data is not None else source
            try:
                ok = self.validator(v, max_errors=1).check(src, label=name).valid
            except EgifError:
                continue
            if ok:
                hints.append(Finding(
                    f"the document is valid against {v.name}@{v.version} ({v.status.value}); "
                    f"it was checked against {chosen.name}@{chosen.version} because the root "
                    f"names no version: choose with --schema {v.name}@{v.version}",
                    "version:other", Severity.INFO, file=name))
        return hints

    def matrix(self, source: Source, *, label: str | None = None) -> tuple[str, dict[str, bool]]:
        """Which registered versions of the document's standard it satisfies."""
        name = label or source_label(source)
        info, data = self.root_of(source, name)
        version = self.choose(info, name)
        verdicts: dict[str, bool] = {}
        for v in sorted(self.registry.list(name=version.name), key=lambda x: x.version_key):
            if v.status in (Status.WITHDRAWN, Status.REJECTED) and not self.allow_withdrawn:
                continue
            validator = self.validator(v, max_errors=1)
            src = io.BytesIO(data) if data is not None else source
            verdicts[f"{v.name}@{v.version}"] = validator.check(src, label=name).valid
        return version.name, verdicts
