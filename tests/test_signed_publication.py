"""Signed publication: publisher keys with a threshold, rotation, and pulls that check it all (issue 15).

The origin is a registry whose maintainers alice and bob sign with their own
keys; it is published signed by 2 of 3 publisher keys and served over real
HTTP on 127.0.0.1.  Attacks are made on a copy of the published tree, by a
mirror (no keys at all) or by someone holding the publisher keys but not the
maintainers'.  Every refusal must be one line naming the source and leave the
consumer's registry byte for byte as it was.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from egif import EgifError, Registry, eventlog
from egif.config import ConfigEditor
from egif.errors import InputError
from egif.lifecycle import Lifecycle
from egif.publish import INDEX_NAME, object_path, publish
from egif.remote import PullLimits, PullResult, pull
from egif.signing import KeyFileSigner
from egif.trust import (
    INDEX_NAMESPACE,
    KeyList,
    key_list_document,
    key_list_path,
    sign_all,
    signatures_document,
    signatures_path,
)

from .conftest import DATA, run_egif
from .hostile_publisher import dump, sha, version_digest
from .keys import Keys, ssh_keygen
from .publish_server import StaticServer, serve

FAST = PullLimits(timeout=5.0, retries=0, backoff=0.01, workers=2)
LC = DATA / "lifecycle"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PUBLISHERS = ("p1", "p2", "p3")


@dataclass
class Origin:
    root: Path
    keys: Keys
    db: Path
    site: Path


def _governed(reg: Registry, keys: Keys, version: str) -> None:
    """carol proposes ParkingPermit@VERSION; alice and bob approve it with their keys; alice ratifies."""
    ref = f"ParkingPermit@{version}"

    def lc(who: str) -> Lifecycle:
        signer = keys.signer(who) if who in ("alice", "bob") else None
        return Lifecycle(Registry(reg.store, actor=who), clock=lambda: NOW, signer=signer)

    Registry(reg.store, actor="carol").add(LC / f"ParkingPermit-v{version.replace('.', '-')}.xsd",
                                           name="ParkingPermit", version=version)
    lc("carol").propose(ref)
    lc("alice").approve(ref, "fine")
    lc("bob").approve(ref)
    lc("alice").close_window(ref, "ready")
    lc("alice").ratify(ref)


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory, seeded_registry_file: Path) -> Origin:
    root = tmp_path_factory.mktemp("origin")
    keys = Keys(root / "keys")
    db = root / "publisher.sqlite"
    shutil.copyfile(seeded_registry_file, db)
    with Registry.open(db, actor="alice") as reg:
        ConfigEditor(reg).add_maintainer("alice", keys.pub("alice"))
        ConfigEditor(reg, signer=keys.signer("alice")).add_maintainer("bob", keys.pub("bob"))
        _governed(reg, keys, "1.0")
        publish(reg, root / "site", catalogue=False, signers=[keys.signer(p) for p in PUBLISHERS], threshold=2)
    return Origin(root, keys, db, root / "site")


@dataclass
class Here:
    """A private copy of the origin for one test: its database, its site, served, and a consumer."""

    keys: Keys
    db: Path
    site: Path
    server: StaticServer
    consumer: Registry
    consumer_path: Path

    @property
    def url(self) -> str:
        return self.server.url

    def publisher(self) -> Registry:
        return Registry.open(self.db, actor="alice")

    def signers(self, *names: str) -> list[Any]:
        return [self.keys.signer(n) for n in names]

    def index(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.site / INDEX_NAME).read_bytes())
        return data

    def write_index(self, index: dict[str, Any], *, sign_with: tuple[str, ...] = (), version: int = 1) -> str:
        """Write a (changed) index as the attacker would; signed with *sign_with* publisher keys, if any."""
        body = json.dumps(index, indent=1, sort_keys=True).encode() + b"\n"
        (self.site / INDEX_NAME).write_bytes(body)
        digest = sha(body)
        if sign_with:
            key_list = KeyList(version, tuple(self.keys.public(n) for n in sign_with), 1)
            sigs = sign_all(self.signers(*sign_with), body, INDEX_NAMESPACE)
            (self.site / signatures_path(digest)).write_bytes(signatures_document(digest, key_list, sigs))
        return digest

    def pull(self, **kw: Any) -> PullResult:
        return pull(self.consumer, self.url, limits=FAST, **kw)

    def refused(self, *words: str, **kw: Any) -> str:
        before = dump(self.consumer_path)
        with pytest.raises(EgifError) as info:
            self.pull(**kw)
        message = str(info.value)
        assert "\n" not in message and self.url in message, message
        for word in words:
            assert word in message, message
        assert dump(self.consumer_path) == before
        return message


@pytest.fixture
def here(origin: Origin, tmp_path: Path) -> Iterator[Here]:
    db, site = tmp_path / "publisher.sqlite", tmp_path / "site"
    shutil.copyfile(origin.db, db)
    shutil.copytree(origin.site, site)
    consumer_path = tmp_path / "consumer.sqlite"
    with serve(site) as server, Registry.init(consumer_path, actor="council", seed=False) as consumer:
        yield Here(origin.keys, db, site, server, consumer, consumer_path)


# -- what an honest signed publication gives ------------------------------------------------
def test_two_of_three_signed_publication_is_pulled_and_its_ratifications_checked(here: Here) -> None:
    got = here.pull()
    assert got.signed and "ParkingPermit@1.0" in got.added
    notes = " | ".join(got.notes)
    assert "trusting the publisher's keys on first use" in notes and "2 of 3" in notes
    assert "index signed by 3 of the publisher's 3 keys (2 needed)" in notes
    assert "every ratification with its approvals" in notes
    recorded = next(iter(here.consumer.events(kinds=("pull",))))
    assert recorded.data["signed"] is True and recorded.data["publisher_keys"]["trusted"] == "first use"
    assert recorded.data["publisher_keys"]["keys"] == [here.keys.public(p).fingerprint for p in PUBLISHERS]
    # the consumer's own log still verifies (the publisher's events are copied as its record)
    from egif.verify import verify_registry

    assert verify_registry(here.consumer).problems == []
    # the publisher moves on, signing with two of its three keys: the next pull follows
    with here.publisher() as pub:
        Lifecycle(Registry(pub.store, actor="dave"), clock=lambda: NOW).comment("ParkingPermit@1.0", "thanks")
        with pytest.raises(InputError, match="needs 2 signatures by keys of the publisher key list v1"):
            publish(pub, here.site, catalogue=False, signers=here.signers("p3"))
        publish(pub, here.site, catalogue=False, signers=here.signers("p1", "p3"))
    again = here.pull()
    assert again.events_copied == 1 and "index signed by 2 of the publisher's 3 keys" in " ".join(again.notes)


def test_an_index_with_one_valid_signature_is_refused(here: Here) -> None:
    digest = sha((here.site / INDEX_NAME).read_bytes())
    doc = json.loads((here.site / signatures_path(digest)).read_bytes())
    doc["signatures"] = doc["signatures"][:1]
    (here.site / signatures_path(digest)).write_text(json.dumps(doc))
    here.refused("the index is signed by 1 of the publisher's keys (2 of 3 needed, key list v1)")


def test_an_index_signed_by_unknown_keys_is_refused(here: Here) -> None:
    index = here.index()
    here.write_index(index, sign_with=("m1", "m2"))
    message = here.refused("signed by 0 of the publisher's keys", "also signed by unknown keys")
    assert here.keys.public("m1").fingerprint in message


def test_a_mirror_that_swaps_a_schema_and_rehashes_the_index_is_refused(here: Here) -> None:
    index = here.index()
    entry = next(v for s in index["standards"] for v in s["versions"] if v["name"] == "ParkingPermit")
    swapped = (LC / "ParkingPermit-v1-1.xsd").read_bytes()
    target = here.site / object_path(sha(swapped))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(swapped)
    main = next(f for f in entry["files"] if f["path"] == entry["main"])
    main.update(digest=sha(swapped), size=len(swapped))
    files = {f["path"]: swapped if f is main else (here.site / object_path(f["digest"])).read_bytes()
             for f in entry["files"]}
    entry["digest"] = version_digest(entry["main"], files)
    old_sigs = (here.site / signatures_path(sha((here.site / INDEX_NAME).read_bytes()))).read_bytes()
    digest = here.write_index(index)
    here.refused("the index signatures cannot be fetched", "HTTP 404")
    # the mirror's next best: the old signatures under the new name
    doc = json.loads(old_sigs)
    doc["index"] = digest
    (here.site / signatures_path(digest)).write_text(json.dumps(doc))
    here.refused("the index is signed by 0 of the publisher's keys")


def test_dropping_the_signatures_does_not_make_a_publication_acceptable(here: Here) -> None:
    # first use, told which key to expect
    index = here.index()
    del index["publisher_keys"]
    signed_index = (here.site / INDEX_NAME).read_bytes()
    here.write_index(index)
    here.refused("the index is not signed, but --trust names", trust=[str(here.keys.pub("p1"))])
    # a registry that has pulled signed accepts no unsigned publication any more, from anywhere
    (here.site / INDEX_NAME).write_bytes(signed_index)
    here.pull()
    index["standards"] = index["standards"][:1]
    here.write_index(index)
    here.refused("the index is not signed, and this registry has pulled signed publications")
    info = run_egif("registry", "info", registry=here.consumer_path)
    assert "pulls:    signed publications only" in info.stdout


def test_rotation_signed_by_the_old_threshold_is_followed_and_a_forged_one_refused(here: Here) -> None:
    here.pull()
    pulled_v1 = (here.site / INDEX_NAME).read_bytes()
    with here.publisher() as pub:
        with pytest.raises(InputError, match="not a publisher key"):
            publish(pub, here.site, catalogue=False, signers=here.signers("p1", "p4"))
        done = publish(pub, here.site, catalogue=False, signers=here.signers("p1", "p2", "p4"),
                       key_list=[here.keys.public("p2"), here.keys.public("p4")], threshold=2)
    assert done.rotated_from == 1 and done.key_list is not None and done.key_list.version == 2
    got = here.pull()
    assert "followed a publisher key rotation, signed by the keys it replaces: v1 -> v2" in " ".join(got.notes)
    # going back to the old list is a rollback
    (here.site / INDEX_NAME).write_bytes(pulled_v1)
    here.refused("key list v1, older than the v2 this registry trusts")


def test_a_rotation_not_signed_by_the_old_keys_is_refused(here: Here) -> None:
    here.pull()
    # someone without the publisher keys hands the registry over to keys of their own
    forged = KeyList(2, (here.keys.public("m1"), here.keys.public("m2")), 1)
    sigs = sign_all(here.signers("m1", "m2"), forged.message, "egif-publisher-keys")
    (here.site / key_list_path(2)).write_bytes(key_list_document(forged, sigs))
    index = here.index()
    index["publisher_keys"] = {"version": 2, "digest": sha((here.site / key_list_path(2)).read_bytes())}
    here.write_index(index, sign_with=("m1",), version=2)
    here.refused("publisher key list v2 is signed by 0 keys of v1; a rotation needs 2 of them")


# -- the maintainers' signatures stand even when the publisher keys do not ----------------------
def resign(here: Here, index: dict[str, Any]) -> None:
    """What a thief of two publisher keys can do: sign anything as the publisher."""
    body = json.dumps(index, indent=1, sort_keys=True).encode() + b"\n"
    (here.site / INDEX_NAME).write_bytes(body)
    digest = sha(body)
    key_list = KeyList(1, tuple(here.keys.public(p) for p in PUBLISHERS), 2)
    sigs = sign_all(here.signers("p1", "p2"), body, INDEX_NAMESPACE)
    (here.site / signatures_path(digest)).write_bytes(signatures_document(digest, key_list, sigs))


def log_events(here: Here, index: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for seg in index["log"]["segments"]:
        events.extend(json.loads((here.site / object_path(seg["digest"])).read_bytes()))
    return events


def put_log(here: Here, index: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Replace the published log by *events*, every link recomputed (the signatures cannot be)."""
    running = eventlog.GENESIS
    for e in events:
        e["prev"] = running
        running = eventlog.seal(e, running)
    body = json.dumps(events, sort_keys=True, separators=(",", ":")).encode()
    target = here.site / object_path(sha(body))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    index["log"] = {"format": "egif-log/1", "events": len(events), "head": running,
                    "segments": [{"digest": sha(body), "size": len(body), "events": len(events)}]}


def test_stolen_publisher_keys_cannot_remove_an_approval(here: Here) -> None:
    index = here.index()
    events = [e for e in log_events(here, index) if not (e["kind"] == "approve" and e["actor"] == "bob")]
    put_log(here, index, events)
    resign(here, index)
    here.refused("the publisher's audit log does not verify", "its signature does not verify")


def test_stolen_publisher_keys_cannot_forge_a_ratification(here: Here) -> None:
    """A status the log does not back, or a version ratified outside the lifecycle, is refused."""
    index = here.index()
    entry = next(v for s in index["standards"] for v in s["versions"] if v["name"] == "BS7666"
                 and v["status"] == "deprecated")
    entry["status"] = "ratified"
    resign(here, index)
    here.refused("BS7666@1.0 is ratified in the index, but the publisher's log has it deprecated")


def test_a_version_ratified_outside_the_lifecycle_is_refused(here: Here) -> None:
    with here.publisher() as pub:
        pub._add(LC / "ParkingPermit-v1-1.xsd", name="ParkingPermit", version="1.1", status="ratified",
                 via="test set-up")
        publish(pub, here.site, catalogue=False, signers=here.signers("p1", "p2"))
    here.refused("ParkingPermit@1.1 is ratified in the index, but its ratification does not verify: it came in "
                 "ratified through test set-up")


def test_a_rewritten_or_truncated_log_is_found_on_the_next_pull(here: Here) -> None:
    here.pull()
    index = here.index()
    events = log_events(here, index)
    put_log(here, index, events[:-1])  # the last event (the ratification's comment-free tail) dropped
    resign(here, index)
    here.refused("the publisher's log has", "fewer than the", "pulled before")


# -- naming the keys to trust ----------------------------------------------------------------
def test_trust_named_by_file_or_fingerprint(here: Here) -> None:
    here.refused("the trusted key", "has not signed the publisher's key list v1",
                 trust=[str(here.keys.pub("m1"))])
    got = here.pull(trust=[here.keys.public("p2").fingerprint])
    assert "publisher keys trusted as named by --trust" in " ".join(got.notes)
    recorded = next(iter(here.consumer.events(kinds=("pull",))))
    assert recorded.data["publisher_keys"]["trusted"] == "--trust"


def test_publish_and_pull_signed_through_the_cli(tmp_path: Path, registry_path: Path) -> None:
    keys = [ssh_keygen(tmp_path / "keys", name) for name in PUBLISHERS]
    site = tmp_path / "site"
    args = [a for k in keys for a in ("--key", str(k))]
    made = run_egif("registry", "publish", str(site), "--no-catalogue", *args, "--threshold", "2",
                    registry=registry_path)
    assert made.returncode == 0, made.stderr
    assert "signed by 3 of 3 publisher keys (2 needed)" in made.stdout
    with Registry.open(registry_path, actor="someone") as reg:
        Lifecycle(reg).comment("BS7666@2.0", "hello")
    refused = run_egif("registry", "publish", str(site), "--no-catalogue", registry=registry_path)
    assert refused.returncode == 2 and "is published signed" in refused.stderr
    consumer = tmp_path / "consumer.sqlite"
    Registry.init(consumer, seed=False).close()
    with serve(site) as server:
        got = run_egif("registry", "pull", server.url, "--trust", f"{keys[0]}.pub", registry=consumer)
        assert got.returncode == 0, got.stderr
        assert "publisher keys trusted as named by --trust" in got.stdout
        assert "the publisher's approvals are unsigned" in got.stdout  # its maintainers have no keys
        before = dump(consumer)
        # the publisher moves on; a mirror damages the signatures: one line, exit 2, nothing changed
        with Registry.open(registry_path, actor="someone") as reg:
            Lifecycle(reg).comment("BS7666@2.0", "again")
            publish(reg, site, catalogue=False, signers=[KeyFileSigner(keys[1]), KeyFileSigner(keys[2])])
        (site / signatures_path(sha((site / INDEX_NAME).read_bytes()))).write_text("{}")
        bad = run_egif("registry", "pull", server.url, registry=consumer)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
        assert "not usable index signatures" in bad.stderr and "Traceback" not in bad.stderr
        assert dump(consumer) == before
