"""Crash safety and concurrent writers, with real processes (issue 2)."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from egif import Registry
from egif.store import sqlite as sqlite_store

from .conftest import DATA

BETA = DATA / "multifile" / "b" / "Beta-v1-0.xsd"


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
    finally:
        db.close()


def _integrity(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def _variant(tmp_path: Path, i: int) -> Path:
    """A distinct schema per writer (its own namespace and pattern)."""
    src = BETA.read_text().replace("urn:egif:test:b", f"urn:egif:test:writer{i}")
    src = src.replace("{2}[0-9]{2}", f"{{2}}[0-9]{{{i + 1}}}")
    path = tmp_path / f"Writer{i}-v1-0.xsd"
    path.write_text(src)
    return path


def _left_beside(path: Path) -> list[str]:
    """Files in the registry's folder other than the registry and its journal: SQLite leaves the
    journal's two files when the last two processes close at the same moment."""
    ours = {path.name, path.name + "-wal", path.name + "-shm"}
    return sorted(p.name for p in path.parent.iterdir() if p.name not in ours)


def test_eight_concurrent_writers_lose_nothing(registry_path: Path, tmp_path: Path) -> None:
    before = {str(v.ref) for v in Registry.open(registry_path).list()}
    env = {**os.environ, "EGIF_REGISTRY": str(registry_path)}
    procs = []
    for i in range(8):
        schema = _variant(tmp_path, i)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "egif", "schema", "add", str(schema), "--name", f"Writer{i}",
             "--version", "1.0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    # two more race for the same name@version with different content: one must win
    racers = [subprocess.Popen(
        [sys.executable, "-m", "egif", "schema", "add", str(_variant(tmp_path, 10 + i)), "--name", "Race",
         "--version", "1.0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)]
    results = [(p.wait(timeout=120), p.communicate()) for p in procs]
    race = [(p.wait(timeout=120), p.communicate()) for p in racers]
    assert all(code == 0 for code, _ in results), results
    assert sorted(code for code, _ in race) == [0, 2], race
    loser = next(err for code, (_, err) in race if code == 2)
    assert "different content" in loser
    with Registry.open(registry_path) as reg:
        after = {str(v.ref) for v in reg.list()}
        assert after == before | {f"Writer{i}@1.0" for i in range(8)} | {"Race@1.0"}
        for i in range(8):
            reg.resolve(f"Writer{i}@1.0").lxml_schema()  # every stored version intact
        adds = [e for e in reg.events(kinds=("add",)) if e.name and e.name.startswith(("Writer", "Race"))]
        assert len(adds) == 9
    assert _integrity(registry_path) == "ok"


def test_concurrent_first_use_seeds_the_registry_once(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}  # the per-user registry, not there yet
    procs = [subprocess.Popen([sys.executable, "-m", "egif", "schema", "list", "--format", "json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(8)]
    outputs = [(p.wait(timeout=120), p.communicate()) for p in procs]
    failed = [(code, err) for code, (_, err) in outputs if code != 0]
    assert not failed, failed  # the exit codes and what the failing processes said
    listed = {out for _, (out, _) in outputs}
    assert len(listed) == 1  # every process saw the same, complete registry
    path = tmp_path / "data" / "egif" / "registry.sqlite"
    with Registry.open(path) as reg:
        refs = [str(v.ref) for v in reg.list()]
        assert len(refs) == len(set(refs)) > 0
        assert len(list(reg.events(kinds=("add",)))) == len(refs)
    assert _integrity(path) == "ok"
    assert _left_beside(path) == []  # no drafts


SLOW_FIRST_USE = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import egif.shipped
    from egif import Registry
    original = egif.shipped.seed_registry
    def slow_seed(registry):
        added = original(registry)
        Path(sys.argv[1]).write_text("seeded")   # the standards are in; not yet committed or linked
        while not Path(sys.argv[2]).exists():
            time.sleep(0.02)
        return added
    egif.shipped.seed_registry = slow_seed
    with Registry.open() as reg:
        print(len(reg.list()))
""")


def test_a_registry_being_created_is_never_seen_half_made(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    seeded, go = tmp_path / "seeded", tmp_path / "go"
    slow = subprocess.Popen([sys.executable, "-c", SLOW_FIRST_USE, str(seeded), str(go)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not seeded.exists():
            assert slow.poll() is None, slow.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        folder = data / "egif"
        # while the first process is still seeding, the registry's own path does not exist yet
        assert not (folder / "registry.sqlite").exists()
        assert [p.name for p in folder.iterdir() if p.name.endswith(".new")]
        # a second first use meanwhile makes its own, complete registry, and does not wait
        other = subprocess.run([sys.executable, "-m", "egif", "schema", "list", "--format", "json"], env=env,
                               capture_output=True, text=True, timeout=120)
        assert other.returncode == 0, other.stderr
    finally:
        go.write_text("go")
    out, err = slow.communicate(timeout=120)
    assert slow.returncode == 0, err
    path = folder / "registry.sqlite"
    with Registry.open(path) as reg:
        refs = [str(v.ref) for v in reg.list()]
        assert int(out) == len(refs) == len(json.loads(other.stdout)) > 0
        assert len(list(reg.events(kinds=("add",)))) == len(refs)  # seeded once: the slow copy was dropped
    assert _left_beside(path) == []


KILLED_ADD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from egif import Registry
    reg = Registry.open(sys.argv[1])
    original = reg.store.insert_version
    def slow_insert(*args, **kwargs):
        result = original(*args, **kwargs)   # rows written, transaction still open
        Path(sys.argv[3]).write_text("inside")
        time.sleep(60)
        return result
    reg.store.insert_version = slow_insert
    reg.add(sys.argv[2], name="Killed", version="1.0")
""")


def test_kill_during_add_leaves_the_registry_as_before(registry_path: Path, tmp_path: Path) -> None:
    before = _dump(registry_path)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_ADD, str(registry_path), str(BETA), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, "the writer ended before reaching the transaction"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _dump(registry_path) == before
    assert _integrity(registry_path) == "ok"
    with Registry.open(registry_path) as reg:  # and it still takes writes
        assert reg.add(BETA, name="Killed", version="1.0").created


def test_a_first_use_that_fails_leaves_no_registry_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    import egif.shipped

    def broken(registry: Registry) -> list[object]:
        raise RuntimeError("the disk filled up while seeding")

    with monkeypatch.context() as m:
        m.setattr(egif.shipped, "seed_registry", broken)
        with pytest.raises(RuntimeError, match="disk filled up"):
            Registry.open()
    folder = tmp_path / "data" / "egif"
    assert list(folder.iterdir()) == []  # neither the registry nor a draft of it
    with Registry.open() as reg:  # the next first use starts afresh
        assert reg.get("BS7666@2.0").status.value == "ratified"


def test_without_hard_links_a_new_registry_is_made_in_place(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # a file system that cannot link (some network and FAT mounts) answers EPERM
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(sqlite_store.os, "link", no_links)
    path = tmp_path / "team" / "registry.sqlite"
    with Registry.init(path) as reg:
        refs = [str(v.ref) for v in reg.list()]
        assert "BS7666@2.0" in refs
        assert len(list(reg.events(kinds=("add",)))) == len(refs)
    assert _left_beside(path) == []
