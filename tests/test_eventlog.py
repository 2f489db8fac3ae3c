"""The hash-chained, signed audit log and `egif registry verify`, on SQLite and PostgreSQL (issue 15).

Keys are real ed25519 keys made in each test.  Tampering is done the way an
attacker with write access to the database would: straight SQL, with the
append-only triggers out of the way (dropped in the SQLite file; bypassed as
the PostgreSQL superuser with ``session_replication_role = replica``).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from egif import PermissionDenied, Registry, eventlog
from egif.config import ConfigEditor
from egif.errors import InputError, RegistryError
from egif.lifecycle import Lifecycle
from egif.store import PostgresStore
from egif.verify import replay, verify_registry

from .conftest import DATA, Backend, run_egif
from .keys import Keys
from .test_signing import agent as agent  # a real ssh-agent on a private socket (a fixture)

LC = DATA / "lifecycle"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class World:
    """A registry whose maintainers alice and bob sign with their own keys; carol proposes."""

    def __init__(self, backend: Backend, keys: Keys, *, signed: bool = True) -> None:
        self.backend = backend
        self.keys = keys
        self.signed = signed
        self.location = backend.new_location(seed=False)
        self.reg = backend.open(self.location)
        first = backend.admin(self.reg) if backend.enforced else self.as_("alice")
        ConfigEditor(first).add_maintainer("alice", keys.pub("alice") if signed else None)
        ConfigEditor(self.as_("alice"), signer=keys.signer("alice") if signed else None).add_maintainer(
            "bob", keys.pub("bob") if signed else None)

    def as_(self, who: str) -> Registry:
        return self.backend.as_user(self.reg, who)

    def lc(self, who: str, *, signed: bool = True) -> Lifecycle:
        signer = self.keys.signer(who) if signed and self.signed else None
        return Lifecycle(self.as_(who), clock=lambda: NOW, signer=signer)

    def ratified(self, version: str = "1.0") -> None:
        ref = f"ParkingPermit@{version}"
        self.as_("carol").add(LC / f"ParkingPermit-v{version.replace('.', '-')}.xsd", name="ParkingPermit",
                              version=version)
        self.lc("carol", signed=False).propose(ref)
        self.lc("alice").approve(ref, "fine")
        objection = self.lc("bob").object(ref, "zones missing").event.id
        self.lc("dave", signed=False).comment(ref, "what about zones?")
        self.lc("bob").resolve_objection(ref, objection, "zones are in 1.1")
        self.lc("bob").approve(ref)
        self.lc("alice").close_window(ref, "nobody else to hear from")
        self.lc("alice").ratify(ref)

    def tamper(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        """Run *sql* on the database behind egif's back (``events``, ``config``... unqualified)."""
        store = self.reg.store
        if isinstance(store, PostgresStore):
            assert self.backend.server is not None
            name = store.dsn.split("?")[0].rsplit("/", 1)[1]
            with self.backend.server.connect(name) as db:
                db.execute("SET session_replication_role = replica")
                db.execute("SET search_path TO egif")
                db.execute(sql.replace("?", "%s"), params)
            return
        db = sqlite3.connect(self.location)
        try:
            for trigger in ("events_append_only_update", "events_append_only_delete", "events_chained"):
                db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            db.execute(sql, params)
            db.commit()
        finally:
            db.close()

    def verify(self) -> list[str]:
        fresh = self.backend.open(self.location)
        return verify_registry(fresh).problems

    def event_id(self, kind: str, nth: int = 0) -> int:
        return [e.id for e in self.reg.events(kinds=(kind,))][nth]


@pytest.fixture
def world(backend: Backend, tmp_path: Path) -> Iterator[World]:
    yield World(backend, Keys(tmp_path / "keys"))


def test_a_signed_lifecycle_verifies(world: World) -> None:
    world.ratified()
    report = verify_registry(world.reg)
    assert report.ok, report.problems
    assert report.signed_registry and report.legacy_events == 0
    # alice's config change adding bob, bob's key, two approvals, an objection and its resolution,
    # the window closed early, the ratification
    assert report.signatures_verified == 8
    assert report.ratified["ParkingPermit@1.0"]["how"] == "approved"
    assert sorted(a.split(" ")[0] for a in report.ratified["ParkingPermit@1.0"]["approvers"]) == ["alice", "bob"]
    # every event links to the one before; governance events carry signatures, the others none
    rows = list(world.reg.store.iter_events())
    assert rows[0]["prev"] == eventlog.GENESIS
    assert all(r["prev"] == eventlog.seal(p, p["prev"]) for p, r in itertools.pairwise(rows))
    signed = {r["kind"] for r in rows if r["signature"]}
    assert signed == {"config", "approve", "object", "resolve-objection", "close-window", "ratify"}
    assert not any(r["signature"] for r in rows if r["kind"] in ("add", "propose", "comment"))
    # a decision names the exact content it was about
    digest = world.reg.get("ParkingPermit@1.0").digest
    assert all(r["data"]["digest"] == digest for r in rows if r["kind"] in ("approve", "object", "ratify"))


def tamper_text(w: World) -> tuple[str, ...]:
    w.tamper("UPDATE events SET data = replace(data, 'zones missing', 'all fine') WHERE kind = 'object'")
    return (f"event #{w.event_id('object') + 1}", "does not link to the event before it",
            f"#{w.event_id('object')}", "its signature does not verify")


def tamper_order(w: World) -> tuple[str, ...]:
    first, second = w.event_id("approve", 0), w.event_id("object")
    w.tamper("UPDATE events SET id = -id WHERE id IN (?, ?)", (first, second))
    w.tamper("UPDATE events SET id = ? WHERE id = ?", (second, -first))
    w.tamper("UPDATE events SET id = ? WHERE id = ?", (first, -second))
    return (f"event #{first} (object", "does not link to the event before it")


def tamper_delete(w: World) -> tuple[str, ...]:
    gone = w.event_id("object")
    w.tamper("DELETE FROM events WHERE id = ?", (gone,))
    return (f"event #{gone + 1}", f"(#{gone - 1})", "removed")


def tamper_signature(w: World) -> tuple[str, ...]:
    row = next(e for e in w.reg.store.iter_events() if e["kind"] == "ratify")
    sig = row["signature"].splitlines()
    sig[2] = sig[2][:10] + ("A" if sig[2][10] != "A" else "B") + sig[2][11:]
    w.tamper("UPDATE events SET signature = ? WHERE id = ?", ("\n".join(sig) + "\n", row["id"]))
    return (f"event #{row['id']} (ratify ParkingPermit@1.0 by alice): its signature does not verify",)


def tamper_key(w: World) -> tuple[str, ...]:
    """Swap bob's registered key for mallory's, in the table and in the event that registered it."""
    bob, mallory = w.keys.public("bob").openssh(), w.keys.public("mallory").openssh()
    w.tamper("UPDATE config SET value = replace(value, ?, ?) WHERE key = 'maintainer_keys'", (bob, mallory))
    w.tamper("UPDATE events SET data = replace(data, ?, ?) WHERE kind = 'config'", (bob, mallory))
    return ("does not link to the event before it", "bob", "its signature does not verify")


def tamper_status(w: World) -> tuple[str, ...]:
    w.as_("carol").add(LC / "ParkingPermit-v1-1.xsd", name="ParkingPermit", version="1.1")
    w.tamper("UPDATE schema_versions SET status = 'ratified' WHERE version = '1.1'")
    return ("ParkingPermit@1.1 is ratified in the registry, but the log has it draft",)


def tamper_unsigned_approval(w: World) -> tuple[str, ...]:
    """A forged approval, correctly linked at the end of the log but signed by nobody."""
    w.as_("carol").add(LC / "ParkingPermit-v1-1.xsd", name="ParkingPermit", version="1.1")
    w.lc("carol", signed=False).propose("ParkingPermit@1.1")
    prev = eventlog.head(w.reg.store)
    w.tamper("INSERT INTO events (name, version, kind, actor, at, data, prev) VALUES "
             "('ParkingPermit', '1.1', 'approve', 'bob', '2026-03-01T10:00:00+00:00', '{}', ?)", (prev,))
    return ("(approve ParkingPermit@1.1 by bob) is not signed, although the maintainers had keys then",)


def tamper_foreign_signature(w: World) -> tuple[str, ...]:
    """A forged approval in bob's name, linked and signed, but with mallory's key."""
    w.as_("carol").add(LC / "ParkingPermit-v1-1.xsd", name="ParkingPermit", version="1.1")
    w.lc("carol", signed=False).propose("ParkingPermit@1.1")
    prev = eventlog.head(w.reg.store)
    event = {"name": "ParkingPermit", "version": "1.1", "kind": "approve", "actor": "bob",
             "at": "2026-03-01T10:00:00+00:00", "data": {}}
    from egif.signing import sign

    sig = sign(w.keys.signer("mallory"), eventlog.canonical(event, prev), eventlog.EVENT_NAMESPACE)
    w.tamper("INSERT INTO events (name, version, kind, actor, at, data, prev, signature) VALUES "
             "('ParkingPermit', '1.1', 'approve', 'bob', '2026-03-01T10:00:00+00:00', '{}', ?, ?)", (prev, sig))
    return ("(approve ParkingPermit@1.1 by bob): its signature does not verify", "unknown key")


TAMPERING = [tamper_text, tamper_order, tamper_delete, tamper_signature, tamper_key, tamper_status,
             tamper_unsigned_approval, tamper_foreign_signature]


@pytest.mark.parametrize("attack", TAMPERING, ids=[t.__name__ for t in TAMPERING])
def test_tampering_is_found(world: World, attack: Any) -> None:
    world.ratified()
    assert world.verify() == []
    expected = attack(world)
    problems = world.verify()
    assert problems, "the tampering went unnoticed"
    joined = "\n".join(problems)
    for words in expected:
        assert words in joined, (words, problems)
    assert all("\n" not in p for p in problems)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the library runs on both stores above
def test_verify_through_the_cli(world: World, backend: Backend) -> None:
    world.ratified()
    run = backend.cli(world.location)
    ok = run("registry", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "approvals: signed; 8 signatures verified" in ok.stdout and ": verified" in ok.stdout
    info = run("registry", "info")
    assert "approvals: signed: every approval" in info.stdout
    tamper_text(world)
    bad = run("registry", "verify")
    assert bad.returncode == 1, bad.stdout
    problems = [line for line in bad.stdout.splitlines() if line.startswith("problem: ")]
    assert len(problems) == 2 and "2 problems" in bad.stdout
    as_json = json.loads(run("registry", "verify", "--format", "json").stdout)
    assert as_json["ok"] is False and len(as_json["problems"]) == 2 and as_json["approvals"] == "signed"


def test_verify_cannot_read_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    got = run_egif("registry", "verify", registry=tmp_path / "junk.sqlite")
    assert got.returncode == 2 and got.stderr.count("\n") == 1 and "Traceback" not in got.stderr


def test_unsigned_registries_work_as_before_and_say_so(backend: Backend) -> None:
    location = backend.new_location(seed=True)
    reg = backend.open(location)
    first = backend.admin(reg) if backend.enforced else backend.as_user(reg, "alice")
    ConfigEditor(first).add_maintainer("alice")
    report = verify_registry(reg)
    assert report.ok and not report.signed_registry, report.problems
    assert any(n.startswith("approvals are unsigned") for n in report.notes)
    assert any("came in with egif's shipped standards" in n for n in report.notes)
    run = backend.cli(location)
    shown = run("registry", "verify")
    assert shown.returncode == 0 and "approvals: unsigned" in shown.stdout
    assert "approvals: unsigned: the maintainers have no keys" in run("registry", "info").stdout


def test_the_log_is_chained_even_where_nobody_signs(backend: Backend) -> None:
    reg = backend.open(backend.new_location(seed=False))
    user = backend.as_user(reg, "carol")
    user.add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
    Lifecycle(user, clock=lambda: NOW).comment("ParkingPermit@1.0", "first")
    Lifecycle(user, clock=lambda: NOW).comment("ParkingPermit@1.0", "second")
    rows = list(reg.store.iter_events())
    assert [r["kind"] for r in rows] == ["add", "comment", "comment"]
    assert replay(rows).problems == [] and replay([rows[0], rows[2], rows[1]]).problems
    assert replay(rows[:1] + rows[2:]).problems  # one removed


def test_a_relinked_log_must_still_back_every_ratification(backend: Backend, tmp_path: Path) -> None:
    """Without keys, whoever writes the database can remove an approval and recompute every link
    after it; the chain then holds, but the ratification no longer has its approvals."""
    w = World(backend, Keys(tmp_path / "keys"), signed=False)
    w.ratified()
    rows = list(w.reg.store.iter_events())
    gone = next(i for i, r in enumerate(rows) if r["kind"] == "approve" and r["actor"] == "bob")
    w.tamper("DELETE FROM events WHERE id = ?", (rows[gone]["id"],))
    running = eventlog.seal(rows[gone - 1], rows[gone - 1]["prev"])
    for row in rows[gone + 1:]:
        w.tamper("UPDATE events SET prev = ? WHERE id = ?", (running, row["id"]))
        running = eventlog.seal(row, running)
    problems = w.verify()
    assert len(problems) == 1, problems
    assert "ParkingPermit@1.0 was ratified with 1 of 2 approvals by distinct maintainers that verify " \
           "(alice (unsigned))" in problems[0]


def test_copy_keeps_the_chain_and_its_signatures(world: World, backend: Backend, tmp_path: Path,
                                                 request: pytest.FixtureRequest) -> None:
    world.ratified()
    if backend.enforced:
        destination = str(tmp_path / "copy.sqlite")
    else:
        server = request.getfixturevalue("pg_server")
        name = server.create_database()
        request.addfinalizer(lambda: server.drop_database(name))
        destination = server.dsn(name)
    copied = run_egif("registry", "copy", world.location, destination)
    assert copied.returncode == 0, copied.stderr
    with Registry.open(destination) as reg:
        report = verify_registry(reg)
    assert report.ok and report.signatures_verified == 8 and report.head == verify_registry(world.reg).head


def test_two_connections_writing_in_turn_keep_one_chain(backend: Backend) -> None:
    """What one connection knows of the log's head never outlives its transaction."""
    location = backend.new_location(seed=False)
    first, second = backend.open(location, "carol"), backend.open(location, "dave")
    first.add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
    for i in range(3):
        for reg in (first, second, first):
            Lifecycle(reg, clock=lambda: NOW).comment("ParkingPermit@1.0", f"turn {i}")
        # read between transactions, after the other connection wrote last
        Lifecycle(second, clock=lambda: NOW).comment("ParkingPermit@1.0", f"last word {i}")
        assert eventlog.head(first.store) == eventlog.head(second.store) == replay(
            first.store.iter_events()).chain.head
    rows = list(first.store.iter_events())
    assert len(rows) == 13 and replay(rows).problems == []


# -- signing is required once maintainers have keys --------------------------------------------
def test_decisions_must_be_signed_by_the_actors_own_key(world: World) -> None:
    world.as_("carol").add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
    world.lc("carol", signed=False).propose("ParkingPermit@1.0")
    before = len(list(world.reg.store.iter_events()))
    with pytest.raises(PermissionDenied, match=r"approve ParkingPermit@1.0 must be signed: .* give --key FILE "
                                               r"or set EGIF_SIGNING_KEY \(keys of bob: SHA256:"):
        world.lc("bob", signed=False).approve("ParkingPermit@1.0")
    with pytest.raises(PermissionDenied, match="is not a registered key of 'bob'"):
        Lifecycle(world.as_("bob"), clock=lambda: NOW, signer=world.keys.signer("alice")).approve(
            "ParkingPermit@1.0")
    with pytest.raises(PermissionDenied, match="must be signed"):
        ConfigEditor(world.as_("alice")).set_approvals_needed(1)
    assert len(list(world.reg.store.iter_events())) == before
    # once keys exist, every maintainer comes with one, and a key belongs to one maintainer
    alice = ConfigEditor(world.as_("alice"), signer=world.keys.signer("alice"))
    with pytest.raises(InputError, match="needs a public key"):
        alice.add_maintainer("carol")
    with pytest.raises(InputError, match="is already a key of 'bob'"):
        alice.add_maintainer("carol", world.keys.pub("bob"))


def test_key_rotation_keeps_past_signatures_valid(world: World) -> None:
    world.ratified()
    bob = ConfigEditor(world.as_("bob"), signer=world.keys.signer("bob"))
    bob.add_key("bob", world.keys.pub("bob2"))
    bob.revoke_key("bob", world.keys.public("bob").fingerprint)
    # the old key no longer signs; the new one does
    world.as_("carol").add(LC / "ParkingPermit-v1-1.xsd", name="ParkingPermit", version="1.1")
    world.lc("carol", signed=False).propose("ParkingPermit@1.1")
    with pytest.raises(PermissionDenied, match="not a registered key of 'bob'"):
        world.lc("bob").approve("ParkingPermit@1.1")
    Lifecycle(world.as_("bob"), clock=lambda: NOW, signer=world.keys.signer("bob2")).approve("ParkingPermit@1.1")
    # approvals made with the old key, before the rotation, still verify (keys in force at the time)
    report = verify_registry(world.reg)
    assert report.ok, report.problems
    assert report.signatures_verified == 8 + 3
    # a signed registry never goes back to unsigned approvals
    alice = ConfigEditor(world.as_("alice"), signer=world.keys.signer("alice"))
    alice.revoke_key("alice", world.keys.pub("alice"))
    with pytest.raises(PermissionDenied, match="last maintainer key"):
        ConfigEditor(world.as_("bob"), signer=world.keys.signer("bob2")).revoke_key("bob", world.keys.pub("bob2"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the library runs on both stores above
def test_rotation_and_keys_through_the_cli(world: World, backend: Backend) -> None:
    run = backend.cli(world.location)
    keys = world.keys
    added = run("--as", "alice", "registry", "config", "--add-maintainer", "carol", "--key", str(keys.pub("carol")),
                "--signing-key", str(keys.path("alice")))
    assert added.returncode == 0, added.stderr
    assert "approvals:        signed" in added.stdout and keys.public("carol").fingerprint in added.stdout
    unsigned = run("--as", "carol", "registry", "config", "--approvals", "1")
    assert unsigned.returncode == 1 and "must be signed" in unsigned.stderr
    assert unsigned.stderr.count("\n") == 1
    rotated = run("--as", "carol", "registry", "config", "--add-key", "carol", str(keys.pub("carol2")),
                  "--revoke-key", "carol", keys.public("carol").fingerprint,
                  env={"EGIF_SIGNING_KEY": str(keys.path("carol"))})
    assert rotated.returncode == 0, rotated.stderr
    history = run("registry", "config", "--history").stdout
    assert f"maintainer keys of carol: [{keys.public('carol').fingerprint}] -> [" in history
    assert run("registry", "verify").returncode == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # a SQLite file has no such guard
def test_the_database_refuses_unsigned_decisions_once_keys_exist(world: World, backend: Backend) -> None:
    world.as_("carol").add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
    world.lc("carol", signed=False).propose("ParkingPermit@1.0")
    store = world.as_("bob").store
    with pytest.raises(PermissionDenied, match="unsigned approve event"), store.transaction():
        store.append_event(name="ParkingPermit", version="1.0", kind="approve", actor="bob", at="now",
                           data={}, prev=eventlog.head(store))
    with pytest.raises(PermissionDenied, match="last maintainer key"), store.transaction():
        store.set_config("maintainer_keys", {})


def test_a_new_event_must_link_once_the_chain_has_begun(backend: Backend) -> None:
    reg = backend.open(backend.new_location(seed=False))
    user = backend.as_user(reg, "carol")
    user.add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
    store = user.store
    with pytest.raises((sqlite3.DatabaseError, RegistryError), match="hash-chained"), store.transaction():
        store.append_event(name="ParkingPermit", version="1.0", kind="comment", actor="carol", at="now",
                           data={"text": "unlinked"})


def test_a_format_1_log_becomes_the_chain_prefix(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry made before the chain: its events are kept as the prefix the first new event fixes."""
    from egif.store import postgres, sqlite

    module = postgres if backend.enforced else sqlite
    with monkeypatch.context() as m:
        m.setattr(module, "MIGRATIONS", module.MIGRATIONS[:1])
        m.setattr(module, "LATEST_FORMAT", 1)
        location = backend.new_location(seed=False)
        old = backend.admin(backend.open(location))
        mark = "%s" if backend.enforced else "?"
        for text in ("one", "two", "three"):  # as a format-1 egif wrote them: no link
            with old.store.transaction():
                old.store.execute(  # type: ignore[attr-defined]
                    f"INSERT INTO events (kind, actor, at, data) VALUES ('note', 'carol', "
                    f"'2025-01-01T00:00:00+00:00', {mark})", (json.dumps({"text": text}),))
        assert old.store.format_version() == 1
    if backend.enforced:
        Registry.init(location, seed=False).close()  # the owner upgrades it
    reg = backend.open(location)
    assert reg.store.format_version() == module.LATEST_FORMAT
    backend.as_user(reg, "carol").add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
    report = verify_registry(reg)
    assert report.ok and report.legacy_events == 3, report.problems
    rows = list(reg.store.iter_events())
    assert [r["prev"] is None for r in rows] == [True, True, True, False]
    # the first chained event fixes the unlinked prefix: changing it is found
    w = World.__new__(World)
    w.backend, w.reg, w.location = backend, reg, location
    w.tamper("UPDATE events SET data = replace(data, 'two', 'TWO')")
    problems = w.verify()
    assert len(problems) == 1 and f"event #{rows[3]['id']} (add ParkingPermit@1.0" in problems[0]


# -- anyone can check a decision with OpenSSH alone ---------------------------------------------
def test_a_decision_verifies_with_ssh_keygen(world: World, tmp_path: Path) -> None:
    import shutil
    import subprocess

    if shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH ssh-keygen is not installed")
    world.ratified()
    ratify = next(e for e in world.reg.store.iter_events() if e["kind"] == "ratify")
    (tmp_path / "event.json").write_bytes(eventlog.canonical(ratify, ratify["prev"]))
    (tmp_path / "event.json.sig").write_text(ratify["signature"])
    (tmp_path / "allowed").write_text(f"alice {world.keys.public('alice').openssh()}\n")

    def check(identity: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(tmp_path / "allowed"), "-I", identity,
                               "-n", eventlog.EVENT_NAMESPACE, "-s", str(tmp_path / "event.json.sig")],
                              input=(tmp_path / "event.json").read_bytes(), capture_output=True, check=False)

    assert check("alice").returncode == 0
    (tmp_path / "allowed").write_text(f"alice {world.keys.public('bob').openssh()}\n")
    assert check("alice").returncode != 0


def test_the_cli_signs_through_ssh_agent(tmp_path: Path, agent: str) -> None:
    import os
    import subprocess

    from .keys import ssh_keygen

    alice = ssh_keygen(tmp_path / "keys", "alice")
    subprocess.run(["ssh-add", str(alice)], check=True, capture_output=True,
                   env={**os.environ, "SSH_AUTH_SOCK": agent})
    reg = tmp_path / "agent.sqlite"
    with Registry.init(reg, actor="carol", seed=False) as made:
        made.add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
        Lifecycle(made).propose("ParkingPermit@1.0")
    env = {"SSH_AUTH_SOCK": agent, "EGIF_SIGNING_KEY": f"{alice}.pub"}
    steps = [("--as", "alice", "registry", "config", "--add-maintainer", "alice", "--key", f"{alice}.pub",
              "--approvals", "1"),
             ("--as", "alice", "lifecycle", "approve", "ParkingPermit@1.0"),
             ("--as", "alice", "lifecycle", "close-window", "ParkingPermit@1.0", "-m", "all heard"),
             ("--as", "alice", "lifecycle", "ratify", "ParkingPermit@1.0")]
    for args in steps:
        done = run_egif(*args, registry=reg, env=env)
        assert done.returncode == 0, (args, done.stderr)
    verified = run_egif("registry", "verify", registry=reg)
    # alice's key (signed with itself), alice made a maintainer, the setting, approval, window, ratification
    assert verified.returncode == 0 and "approvals: signed; 6 signatures verified" in verified.stdout, verified.stdout
