"""The one-parse answer for small documents only saves work: it never changes an answer.

A small document in memory is first validated on one lean parse, and its rules are
asked only "does anything fire?".  When nothing is found, that is the answer; anything
else takes the full path (where a small document's rules leave out the patterns naming
an element its bytes do not hold).  So for every document, ``check`` and ``check_many`` must
give, field by field, what the full path alone gives.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif import Registry
from egif.resolve import ResolvedSchema
from egif.sample import write_sample
from egif.validate import DocumentResult, Validator, load_rules
from egif.validate.schematron.evaluator import REST, program
from egif.validate.schematron.state import RangeBook

Row = tuple[str, str, str, int | None, int | None, str | None, int | None]


def _rows(result: DocumentResult) -> tuple[list[Row], int | None, bool]:
    return ([(f.rule, f.severity.value, f.message, f.line, f.column, f.path, f.record)
             for f in result.findings], result.records, result.truncated)


def _full_path_only(v: Validator, monkeypatch: pytest.MonkeyPatch) -> Validator:
    """*v* with the one-parse answer turned off: every document takes the full path."""
    monkeypatch.setattr(v, "_clean", lambda *_args: False)
    return v


def _message(kind: str, version: str, seed: int, count: int, rate: float) -> bytes:
    out = io.BytesIO()
    write_sample(kind, out, count=count, seed=seed, invalid_rate=rate, version=version, faults=("all",))
    return out.getvalue()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind_version=st.sampled_from([("gazetteer", "GazetteerExtract@1.0"), ("gazetteer", "GazetteerExtract@1.1"),
                                     ("persons", "PersonRecordList@1.0")]),
       seeds=st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
       count=st.integers(1, 5), rate=st.sampled_from([0.0, 0.05, 0.3, 1.0]))
def test_check_many_equals_the_full_path_document_by_document(
        registry: Registry, monkeypatch: pytest.MonkeyPatch, kind_version: tuple[str, str], seeds: list[int],
        count: int, rate: float) -> None:
    kind, ref = kind_version
    docs = [_message(kind, ref.partition("@")[2], seed, count, rate) for seed in seeds]
    fast = Validator.for_version(registry, ref)
    full = _full_path_only(Validator.for_version(registry, ref), monkeypatch)
    expected = [_rows(full.check(d, label=f"m{i}.xml")) for i, d in enumerate(docs)]
    assert [_rows(fast.check(d, label=f"m{i}.xml")) for i, d in enumerate(docs)] == expected
    assert [_rows(r) for r in fast.check_many(docs)] == expected


def test_check_many_over_files_equals_the_full_path(registry: Registry, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    paths = []
    for i in range(60):
        p = tmp_path / f"message-{i:02d}.xml"
        p.write_bytes(_message("gazetteer", "1.0", i, 3, 0.1))
        paths.append(p)
    # one process, so that the spy hears every document (tests/test_validate_ahead.py
    # checks that the workers' answers are the same)
    fast = Validator.for_version(registry, "GazetteerExtract@1.0", jobs=1)
    answers: list[bool] = []
    one_parse = fast._clean

    def spy(*args: object) -> bool:
        answers.append(one_parse(*args))  # type: ignore[arg-type]
        return answers[-1]

    monkeypatch.setattr(fast, "_clean", spy)
    full = _full_path_only(Validator.for_version(registry, "GazetteerExtract@1.0"), monkeypatch)
    got = [_rows(r) for r in fast.check_many(paths)]
    assert got == [_rows(full.check(p)) for p in paths]
    # most documents were answered on one parse, the others took the full path
    assert answers.count(True) > 30 and answers.count(False) >= 3
    found = [row[0] for rows, _n, _t in got for row in rows]
    # faults of both layers were planted, and found
    assert any(r.startswith("xsd:") for r in found) and any(r.startswith("GZE-") for r in found), found


# -- patterns left out by the element names in the bytes ---------------------------------------
NS = "urn:egif:test:fast"
_XSD = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{NS}" xmlns="{NS}"
  elementFormDefault="qualified">
  <xs:element name="Liste"><xs:complexType><xs:sequence>
    <xs:element name="Kopf" type="xs:string"/>
    <xs:element name="Eintrag" maxOccurs="unbounded"><xs:complexType><xs:sequence>
      <xs:element name="Straße" type="xs:string" minOccurs="0"/>
      <xs:element name="Von" type="xs:int" minOccurs="0"/>
      <xs:element name="Bis" type="xs:int" minOccurs="0"/>
    </xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""
_RULES = f"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="f" uri="{NS}"/>
  <sch:pattern><sch:rule context="f:Straße">
    <sch:assert id="F-1" test="string-length(.) &gt; 2">street name too short</sch:assert>
  </sch:rule></sch:pattern>
  <sch:pattern><sch:rule context="f:Bis[../f:Von]">
    <sch:assert id="F-2" test="number(.) &gt;= number(../f:Von)">range ends before it starts</sch:assert>
  </sch:rule></sch:pattern>
  <sch:pattern><sch:rule context="f:Kopf">
    <sch:report id="F-3" test=". = 'leer'">empty header</sch:report>
  </sch:rule></sch:pattern>
</sch:schema>"""


def _doc(records: str, header: str = "Kopf", encoding: str = "UTF-8") -> bytes:
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n<Liste xmlns="{NS}">\n  <Kopf>{header}</Kopf>\n'
            f"{records}</Liste>\n")
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1"])
@pytest.mark.parametrize(("records", "rules"), [
    ("  <Eintrag><Von>3</Von><Bis>4</Bis></Eintrag>\n", []),
    ("  <Eintrag><Von>5</Von><Bis>4</Bis></Eintrag>\n", ["F-2"]),
    ("  <Eintrag><Straße>Ab</Straße></Eintrag>\n", ["F-1"]),
    ("  <Eintrag><Straße>Abbey</Straße></Eintrag>\n  <Eintrag><Bis>1</Bis></Eintrag>\n", []),
    ("  <Eintrag/>\n", []),
])
def test_rules_of_elements_present_or_not_answer_as_the_full_path(
        monkeypatch: pytest.MonkeyPatch, encoding: str, records: str, rules: list[str]) -> None:
    """A rule on an element with a non-ASCII name still runs in a Latin-1 document, whose
    bytes hold that name in another form than UTF-8."""
    schema = ResolvedSchema({"f.xsd": _XSD.encode()}, "f.xsd")
    ruleset = load_rules([("f.sch", _RULES.encode())])
    fast = Validator.for_schema(schema, rules=ruleset)
    full = _full_path_only(Validator.for_schema(schema, rules=load_rules([("f.sch", _RULES.encode())])),
                           monkeypatch)
    data = _doc(records, encoding=encoding)
    got = fast.check(data)
    assert _rows(got) == _rows(full.check(data))
    assert [f.rule for f in got.findings] == rules


def test_run_with_the_bytes_answers_as_without() -> None:
    schema_rules = load_rules([("f.sch", _RULES.encode())])

    for header in ("Kopf", "leer"):
        for records in ("", "<Eintrag><Von>2</Von><Bis>1</Bis></Eintrag>", "<Eintrag><Straße>X</Straße></Eintrag>"):
            data = _doc(records, header=header, encoding="ISO-8859-1")
            root = etree.fromstring(data)
            p = program(schema_rules, f"{{{NS}}}Liste", REST)
            expected = [(f.check.rule_id, f.node.sourceline) for f in p.run(root, RangeBook(), today="2026-01-01")]
            got = p.run(root, RangeBook(), today="2026-01-01", data=data)  # patterns left out by the bytes
            assert [(f.check.rule_id, f.node.sourceline) for f in got] == expected
            assert p.any_fires(root, RangeBook(), today="2026-01-01") is bool(expected)
