"""Which command modules make up the tool: one line each."""

from __future__ import annotations

import importlib

import click

MODULES = [
    "egif_cli.cmd_registry",
    "egif_cli.cmd_publish",
    "egif_cli.cmd_verify",
    "egif_cli.cmd_schema",
    "egif_cli.cmd_lifecycle",
    "egif_cli.cmd_lint",
    "egif_cli.cmd_sample",
    "egif_cli.cmd_validate",
    "egif_cli.cmd_diff",
]


def register(root: click.Group) -> None:
    for name in MODULES:
        module = importlib.import_module(name)
        module.register(root)
