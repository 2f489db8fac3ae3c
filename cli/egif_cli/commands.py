"""The tool's top-level commands, by name, and the group that imports each one when used.

``egif validate`` does not import the diff, the linter or the generator (and
through it hypothesis), which would cost more than validating a small
document: every top-level command is named here as ``"module:attribute"`` and
imported only when it is asked for (or listed in help).  Each command module
defines its commands with ``@click.command`` and, for a group, adds its
subcommands explicitly with ``group.add_command``: no module adds commands to
another, so the order of imports never matters.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

COMMANDS: dict[str, str] = {
    "diff": "egif_cli.cmd_diff:diff",
    "lifecycle": "egif_cli.cmd_lifecycle:lifecycle_group",
    "lint": "egif_cli.cmd_lint:lint",
    "registry": "egif_cli.cmd_registry:registry_group",
    "sample": "egif_cli.cmd_sample:sample",
    "schema": "egif_cli.cmd_schema:schema_group",
    "validate": "egif_cli.cmd_validate:validate",
}
# every module that defines commands (importing them all imports every command)
MODULES = sorted({spec.partition(":")[0] for spec in COMMANDS.values()})


def resolve(spec: str) -> click.Command:
    """The command a ``"module:attribute"`` spec names."""
    module_name, _, attr = spec.partition(":")
    command = getattr(importlib.import_module(module_name), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{spec} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose commands are named by ``"module:attribute"`` and imported on first use
    (click's documented lazy-loading pattern)."""

    def __init__(self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            self.add_command(resolve(self.lazy_commands[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)
