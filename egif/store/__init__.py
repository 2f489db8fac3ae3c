"""Persistence behind a small interface: an SQLite file, or a PostgreSQL database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from egif.store.base import TABLE_COLUMNS, Store
from egif.store.sqlite import LATEST_FORMAT, SqliteStore

if TYPE_CHECKING:
    from egif.store.postgres import PostgresStore

# psycopg takes a fifth of a second to import: only a postgresql:// registry pays for it
URL_PREFIXES = ("postgresql://", "postgres://")


def is_postgres_url(location: object) -> bool:
    """Whether *location* names a PostgreSQL database rather than an SQLite file."""
    return isinstance(location, str) and location.startswith(URL_PREFIXES)


def __getattr__(name: str) -> Any:
    if name == "PostgresStore":
        from egif.store.postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(location: str | Path, *, create: bool = False) -> Store:
    """The store at *location*: a ``postgresql://`` DSN or the path of an SQLite file.

    Nothing is created unless ``create`` is true: a missing registry is an
    error that names ``egif registry init``.
    """
    if is_postgres_url(location):
        from egif.store.postgres import PostgresStore

        return PostgresStore(str(location), create=create)
    return SqliteStore(Path(location).expanduser(), create=create)


__all__ = ["LATEST_FORMAT", "TABLE_COLUMNS", "PostgresStore", "SqliteStore", "Store", "is_postgres_url",
           "open_store"]
