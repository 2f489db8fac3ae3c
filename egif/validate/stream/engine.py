"""The engine: one collection document through cutting, workers and merging.

::

    file ──read_frame──> head, tail, content range                 (layout.py)
      │
      └─fast_cuts / careful_cut──> ranges of ~128 KB at record starts  (cutter.py)
             │
             └─Pool.map_ordered──> Worker.check, on every core      (pool.py, worker.py)
                    parse → XSD pass → rules, record phase
                    → RangeResult (lines relative to the range)
             │
      results in file order:
        findings  + line, record, sibling offsets → Finding
        runs      → _Skeleton: the root's attributes and content model
        keys      → _Keys: xs:unique / xs:key / xs:keyref on the root
        seen()    → DocumentBook (a wrong answer: the range's rules again here)
        kept      → the root's other children, for the rest phase
      at the end: skeleton (missing children), dangling keyrefs,
                  rules' rest phase on the root and its other children

A document of one range takes exactly this path too, in the calling process:
the findings of a document do not depend on its size, its source or the
number of jobs.  A range that does not parse was cut at a false record start
(inside a comment, a CDATA section, a nested element): it is cut again by the
tokenizer from its start.  A range that still does not parse means the
document is not well-formed: from its start the document is then taken one
record at a time, so that every record before the break is judged (whatever
the piece size), and at the record that does not parse one streaming parse
finds the first syntax error exactly as libxml2 reports it; it becomes a
finding with rule ``xml:syntax`` and validation stops there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from lxml import etree

from egif.errors import InputError, UnsafeInputError
from egif.model import Finding, Severity
from egif.validate import xsd
from egif.validate.paths import Positions, inner_path, step
from egif.validate.stream.cutter import Reader, careful_cut, fast_cuts, record_pattern
from egif.validate.stream.layout import CollectionLayout, Constraint, Frame, skeleton_files
from egif.validate.stream.pool import Pool, Task
from egif.validate.stream.progress import PIECE_BYTES, Progress
from egif.validate.stream.worker import (
    CHECK_SHIFT,
    RULE_KIND,
    Doc,
    Kept,
    Plan,
    RangeResult,
    Worker,
    compile_schema,
    range_schema,
    rewritten_schema,
)
from egif.xmlsafe import make_parser, syntax_position

if TYPE_CHECKING:
    from egif.validate.schematron.state import DocumentBook

_PROGRESS_EVERY = 0.25  # seconds
_LIMIT_WORDS = ("Excessive depth", "XML_PARSE_HUGE", "huge text", "Huge input")
_KEY_KIND, _SKELETON_KIND = 2, 3


class _Stop(Exception):
    pass


class Engine:
    """Checks collection documents against one schema and rule set; kept by a validator."""

    def __init__(self, files: dict[str, bytes], main: str, schema: etree.XMLSchema, layout: CollectionLayout,
                 rules: Any, today: str) -> None:
        self.layout = layout
        self.rules = rules if rules else None
        self.plan = Plan(files=files, main=main, records=layout.records, record_locals=layout.record_locals,
                         cap=max(layout.thresholds), constraints=layout.constraints,
                         interdependent=layout.interdependent, top_only=layout.top_only,
                         rules=tuple(rules.documents) if self.rules else (), today=today, root=layout.root,
                         text_children=layout.text_children)
        self.local = Worker(self.plan, schema, self.rules)
        self._ranged = False  # the local worker has the range validator (see for_ranges)
        self.parser = make_parser()  # for the skeleton and the rest phase (made once: a parser costs)
        self._skeleton_schema: etree.XMLSchema | None = None
        self.records: int | None = None  # records of the last document, when read to its end

    def step_of(self, name: str, tag: str, index: int) -> str:
        """The path step of a child of the root: ``/name[index]``; ``/name`` for the first of
        a child the schema allows at most once (a second one keeps its ``[2]``)."""
        return f"/{name}" if tag in self.layout.single and index == 1 else f"/{name}[{index}]"

    def for_ranges(self) -> None:
        """From now on, check ranges with :func:`~egif.validate.stream.worker.range_schema`
        where there is one, else with the schema's pattern facets rewritten where that
        saves libxml2 work (:mod:`egif.xsdclasses`): made when a document of more than one
        range first comes (a small document's one range is checked as well with the
        validator's own schema, and the findings are the same)."""
        if not self._ranged:
            self._ranged = True
            found = range_schema(self.plan)
            if found is None:
                found = rewritten_schema(self.plan.files, self.plan.main)
            if found is not None:
                self.local.schema = found

    def skeleton_schema(self) -> etree.XMLSchema:
        if self._skeleton_schema is None:
            self._skeleton_schema = compile_schema(skeleton_files(self.plan.files, self.layout.records),
                                                   self.plan.main)
        return self._skeleton_schema

    def run(self, reader: Reader, frame: Frame, label: str, *, path: str | None, jobs: int = 1,
            piece_bytes: int = PIECE_BYTES, max_errors: int | None = None,
            progress: Callable[[Progress], None] | None = None) -> Iterator[Finding]:
        """Every finding of the document, lazily, in file order (end-of-file findings last).

        *path* names the file for worker processes (None: ranges are sent as bytes)."""
        self.records = None
        run = _Run(self, reader, frame, label, path, max(1, jobs), max(64, piece_bytes), max_errors, progress)
        return run.findings()


class _Run:
    def __init__(self, engine: Engine, reader: Reader, frame: Frame, label: str, path: str | None, jobs: int,
                 piece_bytes: int, max_errors: int | None, progress: Callable[[Progress], None] | None) -> None:
        self.engine = engine
        self.reader = reader
        self.frame = frame
        self.label = label
        self.path = path
        self.jobs = jobs
        self.target = piece_bytes
        self.max_errors = max_errors
        self.progress = progress
        self.errors = 0
        self.records = 0
        self.children = 0
        self.counts: dict[str, int] = {}
        self.started = time.monotonic()
        self.last_tick = 0.0
        self.root_step = "/" + frame.root_qname.decode("utf-8", "replace")
        self.book: DocumentBook | None = None  # the document's seen() answers (rules only)
        self.kept: list[tuple[Kept, int, int]] = []  # (child, first line of its range, same-tag offset)
        self.whole_and_clean = False  # one range covered the document and said nothing of the root
        self.ranges = 0  # ranges taken in
        self.broken = False  # stopped at a well-formedness error
        # after a range failed to parse even when cut soundly: the rest is taken one record at
        # a time, so that every record before the break is judged whatever the piece size
        self.one_by_one = False

    def findings(self) -> Iterator[Finding]:
        try:
            yield from self._findings()
        except _Stop:
            return

    def _emit(self, f: Finding) -> Finding:
        if f.severity == Severity.ERROR:
            self.errors += 1
            if self.max_errors is not None and self.errors > self.max_errors:
                raise _Stop
        return f

    def _findings(self) -> Iterator[Finding]:
        engine, frame = self.engine, self.frame
        skeleton = _Skeleton(engine, frame, self.label)
        keys = _Keys(engine.plan.constraints, self.label)
        if engine.rules:
            from egif.validate.schematron.state import DocumentBook

            self.book = DocumentBook()
        if frame.self_closing:
            for f in skeleton.check(final=False, attributes=True):
                yield self._emit(f)
        else:
            for f in self._ranges(skeleton, keys):
                yield self._emit(f)
        if self.broken:  # nothing after the syntax error: the end of a broken file is unknown
            self.engine.records = self.records
            return
        # one range that libxml2 judged whole, root included, without a word on the root:
        # the skeleton would find nothing either
        final = [] if self.whole_and_clean else skeleton.check(final=True)
        for f in [*final, *keys.finish(), *self._rest_phase()]:
            yield self._emit(f)
        self.engine.records = self.records
        self._tick(self.reader.size, force=True)

    # -- ranges --------------------------------------------------------------------------
    def _tasks(self, start: int, careful: bool) -> Iterator[Task]:
        end = self.frame.content_end
        locals_ = self.engine.plan.record_locals
        pos = start
        if careful and self.one_by_one:
            while pos < end:
                cut = careful_cut(self.reader, locals_, pos, end, 1)
                yield self._task(pos, cut, True)
                pos = cut
            return
        if careful:
            cut = careful_cut(self.reader, locals_, pos, end, self.target)
            yield self._task(pos, cut, True)
            pos = cut
        for cut in fast_cuts(self.reader, record_pattern(locals_), pos, end, self.target):
            yield self._task(pos, cut, False)
            pos = cut
        if pos < end:
            yield self._task(pos, end, False)

    def _task(self, start: int, end: int, careful: bool) -> Task:
        return start, end, careful, None if self.path is not None else self.reader.read(start, end - start)

    def _ranges(self, skeleton: _Skeleton, keys: _Keys) -> Iterator[Finding]:
        engine, frame = self.engine, self.frame
        line = frame.first_line
        size = frame.content_end - frame.content_start
        jobs = self.jobs if size > 2 * self.target else 1
        if size > 2 * self.target:
            engine.for_ranges()  # before the pool forks: its workers inherit the local worker
        doc = Doc(self.path, frame.head, frame.tail, frame.head_lines)
        tasks = self._tasks(frame.content_start, False)
        with Pool(engine.plan, jobs, engine.local, self.label) as pool:
            pool.open(doc)
            # no worker process: every range is checked here, in order, once (a range that does
            # not parse runs no rules), so the rules may ask the document's book itself
            pool.local.book = self.book if not pool.procs else None
            try:
                yield from self._pooled(pool, tasks, skeleton, keys, line)
            finally:
                pool.local.book = None

    def _pooled(self, pool: Pool, tasks: Iterator[Task], skeleton: _Skeleton, keys: _Keys,
                line: int) -> Iterator[Finding]:
        engine, frame = self.engine, self.frame
        while True:
            restart: int | None = None
            results = pool.map_ordered(tasks)
            for task, result in results:
                start, end, careful, data = task
                if not result.ok:
                    if careful and not self.one_by_one:
                        self.one_by_one = True  # again from here, one record at a time
                        restart = start
                        break
                    if careful:
                        if not self.ranges:  # the root's attributes, as a range would have told
                            yield from skeleton.check(final=False, attributes=True)
                        self.broken = True
                        yield from self._syntax_stop()
                        return
                    restart = start
                    break
                if result.refusal is not None:
                    message, rel = result.refusal
                    raise UnsafeInputError(message.format(line=line + rel), file=self.label)
                if not self.ranges:
                    # the root's attributes are the same in every range: the first says
                    if result.root_attributes:
                        yield from skeleton.check(final=False, attributes=True)
                    self.whole_and_clean = end == frame.content_end and not result.root_content
                self.ranges += 1
                if self.ranges == 1 and self.book is not None and result.records:
                    # the records the document will hold, as dense as in its first range
                    self.book.expect(result.records * (frame.content_end - frame.content_start)
                                     // max(1, end - start))
                wrong = self.book.merge_checks(result.seen) if self.book is not None else frozenset()
                if wrong:
                    # a value this range took for new was seen in an earlier range: the checks
                    # that asked about it are evaluated again, and their findings replaced
                    assert self.book is not None
                    again = engine.local.rules_again(start, end, self.book, data, collapsed=result.collapsed,
                                                     only=wrong)
                    result.findings = [f for f in result.findings
                                       if f[2] != RULE_KIND or f[3] >> CHECK_SHIFT not in wrong] + again
                yield from self._absolute(result, line, skeleton, keys, judge_root=not self.whole_and_clean)
                line += result.newlines
                self.records += result.records
                self.children += result.children
                for tag, n in result.counts.items():
                    self.counts[tag] = self.counts.get(tag, 0) + n
                self._tick(end)
            results.close()
            if restart is None:
                return
            tasks = self._tasks(restart, True)

    def _absolute(self, result: RangeResult, line: int, skeleton: _Skeleton, keys: _Keys, *,
                  judge_root: bool = True) -> list[Finding]:
        out: list[tuple[tuple[int, int, int, int], Finding]] = []
        for rel, pos, kind, order, rule, severity, message, rec, tag, index, name, rest in result.findings:
            path = self.root_step + self.engine.step_of(name, tag, self.counts.get(tag, 0) + index) + rest
            record = self.records + rec + 1 if rec >= 0 else None
            out.append(((line + rel, self.children + pos, kind, order),
                        Finding(message, rule, Severity(severity), self.label, line + rel, None, path, record)))
        for key, found in keys.add_all(result.keys, line, self.records, self.counts, self.root_step,
                                       self.engine.step_of):
            out.append(((found.line or 0, self.children + key[3], _KEY_KIND, len(out)), found))
        for sort_key, f in skeleton.add_runs(result.runs, line, self.children, self.records, check=judge_root):
            out.append((sort_key, f))
        for child in result.kept:
            self.kept.append((child, line, self.counts.get(child.tag, 0)))
        out.sort(key=lambda t: t[0])
        return [f for _k, f in out]

    def _tick(self, done: int, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if force or now - self.last_tick >= _PROGRESS_EVERY:
            self.last_tick = now
            self.progress(Progress(records=self.records, bytes_done=done, bytes_total=self.reader.size,
                                   errors=self.errors, seconds=now - self.started))

    # -- the rules' rest phase -----------------------------------------------------------
    def _rest_phase(self) -> list[Finding]:
        """The rules on the root and its other children, without the records."""
        engine, frame = self.engine, self.frame
        if not engine.rules:
            return []
        from egif.validate.schematron.evaluator import REST, program

        root = etree.fromstring(frame.head + frame.tail, engine.parser)
        root.text = None
        lines: dict[Any, int] = {root: frame.first_line}  # libxml2's line: the start tag's end
        steps: dict[Any, str] = {}
        for child, first_line, offset in self.kept:
            copy = etree.fromstring(child.xml, engine.parser)
            for node, rel in zip(copy.iter(), child.lines, strict=False):
                lines[node] = first_line + rel
            copy.tail = None
            root.append(copy)
            steps[copy] = self.root_step + engine.step_of(step(copy), child.tag, offset + child.index)
        assert self.book is not None  # made with the rules, before the first range
        firings = program(engine.rules, str(root.tag), REST, engine.layout.top_only, engine.layout.records,
                          today=engine.plan.today).run(root, self.book, today=engine.plan.today,
                                                       record_count=self.records)
        found = []
        positions: Positions = {}
        for f in firings:
            top = f.node
            parent = top.getparent()
            while parent is not None and parent is not root:
                top, parent = parent, parent.getparent()
            path = self.root_step if f.node is root else steps[top] + inner_path(f.node, top, positions)
            found.append(Finding(f.message, f.check.rule_id, f.check.severity, self.label,
                                 lines.get(f.node), None, path, None))
        return found

    # -- broken files --------------------------------------------------------------------
    def _syntax_stop(self) -> Iterator[Finding]:
        found = first_syntax_error(self.reader)
        if found is None:
            raise InputError("could not cut the file into records although it is well-formed; "
                             "please report this", file=self.label)
        line, column, message = found
        if any(w in message for w in _LIMIT_WORDS):
            raise UnsafeInputError(f"refused: {message} (line {line})", file=self.label)
        yield Finding(f"not well-formed XML: {message}", "xml:syntax", Severity.ERROR, self.label, line,
                      column or None)


class _Sink:
    """A parser target that builds nothing: a well-formedness check in constant memory."""

    def close(self) -> None:
        return None


def first_syntax_error(reader: Reader) -> tuple[int, int, str] | None:
    """The first well-formedness error of a document as libxml2 reports it, or None."""
    sink: Any = _Sink()
    parser = etree.XMLParser(target=sink, resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False)
    try:
        at = 0
        while at < reader.size:
            block = reader.read(at, 1 << 20)
            at += len(block)
            parser.feed(block)
        parser.close()
    except etree.XMLSyntaxError as exc:
        line, column, message = syntax_position(exc)
        return line or 0, column or 0, message
    return None


# -- the root: attributes and content model ----------------------------------------------
class _Skeleton:
    """The root with one empty stand-in per child, checked when its shape changes.

    Runs of same-named children are cut to the smallest count the schema cannot tell
    from theirs (:meth:`CollectionLayout.representative`), so the skeleton stays small
    and is checked again only when a run crosses one of the schema's occurrence
    bounds.  Records are declared ``xs:anyType`` in the skeleton's schema, so an empty
    stand-in of a record costs nothing.  Only errors on the root and "not expected"
    errors on stand-ins are kept."""

    def __init__(self, engine: Engine, frame: Frame, label: str) -> None:
        self.engine = engine
        self.layout = engine.layout
        self.frame = frame
        self.label = label
        # kind, tag, count, lines of the first few (absolute), first child's position, records before
        self.runs: list[list[Any]] = []
        self.content_reported = False
        self.attributes_reported = False
        self.shape: tuple[Any, ...] = ()

    def add_runs(self, runs: list[tuple[str, str, int, tuple[int, ...]]], line: int, children: int,
                 records: int, *, check: bool = True) -> list[tuple[tuple[int, int, int, int], Finding]]:
        cap = max(self.layout.thresholds)
        for kind, tag, n, lines in runs:
            absolute = [line + x for x in lines]
            if self.runs and self.runs[-1][0] == kind and self.runs[-1][1] == tag:
                last = self.runs[-1]
                last[2] += n
                last[3].extend(absolute[: cap - len(last[3])])
            else:
                self.runs.append([kind, tag, n, absolute[:cap], children, records])
            if kind == "el":
                children += n
                if tag in self.layout.records:
                    records += n
        if self.content_reported or not check:
            return []
        shape = tuple((k, t, self.layout.representative(n)) for k, t, n, *_ in self.runs)
        if shape == self.shape:
            return []
        self.shape = shape
        return [(key, f) for key, f in self._check(final=False)]

    def check(self, *, final: bool, attributes: bool = False) -> list[Finding]:
        if attributes:
            found = [f for _key, f in self._check(final=False, attributes=True)]
            self.attributes_reported = True
            return found
        if final and not self.content_reported:
            return [f for _key, f in self._check(final=True)]
        return []

    def _check(self, *, final: bool, attributes: bool = False) -> list[tuple[tuple[int, int, int, int], Finding]]:
        document, origin = self._document()
        schema = self.engine.skeleton_schema()
        try:
            root: etree._Element = etree.fromstring(document, self.engine.parser)
        except etree.XMLSyntaxError:
            return []  # the ranges report the syntax error
        errors = xsd.validate(schema, root.getroottree())
        found: list[tuple[tuple[int, int, int, int], Finding]] = []
        root_line = self.frame.first_line  # libxml2's line of an element: where its start tag ends
        for e in errors:
            if e.node is root:
                if not e.content_model:
                    if attributes and not self.attributes_reported:
                        found.append(((root_line, -1, _SKELETON_KIND, len(found)),
                                      self._finding(e, root_line, "/" + step(root), None)))
                    continue
                if attributes or self.content_reported or (not final and "Missing child" in e.raw):
                    continue
                self.content_reported = True
                found.append(((root_line, -1, _SKELETON_KIND, len(found)),
                              self._finding(e, root_line, "/" + step(root), None)))
            elif not attributes and e.node is not None and e.node.getparent() is root and e.unexpected:
                if self.content_reported:
                    continue
                self.content_reported = True
                line, position, index, record = origin(root.index(e.node))
                path = f"/{step(root)}" + self.engine.step_of(_doc_step(root, e.node), str(e.node.tag), index)
                found.append(((line, position, _SKELETON_KIND, len(found)), self._finding(e, line, path, record)))
        return found

    def _finding(self, e: xsd.XsdError, line: int, path: str, record: int | None) -> Finding:
        return Finding(e.message, e.rule, Severity.ERROR, self.label, line, None, path, record)

    def _document(self) -> tuple[bytes, Callable[[int], tuple[int, int, int, int | None]]]:
        """The skeleton, and a function giving for its root's k-th child element the line,
        position, same-tag index and record number of the child it stands for."""
        frame = self.frame
        parts = [frame.decl, b"\n", frame.root_tag]
        for kind, tag, n, _lines, _position, _records in self.runs:
            if kind == "text":
                parts.append(b"\nx")
                continue
            ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
            stand_in = (f'\n<egif-s:{local} xmlns:egif-s="{_attr(ns)}"/>' if ns
                        else f'\n<{local} xmlns=""/>').encode()
            parts.append(stand_in * self.layout.representative(n))
        parts.append(b"\n" + frame.tail)

        def origin(k: int) -> tuple[int, int, int, int | None]:
            seen: dict[str, int] = {}
            for kind, tag, n, lines, position, records in self.runs:
                if kind == "text":
                    continue
                count = self.layout.representative(n)
                before = seen.get(tag, 0)
                if k < count:
                    line = lines[k] if k < len(lines) else lines[-1]
                    return line, position + k, before + k + 1, records + k + 1 if tag in self.layout.records else None
                k -= count
                seen[tag] = before + n
            return self.frame.first_line, -1, 1, None

        return b"".join(parts), origin


def _doc_step(root: etree._Element, node: etree._Element) -> str:
    """A stand-in's step, written with the prefix the document's root binds to its namespace."""
    q = etree.QName(node)
    if q.namespace is None:
        return q.localname
    prefixes = [p for p, u in root.nsmap.items() if u == q.namespace and p != "egif-s"]
    named = sorted(p for p in prefixes if p)
    if None in prefixes or not named:
        return q.localname
    return f"{named[0]}:{q.localname}"


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


# -- cross-record identity constraints ----------------------------------------------------
class _Keys:
    """xs:unique / xs:key / xs:keyref on the root, from the values the workers extracted."""

    def __init__(self, constraints: tuple[Constraint, ...], label: str) -> None:
        self.constraints = constraints
        self.label = label
        self.seen: list[dict[tuple[str, ...], int]] = [{} for _ in constraints]
        self.plain = [c.kind != "keyref" for c in constraints]  # values a first occurrence says nothing of
        self.refs: list[tuple[int, tuple[str, ...], int, str, int | None]] = []

    def add_all(self, keys: list[Any], line: int, records_before: int, counts: dict[str, int], root_step: str,
                step_of: Callable[[str, str, int], str]) -> list[tuple[Any, Finding]]:
        """Take in a range's key values (*line*: the range's first line); the findings they
        make, each with its key.  A first value says nothing and is taken with one look,
        since nearly every key of a big file is one."""
        found: list[tuple[Any, Finding]] = []
        for key in keys:
            ci, values = key[0], key[1]
            if values is not None and self.plain[ci]:
                table = self.seen[ci]
                if values not in table:
                    table[values] = line + key[2]
                    continue
            finding = self._report(key, line, records_before, counts, root_step, step_of)
            if finding is not None:
                found.append((key, finding))
        return found

    def _report(self, key: Any, line: int, records_before: int, counts: dict[str, int], root_step: str,
                step_of: Callable[[str, str, int], str]) -> Finding | None:
        """A key that is not a first value: a missing one, a keyref's (checked at the end) or
        a repeat."""
        ci, values, rel, _position, rec, tag, index, name, rest = key
        c = self.constraints[ci]
        where = line + rel
        path = root_step + step_of(name, tag, counts.get(tag, 0) + index) + rest
        record = records_before + rec + 1 if rec >= 0 else None
        label = c.name.rpartition("}")[2]
        if values is None:
            if c.kind != "key":
                return None
            return Finding(f"Element '{_element(path)}': Not all fields of key identity-constraint "
                           f"'{label}' evaluate to exactly one node.", "xsd:cvc-idc", Severity.ERROR,
                           self.label, where, None, path, record)
        if c.kind == "keyref":
            self.refs.append((ci, values, where, path, record))
            return None
        shown = ", ".join(f"'{v}'" for v in values)  # seen before: add_all took every first value
        return Finding(f"Element '{_element(path)}': Duplicate key-sequence [{shown}] in {c.kind} "
                       f"identity-constraint '{label}'.", "xsd:cvc-idc", Severity.ERROR, self.label,
                       where, None, path, record)

    def finish(self) -> list[Finding]:
        found: list[Finding] = []
        by_name = {c.name: i for i, c in enumerate(self.constraints)}
        for ci, values, line, path, record in self.refs:
            c = self.constraints[ci]
            target = by_name.get(c.refer or "")
            if target is None or values in self.seen[target]:
                continue
            shown = ", ".join(f"'{v}'" for v in values)
            found.append(Finding(f"Element '{_element(path)}': No match found for key-sequence [{shown}] of keyref "
                                 f"'{c.name.rpartition('}')[2]}'.", "xsd:cvc-idc", Severity.ERROR, self.label,
                                 line, None, path, record))
        return found


def _element(path: str) -> str:
    """The local name of the element a path ends at."""
    return path.rpartition("/")[2].rpartition(":")[2].split("[")[0]
