"""The installable package: a real non-editable wheel (issue 2)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(REPO)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (found,) = out.glob("egif-*.whl")
    return found


def test_wheel_carries_library_cli_and_shipped_schemas(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "egif/__init__.py" in names and "egif/py.typed" in names
    assert "egif_cli/app.py" in names
    assert not any(n.startswith("cli/") for n in names), "the click app must not install as 'cli'"
    shipped = {Path(n).parent.name for n in names if n.startswith("egif/_data/schemas/") and n.endswith("index.json")}
    repo = {p.parent.name for p in (REPO / "schemas").glob("*/index.json")}
    assert shipped == repo and shipped
    assert any(n.startswith("egif/_data/fixtures/") for n in names)
    entry = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "egif = egif_cli.app:main" in entry


def test_installed_wheel_runs_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    env = {**os.environ, "PYTHONPATH": str(target), "XDG_DATA_HOME": str(tmp_path / "data")}
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    run = subprocess.run([sys.executable, "-m", "egif", "schema", "list"], cwd=elsewhere, env=env,
                         capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "BS7666@2.0" in run.stdout
    where = subprocess.run([sys.executable, "-c", "import egif.shipped as s; print(s.schemas_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=False)
    assert where.stdout.strip().startswith(str(target)), where.stdout + where.stderr
