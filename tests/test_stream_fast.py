"""The streaming engine's machinery: worker processes, the layout read with lxml,
check_many, the lean first pass."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egif import Registry
from egif.errors import InputError
from egif.resolve import ResolvedSchema
from egif.sample import write_sample
from egif.validate import Validator, forking
from egif.validate.stream import layout as layout_module
from egif.validate.stream.layout import CollectionLayout, collection_layout
from egif.validate.stream.pool import boot_code
from egif.validate.stream.worker import Doc, compile_schema

from .test_stream import validate_collection

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


def _by_xmlschema(rs: ResolvedSchema, root: str, monkeypatch: pytest.MonkeyPatch) -> CollectionLayout | None:
    def unsupported(*_args: object) -> None:
        raise layout_module.Unsupported("forced")

    with monkeypatch.context() as m:
        m.setattr(layout_module, "_read_with_lxml", unsupported)
        return collection_layout(rs.files, root, xmlschema_model=rs.xmlschema_schema)


def test_layout_read_with_lxml_equals_xmlschema_model(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    """For every global element of every shipped version: the same records, identity
    constraints and once-only children as xmlschema's component model."""
    checked = collections = 0
    for version in registry.list():
        rs = registry.resolve(version.ref)
        for root in _global_elements(rs):
            ours = collection_layout(rs.files, root)
            theirs = _by_xmlschema(rs, root, monkeypatch)
            checked += 1
            assert ours == theirs, (version.ref, root)
            collections += ours is not None
    assert checked > 50 and collections >= 4


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
     '<xs:element ref="t:A" maxOccurs="unbounded"/></xs:sequence></xs:extension></xs:complexContent>'
     '</xs:complexType><xs:element name="R" type="t:Coll"/>', {"{urn:t}A"}),
    # a large finite bound makes records too; a small one is a list inside one record
    ('<xs:element name="A" type="xs:string"/><xs:element name="R"><xs:complexType><xs:sequence>'
     '<xs:element ref="t:A" maxOccurs="150000"/></xs:sequence></xs:complexType></xs:element>', {"{urn:t}A"}),
    ('<xs:element name="A" type="xs:string"/><xs:element name="R"><xs:complexType><xs:sequence>'
     '<xs:element ref="t:A" maxOccurs="5"/></xs:sequence></xs:complexType></xs:element>', None),
    # two particles that repeat each on their own: the fields of one record, not records
    ('<xs:element name="A" type="xs:string"/><xs:element name="B" type="xs:string"/>'
     '<xs:element name="R"><xs:complexType><xs:sequence><xs:element ref="t:A" maxOccurs="unbounded"/>'
     '<xs:element ref="t:B" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>', None),
    # a local element that repeats is not a record; a global one used once is not either
    ('<xs:element name="A" type="xs:string"/>'
     '<xs:element name="R"><xs:complexType><xs:sequence><xs:element ref="t:A"/>'
     '<xs:element name="L" type="xs:string" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>',
     None),
])
def test_layout_reader_follows_content_models(body: str, records: set[str] | None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    rs = ResolvedSchema({"t.xsd": _xsd(body)}, "t.xsd")
    layout = collection_layout(rs.files, "{urn:t}R")
    assert (layout.records if layout else None) == (frozenset(records) if records else None)
    assert _by_xmlschema(rs, "{urn:t}R", monkeypatch) == layout


def test_layout_falls_back_to_xmlschema_for_substitution_groups() -> None:
    body = ('<xs:element name="A" type="xs:string"/><xs:element name="A2" substitutionGroup="t:A" type="xs:string"/>'
            '<xs:element name="R"><xs:complexType><xs:sequence><xs:element ref="t:A" maxOccurs="unbounded"/>'
            '</xs:sequence></xs:complexType></xs:element>')
    rs = ResolvedSchema({"t.xsd": _xsd(body)}, "t.xsd")
    layout = collection_layout(rs.files, "{urn:t}R", xmlschema_model=rs.xmlschema_schema)
    assert layout is not None and "{urn:t}A" in layout.records


@given(st.frozensets(st.sampled_from("ABC"), min_size=1), st.frozensets(st.sampled_from("ABC")),
       st.frozensets(st.sampled_from("ABC")), st.booleans())
def test_layouts_equal_whatever_their_top_only(records: frozenset[str], top_a: frozenset[str],
                                              top_b: frozenset[str], interdependent: bool) -> None:
    """``top_only`` (which xmlschema's model cannot tell) is left out of equality and hash;
    every other field counts, and a layout is immutable."""
    a = CollectionLayout("R", records, (), (0, 1, 2), interdependent, frozenset(), top_a)
    b = CollectionLayout("R", records, (), (0, 1, 2), interdependent, frozenset(), top_b)
    assert a == b and (a != b) is False and hash(a) == hash(b)
    other = CollectionLayout("R", records, (), (0, 1, 2), not interdependent, frozenset(), top_a)
    assert a != other and (a == other) is False
    assert a != CollectionLayout("R", records | {"D"}, top_only=top_a)
    assert a != ("R", records, (), (0, 1, 2), interdependent, frozenset(), top_a)
    with pytest.raises(AttributeError):
        a.records = frozenset()  # type: ignore[misc]


def test_worker_compiles_every_shipped_version_without_egif_resolve(registry: Registry) -> None:
    for version in registry.list():
        rs = registry.resolve(version.ref)
        assert isinstance(compile_schema(rs.files, rs.main), etree.XMLSchema)


def test_worker_process_stays_light() -> None:
    """A worker loads lxml and a few egif modules, never the registry, xmlschema or urllib."""
    code = boot_code().replace("serve(0, 1)", "import egif.validate.schematron.evaluator\n"
                               "print(' '.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert "egif.validate.stream.worker" in loaded and "lxml.etree" in loaded
    for heavy in ("xmlschema", "egif.registry", "egif.resolve", "urllib.request", "sqlite3", "click"):
        assert heavy not in loaded, heavy


def _sample(path: Path, *, size: int, seed: int, rate: float) -> list[tuple[int, int]]:
    with path.open("wb") as fh:
        report = write_sample("gazetteer", fh, size=size, seed=seed, invalid_rate=rate)
    return sorted((r.record, r.line) for r in report.invalid if r.layer == "xsd")


@pytest.fixture
def gazetteer(registry: Registry) -> ResolvedSchema:
    return registry.resolve("GazetteerExtract@1.0")


def test_parent_and_workers_find_every_planted_fault(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path = tmp_path / "export.xml"
    planted = _sample(path, size=3_000_000, seed=11, rate=0.01)
    assert len(planted) > 20
    runs = {jobs: validate_collection(rs, path, jobs=jobs, chunk_bytes=16_384)
            for jobs in (1, 2, 3)}
    assert runs[1] == runs[2] == runs[3]
    assert sorted((f.record, f.line) for f in runs[2]) == planted


def test_stopping_early_leaves_no_worker_behind(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path = tmp_path / "export.xml"
    planted = _sample(path, size=2_000_000, seed=5, rate=0.02)
    before = _children()
    found = validate_collection(rs, path, jobs=3, max_errors=3, chunk_bytes=8192)
    assert [f.record for f in found] == [r for r, _ in planted[:3]]
    it = Validator.for_schema(rs, jobs=3, piece_bytes=8192).iter_findings(path)
    next(it)
    it.close()  # type: ignore[attr-defined]
    assert _children() == before


def _children() -> set[int]:
    try:
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as fh:
            return {int(x) for x in fh.read().split()}
    except OSError:
        return set()


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "fresh"])
def test_a_dying_worker_is_a_clear_error(gazetteer, tmp_path: Path, fork: bool,  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forking, "FORKS", fork)
    rs = gazetteer
    path = tmp_path / "export.xml"
    _sample(path, size=2_000_000, seed=2, rate=0.0)
    # the first progress report comes with the first result: kill the worker then
    with pytest.raises(InputError, match=r"validation worker stopped .*export\.xml|export\.xml.*worker"):
        validate_collection(rs, path, jobs=2, chunk_bytes=4096,
                                 progress=lambda _p: _kill_children())
    assert _children() == set()


def _cmdline(pid: int) -> list[bytes]:
    with open(f"/proc/{pid}/cmdline", "rb") as fh:
        return fh.read().split(b"\0")


def _pipes_of(pid: int) -> set[str]:
    """The pipes process *pid* holds open, as the kernel names them."""
    names = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            names.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
    return {n for n in names if n.startswith("pipe:")}


@pytest.mark.skipif(not forking.FORKS, reason="workers are forked on Linux only")
@pytest.mark.parametrize("kind,ref", [("gazetteer", "GazetteerExtract@1.0"), ("persons", "PersonRecordList@1.0")])
def test_forked_and_fresh_workers_answer_alike(registry: Registry, tmp_path: Path, kind: str, ref: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers forked from the caller (inheriting its schema and rules) and fresh interpreters
    (compiling them from the plan) give the same findings, rules and uniqueness included, as
    the caller alone; each way really starts the kind of worker it says."""
    path = tmp_path / "export.xml"
    with path.open("wb") as fh:
        write_sample(kind, fh, size=1_500_000, seed=8, invalid_rate=0.02, faults=("all",))
    mine = os.getpid()
    spare_r, spare_w = os.pipe()  # a pipe of the caller's: no forked worker may keep it open
    spare = _pipes_of(mine) - {os.readlink(f"/proc/{mine}/fd/{fd}") for fd in (0, 1, 2)
                               if os.path.exists(f"/proc/{mine}/fd/{fd}")}
    seen: dict[int, tuple[list[bytes], set[str]]] = {}

    def look(_progress: object) -> None:
        for pid in _children():
            with contextlib.suppress(OSError):
                seen.setdefault(pid, (_cmdline(pid), _pipes_of(pid)))

    def findings(jobs: int) -> list[tuple[object, ...]]:
        v = Validator.for_version(registry, ref, jobs=jobs, piece_bytes=16_384, progress=look,
                                   today=datetime.date(2026, 11, 30))
        return [(f.rule, f.line, f.path, f.message) for f in v.check(path).findings]

    try:
        alone = findings(1)
        assert len({rule for rule, *_ in alone}) > 2  # faults of the XSD and of the rules
        forked = findings(2)
        assert seen and all(cmd == _cmdline(mine) for cmd, _ in seen.values())
        assert all(not (pipes & spare) for _, pipes in seen.values())
        seen.clear()
        monkeypatch.setattr(forking, "FORKS", False)
        fresh = findings(2)
        assert seen and all(b"-c" in cmd and cmd != _cmdline(mine) for cmd, _ in seen.values())
        assert forked == fresh == alone
    finally:
        os.close(spare_r)
        os.close(spare_w)


@pytest.mark.skipif(not forking.FORKS, reason="workers are forked on Linux only")
def test_beside_other_threads_the_workers_are_fresh_interpreters(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A fork copies one thread of many, and whatever locks the others hold: a caller running
    threads of its own (a server) gets fresh interpreters, with the same findings."""
    import threading

    path = tmp_path / "export.xml"
    planted = _sample(path, size=1_000_000, seed=6, rate=0.01)
    seen: list[list[bytes]] = []

    def look(_progress: object) -> None:
        for pid in _children():
            with contextlib.suppress(OSError):
                seen.append(_cmdline(pid))

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        found = validate_collection(gazetteer, path, jobs=2, chunk_bytes=8192, progress=look)
    finally:
        stop.set()
        other.join()
    assert seen and all(b"-c" in cmd for cmd in seen)
    assert sorted((f.record, f.line) for f in found) == planted


@pytest.mark.parametrize("told", [False, True])
def test_keep_only_closes_every_other_descriptor(tmp_path: Path, told: bool) -> None:
    """Whether the fork lists its descriptors itself, or is told the caller's highest."""
    kept_r, kept_w = os.pipe()
    other = os.open(tmp_path, os.O_RDONLY)
    above = os.dup2(other, forking.highest_fd() + 5)  # a gap below the highest
    highest = forking.highest_fd() if told else None
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            forking.keep_only(kept_w, highest=highest)
            still = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
            os.write(kept_w, json.dumps(still).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(kept_w)
    _, status = os.waitpid(pid, 0)
    reported = os.read(kept_r, 4096).decode()
    os.close(kept_r)
    os.close(other)
    os.close(above)
    assert os.waitstatus_to_exitcode(status) == 0
    still = set(json.loads(reported))
    assert other not in still and above not in still and kept_r not in still and kept_w in still
    # besides the standard three and the pipe kept: the listing's own descriptor at most
    assert len(still - {0, 1, 2, kept_w}) <= 1


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
    v = Validator.for_schema(registry.resolve("GazetteerExtract@1.0"))
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
        v = Validator.for_version(registry, version)
        assert [r.to_dict() for r in v.check_many(files)] == [v.check(f).to_dict() for f in files]


@pytest.mark.parametrize("seed", [1, 2])
def test_lean_and_piecewise_paths_equal_parsing_as_written(gazetteer, tmp_path: Path, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Ranges are first judged on a tree without blank text, faulty records re-read alone.
    A comment after every record (same line, so lines, paths and records do not move)
    forces every range through the plain path: the findings must be the same."""
    rs = gazetteer
    lean = tmp_path / "lean.xml"
    planted = _sample(lean, size=1_500_000, seed=seed, rate=0.03)
    plain = tmp_path / "plain.xml"
    plain.write_bytes(lean.read_bytes().replace(b"</AddressRecord>", b"</AddressRecord><!-- ! -->"))
    for chunk in (4096, 40_000):
        a = validate_collection(rs, lean, jobs=2, chunk_bytes=chunk, label="x")
        b = validate_collection(rs, plain, jobs=1, chunk_bytes=chunk, label="x")
        assert a == b
        assert sorted((f.record, f.line) for f in a) == planted


def test_no_interpreter_for_workers_means_the_parent_does_it_all(
        gazetteer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    rs = gazetteer
    path = tmp_path / "export.xml"
    planted = _sample(path, size=1_000_000, seed=4, rate=0.02)
    monkeypatch.setattr(forking, "FORKS", False)  # workers would be fresh interpreters
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    found = validate_collection(rs, path, jobs=2, chunk_bytes=8192)
    assert sorted((f.record, f.line) for f in found) == planted


# -- the root's key values, read record by record --------------------------------------------
_KEYED = (
    '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t" '
    'elementFormDefault="qualified">'
    '<xs:element name="L"><xs:complexType><xs:sequence>'
    '<xs:element ref="t:R" maxOccurs="unbounded"/></xs:sequence></xs:complexType>'
    '<xs:unique name="byId"><xs:selector xpath="t:R"/><xs:field xpath="t:Id"/></xs:unique>'
    '<xs:unique name="byPair"><xs:selector xpath="t:R"/><xs:field xpath="@n"/><xs:field xpath="t:Id"/>'
    '</xs:unique>'
    '<xs:unique name="inner"><xs:selector xpath="t:R/t:Sub"/><xs:field xpath="."/></xs:unique></xs:element>'
    '<xs:element name="R"><xs:complexType><xs:sequence><xs:element name="Id" type="xs:string" minOccurs="0" '
    'maxOccurs="2"/><xs:element name="Sub" type="xs:string" minOccurs="0"/></xs:sequence>'
    '<xs:attribute name="n" type="xs:string"/></xs:complexType></xs:element></xs:schema>')


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "t:", "u:"]),
                          st.lists(st.sampled_from(["a", " a ", "b", ""]), max_size=2),
                          st.sampled_from([None, "1", "2"]), st.booleans()), min_size=1, max_size=12))
def test_record_keys_are_the_keys_read_one_by_one(records: list[tuple[str, list[str], str | None, bool]]) -> None:
    """Keys of a constraint that selects every record, read by index (the fast way), equal
    those read through the children's places, for any mix of prefixes, missing, repeated
    and blank identifiers and an attribute field."""
    from egif.validate.stream.worker import Doc, Plan, RangeResult, Worker

    files = {"t.xsd": _KEYED.encode()}
    layout = collection_layout(files, "{urn:t}L")
    assert layout is not None and len(layout.constraints) == 3
    plan = Plan(files=files, main="t.xsd", records=layout.records, record_locals=layout.record_locals, cap=3,
                constraints=layout.constraints, root="{urn:t}L")
    worker = Worker(plan)
    worker.doc = Doc(None, b'<t:L xmlns:t="urn:t" xmlns:u="urn:t">\n', b"</t:L>", 1)
    body = []
    for prefix, ids, n, sub in records:
        p = prefix or "t:"
        inner = "".join(f"<{p}Id>{i}</{p}Id>" for i in ids) + (f"<{p}Sub>s</{p}Sub>" if sub else "")
        attribute = f' n="{n}"' if n is not None else ""
        body.append(f"<{p}R{attribute}>{inner}</{p}R>\n")
    data = "".join(body).encode()
    root, _lines = worker._parse(data, True)
    assert root is not None
    fast, slow = RangeResult(ok=True), RangeResult(ok=True)
    worker._keys(root, None, fast, 2)
    tag = next(iter(plan.records))
    worker._keys(root, {child: (i, i, tag, i + 1) for i, child in enumerate(root)}, slow, 2)
    assert fast.keys == slow.keys
    assert len([k for k in fast.keys if k[0] == 0]) == len(records)


@pytest.mark.skipif(not forking.FORKS, reason="workers are forked on Linux only")
def test_a_fork_of_a_worker_with_a_document_open_still_answers(gazetteer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The fork keeps none of the parent's descriptors, an open document's included: it lets
    go of it rather than closing it a second time, and answers the next document's ranges."""
    path = tmp_path / "export.xml"
    planted = _sample(path, size=600_000, seed=3, rate=0.01)
    v = Validator.for_schema(gazetteer, jobs=2, piece_bytes=16_384)
    layout = v.layout(GZE_ROOT)
    assert layout is not None
    local = v._engine(layout).local
    local.open(Doc(str(path), b"", b"", 0))  # as if a document were being read when the pool forks
    assert local.fd >= 0
    found = list(v.iter_findings(path))
    assert sorted((f.record, f.line) for f in found) == planted


_CHILDREN = st.lists(st.sampled_from([
    "<r:Rec/>", "<r:Rec><r:Rec/></r:Rec>", "<r:Other/>", '<x:Rec xmlns:x="urn:elsewhere"/>', "<Rec/>",
    "<!-- a comment -->", "<?pi data?>", " ", "\n  ", "\t", "text", " a ", "<![CDATA[ ]]>", "<![CDATA[c]]>",
]), max_size=12)


@settings(max_examples=300, deadline=None)
@given(_CHILDREN, st.booleans(), st.booleans())
def test_the_count_of_other_children_is_every_node_but_records_and_blank_text(
        children: list[str], lean: bool, namespaced: bool) -> None:
    """What a range's root holds besides records, counted in libxml2, is what a walk of its
    child nodes finds, with and without whitespace-only text kept, in a namespace or none."""
    from lxml import etree

    from egif.validate.stream.worker import others_count

    ns = "urn:records"
    body = "".join(children)
    if not namespaced:
        body = body.replace("r:", "")
    root_xml = (f'<r:List xmlns:r="{ns}">{body}</r:List>' if namespaced
                else f'<List xmlns:r="{ns}">{body}</List>')
    root = etree.fromstring(root_xml.encode(), etree.XMLParser(remove_blank_text=lean))
    record = f"{{{ns}}}Rec" if namespaced else "Rec"
    walked = 0
    for node in root.xpath("node()"):
        if isinstance(node, str):
            walked += node.strip(" \t\r\n") != ""
        else:
            walked += node.tag != record
    assert int(others_count(record)(root)) == walked
