"""Copying a whole registry from one store to another, losslessly.

Every row of every content table moves as it is: versions and events keep
their ids (so import bindings and objection numbers still point at the same
things), blobs keep their bytes and digests, the audit log keeps its actors
and timestamps.  The destination must be a registry holding nothing yet.
Afterwards every version's files are checked against their digests in the
destination.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from egif.errors import Conflict, PermissionDenied, TamperedError
from egif.store.base import LOCAL_META, TABLE_COLUMNS, Store


@dataclass(frozen=True)
class CopyResult:
    """How many rows of each table were copied, and what was verified."""

    source: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)
    verified_versions: int = 0

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "destination": self.destination, "rows": dict(self.rows),
                "verified_versions": self.verified_versions}


def is_empty(store: Store) -> bool:
    """True if the store holds no versions, events, blobs or settings."""
    return not store.list_versions() and next(store.iter_events(), None) is None \
        and not store.all_config() and next(store.dump_table("blobs"), None) is None


def copy_store(source: Store, destination: Store) -> CopyResult:
    """Copy everything in *source* into the empty registry *destination*, in one transaction."""
    if not is_empty(destination):
        raise Conflict(f"{destination.location} already holds a registry's content: copy into a new "
                       "registry (`egif registry init --empty`) or an empty database")
    if not destination.is_admin:
        raise PermissionDenied(
            f"copying into {destination.location} writes other people's events and statuses: "
            "connect as the role that owns the registry (the one that ran `egif registry init`)")
    rows: dict[str, int] = {}
    with destination.transaction():
        for key, value in sorted(source.all_meta().items()):
            if key not in LOCAL_META and not key.startswith(("migration.", "copied.")):
                destination.set_meta(key, value)
        destination.set_meta("copied.from", source.location)
        destination.set_meta("copied.at", datetime.now(UTC).isoformat(timespec="seconds"))
        for table in TABLE_COLUMNS:
            rows[table] = destination.load_table(table, source.dump_table(table))
        verified = verify_digests(destination)
    return CopyResult(source.location, destination.location, rows, verified)


def verify_digests(store: Store) -> int:
    """Recompute every stored blob's and every version's digest; raise on the first mismatch."""
    for blob in store.dump_table("blobs"):
        if hashlib.sha256(blob["content"]).hexdigest() != blob["digest"]:
            raise TamperedError(f"stored content {blob['digest'][:16]} does not match its digest",
                                file=store.location)
    from egif.registry import _version_digest

    count = 0
    for row in store.list_versions():
        if _version_digest(row["main_path"], store.version_files(row["id"])) != row["digest"]:
            raise TamperedError(f"{row['name']}@{row['version']}: files do not match the version digest",
                                file=store.location)
        count += 1
    return count
