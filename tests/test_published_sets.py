"""Schema sets shaped like real published ones register and validate as published (issue 10).

The sets under tests/data/published are written for these tests; each
reproduces a structure seen in sets that UK public bodies publish: a
valuation-list return importing one namespace from several files
(``ratebill``), court lists bundling their own copies of the GovTalk address
modules (``courtlist``), an envelope importing the XML-Signature schema with
its DOCTYPE and the XML namespace schema (``envelope``), a customs message
pack marked for XSD 1.1 processors (``transitpack``), and a schema choosing
between XSD 1.0 and 1.1 alternatives (``versioned``).

The reference verdict for every document is libxml2's, reading the published
files from disk as the publisher's own tools do; for conditional inclusion,
which libxml2 ignores, it is xmlschema's reading of the same files.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import xmlschema
from lxml import etree

from egif import EgifError, InputError, Registry, SchemaCompileError
from egif.model import parse_version, version_order
from egif.sets import add_set

from .conftest import DATA, run_egif

PUBLISHED = DATA / "published"
APD = "http://www.govtalk.gov.uk/people/AddressAndPersonalDetails"
BS7666 = "http://www.govtalk.gov.uk/people/bs7666"
CORE = "http://www.govtalk.gov.uk/core"
DSIG = "http://www.w3.org/2000/09/xmldsig#"

SETS = {
    # set: (main file, registry name, version)
    "ratebill": ("RateBillReturn-v3-1d.xsd", "RateBillReturn", "3.1d"),
    "courtlist": ("DailyList-v1-0.xsd", "DailyList", "1.0"),
    "envelope": ("GovTalkEnvelope-v2-0.xsd", "GovTalkEnvelope", "2.0"),
    "transitpack": ("cc901c.xsd", "CC901C", "3.0"),
}


def libxml2_verdicts(main: Path, docs: list[Path]) -> dict[str, bool]:
    """What libxml2 says of each document, compiling the published files straight from disk."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    schema = etree.XMLSchema(etree.parse(str(main), parser))
    return {d.name: bool(schema.validate(etree.parse(str(d), parser))) for d in docs}


def egif_verdicts(reg: Registry, ref: str, docs: list[Path]) -> dict[str, bool]:
    schema = reg.resolve(ref).lxml_schema()
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return {d.name: bool(schema.validate(etree.parse(str(d), parser))) for d in docs}


def documents(name: str) -> list[Path]:
    found = sorted((PUBLISHED / name / "docs").glob("*.xml"))
    assert found and any(d.name.startswith("invalid") for d in found)
    return found


@pytest.mark.parametrize("name", sorted(SETS))
def test_added_with_no_flags_validates_as_libxml2_does_on_the_published_files(
        registry: Registry, name: str) -> None:
    main, std, version = SETS[name]
    result = registry.add(PUBLISHED / name / main, name=std, version=version)
    assert result.created
    # every import is bound to what the set's own files name
    assert {b.reason for b in result.bindings} <= {"published", "identical"}
    docs = documents(name)
    expected = libxml2_verdicts(PUBLISHED / name / main, docs)
    assert egif_verdicts(registry, f"{std}@{version}", docs) == expected
    # the file names say which documents are meant to be valid: the comparison is not vacuous
    assert expected == {d.name: d.name.startswith("valid") for d in docs}


def test_one_namespace_imported_from_three_files_binds_as_processors_read_it(registry: Registry) -> None:
    result = registry.add(PUBLISHED / "ratebill" / "RateBillReturn-v3-1d.xsd", name="RateBillReturn",
                          version="3.1d")
    bindings = {b.namespace: b for b in result.bindings}
    # the first import of the namespace names a file that was never published: it is skipped,
    # as libxml2 skips it, and the next import's file is bound
    assert bindings[APD].target == "file AddressTypes-v2-0.xsd"
    assert bindings[APD].reason == "published"
    paths = {f.path for f in result.version.files}
    assert {"AddressTypes-v2-0.xsd", "ContactTypes-v1-3.xsd", "CitizenIdentificationTypes-v1-4.xsd",
            "RBcommon-v3-1d.xsd", "RBcore-v3-1d.xsd", "RBcodes-v3-1d.xsd"} <= paths
    # bundled copies that carry a shipped standard's name and version but differ say so, with the verdict
    assert bindings[BS7666].note is not None
    assert bindings[BS7666].note.startswith("differs from registered BS7666@2.0 (diff BS7666@2.0 -> supplied")
    assert bindings[CORE].note is not None and "CommonSimpleTypes@1.3" in bindings[CORE].note


def test_court_list_bundled_modules_win_over_the_registered_ones(registry: Registry) -> None:
    main = PUBLISHED / "courtlist" / "DailyList-v1-0.xsd"
    result = registry.add(main, name="DailyList", version="1.0")
    bindings = {b.namespace: b for b in result.bindings}
    assert bindings[APD].target == "file AddressAndPersonalDetails-v2-0.xsd"
    note = bindings[APD].note or ""
    assert note.startswith("differs from registered AddressAndPersonalDetails@2.0 (diff "
                           "AddressAndPersonalDetails@2.0 -> supplied file: ")
    assert note.split(": ")[1].split(")")[0] in {"breaking", "backward", "forward", "full", "identical",
                                                 "not proven"}
    # asking for the registered versions reproduces the failure users met with the old default
    with pytest.raises(SchemaCompileError, match=r"CourtAddressStructure. does not resolve"):
        registry.add(main, name="DailyList", version="1.1", prefer_registered=True)


def test_signature_schema_with_its_doctype_is_accepted_and_its_dtd_never_read(
        registry_path: Path, tmp_path: Path) -> None:
    folder = tmp_path / "envelope"
    shutil.copytree(PUBLISHED / "envelope", folder)
    # whatever opens the DTDs these DOCTYPEs name blocks forever: a FIFO in their place
    os.mkfifo(folder / "XMLSchema.dtd")
    done = run_egif("schema", "add", str(folder / "GovTalkEnvelope-v2-0.xsd"), "--name", "GovTalkEnvelope",
                    "--version", "2.0", registry=registry_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"import {DSIG} -> file xmldsig-core-schema.xsd (published" in done.stdout
    check = run_egif("validate", "--schema", "GovTalkEnvelope@2.0", "--no-rules",
                     str(folder / "docs" / "valid-signed-response.xml"), registry=registry_path, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    bad = run_egif("validate", "--schema", "GovTalkEnvelope@2.0", "--no-rules",
                   str(folder / "docs" / "invalid-digest.xml"), registry=registry_path, timeout=60)
    assert bad.returncode == 1, bad.stdout + bad.stderr


def test_signature_import_without_location_binds_the_registered_version(
        registry: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "envelope"
    shutil.copytree(PUBLISHED / "envelope", folder)
    main = folder / "GovTalkEnvelope-v2-0.xsd"
    text = main.read_text(encoding="utf-8")
    main.write_text(text.replace(' schemaLocation="xmldsig-core-schema.xsd"', ""), encoding="utf-8")
    with pytest.raises(SchemaCompileError, match=r"xmldsig-core-schema\.xsd beside it has that targetNamespace"):
        registry.add(main, name="GovTalkEnvelope", version="2.0")
    registry.add(folder / "xmldsig-core-schema.xsd", name="xmldsig-core-schema", version="0.1")
    result = registry.add(main, name="GovTalkEnvelope", version="2.0")
    signature = {b.namespace: b for b in result.bindings}[DSIG]
    assert (signature.target, signature.reason) == ("xmldsig-core-schema@0.1", "registered")
    assert "no schemaLocation" in signature.detail


def test_pack_marked_for_xsd_11_is_read_whole(registry: Registry) -> None:
    registry.add(PUBLISHED / "transitpack" / "cc901c.xsd", name="CC901C", version="3.0")
    resolved = registry.resolve("CC901C@3.0")
    assert resolved.xsd_version == "1.1"
    # an XSD 1.0 reading of the published files drops everything: that must not be egif's reading
    raw10 = xmlschema.XMLSchema10(str(PUBLISHED / "transitpack" / "cc901c.xsd"))
    assert not list(raw10.elements)
    assert {e.name for e in resolved.xmlschema_schema().elements.values()} == {"{urn:egif:test:transit}CC901C"}


def test_conditional_inclusion_follows_the_spec_where_libxml2_ignores_it(registry: Registry) -> None:
    main = PUBLISHED / "versioned" / "Order-v1-0.xsd"
    parser = etree.XMLParser(no_network=True)
    with pytest.raises(etree.XMLSchemaParseError):  # libxml2 reads the xs:assert and both alternatives
        etree.XMLSchema(etree.parse(str(main), parser))
    registry.add(main, name="Order", version="1.0")
    resolved = registry.resolve("Order@1.0")
    assert resolved.xsd_version == "1.0"
    docs = documents("versioned")
    spec = xmlschema.XMLSchema10(str(main))  # applies conditional inclusion for a 1.0 processor
    expected = {d.name: bool(spec.is_valid(str(d))) for d in docs}
    assert egif_verdicts(registry, "Order@1.0", docs) == expected
    assert expected == {d.name: d.name.startswith("valid") for d in docs}
    # the xmlschema model egif builds reads the same schema
    model = resolved.xmlschema_schema()
    assert {d.name: bool(model.is_valid(str(d))) for d in docs} == expected


def test_add_set_registers_every_module_dependencies_first(registry: Registry) -> None:
    before = registry.list()
    events_before = len(list(registry.events()))
    plan = add_set(registry, PUBLISHED / "ratebill", dry_run=True)
    assert plan.dry_run
    assert registry.list() == before and len(list(registry.events())) == events_before
    result = add_set(registry, PUBLISHED / "ratebill")
    by_path = {e.module.path: e for e in result.entries}
    assert all(m["message"].startswith(("would add", "not added")) for m in plan.to_dict()["modules"])
    assert [(e.module.path, e.action) for e in plan.entries] == [(e.module.path, e.action) for e in result.entries]
    assert set(result.parts) == {"RBcodes-v3-1d.xsd", "RBcommon-v3-1d.xsd", "RBcore-v3-1d.xsd"}
    # names and versions come from the GovTalk file names, revision letters included
    assert (by_path["RateBillReturn-v3-1d.xsd"].module.name,
            by_path["RateBillReturn-v3-1d.xsd"].module.version) == ("RateBillReturn", "3.1d")
    assert by_path["CitizenIdentificationTypes-v1-4.xsd"].module.version == "1.4"
    # egif ships BS7666 2.0 and CommonSimpleTypes 1.3 with other content: not added, said so
    assert by_path["BS7666-v2-0.xsd"].action == "conflict"
    assert by_path["CommonSimpleTypes-v1-3.xsd"].action == "conflict"
    order = [e.module.path for e in result.entries]
    assert order.index("AddressTypes-v2-0.xsd") < order.index("RateBillReturn-v3-1d.xsd")
    main = by_path["RateBillReturn-v3-1d.xsd"]
    assert main.result is not None
    bound = {b.namespace: (b.target, b.reason) for b in main.result.bindings}
    # the module registered a moment earlier is recorded, not stored twice
    assert bound[APD] == ("AddressTypes@2.0", "identical")
    # BS 7666 is imported only inside the address modules, which AddressTypes@2.0 now stands for
    assert BS7666 not in bound and bound[CORE] == ("file CommonSimpleTypes-v1-3.xsd", "published")
    assert "AddressTypes-v2-0.xsd" not in {f.path for f in main.result.version.files}
    docs = documents("ratebill")
    assert egif_verdicts(registry, "RateBillReturn@3.1d", docs) == libxml2_verdicts(
        PUBLISHED / "ratebill" / "RateBillReturn-v3-1d.xsd", docs)
    # idempotent: a second run adds nothing and logs nothing
    events = len(list(registry.events()))
    again = add_set(registry, PUBLISHED / "ratebill")
    assert {e.action for e in again.entries} <= {"unchanged", "conflict"}
    assert len(list(registry.events())) == events


def test_add_set_is_one_transaction(registry: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    shutil.copytree(PUBLISHED / "ratebill", folder)
    # the last module in dependency order cannot compile: nothing of the set may remain
    main = folder / "RateBillReturn-v3-1d.xsd"
    main.write_text(main.read_text(encoding="utf-8").replace('type="rb:EntryStructure"', 'type="rb:Missing"'),
                    encoding="utf-8")
    before = [str(v.ref) for v in registry.list()]
    with pytest.raises(SchemaCompileError, match=r'list it under "skip" in egif-set\.json'):
        add_set(registry, folder)
    assert [str(v.ref) for v in registry.list()] == before
    # left out on purpose, the rest of the set goes in
    (folder / "egif-set.json").write_text('{"skip": ["RateBillReturn-v3-1d.xsd"]}', encoding="utf-8")
    result = add_set(registry, folder)
    assert ("RateBillReturn-v3-1d.xsd", "left out by the manifest") in result.skipped
    assert "AddressTypes@2.0" in [str(v.ref) for v in registry.list()]


def test_every_module_that_does_not_register_is_named_at_once(registry: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "set"
    shutil.copytree(PUBLISHED / "ratebill", folder)
    for name, old, new in (("ContactTypes-v1-3.xsd", 'type="core:YesNoType"', 'type="core:NoSuchType"'),
                           ("RateBillReturn-v3-1d.xsd", 'type="rb:EntryStructure"', 'type="rb:Missing"')):
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    before = [str(v.ref) for v in registry.list()]
    with pytest.raises(SchemaCompileError) as caught:
        add_set(registry, folder)
    message = caught.value.message
    assert "modules of the set do not register" in message
    assert "ContactTypes-v1-3.xsd: " in message and "RateBillReturn-v3-1d.xsd: " in message
    assert [str(v.ref) for v in registry.list()] == before  # still all or nothing
    # the list the error ends with is a manifest that registers the rest in one more run
    snippet = message[message.index('{"skip": ['):].rstrip(")")
    (folder / "egif-set.json").write_text(snippet, encoding="utf-8")
    result = add_set(registry, folder)
    added = {e.module.path for e in result.entries}
    assert "ContactTypes-v1-3.xsd" not in added and "RateBillReturn-v3-1d.xsd" not in added
    # the parts only the left-out main document includes are left out with it, not made modules
    assert not added & {"RBcore-v3-1d.xsd", "RBcodes-v3-1d.xsd", "RBcommon-v3-1d.xsd"}
    assert "CommonSimpleTypes@1.3" in [str(v.ref) for v in registry.list()]


@pytest.mark.parametrize("how", ["climbs out", "absolute", "file URL", "symbolic link"])
def test_a_set_reads_nothing_outside_its_folder(empty_registry: Registry, tmp_path: Path, how: str) -> None:
    """A published set is its folder: an include or import leading out of it (by .., an
    absolute path, a file: URL or a symbolic link) is refused, and the file there is never
    stored (a stored file would be published with the registry)."""
    secret = tmp_path / "elsewhere" / "Secret.xsd"
    secret.parent.mkdir()
    secret.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t:secret">'
                      '<xs:element name="Secret" type="xs:string"/></xs:schema>', encoding="utf-8")
    folder = tmp_path / "set"
    folder.mkdir()
    location = {"climbs out": "../elsewhere/Secret.xsd", "absolute": str(secret),
                "file URL": secret.as_uri(), "symbolic link": "Linked.xsd"}[how]
    if how == "symbolic link":
        (folder / "Linked.xsd").symlink_to(secret)
    (folder / "Main.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t:main">'
        f'<xs:import namespace="urn:t:secret" schemaLocation="{location}"/>'
        '<xs:element name="Main" type="xs:string"/></xs:schema>', encoding="utf-8")
    with pytest.raises(EgifError, match="outside the set's folder"):
        add_set(empty_registry, folder)
    assert not [v for v in empty_registry.list() if v.namespace == "urn:t:secret"]


def test_a_republished_module_that_conflicts_is_kept_as_published(empty_registry: Registry,
                                                                 tmp_path: Path) -> None:
    add_set(empty_registry, PUBLISHED / "ratebill")
    folder = tmp_path / "republished"
    shutil.copytree(PUBLISHED / "ratebill", folder)
    types = folder / "AddressTypes-v2-0.xsd"
    types.write_text(types.read_text(encoding="utf-8").replace(
        '<xsd:element name="Contact" type="apd:TelephoneStructure" minOccurs="0"/>',
        '<xsd:element name="Contact" type="apd:TelephoneStructure"/>'), encoding="utf-8")
    (folder / "egif-set.json").write_text(
        '{"modules": {"RateBillReturn-v3-1d.xsd": {"name": "RateBillReturn", "version": "3.1e"}}}',
        encoding="utf-8")
    result = add_set(empty_registry, folder)
    by_path = {e.module.path: e for e in result.entries}
    assert by_path["AddressTypes-v2-0.xsd"].action == "conflict"
    assert "AddressTypes@2.0 is already registered with other content" in by_path["AddressTypes-v2-0.xsd"].message
    main = by_path["RateBillReturn-v3-1d.xsd"]
    assert main.module.naming == "manifest" and main.action == "added" and main.result is not None
    apd = {b.namespace: b for b in main.result.bindings}[APD]
    assert apd.target == "file AddressTypes-v2-0.xsd" and apd.reason == "published"
    assert apd.note is not None
    assert apd.note.startswith("differs from registered AddressTypes@2.0 (diff AddressTypes@2.0 -> supplied file:")
    # a required element where the registered version had an optional one: older documents break
    assert "breaking" in apd.note or "forward" in apd.note


def test_add_set_cli_dry_run_and_json(registry_path: Path) -> None:
    dry = run_egif("schema", "add-set", str(PUBLISHED / "courtlist"), "--dry-run", registry=registry_path)
    assert dry.returncode == 0, dry.stderr
    assert "would add DailyList@1.0" in dry.stdout and "dry run: nothing was stored" in dry.stdout
    listed = run_egif("schema", "list", "--name", "DailyList", registry=registry_path)
    assert "DailyList" not in listed.stdout
    done = run_egif("schema", "add-set", str(PUBLISHED / "courtlist"), "--format", "json", registry=registry_path)
    assert done.returncode == 0, done.stderr
    import json

    data = json.loads(done.stdout)
    actions = {m["path"]: m["action"] for m in data["modules"]}
    assert actions["DailyList-v1-0.xsd"] == actions["WarnedList-v1-0.xsd"] == "added"
    assert actions["AddressAndPersonalDetails-v2-0.xsd"] == "conflict"
    assert "CommonSimpleTypes_CS-v1-0.xsd" in data["parts"]


def test_chameleon_include_and_redefine_compile_as_libxml2_does(empty_registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "Base-v1-0.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:simpleType name="CodeType"><xs:restriction base="xs:string"><xs:maxLength value="10"/>'
        '</xs:restriction></xs:simpleType></xs:schema>', encoding="utf-8")
    (tmp_path / "Main-v1-0.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:m="urn:m" targetNamespace="urn:m" '
        'elementFormDefault="qualified"><xs:redefine schemaLocation="Base-v1-0.xsd">'
        '<xs:simpleType name="CodeType"><xs:restriction base="m:CodeType"><xs:pattern value="[A-Z]+"/>'
        '</xs:restriction></xs:simpleType></xs:redefine><xs:element name="Code" type="m:CodeType"/></xs:schema>',
        encoding="utf-8")
    docs = []
    for name, value in (("valid.xml", "ABC"), ("invalid-case.xml", "abc"), ("invalid-long.xml", "ABCDEFGHIJK")):
        (tmp_path / name).write_text(f'<Code xmlns="urn:m">{value}</Code>', encoding="utf-8")
        docs.append(tmp_path / name)
    empty_registry.add(tmp_path / "Main-v1-0.xsd", name="Main", version="1.0")
    expected = libxml2_verdicts(tmp_path / "Main-v1-0.xsd", docs)
    assert egif_verdicts(empty_registry, "Main@1.0", docs) == expected == {
        "valid.xml": True, "invalid-case.xml": False, "invalid-long.xml": False}


def test_an_import_nothing_provides_is_skipped_unless_used(empty_registry: Registry, tmp_path: Path) -> None:
    unused = tmp_path / "Unused-v1-0.xsd"
    unused.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:u">'
                      '<xs:import namespace="urn:nobody" schemaLocation="Gone-v1-0.xsd"/>'
                      '<xs:element name="E" type="xs:string"/></xs:schema>', encoding="utf-8")
    result = empty_registry.add(unused, name="Unused", version="1.0")
    assert [(b.target, b.reason) for b in result.bindings] == [("nothing", "unbound")]
    assert any("urn:nobody" in n and "skipped" in n for n in result.notes)
    empty_registry.resolve("Unused@1.0").xmlschema_schema()  # no reader trips over the missing file
    used = tmp_path / "Used-v1-0.xsd"
    used.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:n="urn:nobody" '
                    'targetNamespace="urn:u"><xs:import namespace="urn:nobody" schemaLocation="Gone-v1-0.xsd"/>'
                    '<xs:element name="E" type="n:T"/></xs:schema>', encoding="utf-8")
    with pytest.raises(SchemaCompileError, match="neither supplied nor registered"):
        empty_registry.add(used, name="Used", version="1.0")


def test_files_mode_reads_nothing_outside_the_set(empty_registry: Registry) -> None:
    schema = b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a">%s</xs:schema>'
    part = b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:a">' \
           b'<xs:element name="E" type="xs:string"/></xs:schema>'
    ok = empty_registry.add("A-v1-0.xsd", name="A", version="1.0", files={
        "A-v1-0.xsd": schema % b'<xs:include schemaLocation="parts/P.xsd"/>', "parts/P.xsd": part})
    assert {f.path for f in ok.version.files} == {"A-v1-0.xsd", "parts/P.xsd"}
    for location, message in (("/etc/passwd", "not a relative path inside the set"),
                              ("file:///etc/passwd", "points to the network"),
                              ("../../etc/passwd", "points outside the set"),
                              ("parts\\P.xsd", "not a relative path inside the set")):
        with pytest.raises(InputError, match=message):
            empty_registry.add("B-v1-0.xsd", name="B", version="1.0", files={
                "B-v1-0.xsd": schema % f'<xs:include schemaLocation="{location}"/>'.encode()})
    for bad in ("/abs.xsd", "../up.xsd", "a//b.xsd", "dir/CON.xsd", "x\x00.xsd", "C:/x.xsd"):
        with pytest.raises(InputError, match="path"):
            empty_registry.add(bad, name="C", version="1.0", files={bad: part})
    assert [str(v.ref) for v in empty_registry.list()] == ["A@1.0"]


def test_versions_may_carry_a_revision_letter() -> None:
    assert parse_version("3.1d") == (3, 1)
    assert sorted(["3.2", "3.1d", "3.1", "3.1a", "2.10"], key=version_order) == ["2.10", "3.1", "3.1a", "3.1d",
                                                                              "3.2"]
    with pytest.raises(InputError):
        parse_version("3.1-HMRC")


def test_a_file_the_caller_names_is_kept_even_when_a_registered_version_equals_it(
        empty_registry: Registry) -> None:
    dep = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:d">'
           b'<xs:simpleType name="T"><xs:restriction base="xs:string"/></xs:simpleType></xs:schema>')
    main = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:d="urn:d" targetNamespace="urn:m">'
            b'<xs:import namespace="urn:d" schemaLocation="lib/D.xsd"/><xs:element name="E" type="d:T"/>'
            b'</xs:schema>')
    empty_registry.add("D.xsd", name="D", version="1.0", files={"D.xsd": dep})
    # as a pull applies a published index: the bundled file is named, and paths are kept as given
    kept = empty_registry.add("sub/M.xsd", name="M", version="1.0", files={"sub/M.xsd": main,
                              "sub/lib/D.xsd": dep}, imports={"urn:d": "sub/lib/D.xsd"})
    assert {f.path for f in kept.version.files} == {"sub/M.xsd", "sub/lib/D.xsd"}
    assert [(b.target, b.reason) for b in kept.bindings] == [("file sub/lib/D.xsd", "explicit")]
    # left to the default, the same bytes are recorded as the registered version
    deduped = empty_registry.add("sub/M.xsd", name="M", version="1.1", files={"sub/M.xsd": main,
                                 "sub/lib/D.xsd": dep})
    assert [(b.target, b.reason) for b in deduped.bindings] == [("D@1.0", "identical")]
    assert {f.path for f in deduped.version.files} == {"sub/M.xsd"}
