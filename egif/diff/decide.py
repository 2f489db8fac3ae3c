"""Decide whether every document valid under one schema is valid under another.

:func:`decide` answers for one direction ("backward": OLD into NEW, "forward":
NEW into OLD) with ``yes``, ``no`` or ``not proven``:

* **roots**: every global element the source declares must be declared by the
  target and subsumed by its declaration;
* **declarations** are compared pairwise as a greatest fixpoint: a pair is
  assumed to hold while it is being explored, so recursive types terminate,
  and it fails only through a local difference found somewhere below it.  A
  declaration pair covers nillable, the value constraint, identity
  constraints and every type ``xsi:type`` may name under the declaration
  (the substitution family, with ``block``);
* **types** are compared on attributes (declared, wildcards with their
  processContents and the global attributes a lax or strict wildcard
  reaches), text (simple values as raw-string automata, mixed, element-only
  and empty content) and children: the source content automaton is walked in
  product with the target's, and for every child name taken the child
  declarations become a new pair to compare; a name the target refuses, or a
  sequence the target cannot end, is a difference.

Every difference found is turned into a *witness*: a small document the
source accepts and the target refuses, built from the difference itself (the
path through the automata, the string in the value-space difference) inside
minimal instances of everything around it.  Both schemas are then asked with
libxml2; only a witness libxml2 confirms makes the answer ``no``.  A
difference that yields no confirmed witness, and every construct the
procedure cannot decide, makes the answer ``not proven`` with the construct
named; ``yes`` is given only when nothing of the kind was met.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from lxml import etree

from egif.diff.automaton import WHITESPACE, TooLarge, any_string, chars, compile_tree, literal_dfa, rep
from egif.diff.instances import PLACEHOLDER, Builder, Unknown, finish, set_xsi_type
from egif.diff.model import (
    FRESH_NS,
    LAX,
    NONE,
    XSD,
    XSI,
    ContentModel,
    Label,
    Rule,
    Side,
    local_of,
    ns_of,
)
from egif.diff.structure import HOLE, Match, Node, Structural, counts_apart, same_shape
from egif.diff.values import Inclusion, Lang, NotModelled, lang_includes, type_signature
from egif.xmlsafe import parse_bytes

MAX_OBLIGATIONS = 200_000
MAX_WITNESS_TRIES = 40
MAX_WITNESSES = 5
MAX_DIFFERENCES_PER_MODEL = 8


@dataclass
class Witness:
    """A document the source schema accepts and the target refuses (both checked by libxml2)."""

    direction: str
    path: str
    reason: str
    document: str
    error: str

    def to_dict(self) -> dict[str, str]:
        return {"direction": self.direction, "path": self.path, "reason": self.reason,
                "document": self.document, "error": self.error}


@dataclass(frozen=True)
class Unproven:
    """A construct the procedure could not decide (or whose difference libxml2 did not confirm)."""

    path: str
    construct: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "construct": self.construct}


@dataclass
class Direction:
    """The answer for one direction."""

    direction: str
    status: str  # "yes" | "no" | "not-proven"
    witnesses: list[Witness] = field(default_factory=list)
    unproven: list[Unproven] = field(default_factory=list)
    differences: int = 0
    obligations: int = 0
    seconds: float = 0.0

    @property
    def holds(self) -> bool:
        return self.status == "yes"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "witnesses": [w.to_dict() for w in self.witnesses],
                "not_proven": [u.to_dict() for u in self.unproven], "differences": self.differences,
                "pairs_compared": self.obligations}


# -- obligations ---------------------------------------------------------------------
@dataclass(eq=False)
class Ob:
    """One comparison: a pair of declarations ("elem") or of types ("type")."""

    kind: str
    parent: Ob | None
    path: str
    name: str = ""            # elem: the element's name
    rule1: Rule = NONE
    rule2: Rule = NONE
    xsi: str | None = None    # type: the xsi:type naming it, if any
    t1: Any = None
    t2: Any = None
    decl1: Any = None         # type: the declaration the text belongs to (value constraint)
    decl2: Any = None
    prefix: list[tuple[str, Rule]] = field(default_factory=list)  # elem: siblings before
    suffix: list[tuple[str, Rule]] | None = None  # elem: siblings after (None: not found)
    context: Callable[[], tuple[list[tuple[str, Rule]], list[tuple[str, Rule]]] | None] | None = None


@dataclass
class _Difference:
    ob: Ob
    path: str
    reason_of: str | Callable[[], str]  # callable when it names a value found on demand
    build: Callable[[], etree._Element | None]  # the local witness (element at ob's level)
    rank: int = 0  # 1 when the difference is only visible through xsi:type
    optional: bool = False  # an extra candidate: not building it is no loss

    @property
    def reason(self) -> str:
        return self.reason_of if isinstance(self.reason_of, str) else self.reason_of()


class _Pseudo:
    """The declaration lax processing behaves as: xs:anyType, nothing else."""

    def __init__(self, any_type: Any) -> None:
        self.type = any_type
        self.nillable = False
        self.fixed = None
        self.default = None
        self.block = None
        self.identities: list[Any] = []
        self.abstract = False


def _vc(decl: Any) -> tuple[Any, Any]:
    return (getattr(decl, "fixed", None), getattr(decl, "default", None))


class Decider:
    def __init__(self, src: Side, tgt: Side, direction: str) -> None:
        self.src = src
        self.tgt = tgt
        self.direction = direction
        self.b1 = Builder(src)
        self.b2 = Builder(tgt)
        self.differences: list[_Difference] = []
        self.unproven: list[Unproven] = []
        self.seen: dict[tuple[Any, ...], Ob] = {}
        self.queue: deque[Ob] = deque()
        self.structural = Structural(src, tgt)
        self.pseudo1 = _Pseudo(src.any_type)
        self.pseudo2 = _Pseudo(tgt.any_type)

    # -- driver ---------------------------------------------------------------------------
    def run(self) -> Direction:
        start = time.perf_counter()
        for side in (self.src, self.tgt):
            if not side.elements:
                self.unproven.append(Unproven("/", f"the {self._role(side)} schema declares no global element: "
                                                   "its model is empty and validates no document (was it read "
                                                   "as validation reads it?)"))
        for name in sorted(self.src.elements):
            d1 = self.src.elements[name]
            if d1.abstract:
                continue
            r1 = self.src.rule(d1)
            if self._empty(r1):
                continue
            d2 = self.tgt.elements.get(name)
            if d2 is None or d2.abstract:
                root = Ob("root", None, "/")
                what = "no longer declared" if d2 is None else "now abstract"
                self._differ(root, f"/{name}", f"global element {name} is {what}",
                             partial(self.b1.element, name, r1))
                continue
            self._push_elem(None, f"/{name}", name, r1, self.tgt.rule(d2), [], [])
        count = 0
        while self.queue:
            ob = self.queue.popleft()
            count += 1
            if count > MAX_OBLIGATIONS:
                self.unproven.append(Unproven("/", "the schemas are too large to compare exhaustively"))
                break
            try:
                if ob.kind == "elem":
                    self._check_elem(ob)
                else:
                    self._check_type(ob)
            except (TooLarge, NotModelled, Unknown) as exc:
                self.unproven.append(Unproven(ob.path, str(exc)))
        witnesses, unconfirmed = self._confirm()
        unproven = list(dict.fromkeys(self.unproven + unconfirmed))
        if witnesses:
            status = "no"
        elif unproven:
            status = "not-proven"
        else:
            status = "yes"
        return Direction(self.direction, status, witnesses, unproven, len(self.differences), count,
                         time.perf_counter() - start)

    def _empty(self, rule: Rule) -> bool:
        """True only when the source side provably has no instance for ``rule``."""
        try:
            return not self.b1.possibly_inhabited(rule)
        except (Unknown, TooLarge, NotModelled):
            return False

    def _completion(self, m: ContentModel, state: frozenset[int]) -> tuple[bool, list[tuple[str, Rule]] | None]:
        """(live, word): live is False only when no accepted continuation provably exists."""
        try:
            rest = self.b1.completion(m, state)
        except (Unknown, TooLarge, NotModelled):
            return True, None
        return rest is not None, rest

    def _role(self, side: Side) -> str:
        old_is_src = self.direction == "backward"
        return "old" if (side is self.src) == old_is_src else "new"

    # -- queueing ---------------------------------------------------------------------------
    def _push_elem(self, parent: Ob | None, path: str, name: str, r1: Rule, r2: Rule,
                   prefix: list[tuple[str, Rule]], suffix: list[tuple[str, Rule]] | None,
                   context: Callable[[], tuple[list[tuple[str, Rule]], list[tuple[str, Rule]]] | None] | None
                   = None) -> None:
        key = ("elem", r1.kind, r1.decl_id, r2.kind, r2.decl_id,
               name if "lax" in (r1.kind, r2.kind) or "skip" in (r1.kind, r2.kind) else "")
        if key in self.seen:
            return
        ob = Ob("elem", parent, path, name=name, rule1=r1, rule2=r2, prefix=prefix, suffix=suffix,
                context=context)
        self.seen[key] = ob
        self.queue.append(ob)

    def _push_type(self, parent: Ob, path: str, t1: Any, t2: Any, decl1: Any, decl2: Any,
                   xsi: str | None) -> None:
        if t1 is t2 and _vc(decl1) == _vc(decl2):
            return
        if _builtin_name(t1) is not None and _builtin_name(t1) == _builtin_name(t2) and \
                _vc(decl1) == _vc(decl2) and t1.is_simple():
            return  # a built-in simple type means the same everywhere (xs:anyType does not: lax content)
        key = ("type", id(t1), _vc(decl1), id(t2), _vc(decl2))
        if key in self.seen:
            return
        ob = Ob("type", parent, path, t1=t1, t2=t2, decl1=decl1, decl2=decl2, xsi=xsi)
        self.seen[key] = ob
        self.queue.append(ob)

    def _differ(self, ob: Ob, path: str, reason: str | Callable[[], str],
                build: Callable[[], etree._Element | None], *, optional: bool = False) -> None:
        rank = 1 if isinstance(reason, str) and reason.startswith("xsi:type") else 0
        node: Ob | None = ob
        while node is not None and not rank:
            if node.kind == "type" and node.xsi is not None:
                rank = 1
            node = node.parent
        self.differences.append(_Difference(ob, path, reason, build, rank, optional))

    # -- declarations ---------------------------------------------------------------------
    def _decl(self, rule: Rule, first: bool) -> Any:
        if rule.kind == "decl":
            return rule.decl
        return self.pseudo1 if first else self.pseudo2

    def _check_elem(self, ob: Ob) -> None:
        r1, r2 = ob.rule1, ob.rule2
        if r2.kind == "skip" or r1.kind == "none":
            return
        name = ob.name
        if r1.kind == "skip":
            def build() -> etree._Element:
                el = etree.Element(name)
                set_xsi_type(el, f"{{{XSD}}}boolean")
                el.text = "x"
                return el
            self._differ(ob, ob.path, "any content was allowed (processContents skip); the new side "
                                      "validates it" if self.direction == "backward" else
                         "any content is allowed here (skip) but the other side validates it", build)
            return
        e1, e2 = self._decl(r1, True), self._decl(r2, False)
        t1, t2 = e1.type, e2.type
        # libxml2 refuses xsi:nil on an element with a fixed value: such nillable means nothing
        nil1 = bool(e1.nillable) and e1.fixed is None
        if nil1 and e2.nillable and e2.fixed is not None:
            def nil_fixed() -> etree._Element | None:
                el = etree.Element(name)
                el.set(f"{{{XSI}}}nil", "true")
                return el if self.b1.fill(el, t1, e1, children=[], text="") else None
            self._differ(ob, ob.path, "a nilled element is refused where the element now has a fixed value",
                         nil_fixed)
        if nil1 and not e2.nillable:
            def nil() -> etree._Element | None:
                el = etree.Element(name)
                el.set(f"{{{XSI}}}nil", "true")
                return el if self.b1.fill(el, t1, e1, children=[], text="") else None
            self._differ(ob, ob.path, "the element was nillable and no longer is", nil)
        self._check_identities(ob, e1, e2)
        if not getattr(t1, "abstract", False):
            if getattr(t2, "abstract", False):
                self._differ(ob, ob.path, "the element's type is now abstract",
                             lambda: self.b1.element(name, Rule.of(e1) if r1.kind == "decl" else LAX))
            else:
                self._push_type(ob, ob.path, t1, t2, e1, e2, None)
        fam2 = dict(self.tgt.family(t2, e2.block))
        for xname, x1 in self.src.family(t1, e1.block):
            x2 = fam2.get(xname)
            if x2 is None:
                def by_xsi(xn: str = xname, xt: Any = x1) -> etree._Element | None:
                    el = etree.Element(name)
                    set_xsi_type(el, xn)
                    return el if self.b1.fill(el, xt, e1) else None
                why = ("is not a type there" if xname not in self.tgt.types else
                       "is not derived from the declared type there, or is blocked or abstract")
                self._differ(ob, ob.path, f"xsi:type {_short(xname)} {why}", by_xsi)
                continue
            self._push_type(ob, ob.path, x1, x2, e1, e2, xname)

    def _check_identities(self, ob: Ob, e1: Any, e2: Any) -> None:
        sig1 = {_identity_signature(i): i for i in (getattr(e1, "identities", None) or [])}
        sig2 = {_identity_signature(i): i for i in (getattr(e2, "identities", None) or [])}
        added = [sig2[s] for s in sig2 if s not in sig1]
        for ident in added:
            kind = type(ident).__name__.replace("Xsd", "").lower()
            label = f"{kind} {_short(str(ident.name))}"
            if kind == "unique" and self._selects_at_most_one(e1, ident):
                continue  # one selected node cannot be a duplicate
            builds = self._identity_witnesses(ob, e1, ident)
            if not builds:
                self.unproven.append(Unproven(ob.path, f"identity constraint {label} added "
                                                       f"(no document found that breaks it)"))
                continue
            self.unproven.append(Unproven(ob.path, f"identity constraint {label} added: not proven "
                                                   f"harmless"))
            for build in builds:
                self._differ(ob, ob.path, f"identity constraint {label} was added", build)
        shared = [s for s in sig1 if s in sig2]
        for s in shared:
            if not self._identity_fields_same(e1, e2, sig1[s], sig2[s]):
                self.unproven.append(Unproven(
                    ob.path, f"identity constraint {_short(str(sig1[s].name))}: the types of the values it "
                             f"compares changed, so which values count as equal may have changed"))

    # -- types --------------------------------------------------------------------------------
    def _check_type(self, ob: Ob) -> None:
        t1, t2 = ob.t1, ob.t2
        self._check_attributes(ob, t1, t2)
        k1, k2 = _content_kind(t1), _content_kind(t2)
        if k1 == "simple":
            if k2 == "simple" and _vc(ob.decl1) == _vc(ob.decl2) and \
                    type_signature(_simple_of(t1)) == type_signature(_simple_of(t2)):
                return  # the same value space
            text1 = self._text_lang(self.src, t1, ob.decl1)
            if k2 == "simple":
                text2 = self._text_lang(self.tgt, t2, ob.decl2)
                self._compare_text(ob, text1, text2, "value")
                return
            n_tree = self.tgt.tree(t2)
            if n_tree is not None and not n_tree.nullable:
                self._compare_text(ob, text1, Lang(literal_dfa([])), "value (the content now needs elements)")
                return
            self._compare_text(ob, text1, _kind_text(k2), "text where the content is now " + _kind_word(k2))
            return
        if k2 == "simple":
            possible, word = self._nonempty_word(t1)
            if possible:
                self._differ(ob, ob.path, "child elements where the content is now a simple value",
                             lambda: None if word is None else self._type_instance(ob, word))
                return
            text2 = self._text_lang(self.tgt, t2, ob.decl2)
            self._compare_text(ob, _kind_text(k1), text2, "text")
            return
        # both have element content (possibly mixed or empty)
        if k1 == "mixed" and k2 != "mixed":
            def mixed() -> etree._Element | None:
                word = self.b1.min_word(t1)
                return None if word is None else self._type_instance(ob, word, text="x")
            self._differ(ob, ob.path, "character data between child elements is no longer allowed", mixed)
        elif k1 == "element" and k2 == "empty" and self._accepts_empty(t1):
            self._differ(ob, ob.path, "whitespace inside the element is no longer allowed (empty content)",
                         lambda: self._type_instance(ob, [], text=" "))
        if _vc(ob.decl1) != _vc(ob.decl2) and k1 == "mixed":
            self.unproven.append(Unproven(ob.path, "a default or fixed value on mixed content"))
        self._check_children(ob, t1, t2)

    def _accepts_empty(self, t: Any) -> bool:
        node = self.src.tree(t)
        return node is None or node.nullable

    def _text_lang(self, side: Side, t: Any, decl: Any) -> Lang:
        st = t if t.is_simple() else t.content
        return side.langs.element_text(st, getattr(decl, "fixed", None), getattr(decl, "default", None))

    def _compare_text(self, ob: Ob, a: Lang, b: Lang, what: str) -> None:
        inc = lang_includes(a, b)
        if inc.holds is True:
            return
        if inc.holds is None and not inc.witnesses:
            self.unproven.append(Unproven(ob.path, f"{what}: {inc.reason}"))
            return
        for k in range(3):
            self._differ(ob, ob.path, partial(_value_reason, f"{what} {{!r}} is refused", inc, k),
                         partial(self._text_witness, ob, inc, k), optional=k > 0)
        if inc.holds is None:
            self.unproven.append(Unproven(ob.path, f"{what}: {inc.reason}"))

    def _text_witness(self, ob: Ob, inc: Inclusion, k: int) -> etree._Element | None:
        values = inc.values()
        return self._type_instance(ob, None, text=values[k]) if k < len(values) else None

    def _attr_witness(self, ob: Ob, inc: Inclusion, name: str, k: int) -> etree._Element | None:
        values = inc.values()
        return self._type_instance(ob, None, extra_attr=(name, values[k])) if k < len(values) else None

    def _attr_instance(self, ob: Ob, name: str, lang: Lang) -> etree._Element | None:
        value = self.b1.min_value(lang)
        return None if value is None else self._type_instance(ob, None, extra_attr=(name, value))

    def _type_instance(self, ob: Ob, word: list[tuple[str, Rule]] | None, *, text: str | None = None,
                       extra_attr: tuple[str, str] | None = None,
                       drop: frozenset[str] = frozenset()) -> etree._Element | None:
        """An instance of ob's source type with the given children and text."""
        el = etree.Element(PLACEHOLDER)
        children = None if word is None else self.b1.children(word)
        if word is not None and children is None:
            return None
        t1 = ob.t1
        if t1.is_simple() or t1.has_simple_content():
            if not self.b1.fill(el, t1, ob.decl1, text=text, skip_attributes=drop):
                return None
        elif not self.b1.fill(el, t1, ob.decl1, children=children, text=text, skip_attributes=drop):
            return None
        if extra_attr is not None:
            el.set(*extra_attr)
        return el

    def _maybe_instance(self, ob: Ob, word: list[tuple[str, Rule]] | None) -> etree._Element | None:
        return None if word is None else self._type_instance(ob, word)

    def _nonempty_word(self, t: Any) -> tuple[bool, list[tuple[str, Rule]] | None]:
        """(possible, word): whether ``t`` may have child elements, and such children if found."""
        node = self.src.tree(t)
        if node is None:
            return False, None
        possible = False
        for leaf in _leaves(node):
            try:
                word = self.b1.tree_word(node, leaf)
            except (Unknown, TooLarge, NotModelled):
                possible = True
                continue
            if word is None:
                continue
            at = next(i for i, item in enumerate(word) if item is HOLE)
            item = self.b1.leaf(leaf)
            if item is None:
                continue
            return True, [*word[:at], item[1], *word[at + 1:]]
        return possible, None

    # -- attributes ----------------------------------------------------------------------------
    def _check_attributes(self, ob: Ob, t1: Any, t2: Any) -> None:
        a1, w1 = _attribute_uses(t1)
        a2, w2 = _attribute_uses(t2)
        if not a1 and w1 is None and not a2 and w2 is None:
            return
        names = set(a1) | set(a2)
        names.update(self.src.wildcard_attribute_names(w1))
        names.update(self.tgt.wildcard_attribute_names(w1))
        names.update(self.src.wildcard_attribute_names(w2))
        names.update(self.tgt.wildcard_attribute_names(w2))
        classes: list[Any] = sorted(names)
        if w1 is not None or w2 is not None:
            spaces = {ns_of(n) for n in names} | {"", self.src.schema.target_namespace or "",
                                                   self.tgt.schema.target_namespace or ""}
            for w in (w1, w2):
                if w is not None:
                    spaces.update(x for x in (getattr(w, "namespace", None) or []) if not x.startswith("##"))
            spaces.discard(XSI)
            classes += [("ns", s) for s in sorted(spaces)] + [("other",)]
        for c in classes:
            if isinstance(c, str) and c in a1 and c in a2 and _same_attribute_values(a1[c], a2[c]):
                continue  # the same declared values on both sides (the usual case): nothing to decide
            l1 = self._attr_lang(self.src, a1, w1, c)
            if l1 is None:
                continue
            l2 = self._attr_lang(self.tgt, a2, w2, c)
            name = c if isinstance(c, str) else _fresh_attr(c, names)
            path = f"{ob.path}/@{_short(name)}"
            if l2 is None:
                if l1.exact and l1.dfa.is_empty():
                    continue
                self._differ(ob, path, f"attribute {_short(name)} is no longer allowed",
                             partial(self._attr_instance, ob, name, l1))
                continue
            inc = lang_includes(l1, l2, attribute=True)
            if inc.holds is True:
                continue
            if inc.holds is None and not inc.witnesses:
                self.unproven.append(Unproven(path, inc.reason))
                continue
            for k in range(2):
                self._differ(ob, path, partial(_value_reason, "attribute value {!r} is refused", inc, k),
                             partial(self._attr_witness, ob, inc, name, k), optional=k > 0)
            if inc.holds is None:
                self.unproven.append(Unproven(path, inc.reason))
        for name, attr in a2.items():
            if attr.use != "required":
                continue
            old = a1.get(name)
            if old is not None and old.use == "required":
                continue
            self._differ(ob, f"{ob.path}/@{_short(name)}", f"attribute {_short(name)} is now required",
                         partial(self._type_instance, ob, None, drop=frozenset({name})))

    def _attr_lang(self, side: Side, decls: dict[str, Any], w: Any, c: Any) -> Lang | None:
        if isinstance(c, str) and c in decls:
            a = decls[c]
            return side.langs.attribute_value(a.type, a.fixed)
        if w is None:
            return None
        ns = c[1] if isinstance(c, tuple) and c[0] == "ns" else FRESH_NS if isinstance(c, tuple) else ns_of(c)
        if not w.is_namespace_allowed(ns):
            return None
        if w.process_contents == "skip":
            return Lang(any_string())
        g = side.attributes.get(c) if isinstance(c, str) else None
        if g is not None:
            return side.langs.attribute_value(g.type, g.fixed)
        return Lang(any_string()) if w.process_contents == "lax" else None

    # -- children --------------------------------------------------------------------------
    def _check_children(self, ob: Ob, t1: Any, t2: Any) -> None:
        o_tree, n_tree = self.src.tree(t1), self.tgt.tree(t2)
        before = len(self.differences)
        self._compare_children(ob, t1, t2, o_tree, n_tree)
        if (len(self.differences) == before and (counts_apart(o_tree) or counts_apart(n_tree))
                and not same_shape(o_tree, n_tree)):
            # the answer above is XSD's; libxml2 may read such a model otherwise
            self.unproven.append(Unproven(ob.path, "the content model nests a counted group that can be empty "
                                                   "in a repeated one, which libxml2 does not always read as "
                                                   "XSD does: not proven for libxml2"))

    def _compare_children(self, ob: Ob, t1: Any, t2: Any, o_tree: Node | None, n_tree: Node | None) -> None:
        match = self.structural.includes(o_tree, n_tree)
        if match is not None:
            self._structural_children(ob, o_tree, match)
            return
        try:
            m1, m2 = self.src.model(t1), self.tgt.model(t2)
        except TooLarge as exc:
            # too large for automata: look for a difference in the trees' occurrence bounds
            self.unproven.append(Unproven(ob.path, str(exc)))
            if o_tree is not None and n_tree is not None:
                self._bound_witnesses(ob, o_tree, n_tree)
            return
        self._automata_children(ob, m1, m2)

    def _bound_witnesses(self, ob: Ob, o_tree: Node, n_tree: Node) -> None:
        """Differences of occurrence bounds between particles at the same place in both trees."""
        for o, n in _aligned(o_tree, n_tree):
            n_hi = n.hi
            if n_hi is not None and (o.hi is None or o.hi > n_hi):
                count = n_hi + 1
                why = f"{count} occurrences where the target allows at most {n_hi}"
            elif n.lo > o.lo and not n.inner_nullable:
                count = o.lo
                why = f"{count} occurrences where the target needs at least {n.lo}"
            else:
                continue
            label = _short(o.particle.name) if o.kind == "el" and o.particle.name else o.kind
            self._differ(ob, f"{ob.path}/{label}", why, partial(self._repeated, ob, o_tree, o, count))

    def _repeated(self, ob: Ob, o_tree: Node, target: Node, count: int) -> etree._Element | None:
        word = self.b1.tree_word(o_tree, target, repeat=count)
        return None if word is None else self._type_instance(ob, word)

    def _structural_children(self, ob: Ob, o_tree: Node | None, match: Match) -> None:
        """Children of a content model included structurally: compare the declarations matched."""
        for name, d1, r2, onode in match.elements:
            r1 = self.src.rule(d1)
            if self._empty(r1):
                continue
            self._push_elem(ob, f"{ob.path}/{_short(name)}", name, r1, r2, [], None,
                            partial(self._tree_context, o_tree, onode))
        for onode, nnode in match.wildcards:
            w1, w2 = onode.particle, nnode.particle
            for symbol in self._wildcard_symbols([w1, w2]):
                found = self.src.label_rule(Label("any", w1, id(w1)), symbol)
                if found is None or found.kind == "none" or self._empty(found):
                    continue
                r1 = found
                r2 = self.tgt.label_rule(Label("any", w2, id(w2)), symbol)
                name = symbol if isinstance(symbol, str) else self._symbol_name(symbol)
                child_path = f"{ob.path}/{_short(name)}"
                context = partial(self._tree_context, o_tree, onode)
                if r2 is None or r2.kind == "none":
                    self._differ(ob, child_path, f"child {_short(name)} is no longer allowed",
                                 partial(self._with_hole, ob, context, name, r1))
                    continue
                self._push_elem(ob, child_path, name, r1, r2, [], None, context)

    def _tree_context(self, o_tree: Node | None, onode: Node) -> tuple[list[tuple[str, Rule]],
                                                                      list[tuple[str, Rule]]] | None:
        if o_tree is None:
            return None
        word = self.b1.tree_word(o_tree, onode)
        if word is None:
            return None
        at = next(i for i, item in enumerate(word) if item is HOLE)
        return word[:at], word[at + 1:]

    def _with_hole(self, ob: Ob, context: Callable[[], tuple[list[tuple[str, Rule]],
                                                               list[tuple[str, Rule]]] | None],
                   name: str, rule: Rule) -> etree._Element | None:
        found = context()
        if found is None:
            return None
        before, after = found
        return self._type_instance(ob, [*before, (name, rule), *after])

    def _wildcard_symbols(self, wildcards: list[Any], named: Iterable[str] = ()) -> list[Any]:
        """The symbols that stand for what *wildcards* (and the elements *named* beside them)
        admit: every declared name, one fresh name per namespace in play, and one outside."""
        names: list[str] = list(named)
        for w in wildcards:
            names.extend(self.src.wildcard_names(w))
            names.extend(self.tgt.wildcard_names(w))
        spaces = {ns_of(n) for n in names} | {"", self.src.schema.target_namespace or "",
                                               self.tgt.schema.target_namespace or ""}
        for w in wildcards:
            spaces.update(x for x in (getattr(w, "namespace", None) or []) if not x.startswith("##"))
        out: list[Any] = list(dict.fromkeys(names))
        out += [("ns", x) for x in sorted(spaces)]
        out.append(("other",))
        return out

    def _automata_children(self, ob: Ob, m1: ContentModel, m2: ContentModel) -> None:
        """Walk the product of the two content automata, breadth first.

        A path is kept as a chain of (parent, child) links, so long
        repetitions cost no copying.  The walk stops after a few differences:
        one confirmed witness is enough, and counted repetitions would
        otherwise repeat the same difference at every count.
        """
        start = (m1.initial(), m2.initial())
        links: dict[tuple[frozenset[int], frozenset[int]], tuple[Any, tuple[str, Rule]] | None] = {start: None}
        queue: deque[tuple[frozenset[int], frozenset[int]]] = deque([start])
        found = 0
        steps = 0

        def word_to(key: tuple[frozenset[int], frozenset[int]]) -> list[tuple[str, Rule]]:
            out: list[tuple[str, Rule]] = []
            link = links[key]
            while link is not None:
                parent, item = link
                out.append(item)
                link = links[parent]
            out.reverse()
            return out

        while queue and found < MAX_DIFFERENCES_PER_MODEL:
            key = queue.popleft()
            s1, s2 = key
            steps += 1
            if steps > 50_000:
                self.unproven.append(Unproven(ob.path, "content models too large to compare"))
                return
            if m1.accepting(s1) and not m2.accepting(s2):
                path = word_to(key)
                found += 1
                self._differ(ob, ob.path, "the content may end here under the source schema but not the "
                                          "target: " + _word_text(path),
                             partial(self._type_instance, ob, path))
            for symbol in self._symbols(m1, s1, m2, s2):
                n1, r1 = m1.step(s1, symbol)
                if not n1 or r1 is NONE:
                    continue
                if r1 is None:
                    self.unproven.append(Unproven(ob.path, f"ambiguous content model at {_short(symbol)}"))
                    continue
                if self._empty(r1):
                    continue
                live, rest = self._completion(m1, n1)
                if not live:
                    continue
                name = symbol if isinstance(symbol, str) else self._symbol_name(symbol)
                n2, r2 = m2.step(s2, symbol)
                child_path = f"{ob.path}/{_short(name)}"
                if not n2 or r2 is NONE:
                    path = word_to(key)
                    word = None if rest is None else [*path, (name, r1), *rest]
                    found += 1
                    self._differ(ob, child_path, f"child {_short(name)} is not allowed after "
                                                 f"{_word_text(path) or 'the start'}",
                                 partial(self._maybe_instance, ob, word))
                    continue
                if r2 is None:
                    self.unproven.append(Unproven(child_path, "ambiguous content model on the target side"))
                    continue
                self._push_elem(ob, child_path, name, r1, r2, [], rest,
                                partial(self._automaton_context, word_to, key, rest))
                nxt = (n1, n2)
                if nxt not in links:
                    links[nxt] = (key, (name, r1))
                    queue.append(nxt)

    @staticmethod
    def _automaton_context(word_to: Callable[[Any], list[tuple[str, Rule]]], key: Any,
                           rest: list[tuple[str, Rule]] | None
                           ) -> tuple[list[tuple[str, Rule]], list[tuple[str, Rule]]] | None:
        return None if rest is None else (word_to(key), rest)

    def _symbols(self, m1: ContentModel, s1: frozenset[int], m2: ContentModel, s2: frozenset[int]) -> list[Any]:
        names: list[str] = []
        wildcards: list[Any] = []
        for m, s, side in ((m1, s1, self.src), (m2, s2, self.tgt)):
            for label in m.out_labels(s):
                if label.kind == "el":
                    names.extend(n for n, _ in side.element_names(label.particle))
                else:
                    wildcards.append(label.particle)
        if not wildcards:
            return list(dict.fromkeys(names))
        return self._wildcard_symbols(wildcards, names)

    def _symbol_name(self, symbol: Any) -> str:
        ns = symbol[1] if symbol[0] == "ns" else FRESH_NS
        for i in range(50):
            local = "egifAny" if i == 0 else f"egifAny{i}"
            name = f"{{{ns}}}{local}" if ns else local
            if name not in self.src.elements and name not in self.tgt.elements:
                return name
        return f"{{{ns}}}egifAnyX" if ns else "egifAnyX"

    # -- identity constraints -----------------------------------------------------------------
    def _identity_witnesses(self, ob: Ob, e1: Any, ident: Any) -> list[Callable[[], etree._Element | None]]:
        """Documents that may break an added constraint: the selected element twice, or its fields left out."""
        steps = _selector_steps(ident)
        if steps is None or ob.rule1.kind != "decl":
            return []
        out: list[Callable[[], etree._Element | None]] = []
        for count in (2, 1):
            def build(c: int = count) -> etree._Element | None:
                return self._instance_with_path(ob.name, e1, steps, c)
            out.append(build)

        def twice_with_fields() -> etree._Element | None:
            # the smallest instance leaves optional attributes out, and a field that is absent
            # makes no duplicate: the selected element twice, each with the same field values
            el = self._instance_with_path(ob.name, e1, steps, 2)
            return el if el is not None and self._fill_fields(el, e1, steps, ident) else None

        out.insert(1, twice_with_fields)
        return out

    def _fill_fields(self, el: etree._Element, decl: Any, steps: list[str], ident: Any) -> bool:
        """Give the nodes *steps* select under *el* every attribute field the constraint names,
        the same smallest value on each; False when one cannot be given."""
        nodes = [el]
        for step in steps:
            nodes = [c for n in nodes for c in n if isinstance(c.tag, str) and _step_matches(step, c.tag)]
        decls = _selected_decls(self.src, decl, steps) or []
        fields = [_xpath_key(f) for f in getattr(ident, "fields", None) or []]
        if not nodes or not decls or not all(f.startswith("@") for f in fields):
            return False
        for f in fields:
            attr = _attribute_uses(decls[0].type)[0].get(f[1:])
            value = self.b1.attribute_value(attr) if attr is not None else None
            if value is None:
                return False
            for node in nodes:
                node.set(f[1:], value)
        return True

    def _selects_at_most_one(self, decl: Any, ident: Any) -> bool:
        """Whether the selector provably picks at most one node under ``decl`` (source side)."""
        steps = _selector_steps(ident)
        if steps is None or isinstance(decl, _Pseudo):
            return False
        targets = [decl]
        try:
            for step in steps:
                nxt: list[Any] = []
                for d in targets:
                    t = d.type
                    if t.is_simple() or t.has_simple_content():
                        continue
                    m = self.src.model(t)
                    if any(label.kind != "el" for label in m.labels):
                        return False
                    if _word_with(self.b1, m, step, 2) is not None:
                        return False
                    for label in m.labels:
                        nxt.extend(sub for name, sub in self.src.element_names(label.particle)
                                   if _step_matches(step, name))
                if len(nxt) > 1:
                    return False
                targets = nxt
        except (Unknown, TooLarge, NotModelled):
            return False
        return True

    def _instance_with_path(self, name: str, decl: Any, steps: list[str], count: int) -> etree._Element | None:
        el = etree.Element(name)
        t = decl.type
        if not steps:
            return el if self.b1.fill(el, t, decl) else None
        if t.is_simple() or t.has_simple_content():
            return None
        m = self.src.model(t)
        want = steps[0]
        word = _word_with(self.b1, m, want, count if len(steps) == 1 else 1)
        if word is None:
            return None
        children = []
        for symbol, rule in word:
            if _step_matches(want, symbol) and rule.kind == "decl" and len(steps) > 1:
                child = self._instance_with_path(symbol, rule.decl, steps[1:], count)
            else:
                child = self.b1.element(symbol, rule)
            if child is None:
                return None
            children.append(child)
        return el if self.b1.fill(el, t, decl, children=children) else None

    def _identity_fields_same(self, e1: Any, e2: Any, i1: Any, i2: Any) -> bool:
        f1 = _field_types(self.src, e1, i1)
        f2 = _field_types(self.tgt, e2, i2)
        if f1 is None or f2 is None:
            return False
        return f1 == f2

    # -- witnesses --------------------------------------------------------------------------
    def _confirm(self) -> tuple[list[Witness], list[Unproven]]:
        witnesses: list[Witness] = []
        unconfirmed: list[Unproven] = []
        seen_docs: set[bytes] = set()
        tries = 0
        witnessed: set[str] = set()
        for diff in sorted(self.differences, key=lambda d: d.rank):
            if len(witnesses) >= MAX_WITNESSES:
                break
            if diff.path in witnessed:
                continue  # one witness per place is enough
            tries += 1
            if tries > MAX_WITNESS_TRIES:
                break
            try:
                local = diff.build()
                doc = None if local is None else self._assemble(diff.ob, local)
            except (TooLarge, NotModelled, Unknown):
                doc = None
            if doc is None:
                if not diff.optional:
                    unconfirmed.append(Unproven(diff.path, f"{diff.reason} (no document could be built around it)"))
                continue
            if doc in seen_docs:
                continue
            seen_docs.add(doc)
            ok, error = self._libxml2(doc)
            if ok:
                witnessed.add(diff.path)
                witnesses.append(Witness(self.direction, diff.path, diff.reason, doc.decode("utf-8"), error))
            else:
                unconfirmed.append(Unproven(diff.path, f"{diff.reason} (libxml2 did not confirm the "
                                                       f"witness: {error})"))
        if witnesses:
            return witnesses, []
        return witnesses, unconfirmed

    def _assemble(self, ob: Ob, local: etree._Element) -> bytes | None:
        cur: etree._Element | None = local
        node: Ob | None = ob
        while node is not None and cur is not None:
            if node.kind == "type":
                parent = node.parent
                if parent is None:
                    return None
                cur.tag = parent.name
                if node.xsi is not None:
                    set_xsi_type(cur, node.xsi)
                node = parent
                continue
            if node.kind == "root":
                break
            # an element pair: embed into its parent type's instance
            parent = node.parent
            if parent is None:
                break
            if cur.tag == PLACEHOLDER:
                cur.tag = node.name
            prefix, suffix = node.prefix, node.suffix
            if node.context is not None:
                found = node.context()
                if found is None:
                    return None
                prefix, suffix = found
            if suffix is None:
                return None
            before = self.b1.children(prefix)
            after = self.b1.children(suffix)
            if before is None or after is None:
                return None
            holder = etree.Element(PLACEHOLDER)
            if not self.b1.fill(holder, parent.t1, parent.decl1, children=[*before, cur, *after]):
                return None
            cur = holder
            node = parent
        if cur is None:
            return None
        if cur.tag == PLACEHOLDER:
            return None
        return finish(cur)

    def _libxml2(self, doc: bytes) -> tuple[bool, str]:
        try:
            tree = parse_bytes(doc, "witness")
        except Exception as exc:
            return False, f"not well-formed: {exc}"
        if not self.src.lxml.validate(tree):
            return False, "the source schema refuses it: " + _first_error(self.src.lxml)
        if self.tgt.lxml.validate(tree):
            return False, "the target schema accepts it"
        return True, _first_error(self.tgt.lxml)


# -- helpers ----------------------------------------------------------------------------------
def _aligned(o: Node, n: Node) -> list[tuple[Node, Node]]:
    """Particles at the same place in two trees (same kind, same element name)."""
    if o.kind != n.kind:
        return []
    if o.kind in ("el", "any"):
        same = o.kind == "any" or getattr(o.particle, "name", None) == getattr(n.particle, "name", None)
        return [(o, n)] if same else []
    out = [(o, n)]
    if len(o.children) == len(n.children):
        for a, b in zip(o.children, n.children, strict=True):
            out.extend(_aligned(a, b))
    else:
        by_name = {getattr(c.particle, "name", None): c for c in n.children if c.kind == "el"}
        for a in o.children:
            match = by_name.get(getattr(a.particle, "name", None)) if a.kind == "el" else None
            if match is not None:
                out.extend(_aligned(a, match))
    return out


def _value_reason(template: str, inc: Inclusion, k: int) -> str:
    values = inc.values()
    return template.format(values[k]) if k < len(values) else template.format("")


def _simple_of(t: Any) -> Any:
    return t if t.is_simple() else t.content


def _leaves(node: Node) -> list[Node]:
    if node.kind in ("el", "any"):
        return [node] if node.hi != 0 else []
    return [leaf for c in node.children for leaf in _leaves(c)]


def _first_error(schema: Any) -> str:
    entries = list(schema.error_log)
    if not entries:
        return "refused"
    return f"line {entries[0].line}: {entries[0].message}"


def _builtin_name(t: Any) -> str | None:
    name = getattr(t, "name", None)
    return str(name) if name and str(name).startswith("{" + XSD + "}") else None


def _content_kind(t: Any) -> str:
    if t.is_simple() or t.has_simple_content():
        return "simple"
    label = str(getattr(t, "content_type_label", ""))
    if label == "empty":
        return "mixed" if t.mixed else "empty"
    if label == "mixed" or t.mixed:
        return "mixed"
    return "element"


def _kind_text(kind: str) -> Lang:
    if kind == "mixed":
        return Lang(any_string())
    if kind == "element":
        return Lang(compile_tree(rep(chars(WHITESPACE), 0, None)))
    return Lang(literal_dfa([""]))


def _kind_word(kind: str) -> str:
    return {"mixed": "mixed", "element": "element-only", "empty": "empty"}.get(kind, kind)


def _attribute_uses(t: Any) -> tuple[dict[str, Any], Any]:
    if t.is_simple():
        return {}, None
    attrs = getattr(t, "attributes", None) or {}
    decls = {k: a for k, a in attrs.items() if k is not None and a.use != "prohibited"}
    return decls, attrs.get(None) if hasattr(attrs, "get") else None


def _fresh_attr(c: Any, taken: set[str]) -> str:
    ns = c[1] if c[0] == "ns" else FRESH_NS
    for i in range(100):
        local = "egifAttr" if i == 0 else f"egifAttr{i}"
        name = f"{{{ns}}}{local}" if ns else local
        if name not in taken:
            return name
    return f"{{{ns}}}egifAttrX"


def _short(name: str) -> str:
    return local_of(name) if name.startswith("{") else name


def _word_text(word: list[tuple[str, Rule]]) -> str:
    if len(word) > 8:
        return f"{len(word)} children, ending " + " ".join(_short(n) for n, _ in word[-4:])
    return " ".join(_short(n) for n, _ in word)


def _identity_signature(ident: Any) -> tuple[Any, ...]:
    sel = getattr(ident, "selector", None)
    fields = getattr(ident, "fields", None) or []
    refer = getattr(ident, "refer", None)
    refer_name = getattr(refer, "name", refer)
    return (type(ident).__name__, _xpath_key(sel), tuple(_xpath_key(f) for f in fields), str(refer_name or ""))


def _xpath_key(x: Any) -> str:
    if x is None:
        return ""
    path = str(getattr(x, "path", ""))
    namespaces = getattr(x, "namespaces", None) or {}
    out = []
    for token in path.replace("|", " | ").replace("/", " / ").split():
        if ":" in token and not token.startswith("@"):
            prefix, local = token.split(":", 1)
            out.append(f"{{{namespaces.get(prefix, prefix)}}}{local}")
        elif token.startswith("@") and ":" in token:
            prefix, local = token[1:].split(":", 1)
            out.append(f"@{{{namespaces.get(prefix, prefix)}}}{local}")
        else:
            out.append(token)
    return "".join(out)


def _selector_paths(ident: Any) -> list[tuple[bool, list[str]]] | None:
    """The paths of a selector (``a/b | .//c``): for each, whether it starts with ``.//`` (at
    any depth below) and its child steps as qualified names; None for any other form."""
    key = _xpath_key(getattr(ident, "selector", None))
    default = getattr(getattr(ident, "selector", None), "xpath_default_namespace", None) or ""
    out = []
    for part in _outside_braces(key, "|"):
        deep = part.startswith(".//")
        if deep:
            part = part[3:]
        steps = _outside_braces(part, "/")
        if "" in steps:  # a path from the root, or // further on
            return None
        steps = [s for s in steps if s != "."]
        if any(s.startswith("@") or "(" in s or "::" in s for s in steps) or (deep and not steps):
            return None
        out.append((deep, [s if s == "*" or s.startswith("{") else f"{{{default}}}{s}" if default else s
                           for s in steps]))
    return out


def _outside_braces(text: str, sep: str) -> list[str]:
    """*text* split at each *sep* that stands outside the braces of a qualified name (a
    namespace name such as ``http://...`` holds slashes of its own)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _selector_steps(ident: Any) -> list[str] | None:
    """The child steps of a selector as qualified names (None for anything but a plain child path)."""
    paths = _selector_paths(ident)
    if paths is None or len(paths) != 1 or paths[0][0]:
        return None
    return paths[0][1]


def _step_matches(step: str, name: str) -> bool:
    return step == "*" or step == name or (step.endswith("}*") and ns_of(name) == step[1:-2])


def _word_with(builder: Builder, m: ContentModel, step: str, count: int) -> list[tuple[str, Rule]] | None:
    """A cheap accepted word with ``count`` children matching ``step``."""
    start = (m.initial(), 0)
    queue: deque[tuple[frozenset[int], int, list[tuple[str, Rule]]]] = deque([(start[0], 0, [])])
    seen = {start}
    while queue:
        s, k, word = queue.popleft()
        if k >= count:
            rest = builder.completion(m, s)
            if rest is not None:
                return word + rest
            continue
        for symbol in builder.symbols(m, s):
            nxt, rule = m.step(s, symbol)
            if not nxt or rule is None or not builder.inhabited(rule):
                continue
            k2 = k + (1 if _step_matches(step, symbol) else 0)
            key = (nxt, min(k2, count))
            if key in seen:
                continue
            seen.add(key)
            queue.append((nxt, min(k2, count), [*word, (symbol, rule)]))
    return None


def _same_attribute_values(a: Any, b: Any) -> bool:
    """Whether two attribute uses accept the same values: the same fixed value, if any, and
    types whose signatures (everything their accepted strings depend on) are equal."""
    try:
        return bool(a.fixed == b.fixed and type_signature(a.type) == type_signature(b.type))
    except (Unknown, NotModelled):
        return False


_MAX_SELECTED = 10_000  # declarations a descendant selector is followed through


def _child_decls(side: Side, decl: Any) -> list[tuple[str, Any]]:
    """The child element declarations of *decl* by name: a lax or strict wildcard stands for
    the global declarations it reaches, a skip wildcard for none (what it admits has no type
    in either version, so it compares values alike in both)."""
    t = decl.type
    if t.is_simple() or t.has_simple_content():
        return []
    out: list[tuple[str, Any]] = []
    for label in side.model(t).labels:
        if label.kind == "el":
            out.extend(side.element_names(label.particle))
        else:
            out.extend((name, side.elements[name]) for name in side.wildcard_names(label.particle))
    return out


def _descendant_decls(side: Side, decl: Any) -> list[tuple[str, Any]] | None:
    """Every element declaration at any depth below *decl*, each once, in breadth-first order
    (None: too many to follow)."""
    out: list[tuple[str, Any]] = []
    seen: set[int] = set()
    todo = deque([decl])
    while todo:
        for name, sub in _child_decls(side, todo.popleft()):
            if id(sub) not in seen:
                seen.add(id(sub))
                out.append((name, sub))
                todo.append(sub)
        if len(out) > _MAX_SELECTED:
            return None
    return out


def _selected_decls(side: Side, decl: Any, steps: list[str], *, deep: bool = False) -> list[Any] | None:
    """The declarations a selector path of child *steps* reaches from *decl* (*deep*: its
    first step at any depth, as after ``.//``); None when they are too many to follow."""
    found = [decl]
    for i, step in enumerate(steps):
        nxt: list[Any] = []
        for d in found:
            kids = _descendant_decls(side, d) if deep and i == 0 else _child_decls(side, d)
            if kids is None:
                return None
            nxt.extend(sub for name, sub in kids if _step_matches(step, name))
        found = nxt
    return found


def _field_types(side: Side, decl: Any, ident: Any) -> tuple[Any, ...] | None:
    """Value-comparison keys of the fields of a constraint, or None when they cannot be followed."""
    paths = _selector_paths(ident)
    if paths is None:
        return None
    targets: list[Any] = []
    for deep, steps in paths:
        found = _selected_decls(side, decl, steps, deep=deep)
        if found is None:
            return None
        targets.extend(found)
    out: list[Any] = []
    for f in getattr(ident, "fields", None) or []:
        key = _xpath_key(f)
        for d in targets:
            t = d.type
            if key.startswith("@"):
                attrs, _ = _attribute_uses(t)
                a = attrs.get(key[1:])
                if a is None:
                    return None
                out.append(_value_key(a.type))
            elif key == ".":
                if not (t.is_simple() or t.has_simple_content()):
                    return None
                out.append(_value_key(t if t.is_simple() else t.content))
            else:
                return None
    return tuple(out)


def _value_key(t: Any) -> tuple[str, str]:
    step = t
    while step is not None and not _builtin_name(step):
        step = getattr(step, "base_type", None)
    prim = getattr(getattr(t, "primitive_type", None), "name", None) or (_builtin_name(step) or "")
    return (str(prim), str(getattr(t, "white_space", "") or ""))


def decide(src: Side, tgt: Side, direction: str) -> Direction:
    """Is every document ``src`` accepts accepted by ``tgt``?  See the module docstring."""
    return Decider(src, tgt, direction).run()


__all__ = ["Direction", "Unproven", "Witness", "decide"]
