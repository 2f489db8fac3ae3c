"""One document, one answer: the same findings whatever the size, the source and --jobs.

The same bytes are validated whole (one piece), cut into many small pieces
over one to three processes, and read from a path, from bytes and from a
Python file object.  Every finding must be the same, field by field (rule,
severity, message, line, column, path, record), and so must the record count.

The documents are generated collections of every shipped collection standard,
and collections of small schemas written here for the shapes that trip a
streaming validator: records repeated through a repeated xs:sequence or
xs:choice, two record names mixed, records of simple type, records in no
namespace, comments, CDATA and processing instructions between and inside
records, a record start tag inside a comment or CDATA section, and other
prefixes bound to the record namespace.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egif import Registry
from egif.resolve import ResolvedSchema
from egif.sample import write_sample
from egif.validate import DocumentResult, RuleSet, Validator, load_rules

Row = tuple[str, str, str, int | None, int | None, str | None, int | None]


def _rows(result: DocumentResult) -> tuple[list[Row], int | None]:
    return ([(f.rule, f.severity.value, f.message, f.line, f.column, f.path, f.record)
             for f in result.findings], result.records)


# -- the ways of validating the same bytes ------------------------------------------------
def _validator(schema: ResolvedSchema | tuple[Registry, str], rules: RuleSet | None, *,
               jobs: int = 1, piece_bytes: int | None = None) -> Validator:
    if isinstance(schema, ResolvedSchema):
        return Validator.for_schema(schema, rules=rules, jobs=jobs, piece_bytes=piece_bytes)
    registry, ref = schema
    return Validator.for_version(registry, ref, jobs=jobs, piece_bytes=piece_bytes)


def _all_ways(schema: ResolvedSchema | tuple[Registry, str], rules: RuleSet | None, data: bytes,
              tmp: Path, pieces: tuple[int, ...]) -> dict[str, tuple[list[Row], int | None]]:
    path = tmp / "doc.xml"
    path.write_bytes(data)
    whole = _validator(schema, rules)
    ways: dict[str, Callable[[], DocumentResult]] = {
        "bytes, one piece": lambda: whole.check(data, label="doc.xml"),
        "file object": lambda: whole.check(io.BytesIO(data), label="doc.xml"),
        "path": lambda: whole.check(path, label="doc.xml"),
    }
    for size in pieces:
        for jobs in (1, 2, 3):
            v = _validator(schema, rules, jobs=jobs, piece_bytes=size)
            ways[f"path, pieces of {size} bytes, {jobs} jobs"] = (
                lambda v=v: v.check(path, label="doc.xml"))  # type: ignore[misc]
        ways[f"bytes, pieces of {size} bytes"] = (
            lambda size=size: _validator(schema, rules, piece_bytes=size).check(  # type: ignore[misc]
                data, label="doc.xml"))
    return {name: _rows(way()) for name, way in ways.items()}


def _assert_one_answer(answers: dict[str, tuple[list[Row], int | None]]) -> None:
    (first_name, first), *rest = answers.items()
    for name, answer in rest:
        assert answer == first, f"{name!r} differs from {first_name!r}"


# -- small schemas with awkward shapes -------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    name: str
    namespace: str | None
    root: str
    xsd: str
    sch: str
    record: Callable[[st.DrawFn, int], str]  # draws one record (or a stray element)
    open_tag: str  # the root start tag, without its ">"
    header: str = ""


def _schema(namespace: str | None, body: str) -> bytes:
    if namespace is None:
        return ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + body
                + "</xs:schema>").encode()
    return (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="{namespace}" '
            f'targetNamespace="{namespace}" elementFormDefault="qualified">{body}</xs:schema>').encode()


_CODE_TYPE = ('<xs:simpleType name="CodeType"><xs:restriction base="xs:string">'
              '<xs:pattern value="[A-Z]{2}[0-9]{2}"/></xs:restriction></xs:simpleType>')

# Values of a code: mostly valid, some spoiled -- one written like a Clark name, which a
# message cleaner must leave alone, one with a quote, one in CDATA.
_CODES = st.sampled_from(["AB12", "AB12", "CD34", "EF56", "GH78", "{urn:z}y", "it's", "ab12",
                          "<![CDATA[AB12]]>", "<![CDATA[<t:Entry>]]>", " AB12"])
_QTY = st.sampled_from(["1", "7", "42", "600", "0", "x9", " 3 "])


def _entry(prefix: str) -> Callable[[st.DrawFn, int], str]:
    def draw_entry(draw: st.DrawFn, i: int) -> str:
        p = prefix
        name = draw(st.sampled_from(["Entry", "Entry", "Entry", "Entry", "Label"]))  # a stray Label
        own = draw(st.sampled_from(["", "", ' xmlns:u="urn:egif:test:seq"']))
        q = "u:" if own else p
        parts = [f"<{q}Code>{draw(_CODES)}</{q}Code>", f"<{q}Qty>{draw(_QTY)}</{q}Qty>"]
        if draw(st.integers(0, 5)) == 0:
            parts.append(f"<{q}Extra/>")
        if draw(st.integers(0, 6)) == 0:
            parts.reverse()
        if name == "Label":
            return f"<{p}Label>late label {i}</{p}Label>"
        sep = draw(st.sampled_from(["", "\n    ", "\n\n    ", " "]))
        return f"<{q}Entry{own}>{sep}{sep.join(parts)}{sep}</{q}Entry>"
    return draw_entry


SEQ = Shape(
    "records through a repeated sequence", "urn:egif:test:seq", "t:Batch",
    _schema("urn:egif:test:seq", _CODE_TYPE + (
        '<xs:element name="Batch"><xs:complexType><xs:sequence>'
        '<xs:element name="Label" type="xs:string" minOccurs="0"/>'
        '<xs:sequence maxOccurs="unbounded"><xs:element ref="t:Entry"/></xs:sequence>'
        '</xs:sequence><xs:attribute name="count" type="xs:nonNegativeInteger"/>'
        '</xs:complexType></xs:element>'
        '<xs:element name="Entry"><xs:complexType><xs:sequence>'
        '<xs:element name="Code" type="t:CodeType"/><xs:element name="Qty" type="xs:positiveInteger"/>'
        '</xs:sequence></xs:complexType></xs:element>')).decode(),
    """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="t" uri="urn:egif:test:seq"/><sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern id="count"><sch:rule context="/t:Batch[@count]">
    <sch:assert id="SEQ-1" test="number(@count) = egif:record-count()">
      count says <sch:value-of select="@count"/>,
      the batch holds <sch:value-of select="egif:record-count()"/></sch:assert>
  </sch:rule></sch:pattern>
  <sch:pattern id="qty"><sch:rule context="t:Entry/t:Qty">
    <sch:assert id="SEQ-2" role="warning" test="not(number(.) &gt; 500)">
      a quantity of <sch:value-of select="."/> is unusually large</sch:assert>
  </sch:rule></sch:pattern>
  <sch:pattern id="unique-code"><sch:rule context="t:Entry">
    <sch:assert id="SEQ-3" test="not(egif:seen('code', normalize-space(t:Code)))">
      code <sch:value-of select="t:Code"/> was used by an earlier entry</sch:assert>
  </sch:rule></sch:pattern>
</sch:schema>""",
    _entry("t:"),
    # the document's prefix, and a second prefix bound to the same namespace
    '<t:Batch xmlns:t="urn:egif:test:seq" xmlns:v="urn:egif:test:seq"', header="<t:Label>first</t:Label>")


def _choice_record(draw: st.DrawFn, i: int) -> str:
    kind = draw(st.sampled_from(["Add", "Add", "Drop", "Other"]))
    code = draw(_CODES)
    if kind == "Add":
        name = draw(st.sampled_from(["short", "a name far too long", "n"]))
        return f"<Add><Code>{code}</Code><Name>{name}</Name></Add>"
    if kind == "Drop":
        return f"<Drop><Code>{code}</Code></Drop>"
    return "<Other/>"


CHOICE = Shape(
    "two record names through a repeated choice", "urn:egif:test:choice", "Changes",
    _schema("urn:egif:test:choice", _CODE_TYPE + (
        '<xs:element name="Changes"><xs:complexType>'
        '<xs:choice maxOccurs="unbounded"><xs:element ref="t:Add"/><xs:element ref="t:Drop"/></xs:choice>'
        '</xs:complexType></xs:element>'
        '<xs:element name="Add"><xs:complexType><xs:sequence><xs:element name="Code" type="t:CodeType"/>'
        '<xs:element name="Name"><xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="10"/>'
        '</xs:restriction></xs:simpleType></xs:element></xs:sequence></xs:complexType></xs:element>'
        '<xs:element name="Drop"><xs:complexType><xs:sequence><xs:element name="Code" type="t:CodeType"/>'
        '</xs:sequence></xs:complexType></xs:element>')).decode(),
    """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="t" uri="urn:egif:test:choice"/><sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern id="dropped-once"><sch:rule context="t:Drop">
    <sch:assert id="CH-1" test="not(egif:seen('drop', t:Code))">
      code <sch:value-of select="t:Code"/> is dropped twice</sch:assert>
  </sch:rule></sch:pattern>
  <sch:pattern id="name"><sch:rule context="t:Add/t:Name">
    <sch:report id="CH-2" role="info" test="string-length(.) = 1">one-letter name</sch:report>
  </sch:rule></sch:pattern>
</sch:schema>""",
    _choice_record, '<Changes xmlns="urn:egif:test:choice"')


def _leaf_record(draw: st.DrawFn, i: int) -> str:
    return f"<c:Code>{draw(_CODES)}</c:Code>"


LEAF = Shape(
    "records of simple type", "urn:egif:test:leaf", "c:Codes",
    _schema("urn:egif:test:leaf", _CODE_TYPE + (
        '<xs:element name="Codes"><xs:complexType><xs:sequence>'
        '<xs:element ref="t:Code" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>'
        '<xs:element name="Code" type="t:CodeType"/>')).decode(),
    """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="t" uri="urn:egif:test:leaf"/>
  <sch:pattern id="retired"><sch:rule context="t:Code">
    <sch:report id="LEAF-1" test=". = 'GH78'">code GH78 is retired</sch:report>
  </sch:rule></sch:pattern>
</sch:schema>""",
    _leaf_record, '<c:Codes xmlns:c="urn:egif:test:leaf"')


def _plain_record(draw: st.DrawFn, i: int) -> str:
    return _entry("")(draw, i).replace(' xmlns:u="urn:egif:test:seq"', "").replace("u:", "")


NONS = Shape(
    "records in no namespace", None, "Batch",
    _schema(None, _CODE_TYPE.replace('name="CodeType"', 'name="CodeType"') + (
        '<xs:element name="Batch"><xs:complexType><xs:sequence>'
        '<xs:element name="Label" type="xs:string" minOccurs="0"/>'
        '<xs:element ref="Entry" maxOccurs="unbounded"/>'
        '</xs:sequence><xs:attribute name="count" type="xs:nonNegativeInteger"/>'
        '</xs:complexType></xs:element>'
        '<xs:element name="Entry"><xs:complexType><xs:sequence>'
        '<xs:element name="Code" type="CodeType"/><xs:element name="Qty" type="xs:positiveInteger"/>'
        '</xs:sequence></xs:complexType></xs:element>')).decode(),
    """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern id="unique-code"><sch:rule context="Entry">
    <sch:assert id="NONS-1" test="not(egif:seen('code', normalize-space(Code)))">
      code <sch:value-of select="Code"/> was used before</sch:assert>
  </sch:rule></sch:pattern>
</sch:schema>""",
    _plain_record, "<Batch", header="<Label>first</Label>")

SHAPES = [SEQ, CHOICE, LEAF, NONS]

# What may stand between two records.
_BETWEEN = st.sampled_from([
    "\n  ", "\n  ", "\n  ", "", "\n\n\n  ", "\n  <!-- a comment -->\n  ",
    "\n  <!-- an old record: <t:Entry><t:Code>AB12</t:Code></t:Entry> <Entry> <Add> <c:Code> -->\n  ",
    "\n  <?egif-test a processing instruction?>\n  ", "<!---->",
])


@st.composite
def _document(draw: st.DrawFn, shape: Shape) -> bytes:
    count = draw(st.integers(0, 14))
    records = [shape.record(draw, i) for i in range(count)]
    between = [draw(_BETWEEN) for _ in range(count + 1)]
    open_tag = shape.open_tag
    if "Batch" in shape.root and draw(st.booleans()):
        open_tag += f' count="{draw(st.sampled_from([count, count + 1, 0]))}"'
    close = f"</{shape.root}>"
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if draw(st.booleans()):
        head += "<!-- generated by the invariance test -->\n"
    body = open_tag + ">" + (shape.header if draw(st.booleans()) else "")
    for i, rec in enumerate(records):
        body += between[i] + rec
    body += between[-1] + close + "\n"
    return (head + body).encode()


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_awkward_shapes_one_answer(shape: Shape, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory) -> None:
    doc = data.draw(_document(shape))
    resolved = ResolvedSchema({"s.xsd": shape.xsd.encode()}, "s.xsd")
    rules = load_rules([("s.sch", shape.sch.encode())])
    pieces = (data.draw(st.integers(16, 200)), data.draw(st.integers(200, 2000)))
    answers = _all_ways(resolved, rules, doc, tmp_path_factory.mktemp("inv"), pieces)
    _assert_one_answer(answers)


@pytest.mark.parametrize("kind,version", [("gazetteer", "1.0"), ("gazetteer", "1.1"), ("persons", "1.0")])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(1, 40), seed=st.integers(0, 10_000), rate=st.sampled_from([0.0, 0.1, 0.3]),
       piece=st.integers(200, 4000))
def test_shipped_collections_one_answer(registry: Registry, tmp_path_factory: pytest.TempPathFactory,
                                        kind: str, version: str, count: int, seed: int, rate: float,
                                        piece: int) -> None:
    buf = io.BytesIO()
    report = write_sample(kind, buf, count=count, seed=seed, invalid_rate=rate, version=version,
                          faults=("all",))
    answers = _all_ways((registry, report.schema), None, buf.getvalue(),
                        tmp_path_factory.mktemp("inv"), (piece,))
    _assert_one_answer(answers)
    assert next(iter(answers.values()))[1] == count


# -- the two bugs the review reproduced -------------------------------------------------------
def test_a_value_written_like_a_clark_name_is_kept_whatever_the_size(tmp_path: Path) -> None:
    resolved = ResolvedSchema({"s.xsd": SEQ.xsd.encode()}, "s.xsd")
    doc = (f'<t:Batch xmlns:t="{SEQ.namespace}">'
           + "".join(f"\n  <t:Entry><t:Code>{'{urn:z}y' if i == 3 else 'AB12'}</t:Code><t:Qty>1</t:Qty></t:Entry>"
                     for i in range(6)) + "\n</t:Batch>\n").encode()
    answers = _all_ways(resolved, None, doc, tmp_path, (64,))
    _assert_one_answer(answers)
    [finding] = [r for r in next(iter(answers.values()))[0]]
    assert "'{urn:z}y'" in finding[2], finding


def test_records_through_a_repeated_sequence_are_numbered_whatever_the_size(tmp_path: Path) -> None:
    resolved = ResolvedSchema({"s.xsd": SEQ.xsd.encode()}, "s.xsd")
    doc = (f'<t:Batch xmlns:t="{SEQ.namespace}">'
           + "".join(f"\n  <t:Entry><t:Code>AB12</t:Code><t:Qty>{0 if i == 2 else 1}</t:Qty></t:Entry>"
                     for i in range(5)) + "\n</t:Batch>\n").encode()
    answers = _all_ways(resolved, None, doc, tmp_path, (64,))
    _assert_one_answer(answers)
    rows, records = next(iter(answers.values()))
    assert records == 5 and [r[6] for r in rows] == [3]


