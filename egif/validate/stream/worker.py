"""One range of a collection, checked: what each worker process (and the parent) does.

A :class:`Worker` holds what does not change while a validator lives: the
compiled libxml2 schema, the parsers, the business rules made ready
(:class:`Plan`).  For each range of a document (:class:`Doc` says how to wrap
it) it builds a small document -- the root start tag, the range, the root end
tag -- parses it with the safe settings, runs the XSD pass and then the
record phase of the business rules on the same tree, and returns a
:class:`RangeResult` of plain data whose lines are relative to the range.
The parent adds what only it knows (line, record and sibling offsets) and
puts results in file order.

Ranges are kept under :data:`MAX_LINES` lines: libxml2 keeps element lines
in 16 bits and reports lines past 65,535 one too high for elements whose
first child is whitespace, so relative lines below that limit plus an exact
offset give exact lines.

A range holding no comment, CDATA or processing instruction is first judged
on a tree parsed without whitespace-only text between elements (about a
sixth cheaper to parse and validate).  Dropping whitespace next to
elements cannot make an invalid element valid, so a valid lean tree means a
valid range; when the lean tree has errors inside records only, just those
records are parsed again as written, each alone, for their exact errors.
The business rules run on that same lean tree: they see every document
without whitespace-only text between elements, whatever its size (a range
holding a comment is parsed once more, lean, for them).
"""

from __future__ import annotations

import os
import pickle  # with the module, in the caller: the workers it forks inherit it instead of importing it each
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree

from egif.validate import xsd
from egif.validate.paths import Positions, inner_path, step, top_child
from egif.validate.stream.cutter import (
    ATTRIBUTE_LIMIT,
    BytesReader,
    attribute_flood,
    careful_cut,
    record_pattern,
    record_starts,
)
from egif.validate.stream.layout import Constraint
from egif.xmlsafe import first_xinclude, make_parser, xinclude_may_be_valid

if TYPE_CHECKING:
    from collections.abc import Mapping

    from egif.validate.schematron.state import Book, DocumentBook

MAX_LINES = 60_000
XSD_KIND, RULE_KIND = 0, 1
FLOOD_CHECK_BYTES = 1 << 20

# (relative line, position of its depth-1 element in the range, kind, order, rule, severity,
#  message, record position in range (-1: not a record), depth-1 tag, same-tag index in the
#  range, depth-1 step, rest of the path)
RawFinding = tuple[int, int, int, int, str, str, str, int, str, int, str, str]
# (kind "el" | "text", Clark name or "", count, relative lines of the first few)
Run = tuple[str, str, int, tuple[int, ...]]
# (constraint index, key values, relative line, position of the depth-1 element, record position,
#  tag, index, step, rest of path)
RawKey = tuple[int, tuple[str, ...] | None, int, int, int, str, int, str, str]

_MARKER = b"<!--egif: end of range-->"
_SPACE = re.compile(rb"[ \t\r\n]*")
# a start tag: its name, then attributes whose quoted values may hold ">" and newlines
_START_TAG = re.compile(rb"<[^\s/>]++(?:\s++[^\s=/>]++\s*+=\s*+(?:\"[^\"]*+\"|'[^']*+'))*+\s*+/?>")
_LINE_LIMIT = 65_535  # libxml2's line numbers stop here


@dataclass(frozen=True)
class Plan:
    """What every worker needs for the life of a validator, as plain picklable data."""

    files: dict[str, bytes]  # the schema closure, laid out as in egif.resolve
    main: str
    records: frozenset[str]
    record_locals: tuple[str, ...]
    cap: int  # lines kept for the first children of each run (the largest threshold)
    constraints: tuple[Constraint, ...] = ()
    interdependent: bool = False  # xs:ID / xs:IDREF: records cannot be re-read alone
    top_only: frozenset[str] = frozenset()  # records that stand only directly under the root
    rules: tuple[tuple[str, bytes], ...] = ()  # Schematron documents; () for no rules
    today: str = ""
    root: str = ""  # the root's Clark name
    # (record, child) pairs: every record that passes the schema has the child, holding text
    # only (CollectionLayout.text_children)
    text_children: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Doc:
    """How to read and wrap the ranges of one document."""

    path: str | None  # None: the task carries the range's bytes
    head: bytes  # XML declaration + newline + root start tag + newline
    tail: bytes  # root end tag
    head_lines: int  # newlines in head


@dataclass
class Kept:
    """A child of the root that is not a record, kept for the rules' rest phase."""

    xml: bytes  # the element serialised (tail left out)
    lines: tuple[int, ...]  # relative line of every node of it, in document order
    tag: str
    index: int  # among same-tag children in the range
    element: etree._Element | None = None  # the element itself, in the process that parsed it

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "element": None}


@dataclass
class RangeResult:
    ok: bool
    newlines: int = 0
    records: int = 0
    children: int = 0  # depth-1 elements
    counts: dict[str, int] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    findings: list[RawFinding] = field(default_factory=list)
    keys: list[RawKey] = field(default_factory=list)
    seen: dict[tuple[int, str], tuple[bytes, list[str]]] = field(default_factory=dict)  # values seen()
    kept: list[Kept] = field(default_factory=list)
    refusal: tuple[str, int] | None = None  # (message, relative line): input refused
    # libxml2 saw errors on the root itself in this range: its attributes, its content
    # (the parent's skeleton decides those; without them it need not look)
    root_attributes: bool = False
    root_content: bool = False
    # the XSD pass changed values in the tree the rules saw (see egif.validate.xsd): a second
    # reading for the rules must be validated again to see the same
    collapsed: bool = False


# Any base URL outside every real scheme: the resolver below answers all requests.
_BASE = "egif-stream:/"


class _PlanFiles(etree.Resolver):
    """Serves the closure's files to libxml2 and refuses everything else.

    The parent compiled the same bytes with :mod:`egif.resolve` first; this only
    keeps worker processes from importing it (its xmlschema hooks load urllib,
    ssl and email, about 9 MB per process)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:  # type: ignore[override]
        if system_url.startswith(_BASE):
            data = self.files.get(posixpath.normpath(system_url[len(_BASE):]))
            if data is not None:
                return self.resolve_string(data, context, base_url=system_url)
        return self.resolve_string(b"", context, base_url=system_url)


def compile_schema(files: dict[str, bytes], main: str, *, faster: bool = False) -> etree.XMLSchema:
    """The libxml2 validator of a closure laid out as in :class:`egif.resolve.ResolvedSchema`;
    *faster*: :func:`rewritten_schema` where there is one (the ranges of big documents)."""
    found = rewritten_schema(files, main) if faster else None
    return found if found is not None else etree.XMLSchema(_main_tree(files, main))


def rewritten_schema(files: dict[str, bytes], main: str) -> etree.XMLSchema | None:
    """The closure's validator with its pattern facets rewritten where that saves libxml2
    work, the same verdicts and messages (:mod:`egif.xsdclasses`); None when none gains."""
    from egif.xsdclasses import compile_rewritten

    return compile_rewritten(files, lambda docs: _main_tree(docs, main))


def _main_tree(files: Mapping[str, bytes], main: str) -> etree._ElementTree:
    parser = make_parser()
    parser.resolvers.add(_PlanFiles(dict(files)))
    return etree.fromstring(files[main], parser, base_url=_BASE + main).getroottree()


def range_schema(plan: Plan) -> etree.XMLSchema | None:
    """The validator ranges are checked with: the closure without the identity constraints
    of the root (see :func:`~egif.validate.stream.layout.without_root_constraints`; a
    range's verdict on them is dropped anyway); None when there are none to leave out, or
    the closure does not compile without them (a key referred to from elsewhere)."""
    from egif.validate.stream.layout import without_root_constraints

    if not plan.constraints or not plan.root:
        return None
    files = without_root_constraints(plan.files, plan.root)
    if files is None:
        return None
    try:
        return compile_schema(files, plan.main, faster=True)
    except etree.XMLSchemaParseError:
        return None


class Worker:
    """Checks ranges; one per process, and one in the parent."""

    keeps_last = True  # the parent's worker; a worker process keeps none (the parent reads again)

    def __init__(self, plan: Plan, schema: etree.XMLSchema | None = None, rules: Any = None) -> None:
        self.plan = plan
        # a process of its own checks the ranges of big documents only: the range validator
        self.schema = schema if schema is not None else (range_schema(plan) or
                                                        compile_schema(plan.files, plan.main, faster=True))
        self.parser = make_parser()
        self.lean = make_parser(remove_blank_text=True)
        self.pattern = record_pattern(plan.record_locals)
        self.rules = rules
        if self.rules is None and plan.rules:
            from egif.validate.schematron.loader import load_rules

            self.rules = load_rules(plan.rules)
        self.doc: Doc | None = None
        self.fd = -1
        # the tree the rules saw in the last range checked, and where its root's children
        # stand (None: not read), for rules_again: read again in this process, the range
        # need not be parsed again (see keeps_last)
        self._last: tuple[int, int, etree._Element, dict[Any, tuple[int, int, str, int]] | None] | None = None
        self._ruled: list[tuple[etree._Element, dict[Any, tuple[int, int, str, int]] | None]] = []
        # where an XInclude element may be valid, every range is searched for one, else only
        # ranges with errors
        self.xinclude_valid = xinclude_may_be_valid(plan.files.values())
        self._root_idc = tuple(f"'{c.name.rpartition('}')[2]}'" for c in plan.constraints)
        # the constraints' selector and fields, compiled once (None: not an XPath lxml reads)
        self._idc_paths = [_compile_constraint(c) for c in plan.constraints]
        self._others = others_count(next(iter(plan.records))) if len(plan.records) == 1 else None
        # the document's own book of seen() answers, while this worker checks every range of a
        # document in order, in the process that holds that book (one job): the rules then
        # answer exactly at once, and no range's values need merging or asking again
        self.book: DocumentBook | None = None
        # where the children of each parent of the trees of the range being checked stand
        # (for inner_path; emptied when the range is done, as it holds their trees)
        self._positions: Positions = {}

    def open(self, doc: Doc) -> None:
        """Start reading the ranges of *doc*."""
        self.close()
        self.doc = doc
        self._last = None
        if doc.path is not None:
            self.fd = os.open(doc.path, os.O_RDONLY)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def forget(self) -> None:
        """In a fork of the process that made this worker: let go of the document it had
        open, whose descriptor the fork does not keep (see egif.validate.forking.keep_only)."""
        self.doc = None
        self.fd = -1

    def check(self, start: int, end: int, careful: bool, data: bytes | None = None) -> RangeResult:
        """The result of range ``[start, end)`` of the open document (*data*: its bytes, when
        the document is not a file)."""
        if data is None:
            data = os.pread(self.fd, end - start, start)
        self._last = None  # (freed before the next tree is made)
        try:
            result = self._range(data, careful)
            if self.keeps_last and len(self._ruled) == 1:  # one tree (not a range read in halves)
                self._last = (start, end, *self._ruled[0])
        finally:
            self._ruled.clear()
            self._positions = {}
        return result

    # -- one range ------------------------------------------------------------------
    def _range(self, data: bytes, careful: bool) -> RangeResult:
        if len(data) > FLOOD_CHECK_BYTES:
            at = attribute_flood(data)
            if at is not None:
                return RangeResult(ok=True, refusal=(
                    f"refused: an element at line {{line}} carries more than {ATTRIBUTE_LIMIT:,} attributes",
                    data.count(b"\n", 0, at)))
        doc = self.doc
        assert doc is not None
        delta = doc.head_lines + 1  # relative line 0 = first line of the range
        # Without comments, CDATA or processing instructions ("!" and "?" are rare in data: one
        # memchr each) a range is parsed without whitespace-only text between elements: a
        # sixth cheaper, and what the rules see anyway (see the module documentation).
        lean = b"!" not in data and b"?" not in data
        root, newlines = self._parse(data, lean)
        if root is None:
            return RangeResult(ok=False)
        if newlines > MAX_LINES:
            cut = self._middle_cut(data, careful)
            if cut is not None:
                return self._halves(data, cut, careful)
        result = RangeResult(ok=True, newlines=newlines)
        only_records = self._only_records(root, result, delta)
        # where each child of the root stands (None: every child a record of the one name,
        # standing at its index); the tree's shape does not change below, so it is read once
        children = None if only_records else self._children(root, result, delta)
        errors, result.collapsed = xsd.validate_noting(self.schema, root.getroottree())
        if errors:
            self._errors(root, errors, data, result, lean, only_records)
        if (errors or self.xinclude_valid) and self._xinclude(root, result, delta, errors):
            return result
        if self.plan.constraints:
            self._keys(root, children, result, delta)
        if self.rules:
            rules_root: etree._Element | None = root
            if not lean:
                rules_root, result.collapsed = self._rules_tree(data)
            if rules_root is not None:
                self._rules(rules_root, result, delta, only_records and lean, data,
                            children if rules_root is root else None, valid=not errors, plain=lean)
        return result

    def _rules_tree(self, data: bytes, validate: bool = True) -> tuple[etree._Element | None, bool]:
        """The tree the rules see: parsed without whitespace-only text between elements, its
        values corrected by the XSD pass as every other range's are; and whether that pass
        changed any.  *validate*: False when it is known to change nothing (no value to
        correct, and no xs:ID for libxml2 to register)."""
        root = self._parse(data, True)[0]
        changed = False
        if root is not None and validate:
            changed = xsd.validate_noting(self.schema, root.getroottree())[1]
        return root, changed

    def _parse(self, data: bytes, lean: bool) -> tuple[etree._Element | None, int]:
        """The range parsed (None: it does not parse) and its number of newlines, read from
        the line of a comment put after it (counting is dearer than parsing a comment)."""
        doc = self.doc
        assert doc is not None
        try:
            # (joined in one copy: three concatenations copied a range three times, 2% of
            # a gazetteer extract's instructions)
            root = etree.fromstring(b"".join((doc.head, data, _MARKER, doc.tail)),
                                    self.lean if lean else self.parser)
        except etree.XMLSyntaxError:
            return None, 0
        marker = root[-1]
        line = marker.sourceline
        root.remove(marker)
        delta = doc.head_lines + 1
        if isinstance(line, int) and 0 < line - delta < MAX_LINES:
            return root, line - delta
        return root, data.count(b"\n")

    def _halves(self, data: bytes, cut: int, careful: bool) -> RangeResult:
        # each half answers from its own values, merged as a worker's are: the second half may
        # not parse, and then the first half's values must not stay in the document's book
        book, self.book = self.book, None
        try:
            first = self._range(data[:cut], careful)
            if not first.ok or first.refusal:
                return first
            second = self._range(data[cut:], careful)
            if not second.ok or second.refusal:
                return second
        finally:
            self.book = book
        return _join(first, second, data.count(b"\n", 0, cut))

    def _errors(self, root: etree._Element, errors: list[xsd.XsdError], data: bytes, result: RangeResult,
                lean: bool, only_records: bool) -> None:
        """The XSD findings of a range whose tree has errors: from the records they lie in,
        each parsed again alone as written, when that is safe; else from the whole range
        parsed as written."""
        if lean and only_records and not self.plan.interdependent and \
                self._bad_records_only(root, errors, data, result):
            return
        doc = self.doc
        assert doc is not None
        delta = doc.head_lines + 1
        written = root
        if lean:
            parsed, _lines = self._parse(data, False)
            if parsed is None:
                return
            written = parsed
            errors = xsd.validate(self.schema, written.getroottree())
        self._collect(written, errors, self._children(written, RangeResult(ok=True), delta), result, delta)

    def _xinclude(self, root: etree._Element, result: RangeResult, delta: int,
                  errors: list[xsd.XsdError] | None = None) -> bool:
        """Refuse an XInclude element (never processed).  Checked only where one could hide:
        in a range with errors, or always where the schema may let one be valid (a wildcard,
        xs:anyType, XInclude's own declarations).  Elsewhere an XInclude element is an error wherever it stands, or lies
        where libxml2 stopped reading after an error: within the record of that error, when
        the error lies inside a record.  So only the records holding *errors* are walked, in
        document order; the whole range when an error is on the root or one of its children
        (libxml2 may then skip the records after it) or libxml2 gave up."""
        scopes = [root]
        if errors and not self.xinclude_valid:
            tops: set[etree._Element] = set()
            for e in errors:
                node = e.node
                if node is None or node is root or node.getparent() is root or e.rule == "xsd:pattern-unchecked":
                    break
                tops.add(top_child(node, root))
            else:
                scopes = sorted(tops, key=root.index)
        for scope in scopes:
            found = first_xinclude(scope)
            if found is not None:
                result.refusal = (f"refused: XInclude element {etree.QName(found).localname!r} at "
                                  "line {line}; XInclude is never processed", _line(found, delta) - delta)
                return True
        return False

    def _written_findings(self, data: bytes) -> RangeResult | None:
        """The XSD findings of a small range (one record) parsed as written; None when it
        does not parse."""
        doc = self.doc
        assert doc is not None
        delta = doc.head_lines + 1
        root, newlines = self._parse(data, False)
        if root is None:
            return None
        result = RangeResult(ok=True, newlines=newlines)
        children = self._children(root, result, delta)
        errors = xsd.validate(self.schema, root.getroottree())
        if errors:
            self._collect(root, errors, children, result, delta)
        return result

    def _bad_records_only(self, root: etree._Element, errors: list[xsd.XsdError], data: bytes,
                          result: RangeResult) -> bool:
        """Fill *result*'s findings by re-reading just the records the lean tree faults.

        False when that is not safe: an error on the root or among its children's order,
        or record start tags in the bytes that do not line up one to one with the
        records of the tree."""
        doc = self.doc
        assert doc is not None
        position: dict[Any, int] = {}  # (each record's index, found in C: not every child read)
        bad: set[int] = set()
        for e in errors:
            if e.node is None or e.node is root or e.rule == "xsd:pattern-unchecked":
                return False
            if e.node.getparent() is root and e.unexpected:
                return False  # the root's content model: libxml2 skips what follows
            top = top_child(e.node, root)
            if top not in position:
                position[top] = root.index(top)
            bad.add(position[top])
        starts = record_starts(data, self.plan.record_locals)
        if len(starts) != len(root) or starts[0] != _SPACE.match(data).end():  # type: ignore[union-attr]
            return False
        starts.append(len(data))
        delta = doc.head_lines + 1
        # The start tags found are the records, in order: every child of the root is a record
        # (only_records), every match is a start tag (no comment, CDATA or processing
        # instruction in a lean range, and "<" cannot stand in a value), and a record holding
        # another of the name would add a match.  So where a record's start tag is on one line
        # (below libxml2's line limit), its line in the tree tells the newlines before it.
        # Else they are counted, on from the last bad record, and must agree with the tree,
        # which may note the line where the tag ends.
        before = counted = 0  # newlines before offset *counted*
        for k in sorted(bad):
            start = starts[k]
            piece = data[start:starts[k + 1]]
            line = _line(root[k], -1) - delta
            tag = _START_TAG.match(piece)
            inside = tag.group(0).count(b"\n") if tag is not None else 0
            if tag is not None and not inside and line >= 0 and line + delta < _LINE_LIMIT:
                before = line
            else:
                before += data.count(b"\n", counted, start)
                if line != before and (tag is None or line != before + inside):
                    return False  # the k-th start tag is not the k-th record
            counted = start
            part = self._written_findings(piece)
            if part is None or part.records != 1:
                return False
            result.findings.extend(
                (line + before, pos + k, kind, order, rule, sev, msg, rec + k if rec >= 0 else rec, tag,
                 index + k, name, rest)
                for line, pos, kind, order, rule, sev, msg, rec, tag, index, name, rest in part.findings)
        return True

    def _only_records(self, root: etree._Element, result: RangeResult, delta: int) -> bool:
        """The common case, counted in C: nothing but records of one name, no text."""
        if self._others is None or (root.text and root.text.strip()):
            return False
        n = len(root)
        if n == 0:
            return False
        others: Any = self._others(root)
        if int(others):
            return False
        tag = next(iter(self.plan.records))
        lines: list[int] = []
        for child in root:
            if len(lines) >= self.plan.cap:
                break
            lines.append(_line(child, delta) - delta)
        result.records = result.children = n
        result.counts = {tag: n}
        result.runs = [("el", tag, n, tuple(lines))]
        return True

    def _middle_cut(self, data: bytes, careful: bool) -> int | None:
        mid = len(data) // 2
        cut: int | None
        if careful:
            cut = careful_cut(BytesReader(data), self.plan.record_locals, 0, len(data), mid)
        else:
            m = self.pattern.search(data, mid) or self.pattern.search(data, 1)
            cut = m.start() if m else None
        return cut if cut and 0 < cut < len(data) else None

    def _children(self, root: etree._Element, result: RangeResult,
                  delta: int) -> dict[Any, tuple[int, int, str, int]]:
        """Depth-1 elements: position among elements, position among records (-1: not a
        record), tag, index among same-tag siblings."""
        cap = self.plan.cap
        records = self.plan.records
        info: dict[Any, tuple[int, int, str, int]] = {}
        runs: list[list[Any]] = []
        counts = result.counts

        def add(kind: str, tag: str, line: int) -> None:
            if runs and runs[-1][0] == kind and runs[-1][1] == tag:
                run = runs[-1]
                run[2] += 1
                if len(run[3]) < cap:
                    run[3].append(line)
            else:
                runs.append([kind, tag, 1, [line]])

        if root.text and root.text.strip():
            add("text", "", 0)
        nrec = 0
        position = 0
        for child in root:
            tag = child.tag
            if isinstance(tag, str):
                counts[tag] = counts.get(tag, 0) + 1
                info[child] = (position, nrec if tag in records else -1, tag, counts[tag])
                if tag in records:
                    nrec += 1
                position += 1
                add("el", tag, _line(child, delta) - delta)
            if child.tail and child.tail.strip():
                add("text", "", _line(child, delta) - delta)
        result.records = nrec
        result.children = position
        result.runs = [(k, t, n, tuple(lines)) for k, t, n, lines in runs]
        return info

    def _records_of(self, root: etree._Element, firings: list[Any]) -> dict[Any, tuple[int, int, str, int]]:
        """What :meth:`_children` says of the records the firings lie in, where every child
        of *root* is a record of one name: each stands at its index among them all (found
        in C, not by reading every child of a range of many records)."""
        tag = next(iter(self.plan.records))
        out: dict[Any, tuple[int, int, str, int]] = {}
        for f in firings:
            top = top_child(f.node, root)
            if top not in out and top is not root:
                i = root.index(top)
                out[top] = (i, i, tag, i + 1)
        return out

    def _raw(self, node: etree._Element, root: etree._Element, children: dict[Any, tuple[int, int, str, int]],
             line: int, kind: int, order: int, rule: str, severity: str, message: str) -> RawFinding:
        top = top_child(node, root)
        position, rec, tag, index = children.get(top, (-1, -1, str(top.tag), 1))
        return (line, position, kind, order, rule, severity, message, rec, tag, index, step(top),
                inner_path(node, top, self._positions))

    def _collect(self, root: etree._Element, errors: list[xsd.XsdError],
                 children: dict[Any, tuple[int, int, str, int]], result: RangeResult, delta: int) -> None:
        # Errors that belong to the root itself (its attributes, its content model) are the
        # skeleton's business.  A content-model error among the root's children, or libxml2
        # giving up, makes libxml2 skip what follows, so each child is validated alone.
        redo = False
        kept: list[xsd.XsdError] = []
        for e in errors:
            if e.rule == "xsd:pattern-unchecked":
                redo = True
            elif e.node is None or e.node is root:
                redo = redo or (e.node is root and e.content_model)
                result.root_content = result.root_content or e.node is None or e.content_model
                result.root_attributes = result.root_attributes or e.node is None or not e.content_model
            elif e.node.getparent() is root and e.unexpected:
                redo = True
                result.root_content = True
            elif not self._root_idc_error(e):
                kept.append(e)
        if redo:
            kept = []
            for child in root:
                if not isinstance(child.tag, str):
                    continue
                for e in xsd.validate(self.schema, child):
                    if e.type_name == "SCHEMAV_CVC_ELT_1" or self._root_idc_error(e):
                        continue  # no global declaration: the skeleton reports it
                    kept.append(e if e.node is not None else _at(e, child))
        for order, e in enumerate(kept):
            assert e.node is not None
            result.findings.append(self._raw(e.node, root, children, e.line - delta, XSD_KIND, order,
                                             e.rule, "error", e.message))

    def _root_idc_error(self, e: xsd.XsdError) -> bool:
        """A range-local verdict on a root identity constraint: the parent decides those."""
        return e.type_name == "SCHEMAV_CVC_IDC" and any(n in e.raw for n in self._root_idc)

    def _keys(self, root: etree._Element, children: dict[Any, tuple[int, int, str, int]] | None,
              result: RangeResult, delta: int) -> None:
        """The key values of the root's identity constraints, with where each stands.
        *children*: the place of each child of the root; None when every child is a record
        of the one name, each standing at its index."""
        for ci, compiled in enumerate(self._idc_paths):
            if compiled is None:
                continue
            selector, fields = compiled
            try:
                selected = selector(root)
            except etree.XPathError:
                continue
            nodes: list[Any] = selected if isinstance(selected, list) else []
            if children is None:
                if len(nodes) == len(root) and all(n.getparent() is root for n in nodes):
                    self._record_keys(ci, nodes, fields, result, delta)  # the records themselves
                    continue
                tag = next(iter(self.plan.records))
                children = {child: (i, i, tag, i + 1) for i, child in enumerate(root)}
            for node in nodes:
                if not isinstance(node, etree._Element) or node is root:
                    continue
                # usually the record itself is selected: no walk up to it, no path below it
                top = node if node.getparent() is root else top_child(node, root)
                pos, rec, tag, index = children.get(top, (-1, -1, str(top.tag), 1))
                result.keys.append((ci, key_values(fields, node), _line(node, delta) - delta,
                                    pos, rec, tag, index, step(top),
                                    "" if top is node else inner_path(node, top, self._positions)))

    def _record_keys(self, ci: int, records: list[etree._Element], fields: tuple[etree.XPath | str, ...],
                     result: RangeResult, delta: int) -> None:
        """:meth:`_keys` of a constraint that selects every child of the root, each a record
        of the one name: the k-th selected is the k-th child.  The same keys, with fewer
        calls per record (this runs for every record of a big file)."""
        tag = next(iter(self.plan.records))
        names: dict[str | None, str] = {}  # the record's step, by the prefix it is written with
        append = result.keys.append
        child = fields[0] if len(fields) == 1 and isinstance(fields[0], str) and fields[0][0] != "@" else None
        for i, node in enumerate(records):
            if child is not None:  # one child element's text, the usual record identifier: as
                # key_values reads it, without a call per field (this runs for every record)
                found = [c.text for c in node.iterchildren(child)]
                values: tuple[str, ...] | None = (
                    (" ".join((found[0] or "").split()),) if len(found) == 1 else None)
            else:
                values = key_values(fields, node)
            prefix = node.prefix
            name = names.get(prefix)
            if name is None:
                name = names[prefix] = step(node)
            append((ci, values, _line(node, delta) - delta, i, i, tag, i + 1, name, ""))

    # -- business rules, record phase ----------------------------------------------------
    def _rules(self, root: etree._Element, result: RangeResult, delta: int, only_records: bool,
               data: bytes, known: dict[Any, tuple[int, int, str, int]] | None = None, *,
               valid: bool = False, plain: bool = False) -> None:
        """The record phase's findings of the range *root*; *known*: where its root's children
        stand, when already read; *valid*: the range passed the schema; *plain*: it holds no
        comment, CDATA section or processing instruction."""
        from egif.validate.schematron.evaluator import RECORDS, program
        from egif.validate.schematron.state import RangeBook

        children: dict[Any, tuple[int, int, str, int]] = {}
        if not only_records:
            children = known if known is not None else self._children(root, RangeResult(ok=True), delta)
            records = self.plan.records
            for child in list(root):
                if isinstance(child.tag, str) and child.tag in records:
                    continue
                if isinstance(child.tag, str):
                    _pos, _rec, tag, index = children[child]
                    result.kept.append(Kept(
                        etree.tostring(child, with_tail=False),
                        tuple(_line(el, delta) - delta for el in child.iter()), tag, index, child))
                root.remove(child)
        # the document's book with one job; else the range's own answers, sent to the parent
        book: Book = self.book if self.book is not None else RangeBook()
        firings = program(self.rules, str(root.tag), RECORDS, self.plan.top_only, self.plan.records,
                          today=self.plan.today, text_children=self.plan.text_children).run(
            root, book, today=self.plan.today, data=data, valid=valid, plain=plain)
        result.seen = book.fresh() if isinstance(book, RangeBook) else {}
        if self.keeps_last:
            self._ruled.append((root, children or None))
        if firings and not children:
            children = self._records_of(root, firings) if only_records else \
                self._children(root, RangeResult(ok=True), delta)
        for order, f in zip(rule_orders(firings), firings, strict=True):
            result.findings.append(self._raw(f.node, root, children, _line(f.node, delta) - delta, RULE_KIND,
                                             order, f.check.rule_id, f.check.severity.value, f.message))

    def rules_again(self, start: int, end: int, book: Book, data: bytes | None = None, *,
                    collapsed: bool = True, only: frozenset[int] | None = None) -> list[RawFinding]:
        """The rules' findings of a range evaluated again with *book* as the oracle of
        ``seen()`` (in the parent, when a worker's answers turned out wrong).  *collapsed*:
        the range's XSD pass changed values (:attr:`RangeResult.collapsed`); when it did
        not, and no xs:ID is declared, the second reading is not validated again.  *only*:
        the checks to evaluate again (the others' findings stand)."""
        from egif.validate.schematron.evaluator import RECORDS, program

        doc = self.doc
        assert doc is not None and self.rules
        delta = doc.head_lines + 1
        last, self._last = self._last, None
        if last is not None and last[:2] == (start, end):
            # checked here last: the tree its rules saw, records only, values as corrected then
            _start, _end, root, known = last
            children = known if known is not None else self._children(root, RangeResult(ok=True), delta)
        else:
            if data is None:
                data = os.pread(self.fd, end - start, start)
            parsed, _changed = self._rules_tree(data, validate=collapsed or self.plan.interdependent)
            assert parsed is not None  # it parsed the first time
            root = parsed
            children = self._children(root, RangeResult(ok=True), delta)
            for child in list(root):
                if not (isinstance(child.tag, str) and child.tag in self.plan.records):
                    root.remove(child)
        firings = program(self.rules, str(root.tag), RECORDS, self.plan.top_only, self.plan.records,
                          today=self.plan.today, text_children=self.plan.text_children).run(
            root, book, today=self.plan.today, data=data, only=only)
        try:
            return [self._raw(f.node, root, children, _line(f.node, delta) - delta, RULE_KIND, order,
                              f.check.rule_id, f.check.severity.value, f.message)
                    for order, f in zip(rule_orders(firings), firings, strict=True)]
        finally:
            self._positions = {}


CHECK_SHIFT = 32  # a rule finding's order: its check's index, shifted, then its place among its firings


def rule_orders(firings: list[Any]) -> list[int]:
    """The order of each firing among a range's rule findings: its check's index, then its
    place among that check's firings.  Sorted, they stand as the firings came (check by
    check, in the order of the rule set); and a check evaluated again on its own (see
    :meth:`~egif.validate.schematron.state.DocumentBook.merge_checks`) takes the same
    places, so its findings can replace the first ones."""
    seen: dict[int, int] = {}
    out = []
    for f in firings:
        n = seen.get(f.check.index, 0)
        seen[f.check.index] = n + 1
        out.append((f.check.index << CHECK_SHIFT) | n)
    return out


_SIMPLE_FIELD = re.compile(r"\s*(@?)(?:([A-Za-z_][\w.\-]*):)?([A-Za-z_][\w.\-]*)\s*\Z")


def _compile_constraint(c: Constraint) -> tuple[etree.XPath, tuple[etree.XPath | str, ...]] | None:
    ns = {p: u for p, u in c.namespaces if p}
    try:
        return (etree.XPath(c.selector, namespaces=ns, smart_strings=False),
                tuple(_field(f, ns) for f in c.fields))
    except etree.XPathError:
        return None


def field_text(field: etree.XPath | str, node: etree._Element) -> str | None:
    """The text of the one node *field* selects from *node* (``""`` for an element without
    text); None when it selects none or several."""
    if isinstance(field, str):
        if field[0] == "@":
            return node.get(field[1:])
        found = [c.text for c in node.iterchildren(field)]
        return (found[0] or "") if len(found) == 1 else None
    answer: Any = field(node)
    got: list[Any] = answer if isinstance(answer, list) else [answer]
    if len(got) != 1:
        return None
    item = got[0]
    return (item.text or "") if isinstance(item, etree._Element) else str(item)


def key_values(fields: tuple[etree.XPath | str, ...], node: etree._Element) -> tuple[str, ...] | None:
    """The key of *node* under an identity constraint's *fields*: each field's text with its
    whitespace collapsed; None when a field selects no node or several."""
    values = []
    for path in fields:
        text = field_text(path, node)
        if text is None:
            return None
        values.append(" ".join(text.split()))
    return tuple(values)


def _field(path: str, ns: dict[str, str]) -> etree.XPath | str:
    """A field that names one child element or attribute (``prl:RecordIdentifier``,
    ``@id``) as that name in Clark notation (``@`` first for an attribute), which is
    looked up without an XPath evaluation per record -- the same nodes, unprefixed
    names in no namespace, as in XPath 1.0; any other field as a compiled XPath."""
    m = _SIMPLE_FIELD.match(path)
    if m is not None and (m.group(2) is None or m.group(2) in ns):
        attribute, prefix, local = m.groups()
        name = f"{{{ns[prefix]}}}{local}" if prefix else local
        return "@" + name if attribute else name
    return etree.XPath(path, namespaces=ns, smart_strings=False)


def others_count(record: str) -> etree.XPath:
    """How many children of the root are neither a *record* (a Clark name) nor blank text:
    all nodes less the records less the blank text nodes.  (Three counts along the child
    axis cost a third of one count whose predicate tests each node against the record's
    name: a name test with a bound prefix is libxml2's quick path, a predicate is not.)"""
    ns, _, local = record[1:].partition("}") if record.startswith("{") else ("", "", record)
    name = f"r:{local}" if ns else local
    return etree.XPath(f"count(node()) - count({name}) - count(text()[not(normalize-space())])",
                       namespaces={"r": ns} if ns else None)


def _line(el: etree._Element, default: int) -> int:
    line: Any = el.sourceline
    return line if isinstance(line, int) and line > 0 else default


def _at(e: xsd.XsdError, node: etree._Element) -> xsd.XsdError:
    return xsd.XsdError(node, e.line, e.rule, e.message, e.raw, e.type_name)


def _join(a: RangeResult, b: RangeResult, lines_in_a: int) -> RangeResult:
    """Two consecutive ranges as one (b's relative lines and positions shifted)."""
    counts = dict(a.counts)
    for tag, n in b.counts.items():
        counts[tag] = counts.get(tag, 0) + n
    findings = a.findings + [
        (line + lines_in_a, pos + a.children if pos >= 0 else pos, kind, order, rule, sev, msg,
         rec + a.records if rec >= 0 else rec, tag, index + a.counts.get(tag, 0), name, rest)
        for line, pos, kind, order, rule, sev, msg, rec, tag, index, name, rest in b.findings]
    keys = a.keys + [
        (ci, vals, line + lines_in_a, pos + a.children if pos >= 0 else pos, rec + a.records if rec >= 0 else rec,
         tag, index + a.counts.get(tag, 0), name, rest)
        for ci, vals, line, pos, rec, tag, index, name, rest in b.keys]
    runs = list(a.runs)
    for kind, tag, n, lines in b.runs:
        moved = tuple(x + lines_in_a for x in lines)
        if runs and runs[-1][0] == kind and runs[-1][1] == tag:
            last = runs[-1]
            runs[-1] = (last[0], last[1], last[2] + n, last[3] + moved)
        else:
            runs.append((kind, tag, n, moved))
    kept = a.kept + [Kept(k.xml, tuple(x + lines_in_a for x in k.lines), k.tag, k.index + a.counts.get(k.tag, 0),
                          k.element) for k in b.kept]
    return RangeResult(ok=True, newlines=a.newlines + b.newlines, records=a.records + b.records,
                       children=a.children + b.children, counts=counts, runs=runs, findings=findings,
                       keys=keys, seen=_seen_both(a.seen, b.seen), kept=kept,
                       root_attributes=a.root_attributes or b.root_attributes,
                       root_content=a.root_content or b.root_content, collapsed=a.collapsed or b.collapsed)


def _seen_both(a: dict[tuple[int, str], tuple[bytes, list[str]]],
               b: dict[tuple[int, str], tuple[bytes, list[str]]]) -> dict[tuple[int, str], tuple[bytes, list[str]]]:
    """The values two consecutive ranges saw.  A value both saw was answered "not seen" in the
    second: the halves of one range are evaluated apart only past the line limit, and the
    parent then re-checks (it sees the value twice and evaluates the range again)."""
    out = dict(a)
    for key, (packed, others) in b.items():
        if key in out:
            first = out[key]
            out[key] = (first[0] + packed, first[1] + others)
        else:
            out[key] = (packed, others)
    return out


# -- worker process main loop (see egif.validate.stream.pool) ----------------------------
def send_message(fd: int, obj: Any) -> None:
    """Write *obj* to *fd* as one frame: a 4-byte big-endian length, then its pickle."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(len(data).to_bytes(4, "big") + data)
    while view:
        view = view[os.write(fd, view):]


def read_message(fd: int) -> Any:
    """The next frame's object from *fd*; EOFError when the other side has gone."""
    size = int.from_bytes(_read_exact(fd, 4), "big")
    return pickle.loads(_read_exact(fd, size))


def _read_exact(fd: int, n: int) -> bytes:
    parts = []
    while n:
        block = os.read(fd, n)
        if not block:
            raise EOFError
        parts.append(block)
        n -= len(block)
    return b"".join(parts)


def serve(rfd: int, wfd: int) -> None:
    """Read a plan, then documents and tasks, from *rfd*; answer each task on *wfd*."""
    try:
        plan = read_message(rfd)
    except EOFError:
        return
    answer(Worker(plan), rfd, wfd)


def answer(worker: Worker, rfd: int, wfd: int) -> None:
    """Read documents and tasks from *rfd* until it ends; answer each task on *wfd*."""
    worker.keeps_last = False  # the parent reads a range again, not this process
    while True:
        try:
            message = read_message(rfd)
        except EOFError:
            break
        if isinstance(message, Doc):
            worker.open(message)
            continue
        try:
            reply: tuple[str, Any] = ("ok", worker.check(*message))
        except Exception as exc:  # reported to the parent, which raises it there
            reply = ("error", (type(exc).__name__, str(getattr(exc, "message", exc))))
        send_message(wfd, reply)
    worker.close()
