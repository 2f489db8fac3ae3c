"""What the schema promises about a record's children: every record that passes it has a
child of a name holding some text and nothing else
(:func:`egif.validate.stream.layout.text_children`), checked declaration by declaration.
"""

from __future__ import annotations

import pytest

from egif.validate.stream.layout import _Index, collection_layout, text_children

NS = "urn:example:list"
ROOT = f"{{{NS}}}List"
RECORD = f"{{{NS}}}Item"
ID = f"{{{NS}}}Id"


def _schema(item_type: str, extra: str = "") -> bytes:
    """A list of Item records; *item_type*: the content of Item's named type ItemType, which
    may refer to the global Id, a positive integer."""
    return f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:l="{NS}" targetNamespace="{NS}"
    elementFormDefault="qualified">
  <xs:element name="List"><xs:complexType><xs:sequence>
    <xs:element ref="l:Item" maxOccurs="unbounded"/>
  </xs:sequence></xs:complexType></xs:element>
  <xs:element name="Item" type="l:ItemType"/>
  <xs:complexType name="ItemType">{item_type}</xs:complexType>
  <xs:element name="Id" type="xs:positiveInteger"/>
  {extra}
</xs:schema>""".encode()


def _texts_of(schema: bytes) -> frozenset[str]:
    return text_children(_Index({"list.xsd": schema}), RECORD)


@pytest.mark.parametrize(("item_type", "extra", "holds"), [
    # a local child of a type that excludes the empty string, in a sequence
    ('<xs:sequence><xs:element name="Id" type="xs:positiveInteger"/></xs:sequence>', "", True),
    # a reference to the global Id
    ('<xs:sequence><xs:element ref="l:Id"/></xs:sequence>', "", True),
    # optional: a record may lack it
    ('<xs:sequence><xs:element name="Id" type="xs:integer" minOccurs="0"/></xs:sequence>', "", False),
    ('<xs:sequence minOccurs="0"><xs:element name="Id" type="xs:integer"/></xs:sequence>', "", False),
    # a string may be empty, unless a facet says otherwise
    ('<xs:sequence><xs:element name="Id" type="xs:string"/></xs:sequence>', "", False),
    ('<xs:sequence><xs:element name="Id"><xs:simpleType><xs:restriction base="xs:string">'
     '<xs:minLength value="1"/></xs:restriction></xs:simpleType></xs:element></xs:sequence>', "", True),
    ('<xs:sequence><xs:element name="Id" type="l:Code"/></xs:sequence>',
     '<xs:simpleType name="Code"><xs:restriction base="xs:token"><xs:enumeration value="a"/>'
     '<xs:enumeration value="b"/></xs:restriction></xs:simpleType>', True),
    ('<xs:sequence><xs:element name="Id" type="l:Code"/></xs:sequence>',
     '<xs:simpleType name="Code"><xs:restriction base="xs:token"><xs:enumeration value="a"/>'
     '<xs:enumeration value=""/></xs:restriction></xs:simpleType>', False),
    ('<xs:sequence><xs:element name="Id" type="l:Code"/></xs:sequence>',
     '<xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:pattern value="[0-9]+"/>'
     '</xs:restriction></xs:simpleType>', False),  # (a pattern is not read: not known)
    # nillable, or with a default or fixed value: an element without text passes
    ('<xs:sequence><xs:element name="Id" type="xs:integer" nillable="true"/></xs:sequence>', "", False),
    ('<xs:sequence><xs:element name="Id" type="xs:integer" default="1"/></xs:sequence>', "", False),
    # simple content with attributes; element content
    ('<xs:sequence><xs:element name="Id"><xs:complexType><xs:simpleContent><xs:extension base="xs:date">'
     '<xs:attribute name="a"/></xs:extension></xs:simpleContent></xs:complexType></xs:element></xs:sequence>',
     "", True),
    ('<xs:sequence><xs:element name="Id"><xs:complexType><xs:sequence><xs:element name="N" type="xs:int"/>'
     '</xs:sequence></xs:complexType></xs:element></xs:sequence>', "", False),
    ('<xs:sequence><xs:element name="Id"/></xs:sequence>', "", False),  # xs:anyType
    # a choice: only what every branch requires
    ('<xs:choice><xs:element name="Id" type="xs:int"/><xs:sequence><xs:element name="Id" type="xs:int"/>'
     '<xs:element name="X" type="xs:int"/></xs:sequence></xs:choice>', "", True),
    ('<xs:choice><xs:element name="Id" type="xs:int"/><xs:element name="X" type="xs:int"/></xs:choice>',
     "", False),
    # one particle of the name may hold elements: the first child of the name may be that one
    ('<xs:sequence><xs:element name="Id" type="xs:int"/><xs:element name="Id" minOccurs="0">'
     '<xs:complexType><xs:sequence><xs:element name="N" type="xs:int"/></xs:sequence></xs:complexType>'
     '</xs:element></xs:sequence>', "", False),
    # a group, and an extension's base
    ('<xs:sequence><xs:group ref="l:G"/></xs:sequence>',
     '<xs:group name="G"><xs:sequence><xs:element name="Id" type="xs:int"/></xs:sequence></xs:group>', True),
    ('<xs:complexContent><xs:extension base="l:Base"><xs:sequence><xs:element name="X" type="xs:int"/>'
     '</xs:sequence></xs:extension></xs:complexContent>',
     '<xs:complexType name="Base"><xs:sequence><xs:element name="Id" type="xs:int"/></xs:sequence>'
     '</xs:complexType>', True),
    # a wildcard could let in another Id
    ('<xs:sequence><xs:element name="Id" type="xs:int"/><xs:any namespace="##any" processContents="lax" '
     'minOccurs="0"/></xs:sequence>', "", False),
    # a type restricting ItemType: xsi:type may name it
    ('<xs:sequence><xs:element name="Id" type="xs:int"/><xs:element name="X" type="xs:int" minOccurs="0"/>'
     '</xs:sequence>',
     '<xs:complexType name="Narrow"><xs:complexContent><xs:restriction base="l:ItemType"><xs:sequence>'
     '<xs:element name="Id" type="xs:int"/></xs:sequence></xs:restriction></xs:complexContent>'
     '</xs:complexType>', False),
])
def test_a_child_is_promised_only_where_every_valid_record_has_it_with_text(item_type: str, extra: str,
                                                                             holds: bool) -> None:
    assert (ID in _texts_of(_schema(item_type, extra))) is holds


def test_a_substitutable_child_is_not_promised() -> None:
    """Id heads a substitution group: a record may hold OtherId in its place."""
    schema = _schema('<xs:sequence><xs:element ref="l:Id"/></xs:sequence>',
                     '<xs:element name="OtherId" type="xs:positiveInteger" substitutionGroup="l:Id"/>')
    assert _texts_of(schema) == frozenset()


def test_a_nillable_record_promises_nothing() -> None:
    schema = _schema('<xs:sequence><xs:element ref="l:Id"/></xs:sequence>').replace(
        b'<xs:element name="Item" type="l:ItemType"/>', b'<xs:element name="Item" type="l:ItemType" nillable="true"/>')
    assert _texts_of(schema) == frozenset()


def test_the_layout_holds_the_promise_for_the_records() -> None:
    layout = collection_layout({"list.xsd": _schema('<xs:sequence><xs:element ref="l:Id"/></xs:sequence>')}, ROOT)
    assert layout is not None and layout.text_children == frozenset({(RECORD, ID)})
