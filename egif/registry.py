"""The registry: the object users import.

``Registry.open()`` opens the per-user registry (an SQLite file in the user
data directory, created with the shipped standards on first use), or the
registry a path or ``postgresql://`` DSN names, which must exist
(``Registry.init`` creates one on purpose); ``add``, ``get``, ``list``,
``resolve`` and ``export`` do the rest.  No method prints or prompts: results
come back as data, failures as :mod:`egif.errors`.

A new version is always a draft; statuses move only through
:class:`egif.lifecycle.Lifecycle`.  Seeding the shipped standards and applying
a verified pull store versions in other statuses through ``_add``, which is
not public API and marks its ``add`` events with ``via``.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import json
import os
import posixpath
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from egif.errors import (
    Conflict,
    EgifError,
    InputError,
    NotFound,
    PermissionDenied,
    SchemaCompileError,
    TamperedError,
)
from egif.model import (
    USABLE_STATUSES,
    BindingReport,
    Directive,
    Event,
    ImportBinding,
    SchemaFile,
    SchemaRef,
    SchemaVersion,
    Status,
    check_name,
    parse_version,
    version_order,
)
from egif.record import record
from egif.resolve import ResolvedSchema, Unit, UnitDirective, resolved_from_units
from egif.store import Store, is_postgres_url, open_store
from egif.store.sqlite import create_whole
from egif.userdirs import user_data_dir

if TYPE_CHECKING:
    from egif.binding import LocalSource, MemorySource, Scan
    from egif.signing import Signer

# Imported where used, not here: the audit log and its signatures, the import scanner, the
# e-GMS metadata reader, the actor's identity and difflib serve adding, recording and error
# messages; reading a registry to validate a document (every `egif validate`) never needs them.

REGISTRY_ENV = "EGIF_REGISTRY"


def default_registry_path() -> Path:
    """``$EGIF_REGISTRY`` if set, else ``registry.sqlite`` in the user data directory."""
    env = os.environ.get(REGISTRY_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return per_user_registry_path()


def per_user_registry_path() -> Path:
    """``registry.sqlite`` in the user data directory: the one registry created on first use."""
    return user_data_dir() / "registry.sqlite"


def default_location() -> tuple[str | Path, bool]:
    """Where ``Registry.open()`` looks, and whether that place was named explicitly.

    ``$EGIF_REGISTRY`` (a path or a ``postgresql://`` DSN) is explicit; the
    per-user file is not, and only it is created when missing.
    """
    env = os.environ.get(REGISTRY_ENV, "").strip()
    if env:
        return (env if is_url(env) else Path(env).expanduser()), True
    return per_user_registry_path(), False


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def sha256(data: bytes) -> str:
    """The hex SHA-256 of *data*: a stored file's digest, checked each time the file is read."""
    return _sha256()(data).hexdigest()  # type: ignore[no-any-return]


@functools.cache
def _sha256() -> Any:
    """SHA-256 as CPython builds it in (the module hashlib itself falls back on), else
    hashlib's: loading OpenSSL for hashlib costs every `egif validate` 3% of its start, to
    hash schema files of a few kilobytes."""
    for name in ("_sha2", "_sha256"):  # Python 3.12 and later; 3.11
        try:
            return importlib.import_module(name).sha256
        except ImportError:
            continue
    import hashlib

    return hashlib.sha256


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@record()
class AddResult:
    """What ``Registry.add`` did: the stored version, whether it is new, and how each import was bound."""

    version: SchemaVersion
    created: bool
    bindings: tuple[BindingReport, ...] = ()
    notes: tuple[str, ...] = ()

    def __init__(self, version: SchemaVersion, created: bool, bindings: tuple[BindingReport, ...] = (),
                 notes: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "version", version)
        object.__setattr__(self, "created", created)
        object.__setattr__(self, "bindings", bindings)
        object.__setattr__(self, "notes", notes)


def suggestion(ref: SchemaRef, known: Mapping[str, builtins.list[str]]) -> str | None:
    """What the user probably meant by *ref*, whose name is not among *known* (name -> its versions).

    The same name in another case first (``bs7666`` -> ``BS7666``), else the closest names
    by :func:`difflib.get_close_matches`; a candidate that has the version asked for is
    suggested with it (``BS7666@2.0``), one that lacks it with the versions it has.  None
    when nothing is close.
    """
    import difflib

    by_lower: dict[str, builtins.list[str]] = {}
    for name in sorted(known):
        by_lower.setdefault(name.lower(), []).append(name)
    wanted = ref.name.lower()
    names = by_lower.get(wanted) or [n for close in difflib.get_close_matches(wanted, list(by_lower), n=3)
                                     for n in by_lower[close]]
    if not names:
        return None
    labels = [f"{n}@{ref.version}" if ref.version in known[n]
              else f"{n} (versions: {', '.join(known[n])})" if ref.version else n for n in names]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


class Registry:
    """A versioned registry of XML Schemas."""

    def __init__(self, store: Store, *, actor: str | None = None) -> None:
        self.store = store
        self._actor = self._checked_actor(actor)
        self._resolved: dict[str, ResolvedSchema] = {}

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, location: str | Path | None = None, *, actor: str | None = None,
             create: bool | None = None, seed: bool = True) -> Registry:
        """Open the registry at *location*: a file path or a ``postgresql://`` DSN.

        Without *location*, ``$EGIF_REGISTRY`` or else the per-user registry.
        Only the per-user registry is created when missing (seeded with the
        shipped standards unless ``seed`` is false); a named registry must exist
        unless ``create=True`` (see :meth:`init`).  A registry the user cannot
        write opens read-only.
        """
        explicit = location is not None
        if location is None:
            location, explicit = default_location()
        if create is None:
            create = not explicit
        if create and not is_postgres_url(location):
            path = Path(location).expanduser()
            if not path.exists():
                # made whole beside the path, then linked into place: processes starting at once
                # never see a registry half made (see create_whole)
                create_whole(path, lambda draft: cls(draft, actor=actor)._seed(seed))
        store = open_store(location, create=create)
        try:
            registry = cls(store, actor=actor)
            if store.created or (create and not store.read_only and store.get_meta("seeded") is None):
                registry._seed(seed)
        except BaseException:
            store.close()
            raise
        return registry

    @classmethod
    def init(cls, location: str | Path, *, actor: str | None = None, seed: bool = True) -> Registry:
        """Create the registry at *location* (or bring an existing one up to date) and open it."""
        return cls.open(location, actor=actor, create=True, seed=seed)

    def _seed(self, seed: bool) -> None:
        store = self.store
        with store.transaction():
            if store.get_meta("seeded") is not None:  # another process won the race
                return
            if seed:
                from egif.shipped import seed_registry

                seed_registry(self)
                store.set_meta("seeded", now())
            else:  # created empty on purpose: stays empty
                store.set_meta("seeded", "no (created empty)")

    def close(self) -> None:
        """Close the store's connection (``with Registry.open() as reg:`` does it for you)."""
        self.store.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def location(self) -> str:
        return self.store.location

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def identity_enforced(self) -> bool:
        """True where the database authenticates the acting identity (PostgreSQL)."""
        return self.store.identity() is not None

    @property
    def actor(self) -> str:
        if self._actor is None:
            from egif.identity import current_actor

            self._actor = current_actor()
        return self._actor

    def acting_as(self, actor: str | None = None) -> str:
        """The identity an action is recorded under; *actor* is checked where identity is enforced."""
        return self._checked_actor(actor) or self.actor

    def _checked_actor(self, actor: str | None) -> str | None:
        enforced = self.store.identity()
        if enforced is None:
            return actor.strip() if actor and actor.strip() else None
        if actor and actor.strip() and actor.strip() != enforced:
            raise PermissionDenied(
                f"cannot act as {actor.strip()!r}: {self.location} records every action under the "
                f"database role you connect as ({enforced!r}); connect as that role instead")
        return enforced

    # -- reading -----------------------------------------------------------
    def get(self, ref: str | SchemaRef) -> SchemaVersion:
        """One version; ``NAME`` alone means its newest version."""
        return self._to_model(self._row(ref))

    def list(self, *, name: str | None = None, namespace: str | None = None,
             status: str | Status | None = None) -> builtins.list[SchemaVersion]:
        """Every registered version, or those of one standard ``name``, ``namespace`` or ``status``."""
        status_value = Status.parse(status).value if isinstance(status, str) else (
            status.value if status else None)
        rows = self.store.list_versions(name=name, namespace=namespace, status=status_value)
        return self._to_models(rows)

    def versions(self, name: str) -> builtins.list[SchemaVersion]:
        """The lineage of one standard, oldest first."""
        found = self.list(name=name)
        if not found:
            raise self._unknown(SchemaRef(name))
        return found

    def importers(self, ref: str | SchemaRef, *, statuses: Iterable[Status] | None = None
                  ) -> builtins.list[SchemaVersion]:
        """The versions that import *ref* directly (bound to it), optionally only those in
        *statuses*; by name and version."""
        wanted = {s.value for s in statuses} if statuses is not None else None
        rows = self.store.dependents(int(self._row(ref)["id"]))
        unique = {(r["name"], r["version"]): r for r in rows if wanted is None or r["status"] in wanted}
        return self._to_models(sorted(unique.values(), key=lambda r: (r["name"], version_order(r["version"]))))

    def newest(self, name: str | None = None, *, namespace: str | None = None,
               statuses: Iterable[Status] | None = None) -> SchemaVersion:
        """The newest version of a standard (by name or namespace) in the given statuses."""
        wanted = {s.value for s in statuses} if statuses is not None else None
        rows = [r for r in self.store.list_versions(name=name, namespace=namespace)
                if wanted is None or r["status"] in wanted]
        if not rows and name is not None and not self.store.list_versions(name=name):
            raise self._unknown(SchemaRef(name))
        if not rows:
            what = f"name {name!r}" if name else f"namespace {namespace!r}"
            extra = f" in status {', '.join(sorted(wanted))}" if wanted else ""
            raise NotFound(f"no schema version with {what}{extra}")
        best = max(rows, key=lambda r: version_order(r["version"]))
        return self._to_model(best)

    def files(self, ref: str | SchemaRef) -> dict[str, bytes]:
        """The version's own documents as stored, each checked against its digest."""
        row = self._row(ref)
        return self._verified_files(row)

    def resolve(self, ref: str | SchemaRef) -> ResolvedSchema:
        """The version and its imports laid out in memory, ready to compile."""
        row = self._row(ref)
        cached = self._resolved.get(_resolved_key(row))
        if cached is None:
            cached = self._resolve_closure(row, self.store.closure([int(row["id"])], contents=True))
        return cached

    def _resolve_closure(self, row: Mapping[str, Any], closure: Iterable[Mapping[str, Any]]) -> ResolvedSchema:
        """:meth:`resolve` of *row*, given the rows of its closure (``Store.closure``), kept."""
        units: dict[str, Unit] = {}
        self._add_units(closure, units)
        resolved = self._resolved[_resolved_key(row)] = resolved_from_units(
            units, f"{_unit_key(row)}/{row['main_path']}", label=f"{row['name']}@{row['version']}")
        return resolved

    def _validation_view(self, ref: str | SchemaRef
                         ) -> tuple[SchemaVersion, ResolvedSchema, dict[str, SchemaVersion]]:
        """A version, its closure ready to compile, and every version in that closure by
        ``NAME@VERSION`` (with their statuses): what a validator needs, read in as few round
        trips as the store allows (two on a server).  Not public API."""
        row = self._row(ref)
        resolved = self._resolved.get(_resolved_key(row))
        closure = self.store.closure([int(row["id"])], contents=resolved is None)
        versions = {f"{m.name}@{m.version}": m for m in self._to_models(closure)}
        if resolved is None:
            resolved = self._resolve_closure(row, closure)
        return versions[f"{row['name']}@{row['version']}"], resolved, versions

    def forget_cache(self) -> None:
        """Drop compiled closures kept in memory (after a rolled-back transaction)."""
        self._resolved.clear()

    def export(self, ref: str | SchemaRef, directory: str | Path) -> builtins.list[Path]:
        """Write the version and its imports as a self-contained tree under *directory*."""
        resolved = self.resolve(ref)
        target = Path(directory)
        if target.exists() and not target.is_dir():
            raise InputError("exists and is not a directory", file=target)
        target.mkdir(parents=True, exist_ok=True)
        written: builtins.list[Path] = resolved.write(target)
        return written

    def events(self, name: str | None = None, version: str | None = None,
               kinds: tuple[str, ...] | None = None) -> Iterator[Event]:
        """The audit events, oldest first: all, or of one standard or version, of some ``kinds``."""
        for e in self.store.iter_events(name=name, version=version, kinds=kinds):
            yield Event(e["id"], e["name"], e["version"], e["kind"], e["actor"], e["at"], e["data"])

    def record_event(self, kind: str, *, name: str | None = None, version: str | None = None,
                     data: Mapping[str, Any] | None = None, actor: str | None = None,
                     signer: Signer | None = None) -> int:
        """Append an event to the audit log (inside the current transaction, if any).

        The event is linked into the log's hash chain; a governance event is
        signed with *signer*, and must be where the maintainers have keys
        (see :mod:`egif.eventlog`).
        """
        from egif import eventlog

        who = self.acting_as(actor)
        return eventlog.append(self.store, name=name, version=version, kind=kind, actor=who, at=now(),
                               data=dict(data or {}), signer=signer)

    # -- files kept beside a version ---------------------------------------
    def attach(self, ref: str | SchemaRef, kind: str, name: str, content: bytes, *,
               actor: str | None = None) -> str:
        """Keep a file beside a version (e.g. ``kind="schematron"``); returns its digest.

        Attachments are content-addressed like schema files and recorded in the
        audit log.  Replacing an attachment of the same kind and name is allowed
        only while the version is a draft.
        """
        return self._attach(ref, kind, name, content, actor=self.acting_as(actor))

    def _attach(self, ref: str | SchemaRef, kind: str, name: str, content: bytes, *, actor: str) -> str:
        row = self._row(ref)
        digest = sha256(content)
        who = actor
        with self.store.transaction():
            existing = {a["name"]: a for a in self.store.list_attachments(row["id"], kind)}
            old = existing.get(name)
            if old is not None and old["digest"] == digest:
                return digest
            if old is not None and row["status"] != Status.DRAFT.value:
                raise Conflict(f"{row['name']}@{row['version']} is {row['status']}: its {kind} "
                               f"{name!r} can no longer be replaced")
            self.store.put_blob(digest, content)
            self.store.put_attachment(row["id"], kind, name, digest, who, now())
            from egif import eventlog

            eventlog.append(self.store, name=row["name"], version=row["version"], kind="attach",
                            actor=who, at=now(), data={"kind": kind, "name": name, "digest": digest})
        return digest

    def attachments(self, ref: str | SchemaRef, kind: str | None = None) -> dict[str, bytes]:
        """``{name: content}`` of a version's attachments (of one kind), digest-checked."""
        row = self._row(ref)
        out: dict[str, bytes] = {}
        for a in self.store.list_attachments(row["id"], kind):
            data = self.store.get_blob(a["digest"])
            if sha256(data) != a["digest"]:
                raise TamperedError(
                    f"{row['name']}@{row['version']}: attachment {a['kind']}/{a['name']} no longer "
                    "matches its digest: the registry database has been altered", file=self.location)
            out[a["name"] if kind else f"{a['kind']}/{a['name']}"] = data
        return out

    # -- adding ------------------------------------------------------------
    def add(self, main: str | Path, *, name: str, version: str,
            imports: Mapping[str, str | SchemaRef | Path] | None = None,
            files: Mapping[str, bytes] | None = None, prefer_registered: bool = False,
            title: str | None = None, actor: str | None = None, within: str | Path | None = None) -> AddResult:
        """Store a schema and the documents it includes, binding each import, as a draft.

        Documents are read from the local disk (with ``within``, a folder, only from inside
        it: a schemaLocation leading elsewhere is refused), or, with ``files``, only from
        that mapping of relative paths to bytes (``main`` is then one of its
        keys and nothing outside it is ever read).  Each imported namespace is
        bound by the first rule that applies (see :mod:`egif.binding`):
        ``imports`` (``{namespace: "NAME@VERSION" | file}``); with
        ``prefer_registered``, a usable registered version; the file its
        schemaLocation names when that file is supplied (recorded as a binding
        to a registered version when byte-identical to one); else the newest
        usable registered version.  ``AddResult.bindings`` says what was
        chosen and why.  The whole add is one transaction.

        A new version is always a draft: it moves on only through
        :class:`egif.lifecycle.Lifecycle`, whose guards and approvals apply.
        """
        return self._add(main, name=name, version=version, imports=imports, files=files,
                         prefer_registered=prefer_registered, title=title, actor=self.acting_as(actor),
                         within=within)

    def _add(self, main: str | Path, *, name: str, version: str,
             imports: Mapping[str, str | SchemaRef | Path] | None = None,
             files: Mapping[str, bytes] | None = None, prefer_registered: bool = False,
             status: Status | str = Status.DRAFT, title: str | None = None,
             successor: str | None = None, actor: str | None = None, via: str | None = None,
             within: str | Path | None = None) -> AddResult:
        """``add`` with a status decided elsewhere: the administrative paths only.

        Seeding the shipped standards (``via="shipped"``) and applying a
        verified pull (``via="pull"``) store versions in their recorded
        status; the ``add`` event names the path.  Not public API.
        """
        from egif import eventlog
        from egif.binding import LocalSource, MemorySource, Scanner, check_member_path

        check_name(name)
        major, minor = parse_version(version)
        status = Status.parse(status) if isinstance(status, str) else status
        if status != Status.DRAFT and not via:
            raise PermissionDenied(f"{name}@{version}: only an administrative path may store a "
                                   f"{status.value} version; new versions are drafts")
        source: LocalSource | MemorySource
        if files is not None:
            source = MemorySource(files)
            main_key = check_member_path(str(main), "the file set")
            main_label = str(main)
            if not source.exists(main_key):
                raise InputError("the main file is not in the file set", file=main_label)
        else:
            source = LocalSource(Path(within) if within is not None else None)
            main_path = Path(main).expanduser()
            main_label = str(main_path)
            if not main_path.exists():
                raise InputError("no such file", file=main_path)
            main_key = source.key_of(main_path)
        # the version itself (is it registered already?) and the versions named by --import with
        # everything they bind (what the new version compiles against), in one read
        named = [SchemaRef(name, version), *(r for r in map(_named_ref, (imports or {}).values()) if r)]
        read = self.store.closure(refs=[(r.name, str(r.version)) for r in named], contents=True)
        known = {(r["name"], r["version"]): r for r in read}
        scan = Scanner(self, source, explicit=imports, prefer_registered=prefer_registered,
                       known=known).run(main_key)

        # local files are laid out relative to their common folder; a file set keeps its own names
        if files is None:
            common = os.path.commonpath([str(Path(k).parent) for k in scan.files])
            rel = {k: Path(k).relative_to(common).as_posix() for k in scan.files}
        else:
            rel = {k: k for k in scan.files}
        stored_files: builtins.list[dict[str, Any]] = [
            {"path": rel[k], "digest": f.digest, "namespace": f.namespace, "role": f.role, "content": f.data}
            for k, f in scan.files.items()
        ]
        digest = _version_digest(rel[main_key], stored_files)

        existing = known.get((name, version))
        if existing is not None:
            if existing["digest"] == digest:
                return AddResult(self._to_model(existing), created=False,
                                 bindings=self._reports(scan, rel), notes=tuple(scan.notes))
            raise Conflict(
                f"{name}@{version} is already registered with different content "
                f"(stored digest {existing['digest'][:12]}, this one {digest[:12]}); "
                "a stored version never changes: add it under a new version",
                file=main_label,
            )

        directives: builtins.list[dict[str, Any]] = [
            {"file": rel[d.file], "kind": d.kind, "namespace": d.namespace, "location": d.location,
             "target_path": rel[d.target] if d.target is not None else None, "target_version_id": d.version_id}
            for d in scan.directives
        ]
        bindings: builtins.list[dict[str, Any]] = [
            {"namespace": key, "target_version_id": b.version_id,
             "bundled_path": rel[b.file] if b.file is not None else None, "chosen": b.reason}
            for key, b in sorted(scan.bindings.items())
        ]

        # NAME@VERSION of every version bound, as the scan found them
        labels = {b.version_id: b.target_label for b in scan.bindings.values()
                  if b.version_id is not None and b.target_label is not None}
        for bound in {d["target_version_id"] for d in directives} | {b["target_version_id"] for b in bindings}:
            if bound is not None and bound not in labels:
                t = self.store.version_by_id(bound)
                labels[bound] = f"{t['name']}@{t['version']}"
        # compile exactly as a stored version would be compiled, before storing
        key = f"{name}/{version}"
        units = self._units_for(key, rel[main_key], {f["path"]: f["content"] for f in stored_files}, directives,
                                read=read)
        try:
            resolved_from_units(units, f"{key}/{rel[main_key]}", label=main_label).lxml_schema()
        except SchemaCompileError as exc:
            unbound = [b for b in scan.bindings.values() if b.reason == "unbound"]
            extra = "".join(
                f"; it imports {'namespace ' + repr(b.namespace) if b.namespace else 'the no-namespace schema'}"
                f" ({b.detail}): add that schema first or bind it with --import "
                f"{b.namespace or ''}=NAME@VERSION|FILE" for b in unbound)
            raise SchemaCompileError(exc.message + extra, file=main_label) from None
        reports = self._reports(scan, rel, compare=True)

        from egif.metadata import egms_metadata

        main_tree = scan.files[main_key].tree
        metadata = egms_metadata(main_tree.getroot())
        who = actor or self.actor
        row: dict[str, Any] = {
            "name": name, "version": version, "major": major, "minor": minor,
            "namespace": _tns(main_tree), "status": status.value, "digest": digest,
            "main_path": rel[main_key],
            "declared_version": main_tree.getroot().get("version"),
            "title": title or next(iter(metadata.get("Title", [])), None),
            "metadata": json.dumps(metadata, sort_keys=True),
            "successor": successor, "added_by": who, "added_at": now(),
        }
        with self.store.transaction():
            event = eventlog.prepare(
                self.store, name=name, version=version, kind="add", actor=who, at=row["added_at"],
                data={"digest": digest, "status": status.value, "files": [f["path"] for f in stored_files],
                      "imports": {b["namespace"]: self._binding_label(b, labels) for b in bindings},
                      "reasons": {r.namespace: r.reason for r in reports},
                      **({"via": via} if via else {})},
            )
            # the version and its add event in one write (the insert is the re-check, under the lock)
            stored = self.store.insert_version(row, stored_files, directives, bindings, event=event)
            if stored is None:  # registered meanwhile
                existing = self.store.find_version(name, version)
                assert existing is not None
                if existing["digest"] == digest:
                    return AddResult(self._to_model(existing), created=False, bindings=reports,
                                     notes=tuple(scan.notes))
                raise Conflict(f"{name}@{version} was registered meanwhile with different content",
                               file=main_label)
            eventlog.appended(self.store, event)
        # what was just stored is known here: the model needs no reading back
        details = _details_of(stored_files, directives, bindings, labels)
        return AddResult(self._to_model(stored, details), created=True, bindings=reports, notes=tuple(scan.notes))

    def _units_for(self, key: str, main: str, files: Mapping[str, bytes],
                   directives: builtins.list[dict[str, Any]],
                   read: Iterable[Mapping[str, Any]] = ()) -> dict[str, Unit]:
        """The closure of a version not yet stored: its own files plus the versions it binds
        (taken from *read*, rows of ``Store.closure``, when they are all there)."""
        units: dict[str, Unit] = {}
        targets = sorted({int(d["target_version_id"]) for d in directives if d["target_version_id"] is not None})
        keys: dict[int, str] = {}
        if targets:
            closure = self._closure_within(targets, {int(r["id"]): r for r in read})
            keys = self._add_units(self.store.closure(targets, contents=True) if closure is None else closure, units)
        units[key] = Unit(key=key, main=main, files=dict(files),
                          directives=tuple(self._unit_directives(directives, keys)))
        return units

    def _reports(self, scan: Scan, rel: Mapping[str, str], *, compare: bool = False
                 ) -> tuple[BindingReport, ...]:
        out = []
        for key, b in sorted(scan.bindings.items()):
            if b.version_id is not None:
                target = b.target_label or "?"
            elif b.reason == "unbound":
                target = "nothing"
            else:
                target = f"file {rel[b.file]}" if b.file is not None and b.file in rel else "file ?"
            note = b.note
            if compare and note is None and b.version_id is None and b.file is not None:
                note = self._compare_supplied(scan, rel, b.namespace, b.file)
            out.append(BindingReport(key, target, b.reason, b.detail, note))
        return tuple(out)

    def _compare_supplied(self, scan: Scan, rel: Mapping[str, str], ns: str | None, file: str) -> str | None:
        """One line on how a supplied import relates to the registered versions of its namespace."""
        from egif.binding import govtalk_name

        named = govtalk_name(posixpath.basename(file.replace(os.sep, "/")))
        same = self.store.find_version(*named) if named is not None else None
        if same is not None and same["namespace"] == ns:
            label = f"{same['name']}@{same['version']}"
            verdict = self._verdict(scan, rel, file, same)
            return f"differs from registered {label} ({verdict}); the supplied file is kept"
        if ns is None:
            return None
        others = [r for r in self.store.list_versions(namespace=ns) if Status(r["status"]) in USABLE_STATUSES]
        if not others:
            return None
        best = max(others, key=lambda r: version_order(r["version"]))
        return (f"the registry also holds this namespace ({best['name']}@{best['version']}); the supplied "
                "file wins (--prefer-registered or --import binds the registered one)")

    def _verdict(self, scan: Scan, rel: Mapping[str, str], file: str, row: Mapping[str, Any]) -> str:
        """The diff verdict from a registered version to a supplied file, for a one-line note."""
        try:
            from egif.diff import diff_schemas

            keys = scan.reachable(file)
            own = set(keys)
            directives = [
                {"file": rel[d.file], "kind": d.kind, "namespace": d.namespace, "location": d.location,
                 "target_path": rel[d.target] if d.target is not None else None,
                 "target_version_id": d.version_id}
                for d in scan.directives if d.file in own]
            units = self._units_for("supplied/0", rel[file], {rel[k]: scan.files[k].data for k in keys}, directives)
            supplied = resolved_from_units(units, f"supplied/0/{rel[file]}", label=rel[file])
            result = diff_schemas(self.resolve(SchemaRef(row["name"], row["version"])), supplied, evidence=False)
            return f"diff {row['name']}@{row['version']} -> supplied file: {result.verdict}"
        except Exception as exc:  # a note must never fail an add
            return f"diff not available: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"

    # -- internals ---------------------------------------------------------
    def _row(self, ref: str | SchemaRef) -> dict[str, Any]:
        ref = SchemaRef.parse(ref) if isinstance(ref, str) else ref
        if ref.version is None:
            rows = self.store.list_versions(name=ref.name)
            if not rows:
                raise self._unknown(ref)
            return max(rows, key=lambda r: version_order(r["version"]))
        row = self.store.find_version(ref.name, ref.version)
        if row is None:
            known = [r["version"] for r in self.store.list_versions(name=ref.name)]
            if not known:
                raise self._unknown(ref)
            raise NotFound(f"no schema {ref} in the registry (registered versions: {', '.join(known)})")
        return row

    def _unknown(self, ref: SchemaRef) -> NotFound:
        """The error for a standard the registry does not hold, suggesting the names it does."""
        known: dict[str, list[str]] = {}
        for row in self.store.list_versions():
            known.setdefault(row["name"], []).append(row["version"])
        hint = suggestion(ref, known)
        try:
            name = check_name(ref.name)
        except InputError:
            name = repr(ref.name)
        return NotFound(f"no standard {name} in the registry" + (f" \N{EM DASH} did you mean {hint}?" if hint else ""))

    @staticmethod
    def _binding_label(b: Mapping[str, Any], labels: Mapping[int, str]) -> str:
        """What a binding is bound to, for the add event; *labels* names every bound version."""
        if b["target_version_id"] is not None:
            return labels[int(b["target_version_id"])]
        return f"file:{b['bundled_path']}"

    def _verified_files(self, row: Mapping[str, Any], files: Iterable[Mapping[str, Any]] | None = None,
                        blobs: Mapping[str, bytes] | None = None) -> dict[str, bytes]:
        """The version's files, each checked against its digest, the whole against the version
        digest and the digest its ``add`` event recorded; *files* and *blobs* when already read."""
        files = self.store.version_files(row["id"]) if files is None else builtins.list(files)
        if blobs is None:
            blobs = self.store.get_blobs(f["digest"] for f in files)
        out: dict[str, bytes] = {}
        manifest = []
        for f in files:
            data = blobs[f["digest"]]
            if sha256(data) != f["digest"]:
                raise TamperedError(
                    f"{row['name']}@{row['version']}: stored file {f['path']} no longer matches "
                    f"its digest {f['digest'][:12]}: the registry database has been altered",
                    file=self.location,
                )
            out[f["path"]] = data
            manifest.append({"path": f["path"], "digest": f["digest"]})
        if "add_event" in row:  # came with the row (Store.closure)
            recorded = row["add_event"]
        else:
            event = next(self.store.iter_events(name=row["name"], version=row["version"], kinds=("add",)), None)
            recorded = None if event is None else event["data"]
        if recorded is not None and recorded.get("digest") != row["digest"]:
            raise TamperedError(
                f"{row['name']}@{row['version']}: its digest {row['digest'][:12]} differs from the one "
                f"recorded in the audit log when it was added: the registry database has been altered",
                file=self.location,
            )
        if _version_digest(row["main_path"], manifest) != row["digest"]:
            raise TamperedError(
                f"{row['name']}@{row['version']}: its file list no longer matches the version "
                f"digest {row['digest'][:12]}: the registry database has been altered",
                file=self.location,
            )
        return out

    @staticmethod
    def _unit_directives(directives: Iterable[Mapping[str, Any]], keys: Mapping[int, str]
                         ) -> Iterator[UnitDirective]:
        """A version's directives for :class:`Unit`; *keys* names each bound version's unit."""
        for d in directives:
            target = d["target_version_id"]
            yield UnitDirective(d["file"], d["kind"], d["namespace"], d["location"],
                                d["target_path"], keys[int(target)] if target is not None else None)

    def _closure_within(self, targets: Iterable[int], rows: Mapping[int, Mapping[str, Any]]
                        ) -> builtins.list[Mapping[str, Any]] | None:
        """The closure of *targets* (as ``Store.closure`` gives it) out of *rows* already read,
        or None when some version of it is not among them."""
        found: dict[int, Mapping[str, Any]] = {}
        todo = builtins.list(targets)
        while todo:
            version_id = todo.pop()
            if version_id in found:
                continue
            if version_id not in rows:
                return None
            found[version_id] = rows[version_id]
            parts = self.store.version_details([version_id])[version_id]
            todo += [int(p["target_version_id"]) for p in (*parts["imports"], *parts["directives"])
                     if p["target_version_id"] is not None]
        return builtins.list(found.values())

    def _add_units(self, closure: Iterable[Mapping[str, Any]], units: dict[str, Unit]) -> dict[int, str]:
        """Add the versions of a closure (``Store.closure``) to *units*, their files read in one
        batch and verified; returns each version's unit key by id."""
        rows = {int(r["id"]): r for r in closure}
        keys = {version_id: _unit_key(r) for version_id, r in rows.items()}
        todo = [version_id for version_id, key in keys.items() if key not in units]
        details = self.store.version_details(todo) if todo else {}
        blobs = self.store.get_blobs(f["digest"] for i in todo for f in details[i]["files"]) if todo else {}
        for version_id in todo:
            row, parts = rows[version_id], details[version_id]
            units[keys[version_id]] = Unit(
                keys[version_id], row["main_path"], self._verified_files(row, parts["files"], blobs),
                tuple(self._unit_directives(parts["directives"], keys)))
        return keys

    def _to_models(self, rows: Iterable[Mapping[str, Any]]) -> builtins.list[SchemaVersion]:
        """Many versions at once: their files and bindings come in one batch from the store."""
        rows = builtins.list(rows)
        details = self.store.version_details([int(r["id"]) for r in rows]) if rows else {}
        return [self._to_model(r, details[int(r["id"])]) for r in rows]

    def _to_model(self, row: Mapping[str, Any], details: Mapping[str, Any] | None = None) -> SchemaVersion:
        if details is None:
            details = self.store.version_details([int(row["id"])])[int(row["id"])]

        def ref_of(item: Mapping[str, Any]) -> SchemaRef | None:
            if item["target_version_id"] is None:
                return None
            return SchemaRef(item["target_name"], item["target_version"])

        return SchemaVersion(
            name=row["name"], version=row["version"], namespace=row["namespace"],
            status=Status(row["status"]), digest=row["digest"], main=row["main_path"],
            files=tuple(SchemaFile(f["path"], f["digest"], f["size"], f["namespace"], f["role"])
                        for f in details["files"]),
            imports=tuple(ImportBinding(b["namespace"], ref_of(b), b["bundled_path"], b["chosen"])
                          for b in details["imports"]),
            directives=tuple(Directive(d["file"], d["kind"], d["namespace"], d["location"],
                                       d["target_path"], ref_of(d))
                             for d in details["directives"]),
            added_by=row["added_by"], added_at=row["added_at"],
            declared_version=row["declared_version"], metadata=json.loads(row["metadata"]),
            title=row["title"], successor=row["successor"],
        )


def _named_ref(choice: str | SchemaRef | Path) -> SchemaRef | None:
    """The ``NAME@VERSION`` an ``--import`` value names, if it names one (not a file)."""
    from egif.binding import looks_like_file

    if isinstance(choice, SchemaRef):
        return choice if choice.version is not None else None
    if isinstance(choice, Path) or looks_like_file(choice):
        return None
    try:
        ref = SchemaRef.parse(choice)
    except EgifError:
        return None
    return ref if ref.version is not None else None


def _details_of(files: Iterable[Mapping[str, Any]], directives: Iterable[Mapping[str, Any]],
                imports: Iterable[Mapping[str, Any]], labels: Mapping[int, str]
                ) -> dict[str, builtins.list[dict[str, Any]]]:
    """A version's details (as ``Store.version_details`` gives them) from what was stored."""
    def target(item: Mapping[str, Any]) -> dict[str, Any]:
        if item["target_version_id"] is None:
            return {"target_name": None, "target_version": None}
        name, _, version = labels[int(item["target_version_id"])].rpartition("@")
        return {"target_name": name, "target_version": version}

    return {
        "files": [{"path": f["path"], "digest": f["digest"], "namespace": f["namespace"], "role": f["role"],
                   "size": len(f["content"])}
                  for f in sorted(files, key=lambda f: (f["role"] != "main", f["path"]))],
        "imports": [{**dict(b), **target(b)} for b in sorted(imports, key=lambda b: b["namespace"] or "")],
        "directives": [{**dict(d), **target(d)} for d in directives],
    }


def _resolved_key(row: Mapping[str, Any]) -> str:
    """What a compiled closure is kept under: the version, and its content."""
    return f"{row['id']}:{row['digest']}"


def _unit_key(row: Mapping[str, Any]) -> str:
    return f"{row['name']}/{row['version']}"


def _tns(tree: etree._ElementTree) -> str | None:
    value = tree.getroot().get("targetNamespace")
    return str(value) if value is not None else None


def _version_digest(main: str, files: Iterable[Mapping[str, Any]]) -> str:
    manifest = {"main": main, "files": sorted([f["path"], f["digest"]] for f in files)}
    return sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode())


__all__ = ["AddResult", "Registry", "default_location", "default_registry_path", "per_user_registry_path"]
