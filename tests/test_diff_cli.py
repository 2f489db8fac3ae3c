"""The diff on the shipped histories, the CLI in a subprocess, and the generator."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from egif import Registry
from egif.diff import Counterexample, DiffResult, check_bump, diff_refs
from egif.diff.decide import Direction
from egif.generate import DocumentGenerator, sample_documents

CASES = Path(__file__).resolve().parent / "data" / "diff"


def test_bs7666_history_is_breaking_and_needs_a_major_version(registry: Registry) -> None:
    result = diff_refs(registry, "BS7666@1.0", "BS7666@2.0", samples=20)
    assert result.verdict == "breaking"
    assert result.implied_bump == "major"
    assert result.bump_check is not None and result.bump_check.agrees is True
    rules = {(c.rule, c.path.rsplit("}", 1)[-1]) for c in result.changes}
    assert ("global-element-removed", "Postcode") in rules
    assert ("global-element-added", "PostCode") in rules
    paon = [c for c in result.changes if c.path.endswith("}PAON") and c.rule == "content-kind-changed"]
    assert paon and not paon[0].backward and not paon[0].forward
    ev = result.evidence
    assert ev is not None and ev["backward"].fixtures_checked > 0
    assert ev["backward"].fixtures_refused > 0  # old fixtures really fail under 2.0


def test_apd_history_is_breaking(registry: Registry) -> None:
    result = diff_refs(registry, "AddressAndPersonalDetails@1.0", "AddressAndPersonalDetails@2.0",
                       samples=10)
    assert result.verdict == "breaking"
    rules = {c.rule for c in result.changes}
    assert {"import-added", "import-rebound", "global-element-removed"} <= rules
    removed = {c.path.rsplit("}", 1)[-1] for c in result.changes if c.rule == "global-element-removed"}
    assert "CitizenDetails" in removed


def test_gazetteer_minor_version_is_backward_compatible(registry: Registry) -> None:
    names = {v.version for v in registry.list(name="GazetteerExtract")}
    if "1.1" not in names:
        pytest.skip("GazetteerExtract 1.1 is not shipped")
    result = diff_refs(registry, "GazetteerExtract@1.0", "GazetteerExtract@1.1", samples=20)
    assert result.verdict == "backward"
    assert result.counterexamples == []
    assert result.bump_check is not None and result.bump_check.actual == "minor"
    assert result.bump_check.agrees is True
    back = diff_refs(registry, "GazetteerExtract@1.1", "GazetteerExtract@1.0", samples=20)
    assert back.verdict == "forward"


def test_an_added_identity_constraint_is_witnessed(empty_registry: Registry, tmp_path: Path) -> None:
    # the component walk lists the added xs:unique; the decision proves it breaks old documents
    # with a witness that repeats b, which libxml2 accepts under OLD and refuses under NEW
    body = ('<xs:element name="R"><xs:complexType><xs:sequence>'
            '<xs:element name="b" minOccurs="2" maxOccurs="3" block="#all"><xs:simpleType>'
            '<xs:restriction base="xs:string"><xs:enumeration value="x"/></xs:restriction>'
            '</xs:simpleType></xs:element></xs:sequence></xs:complexType>{extra}</xs:element>')
    head = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x" '
            'xmlns:t="urn:x" elementFormDefault="qualified">')
    old = tmp_path / "old.xsd"
    new = tmp_path / "new.xsd"
    old.write_text(head + body.format(extra="") + "</xs:schema>")
    new.write_text(head + body.format(
        extra='<xs:unique name="OneB"><xs:selector xpath="t:b"/><xs:field xpath="."/></xs:unique>')
        + "</xs:schema>")
    result = diff_refs(empty_registry, str(old), str(new), samples=5)
    assert {c.rule for c in result.changes} == {"identity-constraint-added"}
    assert result.status("backward") == "no" and result.status("forward") == "yes"
    assert result.verdict == "forward" and result.implied_bump == "major"
    witness = result.witnesses[0]
    assert witness.direction == "backward" and witness.document.count(">x</") == 2
    doc = etree.fromstring(witness.document.encode())
    assert etree.XMLSchema(etree.parse(str(old))).validate(doc)
    assert not etree.XMLSchema(etree.parse(str(new))).validate(doc)
    assert result.counterexamples == []


def test_a_counterexample_overturns_a_proven_direction() -> None:
    # the sampled documents are a second check: should one ever contradict a "yes", it wins
    yes = Direction("backward", "yes")
    result = DiffResult("a", "b", [], decision={"backward": yes, "forward": Direction("forward", "yes")})
    assert result.verdict == "identical"
    result.counterexamples.append(Counterexample("backward", "<R/>", "refused", "generated"))
    assert result.status("backward") == "no" and result.verdict == "forward"


def test_check_bump() -> None:
    assert check_bump("1.0", "1.1", "minor").agrees is True
    assert check_bump("1.0", "1.1", "major").agrees is False
    assert check_bump("1.3", "2.0", "minor").agrees is True  # more than needed
    assert check_bump("2.0", "1.0", "minor").actual == "downgrade"
    assert check_bump(None, "1.0", "minor").agrees is None


def test_cli_json_and_require(egif_cli: object) -> None:
    run = egif_cli
    ok = run("diff", "GazetteerExtract@1.0", "GazetteerExtract@1.1", "--format", "json",  # type: ignore[operator]
             "--samples", "5", "--require", "backward")
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert data["verdict"] == "backward" and data["satisfied"] is True
    assert {c["rule"] for c in data["changes"]} >= {"element-added-optional", "enumeration-value-added"}
    short = run("diff", "GazetteerExtract@1.0", "GazetteerExtract@1.1", "--samples", "0",  # type: ignore[operator]
                "--require", "full")
    assert short.returncode == 1
    assert "falls short of --require full" in short.stderr


def test_cli_markdown_with_local_files(egif_cli: object) -> None:
    folder = CASES / "element-optional"
    res = egif_cli("diff", str(folder / "old.xsd"), str(folder / "new.xsd"),  # type: ignore[operator]
                   "--format", "markdown", "--samples", "5")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("## Changes from")
    assert "| `R/b` | element-added-optional |" in res.stdout


def test_cli_bad_input_exits_2(egif_cli: object, tmp_path: Path) -> None:
    missing = egif_cli("diff", "BS7666@9.9", "BS7666@2.0")  # type: ignore[operator]
    assert missing.returncode == 2
    assert missing.stderr.startswith("egif: error:") and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.xsd"
    broken.write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element")
    res = egif_cli("diff", str(broken), "BS7666@2.0")  # type: ignore[operator]
    assert res.returncode == 2
    assert "broken.xsd" in res.stderr and "Traceback" not in res.stderr
    res = egif_cli("diff", str(tmp_path / "nope.xsd"), "BS7666@2.0")  # type: ignore[operator]
    assert res.returncode == 2 and "nope.xsd" in res.stderr


def test_diff_does_not_write_to_the_registry(registry: Registry) -> None:
    before = len(registry.list())
    diff_refs(registry, str(CASES / "nillable" / "old.xsd"), str(CASES / "nillable" / "new.xsd"),
              samples=2)
    assert len(registry.list()) == before


def test_generated_documents_are_valid_and_repeatable(registry: Registry) -> None:
    resolved = registry.resolve("BS7666@2.0")
    first = sample_documents(resolved, 20, seed=7)
    assert first == sample_documents(resolved, 20, seed=7)
    schema = resolved.lxml_schema()
    valid = [d for d in first if schema.validate(etree.fromstring(d))]
    assert len(valid) >= 18
    gen = DocumentGenerator(resolved.xmlschema_schema())
    doc = gen.document(random.Random(1), "BS7666Address")
    assert etree.fromstring(doc).tag == "{http://www.govtalk.gov.uk/people/bs7666}BS7666Address"


SCHEMA_HEAD = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:cli" '
               'xmlns:t="urn:cli" elementFormDefault="qualified">')


def _pair(tmp_path: Path, old_body: str, new_body: str) -> tuple[Path, Path]:
    old, new = tmp_path / "old.xsd", tmp_path / "new.xsd"
    old.write_text(SCHEMA_HEAD + old_body + "</xs:schema>")
    new.write_text(SCHEMA_HEAD + new_body + "</xs:schema>")
    return old, new


def test_cli_shows_witnesses_in_every_format(egif_cli: object, tmp_path: Path) -> None:
    old, new = _pair(tmp_path, '<xs:element name="n" block="#all"><xs:simpleType><xs:restriction base="xs:int">'
                     '</xs:restriction></xs:simpleType></xs:element>',
                     '<xs:element name="n" block="#all"><xs:simpleType><xs:restriction base="xs:int">'
                     '<xs:maxInclusive value="99"/></xs:restriction></xs:simpleType></xs:element>')
    run = egif_cli
    data = json.loads(run("diff", str(old), str(new), "--format", "json", "--samples", "0").stdout)  # type: ignore[operator]
    assert data["verdict"] == "forward" and data["backward"] == "no" and data["forward"] == "yes"
    witness = data["witnesses"][0]
    assert witness["direction"] == "backward" and ">100<" in witness["document"]
    doc = etree.fromstring(witness["document"].encode())
    assert etree.XMLSchema(etree.parse(str(old))).validate(doc)
    assert not etree.XMLSchema(etree.parse(str(new))).validate(doc)
    text = run("diff", str(old), str(new), "--samples", "0")  # type: ignore[operator]
    assert "witness (backward) at /n: value '100' is refused" in text.stdout
    assert ">100</n0:n>" in text.stdout
    md = run("diff", str(old), str(new), "--format", "markdown", "--samples", "0")  # type: ignore[operator]
    assert "### Witnesses" in md.stdout and "```xml" in md.stdout
    short = run("diff", str(old), str(new), "--samples", "0", "--require", "backward")  # type: ignore[operator]
    assert short.returncode == 1 and "falls short of --require backward" in short.stderr


def test_cli_names_what_it_could_not_prove(egif_cli: object, tmp_path: Path) -> None:
    old, new = _pair(tmp_path, '<xs:element name="u" block="#all"><xs:simpleType><xs:restriction base="xs:string">'
                     '<xs:maxLength value="9"/></xs:restriction></xs:simpleType></xs:element>',
                     '<xs:element name="u" block="#all"><xs:simpleType><xs:restriction base="xs:anyURI">'
                     '<xs:maxLength value="9"/></xs:restriction></xs:simpleType></xs:element>')
    res = egif_cli("diff", str(old), str(new), "--format", "json", "--samples", "0")  # type: ignore[operator]
    data = json.loads(res.stdout)
    assert data["backward"] == "not-proven" and data["verdict"] == "breaking"
    assert any("anyURI" in u["construct"] and u["direction"] == "backward" for u in data["not_proven"])
    text = egif_cli("diff", str(old), str(new), "--samples", "0")  # type: ignore[operator]
    assert "backward: not proven (counted as no)" in text.stdout
    assert "not proven at /u:" in text.stdout


def test_an_empty_model_is_never_identical(egif_cli: object, tmp_path: Path) -> None:
    body = '<xs:simpleType name="Code"><xs:restriction base="xs:token"/></xs:simpleType>'
    old, new = _pair(tmp_path, body, body)
    res = egif_cli("diff", str(old), str(new), "--samples", "0", "--require", "backward")  # type: ignore[operator]
    assert res.returncode == 1
    assert "verdict: breaking" in res.stdout
    assert "declares no global element" in res.stdout and "model is empty" in res.stdout


def test_cli_import_binds_the_file_named(egif_cli: object, tmp_path: Path) -> None:
    (tmp_path / "codes.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:codes">'
        '<xs:simpleType name="Code"><xs:restriction base="xs:token"><xs:length value="2"/></xs:restriction>'
        '</xs:simpleType></xs:schema>')
    main = tmp_path / "main.xsd"
    main.write_text(SCHEMA_HEAD.replace('xmlns:t="urn:cli"', 'xmlns:t="urn:cli" xmlns:c="urn:codes"')
                    + '<xs:import namespace="urn:codes" schemaLocation="missing/codes.xsd"/>'
                    '<xs:element name="r"><xs:complexType><xs:attribute name="c" type="c:Code"/>'
                    '</xs:complexType></xs:element></xs:schema>')
    broken = egif_cli("diff", str(main), str(main), "--samples", "0")  # type: ignore[operator]
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    bound = egif_cli("diff", str(main), str(main), "--samples", "0",  # type: ignore[operator]
                     "--import", f"urn:codes={tmp_path / 'codes.xsd'}")
    assert bound.returncode == 0, bound.stderr
    assert "verdict: identical" in bound.stdout


def test_cli_a_crash_is_not_a_verdict(tmp_path: Path) -> None:
    # fault injection in a real subprocess: whatever fails inside the diff exits 2 with one line, never 1
    Registry.init(tmp_path / "r.sqlite", seed=False).close()
    script = (
        "import sys\n"
        "from egif_cli import app\n"
        "import egif_cli.cmd_diff as cmd_diff\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('simulated failure\\nwith a second line')\n"
        "cmd_diff.diff_refs = broken\n"
        "sys.argv = ['egif', '--registry', sys.argv[1], 'diff', 'a.xsd', 'b.xsd', '--require', 'backward']\n"
        "app.main()\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "r.sqlite")], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "egif: internal error in diff: RuntimeError: simulated failure with a second line"
