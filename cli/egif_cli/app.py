"""The root command, global options and error handling.

Exit codes (documented in ``egif --help`` and docs/cli.md):
  0  success (all documents valid)
  1  a check failed: invalid documents, a refused lifecycle step, lint errors,
     a diff verdict short of ``--require``
  2  usage error or unusable input (missing/unreadable/unsafe file, not a
     schema, unknown registry entry, broken registry, a file that cannot be
     written)
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from egif import EgifError, Registry, __version__
from egif.registry import REGISTRY_ENV
from egif.render.text import escape

EXIT_HELP = """\b
Exit codes:
  0  success
  1  a check failed (invalid document, lint error, refused step, verdict short of --require)
  2  usage error or unusable input (bad file, unknown schema, broken registry)"""


class AppState:
    """Per-invocation state: which registry, who is acting; opened lazily."""

    def __init__(self, registry_path: Path | None, actor: str | None) -> None:
        self.registry_path = registry_path
        self.actor = actor
        self._registry: Registry | None = None

    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry.open(self.registry_path, actor=self.actor)
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()
            self._registry = None


class EgifGroup(click.Group):
    """A group that turns library errors into one line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EgifError as exc:
            click.echo(f"egif: error: {escape(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except sqlite3.Error as exc:
            click.echo(f"egif: error: registry database: {escape(exc)}", err=True)
            ctx.exit(2)
        except click.ClickException as exc:  # usage errors quote what was typed
            exc.message = escape(exc.message)
            raise
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(1)
        except OSError as exc:  # disk full, permission denied, read-only folder...
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"egif: error: {escape(where)}{escape(exc.strerror or exc)}", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.echo("egif: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=EgifGroup, epilog=EXIT_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--registry", "registry_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar=REGISTRY_ENV, show_envvar=True,
              help="Registry file to use (default: registry.sqlite in the user data directory).")
@click.option("--as", "actor", metavar="NAME", envvar="EGIF_USER", show_envvar=True,
              help="Who is acting, recorded in the audit log (default: the git user).")
@click.version_option(__version__, prog_name="egif")
@click.pass_context
def cli(ctx: click.Context, registry_path: Path | None, actor: str | None) -> None:
    """egif: registry, validator, diff and lifecycle for UK e-government XML standards."""
    state = AppState(registry_path, actor)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _register() -> None:
    from egif_cli import commands

    commands.register(cli)


_register()


def main() -> None:
    cli(prog_name="egif")
