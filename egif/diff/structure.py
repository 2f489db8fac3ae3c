"""Content models compared by their particle trees, without expanding occurrence bounds.

Real message schemas repeat children up to 99, 999 or 9999 times; expanding
those bounds into automaton states costs more than the rest of a comparison.
Two versions of a content model usually share most of their tree, so
inclusion is first tried structurally, by rules each of which is sound on its
own:

* ``p{a,b}`` is included in ``q{c,d}`` when ``p`` is included in ``q``,
  ``b <= d``, and ``c <= a`` (or ``q`` accepts the empty sequence);
* a sequence is included in a sequence when its particles map, in order, to
  particles that include them and every particle left over accepts the empty
  sequence; an ``xs:all`` likewise, in any order;
* a choice is included in anything that includes each of its alternatives,
  and anything is included in a choice one of whose alternatives includes it;
* an element particle is included in another (or in a wildcard) when every
  name it accepts is accepted there; the declarations for each name become
  pairs to compare.

When the rules do not apply, the caller falls back to the automata of
:mod:`egif.diff.model`, which decide exactly.  Minimal words (the children of
a smallest instance, with one particle forced to appear) are built on the
tree as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from egif.diff.model import FRESH_NS, NONE, Side

HOLE = ("", NONE)  # marks where a forced particle's element goes in a word


@dataclass(eq=False)
class Node:
    kind: str  # "el" | "any" | "seq" | "choice" | "all"
    lo: int
    hi: int | None
    children: list[Node] = field(default_factory=list)
    particle: Any = None

    @property
    def nullable(self) -> bool:
        return self.lo == 0 or self.inner_nullable

    @property
    def inner_nullable(self) -> bool:
        if self.kind in ("el", "any"):
            return False
        if self.kind == "choice":
            return any(c.nullable for c in self.children)
        return all(c.nullable for c in self.children)


def tree(group: Any) -> Node | None:
    """The normalised tree of a content model (None for no content)."""
    if group is None:
        return None
    return _norm(group)


def _occurs(p: Any) -> tuple[int, int | None]:
    lo = int(getattr(p, "min_occurs", 1) or 0)
    hi = getattr(p, "max_occurs", 1)
    return lo, None if hi is None else int(hi)


def _norm(p: Any) -> Node:
    lo, hi = _occurs(p)
    kind = type(p).__name__
    if kind == "XsdElement":
        return Node("el", lo, hi, particle=p)
    if kind == "XsdAnyElement":
        return Node("any", lo, hi, particle=p)
    model = getattr(p, "model", None) or "sequence"
    k = {"sequence": "seq", "choice": "choice", "all": "all"}.get(model, "seq")
    children: list[Node] = []
    for c in p:
        n = _norm(c)
        if n.kind == k and k in ("seq", "choice") and (n.lo, n.hi) == (1, 1):
            children.extend(n.children)  # (a, (b, c)) is (a, b, c)
        else:
            children.append(n)
    node = Node(k, lo, hi, children, p)
    if len(children) == 1 and k != "all":
        only = children[0]
        if (lo, hi) == (1, 1):
            return only
        if (only.lo, only.hi) == (1, 1):
            only = Node(only.kind, lo, hi, only.children, only.particle)
            return only
    return node


def _counted(n: Node) -> bool:
    return (n.hi is not None and n.hi > 1) or n.lo > 1


def _repeats(n: Node) -> bool:
    return n.hi is None or n.hi > 1


def counts_apart(n: Node | None, in_repeat: bool = False) -> bool:
    """Whether libxml2 may accept other children than XSD says here: a group with counted
    occurrences (a bound above one) whose content can be empty, inside a repeated group or
    around a repeated particle. libxml2 builds such nested counters its own way (found by
    comparing it word by word with the regular expression of random content models: every
    model it read differently had this shape)."""
    if n is None:
        return False
    if (n.kind in ("seq", "choice") and _counted(n) and n.inner_nullable
            and (in_repeat or any(_repeats(c) for c in n.children))):
        return True
    return any(counts_apart(c, in_repeat or _repeats(n)) for c in n.children)


def same_shape(a: Node | None, b: Node | None) -> bool:
    """Whether two content trees are written alike (the same groups, bounds, names and
    wildcards in the same order), so that libxml2 builds the same automaton for both."""
    if a is None or b is None:
        return a is b
    if (a.kind, a.lo, a.hi, len(a.children)) != (b.kind, b.lo, b.hi, len(b.children)):
        return False
    if a.kind == "el" and getattr(a.particle, "name", None) != getattr(b.particle, "name", None):
        return False
    if a.kind == "any" and any(getattr(a.particle, k, None) != getattr(b.particle, k, None)
                               for k in ("namespace", "not_namespace", "process_contents")):
        return False
    return all(same_shape(x, y) for x, y in zip(a.children, b.children, strict=True))


@dataclass
class Match:
    """A structural inclusion: element pairs to compare and wildcard pairs to check."""

    elements: list[tuple[str, Any, Any, Node]] = field(default_factory=list)  # (name, old decl, new rule, old node)
    wildcards: list[tuple[Node, Node]] = field(default_factory=list)  # (old node, new node)


class Structural:
    """Structural inclusion between two sides' content trees (None: the rules do not apply)."""

    def __init__(self, src: Side, tgt: Side) -> None:
        self.src = src
        self.tgt = tgt
        self._memo: dict[tuple[int, int], Match | None] = {}

    def includes(self, o: Node | None, n: Node | None) -> Match | None:
        if o is None:
            return Match() if n is None or n.nullable else None
        if n is None:
            return Match() if o.inner_nullable and o.kind != "el" and not o.children else None
        if same_shape(o, n):
            # written alike (an unchanged model, the usual case between versions): each
            # particle stands for its counterpart, found in one walk instead of a search
            paired = self._paired(o, n, Match())
            if paired is not None:
                return paired
        return self._sub(o, n)

    def _paired(self, o: Node, n: Node, into: Match) -> Match | None:
        """The match of two trees of the same shape, particle for particle; None when an
        element's names differ (substitution groups), for the general search to decide."""
        if o.kind == "el":
            m = self._elements(o, n)
            if m is None:
                return None
            _merge(into, m)
        elif o.kind == "any":
            into.wildcards.append((o, n))
        for a, b in zip(o.children, n.children, strict=True):
            if self._paired(a, b, into) is None:
                return None
        return into

    def _sub(self, o: Node, n: Node) -> Match | None:
        key = (id(o), id(n))
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # no recursion through the same pair
        got = self._sub_uncached(o, n)
        self._memo[key] = got
        return got

    def _range_ok(self, o: Node, n: Node) -> bool:
        n_lo = 0 if n.inner_nullable else n.lo
        if n_lo > o.lo:
            return False
        if n.hi is None:
            return True
        return o.hi is not None and o.hi <= n.hi

    def _sub_uncached(self, o: Node, n: Node) -> Match | None:
        # a choice taken once is included where each alternative is
        if o.kind == "choice" and (o.lo, o.hi) == (1, 1):
            out = Match()
            for c in o.children:
                m = self._sub(c, n)
                if m is None:
                    return None
                _merge(out, m)
            return out
        # anything is included in a choice (taken once) that has an including alternative
        if n.kind == "choice" and (n.lo, n.hi) == (1, 1) and o.kind != "choice":
            for c in self._by_fit(o, n.children):
                m = self._sub(o, c)
                if m is not None:
                    return m
            return None
        if not self._range_ok(o, n):
            return None
        if o.kind == "el":
            if n.kind == "el":
                return self._elements(o, n)
            if n.kind == "any":
                return self._element_in_wildcard(o, n)
            if n.kind == "seq":
                return self._seq([_once(o)], n.children) if (o.lo, o.hi) == (1, 1) else None
            return None
        if o.kind == "any":
            if n.kind == "any":
                return Match(wildcards=[(o, n)])
            return None
        if o.kind == "seq" and n.kind == "seq":
            return self._seq(o.children, n.children)
        if o.kind == "all" and n.kind == "all":
            return self._all(o.children, n.children)
        if o.kind == "choice" and n.kind == "choice":
            out = Match()
            for c in o.children:
                found = None
                for d in self._by_fit(c, n.children):
                    found = self._sub(c, d)
                    if found is not None:
                        break
                if found is None:
                    return None
                _merge(out, found)
            return out
        if n.kind == "seq" and (o.lo, o.hi) == (1, 1):
            return self._seq([o], n.children)
        return None

    def _by_fit(self, o: Node, alternatives: list[Node]) -> list[Node]:
        """The alternatives of a choice in the order to try *o* against: for a wildcard, first
        the wildcards that admit all it admits (any two wildcards pair up, so the first one
        would otherwise be taken for all), else as written."""
        if o.kind != "any":
            return alternatives
        return sorted(alternatives, key=lambda n: 2 if n.kind != "any" else self._wildcard_misfit(o, n))

    def _wildcard_misfit(self, o: Node, n: Node) -> int:
        """0 when new wildcard *n* admits every namespace old wildcard *o* does (among those
        either schema names, the empty one and one neither names) and checks what it admits
        no more strictly; 1 when only the namespaces fit; 2 when they do not."""
        w1, w2 = o.particle, n.particle
        probe = {"", FRESH_NS, self.src.schema.target_namespace or "", self.tgt.schema.target_namespace or ""}
        probe.update(self.src.elements_by_ns, self.tgt.elements_by_ns)
        for w in (w1, w2):
            probe.update(x for x in (getattr(w, "namespace", None) or []) if not x.startswith("##"))
        if any(w1.is_namespace_allowed(ns) and not w2.is_namespace_allowed(ns) for ns in probe):
            return 2
        lenient = {"strict": 0, "lax": 1, "skip": 2}
        return 0 if lenient.get(w2.process_contents, 0) >= lenient.get(w1.process_contents, 0) else 1

    def _elements(self, o: Node, n: Node) -> Match | None:
        old_names = self.src.element_names(o.particle)
        new_names = dict(self.tgt.element_names(n.particle))
        out = Match()
        for name, decl in old_names:
            if name not in new_names:
                return None
            out.elements.append((name, decl, self.tgt.rule(new_names[name]), o))
        return out

    def _element_in_wildcard(self, o: Node, n: Node) -> Match | None:
        out = Match()
        w = n.particle
        for name, decl in self.src.element_names(o.particle):
            from egif.diff.model import Label

            rule = self.tgt.label_rule(Label("any", w, id(w)), name)
            if rule is None or rule.kind == "none":
                return None
            out.elements.append((name, decl, rule, o))
        return out

    def _seq(self, olds: list[Node], news: list[Node]) -> Match | None:
        """Map ``olds`` in order onto ``news``; unmapped news must accept the empty sequence."""
        if len(olds) == len(news):
            # the usual case between versions: the same particles, one to one
            pairs = Match()
            for o, n in zip(olds, news, strict=True):
                m = self._sub(o, n)
                if m is None:
                    break
                _merge(pairs, m)
            else:
                return pairs
        memo: dict[tuple[int, int], Match | None] = {}

        def go(i: int, j: int) -> Match | None:
            if (i, j) in memo:
                return memo[(i, j)]
            memo[(i, j)] = None
            result: Match | None = None
            if i == len(olds):
                result = Match() if all(x.nullable for x in news[j:]) else None
            elif j < len(news):
                m = self._sub(olds[i], news[j])
                if m is not None:
                    rest = go(i + 1, j + 1)
                    if rest is not None:
                        result = Match()
                        _merge(result, m)
                        _merge(result, rest)
                if result is None and news[j].nullable:
                    result = go(i, j + 1)
            memo[(i, j)] = result
            return result

        return go(0, 0)

    def _all(self, olds: list[Node], news: list[Node]) -> Match | None:
        used: set[int] = set()
        out = Match()
        for o in olds:
            for k, n in enumerate(news):
                if k in used:
                    continue
                m = self._sub(o, n)
                if m is not None:
                    used.add(k)
                    _merge(out, m)
                    break
            else:
                return None
        if not all(n.nullable for k, n in enumerate(news) if k not in used):
            return None
        return out


def _once(n: Node) -> Node:
    return n


def _merge(into: Match, other: Match) -> None:
    into.elements.extend(other.elements)
    into.wildcards.extend(other.wildcards)


__all__ = ["HOLE", "Match", "Node", "Structural", "counts_apart", "same_shape", "tree"]
