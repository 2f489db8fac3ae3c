"""Reading ISO Schematron documents into a :class:`RuleSet`.

egif runs its own small Schematron engine (``lxml.isoschematron`` reports no
line numbers and sees only whole documents).  It supports the part of ISO
Schematron that data-standard rules need, with XPath 1.0 as the query
language (``queryBinding`` absent, ``xslt`` or ``xpath``):

* ``sch:ns`` prefix bindings, ``sch:pattern`` (``@id``), ``sch:rule``
  (``@context``, ``@id``), ``sch:let`` inside a rule, ``sch:assert`` and
  ``sch:report`` (``@test``, ``@id``, ``@role``) with ``sch:value-of`` and
  ``sch:name`` in their messages;
* within a pattern a node fires only the first rule whose context matches it;
* ``$today`` is the validation date (``YYYY-MM-DD``);
* in the namespace ``urn:egif:schematron``: ``record-count()``, the number
  of records of the collection, and ``seen(scope, value)`` (see
  :mod:`egif.validate.schematron.state`).

A rule context is an XSLT pattern (``gze:AddressRecord[...]``,
``a/b``, ``/root/header``), as the ``xslt`` binding says.  Anything else
(``sch:include``, abstract rules and patterns, phases, an XSLT 2 binding)
is refused when the rules are loaded, and so is ``position()`` or ``last()``
outside a predicate of a test or ``sch:let``: a rule context has no position
among other contexts, and the answer would depend on how a document was cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import field
from typing import NamedTuple

from lxml import etree

from egif.errors import SchemaCompileError
from egif.model import Severity
from egif.record import record
from egif.xmlsafe import parse_bytes

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
EGIF_FN_NS = "urn:egif:schematron"
_S = f"{{{SCH_NS}}}"
_ALLOWED_BINDINGS = {None, "", "xslt", "xslt1", "xpath", "exslt"}
EXSLT_REGEXP_NS = "http://exslt.org/regular-expressions"
_MAX_INLINED = 20_000  # characters of a test with its lets written in


@record(frozen=False)
class Check:
    """One sch:assert or sch:report."""

    index: int  # position in the rule set: seen() keeps sets per check
    kind: str  # "assert" or "report"
    test: str  # as written
    rule_id: str
    severity: Severity
    message: list[tuple[str, str]]  # ("text", words) | ("xpath", expression)
    inlined: str | None  # the test with the rule's lets written in; None when they cannot be

    def __init__(self, index: int, kind: str, test: str, rule_id: str, severity: Severity,
                 message: list[tuple[str, str]], inlined: str | None) -> None:
        self.index = index
        self.kind = kind
        self.test = test
        self.rule_id = rule_id
        self.severity = severity
        self.message = message
        self.inlined = inlined


class Rule(NamedTuple):
    """One sch:rule: a context (an XSLT pattern), lets and checks."""

    context: str
    parts: list[str]  # the context's union split at top level
    lets: list[tuple[str, str]]  # (name, expression)
    checks: list[Check]


class Pattern(NamedTuple):
    id: str
    rules: list[Rule]
    source: str
    namespaces: dict[str, str]


@record(frozen=False)
class RuleSet:
    """Schematron rules compiled from one or more documents."""

    patterns: list[Pattern] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    documents: list[tuple[str, bytes]] = field(default_factory=list)  # to rebuild in a worker
    programs: dict[tuple[object, ...], object] = field(default_factory=dict, repr=False, compare=False)

    def __init__(self, patterns: list[Pattern] | None = None, sources: list[str] | None = None,
                 documents: list[tuple[str, bytes]] | None = None,
                 programs: dict[tuple[object, ...], object] | None = None) -> None:
        self.patterns = [] if patterns is None else patterns
        self.sources = [] if sources is None else sources
        self.documents = [] if documents is None else documents
        self.programs = {} if programs is None else programs

    def __bool__(self) -> bool:
        return bool(self.patterns)

    @property
    def rule_ids(self) -> list[str]:
        """The distinct rule ids, in document order."""
        ids: list[str] = []
        for p in self.patterns:
            for r in p.rules:
                for c in r.checks:
                    if c.rule_id not in ids:
                        ids.append(c.rule_id)
        return ids

    @property
    def checks(self) -> list[Check]:
        return [c for p in self.patterns for r in p.rules for c in r.checks]


def load_rules(sources: Iterable[tuple[str, bytes]]) -> RuleSet:
    """Compile Schematron documents, given as ``(name, bytes)`` pairs, into one rule set."""
    ruleset = RuleSet()
    for name, data in sources:
        ruleset.patterns.extend(_compile(name, data, len(ruleset.checks)))
        ruleset.sources.append(name)
        ruleset.documents.append((name, data))
    return ruleset


def split_union(expr: str) -> list[str]:
    """Split an XPath union ``a | b`` at top level (not inside [] () or quotes)."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(expr):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(expr[start:i].strip())
            start = i + 1
    parts.append(expr[start:].strip())
    return [p for p in parts if p]


VARIABLE = re.compile(r"\$([A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)")
POSITIONAL = re.compile(r"\b(?:position|last)\s*\(")  # a call asking for the context position


def depths(expr: str, opening: str = "[", closing: str = "]") -> list[int]:
    """For each character: its predicate depth (brackets; any of *opening* / *closing*
    when given), an opening or closing one counted at the depth outside it, or -1 inside
    a string literal."""
    out: list[int] = []
    depth = 0
    quote = ""
    for ch in expr:
        if quote:
            out.append(-1)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(-1)
        elif ch in opening:
            out.append(depth)
            depth += 1
        elif ch in closing:
            depth -= 1
            out.append(depth)
        else:
            out.append(depth)
    return out


def predicates(expr: str) -> list[str]:
    """The predicates ``[...]`` of a path's first step (its text up to the first slash
    outside brackets and quotes), stripped."""
    levels = depths(expr)
    found: list[str] = []
    start = -1
    for i, ch in enumerate(expr):
        if levels[i] != 0:
            continue
        if ch == "/":
            break  # the first step ends here
        if ch == "[":
            start = i + 1
        elif ch == "]" and start >= 0:
            found.append(expr[start:i].strip())
            start = -1
    return found


def _references(expr: str) -> tuple[list[re.Match[str]], bool]:
    """Variable references outside string literals, and whether all are outside predicates."""
    levels = depths(expr)
    found = [m for m in VARIABLE.finditer(expr) if levels[m.start()] >= 0]
    return found, all(levels[m.start()] == 0 for m in found)


def _positional_outside_predicates(expr: str) -> bool:
    levels = depths(expr)
    return any(levels[m.start()] == 0 for m in POSITIONAL.finditer(expr))


def inline_lets(expr: str, lets: dict[str, str | None]) -> str | None:
    """*expr* with each reference to a let replaced by ``(its expression)``; None when a
    reference stands inside a predicate (where the context node is another) or names a
    let that could not itself be written in."""
    refs, outside = _references(expr)
    used = [m for m in refs if m.group(1) in lets]
    if not used:
        return expr
    if not outside:
        return None
    out = []
    last = 0
    for m in used:
        value = lets[m.group(1)]
        if value is None:
            return None
        out.append(expr[last:m.start()] + "(" + value + ")")
        last = m.end()
    out.append(expr[last:])
    text = "".join(out)
    return text if len(text) <= _MAX_INLINED else None


def _compile(name: str, data: bytes, first_index: int) -> list[Pattern]:
    root = parse_bytes(data, name).getroot()
    if root.tag != f"{_S}schema":
        raise SchemaCompileError(f"not an ISO Schematron schema (root must be sch:schema in {SCH_NS})",
                                 file=name)
    binding = root.get("queryBinding")
    if (binding or "").lower() not in _ALLOWED_BINDINGS:
        raise SchemaCompileError(f"queryBinding {binding!r} is not supported (XPath 1.0 only)", file=name)
    namespaces: dict[str, str] = {"egif": EGIF_FN_NS}
    for ns in root.iter(f"{_S}ns"):
        prefix, uri = ns.get("prefix"), ns.get("uri")
        if not prefix or uri is None:
            raise SchemaCompileError("sch:ns needs prefix and uri", file=name)
        if uri == EXSLT_REGEXP_NS:
            raise SchemaCompileError(
                f"sch:ns {prefix!r} binds EXSLT's regular expressions ({uri}), which rules may not use: "
                "they would run on Python's regular expressions, where one pattern can take hours; "
                "use the schema's xs:pattern for what a value looks like", file=name)
        namespaces[prefix] = uri

    def check_xpath(expr: str, what: str, line: int | None) -> None:
        try:
            etree.XPath(expr, namespaces=namespaces, regexp=False)
        except etree.XPathSyntaxError as exc:
            raise SchemaCompileError(f"{what} {expr!r} is not valid XPath 1.0: {exc}", file=name) from None
        if what in ("test", "let") and _positional_outside_predicates(expr):
            raise SchemaCompileError(
                f"{what} {expr!r} (line {line}) uses position() or last() outside a predicate: a "
                "rule context has no position among other contexts", file=name)

    for child in root:
        if isinstance(child.tag, str) and child.tag not in (f"{_S}ns", f"{_S}pattern", f"{_S}title", f"{_S}p"):
            raise SchemaCompileError(f"unsupported Schematron element {etree.QName(child).localname!r} "
                                     f"(line {child.sourceline})", file=name)
    patterns = []
    index = first_index
    for pi, pat in enumerate(root.iter(f"{_S}pattern"), 1):
        if pat.get("abstract") == "true" or pat.get("is-a"):
            raise SchemaCompileError("abstract patterns are not supported", file=name)
        pid = pat.get("id") or f"pattern-{pi}"
        rules = []
        for rule in pat.iter(f"{_S}rule"):
            if rule.get("abstract") == "true":
                raise SchemaCompileError("abstract rules are not supported", file=name)
            context = rule.get("context")
            if not context:
                raise SchemaCompileError(f"rule without context (line {rule.sourceline})", file=name)
            parts = split_union(context)
            for part in parts:
                check_xpath(part if part.startswith("/") else "//" + part, "rule context", _line(rule))
            lets: list[tuple[str, str]] = []
            inlined_lets: dict[str, str | None] = {}
            checks: list[Check] = []
            for item in rule:
                if not isinstance(item.tag, str):
                    continue
                local = etree.QName(item).localname
                if local == "let":
                    lname, value = item.get("name"), item.get("value")
                    if not lname or value is None:
                        raise SchemaCompileError(f"sch:let needs name and value (line {item.sourceline})",
                                                 file=name)
                    check_xpath(value, "let", _line(item))
                    lets.append((lname, value))
                    inlined_lets[lname] = inline_lets(value, inlined_lets)
                elif local in ("assert", "report"):
                    test = item.get("test")
                    if not test:
                        raise SchemaCompileError(f"sch:{local} without test (line {item.sourceline})", file=name)
                    check_xpath(test, "test", _line(item))
                    role = (item.get("role") or "").lower()
                    severity = (Severity.WARNING if role in ("warning", "warn")
                                else Severity.INFO if role in ("info", "information") else Severity.ERROR)
                    checks.append(Check(
                        index=index, kind=local, test=test, rule_id=item.get("id") or rule.get("id") or pid,
                        severity=severity, message=_message(item, check_xpath),
                        inlined=inline_lets(test, inlined_lets)))
                    index += 1
                elif local not in ("title", "p"):
                    raise SchemaCompileError(
                        f"unsupported Schematron element {local!r} in a rule (line {item.sourceline})", file=name)
            rules.append(Rule(context, parts, lets, checks))
        patterns.append(Pattern(pid, rules, name, namespaces))
    return patterns


def _message(item: etree._Element, check: object) -> list[tuple[str, str]]:
    pieces: list[tuple[str, str]] = [("text", item.text or "")]
    for sub in item:
        if isinstance(sub.tag, str):
            local = etree.QName(sub).localname
            if local == "value-of":
                pieces.append(("xpath", sub.get("select") or "."))
            elif local == "name":
                pieces.append(("xpath", f"name({sub.get('path') or '.'})"))
            else:
                pieces.append(("text", "".join(str(t) for t in sub.itertext())))
        pieces.append(("text", sub.tail or ""))
    for kind, text in pieces:
        if kind == "xpath":
            check(text, "value-of", _line(item))  # type: ignore[operator]
    return pieces


def _line(el: etree._Element) -> int | None:
    line = el.sourceline
    return line if isinstance(line, int) else None
