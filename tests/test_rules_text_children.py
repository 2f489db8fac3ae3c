"""What the schema promises about a record's children, and the uniqueness rules that lean on it.

Where every record that passes the schema has a child holding some text and nothing else
(:func:`egif.validate.stream.layout.text_children`), a uniqueness rule on the records (every
one, or those a predicate chooses) reads the child's texts straight from the root, for a
range that passed the schema.  The promise is checked declaration by declaration here, and the rule's findings
with and without it, on ranges valid and not.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egif.validate.schematron.evaluator import RECORDS, program
from egif.validate.schematron.loader import load_rules
from egif.validate.stream.layout import _Index, collection_layout, text_children
from egif.validate.stream.worker import RULE_KIND, Doc, Plan, RangeResult, Worker

from .test_rules_unique import NS, RECORD, ROOT, _rules

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


# -- the rule, with the promise and without it ----------------------------------------------
RULES = _rules("l:Item[not(l:Skip)]")  # records chosen by a predicate
EVERY = _rules("l:Item")  # every record

REQUIRED = _schema('<xs:sequence><xs:element ref="l:Id"/><xs:element name="Skip" type="xs:string" minOccurs="0"/>'
                   '</xs:sequence>')
OPTIONAL = _schema('<xs:sequence><xs:element ref="l:Id" minOccurs="0"/>'
                   '<xs:element name="Skip" type="xs:string" minOccurs="0"/></xs:sequence>')


def _worker(schema: bytes, promised: bool, rules: bytes = RULES) -> Worker:
    files = {"list.xsd": schema}
    layout = collection_layout(files, ROOT)
    assert layout is not None
    plan = Plan(files=files, main="list.xsd", records=layout.records, record_locals=layout.record_locals, cap=3,
                top_only=layout.top_only, rules=(("list.sch", rules),), today="2026-12-03", root=ROOT,
                text_children=layout.text_children if promised else frozenset())
    worker = Worker(plan, rules=load_rules([("list.sch", rules)]))
    worker.doc = Doc(None, f'<l:List xmlns:l="{NS}">\n'.encode(), b"</l:List>", 1)
    return worker


def _rule_lines(worker: Worker, data: bytes) -> list[int]:
    result = worker._range(data, False)
    assert isinstance(result, RangeResult) and result.ok
    return sorted(f[0] for f in result.findings if f[2] == RULE_KIND)


# a record: its Id (absent, or a text: blank, padded, not a number), whether it is left out
# by the rule's predicate, and where a comment stands in it, if anywhere: inside the Id's
# text (splitting it in two text nodes) or after it (either way, a tree that is not plain)
item = st.tuples(st.sampled_from([None, "7", " 7 ", "8", "", "x", "007", "71"]), st.booleans(),
                 st.sampled_from([None, None, "in", "after"]))
VALID_IDS = ("7", " 7 ", "8", "007", "71")


@given(st.lists(item, min_size=1, max_size=30), st.booleans(), st.booleans(), st.booleans())
@settings(max_examples=400, deadline=None)
def test_the_promise_changes_no_finding(items: list[tuple[str | None, bool, str | None]], optional: bool,
                                        clean: bool, every: bool) -> None:
    """With the schema's promise and without it, the same findings at the same lines: on
    ranges that pass the schema (every Id a positive integer; read from the root as text,
    or as elements where a comment stands) and on ranges that do not (an Id missing,
    blank, or not a number, where the schema requires one), and with a schema that makes
    Id optional (no promise at all).  *clean*: every Id valid and no comment, the range
    the texts are read for; *every*: the rule's contexts are every record, else those a
    predicate chooses."""
    lines = []
    for n, (ident, skip, comment) in enumerate(items):
        if clean:
            ident, comment = ident if ident in VALID_IDS else VALID_IDS[n % len(VALID_IDS)], None
        if ident is not None and comment == "in":
            ident = f"{ident[:1]}<!-- part -->{ident[1:]}"
        inner = (f"<l:Id>{ident}</l:Id>" if ident is not None else "") + ("<l:Skip/>" if skip else "") + \
            ("<!-- note -->" if comment == "after" else "")
        lines.append(f"<l:Item>{inner}</l:Item>\n" if n % 2 else f"<l:Item>\n  {inner}\n</l:Item>\n")
    data = "".join(lines).encode()
    schema = OPTIONAL if optional else REQUIRED
    rules = EVERY if every else RULES
    promised, plain = _worker(schema, True, rules), _worker(schema, False, rules)
    assert _rule_lines(promised, data) == _rule_lines(plain, data)


def test_the_promise_is_used_on_a_valid_plain_range() -> None:
    """The uniqueness check of the rule reads the texts from the root: the program made
    with the layout's promise has the reading, and a valid range without comments finds
    the repeated Id (the second record with 7) and not the one a predicate leaves out."""
    layout = collection_layout({"list.xsd": REQUIRED}, ROOT)
    assert layout is not None
    run = program(load_rules([("list.sch", RULES)]), ROOT, RECORDS, layout.top_only, layout.records,
                  text_children=layout.text_children)
    (compiled,), = run.compiled
    (unique,) = compiled.uniques.values()
    assert unique.valid_texts is not None and unique.valid_direct is not None
    data = b"<l:Item><l:Id>7</l:Id></l:Item>\n<l:Item><l:Id>7</l:Id><l:Skip/></l:Item>\n" \
           b"<l:Item><l:Id> 7</l:Id></l:Item>\n<l:Item><l:Id>8</l:Id></l:Item>\n"
    assert _rule_lines(_worker(REQUIRED, True), data) == [2]
