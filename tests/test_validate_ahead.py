"""Small documents checked ahead on worker processes give the answers of one process.

``check_many`` and ``egif validate DIR`` hand the small documents named by path to
forked workers (egif.validate.core.ahead).  Whatever the workers answer, or leave to
the caller, every document's result must be field for field the one the caller
finds alone (``--jobs 1``), in the same order, for every kind of document in the
batch: valid, faulty in either layer, broken, unsafe, missing, big, foreign,
compressed, named twice, or not a path at all.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import time
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egif import Registry
from egif.errors import InputError
from egif.sample import write_sample
from egif.validate import DocumentResult, Session, Validator, forking
from egif.validate.core import ahead as ahead_module
from egif.validate.core.ahead import Ahead
from egif.validate.core.validator import CLEAN_CHECK_BYTES
from tests.conftest import Backend, run_egif

GAZ = "GazetteerExtract@1.0"
GZE_ROOT = "{http://www.govtalk.gov.uk/exchange/GazetteerExtract}GazetteerExtract"


def _rows(result: DocumentResult) -> dict[str, Any]:
    return result.to_dict()


def _message(kind: str, seed: int, *, count: int = 3, rate: float = 0.0, version: str | None = None) -> bytes:
    out = io.BytesIO()
    write_sample(kind, out, count=count, seed=seed, invalid_rate=rate, version=version,
                 faults=("all",) if rate else None)
    return out.getvalue()


def _batch(folder: Path) -> list[Path]:
    """Every kind of document a directory of messages may hold, in a stable order."""
    made: list[Path] = []

    def put(name: str, data: bytes) -> None:
        path = folder / name
        path.write_bytes(data)
        made.append(path)

    for i in range(70):  # enough for the workers to start, with faults of both layers now and then
        put(f"m{i:03d}.xml", _message("gazetteer", i, rate=0.15))
    put("persons.xml", _message("persons", 1, rate=0.2))  # another standard
    put("broken.xml", _message("gazetteer", 3)[:-40])
    put("entity.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>')
    put("empty.xml", b"")
    put("unknown.xml", b'<Other xmlns="urn:example:nobody"/>')
    put("packed.xml", gzip.compress(_message("gazetteer", 5, rate=0.3)))
    big = _message("gazetteer", 9, count=4000, rate=0.002)
    assert len(big) > CLEAN_CHECK_BYTES
    put("big.xml", big)
    for i in range(70, 110):
        put(f"m{i:03d}.xml", _message("gazetteer", i, rate=0.05))
    return made


def test_check_many_on_workers_equals_one_process(registry: Registry, tmp_path: Path) -> None:
    paths: list[Any] = _batch(tmp_path)
    paths += [tmp_path / "missing.xml", tmp_path, paths[3], b"<not-a-path/>", str(paths[10])]
    alone = Validator.for_version(registry, GAZ, jobs=1)
    spread = Validator.for_version(registry, GAZ, jobs=2)
    expected = [_rows(r) for r in alone.check_many(paths)]
    assert [_rows(r) for r in spread.check_many(paths)] == expected
    # the batch holds what it should: faults of both layers, refusals, and clean documents
    rules = {f["rule"] for r in expected for f in r["findings"]}
    assert {"xml:input", "xml:unsafe"} <= rules
    assert any(r.startswith("xsd:") for r in rules) and any(r.startswith("GZE-") for r in rules)
    assert sum(r["valid"] for r in expected) > 60


def test_the_workers_answer_most_documents(registry: Registry, tmp_path: Path) -> None:
    paths = _batch(tmp_path)
    v = Validator.for_version(registry, GAZ, jobs=2)
    ahead = Ahead(2)
    answered = 0
    for source, done in ahead.run(paths):
        if done is None:
            with contextlib.suppress(InputError):  # the unsafe one
                v.check(source)
            if v.root is not None:
                ahead.learn(v.root, v)
        else:
            answered += 1
            assert done[2].source == os.fspath(source)
    # all but the first, the foreign, broken, unsafe, packed (in memory only) and big ones
    assert answered >= len(paths) - 10


def _long_batch(folder: Path) -> list[Path]:
    """Many times the look-ahead of two workers, faults of both layers now and then."""
    paths = []
    for i in range(12):
        data = _message("gazetteer", i, rate=0.1 if i % 4 == 0 else 0.0)
        for k in range(40):
            path = folder / f"m{i:02d}-{k:02d}.xml"
            path.write_bytes(data)
            paths.append(path)
    assert len(paths) > 2 * Ahead(2)._window()
    return paths


def test_a_long_batch_keeps_the_workers_fed_to_its_end(registry: Registry, tmp_path: Path) -> None:
    # the workers are sent more as they answer, up to the last document; only the first,
    # which the caller checks to learn its root, is left to it
    paths = _long_batch(tmp_path)
    v = Validator.for_version(registry, GAZ, jobs=2)
    ahead = Ahead(2)
    left = []
    for source, done in ahead.run(paths):
        if done is None:
            left.append(source)
            v.check(source)
            ahead.learn(v.root, v)
        else:
            assert done[2].source == os.fspath(source)
    assert left == paths[:1]


class _Queue:
    """A stand-in for a forked worker: its queue, and every chunk sent to any, in order."""

    def __init__(self, log: list[list[Any]]) -> None:
        self.pending: list[list[Any]] = []
        self.alive = True
        self.log = log

    def send(self, chunk: list[Any]) -> None:
        self.pending.append(chunk)
        self.log.append(chunk)


@pytest.mark.parametrize(("left", "exhausted", "sent"), [
    # sources beyond the look-ahead: full chunks, up to each worker's queue
    (100, False, [32, 32, 32, 4]),
    # every source taken: each chunk a share of what is left (shared among the workers' queues
    # and the caller, which checks documents too), a quarter of a full one at the least
    (100, True, [16, 14, 11, 9]),
    (20, True, [8, 8, 4]),
    (300, True, [32, 32, 32, 32]),
])
def test_once_every_source_is_taken_a_chunk_is_a_share_of_what_is_left(left: int, exhausted: bool,
                                                                       sent: list[int]) -> None:
    """So the last chunks of a batch are small, and no worker is left checking a full chunk
    alone at its end; before that, chunks are full."""
    assert (ahead_module.CHUNK, ahead_module.IN_FLIGHT) == (32, 2)  # (the sizes below are for these)
    ahead = Ahead(3, {("{urn:x}R", None): object()})  # type: ignore[dict-item]
    chunks: list[list[Any]] = []
    ahead._workers = [_Queue(chunks), _Queue(chunks)]  # type: ignore[list-item]  # (three jobs: two workers)
    ahead._forked_keys = set(ahead.table)
    waiting = deque(range(left))
    ahead._send(waiting, exhausted)  # type: ignore[arg-type]
    assert [len(c) for c in chunks] == sent
    assert [d for c in chunks for d in c] == list(range(sum(sent)))  # in order, each once
    assert list(waiting) == list(range(sum(sent), left))


def test_a_worker_is_fed_while_the_caller_waits_on_another(registry: Registry, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """While the caller waits for the answer to the document it has reached, the other
    worker's answers are taken in and it is sent more.  The first document sent to a worker
    is held until some worker has answered more than a full queue of documents: the other
    worker can get there only by being fed while the caller waits (within the look-ahead).
    Two workers (three jobs); the caller checks nothing itself here (that is the next test)."""
    paths = _long_batch(tmp_path)
    fed = ahead_module.IN_FLIGHT * ahead_module.CHUNK + ahead_module.CHUNK // 2
    # room in the look-ahead: past both workers' queues, at least one more chunk to send
    assert Ahead(3)._window() - 1 - 2 * ahead_module.IN_FLIGHT * ahead_module.CHUNK >= ahead_module.CHUNK
    held, gate, gave_up = os.fspath(paths[1]), tmp_path / "gate", tmp_path / "gave-up"
    real = ahead_module._answer
    answered = [0]  # in each worker: the documents it has answered

    def gated(path: str, table: Any = None) -> Any:
        if path == held:
            for _ in range(600):  # the gate opens within a second when the others are fed
                if gate.exists():
                    break
                time.sleep(0.05)
            else:
                gave_up.touch()  # (without feeding, after half a minute)
        answered[0] += 1
        if answered[0] == fed:
            gate.touch()
        return real(path, table)

    monkeypatch.setattr(ahead_module, "_answer", gated)  # the forked workers inherit it
    monkeypatch.setattr(Ahead, "_check_here", lambda *_a: None)
    v = Validator.for_version(registry, GAZ, jobs=3)
    results = list(v.check_many(paths))
    assert [r.source for r in results] == [os.fspath(p) for p in paths]
    assert gate.exists() and not gave_up.exists()


def test_the_caller_checks_documents_while_it_waits(registry: Registry, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With two jobs there is one worker, and the caller is the other: while it waits for
    the answer to the document it has reached, it checks the documents next in line itself,
    with the workers' code, its validators quiet (no progress, no processes of their own).
    The only worker's first document is held until the caller has checked more than a
    full queue of documents: it never gets there by waiting."""
    paths = _long_batch(tmp_path)
    fed = ahead_module.IN_FLIGHT * ahead_module.CHUNK + ahead_module.CHUNK // 2
    held, gate, gave_up = os.fspath(paths[1]), tmp_path / "gate", tmp_path / "gave-up"
    caller = os.getpid()
    real = ahead_module._answer
    here: list[tuple[str, Any, Any]] = []  # in the caller: each document, and how its validator stood

    def gated(path: str, table: Any = None) -> Any:
        if os.getpid() == caller:
            v = next(iter(table.values()))
            here.append((path, v.progress, v.jobs))
            if len(here) == fed:
                gate.touch()
        elif path == held:
            for _ in range(600):
                if gate.exists():
                    break
                time.sleep(0.05)
            else:
                gave_up.touch()
        return real(path, table)

    def progress(_p: Any) -> None:
        return None

    monkeypatch.setattr(ahead_module, "_answer", gated)  # the forked worker inherits it
    forks = _count_workers(monkeypatch)
    v = Validator.for_version(registry, GAZ, jobs=2, progress=progress)
    results = [_rows(r) for r in v.check_many(paths)]
    assert results == [_rows(r) for r in Validator.for_version(registry, GAZ, jobs=1).check_many(paths)]
    assert forks == [1]
    assert gate.exists() and not gave_up.exists()
    assert len({p for p, _g, _j in here}) == len(here) >= fed  # each once
    assert all(g is None and j == 1 for _p, g, j in here)
    assert (v.progress, v.jobs) == (progress, 2)  # as they were, once it is done


def test_a_session_hands_its_batch_to_the_workers_once_it_knows_the_root(registry: Registry,
                                                                         tmp_path: Path) -> None:
    # as `egif validate DIR` runs it: the session records the root itself, not through the runner
    paths = _long_batch(tmp_path)
    session = Session(registry, jobs=2)
    left = []
    for source, done in session.ahead(paths):
        if done is None:
            left.append(source)
            session.check(source)
    assert left == paths[:1]


def _count_workers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for each worker forked from now on."""
    forks: list[int] = []
    real = ahead_module._Worker.__init__

    def counted(self: Any) -> None:
        forks.append(1)
        real(self)

    monkeypatch.setattr(ahead_module._Worker, "__init__", counted)
    return forks


def _forked_and_left(registry: Registry, paths: list[Path], monkeypatch: pytest.MonkeyPatch,
                     worth: float) -> tuple[int, list[Path]]:
    """The workers forked for *paths* with :data:`FORK_WORTH` at *worth*, and the documents
    left to the caller; every result checked against one process's."""
    monkeypatch.setattr(ahead_module, "FORK_WORTH", worth)
    forks = _count_workers(monkeypatch)
    v = Validator.for_version(registry, GAZ, jobs=2)
    ahead = Ahead(2)
    left, got = [], []
    for source, done in ahead.run(paths):
        if done is None:
            left.append(source)
            result = v.check(source)
            ahead.learn(v.root, v)  # type: ignore[arg-type]
        else:
            result = done[2]
        got.append(_rows(result))
    assert got == [_rows(r) for r in Validator.for_version(registry, GAZ, jobs=1).check_many(paths)]
    return len(forks), left


def test_a_short_batch_is_checked_by_the_caller_when_workers_would_not_pay(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [tmp_path / f"m{i:03d}.xml" for i in range(60)]
    for i, p in enumerate(paths):
        p.write_bytes(_message("gazetteer", i, rate=0.1))
    assert len(paths) < Ahead(2)._window()  # the batch ends within the look-ahead
    # checking the other 58 messages would take far less than an hour: no worker
    forks, left = _forked_and_left(registry, paths, monkeypatch, 3600.0)
    assert forks == 0 and left == paths
    # worth it at any pace: forked once the second and third documents have shown the
    # caller's pace (the first makes what the validator needs)
    forks, left = _forked_and_left(registry, paths, monkeypatch, 1e-9)
    assert forks == 1 and left == paths[:3]


@given(st.lists(st.floats(min_value=0.0, max_value=0.01), max_size=12),
       st.integers(min_value=32, max_value=160), st.sampled_from([0.0, 0.04, 0.5]))
def test_the_pace_is_the_faster_of_the_last_two_documents_after_the_first(times: list[float], waiting: int,
                                                                          worth: float) -> None:
    """One slow document (a faulty message, a pause) does not make a short batch fork; two
    in a row do; the first document, which makes what the validator needs, never counts."""
    a = Ahead(2)
    for seconds in times:
        a._timed(seconds)
    counted = times[1:]
    want = min(counted[-2:]) if len(counted) >= 2 else None
    assert a._pace == want
    with pytest.MonkeyPatch.context() as m:
        m.setattr(ahead_module, "FORK_WORTH", worth)
        assert a._worth(waiting, exhausted=True) == (worth <= 0 or (want is not None and want * waiting >= worth))
        assert a._worth(waiting, exhausted=False)  # more beyond the look-ahead: always


def test_a_short_batch_gets_workers_when_its_documents_grow(registry: Registry, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The pace is looked at again after every document the caller checks: 100 messages of
    three records, then 50 documents of about 900 KB.  At a message's pace the rest is far
    below the threshold; at a big document's pace it is far above it.  (Decided at the
    second document alone, as before, no worker was forked: the test failed.)"""
    small = _message("gazetteer", 1)
    big = _message("gazetteer", 2, count=1100)
    assert 600_000 < len(big) <= 1 << 20  # still a document the workers take
    paths = []
    for i in range(150):
        path = tmp_path / f"d{i:03d}.xml"
        path.write_bytes(small if i < 100 else big)
        paths.append(path)
    assert len(paths) < Ahead(2)._window()  # the batch ends within the look-ahead
    forks, left = _forked_and_left(registry, paths, monkeypatch, 0.2)
    # (on a loaded machine one message may take long enough to fork earlier: not asked here)
    assert forks == 1
    assert not set(paths[102:]) <= set(left)  # the workers took big ones
    forks, left = _forked_and_left(registry, paths, monkeypatch, 3600.0)
    assert forks == 0 and left == paths


def test_a_batch_beyond_the_look_ahead_gets_workers_at_once(registry: Registry, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _long_batch(tmp_path)  # longer than the look-ahead: its length is not known yet
    forks, left = _forked_and_left(registry, paths, monkeypatch, 3600.0)
    assert forks == 1 and left == paths[:1]


@pytest.mark.parametrize("settings_", [{}, {"rules": False}, {"max_errors": 0}, {"max_errors": 5}],
                         ids=["rules", "xsd-only", "max-errors-0", "max-errors-5"])
def test_a_clean_message_takes_the_short_path_to_the_same_answer(
        registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings_: dict[str, Any]) -> None:
    """What a worker answers on the short path for a message without findings is what the
    ordinary path answers; every other document is left to the ordinary path."""
    from egif.xmlsafe import make_parser

    paths = [str(p) for p in _batch(tmp_path)]
    v = Validator.for_version(registry, GAZ, jobs=1, **settings_)
    v.check(paths[0])
    assert v.root is not None
    monkeypatch.setattr(ahead_module, "_TABLE", {ahead_module.key_of(v.root): v})
    monkeypatch.setattr(ahead_module, "_LEAN", make_parser(remove_blank_text=True))
    short = [ahead_module._clean_message(p) for p in paths]
    with monkeypatch.context() as m:
        m.setattr(ahead_module, "_clean_message", lambda _p, _t=None: (None, None, None))
        ordinary = [ahead_module._answer(p) for p in paths]
    assert [ahead_module._answer(p) for p in paths] == ordinary  # faulty ones told so, too
    taken = [(s, o) for (s, _f, _d), o in zip(short, ordinary, strict=True) if s is not None]
    assert all(s == o for s, o in taken)
    faulty = [o for (_s, f, _d), o in zip(short, ordinary, strict=True) if f is not None]
    # a faulty message comes back with the bytes it was read as, and only a faulty one
    assert all((d is not None) == (f is not None) for _s, f, d in short)
    assert all(d == Path(p).read_bytes() for p, (_s, _f, d) in zip(paths, short, strict=True) if d is not None)
    assert all(o[2] is not None and o[2][0] for o in faulty)  # each has a finding
    if settings_.get("max_errors") != 0:
        assert len(faulty) > 5
    clean = [o for o in ordinary if o[0] == ahead_module.DONE and o[2] is not None and not o[2][0]
             and not o[2][2]]
    if settings_.get("max_errors") == 0:
        assert taken == []  # every result is cut short there: the ordinary path says so
    else:
        assert len(taken) == len(clean) > 20  # every clean message, nothing else


def test_a_candidate_versions_clean_message_keeps_its_lifecycle_note(registry: Registry, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from egif.xmlsafe import make_parser

    path = tmp_path / "m.xml"
    path.write_bytes(_message("gazetteer", 4, version="1.1"))
    v = Validator.for_version(registry, "GazetteerExtract@1.1", jobs=1)
    expected = v.check(path)
    assert expected.valid and expected.findings  # an info finding: a candidate version
    monkeypatch.setattr(ahead_module, "_TABLE", {ahead_module.key_of(v.root): v})  # type: ignore[arg-type]
    monkeypatch.setattr(ahead_module, "_LEAN", make_parser(remove_blank_text=True))
    assert ahead_module._clean_message(str(path)) == (None, None, None)
    kind, _root, found = ahead_module._answer(str(path))
    assert kind == ahead_module.DONE and found is not None and found[0] == expected.findings


def test_a_faulty_message_is_checked_in_the_bytes_first_read(registry: Registry, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that finds a fault in a message says exactly what it is from the bytes it
    read, not from the file read again: a file rewritten in between gets the findings of the
    document that was checked."""
    from egif.xmlsafe import make_parser

    path = tmp_path / "m.xml"
    path.write_bytes(_message("gazetteer", 2, count=5, rate=0.5))
    v = Validator.for_version(registry, GAZ, jobs=1)
    expected = v.check(path)
    assert expected.errors
    clean = tmp_path / "clean.xml"
    clean.write_bytes(_message("gazetteer", 3))
    assert v.check(clean).valid
    monkeypatch.setattr(ahead_module, "_TABLE", {ahead_module.key_of(v.root): v})  # type: ignore[arg-type]
    monkeypatch.setattr(ahead_module, "_LEAN", make_parser(remove_blank_text=True))
    real = ahead_module._clean_message

    def rewritten_after_reading(p: str, table: Any = None) -> Any:
        found = real(p, table)
        path.write_bytes(clean.read_bytes())  # the file changes once it has been read
        return found

    monkeypatch.setattr(ahead_module, "_clean_message", rewritten_after_reading)
    kind, _root, found = ahead_module._answer(str(path))
    assert kind == ahead_module.DONE and found is not None
    assert found[0] == expected.findings


def test_the_workers_inherit_what_a_faulty_document_needs(registry: Registry, tmp_path: Path) -> None:
    """The engine a faulty message takes, and its skeleton schema, are made by the caller
    before it forks, once, not by every worker on every call."""
    paths = [p for p in _batch(tmp_path) if p.name.startswith("m")]
    spread = Validator.for_version(registry, GAZ, jobs=2)
    forked: list[tuple[bool, bool]] = []
    real = ahead_module._Worker.__init__

    def note(worker: Any) -> None:  # what the caller holds as it forks
        engines = list(spread._engines.values())
        forked.append((bool(engines), all(e._skeleton_schema is not None for e in engines)))
        real(worker)

    with pytest.MonkeyPatch.context() as m:
        m.setattr(ahead_module._Worker, "__init__", note)
        first = [_rows(r) for r in spread.check_many(paths)]
    assert forked and all(made and ready for made, ready in forked)
    assert spread._engines[GZE_ROOT]._skeleton_schema is not None
    assert first == [_rows(r) for r in Validator.for_version(registry, GAZ, jobs=1).check_many(paths)]
    assert any(not r["valid"] for r in first)


def test_a_worker_has_nothing_left_to_make_for_a_faulty_document(registry: Registry, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """What the caller makes before it forks covers a faulty document's whole path: the
    rules' record and rest phases are made already, so a worker (each, on every batch)
    makes none of its own."""
    from lxml import etree

    from egif.validate.core.detect import root_info
    from egif.validate.schematron import evaluator
    from egif.xmlsafe import make_parser

    paths = [p for p in _batch(tmp_path) if p.name.startswith("m")]
    v = Validator.for_version(registry, GAZ, jobs=1)
    list(v.check_many(paths[:1]))  # as the caller does, to learn the root
    v.prepare_forks()
    made: list[tuple[object, ...]] = []
    real = evaluator.Program.__init__

    def note(program: Any, *args: Any, **kwargs: Any) -> None:
        made.append(args[1:3])
        real(program, *args, **kwargs)

    monkeypatch.setattr(evaluator.Program, "__init__", note)
    info = root_info(etree.parse(str(paths[0])).getroot())
    monkeypatch.setattr(ahead_module, "_TABLE", {ahead_module.key_of(info): v})
    monkeypatch.setattr(ahead_module, "_LEAN", make_parser(remove_blank_text=True))
    answers = [ahead_module._answer(str(p)) for p in paths[1:]]  # as a worker answers them
    faulty = [a for a in answers if a[0] == ahead_module.DONE and a[2] is not None and a[2][0]]
    assert faulty, "the batch has faulty messages"
    assert any(f.rule.startswith("GZE-") for a in faulty for f in a[2][0]), "and rules that fire"  # type: ignore[index]
    assert made == []


def test_a_worker_that_dies_leaves_its_documents_to_the_caller(registry: Registry, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _batch(tmp_path)
    real = ahead_module._answer

    caller = os.getpid()

    def fragile(path: str, table: Any = None) -> Any:
        if path.endswith("m040.xml") and os.getpid() != caller:
            os._exit(3)  # a worker killed in the middle of a chunk
        return real(path, table)

    monkeypatch.setattr(ahead_module, "_answer", fragile)  # the forked workers inherit it
    alone = Validator.for_version(registry, GAZ, jobs=1)
    spread = Validator.for_version(registry, GAZ, jobs=2)
    assert [_rows(r) for r in spread.check_many(paths)] == [_rows(r) for r in alone.check_many(paths)]


def test_new_roots_are_learnt_and_the_workers_forked_again(registry: Registry, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    gaz = [tmp_path / f"g{i:03d}.xml" for i in range(40)]
    persons = [tmp_path / f"p{i:03d}.xml" for i in range(120)]
    for i, p in enumerate(gaz):
        p.write_bytes(_message("gazetteer", i, rate=0.05))
    for i, p in enumerate(persons):
        p.write_bytes(_message("persons", i, rate=0.05))
    forks: list[int] = []
    real = Ahead._ready

    def counted(self: Ahead, waiting: Any, exhausted: bool = False) -> list[Any]:
        before = self._forks
        out = real(self, waiting, exhausted)
        if self._forks != before:
            forks.append(len(self.table))
        return out

    monkeypatch.setattr(Ahead, "_ready", counted)
    session = Session(registry, jobs=2)
    got = []
    with_workers = 0
    for source, done in session.ahead([*gaz, *persons]):
        if done is None:
            got.append(_rows(session.check(source)))
        else:
            with_workers += 1
            got.append(_rows(done))
    assert got == [_rows(Session(registry, jobs=1).check(p)) for p in [*gaz, *persons]]
    assert forks[:2] == [1, 2]  # forked with the gazetteer's root, then again with the persons' too
    # once forked again, every person message the caller has not reached goes to the workers,
    # also those a worker turned back before: the caller checks only the first gazetteer
    # message and the persons it reached before the second fork (about two chunks at most)
    assert with_workers > 160 - 1 - 2 * 16


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.sampled_from(["ok", "faulty", "broken", "persons", "missing", "twice", "bytes"]),
                      min_size=0, max_size=90),
       seed=st.integers(0, 1000))
def test_any_batch_gives_what_one_process_gives(registry: Registry, tmp_path_factory: pytest.TempPathFactory,
                                                picks: list[str], seed: int) -> None:
    folder = tmp_path_factory.mktemp("batch")
    sources: list[Any] = []
    for i, pick in enumerate(picks):
        path = folder / f"d{i:03d}.xml"
        if pick == "ok":
            path.write_bytes(_message("gazetteer", seed + i))
        elif pick == "faulty":
            path.write_bytes(_message("gazetteer", seed + i, rate=0.5))
        elif pick == "broken":
            path.write_bytes(_message("gazetteer", seed + i)[: 50 + i])
        elif pick == "persons":
            path.write_bytes(_message("persons", seed + i, rate=0.1))
        elif pick == "twice" and sources:
            sources.append(sources[0])
            continue
        elif pick == "bytes":
            sources.append(_message("gazetteer", seed + i, rate=0.3))
            continue
        sources.append(path)  # "missing": never written
    session_alone, session_spread = Session(registry, jobs=1), Session(registry, jobs=2)

    def results(session: Session) -> list[dict[str, Any]]:
        out = []
        for source, done in session.ahead(sources):
            if done is not None:
                out.append(_rows(done))
                continue
            try:
                out.append(_rows(session.check(source)))
            except Exception as exc:
                out.append({"raised": type(exc).__name__, "message": str(exc)})
        return out

    assert results(session_spread) == results(session_alone)


# -- the command line ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "json", "junit"])
def test_cli_output_is_the_same_with_workers(registry_path: Path, tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "messages"
    folder.mkdir()
    _batch(folder)
    for i in range(60):  # more than the look-ahead holds: the workers start whatever the pace
        (folder / f"z{i:03d}.xml").write_bytes(_message("gazetteer", 200 + i, rate=0.05))
    alone = run_egif("validate", str(folder), "--format", fmt, "--jobs", "1", registry=registry_path)
    spread = run_egif("validate", str(folder), "--format", fmt, "--jobs", "2", registry=registry_path)
    assert alone.returncode == spread.returncode == 2, alone.stderr  # some files are refused
    assert spread.stdout == alone.stdout
    assert "Traceback" not in spread.stderr
    if fmt == "json":
        assert any(f["rule"].startswith("GZE-") for f in json.loads(spread.stdout))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_workers_beside_either_store(backend: Backend, tmp_path: Path) -> None:
    """The workers are forks of a process holding the registry's connection: they must
    leave it alone, and the caller goes on using it after them."""
    reg = backend.open(backend.new_location(seed=True))
    try:
        paths = [tmp_path / f"m{i:03d}.xml" for i in range(80)]
        for i, p in enumerate(paths):
            p.write_bytes(_message("gazetteer", i, rate=0.1))
        session = Session(reg, jobs=2)
        got = [_rows(done) if done is not None else _rows(session.check(s)) for s, done in session.ahead(paths)]
        assert got == [_rows(Session(reg, jobs=1).check(p)) for p in paths]
        assert str(reg.get(GAZ).ref) == GAZ  # the connection still answers
    finally:
        reg.close()


def test_without_fork_every_document_is_checked_in_order(registry: Registry, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _batch(tmp_path)[:60]
    monkeypatch.setattr(forking, "FORKS", False)  # as on Windows or macOS
    forked: list[int] = []
    monkeypatch.setattr(ahead_module._Worker, "__init__", lambda *_a: forked.append(1))
    spread = Validator.for_version(registry, GAZ, jobs=2)
    alone = Validator.for_version(registry, GAZ, jobs=1)
    assert [_rows(r) for r in spread.check_many(paths)] == [_rows(r) for r in alone.check_many(paths)]
    assert forked == []


def test_a_caller_with_threads_gets_no_workers(registry: Registry, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    paths = _batch(tmp_path)[:60]
    forked: list[int] = []
    monkeypatch.setattr(ahead_module._Worker, "__init__", lambda *_a: forked.append(1))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # a server's thread, say
    other.start()
    try:
        spread = Validator.for_version(registry, GAZ, jobs=2)
        got = [_rows(r) for r in spread.check_many(paths)]
    finally:
        stop.set()
        other.join()
    assert got == [_rows(r) for r in Validator.for_version(registry, GAZ, jobs=1).check_many(paths)]
    assert forked == []
