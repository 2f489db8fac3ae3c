"""./dev installs only when pyproject.toml (or Python) changed, and only what the command needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .conftest import REPO

# Stands in for the venv's interpreter: records how it was called instead of installing or running.
FAKE_PYTHON = """#!/bin/sh
if [ "$1" = "-c" ]; then echo "3.11.fake"; exit 0; fi
echo "$*" >>"$(dirname "$0")/../calls"
"""


def _project(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "clone"
    project.mkdir()
    shutil.copy(REPO / "dev", project / "dev")
    shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON, encoding="utf-8")
    python.chmod(0o755)
    for tool in ("ruff", "mypy"):
        (venv / "bin" / tool).symlink_to(python)
    return project, venv


def _run(project: Path, venv: Path, *args: str) -> list[str]:
    calls = venv / "calls"
    calls.unlink(missing_ok=True)
    proc = subprocess.run([str(project / "dev"), *args], env={"PATH": "/usr/bin:/bin", "EGIF_VENV": str(venv)},
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


def test_demo_installs_egif_alone_once(tmp_path: Path) -> None:
    project, venv = _project(tmp_path)
    assert _run(project, venv, "demo") == ["-m pip install --quiet -e .", "-m egif_cli.demo"]
    assert _run(project, venv, "demo") == ["-m egif_cli.demo"]


def test_test_installs_the_test_extra_which_then_serves_the_demo(tmp_path: Path) -> None:
    project, venv = _project(tmp_path)
    assert _run(project, venv, "demo")[0] == "-m pip install --quiet -e ."
    calls = _run(project, venv, "test", "-q")
    assert calls[0] == "-m pip install --quiet -e .[test]"
    assert calls[-1] == "-m pytest -q"
    again = _run(project, venv, "test")
    assert again[-1] == "-m pytest"
    assert not [call for call in again if "pip" in call]
    assert _run(project, venv, "demo") == ["-m egif_cli.demo"]


def test_a_changed_pyproject_installs_again(tmp_path: Path) -> None:
    project, venv = _project(tmp_path)
    _run(project, venv, "demo")
    with open(project / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# a new dependency would go here\n")
    assert _run(project, venv, "demo")[0] == "-m pip install --quiet -e ."
    assert _run(project, venv, "demo") == ["-m egif_cli.demo"]
