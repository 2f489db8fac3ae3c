"""The diff on the shipped histories, the CLI in a subprocess, and the generator."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from lxml import etree

from egif import Registry
from egif.diff import check_bump, diff_refs
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


def test_evidence_overturns_a_rule_based_verdict(empty_registry: Registry, tmp_path: Path) -> None:
    # identity constraints are not compared by the rules: an added xs:unique
    # looks like no change at all, and only generated documents reveal it
    body = ('<xs:element name="R"><xs:complexType><xs:sequence>'
            '<xs:element name="b" minOccurs="2" maxOccurs="3"><xs:simpleType>'
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
    assert result.rule_verdict == "identical"
    assert result.verdict == "forward"
    assert result.counterexamples and result.counterexamples[0].direction == "backward"
    assert "<b>x</b>" in result.counterexamples[0].document
    assert result.implied_bump == "major"
    rules_only = diff_refs(empty_registry, str(old), str(new), evidence=False)
    assert rules_only.verdict == "identical" and rules_only.evidence is None


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
