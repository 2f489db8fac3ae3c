"""The registry: storing, binding and resolving multi-file schemas (issue 2)."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from egif import (
    Conflict,
    InputError,
    NotFound,
    Registry,
    RegistryError,
    SchemaCompileError,
    SchemaRef,
    Status,
    TamperedError,
)
from egif.registry import sha256
from egif.store import LATEST_FORMAT

from .conftest import DATA, stored_as

MULTI = DATA / "multifile"
NS_A, NS_B, NS_C = "urn:egif:test:a", "urn:egif:test:b", "urn:egif:test:c"


@pytest.fixture
def empty_registry(any_empty_registry: Registry) -> Registry:
    """Every test of this module that starts from an empty registry runs on SQLite and PostgreSQL."""
    return any_empty_registry


def add_abc(reg: Registry) -> None:
    stored_as(reg, MULTI / "b" / "Beta-v1-0.xsd", "Beta", "1.0", Status.RATIFIED)
    stored_as(reg, MULTI / "c" / "Gamma-v1-0.xsd", "Gamma", "1.0", Status.RATIFIED)
    reg.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.0")


def validate(reg: Registry, ref: str, doc: Path) -> bool:
    schema = reg.resolve(ref).lxml_schema()
    return bool(schema.validate(etree.parse(str(doc))))


def test_multifile_schema_binds_imports_and_validates(empty_registry: Registry) -> None:
    add_abc(empty_registry)
    alpha = empty_registry.get("Alpha@1.0")
    assert alpha.namespace == NS_A
    assert {f.path: f.role for f in alpha.files} == {
        "Alpha-v1-0.xsd": "main", "parts/AlphaParts-v1-0.xsd": "include"}
    # the files its schemaLocations name lie beside it and equal the registered versions byte for byte
    assert {b.namespace: (str(b.target), b.chosen) for b in alpha.imports} == {
        NS_B: ("Beta@1.0", "identical"), NS_C: ("Gamma@1.0", "identical")}
    assert validate(empty_registry, "Alpha@1.0", MULTI / "order-valid.xml")
    assert not validate(empty_registry, "Alpha@1.0", MULTI / "order-invalid.xml")


def test_xmlschema_compiles_from_registry_bytes(empty_registry: Registry) -> None:
    add_abc(empty_registry)
    schema = empty_registry.resolve("Alpha@1.0").xmlschema_schema()
    assert schema.is_valid(str(MULTI / "order-valid.xml"))
    errors = list(schema.iter_errors(str(MULTI / "order-invalid.xml")))
    assert errors, "the invalid order must fail under xmlschema too"


def test_resolution_reads_nothing_outside_the_registry(empty_registry: Registry, tmp_path: Path) -> None:
    """After add, the source files can vanish: the registry bytes suffice."""
    src = tmp_path / "src"
    shutil.copytree(MULTI, src)
    empty_registry.add(src / "b" / "Beta-v1-0.xsd", name="Beta", version="1.0")
    empty_registry.add(src / "c" / "Gamma-v1-0.xsd", name="Gamma", version="1.0")
    empty_registry.add(src / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.0")
    shutil.rmtree(src)
    assert validate(empty_registry, "Alpha@1.0", MULTI / "order-valid.xml")
    assert empty_registry.resolve("Alpha@1.0").xmlschema_schema().is_valid(str(MULTI / "order-valid.xml"))


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        body = (MULTI / "b" / "Beta-v1-0.xsd").read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[str]]]:
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    finally:
        server.shutdown()
        server.server_close()


def test_network_schema_locations_are_never_fetched(
    empty_registry: Registry, tmp_path: Path, recording_server: tuple[str, list[str]]
) -> None:
    url, hits = recording_server
    src = tmp_path / "src"
    shutil.copytree(MULTI, src)
    main = src / "a" / "Alpha-v1-0.xsd"
    text = main.read_text()
    text = text.replace('schemaLocation="../b/Beta-v1-0.xsd"', f'schemaLocation="{url}/Beta-v1-0.xsd"')
    text = text.replace('schemaLocation="../c/Gamma-v1-0.xsd"', f'schemaLocation="{url}/Gamma.xsd"')
    main.write_text(text)
    empty_registry.add(src / "b" / "Beta-v1-0.xsd", name="Beta", version="1.0")
    empty_registry.add(src / "c" / "Gamma-v1-0.xsd", name="Gamma", version="1.0")
    empty_registry.add(main, name="Alpha", version="1.0")
    resolved = empty_registry.resolve("Alpha@1.0")
    assert validate(empty_registry, "Alpha@1.0", MULTI / "order-valid.xml")
    assert resolved.xmlschema_schema().is_valid(str(MULTI / "order-valid.xml"))
    # the stored original still names the server, the laid-out tree does not
    assert url.encode() in empty_registry.files("Alpha@1.0")["Alpha-v1-0.xsd"]
    assert all(url.encode() not in data for data in resolved.files.values())
    assert hits == []


def test_imports_can_be_bundled_from_local_files(empty_registry: Registry) -> None:
    result = empty_registry.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.0")
    roles = {f.path: f.role for f in result.version.files}
    assert roles == {"a/Alpha-v1-0.xsd": "main", "a/parts/AlphaParts-v1-0.xsd": "include",
                     "b/Beta-v1-0.xsd": "import", "c/Gamma-v1-0.xsd": "import"}
    assert {b.chosen for b in result.version.imports} == {"published"}
    assert validate(empty_registry, "Alpha@1.0", MULTI / "order-valid.xml")


def test_explicit_import_binding_wins_over_default(empty_registry: Registry, tmp_path: Path) -> None:
    add_abc(empty_registry)
    newer = tmp_path / "Beta-v1-1.xsd"
    newer.write_text((MULTI / "b" / "Beta-v1-0.xsd").read_text().replace('version="1.0"', 'version="1.1"'))
    stored_as(empty_registry, newer, "Beta", "1.1", Status.RATIFIED)
    a2 = empty_registry.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.1",
                            prefer_registered=True).version
    a3 = empty_registry.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.2",
                            imports={NS_B: "Beta@1.0"}, prefer_registered=True).version
    a4 = empty_registry.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.3").version
    bound = {v.version: {b.namespace: str(b.target) for b in v.imports} for v in (a2, a3, a4)}
    assert bound["1.1"][NS_B] == "Beta@1.1"  # registered preferred: newest ratified
    assert bound["1.2"][NS_B] == "Beta@1.0"  # explicit beats everything
    assert bound["1.3"][NS_B] == "Beta@1.0"  # the supplied file, which is byte-identical to Beta@1.0
    assert dict((b.namespace, b.chosen) for b in a3.imports)[NS_B] == "explicit"
    assert dict((b.namespace, b.chosen) for b in a2.imports)[NS_B] == "preferred"


def test_an_identical_import_stays_published_when_it_supplies_a_namespace_others_import(
        empty_registry: Registry, tmp_path: Path) -> None:
    """A set whose first import (identical to a registered version) brings in namespace X, and
    whose second import names another file for X: processors keep the first X and skip the
    second. Binding the first import to the registered version would strand that X."""
    xs = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"'
    files = {
        "x-first.xsd": f'<xs:schema {xs} targetNamespace="urn:t:x"><xs:element name="X" type="xs:string"/></xs:schema>',
        "x-second.xsd": f'<xs:schema {xs} targetNamespace="urn:t:x"><xs:element name="X" type="xs:int"/></xs:schema>',
        "b.xsd": f'<xs:schema {xs} xmlns:x="urn:t:x" targetNamespace="urn:t:b" elementFormDefault="qualified">'
                 '<xs:import namespace="urn:t:x" schemaLocation="x-first.xsd"/>'
                 '<xs:element name="B"><xs:complexType><xs:sequence><xs:element ref="x:X"/></xs:sequence>'
                 '</xs:complexType></xs:element></xs:schema>',
        "c.xsd": f'<xs:schema {xs} targetNamespace="urn:t:c">'
                 '<xs:import namespace="urn:t:x" schemaLocation="x-second.xsd"/>'
                 '<xs:element name="C" type="xs:string"/></xs:schema>',
        "main.xsd": f'<xs:schema {xs} xmlns:b="urn:t:b" xmlns:c="urn:t:c" targetNamespace="urn:t:m" '
                    'elementFormDefault="qualified"><xs:import namespace="urn:t:b" schemaLocation="b.xsd"/>'
                    '<xs:import namespace="urn:t:c" schemaLocation="c.xsd"/><xs:element name="M"><xs:complexType>'
                    '<xs:sequence><xs:element ref="b:B"/><xs:element ref="c:C"/></xs:sequence></xs:complexType>'
                    '</xs:element></xs:schema>',
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    empty_registry.add(tmp_path / "b.xsd", name="B", version="1.0")
    added = empty_registry.add(tmp_path / "main.xsd", name="M", version="1.0")
    bound = {b.namespace: (b.bundled_path, b.chosen) for b in added.version.imports}
    assert bound["urn:t:b"] == ("b.xsd", "published")
    assert bound["urn:t:x"] == ("x-first.xsd", "published")
    assert any("b.xsd is byte-identical to B@1.0" in note for note in added.notes)
    schema = empty_registry.resolve("M@1.0").lxml_schema()
    doc = ('<M xmlns="urn:t:m" xmlns:b="urn:t:b" xmlns:x="urn:t:x" xmlns:c="urn:t:c">'
           '<b:B><x:X>{}</x:X></b:B><c:C>c</c:C></M>')
    assert schema.validate(etree.fromstring(doc.format("words").encode()))  # X as x-first.xsd has it
    # without the clash the identical import is still bound to the registered version
    (tmp_path / "c.xsd").write_text(files["c.xsd"].replace("x-second.xsd", "x-first.xsd"))
    again = empty_registry.add(tmp_path / "main.xsd", name="M", version="1.1")
    assert {b.namespace: str(b.target) for b in again.version.imports}["urn:t:b"] == "B@1.0"


def test_default_binding_prefers_ratified_over_newer_draft(empty_registry: Registry, tmp_path: Path) -> None:
    add_abc(empty_registry)
    draft = tmp_path / "Beta-v2-0.xsd"
    draft.write_text((MULTI / "b" / "Beta-v1-0.xsd").read_text())
    empty_registry.add(draft, name="Beta", version="2.0")  # draft
    v = empty_registry.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.1",
                           prefer_registered=True).version
    assert {b.namespace: str(b.target) for b in v.imports}[NS_B] == "Beta@1.0"
    # the supplied file equals both Beta@1.0 (ratified) and Beta@2.0 (draft): the ratified one is recorded
    w = empty_registry.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.2").version
    assert {b.namespace: (str(b.target), b.chosen) for b in w.imports}[NS_B] == ("Beta@1.0", "identical")


def test_binding_to_a_version_of_another_namespace_is_refused(empty_registry: Registry) -> None:
    add_abc(empty_registry)
    with pytest.raises(InputError, match="whose namespace"):
        empty_registry.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.1",
                           imports={NS_B: "Gamma@1.0"})


def test_identical_add_is_a_no_op_and_different_content_is_refused(
    empty_registry: Registry, tmp_path: Path
) -> None:
    first = empty_registry.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version="1.0")
    again = empty_registry.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version="1.0")
    assert first.created and not again.created
    assert again.version.digest == first.version.digest
    changed = tmp_path / "Beta-v1-0.xsd"
    changed.write_text((MULTI / "b" / "Beta-v1-0.xsd").read_text().replace("{2}[0-9]{2}", "{3}"))
    with pytest.raises(Conflict, match="already registered with different content"):
        empty_registry.add(changed, name="Beta", version="1.0")
    assert len(list(empty_registry.events(kinds=("add",)))) == 1


def test_same_content_under_new_version_shares_blobs(empty_registry: Registry) -> None:
    empty_registry.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version="1.0")
    empty_registry.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version="1.1")
    assert len(list(empty_registry.store.dump_table("blobs"))) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not xml", "not well-formed XML"),
        (b"", "empty file"),
        (b"<root/>", "not an XML Schema"),
        (b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"><xsd:element name="x" '
         b'type="Nope"/></xsd:schema>', "does not compile"),
        (b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"><xsd:include '
         b'schemaLocation="missing.xsd"/></xsd:schema>', "not found"),
        (b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:n="urn:nobody"><xsd:import '
         b'namespace="urn:nobody"/><xsd:element name="E" type="n:T"/></xsd:schema>',
         "neither supplied nor registered"),
        (b'<!DOCTYPE x [<!ENTITY a "b"><!ENTITY c "&a;&a;">]>'
         b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>', "refers to other entities"),
        (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
         b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>', "external entity"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(
    empty_registry: Registry, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "Bad-v1-0.xsd"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        empty_registry.add(path, name="Bad", version="1.0")
    assert str(path) in str(info.value)
    assert empty_registry.list() == []
    assert list(empty_registry.store.dump_table("blobs")) == []


def test_missing_main_file(empty_registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        empty_registry.add(tmp_path / "nope.xsd", name="Nope", version="1.0")


def test_unknown_type_is_a_compile_error(empty_registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "T-v1-0.xsd"
    path.write_text('<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">'
                    '<xsd:element name="x" type="xsd:nonsense"/></xsd:schema>')
    with pytest.raises(SchemaCompileError):
        empty_registry.add(path, name="T", version="1.0")


@pytest.mark.parametrize("version", ["1", "1.0.0", "v1.0", "01.0", ""])
def test_versions_must_be_major_minor(empty_registry: Registry, version: str) -> None:
    with pytest.raises(InputError, match=r"MAJOR\.MINOR"):
        empty_registry.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version=version)


def test_get_list_newest_and_not_found(empty_registry: Registry, tmp_path: Path) -> None:
    add_abc(empty_registry)
    empty_registry.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version="1.10")
    assert empty_registry.get("Beta").version == "1.10"  # numeric, not text order
    assert [v.version for v in empty_registry.versions("Beta")] == ["1.0", "1.10"]
    assert empty_registry.newest("Beta", statuses=[Status.RATIFIED]).version == "1.0"
    assert [str(v.ref) for v in empty_registry.list(namespace=NS_C)] == ["Gamma@1.0"]
    assert [str(v.ref) for v in empty_registry.list(status="draft")] == ["Alpha@1.0", "Beta@1.10"]
    with pytest.raises(NotFound, match=r"registered versions: 1\.0, 1\.10"):
        empty_registry.get("Beta@9.9")
    with pytest.raises(KeyError):  # NotFound is a KeyError too
        empty_registry.get("Nobody")


def test_export_writes_a_self_contained_tree(empty_registry: Registry, tmp_path: Path) -> None:
    add_abc(empty_registry)
    out = tmp_path / "out"
    written = empty_registry.export("Alpha@1.0", out)
    assert {p.relative_to(out).as_posix() for p in written} == {
        "Alpha/1.0/Alpha-v1-0.xsd", "Alpha/1.0/parts/AlphaParts-v1-0.xsd",
        "Beta/1.0/Beta-v1-0.xsd", "Gamma/1.0/Gamma-v1-0.xsd"}
    # compile the exported tree straight from disk, with network off
    parser = etree.XMLParser(no_network=True)
    schema = etree.XMLSchema(etree.parse(str(out / "Alpha/1.0/Alpha-v1-0.xsd"), parser))
    assert schema.validate(etree.parse(str(MULTI / "order-valid.xml")))
    assert not schema.validate(etree.parse(str(MULTI / "order-invalid.xml")))


def test_metadata_and_events_are_recorded(registry: Registry) -> None:
    v = registry.get("BS7666@2.0")
    assert v.metadata.get("Title"), "shipped schemas carry an e-GMS record"
    assert v.declared_version == "2.0"
    events = list(registry.events(name="BS7666", version="2.0"))
    assert events[0].kind == "add" and events[0].data["digest"] == v.digest


def test_tampering_is_detected(registry_path: Path) -> None:
    with Registry.open(registry_path) as reg:
        digest = reg.get("BS7666@2.0").files[0].digest
    db = sqlite3.connect(registry_path)
    db.execute("UPDATE blobs SET content = CAST('<xsd:schema/>' AS BLOB) WHERE digest = ?", (digest,))
    db.commit()
    db.close()
    with Registry.open(registry_path) as reg, pytest.raises(TamperedError, match="altered"):
        reg.resolve("BS7666@2.0")


def test_rewriting_content_and_digests_consistently_is_still_detected(registry_path: Path) -> None:
    """The audit log keeps the digest recorded at add time; it is checked on every read."""
    import hashlib
    import json

    with Registry.open(registry_path) as reg:
        v = reg.get("BS7666@2.0")
    forged = b'<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>'
    new_file = hashlib.sha256(forged).hexdigest()
    manifest = {"main": v.main, "files": [[v.main, new_file]]}
    new_version = hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    db = sqlite3.connect(registry_path)
    db.execute("INSERT INTO blobs (digest, size, content) VALUES (?, ?, ?)", (new_file, len(forged), forged))
    db.execute("UPDATE schema_files SET digest = ? WHERE digest = ?", (new_file, v.files[0].digest))
    db.execute("UPDATE schema_versions SET digest = ? WHERE name = 'BS7666' AND version = '2.0'", (new_version,))
    db.commit()
    db.close()
    with Registry.open(registry_path) as reg, pytest.raises(TamperedError, match="audit log"):
        reg.files("BS7666@2.0")


def test_a_file_that_is_not_a_registry_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(RegistryError, match="not an egif registry"):
        Registry.open(junk)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE people (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(RegistryError, match="not an egif registry"):
        Registry.open(other)


def test_a_registry_from_a_newer_egif_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    Registry.init(path, seed=False).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE egif_meta SET value = ? WHERE key = 'format'", (str(LATEST_FORMAT + 1),))
    db.commit()
    db.close()
    with pytest.raises(RegistryError, match="newer egif"):
        Registry.open(path)


def test_migrations_are_recorded_in_the_database(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    Registry.init(path, seed=False).close()
    db = sqlite3.connect(path)
    rows = dict(db.execute("SELECT key, value FROM egif_meta").fetchall())
    db.close()
    assert rows["format"] == str(LATEST_FORMAT)
    assert all(f"migration.{n}" in rows for n in range(1, LATEST_FORMAT + 1))


def test_audit_log_is_append_only(registry: Registry) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        registry.store.execute("UPDATE events SET actor = 'mallory'")  # type: ignore[attr-defined]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        registry.store.execute("DELETE FROM events")  # type: ignore[attr-defined]


def test_new_registry_holds_the_shipped_standards(registry: Registry) -> None:
    from egif.shipped import shipped_versions

    shipped = {str(v.ref) for v in shipped_versions()}
    stored = {str(v.ref) for v in registry.list()}
    assert shipped and shipped <= stored
    for ref in shipped:
        registry.resolve(SchemaRef.parse(ref)).lxml_schema()


def test_shipped_address_types_resolve_across_three_namespaces(registry: Registry) -> None:
    """The shipped apd 2.0 set: includes in its own namespace, imports of three others."""
    from egif.shipped import shipped_versions

    v = registry.get("AddressAndPersonalDetails@2.0")
    assert {f.role for f in v.files} == {"main", "include"} and len(v.files) >= 4
    assert {str(b.target) for b in v.imports} >= {"BS7666@2.0", "CommonSimpleTypes@1.3"}
    resolved = registry.resolve("AddressAndPersonalDetails@2.0")
    assert {p.split("/")[0] for p in resolved.files} >= {"AddressAndPersonalDetails", "BS7666", "CommonSimpleTypes"}
    (shipped,) = [s for s in shipped_versions() if str(s.ref) == "AddressAndPersonalDetails@2.0"]
    assert shipped.fixtures is not None
    valid = sorted((shipped.fixtures / "valid").glob("*.xml"))
    assert valid
    schema = resolved.lxml_schema()
    for doc in valid:
        assert schema.validate(etree.parse(str(doc))), (doc, schema.error_log)


def test_a_resolved_closure_is_written_where_a_plain_string_names(registry: Registry, tmp_path: Path) -> None:
    """write() takes a str as well as a Path, makes the folders, and the main document it
    writes compiles offline from the files beside it."""
    resolved = registry.resolve("AddressAndPersonalDetails@2.0")
    written = resolved.write(str(tmp_path / "out"))
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == sorted(resolved.files)
    assert all(p.read_bytes() == resolved.files[p.relative_to(tmp_path / "out").as_posix()] for p in written)
    main = tmp_path / "out" / resolved.main
    assert main in written
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    etree.XMLSchema(etree.parse(str(main), parser))


@given(st.binary(max_size=300))
def test_a_stored_files_digest_is_its_sha256(data: bytes) -> None:
    """The digest egif keeps and checks is SHA-256 whichever implementation computes it."""
    assert sha256(data) == hashlib.sha256(data).hexdigest()
    assert sha256(data * 1000) == hashlib.sha256(data * 1000).hexdigest()


def test_checking_a_small_document_does_not_load_openssl(registry_path: Path) -> None:
    """``egif validate small.xml`` checks the stored digests of its schema files without
    loading OpenSSL's hashlib (a few milliseconds of every start): CPython's own SHA-256
    does it."""
    probe = ("import sys\n"
             "from egif import Registry\n"
             "from egif.validate import Validator\n"
             "reg = Registry.open(sys.argv[1], actor='probe')\n"
             "result = Validator.for_version(reg, 'GazetteerExtract@1.0').check(sys.argv[2])\n"
             "print(result.valid, '_hashlib' in sys.modules)\n")
    doc = Path(__file__).parent.parent / "fixtures" / "gazetteer" / "1.0" / "valid" / "three-records.xml"
    out = subprocess.run([sys.executable, "-c", probe, str(registry_path), str(doc)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["True", "False"]
