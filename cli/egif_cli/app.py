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
from egif.registry import REGISTRY_ENV, default_location, is_url
from egif.render.text import escape
from egif_cli.commands import COMMANDS, LazyGroup

EXIT_HELP = """\b
Exit codes:
  0  success
  1  a check failed (invalid document, lint error, refused step, verdict short of --require)
  2  usage error or unusable input (bad file, unknown schema, broken registry)"""


class AppState:
    """Per-invocation state: which registry, who is acting; opened lazily.

    ``--as`` names the actor of a registry whose identity is self-asserted
    (SQLite).  A PostgreSQL registry acts as the connected database role: an
    explicit ``--as`` naming someone else is refused there, and ``EGIF_USER``
    (a default for self-asserted registries) is ignored.
    """

    def __init__(self, registry_path: str | None, actor: str | None, *,
                 actor_from_env: bool = False) -> None:
        self.registry_path = registry_path or None
        self.actor = actor
        self.actor_from_env = actor_from_env
        self._registry: Registry | None = None

    def actor_for(self, location: str | Path | None) -> str | None:
        """The ``actor`` to open *location* with (``EGIF_USER`` does not apply to PostgreSQL)."""
        if location is None:
            location = default_location()[0]
        if self.actor_from_env and is_url(location):
            return None
        return self.actor

    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry.open(self.registry_path, actor=self.actor_for(self.registry_path))
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()
            self._registry = None


class EgifGroup(LazyGroup):
    """The root: turns library errors into one line and an exit code; imports each command's
    module only when that command is used (:mod:`egif_cli.commands`)."""

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
            exc.message = escape(exc.message)  # type: ignore[misc]  # click marks it Final
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


@click.group(cls=EgifGroup, lazy_commands=COMMANDS, epilog=EXIT_HELP,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--registry", "registry_path", metavar="PATH|DSN", envvar=REGISTRY_ENV, show_envvar=True,
              help="Registry to use: an SQLite file or a postgresql:// DSN; it must exist (see "
                   "`egif registry init`). Default: registry.sqlite in the user data directory, "
                   "created on first use.")
@click.option("--as", "actor", metavar="NAME", envvar="EGIF_USER", show_envvar=True,
              help="Who is acting, recorded in the audit log (default: the git user). SQLite only: "
                   "a PostgreSQL registry acts as the database role you connect as.")
@click.version_option(__version__, prog_name="egif")
@click.pass_context
def cli(ctx: click.Context, registry_path: str | None, actor: str | None) -> None:
    """egif: registry, validator, diff and lifecycle for UK e-government XML standards."""
    source = ctx.get_parameter_source("actor")
    state = AppState(registry_path, actor, actor_from_env=source == click.core.ParameterSource.ENVIRONMENT)
    ctx.obj = state
    ctx.call_on_close(state.close)


def main() -> None:
    cli(prog_name="egif")
