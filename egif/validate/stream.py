"""Streaming validation of big collection exports, record by record, on every core.

A *collection* is a document whose root holds many repeating global *record*
elements as direct children (the gazetteer extract: ``GazetteerExtract`` /
``AddressRecord``).  :func:`validate_collection` checks such a file in
bounded memory:

1. **Split.**  The parent finds the root start tag, then jumps about
   ``chunk_bytes`` ahead and searches the raw bytes for the next record start
   tag (any prefix).  It never reads the whole file itself.
2. **Validate ranges.**  Each byte range goes to a worker process (one per
   core).  The worker wraps it in the root start tag (so the root's namespace
   declarations apply) and end tag, parses it with the safe parser settings
   of :mod:`egif.xmlsafe`, and validates it with libxml2 in one call.  Errors
   on the root itself are dropped there (see 3); a content-model error among
   the root's children makes the worker validate each child on its own,
   because libxml2 skips the siblings after such an error.
3. **Skeleton.**  The root's attributes, the order and number of its
   children (header elements, record count limits) and text directly under
   the root are checked on a *skeleton*: the original root start tag holding
   one empty stand-in element per child, runs of identical children cut
   to a few more than the largest finite occurrence bound in the schema.
   Only errors on the root and "not expected" errors on stand-ins are kept.
4. **Cross-record constraints.**  xs:unique / xs:key / xs:keyref declared on
   the root are evaluated from the key values the workers extract; duplicates
   are reported when the second occurrence streams past, dangling keyrefs at
   the end.  This is the only state that grows with the file (one key per
   selected node), and only for schemas that declare such constraints.
5. **Order and lines.**  Results are merged in file order; workers report
   lines relative to their range (kept under 60,000 lines, below libxml2's
   16-bit line field) and the parent adds each range's exact line offset.

If a range does not parse -- a record start tag inside a comment or CDATA,
a record nested deeper than the root's children, or a real syntax error --
the rest of the file is re-split by a tokenizer that tracks markup and depth.
If a range still does not parse, the file is not well-formed: one streaming
parse of the whole file finds the first syntax error exactly as libxml2
reports it, which becomes a finding with rule ``xml:syntax``, and validation
stops there.

Paths are written with the prefixes the document uses (``bs7666:PostCode``;
an element in a default namespace is written by its local name), from the
root down: ``/GazetteerExtract/AddressRecord[17]/bs7666:BS7666Address/bs7666:PostCode``.
Steps for the root's children always carry their index among same-named
siblings (a stream cannot know whether more follow); deeper steps carry an
index only when the parent has several children of that name.
"""

from __future__ import annotations

import codecs
import contextlib
import mmap
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from egif.errors import InputError, UnsafeInputError
from egif.model import Finding
from egif.resolve import ResolvedSchema
from egif.validate.stream_layout import RootFacts, Unsupported, read_layout
from egif.validate.stream_pool import Pool
from egif.validate.stream_split import (
    Prolog,
    ascii_compatible,
    careful_splits,
    declared_encoding,
    find_prolog,
    find_root_end,
    record_pattern,
)
from egif.validate.stream_worker import (
    ChunkResult,
    Constraint,
    Plan,
    Worker,
    error_entries,
    find_node,
    inner_path,
    plain_message,
    step_name,
    top_child,
    xsd_rule,
)
from egif.xmlsafe import check_doctype, make_parser

__all__ = [
    "CollectionLayout",
    "Progress",
    "SmallDocuments",
    "collection_layout",
    "validate_collection",
    "validate_many",
]

CHUNK_BYTES = 128 * 1024
_HEAD_BYTES = 64 * 1024
_MAX_HEAD = 16 * 1024 * 1024
_TAIL_BYTES = 64 * 1024
_PROGRESS_EVERY = 0.25  # seconds
_LIMIT_WORDS = ("Excessive depth", "XML_PARSE_HUGE", "huge text", "Huge input")


@dataclass(frozen=True)
class CollectionLayout:
    """The root of a collection and the Clark names of its record elements."""

    root: str
    records: frozenset[str]


@dataclass
class Progress:
    """Where a run stands; passed to the progress callback now and then."""

    records: int
    bytes_done: int
    bytes_total: int
    errors: int
    seconds: float


# -- layout -------------------------------------------------------------------------
def collection_layout(resolved: ResolvedSchema, root: str) -> CollectionLayout | None:
    """The layout of collection root *root* (a Clark name); None when it is not one.

    A record is a global element referenced from the root's content model
    where it may repeat (its own maxOccurs, or that of an enclosing group,
    above one).  Read from the XSD documents with lxml (milliseconds); only
    constructs that reader does not follow make it compile the schema with
    xmlschema.
    """
    facts = _root_facts(resolved, root)
    if facts is None:
        return None
    return CollectionLayout(root=root, records=facts.records)


def _root_facts(resolved: ResolvedSchema, root: str) -> RootFacts | None:
    try:
        return read_layout(resolved.files, root)
    except Unsupported:
        return _xmlschema_facts(resolved, root)


def _xmlschema_facts(resolved: ResolvedSchema, root: str) -> RootFacts | None:
    """The same facts from xmlschema's component model (slow; the fallback)."""
    schema = resolved.xmlschema_schema()
    decl = next((e for e in schema.maps.elements.values() if e.name == root), None)
    if decl is None:
        return None
    content = getattr(decl.type, "content", None)
    if content is None or not hasattr(content, "iter_model"):
        return None
    records: set[str] = set()
    _walk_model(content, False, records)
    if not records:
        return None
    found = []
    identities = decl.identities
    for ident in identities.values() if isinstance(identities, dict) else identities:
        kind = type(ident).__name__.removeprefix("Xsd").lower()
        refer = getattr(ident, "refer", None)
        selector: Any = ident.selector
        if selector is None:
            continue
        found.append((kind, ident.name, selector.path, tuple(f.path for f in ident.fields),
                      tuple(sorted((p, u) for p, u in selector.namespaces.items() if p)),
                      getattr(refer, "name", refer) if refer is not None else None))
    return RootFacts(frozenset(records), tuple(found))


def _walk_model(group: Any, repeating: bool, out: set[str]) -> None:
    repeats = repeating or group.max_occurs is None or group.max_occurs > 1
    for particle in group.iter_model():
        if hasattr(particle, "iter_model"):
            _walk_model(particle, repeats, out)
            continue
        many = repeats or particle.max_occurs is None or particle.max_occurs > 1
        is_global = getattr(particle, "ref", None) is not None or getattr(particle, "parent", 1) is None
        if many and is_global and particle.name:
            out.add(particle.name)


def _constraints(resolved: ResolvedSchema, root: str) -> tuple[Constraint, ...]:
    facts = _root_facts(resolved, root)
    if facts is None:
        return ()
    return tuple(Constraint(kind=k, name=n, selector=sel, fields=fields, namespaces=ns, refer=refer)
                 for k, n, sel, fields, ns, refer in facts.constraints)


def _occurrence_cap(resolved: ResolvedSchema) -> int:
    """One more than the largest finite occurrence bound anywhere in the schema."""
    biggest = 1
    for data in resolved.files.values():
        for m in re.finditer(rb'(?:min|max)Occurs\s*=\s*["\']\s*(\d+)', data):
            biggest = max(biggest, int(m.group(1)))
    return min(biggest + 1, 100_000)


# -- the engine ---------------------------------------------------------------------
def validate_collection(resolved: ResolvedSchema, path: Path, *, layout: CollectionLayout,
                        jobs: int | None = None, max_errors: int | None = None,
                        progress: Callable[[Progress], None] | None = None,
                        label: str | None = None,
                        chunk_bytes: int = CHUNK_BYTES) -> Iterator[Finding]:
    """Every error in collection file *path*, lazily and in file order.

    ``jobs=None`` uses every core, ``jobs=1`` runs in this process.  Raises
    :class:`~egif.errors.InputError` for an unreadable file and
    :class:`~egif.errors.UnsafeInputError` for refused constructs (entity
    declarations, external DTDs, libxml2's depth and size limits).
    """
    path = Path(path)
    name = label or str(path)
    run = _Run(resolved, path, layout, name, jobs, max_errors, progress, chunk_bytes)
    return run.findings()


class _Stop(Exception):
    pass


class _Run:
    def __init__(self, resolved: ResolvedSchema, path: Path, layout: CollectionLayout, name: str,
                 jobs: int | None, max_errors: int | None,
                 progress: Callable[[Progress], None] | None, chunk_bytes: int) -> None:
        self.resolved = resolved
        self.path = path
        self.layout = layout
        self.name = name
        self.jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
        self.max_errors = max_errors
        self.progress = progress
        self.chunk_bytes = max(1024, chunk_bytes)
        self.errors = 0
        self.records = 0
        self.started = time.monotonic()
        self.last_progress = 0.0
        self.total = 0
        self.temp: Path | None = None

    # -- entry --------------------------------------------------------------------
    def findings(self) -> Iterator[Finding]:
        try:
            yield from self._findings()
        except _Stop:
            return
        finally:
            if self.temp is not None:
                with contextlib.suppress(OSError):
                    self.temp.unlink()

    def _findings(self) -> Iterator[Finding]:
        source = self.path
        try:
            with source.open("rb") as fh:
                head = fh.read(_HEAD_BYTES)
        except FileNotFoundError:
            raise InputError("no such file", file=self.name) from None
        except IsADirectoryError:
            raise InputError("is a directory, not a file", file=self.name) from None
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror}", file=self.name) from None
        if not head.strip():
            raise InputError("empty file, not XML", file=self.name)
        if not ascii_compatible(head):
            source = self._transcode(head)
        self.total = source.stat().st_size
        with source.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            yield from self._mapped(source, mm)

    def _transcode(self, head: bytes) -> Path:
        """Copy a UTF-16/32 (or other non-ASCII-family) file to UTF-8; lines are unchanged."""
        if head.startswith(b"\xff\xfe\x00\x00") or head.startswith(b"\x00\x00\xfe\xff"):
            codec = "utf-32"
        elif head[:2] in (b"\xff\xfe", b"\xfe\xff"):
            codec = "utf-16"
        elif head[:4] == b"<\x00?\x00":
            codec = "utf-16-le"
        elif head[:4] == b"\x00<\x00?":
            codec = "utf-16-be"
        else:
            codec = declared_encoding(head) or "utf-8"
        try:
            decoder = codecs.getincrementaldecoder(codec)("strict")
        except LookupError:
            raise InputError(f"unsupported encoding {codec!r}", file=self.name) from None
        fd, tmp = tempfile.mkstemp(prefix="egif-stream-", suffix=".xml")
        self.temp = Path(tmp)
        first = True
        try:
            with open(fd, "wb") as out, self.path.open("rb") as src:
                while True:
                    block = src.read(1 << 20)
                    text = decoder.decode(block, final=not block)
                    if first and text:
                        text = text.lstrip("\ufeff")
                        text = re.sub(r"^(<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2",
                                      r"\1\2UTF-8\2", text, count=1)
                        first = False
                    out.write(text.encode("utf-8"))
                    if not block:
                        break
        except UnicodeDecodeError as exc:
            raise InputError(f"not valid {codec}: {exc.reason}", file=self.name) from None
        return self.temp

    def _mapped(self, source: Path, mm: mmap.mmap) -> Iterator[Finding]:
        size = len(mm)
        prolog: Prolog | None = None
        limit = _HEAD_BYTES
        while True:
            prolog = find_prolog(mm[:limit])
            if prolog is not None or limit >= min(size, _MAX_HEAD):
                break
            limit *= 4
        tail_from = max(0, size - _TAIL_BYTES)
        root_end = None
        if prolog is not None and not prolog.self_closing:
            found = find_root_end(mm[tail_from:], prolog.root_qname)
            root_end = tail_from + found if found is not None else None
            if root_end is not None and root_end < prolog.content_start:
                root_end = None
        if prolog is None or (root_end is None and not prolog.self_closing):
            yield from self._not_streamable(source)
            return
        self._check_prolog(mm, prolog)
        root_tag = mm[prolog.root_start:prolog.content_start]
        qname = prolog.root_qname
        if prolog.self_closing:
            root_tag = root_tag[:-2].rstrip() + b">"
        decl = prolog.decl
        plan = Plan(
            path=str(source), files=self.resolved.files, main=self.resolved.main,
            head=decl + b"\n" + root_tag + b"\n", tail=b"</" + qname + b">",
            head_lines=decl.count(b"\n") + 1 + root_tag.count(b"\n") + 1,
            records=self.layout.records,
            record_locals=tuple(sorted({r.rpartition("}")[2] for r in self.layout.records})),
            cap=_occurrence_cap(self.resolved),
            constraints=_constraints(self.resolved, self.layout.root),
        )
        root_line = 1 + mm[:prolog.content_start].count(b"\n")
        first_line = root_line  # line of the first byte after the root start tag
        skeleton = _Skeleton(self.resolved, plan, decl, root_tag, qname,
                             root_line - root_tag.count(b"\n"))
        keys = _Keys(plan.constraints)
        root_step = "/" + (qname.decode("utf-8", "replace"))
        self.root_step = root_step
        # root attributes first: they are on the root's line
        for f in skeleton.check(final=False, attributes=True):
            yield self._finding(f)
        if prolog.self_closing:
            for f in skeleton.check(final=True):
                yield self._finding(f)
            return
        end = root_end if root_end is not None else prolog.content_start
        yield from self._chunks(mm, plan, prolog.content_start, end, first_line, skeleton, keys)

    def _check_prolog(self, mm: mmap.mmap, prolog: Prolog) -> None:
        """Parse prolog + root start tag alone: refuse DTD tricks, catch a bad root tag."""
        data = mm[:prolog.content_start]
        if not prolog.self_closing:
            data += b"</" + prolog.root_qname + b">"
        try:
            root = etree.fromstring(data, make_parser())
        except etree.XMLSyntaxError:
            return  # the chunks will not parse either; the syntax pass says why
        check_doctype(root.getroottree(), self.name)

    # -- ranges -------------------------------------------------------------------
    def _chunks(self, mm: mmap.mmap, plan: Plan, start: int, end: int, first_line: int,
                skeleton: _Skeleton, keys: _Keys) -> Iterator[Finding]:
        pattern = record_pattern(list(plan.record_locals))
        target = self.chunk_bytes
        locals_ = list(plan.record_locals)

        fd = os.open(plan.path, os.O_RDONLY)

        def fast_splits(pos: int) -> Iterator[int]:
            # pread small windows rather than searching the map: touching the map would
            # fault in (and count as resident) pages around every probe.  Records are
            # usually short, so start with 4 KB and widen while nothing is found.
            try:
                while True:
                    at = pos + target
                    found = None
                    window = 4096
                    while at < end:
                        buf = os.pread(fd, min(window, end - at) + 256, at)
                        m = pattern.search(buf, 0, min(len(buf), end - at))
                        if m is not None:
                            found = at + m.start()
                            break
                        at += window
                        window = min(window * 2, 1 << 16)
                    if found is None:
                        return
                    pos = found
                    yield pos
            finally:
                os.close(fd)

        def ranges(begin: int, splits: Iterable[int], careful: bool) -> Iterator[tuple[int, int, bool]]:
            prev = begin
            for s in splits:
                if s > prev:
                    yield prev, s, careful
                    prev = s
            yield prev, end, careful

        line = first_line
        counts: dict[str, int] = {}
        careful = False
        tasks = ranges(start, fast_splits(start), False)
        jobs = self.jobs if end - start > 2 * target else 1
        with Pool(plan, jobs, Worker(plan, self.resolved.lxml_schema()), self.name) as pool:
            while True:
                restart_at: int | None = None
                results = pool.map_ordered(tasks)
                for (cstart, cend, was_careful), result in results:
                    if not result.ok:
                        if not was_careful:
                            restart_at = cstart
                            break
                        yield from self._syntax_stop()
                        return
                    batch = self._absolute(result, line, counts, skeleton, keys)
                    for f in batch:
                        yield self._finding(f)
                    line += result.newlines
                    self.records += result.records
                    for tag, n in result.counts.items():
                        counts[tag] = counts.get(tag, 0) + n
                    self._tick(cend)
                results.close()
                if restart_at is None:
                    break
                careful = True
                tasks = ranges(restart_at, careful_splits(mm, restart_at, end, locals_, target), careful)
        tail: list[Finding] = []
        tail.extend(skeleton.check(final=True))
        tail.extend(keys.finish(self.name))
        for f in tail:
            yield self._finding(f)
        self._tick(self.total, force=True)

    def _absolute(self, result: ChunkResult, line: int, counts: dict[str, int],
                  skeleton: _Skeleton, keys: _Keys) -> list[Finding]:
        out: list[tuple[int, int, Finding]] = []
        for i, (rel, rule, msg, rec, tag, index, name, rest) in enumerate(result.findings):
            path = f"{self.root_step}/{name}[{counts.get(tag, 0) + index}]{rest}"
            record = self.records + rec + 1 if rec >= 0 else None
            out.append((line + rel, i, Finding(msg, rule, file=self.name, line=line + rel,
                                               path=path, record=record)))
        for f in keys.add(result.keys, line, self.records, counts, self.root_step, self.name):
            out.append((f.line or 0, len(out), f))
        for f in skeleton.add_runs(result.runs, line):
            out.append((f.line or 0, -1, f))
        out.sort(key=lambda t: (t[0], t[1]))
        return [f for _, _, f in out]

    def _finding(self, f: Finding) -> Finding:
        if f.file != self.name:
            f = Finding(f.message, f.rule, f.severity, self.name, f.line, f.column, f.path, f.record)
        self.errors += 1
        if self.max_errors is not None and self.errors > self.max_errors:
            raise _Stop
        return f

    def _tick(self, done: int, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self.last_progress >= _PROGRESS_EVERY:
            self.last_progress = now
            self.progress(Progress(records=self.records, bytes_done=done, bytes_total=self.total,
                                   errors=self.errors, seconds=now - self.started))

    # -- broken files -------------------------------------------------------------
    def _syntax_stop(self) -> Iterator[Finding]:
        found = first_syntax_error(self.temp or self.path)
        if found is None:
            raise InputError("could not split the file into records although it is well-formed; "
                             "please report this", file=self.name)
        line, column, message = found
        if any(w in message for w in _LIMIT_WORDS):
            raise UnsafeInputError(f"refused: {message} (line {line})", file=self.name)
        yield self._finding(Finding(f"not well-formed XML: {message}", "xml:syntax", file=self.name,
                                    line=line, column=column or None))

    def _not_streamable(self, source: Path) -> Iterator[Finding]:
        """No root start tag or end tag where expected: a syntax error, or a layout we
        cannot cut (then the whole document is validated in memory)."""
        if first_syntax_error(source) is not None:
            yield from self._syntax_stop()
            return
        yield from _whole_document(self.resolved, source, self.name, self.layout)


# -- skeleton: root attributes and the root's content model -------------------------
class _Skeleton:
    """The root with one empty stand-in per child, validated when its shape changes."""

    def __init__(self, resolved: ResolvedSchema, plan: Plan, decl: bytes, root_tag: bytes,
                 qname: bytes, root_first_line: int) -> None:
        self.resolved = resolved
        self.plan = plan
        self.decl = decl
        self.root_tag = root_tag
        self.qname = qname
        self.root_first_line = root_first_line
        self.runs: list[list[Any]] = []  # kind, tag, count, absolute lines (<= cap)
        self.content_reported = False
        self.attributes_reported = False
        self.shape: tuple[Any, ...] = ()

    def add_runs(self, runs: list[tuple[str, str, int, tuple[int, ...]]], line: int) -> list[Finding]:
        cap = self.plan.cap
        for kind, tag, n, lines in runs:
            absolute = [line + x for x in lines]
            if self.runs and self.runs[-1][0] == kind and self.runs[-1][1] == tag:
                last = self.runs[-1]
                last[2] += n
                last[3].extend(absolute[: cap - len(last[3])])
            else:
                self.runs.append([kind, tag, n, absolute[:cap]])
        shape = tuple((k, t, min(n, cap)) for k, t, n, _ in self.runs)
        if shape == self.shape or self.content_reported:
            return []
        self.shape = shape
        return self.check(final=False)

    def check(self, *, final: bool, attributes: bool = False) -> list[Finding]:
        doc, line_map = self._document()
        schema = self.resolved.lxml_schema()
        try:
            root: etree._Element = etree.fromstring(doc, make_parser())
        except etree.XMLSyntaxError:
            return []  # the chunks report the syntax error
        if schema.validate(root.getroottree()):
            return []
        found: list[Finding] = []
        for e in error_entries(schema):
            node = find_node(root, e.path)
            if node is None:
                continue
            line = line_map.get(e.line, self.root_first_line)
            content = (e.type_name == "SCHEMAV_ELEMENT_CONTENT" or "Missing child" in e.message
                       or "Character content" in e.message or "is not expected" in e.message)
            if node is root:
                if not content:
                    if attributes and not self.attributes_reported:
                        found.append(Finding(plain_message(e.message), xsd_rule(e.type_name),
                                             line=line, path="/" + step_name(root)))
                    continue
                if self.content_reported or (not final and "Missing child" in e.message):
                    continue
                self.content_reported = True
                found.append(Finding(plain_message(e.message), xsd_rule(e.type_name), line=line,
                                     path="/" + step_name(root)))
            elif node.getparent() is root and "is not expected" in e.message:
                if self.content_reported:
                    continue
                self.content_reported = True
                kept = 0
                for c in root:
                    if c.tag == node.tag:
                        kept += 1
                    if c is node:
                        break
                path = f"/{step_name(root)}/{_doc_step(root, node)}[{self._index(str(node.tag), kept)}]"
                found.append(Finding(plain_message(e.message), xsd_rule(e.type_name), line=line,
                                     path=path))
        if attributes:
            self.attributes_reported = True
        return found

    def _index(self, tag: str, kept_position: int) -> int:
        """Index among same-tag siblings in the file of the *kept_position*-th kept stand-in."""
        seen = 0
        total = 0
        for kind, t, n, lines in self.runs:
            if kind != "el" or t != tag:
                continue
            if kept_position <= seen + len(lines):
                return total + (kept_position - seen)
            seen += len(lines)
            total += n
        return total

    def _document(self) -> tuple[bytes, dict[int, int]]:
        parts = [self.decl, b"\n", self.root_tag]
        line_map: dict[int, int] = {}
        line = 1 + self.decl.count(b"\n") + 1
        for i in range(self.root_tag.count(b"\n") + 1):
            line_map[line + i] = self.root_first_line + i
        line += self.root_tag.count(b"\n")
        for kind, tag, _n, lines in self.runs:
            for orig in lines:
                line += 1
                line_map[line] = orig
                if kind == "text":
                    parts.append(b"\nx")
                    continue
                ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
                if ns:
                    parts.append(f'\n<egif-s:{local} xmlns:egif-s="{_attr(ns)}"/>'.encode())
                else:
                    parts.append(f'\n<{local} xmlns=""/>'.encode())
        parts.append(b"\n</" + self.qname + b">")
        return b"".join(parts), line_map


def _doc_step(root: etree._Element, node: etree._Element) -> str:
    """A stand-in's step written with the prefix the document's root binds to its namespace."""
    q = etree.QName(node)
    if q.namespace is None:
        return q.localname
    prefixes = [p for p, u in root.nsmap.items() if u == q.namespace and p != "egif-s"]
    if None in prefixes:
        return q.localname
    return f"{prefixes[0]}:{q.localname}" if prefixes else q.localname


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


# -- cross-record identity constraints --------------------------------------------------
class _Keys:
    """xs:unique / xs:key / xs:keyref on the root, from the values the workers extracted."""

    def __init__(self, constraints: tuple[Constraint, ...]) -> None:
        self.constraints = constraints
        self.seen: list[dict[tuple[str, ...], int]] = [{} for _ in constraints]
        self.refs: list[tuple[int, tuple[str, ...], int, str, int | None]] = []

    def add(self, raw: list[Any], line: int, records_before: int, counts: dict[str, int],
            root_step: str, file: str) -> list[Finding]:
        found: list[Finding] = []
        for ci, values, rel, rec, tag, index, name, rest in raw:
            c = self.constraints[ci]
            where = line + rel
            path = f"{root_step}/{name}[{counts.get(tag, 0) + index}]{rest}"
            record = records_before + rec + 1 if rec >= 0 else None
            label = _short(c.name)
            if values is None:
                if c.kind == "key":
                    found.append(Finding(f"Not all fields of key identity-constraint '{label}' "
                                         "evaluate to exactly one node.", "xsd:cvc-idc",
                                         file=file, line=where, path=path, record=record))
                continue
            if c.kind == "keyref":
                self.refs.append((ci, values, where, path, record))
                continue
            if values in self.seen[ci]:
                shown = ", ".join(f"'{v}'" for v in values)
                found.append(Finding(f"Duplicate key-sequence [{shown}] in {c.kind} "
                                     f"identity-constraint '{label}'.", "xsd:cvc-idc",
                                     file=file, line=where, path=path, record=record))
            else:
                self.seen[ci][values] = where
        return found

    def finish(self, file: str) -> list[Finding]:
        found: list[Finding] = []
        by_name = {c.name: i for i, c in enumerate(self.constraints)}
        for ci, values, line, path, record in self.refs:
            c = self.constraints[ci]
            target = by_name.get(c.refer or "")
            if target is None or values in self.seen[target]:
                continue
            shown = ", ".join(f"'{v}'" for v in values)
            found.append(Finding(f"No match found for key-sequence [{shown}] of keyref "
                                 f"'{_short(c.name)}'.", "xsd:cvc-idc", file=file, line=line,
                                 path=path, record=record))
        return found


def _short(clark: str) -> str:
    return clark.rpartition("}")[2]


# -- whole files ------------------------------------------------------------------------
class _Sink:
    """A parser target that builds nothing: a well-formedness check in constant memory."""

    def close(self) -> None:
        return None


def first_syntax_error(path: Path) -> tuple[int, int, str] | None:
    """The first well-formedness error of *path* as libxml2 reports it, or None."""
    sink: Any = _Sink()
    parser = etree.XMLParser(target=sink, resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False)
    try:
        with path.open("rb") as fh:
            while True:
                block = fh.read(1 << 20)
                if not block:
                    break
                parser.feed(block)
        parser.close()
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (0, 0)
        message = re.sub(r",? line \d+, column \d+$", "", str(exc.msg or exc)).strip()
        return line, column, message
    return None


def _whole_document(resolved: ResolvedSchema, path: Path, name: str,
                    layout: CollectionLayout | None) -> Iterator[Finding]:
    """In-memory validation of one document (small files, or a layout we cannot cut)."""
    yield from _document_findings(resolved.lxml_schema(), path, name, layout)


def _document_findings(schema: etree.XMLSchema, path: Path, name: str,
                       layout: CollectionLayout | None,
                       parser: etree.XMLParser | None = None) -> list[Finding]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=name) from None
    if not data or data.isspace():
        raise InputError("empty file, not XML", file=name)
    try:
        root = etree.fromstring(data, parser or make_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (0, 0)
        message = re.sub(r",? line \d+, column \d+$", "", str(exc.msg or exc)).strip()
        if any(w in message for w in _LIMIT_WORDS):
            raise UnsafeInputError(f"refused: {message} (line {line})", file=name) from None
        return [Finding(f"not well-formed XML: {message}", "xml:syntax", file=name, line=line,
                        column=column or None)]
    tree = root.getroottree()
    check_doctype(tree, name)
    return _tree_findings(schema, tree, name, layout)


def _tree_findings(schema: etree.XMLSchema, tree: etree._ElementTree, name: str,
                   layout: CollectionLayout | None) -> list[Finding]:
    if schema.validate(tree):
        return []
    root = tree.getroot()
    records = layout.records if layout is not None else frozenset()
    positions: dict[Any, int] = {}
    n = 0
    for child in root:
        if child.tag in records:
            n += 1
            positions[child] = n
    found = []
    for e in error_entries(schema):
        node = find_node(root, e.path)
        record = None
        if node is not None:
            record = positions.get(top_child(node, root))
            where = "/" + step_name(root) + (inner_path(node, root) if node is not root else "")
        else:
            where = e.path
        found.append(Finding(plain_message(e.message), xsd_rule(e.type_name), file=name,
                             line=e.line or None, path=where, record=record))
    return found


# -- many small documents -----------------------------------------------------------------
MANY_IN_PROCESS_BYTES = 64 * 1024 * 1024
_MANY_SCHEMA: etree.XMLSchema | None = None


def _init_many(files: dict[str, bytes], main: str) -> None:
    global _MANY_SCHEMA
    _MANY_SCHEMA = ResolvedSchema(files, main).lxml_schema()


def _many_batch(paths: list[str]) -> list[tuple[str, list[Finding], str | None]]:
    assert _MANY_SCHEMA is not None
    parser = make_parser()
    return [_one(_MANY_SCHEMA, p, parser) for p in paths]


def _one(schema: etree.XMLSchema, p: str,
         parser: etree.XMLParser) -> tuple[str, list[Finding], str | None]:
    try:
        return p, _document_findings(schema, Path(p), p, None, parser), None
    except InputError as exc:
        return p, [], f"{type(exc).__name__}:{exc.message}"


def validate_many(resolved: ResolvedSchema, paths: Iterable[Path | str], *, jobs: int | None = None,
                  batch: int = 64, in_process_bytes: int = MANY_IN_PROCESS_BYTES,
                  ) -> Iterator[tuple[Path, list[Finding]]]:
    """Validate many small documents against one schema, in order.

    Yields ``(path, findings)`` per document; an unreadable or refused
    document raises its :class:`~egif.errors.InputError` when its turn comes.
    Small documents are validated in this process with one compiled schema
    and one parser (a worker process costs more to start than a thousand
    small documents cost to validate); only when the documents add up to
    more than *in_process_bytes* (default :data:`MANY_IN_PROCESS_BYTES`) are
    they spread over ``jobs`` worker processes (default: every core) in
    batches of *batch*.
    """
    items = [str(p) for p in paths]
    workers = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    if workers > 1 and len(items) > batch and _total_size(items, in_process_bytes) > in_process_bytes:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        groups = [items[i:i + batch] for i in range(0, len(items), batch)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_many,
                                 initargs=(resolved.files, resolved.main)) as pool:
            for results in pool.map(_many_batch, groups):
                for item in results:
                    yield _unpack(item)
        return
    schema = resolved.lxml_schema()
    parser = make_parser()
    quick = SmallDocuments(resolved, MANY_IN_PROCESS_BYTES)
    for p in items:
        parsed = quick.parse(p)
        if parsed is None:
            yield _unpack(_one(schema, p, parser))
        else:
            yield Path(p), [] if parsed[1] else _tree_findings(schema, parsed[0], p, None)


def _total_size(items: list[str], enough: int) -> int:
    total = 0
    for p in items:
        with contextlib.suppress(OSError):
            total += os.stat(p).st_size
        if total > enough:
            break
    return total


class SmallDocuments:
    """The fast path of :meth:`egif.validate.Validator.check_many` for small files.

    ``parse(source)`` reads a file smaller than *limit* bytes with plain
    descriptors, parses it with one reused parser (the safe settings of
    :mod:`egif.xmlsafe`) and validates it with the compiled schema, answering
    ``(tree, valid)``.  It answers None for anything the caller's full path
    must judge -- not a path, too big, unreadable, not well-formed, a
    DOCTYPE, an XInclude element, 65,535 lines or more (libxml2's line
    field) -- and the caller then runs that path, which reports exactly why.
    A valid document needs nothing more; an invalid one is handed to the
    caller's error reporting as a parsed tree, so it is not parsed twice.
    """

    _XINCLUDE = ("{http://www.w3.org/2001/XInclude}*", "{http://www.w3.org/2003/XInclude}*")
    _WILDCARD = re.compile(rb"<(?:[\w.\-]+:)?any[\s/>]")

    def __init__(self, resolved: ResolvedSchema, limit: int) -> None:
        self.schema = resolved.lxml_schema()
        self.limit = limit
        self.parser = make_parser()
        # without a wildcard in the schema an XInclude element cannot be valid, so a
        # valid document needs no search for one
        self.wildcards = any(self._WILDCARD.search(d) for d in resolved.files.values())

    def parse(self, source: object) -> tuple[etree._ElementTree, bool] | None:
        if not isinstance(source, (str, os.PathLike)) or isinstance(source, bytes):
            return None
        try:
            fd = os.open(source, os.O_RDONLY)  # plain descriptors: open() costs more than parsing
            try:
                size = os.fstat(fd).st_size
                if size >= self.limit:
                    return None
                data = os.read(fd, size + 1)
                if len(data) > size:  # grew while we read: the full path decides
                    return None
            finally:
                os.close(fd)
            root = etree.fromstring(data, self.parser)
        except (OSError, etree.XMLSyntaxError, ValueError):
            return None
        tree = root.getroottree()
        if getattr(tree.docinfo, "doctype", "") or data.count(b"\n") >= 65535:
            return None
        valid = self.schema.validate(tree)
        if (self.wildcards or not valid) and next(root.iter(*self._XINCLUDE), None) is not None:
            return None
        return tree, valid


def _unpack(item: tuple[str, list[Finding], str | None]) -> tuple[Path, list[Finding]]:
    p, findings, error = item
    if error is not None:
        kind, _, message = error.partition(":")
        cls = UnsafeInputError if kind == "UnsafeInputError" else InputError
        raise cls(message, file=p)
    return Path(p), findings
