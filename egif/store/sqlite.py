"""The embedded SQLite store: one file, WAL journal, versioned migrations.

Writers take the database lock up front (``BEGIN IMMEDIATE``) and wait for one
another (``busy_timeout``), so concurrent processes serialise instead of
failing; a killed process leaves its transaction rolled back by SQLite.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from egif.errors import NotFound, ReadOnlyRegistry, RegistryError
from egif.store.base import TABLE_COLUMNS, TABLE_KEYS

APP_ID = "egif-registry"

# Each migration moves the store format up by one.  Append, never edit.
MIGRATIONS: list[str] = [
    # 1: the first format
    """
    CREATE TABLE egif_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE blobs (
        digest TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        content BLOB NOT NULL
    );
    CREATE TABLE schema_versions (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        major INTEGER NOT NULL,
        minor INTEGER NOT NULL,
        namespace TEXT,
        status TEXT NOT NULL,
        digest TEXT NOT NULL,
        main_path TEXT NOT NULL,
        declared_version TEXT,
        title TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        successor TEXT,
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (name, version)
    );
    CREATE INDEX schema_versions_namespace ON schema_versions (namespace);
    CREATE TABLE schema_files (
        version_id INTEGER NOT NULL REFERENCES schema_versions (id),
        path TEXT NOT NULL,
        digest TEXT NOT NULL REFERENCES blobs (digest),
        namespace TEXT,
        role TEXT NOT NULL,
        PRIMARY KEY (version_id, path)
    );
    CREATE TABLE schema_directives (
        version_id INTEGER NOT NULL REFERENCES schema_versions (id),
        seq INTEGER NOT NULL,
        file TEXT NOT NULL,
        kind TEXT NOT NULL,
        namespace TEXT,
        location TEXT,
        target_path TEXT,
        target_version_id INTEGER REFERENCES schema_versions (id),
        PRIMARY KEY (version_id, seq)
    );
    CREATE TABLE schema_imports (
        version_id INTEGER NOT NULL REFERENCES schema_versions (id),
        namespace TEXT NOT NULL,
        target_version_id INTEGER REFERENCES schema_versions (id),
        bundled_path TEXT,
        chosen TEXT NOT NULL,
        PRIMARY KEY (version_id, namespace)
    );
    CREATE INDEX schema_imports_target ON schema_imports (target_version_id);
    CREATE TABLE attachments (
        version_id INTEGER NOT NULL REFERENCES schema_versions (id),
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        digest TEXT NOT NULL REFERENCES blobs (digest),
        added_by TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (version_id, kind, name)
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT,
        version TEXT,
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_subject ON events (name, version);
    CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    """,
    # 2: the audit log becomes a hash chain (see egif.eventlog): each event records the hash of the
    # one before it and, for governance events, an SSH signature; events written before keep no link
    """
    ALTER TABLE events ADD COLUMN prev TEXT;
    ALTER TABLE events ADD COLUMN signature TEXT;
    CREATE UNIQUE INDEX events_prev ON events (prev) WHERE prev IS NOT NULL;
    CREATE TRIGGER events_chained BEFORE INSERT ON events
        WHEN NEW.prev IS NULL AND EXISTS (SELECT 1 FROM events WHERE prev IS NOT NULL)
        BEGIN SELECT RAISE(ABORT, 'the audit log is hash-chained: a new event must link to the one before it'); END;
    """,
]
LATEST_FORMAT = len(MIGRATIONS)


class SqliteStore:
    """A :class:`~egif.store.base.Store` in one SQLite file.

    A file the user cannot write (or in a folder they cannot write, which the
    WAL journal needs) is opened read-only: reads work, writes raise
    :class:`~egif.errors.ReadOnlyRegistry`.  A path that does not exist is
    created only with ``create=True``.
    """

    kind = "sqlite"
    is_admin = True  # whoever can write the file can do anything to it
    transaction_serial = 0  # counts outermost write transactions (see Store.transaction_serial)

    def __init__(self, path: str | Path, *, create: bool = False, timeout: float = 60.0) -> None:
        self.path = Path(path)
        self.location = str(self.path)
        if self.path.exists() and self.path.is_dir():
            raise RegistryError("is a directory, not a registry file", file=self.path)
        if not self.path.exists():
            if not create:
                raise RegistryError(f"no registry at this path: create one with `egif registry init {self.path}`",
                                    file=self.path)
            _make_folder(self.path)
        self.read_only = self.path.exists() and not _writable(self.path)
        self._depth = 0
        try:
            self._db = self._connect(timeout)
            self._check_is_registry()
            if not self.read_only:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            current = self.format_version()
            if current == 0 and not create:
                raise RegistryError(
                    f"not an egif registry (no registry tables): create one with `egif registry init {self.path}`",
                    file=self.path)
            if self.read_only and current < LATEST_FORMAT:
                raise RegistryError(f"read-only registry in format {current}; this egif needs format "
                                    f"{LATEST_FORMAT}: open it once with write access to upgrade it",
                                    file=self.path)
            self.created = False if self.read_only else self._migrate()
        except sqlite3.DatabaseError as exc:
            raise RegistryError(f"not an egif registry ({exc})", file=self.path) from None

    def _connect(self, timeout: float) -> sqlite3.Connection:
        if not self.read_only:
            db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
        else:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
            try:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.OperationalError:
                # a WAL file in a folder we cannot write: no shared-memory file can be made;
                # with nobody writing it (a read-only mount), read the file as it stands
                db.close()
                db = sqlite3.connect(f"{uri}&immutable=1", uri=True, timeout=timeout, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        return db

    def identity(self) -> str | None:
        """None: in a file, the acting name is whatever the writer says (self-asserted)."""
        return None

    # -- opening ---------------------------------------------------------
    def _tables(self) -> set[str]:
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {r[0] for r in rows}

    def _check_is_registry(self) -> None:
        tables = self._tables()  # raises DatabaseError for a file that is not SQLite
        if tables and "egif_meta" not in tables:
            raise RegistryError("not an egif registry (an SQLite file with other tables)", file=self.path)
        if "egif_meta" in tables:
            row = self._db.execute("SELECT value FROM egif_meta WHERE key = 'application'").fetchone()
            if row is None or row[0] != APP_ID:
                raise RegistryError("not an egif registry", file=self.path)

    def format_version(self) -> int:
        if "egif_meta" not in self._tables():
            return 0
        row = self._db.execute("SELECT value FROM egif_meta WHERE key = 'format'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> bool:
        """Bring the file up to the latest format; True if it was created now."""
        current = self.format_version()
        if current > LATEST_FORMAT:
            raise RegistryError(
                f"registry format {current} comes from a newer egif (this one reads up to "
                f"format {LATEST_FORMAT}); upgrade egif",
                file=self.path,
            )
        if current == LATEST_FORMAT:
            return False
        with self.transaction():
            current = self.format_version()  # another process may have migrated meanwhile
            created = current == 0
            for number in range(current + 1, LATEST_FORMAT + 1):
                for statement in _split_sql(MIGRATIONS[number - 1]):
                    self._db.execute(statement)
                if number == 1:
                    self._db.execute(
                        "INSERT INTO egif_meta (key, value) VALUES ('application', ?)", (APP_ID,)
                    )
                self._db.execute(
                    "INSERT OR REPLACE INTO egif_meta (key, value) VALUES ('format', ?)", (str(number),)
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO egif_meta (key, value) VALUES (?, datetime('now'))",
                    (f"migration.{number}",),
                )
            return created

    def close(self) -> None:
        self._db.close()

    # -- transactions ----------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if self.read_only:
            raise ReadOnlyRegistry(f"read-only registry {self.path}")
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        self.transaction_serial += 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        else:
            self._depth = 0
            self._db.execute("COMMIT")
        finally:
            self.transaction_serial += 1  # outside a transaction nothing read inside one still holds

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, params).fetchone()
        return row

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    # -- meta and config -------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM egif_meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO egif_meta (key, value) VALUES (?, ?)", (key, value))

    def all_meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self._all("SELECT key, value FROM egif_meta")}

    def get_config(self, key: str) -> Any:
        row = self._one("SELECT value FROM config WHERE key = ?", (key,))
        return None if row is None else json.loads(row[0])

    def set_config(self, key: str, value: Any) -> None:
        if value is None:
            self._db.execute("DELETE FROM config WHERE key = ?", (key,))
        else:
            self._db.execute(
                "INSERT OR REPLACE INTO config (key, value) VALUES (?, ?)", (key, json.dumps(value))
            )

    def all_config(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self._all("SELECT key, value FROM config")}

    # -- blobs -----------------------------------------------------------
    def put_blob(self, digest: str, content: bytes) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO blobs (digest, size, content) VALUES (?, ?, ?)",
            (digest, len(content), content),
        )

    def get_blob(self, digest: str) -> bytes:
        row = self._one("SELECT content FROM blobs WHERE digest = ?", (digest,))
        if row is None:
            raise NotFound(f"stored content {digest} is missing", file=self.path)
        return bytes(row[0])

    def get_blobs(self, digests: Iterable[str]) -> dict[str, bytes]:
        wanted = list(dict.fromkeys(digests))
        out: dict[str, bytes] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for digest, content in self._db.execute(
                    f"SELECT digest, content FROM blobs WHERE digest IN ({marks})", tuple(chunk)):
                out[str(digest)] = bytes(content)
        for digest in wanted:
            if digest not in out:
                raise NotFound(f"stored content {digest} is missing", file=self.path)
        return out

    def put_blobs(self, blobs: Mapping[str, bytes]) -> None:
        self._db.executemany(
            "INSERT OR IGNORE INTO blobs (digest, size, content) VALUES (?, ?, ?)",
            [(digest, len(content), content) for digest, content in blobs.items()],
        )

    def has_blob(self, digest: str) -> bool:
        return self._one("SELECT 1 FROM blobs WHERE digest = ?", (digest,)) is not None

    # -- versions --------------------------------------------------------
    def insert_version(self, row: dict[str, Any], files: list[dict[str, Any]],
                       directives: list[dict[str, Any]], imports: list[dict[str, Any]],
                       event: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cur = self._db.execute(
            f"INSERT INTO schema_versions ({cols}) VALUES ({marks}) ON CONFLICT (name, version) DO NOTHING",
            tuple(row.values()),
        )
        if cur.rowcount == 0:
            return None
        version_id = int(cur.lastrowid or 0)
        self.put_blobs({f["digest"]: f["content"] for f in files})
        self._db.executemany(
            "INSERT INTO schema_files (version_id, path, digest, namespace, role) VALUES (?, ?, ?, ?, ?)",
            [(version_id, f["path"], f["digest"], f["namespace"], f["role"]) for f in files],
        )
        self._db.executemany(
            "INSERT INTO schema_directives (version_id, seq, file, kind, namespace, location, "
            "target_path, target_version_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(version_id, i, d["file"], d["kind"], d["namespace"], d["location"],
              d["target_path"], d["target_version_id"]) for i, d in enumerate(directives)],
        )
        self._db.executemany(
            "INSERT INTO schema_imports (version_id, namespace, target_version_id, bundled_path, chosen) "
            "VALUES (?, ?, ?, ?, ?)",
            [(version_id, b["namespace"], b["target_version_id"], b["bundled_path"], b["chosen"])
             for b in imports],
        )
        if event is not None:
            self.append_event(**event)
        return self.version_by_id(version_id)

    def find_version(self, name: str, version: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM schema_versions WHERE name = ? AND version = ?", (name, version))
        return None if row is None else dict(row)

    def version_by_id(self, version_id: int) -> dict[str, Any]:
        row = self._one("SELECT * FROM schema_versions WHERE id = ?", (version_id,))
        if row is None:
            raise NotFound(f"schema version #{version_id} is missing", file=self.path)
        return dict(row)

    def list_versions(self, *, name: str | None = None, namespace: str | None = None,
                      status: str | None = None) -> list[dict[str, Any]]:
        where, params = [], []
        for column, value in (("name", name), ("namespace", namespace), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT * FROM schema_versions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY name, major, minor"
        return self._all(sql, tuple(params))

    def closure(self, version_ids: Iterable[int] = (), *, refs: Iterable[tuple[str, str]] = (),
                contents: bool = False) -> list[dict[str, Any]]:
        # in-process: the lookups are cheap, so walk the bindings one version at a time (and the
        # contents are read when they are asked for)
        found: dict[int, dict[str, Any]] = {}
        todo = list(version_ids)
        for name, version in refs:
            row = self.find_version(name, version)
            if row is not None:
                todo.append(int(row["id"]))
        while todo:
            version_id = int(todo.pop())
            if version_id in found:
                continue
            row = self.version_by_id(version_id)
            event = self._one("SELECT data FROM events WHERE name = ? AND version = ? AND kind = 'add' "
                              "ORDER BY id LIMIT 1", (row["name"], row["version"]))
            row["add_event"] = None if event is None else json.loads(event[0])
            found[version_id] = row
            for r in self._db.execute(
                    "SELECT target_version_id FROM schema_imports WHERE version_id = ? AND target_version_id "
                    "IS NOT NULL UNION SELECT target_version_id FROM schema_directives WHERE version_id = ? "
                    "AND target_version_id IS NOT NULL", (version_id, version_id)):
                todo.append(int(r[0]))
        return list(found.values())

    def version_files(self, version_id: int) -> list[dict[str, Any]]:
        return self._all(
            "SELECT f.path, f.digest, f.namespace, f.role, b.size FROM schema_files f "
            "JOIN blobs b ON b.digest = f.digest WHERE f.version_id = ? ORDER BY f.role != 'main', f.path",
            (version_id,),
        )

    def version_directives(self, version_id: int) -> list[dict[str, Any]]:
        return self._all(
            "SELECT file, kind, namespace, location, target_path, target_version_id "
            "FROM schema_directives WHERE version_id = ? ORDER BY seq",
            (version_id,),
        )

    def version_imports(self, version_id: int) -> list[dict[str, Any]]:
        return self._all(
            "SELECT namespace, target_version_id, bundled_path, chosen FROM schema_imports "
            "WHERE version_id = ? ORDER BY namespace",
            (version_id,),
        )

    def version_details(self, version_ids: list[int]) -> dict[int, dict[str, list[dict[str, Any]]]]:
        out: dict[int, dict[str, list[dict[str, Any]]]] = {
            i: {"files": [], "imports": [], "directives": []} for i in version_ids}
        ids = list(out)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for r in self._all(
                    "SELECT f.version_id, f.path, f.digest, f.namespace, f.role, b.size FROM schema_files f "
                    f"JOIN blobs b ON b.digest = f.digest WHERE f.version_id IN ({marks}) "
                    "ORDER BY f.version_id, f.role != 'main', f.path", tuple(chunk)):
                out[r.pop("version_id")]["files"].append(r)
            for r in self._all(
                    "SELECT i.version_id, i.namespace, i.target_version_id, i.bundled_path, i.chosen, "
                    "t.name AS target_name, t.version AS target_version FROM schema_imports i "
                    f"LEFT JOIN schema_versions t ON t.id = i.target_version_id WHERE i.version_id IN ({marks}) "
                    "ORDER BY i.version_id, i.namespace", tuple(chunk)):
                out[r.pop("version_id")]["imports"].append(r)
            for r in self._all(
                    "SELECT d.version_id, d.file, d.kind, d.namespace, d.location, d.target_path, "
                    "d.target_version_id, t.name AS target_name, t.version AS target_version "
                    "FROM schema_directives d LEFT JOIN schema_versions t ON t.id = d.target_version_id "
                    f"WHERE d.version_id IN ({marks}) ORDER BY d.version_id, d.seq", tuple(chunk)):
                out[r.pop("version_id")]["directives"].append(r)
        return out

    def dependents(self, version_id: int) -> list[dict[str, Any]]:
        return self._all(
            "SELECT v.* FROM schema_versions v JOIN schema_imports i ON i.version_id = v.id "
            "WHERE i.target_version_id = ? ORDER BY v.name, v.major, v.minor",
            (version_id,),
        )

    def set_status(self, version_id: int, status: str, successor: str | None = None) -> None:
        self._db.execute(
            "UPDATE schema_versions SET status = ?, successor = COALESCE(?, successor) WHERE id = ?",
            (status, successor, version_id),
        )

    # -- attachments -----------------------------------------------------
    def put_attachment(self, version_id: int, kind: str, name: str, digest: str,
                       added_by: str, added_at: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO attachments (version_id, kind, name, digest, added_by, added_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (version_id, kind, name, digest, added_by, added_at),
        )

    def list_attachments(self, version_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        if kind is None:
            return self._all(
                "SELECT * FROM attachments WHERE version_id = ? ORDER BY kind, name", (version_id,)
            )
        return self._all(
            "SELECT * FROM attachments WHERE version_id = ? AND kind = ? ORDER BY name",
            (version_id, kind),
        )

    # -- events ----------------------------------------------------------
    def append_event(self, *, name: str | None, version: str | None, kind: str, actor: str,
                     at: str, data: dict[str, Any], prev: str | None = None,
                     signature: str | None = None) -> int:
        cur = self._db.execute(
            "INSERT INTO events (name, version, kind, actor, at, data, prev, signature) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, version, kind, actor, at, json.dumps(data, sort_keys=True), prev, signature),
        )
        return int(cur.lastrowid or 0)

    def last_event(self) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM events ORDER BY id DESC LIMIT 1")
        if row is None:
            return None
        item = dict(row)
        item["data"] = json.loads(item["data"])
        return item

    def iter_events(self, *, name: str | None = None, version: str | None = None,
                    kinds: tuple[str, ...] | None = None) -> Iterator[dict[str, Any]]:
        where, params = [], []
        if name is not None:
            where.append("name = ?")
            params.append(name)
        if version is not None:
            where.append("version = ?")
            params.append(version)
        if kinds:
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        sql = "SELECT * FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        for row in self._db.execute(sql, tuple(params)):
            item = dict(row)
            item["data"] = json.loads(item["data"])
            yield item

    # -- whole tables, for `egif registry copy` ----------------------------------
    def dump_table(self, table: str) -> Iterator[dict[str, Any]]:
        cols = ", ".join(TABLE_COLUMNS[table])
        for row in self._db.execute(f"SELECT {cols} FROM {table} ORDER BY {TABLE_KEYS[table]}"):
            yield dict(row)

    def load_table(self, table: str, rows: Iterable[dict[str, Any]]) -> int:
        columns = TABLE_COLUMNS[table]
        cur = self._db.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            (tuple(row[c] for c in columns) for row in rows))
        return max(cur.rowcount, 0)

    # for tests and tools that need raw access (e.g. tamper detection tests)
    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, params)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            buf = []
    if "".join(buf).strip():
        statements.append("\n".join(buf))
    return statements


def create_whole(path: Path, fill: Callable[[SqliteStore], None]) -> None:
    """Create the registry file at *path* complete, or leave it as it was.

    The file is built beside *path* under a name nobody else opens (tables made,
    then *fill* run on the store: the shipped standards), written out of its
    journal, and hard-linked into place.  So a process opening *path* finds
    either no file or a finished registry; it never reads, migrates or seeds one
    that another process is still making.  When two processes do this at once,
    the first link wins and the other's copy is thrown away.

    Nothing is done where the folder cannot be written (opening the path then
    reports it), and a file system without hard links leaves the creation to
    the caller, as before.
    """
    folder = path.parent
    _make_folder(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        return
    draft = folder / f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.new"
    try:
        store = SqliteStore(draft, create=True)
        try:
            fill(store)
            busy = store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            store.close()
        if busy:  # pragma: no cover - nobody else knows the draft's name
            return
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: theirs is the registry
        except OSError:
            return  # no hard links here: the caller creates the file in place
    finally:
        for leftover in (draft, *(draft.with_name(draft.name + end) for end in ("-wal", "-shm", "-journal"))):
            leftover.unlink(missing_ok=True)


def _make_folder(path: Path) -> None:
    """Make the folder a new registry file at *path* goes in (a relative file name's parent
    is "."), or say in one line why it cannot be made."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegistryError(f"cannot create directory: {exc.strerror}", file=path) from None


def _writable(path: Path) -> bool:
    """Can this process change the file (and make the journal files beside it)?"""
    return os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
