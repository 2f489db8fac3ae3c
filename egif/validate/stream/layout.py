"""What a collection is: its records (from the schema) and its frame (from the file).

A *collection* is a document whose root holds repeating global *record*
elements as direct children: ``GazetteerExtract`` / ``AddressRecord``,
``PersonRecordList`` / ``PersonRecord``.  This module is the one place that
answers, for a root element of a compiled schema:

* which elements are its records (:func:`collection_layout`): the global
  elements referenced from the root's content model where they may repeat --
  by their own maxOccurs or that of an enclosing sequence, choice or group
  (``<xs:sequence maxOccurs="unbounded"><xs:element ref="t:Entry"/>``);
* which identity constraints (xs:unique, xs:key, xs:keyref) the root declares;
* the finite occurrence bounds the root's children can be counted against;

and, for a file (:func:`read_frame`), where the root content lies: the XML
declaration, the root start tag, the root end tag -- the *head* and *tail*
that wrap every range of the file so that it parses on its own with the
root's namespace declarations in scope.

The schema facts are read from the XSD documents with lxml: global
declarations by Clark name, then a walk of the root's content model through
sequences, choices, ``all``, group references and complex-content
derivation.  xs:redefine / xs:override and substitution groups headed by a
record make it ask xmlschema's component model instead (slower; a test checks
that both agree on every shipped element).
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from lxml import etree

from egif.validate.stream.cutter import Reader
from egif.xmlsafe import XSD_NS, parse_schema_bytes

_X = f"{{{XSD_NS}}}"
_MODEL = {_X + "sequence", _X + "choice", _X + "all"}
_IDC = {_X + "unique": "unique", _X + "key": "key", _X + "keyref": "keyref"}
_BOUND = re.compile(rb"""(?:min|max)Occurs\s*=\s*["']\s*(\d+)""")
_ID_TYPES = re.compile(rb"""=\s*["'](?:[\w.\-]+:)?(?:ID|IDREFS?)["']""")
_MAX_THRESHOLD = 1_000_000


class Constraint(NamedTuple):
    """An identity constraint (xs:unique / xs:key / xs:keyref) declared on the root."""

    kind: str  # "unique", "key" or "keyref"
    name: str  # Clark name
    selector: str  # XPath relative to the root
    fields: tuple[str, ...]
    namespaces: tuple[tuple[str, str], ...]
    refer: str | None = None  # keyref: Clark name of the key it refers to


class CollectionLayout(NamedTuple):
    """The records of a collection root, and what else its schema says about them.

    Two layouts are equal when all but :attr:`top_only` and :attr:`text_children` are
    (xmlschema's model, asked for constructs the lxml reader does not follow, cannot tell
    them).  (NamedTuples, not frozen dataclasses, here: making a dataclass costs every
    start-up of egif about a millisecond.)"""

    root: str  # Clark name of the root element
    records: frozenset[str]  # Clark names of the record elements
    constraints: tuple[Constraint, ...] = ()
    # counts of a run of same-named children at which the schema's verdict can change:
    # a run of n is checked as a run of max(t for t in thresholds if t <= n)
    thresholds: tuple[int, ...] = (0, 1, 2)
    # xs:ID / xs:IDREF in the schema: one record's validity may depend on another's
    interdependent: bool = False
    # children the root's content model allows at most once: their path step has no [n]
    single: frozenset[str] = frozenset()
    # records no other element can hold (no wildcard, no other reference): they stand only
    # directly under the root, so rules find them among the root's children
    top_only: frozenset[str] = frozenset()
    # (record, child) pairs, Clark names: every record of that name that passes the schema
    # has such a child element, and every child of that name it may hold has text content
    # only, never empty (see text_children; a pair left out is only not known to be one)
    text_children: frozenset[tuple[str, str]] = frozenset()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CollectionLayout) and self[:-2] == other[:-2]  # never a plain tuple

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self[:-2])

    @property
    def record_locals(self) -> tuple[str, ...]:
        return tuple(sorted({r.rpartition("}")[2] for r in self.records}))

    def representative(self, count: int) -> int:
        """The smallest count the schema cannot tell apart from *count*."""
        best = 0
        for t in self.thresholds:
            if t > count:
                break
            best = t
        return best


class Unsupported(Exception):
    """A construct the lxml reader does not follow; ask the full schema model."""


class _Use(NamedTuple):
    """One element particle of the root's content model."""

    name: str  # Clark name
    most: float  # how many times it may occur at most (inf: unbounded)
    repeat: int | None  # the outermost repeating particle it lies in (its id), if any
    bound: float  # that particle's own maxOccurs
    is_global: bool


def collection_layout(files: Mapping[str, bytes], root: str, *,
                      xmlschema_model: Any = None) -> CollectionLayout | None:
    """The layout of global element *root* (a Clark name) of the closure *files*; None when
    it is not a collection.  *xmlschema_model* is a callable returning the compiled
    xmlschema schema, used only for constructs the lxml reader does not follow.

    A root is a collection when its content model has exactly one outermost repeating
    particle -- an element, or a sequence or choice -- that may occur without bound (or
    at least :data:`MANY` times), and every element in it is a global element: those are
    the records.  So ``GazetteerExtract`` (an optional header, then ``AddressRecord``
    without bound) is one, and so is a root holding ``<xs:choice maxOccurs="unbounded">``
    of two record kinds; an e-GMS ``Metadata`` record, whose many fields each repeat,
    is not: its fields are looked at together."""
    index: _Index | None = None
    try:
        index = _Index(files)
        found = _read_with_lxml(index, root)
    except Unsupported:
        if xmlschema_model is None:
            return None
        index = None
        found = _read_with_xmlschema(xmlschema_model(), root)
    if found is None:
        return None
    uses, constraints, elsewhere = found
    outer = {u.repeat for u in uses if u.repeat is not None}
    if len(outer) != 1:
        return None
    inside = [u for u in uses if u.repeat in outer]
    if inside[0].bound < MANY or not all(u.is_global for u in inside):
        return None
    records = frozenset(u.name for u in inside)
    most: dict[str, float] = {}
    for u in uses:
        most[u.name] = most.get(u.name, 0) + u.most
    bounds: set[int] = set()
    for data in files.values():
        bounds.update(int(m.group(1)) for m in _BOUND.finditer(data))
    thresholds = sorted({0, 1, 2} | {b for b in bounds if b <= _MAX_THRESHOLD}
                        | {b + 1 for b in bounds if b < _MAX_THRESHOLD})
    interdependent = any(_ID_TYPES.search(d) for d in files.values())
    single = frozenset(name for name, n in most.items() if n <= 1 and name not in records)
    top_only = records - elsewhere if elsewhere is not None else frozenset()
    texts: frozenset[tuple[str, str]] = frozenset()
    if index is not None:
        # a child of the root of a record's name is that record when the root's content
        # model declares no local element of the name as well
        texts = frozenset((record, child) for record in records
                          if all(u.is_global for u in uses if u.name == record)
                          for child in text_children(index, record))
    return CollectionLayout(root, records, constraints, tuple(thresholds), interdependent, single, top_only,
                            texts)


MANY = 1000  # a repeating particle bounded below this is a list inside one record, not records


# -- the lxml reader --------------------------------------------------------------------
class _Index:
    """Global components of every document of a closure, by Clark name."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.elements: dict[str, etree._Element] = {}
        self.types: dict[str, etree._Element] = {}
        self.simple_types: dict[str, etree._Element] = {}
        self.groups: dict[str, etree._Element] = {}
        self.tns: dict[etree._Element, str] = {}
        docs = {vpath: parse_schema_bytes(data, vpath).getroot() for vpath, data in files.items()}
        # an included schema without a target namespace takes the includer's (chameleon)
        inherited: dict[str, str] = {}
        for vpath, doc in docs.items():
            if doc.find(_X + "redefine") is not None or doc.find(_X + "override") is not None:
                raise Unsupported("xs:redefine / xs:override")
            for inc in doc.iter(_X + "include"):
                target = posixpath.normpath(posixpath.join(posixpath.dirname(vpath),
                                                           inc.get("schemaLocation") or ""))
                if target in docs and doc.get("targetNamespace"):
                    inherited.setdefault(target, doc.get("targetNamespace") or "")
        for vpath, doc in docs.items():
            tns = doc.get("targetNamespace") or inherited.get(vpath, "")
            for child in doc:
                name = child.get("name")
                if not name or not isinstance(child.tag, str):
                    continue
                clark = f"{{{tns}}}{name}" if tns else name
                self.tns[child] = tns
                if child.tag == _X + "element":
                    self.elements[clark] = child
                elif child.tag == _X + "complexType":
                    self.types[clark] = child
                elif child.tag == _X + "simpleType":
                    self.simple_types[clark] = child
                elif child.tag == _X + "group":
                    self.groups[clark] = child
        self.heads = {self.qname(el, el.get("substitutionGroup") or "")
                      for el in self.elements.values() if el.get("substitutionGroup")}
        self.refs = [(el, self.qname(el, el.get("ref") or "")) for doc in docs.values()
                     for el in doc.iter(_X + "element") if el.get("ref")]
        self.wildcards = any(doc.find(f".//{_X}any") is not None for doc in docs.values())

    def referenced_outside(self, visited: set[etree._Element]) -> frozenset[str] | None:
        """Elements referenced by a particle the walk did not visit; None when a wildcard
        could hold any element."""
        if self.wildcards:
            return None
        return frozenset(name for el, name in self.refs if el not in visited)

    def qname(self, el: etree._Element, value: str) -> str:
        prefix, _, local = value.strip().rpartition(":")
        ns = el.nsmap.get(prefix or None)
        if prefix and ns is None:
            raise Unsupported(f"undeclared prefix {prefix!r}")
        return f"{{{ns}}}{local}" if ns else local

    def local_name(self, el: etree._Element) -> str:
        """The Clark name of a local element declaration."""
        doc = el.getroottree().getroot()
        form = el.get("form") or doc.get("elementFormDefault") or "unqualified"
        tns = self.tns.get(_top(el), doc.get("targetNamespace") or "")
        name = el.get("name") or ""
        return f"{{{tns}}}{name}" if form == "qualified" and tns else name


def _complex_type(index: _Index, decl: etree._Element) -> etree._Element | None:
    """The complex type an element declaration gives its element, inline or named; None for
    a simple type, xs:anyType or a type the closure does not hold."""
    ctype = decl.find(_X + "complexType")
    if ctype is None and decl.get("type"):
        ctype = index.types.get(index.qname(decl, decl.get("type") or ""))
    return ctype


def _top(el: etree._Element) -> etree._Element:
    while el.getparent() is not None and el.getparent().getparent() is not None:  # type: ignore[union-attr]
        el = el.getparent()  # type: ignore[assignment]
    return el


def _read_with_lxml(index: _Index, root: str
                    ) -> tuple[list[_Use], tuple[Constraint, ...], frozenset[str] | None] | None:
    decl = index.elements.get(root)
    if decl is None:
        return None
    ctype = _complex_type(index, decl)
    uses: list[_Use] = []
    visited: set[etree._Element] = set()
    if ctype is not None:
        _walk_type(index, ctype, uses, set(), visited)
    if not any(u.repeat is not None for u in uses):
        return None
    if {u.name for u in uses if u.repeat is not None} & index.heads:
        raise Unsupported("a record element heads a substitution group")
    tns = index.tns.get(decl, "")
    constraints = []
    for idc in decl:
        kind = _IDC.get(idc.tag) if isinstance(idc.tag, str) else None
        selector = idc.find(_X + "selector") if kind else None
        if kind is None or selector is None:
            continue
        name = idc.get("name") or ""
        refer = idc.get("refer")
        constraints.append(Constraint(
            kind, f"{{{tns}}}{name}" if tns else name, selector.get("xpath") or "",
            tuple(f.get("xpath") or "" for f in idc.findall(_X + "field")),
            tuple(sorted((p, u) for p, u in idc.nsmap.items() if p)),
            index.qname(idc, refer) if refer else None))
    return uses, tuple(constraints), index.referenced_outside(visited)


def _walk_type(index: _Index, ctype: etree._Element, out: list[_Use], seen: set[str],
               visited: set[etree._Element]) -> None:
    for child in ctype:
        if child.tag == _X + "complexContent":
            for derivation in child:
                if derivation.tag not in (_X + "extension", _X + "restriction"):
                    continue
                base = index.qname(derivation, derivation.get("base") or "")
                if derivation.tag == _X + "extension" and base not in seen:
                    base_type = index.types.get(base)
                    if base_type is not None:
                        _walk_type(index, base_type, out, seen | {base}, visited)
                for particle in derivation:
                    if isinstance(particle.tag, str):
                        _walk_particle(index, particle, 1.0, None, 1.0, out, seen, visited)
        elif child.tag in _MODEL or child.tag == _X + "group":
            _walk_particle(index, child, 1.0, None, 1.0, out, seen, visited)


def _max(el: etree._Element) -> float:
    value = (el.get("maxOccurs") or "1").strip()
    return float("inf") if value == "unbounded" else float(value) if value.isdigit() else 1.0


def _walk_particle(index: _Index, el: etree._Element, most: float, repeat: int | None, bound: float,
                   out: list[_Use], seen: set[str], visited: set[etree._Element]) -> None:
    visited.add(el)
    own = _max(el)
    if repeat is None and own > 1:
        repeat, bound = id(el), own
    most *= own
    if el.tag in _MODEL:
        for child in el:
            if isinstance(child.tag, str):
                _walk_particle(index, child, most, repeat, bound, out, seen, visited)
    elif el.tag == _X + "group" and el.get("ref"):
        ref = index.qname(el, el.get("ref") or "")
        group = index.groups.get(ref)
        if group is not None and ref not in seen:
            for model in group:
                if model.tag in _MODEL:
                    _walk_particle(index, model, most, repeat, bound, out, seen | {ref}, visited)
    elif el.tag == _X + "element":
        if el.get("ref"):
            out.append(_Use(index.qname(el, el.get("ref") or ""), most, repeat, bound, True))
        elif el.get("name"):
            out.append(_Use(index.local_name(el), most, repeat, bound, False))


def text_children(index: _Index, element: str) -> frozenset[str]:
    """The Clark names of the child elements every instance of global element *element*
    has when it passes the schema (:func:`required_children`), each holding text only, and
    some: every particle of the name in the element's content model is declared with a
    simple type or simple content that the empty string does not pass (:func:`_filled`),
    and no wildcard could let in another element of the name."""
    required = required_children(index, element)
    if not required:
        return required
    try:
        ctype = _complex_type(index, index.elements[element])
        if ctype is None:
            return frozenset()
        # every particle of the content model, however often it may occur (the walk that
        # finds a root's records, an extension's base and group references followed)
        particles: set[etree._Element] = set()
        _walk_type(index, ctype, [], set(), particles)
        if any(el.tag == _X + "any" for el in particles):
            return frozenset()  # a wildcard could let in another element of a name
        simple: dict[str, bool] = {}
        for el in particles:
            if el.tag != _X + "element":
                continue
            if el.get("ref"):
                name = index.qname(el, el.get("ref") or "")
                target = index.elements.get(name)
                ok = target is not None and _filled(index, target)
            else:
                name = index.local_name(el)
                ok = _filled(index, el)
            simple[name] = simple.get(name, True) and ok
        return frozenset(name for name in required if simple.get(name, False))
    except Unsupported:
        return frozenset()


# built-in types whose lexical space holds no empty string (nor one of white space alone)
_FILLED_BUILTINS = frozenset(_X + name for name in (
    "decimal", "integer", "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte",
    "nonNegativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger",
    "float", "double", "boolean", "duration", "dateTime", "time", "date", "gYearMonth", "gYear", "gMonthDay",
    "gDay", "gMonth", "QName", "NOTATION", "language", "Name", "NCName", "ID", "IDREF", "ENTITY", "NMTOKEN",
    "IDREFS", "ENTITIES", "NMTOKENS"))


def _filled(index: _Index, decl: etree._Element) -> bool:
    """Whether an element declaration gives an element that passes the schema text content
    only, never empty: a simple type, or a complex type with simple content, whose values
    exclude the empty string; not nillable, and with no default or fixed value (an empty
    element would take it)."""
    if any(decl.get(a) is not None for a in ("default", "fixed")) or _true(decl.get("nillable")):
        return False
    inline = decl.find(_X + "simpleType")
    if inline is not None:
        return _filled_simple(index, inline, frozenset())
    complex_type = decl.find(_X + "complexType")
    if complex_type is None:
        name = decl.get("type")
        if not name:
            return False  # xs:anyType: any content
        return _filled_type(index, index.qname(decl, name), frozenset())
    return _filled_complex(index, complex_type, frozenset())


def _filled_type(index: _Index, clark: str, seen: frozenset[str]) -> bool:
    if clark.startswith(_X):
        return clark in _FILLED_BUILTINS
    if clark in seen:
        return False
    complex_type = index.types.get(clark)
    if complex_type is not None:
        return _filled_complex(index, complex_type, seen | {clark})
    simple = index.simple_types.get(clark)
    return simple is not None and _filled_simple(index, simple, seen | {clark})


def _filled_complex(index: _Index, complex_type: etree._Element, seen: frozenset[str]) -> bool:
    """A complex type with simple content whose values exclude the empty string."""
    content = complex_type.find(_X + "simpleContent")
    if content is None or _true(complex_type.get("mixed")):
        return False
    for derivation in content:
        if derivation.tag in (_X + "extension", _X + "restriction"):
            if derivation.tag == _X + "restriction" and _facets_fill(derivation):
                return True
            base = derivation.get("base")
            return bool(base) and _filled_type(index, index.qname(derivation, base or ""), seen)
    return False


def _filled_simple(index: _Index, simple: etree._Element, seen: frozenset[str]) -> bool:
    """A simple type (an xs:simpleType element) whose values exclude the empty string: a
    restriction whose facets say so, or of a base that does; lists and unions are not
    followed."""
    restriction = simple.find(_X + "restriction")
    if restriction is None:
        return False
    if _facets_fill(restriction):
        return True
    base = restriction.get("base")
    if base:
        return _filled_type(index, index.qname(restriction, base), seen)
    inline = restriction.find(_X + "simpleType")
    return inline is not None and _filled_simple(index, inline, seen)


def _facets_fill(restriction: etree._Element) -> bool:
    """Whether a restriction's own facets exclude the empty string: a length or minLength of
    one or more, or enumerated values none of which is empty or white space alone."""
    for facet in restriction:
        if facet.tag in (_X + "length", _X + "minLength"):
            value = (facet.get("value") or "").strip()
            if value.isdigit() and int(value) >= 1:
                return True
    values = [f.get("value") for f in restriction if f.tag == _X + "enumeration"]
    return bool(values) and all(v is not None and v.strip() for v in values)


def required_children(index: _Index, element: str) -> frozenset[str]:
    """The Clark names of the child elements every instance of global element *element*
    has when it passes the schema; only what the lxml reader can tell for certain (fewer
    names is always safe: a rule then reads its values the slower way).

    None at all for a declaration that is nillable (``xsi:nil`` empties it) or abstract,
    or whose named type another type derives from by restriction (``xsi:type`` may name
    it, and libxml2 does not check every restriction).  An extension keeps its base's
    content first, so ``xsi:type`` naming one keeps what is required.  Within the content
    model: a particle that may occur zero times requires nothing; a sequence or ``all``
    requires what any of its particles does, a choice what each of its branches does; an
    element reference names a child only when no substitution group could put another
    element in its place; a wildcard requires nothing."""
    decl = index.elements.get(element)
    if decl is None or _true(decl.get("nillable")) or _true(decl.get("abstract")):
        return frozenset()
    try:
        named = decl.get("type")  # (an inline type has no name for xsi:type to derive from)
        ctype = _complex_type(index, decl)
        if ctype is None or (named and _restricted(index, index.qname(decl, named))):
            return frozenset()
        return frozenset(_required_of_type(index, ctype, frozenset()))
    except Unsupported:
        return frozenset()


def _true(value: str | None) -> bool:
    return (value or "").strip() in ("true", "1")


def _restricted(index: _Index, type_name: str) -> bool:
    """Whether a complex type of the closure derives from *type_name*, directly or through
    others, with a restriction on the way."""
    derived: dict[str, bool] = {type_name: False}  # type: whether a restriction led to it
    changed = True
    while changed:
        changed = False
        for name, ctype in index.types.items():
            for content in ctype.iterchildren(_X + "complexContent"):
                for derivation in content:
                    if derivation.tag not in (_X + "extension", _X + "restriction"):
                        continue
                    base = index.qname(derivation, derivation.get("base") or "")
                    if base in derived and name not in derived:
                        derived[name] = derived[base] or derivation.tag == _X + "restriction"
                        changed = True
    return any(derived.values())


def _min(el: etree._Element) -> int:
    value = (el.get("minOccurs") or "1").strip()
    return int(value) if value.isdigit() else 1


def _required_of_type(index: _Index, ctype: etree._Element, seen: frozenset[str]) -> set[str]:
    found: set[str] = set()
    for child in ctype:
        if child.tag == _X + "complexContent":
            for derivation in child:
                if derivation.tag == _X + "extension":
                    base = index.qname(derivation, derivation.get("base") or "")
                    base_type = index.types.get(base)
                    if base_type is not None and base not in seen:
                        found |= _required_of_type(index, base_type, seen | {base})
                if derivation.tag in (_X + "extension", _X + "restriction"):
                    for particle in derivation:
                        if particle.tag in _MODEL or particle.tag == _X + "group":
                            found |= _required_of_particle(index, particle, seen)
        elif child.tag in _MODEL or child.tag == _X + "group":
            found |= _required_of_particle(index, child, seen)
    return found


def _required_of_particle(index: _Index, el: etree._Element, seen: frozenset[str]) -> set[str]:
    if _min(el) == 0:
        return set()
    parts = [p for p in el if isinstance(p.tag, str) and p.tag != _X + "annotation"]
    if el.tag in (_X + "sequence", _X + "all"):
        found: set[str] = set()
        for part in parts:
            found |= _required_of_particle(index, part, seen)
        return found
    if el.tag == _X + "choice":
        branches = [_required_of_particle(index, part, seen) for part in parts]
        return set.intersection(*branches) if branches else set()
    if el.tag == _X + "group" and el.get("ref"):
        ref = index.qname(el, el.get("ref") or "")
        group = index.groups.get(ref)
        if group is None or ref in seen:
            return set()
        models = [m for m in group if m.tag in _MODEL]
        return _required_of_particle(index, models[0], seen | {ref}) if len(models) == 1 else set()
    if el.tag == _X + "element":
        if el.get("ref"):
            name = index.qname(el, el.get("ref") or "")
            target = index.elements.get(name)
            if name in index.heads or target is None or _true(target.get("abstract")):
                return set()
            return {name}
        if el.get("name"):
            return {index.local_name(el)}
    return set()


# -- the xmlschema reader (fallback) ------------------------------------------------------
def _read_with_xmlschema(schema: Any, root: str
                         ) -> tuple[list[_Use], tuple[Constraint, ...], frozenset[str] | None] | None:
    decl = next((e for e in schema.maps.elements.values() if e.name == root), None)
    content = getattr(getattr(decl, "type", None), "content", None)
    if content is None or not hasattr(content, "iter_model"):
        return None
    uses: list[_Use] = []
    _walk_model(content, 1.0, None, 1.0, uses)
    if not any(u.repeat is not None for u in uses):
        return None
    found = []
    identities = decl.identities  # type: ignore[union-attr]
    for ident in identities.values() if isinstance(identities, dict) else identities:
        selector: Any = ident.selector
        if selector is None:
            continue
        refer = getattr(ident, "refer", None)
        found.append(Constraint(
            type(ident).__name__.removeprefix("Xsd").lower(), ident.name, selector.path,
            tuple(f.path for f in ident.fields),
            tuple(sorted((p, u) for p, u in selector.namespaces.items() if p and p != "xml")),
            getattr(refer, "name", refer) if refer is not None else None))
    return uses, tuple(found), None


def _walk_model(group: Any, most: float, repeat: int | None, bound: float, out: list[_Use]) -> None:
    own = float("inf") if group.max_occurs is None else float(group.max_occurs)
    if repeat is None and own > 1:
        repeat, bound = id(group), own
    most *= own
    for particle in group.iter_model():
        if hasattr(particle, "iter_model"):
            _walk_model(particle, most, repeat, bound, out)
            continue
        p_own = float("inf") if particle.max_occurs is None else float(particle.max_occurs)
        p_repeat, p_bound = (id(particle), p_own) if repeat is None and p_own > 1 else (repeat, bound)
        is_global = getattr(particle, "ref", None) is not None or getattr(particle, "parent", 1) is None
        if particle.name:
            out.append(_Use(particle.name, most * p_own, p_repeat, p_bound, is_global))


# -- the frame of a file ---------------------------------------------------------------
# Encodings in which every byte below 0x80 means its ASCII character, so that
# searching the raw bytes for markup is sound.  These three are compiled on first use (re
# keeps them): a small document's usual declaration is recognised without them.
_ASCII_FAMILY = r"^(utf-?8|us-?ascii|ascii|iso[-_]?8859[-_]?\d+|latin[-_]?\d|windows-125\d|cp125\d)$"
_DECL = rb"<\?xml\s(?:[^?]|\?(?!>))*\?>"
_ENCODING = rb"""encoding\s*=\s*(?:"([^"]*)"|'([^']*)')"""
_NAME = rb"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?"


_Patterns = tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes],
                  re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]


@functools.cache
def prolog_patterns() -> _Patterns:
    """The prolog's patterns -- the XML declaration, space, comment, PI, DOCTYPE, the root's
    start tag -- then what may close the root's end tag after its name, and what may follow
    the root; compiled on first use: only framing a file or sniffing a stream's root reads
    them, and compiling them would cost every start-up of egif."""
    return (
        re.compile(_DECL),
        re.compile(rb"[ \t\r\n]*"),
        re.compile(rb"<!--.*?-->", re.S),
        re.compile(rb"<\?.*?\?>", re.S),
        re.compile(rb"""<!DOCTYPE(?:[^\["'>]|"[^"]*"|'[^']*')*(?:\[(?:[^\]"']|"[^"]*"|'[^']*')*\]\s*)?>""", re.S),
        re.compile(rb"<(" + _NAME + rb""")(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>"""),
        re.compile(rb"\s*>"),
        re.compile(rb"(?:\s+|<!--(?:[^-]|-(?!-))*-->|<\?(?:[^?]|\?(?!>))*\?>)*\Z"))


HEAD_BYTES = 64 * 1024
MAX_HEAD = 16 * 1024 * 1024
TAIL_BYTES = 64 * 1024


class Frame(NamedTuple):
    """Where a document's root content lies, and the bytes that wrap a range of it."""

    decl: bytes  # the XML declaration, or b""
    root_tag: bytes  # the root start tag as written (made non-empty if self-closing)
    root_qname: bytes  # the root's name as written, e.g. b"gze:GazetteerExtract"
    content_start: int  # offset just after the root start tag
    content_end: int  # offset of the root end tag (content_start when self-closing)
    root_line: int  # line of the root start tag's "<"
    first_line: int  # line of the byte at content_start
    self_closing: bool

    @property
    def head(self) -> bytes:
        """What goes before a range: the declaration, the root start tag, newlines."""
        return self.decl + b"\n" + self.root_tag + b"\n"

    @property
    def tail(self) -> bytes:
        return b"</" + self.root_qname + b">"

    @property
    def head_lines(self) -> int:
        """Newlines in :attr:`head`."""
        return self.decl.count(b"\n") + 1 + self.root_tag.count(b"\n") + 1


# declarations most documents open with, each naming (or implying) UTF-8: no need to read them
_UTF8_DECLARATIONS = (b'<?xml version="1.0" encoding="UTF-8"?>', b'<?xml version="1.0" encoding="utf-8"?>',
                      b"<?xml version='1.0' encoding='UTF-8'?>", b'<?xml version="1.0"?>')


def ascii_compatible(head: bytes) -> bool:
    """True when the file's encoding lets us search its raw bytes for markup."""
    if head.startswith(_UTF8_DECLARATIONS):
        return True
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return False
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?", b"\x00\x00\x00<", b"<\x00\x00\x00", b"\x4c\x6f\xa7\x94"):
        return False
    name = declared_encoding(head)
    return name is None or bool(re.match(_ASCII_FAMILY, name, re.I))


def declared_encoding(head: bytes) -> str | None:
    """The encoding named by the XML declaration, if any."""
    m = re.match(_DECL, head[3:] if head.startswith(b"\xef\xbb\xbf") else head)
    if m is None:
        return None
    enc = re.search(_ENCODING, m.group(0))
    return (enc.group(1) or enc.group(2) or b"").decode("ascii", "replace") if enc else None


def _prolog(head: bytes) -> tuple[bytes, re.Match[bytes]] | None:
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    decl = b""
    declaration, space, comment, pi, doctype, start_tag, _close, _tail = prolog_patterns()
    m = declaration.match(head, pos)
    if m is not None:
        decl = m.group(0)
        pos = m.end()
    while True:
        pos = space.match(head, pos).end()  # type: ignore[union-attr]
        if head.startswith(b"<!--", pos):
            m = comment.match(head, pos)
        elif head.startswith(b"<?", pos):
            m = pi.match(head, pos)
        elif head.startswith(b"<!DOCTYPE", pos):
            m = doctype.match(head, pos)
        else:
            break
        if m is None:
            return None
        pos = m.end()
    tag = start_tag.match(head, pos)
    return (decl, tag) if tag is not None else None


def root_start(head: bytes) -> tuple[bytes, bytes, bool] | None:
    """The XML declaration and the root start tag at the start of a document, and whether a
    DOCTYPE comes before it; None when they are not where a plain reading finds them."""
    if not ascii_compatible(head):
        return None
    found = _prolog(head)
    if found is None:
        return None
    decl, tag = found
    return decl, tag.group(0), b"<!DOCTYPE" in head[:tag.start()]


def read_frame(reader: Reader, tail_bytes: int = TAIL_BYTES) -> Frame | None:
    """The frame of a document; None when its bytes cannot be cut safely: an encoding
    outside the ASCII family, no root start tag in the first 16 MB, or no root end tag
    followed only by comments, PIs and space in the last *tail_bytes*."""
    head = reader.read(0, HEAD_BYTES)
    if not head.strip() or not ascii_compatible(head):
        return None
    found = _prolog(head)
    limit = HEAD_BYTES
    while found is None and limit < min(reader.size, MAX_HEAD):
        limit *= 4
        found = _prolog(reader.read(0, limit))
    if found is None:
        return None
    decl, tag = found
    qname = tag.group(1)
    content_start = tag.end()
    self_closing = tag.group(2) == b"/"
    root_tag = tag.group(0)
    if self_closing:
        root_tag = root_tag[:-2].rstrip() + b">"
        content_end = content_start
    else:
        tail_from = max(content_start, reader.size - tail_bytes)
        end = _root_end(reader.read(tail_from, reader.size - tail_from), qname)
        if end is None:
            return None
        content_end = tail_from + end
    before = reader.read(0, content_start)
    return Frame(decl=decl, root_tag=root_tag, root_qname=qname, content_start=content_start,
                 content_end=content_end, root_line=1 + before.count(b"\n", 0, tag.start()),
                 first_line=1 + before.count(b"\n"), self_closing=self_closing)


def _root_end(tail: bytes, qname: bytes) -> int | None:
    """Where the last ``</qname>`` of *tail* starts (space allowed before its ``>``), when only
    comments, PIs and space follow it; else None.  Read from the end, with the patterns of
    every root: no pattern is compiled per root name (a forked worker would compile it again)."""
    *_, close_rest, tail_ok = prolog_patterns()
    opening = b"</" + qname
    at = len(tail)
    while True:
        at = tail.rfind(opening, 0, at)
        if at < 0:
            return None
        end = close_rest.match(tail, at + len(opening))
        if end is not None:
            return at if tail_ok.match(tail, end.end()) else None


def skeleton_files(files: Mapping[str, bytes], records: frozenset[str]) -> dict[str, bytes]:
    """The closure with every record declared as ``xs:anyType`` and without identity
    constraints on it, for checking the root alone: an empty stand-in of a record is
    then valid, so a skeleton of 150,000 stand-ins costs no error per stand-in."""
    out = dict(files)
    for vpath, data in files.items():
        doc = parse_schema_bytes(data, vpath).getroot()
        tns = doc.get("targetNamespace") or ""
        changed = False
        for decl in doc.findall(_X + "element"):
            name = decl.get("name") or ""
            if (f"{{{tns}}}{name}" if tns else name) not in records:
                continue
            for child in list(decl):
                if child.tag != _X + "annotation":
                    decl.remove(child)
            for attribute in ("type", "fixed", "default", "abstract"):
                if attribute in decl.attrib:
                    del decl.attrib[attribute]
            changed = True  # no type: xs:anyType
        if changed:
            out[vpath] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
    return out


def without_root_constraints(files: Mapping[str, bytes], root: str) -> dict[str, bytes] | None:
    """The closure with the identity constraints declared on global element *root* (a Clark
    name) taken out; None when it declares none there, or its declaration is not found in a
    document of its namespace.

    A range of records is validated under its own copy of the root, so libxml2's verdict on
    the root's constraints covers that range alone: the workers drop it, and the parent
    decides them across the whole document from the key values the workers send.  Without
    them libxml2 keeps no key tables while it validates a range (a sixth of validating a
    range of person records)."""
    namespace, _, local = root[1:].partition("}") if root.startswith("{") else ("", "", root)
    for vpath, data in files.items():
        doc = parse_schema_bytes(data, vpath).getroot()
        if (doc.get("targetNamespace") or "") != namespace:
            continue
        for decl in doc.findall(_X + "element"):
            if decl.get("name") != local:
                continue
            found = [c for c in decl if c.tag in (_X + "unique", _X + "key", _X + "keyref")]
            if not found:
                return None
            for c in found:
                decl.remove(c)
            out = dict(files)
            out[vpath] = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")
            return out
    return None
