"""Docs that must not drift: the CLI reference and the README set-up (issue 2)."""

from __future__ import annotations

import re

import click
from egif_cli.app import cli
from egif_cli.docgen import render, walk

from .conftest import REPO


def test_cli_reference_is_current() -> None:
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "docs/cli.md is stale: run `python -m egif_cli.docgen > docs/cli.md`"


def test_every_command_has_help() -> None:
    for path, command in walk(cli, ("egif",)):
        assert (command.help or command.short_help or "").strip(), f"{' '.join(path)} has no help text"
        if not isinstance(command, click.Group):
            for param in command.params:
                if isinstance(param, click.Option) and not param.hidden:
                    assert param.help, f"{' '.join(path)} {param.opts[0]} has no help text"


def test_readme_names_the_two_setup_commands_that_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Set-up\n.*?```sh\n(.*?)```", readme, re.S)
    assert block, "README has a Set-up section with a sh block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["./dev demo", "./dev test"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "./dev test" in ci
