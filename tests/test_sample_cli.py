"""``egif sample`` and the ``./dev demo`` main job, through real subprocesses."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from egif_cli.app import cli

from egif.sample import write_sample

from .conftest import REPO


def test_sample_to_file_is_deterministic_and_summarised(egif_cli: Any, tmp_path: Path) -> None:
    one, two = tmp_path / "one.xml", tmp_path / "two.xml"
    args = ("sample", "gazetteer", "--count", "300", "--seed", "8", "--invalid-rate", "0.05")
    r1 = egif_cli(*args, "-o", str(one), "--report", str(tmp_path / "report.json"))
    r2 = egif_cli(*args, "-o", str(two))
    assert r1.returncode == 0 and r2.returncode == 0, r1.stderr
    assert one.read_bytes() == two.read_bytes()
    buf = io.BytesIO()
    expected = write_sample("gazetteer", buf, count=300, seed=8, invalid_rate=0.05)
    assert one.read_bytes() == buf.getvalue()
    assert r1.stdout == ""
    summary = r1.stderr.strip()
    assert summary.count("\n") == 0
    assert "300 records" in summary and f"{expected.bytes:,} bytes" in summary
    assert f"{len(expected.invalid)} invalid record" in summary
    report = json.loads((tmp_path / "report.json").read_text())
    assert report == expected.to_dict()
    assert [(r["record"], r["line"]) for r in report["invalid"]] == [
        (r.record, r.line) for r in expected.invalid]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_sample_to_stdout(egif_cli: Any) -> None:
    result = egif_cli("sample", "persons", "-n", "5", "--seed", "2")
    assert result.returncode == 0, result.stderr
    buf = io.BytesIO()
    write_sample("persons", buf, count=5, seed=2)
    assert result.stdout == buf.getvalue().decode("utf-8")
    assert result.stderr == ""


def test_sample_size_and_version(egif_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "g.xml"
    result = egif_cli("sample", "gazetteer", "--size", "100kB", "--version", "1.1", "--seed", "3",
                      "-o", str(out))
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert len(data) >= 100_000 and b'version="1.1"' in data and b"<RecordCount>" not in data
    valid = egif_cli("validate", str(out))
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_sample_list_faults() -> None:
    result = CliRunner().invoke(cli, ["sample", "persons", "--list-faults"])
    assert result.exit_code == 0
    assert "ni-prefix-gb" in result.stdout and "family-name-36" in result.stdout
    assert "birth-in-future" in result.stdout and "PDT-R1" in result.stdout


@pytest.mark.parametrize("args", [
    ("gazetteer",),  # neither --count nor --size
    ("gazetteer", "-n", "3", "--size", "1MB"),
    ("gazetteer", "-n", "3", "--fault", "ni-prefix-gb"),
    ("gazetteer", "-n", "3", "--version", "7.0"),
    ("gazetteer", "-n", "3", "--invalid-rate", "2"),
    ("gazetteer", "-n", "3", "--size", "lots"),
    ("gazetteer", "-n", "3", "--seed", "-4"),
    ("dogs", "-n", "3"),
])
def test_sample_usage_errors_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(cli, ["sample", *args, "-o", str(out / "never.xml")])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert list(out.iterdir()) == []


def test_sample_usage_error_in_a_real_process(egif_cli: Any, tmp_path: Path) -> None:
    result = egif_cli("sample", "gazetteer", "-n", "3", "--fault", "nope", "-o", str(tmp_path / "x.xml"))
    assert result.returncode == 2
    assert result.stderr.startswith("egif: error: unknown fault kind 'nope' for gazetteer")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "x.xml").exists()


def test_sample_unwritable_output(egif_cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "x.xml"
    result = egif_cli("sample", "gazetteer", "-n", "3", "-o", str(target))
    assert result.returncode == 2
    assert result.stderr.startswith(f"egif: error: {target}: cannot write")


def run_demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "egif_cli.demo", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300, check=False)


def test_demo_finds_exactly_the_planted_errors(tmp_path: Path) -> None:
    result = run_demo(tmp_path, "--count", "3000", "--invalid-rate", "0.01")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo OK" in result.stdout
    assert (tmp_path / "data" / "egif" / "registry.sqlite").exists()  # the per-user registry, made on first use
    export = tmp_path / "cache" / "egif" / "demo" / "gazetteer-3000-seed1.xml"
    assert export.exists()
    buf = io.BytesIO()
    report = write_sample("gazetteer", buf, count=3000, seed=1, invalid_rate=0.01, faults=("all",))
    assert export.read_bytes() == buf.getvalue()
    assert result.stdout.count("expected: deliberate") == len(report.invalid) > 0
    for r in report.invalid:
        assert f"line {r.line} (record {r.record})" in result.stdout


def test_demo_defaults_run_from_the_repository(tmp_path: Path) -> None:
    """What ``./dev demo`` runs: 20,000 records, seed 1, zero configuration."""
    assert "-m egif_cli.demo" in (REPO / "dev").read_text()
    result = run_demo(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "20,000 records" in result.stdout and "demo OK" in result.stdout
