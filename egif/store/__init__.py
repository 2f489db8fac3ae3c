"""Persistence behind a small interface: an SQLite file, or a PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

from egif.store.base import TABLE_COLUMNS, Store
from egif.store.postgres import PostgresStore, is_postgres_url
from egif.store.sqlite import LATEST_FORMAT, SqliteStore


def open_store(location: str | Path, *, create: bool = False) -> Store:
    """The store at *location*: a ``postgresql://`` DSN or the path of an SQLite file.

    Nothing is created unless ``create`` is true: a missing registry is an
    error that names ``egif registry init``.
    """
    if is_postgres_url(location):
        return PostgresStore(str(location), create=create)
    return SqliteStore(Path(location).expanduser(), create=create)


__all__ = ["LATEST_FORMAT", "TABLE_COLUMNS", "PostgresStore", "SqliteStore", "Store", "is_postgres_url",
           "open_store"]
