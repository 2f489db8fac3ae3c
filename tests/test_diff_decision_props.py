"""Property: no document contradicts a decided direction.

For random small schema pairs (one version and a variation of it), documents
are generated from each version and validated with lxml against both; a
document valid under OLD and refused by NEW must never meet a "yes" for
backward (and the mirror for forward).  Every witness the diff reports must be
valid under its source and refused by its target.
"""

from __future__ import annotations

import hashlib
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.diff import diff_schemas
from egif.generate import DocumentGenerator, GenerationError
from egif.resolve import ResolvedSchema

TNS = "urn:egif:diff:props"

SIMPLE = [
    '<xs:restriction base="xs:string"/>',
    '<xs:restriction base="xs:string"><xs:maxLength value="3"/></xs:restriction>',
    '<xs:restriction base="xs:token"><xs:maxLength value="5"/></xs:restriction>',
    '<xs:restriction base="xs:token"><xs:enumeration value="A"/><xs:enumeration value="B"/></xs:restriction>',
    '<xs:restriction base="xs:token"><xs:enumeration value="A"/></xs:restriction>',
    '<xs:restriction base="xs:int"><xs:minInclusive value="0"/><xs:maxInclusive value="9"/></xs:restriction>',
    '<xs:restriction base="xs:integer"/>',
    '<xs:restriction base="xs:decimal"><xs:fractionDigits value="1"/></xs:restriction>',
    '<xs:restriction base="xs:decimal"/>',
    '<xs:restriction base="xs:string"><xs:pattern value="[A-Z]{2}[0-9]?"/></xs:restriction>',
    '<xs:restriction base="xs:string"><xs:pattern value="[A-Z]+[0-9]*"/></xs:restriction>',
    '<xs:restriction base="xs:date"/>',
    '<xs:restriction base="xs:boolean"/>',
    '<xs:list itemType="xs:int"/>',
    '<xs:union memberTypes="xs:int xs:boolean"/>',
]

NAMES = ["a", "b", "c", "d"]
OCCURS = [(1, "1"), (0, "1"), (0, "unbounded"), (1, "2"), (2, "3")]

# a child: (name, simple type index, occurs index, nillable, default)
child = st.tuples(st.sampled_from(NAMES), st.integers(0, len(SIMPLE) - 1), st.integers(0, len(OCCURS) - 1),
                  st.booleans(), st.sampled_from([None, "0", "A"]))
# an attribute: (name, simple type index, required)
attribute = st.tuples(st.sampled_from(["x", "y"]), st.integers(0, len(SIMPLE) - 1), st.booleans())
model = st.tuples(
    st.sampled_from(["sequence", "choice"]),
    st.lists(child, min_size=1, max_size=4, unique_by=lambda c: c[0]),
    st.lists(attribute, max_size=2, unique_by=lambda a: a[0]),
    st.sampled_from([(1, "1"), (0, "1"), (1, "2")]),
    st.booleans(),  # mixed
)


def render(m: tuple) -> ResolvedSchema:  # type: ignore[type-arg]
    compositor, children, attributes, group_occurs, mixed = m
    parts = []
    for name, st_i, occ_i, nillable, default in children:
        lo, hi = OCCURS[occ_i]
        extra = ' nillable="true"' if nillable else ""
        if default is not None and _default_fits(st_i, default):
            extra += f' default="{default}"'
        parts.append(f'<xs:element name="{name}" minOccurs="{lo}" maxOccurs="{hi}"{extra} block="#all">'
                     f'<xs:simpleType>{SIMPLE[st_i]}</xs:simpleType></xs:element>')
    attrs = "".join(f'<xs:attribute name="{n}" use="{"required" if req else "optional"}">'
                    f'<xs:simpleType>{SIMPLE[st_i]}</xs:simpleType></xs:attribute>'
                    for n, st_i, req in attributes)
    glo, ghi = group_occurs
    text = (f'<?xml version="1.0"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace="{TNS}" elementFormDefault="qualified">'
            f'<xs:element name="R" block="#all"><xs:complexType mixed="{str(mixed).lower()}">'
            f'<xs:{compositor} minOccurs="{glo}" maxOccurs="{ghi}">{"".join(parts)}</xs:{compositor}>'
            f'{attrs}</xs:complexType></xs:element></xs:schema>')
    key = hashlib.sha256(text.encode()).hexdigest()[:12]
    return ResolvedSchema({f"p/{key}/s.xsd": text.encode()}, f"p/{key}/s.xsd", label=key)


def _default_fits(st_i: int, default: str) -> bool:
    simple = SIMPLE[st_i]
    if default == "A":
        return "string\"/>" in simple or "enumeration value=\"A\"" in simple or "[A-Z]+" in simple or \
            "maxLength" in simple
    return any(t in simple for t in ("xs:int", "xs:integer", "xs:decimal", "xs:string\"/>", "maxLength"))


@st.composite
def pairs(draw: st.DrawFn) -> tuple[tuple, tuple]:  # type: ignore[type-arg]
    """A model and a variation of it: one to three small edits, or an unrelated second model."""
    first = draw(model)
    if draw(st.integers(0, 4)) == 0:
        return first, draw(model)
    compositor, children, attributes, group_occurs, mixed = first
    children = list(children)
    attributes = list(attributes)
    for _ in range(draw(st.integers(1, 3))):
        edit = draw(st.integers(0, 6))
        i = draw(st.integers(0, len(children) - 1))
        name, st_i, occ_i, nillable, default = children[i]
        if edit == 0:
            children[i] = (name, draw(st.integers(0, len(SIMPLE) - 1)), occ_i, nillable, default)
        elif edit == 1:
            children[i] = (name, st_i, draw(st.integers(0, len(OCCURS) - 1)), nillable, default)
        elif edit == 2:
            children[i] = (name, st_i, occ_i, not nillable, default)
        elif edit == 3:
            children[i] = (name, st_i, occ_i, nillable, draw(st.sampled_from([None, "0", "A"])))
        elif edit == 4:
            new = draw(child)
            if new[0] not in {c[0] for c in children}:
                children.insert(draw(st.integers(0, len(children))), new)
        elif edit == 5 and len(children) > 1:
            children.pop(i)
        else:
            new_attr = draw(attribute)
            attributes = [a for a in attributes if a[0] != new_attr[0]] + [new_attr]
    if draw(st.booleans()):
        group_occurs = draw(st.sampled_from([(1, "1"), (0, "1"), (1, "2")]))
    return first, (compositor, children, attributes, group_occurs, draw(st.booleans()) if draw(
        st.integers(0, 5)) == 0 else mixed)


def sample(schema: ResolvedSchema, rng: random.Random, n: int) -> list[bytes]:
    gen = DocumentGenerator(schema.xmlschema_schema())
    out = []
    for _ in range(n):
        try:
            out.append(gen.document(rng, f"{{{TNS}}}R"))
        except GenerationError:
            continue
    return out


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(pairs(), st.integers(0, 2**16))
def test_no_document_contradicts_the_decision(pair: tuple[tuple, tuple], seed: int) -> None:  # type: ignore[type-arg]
    old, new = render(pair[0]), render(pair[1])
    result = diff_schemas(old, new, evidence=False)
    assert result.decision is not None
    lo, ln = old.lxml_schema(), new.lxml_schema()
    rng = random.Random(seed)
    docs = sample(old, rng, 12) + sample(new, rng, 12)
    for doc in docs:
        tree = etree.fromstring(doc)
        in_old, in_new = lo.validate(tree), ln.validate(tree)
        if in_old and not in_new:
            assert result.status("backward") != "yes", doc
        if in_new and not in_old:
            assert result.status("forward") != "yes", doc
    for w in result.witnesses:
        tree = etree.fromstring(w.document.encode("utf-8"))
        src, dst = (lo, ln) if w.direction == "backward" else (ln, lo)
        assert src.validate(tree) and not dst.validate(tree), w.document
    for direction in ("backward", "forward"):
        d = result.decision[direction]
        if d.status == "not-proven":
            assert d.unproven, "a not-proven answer names its construct"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model)
def test_a_schema_against_itself_is_identical(m: tuple) -> None:  # type: ignore[type-arg]
    result = diff_schemas(render(m), render(m), evidence=False)
    assert result.verdict == "identical", [u.construct for u in result.not_proven]
