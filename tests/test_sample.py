"""The sample generators: valid by default, deterministic, faults exactly where reported."""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif import InputError, Registry
from egif.sample import (
    _TOWNS,
    FAULT_KINDS,
    NI_PREFIXES,
    SAMPLE_KINDS,
    fault_kinds,
    parse_size,
    random_postcode,
    write_sample,
)

BS = "{http://www.govtalk.gov.uk/people/bs7666}"
GZE = "{http://www.govtalk.gov.uk/exchange/GazetteerExtract}"
PDT = "{http://www.govtalk.gov.uk/people/PersonDescriptives}"
XSD = "{http://www.w3.org/2001/XMLSchema}"

# (kind, version) pairs the generator writes
TARGETS = [(k, v) for k, spec in sorted(SAMPLE_KINDS.items()) for v in spec.versions]


class Schemas:
    """Schemas compiled once for the module from a private copy of the seeded registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lxml: dict[str, etree.XMLSchema] = {}

    def lxml(self, ref: str) -> etree.XMLSchema:
        if ref not in self._lxml:
            self._lxml[ref] = self.registry.resolve(ref).lxml_schema()
        return self._lxml[ref]

    def pattern(self, ref: str, file_suffix: str, type_name: str) -> re.Pattern[str]:
        """The XSD pattern of a simple type, as a Python regex anchored at both ends."""
        files = self.registry.resolve(ref).files
        path = next(p for p in files if p.endswith(file_suffix))
        root = etree.fromstring(files[path])
        node = root.find(f"{XSD}simpleType[@name='{type_name}']/{XSD}restriction/{XSD}pattern")
        assert node is not None
        return re.compile(f"(?:{node.get('value')})\\Z")


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory, seeded_registry_file: Path) -> Iterator[Schemas]:
    path = tmp_path_factory.mktemp("sample") / "registry.sqlite"
    shutil.copyfile(seeded_registry_file, path)
    with Registry.open(path, actor="tester@example.org") as reg:
        yield Schemas(reg)


def generate(kind: str, **kw: Any) -> tuple[bytes, Any]:
    buf = io.BytesIO()
    report = write_sample(kind, buf, **kw)
    return buf.getvalue(), report


def xsd_error_lines(schema: etree.XMLSchema, data: bytes) -> set[int]:
    doc = etree.fromstring(data).getroottree()
    schema.validate(doc)
    log: Iterable[Any] = schema.error_log  # type: ignore[assignment]
    return {e.line for e in log}


# ---------------------------------------------------------------------------
# valid by default
# ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), seed=st.integers(0, 2**63), count=st.integers(1, 60))
def test_generated_documents_are_valid(schemas: Schemas, target: tuple[str, str], seed: int,
                                       count: int) -> None:
    kind, version = target
    data, report = generate(kind, count=count, seed=seed, version=version)
    assert report.records == count and report.invalid == ()
    assert report.bytes == len(data)
    assert report.lines == data.count(b"\n")
    schema = schemas.lxml(report.schema)
    doc = etree.fromstring(data).getroottree()
    assert schema.validate(doc), f"seed {seed}: {schema.error_log}"
    check_business_rules(doc, count)


def check_business_rules(doc: etree._ElementTree, count: int) -> None:
    """The rules Schematron checks later, restated in Python."""
    root = doc.getroot()
    if root.tag == f"{GZE}GazetteerExtract":
        records = root.findall(f"{GZE}AddressRecord")
        assert len(records) == count
        declared = root.findtext(f"{GZE}ExtractHeader/{GZE}RecordCount")
        assert declared is None or int(declared) == count  # GZE-R1
        preferred: set[str] = set()
        for rec in records:
            start, end = rec.findtext(f"{BS}StartDate"), rec.findtext(f"{BS}EndDate")
            if start and end:
                assert end >= start  # GZE-R2
            if rec.findtext(f"{BS}LogicalStatus") == "1":
                uprn = rec.findtext(f"{BS}UniquePropertyReferenceNumber")
                assert uprn not in preferred  # GZE-R3
                preferred.add(str(uprn))
            for end_range in rec.iter(f"{BS}EndRange"):
                start_range = end_range.getprevious()
                assert start_range is not None
                s = (int(start_range.findtext(f"{BS}Number") or 0), start_range.findtext(f"{BS}Suffix") or "")
                e = (int(end_range.findtext(f"{BS}Number") or 0), end_range.findtext(f"{BS}Suffix") or "")
                assert e > s  # BS7666-R1
    else:
        extract = date.fromisoformat(root.get("ExtractDate", ""))
        assert int(root.get("RecordCount", count)) == count
        assert extract < date.today()
        for birth in root.iter(f"{PDT}PersonBirthDate"):
            assert date.fromisoformat(birth.text or "") <= extract  # PDT-R1


@pytest.mark.parametrize(("kind", "version", "seed"), [
    ("gazetteer", "1.0", 11), ("gazetteer", "1.1", 12), ("persons", "1.0", 13)])
def test_xmlschema_agrees(schemas: Schemas, kind: str, version: str, seed: int) -> None:
    data, report = generate(kind, count=40, seed=seed, version=version)
    schema = schemas.registry.resolve(report.schema).xmlschema_schema()
    assert list(schema.iter_errors(io.BytesIO(data))) == []
    bad, bad_report = generate(kind, count=40, seed=seed, version=version, invalid_rate=0.2)
    assert bad_report.invalid
    assert not schema.is_valid(io.BytesIO(bad))


# ---------------------------------------------------------------------------
# faults: exactly where reported
# ---------------------------------------------------------------------------


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), seed=st.integers(0, 10**9),
       rate=st.floats(0.05, 1.0), count=st.integers(5, 120))
def test_schema_faults_fail_exactly_at_the_reported_lines(schemas: Schemas, target: tuple[str, str],
                                                           seed: int, rate: float, count: int) -> None:
    kind, version = target
    data, report = generate(kind, count=count, seed=seed, version=version, invalid_rate=rate)
    assert all(r.layer == "xsd" for r in report.invalid)
    lines = data.decode().splitlines()
    for r in report.invalid:
        assert f"<{SAMPLE_KINDS[kind].record_element}" in lines[r.record_line - 1].split(":")[-1] \
            or SAMPLE_KINDS[kind].record_element in lines[r.record_line - 1]
        assert r.element in lines[r.line - 1], (r, lines[r.line - 1])
    assert [r.record for r in report.invalid] == sorted({r.record for r in report.invalid})
    assert xsd_error_lines(schemas.lxml(report.schema), data) == {r.line for r in report.invalid}


def test_every_fault_kind_is_located(schemas: Schemas) -> None:
    """Each kind alone, at rate 1: schema kinds fail at their lines, rule kinds pass the schema."""
    for fault in FAULT_KINDS:
        data, report = generate(fault.sample, count=25, seed=3, invalid_rate=1.0, faults=[fault.id])
        assert report.invalid, fault.id
        assert {r.kind for r in report.invalid} == {fault.id}
        expected = {r.line for r in report.invalid} if fault.layer == "xsd" else set()
        assert xsd_error_lines(schemas.lxml(report.schema), data) == expected, fault.id


def test_rule_faults_are_found_by_the_validator(schemas: Schemas, tmp_path: Path) -> None:
    validate = pytest.importorskip("egif.validate")
    for kind in SAMPLE_KINDS:
        data, report = generate(kind, count=300, seed=21, invalid_rate=0.1, faults=["all"])
        assert {r.layer for r in report.invalid} == {"xsd", "rules"}
        path = tmp_path / f"{kind}.xml"
        path.write_bytes(data)
        result = validate.Validator.for_version(schemas.registry, report.schema).check(path)
        found = {(f.record, f.line) for f in result.errors}
        assert found == {(r.record, r.line) for r in report.invalid}
        rules = {f.rule for f in result.errors if not f.rule.startswith("xsd")}
        assert rules == {r.rule for r in report.invalid if r.layer == "rules"}


@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from(sorted(SAMPLE_KINDS)), seed=st.integers(0, 10**6),
       rates=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)))
def test_faulty_records_nest_and_the_rest_is_unchanged(kind: str, seed: int,
                                                       rates: tuple[float, float]) -> None:
    low, high = sorted(rates)
    a_data, a = generate(kind, count=80, seed=seed, invalid_rate=low)
    b_data, b = generate(kind, count=80, seed=seed, invalid_rate=high)
    bad_a, bad_b = {r.record for r in a.invalid}, {r.record for r in b.invalid}
    assert bad_a <= bad_b
    tag = SAMPLE_KINDS[kind].record_element
    recs_a, recs_b = split_records(a_data, tag), split_records(b_data, tag)
    assert len(recs_a) == len(recs_b) == 80
    for i, (ra, rb) in enumerate(zip(recs_a, recs_b, strict=True), start=1):
        if i not in bad_b:
            assert ra == rb


def split_records(data: bytes, tag: str) -> list[bytes]:
    return re.findall(rb"<(?:\w+:)?" + tag.encode() + rb">.*?</(?:\w+:)?" + tag.encode() + rb">",
                      data, re.S)


# ---------------------------------------------------------------------------
# determinism
# ---------------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(kind=st.sampled_from(sorted(SAMPLE_KINDS)), seed=st.integers(0, 2**40),
       rate=st.sampled_from([0.0, 0.1, 0.5]))
def test_equal_seeds_give_equal_bytes_and_different_seeds_differ(kind: str, seed: int, rate: float) -> None:
    one, r1 = generate(kind, count=30, seed=seed, invalid_rate=rate)
    two, r2 = generate(kind, count=30, seed=seed, invalid_rate=rate)
    assert one == two and r1 == r2
    other, _ = generate(kind, count=30, seed=seed + 1, invalid_rate=rate)
    assert other != one


def test_output_does_not_depend_on_the_process(tmp_path: Path) -> None:
    """Byte-identical in fresh interpreters with different hash seeds."""
    code = ("import hashlib, io; from egif.sample import SAMPLE_KINDS, write_sample\n"
            "for kind in sorted(SAMPLE_KINDS):\n"
            "    b = io.BytesIO(); write_sample(kind, b, count=500, seed=42, invalid_rate=0.05)\n"
            "    print(hashlib.sha256(b.getvalue()).hexdigest())")
    here = []
    for kind in sorted(SAMPLE_KINDS):
        buf = io.BytesIO()
        write_sample(kind, buf, count=500, seed=42, invalid_rate=0.05)
        here.append(hashlib.sha256(buf.getvalue()).hexdigest())
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "TZ": "Pacific/Auckland", "LC_ALL": "C"}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, check=True, timeout=60)
        assert out.stdout.split() == here


# ---------------------------------------------------------------------------
# size, streaming, memory
# ---------------------------------------------------------------------------


def test_size_target(schemas: Schemas) -> None:
    data, report = generate("gazetteer", size=200_000, seed=5)
    assert 200_000 <= len(data) < 200_000 + 3_000
    assert b"<RecordCount>" not in data
    assert schemas.lxml(report.schema).validate(etree.fromstring(data).getroottree())
    pdata, preport = generate("persons", size=50_000, seed=5)
    assert len(pdata) >= 50_000 and b"RecordCount=" not in pdata
    assert schemas.lxml(preport.schema).validate(etree.fromstring(pdata).getroottree())


class CountingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.total = 0
        self.largest = 0
        self.calls = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        n = len(b)
        self.total += n
        self.largest = max(self.largest, n)
        self.calls += 1
        return n


def test_output_is_streamed_in_bounded_chunks() -> None:
    sink = CountingSink()
    report = write_sample("gazetteer", sink, count=20_000, seed=9)  # type: ignore[arg-type]
    assert sink.total == report.bytes > 10_000_000
    assert sink.calls > 20
    assert sink.largest < 1 << 19


MEMORY_PROBE = """
import resource, sys
from egif.sample import write_sample
with open("/dev/null", "wb") as out:
    write_sample("gazetteer", out, count=2_000, seed=1)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    write_sample("gazetteer", out, count=int(sys.argv[1]), seed=1, invalid_rate=0.0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(base, peak)
"""


def test_memory_stays_flat_for_large_outputs() -> None:
    """100,000 records (about 80 MB) to /dev/null: peak RSS grows by a few MB at most."""
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, "100000"], capture_output=True, text=True,
                         check=True, timeout=120)
    base, peak = (int(x) for x in out.stdout.split())
    assert peak - base < 16 * 1024, f"RSS grew by {(peak - base) // 1024} MB"  # ru_maxrss is in kB


# ---------------------------------------------------------------------------
# the realistic parts
# ---------------------------------------------------------------------------


def outward_shape(code: str) -> str:
    return "".join("A" if c.isalpha() else "N" for c in code.split()[0])


def test_towns_cover_every_outward_shape(schemas: Schemas) -> None:
    pattern = schemas.pattern("BS7666@2.0", "BS7666-v2-0.xsd", "PostCodeType")
    shapes = set()
    for town, post_town, admin, outwards, localities in _TOWNS:
        assert max(len(town), len(post_town), len(admin)) <= 30
        assert all(len(x) <= 35 for x in localities)
        for outward in outwards:
            assert pattern.match(f"{outward} 1AB"), outward
            shapes.add(outward_shape(outward))
    assert shapes == {"AN", "ANN", "AAN", "AANN", "ANA", "AANA"}


@given(seed=st.integers(0, 2**32))
def test_random_postcodes_are_valid(seed: int) -> None:
    import random

    rng = random.Random(seed)
    code = random_postcode(rng)
    assert len(code) <= 8
    assert POSTCODE.match(code), code
    assert not set(code.split()[1][1:]) & set("CIKMOV")


# The postcode rule restated from the fact sheet, independently of the schema.
POSTCODE = re.compile(r"[A-PR-UWYZ]([0-9]{1,2}|[0-9][A-HJKSTUW]|[A-HK-Y][0-9]([0-9]|[ABEHMNPRVWXY])?) "
                      r"[0-9][ABD-HJLNP-UW-Z]{2}\Z")


def test_random_postcodes_reach_every_shape() -> None:
    import random

    rng = random.Random(0)
    assert {outward_shape(random_postcode(rng)) for _ in range(500)} == {
        "AN", "ANN", "AAN", "AANN", "ANA", "AANA"}


def test_gir_0aa_appears_in_large_extracts() -> None:
    data, _ = generate("gazetteer", count=20_000, seed=1)
    assert b"<bs7666:PostCode>GIR 0AA</bs7666:PostCode>" in data


def test_ni_prefixes_follow_the_gdsc_rules(schemas: Schemas) -> None:
    pattern = schemas.pattern("AddressAndPersonalDetails@2.0", "CitizenIdentificationTypes-v2-0.xsd",
                              "NationalInsuranceNumberType")
    refused = {"GB", "BG", "NK", "KN", "TN", "NT", "ZZ"}
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for a in letters:
        for b in letters:
            ok = a not in "DFIQUV" and b not in "DFIOQUV" and a + b not in refused
            assert (a + b in NI_PREFIXES) == ok
            assert bool(pattern.match(f"{a}{b}123456C")) == ok, a + b


def test_generated_content_varies() -> None:
    data, _ = generate("gazetteer", count=3_000, seed=4)
    text = data.decode()
    for needle in ("<bs7666:SAON>", "<bs7666:EndRange>", "<bs7666:Suffix>", "<bs7666:Description>",
                   "<bs7666:Locality>", "<bs7666:AdministrativeArea>", "<bs7666:PostTown>",
                   "<bs7666:UniqueStreetReferenceNumber>", "<bs7666:EndDate>",
                   "<bs7666:LogicalStatus>2<", "<bs7666:LogicalStatus>8<"):
        assert needle in text, needle
    shapes = {outward_shape(m) for m in re.findall(r"<bs7666:PostCode>([^<]+)<", text) if m != "GIR 0AA"}
    assert shapes == {"AN", "ANN", "AAN", "AANN", "ANA", "AANA"}
    people, _ = generate("persons", count=2_000, seed=4)
    ptext = people.decode()
    for needle in ("<pdt:PersonNameTitle>", "<pdt:VerificationLevel>", "<apd:TelCountryCode>",
                   "<apd:EmailAddress>", "<apd:NationalInsuranceNumber>", "<bs7666:PostCode>"):
        assert needle in ptext, needle
    assert re.search(r"<pdt:PersonGivenName>[^<]*[^\x00-\x7f]", ptext), "some non-ASCII names"


# ---------------------------------------------------------------------------
# bad arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"count": 0}, "at least 1"),
    ({"count": 3, "size": 100}, "not both"),
    ({}, "either"),
    ({"count": 3, "seed": -1}, "seed"),
    ({"count": 3, "invalid_rate": 1.5}, "between 0 and 1"),
    ({"count": 3, "version": "9.9"}, "no version"),
    ({"count": 3, "faults": ["ni-prefix-gb"]}, "unknown fault kind"),
    ({"count": 3, "faults": []}, "no fault kinds"),
])
def test_bad_arguments_raise_input_error_and_write_nothing(kwargs: dict[str, Any], message: str) -> None:
    buf = io.BytesIO()
    with pytest.raises(InputError, match=message):
        write_sample("gazetteer", buf, **kwargs)
    assert buf.getvalue() == b""


def test_unknown_kind() -> None:
    with pytest.raises(InputError, match="unknown sample kind"):
        write_sample("cats", io.BytesIO(), count=1)


@pytest.mark.parametrize(("text", "size"), [
    ("100MB", 100_000_000), ("64MiB", 64 * 2**20), ("1.5GB", 1_500_000_000), ("500k", 500_000),
    ("1234", 1234), ("2 kB", 2000)])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "MB", "1x", "-5MB", "0"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(InputError):
        parse_size(text)


def test_fault_kind_table() -> None:
    for kind in SAMPLE_KINDS:
        kinds = fault_kinds(kind)
        assert {f.layer for f in kinds} == {"xsd", "rules"}
        assert all(f.rule for f in kinds if f.layer == "rules")
    assert len({f.id for f in FAULT_KINDS}) == len(FAULT_KINDS)
