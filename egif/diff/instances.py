"""Small valid instances of declarations and types, the bricks witnesses are built from.

:class:`Builder` makes, for one side, the smallest instance it can of an
element declaration, a type or a content-model word: required attributes
only, the cheapest accepted sequence of children (a shortest-path search over
the content automaton, each child weighted by the size of its own smallest
instance), and the shortest text the simple type accepts.  Recursive types
are handled by refusing, while a type is being expanded, to expand it again
inside itself.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

from lxml import etree

from egif.diff.automaton import TooLarge
from egif.diff.model import FRESH_NS, LAX, NONE, SKIP, XML_NS, XSD, XSI, ContentModel, Rule, Side, ns_of
from egif.diff.structure import HOLE, Node
from egif.diff.values import Lang, NotModelled

INF = float("inf")
PLACEHOLDER = "{urn:egif:diff:placeholder}x"


class Unknown(Exception):
    """Whether something has an instance could not be decided (a cap, a construct not modelled).

    Never read as "no instance": the caller explores as if there were one.
    """


class Builder:
    """Builds minimal instances for one :class:`Side`."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self._active: set[int] = set()
        self._cost: dict[tuple[int, Any], float] = {}
        self._words: dict[int, list[tuple[str, Rule]] | None] = {}
        self._completions: dict[tuple[int, frozenset[int]], list[tuple[str, Rule]] | None] = {}
        self._values: dict[int, str | None] = {}
        self._keep: list[Any] = []
        self.ids = itertools.count()
        self._repeat: tuple[Node | None, int | None] | None = None
        self._possible: dict[int, bool] = {}
        self._possible_rules: dict[int, bool] = {}
        self._possible_active: set[int] = set()

    # -- costs ---------------------------------------------------------------------
    def rule_cost(self, rule: Rule) -> float:
        if rule.kind in ("lax", "skip"):
            return 1
        if rule.kind == "none":
            return INF
        decl = rule.decl
        t = decl.type
        if getattr(t, "abstract", False):
            alt = self.concrete_type(decl)
            if alt is None:
                return INF
            t = alt[1]
        return 1 + self.type_cost(t, decl)

    def type_cost(self, t: Any, decl: Any = None) -> float:
        key = (id(t), (getattr(decl, "fixed", None), getattr(decl, "default", None)))
        if key in self._cost:
            return self._cost[key]
        if id(t) in self._active:
            return INF
        self._active.add(id(t))
        try:
            cost = self._attribute_cost(t)
            if cost < INF:
                if t.is_simple() or t.has_simple_content():
                    cost += 0 if self.simple_text(t, decl) is not None else INF
                else:
                    word = self.min_word(t)
                    cost += INF if word is None else sum(self.rule_cost(r) for _, r in word)
        finally:
            self._active.discard(id(t))
        if cost < INF or not self._active:
            self._cost[key] = cost
            self._keep.append(t)
        return cost

    def _attribute_cost(self, t: Any) -> float:
        for _, attr in _attributes(t):
            if attr.use == "required" and self.attribute_value(attr) is None:
                return INF
        return 0

    def inhabited(self, rule: Rule) -> bool:
        return self.rule_cost(rule) < INF

    def possibly_inhabited(self, rule: Rule) -> bool:
        """False only when ``rule`` has no instance even granting every simple type a value.

        Cheaper than :meth:`inhabited` (no value space is built): the structure
        alone (required children, recursion without a way out) decides.
        """
        if rule.kind in ("lax", "skip"):
            return True
        if rule.kind == "none":
            return False
        known = self._possible_rules.get(rule.decl_id)
        if known is not None:
            return known
        t = rule.decl.type
        if getattr(t, "abstract", False):
            result = any(self._type_possible(x) for _, x in self.side.family(t, rule.decl.block))
        else:
            result = self._type_possible(t)
        if result or not self._possible_active:
            self._possible_rules[rule.decl_id] = result
        return result

    def _type_possible(self, t: Any) -> bool:
        key = id(t)
        if key in self._possible:
            return self._possible[key]
        if key in self._possible_active:
            return False
        if t.is_simple() or t.has_simple_content():
            return True
        self._possible_active.add(key)
        try:
            node = self.side.tree(t)
            result = node is None or self._node_possible(node)
        finally:
            self._possible_active.discard(key)
        if result or not self._possible_active:
            self._possible[key] = result
            self._keep.append(t)
        return result

    def _node_possible(self, node: Node) -> bool:
        if node.lo == 0:
            return True
        if node.kind == "el":
            return any(self.possibly_inhabited(self.side.rule(d)) for _, d in self.side.element_names(node.particle))
        if node.kind == "any":
            w = node.particle
            if w.process_contents != "strict":
                return True
            reached = self.side.wildcard_names(w)
            return any(self.possibly_inhabited(self.side.rule(self.side.elements[n])) for n in reached)
        if node.kind == "choice":
            return any(self._node_possible(c) for c in node.children)
        return all(self._node_possible(c) for c in node.children)

    # -- words -------------------------------------------------------------------------
    def min_word(self, t: Any) -> list[tuple[str, Rule]] | None:
        """The cheapest children of a smallest instance of ``t`` (None: there is none)."""
        key = id(t)
        if key in self._words:
            return self._words[key]
        node = self.side.tree(t)
        word = [] if node is None else self.tree_word(node)
        if word is not None or not self._active - {key}:
            self._words[key] = word
        return word

    def tree_word(self, node: Node, target: Node | None = None, repeat: int | None = None
                  ) -> list[tuple[str, Rule]] | None:
        """The cheapest word of a particle tree; with ``target``, one that contains it.

        The first occurrence of ``target`` is the :data:`HOLE` item, unless
        ``repeat`` asks for ``target`` to occur that many times instead.  None
        when no such word exists; :class:`Unknown` when that could not be
        decided.
        """
        self._repeat = (target, repeat) if repeat is not None else None
        try:
            got = self._tree_word(node, target)
        finally:
            self._repeat = None
        return None if got is None else got[1]

    def _contains(self, node: Node, target: Node) -> bool:
        if node is target:
            return True
        return any(self._contains(c, target) for c in node.children)

    def _tree_word(self, node: Node, target: Node | None) -> tuple[float, list[tuple[str, Rule]]] | None:
        forced = target is not None and self._contains(node, target)
        count = max(node.lo, 1) if forced else node.lo
        repeating = self._repeat is not None and node is self._repeat[0]
        if repeating and self._repeat is not None and self._repeat[1] is not None:
            count = self._repeat[1]
        if count == 0:
            return 0.0, []
        if node.kind in ("el", "any"):
            one = self.leaf(node)
            if one is None:
                return None
            cost, item = one
            if forced and node is target and not repeating:
                return cost * count, [HOLE] + [item] * (count - 1)
            return cost * count, [item] * count
        inner_target = target if forced and not repeating else None
        first = self._group_once(node, inner_target)
        if first is None:
            return None
        if count == 1:
            return first
        rest = self._group_once(node, None) if inner_target is not None else first
        if rest is None:
            return None
        return first[0] + rest[0] * (count - 1), first[1] + rest[1] * (count - 1)

    def _group_once(self, node: Node, target: Node | None) -> tuple[float, list[tuple[str, Rule]]] | None:
        if node.kind == "choice":
            best: tuple[float, list[tuple[str, Rule]]] | None = None
            uncertain = False
            for c in node.children:
                if target is not None and not self._contains(c, target):
                    continue
                try:
                    got = self._tree_word(c, target)
                except Unknown:
                    uncertain = True
                    continue
                if got is not None and (best is None or got[0] < best[0]):
                    best = got
            if best is None and uncertain:
                raise Unknown("could not decide whether a choice has an instance")
            return best
        total = 0.0
        word: list[tuple[str, Rule]] = []
        for c in node.children:
            got = self._tree_word(c, target if target is not None and self._contains(c, target) else None)
            if got is None:
                return None
            total += got[0]
            word.extend(got[1])
        return total, word

    def leaf(self, node: Node) -> tuple[float, tuple[str, Rule]] | None:
        if node.kind == "el":
            best: tuple[float, tuple[str, Rule]] | None = None
            uncertain = False
            for name, decl in self.side.element_names(node.particle):
                rule = self.side.rule(decl)
                try:
                    cost = self.rule_cost(rule)
                except Unknown:
                    uncertain = True
                    continue
                if cost < INF and (best is None or cost < best[0]):
                    best = (cost, (name, rule))
            if best is None and uncertain:
                raise Unknown("could not decide whether an element has an instance")
            return best
        w = node.particle
        if w.process_contents == "strict":
            best = None
            for name in self.side.wildcard_names(w):
                rule = self.side.rule(self.side.elements[name])
                cost = self.rule_cost(rule)
                if cost < INF and (best is None or cost < best[0]):
                    best = (cost, (name, rule))
            return best
        fresh = fresh_name(w, self.side)
        if fresh is None:
            return None
        return 1.0, (fresh, SKIP if w.process_contents == "skip" else LAX)

    def completion(self, model: ContentModel, state: frozenset[int]) -> list[tuple[str, Rule]] | None:
        """The cheapest sequence of children leading from ``state`` to acceptance."""
        key = (id(model), state)
        if key in self._completions:
            return self._completions[key]
        counter = itertools.count()
        heap: list[tuple[float, int, frozenset[int], list[tuple[str, Rule]]]] = [(0, next(counter), state, [])]
        best: dict[frozenset[int], float] = {state: 0}
        result: list[tuple[str, Rule]] | None = None
        expanded = 0
        uncertain = False
        while heap:
            cost, _, cur, word = heapq.heappop(heap)
            if cost > best.get(cur, INF):
                continue
            if model.accepting(cur):
                result = word
                break
            expanded += 1
            if expanded > 5000:
                raise Unknown("content model too large to search for an instance")
            for symbol in self.symbols(model, cur):
                nxt, rule = model.step(cur, symbol)
                if not nxt or rule is None or rule.kind == "none":
                    continue
                try:
                    c = cost + self.rule_cost(rule)
                except Unknown:
                    uncertain = True
                    continue
                if c < best.get(nxt, INF):
                    best[nxt] = c
                    heapq.heappush(heap, (c, next(counter), nxt, [*word, (symbol, rule)]))
        if result is None and uncertain:
            raise Unknown("could not decide whether the content can be completed")
        if result is not None or not self._active:
            self._completions[key] = result
        return result

    def symbols(self, model: ContentModel, state: frozenset[int]) -> list[str]:
        out: list[str] = []
        for label in model.out_labels(state):
            if label.kind == "el":
                out.extend(name for name, _ in self.side.element_names(label.particle))
            else:
                w = label.particle
                if w.process_contents == "strict":
                    out.extend(self.side.wildcard_names(w))
                else:
                    name = fresh_name(w, self.side)
                    if name is not None:
                        out.append(name)
        return list(dict.fromkeys(out))

    # -- values ------------------------------------------------------------------------
    def min_value(self, lang: Lang) -> str | None:
        """The shortest value of ``lang`` (None: it has none); :class:`Unknown` when undecided."""
        key = id(lang)
        if key in self._values:
            return self._values[key]
        value = None
        try:
            for text in lang.dfa.strings(40):
                if lang.check(text):
                    value = text
                    break
            else:
                if not lang.exact and not lang.dfa.is_empty():
                    raise Unknown("no value found that meets " +
                                  ", ".join(sorted(r.description for r in lang.residual)))
        except TooLarge as exc:
            raise Unknown(str(exc)) from exc
        self._values[key] = value
        self._keep.append(lang)
        return value

    def distinct_value(self, lang: Lang) -> str | None:
        """A value not handed out before in this build (for xs:ID)."""
        n = next(self.ids)
        got = [t for t in lang.dfa.strings(n + 20) if lang.check(t)]
        return got[n % len(got)] if got else None

    def simple_text(self, t: Any, decl: Any = None) -> str | None:
        try:
            st = t if t.is_simple() else t.content
            lang = self.side.langs.element_text(st, getattr(decl, "fixed", None), getattr(decl, "default", None))
        except (NotModelled, TooLarge) as exc:
            raise Unknown(str(exc)) from exc
        if lang.id_kind == "ID":
            return self.distinct_value(lang)
        return self.min_value(lang)

    def attribute_value(self, attr: Any) -> str | None:
        try:
            lang = self.side.langs.attribute_value(attr.type, attr.fixed)
        except (NotModelled, TooLarge) as exc:
            raise Unknown(str(exc)) from exc
        if attr.fixed is not None and lang.check(str(attr.fixed)):
            return str(attr.fixed)
        if lang.id_kind == "ID":
            return self.distinct_value(lang)
        return self.min_value(lang)

    def concrete_type(self, decl: Any) -> tuple[str, Any] | None:
        for name, t in self.side.family(decl.type, decl.block):
            if self.type_cost(t, decl) < INF:
                return name, t
        return None

    # -- instances -----------------------------------------------------------------------
    def element(self, name: str, rule: Rule, xsi_type: str | None = None) -> etree._Element | None:
        """The smallest instance of a child ``name`` validated by ``rule``."""
        if rule.kind in ("lax", "skip"):
            return etree.Element(name)
        if rule.kind == "none":
            return None
        decl = rule.decl
        t = decl.type
        if xsi_type is not None:
            t = self.side.types.get(xsi_type, t)
        elif getattr(t, "abstract", False):
            found = self.concrete_type(decl)
            if found is None:
                return None
            xsi_type, t = found
        elem = etree.Element(name)
        if xsi_type is not None:
            set_xsi_type(elem, xsi_type)
        if not self.fill(elem, t, decl):
            return None
        return elem

    def fill(self, elem: etree._Element, t: Any, decl: Any = None,
             children: list[etree._Element] | None = None, *, text: str | None = None,
             skip_attributes: frozenset[str] = frozenset()) -> bool:
        """Give ``elem`` the required attributes of ``t`` and its smallest content."""
        for key, attr in _attributes(t):
            if attr.use != "required" or key in skip_attributes:
                continue
            value = self.attribute_value(attr)
            if value is None:
                return False
            elem.set(key, value)
        if t.is_simple() or t.has_simple_content():
            value = text if text is not None else self.simple_text(t, decl)
            if value is None:
                return False
            elem.text = value or None
            return True
        if children is None:
            word = self.min_word(t)
            children = None if word is None else self.children(word)
            if children is None:
                return False
        for child in children:
            elem.append(child)
        if text is not None:
            elem.text = text
        return True

    def children(self, word: list[tuple[str, Rule]]) -> list[etree._Element] | None:
        out = []
        for symbol, rule in word:
            child = self.element(symbol, rule)
            if child is None:
                return None
            out.append(child)
        return out


def fresh_name(w: Any, side: Side, taken: frozenset[str] = frozenset()) -> str | None:
    """A name a wildcard admits that no schema declares (``local`` in a fitting namespace)."""
    candidates = [FRESH_NS, "", *sorted(x for x in getattr(w, "namespace", None) or [] if not x.startswith("##"))]
    tns = side.schema.target_namespace or ""
    candidates.append(tns)
    for ns in candidates:
        if not w.is_namespace_allowed(ns):
            continue
        for i in range(50):
            local = "egifAny" if i == 0 else f"egifAny{i}"
            name = f"{{{ns}}}{local}" if ns else local
            if name not in side.elements and name not in taken:
                return name
    return None


def set_xsi_type(elem: etree._Element, qname: str) -> None:
    """Record an xsi:type as a qualified name; :func:`finish` writes it with a prefix."""
    elem.set(f"{{{XSI}}}type", qname)


def finish(root: etree._Element) -> bytes:
    """Serialise a witness: prefixes for every namespace, xsi:type values written as QNames."""
    uris: list[str] = []

    def note(uri: str) -> None:
        if uri and uri not in uris and uri not in (XSI, XML_NS):
            uris.append(uri)

    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        note(ns_of(str(el.tag)))
        for k in el.attrib:
            note(ns_of(str(k)))
        xt = el.get(f"{{{XSI}}}type")
        if xt is not None:
            note(ns_of(xt))
    uses_xsi = any(isinstance(el.tag, str) and any(ns_of(str(k)) == XSI for k in el.attrib) for el in root.iter())
    nsmap: dict[str, str] = {"xsi": XSI} if uses_xsi else {}
    prefix_of: dict[str, str] = {}
    for i, uri in enumerate(uris):
        p = "xs" if uri == XSD else f"n{i}"
        nsmap[p] = uri
        prefix_of[uri] = p
    new_root = etree.Element(root.tag, nsmap=nsmap)
    for k, v in root.attrib.items():
        new_root.set(k, v)
    new_root.text = root.text
    for child in list(root):
        new_root.append(child)
    for el in new_root.iter():
        if not isinstance(el.tag, str):
            continue
        xt = el.get(f"{{{XSI}}}type")
        if xt is not None:
            ns = ns_of(xt)
            local = xt.rsplit("}", 1)[-1]
            prefix = "xml" if ns == XML_NS else prefix_of.get(ns, "")
            el.set(f"{{{XSI}}}type", f"{prefix}:{local}" if ns else local)
    return bytes(etree.tostring(new_root, encoding="UTF-8"))


def _attributes(t: Any) -> list[tuple[str, Any]]:
    attrs = getattr(t, "attributes", None)
    if not attrs or t.is_simple():
        return []
    return [(k, a) for k, a in attrs.items() if k is not None and a.use != "prohibited"]


__all__ = ["INF", "LAX", "NONE", "PLACEHOLDER", "SKIP", "Builder", "Unknown", "finish", "fresh_name", "set_xsi_type"]
