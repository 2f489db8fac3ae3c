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

The index also carries the registry's whole audit log (``log``: its length,
the hash of its last event and its segments, each an object of up to
:data:`LOG_SEGMENT_EVENTS` events with their links and signatures; see
:mod:`egif.eventlog`), so that a reader can check every link, every
maintainer's signature and every ratification.  A **signed** publication
(``publish(..., signers=...)``) adds::

    keys/<N>.json                  the publisher key list it is signed under
    signatures/<sha256>.json       the signatures of the index with that digest

and names the key list in the index (``publisher_keys``); see
:mod:`egif.trust`.  Both are written before the index that names them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egif import eventlog, trust
from egif.errors import EgifError, InputError
from egif.limits import MAX_INDEX_BYTES, MAX_TRUST_FILE_BYTES, loads_json
from egif.model import SchemaVersion
from egif.registry import Registry, now
from egif.signing import PublicKey, Signer
from egif.trust import KeyList
from egif.xmlsafe import read_file

INDEX_FORMAT = "egif-registry-index/1"
INDEX_NAME = "index.json"
INDEX_DIGEST_NAME = "index.sha256"
CACHE_DIR = ".egif-cache"  # rendered diffs kept between publishes (not part of the protocol)
LOG_FORMAT = "egif-log/1"
LOG_SEGMENT_EVENTS = 1000


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
    key_list: KeyList | None = None  # None: unsigned
    signed_by: list[str] = field(default_factory=list)  # fingerprints that signed the index
    rotated_from: int | None = None  # the key-list version this publish replaced

    def to_dict(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory), "index_sha256": self.index_sha256,
            "changed": self.changed, "standards": self.standards, "versions": self.versions,
            "objects_written": self.objects_written, "objects_kept": self.objects_kept,
            "pages_written": self.pages_written, "pages_kept": self.pages_kept, "notes": self.notes,
            "signed": self.key_list is not None,
            "key_list": None if self.key_list is None else {
                "version": self.key_list.version, "threshold": self.key_list.threshold,
                "keys": [k.fingerprint for k in self.key_list.keys]},
            "signed_by": self.signed_by, "rotated_from": self.rotated_from,
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


def build_log(registry: Registry, writer: _Writer | None = None, *, strict: bool = False) -> dict[str, Any]:
    """The ``log`` entry of an index: the whole audit log, in segments stored as objects.

    With ``strict`` (a signed publication vouches for its log), a log that does
    not verify (:func:`egif.verify.replay`) is refused.
    """
    events = list(registry.store.iter_events())
    if strict:
        from egif.verify import replay

        audit = replay(events)
        if audit.problems:
            more = f" (and {len(audit.problems) - 1} more)" if len(audit.problems) > 1 else ""
            raise InputError(f"the audit log of {registry.location} does not verify: {audit.problems[0]}{more}; "
                             "a signed publication vouches for its log (see `egif registry verify`)")
        head = audit.chain.head
    elif events and events[-1]["prev"] is not None:
        head = eventlog.seal(events[-1], events[-1]["prev"])  # the chain is the readers' to check
    else:
        head = eventlog.walk(events).head
    published = list(eventlog.iter_published(events))
    segments = []
    for start in range(0, len(published), LOG_SEGMENT_EVENTS):
        chunk = published[start:start + LOG_SEGMENT_EVENTS]
        part = canonical_json(chunk)
        digest = writer.put_object(part) if writer is not None else sha256_hex(part)
        segments.append({"digest": digest, "size": len(part), "events": len(chunk)})
    return {"format": LOG_FORMAT, "events": len(published), "head": head, "segments": segments}


def build_index(registry: Registry, writer: _Writer | None = None, *,
                publisher_keys: dict[str, Any] | None = None, strict_log: bool = False) -> dict[str, Any]:
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
    content: dict[str, Any] = {"standards": standards, "log": build_log(registry, writer, strict=strict_log)}
    if publisher_keys is not None:
        content["publisher_keys"] = publisher_keys
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


def published_key_list(directory: Path, index: dict[str, Any] | None) -> tuple[KeyList, bytes] | None:
    """The key list a published index in *directory* is signed under, with its file's bytes."""
    named = index.get("publisher_keys") if index is not None else None
    if not isinstance(named, dict):
        return None
    version = named.get("version")
    where = directory / trust.key_list_path(int(version)) if isinstance(version, int) else directory
    try:
        data = read_file(where, limit=MAX_TRUST_FILE_BYTES, what="publisher key list")
        key_list, _sigs = trust.parse_key_list(loads_json(data, label=str(where)), str(where))
    except (EgifError, ValueError) as exc:
        text = exc.message if isinstance(exc, EgifError) else str(exc)
        raise InputError(f"the published index is signed, but its publisher key list is unusable ({text}): "
                         "restore it before publishing again", file=where) from None
    if sha256_hex(data) != named.get("digest"):
        raise InputError("the publisher key list does not match the digest the published index names",
                         file=where)
    return key_list, data


def _plan_keys(current: KeyList | None, signers: Sequence[Signer], key_list: Sequence[PublicKey] | None,
               threshold: int | None) -> KeyList | None:
    """The key list this publish is signed under: the current one, or a new version of it."""
    if not signers and key_list is None and threshold is None:
        return current
    keys = tuple(key_list) if key_list else (current.keys if current else tuple(s.public_key for s in signers))
    wanted = KeyList((current.version + 1) if current else 1, keys,
                     threshold if threshold is not None else (current.threshold if current else 1))
    try:
        wanted.check()
    except trust.TrustError as exc:
        raise InputError(exc.message) from None
    return current if wanted.same_keys(current) else wanted


def publish(registry: Registry, directory: str | Path, *, catalogue: bool = True,
            base_title: str = "egif schema registry", signers: Sequence[Signer] = (),
            key_list: Sequence[PublicKey] | None = None, threshold: int | None = None) -> PublishResult:
    """Write (or update) the static tree of *registry* under *directory*.

    With *signers* the index is signed (see :mod:`egif.trust`): by at least the
    threshold of the publisher key list already published in *directory*, or,
    the first time, of a new list (*key_list*, default the signers' keys, and
    *threshold*, default 1).  A *key_list* or *threshold* that differs from the
    published list starts its next version, which needs the signatures of the
    old list's threshold too (rotation).  A directory published signed is
    never republished unsigned.
    """
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise InputError("exists and is not a directory", file=root)
    previous = read_published_index(root)
    found = published_key_list(root, previous)
    current = found[0] if found else None
    planned = _plan_keys(current, signers, key_list, threshold)
    signing = _check_signers(planned, current, signers, root)
    root.mkdir(parents=True, exist_ok=True)
    objects = _Writer(root)
    rotated = planned is not None and planned is not current
    key_bytes = b""
    if planned is not None:
        if rotated:
            key_sigs = trust.sign_all(_rotation_signers(planned, current, signers), planned.message,
                                      trust.KEY_LIST_NAMESPACE)
            trust.check_key_list(planned, key_sigs, current, "the new publisher key list")
            key_bytes = trust.key_list_document(planned, key_sigs)
        else:
            assert found is not None
            key_bytes = found[1]
    publisher_keys = None if planned is None else {"version": planned.version, "digest": sha256_hex(key_bytes)}
    index = build_index(registry, objects, publisher_keys=publisher_keys, strict_log=planned is not None)

    unchanged = previous is not None and previous.get("content_digest") == index["content_digest"] \
        and previous.get("format") == INDEX_FORMAT and (root / INDEX_DIGEST_NAME).is_file()
    if not unchanged and planned is not None and not signing:
        raise InputError(f"{root} is published signed ({planned.describe()}): sign the new index with --key "
                         "(a signed registry is never republished unsigned)")
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

    # then the key list and signatures, then the index, which makes the new objects reachable, last
    signed_by: list[str] = []
    if not unchanged:
        if planned is not None:
            if rotated:
                write_atomic(root / trust.key_list_path(planned.version), key_bytes, sync=True)
            sigs = trust.sign_all(signing, index_bytes, trust.INDEX_NAMESPACE)
            good = trust.check_index_signatures(index_bytes, sigs, planned, "the new index")
            signed_by = sorted(k.fingerprint for k in good)
            write_atomic(root / trust.signatures_path(digest), trust.signatures_document(digest, planned, sigs),
                         sync=True)
        write_atomic(root / snapshot_path(digest), index_bytes, sync=True)
        write_atomic(root / INDEX_NAME, index_bytes, sync=True)
        write_atomic(root / INDEX_DIGEST_NAME, f"{digest}  {INDEX_NAME}\n".encode(), sync=True)
    return PublishResult(
        directory=root, index_sha256=digest, changed=not unchanged,
        standards=len(index["standards"]), versions=int(index["versions"]),
        objects_written=objects.written, objects_kept=objects.kept,
        pages_written=pages.written, pages_kept=pages.kept, notes=notes,
        key_list=planned, signed_by=signed_by,
        rotated_from=(current.version if current else None) if rotated else None,
    )


def _check_signers(planned: KeyList | None, current: KeyList | None, signers: Sequence[Signer],
                   root: Path) -> list[Signer]:
    """The signers whose keys sign the index; refused, before anything is written, when too few."""
    if planned is None or not signers:
        return []
    known = set(planned.keys) | set(current.keys if current else ())
    for s in signers:
        if s.public_key not in known:
            raise InputError(f"--key {s.public_key.fingerprint} is not a publisher key of {root} "
                             f"({planned.describe()})")
    chosen = {s.public_key: s for s in signers if s.public_key in planned.keys}
    if len(chosen) < planned.threshold:
        raise InputError(f"the index needs {planned.threshold} signatures by keys of the publisher "
                         f"{planned.describe()}; --key gives {len(chosen)}")
    return list(chosen.values())


def _rotation_signers(planned: KeyList, current: KeyList | None, signers: Sequence[Signer]) -> list[Signer]:
    wanted = set(planned.keys) | set(current.keys if current else ())
    unique = {s.public_key: s for s in signers if s.public_key in wanted}
    return list(unique.values())


def iter_index_versions(index: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for std in index.get("standards", []):
        yield from std.get("versions", [])


__all__ = ["INDEX_FORMAT", "LOG_FORMAT", "PublishResult", "build_index", "object_path", "publish", "snapshot_path",
           "write_atomic"]
