"""Which rules answer the same on a small document's one tree as on its two phase trees.

The evaluator runs a collection's rules in two phases (see
:mod:`egif.validate.schematron.evaluator`): the record phase on the root holding only its
records, the rest phase on the root holding only its other children.  A small document
checked whole in memory is split into those two trees to be judged exactly as the engine
judges a big one.  The split costs more than the rules themselves, so when it provably
changes nothing, the rules run once, on the document as parsed.

It changes nothing when every rule, wherever it fires, reads only the child of the root
it stands in (its *top-level subtree*), and the root's attributes: those are the same in
the document and in the phase tree the node belongs to.  So a rule qualifies when

* its context is the root, or lies at a known least depth below it (from the context's
  steps and the names of the root's children in this document), and no predicate of a
  step at the top level asks for a position among the root's children;
* every test and predicate moves only down from its node, or up (or to a sibling) while it
  stays below the top level: no absolute path, no ancestor, preceding or following axis,
  no ``..`` that reaches the root, no step down from the root, no string value of the root,
  no ``position()``, ``last()``, ``id()``, ``key()``, ``lang()``, ``current()`` or
  ``document()``, no variable other than ``$today``;
* its ``seen()`` calls happen in the same order: every rule calling it lies in records
  only, or outside records only, on the same side;
* ``record-count()`` is called only outside records (inside, the split refuses it).

A test that climbs higher than its context's least depth allows (``../..`` from an
element that could stand just below a record) is alike where its contexts stand deep
enough; the one run then also looks for a context standing higher (a *guard*), and
finding one counts as "something may fire": that document takes the full path.

Anything this reading does not recognise answers "no", and the document is split as
before: the answer is then exact whatever the rules say.
"""

from __future__ import annotations

import re

from egif.validate.schematron.evaluator import _clark, _is_truth, _namespace_of
from egif.validate.schematron.loader import EGIF_FN_NS, RuleSet, depths, predicates

_TOKEN = re.compile(r"""
  (?P<space>\s+)
| (?P<string>"[^"]*"|'[^']*')
| (?P<number>\d+(?:\.\d*)?|\.\d+)
| (?P<parent>\.\.)
| (?P<self>\.)
| (?P<dslash>//)
| (?P<slash>/)
| (?P<axis>[A-Za-z_][\w.\-]*)\s*::
| (?P<var>\$[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)
| (?P<name>[A-Za-z_][\w.\-]*(?::(?:[A-Za-z_][\w.\-]*|\*))?|\*)
| (?P<op>!=|<=|>=|[=<>|+\-,()\[\]@])
""", re.X)
_OPERATOR_NAMES = frozenset({"and", "or", "mod", "div"})
_NODE_TYPES = frozenset({"node", "text", "comment", "processing-instruction"})
# XPath 1.0 functions whose answer depends only on their arguments and the context node
_LOCAL_FUNCTIONS = frozenset({
    "count", "local-name", "namespace-uri", "name", "string", "concat", "starts-with", "contains",
    "substring-before", "substring-after", "substring", "string-length", "normalize-space",
    "translate", "boolean", "not", "true", "false", "number", "sum", "floor", "ceiling", "round"})
# ... and those that, called without an argument, read the context node's string value
_VALUE_FUNCTIONS = frozenset({"string", "normalize-space", "string-length", "number"})
_EGIF_FUNCTIONS = frozenset({"seen", "seen-of", "record-count"})
_DOWN_AXES = frozenset({"child", "descendant", "descendant-or-self"})
_VARIABLES = frozenset({"$today"})

RECORDS, REST, BOTH = "records", "rest", "both"


# (plain classes: this module is read when a first small document is checked, and on
# Python 3.11 a dataclass costs about a millisecond to make)
class _Token:
    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text


def _tokens(expr: str) -> list[_Token] | None:
    """The tokens of an XPath 1.0 expression; None when a character is not understood."""
    out: list[_Token] = []
    at = 0
    while at < len(expr):
        m = _TOKEN.match(expr, at)
        if m is None:
            return None
        kind = m.lastgroup or ""
        if kind != "space":
            out.append(_Token(kind, m.group(kind)))
        at = m.end()
    return out


def _operators(tokens: list[_Token]) -> list[bool]:
    """For each token, whether it is an operator.  ``*`` multiplies, and ``and``, ``or``,
    ``mod``, ``div`` are operators, exactly when the token before ends an operand (XPath
    1.0's rule: it is not ``@``, an axis, ``(``, ``[``, ``,``, a slash or an operator)."""
    out: list[bool] = []
    for i, tok in enumerate(tokens):
        if tok.kind == "name" and (tok.text == "*" or tok.text in _OPERATOR_NAMES):
            out.append(i > 0 and not out[i - 1] and _ends_operand(tokens[i - 1]))
        else:
            out.append(tok.kind == "op" and tok.text not in ("@", "(", ")", "[", "]"))
    return out


def _ends_operand(tok: _Token) -> bool:
    if tok.kind in ("axis", "slash", "dslash"):
        return False
    if tok.kind == "op":
        return tok.text in (")", "]")
    return True  # a name, a literal, a variable, "." or ".."


class _NotLocal(Exception):
    pass


class _Frame:
    __slots__ = ("ended", "kind", "start")

    def __init__(self, kind: str, start: int) -> None:
        self.kind = kind  # "[" a predicate, "(" parentheses, "call" a function's arguments
        self.start = start  # where a relative path inside starts (for a predicate: its step, where the path resumes)
        self.ended: int | None = None  # the least level a path inside ended at


class Reader:
    """Reads expressions evaluated at a node whose least depth below the root is given,
    and answers whether each reads only that node's top-level subtree (and the root's
    attributes).  *ns*: the prefixes in scope; :attr:`calls` gathers the egif functions
    called."""

    def __init__(self, ns: dict[str, str]) -> None:
        self.ns = ns
        self.calls: set[str] = set()

    def local(self, expr: str, level: int) -> bool:
        tokens = _tokens(expr)
        if tokens is None:
            return False
        try:
            return self._walk(tokens, _operators(tokens), level)
        except _NotLocal:
            return False

    def _walk(self, tokens: list[_Token], operator: list[bool], base: int) -> bool:
        frames: list[_Frame] = []
        level: int | None = None  # where the current path stands; None outside a path
        axis: str | None = None  # an axis written before the next node test

        def start() -> int:
            return frames[-1].start if frames else base

        def finish() -> None:
            nonlocal level
            if level is not None:
                if level == 0:
                    raise _NotLocal  # the root node itself: its value holds both phases' children
                if frames:
                    ended = frames[-1].ended
                    frames[-1].ended = level if ended is None else min(ended, level)
            level = None

        i = 0
        while i < len(tokens):
            tok = tokens[i]
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            opens_call = nxt is not None and nxt.kind == "op" and nxt.text == "("
            if operator[i]:
                finish()
            elif tok.kind in ("slash", "dslash"):
                if level is None:
                    raise _NotLocal  # an absolute path, or a path walked on from a value
                if tok.kind == "dslash":
                    level = _down(level)
            elif tok.kind == "axis":
                axis = tok.text
                level = start() if level is None else level
            elif tok.kind == "op" and tok.text == "@":
                axis = "attribute"
                level = start() if level is None else level
            elif tok.kind == "parent":
                level = _step(start() if level is None else level, "parent")
            elif tok.kind == "self":
                level = start() if level is None else level
            elif tok.kind == "name" and opens_call and tok.text in _NODE_TYPES:
                level = _step(start() if level is None else level, axis)
                axis = None
                close = _closing(tokens, i + 1)
                if close is None:
                    raise _NotLocal
                i = close + 1
                continue
            elif tok.kind == "name" and opens_call:
                if axis is not None:
                    raise _NotLocal
                finish()
                empty = i + 2 < len(tokens) and tokens[i + 2].text == ")"
                self._function(tok.text, empty, start())
                frames.append(_Frame("call", start()))
                i += 2
                continue
            elif tok.kind == "name":
                level = _step(start() if level is None else level, axis)
                axis = None
            elif tok.kind == "var":
                if tok.text not in _VARIABLES:
                    raise _NotLocal
                finish()
            elif tok.kind in ("string", "number"):
                finish()
            elif tok.text == "[":
                if level is None:
                    raise _NotLocal  # a filter on a value, or on parentheses
                frames.append(_Frame("[", level))
                level = None
            elif tok.text == "(":
                finish()
                frames.append(_Frame("(", start()))
            elif tok.text in ("]", ")"):
                finish()
                if not frames or (frames[-1].kind == "[") != (tok.text == "]"):
                    raise _NotLocal
                frame = frames.pop()
                if frame.kind == "[":
                    level = frame.start
                elif frame.kind == "(":
                    level = frame.ended  # a path in parentheses may go on: (../a)/b
                else:
                    level = None  # a call's value: a slash or a filter after it is refused above
            else:
                raise _NotLocal
            i += 1
        finish()
        return not frames

    def _function(self, name: str, empty: bool, level: int) -> None:
        prefix, _, local = name.rpartition(":")
        if prefix:
            if self.ns.get(prefix) != EGIF_FN_NS or local not in _EGIF_FUNCTIONS:
                raise _NotLocal
            self.calls.add(local)
            return
        if local not in _LOCAL_FUNCTIONS:
            raise _NotLocal  # position(), last(), id(), key(), lang(), current(), document() ...
        if empty and level == 0 and local in _VALUE_FUNCTIONS:
            raise _NotLocal  # the root's string value


def _step(level: int, axis: str | None) -> int:
    """Where a step along *axis* from a node at least *level* deep leads."""
    if axis is None or axis in _DOWN_AXES:
        return _down(level)
    if axis == "attribute":
        return level + 1  # an attribute stands one below its element ("..": back to it)
    if axis == "self":
        return level
    if axis == "parent":
        if level - 1 < 1:
            raise _NotLocal  # up to the root (or above)
        return level - 1
    if axis in ("preceding-sibling", "following-sibling"):
        if level < 2:
            raise _NotLocal  # the root's children: they differ by phase
        return level  # children of the same parent, itself below the root
    raise _NotLocal  # ancestor, preceding, following, namespace


def _down(level: int) -> int:
    if level < 1:
        raise _NotLocal  # below the root lie the other phase's children as well
    return level + 1


def _closing(tokens: list[_Token], opening: int) -> int | None:
    depth = 0
    for j in range(opening, len(tokens)):
        if tokens[j].text == "(":
            depth += 1
        elif tokens[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    return None


# -- a rule's contexts -------------------------------------------------------------------------
class Context:
    """A context part, as far as this reading goes."""

    __slots__ = ("exact", "level", "side")

    def __init__(self, level: int, side: str, exact: bool = False) -> None:
        self.level = level  # least depth of the nodes it selects (the root: 0; -1: it selects none here)
        self.side = side  # RECORDS, REST or BOTH: the phase tree its nodes belong to
        self.exact = exact  # every node it selects stands at that depth, none deeper

    def __repr__(self) -> str:
        return f"Context(level={self.level}, side={self.side!r}, exact={self.exact})"


NOTHING = Context(-1, REST)
_STEP = re.compile(r"^((?:[A-Za-z_][\w.\-]*:)?(?:[A-Za-z_][\w.\-]*|\*)|\*)\s*((?:\[.*\])?)$", re.S)


def context_of(part: str, ns: dict[str, str], root_tag: str, tops: frozenset[str], records: frozenset[str],
               top_only: frozenset[str], reader: Reader) -> Context | None:
    """The least depth and side of a context part (an XSLT pattern) in a document of root
    *root_tag* whose root children are named *tops*, its predicates read by *reader*;
    None when the part is not of the plain shape followed here (steps of element names or
    wildcards on the child axis, with predicates)."""
    steps = _split_steps(part)
    if not steps:
        return None
    level = -1
    exact = True  # each step one below the one before, from the root or a record under it
    named: list[str | None] = []  # each step's Clark name (None: a wildcard)
    for index, (sep, step) in enumerate(steps):
        m = _STEP.match(step)
        if m is None:
            return None
        name, written = m.group(1), m.group(2)
        test = _NameTest.of(name, ns)
        if test is None:
            return None
        if index == 0 and sep == "/":
            if not test.matches(root_tag):
                return NOTHING  # no root of that name: it selects nothing in this document
            here = 0
        elif sep == "/":
            here = level + 1
        else:  # the first step of a relative pattern, or after "//": anywhere below
            here = max(level + 1, test.least_depth(root_tag, tops))
            exact = index == 0 and sep == "" and test.clark in top_only  # a record, under the root only
        named.append(test.clark)
        for predicate in predicates(written):
            if here <= 1 and not _is_truth(predicate):
                return None  # a position among the root's children: they differ by phase
            if not reader.local(predicate, here):
                return None
        level = here
    return Context(level, _side(level, steps, named, records, top_only, tops), exact)


class _NameTest:
    __slots__ = ("clark", "namespace")

    def __init__(self, clark: str | None, namespace: str | None) -> None:
        self.clark = clark  # an element name; None for a wildcard
        self.namespace = namespace  # for "prefix:*": its namespace; None for "*"

    @classmethod
    def of(cls, name: str, ns: dict[str, str]) -> _NameTest | None:
        """The test written *name* (``p:Name``, ``p:*``, ``*``); None when its prefix is not bound."""
        if name == "*":
            return cls(None, None)
        if name.endswith(":*"):
            uri = ns.get(name[:-2])
            return None if uri is None else cls(None, uri)
        clark = _clark(name, ns)
        return None if clark is None else cls(clark, None)

    def matches(self, tag: str) -> bool:
        if self.clark is not None:
            return tag == self.clark
        return self.namespace is None or _namespace_of(tag) == self.namespace

    def least_depth(self, root_tag: str, tops: frozenset[str]) -> int:
        """How high an element it names can stand in the document: 0 when it may be the
        root, 1 when it may be one of the root's children, else 2."""
        if self.matches(root_tag):
            return 0
        return 1 if any(self.matches(t) for t in tops) else 2


def _side(level: int, steps: list[tuple[str, str]], named: list[str | None], records: frozenset[str],
          top_only: frozenset[str], tops: frozenset[str]) -> str:
    if level == 0:
        return REST  # the root
    if not tops & records:
        return REST  # no record in this document: everything below the root is the rest
    if not tops - records:
        return RECORDS  # nothing but records under the root
    if steps[0][0] == "/" and len(steps) > 1 and steps[1][0] == "/" and named[1] is not None:
        return RECORDS if named[1] in records else REST  # the child of the root is named
    if steps[0][0] != "/" and named[0] in top_only:
        return RECORDS  # below (or at) a record that stands only under the root
    return BOTH


def _split_steps(part: str) -> list[tuple[str, str]]:
    """``(separator, step)`` pairs of a path split at its top-level slashes: the separator
    before each step is "", "/" or "//"."""
    levels = depths(part)
    out: list[tuple[str, str]] = []
    sep = ""
    start = 0
    i = 0
    while i < len(part):
        if levels[i] == 0 and part[i] == "/":
            if i > start:
                out.append((sep, part[start:i].strip()))
            elif out or sep:
                return []  # an empty step
            sep = "//" if part.startswith("//", i) else "/"
            i += len(sep)
            start = i
            continue
        i += 1
    out.append((sep, part[start:].strip()))
    return out if all(step for _sep, step in out) else []


_DEEPER = 4  # how much deeper than its least depth a context may be asked to stand (a guard)


def whole_tree_guards(ruleset: RuleSet, root_tag: str, tops: frozenset[str], records: frozenset[str],
                      top_only: frozenset[str]) -> dict[int, int] | None:
    """Whether every rule of *ruleset* fires on the same nodes, in the same order of
    ``seen()`` calls, on a document of root *root_tag* whose root children are named
    *tops* as on its two phase trees (*records*, *top_only*: the collection's layout):
    None when that cannot be shown.  Otherwise the guards it rests on, by ``id`` of the
    rule: a rule whose tests climb (``../..``) higher than its contexts' least depth allows
    is alike only where its contexts stand at least that deep -- a document with one
    standing higher must take the split (the caller's guard says "it may fire")."""
    seen_sides: set[str] = set()
    guards: dict[int, int] = {}
    for pattern in ruleset.patterns:
        ns = pattern.namespaces
        for rule in pattern.rules:
            reader = Reader(ns)
            contexts: list[Context] = []
            for part in rule.parts:
                found = context_of(part, ns, root_tag, tops, records, top_only, reader)
                if found is None:
                    return None
                if found is not NOTHING:
                    contexts.append(found)
            need = 0
            for check in rule.checks:
                if check.inlined is None:
                    return None
                for c in contexts:
                    depth = next((d for d in range(c.level, c.level + _DEEPER + 1)
                                  if reader.local(check.inlined, d)), None)
                    if depth is None:
                        return None
                    if depth > c.level:
                        if c.exact or c.level < 2:
                            return None  # a guard that would fire on (nearly) every document
                        need = max(need, depth)
            if need:
                guards[id(rule)] = need
            sides = {c.side for c in contexts}
            if "record-count" in reader.calls and sides - {REST}:
                return None  # inside records the split refuses the call
            if reader.calls & {"seen", "seen-of"}:
                if BOTH in sides:
                    return None
                seen_sides |= sides
    return guards if len(seen_sides) <= 1 else None
