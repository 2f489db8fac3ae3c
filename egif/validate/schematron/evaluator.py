"""Running a :class:`~egif.validate.schematron.loader.RuleSet` over a tree.

A collection is checked in two phases, whatever its size:

* the **record phase** runs on every range of records (in the worker that
  parsed it, or on the whole document when it is one range): only contexts
  inside records fire -- the root's other children are taken out of the
  range first, and the root itself never fires here;
* the **rest phase** runs once at the end on the root and its other children
  (a header), without the records, with ``record-count()`` known.

A document that is not a collection has only the rest phase, on the whole
tree.  So a rule sees a record with its own content and the root's
attributes, and sees the rest of the document without the records; rules
must not look from one record into another except through ``seen()`` and
``record-count()``, and then their answer never depends on how the file was
cut.

Each assert or report is evaluated for all its contexts at once where it
can be: one XPath, ``(contexts)[not(test)]``, returns just the failing nodes
-- the rule's lets written into the test (see
:func:`~egif.validate.schematron.loader.inline_lets`).  A rule sharing its
pattern with others (the first matching rule wins), or with a let used
inside a predicate, is evaluated node by node instead; both give the same
answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast

from lxml import etree

from egif.errors import SchemaCompileError
from egif.validate.schematron.loader import (
    EGIF_FN_NS,
    POSITIONAL,
    VARIABLE,
    Check,
    Pattern,
    Rule,
    RuleSet,
    depths,
    predicates,
)
from egif.validate.schematron.state import Book

RECORDS = "records"
REST = "rest"
WHOLE = "whole"  # both phases at once, on a small document's one tree (see whole_program)
_MAX_VALUE = 200
_FEW = 16  # contexts of a uniqueness check whose values are looked up one by one
_SCAN_BYTES = 64 * 1024  # documents this small are searched for a rule's element names first
_QNAME = re.compile(r"(?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*")
# "prefix:*", then a predicate or a step; compiled on first use (re keeps it), as few rules need it
_WILD_STEP = r"^([A-Za-z_][\w.\-]*):\*(?=$|[\[/])"
_FIRST_STEP = re.compile(r"^([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)(?=$|[\[/])")
# keeps only nodes inside a child of the root: not the root, not the root's attributes
_IN_RECORD = "[ancestor-or-self::*[parent::*]]"
# a path of child steps from the root, no predicate: the elements it selects all stand at
# one depth, so none holds another
_FLAT = re.compile(r"(?:/(?:[A-Za-z_][\w.\-]*:)?(?:[A-Za-z_][\w.\-]*|\*))+")


class RecordCountInRecord(Exception):
    """``record-count()`` was called in a context inside a record."""


class Firing(NamedTuple):
    """A failed assert or a successful report, on one node."""

    node: etree._Element
    check: Check
    message: str


class _Env:
    """What the extension functions read while a program runs."""

    def __init__(self) -> None:
        self.book: Book | None = None
        self.record_count: int | None = None


class _XPath(NamedTuple):
    """A compiled expression, and whether it reads a variable ($today, a let)."""

    xpath: etree.XPath
    variables: bool


class _Unique(NamedTuple):
    """A check ``not(seen('scope', child))`` (or a report ``seen(...)``): the values of every
    context are read in two evaluations rather than one callback per context."""

    scope: str
    contexts: etree.XPath  # the rule's contexts, in document order
    values: etree.XPath  # the first such child of each context in ``$contexts``
    normalized: bool  # the key went through normalize-space()
    child: str  # that child's Clark name
    # where the contexts cannot nest (a path of child steps from the root, no predicate):
    # the values read from the root in one walk, and the number of contexts (when every
    # context has the child, the values stand in the contexts' order, one each)
    direct: etree.XPath | None = None
    how_many: etree.XPath | None = None
    # the contexts are elements at one depth, whatever their predicates (a path of child
    # steps from the root): they cannot nest, so when each has the child its value stands
    # in the contexts' order, and no parent need be read to see that
    level: bool = False
    # where the contexts are records of the root (chosen by predicates or not), and the schema gives
    # every such record the child, holding some text and nothing else: for a tree that
    # passed the schema, the values read from the root in one walk (each context then has
    # the child; the predicates are evaluated once, and no node set is handed back to be
    # read again), and their texts as strings, one a value where the tree holds no
    # comment, CDATA section or processing instruction (the parser joins adjacent text)
    valid_direct: etree.XPath | None = None
    valid_texts: etree.XPath | None = None


class _Compiled:
    """One rule made ready for a program.  (A plain class, not a dataclass: making a
    dataclass costs every start-up of egif a millisecond.)"""

    __slots__ = ("alone", "contexts", "lets", "messages", "names", "pattern", "rule", "tests", "uniques")

    def __init__(self, rule: Rule, pattern: Pattern, contexts: _XPath, lets: list[tuple[str, _XPath]],
                 tests: list[tuple[Check, _XPath, _XPath | None]], messages: dict[int, list[str | _XPath]],
                 names: list[list[str]], uniques: dict[int, _Unique]) -> None:
        self.rule = rule
        self.pattern = pattern
        self.contexts = contexts  # every context node of the rule, in document order
        self.lets = lets
        self.tests = tests  # (check, per-node test, all at once)
        self.messages = messages
        self.names = names  # per context part: the element names it needs
        self.uniques = uniques  # checks of the form not(seen(scope, child)), by index
        self.alone = True  # the only rule of its pattern that can fire here


def program(ruleset: RuleSet, root_tag: str, phase: str, top_only: frozenset[str] = frozenset(),
            records: frozenset[str] = frozenset(), *, today: str | None = None,
            text_children: frozenset[tuple[str, str]] = frozenset()) -> Program:
    """The rule set made ready for root element *root_tag* and *phase* (cached).  *records*:
    the collection's record elements; *top_only*: those that stand only under the root;
    *today*: the date every run of it will be given (see :class:`Program`); *text_children*:
    (record, child) pairs, Clark names, such that every record that passes the schema has
    the child, holding text only (see :func:`egif.validate.stream.layout.text_children`)."""
    key = (root_tag, phase, top_only, records, today, text_children)
    found = ruleset.programs.get(key)
    if not isinstance(found, Program):
        found = ruleset.programs[key] = Program(ruleset, root_tag, phase, top_only, records, today=today,
                                                text_children=text_children)
    return found


def whole_program(ruleset: RuleSet, root_tag: str, tops: frozenset[str], top_only: frozenset[str] = frozenset(),
                  records: frozenset[str] = frozenset(), *, today: str | None = None) -> Program | None:
    """The rule set made ready to run both phases at once on a document of root *root_tag*
    whose root children are named *tops*, held whole in memory; None (and the document is
    split into its two phase trees) unless :func:`~egif.validate.schematron.locality.whole_tree_guards`
    shows the one run fires exactly where the two would (its guards, in the one expression,
    fire where a context stands too high for that), and every rule runs in the one
    expression of :meth:`Program.any_fires` (cached)."""
    key = (root_tag, WHOLE, top_only, records, tops, today)
    if key not in ruleset.programs:
        from egif.validate.schematron.locality import whole_tree_guards  # (once per kind of document)

        found: Program | None = None
        guards = whole_tree_guards(ruleset, root_tag, tops, records, top_only)
        if guards is not None:
            found = Program(ruleset, root_tag, WHOLE, top_only, records, guards=guards, today=today)
            if not found.at_once():
                found = None
        ruleset.programs[key] = found
    got = ruleset.programs[key]
    return got if isinstance(got, Program) else None


class Program:
    """A rule set made ready for one root element and one phase.

    ``run(root, book, ...)`` evaluates it over the tree under *root* and returns
    the firings in evaluation order: pattern by pattern, rule by rule, check by
    check, nodes in document order.

    Made with *today*, every run must be given that date: ``$today`` is then written
    into the expressions as a string literal.  A variable is looked up afresh at each
    use, and a date rule uses it at every node (half the cost of a birth-date rule
    on a person list); the literal gives the same string.
    """

    def __init__(self, ruleset: RuleSet, root_tag: str, phase: str, top_only: frozenset[str] = frozenset(),
                 records: frozenset[str] = frozenset(), *, guards: Mapping[int, int] | None = None,
                 today: str | None = None, text_children: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.phase = phase
        self.text_children = text_children
        self.today = today if today is not None and re.fullmatch(_DATE, today) else None
        # (the whole-tree phase) by id of a rule: how deep its contexts must stand for the one
        # run to answer as the split; one standing higher counts as a firing
        self.guards = dict(guards or {})
        self.top_only = top_only
        self.env = _Env()
        self.compiled: list[list[_Compiled]] = []
        self.records = records
        self._any: dict[None, _XPath | None] = {}  # "does anything fire", made on first use
        for pattern in ruleset.patterns:
            live = [c for c in (self._compile(pattern, rule, root_tag) for rule in pattern.rules) if c is not None]
            if live:
                # a rule that cannot fire in this phase claims nothing: leaving it out is exact
                for c in live:
                    c.alone = len(live) == 1
                self.compiled.append(live)

    def _compile(self, pattern: Pattern, rule: Rule, root_tag: str) -> _Compiled | None:
        ns = pattern.namespaces
        live_parts = [(p, self._context(p, ns, root_tag)) for p in rule.parts]
        live_parts = [(p, c) for p, c in live_parts if c is not None]
        if not live_parts:
            return None
        parts = [c for _p, c in live_parts if c is not None]
        union = parts[0] if len(parts) == 1 else " | ".join(parts)

        # a let named "today" stands for $today in its rule: the variable is kept there
        today = None if any(name == "today" for name, _v in rule.lets) else self.today

        def xp(expr: str, check: int | None = None, smart: bool = True) -> _XPath:
            expr = fold_constants(with_today(expr, today))
            needs = "seen" in expr or "record-count" in expr
            try:
                compiled = etree.XPath(expr, namespaces=ns, regexp=False,  # (no EXSLT regular expressions)
                                       extensions=self._extensions(check) if needs else None,
                                       smart_strings=smart)
            except etree.XPathSyntaxError as exc:
                raise SchemaCompileError(f"rule {rule.context!r}: {exc}", file=pattern.source) from None
            return _XPath(compiled, "$" in expr)

        tests = []
        messages: dict[int, list[str | _XPath]] = {}
        uniques: dict[int, _Unique] = {}
        for check in rule.checks:
            at_once = None
            if check.inlined is not None:
                condition = f"not({check.inlined})" if check.kind == "assert" else f"boolean({check.inlined})"
                at_once = xp(f"({union})[{condition}]", check.index)
                unique = _unique(check, ns)
                if unique is not None:
                    scope, child, normalized = unique
                    # the values from the contexts found: the rule's predicates are not evaluated twice
                    flat = _FLAT.fullmatch(union) is not None
                    bare = "/".join(_steps(union))  # (its steps without their predicates)
                    child_clark = _clark(child, ns) or child
                    texts = (self._record_of(bare, ns, root_tag), child_clark) in self.text_children
                    from_root = xp(f"{union}/{child}[1]").xpath if flat or texts else None
                    uniques[check.index] = _Unique(
                        scope, xp(f"({union})").xpath, xp(f"$contexts/{child}[1]").xpath, normalized, child_clark,
                        from_root if flat else None, xp(f"count({union})").xpath if flat else None,
                        _FLAT.fullmatch(bare) is not None, from_root if texts else None,
                        xp(f"{union}/{child}[1]/text()", smart=False).xpath if texts else None)
            tests.append((check, xp(check.test, check.index), at_once))
            messages[check.index] = [text if kind == "text" else xp(text) for kind, text in check.message]
        return _Compiled(rule, pattern, xp(f"({union})"), [(n, xp(v)) for n, v in rule.lets], tests, messages,
                         [_step_names(p) for p, _c in live_parts], uniques)

    def _record_of(self, bare: str, ns: dict[str, str], root_tag: str) -> str | None:
        """The record a path of two child steps from the root selects (``/*/r:Item``, or
        the root's own name first); None for any other path."""
        steps = bare.split("/")
        if len(steps) != 3 or steps[0] or not _QNAME.fullmatch(steps[2]):
            return None
        if steps[1] != "*" and (not _QNAME.fullmatch(steps[1]) or _clark(steps[1], ns) != root_tag):
            return None
        record = _clark(steps[2], ns)
        return record if record in self.records else None

    def _context(self, part: str, ns: dict[str, str], root_tag: str) -> str | None:
        """The XPath selecting a context part's nodes in this phase; None when it can select
        none there."""
        first = _FIRST_STEP.match(part)
        top = not part.startswith("/") and first is not None and _clark(first.group(1), ns) in self.top_only
        if self.phase in (WHOLE, REST):
            if top:  # a record that stands only under the root; the rest has no records
                return "/*/" + part if self.phase == WHOLE else None
            return part if part.startswith("/") else _below_root(part, ns, root_tag) or "//" + part
        if part.startswith("/"):
            steps = _steps(part)
            if not part.startswith("//") and len(steps) == 2:
                return None  # the root itself
            if (not part.startswith("//") and len(steps) > 2 and _QNAME.fullmatch(steps[2])
                    and self.records and _clark(steps[2], ns) not in self.records):
                return None  # below a child of the root that is no record
            return part + _IN_RECORD
        if top:
            return "/*/" + part  # a record that can stand only under the root: no need to search below
        return _below_root(part, ns, root_tag) or "//" + part + _IN_RECORD

    def _extensions(self, check: int | None) -> dict[tuple[str, str], Callable[..., Any]]:
        env = self.env
        phase = self.phase

        def record_count(_ctx: Any) -> float:
            if phase == RECORDS or env.record_count is None:
                raise RecordCountInRecord
            return float(env.record_count)

        def seen(_ctx: Any, scope: Any, value: Any) -> bool:
            book = env.book
            if check is None or book is None:
                raise SchemaCompileError("egif:seen() may only be called in the test of an assert or report")
            # the usual arguments are strings already (a literal, normalize-space(...))
            key = value.strip() if isinstance(value, str) else text_of(value).strip()
            return book.seen(check, str(scope) if isinstance(scope, str) else text_of(scope), key)

        def seen_of(_ctx: Any, number: Any, scope: Any, value: Any) -> bool:
            book = env.book
            assert book is not None
            key = value.strip() if isinstance(value, str) else text_of(value).strip()
            return book.seen(int(number), str(scope) if isinstance(scope, str) else text_of(scope), key)

        return {(EGIF_FN_NS, "record-count"): record_count, (EGIF_FN_NS, "seen"): seen,
                (EGIF_FN_NS, "seen-of"): seen_of}

    def run(self, root: etree._Element, book: Book, *, today: str, record_count: int | None = None,
            data: bytes | None = None, only: frozenset[int] | None = None, valid: bool = False,
            plain: bool = False) -> list[Firing]:
        """Evaluate every rule under *root*; *book* answers ``seen()``.  *data*, the bytes of a
        small document, lets rules naming elements it does not hold be skipped.  *only*: the
        indexes of the checks to evaluate (the others are left out; their firings would be
        the same as before: see :meth:`DocumentBook.merge_checks`).  *valid*: the tree passed
        the schema, so what the program's *text_children* say holds in it; *plain*: besides,
        it holds no comment, CDATA section or processing instruction."""
        self._check_today(today)
        self.env.book = book
        self.env.record_count = record_count
        variables = {"today": today}
        firings: list[Firing] = []
        present: dict[str, bool] | None = {} if data is not None and len(data) <= _SCAN_BYTES else None
        try:
            for rules in self.compiled:
                if only is not None and not any(check.index in only for c in rules for check, _t, _a in c.tests):
                    continue
                if present is not None and not any(_may_match(c, data or b"", present) for c in rules):
                    continue
                if len(rules) == 1 and rules[0].alone and all(a is not None for _c, _t, a in rules[0].tests):
                    self._at_once(rules[0], root, variables, firings, only, plain if valid else None)
                else:
                    self._node_by_node(rules, root, variables, firings, only)
        except RecordCountInRecord:
            raise SchemaCompileError(
                "egif:record-count() is called in a rule whose context lies inside a record; the "
                "count is known only at the end: use it in a rule on the root or a header") from None
        finally:
            self.env.book = None
        return firings

    def any_fires(self, root: etree._Element, book: Book, *, today: str, record_count: int | None = None) -> bool:
        """Whether :meth:`run` would return a firing, in one evaluation when every rule can
        be evaluated at once (the usual case): ``boolean(fails1 | fails2 | ...)``.  The
        ``seen()`` calls happen in the same order as in :meth:`run`, so *book* ends the same."""
        if not self.at_once():
            return bool(self.run(root, book, today=today, record_count=record_count))
        self._check_today(today)
        combined = self._any[None]
        assert combined is not None
        self.env.book = book
        self.env.record_count = record_count
        try:
            return bool(combined.xpath(root, today=today) if combined.variables else combined.xpath(root))
        except RecordCountInRecord:
            raise SchemaCompileError(
                "egif:record-count() is called in a rule whose context lies inside a record; the "
                "count is known only at the end: use it in a rule on the root or a header") from None
        except etree.XPathError as exc:
            raise SchemaCompileError(f"a rule failed: {exc}") from None
        finally:
            self.env.book = None

    def _check_today(self, today: str) -> None:
        if self.today is not None and today != self.today:
            raise ValueError(f"rules made ready for {self.today} run with today {today}")

    def at_once(self) -> bool:
        """Whether :meth:`any_fires` evaluates every rule in one expression."""
        if None not in self._any:
            self._any[None] = self._combined(tuple(range(len(self.compiled))))
        return self._any[None] is not None

    def _combined(self, live: tuple[int, ...]) -> _XPath | None:
        parts: list[str] = []
        namespaces: dict[str, str] = {"egif": EGIF_FN_NS}
        for i in live:
            rules = self.compiled[i]
            if len(rules) != 1 or not rules[0].alone:
                return None
            for check, _test, at_once in rules[0].tests:
                if at_once is None:
                    return None
                ns = rules[0].pattern.namespaces
                if any(namespaces.get(p, u) != u for p, u in ns.items()):
                    return None  # one prefix bound to two namespaces: keep them apart
                namespaces.update(ns)
                parts.append(_seen_of(str(at_once.xpath.path), check.index, ns))
            depth = self.guards.get(id(rules[0].rule))
            if depth is not None:
                parts.append(f"{rules[0].contexts.xpath.path}[count(ancestor::*) < {depth}]")
        if not parts:
            return _XPath(etree.XPath("false()"), False)
        expr = "boolean(" + " | ".join(f"({p})" for p in parts) + ")"
        try:
            # a truth value: no string result to tie to a node, so the arguments of the calls
            # back into Python come as plain strings (a smart string costs a microsecond a call)
            return _XPath(etree.XPath(expr, namespaces=namespaces, extensions=self._extensions(None), regexp=False,
                                      smart_strings=False), "$" in expr)
        except etree.XPathSyntaxError:
            return None

    def _at_once(self, c: _Compiled, root: etree._Element, variables: dict[str, str],
                 firings: list[Firing], only: frozenset[int] | None = None, plain: bool | None = None) -> None:
        """*plain*: None where the tree may not pass the schema; else it passed, and whether it
        is plain (see :meth:`run`)."""
        for check, _test, at_once in c.tests:
            if only is not None and check.index not in only:
                continue
            assert at_once is not None
            unique = c.uniques.get(check.index)
            nodes = (self._repeated(unique, check, root, c, plain) if unique is not None
                     else _elements(_call(at_once, root, variables, c)))
            for node in nodes:
                firings.append(Firing(node, check, self._message(c, check, node, variables)))

    def _repeated(self, unique: _Unique, check: Check, root: etree._Element, c: _Compiled,
                  plain: bool | None = None) -> list[etree._Element]:
        """The contexts whose value *book* has seen: what ``not(seen(scope, child))`` fails at,
        asking *book* in document order exactly as the test would, once per context.  *plain*:
        as for :meth:`_at_once`."""
        book = self.env.book
        assert book is not None
        try:
            if plain is not None and unique.valid_direct is not None and unique.valid_texts is not None:
                return self._promised(unique, check, root, book, plain)
            if unique.direct is not None and unique.how_many is not None:
                found: Any = unique.direct(root)
                direct: list[etree._Element] = found if isinstance(found, list) else []  # (elements only)
                if len(direct) == int(unique.how_many(root)):  # type: ignore[arg-type]
                    # every context has the child: the values are the contexts' own, in order
                    keys = self._keys(direct, unique)
                    return [direct[i].getparent() for i in book.seen_all(check.index, unique.scope, keys)]  # type: ignore[misc]
            # (a path of name tests selects elements alone, and a child's first one an element)
            contexts: list[etree._Element] = (cast("list[etree._Element]", unique.contexts(root)) if unique.level
                                              else _elements(unique.contexts(root)))
            values: list[etree._Element] | list[etree._Element | None]
            if len(contexts) <= _FEW:  # (passing a node set to an expression costs more than a few looks)
                values = [next(node.iterchildren(unique.child), None) for node in contexts]
            else:
                found = cast("list[etree._Element]", unique.values(root, contexts=list[Any](contexts)))
                values = found
                # each context gives at most one value, so as many values as contexts means
                # one each; in the contexts' order when they cannot nest, else as read
                if len(found) != len(contexts) or (not unique.level and [v.getparent() for v in found] != contexts):
                    by_context = {v.getparent(): v for v in found}  # a context without the child
                    values = [by_context.get(node) for node in contexts]
        except etree.XPathError as exc:
            raise SchemaCompileError(f"rule {c.rule.context!r} failed: {exc}", file=c.pattern.source) from None
        return [contexts[i] for i in book.seen_all(check.index, unique.scope, self._keys(values, unique))]

    def _promised(self, unique: _Unique, check: Check, root: etree._Element, book: Book,
                  plain: bool) -> list[etree._Element]:
        """:meth:`_repeated` on a tree that passed the schema, where every context has the child
        holding text (:attr:`_Unique.valid_texts`): one value a context, in the contexts'
        order; read as strings where the tree is *plain*, and as elements only when a key
        repeats."""
        assert unique.valid_direct is not None and unique.valid_texts is not None
        values: list[etree._Element] = []
        if plain:
            texts = cast("list[str]", unique.valid_texts(root))
            found = book.seen_all(check.index, unique.scope, self._normalized(texts, unique))
            if found:
                values = cast("list[etree._Element]", unique.valid_direct(root))
        else:
            values = cast("list[etree._Element]", unique.valid_direct(root))
            found = book.seen_all(check.index, unique.scope, self._keys(values, unique))
        return [values[i].getparent() for i in found]  # type: ignore[misc]

    @staticmethod
    def _keys(values: list[etree._Element] | list[etree._Element | None], unique: _Unique) -> list[str]:
        """The keys ``seen()`` is asked about: each value's text, normalised as the test says
        (an absent value: the empty string)."""
        return Program._normalized([("" if value is None else (value.text or "") if len(value) == 0
                                     else text_of(value)) for value in values], unique)

    @staticmethod
    def _normalized(texts: list[str], unique: _Unique) -> list[str]:
        """The values' texts as the keys ``seen()`` is asked about."""
        joined = "".join(texts)
        # letters and digits only: nothing to strip or normalise (asked of ASCII text as bytes,
        # which look each character up in one table, where str asks Unicode's tables twice)
        if not (joined.encode("ascii").isalnum() if joined.isascii() else joined.isalnum()):
            if unique.normalized:
                space = re.compile(_XML_SPACE)
                texts = [space.sub(" ", text).strip(_XML_WS) for text in texts]
            texts = [text.strip() for text in texts]
        return texts

    def _node_by_node(self, rules: list[_Compiled], root: etree._Element, variables: dict[str, str],
                      firings: list[Firing], only: frozenset[int] | None = None) -> None:
        claimed: set[etree._Element] = set()
        for c in rules:
            # (every rule's contexts, to know which rule claims a node, even where only some
            # checks are evaluated)
            nodes = [n for n in _elements(_call(c.contexts, root, variables, c)) if n not in claimed]
            claimed.update(nodes)
            tests = [t for t in c.tests if only is None or t[0].index in only]
            if not nodes or not tests:
                continue
            scopes = [self._lets(c, node, variables) for node in nodes]
            for check, test, _at_once in tests:
                for node, scope in zip(nodes, scopes, strict=True):
                    ok = _truth(_call(test, node, scope, c))
                    if (not ok) if check.kind == "assert" else ok:
                        firings.append(Firing(node, check, self._message(c, check, node, variables, scope)))

    def _lets(self, c: _Compiled, node: etree._Element, variables: dict[str, str]) -> dict[str, Any]:
        scope: dict[str, Any] = dict(variables)
        for name, expr in c.lets:
            scope[name] = _call(expr, node, scope, c)
        return scope

    def _message(self, c: _Compiled, check: Check, node: etree._Element, variables: dict[str, str],
                 scope: dict[str, Any] | None = None) -> str:
        if scope is None:
            scope = self._lets(c, node, variables)
        pieces = []
        for piece in c.messages[check.index]:
            pieces.append(piece if isinstance(piece, str) else short(text_of(_call(piece, node, scope, c))))
        message = " ".join("".join(pieces).split()) or f"{check.kind} failed: {check.test}"
        return short(message) if len(message) > 4 * _MAX_VALUE else message


_DATE = r"[0-9]{4,}-[0-9]{2}-[0-9]{2}"  # (compiled on first use: re keeps it)


def with_today(expr: str, today: str | None) -> str:
    """*expr* with each reference to ``$today`` outside string literals written as the
    string literal *today* (None: as it is)."""
    if today is None or "$today" not in expr:
        return expr
    return _sub_outside_strings(VARIABLE, expr, lambda m: f"'{today}'" if m.group(1) == "today" else None)


def _sub_outside_strings(pattern: re.Pattern[str], expr: str,
                         replace: Callable[[re.Match[str]], str | None]) -> str:
    """*expr* with each match of *pattern* that starts outside a string literal replaced by
    ``replace(match)``, or kept where that is None."""
    levels: list[int] = []

    def swap(m: re.Match[str]) -> str:
        if not levels:
            levels.extend(depths(expr))  # (only once something matches)
        got = replace(m) if levels[m.start()] >= 0 else None
        return m.group(0) if got is None else got

    return pattern.sub(swap, expr)


# a call of an XPath 1.0 function whose answer depends on its arguments alone, every
# argument a literal: ``number(translate('2026-12-02', '-', ''))`` once $today is written in
_PURE = ("translate|substring-before|substring-after|substring|concat|normalize-space|string-length|"
         "string|number|floor|ceiling|round|sum")
_LITERAL = r"""(?:'[^']*'|"[^"]*"|-?\d+(?:\.\d*)?|-?\.\d+)"""
# (compiled on first use, which re keeps: few rule sets have such a call, and compiling it
# would cost every start-up of egif)
_CONSTANT_CALL = rf"(?<![\w.\-:$])(?:{_PURE})\s*\(\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*\)"
_DUMMY: list[etree._Element] = []


def fold_constants(expr: str) -> str:
    """*expr* with each call of a function of literals alone (outside string literals)
    written as its value, repeatedly: ``number(translate('2026-12-02', '-', ''))`` becomes
    ``20261202``, evaluated once instead of at every node.  Only values written exactly are
    folded: strings (quoted as XPath can) and whole numbers below 2**53.  (An expression in
    which no call opens with a string literal is returned as it is, at the cost of one look:
    a call of numbers alone is rare.)"""
    if not _literal_call(expr):
        return expr
    folded = _FOLDED.get(expr)
    if folded is None:
        folded = _fold(expr)
        if len(_FOLDED) < 4096:
            _FOLDED[expr] = folded
    return folded


_FOLDED: dict[str, str] = {}  # (the same tests recur in each phase's program)


def _literal_call(expr: str) -> bool:
    """Whether some call in *expr* may take literals alone, its first a string: a cheap look
    before the pattern, whose compiling costs a millisecond (it may answer yes wrongly, and
    no where a ``)`` stands in a string: folding is only ever saved work)."""
    for quote in "'\"":
        at = expr.find("(" + quote)
        while at >= 0:
            rest = expr[at + 1:]
            while True:
                rest = rest.lstrip(" \t\r\n,")
                if rest[:1] in ("'", '"'):
                    end = rest.find(rest[0], 1)
                    if end < 0:
                        break
                    rest = rest[end + 1:]
                elif rest[:1] == ")":
                    return True
                elif rest[:1] and rest[0] in "-.0123456789":
                    rest = rest.lstrip("-.0123456789")
                else:
                    break
            at = expr.find("(" + quote, at + 1)
    return False


def _fold(expr: str) -> str:
    pattern = re.compile(_CONSTANT_CALL)
    while True:  # a folded call may leave its caller a call of literals alone
        folded = _sub_outside_strings(pattern, expr, lambda m: _literal_of(m.group(0)))
        if folded == expr:
            return expr
        expr = folded


def _literal_of(call: str) -> str | None:
    """The XPath literal of a constant call's value; None when it has none written exactly."""
    if not _DUMMY:
        _DUMMY.append(etree.Element("constant"))
    try:
        value = etree.XPath(call)(_DUMMY[0])
    except etree.XPathError:
        return None
    if isinstance(value, str):
        text = str(value)
        return f"'{text}'" if "'" not in text else f'"{text}"' if '"' not in text else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        number = int(value)
        return str(number) if number >= 0 else f"({number})"
    return None


_SEEN_CALL = re.compile(r"\b([A-Za-z_][\w.\-]*):seen\s*\(")
_UNIQUE = re.compile(r"^\s*not\s*\(\s*([A-Za-z_][\w.\-]*):seen\s*\(\s*('[^']*'|\"[^\"]*\")\s*,\s*"
                     r"(?:normalize-space\s*\(\s*((?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*)\s*\)|"
                     r"((?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*))\s*\)\s*\)\s*$")
_XML_SPACE = r"[ \t\r\n]+"  # compiled on first use (re keeps it): only normalize-space() keys need it
_XML_WS = " \t\r\n"


def _unique(check: Check, ns: dict[str, str]) -> tuple[str, str, bool] | None:
    """``(scope, child, normalized)`` when an assert's test is ``not(P:seen('scope', child))``
    or ``not(P:seen('scope', normalize-space(child)))`` with *child* a child element's name."""
    if check.kind != "assert" or check.inlined is None:
        return None
    m = _UNIQUE.match(check.inlined)
    if m is None or ns.get(m.group(1)) != EGIF_FN_NS:
        return None
    child = m.group(3) or m.group(4)
    if child in ("node", "text", "comment") or (":" in child and child.partition(":")[0] not in ns):
        return None
    return m.group(2)[1:-1], child, m.group(3) is not None


def _below_root(part: str, ns: dict[str, str], root_tag: str) -> str | None:
    """*part* as a walk of the elements below the root (evaluated from the root element),
    where that selects what ``//part`` would: its first step names an element other than the
    root, or any element of a namespace the root is not in, and its predicates are not
    positional.  ``//`` would gather every node of the tree before looking at one; None
    where the two could differ."""
    if not _boolean_predicates(part):
        return None
    first = _FIRST_STEP.match(part)
    if first is not None:
        clark = _clark(first.group(1), ns)
        if clark is not None and clark != root_tag:
            return _by_attribute(part) or "descendant::" + part
    wild = re.match(_WILD_STEP, part)
    if wild is not None and ns.get(wild.group(1)) not in (None, _namespace_of(root_tag)):
        return _by_attribute(part) or "descendant::" + part
    return None


# "name[@a]" or "name[@a and @b]": a name test (prefix:local, local or prefix:*) whose one
# predicate asks only whether attributes are there
_ATTRIBUTES_ONLY = (r"^((?:[A-Za-z_][\w.\-]*:)?(?:[A-Za-z_][\w.\-]*|\*))"
                    r"\[\s*@((?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*)"
                    r"(?:\s+and\s+@((?:[A-Za-z_][\w.\-]*:)?[A-Za-z_][\w.\-]*))?\s*\]$")


def _by_attribute(part: str) -> str | None:
    """``descendant::name[@a and @b]`` reached through the attributes: the elements below the
    context that carry ``@a``, those of them that are ``name`` and carry ``@b``.  The same
    elements, in document order; libxml2 evaluates a predicate on every element the name
    test lets through, each one a small evaluation of its own, where a step along the
    attribute axis only compares names (a sixth of the cost on a person list's
    ``apd:*[@ValidFrom and @ValidTo]``).  None for any other *part*."""
    m = re.match(_ATTRIBUTES_ONLY, part)
    if m is None:
        return None
    name, first, second = m.groups()
    return f"(descendant::*/@{first})/parent::{name}" + (f"[@{second}]" if second else "")


def _seen_of(expr: str, check: int, ns: dict[str, str]) -> str:
    """*expr* with each ``P:seen(`` (P bound to egif's namespace) made ``P:seen-of(check, ``,
    outside string literals, so that one expression can hold the tests of many checks."""
    strings: list[tuple[int, int]] = []
    quote, start = "", 0
    for i, ch in enumerate(expr):
        if quote:
            if ch == quote:
                strings.append((start, i))
                quote = ""
        elif ch in "'\"":
            quote, start = ch, i

    def swap(m: re.Match[str]) -> str:
        if any(a <= m.start() <= b for a, b in strings) or ns.get(m.group(1)) != EGIF_FN_NS:
            return m.group(0)
        return f"{m.group(1)}:seen-of({check}, "

    return _SEEN_CALL.sub(swap, expr)


def _step_names(part: str) -> list[str]:
    """Local names of a pattern's element name tests outside predicates: an element of each
    must be in a document for the pattern to match there."""
    return [step.removeprefix("child::").rpartition(":")[2] for step in _steps(part)
            if _QNAME.fullmatch(step.removeprefix("child::"))]


def _steps(part: str) -> list[str]:
    """The steps of a path, split at top-level slashes, their predicates left out."""
    steps: list[str] = []
    depth = 0
    quote = ""
    step: list[str] = []
    for ch in part + "/":
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0 and ch == "/":
            steps.append("".join(step).strip())
            step = []
        elif depth == 0:
            step.append(ch)
    return steps[:-1] if steps and steps[-1] == "" and part.endswith("/") else steps


_BOOLEAN_CALL = re.compile(r"^(?:not|boolean|contains|starts-with|true|false|lang)\s*\(")
_PATH_ONLY = re.compile(r"^[@A-Za-z_.*][\w.\-:*/@]*$")
_TOP_OPERATOR = re.compile(r"\s(?:and|or)\s|!=|<|>|=")


def _boolean_predicates(part: str) -> bool:
    """Whether every predicate of *part*'s first step is a truth value, never a number.

    ``descendant::X[p]`` and ``//X[p]`` select the same elements unless ``p`` is a number
    or asks for a position, which the first reads along the descendants and the second
    among siblings (Schematron's meaning).  A predicate passes when it is a path (a node
    set), a call of a function returning a truth value, or holds ``and``, ``or`` or a
    comparison outside parentheses (these bind looser than arithmetic); anything else
    keeps the slower, always right ``//`` form."""
    return all(_is_truth(p) for p in predicates(part))


def _is_truth(predicate: str) -> bool:
    if POSITIONAL.search(predicate):
        return False  # the position along the axis: the axis matters, whatever the result
    if _PATH_ONLY.match(predicate) and not predicate[:1].isdigit():
        return True
    levels = depths(predicate, "([", ")]")
    if _BOOLEAN_CALL.match(predicate):
        opened = predicate.index("(")
        closing = next((j for j in range(opened + 1, len(predicate))
                        if predicate[j] == ")" and levels[j] == levels[opened]), -1)
        if closing == len(predicate) - 1:
            return True
    return any(_TOP_OPERATOR.match(predicate, i) for i, level in enumerate(levels) if level == 0)


def _namespace_of(clark: str) -> str:
    """The namespace of a Clark name (``""``: none)."""
    return clark[1:].partition("}")[0] if clark.startswith("{") else ""


def _clark(qname: str, ns: dict[str, str]) -> str | None:
    prefix, _, local = qname.rpartition(":")
    uri = ns.get(prefix) if prefix else ""
    if uri is None:
        return None
    return f"{{{uri}}}{local}" if uri else local


def _may_match(c: _Compiled, data: bytes, present: dict[str, bool]) -> bool:
    for names in c.names:
        for name in names:
            if name not in present:
                # an ASCII name is written the same in every encoding of the ASCII family; any
                # other name is taken as present (its bytes depend on the encoding)
                present[name] = not name.isascii() or name.encode("ascii") in data
            if not present[name]:
                break
        else:
            return True
    return False


def _call(xp: _XPath, node: etree._Element, variables: dict[str, Any], c: _Compiled) -> Any:
    try:
        return xp.xpath(node, **variables) if xp.variables else xp.xpath(node)
    except etree.XPathError as exc:
        raise SchemaCompileError(f"rule {c.rule.context!r} failed: {exc}", file=c.pattern.source) from None


def _elements(found: Any) -> list[etree._Element]:
    if not isinstance(found, list):
        return []
    return [n for n in found if isinstance(n, etree._Element)]


def _truth(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, float):
        return value == value and value != 0.0
    return bool(value)


_STRING = etree.XPath("string($v)")


def text_of(value: Any) -> str:
    """The XPath string value of an extension-function argument or a value-of result."""
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        value = value[0] if value else ""
        if isinstance(value, str):
            return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(_STRING(etree.Element("v"), v=value))


def short(text: str) -> str:
    """*text* on one line, cut at 200 characters."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."
