"""The fast paths of the streaming engine's follow-up: worker processes, the layout read
with lxml, check_many's small-file path and validate_many in-process."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif import Registry
from egif.errors import InputError
from egif.resolve import ResolvedSchema
from egif.sample import write_sample
from egif.validate import Validator
from egif.validate.stream import (
    SmallDocuments,
    _xmlschema_facts,
    collection_layout,
    validate_collection,
    validate_many,
)
from egif.validate.stream_layout import read_layout
from egif.validate.stream_pool import _BOOT, _EGIF_DIR
from egif.validate.stream_worker import compile_schema

REPO = Path(__file__).resolve().parent.parent
GZE = "http://www.govtalk.gov.uk/exchange/GazetteerExtract"
GZE_ROOT = f"{{{GZE}}}GazetteerExtract"
XSD = "{http://www.w3.org/2001/XMLSchema}"


def _global_elements(rs: ResolvedSchema) -> list[str]:
    names = []
    for data in rs.files.values():
        root = etree.fromstring(data)
        tns = root.get("targetNamespace")
        for el in root.findall(f"{XSD}element"):
            names.append(f"{{{tns}}}{el.get('name')}" if tns else str(el.get("name")))
    return names


def test_layout_read_with_lxml_equals_xmlschema_model(registry: Registry) -> None:
    """For every global element of every shipped version: the same records and identity
    constraints as xmlschema's component model (xmlschema also lists the built-in xml prefix)."""
    checked = collections = 0
    for version in registry.list():
        rs = registry.resolve(version.ref)
        for root in _global_elements(rs):
            ours = read_layout(rs.files, root)
            theirs = _xmlschema_facts(rs, root)
            checked += 1
            if theirs is None:
                assert ours is None, (version.ref, root)
                continue
            collections += 1
            assert ours is not None and ours.records == theirs.records, (version.ref, root)
            strip = [(k, n, s, f, tuple(p for p in ns if p[0] != "xml"), r)
                     for k, n, s, f, ns, r in theirs.constraints]
            assert list(ours.constraints) == strip, (version.ref, root)
    assert checked > 50 and collections >= 3


def _xsd(body: str, extra: str = "") -> bytes:
    return (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" '
            f'targetNamespace="urn:t" elementFormDefault="qualified" {extra}>{body}</xs:schema>').encode()


@pytest.mark.parametrize("body,records", [
    # records under a repeating choice inside a sequence, through a named group
    ('<xs:element name="A" type="xs:string"/><xs:element name="B" type="xs:string"/>'
     '<xs:group name="G"><xs:choice><xs:element ref="t:A"/><xs:element ref="t:B"/></xs:choice></xs:group>'
     '<xs:element name="R"><xs:complexType><xs:sequence>'
     '<xs:group ref="t:G" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>',
     {"{urn:t}A", "{urn:t}B"}),
    # through a named type derived by extension: the base's particles count too
    ('<xs:element name="A" type="xs:string"/><xs:element name="H" type="xs:string"/>'
     '<xs:complexType name="Base"><xs:sequence><xs:element ref="t:H"/></xs:sequence></xs:complexType>'
     '<xs:complexType name="Coll"><xs:complexContent><xs:extension base="t:Base"><xs:sequence>'
     '<xs:element ref="t:A" maxOccurs="5"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>'
     '<xs:element name="R" type="t:Coll"/>', {"{urn:t}A"}),
    # a local element that repeats is not a record; a global one used once is not either
    ('<xs:element name="A" type="xs:string"/>'
     '<xs:element name="R"><xs:complexType><xs:sequence><xs:element ref="t:A"/>'
     '<xs:element name="L" type="xs:string" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>',
     None),
])
def test_layout_reader_follows_content_models(body: str, records: set[str] | None) -> None:
    rs = ResolvedSchema({"t.xsd": _xsd(body)}, "t.xsd")
    facts = read_layout(rs.files, "{urn:t}R")
    assert (facts.records if facts else None) == (frozenset(records) if records else None)
    theirs = _xmlschema_facts(rs, "{urn:t}R")
    assert (theirs.records if theirs else None) == (facts.records if facts else None)


def test_layout_falls_back_to_xmlschema_for_substitution_groups() -> None:
    body = ('<xs:element name="A" type="xs:string"/><xs:element name="A2" substitutionGroup="t:A" type="xs:string"/>'
            '<xs:element name="R"><xs:complexType><xs:sequence><xs:element ref="t:A" maxOccurs="unbounded"/>'
            '</xs:sequence></xs:complexType></xs:element>')
    rs = ResolvedSchema({"t.xsd": _xsd(body)}, "t.xsd")
    layout = collection_layout(rs, "{urn:t}R")
    assert layout is not None and "{urn:t}A" in layout.records


def test_worker_compiles_every_shipped_version_without_egif_resolve(registry: Registry) -> None:
    for version in registry.list():
        rs = registry.resolve(version.ref)
        assert isinstance(compile_schema(rs.files, rs.main), etree.XMLSchema)


def test_worker_process_stays_light() -> None:
    """A worker loads lxml and four egif modules, never the registry, xmlschema or urllib."""
    code = _BOOT.format(paths=[p for p in sys.path if p], egif=_EGIF_DIR).replace(
        "serve(0, 1)", "print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "egif.validate.stream_worker" in loaded and "lxml.etree" in loaded
    for heavy in ("xmlschema", "egif.registry", "egif.resolve", "urllib.request", "sqlite3", "click"):
        assert heavy not in loaded, heavy


def _sample(path: Path, *, size: int, seed: int, rate: float) -> list[tuple[int, int]]:
    with path.open("wb") as fh:
        report = write_sample("gazetteer", fh, size=size, seed=seed, invalid_rate=rate)
    return sorted((r.record, r.line) for r in report.invalid if r.layer == "xsd")


@pytest.fixture
def gazetteer(registry: Registry) -> tuple[ResolvedSchema, object]:
    rs = registry.resolve("GazetteerExtract@1.0")
    return rs, collection_layout(rs, GZE_ROOT)


def test_parent_and_workers_find_every_planted_fault(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs, layout = gazetteer
    path = tmp_path / "export.xml"
    planted = _sample(path, size=3_000_000, seed=11, rate=0.01)
    assert len(planted) > 20
    runs = {jobs: list(validate_collection(rs, path, layout=layout, jobs=jobs, chunk_bytes=16_384))
            for jobs in (1, 2, 3)}
    assert runs[1] == runs[2] == runs[3]
    assert sorted((f.record, f.line) for f in runs[2]) == planted


def test_stopping_early_leaves_no_worker_behind(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs, layout = gazetteer
    path = tmp_path / "export.xml"
    planted = _sample(path, size=2_000_000, seed=5, rate=0.02)
    before = _children()
    found = list(validate_collection(rs, path, layout=layout, jobs=3, max_errors=3, chunk_bytes=8192))
    assert [f.record for f in found] == [r for r, _ in planted[:3]]
    it = validate_collection(rs, path, layout=layout, jobs=3, chunk_bytes=8192)
    next(it)
    it.close()  # type: ignore[attr-defined]
    assert _children() == before


def _children() -> set[int]:
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as fh:
            return {int(x) for x in fh.read().split()}
    except OSError:
        return set()


def test_a_dying_worker_is_a_clear_error(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs, layout = gazetteer
    path = tmp_path / "export.xml"
    _sample(path, size=2_000_000, seed=2, rate=0.0)
    # the first progress report comes with the first result: kill the worker then
    with pytest.raises(InputError, match=r"validation worker stopped .*export\.xml|export\.xml.*worker"):
        list(validate_collection(rs, path, layout=layout, jobs=2, chunk_bytes=4096,
                                 progress=lambda _p: _kill_children()))
    assert _children() == set()


def _kill_children() -> None:
    for pid in _children():
        os.kill(pid, signal.SIGKILL)


# -- many small documents ------------------------------------------------------------------
def _messages(tmp_path: Path, n: int, rate: float) -> list[Path]:
    paths = []
    for i in range(n):
        p = tmp_path / f"m{i:03d}.xml"
        with p.open("wb") as fh:
            write_sample("gazetteer", fh, count=2, seed=i, invalid_rate=rate)
        paths.append(p)
    return paths


def _hostile_and_fixtures() -> list[Path]:
    files = sorted((REPO / "fixtures" / "gazetteer").glob("*/*/*.xml"))
    files += sorted((REPO / "tests" / "hostile").glob("*.xml"))
    return files


def test_check_many_equals_check_for_every_file(registry: Registry, tmp_path: Path) -> None:
    """Fast path or not, check_many gives exactly what check gives (hostile files included)."""
    files: list[str | Path] = [*_hostile_and_fixtures(), *_messages(tmp_path, 30, 0.2),
                               tmp_path / "missing.xml", tmp_path]
    v = Validator(registry.resolve("GazetteerExtract@1.0"))
    many = list(v.check_many(files))
    assert len(many) == len(files)
    for source, got in zip(files, many, strict=True):
        try:
            expected = v.check(source)
        except InputError as exc:
            assert [f.rule for f in got.findings] in (["xml:input"], ["xml:unsafe"]), source
            assert got.findings[0].message == exc.message
            continue
        assert got == expected, source
    assert sum(r.valid for r in many) > 10 and sum(not r.valid for r in many) > 10


def test_check_many_with_lifecycle_warnings_and_rules(registry: Registry, tmp_path: Path) -> None:
    files = _messages(tmp_path, 12, 0.3)
    for version in ("GazetteerExtract@1.0", "GazetteerExtract@1.1"):
        v = Validator(registry, version)
        assert [r.to_dict() for r in v.check_many(files)] == [v.check(f).to_dict() for f in files]


def test_small_documents_refuses_what_the_full_path_must_judge(registry: Registry, tmp_path: Path) -> None:
    rs = registry.resolve("GazetteerExtract@1.0")
    quick = SmallDocuments(rs, 1_000_000)
    valid = REPO / "fixtures/gazetteer/1.0/valid/three-records.xml"
    assert quick.parse(valid) is not None and quick.parse(valid)[1]  # type: ignore[index]
    assert quick.parse(io.BytesIO(valid.read_bytes())) is None
    assert quick.parse(valid.read_bytes()) is None
    assert SmallDocuments(rs, 100).parse(valid) is None  # too big for the fast path
    for name in ("billion-laughs.xml", "external-dtd.xml", "xinclude.xml", "empty.xml", "truncated.xml"):
        assert quick.parse(REPO / "tests/hostile" / name) is None, name


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 12), rate=st.sampled_from([0.0, 0.1, 0.5]), seed=st.integers(0, 10_000))
def test_validate_many_equals_a_loop(registry: Registry, tmp_path_factory: pytest.TempPathFactory,
                                     n: int, rate: float, seed: int) -> None:
    rs = registry.resolve("GazetteerExtract@1.0")
    folder = tmp_path_factory.mktemp("many")
    files = []
    for i in range(n):
        p = folder / f"d{i}.xml"
        with p.open("wb") as fh:
            write_sample("gazetteer", fh, count=1 + i % 3, seed=seed + i, invalid_rate=rate)
        files.append(p)
    schema = rs.lxml_schema()
    expected = [schema.validate(etree.parse(str(p))) for p in files]
    assert [not f for _, f in validate_many(rs, files)] == expected


def test_validate_many_over_worker_processes(registry: Registry, tmp_path: Path) -> None:
    """Inputs above the in-process limit go to worker processes, with the same answers."""
    rs = registry.resolve("GazetteerExtract@1.0")
    files = _messages(tmp_path, 40, 0.3) + _hostile_and_fixtures()[:10]
    files = [f for f in files if f.suffix == ".xml" and "hostile" not in str(f)]
    inside = list(validate_many(rs, files))
    spread = list(validate_many(rs, files, jobs=2, batch=8, in_process_bytes=0))
    assert spread == inside
    assert any(f for _, f in inside) and any(not f for _, f in inside)


@pytest.mark.parametrize("seed", [1, 2])
def test_lean_and_piecewise_paths_equal_parsing_as_written(gazetteer, tmp_path: Path, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Ranges are first judged on a tree without blank text, faulty records re-read alone.
    A comment after every record (same line, so lines, paths and records do not move)
    forces every range through the plain path: the findings must be the same."""
    rs, layout = gazetteer
    lean = tmp_path / "lean.xml"
    planted = _sample(lean, size=1_500_000, seed=seed, rate=0.03)
    plain = tmp_path / "plain.xml"
    plain.write_bytes(lean.read_bytes().replace(b"</AddressRecord>", b"</AddressRecord><!-- ! -->"))
    for chunk in (4096, 40_000):
        a = list(validate_collection(rs, lean, layout=layout, jobs=2, chunk_bytes=chunk, label="x"))
        b = list(validate_collection(rs, plain, layout=layout, jobs=1, chunk_bytes=chunk, label="x"))
        assert a == b
        assert sorted((f.record, f.line) for f in a) == planted


def test_no_interpreter_for_workers_means_the_parent_does_it_all(
        gazetteer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    rs, layout = gazetteer
    path = tmp_path / "export.xml"
    planted = _sample(path, size=1_000_000, seed=4, rate=0.02)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    found = list(validate_collection(rs, path, layout=layout, jobs=2, chunk_bytes=8192))
    assert sorted((f.record, f.line) for f in found) == planted
