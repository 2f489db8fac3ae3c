"""Generate instance documents from a compiled schema.

Two ways in:

* :func:`documents` is a Hypothesis strategy of XML documents (``bytes``) that
  are valid under a schema, for use in your own property tests::

      from hypothesis import given, settings
      from egif import Registry
      from egif.generate import documents

      resolved = Registry.open().resolve("BS7666@2.0")

      @settings(max_examples=25, deadline=None)
      @given(documents(resolved, element="{http://www.govtalk.gov.uk/people/bs7666}BS7666Address"))
      def test_my_reader_accepts_every_address(doc: bytes) -> None:
          my_reader(doc)

* :class:`DocumentGenerator` draws documents from any ``random.Random``;
  egif's diff uses it with a seeded ``Random`` so its evidence is repeatable
  and needs no Hypothesis engine.

Generation walks xmlschema's compiled component model: required particles
and attributes always appear, optional ones at random, repetitions stay small,
and past a depth limit only what is required is generated.  Values come from
the simple type's enumeration, patterns (read by a small generator over the
translated regular expression), bounds and lengths; every value is checked
against its type and retried when it does not fit.  The result can still be
invalid in rare cases (identity constraints, ID uniqueness, patterns that
intersect badly): :func:`documents` filters with libxml2, and the diff keeps
only documents its source schema accepts.
"""

from __future__ import annotations

import base64
import random
import string
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lxml import etree

from egif.resolve import ResolvedSchema

if TYPE_CHECKING:  # hypothesis is an optional extra: pip install 'egif[evidence]'
    from hypothesis import strategies as st

XSD = "http://www.w3.org/2001/XMLSchema"
_BUILTIN_NS = frozenset({XSD, "http://www.w3.org/XML/1998/namespace",
                         "http://www.w3.org/2001/XMLSchema-instance"})
_LETTERS = string.ascii_letters
_TEXT = string.ascii_letters + string.digits + " "
_PRINTABLE = string.ascii_letters + string.digits + " .,-'()/&:;@%*+=?<>\"!#$_"
_MAX_DEPTH = 40
_SOFT_DEPTH = 8
_MAX_REPEAT = 3


class GenerationError(Exception):
    """The schema requires something the generator cannot build (e.g. endless recursion)."""


def _ns(qname: str | None) -> str:
    if qname and qname.startswith("{"):
        return qname[1:qname.index("}")]
    return ""


class DocumentGenerator:
    """Builds documents for one compiled schema (xmlschema object) from a ``random.Random``."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.maps = schema.maps
        self._regex_cache: dict[str, Any] = {}

    # -- roots -------------------------------------------------------------
    def roots(self) -> list[str]:
        """Qualified names of the non-abstract global elements of the main namespace: those the
        main document declares itself, when it declares any (a message schema's root rather
        than the helpers its included files declare beside it)."""
        tns = self.schema.target_namespace or ""
        names = [q for q, e in self.maps.elements.items()
                 if _ns(q) == tns and not e.abstract]
        own = [q for q in names if getattr(self.maps.elements[q], "schema", None) is self.schema]
        return sorted(own or names)

    def element_decl(self, name: str) -> Any:
        decl = self.maps.elements.get(name)
        if decl is None:
            tns = self.schema.target_namespace or ""
            decl = self.maps.elements.get(f"{{{tns}}}{name}" if tns else name)
        if decl is None:
            matches = [e for q, e in self.maps.elements.items() if q.rsplit("}", 1)[-1] == name]
            decl = matches[0] if len(matches) == 1 else None
        if decl is None:
            raise KeyError(f"no global element {name!r} in the schema")
        return decl

    def document(self, rng: random.Random, element: str | None = None) -> bytes:
        """One document rooted at ``element`` (a qualified or local name), or at a random root."""
        roots = self.roots()
        if element is None:
            if not roots:
                raise GenerationError("the schema has no global element to use as a root")
            element = rng.choice(roots)
        decl = self.element_decl(element)
        root = self.build_element(rng, decl, 0, None)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    # -- elements ----------------------------------------------------------
    def build_element(self, rng: random.Random, decl: Any, depth: int,
                      parent: etree._Element | None) -> etree._Element:
        if depth > _MAX_DEPTH:
            raise GenerationError("content nests deeper than the generator's limit")
        decl = self._substitute(rng, decl, depth)
        name = decl.name
        if parent is None:
            ns = _ns(name)
            elem = etree.Element(name, nsmap={None: ns}) if ns else etree.Element(name)  # type: ignore[dict-item]
        elif not _ns(name) and parent.nsmap.get(None):
            # an unqualified child under a default namespace: lxml would write it without
            # undeclaring that namespace, and the document would put it there
            elem = etree.SubElement(parent, name, nsmap={None: ""})  # type: ignore[dict-item]
        else:
            elem = etree.SubElement(parent, name)
        if decl.fixed is not None:
            self._fill_type(rng, elem, decl.type, depth, fixed=decl.fixed)
        else:
            self._fill_type(rng, elem, decl.type, depth)
        return elem

    def _substitute(self, rng: random.Random, decl: Any, depth: int) -> Any:
        target = decl.ref if getattr(decl, "ref", None) is not None else decl
        options = [target] if not target.abstract else []
        if depth < _SOFT_DEPTH:
            options.extend(e for e in target.iter_substitutes() if not e.abstract)
        if not options:
            raise GenerationError(f"abstract element {target.name} has no usable substitute")
        return rng.choice(options) if len(options) > 1 else options[0]

    def _fill_type(self, rng: random.Random, elem: etree._Element, xtype: Any, depth: int,
                   fixed: str | None = None) -> None:
        if xtype.is_simple():
            elem.text = fixed if fixed is not None else self.simple_value(rng, xtype)
            return
        for key, attr in xtype.attributes.items():
            if key is None:
                continue
            if attr.use == "prohibited":
                continue
            if attr.use != "required" and (depth >= _SOFT_DEPTH or rng.random() < 0.5):
                continue
            value = str(attr.fixed) if attr.fixed is not None else self.simple_value(rng, attr.type)
            elem.set(attr.name, value)
        if xtype.has_simple_content():
            elem.text = fixed if fixed is not None else self.simple_value(rng, xtype.content)
            return
        if fixed is not None:
            elem.text = fixed
        content = xtype.content
        if content is None or xtype.content_type_label == "empty":
            return
        self._fill_group(rng, elem, content, depth + 1)

    def _count(self, rng: random.Random, particle: Any, depth: int) -> int:
        lo = particle.min_occurs
        hi = particle.max_occurs
        if depth >= _SOFT_DEPTH:
            return int(lo)
        top = lo + _MAX_REPEAT - 1 if hi is None else min(hi, lo + _MAX_REPEAT - 1)
        top = max(top, lo)
        if lo == 0 and top >= 1:
            return 0 if rng.random() < 0.4 else rng.randint(1, top)
        return rng.randint(lo, top)

    def _fill_group(self, rng: random.Random, elem: etree._Element, group: Any, depth: int) -> None:
        particles = list(group)
        if group.model == "choice":
            if not particles:
                return
            if depth >= _SOFT_DEPTH:
                emptiable = [p for p in particles if p.is_emptiable()]
                choice = emptiable[0] if emptiable else min(
                    particles, key=lambda p: (p.min_occurs, _weight(p)))
            else:
                choice = rng.choice(particles)
            self._emit_particle(rng, elem, choice, depth)
            return
        if group.model == "all":
            particles = particles[:]
            rng.shuffle(particles)
        for p in particles:
            self._emit_particle(rng, elem, p, depth)

    def _emit_particle(self, rng: random.Random, elem: etree._Element, p: Any, depth: int) -> None:
        for _ in range(self._count(rng, p, depth)):
            kind = type(p).__name__
            if kind == "XsdElement":
                self.build_element(rng, p, depth, elem)
            elif kind == "XsdAnyElement":
                self._wildcard_child(rng, elem, p, depth)
            else:
                self._fill_group(rng, elem, p, depth)

    def _wildcard_child(self, rng: random.Random, elem: etree._Element, w: Any, depth: int) -> None:
        candidates = [e for q, e in sorted(self.maps.elements.items())
                      if _ns(q) not in _BUILTIN_NS and not e.abstract and w.is_matching(q)]
        if candidates and depth < _SOFT_DEPTH:
            self.build_element(rng, rng.choice(candidates), depth, elem)
            return
        if w.process_contents == "strict":
            if candidates:
                self.build_element(rng, candidates[0], depth, elem)
                return
            raise GenerationError("a strict wildcard matches no declared element")
        for ns in ("urn:egif:generated", ""):
            if w.is_namespace_allowed(ns):
                child = etree.SubElement(elem, f"{{{ns}}}Extra" if ns else "Extra")
                child.text = "x"
                return
        raise GenerationError("no namespace found that the wildcard admits")

    # -- simple values -----------------------------------------------------
    def simple_value(self, rng: random.Random, xtype: Any) -> str:
        """A lexical value of a simple type, checked against it (best effort after retries)."""
        last = ""
        for _ in range(25):
            last = self._raw_value(rng, xtype)
            if _is_valid(xtype, last):
                return last
        return last

    def _raw_value(self, rng: random.Random, t: Any) -> str:
        if t.is_list():
            item = list_item_type(t)
            lo = t.min_length or 1
            hi = t.max_length if t.max_length is not None else lo + 2
            n = rng.randint(lo, max(lo, min(hi, lo + 2)))
            return " ".join(self.simple_value(rng, item) for _ in range(n))
        if t.is_union():
            return self.simple_value(rng, rng.choice(union_member_types(t)))
        enum = _enumeration(t)
        if enum:
            return str(rng.choice(enum))
        patterns = _patterns(t)
        if patterns:
            # a pattern over a date or a number says how it is written, not what it is: a
            # string drawn from the pattern alone is seldom a date (month 38), so every other
            # try takes a value of the type and lets the check hold it to the pattern
            if _primitive_name(t) not in _FROM_PATTERN and rng.random() < 0.5:
                return self._by_builtin(rng, t)
            return self._from_pattern(rng, rng.choice(patterns))
        return self._by_builtin(rng, t)

    def _from_pattern(self, rng: random.Random, xsd_regex: str) -> str:
        parsed = self._regex_cache.get(xsd_regex)
        if parsed is None:
            import re._parser as sre_parse  # type: ignore[import-not-found]

            from elementpath.regex import translate_pattern

            python_regex = translate_pattern(xsd_regex, anchors=False)
            parsed = sre_parse.parse(python_regex)
            self._regex_cache[xsd_regex] = parsed
        return _RegexWriter(rng).write(parsed)

    def _by_builtin(self, rng: random.Random, t: Any) -> str:
        base = t
        while base is not None and _ns(base.name) != XSD:
            base = base.base_type
        name = (base.name if base is not None else "").rsplit("}", 1)[-1]
        maker = _BUILTIN_MAKERS.get(name)
        if maker is not None:
            return maker(rng, t)
        prim = getattr(t, "primitive_type", None)
        pname = (prim.name if prim is not None else "").rsplit("}", 1)[-1]
        maker = _BUILTIN_MAKERS.get(pname, _string)
        return str(maker(rng, t))


_FROM_PATTERN = frozenset({"string", "anyURI", "QName", "NOTATION", ""})  # any string of the pattern may do


def _primitive_name(t: Any) -> str:
    prim = getattr(t, "primitive_type", None)
    return str(getattr(prim, "name", "") or "").rsplit("}", 1)[-1]


def list_item_type(t: Any) -> Any:
    """The item type of a list type, also through restrictions of a list (None if not a list)."""
    step = t
    for _ in range(100):
        if step is None:
            return None
        item = getattr(step, "item_type", None)
        if item is not None:
            return item
        step = getattr(step, "base_type", None)
    return None


def union_member_types(t: Any) -> list[Any]:
    """The member types of a union type, also through restrictions of a union."""
    step = t
    for _ in range(100):
        if step is None:
            return []
        members = getattr(step, "member_types", None)
        if members is not None:
            return list(members)
        step = getattr(step, "base_type", None)
    return []


def _weight(p: Any) -> int:
    return 0 if type(p).__name__ != "XsdElement" else 1


def _is_valid(t: Any, value: str) -> bool:
    try:
        return bool(t.is_valid(value))
    except Exception:
        return False


def _enumeration(t: Any) -> list[Any]:
    step = t
    while step is not None and not step.is_complex():
        enum = getattr(step, "enumeration", None)
        if enum:
            return list(enum)
        step = getattr(step, "base_type", None)
    return []


def _patterns(t: Any) -> list[str]:
    """The patterns of the most derived step that has any (alternatives of one step are ORed)."""
    step = t
    while step is not None and not step.is_complex():
        facet = getattr(step, "patterns", None)
        if facet is not None and getattr(facet, "regexps", None):
            return list(facet.regexps)
        step = getattr(step, "base_type", None)
    return []


def _length_bounds(t: Any, default_hi: int = 12) -> tuple[int, int]:
    lo = t.min_length if getattr(t, "min_length", None) is not None else 0
    hi = t.max_length if getattr(t, "max_length", None) is not None else max(lo, default_hi)
    return lo, max(lo, min(hi, lo + 40))


def _string(rng: random.Random, t: Any) -> str:
    lo, hi = _length_bounds(t)
    n = rng.randint(max(lo, 1) if hi >= 1 else 0, hi) if hi >= 1 else 0
    n = max(n, lo)
    chars = [rng.choice(_TEXT) for _ in range(n)]
    if chars:
        chars[0] = rng.choice(_LETTERS)
        chars[-1] = rng.choice(_LETTERS)
    return "".join(chars)


def _name(rng: random.Random, t: Any) -> str:
    lo, hi = _length_bounds(t, 8)
    n = max(1, rng.randint(max(lo, 1), max(hi, 1)))
    return "".join(rng.choice(_LETTERS) for _ in range(n))


def _number_bounds(t: Any, lo_default: int, hi_default: int) -> tuple[Decimal, Decimal]:
    lo = getattr(t, "min_value", None)
    hi = getattr(t, "max_value", None)
    lo_d = Decimal(str(lo)) if lo is not None else None
    hi_d = Decimal(str(hi)) if hi is not None else None
    if lo_d is None:
        lo_d = Decimal(lo_default) if hi_d is None else min(Decimal(lo_default), hi_d - 100)
    if hi_d is None:
        hi_d = max(Decimal(hi_default), lo_d + 100)
    total = _facet_value(t, "totalDigits")
    if total is not None:
        cap = Decimal(10) ** int(total) - 1
        hi_d = min(hi_d, cap)
        lo_d = max(lo_d, -cap)
    return lo_d, hi_d


def _facet_value(t: Any, local: str) -> Any:
    step = t
    while step is not None and not step.is_complex():
        for name, facet in (getattr(step, "facets", None) or {}).items():
            if name and name.endswith("}" + local):
                return facet.value
        step = getattr(step, "base_type", None)
    return None


def _integer(rng: random.Random, t: Any) -> str:
    lo, hi = _number_bounds(t, -1000, 1000)
    lo_i, hi_i = int(lo.to_integral_value(rounding="ROUND_CEILING")), int(hi)
    if hi_i < lo_i:
        return str(lo_i)
    if rng.random() < 0.2:
        return str(rng.choice([lo_i, hi_i]))
    return str(rng.randint(lo_i, min(hi_i, lo_i + 10**9)))


def _decimal(rng: random.Random, t: Any) -> str:
    fraction = _facet_value(t, "fractionDigits")
    digits = 2 if fraction is None else int(fraction)
    whole = _integer(rng, t)
    if digits == 0:
        return whole
    frac = "".join(rng.choice(string.digits) for _ in range(rng.randint(1, digits)))
    candidate = f"{whole}.{frac}"
    return candidate if _is_valid(t, candidate) else whole


def _fixed(*values: str) -> Callable[[random.Random, Any], str]:
    def make(rng: random.Random, t: Any) -> str:
        return rng.choice(values)
    return make


def _date(rng: random.Random, t: Any) -> str:
    return f"{rng.randint(1950, 2025):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _datetime(rng: random.Random, t: Any) -> str:
    return f"{_date(rng, t)}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"


def _hex(rng: random.Random, t: Any) -> str:
    lo, hi = _length_bounds(t, 4)
    return "".join(f"{rng.randint(0, 255):02X}" for _ in range(rng.randint(max(lo, 1), max(hi, 1))))


def _b64(rng: random.Random, t: Any) -> str:
    lo, hi = _length_bounds(t, 6)
    data = bytes(rng.randint(0, 255) for _ in range(rng.randint(max(lo, 1), max(hi, 1))))
    return base64.b64encode(data).decode("ascii")


_BUILTIN_MAKERS: dict[str, Callable[[random.Random, Any], str]] = {
    "string": _string, "normalizedString": _string, "token": _string,
    "Name": _name, "NCName": _name, "ID": _name, "IDREF": _name, "ENTITY": _name, "NMTOKEN": _name,
    "QName": _name, "language": _fixed("en", "cy", "gd", "en-GB"),
    "anyURI": _fixed("http://example.org/a", "urn:egif:x", "doc.xml"),
    "boolean": _fixed("true", "false", "1", "0"),
    "decimal": _decimal, "float": _decimal, "double": _decimal,
    "integer": _integer, "nonPositiveInteger": _integer, "negativeInteger": _integer,
    "long": _integer, "int": _integer, "short": _integer, "byte": _integer,
    "nonNegativeInteger": _integer, "unsignedLong": _integer, "unsignedInt": _integer,
    "unsignedShort": _integer, "unsignedByte": _integer, "positiveInteger": _integer,
    "date": _date, "dateTime": _datetime,
    "time": lambda rng, t: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
    "gYear": lambda rng, t: f"{rng.randint(1950, 2025):04d}",
    "gYearMonth": lambda rng, t: f"{rng.randint(1950, 2025):04d}-{rng.randint(1, 12):02d}",
    "gMonth": lambda rng, t: f"--{rng.randint(1, 12):02d}",
    "gDay": lambda rng, t: f"---{rng.randint(1, 28):02d}",
    "gMonthDay": lambda rng, t: f"--{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    "duration": _fixed("P1D", "PT1H", "P1Y2M"),
    "hexBinary": _hex, "base64Binary": _b64,
    "anySimpleType": _string, "anyAtomicType": _string,
}


class _RegexWriter:
    """Writes one string matching a parsed Python regular expression."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def write(self, parsed: Any) -> str:
        out: list[str] = []
        self._seq(parsed, out)
        return "".join(out)

    def _seq(self, items: Any, out: list[str]) -> None:
        for op, arg in items:
            self._op(str(op), arg, out)

    def _op(self, op: str, arg: Any, out: list[str]) -> None:
        rng = self.rng
        if op == "LITERAL":
            out.append(chr(arg))
        elif op == "NOT_LITERAL":
            out.append(rng.choice([c for c in _PRINTABLE if ord(c) != arg]))
        elif op == "ANY":
            out.append(rng.choice(_TEXT.strip()))
        elif op == "IN":
            out.append(self._class(arg))
        elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            top = lo + 3 if hi > lo + 3 else hi
            for _ in range(rng.randint(lo, max(lo, top))):
                self._seq(sub, out)
        elif op == "SUBPATTERN":
            self._seq(arg[-1], out)
        elif op == "BRANCH":
            self._seq(rng.choice(arg[1]), out)
        elif op == "ATOMIC_GROUP":
            self._seq(arg, out)
        elif op == "CATEGORY":
            out.append(self._category(str(arg)))
        # AT (anchors), ASSERT / ASSERT_NOT: nothing to write

    def _category(self, cat: str) -> str:
        if cat.endswith("NOT_DIGIT"):
            return self.rng.choice(_LETTERS)
        if cat.endswith("DIGIT"):
            return self.rng.choice(string.digits)
        if cat.endswith("NOT_SPACE"):
            return self.rng.choice(_LETTERS)
        if cat.endswith("SPACE"):
            return " "
        if cat.endswith("NOT_WORD"):
            return self.rng.choice(" .,-")
        return self.rng.choice(_LETTERS + string.digits)

    def _class(self, items: Any) -> str:
        negate = any(str(op) == "NEGATE" for op, _ in items)
        pool: list[str] = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                pool.append(chr(arg))
            elif name == "RANGE":
                lo, hi = arg
                span = range(lo, min(hi, lo + 400) + 1)
                pool.extend(chr(c) for c in span)
            elif name == "CATEGORY":
                pool.extend(_category_pool(str(arg)))
        if negate:
            allowed = [c for c in _PRINTABLE if c not in set(pool)]
            return self.rng.choice(allowed or ["~"])
        return self.rng.choice(pool or ["a"])


def _category_pool(cat: str) -> list[str]:
    if cat.endswith("NOT_DIGIT"):
        return list(_LETTERS)
    if cat.endswith("DIGIT"):
        return list(string.digits)
    if cat.endswith("NOT_SPACE"):
        return list(_LETTERS + string.digits)
    if cat.endswith("SPACE"):
        return [" "]
    if cat.endswith("NOT_WORD"):
        return list(" .,-")
    return list(_LETTERS + string.digits)


def documents(resolved: ResolvedSchema, element: str | None = None, *,
              xsd_version: str = "1.0") -> st.SearchStrategy[bytes]:
    """A Hypothesis strategy of documents valid under ``resolved``.

    ``element`` picks the root (``"{ns}Name"`` or a local name); by default
    each example picks one of the main namespace's global elements.
    Documents the schema does not accept (rare: see the module notes) are
    filtered out with libxml2.  Needs hypothesis, an optional extra:
    ``pip install 'egif[evidence]'``.
    """
    try:
        from hypothesis import strategies as st
    except ModuleNotFoundError as exc:
        if exc.name != "hypothesis":
            raise
        raise ModuleNotFoundError("egif.generate.documents() needs hypothesis, an optional extra of egif: "
                                  "pip install 'egif[evidence]'", name="hypothesis") from None
    generator = DocumentGenerator(resolved.xmlschema_schema(xsd_version))
    validator = resolved.lxml_schema()
    if element is not None:
        generator.element_decl(element)  # fail early on an unknown name

    def build(rng: random.Random) -> bytes | None:
        try:
            return generator.document(rng, element)
        except GenerationError:
            return None

    def valid(doc: bytes | None) -> bool:
        if doc is None:
            return False
        return bool(validator.validate(etree.fromstring(doc)))

    return (st.randoms(use_true_random=False, note_method_calls=False)
            .map(build).filter(valid).map(lambda d: d or b""))


def sample_documents(resolved: ResolvedSchema, count: int, *, seed: int = 0,
                     element: str | None = None) -> list[bytes]:
    """``count`` generated documents (not yet checked), repeatable for a given seed."""
    generator = DocumentGenerator(resolved.xmlschema_schema())
    rng = random.Random(seed)
    out: list[bytes] = []
    for _ in range(count):
        try:
            out.append(generator.document(rng, element))
        except GenerationError:
            continue
    return out


__all__ = ["DocumentGenerator", "GenerationError", "documents", "sample_documents"]
