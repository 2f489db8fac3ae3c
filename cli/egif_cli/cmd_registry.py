"""``egif registry ...``: create and inspect registry files."""

from __future__ import annotations

from pathlib import Path

import click

from egif import Registry
from egif.render.text import escape
from egif.store import LATEST_FORMAT
from egif_cli.common import echo, echo_json, format_option, state


@click.group("registry")
def registry_group() -> None:
    """Create and inspect registry files."""


@registry_group.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--empty", is_flag=True, help="Do not load the shipped standards.")
@click.pass_context
def init(ctx: click.Context, path: Path, empty: bool) -> None:
    """Create a registry file at PATH (with the shipped standards unless --empty)."""
    existed = path.exists() and path.stat().st_size > 0
    with Registry.open(path, actor=state(ctx).actor, seed=not empty) as reg:
        count = len(reg.list())
    verb = "already a registry" if existed else "created registry"
    echo(f"{verb}: {escape(path)} ({count} schema versions)")


@registry_group.command("info")
@format_option("text", "json")
@click.pass_context
def info(ctx: click.Context, fmt: str) -> None:
    """Show where the registry is and what it holds."""
    reg = state(ctx).registry()
    versions = reg.list()
    data = {
        "location": reg.location,
        "format": LATEST_FORMAT,
        "schemas": len({v.name for v in versions}),
        "versions": len(versions),
        "by_status": {s: sum(1 for v in versions if v.status.value == s)
                      for s in sorted({v.status.value for v in versions})},
    }
    if fmt == "json":
        echo_json(data)
        return
    echo(f"registry: {escape(data['location'])}")
    echo(f"format:   {data['format']}")
    echo(f"schemas:  {data['schemas']} ({data['versions']} versions)")
    for status, n in data["by_status"].items():
        echo(f"  {status}: {n}")


def register(root: click.Group) -> None:
    root.add_command(registry_group)
