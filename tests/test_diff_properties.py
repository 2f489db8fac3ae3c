"""Properties of the diff, stated as rules and checked on generated schemas."""

from __future__ import annotations

import hashlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.diff import diff_schemas
from egif.generate import documents
from egif.resolve import ResolvedSchema

TNS = "urn:egif:diff:prop"
MIRROR = {"identical": "identical", "full": "full", "backward": "forward", "forward": "backward",
          "breaking": "breaking"}

# one child element of the record: (name, type, minOccurs, maxOccurs)
child = st.tuples(
    st.sampled_from(["a", "b", "c", "d", "e"]),
    st.sampled_from(["xs:string", "xs:integer", "xs:date", "t:Code", "t:Small"]),
    st.integers(0, 1),
    st.sampled_from(["1", "2", "unbounded"]),
)
model = st.lists(child, min_size=1, max_size=4, unique_by=lambda c: c[0])
settings_ = settings(max_examples=12, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def build(children: list[tuple[str, str, int, str]], code_max: int = 10, small_max: int = 99) -> ResolvedSchema:
    parts = "".join(f'<xs:element name="{n}" type="{t}" minOccurs="{lo}" maxOccurs="{hi}"/>'
                    for n, t, lo, hi in children)
    text = f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{TNS}" xmlns:t="{TNS}"
  elementFormDefault="qualified" version="1.0">
  <xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:maxLength value="{code_max}"/>
  </xs:restriction></xs:simpleType>
  <xs:simpleType name="Small"><xs:restriction base="xs:integer"><xs:minInclusive value="0"/>
  <xs:maxInclusive value="{small_max}"/></xs:restriction></xs:simpleType>
  <xs:element name="R"><xs:complexType><xs:sequence>{parts}</xs:sequence></xs:complexType></xs:element>
</xs:schema>"""
    key = hashlib.sha256(text.encode()).hexdigest()[:12]
    return ResolvedSchema({f"p/{key}/s.xsd": text.encode()}, f"p/{key}/s.xsd", label=key)


@settings_
@given(model)
def test_diff_with_itself_is_identical(children: list[tuple[str, str, int, str]]) -> None:
    s = build(children)
    result = diff_schemas(s, build(children), samples=5)
    assert result.verdict == "identical"
    assert result.changes == []
    assert result.implied_bump == "none"


@settings_
@given(model, model, st.integers(1, 20), st.integers(1, 200))
def test_diff_mirrors(a: list[tuple[str, str, int, str]], b: list[tuple[str, str, int, str]],
                      code_max: int, small_max: int) -> None:
    sa, sb = build(a), build(b, code_max, small_max)
    forward = diff_schemas(sa, sb, evidence=False)
    back = diff_schemas(sb, sa, evidence=False)
    assert back.verdict == MIRROR[forward.verdict]
    assert len(forward.changes) == len(back.changes)


@settings_
@given(model, st.sampled_from(["f", "g"]), st.sampled_from(["xs:string", "t:Code", "xs:integer"]),
       st.data())
def test_adding_an_optional_element_is_backward_compatible(
        children: list[tuple[str, str, int, str]], name: str, xtype: str, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(children)))
    grown = [*children[:position], (name, xtype, 0, "1"), *children[position:]]
    result = diff_schemas(build(children), build(grown), samples=10)
    assert result.backward
    assert result.verdict in ("backward", "full")
    assert any(c.rule == "element-added-optional" for c in result.changes)


FULL_OLD = build([("a", "xs:string", 1, "1"), ("b", "t:Code", 0, "1")])
FULL_NEW = ResolvedSchema(
    {"p/full/s.xsd": FULL_OLD.files[FULL_OLD.main].replace(b"<xs:element name=\"R\">",
                                                            b"<xs:element name=\"R\"><xs:annotation>"
                                                            b"<xs:documentation>A record.</xs:documentation>"
                                                            b"</xs:annotation>")},
    "p/full/s.xsd")


def test_the_full_pair_is_full() -> None:
    assert diff_schemas(FULL_OLD, FULL_NEW, samples=10).verdict == "full"


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(FULL_OLD))
def test_a_generated_document_is_valid_under_both_schemas_of_a_full_pair(doc: bytes) -> None:
    tree = etree.fromstring(doc)
    assert FULL_OLD.lxml_schema().validate(tree)
    assert FULL_NEW.lxml_schema().validate(tree)


UNQUALIFIED = ResolvedSchema({"p/unq/s.xsd": b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:egif:unq" version="1.0">
  <xs:element name="R"><xs:complexType><xs:sequence>
    <xs:element name="a" type="xs:string"/>
    <xs:element name="b" minOccurs="0" maxOccurs="3"><xs:complexType><xs:sequence>
      <xs:element name="c" type="xs:integer"/></xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""}, "p/unq/s.xsd")


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_generated_documents_keep_unqualified_children_out_of_the_root_namespace(seed: int) -> None:
    import random

    from egif.generate import DocumentGenerator

    doc = DocumentGenerator(UNQUALIFIED.xmlschema_schema()).document(random.Random(seed))
    tree = etree.fromstring(doc)
    assert [c.tag for c in tree][:1] == ["a"]
    assert UNQUALIFIED.lxml_schema().validate(tree), doc


MESSAGE = ResolvedSchema({
    "p/msg/message.xsd": b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:egif:msg" xmlns="urn:egif:msg"
           elementFormDefault="qualified">
  <xs:include schemaLocation="helpers.xsd"/>
  <xs:element name="Message"><xs:complexType><xs:sequence>
    <xs:element name="sent" type="Stamp"/>
    <xs:element name="amount"><xs:simpleType><xs:restriction base="xs:decimal">
      <xs:pattern value="\\d{1,4}\\.\\d{2}"/></xs:restriction></xs:simpleType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>""",
    "p/msg/helpers.xsd": b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:egif:msg" xmlns="urn:egif:msg">
  <xs:element name="note" type="xs:string"/>
  <xs:simpleType name="Stamp"><xs:restriction base="xs:dateTime">
    <xs:pattern value="\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}"/></xs:restriction></xs:simpleType>
</xs:schema>"""}, "p/msg/message.xsd")


def test_generated_roots_are_the_main_documents_own() -> None:
    from egif.generate import DocumentGenerator

    assert DocumentGenerator(MESSAGE.xmlschema_schema()).roots() == ["{urn:egif:msg}Message"]


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32))
def test_generated_dates_and_numbers_under_a_pattern_are_valid(seed: int) -> None:
    import random

    from egif.generate import DocumentGenerator

    doc = DocumentGenerator(MESSAGE.xmlschema_schema()).document(random.Random(seed))
    assert MESSAGE.lxml_schema().validate(etree.fromstring(doc)), doc
