""".pre-commit-hooks.yaml: parses, names real commands and options, and works on real files."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from egif_cli.app import cli

from .conftest import DATA, REPO

HOOKS_FILE = REPO / ".pre-commit-hooks.yaml"
VALID = REPO / "fixtures" / "bs7666" / "2.0" / "valid"
INVALID = REPO / "fixtures" / "bs7666" / "2.0" / "invalid"


def _hooks() -> list[dict[str, Any]]:
    hooks = yaml.safe_load(HOOKS_FILE.read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and hooks
    return hooks


def _egif_calls(entry: str) -> list[list[str]]:
    """The egif command lines in a hook's entry: the entry itself, or those inside its ``sh -c``."""
    words = shlex.split(entry)
    if words[0] == "egif":
        return [words[1:]]
    assert words[:2] == ["sh", "-c"], f"an entry runs egif, or sh -c around it: {entry!r}"
    return [shlex.split(found)[1:] for found in re.findall(r"egif [a-z-]+(?: --?[a-z-]+)*", words[2])]


def _check_command_line(words: list[str], extra: list[str] = ()) -> None:  # type: ignore[assignment]
    command: click.Command = cli
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        sub = command.get_command(click.Context(command), words[0])
        assert sub is not None, f"egif has no command {words[0]!r}"
        command, words = sub, words[1:]
    assert not isinstance(command, click.Group), "a hook runs a command, not a group"
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in [*words, *extra]:
        if word.startswith("-"):
            assert word.split("=")[0] in known, f"egif {command.name} has no option {word}"


def test_hooks_parse_with_the_keys_pre_commit_needs() -> None:
    hooks = _hooks()
    ids = [hook["id"] for hook in hooks]
    assert ids == ["egif-validate", "egif-lint"]
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= hook.keys()
        assert hook["language"] == "python", "pre-commit installs egif from this repository"
        re.compile(hook["files"])


def test_entries_name_real_commands_and_options() -> None:
    for hook in _hooks():
        calls = _egif_calls(hook["entry"])
        assert calls, hook["entry"]
        for words in calls:
            _check_command_line(words)


def test_file_patterns_pick_the_files_each_command_reads() -> None:
    hooks = {hook["id"]: re.compile(hook["files"]) for hook in _hooks()}
    assert hooks["egif-validate"].search("exports/a.xml") and hooks["egif-validate"].search("A.XML")
    assert not hooks["egif-validate"].search("schemas/a.xsd")
    assert hooks["egif-lint"].search("schemas/BS7666-v2-0.xsd") and not hooks["egif-lint"].search("a.xml")


def _run_hook(hook_id: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    """As pre-commit runs a hook: its entry's words, then the file names."""
    hook = next(h for h in _hooks() if h["id"] == hook_id)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([*shlex.split(hook["entry"]), *map(str, files)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def test_validate_hook_passes_valid_documents_and_fails_an_invalid_one() -> None:
    good = sorted(VALID.glob("*.xml"))[:3]
    assert _run_hook("egif-validate", good).returncode == 0
    bad = _run_hook("egif-validate", [*good, INVALID / "administrative-area-too-long.xml"])
    assert bad.returncode == 1
    assert "administrative-area-too-long.xml:10: error" in bad.stdout


def test_lint_hook_checks_every_schema_it_is_given() -> None:
    clean = REPO / "fixtures" / "examples" / "HousingBenefitClaim-v1-0.xsd"
    bad = DATA / "lint" / "bad" / "explicit-character-class" / "LintClean-v1-0.xsd"
    assert _run_hook("egif-lint", [clean]).returncode == 0
    failed = _run_hook("egif-lint", [bad, clean])  # the bad one first: the loop goes on after it
    assert failed.returncode == 1
    assert "explicit-character-class" in failed.stdout
    assert "HousingBenefitClaim-v1-0.xsd: ok" in failed.stdout


@pytest.mark.parametrize("block", re.findall(r"```yaml\n(.*?)```", (REPO / "docs" / "precommit.md").read_text(
    encoding="utf-8"), re.S))
def test_documented_configurations_use_hooks_and_options_that_exist(block: str) -> None:
    config = yaml.safe_load(block)
    shipped = {hook["id"]: hook for hook in _hooks()}
    for repo in config["repos"]:
        for hook in repo["hooks"]:
            if repo["repo"] == "local":
                for words in _egif_calls(hook["entry"]):
                    _check_command_line(words, hook.get("args", []))
                continue
            assert hook["id"] in shipped, f"no hook {hook['id']!r} in .pre-commit-hooks.yaml"
            for words in _egif_calls(shipped[hook["id"]]["entry"]):
                _check_command_line(words, hook.get("args", []))
