"""Small helpers shared by the command modules: the acting state, --format, and output."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import click

from egif.render.table import Renderers
from egif.render.text import escape, escape_block
from egif_cli.app import AppState

F = TypeVar("F", bound=Callable[..., Any])


def state(ctx: click.Context) -> AppState:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def parse_imports(values: tuple[str, ...]) -> dict[str, str]:
    """``--import NS=TARGET`` values (schema add, diff) as a namespace -> target mapping."""
    out: dict[str, str] = {}
    for value in values:
        ns, sep, target = value.rpartition("=")
        if not sep or not target:
            raise click.BadParameter(f"{value!r}: expected NAMESPACE=NAME@VERSION or NAMESPACE=FILE",
                                     param_hint="--import")
        out[ns] = target
    return out


class FormatOption(click.Option):
    """``--format``: its choices are the format names of one renderer table, and nothing else."""

    def __init__(self, param_decls: list[str] | None = None, *, renderers: Mapping[str, object],
                 **attrs: Any) -> None:
        attrs.setdefault("default", "text")
        attrs.setdefault("show_default", True)
        attrs.setdefault("help", "Output format.")
        super().__init__(param_decls or ["--format", "fmt"], type=click.Choice(sorted(renderers)), **attrs)
        self.renderers = renderers


def format_option(renderers: Mapping[str, object], **attrs: Any) -> Callable[[F], F]:
    """The ``--format`` option of a command whose output *renderers* write."""
    return click.option("--format", "fmt", cls=FormatOption, renderers=renderers, **attrs)


def emit(renderers: Renderers, fmt: str, *args: Any, err: bool = False, **options: Any) -> None:
    """Write what the renderer for *fmt* makes of the result."""
    echo(renderers[fmt](*args, **options), err=err, nl=False)


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """Write rendered text: every control character in it escaped except its line breaks.

    The renderers escape each stored or user-supplied field with
    :func:`egif.render.text.escape` (so a newline inside a comment cannot start a
    line of its own); this is the last guard, on everything the tool prints as text.
    """
    click.echo(escape_block(text), err=err, nl=nl)


def diagnostic(message: str) -> None:
    """One ``egif: ...`` line on standard error: a word about the run, not its output."""
    echo(f"egif: {message}", err=True)


def error(message: object) -> None:
    """One ``egif: error: ...`` line on standard error (*message* escaped as one field)."""
    diagnostic(f"error: {escape(message)}")


def warn(lines: Iterable[str]) -> None:
    """Warnings on stderr, one line each: ``egif: warning: ...``."""
    for line in lines:
        diagnostic(f"warning: {escape(line)}")
