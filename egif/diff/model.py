"""One schema as the decision procedure reads it: declarations, derivations, content automata.

A :class:`Side` indexes an xmlschema component model the way a validator
uses it: the global element declarations an instance may start with, the
named types ``xsi:type`` may name (with the ``block`` rules that decide which
ones an element accepts), substitution groups, and for every complex type a
:class:`ContentModel`: a Thompson automaton over element *names* built from
its particles with occurrence bounds expanded.  The automaton is walked
lazily (sets of states, as in a subset construction), so only what a
comparison visits is ever built.

A transition is taken on a :data:`Symbol`: a qualified name, ``("ns", uri)``
for "a name in that namespace not listed anywhere", or ``("other",)`` for
"a name in a namespace no one lists".  Taking it yields a :class:`Rule`, what
validation does with the child: a declaration, lax or skip wildcard
processing, or nothing (a strict wildcard with no declaration to use).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from egif.diff.automaton import TooLarge, repeat
from egif.diff.values import Languages
from egif.generate import union_member_types

XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
BUILTIN_NAMESPACES = frozenset({XSD, XSI, XML_NS})
FRESH_NS = "urn:egif:diff:witness"

MAX_POSITIONS = 20000
MAX_ALL_PARTICLES = 12

Symbol = Any  # str (a qualified name) | tuple[str, str] ("ns", uri) | tuple[str] ("other",)


def ns_of(qname: str | None) -> str:
    if qname and qname.startswith("{"):
        return qname[1:qname.index("}")]
    return ""


def local_of(qname: str) -> str:
    return qname.rsplit("}", 1)[-1]


def block_set(value: Any) -> frozenset[str]:
    """``block``/``final`` attribute text as a set of methods."""
    if not value:
        return frozenset()
    words = set(str(value).split())
    if "#all" in words:
        return frozenset({"extension", "restriction", "substitution", "list", "union"})
    return frozenset(words)


@dataclass(frozen=True)
class Rule:
    """What validation does with a child element.

    ``kind``: "decl" (validate against ``decl``), "lax" (no declaration: lax
    assessment, as xs:anyType), "skip" (anything goes) or "none" (nothing
    is valid here).
    """

    kind: str
    decl: Any = field(default=None, compare=False)
    decl_id: int = 0

    @staticmethod
    def of(decl: Any) -> Rule:
        return Rule("decl", decl, id(decl))


SKIP = Rule("skip")
LAX = Rule("lax")
NONE = Rule("none")


@dataclass(frozen=True)
class Label:
    kind: str  # "el" | "any"
    particle: Any = field(compare=False)
    pid: int = 0


class ContentModel:
    """The automaton of one complex type's particles (or of an empty model)."""

    def __init__(self, side: Side, group: Any) -> None:
        self.side = side
        self.edges: list[list[tuple[int, int]]] = []
        self.eps: list[list[int]] = []
        self.labels: list[Label] = []
        self._label_index: dict[int, int] = {}
        self.start = self._state()
        self.end = self._build(group, self.start) if group is not None else self.start
        self._closures: dict[frozenset[int], frozenset[int]] = {}
        self._steps: dict[tuple[frozenset[int], Symbol], tuple[frozenset[int], Rule | None]] = {}

    # -- construction ----------------------------------------------------------
    def _state(self) -> int:
        if len(self.edges) >= MAX_POSITIONS:
            raise TooLarge("content model too large once occurrence bounds are expanded")
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def _label(self, kind: str, particle: Any) -> int:
        key = id(particle)
        got = self._label_index.get(key)
        if got is None:
            got = len(self.labels)
            self.labels.append(Label(kind, particle, key))
            self._label_index[key] = got
        return got

    def _build(self, p: Any, start: int) -> int:
        lo = int(getattr(p, "min_occurs", 1) or 0)
        hi = getattr(p, "max_occurs", 1)
        if hi is not None:
            hi = int(hi)
        if (hi is not None and hi > MAX_POSITIONS) or lo > MAX_POSITIONS:
            raise TooLarge(f"occurrence bound {hi if hi is not None else lo} is too large to expand")
        return repeat(self.eps, self._state, lambda s: self._once(p, s), start, lo, hi)

    def _once(self, p: Any, start: int) -> int:
        kind = type(p).__name__
        if kind == "XsdElement":
            end = self._state()
            self.edges[start].append((self._label("el", p), end))
            return end
        if kind == "XsdAnyElement":
            end = self._state()
            self.edges[start].append((self._label("any", p), end))
            return end
        model = getattr(p, "model", None)
        children = list(p)
        if model == "choice":
            end = self._state()
            if not children:
                return end  # an empty choice accepts nothing
            for c in children:
                s = self._state()
                self.eps[start].append(s)
                self.eps[self._build(c, s)].append(end)
            return end
        if model == "all":
            return self._all(children, start)
        cur = start
        for c in children:
            cur = self._build(c, cur)
        return cur

    def _all(self, children: list[Any], start: int) -> int:
        if len(children) > MAX_ALL_PARTICLES:
            raise TooLarge(f"an xs:all group of {len(children)} particles is too large to expand")
        n = len(children)
        required = frozenset(i for i, c in enumerate(children) if (c.min_occurs or 0) > 0)
        states: dict[frozenset[int], int] = {frozenset(): start}
        end = self._state()
        order: list[frozenset[int]] = [frozenset()]
        k = 0
        while k < len(order):
            done = order[k]
            k += 1
            here = states[done]
            if required <= done:
                self.eps[here].append(end)
            for i in range(n):
                if i in done:
                    continue
                nxt = done | {i}
                target = states.get(nxt)
                if target is None:
                    target = self._state()
                    states[nxt] = target
                    order.append(nxt)
                label_kind = "el" if type(children[i]).__name__ == "XsdElement" else "any"
                if label_kind == "any" or getattr(children[i], "model", None):
                    raise TooLarge("xs:all with a non-element particle")
                self.edges[here].append((self._label(label_kind, children[i]), target))
        return end

    # -- walking -----------------------------------------------------------------
    def closure(self, states: Iterable[int]) -> frozenset[int]:
        key = frozenset(states)
        got = self._closures.get(key)
        if got is not None:
            return got
        seen = set(key)
        stack = list(key)
        while stack:
            s = stack.pop()
            for t in self.eps[s]:
                if t not in seen:
                    seen.add(t)
                    stack.append(t)
        got = frozenset(seen)
        self._closures[key] = got
        return got

    def initial(self) -> frozenset[int]:
        return self.closure([self.start])

    def accepting(self, state: frozenset[int]) -> bool:
        return self.end in state

    def out_labels(self, state: frozenset[int]) -> list[Label]:
        seen: dict[int, Label] = {}
        for s in state:
            for li, _ in self.edges[s]:
                seen.setdefault(li, self.labels[li])
        return list(seen.values())

    def step(self, state: frozenset[int], symbol: Symbol) -> tuple[frozenset[int], Rule | None]:
        """The next state on ``symbol`` and the rule applied to the child (None: ambiguous)."""
        key = (state, symbol)
        got = self._steps.get(key)
        if got is not None:
            return got
        targets: list[int] = []
        rules: set[Rule] = set()
        for s in state:
            for li, t in self.edges[s]:
                rule = self.side.label_rule(self.labels[li], symbol)
                if rule is not None:
                    targets.append(t)
                    rules.add(rule)
        if not targets:
            result: tuple[frozenset[int], Rule | None] = (frozenset(), NONE)
        else:
            rule_or_none = next(iter(rules)) if len(rules) == 1 else None
            result = (self.closure(targets), rule_or_none)
        self._steps[key] = result
        return result


class Side:
    """Indexes of one compiled schema (an xmlschema object)."""

    def __init__(self, schema: Any, lxml_schema: Any, label: str) -> None:
        self.schema = schema
        self.lxml = lxml_schema
        self.label = label
        maps = schema.maps
        self.maps = maps
        self.langs = Languages()
        self.elements: dict[str, Any] = {q: e for q, e in maps.elements.items()
                                         if ns_of(q) not in BUILTIN_NAMESPACES}
        # xmlschema always knows the xml: attributes; libxml2 only when a schema imports them
        skip_ns = {XSD, XSI} if _imports_xml_namespace(schema) else {XSD, XSI, XML_NS}
        self.attributes: dict[str, Any] = {q: a for q, a in maps.attributes.items()
                                           if ns_of(q) not in skip_ns}
        # xmlschema's maps also hold the meta-schema's own types (xs:formChoice ...): not types
        # an instance can name
        self.types: dict[str, Any] = {q: t for q, t in maps.types.items()
                                      if ns_of(q) != XSD or local_of(q) in BUILTIN_TYPES}
        self.any_type = maps.types[f"{{{XSD}}}anyType"]
        self.elements_by_ns: dict[str, list[str]] = {}
        for q in sorted(self.elements):
            self.elements_by_ns.setdefault(ns_of(q), []).append(q)
        self.attributes_by_ns: dict[str, list[str]] = {}
        for q in sorted(self.attributes):
            self.attributes_by_ns.setdefault(ns_of(q), []).append(q)
        self._models: dict[int, ContentModel] = {}
        self._trees: dict[int, Any] = {}
        self._name_rules: dict[int, dict[str, Rule]] = {}
        self._families: dict[tuple[int, str], list[tuple[str, Any]]] = {}
        self._rules: dict[int, Rule] = {}
        self._element_names: dict[int, list[tuple[str, Any]]] = {}
        self._keep: list[Any] = []
        self._derived: dict[int, list[tuple[str, Any, frozenset[str]]]] | None = None
        self._substitutes: dict[int, list[Any]] = {}

    # -- content models ------------------------------------------------------------
    def model(self, t: Any) -> ContentModel:
        got = self._models.get(id(t))
        if got is None:
            content = None if t.is_simple() or t.has_simple_content() else t.content
            got = ContentModel(self, content)
            self._models[id(t)] = got
            self._keep.append(t)
        return got

    def rule(self, decl: Any) -> Rule:
        """The rule of a declaration of this schema (one object per declaration)."""
        got = self._rules.get(id(decl))
        if got is None:
            got = Rule.of(decl)
            self._rules[id(decl)] = got
            self._keep.append(decl)
        return got

    def tree(self, t: Any) -> Any:
        """The normalised particle tree of a complex type's content (None: no element content)."""
        key = id(t)
        if key not in self._trees:
            from egif.diff.structure import tree

            content = None if t.is_simple() or t.has_simple_content() else t.content
            self._trees[key] = tree(content)
            self._keep.append(t)
        return self._trees[key]

    def element_names(self, particle: Any) -> list[tuple[str, Any]]:
        """Names an element particle matches, with the declaration each name takes."""
        got = self._element_names.get(id(particle))
        if got is not None:
            return got
        head = particle.ref if getattr(particle, "ref", None) is not None else particle
        out: list[tuple[str, Any]] = []
        if not head.abstract:
            out.append((head.name, head))
        if getattr(particle, "ref", None) is not None:
            out.extend((m.name, m) for m in self.substitutes(head))
        self._element_names[id(particle)] = out
        self._keep.append(particle)
        return out

    def substitutes(self, head: Any) -> list[Any]:
        got = self._substitutes.get(id(head))
        if got is not None:
            return got
        blocked = block_set(head.block) | block_set(getattr(head.type, "block", None))
        out = []
        if "substitution" not in block_set(head.block):
            try:
                members = list(head.iter_substitutes())
            except Exception:
                members = []
            for m in members:
                if m.abstract:
                    continue
                methods = derivation_methods(m.type, head.type)
                if methods is None or methods & blocked:
                    continue
                out.append(m)
        self._substitutes[id(head)] = out
        return out

    def label_rule(self, label: Label, symbol: Symbol) -> Rule | None:
        """The rule a label applies to ``symbol``, or None if it does not match it."""
        p = label.particle
        if label.kind == "el":
            if not isinstance(symbol, str):
                return None
            names = self._name_rules.get(label.pid)
            if names is None:
                names = {name: self.rule(decl) for name, decl in reversed(self.element_names(p))}
                self._name_rules[label.pid] = names
            return names.get(symbol)
        if isinstance(symbol, str):
            if not p.is_namespace_allowed(ns_of(symbol)):
                return None
            pc = p.process_contents
            if pc == "skip":
                return SKIP
            decl = self.elements.get(symbol)
            if decl is not None:
                return self.rule(decl) if not decl.abstract else NONE
            return LAX if pc == "lax" else NONE
        ns = symbol[1] if symbol[0] == "ns" else FRESH_NS
        if not p.is_namespace_allowed(ns):
            return None
        pc = p.process_contents
        return SKIP if pc == "skip" else LAX if pc == "lax" else NONE

    def wildcard_names(self, w: Any) -> list[str]:
        """Global element names a lax or strict wildcard can reach."""
        if w.process_contents == "skip":
            return []
        out: list[str] = []
        for ns, names in self.elements_by_ns.items():
            if w.is_namespace_allowed(ns):
                out.extend(names)
        return out

    def wildcard_attribute_names(self, w: Any) -> list[str]:
        if w is None or w.process_contents == "skip":
            return []
        out: list[str] = []
        for ns, names in self.attributes_by_ns.items():
            if w.is_namespace_allowed(ns):
                out.extend(names)
        return out

    # -- derivations -------------------------------------------------------------
    def family(self, declared: Any, element_block: Any) -> list[tuple[str, Any]]:
        """Named types ``xsi:type`` may name on an element declared with type ``declared``."""
        key = (id(declared), str(element_block or ""))
        got = self._families.get(key)
        if got is None:
            got = self._family(declared, element_block)
            self._families[key] = got
            self._keep.append(declared)
        return got

    def _family(self, declared: Any, element_block: Any) -> list[tuple[str, Any]]:
        blocked = block_set(element_block) | block_set(getattr(declared, "block", None))
        if self._derived is None:
            self._derived = self._derivation_index()
        key = id(self.types.get(str(declared.name), declared)) if _builtin(declared) else id(declared)
        out: list[tuple[str, Any]] = []
        for name, t, methods in self._derived.get(key, []):
            if methods & blocked:
                continue
            if getattr(t, "abstract", False):
                continue
            out.append((name, t))
        if declared.is_simple() and declared.is_union():
            member_types = union_member_types(declared)
            seen = {n for n, _ in out}
            for m in member_types:
                for name, t in self._family(m, element_block):
                    if name not in seen and "restriction" not in blocked:
                        seen.add(name)
                        out.append((name, t))
        return out

    def _derivation_index(self) -> dict[int, list[tuple[str, Any, frozenset[str]]]]:
        index: dict[int, list[tuple[str, Any, frozenset[str]]]] = {}
        for name, t in self.types.items():
            methods: set[str] = set()
            cur = t
            seen = 0
            while cur is not None and seen < 200:
                index.setdefault(id(cur), []).append((name, t, frozenset(methods)))
                self._keep.append(cur)
                base = getattr(cur, "base_type", None)
                if base is None:
                    if cur is not self.any_type and not _is_any_type(cur):
                        # list, union and the simple ur-type derive from anySimpleType, then anyType
                        simple_ur = self.types.get(f"{{{XSD}}}anySimpleType")
                        if simple_ur is not None and cur is not simple_ur:
                            methods.add("restriction")
                            cur = simple_ur
                            seen += 1
                            continue
                        methods.add("restriction")
                        index.setdefault(id(self.any_type), []).append((name, t, frozenset(methods)))
                    break
                method = getattr(cur, "derivation", None) or "restriction"
                methods.add(str(method))
                cur = base
                seen += 1
        for rows in index.values():
            # the ID family last: witnesses naming them read badly and need the whole document
            rows.sort(key=lambda r: (local_of(r[0]) in _ID_TYPES and ns_of(r[0]) == XSD, r[0]))
        return index


def _imports_xml_namespace(schema: Any) -> bool:
    for sch in schema.maps.iter_schemas():
        url = str(getattr(sch, "url", "") or "")
        if "/xmlschema/schemas/" in url:
            continue
        root = getattr(sch, "root", None)
        if root is None:
            continue
        for child in root:
            if child.tag == f"{{{XSD}}}import" and child.get("namespace") == XML_NS:
                return True
    return False


BUILTIN_TYPES = frozenset([
    "anyType", "anySimpleType", "string", "normalizedString", "token", "language", "Name", "NCName", "ID",
    "IDREF", "IDREFS", "ENTITY", "ENTITIES", "NMTOKEN", "NMTOKENS", "boolean", "decimal", "integer",
    "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte", "nonNegativeInteger",
    "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger", "float", "double",
    "duration", "dateTime", "time", "date", "gYearMonth", "gYear", "gMonthDay", "gDay", "gMonth",
    "hexBinary", "base64Binary", "anyURI", "QName", "NOTATION",
])

_ID_TYPES = frozenset({"ID", "IDREF", "IDREFS", "ENTITY", "ENTITIES"})


def _is_any_type(t: Any) -> bool:
    return getattr(t, "name", None) == f"{{{XSD}}}anyType"


def _builtin(t: Any) -> bool:
    name = getattr(t, "name", None)
    return bool(name) and ns_of(str(name)) == XSD


def _same(a: Any, b: Any) -> bool:
    return a is b or (_builtin(a) and _builtin(b) and a.name == b.name)


def derivation_methods(t: Any, base: Any) -> frozenset[str] | None:
    """Methods used to derive ``t`` from ``base`` (None when not derived)."""
    methods: set[str] = set()
    cur = t
    for _ in range(200):
        if _same(cur, base):
            return frozenset(methods)
        if cur is None:
            return None
        nxt = getattr(cur, "base_type", None)
        if nxt is None:
            return frozenset(methods | {"restriction"}) if _is_any_type(base) else None
        methods.add(str(getattr(cur, "derivation", None) or "restriction"))
        cur = nxt
    return None


__all__ = [
    "BUILTIN_NAMESPACES",
    "FRESH_NS",
    "LAX",
    "NONE",
    "SKIP",
    "XSI",
    "ContentModel",
    "Label",
    "Rule",
    "Side",
    "block_set",
    "derivation_methods",
    "local_of",
    "ns_of",
]
