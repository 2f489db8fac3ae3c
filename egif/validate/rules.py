"""Business rules in ISO Schematron, run after the XSD pass.

egif runs its own small Schematron engine rather than ``lxml.isoschematron``
(which works with lxml 6, but reports SVRL locations without line numbers
and can only see a whole document).  The engine supports the part of ISO
Schematron that data-standard rules need, with XPath 1.0 as the query
language (``queryBinding`` absent, ``xslt`` or ``xpath``):

* ``sch:ns`` prefix bindings, ``sch:pattern`` (``@id``), ``sch:rule``
  (``@context``, ``@id``), ``sch:let`` inside a rule, ``sch:assert`` and
  ``sch:report`` (``@test``, ``@id``, ``@role``) with ``sch:value-of`` and
  ``sch:name`` in their messages.
* Within a pattern a node fires only the first rule whose context matches
  it, as the standard says.
* ``$today`` is bound to the validation date (``YYYY-MM-DD``).
* Functions in the namespace ``urn:egif:schematron`` (bind a prefix with
  ``sch:ns``): ``record-count()`` is the number of records of a collection
  document, ``seen(scope, value)`` is true when ``value`` was already seen
  under ``scope`` earlier in the same document (first occurrence: false).
  They let one rule speak about many records without holding them all.

Anything else (``sch:include``, abstract rules, phases, XSLT 2 binding) is
refused when the rules are loaded, so a rule never silently does nothing.

Collections are checked in bounded memory: each record is matched against
every rule on its own (relative contexts, evaluated inside the record), then
dropped; at the end the rules run once more over what is left of the
document (the root and its non-record children, such as a header), where
absolute contexts like ``/gze:GazetteerExtract`` fire.  Rules over a
collection must therefore not look from one record into another except
through ``seen()`` and ``record-count()``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from egif.errors import SchemaCompileError
from egif.model import Finding, Severity
from egif.validate.seen import CompactSeen
from egif.xmlsafe import parse_bytes

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
EGIF_FN_NS = "urn:egif:schematron"
_S = f"{{{SCH_NS}}}"
_ALLOWED_BINDINGS = {None, "", "xslt", "xslt1", "xpath", "exslt"}
_MAX_VALUE = 200


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 3] + "..."


class _State:
    """Per-document state read by the egif extension functions."""

    def __init__(self) -> None:
        self.record_count = 0
        self.seen: dict[str, CompactSeen] = {}

    def reset(self, record_count: int = 0) -> None:
        self.record_count = record_count
        self.seen = {}


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, etree._Element):
        return "".join(str(t) for t in value.itertext())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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


@dataclass
class _Check:
    kind: str  # "assert" or "report"
    test: etree.XPath
    test_text: str
    rule_id: str
    severity: Severity
    message: list[str | etree.XPath]  # text pieces and value-of selections


@dataclass
class _Rule:
    context_text: str
    in_document: list[etree.XPath]
    in_record: list[etree.XPath]
    lets: list[tuple[str, etree.XPath]]
    checks: list[_Check]


@dataclass
class _Pattern:
    id: str
    rules: list[_Rule]
    source: str


@dataclass
class RuleSet:
    """Compiled Schematron rules of one or more ``.sch`` documents."""

    patterns: list[_Pattern] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _state: _State = field(default_factory=_State)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    @property
    def rule_ids(self) -> list[str]:
        ids: list[str] = []
        for p in self.patterns:
            for r in p.rules:
                for c in r.checks:
                    if c.rule_id not in ids:
                        ids.append(c.rule_id)
        return ids

    def extend(self, other: RuleSet) -> None:
        self.patterns.extend(other.patterns)
        self.sources.extend(other.sources)

    # -- running -------------------------------------------------------------
    # Each ``*_nodes`` method yields ``(finding, element)`` pairs, the element
    # being the rule context that fired: callers that know better lines than
    # libxml2's (see egif.validate.ranges) correct the finding with it.
    def check_document(self, root: etree._Element, *, today: _dt.date, file: str | None = None,
                       record_tag: str | None = None,
                       record_index: Callable[[etree._Element], int | None] | None = None,
                       path_of: Callable[[etree._Element], str] | None = None) -> Iterator[Finding]:
        """Run every rule over a whole document (the root element given)."""
        for finding, _ctx in self.check_document_nodes(
                root, today=today, file=file, record_tag=record_tag, record_index=record_index,
                path_of=path_of):
            yield finding

    def check_document_nodes(self, root: etree._Element, *, today: _dt.date,
                             file: str | None = None, record_tag: str | None = None,
                             record_index: Callable[[etree._Element], int | None] | None = None,
                             path_of: Callable[[etree._Element], str] | None = None,
                             ) -> Iterator[tuple[Finding, etree._Element]]:
        count = 0
        if record_tag is not None:
            count = sum(1 for c in root if c.tag == record_tag)
        self._state.reset(count)
        yield from self._run(root, record_mode=False, today=today, file=file,
                             record=None, record_index=record_index, path_of=path_of)

    def begin_stream(self) -> None:
        self._state.reset(0)

    def check_record(self, record: etree._Element, index: int, *, today: _dt.date,
                     file: str | None = None,
                     path_of: Callable[[etree._Element], str] | None = None) -> Iterator[Finding]:
        """Run the relative-context rules inside one record of a collection."""
        for finding, _ctx in self.check_record_nodes(record, index, today=today, file=file,
                                                     path_of=path_of):
            yield finding

    def check_record_nodes(self, record: etree._Element, index: int, *, today: _dt.date,
                           file: str | None = None,
                           path_of: Callable[[etree._Element], str] | None = None,
                           ) -> Iterator[tuple[Finding, etree._Element]]:
        self._state.record_count = index
        yield from self._run(record, record_mode=True, today=today, file=file, record=index,
                             record_index=None, path_of=path_of)

    def finish_stream(self, skeleton: etree._Element, records: int, *, today: _dt.date,
                      file: str | None = None,
                      path_of: Callable[[etree._Element], str] | None = None) -> Iterator[Finding]:
        """Run the rules over what is left of a streamed collection (records removed)."""
        for finding, _ctx in self.finish_stream_nodes(skeleton, records, today=today, file=file,
                                                      path_of=path_of):
            yield finding

    def finish_stream_nodes(self, skeleton: etree._Element, records: int, *, today: _dt.date,
                            file: str | None = None,
                            path_of: Callable[[etree._Element], str] | None = None,
                            ) -> Iterator[tuple[Finding, etree._Element]]:
        self._state.record_count = records
        yield from self._run(skeleton, record_mode=False, today=today, file=file, record=None,
                             record_index=None, path_of=path_of)

    def _run(self, node: etree._Element, *, record_mode: bool, today: _dt.date, file: str | None,
             record: int | None, record_index: Callable[[etree._Element], int | None] | None,
             path_of: Callable[[etree._Element], str] | None,
             ) -> Iterator[tuple[Finding, etree._Element]]:
        variables = {"today": today.isoformat()}
        for pattern in self.patterns:
            fired: set[etree._Element] = set()
            for rule in pattern.rules:
                finders = rule.in_record if record_mode else rule.in_document
                for finder in finders:
                    try:
                        matched = finder(node, **variables)
                    except etree.XPathError as exc:
                        raise SchemaCompileError(
                            f"rule context {rule.context_text!r} failed: {exc}",
                            file=pattern.source) from None
                    if not isinstance(matched, list):
                        continue
                    for ctx in matched:
                        if not isinstance(ctx, etree._Element) or ctx in fired:
                            continue
                        fired.add(ctx)
                        yield from self._fire(rule, ctx, variables, pattern, file=file,
                                              record=record if record is not None else (
                                                  record_index(ctx) if record_index else None),
                                              path_of=path_of)

    def _fire(self, rule: _Rule, ctx: etree._Element, variables: dict[str, Any], pattern: _Pattern, *,
              file: str | None, record: int | None,
              path_of: Callable[[etree._Element], str] | None,
              ) -> Iterator[tuple[Finding, etree._Element]]:
        local = dict(variables)
        for name, expr in rule.lets:
            local[name] = expr(ctx, **local)
        for check in rule.checks:
            try:
                result = check.test(ctx, **local)
            except etree.XPathError as exc:
                raise SchemaCompileError(f"rule test {check.test_text!r} failed: {exc}",
                                         file=pattern.source) from None
            ok = _truth(result)
            failed = (not ok) if check.kind == "assert" else ok
            if not failed:
                continue
            pieces = []
            for piece in check.message:
                if isinstance(piece, str):
                    pieces.append(piece)
                else:
                    pieces.append(_short(_text(piece(ctx, **local))))
            message = " ".join("".join(pieces).split()) or f"{check.kind} failed: {check.test_text}"
            line = getattr(ctx, "sourceline", None)
            yield Finding(
                message=_short(message) if len(message) > 4 * _MAX_VALUE else message,
                rule=check.rule_id, severity=check.severity, file=file,
                line=line if isinstance(line, int) and line > 0 else None, column=None,
                path=path_of(ctx) if path_of else None, record=record,
            ), ctx


def _truth(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, float):
        return value == value and value != 0.0
    return bool(value)


# -- loading ----------------------------------------------------------------
def _extensions(state: _State) -> dict[tuple[str, str], Callable[..., Any]]:
    def record_count(_ctx: Any) -> float:
        return float(state.record_count)

    def seen(_ctx: Any, scope: Any, value: Any) -> bool:
        scope_key = _text(scope)
        bucket = state.seen.get(scope_key)
        if bucket is None:
            bucket = state.seen[scope_key] = CompactSeen()
        return bucket.add(_text(value).strip())

    return {(EGIF_FN_NS, "record-count"): record_count, (EGIF_FN_NS, "seen"): seen}


def load_rules(sources: Iterable[tuple[str, bytes]]) -> RuleSet:
    """Compile Schematron documents, given as ``(name, bytes)`` pairs, into one rule set."""
    ruleset = RuleSet()
    ext = _extensions(ruleset._state)
    for name, data in sources:
        ruleset.patterns.extend(_compile(name, data, ext))
        ruleset.sources.append(name)
    return ruleset


def _compile(name: str, data: bytes, ext: dict[tuple[str, str], Callable[..., Any]]) -> list[_Pattern]:
    root = parse_bytes(data, name).getroot()
    if root.tag != f"{_S}schema":
        raise SchemaCompileError("not an ISO Schematron schema (root must be sch:schema in "
                                 f"{SCH_NS})", file=name)
    binding = root.get("queryBinding")
    if (binding or "").lower() not in _ALLOWED_BINDINGS:
        raise SchemaCompileError(f"queryBinding {binding!r} is not supported (XPath 1.0 only)",
                                 file=name)
    namespaces: dict[str, str] = {"egif": EGIF_FN_NS}
    for ns in root.iter(f"{_S}ns"):
        prefix, uri = ns.get("prefix"), ns.get("uri")
        if not prefix or uri is None:
            raise SchemaCompileError("sch:ns needs prefix and uri", file=name)
        namespaces[prefix] = uri

    def xp(expr: str, what: str) -> etree.XPath:
        try:
            return etree.XPath(expr, namespaces=namespaces, extensions=ext)
        except etree.XPathSyntaxError as exc:
            raise SchemaCompileError(f"{what} {expr!r} is not valid XPath 1.0: {exc}",
                                     file=name) from None

    for child in root:
        if not isinstance(child.tag, str):
            continue
        if child.tag not in (f"{_S}ns", f"{_S}pattern", f"{_S}title", f"{_S}p"):
            raise SchemaCompileError(
                f"unsupported Schematron element {etree.QName(child).localname!r} "
                f"(line {child.sourceline})", file=name)

    patterns = []
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
            in_doc, in_rec = [], []
            for part in split_union(context):
                if part.startswith("//"):
                    in_doc.append(xp(part, "rule context"))
                    in_rec.append(xp("descendant-or-self::" + part[2:], "rule context"))
                elif part.startswith("/"):
                    in_doc.append(xp(part, "rule context"))
                else:
                    in_doc.append(xp("//" + part, "rule context"))
                    in_rec.append(xp("descendant-or-self::" + part, "rule context"))
            lets = []
            checks = []
            for item in rule:
                if not isinstance(item.tag, str):
                    continue
                local = etree.QName(item).localname
                if local == "let":
                    lname, value = item.get("name"), item.get("value")
                    if not lname or value is None:
                        raise SchemaCompileError(f"sch:let needs name and value (line {item.sourceline})",
                                                 file=name)
                    lets.append((lname, xp(value, "let")))
                elif local in ("assert", "report"):
                    test = item.get("test")
                    if not test:
                        raise SchemaCompileError(f"sch:{local} without test (line {item.sourceline})",
                                                 file=name)
                    role = (item.get("role") or "").lower()
                    severity = (Severity.WARNING if role in ("warning", "warn")
                                else Severity.INFO if role in ("info", "information")
                                else Severity.ERROR)
                    checks.append(_Check(
                        kind=local, test=xp(test, "test"), test_text=test,
                        rule_id=item.get("id") or rule.get("id") or pid, severity=severity,
                        message=_message(item, xp)))
                elif local in ("title", "p"):
                    continue
                else:
                    raise SchemaCompileError(
                        f"unsupported Schematron element {local!r} in a rule (line {item.sourceline})",
                        file=name)
            rules.append(_Rule(context, in_doc, in_rec, lets, checks))
        patterns.append(_Pattern(pid, rules, name))
    return patterns


def _message(item: etree._Element, xp: Callable[[str, str], etree.XPath]) -> list[str | etree.XPath]:
    pieces: list[str | etree.XPath] = [item.text or ""]
    for sub in item:
        if isinstance(sub.tag, str):
            local = etree.QName(sub).localname
            if local == "value-of":
                pieces.append(xp(sub.get("select") or ".", "value-of"))
            elif local == "name":
                pieces.append(xp(f"name({sub.get('path') or '.'})", "name"))
            else:
                pieces.append("".join(str(t) for t in sub.itertext()))
        pieces.append(sub.tail or "")
    return pieces
