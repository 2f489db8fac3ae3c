"""Validating documents against one schema version: the :class:`Validator`.

A validator holds one compiled schema (libxml2, compiled once from registry
bytes), the version's business rules (Schematron) and, per root element,
what the schema says a collection of it is.  For each document:

1. the source becomes an :class:`~egif.validate.core.sources.Input` (any
   source: a path, bytes, a file object, compressed data);
2. the root element is read from the first bytes; a registered version
   checks that its own documents declare it;
3. a *collection* (a root holding repeated record elements) goes through the
   streaming engine (:mod:`egif.validate.stream.engine`) -- as one range when
   it is small, cut into ranges over every core when it is big, with the
   same findings either way; any other document is parsed whole, validated
   by libxml2 and checked by the rules.

Findings carry file, line, path, record (collections) and rule; see
docs/validation.md.
"""

from __future__ import annotations

import datetime as _dt
import functools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from lxml import etree

from egif.errors import DocumentInvalid, InputError, UnsafeInputError
from egif.limits import MAX_WHOLE_DOCUMENT_MARKUP
from egif.model import Finding, SchemaRef, SchemaVersion, Severity, Status
from egif.registry import Registry
from egif.resolve import ResolvedSchema
from egif.validate.core.detect import RootInfo, candidates, check_usable, own_globals, preference, root_info
from egif.validate.core.result import DocumentResult
from egif.validate.core.sources import Input, Source, label_of, limits_error, open_input, sniff_root
from egif.validate.paths import Positions, document_path
from egif.validate.schematron.evaluator import RECORDS, REST, Program, program, whole_program
from egif.validate.schematron.loader import RuleSet, load_rules
from egif.validate.schematron.state import DocumentBook, RangeBook
from egif.validate.stream.cutter import ATTRIBUTE_LIMIT, attribute_flood
from egif.validate.stream.layout import CollectionLayout, collection_layout, read_frame
from egif.validate.stream.progress import PIECE_BYTES, Progress, reading
from egif.xmlsafe import check_doctype, first_xinclude, make_parser, syntax_position, xinclude_may_be_valid

if TYPE_CHECKING:
    from egif.validate.stream.engine import Engine

SCHEMATRON_KIND = "schematron"
CLEAN_CHECK_BYTES = 1 << 20  # documents up to this size are first checked on one parse


class Validator:
    """Validate documents against one schema version.

    Make one with :meth:`for_version` (a registered version, with its business
    rules and lifecycle) or :meth:`for_schema` (a compiled closure alone).  The
    compiled schema is reused for every document.  A validator is not
    thread-safe: use one per thread.
    """

    def __init__(self, resolved: ResolvedSchema, *, label: str, version: SchemaVersion | None = None,
                 own: frozenset[str] | None = None, rules: RuleSet | None = None,
                 lifecycle: Iterable[Finding] = (), today: _dt.date | None = None, jobs: int | None = None,
                 max_errors: int | None = None, progress: Callable[[Progress], None] | None = None,
                 piece_bytes: int | None = None, registry: Registry | None = None) -> None:
        """Use :meth:`for_version` or :meth:`for_schema`."""
        self.resolved = resolved
        self.label = label
        self.version = version
        self.own = own  # Clark names a registered version's own documents declare
        self.rules = rules if rules is not None else RuleSet()
        self.lifecycle = list(lifecycle)
        self.today = today
        self._today_text = (today or _dt.date.today()).isoformat()  # fixed for the validator's life
        self.jobs = jobs
        self.max_errors = max_errors
        self.progress = progress
        self.piece_bytes = piece_bytes or PIECE_BYTES
        self.registry = registry
        self.schema = resolved.lxml_schema()
        self.records: int | None = None  # of the last document checked (collections)
        self.root: RootInfo | None = None  # of the last document checked
        self._lean = make_parser(remove_blank_text=True)  # a parser per validator: not thread-safe
        self._xinclude_valid = xinclude_may_be_valid(resolved.files.values())
        self._layouts: dict[str, CollectionLayout | None] = {}
        self._engines: dict[str, Engine] = {}
        self._phases: dict[str, tuple[Program | None, Program]] = {}
        # the one-run reading of the rules by root and the names of the root's children
        self._wholes: dict[tuple[str, frozenset[str]], Program | None] = {}

    # -- making one ----------------------------------------------------------------------
    @classmethod
    def for_version(cls, registry: Registry, ref: str | SchemaRef, *, rules: bool | RuleSet = True,
                    allow_withdrawn: bool = False, today: _dt.date | None = None, jobs: int | None = None,
                    max_errors: int | None = None, progress: Callable[[Progress], None] | None = None,
                    piece_bytes: int | None = None) -> Validator:
        """A validator for registered version *ref* (``"NAME@VERSION"``), with the
        Schematron rules kept beside it and the versions it imports (``rules=False``:
        XSD only).  A withdrawn or rejected version is refused unless *allow_withdrawn*.

        *today* is the date the rules compare with (default: the day the validator is made);
        *jobs* the processes for a big collection (default: every core); *max_errors* stops
        a document's findings after that many errors; *progress* hears a :class:`Progress`
        now and then on long documents; *piece_bytes* is the size of the ranges a
        collection is cut into (default 128 KiB; the findings do not depend on it)."""
        version, resolved, closure = registry._validation_view(ref)
        check_usable(version, allow_withdrawn=allow_withdrawn)
        if isinstance(rules, RuleSet):
            ruleset = rules
        else:
            ruleset = load_rules(rules_for(registry, version)) if rules else RuleSet()
        return cls(resolved, label=f"{version.name}@{version.version}", version=version,
                   own=own_globals(registry, version), rules=ruleset,
                   lifecycle=lifecycle_findings(version, registry, known=closure),
                   registry=registry, today=today, jobs=jobs, max_errors=max_errors, progress=progress,
                   piece_bytes=piece_bytes)

    @classmethod
    def for_schema(cls, resolved: ResolvedSchema, *, rules: RuleSet | None = None,
                   today: _dt.date | None = None, jobs: int | None = None, max_errors: int | None = None,
                   progress: Callable[[Progress], None] | None = None,
                   piece_bytes: int | None = None) -> Validator:
        """A validator for a compiled closure, without a registry: XSD only unless *rules*
        is given.  Options as for :meth:`for_version`."""
        return cls(resolved, label=resolved.label or resolved.main, rules=rules, today=today, jobs=jobs,
                   max_errors=max_errors, progress=progress, piece_bytes=piece_bytes)

    # -- the entry points -------------------------------------------------------------------
    def iter_findings(self, source: Source, *, label: str | None = None) -> Iterator[Finding]:
        """Every finding of a document, lazily: lifecycle notes first, then XSD and rule
        findings in file order (what only the end of a file can tell comes last)."""
        name = label or label_of(source)
        with open_input(source, name, progress=self._reading()) as doc:
            yield from self.findings_of(doc)

    def iter_errors(self, source: Source, *, label: str | None = None) -> Iterator[Finding]:
        """The errors of a document (severity error), lazily."""
        return (f for f in self.iter_findings(source, label=label) if f.severity == Severity.ERROR)

    def is_valid(self, source: Source) -> bool:
        """True when the document has no error, False at its first error (the rest is not read).

        A document that is valid XML up to its root start tag and then breaks (not well-formed
        further on) is not valid: False. Raises, instead of answering:

        * :class:`~egif.errors.InputError` (a ``ValueError``) when the source cannot be read or
          is not XML at all: a missing or unreadable file, a directory, bytes with no root
          element;
        * :class:`~egif.errors.UnsafeInputError` (an ``InputError``) when the document is refused
          as unsafe: entity declarations, external DTDs, XInclude on the streaming path, a
          source over the size limits of ``egif.limits``;
        * ``TypeError`` when ``source`` is not a path, ``bytes`` or a binary file object.

        Errors of the schema itself surface earlier, when the validator is made
        (:meth:`for_version`, :meth:`for_schema`).
        """
        return next(self.iter_errors(source), None) is None

    def validate(self, source: Source, *, label: str | None = None) -> DocumentResult:
        """Validate; raise :class:`~egif.errors.DocumentInvalid` (with ``.findings`` and
        ``.result``) when the document is invalid, else return its result."""
        result = self.check(source, label=label)
        if not result.valid:
            first = result.errors[0]
            where = f"{first.line}: " if first.line else ""
            exc = DocumentInvalid(f"not valid against {self.label}: {len(result.errors)} error(s); first: "
                                  f"{where}{first.message}", file=result.source)
            exc.findings = result.findings  # type: ignore[attr-defined]
            exc.result = result  # type: ignore[attr-defined]
            raise exc
        return result

    def check(self, source: Source, *, label: str | None = None) -> DocumentResult:
        """Validate and return every finding as a :class:`DocumentResult`."""
        name = label or label_of(source)
        with open_input(source, name, progress=self._reading()) as doc:
            return self.result_of(doc)

    def check_many(self, sources: Iterable[Source]) -> Iterator[DocumentResult]:
        """Validate many documents with the one compiled schema; a result per document, in
        order.  Small documents named by path are checked ahead on every core (*jobs*), with
        the same results (see :mod:`egif.validate.core.ahead`); with more than one job the
        sources are then taken from *sources* a few hundred ahead.

        Unreadable or unsafe documents give a result holding one finding with rule
        ``xml:input`` or ``xml:unsafe`` instead of raising, so one bad file does not stop
        the batch."""
        from egif.validate.core.ahead import Ahead

        ahead = Ahead(self._jobs())
        for source, done in ahead.run(sources):
            if done is not None:
                yield done[2]
                continue
            name = label_of(source)
            try:
                result = self.check(source, label=name)
            except InputError as exc:
                yield DocumentResult(name, self.label, [Finding(
                    exc.message, "xml:unsafe" if isinstance(exc, UnsafeInputError) else "xml:input",
                    file=name, line=exc.line, column=exc.column)])
                continue
            if self.root is not None and (self.own is None or self.root.tag in self.own):
                ahead.learn(self.root, self)
            yield result

    # -- on an open input -------------------------------------------------------------------
    def result_of(self, doc: Input, info: RootInfo | None = None,
                  on_finding: Callable[[Finding], None] | None = None,
                  parsed: etree._Element | None = None, *, faulty: bool = False) -> DocumentResult:
        """The :class:`DocumentResult` of an opened input (*info*: its root, if known);
        *on_finding* hears each finding as soon as it is found.  *parsed*: the document
        already parsed by :func:`parse_small` (it is used up).  *faulty*: :meth:`clean_small`
        found a finding in it (so it is not looked for on one parse again)."""
        result = DocumentResult(doc.label, self.label)
        for finding in self.findings_of(doc, info, parsed, faulty=faulty):
            result.findings.append(finding)
            if on_finding is not None:
                on_finding(finding)
        result.records = self.records
        result.truncated = self.max_errors is not None and len(result.errors) >= self.max_errors
        return result

    def findings_of(self, doc: Input, info: RootInfo | None = None,
                    parsed: etree._Element | None = None, *, faulty: bool = False) -> Iterator[Finding]:
        """Every finding of an opened input (see :meth:`iter_findings`)."""
        self.records = None
        self.root = None
        for w in self.lifecycle:
            yield Finding(w.message, w.rule, w.severity, file=doc.label)
        if parsed is None and info is None:
            parsed = parse_small(doc, self._lean)
        if info is None:
            info = root_info(parsed if parsed is not None else sniff_root(doc))
        self.root = info
        if self.own is not None and info.tag not in self.own:
            yield self._foreign_root(info, doc.label)
            return
        layout = self.layout(info.tag)
        if parsed is None and doc.path is None and doc.size <= CLEAN_CHECK_BYTES and not faulty:
            parsed = parse_small(doc, self._lean)
        if parsed is not None and not faulty and self._clean(doc.data(), info, layout, parsed):
            return  # a small document without a single finding, told on one parse
        if layout is None:
            yield from self._whole(doc)
            return
        frame = read_frame(doc.reader) or read_frame(doc.reader, tail_bytes=doc.size)
        if frame is None:  # no root end tag where one could be: not well-formed, as the whole parse says
            yield from self._whole(doc)
            return
        engine = self._engine(layout)
        yield from engine.run(doc.reader, frame, doc.label, path=doc.path, jobs=self._jobs(),
                              piece_bytes=self.piece_bytes, max_errors=self.max_errors, progress=self.progress)
        self.records = engine.records

    def layout(self, root_tag: str) -> CollectionLayout | None:
        """The collection layout of root *root_tag*; None when such a document is no collection."""
        if root_tag not in self._layouts:
            self._layouts[root_tag] = collection_layout(self.resolved.files, root_tag,
                                                        xmlschema_model=self.resolved.xmlschema_schema)
        return self._layouts[root_tag]

    # -- internals ----------------------------------------------------------------------------
    def may_be_clean(self, info: RootInfo) -> bool:
        """Whether a document of root *info* can have a result without any finding: not when
        the version has a lifecycle note, the root is another version's, or no finding is
        allowed (``max_errors=0``: every result is cut short)."""
        return not self.lifecycle and (self.own is None or info.tag in self.own) and (
            self.max_errors is None or self.max_errors > 0)

    def clean_small(self, data: bytes, info: RootInfo, root: etree._Element) -> bool:
        """For a document :meth:`may_be_clean`: True when the small document *data*, parsed as
        *root* by :func:`parse_small_data` with :func:`parse_small`'s parser, has no finding at
        all; :attr:`records` is then set as :meth:`result_of` would set it.  False: it has one
        (*root* may have been changed).  The shortest path a clean message can take."""
        self.root = info
        return self._clean(data, info, self.layout(info.tag), root)

    def _clean(self, data: bytes, info: RootInfo, layout: CollectionLayout | None, root: etree._Element) -> bool:
        """True when a small document in memory has no finding at all -- schema valid, no
        rule fires -- decided on one parse without whitespace-only text between elements,
        the tree the rules see anyway.  Anything else (a finding, a DOCTYPE, a parse error)
        answers False and the document takes the full path, which says exactly what is
        wrong; so this only saves work, it never changes an answer."""
        tree = root.getroottree()
        # a DOCTYPE is written "<!DOCTYPE" in the bytes: reading docinfo costs more than looking
        if b"<!DOCTYPE" in data and getattr(tree.docinfo, "doctype", None):
            return False
        if str(root.tag) != info.tag:
            return False
        try:
            if not self.schema.validate(tree):
                return False
        except etree.XMLSchemaValidateError:  # libxml2 gave up: the full path says where
            return False
        if self._xinclude_valid and first_xinclude(root) is not None:
            return False
        records: list[etree._Element] = []
        others: list[etree._Element] = []
        if layout is not None:
            wanted = layout.records
            for c in root:
                (records if c.tag in wanted else others).append(c)
        if self.rules:
            book = RangeBook()  # the whole document is one range: its answers are exact
            today = self._today_text
            whole = None
            if layout is not None:
                tops = frozenset([c.tag for c in root if isinstance(c.tag, str)])
                key = (info.tag, tops)
                if key not in self._wholes:
                    self._wholes[key] = whole_program(self.rules, info.tag, tops, layout.top_only, layout.records,
                                                      today=today)
                whole = self._wholes[key]
            if whole is not None:
                # no rule reads across a record's edge: one run on the tree as parsed says
                # what the two phase trees would
                if whole.any_fires(root, book, today=today, record_count=len(records)):
                    return False
            else:
                record_phase, rest = self._programs(info.tag, layout)
                if record_phase is not None:
                    # as the engine does: records alone for the record phase, then the rest alone
                    for c in others:
                        root.remove(c)
                    if record_phase.any_fires(root, book, today=today):
                        return False
                    for c in records:
                        root.remove(c)
                    root.text = None
                    for c in others:
                        if isinstance(c.tag, str):
                            c.tail = None
                            root.append(c)
                if rest.any_fires(root, book, today=today, record_count=len(records)):
                    return False
        self.records = len(records) if layout is not None else None
        return True

    def _programs(self, root_tag: str, layout: CollectionLayout | None) -> tuple[Program | None, Program]:
        """The rules made ready for documents of root *root_tag*: the record phase (None when
        they are no collection) and the rest phase, looked up once per root."""
        found = self._phases.get(root_tag)
        if found is None:
            if layout is not None:
                today = self._today_text
                # (the engine's workers make the record phase with the layout's promise: the same one)
                found = (program(self.rules, root_tag, RECORDS, layout.top_only, layout.records, today=today,
                                 text_children=layout.text_children),
                         program(self.rules, root_tag, REST, layout.top_only, layout.records, today=today))
            else:
                found = (None, program(self.rules, root_tag, REST, today=self._today_text))
            self._phases[root_tag] = found
        return found


    def _today(self) -> str:
        return self._today_text

    def _jobs(self) -> int:
        return job_count(self.jobs)

    def _reading(self) -> Callable[[int, int], None] | None:
        return reading(self.progress)

    def _engine(self, layout: CollectionLayout) -> Engine:
        engine = self._engines.get(layout.root)
        if engine is None:
            # imported on first use: a small document without findings never needs the engine
            from egif.validate.stream.engine import Engine

            engine = self._engines[layout.root] = Engine(self.resolved.files, self.resolved.main, self.schema,
                                                         layout, self.rules, self._today())
        return engine

    def prepare_forks(self) -> None:
        """Make now what a document with findings will need -- the engine of each collection
        root met so far, its skeleton schema, the rules' record and rest phases, the patterns
        that frame a document -- so that processes forked from this one inherit it instead of
        each making it again, on every batch (once per validator)."""
        layouts = [layout for layout in self._layouts.values() if layout is not None]
        if layouts:
            from egif.validate.stream.layout import prolog_patterns

            prolog_patterns()
        for layout in layouts:
            self._engine(layout).skeleton_schema()
            if self.rules:
                self._programs(layout.root, layout)
        if layouts and self.rules:
            from egif.validate.schematron.state import prepare_patterns

            prepare_patterns()

    def _foreign_root(self, info: RootInfo, name: str) -> Finding:
        owners = preference(candidates(self.registry, info)) if self.registry is not None else []
        if owners:
            owner = owners[0]
            text = (f"root {info.tag} belongs to {owner.name}@{owner.version}, not {self.label}: "
                    f"validate it with --schema {owner.name}@{owner.version}")
        elif not self._declares(info.tag):
            text = (f"root {info.tag} is declared neither by {self.label} nor by any schema it imports; "
                    "no registered version declares it as its own")
        else:
            text = (f"root {info.tag} is not declared by {self.label} (only by a schema it imports); "
                    "no registered version declares it as its own")
        return Finding(text, "version:wrong-root", Severity.ERROR, name, info.line, None, info.path, None)

    def _declares(self, tag: str) -> bool:
        """Whether the compiled schema, imports included, has a global element *tag*: libxml2
        is asked about an empty element of that name (a missing declaration is its own error)."""
        if self.schema.validate(etree.ElementTree(etree.Element(tag))):
            return True
        log: Any = self.schema.error_log  # iterable at run time; the stubs do not say so
        return all(e.type_name != "SCHEMAV_CVC_ELT_1" for e in log)

    def _whole(self, doc: Input) -> Iterator[Finding]:
        """A document that is not a collection: parsed whole, XSD, then the rules."""
        from egif.validate import xsd  # here: a document without findings never needs it

        name = doc.label
        if doc.size > 1 << 20:
            _check_markup(doc)  # before the bytes are read into memory
        data = doc.data()
        if len(data) > 1 << 20:
            at = attribute_flood(data)
            if at is not None:
                flood_line = data.count(b"\n", 0, at) + 1
                raise UnsafeInputError(f"refused: an element at line {flood_line} carries more than "
                                       f"{ATTRIBUTE_LIMIT:,} attributes", file=name)
        try:
            root = etree.fromstring(data, make_parser())
        except etree.XMLSyntaxError as exc:
            line, column, message = syntax_position(exc)
            if any(w in message for w in ("Excessive depth", "XML_PARSE_HUGE", "huge text", "Huge input",
                                           "AttValue length too long")):
                raise limits_error(str(exc.msg or exc).strip(), name) from None
            yield Finding(f"not well-formed XML: {message}", "xml:syntax", Severity.ERROR, name, line, column)
            return
        tree = root.getroottree()
        check_doctype(tree, name)
        found = first_xinclude(root)
        if found is not None:
            raise UnsafeInputError(f"refused: XInclude element {etree.QName(found).localname!r} at line "
                                   f"{found.sourceline}; XInclude is never processed", file=name)
        errors = 0
        positions: Positions = {}  # (one walk of each parent, however many of its children fail)
        for e in xsd.validate(self.schema, tree):
            node = e.node
            yield Finding(e.message, e.rule, Severity.ERROR, name, e.line or _line(node), None,
                          document_path(node, positions) if node is not None else None, None)
            errors += 1
            if self.max_errors is not None and errors >= self.max_errors:
                return
        if not self.rules:
            return
        # the rules see the document without whitespace-only text between elements, as in a
        # collection's ranges, with the same corrections of values by the XSD pass
        lean = etree.fromstring(data, self._lean)
        xsd.validate(self.schema, lean.getroottree())
        today = self._today()
        positions = {}
        for f in program(self.rules, str(lean.tag), REST, today=today).run(lean, DocumentBook(), today=today,
                                                                           record_count=0, data=data):
            yield Finding(f.message, f.check.rule_id, f.check.severity, name, _line(f.node), None,
                          document_path(f.node, positions), None)
            if f.check.severity == Severity.ERROR:
                errors += 1
                if self.max_errors is not None and errors >= self.max_errors:
                    return


def job_count(jobs: int | None) -> int:
    """The processes *jobs* asks for: at least one; None, every core."""
    return max(1, jobs) if jobs is not None else _cores()


@functools.cache
def _cores() -> int:
    """The machine's cores (asking costs some 10 us, more than checking a small document's rules)."""
    return os.cpu_count() or 1


def _check_markup(doc: Input, piece: int = 8 << 20) -> None:
    """Refuse a document read as one tree whose ``<`` characters (a bound on its elements,
    and so on the tree's memory) pass ``MAX_WHOLE_DOCUMENT_MARKUP``, counted a piece at a
    time and stopped at the limit."""
    markup = 0
    for offset in range(0, doc.size, piece):
        markup += doc.reader.read(offset, piece).count(b"<")
        if markup > MAX_WHOLE_DOCUMENT_MARKUP:
            raise UnsafeInputError(
                f"refused: the document is no collection egif streams, and it holds more than "
                f"{MAX_WHOLE_DOCUMENT_MARKUP:,} tags, the limit for a document read as one tree", file=doc.label)


def _line(el: etree._Element | None) -> int | None:
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) and line > 0 else None


def parse_small(doc: Input, parser: etree.XMLParser) -> etree._Element | None:
    """A small document in memory parsed without whitespace-only text between elements (what
    the rules see), its DOCTYPE checked; None when it is big or does not parse (the full
    path then says why)."""
    if doc.path is not None or doc.size > CLEAN_CHECK_BYTES:
        return None
    return parse_small_data(doc.data(), parser, doc.label)


def parse_small_data(data: bytes, parser: etree.XMLParser, label: str) -> etree._Element | None:
    """:func:`parse_small` of a document's bytes (*label* names it in an error)."""
    if len(data) > CLEAN_CHECK_BYTES:
        return None
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    if b"<!DOCTYPE" in data:  # no DOCTYPE is written otherwise
        tree = root.getroottree()
        if getattr(tree.docinfo, "doctype", ""):
            check_doctype(tree, label)
    return root


# -- rules and lifecycle from the registry --------------------------------------------------
def rules_for(registry: Registry, version: SchemaVersion) -> list[tuple[str, bytes]]:
    """Schematron documents kept beside a version and every version it imports."""
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


def lifecycle_findings(version: SchemaVersion, registry: Registry | None = None, *,
                       known: Mapping[str, SchemaVersion] | None = None) -> list[Finding]:
    """What a document checked against *version* is told about its lifecycle status, and
    (given the *registry*) about withdrawn versions it imports, directly or through
    another import: once per document, however many records it holds.  *known*: versions
    already read, by ``NAME@VERSION`` (the registry is asked only for the others)."""
    return _own_status(version) + (_withdrawn_imports(version, registry, known or {})
                                   if registry is not None else [])


def _withdrawn_imports(version: SchemaVersion, registry: Registry,
                       known: Mapping[str, SchemaVersion]) -> list[Finding]:
    label = f"{version.name}@{version.version}"
    found: list[Finding] = []
    seen = {label}
    todo = [(version, label)]
    while todo:
        current, via = todo.pop(0)
        for b in current.imports:
            if b.target is None or str(b.target) in seen:
                continue
            seen.add(str(b.target))
            target = known.get(str(b.target)) or registry.get(b.target)
            ref = f"{target.name}@{target.version}"
            path = f"{via} -> {ref}"
            if target.status in (Status.WITHDRAWN, Status.REJECTED):
                found.append(Finding(f"{label} imports {ref}, which is {target.status.value}"
                                     + (f" (through {path})" if via != label else ""),
                                     "lifecycle:withdrawn-import", Severity.WARNING))
            todo.append((target, path))
    return found


def _own_status(version: SchemaVersion) -> list[Finding]:
    label = f"{version.name}@{version.version}"
    if version.status == Status.DEPRECATED:
        succ = f"; its successor is {version.name}@{version.successor}" if version.successor else ""
        return [Finding(f"{label} is deprecated{succ}", "lifecycle:deprecated", Severity.WARNING)]
    if version.status in (Status.WITHDRAWN, Status.REJECTED):
        return [Finding(f"{label} is {version.status.value}", f"lifecycle:{version.status.value}", Severity.WARNING)]
    if version.status in (Status.CANDIDATE, Status.DRAFT):
        return [Finding(f"{label} is a {version.status.value} version, not ratified: it may still change",
                        f"lifecycle:{version.status.value}", Severity.INFO)]
    return []
