"""``egif validate`` in a real subprocess: formats, exit codes, inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from lxml import etree

from egif.render import FINDING_KEYS
from egif.shipped import fixtures_dir

FX = fixtures_dir()
GOOD = str(FX / "bs7666/2.0/valid/full-address.xml")
BAD = str(FX / "bs7666/2.0/invalid/postcode-inward-c.xml")
RULE_BAD = str(FX / "gazetteer/1.0/invalid/two-preferred-addresses.xml")


def test_exit_codes_and_text(egif_cli: Any) -> None:
    ok = egif_cli("validate", GOOD)
    assert ok.returncode == 0 and "valid (BS7666@2.0)" in ok.stdout
    bad = egif_cli("validate", GOOD, BAD)
    assert bad.returncode == 1
    assert f"{BAD}:12: error [xsd:cvc-pattern-valid] /BS7666Address/PostCode:" in bad.stdout
    assert bad.stdout.rstrip().endswith("2 files: 1 valid, 1 invalid; 1 error")
    missing = egif_cli("validate", GOOD, "/nonexistent/x.xml")
    assert missing.returncode == 2 and "no such file" in missing.stdout


def test_json_keys_are_stable(egif_cli: Any) -> None:
    result = egif_cli("validate", "--format", "json", BAD, RULE_BAD)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [tuple(d) for d in data] == [FINDING_KEYS] * len(data)
    rules = {d["rule"] for d in data}
    assert {"xsd:cvc-pattern-valid", "GZE-R3"} <= rules
    gze = next(d for d in data if d["rule"] == "GZE-R3")
    assert gze["record"] == 3 and gze["line"] == 42 and gze["file"] == RULE_BAD


def test_junit_one_testcase_per_file(egif_cli: Any) -> None:
    result = egif_cli("validate", "--format", "junit", GOOD, BAD)
    root = etree.fromstring(result.stdout.encode())
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [GOOD, BAD]
    assert cases[0].find("failure") is None and cases[1].find("failure") is not None
    assert root.find("testsuite").get("failures") == "1"  # type: ignore[union-attr]


def test_stdin_and_schema_option(egif_cli: Any) -> None:
    data = Path(BAD).read_bytes()
    result = egif_cli("validate", "--schema", "BS7666@2.0", "-", input=data)
    assert result.returncode == 1 and "<stdin>:12:" in result.stdout
    unknown = egif_cli("validate", "--schema", "Nope@1.0", GOOD)
    assert unknown.returncode == 2 and unknown.stderr.startswith("egif: error:")


def test_dir_and_glob(egif_cli: Any) -> None:
    folder = FX / "gazetteer/1.0/valid"
    by_dir = egif_cli("validate", str(folder))
    by_glob = egif_cli("validate", str(folder / "*.xml"))
    assert by_dir.returncode == by_glob.returncode == 0
    assert by_dir.stdout == by_glob.stdout
    none = egif_cli("validate", str(folder / "*.nothing"))
    assert none.returncode == 2


def test_against_all_matrix(egif_cli: Any) -> None:
    doc = str(FX / "gazetteer/1.1/valid/record-with-grid-reference.xml")
    result = egif_cli("validate", "--against-all", "--format", "json", doc)
    assert result.returncode == 0
    assert json.loads(result.stdout) == [{"file": doc, "standard": "GazetteerExtract", "versions": {
        "GazetteerExtract@1.0": False, "GazetteerExtract@1.1": True}}]
    text = egif_cli("validate", "--against-all", doc)
    assert "GazetteerExtract@1.0" in text.stdout and text.stdout.splitlines()[2].split()[1:] == ["no", "yes"]


def test_progress_silent_when_not_a_tty(egif_cli: Any) -> None:
    result = egif_cli("validate", GOOD)
    assert result.stderr == ""


def test_help_documents_exit_codes(egif_cli: Any) -> None:
    result = egif_cli("validate", "--help")
    assert result.returncode == 0
    for words in ("0  every document is valid", "1  at least one document is invalid", "2  usage error"):
        assert words in result.stdout


def test_validate_imports_only_what_it_uses(registry_path: Path) -> None:
    """Fast start: `egif validate` never imports the diff, the linter, the generator or
    hypothesis (an optional extra)."""
    code = ("import sys\nfrom egif_cli.app import main\n"
            f"sys.argv = ['egif', '--registry', {str(registry_path)!r}, 'validate', {GOOD!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stderr.split())
    assert "egif.validate" in loaded
    for heavy in ("hypothesis", "egif.diff", "egif.lint", "egif.generate", "xmlschema"):
        assert heavy not in loaded, heavy


def test_generated_documents_say_what_to_install_without_hypothesis() -> None:
    code = ("import sys\nsys.modules['hypothesis'] = None\n"
            "from egif.generate import documents\n"
            "try:\n    documents(None)\nexcept ModuleNotFoundError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'egif[evidence]'" in out.stdout
