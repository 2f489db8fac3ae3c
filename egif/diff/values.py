"""Simple types as languages of raw strings.

A simple type accepts a string written in a document (an element's text, an
attribute's value) when, after the type's whiteSpace processing, the string
is in the lexical space of its built-in base and passes every facet of every
derivation step.  :class:`Languages` turns an xmlschema simple type into a
:class:`Lang`: an automaton over the *raw* strings (before whitespace
processing), so that "every value the old type accepts is accepted by the new
one" is a question of automaton inclusion, and a string in the difference is a
witness.

What is regular is modelled exactly: lexical spaces of the built-in types,
whiteSpace replace/collapse (as the pre-image of the automaton), lengths,
patterns, enumerations of string, boolean, decimal and hexBinary types,
decimal bounds, totalDigits and fractionDigits (as digit-by-digit
comparators), lists (items and item counts) and unions (first member wins, as
libxml2 reads them).  What is not (bounds on dates, floats and durations,
enumerations of dates, the fine print of dates, anyURI and base64) is kept as
a *residual*: a named constraint the automaton over-approximates.  Two
languages with the same residual constraints compare exactly on their
automata; a residual only one side has makes the answer "not proven" unless a
witness is found, and the residual's name says which construct it was.

The semantics followed are libxml2's where it departs from the letter of XSD
1.0 (it is the validator every witness is checked with): an element's fixed
value is compared as a literal string, an attribute's by value; ``+INF`` is
not a double; an empty element takes its default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from egif.diff.automaton import (
    WHITESPACE,
    XML_CHARS,
    Dfa,
    Node,
    RegexUnsupported,
    TooLarge,
    alt,
    any_string,
    cat,
    chars,
    compile_tree,
    cs_chars,
    cs_subtract,
    difference_strings,
    includes_dfa,
    length_dfa,
    lit,
    literal_dfa,
    nothing,
    opt,
    parse_xsd_regex,
    preimage_whitespace,
    regex_dfa,
    rep,
)

XSD = "http://www.w3.org/2001/XMLSchema"


@dataclass(frozen=True)
class Residual:
    """A constraint the automaton does not model; equal signatures mean the same constraint."""

    signature: tuple[Any, ...]
    description: str = field(compare=False)


@dataclass(frozen=True)
class Lang:
    """Raw strings a simple type (or a declaration's text) accepts.

    ``dfa`` accepts a superset; it is exact when ``residual`` is empty.
    ``oracle`` answers for one string with every constraint (used only to
    pick witness candidates; libxml2 has the last word).  ``id_kind`` marks
    ID/IDREF semantics, which depend on the rest of the document.
    """

    dfa: Dfa
    residual: frozenset[Residual] = frozenset()
    oracle: Callable[[str], bool] | None = field(default=None, compare=False)
    id_kind: str | None = None
    hints: tuple[str, ...] = field(default=(), compare=False)
    members: tuple[Lang, ...] | None = field(default=None, compare=False)  # a plain union's members

    @property
    def exact(self) -> bool:
        return not self.residual

    def check(self, text: str) -> bool:
        if not self.dfa.accepts(text):
            return False
        if self.oracle is not None and self.residual:
            try:
                return bool(self.oracle(text))
            except Exception:
                return False
        return True


class NotModelled(Exception):
    """A simple type this module cannot read (the caller answers "not proven")."""


# -- lexical spaces of the built-in primitives ---------------------------------
_YEAR = r"-?([1-9][0-9]{3,}|0(0(0[1-9]|[1-9][0-9])|[1-9][0-9]{2}))"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[12][0-9]|3[01])"
_TZ = r"(Z|[+\-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_TIME = r"(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|24:00:00(\.0+)?)"
_DECIMAL = r"[+\-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
_NCNAME = r"[\i-[:]][\c-[:]]*"

# primitive -> (pattern of its lexical space, exact?)
_PRIMITIVE_LEXICAL: dict[str, tuple[str, bool]] = {
    "string": ("(.|[\n\r])*", True),
    "boolean": ("true|false|1|0", True),
    "decimal": (_DECIMAL, True),
    # libxml2 takes an exponent without digits ("1e", "5e-")
    "float": (_DECIMAL + r"([eE][+\-]?[0-9]*)?|-?INF|NaN", True),
    "double": (_DECIMAL + r"([eE][+\-]?[0-9]*)?|-?INF|NaN", True),
    "duration": (r"-?P([0-9]+Y)?([0-9]+M)?([0-9]+D)?(T([0-9]+H)?([0-9]+M)?([0-9]+(\.[0-9]+)?S)?)?", False),
    "dateTime": (_YEAR + "-" + _MONTH + "-" + _DAY + "T" + _TIME + _TZ, False),
    "time": (_TIME + _TZ, False),
    "date": (_YEAR + "-" + _MONTH + "-" + _DAY + _TZ, False),
    "gYearMonth": (_YEAR + "-" + _MONTH + _TZ, True),
    "gYear": (_YEAR + _TZ, True),
    "gMonthDay": ("--" + _MONTH + "-" + _DAY + _TZ, False),
    "gDay": ("---" + _DAY + _TZ, True),
    "gMonth": ("--" + _MONTH + _TZ, True),
    "hexBinary": ("([0-9a-fA-F]{2})*", True),
    "base64Binary": ("[A-Za-z0-9+/= ]*", False),
    "anyURI": ("(.|[\n\r])*", False),
    "QName": ("(" + _NCNAME + ":)?" + _NCNAME, False),
    "NOTATION": ("(" + _NCNAME + ":)?" + _NCNAME, False),
}

# derived built-ins: (base, pattern or None, lower bound, upper bound)
_DERIVED: dict[str, tuple[str, str | None, int | None, int | None]] = {
    "normalizedString": ("string", None, None, None),
    "token": ("normalizedString", None, None, None),
    "language": ("token", r"[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*", None, None),
    "NMTOKEN": ("token", r"\c+", None, None),
    "Name": ("token", r"\i\c*", None, None),
    "NCName": ("Name", _NCNAME, None, None),
    "ID": ("NCName", None, None, None),
    "IDREF": ("NCName", None, None, None),
    "ENTITY": ("NCName", None, None, None),
    "integer": ("decimal", r"[+\-]?[0-9]+", None, None),
    "nonPositiveInteger": ("integer", None, None, 0),
    "negativeInteger": ("nonPositiveInteger", None, None, -1),
    "long": ("integer", None, -(2 ** 63), 2 ** 63 - 1),
    "int": ("long", None, -(2 ** 31), 2 ** 31 - 1),
    "short": ("int", None, -(2 ** 15), 2 ** 15 - 1),
    "byte": ("short", None, -128, 127),
    "nonNegativeInteger": ("integer", None, 0, None),
    "unsignedLong": ("nonNegativeInteger", None, 0, 2 ** 64 - 1),
    "unsignedInt": ("unsignedLong", None, 0, 2 ** 32 - 1),
    "unsignedShort": ("unsignedInt", None, 0, 2 ** 16 - 1),
    "unsignedByte": ("unsignedShort", None, 0, 255),
    "positiveInteger": ("nonNegativeInteger", None, 1, None),
}
_BUILTIN_LISTS = {"NMTOKENS": "NMTOKEN", "IDREFS": "IDREF", "ENTITIES": "ENTITY"}

_STRING_FAMILY = {"string", "anyURI"}

# Where libxml2 departs from whiteSpace="collapse" (measured on libxml2 2.14): these date types
# refuse any surrounding whitespace, these others refuse trailing whitespace, and a float or
# double INF/NaN refuses trailing whitespace while numerals take it on both sides.
_RAW_EDGES = {"gYear": "none", "gYearMonth": "none", "date": "none", "dateTime": "none",
              "gDay": "leading", "gMonth": "leading", "gMonthDay": "leading", "time": "leading",
              "duration": "leading", "float": "special", "double": "special"}


@lru_cache(maxsize=8)
def _raw_edge_dfa(edge: str) -> Dfa:
    anything = "(.|[\n\r])*"
    if edge == "none":
        return regex_dfa(f"([^\\s]({anything}[^\\s])?)?")
    if edge == "leading":
        return regex_dfa(f"({anything}[^\\s])?")
    return regex_dfa("\\s*(-?INF|NaN)\\s+").complemented()


_ORDERED_RESIDUAL = {"float", "double", "duration", "dateTime", "time", "date", "gYearMonth", "gYear",
                     "gMonthDay", "gDay", "gMonth"}
_NON_WS = cs_subtract(XML_CHARS, WHITESPACE)


def _local(qname: str | None) -> str:
    return (qname or "").rsplit("}", 1)[-1]


def _is_builtin(t: Any) -> bool:
    name = getattr(t, "name", None)
    return bool(name) and str(name).startswith("{" + XSD + "}")


def builtin_chain(local: str) -> list[str]:
    """``positiveInteger`` -> [positiveInteger, nonNegativeInteger, integer, decimal]."""
    out = [local]
    while out[-1] in _DERIVED:
        out.append(_DERIVED[out[-1]][0])
    return out


def primitive_of(local: str) -> str:
    return builtin_chain(local)[-1]


def builtin_whitespace(local: str) -> str:
    if local == "string":
        return "preserve"
    if local == "normalizedString":
        return "replace"
    if local in ("anySimpleType", "anyAtomicType"):
        return "preserve"
    return "collapse"


# -- decimal comparators -------------------------------------------------------
def _machine(step: Callable[[Any, str], Any], accept: Callable[[Any], bool], start: Any,
             alphabet: str) -> Dfa:
    """A DFA from a step function over a small alphabet (None: dead)."""
    index = {start: 0}
    states = [start]
    trans: list[list[tuple[int, int, int]]] = []
    i = 0
    while i < len(states):
        row = []
        for ch in alphabet:
            nxt = step(states[i], ch)
            if nxt is None:
                continue
            t = index.get(nxt)
            if t is None:
                t = len(states)
                if t > 5000:
                    raise TooLarge("decimal comparator too large")
                index[nxt] = t
                states.append(nxt)
            row.append((ord(ch), ord(ch), t))
        row.sort()
        trans.append(row)
        i += 1
    return Dfa(trans, [accept(s) for s in states]).trimmed()


_NUM_ALPHABET = "+-.0123456789"


@lru_cache(maxsize=2048)
def decimal_compare_dfa(bound: Decimal, outcomes: frozenset[str]) -> Dfa:
    """Decimal numerals (``[+-]?digits[.digits]``) whose value compared with ``bound`` is in ``outcomes``.

    ``outcomes`` holds "lt", "eq", "gt".  The numeral is read digit by digit,
    comparing its magnitude with ``|bound|``; the sign is applied at the end.
    """
    mag = abs(bound)
    text = format(mag.normalize(), "f") if mag else "0"
    int_part, _, frac_part = text.partition(".")
    a = int_part.lstrip("0")
    b = frac_part.rstrip("0")
    negative_bound = bound < 0
    # state: (phase, sign, k_or_j, flag, nonzero)
    #   phase "s": start; "i": integer digits; "f": fraction digits

    def step(state: Any, ch: str) -> Any:
        phase, sign, k, flag, nz = state
        if phase == "s":
            if ch in "+-":
                return ("i", ch, 0, "eq", False)
            state = ("i", "+", 0, "eq", False)
            phase, sign, k, flag, nz = state
        if phase == "i":
            if ch == ".":
                return ("f", sign, 0, _int_result(k, flag), nz)
            if not ch.isdigit():
                return None
            if k == 0 and ch == "0":
                return ("i", sign, 0, flag, nz)
            if k >= len(a):
                return ("i", sign, len(a) + 1, "gt", True)
            if flag == "eq":
                flag = "lt" if ch < a[k] else "gt" if ch > a[k] else "eq"
            return ("i", sign, k + 1, flag, True)
        if phase == "f":
            if not ch.isdigit():
                return None
            result = flag
            nz2 = nz or ch != "0"
            if result == "feq":
                if k < len(b):
                    if ch < b[k]:
                        return ("f", sign, 0, "lt", nz2)
                    if ch > b[k]:
                        return ("f", sign, 0, "gt", nz2)
                    return ("f", sign, k + 1, "feq", nz2)
                if ch != "0":
                    return ("f", sign, 0, "gt", nz2)
                return ("f", sign, k, "feq", nz2)
            return ("f", sign, 0, result, nz2)
        return None

    def _int_result(k: int, flag: str) -> str:
        if k < len(a):
            return "lt"
        if k > len(a):
            return "gt"
        return "feq" if flag == "eq" else flag

    def final(state: Any) -> str | None:
        phase, sign, k, flag, nz = state
        if phase == "s":
            return None
        if phase == "i":
            r = _int_result(k, flag)
            if r == "feq":
                r = "lt" if b else "eq"
        else:
            r = flag
            if r == "feq":
                r = "lt" if k < len(b) else "eq"
        # r compares the magnitude with |bound|; now apply the sign
        if sign == "-":
            if not negative_bound:
                if not nz:
                    return "lt" if mag > 0 else "eq"
                return "lt"
            return {"lt": "gt", "gt": "lt", "eq": "eq"}[r]
        if negative_bound:
            return "gt"
        return r

    def accept(state: Any) -> bool:
        return final(state) in outcomes

    return _machine(step, accept, ("s", "+", 0, "eq", False), _NUM_ALPHABET)


@lru_cache(maxsize=512)
def digits_dfa(total: int | None, fraction: int | None) -> Dfa:
    """Decimal numerals with at most ``total`` significant digits and ``fraction`` fraction digits.

    Leading zeros of the integer part and trailing zeros of the fraction do
    not count (libxml2 counts the same way).  Counters stop one past the
    limit, so the automaton stays small.
    """
    cap_i = total + 1 if total is not None else 0
    cap_f = min(x for x in (total, fraction) if x is not None) + 1 if (total, fraction) != (None, None) else 0

    # state: (phase, significant integer digits, significant fraction digits, zeros pending)
    # each counter stops one past what any limit needs
    def step(state: Any, ch: str) -> Any:
        phase, ni, nf, z = state
        if phase == "s" and ch in "+-":
            return ("i", 0, 0, 0)
        if phase == "s":
            phase = "i"
        if phase == "i":
            if ch == ".":
                return ("f", ni, 0, 0)
            if not ch.isdigit():
                return None
            if ni == 0 and ch == "0":
                return ("i", 0, 0, 0)
            return ("i", min(ni + 1, cap_i), 0, 0)
        if phase == "f":
            if not ch.isdigit():
                return None
            if ch == "0":
                return ("f", ni, nf, min(z + 1, max(cap_f - nf, 0)))
            return ("f", ni, min(nf + z + 1, cap_f), 0)
        return None

    def accept(state: Any) -> bool:
        _, ni, nf, _ = state
        ok = True
        if total is not None:
            ok = ok and ni + nf <= total
        if fraction is not None:
            ok = ok and nf <= fraction
        return ok

    return _machine(step, accept, ("s", 0, 0, 0), _NUM_ALPHABET)


def decimal_value_dfa(values: Iterable[Decimal]) -> Dfa:
    out = nothing()
    for v in values:
        out = out.union(decimal_compare_dfa(v, frozenset({"eq"})))
    return out


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None


# -- the languages ---------------------------------------------------------------
@dataclass
class _Atomic:
    """What the derivation chain of an atomic type says, folded."""

    builtin: str
    primitive: str
    whitespace: str
    lengths: list[tuple[int | None, int | None]] = field(default_factory=list)
    patterns: list[list[str]] = field(default_factory=list)
    enumerations: list[list[str]] = field(default_factory=list)  # lexical values per step
    bounds: list[tuple[str, str]] = field(default_factory=list)  # (facet, lexical value)
    total: list[int] = field(default_factory=list)
    fraction: list[int] = field(default_factory=list)
    namespaces: dict[str, str] = field(default_factory=dict)  # prefixes in scope (QName values)


def _facet_elems(step: Any) -> list[Any]:
    elem = getattr(step, "elem", None)
    if elem is None:
        return []
    return [c for c in elem if isinstance(c.tag, str) and c.tag.startswith("{" + XSD + "}")]


def _read_step(step: Any, acc: _Atomic) -> None:
    facets = getattr(step, "facets", None) or {}
    acc.namespaces.update(getattr(getattr(step, "schema", None), "namespaces", None) or {})
    enum_values: list[str] = []
    for child in _facet_elems(step):
        local = _local(child.tag)
        value = child.get("value")
        if value is None:
            continue
        if local == "enumeration":
            enum_values.append(value)
        elif local in ("minInclusive", "minExclusive", "maxInclusive", "maxExclusive"):
            acc.bounds.append((local, value.strip()))
        elif local == "totalDigits":
            acc.total.append(int(value))
        elif local == "fractionDigits":
            acc.fraction.append(int(value))
        elif local == "length":
            acc.lengths.append((int(value), int(value)))
        elif local == "minLength":
            acc.lengths.append((int(value), None))
        elif local == "maxLength":
            acc.lengths.append((None, int(value)))
    if enum_values:
        acc.enumerations.append(enum_values)
    pat = facets.get(f"{{{XSD}}}pattern")
    if pat is not None and getattr(pat, "regexps", None):
        acc.patterns.append(list(pat.regexps))


def normalise(text: str, mode: str | None) -> str:
    if mode in ("replace", "collapse"):
        text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    if mode == "collapse":
        text = " ".join(text.split(" "))
        text = " ".join(p for p in text.split(" ") if p)
    return text


# a type's language depends only on its signature (see type_signature): shared by every schema
_SHARED_LANGS: dict[tuple[Any, ...], Lang] = {}


def clear_shared_languages() -> None:
    """Forget the languages shared between schemas (benchmarks measure from a cold start)."""
    _SHARED_LANGS.clear()


def type_signature(t: Any) -> tuple[Any, ...]:
    """Everything a simple type's accepted strings depend on, as a hashable value.

    Two types with equal signatures accept the same raw strings, whatever
    their names or schemas.
    """
    if _is_builtin(t):
        return ("builtin", str(t.name))
    steps: list[Any] = []
    step = t
    for _ in range(200):
        if step is None:
            break
        if _is_builtin(step):
            steps.append(("builtin", str(step.name)))
            break
        own = []
        for child in _facet_elems(step):
            local = _local(child.tag)
            if local in ("annotation",):
                continue
            if local in ("simpleType", "list", "union", "restriction"):
                continue
            own.append((local, child.get("value")))
        facets = getattr(step, "facets", None) or {}
        pat = facets.get(f"{{{XSD}}}pattern")
        patterns = tuple(pat.regexps) if pat is not None and getattr(pat, "regexps", None) else ()
        item = getattr(step, "item_type", None)
        members = getattr(step, "member_types", None)
        shape: tuple[Any, ...] = ()
        if item is not None:
            shape = ("list", type_signature(item))
        elif members is not None:
            shape = ("union", tuple(type_signature(m) for m in members))
        scope: tuple[Any, ...] = ()
        if any(v and ":" in v for _, v in own):
            # QName-valued facets mean what their prefixes are bound to
            scope = tuple(sorted((getattr(getattr(step, "schema", None), "namespaces", None) or {}).items()))
        steps.append((str(getattr(step, "white_space", "") or ""), tuple(sorted(own, key=str)), patterns, shape,
                      scope))
        if shape:
            break
        step = getattr(step, "base_type", None)
    return ("derived", tuple(steps))


class Languages:
    """Builds and caches :class:`Lang` objects for the simple types of one schema."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, bool], Lang] = {}
        self._member = False
        self._keep: list[Any] = []

    # -- entry points ----------------------------------------------------------
    def of_type(self, t: Any, *, member: bool = False) -> Lang:
        """The language of ``t``; ``member`` for a union's member (libxml2 normalises those first)."""
        key = (id(t), member)
        got = self._cache.get(key)
        if got is None:
            sig = (*type_signature(t), member)
            got = _SHARED_LANGS.get(sig)
            if got is None:
                self._member = member
                try:
                    got = self._build(t)
                finally:
                    self._member = False
                if len(_SHARED_LANGS) > 5000:
                    _SHARED_LANGS.clear()
                _SHARED_LANGS[sig] = got
            self._cache[key] = got
            self._keep.append(t)
        return got

    def element_text(self, t: Any, fixed: str | None, default: str | None) -> Lang:
        """The texts of an element with simple content of type ``t`` and a value constraint.

        An empty element takes the default or fixed value (libxml2 then
        accepts it); a fixed value must otherwise be matched literally.
        """
        base = self.of_type(t)
        if fixed is not None:
            return Lang(literal_dfa([fixed, ""]))
        if default is not None and not base.dfa.accepts(""):
            oracle = base.oracle
            return Lang(base.dfa.union(literal_dfa([""])), base.residual,
                        (lambda s: s == "" or bool(oracle(s))) if oracle else None, base.id_kind)
        return base

    def attribute_value(self, t: Any, fixed: str | None) -> Lang:
        """Values of an attribute of type ``t``; a fixed value is compared by value (libxml2)."""
        base = self.of_type(t)
        if fixed is None:
            return base
        same = self._value_equal(t, fixed)
        if same is None:
            res = Residual(("fixed-attribute", _type_key(t), fixed), f"attribute fixed value {fixed!r}")
            return Lang(base.dfa, base.residual | {res},
                        lambda s: bool(_validates(t, s)) and _same_value(t, s, fixed), base.id_kind)
        return Lang(base.dfa.intersect(same), base.residual, base.oracle, base.id_kind)

    # -- construction ------------------------------------------------------------
    def _build(self, t: Any) -> Lang:
        if t.is_complex():
            raise NotModelled("a complex type has no simple value space")
        oracle = _oracle(t)
        if _is_builtin(t):
            local = _local(t.name)
            if local in _BUILTIN_LISTS:
                item = getattr(t, "item_type", None) or getattr(t.base_type, "item_type", None)
                if item is None:
                    raise NotModelled(f"built-in list {local}")
                # libxml2 accepts an empty NMTOKENS/IDREFS/ENTITIES value
                return self._list(self.of_type(item), [], [], oracle, t)
            if local in ("anySimpleType", "anyAtomicType"):
                return Lang(any_string())
            return self._atomic(_Atomic(local, primitive_of(local), builtin_whitespace(local)), oracle)
        if t.is_list():
            return self._list_type(t, oracle)
        if t.is_union():
            return self._union_type(t, oracle)
        chain = []
        step = t
        while step is not None and not _is_builtin(step) and not step.is_list() and not step.is_union():
            chain.append(step)
            step = getattr(step, "base_type", None)
        if step is None:
            raise NotModelled(f"simple type {t.name or '(anonymous)'} has no built-in base")
        if step.is_list() or step.is_union():
            raise NotModelled("unexpected derivation")  # handled above by is_list/is_union
        local = _local(step.name)
        if local in _BUILTIN_LISTS:
            return self._list_type(t, oracle)
        ws = getattr(t, "white_space", None) or builtin_whitespace(local)
        acc = _Atomic(local, primitive_of(local), ws)
        for s in reversed(chain):
            _read_step(s, acc)
        return self._atomic(acc, oracle)

    def _atomic(self, acc: _Atomic, oracle: Callable[[str], bool] | None) -> Lang:
        prim = acc.primitive
        residual: set[Residual] = set()
        pattern, exact = _PRIMITIVE_LEXICAL.get(prim, (".*", False))
        if not exact:
            residual.add(Residual(("lexical", prim), f"the lexical space of xs:{prim}"))
        d = regex_dfa(pattern)
        chain = builtin_chain(acc.builtin)
        lo_b: int | None = None
        hi_b: int | None = None
        for name in reversed(chain):
            if name in _DERIVED:
                _, pat, lo, hi = _DERIVED[name]
                if pat is not None:
                    d = d.intersect(regex_dfa(pat))
                if lo is not None:
                    lo_b = lo if lo_b is None else max(lo_b, lo)
                if hi is not None:
                    hi_b = hi if hi_b is None else min(hi_b, hi)
        if lo_b is not None:
            d = d.intersect(decimal_compare_dfa(Decimal(lo_b), frozenset({"eq", "gt"})))
        if hi_b is not None:
            d = d.intersect(decimal_compare_dfa(Decimal(hi_b), frozenset({"eq", "lt"})))
        # lengths
        for lo, hi in acc.lengths:
            if prim in _STRING_FAMILY:
                d = d.intersect(length_dfa(lo or 0, hi))
            elif prim == "hexBinary":
                d = d.intersect(compile_tree(rep(chars(cs_chars("0123456789abcdefABCDEF")), 2 * (lo or 0),
                                                 None if hi is None else 2 * hi)))
                d = d.intersect(regex_dfa("([0-9a-fA-F]{2})*"))
            else:
                residual.add(Residual(("length", prim, lo, hi), f"a length facet on xs:{prim}"))
        for regexps in acc.patterns:
            try:
                step_dfa = nothing()
                for r in regexps:
                    step_dfa = step_dfa.union(regex_dfa(r))
                d = d.intersect(step_dfa)
            except RegexUnsupported as exc:
                residual.add(Residual(("pattern", tuple(regexps)), f"pattern {' | '.join(regexps)!r} ({exc})"))
        for values in acc.enumerations:
            enum = self._enumeration(prim, acc, values)
            if enum is None:
                scope = tuple(sorted(acc.namespaces.items())) if prim in ("QName", "NOTATION") else ()
                residual.add(Residual(("enumeration", prim, acc.whitespace, tuple(sorted(values)), scope),
                                      f"an enumeration of xs:{prim} values"))
            else:
                d = d.intersect(enum)
        for facet, value in acc.bounds:
            if prim == "decimal":
                bound = _to_decimal(value)
                if bound is None:
                    raise NotModelled(f"bad decimal bound {value!r}")
                outcomes = {"minInclusive": {"eq", "gt"}, "minExclusive": {"gt"},
                            "maxInclusive": {"eq", "lt"}, "maxExclusive": {"lt"}}[facet]
                d = d.intersect(decimal_compare_dfa(bound, frozenset(outcomes)))
            else:
                residual.add(Residual(("bound", prim, facet, value), f"{facet} {value} on xs:{prim}"))
        if acc.total or acc.fraction:
            if prim == "decimal":
                d = d.intersect(digits_dfa(min(acc.total) if acc.total else None,
                                           min(acc.fraction) if acc.fraction else None))
            else:
                residual.add(Residual(("digits", prim), f"digit facets on xs:{prim}"))
        raw = preimage_whitespace(d, acc.whitespace)
        edge = _RAW_EDGES.get(prim)
        if edge is not None and not self._member and not acc.patterns and not acc.enumerations:
            # libxml2 collapses first when a pattern or enumeration is to be checked, and for a
            # union's members; otherwise these types keep their own view of whitespace
            raw = raw.intersect(_raw_edge_dfa(edge))
        id_kind = next((k for k in ("ID", "IDREF", "ENTITY") if k in chain), None)
        if id_kind == "ENTITY":
            # an ENTITY value must name an unparsed entity declared in a DTD: never, here
            raw = nothing()
        hints = tuple(v for _, v in acc.bounds) + tuple(v for values in acc.enumerations for v in values)
        return Lang(raw, frozenset(residual), oracle, id_kind, hints)

    def _enumeration(self, prim: str, acc: _Atomic, values: list[str]) -> Dfa | None:
        """The normalised strings of the enumerated values, or None when not regular here."""
        if prim in _STRING_FAMILY:
            return literal_dfa(normalise(v, acc.whitespace) for v in values)
        if prim == "boolean":
            out: set[str] = set()
            for v in values:
                v = normalise(v, "collapse")
                out.update(("true", "1") if v in ("true", "1") else ("false", "0"))
            return literal_dfa(out)
        if prim == "decimal":
            nums = [_to_decimal(normalise(v, "collapse")) for v in values]
            if any(n is None for n in nums):
                return None
            return decimal_value_dfa(n for n in nums if n is not None)
        if prim == "hexBinary":
            nodes: list[Node] = []
            for v in values:
                v = normalise(v, "collapse")
                nodes.append(cat(*(chars(cs_chars(c.lower() + c.upper())) for c in v)))
            return compile_tree(alt(*nodes))
        return None

    def _list_type(self, t: Any, oracle: Callable[[str], bool] | None) -> Lang:
        chain = []
        step = t
        while step is not None and not (step.is_list() and hasattr(step, "item_type")) and not (
                _is_builtin(step) and _local(step.name) in _BUILTIN_LISTS):
            chain.append(step)
            step = getattr(step, "base_type", None)
        if step is None:
            raise NotModelled("list type without an item type")
        if _is_builtin(step):
            item = getattr(step, "item_type", None) or getattr(step.base_type, "item_type", None)
            if item is None:
                raise NotModelled("built-in list without item type")
            lengths: list[tuple[int | None, int | None]] = []  # libxml2: may be empty
        else:
            item = step.item_type
            lengths = []
        acc = _Atomic("string", "string", "collapse")
        for s in reversed(chain):
            _read_step(s, acc)
        lengths.extend(acc.lengths)
        lang = self._list(self.of_type(item), lengths, acc.patterns, oracle, t)
        if acc.enumerations or acc.bounds or acc.total or acc.fraction:
            res = Residual(("list-facets", _type_key(t)), "an enumeration on a list type")
            return Lang(lang.dfa, lang.residual | {res}, oracle, lang.id_kind)
        return lang

    def _list(self, item: Lang, lengths: list[tuple[int | None, int | None]], patterns: list[list[str]],
              oracle: Callable[[str], bool] | None, t: Any) -> Lang:
        item_dfa = item.dfa.intersect(compile_tree(rep(chars(_NON_WS), 1, None)))
        lo = max([x for x, _ in lengths if x is not None], default=0)
        highs = [y for _, y in lengths if y is not None]
        hi = min(highs) if highs else None
        space = lit(" ")
        one = ("dfa", item_dfa)
        if hi is not None and hi < lo:
            body: Node = alt()
        elif hi == 0:
            body = cat()
        else:
            more = rep(cat(space, one), max(lo - 1, 0), None if hi is None else hi - 1)
            body = cat(one, more)
            if lo == 0:
                body = opt(body)
        d = compile_tree(body)
        residual = {Residual(("item", *r.signature), f"list items: {r.description}") for r in item.residual}
        for regexps in patterns:
            try:
                step_dfa = nothing()
                for r in regexps:
                    step_dfa = step_dfa.union(regex_dfa(r))
                d = d.intersect(step_dfa)
            except RegexUnsupported as exc:
                residual.add(Residual(("pattern", tuple(regexps)), f"pattern on a list ({exc})"))
        id_kind = None if item.id_kind is None else item.id_kind + "S"
        return Lang(preimage_whitespace(d, "collapse"), frozenset(residual), oracle, id_kind)

    def _union_type(self, t: Any, oracle: Callable[[str], bool] | None) -> Lang:
        chain = []
        step = t
        while step is not None and not hasattr(step, "member_types"):
            chain.append(step)
            step = getattr(step, "base_type", None)
        if step is None:
            raise NotModelled("union without member types")
        members = [self.of_type(m, member=True) for m in step.member_types]
        acc = _Atomic("string", "string", "preserve")
        for s in reversed(chain):
            _read_step(s, acc)
        if acc.lengths or acc.bounds or acc.total or acc.fraction:
            raise NotModelled("facets other than pattern and enumeration on a union")
        inexact = [m for m in members if not m.exact]
        if not acc.patterns and not acc.enumerations:
            d = nothing()
            for m in members:
                d = d.union(m.dfa)
            if not inexact:
                return Lang(d, frozenset(), oracle, members=tuple(members))
            res = Residual(("union", _type_key(t)), "a union with members whose value spaces are not "
                                                     "modelled exactly")
            return Lang(d, frozenset({res}), oracle, members=tuple(members),
                        hints=tuple(h for m in members for h in m.hints))
        if inexact:
            res = Residual(("union", _type_key(t)), "a restricted union with members whose value spaces are "
                                                     "not modelled exactly")
            return Lang(self._plain_union(members), frozenset({res}), oracle)
        # restricted union: a string belongs to the first member that accepts it, and
        # the union's facets see the value as that member reads it
        member_types = list(step.member_types)
        d = nothing()
        earlier = nothing()
        for mt, m in zip(member_types, members, strict=True):
            first = m.dfa.intersect(earlier.complemented()) if earlier.trans[0] or earlier.accept[0] else m.dfa
            earlier = earlier.union(m.dfa)
            ws = _whitespace_of(mt)
            for regexps in acc.patterns:
                step_dfa = nothing()
                for r in regexps:
                    step_dfa = step_dfa.union(regex_dfa(r))
                first = first.intersect(preimage_whitespace(step_dfa, ws))
            for values in acc.enumerations:
                mine = [v for v in values if _first_member(member_types, members, v) is mt]
                enum = self._member_enumeration(mt, mine)
                if enum is None:
                    res = Residual(("union-enumeration", _type_key(t)), "an enumeration on a union")
                    return Lang(self._plain_union(members), frozenset({res}), oracle)
                first = first.intersect(preimage_whitespace(enum, ws))
            d = d.union(first)
        return Lang(d, frozenset(), oracle)

    @staticmethod
    def _plain_union(members: list[Lang]) -> Dfa:
        d = nothing()
        for m in members:
            d = d.union(m.dfa)
        return d

    @staticmethod
    def _atomic_of(t: Any) -> _Atomic | None:
        """An atomic type read through its built-in ancestor (None: a list, a union, or no
        built-in ancestor)."""
        if t.is_list() or t.is_union():
            return None
        builtin = t
        while builtin is not None and not _is_builtin(builtin):
            builtin = builtin.base_type
        if builtin is None:
            return None
        local = _local(builtin.name)
        return _Atomic(local, primitive_of(local), _whitespace_of(t))

    def _member_enumeration(self, mt: Any, values: list[str]) -> Dfa | None:
        if not values:
            return nothing()
        acc = self._atomic_of(mt)
        return None if acc is None else self._enumeration(acc.primitive, acc, values)

    def _value_equal(self, t: Any, fixed: str) -> Dfa | None:
        """Raw strings whose value equals ``fixed`` under ``t`` (None when not regular here)."""
        acc = self._atomic_of(t)
        if acc is None:
            return None
        enum = self._enumeration(acc.primitive, acc, [fixed])
        return None if enum is None else preimage_whitespace(enum, acc.whitespace)


def _whitespace_of(t: Any) -> str:
    ws = getattr(t, "white_space", None)
    if ws:
        return str(ws)
    if t.is_list():
        return "collapse"
    step = t
    while step is not None and not _is_builtin(step):
        step = getattr(step, "base_type", None)
    return builtin_whitespace(_local(step.name)) if step is not None else "preserve"


def _first_member(member_types: list[Any], members: list[Lang], value: str) -> Any:
    for mt, m in zip(member_types, members, strict=True):
        if m.check(value):
            return mt
    return None


def _type_key(t: Any) -> str:
    return str(t.name) if getattr(t, "name", None) else f"anonymous@{id(t)}"


def _validates(t: Any, text: str) -> bool:
    try:
        return bool(t.is_valid(text))
    except Exception:
        return False


def _oracle(t: Any) -> Callable[[str], bool]:
    return lambda text: _validates(t, text)


def _same_value(t: Any, text: str, fixed: str) -> bool:
    try:
        return bool(t.decode(text) == t.decode(fixed))
    except Exception:
        return False


# -- inclusion -------------------------------------------------------------------
@dataclass
class Inclusion:
    """Outcome of "every string of A is in B": ``holds`` True / False / None (not proven).

    ``witnesses`` may be computed on demand (``pending``): when A is exact,
    knowing that the automata differ is enough to answer False, and the
    strings are only needed if a witness document gets built.
    """

    holds: bool | None
    witnesses: list[str] = field(default_factory=list)
    reason: str = ""
    pending: Callable[[], list[str]] | None = None

    def values(self) -> list[str]:
        if self.pending is not None:
            self.witnesses = self.pending()
            self.pending = None
        return self.witnesses


def lang_includes(a: Lang, b: Lang, *, candidates: int = 12, attribute: bool = False) -> Inclusion:
    """Is every raw string ``a`` accepts accepted by ``b``?

    ``holds`` is True only when proven: the automata include and every
    residual constraint of ``b`` is also one of ``a``'s.  When a string of
    ``a``'s automaton is refused by ``b`` it is offered as a witness
    (checked against the residual constraints through the oracles; libxml2
    checks it again later).
    """
    if attribute and b.id_kind == "ID" and a.id_kind != "ID":
        # libxml2 checks that ID attribute values are unique in the whole document
        # (it checks neither IDs in element content nor IDREF targets)
        return Inclusion(None, [], "an attribute typed xs:ID on the target side, where values must be "
                         "unique in the whole document")
    if a.members is not None and not a.exact:
        parts = [lang_includes(m, b, candidates=candidates) for m in a.members]
        witnesses = [w for p in parts for w in p.witnesses]
        if all(p.holds is True for p in parts):
            return Inclusion(True)
        if any(p.holds is False for p in parts):
            return Inclusion(False, witnesses[:candidates])
        return Inclusion(None, witnesses[:candidates], "; ".join(p.reason for p in parts if p.reason))
    if b.members is not None and not b.exact:
        covered = nothing()
        for m in b.members:
            if m.exact or all(r in a.residual or _implied(r, a.residual) for r in m.residual):
                covered = covered.union(m.dfa)
        if includes_dfa(covered, a.dfa):
            return Inclusion(True)
    missing = {r for r in b.residual - a.residual if not _implied(r, a.residual)}
    if includes_dfa(b.dfa, a.dfa):
        if not missing:
            return Inclusion(True)
        diffs: list[str] = []
    elif a.exact:
        # every string in the difference is a witness: find them only if one is wanted
        return Inclusion(False, pending=lambda: list(difference_strings(a.dfa, b.dfa, candidates)))
    else:
        diffs = list(difference_strings(a.dfa, b.dfa, candidates))
    found = [text for text in diffs if a.check(text)]
    if found:
        return Inclusion(False, found)
    if diffs:
        # the automata differ only on strings a's other constraints refuse, as far as tried
        more = [text for text in difference_strings(a.dfa, b.dfa, candidates * 8) if a.check(text)]
        more += [h for h in a.hints + b.hints if a.check(h) and not b.check(h)]
        if more:
            return Inclusion(False, more[:candidates])
        return Inclusion(None, [], ", ".join(sorted(r.description for r in a.residual | missing)))
    if not missing:
        return Inclusion(True)
    # b has constraints a lacks: try strings of a against them
    tries = list(a.hints + b.hints) + list(a.dfa.strings(candidates * 4))
    probes = [text for text in tries if a.check(text) and not b.check(text)]
    if probes:
        return Inclusion(False, probes[:candidates])
    return Inclusion(None, [], ", ".join(sorted(r.description for r in missing)))


_ORDER_PARSERS = {
    "date": "Date10", "dateTime": "DateTime10", "time": "Time", "gYearMonth": "GregorianYearMonth10",
    "gYear": "GregorianYear10", "gMonthDay": "GregorianMonthDay", "gDay": "GregorianDay",
    "gMonth": "GregorianMonth",
}


def _ordered_value(prim: str, text: str) -> Any:
    """A comparable value of a bound, or None when its order is not total here."""
    if prim in ("float", "double"):
        try:
            return float(text)
        except ValueError:
            return None
    cls_name = _ORDER_PARSERS.get(prim)
    if cls_name is None:
        return None
    import elementpath.datatypes as datatypes

    try:
        return getattr(datatypes, cls_name).fromstring(text)
    except Exception:
        return None


def _has_tz(text: str) -> bool:
    return text.endswith("Z") or (len(text) > 6 and text[-6] in "+-" and text[-3] == ":")


def _implied(r: Residual, have: Iterable[Residual]) -> bool:
    """Whether constraint ``r`` (of the other side) follows from the constraints ``have``.

    Bounds of one ordered primitive: a lower bound is implied by a higher (or
    equal and no weaker) lower bound, and likewise for upper bounds.  Values
    with and without a timezone are never compared.
    """
    sig = r.signature
    if sig[0] != "bound":
        return False
    _, prim, facet, value = sig
    want = _ordered_value(prim, value)
    if want is None:
        return False
    lower = facet.startswith("min")
    for h in have:
        hs = h.signature
        if hs[0] != "bound" or hs[1] != prim or hs[2].startswith("min") != lower:
            continue
        if _has_tz(hs[3]) != _has_tz(value):
            continue
        got = _ordered_value(prim, hs[3])
        if got is None:
            continue
        try:
            if got == want:
                # inclusive is implied by inclusive or exclusive; exclusive only by exclusive
                if facet.endswith("Inclusive") or hs[2].endswith("Exclusive"):
                    return True
            elif (got > want) if lower else (got < want):
                return True
        except TypeError:
            continue
    return False


__all__ = [
    "Inclusion",
    "Lang",
    "Languages",
    "NotModelled",
    "Residual",
    "decimal_compare_dfa",
    "digits_dfa",
    "lang_includes",
    "normalise",
    "parse_xsd_regex",
]
