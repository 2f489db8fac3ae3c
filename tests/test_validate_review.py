"""What an end-to-end review of ``egif validate`` turned up, each pinned by a test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lxml import etree

from egif import Registry, Severity
from egif.shipped import fixtures_dir
from egif.validate import Session, Validator

FX = fixtures_dir()
OLD_ADDRESS = FX / "bs7666/1.0/valid/full-address.xml"
TWO_ERRORS = FX / "bs7666/2.0/invalid/description-empty.xml"
GOOD = FX / "bs7666/2.0/valid/full-address.xml"


def test_an_older_version_the_document_conforms_to_is_chosen(registry: Registry) -> None:
    """A BS 7666 1.0 address names no version: it is checked against 1.0, which it conforms
    to, not reported invalid against the newest (2.0); an info finding says why."""
    result = Session(registry).check(OLD_ADDRESS)
    assert result.valid and result.schema == "BS7666@1.0"
    [note] = [f for f in result.findings if f.rule == "version:detected"]
    assert note.severity == Severity.INFO
    assert "BS7666@1.0" in note.message and "BS7666@2.0" in note.message
    # named explicitly, the version is the one named
    named = Session(registry, schema="BS7666@2.0").check(OLD_ADDRESS)
    assert not named.valid and not [f for f in named.findings if f.rule == "version:detected"]
    # invalid against every version: reported against the newest ratified, the others named
    everywhere = Session(registry).check(TWO_ERRORS)
    assert everywhere.schema == "BS7666@2.0" and not everywhere.valid
    [considered] = [f for f in everywhere.findings if f.rule == "version:detected"]
    assert "conforms to none" in considered.message and "BS7666@1.0" in considered.message


def test_max_errors_marks_the_result_truncated(registry: Registry, egif_cli: Any) -> None:
    result = Validator.for_version(registry, "BS7666@2.0", max_errors=1).check(TWO_ERRORS)
    assert len(result.errors) == 1 and result.truncated and result.to_dict()["truncated"] is True
    assert not Validator.for_version(registry, "BS7666@2.0").check(TWO_ERRORS).truncated
    out = egif_cli("validate", "--max-errors", "1", "--schema", "BS7666@2.0", str(TWO_ERRORS))
    assert out.returncode == 1
    assert f"{TWO_ERRORS}: invalid against BS7666@2.0 (stopped after 1 error)" in out.stdout.splitlines()
    full = egif_cli("validate", "--max-errors", "2", "--schema", "BS7666@2.0", str(TWO_ERRORS))
    assert [line for line in full.stdout.splitlines() if line.endswith("(stopped after 2 errors)")]


def test_a_file_named_twice_is_checked_once(egif_cli: Any) -> None:
    pattern = str(GOOD.parent / "full-*.xml")
    out = egif_cli("validate", str(GOOD), pattern, str(GOOD.parent), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    text = egif_cli("validate", str(GOOD), pattern)
    assert text.stdout.count(f"{GOOD}: valid") == 1 and "1 file:" in text.stdout


def test_against_all_junit(egif_cli: Any) -> None:
    out = egif_cli("validate", "--against-all", "--format", "junit", str(TWO_ERRORS), str(OLD_ADDRESS))
    assert out.returncode == 1  # one document satisfies no version
    root = etree.fromstring(out.stdout.encode())
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == [str(TWO_ERRORS), str(OLD_ADDRESS)]
    assert cases[0].find("failure") is not None and cases[1].find("failure") is None
    assert "BS7666@1.0: yes" in (cases[1].findtext("system-out") or "")
    assert root.get("tests") == "2" and root.get("failures") == "1"


def test_against_all_junit_all_conforming_exit_0(egif_cli: Any, tmp_path: Path) -> None:
    out = egif_cli("validate", "--against-all", "--format", "junit", str(GOOD))
    assert out.returncode == 0
    assert etree.fromstring(out.stdout.encode()).get("failures") == "0"
