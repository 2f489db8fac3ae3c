"""The root command, global options and error handling.

Exit codes (documented in ``egif --help`` and docs/cli.md):
  0  success (all documents valid)
  1  a check failed: invalid documents, a refused lifecycle step, lint errors,
     a diff verdict short of ``--require``
  2  usage error or unusable input (missing/unreadable/unsafe file, not a
     schema, unknown registry entry, broken registry)
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from egif import EgifError, Registry, __version__
from egif.registry import REGISTRY_ENV

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
    """A group that turns library errors into one line and an exit code, and imports each
    command's module only when that command is used."""

    _loaded: set[str]

    def list_commands(self, ctx: click.Context) -> list[str]:
        from egif_cli.commands import NEEDS

        return sorted(set(NEEDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from egif_cli.commands import load

        if not hasattr(self, "_loaded"):
            self._loaded = set()
        load(self, cmd_name, self._loaded)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EgifError as exc:
            click.echo(f"egif: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except sqlite3.Error as exc:
            click.echo(f"egif: error: registry database: {exc}", err=True)
            ctx.exit(2)
        except BrokenPipeError:
            sys.stderr.close()
            ctx.exit(1)
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


def main() -> None:
    cli(prog_name="egif")
