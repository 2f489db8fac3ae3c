"""Small helpers shared by the command modules."""

from __future__ import annotations

import json
from typing import Any

import click

from egif_cli.app import AppState


def state(ctx: click.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def format_option(*choices: str, default: str = "text") -> Any:
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default,
                        show_default=True, help="Output format.")


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False))
