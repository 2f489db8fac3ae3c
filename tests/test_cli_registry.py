"""The registry and schema commands, through the real CLI in a subprocess (issue 2)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from .conftest import DATA, run_egif

MULTI = DATA / "multifile"


def one_line_error(proc: Any) -> str:
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return str(lines[0])


def test_zero_configuration_first_call_creates_a_seeded_registry(tmp_path: Path) -> None:
    env = {"EGIF_REGISTRY": "", "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = run_egif("schema", "list", "--format", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    names = {item["name"] for item in json.loads(proc.stdout)}
    assert {"BS7666", "GazetteerExtract"} <= names
    created = list((tmp_path / "data").rglob("registry.sqlite"))
    assert len(created) == 1 and created[0].parent.name == "egif"


def test_registry_init_and_global_option(tmp_path: Path) -> None:
    path = tmp_path / "team.sqlite"
    proc = run_egif("registry", "init", str(path))
    assert proc.returncode == 0 and "created registry" in proc.stdout
    again = run_egif("registry", "init", str(path))
    assert again.returncode == 0 and "already a registry" in again.stdout
    listed = run_egif("--registry", str(path), "schema", "list")
    assert listed.returncode == 0 and "BS7666@2.0" in listed.stdout
    empty = tmp_path / "empty.sqlite"
    assert run_egif("registry", "init", "--empty", str(empty)).returncode == 0
    assert run_egif("--registry", str(empty), "schema", "list").stdout.strip() == "no schema versions match"


def test_add_show_list_export(any_cli: Any, tmp_path: Path) -> None:
    egif_cli = any_cli
    ok = egif_cli("schema", "add", str(MULTI / "b" / "Beta-v1-0.xsd"), "--name", "Beta", "--version", "1.0")
    assert ok.returncode == 0, ok.stderr
    assert "added Beta@1.0 (draft)" in ok.stdout
    egif_cli("schema", "add", str(MULTI / "c" / "Gamma-v1-0.xsd"), "--name", "Gamma", "--version", "1.0")
    add = egif_cli("schema", "add", str(MULTI / "a" / "Alpha-v1-0.xsd"), "--name", "Alpha",
                   "--version", "1.0", "--import", "urn:egif:test:b=Beta@1.0")
    assert add.returncode == 0, add.stderr
    assert "import urn:egif:test:b -> Beta@1.0 (explicit: --import Beta@1.0)" in add.stdout
    assert "import urn:egif:test:c -> Gamma@1.0 (identical: Gamma-v1-0.xsd supplied with the schema is " \
        "byte-identical to Gamma@1.0)" in add.stdout
    again = egif_cli("schema", "add", str(MULTI / "a" / "Alpha-v1-0.xsd"), "--name", "Alpha",
                     "--version", "1.0", "--import", "urn:egif:test:b=Beta@1.0")
    assert again.returncode == 0 and again.stdout.startswith("unchanged")

    show = json.loads(egif_cli("schema", "show", "Alpha@1.0", "--format", "json").stdout)
    assert show["namespace"] == "urn:egif:test:a"
    assert show["added_by"] == "tester@example.org"
    assert [f["path"] for f in show["files"]] == ["Alpha-v1-0.xsd", "parts/AlphaParts-v1-0.xsd"]
    assert {i["namespace"]: i["target"] for i in show["imports"]} == {
        "urn:egif:test:b": "Beta@1.0", "urn:egif:test:c": "Gamma@1.0"}
    text = egif_cli("schema", "show", "BS7666@2.0").stdout
    assert "e-GMS metadata:" in text and "digest:    sha256:" in text

    listed = json.loads(egif_cli("schema", "list", "--status", "draft", "--format", "json").stdout)
    assert {(i["name"], i["version"]) for i in listed} >= {("Alpha", "1.0"), ("Beta", "1.0")}
    by_ns = json.loads(egif_cli("schema", "list", "--namespace", "urn:egif:test:c", "--format", "json").stdout)
    assert [i["name"] for i in by_ns] == ["Gamma"]

    out = tmp_path / "export"
    exp = egif_cli("schema", "export", "Alpha@1.0", str(out))
    assert exp.returncode == 0, exp.stderr
    schema = etree.XMLSchema(etree.parse(str(out / "Alpha" / "1.0" / "Alpha-v1-0.xsd"),
                                         etree.XMLParser(no_network=True)))
    assert schema.validate(etree.parse(str(MULTI / "order-valid.xml")))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["schema", "add", "{tmp}/missing.xsd", "--name", "X", "--version", "1.0"], "missing.xsd: no such file"),
        (["schema", "add", "{tmp}/notxml.xsd", "--name", "X", "--version", "1.0"], "not well-formed XML"),
        (["schema", "add", "{tmp}/notschema.xsd", "--name", "X", "--version", "1.0"], "not an XML Schema"),
        (["schema", "add", "{tmp}/noimport.xsd", "--name", "X", "--version", "1.0"],
         "neither supplied nor registered"),
        (["schema", "add", "{tmp}/notschema.xsd", "--name", "X", "--version", "one"], "invalid version"),
        (["schema", "show", "Nobody@1.0"], "no standard Nobody in the registry"),
        (["schema", "export", "Nobody@1.0", "{tmp}/out"], "no standard Nobody in the registry"),
        (["--registry", "{tmp}/notxml.xsd", "schema", "list"], "not an egif registry"),
    ],
)
def test_bad_input_exits_2_with_one_line(any_cli: Any, tmp_path: Path, args: list[str], fragment: str) -> None:
    egif_cli = any_cli
    (tmp_path / "notxml.xsd").write_text("hello, not xml")
    (tmp_path / "notschema.xsd").write_text("<root/>")
    (tmp_path / "noimport.xsd").write_text(
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:n="urn:egif:nobody">'
        '<xsd:import namespace="urn:egif:nobody"/><xsd:element name="E" type="n:T"/></xsd:schema>')
    proc = egif_cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert line.startswith("egif: error: ") and fragment in line


def test_cli_adds_drafts_only(any_cli: Any) -> None:
    """Promotion is the lifecycle's job: no way to add a ratified version directly."""
    egif_cli = any_cli
    proc = egif_cli("schema", "add", str(MULTI / "b" / "Beta-v1-0.xsd"), "--name", "Beta", "--version", "1.0",
                    "--status", "ratified")
    assert proc.returncode == 2 and "No such option" in proc.stderr
    ok = egif_cli("schema", "add", str(MULTI / "b" / "Beta-v1-0.xsd"), "--name", "Beta", "--version", "1.0",
                  "--format", "json")
    assert json.loads(ok.stdout)["status"] == "draft"


def test_usage_errors_exit_2(egif_cli: Any) -> None:
    proc = egif_cli("schema", "add")
    assert proc.returncode == 2 and "Missing argument" in proc.stderr
    bad = egif_cli("schema", "add", "x.xsd", "--name", "X", "--version", "1.0", "--import", "nonsense")
    assert bad.returncode == 2 and "--import" in bad.stderr


def test_console_script_and_python_m_agree(registry_path: Path) -> None:
    script = Path(sys.executable).parent / "egif"
    if not script.exists():
        found = shutil.which("egif")
        assert found, "the egif console script is installed with the package"
        script = Path(found)
    import subprocess

    a = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    b = run_egif("--version")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and "egif" in a.stdout
