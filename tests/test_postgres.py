"""A registry shared in PostgreSQL: the database enforces the rules, copies are lossless (issue 14).

Everything here runs against a real server (see tests/pgserver.py) with real
roles, the real ``psql`` client and real processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egif import PermissionDenied, ReadOnlyRegistry, Registry, RegistryError, Status, eventlog
from egif.config import ConfigEditor
from egif.lifecycle import TRANSITIONS, Lifecycle
from egif.store import PostgresStore, SqliteStore, open_store
from egif.store.base import LOCAL_META, TABLE_COLUMNS, Store
from egif.store.postgres import LATEST_FORMAT as PG_FORMAT

from .conftest import DATA, run_egif
from .pgserver import PgServer

LC = DATA / "lifecycle"
BETA = DATA / "multifile" / "b" / "Beta-v1-0.xsd"
MULTI_GAMMA = DATA / "multifile" / "c" / "Gamma-v1-0.xsd"


@pytest.fixture
def db(pg_server: PgServer) -> Iterator[str]:
    """An empty database of its own; yields its name."""
    name = pg_server.create_database()
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def seeded_db(pg_server: PgServer, pg_seeded_template: str) -> Iterator[str]:
    name = pg_server.create_database(pg_seeded_template)
    try:
        yield name
    finally:
        pg_server.drop_database(name)


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a registry holds, in a form two stores can be compared by."""
    out: dict[str, Any] = {table: sorted((tuple(row[c] for c in cols) for row in store.dump_table(table)),
                                         key=repr)
                           for table, cols in TABLE_COLUMNS.items()}
    out["meta"] = {k: v for k, v in store.all_meta().items()
                   if k not in LOCAL_META and not k.startswith(("migration.", "copied."))}
    return out


def psql(server: PgServer, dbname: str, role: str, sql: str) -> subprocess.CompletedProcess[str]:
    """Run SQL with the real psql client as *role*: no egif code involved."""
    assert server.psql is not None and server.psql.exists(), "the psql client is installed with PostgreSQL"
    args = [str(server.psql), "-X", "-v", "ON_ERROR_STOP=1", "-At", "-U", role, "-d", dbname, "-c", sql]
    if server.host:
        args[1:1] = ["-h", server.host]
    if server.port:
        args[1:1] = ["-p", server.port]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def refused(server: PgServer, dbname: str, role: str, attempts: dict[str, str]) -> None:
    """Each attempt, run with psql as *role*, fails with a database error."""
    for what, sql in attempts.items():
        proc = psql(server, dbname, role, sql)
        assert proc.returncode != 0, f"{what}: {proc.stdout}"
        assert "ERROR" in proc.stderr, (what, proc.stderr)


def candidate_with_history(server: PgServer, name: str) -> Registry:
    """ParkingPermit@1.0 proposed by carol, approved by alice and bob, its window closed by alice."""
    admin = Registry.init(server.dsn(name), seed=False)
    ConfigEditor(admin).add_maintainer("alice")
    admin.close()
    people = {who: Registry.open(server.dsn(name, who)) for who in ("alice", "bob", "carol")}
    ConfigEditor(people["alice"]).add_maintainer("bob")
    people["carol"].add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
    Lifecycle(people["carol"]).propose("ParkingPermit@1.0")
    Lifecycle(people["alice"]).approve("ParkingPermit@1.0", "fine")
    Lifecycle(people["bob"]).approve("ParkingPermit@1.0")
    Lifecycle(people["alice"]).close_window("ParkingPermit@1.0", "no comments expected")
    people["alice"].close()
    people["bob"].close()
    return people["carol"]


# -- identity the database enforces ------------------------------------------------
def test_identity_is_the_connected_role(pg_server: PgServer, seeded_db: str) -> None:
    with Registry.open(pg_server.dsn(seeded_db, "carol")) as reg:
        assert reg.identity_enforced and reg.actor == "carol"
        added = reg.add(BETA, name="Beta", version="1.0")
        assert added.version.added_by == "carol"
        with pytest.raises(PermissionDenied, match="records every action under the database role"):
            reg.add(BETA, name="Beta", version="1.1", actor="alice")
        with pytest.raises(PermissionDenied, match="connect as that role instead"):
            Lifecycle(reg, actor="alice")
    with pytest.raises(PermissionDenied, match="cannot act as 'mallory'"):
        Registry.open(pg_server.dsn(seeded_db, "carol"), actor="mallory")
    with Registry.open(pg_server.dsn(seeded_db, "carol"), actor="carol") as same:
        assert same.actor == "carol"


def test_cli_refuses_as_and_ignores_egif_user_on_postgresql(pg_server: PgServer, seeded_db: str) -> None:
    dsn = pg_server.dsn(seeded_db, "carol")
    refused = run_egif("--as", "alice", "schema", "add", str(BETA), "--name", "Beta", "--version", "1.0",
                       registry=dsn)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1
    assert "cannot act as 'alice'" in refused.stderr and "database role you connect as ('carol')" \
        in refused.stderr
    same = run_egif("--as", "carol", "schema", "add", str(BETA), "--name", "Beta", "--version", "1.0",
                    registry=dsn)
    assert same.returncode == 0, same.stderr
    env_user = run_egif("schema", "add", str(BETA), "--name", "Beta", "--version", "1.1", registry=dsn,
                        env={"EGIF_USER": "alice"})
    assert env_user.returncode == 0, env_user.stderr
    with Registry.open(pg_server.dsn(seeded_db)) as reg:
        assert {v.version: v.added_by for v in reg.versions("Beta")} == {"1.0": "carol", "1.1": "carol"}


def test_registry_info_says_how_identity_is_established(pg_server: PgServer, seeded_db: str,
                                                         registry_path: Path) -> None:
    pg = json.loads(run_egif("registry", "info", "--format", "json",
                             registry=pg_server.dsn(seeded_db, "bob")).stdout)
    assert pg["store"] == "postgresql" and pg["identity"]["enforced"] is True
    assert pg["identity"]["actor"] == "bob" and "enforced by the database" in pg["identity"]["note"]
    assert pg["access"] == "read-write" and "bob@" in pg["location"]
    text = run_egif("registry", "info", registry=registry_path).stdout
    assert "store:    sqlite" in text and "identity: self-asserted" in text


def test_a_non_maintainer_with_psql_cannot_break_the_rules(pg_server: PgServer, db: str) -> None:
    reg = candidate_with_history(pg_server, db)
    before = snapshot(reg.store)
    attempts = {
        "approve as oneself": "INSERT INTO egif.events (name, version, kind, actor, at, data) VALUES "
                              "('ParkingPermit', '1.0', 'approve', 'mallory', '2026-01-01', '{}')",
        "approve in alice's name": "INSERT INTO egif.events (name, version, kind, actor, at, data) VALUES "
                                   "('ParkingPermit', '1.0', 'approve', 'alice', '2026-01-01', '{}')",
        "rewrite an event": "UPDATE egif.events SET actor = 'mallory' WHERE kind = 'approve'",
        "delete the log": "DELETE FROM egif.events",
        "truncate the log": "TRUNCATE egif.events",
        "ratify": "UPDATE egif.schema_versions SET status = 'ratified' WHERE name = 'ParkingPermit'",
        "become a maintainer": "UPDATE egif.config SET value = '[\"mallory\"]' WHERE key = 'maintainers'",
        "add a ratified version": "INSERT INTO egif.schema_versions (name, version, major, minor, status, "
                                  "digest, main_path, added_by, added_at) VALUES ('X', '1.0', 1, 0, "
                                  "'ratified', 'd', 'x.xsd', 'mallory', 'now')",
        "swap stored bytes": "UPDATE egif.blobs SET content = 'x'",
        "store bytes under a false digest": "INSERT INTO egif.blobs VALUES (repeat('0', 64), 1, 'x')",
        "append an event linked to nothing": "INSERT INTO egif.events (name, version, kind, actor, at, data) "
                                             "VALUES ('ParkingPermit', '1.0', 'comment', 'mallory', 'now', "
                                             "'{\"text\": \"hello\"}')",
        "shadow the settings": "CREATE TEMP TABLE config (key text, value text); "
                               "INSERT INTO config VALUES ('maintainers', '[\"mallory\"]'); "
                               "INSERT INTO egif.events (name, version, kind, actor, at, data) VALUES "
                               "('ParkingPermit', '1.0', 'approve', 'mallory', '2026-01-01', '{}')",
    }
    refused(pg_server, db, "mallory", attempts)
    # a maintainer cannot rewrite history either, nor ratify without two approvals on record
    assert psql(pg_server, db, "alice", "UPDATE egif.events SET data = '{}'").returncode != 0
    # anyone may comment, in their own name only, linked to the event before
    prev = eventlog.head(reg.store)
    assert psql(pg_server, db, "mallory", "INSERT INTO egif.events (name, version, kind, actor, at, data, prev) "
                "VALUES ('ParkingPermit', '1.0', 'comment', 'mallory', 'now', "
                f"'{{\"text\": \"hello\"}}', '{prev}')").returncode == 0
    after = snapshot(reg.store)
    new = set(after["events"]) - set(before["events"])
    assert set(before["events"]) <= set(after["events"]) and [e[3:5] for e in new] == [("comment", "mallory")]
    assert {k: v for k, v in after.items() if k != "events"} == {k: v for k, v in before.items() if k != "events"}
    reg.close()


def test_the_database_refuses_what_python_would_refuse(pg_server: PgServer, db: str) -> None:
    """Python's checks skipped, the store called directly: the database still says no."""
    reg = candidate_with_history(pg_server, db)
    with Registry.open(pg_server.dsn(db, "mallory")) as mallory:
        store = mallory.store
        version_id = int(store.find_version("ParkingPermit", "1.0")["id"])  # type: ignore[index]
        for action in (
            lambda: store.set_status(version_id, "ratified"),
            lambda: store.append_event(name="ParkingPermit", version="1.0", kind="approve",
                                       actor="mallory", at="now", data={}, prev=eventlog.head(store)),
            lambda: store.append_event(name="ParkingPermit", version="1.0", kind="comment",
                                       actor="alice", at="now", data={}, prev=eventlog.head(store)),
            lambda: store.set_config("approvals_needed", 1),
            lambda: store.append_event(name=None, version=None, kind="pull", actor="mallory", at="now",
                                       data={}, prev=eventlog.head(store)),
        ):
            with pytest.raises(PermissionDenied), store.transaction():
                action()
        with pytest.raises(PermissionDenied, match="new versions are drafts"), store.transaction():
            mallory._add(BETA, name="Beta", version="1.0", status=Status.RATIFIED, via="pull")
    # a maintainer skipping the lifecycle: only table moves, ratification only with the approvals
    with Registry.open(pg_server.dsn(db, "alice")) as alice:
        store = alice.store
        version_id = int(store.find_version("ParkingPermit", "1.0")["id"])  # type: ignore[index]
        with pytest.raises(PermissionDenied, match="not a lifecycle transition"), store.transaction():
            store.set_status(version_id, "withdrawn")
        store.set_config  # noqa: B018 - maintainers may change settings
        with store.transaction():
            ConfigEditor(alice).set_approvals_needed(3)
        with pytest.raises(PermissionDenied, match="2 of 3 approvals"), store.transaction():
            store.set_status(version_id, "ratified")
    assert reg.get("ParkingPermit@1.0").status == Status.CANDIDATE
    reg.close()


def test_details_are_written_by_the_database_once_and_never_change(pg_server: PgServer, db: str) -> None:
    """A version's kept details (what `schema show` lists) are the database's own, sealed at commit."""
    reg = candidate_with_history(pg_server, db)
    rows = reg.store.execute(  # type: ignore[attr-defined]
        "SELECT v.name, d.details::text = egif.details_of(v.id)::text AS same FROM egif.schema_versions v "
        "LEFT JOIN egif.version_details d ON d.version_id = v.id")
    assert rows and all(r["same"] for r in rows), rows
    before = snapshot(reg.store)
    shown = reg.get("ParkingPermit@1.0")
    digest = shown.files[0].digest
    attempts = {
        "rewrite details": "UPDATE egif.version_details SET details = '{}'",
        "delete details": "DELETE FROM egif.version_details",
        "write details": "INSERT INTO egif.version_details SELECT id + 1000, '{}' FROM egif.schema_versions",
        "add a file to a stored version": "INSERT INTO egif.schema_files SELECT version_id, 'extra.xsd', digest, "
                                          "namespace, 'include' FROM egif.schema_files LIMIT 1",
        # details computed early (constraints made immediate), then parts added under them
        "parts after the details": "BEGIN; SET CONSTRAINTS ALL IMMEDIATE; "
                                   "INSERT INTO egif.schema_versions (name, version, major, minor, status, digest, "
                                   "main_path, added_by, added_at) VALUES ('Sneaky', '1.0', 1, 0, 'draft', 'd', "
                                   "'s.xsd', 'mallory', 'now'); "
                                   "INSERT INTO egif.schema_files SELECT id, 's.xsd', "
                                   f"'{digest}', NULL, 'main' FROM egif.schema_versions WHERE name = 'Sneaky'; "
                                   "COMMIT",
    }
    refused(pg_server, db, "mallory", attempts)
    assert psql(pg_server, db, "alice", "DELETE FROM egif.version_details").returncode != 0
    assert snapshot(reg.store) == before
    fresh = Registry.open(pg_server.dsn(db, "carol"))
    assert fresh.get("ParkingPermit@1.0") == shown
    fresh.close()
    reg.close()


def test_a_format_2_registry_gets_its_details_when_upgraded(pg_server: PgServer, db: str) -> None:
    dsn = pg_server.dsn(db)
    with Registry.init(dsn, seed=False) as reg:
        reg.add(BETA, name="Beta", version="1.0")
        shown = reg.get("Beta@1.0")
        # back to what a format-2 egif left: no kept details, none of what keeps them
        reg.store.execute(  # type: ignore[attr-defined]
            "DROP TABLE egif.version_details; DROP FUNCTION egif.keep_details() CASCADE; "
            "DROP FUNCTION egif.details_of(bigint); DROP INDEX egif.events_subject_c; "
            "UPDATE egif.egif_meta SET value = '2' WHERE key = 'format'; "
            "DELETE FROM egif.egif_meta WHERE key = 'migration.3'")
    with pytest.raises(RegistryError, match="older than this egif"):
        Registry.open(pg_server.dsn(db, "carol"))
    assert run_egif("registry", "init", dsn).returncode == 0  # the owner upgrades it
    with Registry.open(pg_server.dsn(db, "carol")) as reg:
        assert reg.store.format_version() == PG_FORMAT == 3
        kept = reg.store.execute("SELECT count(*) AS n FROM egif.version_details")  # type: ignore[attr-defined]
        assert kept[0]["n"] == len(reg.store.list_versions()) == 1
        assert reg.get("Beta@1.0") == shown
        reg.add(MULTI_GAMMA, name="Gamma", version="1.0")  # and new versions get theirs at commit
        kept = reg.store.execute("SELECT count(*) AS n FROM egif.version_details")  # type: ignore[attr-defined]
        assert kept[0]["n"] == 2


def test_transition_table_in_the_database_is_the_lifecycle_table(pg_server: PgServer, db: str) -> None:
    with Registry.init(pg_server.dsn(db), seed=False) as reg:
        rows = reg.store.execute("SELECT action, source, target, maintainers_only FROM egif.transitions "  # type: ignore[attr-defined]
                                 "ORDER BY action")
    assert sorted((r["action"], r["source"], r["target"], r["maintainers_only"]) for r in rows) == sorted(
        (t.action, t.source.value, t.target.value, t.maintainers_only) for t in TRANSITIONS)


# -- opening and creating ------------------------------------------------------------
def test_init_migrations_and_opening(pg_server: PgServer, db: str) -> None:
    dsn = pg_server.dsn(db)
    with pytest.raises(RegistryError, match=r"no registry in this database: create one with `egif registry init"):
        Registry.open(dsn)
    made = run_egif("registry", "init", dsn)
    assert made.returncode == 0 and made.stdout.startswith("created registry: postgresql://"), made.stderr
    again = run_egif("registry", "init", dsn)
    assert again.returncode == 0 and again.stdout.startswith("already a registry"), again.stderr
    with Registry.open(pg_server.dsn(db, "carol")) as reg:
        assert reg.get("BS7666@2.0").status == Status.RATIFIED
        meta = reg.store.all_meta()
        assert meta["format"] == str(PG_FORMAT) and meta["application"] == "egif-registry"
        assert all(f"migration.{n}" in meta for n in range(1, PG_FORMAT + 1))
        added = [e for e in reg.events(kinds=("add",)) if e.name == "BS7666"]
        assert added and all(e.data["via"] == "shipped" for e in added)
    with Registry.open(dsn) as admin:
        admin.store.execute("UPDATE egif.egif_meta SET value = '99' WHERE key = 'format'")  # type: ignore[attr-defined]
    with pytest.raises(RegistryError, match="newer egif"):
        Registry.open(dsn)


def test_a_read_only_role_reads_and_is_told_it_cannot_write(pg_server: PgServer, seeded_db: str) -> None:
    with pg_server.connect() as admin:
        admin.execute("DO $$ BEGIN CREATE ROLE reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        admin.execute("ALTER ROLE reader SET default_transaction_read_only = on")
    dsn = pg_server.dsn(seeded_db, "reader")
    with Registry.open(dsn) as reg:
        assert reg.read_only
        assert reg.resolve("BS7666@2.0").lxml_schema() is not None
        with pytest.raises(ReadOnlyRegistry, match="read-only registry postgresql://reader@"):
            reg.add(BETA, name="Beta", version="1.0")
    proc = run_egif("schema", "add", str(BETA), "--name", "Beta", "--version", "1.0", registry=dsn)
    assert proc.returncode == 2 and "read-only registry postgresql://reader@" in proc.stderr


# -- copying between stores ------------------------------------------------------------
def test_copy_round_trip_sqlite_postgresql_sqlite_is_lossless(pg_server: PgServer, db: str,
                                                              registry_path: Path, tmp_path: Path) -> None:
    # a registry with a history: maintainers, a ratified version, attachments, settings
    with Registry.open(registry_path, actor="carol") as reg:
        ConfigEditor(reg, actor="alice").add_maintainer("alice")
        ConfigEditor(reg, actor="alice").add_maintainer("bob")
        ConfigEditor(reg, actor="alice").set_window_days(0)
        reg.add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
        for fixture in sorted((LC / "fixtures-1.0").rglob("*.xml")):
            reg.attach("ParkingPermit@1.0", "fixture", fixture.relative_to(LC / "fixtures-1.0").as_posix(),
                       fixture.read_bytes())
        Lifecycle(reg, actor="carol").propose("ParkingPermit@1.0")
        Lifecycle(reg, actor="alice").approve("ParkingPermit@1.0")
        Lifecycle(reg, actor="bob").approve("ParkingPermit@1.0")
        Lifecycle(reg, actor="bob").ratify("ParkingPermit@1.0")
        Lifecycle(reg, actor="dave").comment("ParkingPermit@1.0", "ünïcödé too")
    original = snapshot(SqliteStore(registry_path))
    dsn = pg_server.dsn(db)
    there = run_egif("registry", "copy", str(registry_path), dsn, "--format", "json")
    assert there.returncode == 0, there.stderr
    counts = json.loads(there.stdout)
    assert counts["rows"]["events"] == len(original["events"]) and counts["verified_versions"] > 10
    pg_store = PostgresStore(dsn)
    assert snapshot(pg_store) == original
    pg_store.close()
    back_path = tmp_path / "back.sqlite"
    back = run_egif("registry", "copy", pg_server.dsn(db, "carol"), str(back_path))
    assert back.returncode == 0, back.stderr
    assert "version digests verified" in back.stdout
    assert snapshot(SqliteStore(back_path)) == original
    # the copies work: the lifecycle goes on where it was, in PostgreSQL under real roles
    with Registry.open(pg_server.dsn(db, "alice")) as alice:
        assert alice.get("ParkingPermit@1.0").status == Status.RATIFIED
        assert alice.files("ParkingPermit@1.0")  # digests checked against the log
        Lifecycle(alice).deprecate("ParkingPermit@1.0", reason="moved on")
    with Registry.open(back_path) as reg:
        assert [e.kind for e in reg.events(name="ParkingPermit")][-1] == "comment"


def test_copy_refuses_a_destination_with_content(pg_server: PgServer, seeded_db: str,
                                                 registry_path: Path, tmp_path: Path) -> None:
    proc = run_egif("registry", "copy", str(registry_path), pg_server.dsn(seeded_db))
    assert proc.returncode == 2 and "already holds a registry's content" in proc.stderr
    missing = run_egif("registry", "copy", str(tmp_path / "nope.sqlite"), str(tmp_path / "out.sqlite"))
    assert missing.returncode == 2 and "egif registry init" in missing.stderr
    assert not (tmp_path / "out.sqlite").exists()


def test_copy_into_postgresql_needs_the_owner(pg_server: PgServer, db: str, registry_path: Path) -> None:
    Registry.init(pg_server.dsn(db), seed=False).close()
    proc = run_egif("registry", "copy", str(registry_path), pg_server.dsn(db, "carol"))
    assert proc.returncode == 1 and "connect as the role that owns the registry" in proc.stderr
    with Registry.open(pg_server.dsn(db)) as reg:
        assert reg.list() == []


# -- concurrency and crashes on the server -------------------------------------------------
def _variant(tmp_path: Path, i: int) -> Path:
    src = BETA.read_text().replace("urn:egif:test:b", f"urn:egif:test:writer{i}")
    path = tmp_path / f"Writer{i}-v1-0.xsd"
    path.write_text(src)
    return path


@pytest.mark.slow
def test_sixteen_writers_and_four_racing_deciders(pg_server: PgServer, db: str, tmp_path: Path) -> None:
    reg = candidate_with_history(pg_server, db)
    with Registry.open(pg_server.dsn(db, "alice")) as alice:
        ConfigEditor(alice).add_maintainer("erin")
        before = len(list(alice.events()))
    env = {**os.environ}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "egif", "schema", "add", str(_variant(tmp_path, i)), "--name", f"Writer{i}",
         "--version", "1.0"], env={**env, "EGIF_REGISTRY": pg_server.dsn(db, "carol")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(16)]
    racers = [subprocess.Popen(
        [sys.executable, "-m", "egif", "lifecycle", *action, "ParkingPermit@1.0", *extra],
        env={**env, "EGIF_REGISTRY": pg_server.dsn(db, who)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
        for who, action, extra in (("alice", ["ratify"], []), ("bob", ["ratify"], []),
                                   ("erin", ["approve"], []), ("erin", ["withdraw"], ["--reason", "x"]))]
    writers = [(p.wait(timeout=300), p.communicate()) for p in procs]
    raced = [(p.wait(timeout=300), p.communicate()) for p in racers]
    assert all(code == 0 for code, _ in writers), writers
    ratifiers = [code for code, _ in raced[:2]]
    assert sorted(ratifiers) == [0, 1], raced
    assert raced[3][0] == 1 and "cannot go from" in raced[3][1][1]  # never deprecated: no withdrawal
    events = list(reg.events())
    assert len(events) == before + 16 + 1 + (1 if raced[2][0] == 0 else 0)
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert sum(1 for e in events if e.kind == "ratify") == 1
    ratify = next(e for e in events if e.kind == "ratify")
    assert all(e.id < ratify.id for e in events if e.kind == "approve")  # no approval after the decision
    assert reg.get("ParkingPermit@1.0").status == Status.RATIFIED
    assert {e.name for e in events if e.kind == "add"} >= {f"Writer{i}" for i in range(16)}
    for i in range(16):
        reg.resolve(f"Writer{i}@1.0").lxml_schema()
    reg.close()


KILLED_ADD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from egif import Registry
    reg = Registry.open(sys.argv[1])
    original = reg.store.insert_version
    def slow_insert(*args, **kwargs):
        result = original(*args, **kwargs)   # the version, its files and its event written, transaction open
        assert result is not None and kwargs["event"]["kind"] == "add"
        Path(sys.argv[3]).write_text("inside")
        time.sleep(60)
        return result
    reg.store.insert_version = slow_insert
    reg.add(sys.argv[2], name="Killed", version="1.0")
""")


def test_a_client_killed_inside_a_transaction_changes_nothing(pg_server: PgServer, seeded_db: str,
                                                              tmp_path: Path) -> None:
    dsn = pg_server.dsn(seeded_db, "carol")
    store = open_store(pg_server.dsn(seeded_db))
    before = snapshot(store)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_ADD, dsn, str(BETA), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "the writer ended before reaching the transaction"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while store.execute("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'carol'")[0]["n"]:  # type: ignore[attr-defined]
        assert time.monotonic() < deadline, "the server never noticed the client died"
        time.sleep(0.05)
    assert snapshot(store) == before
    store.close()
    with Registry.open(dsn) as reg:  # and it still takes writes, the lock released
        assert reg.add(BETA, name="Killed", version="1.0").created
