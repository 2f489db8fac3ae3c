"""Plain data objects shared by the registry, the store and the callers."""

from __future__ import annotations

import os
import re
from dataclasses import field
from enum import StrEnum
from pathlib import Path
from typing import Any

from egif.errors import InputError
from egif.record import record

_set = object.__setattr__  # how a frozen record's __init__ sets its fields

# \Z, not $: "$" would also accept a trailing newline; compiled on first use (re keeps it),
# as only naming a new schema checks a name
_NAME = r"^[A-Za-z][A-Za-z0-9_.\-]{0,99}\Z"
# MAJOR.MINOR, optionally followed by a revision letter or two, as published
# GovTalk file names carry them (VBcommon-v3-1d.xsd is version 3.1d).
_VERSION_RE = re.compile(r"^(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})([a-z]{1,2})?\Z")


def _quoted(value: str) -> str:
    """*value* quoted for a one-line message, cut short if long."""
    return repr(value) if len(value) <= 60 else repr(value[:57]) + "..."


class Status(StrEnum):
    """Where a schema version stands in its lifecycle."""

    DRAFT = "draft"
    CANDIDATE = "candidate"
    RATIFIED = "ratified"
    DEPRECATED = "deprecated"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"

    @classmethod
    def parse(cls, value: str) -> Status:
        """The status named ``value``, in any case; :class:`~egif.errors.InputError` for another word."""
        try:
            return cls(value.lower())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise InputError(f"unknown status {_quoted(value)} (one of: {allowed})") from None


# Statuses a new import binding may choose by default, best first.
USABLE_STATUSES = (Status.RATIFIED, Status.CANDIDATE, Status.DRAFT, Status.DEPRECATED)


def check_name(name: str) -> str:
    if not re.match(_NAME, name):
        raise InputError(
            f"invalid schema name {_quoted(name)}: start with a letter, then letters, digits, '_', '.', '-'"
        )
    return name


def parse_version(version: str) -> tuple[int, int]:
    """``"2.10"`` -> ``(2, 10)``; ``"3.1d"`` -> ``(3, 1)`` (the revision letters are not part of it)."""
    m = _VERSION_RE.match(version)
    if not m:
        raise InputError(f"invalid version {_quoted(version)}: expected MAJOR.MINOR such as 1.0 or 2.3 "
                         "(optionally with a revision letter, as in 3.1d)")
    return int(m.group(1)), int(m.group(2))


def version_order(version: str) -> tuple[int, int, str]:
    """Sort key of a version: ``3.1 < 3.1a < 3.1d < 3.2`` (a revision letter follows its plain version)."""
    major, minor = parse_version(version)
    return major, minor, version.partition(".")[2].lstrip("0123456789")


def is_schema_file(spec: str) -> bool:
    """Whether a SCHEMA argument names a local file rather than ``NAME[@VERSION]``.

    An existing file, anything with a path separator and any ``.xsd``/``.xml`` name is a
    file; everything else is a reference, read by :meth:`SchemaRef.parse` (so ``BS7666@2``
    gets the one version-format error every command gives, never "no such file").
    """
    return (spec.lower().endswith((".xsd", ".xml")) or "/" in spec or os.sep in spec
            or Path(spec).is_file())


@record(order=True)
class SchemaRef:
    """``name@version``; version ``None`` means "choose one" (newest, by status...)."""

    name: str
    version: str | None = None

    def __init__(self, name: str, version: str | None = None) -> None:
        _set(self, "name", name)
        _set(self, "version", version)

    @classmethod
    def parse(cls, text: str) -> SchemaRef:
        """``NAME@VERSION`` or ``NAME`` (version ``None``); :class:`~egif.errors.InputError` when
        the name or the ``MAJOR.MINOR`` version is malformed."""
        name, sep, version = text.strip().partition("@")
        check_name(name)
        if sep:
            parse_version(version)
            return cls(name, version)
        return cls(name, None)

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


@record()
class SchemaFile:
    """One document of a stored version, at its path inside the version's tree."""

    path: str
    digest: str
    size: int
    namespace: str | None
    role: str  # "main", "include" or "import" (a bundled import)

    def __init__(self, path: str, digest: str, size: int, namespace: str | None, role: str) -> None:
        _set(self, "path", path)
        _set(self, "digest", digest)
        _set(self, "size", size)
        _set(self, "namespace", namespace)
        _set(self, "role", role)


@record()
class Directive:
    """An xs:include / xs:import / xs:redefine / xs:override inside a stored file."""

    file: str
    kind: str
    namespace: str | None
    location: str | None
    target_path: str | None  # a file of the same version
    target: SchemaRef | None  # another registered version (imports only)

    def __init__(self, file: str, kind: str, namespace: str | None, location: str | None,
                 target_path: str | None, target: SchemaRef | None) -> None:
        _set(self, "file", file)
        _set(self, "kind", kind)
        _set(self, "namespace", namespace)
        _set(self, "location", location)
        _set(self, "target_path", target_path)
        _set(self, "target", target)


@record()
class ImportBinding:
    """How one imported namespace of a version is satisfied."""

    namespace: str
    target: SchemaRef | None  # a registered version ...
    bundled_path: str | None  # ... or a file stored with the version
    chosen: str  # why: "explicit", "published", "identical", "registered", "preferred" (older: "default", "bundled")

    def __init__(self, namespace: str, target: SchemaRef | None, bundled_path: str | None, chosen: str) -> None:
        _set(self, "namespace", namespace)
        _set(self, "target", target)
        _set(self, "bundled_path", bundled_path)
        _set(self, "chosen", chosen)


@record()
class BindingReport:
    """How ``Registry.add`` bound one imported namespace, and why (what ``schema add`` prints)."""

    namespace: str
    target: str  # "NAME@VERSION" of a registered version, or "file PATH" stored with the version
    reason: str  # explicit | published | identical | registered | preferred
    detail: str
    note: str | None = None  # e.g. how a supplied file differs from the registered version of its name

    def __init__(self, namespace: str, target: str, reason: str, detail: str, note: str | None = None) -> None:
        _set(self, "namespace", namespace)
        _set(self, "target", target)
        _set(self, "reason", reason)
        _set(self, "detail", detail)
        _set(self, "note", note)

    def to_dict(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "target": self.target, "reason": self.reason,
                "detail": self.detail, "note": self.note}


@record()
class SchemaVersion:
    """A stored, immutable schema version and what the registry knows of it."""

    name: str
    version: str
    namespace: str | None
    status: Status
    digest: str
    main: str
    files: tuple[SchemaFile, ...]
    imports: tuple[ImportBinding, ...]
    directives: tuple[Directive, ...]
    added_by: str
    added_at: str
    declared_version: str | None = None
    metadata: dict[str, list[str]] = field(default_factory=dict)
    title: str | None = None
    successor: str | None = None

    def __init__(self, name: str, version: str, namespace: str | None, status: Status, digest: str, main: str,
                 files: tuple[SchemaFile, ...], imports: tuple[ImportBinding, ...],
                 directives: tuple[Directive, ...], added_by: str, added_at: str,
                 declared_version: str | None = None, metadata: dict[str, list[str]] | None = None,
                 title: str | None = None, successor: str | None = None) -> None:
        _set(self, "name", name)
        _set(self, "version", version)
        _set(self, "namespace", namespace)
        _set(self, "status", status)
        _set(self, "digest", digest)
        _set(self, "main", main)
        _set(self, "files", files)
        _set(self, "imports", imports)
        _set(self, "directives", directives)
        _set(self, "added_by", added_by)
        _set(self, "added_at", added_at)
        _set(self, "declared_version", declared_version)
        _set(self, "metadata", {} if metadata is None else metadata)
        _set(self, "title", title)
        _set(self, "successor", successor)

    @property
    def ref(self) -> SchemaRef:
        return SchemaRef(self.name, self.version)

    @property
    def version_key(self) -> tuple[int, int]:
        return parse_version(self.version)

    def to_dict(self) -> dict[str, Any]:
        """The version as plain JSON-ready data, as the CLI's JSON output writes it."""
        return {
            "name": self.name,
            "version": self.version,
            "namespace": self.namespace,
            "status": self.status.value,
            "digest": self.digest,
            "main": self.main,
            "declared_version": self.declared_version,
            "title": self.title,
            "successor": self.successor,
            "added_by": self.added_by,
            "added_at": self.added_at,
            "files": [
                {"path": f.path, "digest": f.digest, "size": f.size,
                 "namespace": f.namespace, "role": f.role}
                for f in self.files
            ],
            "imports": [
                {"namespace": b.namespace,
                 "target": str(b.target) if b.target else None,
                 "bundled_path": b.bundled_path, "chosen": b.chosen}
                for b in self.imports
            ],
            "metadata": self.metadata,
        }


@record()
class Event:
    """One entry of the append-only audit log."""

    id: int
    name: str | None
    version: str | None
    kind: str
    actor: str
    at: str
    data: dict[str, Any]

    def __init__(self, id: int, name: str | None, version: str | None, kind: str, actor: str, at: str,
                 data: dict[str, Any]) -> None:
        _set(self, "id", id)
        _set(self, "name", name)
        _set(self, "version", version)
        _set(self, "kind", kind)
        _set(self, "actor", actor)
        _set(self, "at", at)
        _set(self, "data", data)

    def to_dict(self) -> dict[str, Any]:
        """The event as plain JSON-ready data, as the CLI's JSON output writes it."""
        return {"id": self.id, "name": self.name, "version": self.version, "kind": self.kind,
                "actor": self.actor, "at": self.at, "data": self.data}


class Severity(StrEnum):
    """How much a finding matters: only ``ERROR`` makes a document invalid (and ``egif validate``
    exit 1); ``WARNING`` (e.g. a deprecated version) and ``INFO`` (e.g. a draft version, the
    version detected) are reported and do not fail."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@record()
class Finding:
    """One problem found in a document or a schema, located as exactly as known.

    ``rule`` names what failed: an XSD component or libxml2 error code for
    schema validation (e.g. ``"xsd:pattern"``), a Schematron rule id
    (``"BS7666-R1"``), a lint rule id, or ``"xml:syntax"`` for a parse error.
    ``record`` is the 1-based index of the record within a collection export.
    """

    message: str
    rule: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None
    record: int | None = None

    def __init__(self, message: str, rule: str, severity: Severity = Severity.ERROR, file: str | None = None,
                 line: int | None = None, column: int | None = None, path: str | None = None,
                 record: int | None = None) -> None:
        _set(self, "message", message)
        _set(self, "rule", rule)
        _set(self, "severity", severity)
        _set(self, "file", file)
        _set(self, "line", line)
        _set(self, "column", column)
        _set(self, "path", path)
        _set(self, "record", record)

    def to_dict(self) -> dict[str, Any]:
        """The finding as one object of ``egif validate --format json``, keys in that order."""
        return {
            "file": self.file, "line": self.line, "column": self.column, "path": self.path,
            "record": self.record, "rule": self.rule, "severity": self.severity.value,
            "message": self.message,
        }
