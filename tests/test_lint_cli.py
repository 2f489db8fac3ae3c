"""``egif lint`` run as a real subprocess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from egif import Registry
from egif.lint import RULES

DATA = Path(__file__).resolve().parent / "data" / "lint"
CLEAN = DATA / "clean" / "LintClean-v1-0.xsd"
BAD_NAME = DATA / "bad" / "upper-camel-case" / "LintClean-v1-0.xsd"
WARN_ONLY = DATA / "bad" / "documentation" / "LintClean-v1-0.xsd"


def test_clean_file_exits_0(egif_cli: Any) -> None:
    r = egif_cli("lint", str(CLEAN))
    assert r.returncode == 0, r.stderr
    assert "0 error(s), 0 warning(s), 0 info" in r.stdout


def test_errors_exit_1_with_file_line_and_rule(egif_cli: Any) -> None:
    r = egif_cli("lint", str(BAD_NAME))
    assert r.returncode == 1
    line = r.stdout.splitlines()[0]
    assert line.startswith(f"{BAD_NAME}:74: error: [upper-camel-case] ")
    assert "record_code" in line


def test_warnings_alone_exit_0(egif_cli: Any) -> None:
    r = egif_cli("lint", str(WARN_ONLY))
    assert r.returncode == 0
    assert "warning: [documentation]" in r.stdout


def test_json_output(egif_cli: Any) -> None:
    r = egif_cli("lint", str(BAD_NAME), "--format", "json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert data["ok"] is False
    assert data["counts"] == {"error": 1, "warning": 0, "info": 0}
    (finding,) = data["findings"]
    assert finding["rule"] == "upper-camel-case"
    assert finding["line"] == 74
    assert finding["file"] == str(BAD_NAME)


def test_disable_and_severity_options(egif_cli: Any) -> None:
    r = egif_cli("lint", str(BAD_NAME), "--disable", "upper-camel-case")
    assert r.returncode == 0
    assert "[upper-camel-case]" not in r.stdout
    r = egif_cli("lint", str(BAD_NAME), "--severity", "upper-camel-case=info")
    assert r.returncode == 0
    assert "info: [upper-camel-case]" in r.stdout
    r = egif_cli("lint", str(WARN_ONLY), "--severity", "documentation=error")
    assert r.returncode == 1


def test_bad_input_exits_2_with_one_line(egif_cli: Any, tmp_path: Path) -> None:
    for args in (["lint", str(tmp_path / "missing.xsd")],
                 ["lint", "NoSuchStandard@1.0"],
                 ["lint", str(CLEAN), "--disable", "no-such-rule"],
                 ["lint", str(CLEAN), "--severity", "wildcard=fatal"],
                 ["lint", str(CLEAN), "--severity", "wildcard"],
                 ["lint", "--explain", "no-such-rule"],
                 ["lint"]):
        r = egif_cli(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        assert r.stderr.strip(), args


def test_explain_and_rules(egif_cli: Any) -> None:
    r = egif_cli("lint", "--explain", "explicit-character-class")
    assert r.returncode == 0
    assert r.stdout.startswith("explicit-character-class (error, R9): ")
    r = egif_cli("lint", "--rules", "--format", "json")
    assert r.returncode == 0
    assert [row["id"] for row in json.loads(r.stdout)] == list(RULES)


def test_registered_version_by_reference(egif_cli: Any) -> None:
    r = egif_cli("lint", "BS7666@2.0")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("BS7666@2.0: ok:")


def test_registry_settings_apply(egif_cli: Any, registry_path: Path) -> None:
    with Registry.open(registry_path, actor="tester@example.org") as reg:
        reg.add(BAD_NAME, name="LintClean", version="1.0")
    assert egif_cli("lint", "LintClean@1.0").returncode == 1
    with Registry.open(registry_path, actor="tester@example.org") as reg, reg.store.transaction():
        reg.store.set_config("lint", {"severity": {"upper-camel-case": "warning"}})
    r = egif_cli("lint", "LintClean@1.0")
    assert r.returncode == 0
    assert "LintClean@1.0/LintClean-v1-0.xsd:74: warning: [upper-camel-case]" in r.stdout
    # the registry's settings also apply to files while that registry is in use ...
    assert egif_cli("lint", str(BAD_NAME)).returncode == 0
    # ... and the command line goes on top
    assert egif_cli("lint", str(BAD_NAME), "--severity", "upper-camel-case=error").returncode == 1


def test_file_lint_does_not_create_a_registry(tmp_path: Path) -> None:
    from tests.conftest import run_egif

    target = tmp_path / "never-created.sqlite"
    r = run_egif("lint", str(CLEAN), registry=target)
    assert r.returncode == 0
    assert not target.exists()
