"""The storage interface the registry talks to.

The registry never writes SQL itself: everything goes through these methods,
so that the embedded SQLite file and a PostgreSQL database shared by many
maintainers are interchangeable.  Rows come back as plain dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

# The tables that make up a registry's content, parents before children, with
# their columns in order: what `egif registry copy` moves, row for row.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "config": ("key", "value"),
    "blobs": ("digest", "size", "content"),
    "schema_versions": ("id", "name", "version", "major", "minor", "namespace", "status", "digest",
                        "main_path", "declared_version", "title", "metadata", "successor", "added_by",
                        "added_at"),
    "schema_files": ("version_id", "path", "digest", "namespace", "role"),
    "schema_directives": ("version_id", "seq", "file", "kind", "namespace", "location", "target_path",
                          "target_version_id"),
    "schema_imports": ("version_id", "namespace", "target_version_id", "bundled_path", "chosen"),
    "attachments": ("version_id", "kind", "name", "digest", "added_by", "added_at"),
    "events": ("id", "name", "version", "kind", "actor", "at", "data", "prev", "signature"),
}
# the primary key of each, which is also the order a dump comes in
TABLE_KEYS: dict[str, str] = {
    "config": "key", "blobs": "digest", "schema_versions": "id", "schema_files": "version_id, path",
    "schema_directives": "version_id, seq", "schema_imports": "version_id, namespace",
    "attachments": "version_id, kind, name", "events": "id",
}
# bookkeeping of one store that a copy does not carry over
LOCAL_META = ("application", "format")


class Store(Protocol):
    location: str
    kind: str  # "sqlite" or "postgresql"
    created: bool  # the store was created by this open
    read_only: bool  # writes are refused (file not writable, read-only role)
    is_admin: bool  # may use the administrative paths (seeding, pulls, copies)
    # goes up by one as each outermost write transaction begins and again as it ends: what is known
    # about the database within one transaction (the head of the audit log) holds only while this
    # has not moved
    transaction_serial: int

    def close(self) -> None: ...

    def identity(self) -> str | None:
        """The identity the database itself authenticates and enforces, or None.

        None means identity is self-asserted (SQLite: whoever can write the file
        may write any name); PostgreSQL returns the connected role.
        """
        ...

    def format_version(self) -> int: ...

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction: all or nothing, serialised against other writers.

        Nested calls join the outer transaction.  Raises
        :class:`~egif.errors.ReadOnlyRegistry` on a read-only store.
        """
        ...

    # registry-wide key/value settings (JSON-encoded values)
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def all_meta(self) -> dict[str, str]: ...
    def get_config(self, key: str) -> Any: ...
    def set_config(self, key: str, value: Any) -> None: ...
    def all_config(self) -> dict[str, Any]: ...

    # content-addressed file contents
    def put_blob(self, digest: str, content: bytes) -> None: ...
    def get_blob(self, digest: str) -> bytes: ...
    def get_blobs(self, digests: Iterable[str]) -> dict[str, bytes]:
        """Many stored contents at once (one round trip on a server); raises NotFound for a missing one."""
        ...

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        """Store many contents at once; those already stored are left as they are."""
        ...

    def has_blob(self, digest: str) -> bool: ...

    # schema versions
    def insert_version(self, row: dict[str, Any], files: list[dict[str, Any]],
                       directives: list[dict[str, Any]], imports: list[dict[str, Any]],
                       event: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """Store a version with its files (their ``content`` too, as :meth:`put_blobs` would),
        directives (in order), import bindings and, given one, the *event* that records it
        (:meth:`append_event`'s arguments); the stored row (as :meth:`find_version` returns
        it) comes back, or None, with nothing of the version or the event stored, when a
        version of that name and version is already registered."""
        ...

    def find_version(self, name: str, version: str) -> dict[str, Any] | None: ...
    def version_by_id(self, version_id: int) -> dict[str, Any]: ...
    def list_versions(self, *, name: str | None = None, namespace: str | None = None,
                      status: str | None = None) -> list[dict[str, Any]]: ...
    def closure(self, version_ids: Iterable[int] = (), *, refs: Iterable[tuple[str, str]] = (),
                contents: bool = False) -> list[dict[str, Any]]:
        """The versions *version_ids*, those of *refs* (``(name, version)``; any not registered
        are left out), and every version they bind, transitively, each once.

        Rows as :meth:`find_version`, each with one more key, ``add_event``: the
        data of the version's first ``add`` event (None when it has none).  No
        particular order.  A server store answers in one round trip and keeps the
        versions' details, so :meth:`version_details` on them costs nothing more;
        with *contents* it brings (and keeps) their files' contents in the same
        round trip, so :meth:`get_blobs` on them costs nothing more either.
        """
        ...

    def version_files(self, version_id: int) -> list[dict[str, Any]]: ...
    def version_directives(self, version_id: int) -> list[dict[str, Any]]: ...
    def version_imports(self, version_id: int) -> list[dict[str, Any]]: ...
    def version_details(self, version_ids: list[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
        """``{id: {"files": [...], "imports": [...], "directives": [...]}}`` for many versions at once.

        Files as :meth:`version_files`; imports and directives as their own
        methods, each with ``target_name`` and ``target_version`` of the bound
        version (None when bound to a bundled file).
        """
        ...

    def dependents(self, version_id: int) -> list[dict[str, Any]]: ...
    def set_status(self, version_id: int, status: str, successor: str | None = None) -> None: ...

    # files kept beside a version (rules, fixtures, ...)
    def put_attachment(self, version_id: int, kind: str, name: str, digest: str,
                       added_by: str, added_at: str) -> None: ...
    def list_attachments(self, version_id: int, kind: str | None = None) -> list[dict[str, Any]]: ...

    # the append-only audit log; egif writes it only through :func:`egif.eventlog.append`,
    # which links each event to the one before it (``prev``) and signs governance events
    def append_event(self, *, name: str | None, version: str | None, kind: str, actor: str,
                     at: str, data: dict[str, Any], prev: str | None = None,
                     signature: str | None = None) -> int: ...
    def last_event(self) -> dict[str, Any] | None:
        """The newest event (``data`` decoded), or None when the log is empty."""
        ...

    def iter_events(self, *, name: str | None = None, version: str | None = None,
                    kinds: tuple[str, ...] | None = None) -> Iterator[dict[str, Any]]: ...

    # whole tables (see TABLE_COLUMNS), for copying a registry between stores
    def dump_table(self, table: str) -> Iterator[dict[str, Any]]: ...
    def load_table(self, table: str, rows: Iterable[dict[str, Any]]) -> int: ...
