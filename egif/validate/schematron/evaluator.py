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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from egif.errors import SchemaCompileError
from egif.validate.schematron.loader import EGIF_FN_NS, Check, Pattern, Rule, RuleSet
from egif.validate.schematron.state import Book

RECORDS = "records"
REST = "rest"
_MAX_VALUE = 200
_FIRST_STEP = re.compile(r"^([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)(?=$|[\[/])")
# keeps only nodes inside a child of the root: not the root, not the root's attributes
_IN_RECORD = "[ancestor-or-self::*[parent::*]]"


class RecordCountInRecord(Exception):
    """``record-count()`` was called in a context inside a record."""


@dataclass
class Firing:
    """A failed assert or a successful report, on one node."""

    node: etree._Element
    check: Check
    message: str


class _Env:
    """What the extension functions read while a program runs."""

    def __init__(self) -> None:
        self.book: Book | None = None
        self.record_count: int | None = None


@dataclass
class _Compiled:
    rule: Rule
    pattern: Pattern
    contexts: etree.XPath  # every context node of the rule, in document order
    lets: list[tuple[str, etree.XPath]]
    tests: list[tuple[Check, etree.XPath, etree.XPath | None]]  # (check, per-node test, all at once)
    messages: dict[int, list[str | etree.XPath]]


def program(ruleset: RuleSet, root_tag: str, phase: str) -> Program:
    """The rule set made ready for root element *root_tag* and *phase* (cached)."""
    found = ruleset.programs.get((root_tag, phase))
    if not isinstance(found, Program):
        found = ruleset.programs[(root_tag, phase)] = Program(ruleset, root_tag, phase)
    return found


class Program:
    """A rule set made ready for one root element and one phase.

    ``run(root, book, ...)`` evaluates it over the tree under *root* and returns
    the firings in evaluation order: pattern by pattern, rule by rule, check by
    check, nodes in document order.
    """

    def __init__(self, ruleset: RuleSet, root_tag: str, phase: str) -> None:
        self.phase = phase
        self.env = _Env()
        self.compiled: list[list[_Compiled]] = []
        for pattern in ruleset.patterns:
            alone = len(pattern.rules) == 1
            self.compiled.append([self._compile(pattern, rule, root_tag, alone) for rule in pattern.rules])

    def _compile(self, pattern: Pattern, rule: Rule, root_tag: str, alone: bool) -> _Compiled:
        ns = pattern.namespaces
        parts = [self._context(p, ns, root_tag) for p in rule.parts]
        union = parts[0] if len(parts) == 1 else " | ".join(parts)

        def xp(expr: str, check: int | None = None) -> etree.XPath:
            try:
                return etree.XPath(expr, namespaces=ns, extensions=self._extensions(check))
            except etree.XPathSyntaxError as exc:
                raise SchemaCompileError(f"rule {rule.context!r}: {exc}", file=pattern.source) from None

        tests = []
        messages: dict[int, list[str | etree.XPath]] = {}
        for check in rule.checks:
            at_once = None
            if alone and check.inlined is not None:
                condition = f"not({check.inlined})" if check.kind == "assert" else f"boolean({check.inlined})"
                at_once = xp(f"({union})[{condition}]", check.index)
            tests.append((check, xp(check.test, check.index), at_once))
            messages[check.index] = [text if kind == "text" else xp(text) for kind, text in check.message]
        return _Compiled(rule, pattern, xp(f"({union})"), [(n, xp(v)) for n, v in rule.lets], tests, messages)

    def _context(self, part: str, ns: dict[str, str], root_tag: str) -> str:
        if self.phase == REST:
            return part if part.startswith("/") else "//" + part
        if part.startswith("/"):
            return part + _IN_RECORD
        first = _FIRST_STEP.match(part)
        if first is not None:
            prefix, _, local = first.group(1).rpartition(":")
            uri = ns.get(prefix) if prefix else ""
            clark = f"{{{uri}}}{local}" if uri else local
            if uri is not None and clark != root_tag:
                # the first step names an element other than the root: every match lies
                # below the root, so inside a record (the root's other children are out)
                return "descendant::" + part
        return "//" + part + _IN_RECORD

    def _extensions(self, check: int | None) -> dict[tuple[str, str], Callable[..., Any]]:
        env = self.env
        phase = self.phase

        def record_count(_ctx: Any) -> float:
            if phase == RECORDS or env.record_count is None:
                raise RecordCountInRecord
            return float(env.record_count)

        def seen(_ctx: Any, scope: Any, value: Any) -> bool:
            if check is None or env.book is None:
                raise SchemaCompileError("egif:seen() may only be called in the test of an assert or report")
            return env.book.seen(check, text_of(scope), text_of(value).strip())

        return {(EGIF_FN_NS, "record-count"): record_count, (EGIF_FN_NS, "seen"): seen}

    def run(self, root: etree._Element, book: Book, *, today: str,
            record_count: int | None = None) -> list[Firing]:
        """Evaluate every rule under *root*; *book* answers ``seen()``."""
        self.env.book = book
        self.env.record_count = record_count
        variables = {"today": today}
        firings: list[Firing] = []
        try:
            for rules in self.compiled:
                if len(rules) == 1 and all(at_once is not None for _c, _t, at_once in rules[0].tests):
                    self._at_once(rules[0], root, variables, firings)
                else:
                    self._node_by_node(rules, root, variables, firings)
        except RecordCountInRecord:
            raise SchemaCompileError(
                "egif:record-count() is called in a rule whose context lies inside a record; the "
                "count is known only at the end: use it in a rule on the root or a header") from None
        finally:
            self.env.book = None
        return firings

    def _at_once(self, c: _Compiled, root: etree._Element, variables: dict[str, str],
                 firings: list[Firing]) -> None:
        for check, _test, at_once in c.tests:
            assert at_once is not None
            for node in _elements(_call(at_once, root, variables, c)):
                firings.append(Firing(node, check, self._message(c, check, node, variables)))

    def _node_by_node(self, rules: list[_Compiled], root: etree._Element, variables: dict[str, str],
                      firings: list[Firing]) -> None:
        claimed: set[etree._Element] = set()
        for c in rules:
            nodes = [n for n in _elements(_call(c.contexts, root, variables, c)) if n not in claimed]
            claimed.update(nodes)
            if not nodes:
                continue
            scopes = [self._lets(c, node, variables) for node in nodes]
            for check, test, _at_once in c.tests:
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


def _call(xpath: etree.XPath, node: etree._Element, variables: dict[str, Any], c: _Compiled) -> Any:
    try:
        return xpath(node, **variables)
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


def text_of(value: Any) -> str:
    """The XPath string value of an extension-function argument or a value-of result."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, etree._Element):
        return "".join(str(t) for t in value.itertext())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def short(text: str) -> str:
    """*text* on one line, cut at 200 characters."""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."
