"""The root command, global options and error handling.

Exit codes (documented in ``egif --help`` and docs/cli.md):
  0  success (all documents valid)
  1  a check failed: invalid documents, a refused lifecycle step, lint errors,
     a diff verdict short of ``--require``
  2  usage error or unusable input (missing/unreadable/unsafe file, not a
     schema, unknown registry entry, broken registry, a file that cannot be
     written)
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (``egif schema list | head -1``):
     nothing more is written, no message, and the status is the one the shell
     gives any tool stopped by a closed pipe (128 + SIGPIPE), so that
     ``set -o pipefail`` never mistakes a cut-short check for a passed one
"""

from __future__ import annotations

import gc
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from egif import EgifError, Registry, __version__
from egif.registry import REGISTRY_ENV, default_location, is_url
from egif.render.text import escape
from egif_cli.commands import COMMANDS, LazyGroup

EXIT_HELP = """\b
Exit codes:
  0  success
  1  a check failed (invalid document, lint error, refused step, verdict short of --require)
  2  usage error or unusable input (bad file, unknown schema, broken registry)
  130  interrupted (Ctrl-C)
  141  output pipe closed by its reader (e.g. `| head`): stops quietly"""

# 128 + SIGPIPE: what the shell reports for `seq 1000000 | head -1`'s writer
EXIT_CLOSED_PIPE = 141


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

    def override(self, *, registry_path: str | None = None, actor: str | None = None) -> None:
        """A global option given again after the subcommand: the later value wins."""
        if self._registry is not None:  # pragma: no cover - options are parsed before any command runs
            raise RuntimeError("the registry is already open")
        if registry_path is not None:
            self.registry_path = registry_path or None
        if actor is not None:
            self.actor = actor
            self.actor_from_env = False

    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = Registry.open(self.registry_path, actor=self.actor_for(self.registry_path))
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()
            self._registry = None


# -- global options after the subcommand ----------------------------------------------------
# `egif lifecycle approve REF --as bob` and `egif validate --registry team.sqlite FILE` mean what
# `egif --as bob lifecycle approve REF` and `egif --registry team.sqlite validate FILE` mean: every
# command under the root also accepts the root's own options, and a value typed after the
# subcommand wins over one typed before it or taken from the environment.
REGISTRY_HELP = ("Registry to use: an SQLite file or a postgresql:// DSN; it must exist (see "
                 "`egif registry init`). Default: registry.sqlite in the user data directory, "
                 "created on first use.")
ACTOR_HELP = ("Who is acting, recorded in the audit log (default: the git user). SQLite only: "
              "a PostgreSQL registry acts as the database role you connect as.")
_GLOBAL_MARK = "_egif_global_options"


def _global_value(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is None or ctx.resilient_parsing:
        return
    if ctx.get_parameter_source(param.name or "") != click.core.ParameterSource.COMMANDLINE:
        return
    app = ctx.find_root().obj
    if isinstance(app, AppState):
        if param.name == "global_registry":
            app.override(registry_path=value)
        else:
            app.override(actor=value)


def _global_options(hidden: bool) -> list[click.Option]:
    return [
        click.Option(["--registry", "global_registry"], metavar="PATH|DSN", expose_value=False,
                     callback=_global_value, hidden=hidden,
                     help="Registry to use, as `egif --registry` (given here, it wins)."),
        click.Option(["--as", "global_actor"], metavar="NAME", expose_value=False,
                     callback=_global_value, hidden=hidden,
                     help="Who is acting, as `egif --as` (given here, it wins)."),
    ]


def accept_global_options(command: click.Command, ctx: click.Context) -> None:
    """Let *command* and every command under it accept the global options too (once each;
    an option name a command already uses for itself is left alone).  Groups accept them
    without listing them in their help; leaf commands list them.  Groups are walked again
    each time, so subcommands registered later are covered too."""
    group = isinstance(command, click.Group)
    if not getattr(command, _GLOBAL_MARK, False):
        setattr(command, _GLOBAL_MARK, True)
        taken = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        for option in _global_options(hidden=group):
            if not taken & set(option.opts):
                command.params.append(option)
    if group:
        assert isinstance(command, click.Group)
        sub_ctx = click.Context(command, parent=ctx, info_name=command.name)
        for name in command.list_commands(sub_ctx):
            sub = command.get_command(sub_ctx, name)
            if sub is not None:
                accept_global_options(sub, sub_ctx)


class EgifGroup(LazyGroup):
    """The root: turns library errors into one line and an exit code; imports each command's
    module only when that command is used (:mod:`egif_cli.commands`); lets every command
    under it accept the global options too."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            accept_global_options(command, ctx)
        return command

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
            _quiet_stdout()
            ctx.exit(EXIT_CLOSED_PIPE)
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
              help=REGISTRY_HELP + " Also accepted after the subcommand.")
@click.option("--as", "actor", metavar="NAME", envvar="EGIF_USER", show_envvar=True,
              help=ACTOR_HELP + " Also accepted after the subcommand.")
@click.version_option(__version__, prog_name="egif")
@click.pass_context
def cli(ctx: click.Context, registry_path: str | None, actor: str | None) -> None:
    """egif: registry, validator, diff and lifecycle for UK e-government XML standards."""
    source = ctx.get_parameter_source("actor")
    state = AppState(registry_path, actor, actor_from_env=source == click.core.ParameterSource.ENVIRONMENT)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _quiet_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush cannot fail again
    (the way the Python documentation handles SIGPIPE; `signal.SIG_DFL` would kill the
    process in the middle of a registry transaction)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass


def _stdout_closed(before: TextIO) -> bool:
    if sys.stdout is not before:  # click met EPIPE outside a command (help) and wrapped stdout
        return True
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    return False


def main() -> None:
    """The console script: the root command, and the one place a closed output pipe is handled.
    The process ends when it returns."""
    stdout = sys.stdout
    try:
        cli(prog_name="egif")
    except SystemExit as exc:
        # a write cut short inside a command, by click (help) or at the last flush
        if exc.code != EXIT_CLOSED_PIPE and _stdout_closed(stdout):
            _quiet_stdout()
            sys.exit(EXIT_CLOSED_PIPE)
        raise
    finally:
        # As the interpreter stops it frees what the command made (files are closed and exit
        # handlers run either way), but first the cycle collector walks every object again:
        # about 4% of the instructions of `egif validate small.xml`.  Frozen objects are left
        # out of that walk.
        gc.freeze()
