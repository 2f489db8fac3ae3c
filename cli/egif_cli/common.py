"""Small helpers shared by the command modules."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import click

from egif.render.text import escape, escape_block, escape_json
from egif_cli.app import AppState


def state(ctx: click.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def format_option(*choices: str, default: str = "text") -> Any:
    return click.option("--format", "fmt", type=click.Choice(list(choices)), default=default,
                        show_default=True, help="Output format.")


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Write rendered text: every control character in it escaped except its line breaks.

    The renderers escape each stored or user-supplied field with
    :func:`egif.render.text.escape` (so a newline inside a comment cannot start a
    line of its own); this is the last guard, on everything the tool prints as text.
    """
    click.echo(escape_block(text), err=err, nl=nl)


def echo_json(data: Any) -> None:
    """Write JSON: the data exactly, with C1 and bidirectional characters as \\u escapes."""
    click.echo(escape_json(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False)))


def warn(lines: Iterable[str]) -> None:
    """Warnings on stderr, one line each: ``egif: warning: ...``."""
    for line in lines:
        echo(f"egif: warning: {escape(line)}", err=True)


# what an outcome adds to its JSON beside the event and the version, when the library set it
OUTCOME_EXTRAS = ("still_imported_by",)


def outcome_extras(outcome: Any) -> dict[str, Any]:
    """The extra JSON fields of a lifecycle outcome, plus its warnings (when there are any)."""
    extras = {k: outcome.details[k] for k in OUTCOME_EXTRAS if k in outcome.details}
    if outcome.warnings:
        extras["warnings"] = list(outcome.warnings)
    return extras
