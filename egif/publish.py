"""Publish a registry as a tree of static files that any web server can serve.

Layout of a published tree::

    index.json              what the registry holds (see INDEX_FORMAT below)
    index.sha256            "<sha256 of index.json>  index.json"
    snapshots/<sha256>.json every index ever published, by its own digest
    objects/<aa>/<sha256>   schema files, attachments and per-standard audit
                            histories, named by the SHA-256 of their bytes
    catalogue/              the HTML catalogue for people (optional)

Reader protocol (what :mod:`egif.remote` does):

1. GET ``index.json`` (conditionally, with the ETag / Last-Modified of the last
   fetch) and compute its SHA-256.  A user who pins a registry state asks for
   ``snapshots/<sha256>.json`` instead and checks it hashes to the pin.
2. GET only the objects it lacks, each by digest, and check every one hashes
   to its name before using it.

Writer protocol (what :func:`publish` does), so that a reader never sees a
half-written tree: every object and snapshot is written under a temporary
name and moved into place with ``os.replace``; objects are content-addressed,
so a file that exists never changes, and none is deleted; the index, which
is what makes new objects reachable, is replaced last.  A reader holding an
older index still finds every object it names.  ``index.sha256`` is replaced
after ``index.json``: a reader that sees the two disagree has caught the
instant between the two renames and simply reads ``index.json`` again.

Republishing is incremental: objects already present (and intact) are not
rewritten, and when nothing changed the index is left as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egif.errors import EgifError, InputError
from egif.limits import MAX_INDEX_BYTES, loads_json
from egif.model import SchemaVersion
from egif.registry import Registry, now
from egif.xmlsafe import read_file

INDEX_FORMAT = "egif-registry-index/1"
INDEX_NAME = "index.json"
INDEX_DIGEST_NAME = "index.sha256"
CACHE_DIR = ".egif-cache"  # rendered diffs kept between publishes (not part of the protocol)


def object_path(digest: str) -> str:
    """Where an object lives inside a published tree (a relative URL path)."""
    return f"objects/{digest[:2]}/{digest}"


def snapshot_path(index_sha256: str) -> str:
    return f"snapshots/{index_sha256}.json"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class PublishResult:
    """What one publish did."""

    directory: Path
    index_sha256: str
    changed: bool
    standards: int
    versions: int
    objects_written: int = 0
    objects_kept: int = 0
    pages_written: int = 0
    pages_kept: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory), "index_sha256": self.index_sha256,
            "changed": self.changed, "standards": self.standards, "versions": self.versions,
            "objects_written": self.objects_written, "objects_kept": self.objects_kept,
            "pages_written": self.pages_written, "pages_kept": self.pages_kept, "notes": self.notes,
        }


class _Writer:
    """Atomic, skip-if-present file writing under one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.written = 0
        self.kept = 0

    def put_object(self, data: bytes, digest: str | None = None) -> str:
        digest = digest or sha256_hex(data)
        target = self.root / object_path(digest)
        if target.is_file() and target.stat().st_size == len(data) and \
                sha256_hex(target.read_bytes()) == digest:
            self.kept += 1
            return digest
        write_atomic(target, data)
        self.written += 1
        return digest

    def put_if_changed(self, rel: str, data: bytes) -> bool:
        target = self.root / rel
        if target.is_file() and target.read_bytes() == data:
            self.kept += 1
            return False
        write_atomic(target, data)
        self.written += 1
        return True


def write_atomic(target: Path, data: bytes, *, sync: bool = False) -> None:
    """Write *data* to *target* so that nobody ever sees a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _version_entry(v: SchemaVersion, attachments: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": v.name, "version": v.version, "namespace": v.namespace,
        "status": v.status.value, "digest": v.digest, "main": v.main,
        "title": v.title, "successor": v.successor, "declared_version": v.declared_version,
        "added_by": v.added_by, "added_at": v.added_at,
        "files": [{"path": f.path, "digest": f.digest, "size": f.size, "namespace": f.namespace,
                   "role": f.role} for f in v.files],
        "imports": [{"namespace": b.namespace, "target": str(b.target) if b.target else None,
                     "bundled_path": b.bundled_path} for b in v.imports],
        "attachments": attachments,
    }


def build_index(registry: Registry, writer: _Writer | None = None) -> dict[str, Any]:
    """The index of *registry*; with a writer, also store every object it names."""
    versions = registry.list()
    by_name: dict[str, list[SchemaVersion]] = {}
    for v in versions:
        by_name.setdefault(v.name, []).append(v)
    history: dict[str, list[dict[str, Any]]] = {}
    for e in registry.events():
        if e.name is not None:
            history.setdefault(e.name, []).append(e.to_dict())

    standards = []
    for name in sorted(by_name):
        entries = []
        for v in by_name[name]:
            if writer is not None:
                for path, data in registry.files(v.ref).items():
                    digest = next(f.digest for f in v.files if f.path == path)
                    writer.put_object(data, digest)
            attachments = []
            for key, data in sorted(registry.attachments(v.ref).items()):
                kind, _, att_name = key.partition("/")
                digest = sha256_hex(data)
                if writer is not None:
                    writer.put_object(data, digest)
                attachments.append({"kind": kind, "name": att_name, "digest": digest,
                                    "size": len(data)})
            entries.append(_version_entry(v, attachments))
        events = history.get(name, [])
        hist_bytes = canonical_json(events)
        hist_digest = writer.put_object(hist_bytes) if writer is not None else sha256_hex(hist_bytes)
        titles = [v.title for v in by_name[name] if v.title]
        standards.append({
            "name": name, "title": titles[-1] if titles else None, "versions": entries,
            "history": {"digest": hist_digest, "size": len(hist_bytes), "events": len(events),
                        "last_event_id": events[-1]["id"] if events else 0},
        })
    content = {"standards": standards}
    return {
        "format": INDEX_FORMAT,
        "content_digest": sha256_hex(canonical_json(content)),
        "published_at": now(),
        "versions": len(versions),
        **content,
    }


def read_published_index(directory: Path) -> dict[str, Any] | None:
    """The index already in *directory*, or ``None`` when there is none usable."""
    path = directory / INDEX_NAME
    try:
        data = loads_json(read_file(path, limit=MAX_INDEX_BYTES, what="index"), label=str(path))
    except (EgifError, ValueError):  # absent, unreadable, over a limit, not JSON: publish anew
        return None
    return data if isinstance(data, dict) else None


def publish(registry: Registry, directory: str | Path, *, catalogue: bool = True,
            base_title: str = "egif schema registry") -> PublishResult:
    """Write (or update) the static tree of *registry* under *directory*."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise InputError("exists and is not a directory", file=root)
    root.mkdir(parents=True, exist_ok=True)
    objects = _Writer(root)
    index = build_index(registry, objects)
    previous = read_published_index(root)

    unchanged = previous is not None and previous.get("content_digest") == index["content_digest"] \
        and previous.get("format") == INDEX_FORMAT and (root / INDEX_DIGEST_NAME).is_file()
    if unchanged:
        index_bytes = (root / INDEX_NAME).read_bytes()
    else:
        if previous is not None:
            index["previous"] = sha256_hex((root / INDEX_NAME).read_bytes())
        index_bytes = json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    digest = sha256_hex(index_bytes)

    # the catalogue first: it only links to objects, which are all in place
    pages = _Writer(root)
    notes: list[str] = []
    if catalogue:
        from egif.catalog_html import build_catalogue

        site = build_catalogue(registry, index, title=base_title, index_sha256=digest,
                               cache_dir=root / CACHE_DIR)
        notes.extend(site.notes)
        for rel, page in sorted(site.pages.items()):
            pages.put_if_changed(f"catalogue/{rel}", page)

    # then the index, which makes the new objects reachable, last
    if not unchanged:
        write_atomic(root / snapshot_path(digest), index_bytes, sync=True)
        write_atomic(root / INDEX_NAME, index_bytes, sync=True)
        write_atomic(root / INDEX_DIGEST_NAME, f"{digest}  {INDEX_NAME}\n".encode(), sync=True)
    return PublishResult(
        directory=root, index_sha256=digest, changed=not unchanged,
        standards=len(index["standards"]), versions=int(index["versions"]),
        objects_written=objects.written, objects_kept=objects.kept,
        pages_written=pages.written, pages_kept=pages.kept, notes=notes,
    )


def iter_index_versions(index: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for std in index.get("standards", []):
        yield from std.get("versions", [])


__all__ = ["INDEX_FORMAT", "PublishResult", "build_index", "object_path", "publish", "snapshot_path",
           "write_atomic"]
