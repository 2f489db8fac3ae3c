"""``egif registry ...``: create, inspect and copy registries."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from egif import EgifError, Registry
from egif.config import load_config
from egif.registry import is_url
from egif.render.text import escape
from egif.store import open_store
from egif.store.copy import copy_store
from egif.trust import signed_sources
from egif_cli.common import echo, echo_json, format_option, state


@click.group("registry")
def registry_group() -> None:
    """Create, inspect and copy registries."""


@registry_group.command("init")
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
    verb = "already a registry" if existed else "created registry"
    echo(f"{verb}: {escape(where)} ({count} schema versions)")


def _pg_has_registry(dsn: str) -> bool:
    try:
        open_store(dsn).close()
    except EgifError:
        return False
    return True


@registry_group.command("info")
@format_option("text", "json")
@click.pass_context
def info(ctx: click.Context, fmt: str) -> None:
    """Show where the registry is, what it holds and how identity is established."""
    reg = state(ctx).registry()
    versions = reg.list()
    enforced = reg.identity_enforced
    if enforced:
        role = "owner (administrator)" if reg.store.is_admin else "role"
        note = (f"enforced by the database: you act as the database role {reg.actor!r} ({role}); "
                "--as cannot name anyone else, and the database refuses maintainer actions by "
                "non-maintainers whatever client is used")
    else:
        note = ("self-asserted: the name recorded is --as, else $EGIF_USER, else the git user; anyone "
                "who can write this file can record any name and edit the file directly")
    config = load_config(reg)
    if config.signed:
        keyed = [m for m in config.maintainers if config.keys_of(m)]
        approvals = (f"signed: every approval, objection, transition and setting change is signed by a key "
                     f"of the maintainer making it ({len(keyed)} of {len(config.maintainers)} maintainers have "
                     "keys); `egif registry verify` checks them")
    else:
        approvals = ("unsigned: the maintainers have no keys, so an approval is a name the writer recorded "
                     "(add keys with `egif registry config --add-key NAME FILE.pub`)")
    pulled_signed = signed_sources(reg.store.all_config())
    data = {
        "location": reg.location,
        "store": reg.store.kind,
        "format": reg.store.format_version(),
        "access": "read-only" if reg.read_only else "read-write",
        "identity": {"enforced": enforced, "actor": reg.actor, "note": note},
        "approvals": {"signed": config.signed, "note": approvals},
        "signed_sources": pulled_signed,
        "schemas": len({v.name for v in versions}),
        "versions": len(versions),
        "by_status": {s: sum(1 for v in versions if v.status.value == s)
                      for s in sorted({v.status.value for v in versions})},
    }
    if fmt == "json":
        echo_json(data)
        return
    echo(f"registry: {escape(data['location'])}")
    echo(f"store:    {data['store']}, format {data['format']}, {data['access']}")
    echo(f"identity: {escape(note)}")
    echo(f"approvals: {escape(approvals)}")
    if pulled_signed:
        echo(f"pulls:    signed publications only (trusted publisher keys recorded for "
             f"{', '.join(escape(u) for u in pulled_signed)})")
    echo(f"schemas:  {data['schemas']} ({data['versions']} versions)")
    for status, n in data["by_status"].items():
        echo(f"  {status}: {n}")


@registry_group.command("copy")
@click.argument("source", metavar="SRC")
@click.argument("destination", metavar="DST")
@format_option("text", "json")
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
    if fmt == "json":
        echo_json(result.to_dict())
        return
    rows = result.rows
    echo(f"copied {escape(result.source)} -> {escape(result.destination)}: {rows['schema_versions']} "
         f"versions, {rows['blobs']} stored files, {rows['attachments']} attachments, {rows['config']} "
         f"settings, {rows['events']} events; {result.verified_versions} version digests verified")


def register(root: click.Group) -> None:
    root.add_command(registry_group)
