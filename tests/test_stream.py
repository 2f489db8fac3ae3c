"""The streaming big-export engine: verdicts, lines, paths, fallbacks, hostile input."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif import Registry
from egif.errors import InputError, UnsafeInputError
from egif.model import Finding
from egif.resolve import ResolvedSchema
from egif.sample import write_sample
from egif.validate import Progress, Validator
from egif.validate.stream.layout import _root_end, collection_layout

REPO = Path(__file__).resolve().parent.parent
GZE = "http://www.govtalk.gov.uk/exchange/GazetteerExtract"
PRL = "http://www.govtalk.gov.uk/exchange/PersonRecordList"
GZE_ROOT = f"{{{GZE}}}GazetteerExtract"
PRL_ROOT = f"{{{PRL}}}PersonRecordList"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gazetteer_gen", REPO / "benchmarks" / "gazetteer_gen.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gazetteer_gen"] = module
    spec.loader.exec_module(module)
    return module


gen = _generator()


def validate_collection(rs: ResolvedSchema, path: Path, *, jobs: int = 1, chunk_bytes: int = 128 * 1024,
                        max_errors: int | None = None, progress: object = None,
                        label: str | None = None) -> list[Finding]:
    """The engine's findings through the public validator (XSD only)."""
    v = Validator.for_schema(rs, jobs=jobs, piece_bytes=chunk_bytes, max_errors=max_errors,
                             progress=progress)  # type: ignore[arg-type]
    return list(v.iter_findings(path, label=label))


def _fixture_files(folder: str) -> list[Path]:
    return sorted((REPO / "fixtures" / folder).glob("*/*.xml"))


@pytest.fixture
def gazetteer(registry: Registry):  # type: ignore[no-untyped-def]
    rs = registry.resolve("GazetteerExtract@1.0")
    assert collection_layout(rs.files, GZE_ROOT) is not None
    return rs


def test_layout_of_shipped_collections(registry: Registry) -> None:
    rs = registry.resolve("GazetteerExtract@1.0")
    layout = collection_layout(rs.files, GZE_ROOT)
    assert layout is not None and layout.records == frozenset({f"{{{GZE}}}AddressRecord"})
    assert layout.single == frozenset({f"{{{GZE}}}ExtractHeader"})
    # a record element is not itself a collection
    assert collection_layout(rs.files, f"{{{GZE}}}AddressRecord") is None
    prl = registry.resolve("PersonRecordList@1.0")
    layout = collection_layout(prl.files, PRL_ROOT)
    assert layout is not None and layout.records == frozenset({f"{{{PRL}}}PersonRecord"})
    # e-GMS fields repeat, each on its own: a metadata record is no collection of them
    egms = registry.resolve("eGMS@3.1")
    assert collection_layout(egms.files, "{http://www.govtalk.gov.uk/metadata/egms}Metadata") is None


@pytest.mark.parametrize("ref,root,folder", [
    ("GazetteerExtract@1.0", GZE_ROOT, "gazetteer/1.0"),
    ("PersonRecordList@1.0", PRL_ROOT, "personlist/1.0"),
])
def test_verdicts_equal_whole_document_validators(registry: Registry, ref: str, root: str,
                                                   folder: str) -> None:
    rs = registry.resolve(ref)
    layout = collection_layout(rs.files, root)
    assert layout is not None
    files = _fixture_files(folder)
    assert len(files) > 10
    xsd11 = rs.xmlschema_schema()
    for path in files:
        tree = etree.parse(str(path))
        schema = rs.lxml_schema()
        whole_ok = schema.validate(tree)
        whole_lines = {e.line for e in schema.error_log}
        found = validate_collection(rs, path, jobs=1, chunk_bytes=1024)
        assert (not found) == whole_ok, (path.name, found)
        assert xsd11.is_valid(str(path)) == whole_ok, path.name
        # every line libxml2 reports on the whole tree is reported by the stream too
        assert whole_lines <= {f.line for f in found}, (path.name, whole_lines, found)


def test_manifest_lines_and_records(gazetteer) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    manifest = json.loads((REPO / "fixtures/gazetteer/1.0/manifest.json").read_text())
    for entry in manifest["invalid"]:
        if entry["layer"] != "xsd":
            continue
        found = validate_collection(rs, REPO / "fixtures/gazetteer/1.0" / entry["file"], jobs=1)
        assert entry["line"] in {f.line for f in found}, (entry, found)
        m = re.search(r"record (\d+)", entry.get("note", ""))
        if m:
            assert int(m.group(1)) in {f.record for f in found}, (entry, found)


def test_paths_and_rules(gazetteer) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path = REPO / "fixtures/gazetteer/1.0/invalid/third-record-bad-postcode.xml"
    [f] = validate_collection(rs, path, jobs=1)
    assert f.path == "/GazetteerExtract/AddressRecord[3]/bs7666:BS7666Address/bs7666:PostCode"
    assert f.record == 3 and f.line == 55 and f.rule == "xsd:cvc-pattern-valid"
    assert f.file == str(path) and "{" not in f.message.split("pattern")[0]
    [g] = validate_collection(rs, path, jobs=1, label="export.xml")
    assert g.file == "export.xml"


def _big(tmp_path: Path, records: int, invalid_every: int) -> tuple[Path, list[int]]:
    path = tmp_path / "big.xml"
    bad = gen.write(path, records, invalid_every=invalid_every, seed=3)
    return path, bad


def test_every_invalid_record_reported_jobs_agree(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path, bad = _big(tmp_path, 3000, 97)
    one = validate_collection(rs, path, jobs=1, chunk_bytes=20_000)
    two = validate_collection(rs, path, jobs=2, chunk_bytes=20_000)
    assert one == two
    assert sorted({f.record for f in one}) == bad
    assert [f.line for f in one] == sorted(f.line for f in one)  # file order
    # libxml2 on the whole tree agrees on which records are invalid
    schema = rs.lxml_schema()
    assert not schema.validate(etree.parse(str(path)))
    whole = {e.line for e in schema.error_log}
    assert whole == {f.line for f in one}


@pytest.mark.slow
def test_lines_past_65535_match_xmllint(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("xmllint") is None:
        pytest.skip("xmllint (libxml2-utils) is not installed")
    rs = gazetteer
    path, bad = _big(tmp_path, 9000, 450)  # about 150,000 lines
    lines = path.read_text().splitlines()
    assert len(lines) > 2 * 65535
    ours = validate_collection(rs, path, jobs=2)
    assert sorted({f.record for f in ours}) == bad
    rs.write(tmp_path / "xsd")
    out = subprocess.run(["xmllint", "--noout", "--schema", str(tmp_path / "xsd" / rs.main), str(path)],
                         capture_output=True, text=True, check=False).stderr
    theirs = [(int(m.group(1)), m.group(2)) for m in re.finditer(r":(\d+): element (\w+):", out)]
    assert len(theirs) == len(ours)
    for f, (line, element) in zip(ours, theirs, strict=True):
        # our line holds the element's start tag (exact), and equals xmllint's, except for
        # libxml2's known 16-bit overflow: past 65,535 an element whose first child is
        # whitespace comes out one line too low in libxml2's tree.
        assert re.search(rf"<(\w+:)?{element}[\s>/]", lines[f.line - 1]), (f, element)
        if line != f.line:
            assert line > 65535 and line == f.line + 1, (f, line)
    assert any(line > 65535 and line == f.line for f, (line, _) in zip(ours, theirs, strict=True))
    # lxml's whole tree gives the same lines wherever it is exact
    schema = rs.lxml_schema()
    schema.validate(etree.parse(str(path)))
    for f, e in zip(ours, list(schema.error_log), strict=True):
        assert e.line in (f.line, f.line + 1)
        if e.line <= 65535:
            assert e.line == f.line


def _edit(src: Path, dst: Path, old: str, new: str, count: int = 1) -> Path:
    text = src.read_text()
    assert old in text
    dst.write_text(text.replace(old, new, count))
    return dst


def test_record_tag_in_comment_cdata_and_other_prefix(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path, bad = _big(tmp_path, 400, 50)
    text = path.read_text()
    records = text.split("  <AddressRecord>\n")
    # a comment holding a whole record start tag, CDATA inside a record, another prefix
    records[40] = "<!-- <AddressRecord> old copy:\n  <AddressRecord>\n -->\n" + records[40]
    records[80] = records[80].replace("<bs7666:StreetDescription>",
                                      "<bs7666:StreetDescription><![CDATA[<AddressRecord>]]>", 1)
    records[120] = records[120].replace("</AddressRecord>", "</g:AddressRecord>", 1)
    text = records[0] + "".join(
        (f'  <g:AddressRecord xmlns:g="{GZE}">\n' if i == 120 else "  <AddressRecord>\n") + r
        for i, r in enumerate(records) if i > 0)
    tricky = tmp_path / "tricky.xml"
    tricky.write_text(text)
    found = validate_collection(rs, tricky, jobs=1, chunk_bytes=2000)
    schema = rs.lxml_schema()
    assert not schema.validate(etree.parse(str(tricky)))
    assert {e.line for e in schema.error_log} == {f.line for f in found}
    assert sorted({f.record for f in found}) == bad
    assert {f.record for f in found if "StreetDescription" in (f.path or "")} == set()


def test_syntax_error_line_and_stop(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path, _ = _big(tmp_path, 600, 0)
    text = path.read_text().splitlines(keepends=True)
    at = next(i for i in range(5000, len(text)) if "</bs7666:Town>" in text[i])
    text[at] = text[at].replace("</bs7666:Town>", "</bs7666:Twn>")
    broken = tmp_path / "broken.xml"
    broken.write_text("".join(text))
    with pytest.raises(etree.XMLSyntaxError) as info:
        etree.parse(str(broken))
    found = validate_collection(rs, broken, jobs=2, chunk_bytes=4000)
    assert found[-1].rule == "xml:syntax"
    assert found[-1].line == info.value.position[0] == at + 1
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(path.read_bytes()[:-5000])
    last = validate_collection(rs, truncated, jobs=1)[-1]
    assert last.rule == "xml:syntax" and last.line == len(truncated.read_text().splitlines())


def test_hostile_and_unreadable_input(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    src = REPO / "fixtures/gazetteer/1.0/valid/three-records.xml"
    text = src.read_text()
    evil = tmp_path / "evil.xml"
    evil.write_text(text.replace("<GazetteerExtract ",
                                 '<!DOCTYPE GazetteerExtract [<!ENTITY a "aaaa">]>\n<GazetteerExtract ', 1))
    with pytest.raises(UnsafeInputError, match=r"evil\.xml"):
        validate_collection(rs, evil, jobs=1)
    external = tmp_path / "external.xml"
    external.write_text(text.replace("<GazetteerExtract ",
                                     '<!DOCTYPE GazetteerExtract SYSTEM "http://127.0.0.1:9/x.dtd">\n'
                                     "<GazetteerExtract ", 1))
    with pytest.raises(UnsafeInputError):
        validate_collection(rs, external, jobs=1)
    empty = tmp_path / "empty.xml"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        validate_collection(rs, empty)
    with pytest.raises(InputError, match="no such file"):
        validate_collection(rs, tmp_path / "missing.xml")


def test_utf16_file_is_accepted(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    src = REPO / "fixtures/gazetteer/1.0/invalid/third-record-bad-postcode.xml"
    text = src.read_text().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    u16 = tmp_path / "u16.xml"
    u16.write_bytes(text.encode("utf-16"))
    found = validate_collection(rs, u16, jobs=1)
    assert [(f.line, f.record, f.file) for f in found] == [(55, 3, str(u16))]


def test_max_errors_and_progress(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path, bad = _big(tmp_path, 2000, 40)
    seen: list[Progress] = []
    found = validate_collection(rs, path, jobs=1, max_errors=7, progress=seen.append,
                                     chunk_bytes=10_000)
    assert [f.record for f in found] == bad[:7]
    full = validate_collection(rs, path, jobs=1, progress=seen.append)
    assert len(full) == len(bad)
    assert seen and seen[-1].records == 2000 and seen[-1].bytes_done == seen[-1].bytes_total
    assert all(isinstance(p, Progress) for p in seen)


def test_root_attributes_header_and_count_checked(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path, _ = _big(tmp_path, 500, 0)
    bad_root = _edit(path, tmp_path / "a.xml", 'custodianCode="1110"', 'custodianCode="99999"')
    found = validate_collection(rs, bad_root, jobs=1, chunk_bytes=5000)
    assert [(f.line, f.path) for f in found] == [(4, "/GazetteerExtract")]
    # a header in the middle of the records: reported once, at its line
    text = path.read_text()
    cut = text.index("  <AddressRecord>", len(text) // 2)
    moved = tmp_path / "b.xml"
    moved.write_text(text[:cut] + "  <ExtractHeader><Originator>x</Originator></ExtractHeader>\n" + text[cut:])
    line = text[:cut].count("\n") + 1
    found = validate_collection(rs, moved, jobs=1, chunk_bytes=5000)
    assert [(f.line, f.path) for f in found] == [(line, "/GazetteerExtract/ExtractHeader[2]")]
    schema = rs.lxml_schema()
    assert not schema.validate(etree.parse(str(moved)))
    assert [e.line for e in schema.error_log] == [line]


def test_cross_record_unique_across_ranges(registry: Registry, tmp_path: Path) -> None:
    rs = registry.resolve("PersonRecordList@1.0")
    src = (REPO / "fixtures/personlist/1.0/valid/three-records.xml").read_text()
    head, _, rest = src.partition("  <prl:PersonRecord>")
    body, _, tail = ("  <prl:PersonRecord>" + rest).rpartition("</prl:PersonRecordList>")
    records = [r for r in body.split("  <prl:PersonRecord>") if r.strip()]
    many = []
    for i in range(60):
        rec = records[i % len(records)]
        rec = re.sub(r"<prl:RecordIdentifier>[^<]*<", f"<prl:RecordIdentifier>ID-{i % 45:03d}<", rec)
        many.append("  <prl:PersonRecord>" + rec)
    doc = tmp_path / "people.xml"
    doc.write_text(head.replace('RecordCount="3"', 'RecordCount="60"') + "".join(many)
                   + "</prl:PersonRecordList>" + tail)
    found = validate_collection(rs, doc, jobs=1, chunk_bytes=1500)
    schema = rs.lxml_schema()
    assert not schema.validate(etree.parse(str(doc)))
    assert {e.line for e in schema.error_log} == {f.line for f in found}
    assert [f.record for f in found] == list(range(46, 61))
    assert [f.path for f in found] == [f"/prl:PersonRecordList/prl:PersonRecord[{n}]" for n in range(46, 61)]
    assert all(f.rule == "xsd:cvc-idc" for f in found)
    assert all("Duplicate key-sequence ['ID-0" in f.message for f in found)


@pytest.mark.parametrize("jobs", [1, 2])
def test_ranges_are_checked_without_the_roots_constraints(registry: Registry, tmp_path: Path, jobs: int,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The root's uniqueness is decided by the parent from the keys: ranges are validated
    without it, and every finding is the one the full schema gives, duplicates inside one
    range and across ranges alike."""
    from egif.validate.stream import engine as engine_module

    doc = tmp_path / "people.xml"
    with doc.open("wb") as fh:
        write_sample("persons", fh, size=400_000, seed=3, invalid_rate=0.02, faults=("all",))
    text = doc.read_text()
    ids = re.findall(r"<prl:RecordIdentifier>([^<]*)<", text)
    # the 5th record's id again in the 6th (one range) and in the 150th (another range)
    for n in (5, 149):
        text = text.replace(f"<prl:RecordIdentifier>{ids[n]}<", f"<prl:RecordIdentifier>{ids[4]}<", 1)
    doc.write_text(text)

    def findings(with_range_schema: bool) -> list[tuple[object, ...]]:
        with monkeypatch.context() as m:
            if not with_range_schema:  # (nor the schema with its patterns rewritten)
                m.setattr(engine_module, "range_schema", lambda _plan: None)
                m.setattr(engine_module, "rewritten_schema", lambda _files, _main: None)
            v = Validator.for_version(registry, "PersonRecordList@1.0", jobs=jobs, piece_bytes=8192)
            found = [(f.rule, f.line, f.path, f.record, f.message) for f in v.check(doc).findings]
            local = next(iter(v._engines.values())).local
            assert (local.schema is not v.schema) == with_range_schema
            return found

    ranged = findings(True)
    assert ranged == findings(False)
    duplicates = [f for f in ranged if f[0] == "xsd:cvc-idc"]
    assert [f[3] for f in duplicates] == [6, 150]
    assert len({f[0] for f in ranged}) >= 3  # faults of other kinds too


def _xsd_with(body: str) -> dict[str, bytes]:
    return {"t.xsd": ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" '
                      f'targetNamespace="urn:t" elementFormDefault="qualified">{body}</xs:schema>').encode()}


def test_only_the_roots_own_constraints_are_left_out_of_the_range_schema() -> None:
    from egif.validate.stream.layout import without_root_constraints

    files = _xsd_with(
        '<xs:element name="L"><xs:complexType><xs:sequence>'
        '<xs:element ref="t:R" maxOccurs="unbounded"/></xs:sequence></xs:complexType>'
        '<xs:unique name="u"><xs:selector xpath="t:R"/><xs:field xpath="@id"/></xs:unique>'
        '<xs:key name="k"><xs:selector xpath="t:R"/><xs:field xpath="@n"/></xs:key></xs:element>'
        '<xs:element name="R"><xs:complexType><xs:sequence>'
        '<xs:element name="P" minOccurs="0" maxOccurs="9"><xs:complexType>'
        '<xs:attribute name="q" type="xs:string"/></xs:complexType></xs:element></xs:sequence>'
        '<xs:attribute name="id" type="xs:string"/><xs:attribute name="n" type="xs:string"/>'
        '</xs:complexType><xs:unique name="inner"><xs:selector xpath="t:P"/><xs:field xpath="@q"/>'
        '</xs:unique></xs:element>')
    out = without_root_constraints(files, "{urn:t}L")
    assert out is not None
    names = [e.get("name") for e in etree.fromstring(out["t.xsd"]).iter("{*}unique", "{*}key", "{*}keyref")]
    assert names == ["inner"]  # the record's own constraint stays: a range holds whole records
    assert without_root_constraints(files, "{urn:t}R") is not None
    assert without_root_constraints(out, "{urn:t}L") is None  # nothing left to take out
    assert without_root_constraints(files, "{urn:other}L") is None


def test_a_key_referred_to_from_a_record_keeps_the_full_schema() -> None:
    from egif.validate.stream.worker import Plan, range_schema

    files = _xsd_with(
        '<xs:element name="L"><xs:complexType><xs:sequence>'
        '<xs:element ref="t:R" maxOccurs="unbounded"/></xs:sequence></xs:complexType>'
        '<xs:key name="k"><xs:selector xpath="t:R"/><xs:field xpath="@id"/></xs:key></xs:element>'
        '<xs:element name="R"><xs:complexType><xs:attribute name="id" type="xs:string"/>'
        '<xs:attribute name="to" type="xs:string"/></xs:complexType>'
        '<xs:keyref name="r" refer="t:k"><xs:selector xpath="."/><xs:field xpath="@to"/></xs:keyref>'
        '</xs:element>')
    layout = collection_layout(files, "{urn:t}L")
    assert layout is not None and layout.constraints
    plan = Plan(files=files, main="t.xsd", records=layout.records, record_locals=layout.record_locals, cap=3,
                constraints=layout.constraints, root="{urn:t}L")
    assert range_schema(plan) is None  # without the key the keyref would not compile


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.integers(1, 60), every=st.integers(0, 9), chunk=st.integers(1024, 20_000),
       seed=st.integers(0, 1000))
def test_property_stream_equals_whole_tree(gazetteer, tmp_path: Path, records: int, every: int,  # type: ignore[no-untyped-def]
                                           chunk: int, seed: int) -> None:
    """Whatever the file and the cut size: the same error lines as libxml2 on the whole
    tree, and exactly the records the generator spoiled."""
    rs = gazetteer
    path = tmp_path / f"p{seed}-{records}-{every}.xml"
    bad = gen.write(path, records, invalid_every=every, seed=seed)
    found = validate_collection(rs, path, jobs=1, chunk_bytes=chunk)
    schema = rs.lxml_schema()
    valid = schema.validate(etree.parse(str(path)))
    assert valid == (not found)
    assert {e.line for e in schema.error_log} == {f.line for f in found}
    assert sorted({f.record for f in found}) == bad


_AGAIN_RULES = b"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="bs7666" uri="http://www.govtalk.gov.uk/people/bs7666"/>
  <sch:ns prefix="gze" uri="http://www.govtalk.gov.uk/exchange/GazetteerExtract"/>
  <sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern><sch:rule context="gze:AddressRecord">
    <sch:assert id="T-SEEN" test="not(egif:seen('uprn', normalize-space(bs7666:UniquePropertyReferenceNumber)))"
      >UPRN again</sch:assert></sch:rule></sch:pattern>
  <sch:pattern><sch:rule context="bs7666:LastUpdateDate">
    <sch:assert id="T-RAW" test="string-length(.) = 10">date written with spaces: <sch:value-of select="."/>
    </sch:assert></sch:rule></sch:pattern>
</sch:schema>"""


def _sample_with_uprns(tmp_path: Path, seed: int) -> tuple[Path, str, list[str]]:
    """A small gazetteer sample (several 8 KB ranges): its path, its text and its UPRNs in order."""
    doc = tmp_path / "g.xml"
    with doc.open("wb") as fh:
        write_sample("gazetteer", fh, size=120_000, seed=seed)
    text = doc.read_text()
    return doc, text, re.findall(r"<bs7666:UniquePropertyReferenceNumber>(\d+)<", text)


def _own_values(m: pytest.MonkeyPatch) -> None:
    """Every range answers seen() from its own values, as a worker process's range does
    (with one job the ranges would ask the document's book)."""
    from egif.validate.stream.worker import Worker

    m.setattr(Worker, "book", property(lambda _w: None, lambda _w, _v: None), raising=False)


def _findings_noting_again(monkeypatch: pytest.MonkeyPatch, rs: ResolvedSchema, doc: Path, rules: Any,
                           asked: list[object]) -> Callable[..., list[tuple[object, ...]]]:
    """A function giving *doc*'s findings with *rules* in 8 KB ranges, ranges answering seen()
    from the document's book or (*own_values*) from their own values; each evaluation of a
    range again notes in *asked* which checks it was asked for."""
    from egif.validate.stream.worker import Worker

    real_again = Worker.rules_again

    def again(w: Worker, *a: object, **k: object) -> object:
        asked.append(k.get("only"))
        return real_again(w, *a, **k)  # type: ignore[arg-type]

    def findings(*, own_values: bool, jobs: int = 1) -> list[tuple[object, ...]]:
        with monkeypatch.context() as m:
            m.setattr(Worker, "rules_again", again)
            if own_values:
                _own_values(m)
            v = Validator.for_schema(rs, rules=rules, jobs=jobs, piece_bytes=8192)
            return [(f.rule, f.line, f.path, f.message) for f in v.check(doc).findings]

    return findings


def test_one_job_asks_the_documents_book_and_finds_what_workers_find(registry: Registry, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With one job every range is checked in order in the process holding the document's
    book of seen() answers: the rules ask it directly, nothing is merged and no range is
    asked again, and the findings are those of ranges answering from their own values (as
    worker processes do), duplicates across ranges included."""
    from egif.validate.schematron.loader import load_rules

    rs = registry.resolve("GazetteerExtract@1.0")
    doc, text, uprns = _sample_with_uprns(tmp_path, 11)
    for far, near in ((-3, 1), (-8, 2), (-12, 1)):  # earlier ranges' UPRNs, far down the file
        text = text.replace(f">{uprns[far]}<", f">{uprns[near]}<", 1)
    doc.write_text(text)
    asked_again: list[object] = []
    findings = _findings_noting_again(monkeypatch, rs, doc, load_rules([("t.sch", _AGAIN_RULES)]), asked_again)
    direct = findings(own_values=False)
    assert not asked_again
    assert sum(1 for f in direct if f[0] == "T-SEEN") >= 3
    assert findings(own_values=True) == direct and asked_again  # ranges merged, some asked again
    assert findings(own_values=False, jobs=2) == direct


_TWO_CHECKS = b"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="bs7666" uri="http://www.govtalk.gov.uk/people/bs7666"/>
  <sch:ns prefix="gze" uri="http://www.govtalk.gov.uk/exchange/GazetteerExtract"/>
  <sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern><sch:rule context="gze:AddressRecord">
    <sch:report id="T-EVERY" test="true()">record <sch:value-of select="bs7666:UniquePropertyReferenceNumber"/>
    </sch:report></sch:rule></sch:pattern>
  <sch:pattern><sch:rule context="gze:AddressRecord">
    <sch:assert id="T-SEEN" test="not(egif:seen('uprn', normalize-space(bs7666:UniquePropertyReferenceNumber)))"
      >UPRN again</sch:assert></sch:rule></sch:pattern>
  <sch:pattern><sch:rule context="gze:AddressRecord[bs7666:LogicalStatus = '1']">
    <sch:assert id="T-DATE" test="not(egif:seen('start', concat(bs7666:UniquePropertyReferenceNumber, bs7666:StartDate,
      bs7666:LastUpdateDate)))"
      >never</sch:assert></sch:rule></sch:pattern>
</sch:schema>"""


def test_only_the_checks_whose_answers_were_wrong_are_evaluated_again(registry: Registry, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """When a range took a value for new that an earlier range held, only the checks that
    asked about it are evaluated again, and their findings replace the range's own, in the
    places the findings of one pass take: a check before it firing on every record, on the
    same records, keeps its findings, and a check whose own values were all new is merged."""
    from egif.validate.schematron.loader import load_rules

    rs = registry.resolve("GazetteerExtract@1.0")
    doc, text, uprns = _sample_with_uprns(tmp_path, 13)
    for far, near in ((-3, 1), (-9, 4)):  # earlier ranges' UPRNs, far down the file
        text = text.replace(f">{uprns[far]}<", f">{uprns[near]}<", 1)
    doc.write_text(text)
    rules = load_rules([("t.sch", _TWO_CHECKS)])
    seen_check = next(c.index for c in rules.checks if c.rule_id == "T-SEEN")
    asked: list[object] = []
    findings = _findings_noting_again(monkeypatch, rs, doc, rules, asked)
    direct = findings(own_values=False)
    assert not asked
    assert sum(1 for f in direct if f[0] == "T-SEEN") >= 2
    assert sum(1 for f in direct if f[0] == "T-EVERY") == text.count("<AddressRecord>")
    assert not any(f[0] == "T-DATE" for f in direct)
    assert findings(own_values=True) == direct
    assert asked and all(only == frozenset({seen_check}) for only in asked)
    assert findings(own_values=False, jobs=2) == direct


@pytest.mark.parametrize("spaced", [False, True], ids=["as-is", "spaced-date"])
def test_rules_read_again_see_what_the_first_reading_saw(registry: Registry, tmp_path: Path, spaced: bool,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A range whose seen() answers were wrong is read again for its rules: validated again
    only when its XSD pass changed values (a date written with spaces, collapsed by egif),
    with the same findings as a reading that is always validated; and when the range was
    checked in this process last, on the tree the first reading's rules saw, not parsed
    again, with the same findings again."""
    from egif.validate.schematron.loader import load_rules
    from egif.validate.stream.worker import Worker

    rs = registry.resolve("GazetteerExtract@1.0")
    doc, text, uprns = _sample_with_uprns(tmp_path, 9)
    # the second record's UPRN again far down the file: another range says it is new
    text = text.replace(f">{uprns[-3]}<", f">{uprns[1]}<", 1)
    if spaced:  # in the same record: libxml2 refuses the spaces, egif collapses them in the tree
        at = text.index(f">{uprns[1]}<", text.index(f">{uprns[1]}<") + 1)
        start = text.index("<bs7666:LastUpdateDate>", at) + len("<bs7666:LastUpdateDate>")
        text = text[:start] + "  " + text[start:text.index("<", start)] + "  " + text[text.index("<", start):]
    doc.write_text(text)
    validated: list[bool] = []
    real = Worker._rules_tree

    def noted(worker: Worker, data: bytes, validate: bool = True) -> tuple[object, bool]:
        validated.append(validate)
        return real(worker, data, validate)

    def findings(always: bool, keep: bool = False) -> list[tuple[object, ...]]:
        with monkeypatch.context() as m:
            m.setattr(Worker, "_rules_tree", noted)
            m.setattr(Worker, "keeps_last", keep)
            _own_values(m)  # (else no range's answers would be wrong, and none read again)
            if always:
                real_again = Worker.rules_again
                m.setattr(Worker, "rules_again", lambda w, *a, **k: real_again(w, *a, **{**k, "collapsed": True}))
            v = Validator.for_schema(rs, rules=load_rules([("t.sch", _AGAIN_RULES)]), jobs=1, piece_bytes=8192)
            return [(f.rule, f.line, f.path, f.message) for f in v.check(doc).findings]

    fast = findings(False)
    again = len(validated)
    # ranges read again, validated only where values were collapsed (the spaced date's range)
    assert again >= 1 and any(validated) == spaced
    validated.clear()
    assert fast == findings(True) and validated == [True] * again
    rules = {f[0] for f in fast}
    assert "T-SEEN" in rules and "T-RAW" not in rules  # the spaces were collapsed in both readings
    again_calls: list[int] = []
    real_again = Worker.rules_again

    def counted(w: Worker, *args: Any, **kwargs: Any) -> Any:
        before = len(validated)
        answer = real_again(w, *args, **kwargs)
        again_calls.append(len(validated) - before)  # ranges parsed again for this reading
        return answer

    with monkeypatch.context() as m:
        m.setattr(Worker, "rules_again", counted)
        assert findings(False, keep=True) == fast
    assert len(again_calls) == again and again_calls == [0] * again


_TAIL_PIECES = [b"</r>", b"</r >", b"</r\n\t>", b"</rx>", b"</r", b"<!-- </r> -->", b"<?pi </r>?>",
                b" ", b"\n", b"text", b"<r/>", b">", b"</p:r>", b"\x0c"]


@given(st.lists(st.sampled_from(_TAIL_PIECES), max_size=12), st.sampled_from([b"r", b"p:r"]))
def test_the_root_end_is_the_last_end_tag_followed_by_nothing_but_misc(pieces: list[bytes], qname: bytes) -> None:
    """Where a frame's root content ends: the start of the last ``</qname>`` (space before
    its ``>``), when only comments, PIs and space follow it -- as one pattern per root name
    found it before the end was read from the back."""
    tail = b"".join(pieces)
    last = None
    for m in re.finditer(rb"</" + re.escape(qname) + rb"\s*>", tail):
        last = m
    after = re.compile(rb"(?:\s+|<!--(?:[^-]|-(?!-))*-->|<\?(?:[^?]|\?(?!>))*\?>)*\Z")
    expected = last.start() if last is not None and after.match(tail, last.end()) else None
    assert _root_end(tail, qname) == expected
