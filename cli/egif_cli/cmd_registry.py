"""``egif registry ...``: create, inspect, configure, copy, publish, pull and verify registries."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from egif import EgifError, Registry
from egif.config import ConfigEditor, load_config, registry_info
from egif.registry import is_url
from egif.render.lifecycle import CONFIG, CONFIG_HISTORY
from egif.render.registry import COPY, INFO, init_text
from egif.signing import configured_signer
from egif.store import open_store
from egif.store.copy import copy_store
from egif_cli.cmd_publish import export_catalog_cmd, publish_cmd, pull_cmd
from egif_cli.cmd_verify import verify_cmd
from egif_cli.common import echo, emit, format_option, state


@click.group("registry")
def registry_group() -> None:
    """Create, inspect, configure, copy, publish, pull and verify registries."""


@click.command("init")
@click.argument("location", metavar="PATH|DSN")
@click.option("--empty", is_flag=True, help="Do not load the shipped standards.")
@click.pass_context
def init(ctx: click.Context, location: str, empty: bool) -> None:
    """Create a registry: an SQLite file at PATH or the egif schema in a PostgreSQL database.

    With a postgresql:// DSN the database must exist; the role you connect as
    becomes the registry's owner (its administrator), and every role that may
    connect to the database may read and contribute. Running init again on an
    existing registry brings it up to the current format.
    """
    if is_url(location):
        existed = _pg_has_registry(location)
    else:
        path = Path(location).expanduser()
        existed = path.exists() and path.stat().st_size > 0
    with Registry.init(location, actor=state(ctx).actor_for(location), seed=not empty) as reg:
        count = len(reg.list())
        where = reg.location
    echo(init_text(where, count, existed=existed), nl=False)


def _pg_has_registry(dsn: str) -> bool:
    try:
        open_store(dsn).close()
    except EgifError:
        return False
    return True


@click.command("info")
@format_option(INFO)
@click.pass_context
def info(ctx: click.Context, fmt: str) -> None:
    """Show where the registry is, what it holds and how identity is established."""
    emit(INFO, fmt, registry_info(state(ctx).registry()))


@click.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@format_option(COPY)
def copy(source: str, destination: str, fmt: str) -> None:
    """Copy the registry SRC into DST, losslessly (SQLite <-> PostgreSQL).

    SRC and DST are SQLite paths or postgresql:// DSNs. Every version, file,
    attachment, setting and audit event moves as it is, with its id, actor and
    timestamp; every digest is verified in DST afterwards. DST must be a new
    SQLite file, an empty registry, or a PostgreSQL database without one (it is
    initialised); copying into PostgreSQL needs the role that owns (or will
    own) the registry there.
    """
    src = open_store(source)
    created_file: Path | None = None
    try:
        if not is_url(destination) and not Path(destination).expanduser().exists():
            created_file = Path(destination).expanduser()
        dst = open_store(destination, create=True)
        try:
            result = copy_store(src, dst)
        finally:
            dst.close()
    except BaseException:
        if created_file is not None:  # leave nothing half-made behind
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(OSError):
                    Path(f"{created_file}{suffix}").unlink()
        raise
    finally:
        src.close()
    emit(COPY, fmt, result)


@click.command("config")
@click.option("--add-maintainer", "add", multiple=True, metavar="NAME",
              help="Add a maintainer (repeatable). On a registry without maintainers anyone "
                   "may add the first.")
@click.option("--key", "new_key", metavar="FILE.pub",
              help="With one --add-maintainer: the new maintainer's SSH public key (ed25519). Required "
                   "once the maintainers have keys.")
@click.option("--remove-maintainer", "remove", multiple=True, metavar="NAME",
              help="Remove a maintainer (repeatable); the last one cannot be removed.")
@click.option("--add-key", "add_keys", multiple=True, nargs=2, metavar="NAME FILE.pub",
              help="Register another public key for maintainer NAME (repeatable). The first key "
                   "makes the registry signed: from then on maintainers sign every decision.")
@click.option("--revoke-key", "revoke_keys", multiple=True, nargs=2, metavar="NAME KEY",
              help="Withdraw a key of maintainer NAME, given as its SHA256: fingerprint or its .pub "
                   "file (repeatable); the registry's last key cannot be revoked. Rotate a key by "
                   "adding the new one and revoking the old in one command.")
@click.option("--approvals", type=int, metavar="N", help="Approvals from distinct maintainers needed "
              "to ratify (default 2).")
@click.option("--window-days", type=int, metavar="DAYS",
              help="Length of the consultation window for new proposals (default 28; 0 = none).")
@click.option("--lint-rule", "lint_rules", multiple=True, metavar="RULE=SETTING",
              help="Switch a lint rule off or set its severity: off, error, warning, info or "
                   "default (repeatable). Stored under the config key \"lint\" (docs/lint.md).")
@click.option("--signing-key", "signing_key", metavar="FILE",
              help="Sign the changes with this SSH key (private key file, or a .pub file whose key "
                   "ssh-agent holds; default: $EGIF_SIGNING_KEY). Required once the maintainers have keys.")
@click.option("--history", "show_history", is_flag=True, help="Show the log of configuration changes.")
@format_option(CONFIG)
@click.pass_context
def config(ctx: click.Context, add: tuple[str, ...], new_key: str | None, remove: tuple[str, ...],
           add_keys: tuple[tuple[str, str], ...], revoke_keys: tuple[tuple[str, str], ...],
           approvals: int | None, window_days: int | None, lint_rules: tuple[str, ...],
           signing_key: str | None, show_history: bool, fmt: str) -> None:
    """Show or change the registry's maintainers, their keys, approvals, window length and lint settings.

    Every change is recorded in the audit log; only maintainers may make one
    (except adding the first maintainer). Once any maintainer has a key, every
    change (like every approval, objection and transition) must be signed by a
    key of the maintainer making it.
    """
    reg = state(ctx).registry()
    editor = ConfigEditor(reg, signer=configured_signer(signing_key))
    if new_key is not None and len(add) != 1:
        raise click.BadParameter("--key goes with exactly one --add-maintainer (use --add-key NAME FILE.pub "
                                 "for others)", param_hint="--key")
    parsed = []
    for item in lint_rules:
        rule, sep, setting = item.partition("=")
        if not sep or not rule.strip() or not setting.strip():
            raise click.BadParameter(f"{item!r}: expected RULE=SETTING", param_hint="--lint-rule")
        parsed.append((rule, setting))
    with reg.store.transaction():  # all requested changes, or none
        for who in add:
            editor.add_maintainer(who, new_key)
        for who, file in add_keys:
            editor.add_key(who, file)
        for who, which in revoke_keys:
            editor.revoke_key(who, which)
        for who in remove:
            editor.remove_maintainer(who)
        if approvals is not None:
            editor.set_approvals_needed(approvals)
        if window_days is not None:
            editor.set_window_days(window_days)
        for rule, setting in parsed:
            editor.set_lint_rule(rule, setting)
    if show_history:
        emit(CONFIG_HISTORY, fmt, list(reg.events(kinds=("config",))))
        return
    emit(CONFIG, fmt, load_config(reg))


for _command in (init, info, config, copy, publish_cmd, pull_cmd, export_catalog_cmd, verify_cmd):
    registry_group.add_command(_command)
