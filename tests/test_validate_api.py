"""The Python validator API: entry points, sources, detection, lifecycle, rules, streaming."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egif import DocumentInvalid, InputError, NotFound, Registry, Severity
from egif.shipped import fixtures_dir
from egif.validate import RuleSet, Session, Validator, load_rules
from egif.validate.core.detect import root_info
from egif.validate.schematron.evaluator import REST, program
from egif.validate.schematron.state import DocumentBook
from egif.validate.xsd import rule_of
from egif.xmlsafe import parse_bytes

FX = fixtures_dir()
GOOD = FX / "bs7666/2.0/valid/full-address.xml"
BAD_POSTCODE = FX / "bs7666/2.0/invalid/postcode-inward-c.xml"
GAZ_VALID = FX / "gazetteer/1.0/valid/three-records.xml"


def test_three_entry_points(registry: Registry) -> None:
    v = Validator.for_version(registry, "BS7666@2.0")
    assert v.is_valid(GOOD)
    assert not v.is_valid(BAD_POSTCODE)
    assert v.validate(GOOD).valid
    with pytest.raises(DocumentInvalid) as info:
        v.validate(BAD_POSTCODE)
    assert info.value.exit_code == 1
    findings = info.value.findings  # type: ignore[attr-defined]
    assert findings[0].line == 12 and findings[0].rule == "xsd:cvc-pattern-valid"
    assert findings[0].path == "/BS7666Address/PostCode"
    assert str(BAD_POSTCODE) in str(info.value)


def test_iter_errors_is_lazy(registry: Registry, tmp_path: Path) -> None:
    v = Validator.for_version(registry, "BS7666@2.0")
    gen = v.iter_errors(tmp_path / "missing.xml")  # nothing happens until iterated
    with pytest.raises(InputError, match="no such file"):
        next(gen)


def test_sources_path_bytes_fileobj(registry: Registry) -> None:
    v = Validator.for_version(registry, "BS7666@2.0")
    data = BAD_POSTCODE.read_bytes()
    by_path = [(f.line, f.rule) for f in v.iter_errors(BAD_POSTCODE)]
    by_bytes = [(f.line, f.rule) for f in v.iter_errors(data)]
    by_file = [(f.line, f.rule) for f in v.iter_errors(io.BytesIO(data))]
    assert by_path == by_bytes == by_file and by_path


def test_registry_free_validator(registry: Registry) -> None:
    resolved = registry.resolve("BS7666@2.0")
    v = Validator.for_schema(resolved)
    assert not v.rules
    assert v.is_valid(FX / "bs7666/2.0/invalid/range-end-below-start.xml")  # no rules: XSD only
    with_rules = Validator.for_schema(resolved, rules=load_rules(
        [("r", registry.attachments("BS7666@2.0", "schematron")["bs7666-2-0.sch"])]))
    assert not with_rules.is_valid(FX / "bs7666/2.0/invalid/range-end-below-start.xml")


def test_record_index_in_collections(registry: Registry) -> None:
    v = Validator.for_version(registry, "GazetteerExtract@1.0")
    errors = list(v.iter_errors(FX / "gazetteer/1.0/invalid/last-record-logical-status-4.xml"))
    assert [e.record for e in errors] == [4]
    assert errors[0].path is not None and errors[0].path.startswith("/GazetteerExtract/AddressRecord[4]/")


def test_max_errors(registry: Registry) -> None:
    doc = FX / "personlist/1.0/invalid/two-bad-records.xml"
    assert len(list(Validator.for_version(registry, "PersonRecordList@1.0").iter_errors(doc))) == 2
    assert len(list(Validator.for_version(registry, "PersonRecordList@1.0", max_errors=1).iter_errors(doc))) == 1


def test_deprecated_warns_withdrawn_refused(registry: Registry) -> None:
    v = Validator.for_version(registry, "BS7666@1.0")
    result = v.check(FX / "bs7666/1.0/valid/" / sorted(p.name for p in (FX / "bs7666/1.0/valid").iterdir())[0])
    assert result.valid and [w.rule for w in result.warnings] == ["lifecycle:deprecated"]
    row = registry.store.find_version("BS7666", "1.0")
    assert row is not None
    with registry.store.transaction():
        registry.store.set_status(row["id"], "withdrawn")
    with pytest.raises(InputError, match="withdrawn"):
        Validator.for_version(registry, "BS7666@1.0")
    assert Validator.for_version(registry, "BS7666@1.0", allow_withdrawn=True).lifecycle


def test_detection_rule(registry: Registry) -> None:
    session = Session(registry)
    # version attribute names 1.0 although 1.1 is newer
    assert session.check(FX / "gazetteer/1.1/valid/claims-version-1-0.xml").schema == "GazetteerExtract@1.0"
    # root only declared by the older version (apd 1.0 CitizenDetails)
    assert session.check(FX / "apd/1.0/valid/citizen-details-full.xml").schema == \
        "AddressAndPersonalDetails@1.0"
    # no version attribute: newest ratified
    assert session.check(GOOD).schema == "BS7666@2.0"
    # --status picks the newest in that status
    assert Session(registry, status="candidate").check(GAZ_VALID).schema == "GazetteerExtract@1.1"
    with pytest.raises(NotFound, match="no registered schema"):
        session.check(b'<x xmlns="urn:unknown"/>')


def test_matrix(registry: Registry) -> None:
    standard, verdicts = Session(registry).matrix(FX / "gazetteer/1.1/valid/record-with-grid-reference.xml")
    assert standard == "GazetteerExtract"
    assert verdicts == {"GazetteerExtract@1.0": False, "GazetteerExtract@1.1": True}


def test_check_many_reuses_schema_and_survives_bad_files(registry: Registry, tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text('<BS7666Address xmlns="http://www.govtalk.gov.uk/people/bs7666">')
    v = Validator.for_version(registry, "BS7666@2.0")
    results = list(v.check_many([GOOD, broken, tmp_path, BAD_POSTCODE]))
    assert [r.valid for r in results] == [True, False, False, False]
    assert results[1].findings[0].rule == "xml:syntax"
    assert results[2].findings[0].rule == "xml:input" and "directory" in results[2].findings[0].message


def test_today_is_injectable(registry: Registry) -> None:
    doc = FX / "pdt/1.0/invalid/birth-date-in-future.xml"
    assert not Validator.for_version(registry, "PersonDescriptiveTypes@1.0").is_valid(doc)
    far = dt.date(2200, 1, 1)
    assert Validator.for_version(registry, "PersonDescriptiveTypes@1.0", today=far).is_valid(doc)


def test_xsd_rule_names() -> None:
    assert rule_of("SCHEMAV_CVC_COMPLEX_TYPE_2_4") == "xsd:cvc-complex-type.2.4"
    assert rule_of("SCHEMAV_CVC_PATTERN_VALID") == "xsd:cvc-pattern-valid"


def test_unsupported_schematron_refused() -> None:
    sch = b"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
      <sch:pattern><sch:rule context="a"><sch:assert test="1">x</sch:assert></sch:rule></sch:pattern>
    </sch:schema>"""
    with pytest.raises(InputError, match="queryBinding"):
        load_rules([("bad.sch", sch)])
    include = b"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
      <sch:include href="other.sch"/></sch:schema>"""
    with pytest.raises(InputError, match="unsupported"):
        load_rules([("inc.sch", include)])


def test_rules_may_not_use_exslt_regular_expressions() -> None:
    """EXSLT's re:test runs on Python's regular expressions, where a pattern of a published
    rule could stall every validation for hours: refused when the rules are read."""
    sch = b"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
      <sch:ns prefix="re" uri="http://exslt.org/regular-expressions"/>
      <sch:pattern><sch:rule context="a"><sch:assert test="re:test(., '^(a+)+$')">x</sch:assert></sch:rule>
      </sch:pattern></sch:schema>"""
    with pytest.raises(InputError, match="EXSLT's regular expressions"):
        load_rules([("redos.sch", sch)])


def _rule_doc(start: tuple[int, str], end: tuple[int, str]) -> bytes:
    def rng(tag: str, n: int, s: str) -> str:
        return f"<{tag}><Number>{n}</Number>" + (f"<Suffix>{s}</Suffix>" if s else "") + f"</{tag}>"
    return (f'<BS7666Address xmlns="http://www.govtalk.gov.uk/people/bs7666"><PAON>'
            f"{rng('StartRange', *start)}{rng('EndRange', *end)}</PAON>"
            "<StreetDescription>High Street</StreetDescription><Town>Exeter</Town>"
            "</BS7666Address>").encode()


_point = st.tuples(st.integers(1, 9999), st.sampled_from(["", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"]))


@settings(max_examples=60, deadline=None)
@given(start=_point, end=_point)
def test_range_rule_matches_its_statement(seeded_registry_file: Path, start: tuple[int, str],
                                          end: tuple[int, str]) -> None:
    """BS7666-R1: valid exactly when (end number, end suffix) sorts after the start."""
    with Registry.open(seeded_registry_file, actor="t") as reg:
        v = _cached_validator(reg)
        rules = {f.rule for f in v.iter_errors(_rule_doc(start, end))}
    assert ("BS7666-R1" not in rules) == (end > start)


_VALIDATORS: dict[str, Validator] = {}


def _cached_validator(reg: Registry) -> Validator:
    if "bs" not in _VALIDATORS:
        _VALIDATORS["bs"] = Validator.for_version(reg, "BS7666@2.0")
    return _VALIDATORS["bs"]


def _nhs_ok(n: str) -> bool:
    total = sum(int(d) * w for d, w in zip(n[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(n[9])


@settings(max_examples=80, deadline=None)
@given(st.from_regex(re.compile(r"[0-9]{10}"), fullmatch=True))
def test_nhs_check_digit_rule(seeded_registry_file: Path, number: str) -> None:
    with Registry.open(seeded_registry_file, actor="t") as reg:
        sch = reg.attachments("AddressAndPersonalDetails@2.0", "schematron")["apd-2-0.sch"]
    rules: RuleSet = load_rules([("apd", sch)])
    doc = parse_bytes(
        f'<apd:PersonIdentifiers xmlns:apd="http://www.govtalk.gov.uk/people/AddressAndPersonalDetails">'
        f"<apd:NHSnumber>{number}</apd:NHSnumber></apd:PersonIdentifiers>".encode(), "t")
    root = doc.getroot()
    found = program(rules, str(root.tag), REST).run(root, DocumentBook(), today="2026-01-01")
    assert (not found) == _nhs_ok(number)


def _big_gazetteer(path: Path, records: int) -> None:
    """A gazetteer extract with faults in a few records (XSD and rules)."""
    template = GAZ_VALID.read_text(encoding="utf-8")
    root = parse_bytes(template.encode(), "t").getroot()
    rec = next(c for c in root if etree.QName(c).localname == "AddressRecord")
    head, _, _ = template.partition("<AddressRecord>")
    body = etree.tostring(rec, encoding="unicode")
    body = re.sub(r' xmlns(:\w+)?="[^"]*"', "", body)
    parts = [head.replace("<RecordCount>3</RecordCount>", f"<RecordCount>{records}</RecordCount>")]
    for i in range(1, records + 1):
        uprn = 100000000 + i
        text = re.sub(r"(UniquePropertyReferenceNumber>)\d+(<)", rf"\g<1>{uprn}\2", body, count=1)
        if i % 97 == 0:
            text = text.replace("<bs7666:LogicalStatus>1<", "<bs7666:LogicalStatus>4<")
        if i % 131 == 0:
            text = re.sub(r"(UniquePropertyReferenceNumber>)\d+(<)", rf"\g<1>{uprn - 1}\2", text, count=1)
        parts.append(text + "\n")
    parts.append("</GazetteerExtract>\n")
    path.write_text("".join(parts), encoding="utf-8")


def test_streamed_collection_equals_whole_document(registry: Registry, tmp_path: Path) -> None:
    """Same findings (line, rule, record) whether a collection is streamed or read whole."""
    path = tmp_path / "extract.xml"
    _big_gazetteer(path, 600)
    whole = Validator.for_version(registry, "GazetteerExtract@1.0")
    streamed = Validator.for_version(registry, "GazetteerExtract@1.0", jobs=1, piece_bytes=4096)
    a = sorted((f.line, f.rule, f.record) for f in whole.iter_errors(path))
    b = sorted((f.line, f.rule, f.record) for f in streamed.iter_errors(path))
    assert a and any(r == "GZE-R3" for _l, r, _n in a)
    assert a == b
    assert all(f.severity == Severity.ERROR for f in streamed.iter_errors(path))


def test_root_info() -> None:
    tree = parse_bytes(GAZ_VALID.read_bytes(), "g")
    info = root_info(tree.getroot())
    assert info.local == "GazetteerExtract" and info.version == "1.0"
