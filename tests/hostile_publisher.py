"""A publisher who means harm: writes a published-registry tree by hand.

``egif.publish`` only writes honest trees.  :class:`EvilSite` writes whatever a
test asks for (any main file name, any file paths, any schemaLocation, any
index JSON, any history) while getting every digest right, so that what a
pull refuses is refused for the attack, not for a broken hash.  Serve the
folder with :func:`tests.publish_server.serve`.

The marker file (:data:`MARKER_TEXT` in a file outside the site) stands for a
secret on the consumer's disk: :class:`OpenAudit` records every attempt of
this process to open it, through ``sys.addaudithook``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from egif.publish import INDEX_FORMAT, object_path

MARKER_TEXT = "EGIF-PULL-MARKER-41d9 never to be read"
XS = "http://www.w3.org/2001/XMLSchema"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version_digest(main: str, files: dict[str, bytes]) -> str:
    """The digest egif computes for a version (see ``egif.registry._version_digest``)."""
    manifest = {"main": main, "files": sorted([p, sha(d)] for p, d in files.items())}
    return sha(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())


def xsd(tns: str | None, body: str = "", *, directives: str = "") -> bytes:
    target = f' targetNamespace="{tns}"' if tns else ""
    return (f'<?xml version="1.0"?>\n<xs:schema xmlns:xs="{XS}"{target} '
            f'elementFormDefault="qualified">{directives}{body}</xs:schema>\n').encode()


class EvilSite:
    """A published tree under *root*, built version by version."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.standards: dict[str, dict[str, Any]] = {}
        self.objects: set[str] = set()
        root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes) -> str:
        digest = sha(data)
        target = self.root / object_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self.objects.add(digest)
        return digest

    def version(self, name: str, version: str, files: dict[str, bytes], *, main: str | None = None,
                imports: list[dict[str, Any]] | None = None, status: str = "draft",
                title: str | None = None, namespace: str | None = None,
                history: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
        main = main if main is not None else next(iter(files))
        entry: dict[str, Any] = {
            "name": name, "version": version, "status": status, "namespace": namespace,
            "main": main, "title": title, "successor": None,
            "files": [{"path": p, "digest": self.put(d), "size": len(d), "namespace": namespace,
                       "role": "main" if p == main else "include"} for p, d in files.items()],
            "imports": imports or [],
            "digest": version_digest(main, files),
            "attachments": [],
            **extra,
        }
        std = self.standards.setdefault(name, {"name": name, "title": title, "versions": [],
                                               "events": []})
        std["versions"].append(entry)
        for event in history or []:
            std["events"].append({"id": len(std["events"]) + 1, "name": name, "version": version,
                                  "at": "2024-01-01T00:00:00+00:00", "actor": "publisher",
                                  "kind": "note", "data": {}, **event})
        return entry

    def index(self) -> dict[str, Any]:
        standards = []
        for name in sorted(self.standards):
            std = self.standards[name]
            hist = json.dumps(std["events"]).encode()
            standards.append({"name": name, "title": std["title"], "versions": std["versions"],
                              "history": {"digest": self.put(hist), "size": len(hist),
                                          "events": len(std["events"])}})
        return {"format": INDEX_FORMAT, "content_digest": "0" * 64, "versions": 0,
                "standards": standards}

    def write(self, index: Any = None, *, raw: bytes | None = None) -> bytes:
        """Write index.json (this site's index, *index* as given, or *raw* bytes)."""
        body = raw if raw is not None else json.dumps(self.index() if index is None else index).encode()
        (self.root / "index.json").write_bytes(body)
        return body


# -- proving a file is never opened ---------------------------------------------------
class OpenAudit:
    """Every path this process opens while :meth:`watch` is active (one hook for the session)."""

    _installed = False
    _lock = threading.Lock()
    _active: list[list[str]] = []

    @classmethod
    def _hook(cls, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not cls._active or not args:
            return
        target = args[0]
        if isinstance(target, (str, bytes, os.PathLike)):
            text = os.fsdecode(target)
            for seen in cls._active:
                seen.append(text)

    @classmethod
    @contextmanager
    def watch(cls) -> Iterator[list[str]]:
        with cls._lock:
            if not cls._installed:
                sys.addaudithook(cls._hook)
                cls._installed = True
        seen: list[str] = []
        cls._active.append(seen)
        try:
            yield seen
        finally:
            cls._active.remove(seen)


def touched(seen: list[str], marker: Path) -> list[str]:
    """The opens in *seen* that reached *marker* (however the path was spelled)."""
    hits = []
    for path in seen:
        try:
            if Path(path).resolve() == marker.resolve():
                hits.append(path)
        except (OSError, ValueError):
            continue
    return hits


def dump(path: Path) -> list[str]:
    """Every row of every table, to compare a registry before and after."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(db.iterdump())
    finally:
        db.close()
