"""Persistence behind a small interface: SQLite now, a server database later."""

from egif.store.base import Store
from egif.store.sqlite import LATEST_FORMAT, SqliteStore

__all__ = ["LATEST_FORMAT", "SqliteStore", "Store"]
