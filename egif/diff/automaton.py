"""Finite automata over Unicode code points, and XSD regular expressions read into them.

The diff decides questions about simple types ("is every value the old type
accepts accepted by the new one?") on regular languages of *raw strings*, the
text exactly as it stands in a document.  This module is the machinery:

* character sets are sorted tuples of inclusive code-point intervals;
* :func:`parse_xsd_regex` reads the XSD 1.0 regular-expression dialect
  (implicit anchoring, character-class subtraction ``[A-Z-[IO]]``, the
  multi-character escapes ``\\s \\i \\c \\d \\w`` and their complements, Unicode
  categories and blocks ``\\p{Lu}`` ``\\p{IsBasicLatin}``) into a small syntax
  tree;
* :func:`compile_tree` builds a Thompson automaton from a tree and
  determinises it into a :class:`Dfa` whose transitions are labelled with
  intervals;
* :class:`Dfa` offers intersection, union, complement, the pre-image of
  XSD whitespace processing, and :func:`difference_strings`, which returns the
  shortest strings one automaton accepts and another refuses: the witnesses.

Every construction is capped (:data:`MAX_STATES`); past the cap
:class:`TooLarge` is raised and the caller answers "not proven".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

MAX_CODE = 0x10FFFF
MAX_STATES = 20000
MAX_NFA_STATES = 60000

CharSet = tuple[tuple[int, int], ...]

EMPTY_SET: CharSet = ()
ALL_CHARS: CharSet = ((0, MAX_CODE),)
# the characters an XML 1.0 document can carry (as text or, escaped, in attributes)
XML_CHARS: CharSet = ((0x9, 0xA), (0xD, 0xD), (0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, MAX_CODE))
WHITESPACE: CharSet = ((0x9, 0xA), (0xD, 0xD), (0x20, 0x20))


class TooLarge(Exception):
    """An automaton grew past the construction cap."""


class RegexUnsupported(ValueError):
    """A pattern this reader does not understand (the caller answers "not proven")."""


# -- character sets ------------------------------------------------------------
def cs_norm(intervals: Iterable[tuple[int, int]]) -> CharSet:
    items = sorted((lo, hi) for lo, hi in intervals if lo <= hi)
    out: list[tuple[int, int]] = []
    for lo, hi in items:
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def cs_chars(text: str) -> CharSet:
    return cs_norm((ord(c), ord(c)) for c in text)


def cs_union(*sets: CharSet) -> CharSet:
    return cs_norm(iv for s in sets for iv in s)


def cs_complement(s: CharSet) -> CharSet:
    out: list[tuple[int, int]] = []
    nxt = 0
    for lo, hi in s:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODE:
        out.append((nxt, MAX_CODE))
    return tuple(out)


def cs_intersect(a: CharSet, b: CharSet) -> CharSet:
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def cs_subtract(a: CharSet, b: CharSet) -> CharSet:
    return cs_intersect(a, cs_complement(b))


def cs_contains(s: CharSet, code: int) -> bool:
    lo_i, hi_i = 0, len(s)
    while lo_i < hi_i:
        mid = (lo_i + hi_i) // 2
        lo, hi = s[mid]
        if code < lo:
            hi_i = mid
        elif code > hi:
            lo_i = mid + 1
        else:
            return True
    return False


# readable characters first: letters, digits, space, other printable ASCII, Latin-1 letters
_PREFERRED_RANGES: tuple[tuple[int, int], ...] = (
    (0x61, 0x7A), (0x41, 0x5A), (0x30, 0x39), (0x20, 0x20), (0x2D, 0x2E), (0x5F, 0x5F), (0x3A, 0x3A),
    (0x21, 0x7E), (0x9, 0xA), (0xD, 0xD), (0xC0, 0x24F),
)


def pick_char(lo: int, hi: int) -> int:
    """A readable character in ``[lo, hi]`` (ASCII letters and digits first)."""
    for a, b in _PREFERRED_RANGES:
        if lo <= b and hi >= a:
            return max(lo, a)
    return lo


def _char_rank(lo: int, hi: int) -> tuple[int, int]:
    for rank, (a, b) in enumerate(_PREFERRED_RANGES):
        if lo <= b and hi >= a:
            c = max(lo, a)
            return rank, c
    return len(_PREFERRED_RANGES), lo


def _second_char(lo: int, hi: int, first: int) -> int:
    """Another readable character of ``[lo, hi]`` than ``first`` (for variety among witnesses)."""
    for a, b in _PREFERRED_RANGES:
        a2, b2 = max(lo, a), min(hi, b)
        if a2 <= b2:
            for c in (a2, a2 + 1, b2):
                if a2 <= c <= b2 and c != first:
                    return c
    return lo if first != lo else hi


# -- Unicode classes -----------------------------------------------------------
def _from_codepoints(items: Iterable[int | tuple[int, int]]) -> CharSet:
    out = []
    for item in items:
        if isinstance(item, tuple):
            out.append((item[0], item[1] - 1))
        else:
            out.append((item, item))
    return cs_norm(out)


@cache
def libxml2_class(key: str) -> CharSet | None:
    """A character class as libxml2 reads it (measured: see egif.diff.measure_tables), if known."""
    from egif.diff.libxml2_tables import TABLES

    text = TABLES.get(key)
    if text is None:
        return None
    out = []
    for item in text.split():
        lo, _, hi = item.partition("-")
        out.append((int(lo, 16), int(hi or lo, 16)))
    return cs_norm(out)


@cache
def unicode_property(name: str) -> CharSet:
    """``\\p{name}``: a general category (``L``, ``Lu``...) or a block (``IsBasicLatin``).

    The tables are libxml2's (older Unicode than elementpath's), so a pattern
    means here what it means to the validator; elementpath's serve only for a
    name libxml2 does not know (such a pattern does not compile there anyway).
    """
    measured = libxml2_class(name)
    if measured is not None:
        return measured
    from elementpath.regex import unicode_block, unicode_category

    try:
        if name.startswith("Is"):
            return _from_codepoints(unicode_block(name[2:]).codepoints)
        return _from_codepoints(unicode_category(name).codepoints)
    except Exception as exc:  # elementpath raises its own errors for unknown names
        raise RegexUnsupported(f"unknown character property {name!r}") from exc


def _ranges(spec: str) -> CharSet:
    """``a-z0-9`` style range text (as elementpath writes the XML name classes)."""
    out = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out.append((ord(spec[i]), ord(spec[i + 2])))
            i += 3
        else:
            out.append((ord(spec[i]), ord(spec[i])))
            i += 1
    return cs_norm(out)


@cache
def multi_escape(letter: str) -> CharSet:
    """The set a multi-character escape stands for (``s i c d w`` and capitals)."""
    from elementpath.regex.character_classes import C_SHORTCUT_REPLACE, I_SHORTCUT_REPLACE

    low = letter.lower()
    measured = libxml2_class("\\" + low) if low != "s" else None
    if low == "s":
        base = WHITESPACE
    elif measured is not None:
        base = measured
    elif low == "i":
        base = _ranges(I_SHORTCUT_REPLACE)
    elif low == "c":
        base = _ranges(C_SHORTCUT_REPLACE)
    elif low == "d":
        base = unicode_property("Nd")
    elif low == "w":
        base = cs_complement(cs_union(unicode_property("P"), unicode_property("Z"), unicode_property("C")))
    else:
        raise RegexUnsupported(f"unknown escape \\{letter}")
    return base if letter == low else cs_complement(base)


# -- regular-expression trees ------------------------------------------------
# ("set", CharSet) | ("cat", tuple) | ("alt", tuple) | ("rep", node, min, max|None)
# | ("dfa", Dfa) -- an automaton used as a sub-expression
Node = tuple[Any, ...]

EPSILON: Node = ("cat", ())
NOTHING: Node = ("alt", ())


def lit(text: str) -> Node:
    return ("cat", tuple(("set", ((ord(c), ord(c)),)) for c in text))


def cat(*nodes: Node) -> Node:
    return ("cat", tuple(nodes))


def alt(*nodes: Node) -> Node:
    return ("alt", tuple(nodes))


def rep(node: Node, lo: int, hi: int | None) -> Node:
    return ("rep", node, lo, hi)


def chars(s: CharSet) -> Node:
    return ("set", s)


def opt(node: Node) -> Node:
    return ("rep", node, 0, 1)


_SINGLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "|": "|", ".": ".", "?": "?", "*": "*",
                   "+": "+", "(": "(", ")": ")", "{": "{", "}": "}", "-": "-", "[": "[", "]": "]", "^": "^",
                   "$": "$"}
_META = set(".\\?*+{}()|[]")


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def error(self, msg: str) -> RegexUnsupported:
        return RegexUnsupported(f"{msg} at position {self.i} of {self.s!r}")

    def peek(self) -> str | None:
        return self.s[self.i] if self.i < len(self.s) else None

    def take(self) -> str:
        if self.i >= len(self.s):
            raise self.error("unexpected end")
        ch = self.s[self.i]
        self.i += 1
        return ch

    def parse(self) -> Node:
        node = self.regexp()
        if self.i != len(self.s):
            raise self.error("unexpected character")
        return node

    def regexp(self) -> Node:
        branches = [self.branch()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.branch())
        return branches[0] if len(branches) == 1 else alt(*branches)

    def branch(self) -> Node:
        pieces: list[Node] = []
        while (ch := self.peek()) is not None and ch not in "|)":
            pieces.append(self.piece())
        return pieces[0] if len(pieces) == 1 else cat(*pieces)

    def piece(self) -> Node:
        atom = self.atom()
        ch = self.peek()
        if ch == "?":
            self.i += 1
            return rep(atom, 0, 1)
        if ch == "*":
            self.i += 1
            return rep(atom, 0, None)
        if ch == "+":
            self.i += 1
            return rep(atom, 1, None)
        if ch == "{":
            self.i += 1
            lo = self.number()
            hi: int | None = lo
            if self.peek() == ",":
                self.i += 1
                hi = None if self.peek() == "}" else self.number()
            if self.take() != "}":
                raise self.error("bad quantifier")
            if hi is not None and hi < lo:
                raise self.error("quantifier max below min")
            return rep(atom, lo, hi)
        return atom

    def number(self) -> int:
        start = self.i
        while (ch := self.peek()) is not None and ch.isdigit():
            self.i += 1
        if start == self.i:
            raise self.error("number expected")
        return int(self.s[start:self.i])

    def atom(self) -> Node:
        ch = self.take()
        if ch == "(":
            if self.peek() == "?":
                raise self.error("group extensions are not XSD")
            inner = EPSILON if self.peek() == ")" else self.regexp()
            if self.take() != ")":
                raise self.error("unclosed group")
            return inner
        if ch == "[":
            return chars(self.char_class_expr())
        if ch == ".":
            return chars(cs_complement(cs_chars("\n\r")))
        if ch == "\\":
            return chars(self.escape(in_class=False))
        if ch in _META:
            raise self.error(f"unexpected {ch!r}")
        return chars(((ord(ch), ord(ch)),))

    def escape(self, *, in_class: bool) -> CharSet:
        ch = self.take()
        if ch in _SINGLE_ESCAPES:
            c = ord(_SINGLE_ESCAPES[ch])
            return ((c, c),)
        if ch in "sSiIcCdDwW":
            return multi_escape(ch)
        if ch in "pP":
            if self.take() != "{":
                raise self.error("\\p needs {")
            end = self.s.find("}", self.i)
            if end < 0:
                raise self.error("unclosed \\p{")
            name = self.s[self.i:end]
            self.i = end + 1
            s = unicode_property(name)
            return s if ch == "p" else cs_complement(s)
        raise self.error(f"unknown escape \\{ch}")

    def char_class_expr(self) -> CharSet:
        """After '[': a charGroup, optional subtraction, then ']'."""
        negate = False
        if self.peek() == "^":
            negate = True
            self.i += 1
        parts: list[CharSet] = []
        first = True
        while True:
            ch = self.peek()
            if ch is None:
                raise self.error("unclosed character class")
            if ch == "]" and not first:
                self.i += 1
                break
            if ch == "-" and not first and self.s.startswith("-[", self.i):
                self.i += 2
                sub = self.char_class_expr()
                if self.take() != "]":
                    raise self.error("subtraction must end the class")
                base = cs_union(*parts)
                if negate:
                    base = cs_complement(base)
                return cs_subtract(base, sub)
            parts.append(self.class_item(first))
            first = False
        base = cs_union(*parts)
        return cs_complement(base) if negate else base

    def class_item(self, first: bool) -> CharSet:
        ch = self.take()
        if ch == "\\":
            esc_start = self.i
            single = self.s[esc_start] if esc_start < len(self.s) else ""
            s = self.escape(in_class=True)
            if single in _SINGLE_ESCAPES and self.peek() == "-" and self.i + 1 < len(self.s) and \
                    self.s[self.i + 1] not in "[]":
                self.i += 1
                hi = self.range_end()
                return ((s[0][0], hi),)
            return s
        if ch == "[":
            raise self.error("'[' must be escaped in a character class")
        if self.peek() == "-" and self.i + 1 < len(self.s) and self.s[self.i + 1] not in "[]":
            self.i += 1
            hi = self.range_end()
            if hi < ord(ch):
                raise self.error("bad range")
            return ((ord(ch), hi),)
        return ((ord(ch), ord(ch)),)

    def range_end(self) -> int:
        ch = self.take()
        if ch == "\\":
            esc = self.take()
            if esc not in _SINGLE_ESCAPES:
                raise self.error("range end must be a single character")
            return ord(_SINGLE_ESCAPES[esc])
        return ord(ch)


@lru_cache(maxsize=4096)
def parse_xsd_regex(pattern: str) -> Node:
    """The tree of an XSD 1.0 pattern (anchored at both ends, as XSD patterns are)."""
    return _Parser(pattern).parse()


# -- NFA ---------------------------------------------------------------------
def repeat(eps: list[list[int]], new_state: Callable[[], int], once: Callable[[int], int],
           start: int, lo: int, hi: int | None) -> int:
    """Thompson's construction of ``lo`` to ``hi`` (None: no bound) copies of a fragment:
    *once* adds one copy from a state and returns its end, *new_state* adds a state and
    *eps* holds the epsilon moves.  Returns the end state of the whole."""
    cur = start
    for _ in range(lo):
        cur = once(cur)
    if hi is None:
        loop = new_state()
        eps[cur].append(loop)
        eps[once(loop)].append(loop)
        return loop
    end = new_state()
    eps[cur].append(end)
    for _ in range(hi - lo):
        cur = once(cur)
        eps[cur].append(end)
    return end


class _Nfa:
    def __init__(self) -> None:
        self.edges: list[list[tuple[CharSet, int]]] = []
        self.eps: list[list[int]] = []

    def state(self) -> int:
        if len(self.edges) >= MAX_NFA_STATES:
            raise TooLarge("regular expression too large")
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def build(self, node: Node, start: int) -> int:
        """Add ``node`` starting at ``start``; return its end state."""
        kind = node[0]
        if kind == "set":
            end = self.state()
            if node[1]:
                self.edges[start].append((node[1], end))
            return end
        if kind == "cat":
            cur = start
            for sub in node[1]:
                cur = self.build(sub, cur)
            return cur
        if kind == "alt":
            end = self.state()
            for sub in node[1]:
                s = self.state()
                self.eps[start].append(s)
                self.eps[self.build(sub, s)].append(end)
            return end
        if kind == "rep":
            sub = node[1]
            return repeat(self.eps, self.state, lambda s: self.build(sub, s), start, node[2], node[3])
        if kind == "dfa":
            dfa: Dfa = node[1]
            base = len(self.edges)
            for _ in range(len(dfa.trans)):
                self.state()
            end = self.state()
            self.eps[start].append(base)
            for s, row in enumerate(dfa.trans):
                for lo, hi, t in row:
                    self.edges[base + s].append((((lo, hi),), base + t))
                if dfa.accept[s]:
                    self.eps[base + s].append(end)
            return end
        raise ValueError(f"unknown node {kind}")

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        seen = set(states)
        stack = list(seen)
        while stack:
            s = stack.pop()
            for t in self.eps[s]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        return frozenset(seen)


def _partition(edges: Sequence[tuple[CharSet, int]]) -> list[tuple[int, int, frozenset[int]]]:
    """Split the labels of ``edges`` into disjoint intervals, each with its target set."""
    events: list[tuple[int, int, int]] = []  # (position, +1/-1, target)
    for cs, target in edges:
        for lo, hi in cs:
            events.append((lo, 1, target))
            events.append((hi + 1, -1, target))
    if not events:
        return []
    events.sort()
    out: list[tuple[int, int, frozenset[int]]] = []
    active: dict[int, int] = {}
    i = 0
    prev: int | None = None
    while i < len(events):
        pos = events[i][0]
        if prev is not None and active and pos > prev:
            targets = frozenset(active)
            if out and out[-1][1] == prev - 1 and out[-1][2] == targets:
                out[-1] = (out[-1][0], pos - 1, targets)
            else:
                out.append((prev, pos - 1, targets))
        while i < len(events) and events[i][0] == pos:
            _, delta, target = events[i]
            n = active.get(target, 0) + delta
            if n:
                active[target] = n
            else:
                active.pop(target, None)
            i += 1
        prev = pos
    return out


# -- DFA ---------------------------------------------------------------------
@dataclass(eq=False)
class Dfa:
    """A deterministic automaton: ``trans[s]`` is a sorted list of ``(lo, hi, target)``.

    State 0 is the start.  A missing transition goes to an implicit dead state.
    """

    trans: list[list[tuple[int, int, int]]]
    accept: list[bool]

    # -- queries -------------------------------------------------------------
    def step(self, state: int, code: int) -> int:
        row = self.trans[state]
        lo_i, hi_i = 0, len(row)
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            lo, hi, t = row[mid]
            if code < lo:
                hi_i = mid
            elif code > hi:
                lo_i = mid + 1
            else:
                return t
        return -1

    def accepts(self, text: str) -> bool:
        s = 0
        for ch in text:
            s = self.step(s, ord(ch))
            if s < 0:
                return False
        return self.accept[s]

    def is_empty(self) -> bool:
        return self.shortest() is None

    def shortest(self) -> str | None:
        """The shortest accepted string (readable characters preferred), or None."""
        for text in self.strings(1):
            return text
        return None

    def strings(self, limit: int, max_len: int = 4096) -> Iterator[str]:
        """Up to ``limit`` accepted strings, shortest first."""
        yield from difference_strings(self, None, limit, max_len=max_len)

    # -- constructions -------------------------------------------------------
    def trimmed(self) -> Dfa:
        """Only the states reachable from the start and co-reachable to acceptance."""
        n = len(self.trans)
        reach = [False] * n
        reach[0] = True
        stack = [0]
        while stack:
            s = stack.pop()
            for _, _, t in self.trans[s]:
                if not reach[t]:
                    reach[t] = True
                    stack.append(t)
        back: list[list[int]] = [[] for _ in range(n)]
        for s in range(n):
            if reach[s]:
                for _, _, t in self.trans[s]:
                    back[t].append(s)
        live = [False] * n
        stack = [s for s in range(n) if reach[s] and self.accept[s]]
        for s in stack:
            live[s] = True
        while stack:
            s = stack.pop()
            for p in back[s]:
                if not live[p]:
                    live[p] = True
                    stack.append(p)
        if not live[0]:
            return Dfa([[]], [False])
        order = [s for s in range(n) if live[s]]
        index = {s: i for i, s in enumerate(order)}
        trans = [[(lo, hi, index[t]) for lo, hi, t in self.trans[s] if t in index] for s in order]
        return Dfa(trans, [self.accept[s] for s in order])

    def complemented(self, universe: CharSet = XML_CHARS) -> Dfa:
        """Strings over ``universe`` this automaton refuses."""
        n = len(self.trans)
        dead = n
        trans: list[list[tuple[int, int, int]]] = []
        for s in range(n):
            row: list[tuple[int, int, int]] = []
            covered = cs_norm((lo, hi) for lo, hi, _ in self.trans[s])
            for lo, hi, t in self.trans[s]:
                for a, b in cs_intersect(((lo, hi),), universe):
                    row.append((a, b, t))
            for a, b in cs_subtract(universe, covered):
                row.append((a, b, dead))
            row.sort()
            trans.append(row)
        trans.append([(a, b, dead) for a, b in universe])
        accept = [not a for a in self.accept] + [True]
        return Dfa(trans, accept)

    def product(self, other: Dfa, mode: str) -> Dfa:
        """``mode`` "and" (intersection) or "or" (union)."""
        index: dict[tuple[int, int], int] = {(0, 0): 0}
        queue = deque([(0, 0)])
        trans: list[list[tuple[int, int, int]]] = [[]]
        accept: list[bool] = []
        pairs: list[tuple[int, int]] = [(0, 0)]
        while queue:
            a, b = queue.popleft()
            cur = index[(a, b)]
            acc_a = self.accept[a] if a >= 0 else False
            acc_b = other.accept[b] if b >= 0 else False
            while len(accept) <= cur:
                accept.append(False)
            accept[cur] = (acc_a and acc_b) if mode == "and" else (acc_a or acc_b)
            row: list[tuple[int, int, int]] = []
            for lo, hi, ta, tb in _merge(self.trans[a] if a >= 0 else [], other.trans[b] if b >= 0 else [],
                                        keep_left_only=True, keep_right_only=(mode == "or")):
                if mode == "and" and (ta < 0 or tb < 0):
                    continue
                key = (ta, tb)
                t = index.get(key)
                if t is None:
                    t = len(pairs)
                    if t >= MAX_STATES:
                        raise TooLarge("automaton product too large")
                    index[key] = t
                    pairs.append(key)
                    trans.append([])
                    queue.append(key)
                row.append((lo, hi, t))
            trans[cur] = row
        while len(accept) < len(trans):
            accept.append(False)
        return Dfa(trans, accept).trimmed()

    def intersect(self, other: Dfa) -> Dfa:
        if other.universal():
            return self
        if self.universal():
            return other
        return self.product(other, "and")

    def universal(self) -> bool:
        """Whether this is the one-state automaton of every string of XML characters."""
        return len(self.trans) == 1 and self.accept[0] and \
            tuple((lo, hi) for lo, hi, t in self.trans[0] if t == 0) == XML_CHARS

    def union(self, other: Dfa) -> Dfa:
        return self.product(other, "or")

    def includes(self, other: Dfa) -> bool:
        """Every string ``other`` accepts, this one accepts too."""
        return includes_dfa(self, other)

    def map_chars(self, mapping: dict[int, int]) -> Dfa:
        """The pre-image under a letter-to-letter map (``mapping[c]`` is read as ``c``)."""
        trans = []
        for s in range(len(self.trans)):
            row = list(self.trans[s])
            extra = []
            for src, dst in mapping.items():
                t = self.step(s, dst)
                row = _remove_point(row, src)
                if t >= 0:
                    extra.append((src, src, t))
            trans.append(sorted(row + extra))
        return Dfa(trans, list(self.accept))


def _remove_point(row: list[tuple[int, int, int]], c: int) -> list[tuple[int, int, int]]:
    out = []
    for lo, hi, t in row:
        if lo <= c <= hi:
            if lo < c:
                out.append((lo, c - 1, t))
            if c < hi:
                out.append((c + 1, hi, t))
        else:
            out.append((lo, hi, t))
    return out


def _merge(ra: list[tuple[int, int, int]], rb: list[tuple[int, int, int]], *, keep_left_only: bool,
           keep_right_only: bool) -> Iterator[tuple[int, int, int, int]]:
    """Walk two sorted transition rows together: ``(lo, hi, target_a, target_b)`` (-1: none)."""
    ia = ib = 0
    na, nb = len(ra), len(rb)
    pos = 0
    while ia < na or ib < nb:
        a = ra[ia] if ia < na else None
        b = rb[ib] if ib < nb else None
        # the next point where something starts or ends
        lo = pos
        if a is not None and a[0] > lo and (b is None or b[0] > lo):
            lo = a[0] if b is None else min(a[0], b[0])
        elif a is None and b is not None and b[0] > lo:
            lo = b[0]
        in_a = a is not None and a[0] <= lo <= a[1]
        in_b = b is not None and b[0] <= lo <= b[1]
        hi = MAX_CODE
        if in_a and a is not None:
            hi = min(hi, a[1])
        elif a is not None:
            hi = min(hi, a[0] - 1)
        if in_b and b is not None:
            hi = min(hi, b[1])
        elif b is not None:
            hi = min(hi, b[0] - 1)
        ta = a[2] if in_a and a is not None else -1
        tb = b[2] if in_b and b is not None else -1
        if (ta >= 0 and (tb >= 0 or keep_left_only)) or (ta < 0 and tb >= 0 and keep_right_only):
            yield lo, hi, ta, tb
        pos = hi + 1
        if a is not None and a[1] <= hi:
            ia += 1
        if b is not None and b[1] <= hi:
            ib += 1


def includes_dfa(big: Dfa, small: Dfa, max_steps: int = 2_000_000) -> bool:
    """Every string ``small`` accepts, ``big`` accepts (a plain walk of the product)."""
    start = (0, 0)
    seen = {start}
    stack = [start]
    steps = 0
    while stack:
        sa, sb = stack.pop()
        if small.accept[sa] and not (sb >= 0 and big.accept[sb]):
            return False
        rb = big.trans[sb] if sb >= 0 else []
        for _, _, ta, tb in _merge(small.trans[sa], rb, keep_left_only=True, keep_right_only=False):
            key = (ta, tb)
            if key not in seen:
                steps += 1
                if steps > max_steps:
                    raise TooLarge("automaton inclusion too large to decide")
                seen.add(key)
                stack.append(key)
    return True


def compile_tree(node: Node, universe: CharSet = XML_CHARS) -> Dfa:
    """A minimal-enough DFA for ``node``, restricted to strings over ``universe``."""
    nfa = _Nfa()
    start = nfa.state()
    end = nfa.build(node, start)
    return _determinise(nfa, start, end, universe)


def _determinise(nfa: _Nfa, start: int, end: int, universe: CharSet) -> Dfa:
    first = nfa.closure([start])
    index: dict[frozenset[int], int] = {first: 0}
    sets = [first]
    trans: list[list[tuple[int, int, int]]] = []
    i = 0
    while i < len(sets):
        cur = sets[i]
        edges = [(cs, t) for s in cur for cs, t in nfa.edges[s]]
        row: list[tuple[int, int, int]] = []
        for lo, hi, targets in _partition(edges):
            for a, b in cs_intersect(((lo, hi),), universe):
                closed = nfa.closure(targets)
                t = index.get(closed)
                if t is None:
                    t = len(sets)
                    if t >= MAX_STATES:
                        raise TooLarge("automaton too large")
                    index[closed] = t
                    sets.append(closed)
                row.append((a, b, t))
        trans.append(_coalesce(row))
        i += 1
    return Dfa(trans, [end in s for s in sets]).trimmed()


def _coalesce(row: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    row.sort()
    out: list[tuple[int, int, int]] = []
    for lo, hi, t in row:
        if out and out[-1][2] == t and out[-1][1] + 1 == lo:
            out[-1] = (out[-1][0], hi, t)
        else:
            out.append((lo, hi, t))
    return out


@lru_cache(maxsize=4096)
def regex_dfa(pattern: str) -> Dfa:
    """The automaton of one XSD pattern (automata are never changed in place, so they are shared)."""
    return compile_tree(parse_xsd_regex(pattern))


@lru_cache(maxsize=1024)
def length_dfa(lo: int, hi: int | None) -> Dfa:
    """Strings of ``lo`` to ``hi`` XML characters."""
    return compile_tree(rep(chars(XML_CHARS), lo, hi))


def literal_dfa(values: Iterable[str]) -> Dfa:
    return compile_tree(alt(*(lit(v) for v in values)))


def any_string(universe: CharSet = XML_CHARS) -> Dfa:
    return Dfa([[(lo, hi, 0) for lo, hi in universe]], [True])


def nothing() -> Dfa:
    return Dfa([[]], [False])


def difference_strings(a: Dfa, b: Dfa | None, limit: int, *, max_len: int = 4096,
                       max_steps: int = 200000) -> Iterator[str]:
    """Strings ``a`` accepts and ``b`` refuses (all of ``a`` when ``b`` is None), shortest first.

    A breadth-first walk of the product automaton; each product state is kept
    at most ``limit`` times so the strings differ, and each step prefers a
    readable character of the interval it takes.
    """
    if limit <= 0:
        return
    nb = -1 if b is None else 0
    queue: deque[tuple[int, int, str]] = deque([(0, nb, "")])
    seen: dict[tuple[int, int], int] = {(0, nb): 1}
    found = 0
    steps = 0
    while queue:
        sa, sb, text = queue.popleft()
        if a.accept[sa] and not (sb >= 0 and b is not None and b.accept[sb]):
            yield text
            found += 1
            if found >= limit:
                return
        if len(text) >= max_len:
            continue
        rb = b.trans[sb] if (b is not None and sb >= 0) else []
        segments = sorted(_merge(a.trans[sa], rb, keep_left_only=True, keep_right_only=False),
                          key=lambda seg: _char_rank(seg[0], seg[1]))
        for lo, hi, ta, tb in segments:
            steps += 1
            if steps > max_steps:
                return
            key = (ta, tb)
            count = seen.get(key, 0)
            if count >= limit:
                continue
            seen[key] = count + 1
            c = pick_char(lo, hi)
            queue.append((ta, tb, text + chr(c)))
            if count + 1 < limit and hi > lo:
                # a second, different character from the same interval for variety
                c2 = _second_char(lo, hi, c)
                seen[key] = count + 2
                queue.append((ta, tb, text + chr(c2)))


# -- whitespace processing ---------------------------------------------------
_SPACE = 0x20


def preimage_replace(d: Dfa) -> Dfa:
    """Raw strings whose whiteSpace="replace" form ``d`` accepts."""
    return d.map_chars({0x9: _SPACE, 0xA: _SPACE, 0xD: _SPACE})


def preimage_collapse(d: Dfa) -> Dfa:
    """Raw strings whose whiteSpace="collapse" form ``d`` accepts.

    A state is (state of ``d``, mode): mode 0 before any non-space character,
    1 inside a word, 2 after a word with a pending space that is emitted only if
    another word follows.
    """
    index: dict[tuple[int, int], int] = {(0, 0): 0}
    keys = [(0, 0)]
    trans: list[list[tuple[int, int, int]]] = []
    i = 0
    non_ws = cs_subtract(XML_CHARS, WHITESPACE)
    while i < len(keys):
        q, mode = keys[i]
        row: list[tuple[int, int, int]] = []

        def target(key: tuple[int, int]) -> int:
            t = index.get(key)
            if t is None:
                t = len(keys)
                if t >= MAX_STATES:
                    raise TooLarge("automaton too large")
                index[key] = t
                keys.append(key)
            return t

        ws_target = (q, 0) if mode == 0 else (q, 2)
        t_ws = target(ws_target)
        for lo, hi in WHITESPACE:
            row.append((lo, hi, t_ws))
        base = q
        if mode == 2:
            base = d.step(q, _SPACE)
        if base >= 0:
            for lo, hi, t in d.trans[base]:
                for a, bb in cs_intersect(((lo, hi),), non_ws):
                    row.append((a, bb, target((t, 1))))
        trans.append(_coalesce(row))
        i += 1
    accept = [d.accept[q] for q, _ in keys]
    return Dfa(trans, accept).trimmed()


def preimage_whitespace(d: Dfa, mode: str | None) -> Dfa:
    if mode == "replace":
        return preimage_replace(d)
    if mode == "collapse":
        return preimage_collapse(d)
    return d


__all__ = [
    "ALL_CHARS",
    "EMPTY_SET",
    "XML_CHARS",
    "CharSet",
    "Dfa",
    "Node",
    "RegexUnsupported",
    "TooLarge",
    "alt",
    "any_string",
    "cat",
    "chars",
    "compile_tree",
    "cs_chars",
    "cs_complement",
    "cs_intersect",
    "cs_subtract",
    "cs_union",
    "difference_strings",
    "lit",
    "literal_dfa",
    "nothing",
    "opt",
    "parse_xsd_regex",
    "preimage_whitespace",
    "regex_dfa",
    "rep",
]
