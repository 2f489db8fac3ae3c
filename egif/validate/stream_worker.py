"""The part of the streaming engine that runs in each worker process.

A worker receives a :class:`Plan` once (plain data: the schema files, the
root start tag, the record names) and then byte ranges of the file.  For each
range it builds a small document -- the root start tag, the range, the root
end tag -- parses it with the safe parser settings, validates it with libxml2
in one call, and returns a :class:`ChunkResult` of plain tuples whose lines
are relative to the first line of the range.  The parent adds the line,
record and sibling offsets, which only it knows, and puts results in order.

Ranges are kept under :data:`MAX_LINES` lines: libxml2 stores element line
numbers in 16 bits and can report lines above 65,535 one too high, so
relative lines below that limit plus an exact offset give exact lines.
"""

from __future__ import annotations

import os
import pickle
import posixpath
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from egif.validate.stream_split import careful_splits, record_pattern
from egif.xmlsafe import make_parser

MAX_LINES = 60_000

# (relative line, rule, message, record position in range (-1: none), depth-1 tag, depth-1
#  position among same-tag siblings in range, depth-1 step name, rest of the path)
RawFinding = tuple[int, str, str, int, str, int, str, str]
# (kind "el" | "text", Clark name or "", count, relative lines of the first few)
Run = tuple[str, str, int, tuple[int, ...]]
# (constraint index, key values, relative line, record position in range, depth-1 tag,
#  position among same-tag siblings, step name, rest of path)
RawKey = tuple[int, tuple[str, ...] | None, int, int, str, int, str, str]


@dataclass(frozen=True)
class Constraint:
    """An identity constraint (xs:unique / xs:key / xs:keyref) declared on the root."""

    kind: str  # "unique", "key" or "keyref"
    name: str  # Clark name
    selector: str  # XPath relative to the root
    fields: tuple[str, ...]
    namespaces: tuple[tuple[str, str], ...]
    refer: str | None = None  # keyref: Clark name of the key it refers to


@dataclass(frozen=True)
class Plan:
    """What every worker needs, as plain picklable data."""

    path: str
    files: dict[str, bytes]
    main: str
    head: bytes  # XML declaration + newline + root start tag + newline
    tail: bytes  # root end tag
    head_lines: int  # newlines in head
    records: frozenset[str]
    record_locals: tuple[str, ...]
    cap: int  # how many lines of each run of siblings to keep for the skeleton
    constraints: tuple[Constraint, ...] = ()


@dataclass
class ChunkResult:
    ok: bool
    newlines: int = 0
    records: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    findings: list[RawFinding] = field(default_factory=list)
    keys: list[RawKey] = field(default_factory=list)


_CLARK_ELEMENT = re.compile(r"^Element '[^']*'(?:, attribute '([^']*)')?: ")
_CLARK = re.compile(r"\{[^{}\s]*[:/][^{}\s]*\}(?=[A-Za-z_])")
_FACET = re.compile(r"^\[facet '([^']*)'\] ")
_STEP = re.compile(r"^(\*|[^\[\]]+)(?:\[(\d+)\])?$")


def xsd_rule(type_name: str, message: str = "") -> str:
    """A stable rule id from libxml2's error type: ``SCHEMAV_CVC_COMPLEX_TYPE_2_4`` ->
    ``xsd:cvc-complex-type.2.4`` (the same spelling as the document validator)."""
    del message
    name = type_name.removeprefix("SCHEMAV_").lower()
    words = [p for p in name.split("_") if not p.isdigit()]
    numbers = [p for p in name.split("_") if p.isdigit()]
    text = "-".join(words) + ("." + ".".join(numbers) if numbers else "")
    return f"xsd:{text}"


def plain_message(message: str) -> str:
    """libxml2's message, one line, Clark names shortened to local names."""
    return " ".join(_CLARK.sub("", message.strip()).split())


def error_entries(schema: etree.XMLSchema) -> list[Any]:
    """The entries of a validator's error log (typed loosely: the stubs lack __iter__)."""
    log: Any = schema.error_log
    return list(log)


def sourceline(el: etree._Element, default: int) -> int:
    line: Any = el.sourceline
    return line if isinstance(line, int) and line > 0 else default


def step_name(el: etree._Element) -> str:
    local = etree.QName(el).localname
    return f"{el.prefix}:{local}" if el.prefix else local


def inner_path(el: etree._Element, top: etree._Element) -> str:
    """Path steps from *top* (exclusive) down to *el*; ``[n]`` only among same-name siblings."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not top and node is not None:
        parent = node.getparent()
        name = step_name(node)
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    steps.reverse()
    return "".join("/" + s for s in steps)


def find_node(start: etree._Element, libxml_path: str | None) -> etree._Element | None:
    """The element a libxml2 error path points at, walking from *start* (its first step)."""
    if not libxml_path or not libxml_path.startswith("/"):
        return None
    steps = libxml_path[1:].split("/")
    node: etree._Element | None = start
    for i, step in enumerate(steps):
        m = _STEP.match(step)
        if m is None or node is None:
            return None
        name, pos = m.group(1), int(m.group(2) or 1)
        if i == 0:
            continue  # the start element itself
        matches = [c for c in node if isinstance(c.tag, str) and _step_matches(c, name)]
        if len(matches) < pos:
            return None
        node = matches[pos - 1]
    return node


def _step_matches(el: etree._Element, name: str) -> bool:
    if name == "*":
        return True
    prefix, _, local = name.rpartition(":")
    q = etree.QName(el)
    if q.localname != local:
        return False
    if prefix:
        return el.prefix == prefix
    return q.namespace is None


_SPACE = re.compile(rb"[ \t\r\n]*")
_ID_TYPES = re.compile(rb"""=\s*["'](?:[\w.\-]+:)?(?:ID|IDREFS?)["']""")

# Any base URL outside every real scheme: the resolver below answers all requests.
_BASE = "egif-stream:/"


class _PlanFiles(etree.Resolver):
    """Serves the closure's files to libxml2 and refuses everything else (an empty answer).

    The parent compiled the same bytes with :mod:`egif.resolve` before starting
    workers, so a refusal cannot happen here; this only keeps worker processes
    from importing egif.resolve, whose xmlschema hooks pull in urllib, ssl and
    email (about 9 MB per process).
    """

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__()
        self.files = files

    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:  # type: ignore[override]
        if system_url.startswith(_BASE):
            data = self.files.get(posixpath.normpath(system_url[len(_BASE):]))
            if data is not None:
                return self.resolve_string(data, context, base_url=system_url)
        return self.resolve_string(b"", context, base_url=system_url)


def compile_schema(files: dict[str, bytes], main: str) -> etree.XMLSchema:
    """The libxml2 validator of a closure laid out as in :class:`egif.resolve.ResolvedSchema`."""
    parser = make_parser()
    parser.resolvers.add(_PlanFiles(files))
    root = etree.fromstring(files[main], parser, base_url=_BASE + main)
    return etree.XMLSchema(root.getroottree())


class Worker:
    """Validates ranges of one file; one per process (or one in-process)."""

    def __init__(self, plan: Plan, schema: etree.XMLSchema | None = None) -> None:
        self.plan = plan
        self.schema = schema if schema is not None else compile_schema(plan.files, plan.main)
        self.parser = make_parser()
        self.lean = make_parser(remove_blank_text=True)
        # re-reading single records gives their errors exactly unless one record's
        # validity depends on another's: xs:ID uniqueness and xs:IDREF targets
        self.piecewise = not any(_ID_TYPES.search(d) for d in plan.files.values())
        self.fd = os.open(plan.path, os.O_RDONLY)
        self.pattern = record_pattern(list(plan.record_locals))
        self._root_idc = tuple(f"'{c.name}'" for c in plan.constraints)
        # children of the root that are neither a record nor blank text (one record name);
        # a name test with a bound prefix costs a third of namespace-uri()/local-name() calls
        self._others: etree.XPath | None = None
        if len(plan.records) == 1:
            tag = next(iter(plan.records))
            ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
            test = f"self::r:{local}" if ns else f"self::{local}"
            self._others = etree.XPath(
                f"count(node()[not({test})][not(self::text()[not(normalize-space())])])",
                namespaces={"r": ns} if ns else None)

    def _root_idc_error(self, type_name: str, message: str) -> bool:
        """A range-local verdict on a root identity constraint: the parent decides those."""
        return type_name == "SCHEMAV_CVC_IDC" and any(n in message for n in self._root_idc) \
            and "No precomputed value" not in message

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def chunk(self, start: int, end: int, careful: bool) -> ChunkResult:
        data = os.pread(self.fd, end - start, start)
        return self._range(data, careful)

    # -- one range --------------------------------------------------------------
    def _range(self, data: bytes, careful: bool) -> ChunkResult:
        newlines = data.count(b"\n")
        if newlines > MAX_LINES:
            cut = self._middle_split(data, careful)
            if cut is not None:
                first = self._range(data[:cut], careful)
                if not first.ok:
                    return first
                second = self._range(data[cut:], careful)
                if not second.ok:
                    return second
                return _join(first, second, data.count(b"\n", 0, cut))
        plan = self.plan
        delta = plan.head_lines + 1  # relative line 0 = first line of the range
        document = plan.head + data + plan.tail
        # "!" and "?" are rare in data (one memchr each), "<!" and "<?" would cost a
        # compare at every "<": the guard may be too careful, never too lax
        if not plan.constraints and b"!" not in data and b"?" not in data:
            quick = self._lean_verdict(data, document, newlines, delta)
            if quick is not None:
                return quick
        return self._as_written(document, newlines, delta)

    def _as_written(self, document: bytes, newlines: int, delta: int) -> ChunkResult:
        """Parse and validate a range exactly as written; collect every error in it."""
        plan = self.plan
        try:
            root = etree.fromstring(document, self.parser)
        except etree.XMLSyntaxError:
            return ChunkResult(ok=False)
        result = ChunkResult(ok=True, newlines=newlines)
        if not self._only_records(root, result, delta):
            self._children(root, result, delta)
        valid = self.schema.validate(root.getroottree())
        if not valid or plan.constraints:
            children = self._children(root, ChunkResult(ok=True), delta)
            if not valid:
                self._collect(root, children, result, delta)
            if plan.constraints:
                self._keys(root, children, result, delta)
        return result

    def _lean_verdict(self, data: bytes, document: bytes, newlines: int,
                      delta: int) -> ChunkResult | None:
        """The result of a range from a tree without whitespace-only text, when that tree
        can decide; None sends the range to :meth:`_as_written`.

        Dropping the whitespace between elements makes libxml2's parse and validation
        about a sixth cheaper.  It cannot turn an invalid element valid: libxml2 only
        drops whitespace that sits between an element and a start or end tag (never
        the whole content of an otherwise empty element, never text next to other
        text), and such whitespace is allowed wherever elements are.  The caller
        guarantees no comment, CDATA section or processing instruction in the range,
        next to which libxml2 would also drop whitespace that is part of a value.

        So a valid lean tree means a valid range.  When the lean tree has errors and
        they all lie inside records, only the records holding them are parsed again
        as written (each alone, as a small range) for their exact errors; the other
        records are valid.
        """
        try:
            root = etree.fromstring(document, self.lean)
        except etree.XMLSyntaxError:
            return None
        valid = self.schema.validate(root.getroottree())
        if not valid and not self.piecewise:
            return None
        result = ChunkResult(ok=True, newlines=newlines)
        if not self._only_records(root, result, delta):
            if not valid:
                return None
            self._children(root, result, delta)
        if not valid and not self._bad_records_only(root, data, result, delta):
            return None
        return result

    def _bad_records_only(self, root: etree._Element, data: bytes, result: ChunkResult,
                          delta: int) -> bool:
        """Fill *result*'s findings by re-reading just the records the lean tree faults.

        False when that is not safe: an error on the root or among its children's
        order, or record start tags in the bytes that do not line up one to one with
        the records of the tree."""
        position: dict[Any, int] = {}
        bad: set[int] = set()
        for e in error_entries(self.schema):
            node = find_node(root, e.path)
            if node is None or node is root:
                return False
            if node.getparent() is root and "is not expected" in e.message:
                return False  # the root's content model: libxml2 skips what follows
            if not position:
                position = {c: i for i, c in enumerate(root)}
            bad.add(position[top_child(node, root)])
        starts = [m.start() for m in self.pattern.finditer(data)]
        if len(starts) != len(root) or starts[0] != _SPACE.match(data).end():  # type: ignore[union-attr]
            return False
        starts.append(len(data))
        head_lines = self.plan.head_lines + 1
        for k in sorted(bad):
            piece = data[starts[k]:starts[k + 1]]
            before = data.count(b"\n", 0, starts[k])
            if sourceline(root[k], -1) - delta != before:
                return False  # the k-th start tag is not the k-th record
            part = self._as_written(self.plan.head + piece + self.plan.tail,
                                    piece.count(b"\n"), head_lines)
            if not part.ok or part.records != 1:
                return False
            result.findings.extend(
                (line + before, rule, msg, rec + k if rec >= 0 else rec, tag, index + k, name, rest)
                for line, rule, msg, rec, tag, index, name, rest in part.findings)
        return True

    def _only_records(self, root: etree._Element, result: ChunkResult, delta: int) -> bool:
        """The common case, counted in C: nothing but records of one name, no text."""
        if self._others is None or (root.text and root.text.strip()):
            return False
        tag = next(iter(self.plan.records))
        n = len(root)
        if n == 0:
            return False
        others: Any = self._others(root)
        if int(others):
            return False
        lines: list[int] = []
        for child in root:
            if len(lines) >= self.plan.cap:
                break
            lines.append(sourceline(child, delta) - delta)
        result.records = n
        result.counts = {tag: n}
        result.runs = [("el", tag, n, tuple(lines))]
        return True

    def _middle_split(self, data: bytes, careful: bool) -> int | None:
        mid = len(data) // 2
        if careful:
            names = list(self.plan.record_locals)
            cut = next(careful_splits(data, 0, len(data), names, mid), None)
        else:
            m = self.pattern.search(data, mid)
            cut = m.start() if m else None
            if cut is None:
                m = self.pattern.search(data, 1)
                cut = m.start() if m else None
        return cut if cut and 0 < cut < len(data) else None

    def _children(self, root: etree._Element, result: ChunkResult,
                  delta: int) -> dict[Any, tuple[int, str, int]]:
        """Depth-1 elements: position among records (-1: not a record), tag, same-tag index."""
        cap = self.plan.cap
        records = self.plan.records
        info: dict[Any, tuple[int, str, int]] = {}
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
        for child in root:
            tag = child.tag
            if isinstance(tag, str):
                counts[tag] = counts.get(tag, 0) + 1
                if tag in records:
                    info[child] = (nrec, tag, counts[tag])
                    nrec += 1
                else:
                    info[child] = (-1, tag, counts[tag])
                add("el", tag, sourceline(child, delta) - delta)
            if child.tail and child.tail.strip():
                add("text", "", sourceline(child, delta) - delta)
        result.records = nrec
        result.runs = [(k, t, n, tuple(lines)) for k, t, n, lines in runs]
        return info

    def _collect(self, root: etree._Element, children: dict[Any, tuple[int, str, int]],
                 result: ChunkResult, delta: int) -> None:
        entries = error_entries(self.schema)
        # Errors that belong to the root itself (its attributes, its content model)
        # are the skeleton's business.  A content-model error among the root's
        # children makes libxml2 skip the children after it, so then each child
        # is validated on its own instead.
        redo = False
        kept = []
        for e in entries:
            node = find_node(root, e.path)
            if node is None or node is root:
                if node is root and _is_content_error(e.type_name, e.message):
                    redo = True
                continue
            if node.getparent() is root and "is not expected" in e.message:
                redo = True
                continue
            kept.append((e, node))
        if self._root_idc:
            kept = [(e, n) for e, n in kept if not self._root_idc_error(e.type_name, e.message)]
        if redo:
            kept = []
            for child in root:
                if not isinstance(child.tag, str):
                    continue
                if self.schema.validate(child):
                    continue
                for e in error_entries(self.schema):
                    if e.type_name == "SCHEMAV_CVC_ELT_1":
                        continue  # no global declaration: the skeleton reports it
                    if self._root_idc_error(e.type_name, e.message):
                        continue
                    node = find_node(child, e.path)
                    kept.append((e, node if node is not None else child))
        for e, node in kept:
            top = top_child(node, root)
            rec, tag, index = children.get(top, (-1, str(top.tag), 1))
            rest = inner_path(node, top)
            result.findings.append((
                e.line - delta, xsd_rule(e.type_name, e.message), plain_message(e.message),
                rec, tag, index, step_name(top), rest,
            ))

    def _keys(self, root: etree._Element, children: dict[Any, tuple[int, str, int]],
              result: ChunkResult, delta: int) -> None:
        for ci, c in enumerate(self.plan.constraints):
            ns = {p: u for p, u in c.namespaces if p}
            try:
                selected = root.xpath(c.selector, namespaces=ns)
            except etree.XPathError:
                continue
            nodes: list[Any] = selected if isinstance(selected, list) else []
            for node in nodes:
                if not isinstance(node, etree._Element) or node is root:
                    continue
                values: list[str] = []
                complete = True
                for f in c.fields:
                    answer: Any = node.xpath(f, namespaces=ns)
                    got: list[Any] = answer if isinstance(answer, list) else [answer]
                    if len(got) != 1:
                        complete = False
                        break
                    item = got[0]
                    text = item.text if isinstance(item, etree._Element) else str(item)
                    values.append(" ".join((text or "").split()))
                top = top_child(node, root)
                rec, tag, index = children.get(top, (-1, str(top.tag), 1))
                result.keys.append((ci, tuple(values) if complete else None,
                                    sourceline(node, delta) - delta, rec, tag, index,
                                    step_name(top), inner_path(node, top)))


def top_child(node: etree._Element, root: etree._Element) -> etree._Element:
    """The child of *root* that holds *node*."""
    top = node
    while True:
        parent = top.getparent()
        if parent is None or parent is root:
            return top
        top = parent


def _is_content_error(type_name: str, message: str) -> bool:
    return (type_name == "SCHEMAV_ELEMENT_CONTENT" or "Missing child" in message
            or "Character content" in message or "is not expected" in message)


def _join(a: ChunkResult, b: ChunkResult, lines_in_a: int) -> ChunkResult:
    """Two consecutive ranges as one (b's relative lines and positions shifted)."""
    counts = dict(a.counts)
    for tag, n in b.counts.items():
        counts[tag] = counts.get(tag, 0) + n
    shifted = [
        (line + lines_in_a, rule, msg, rec + a.records if rec >= 0 else rec, tag,
         index + a.counts.get(tag, 0), name, rest)
        for line, rule, msg, rec, tag, index, name, rest in b.findings
    ]
    keys = [
        (ci, vals, line + lines_in_a, rec + a.records if rec >= 0 else rec, tag,
         index + a.counts.get(tag, 0), name, rest)
        for ci, vals, line, rec, tag, index, name, rest in b.keys
    ]
    runs = list(a.runs)
    for run in b.runs:
        moved = (run[0], run[1], run[2], tuple(x + lines_in_a for x in run[3]))
        if runs and runs[-1][0] == moved[0] and runs[-1][1] == moved[1]:
            last = runs[-1]
            runs[-1] = (last[0], last[1], last[2] + moved[2], last[3] + moved[3])
        else:
            runs.append(moved)
    return ChunkResult(ok=True, newlines=a.newlines + b.newlines, records=a.records + b.records,
                       counts=counts, runs=runs, findings=a.findings + shifted, keys=a.keys + keys)


# -- worker process main loop (see egif.validate.stream_pool) -----------------------
_FRAME = struct.Struct(">I")


def send_message(fd: int, obj: Any) -> None:
    """Write *obj* to *fd* as one frame: a 4-byte big-endian length, then its pickle."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_FRAME.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def read_message(fd: int) -> Any:
    """The next frame's object from *fd*; EOFError when the other side has gone."""
    size = _FRAME.unpack(_read_exact(fd, 4))[0]
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
    """Read a plan, then tasks, from *rfd*; answer each on *wfd*; stop at end of input."""
    try:
        plan = read_message(rfd)
    except EOFError:
        return
    worker = Worker(plan)
    while True:
        try:
            task = read_message(rfd)
        except EOFError:
            break
        try:
            answer: tuple[str, Any] = ("ok", worker.chunk(*task))
        except Exception as exc:  # reported to the parent, which raises it there
            answer = ("error", f"{type(exc).__name__}: {exc}")
        send_message(wfd, answer)
    worker.close()
