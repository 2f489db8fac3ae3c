"""Many small documents checked ahead, on every core.

A batch of small messages (``egif validate messages/``, :meth:`Validator.check_many`)
is mostly parsing, validating and running rules, document after document.
:class:`Ahead` hands the paths coming next to worker processes, which check them
with the same validator code on the same kind of input -- the document read whole
into memory -- while the caller takes the results in order.  With *jobs* cores there
are *jobs* - 1 workers: the caller is the last.  Whenever it would wait for the answer
to the document it has reached, it checks the documents next in line to be sent
itself, with the workers' code, one at a time until an answer is in.  (Two workers
beside a caller that mostly waits cost more: a forked worker runs a fifth slower than
the process it was forked from, for the pages it must copy and the caches it finds
cold, and three processes take turns on two cores: 1,000 small messages with rules
ran at 0.76x the speed of a plain lxml loop that way, at 0.86x with the caller checking,
side by side in benchmarks/bench_validate.py --small-only.)  Whatever a worker cannot
settle with certainty (a big file, which the caller's engine cuts over every core
itself; a source that is no path; a root it has no validator for; a root that
belongs to another version; anything that raised) is left to the caller, which
checks it on the ordinary path and says exactly what is wrong.  So every result is
the one the caller would have found itself, in the same order.

The workers are forks of the caller, made once the caller has checked a first
document -- or, for a batch that ends within the look-ahead, only once the documents
the caller has checked itself show that checking the rest at that pace would take it
long enough to pay for forking (:data:`FORK_WORTH`).  They inherit its compiled
validators (no schema is compiled again) and a table of which validator each kind of
root goes to.  They never touch the registry (its connection belongs to the caller),
report no progress and start no processes of their own.  When the caller has learnt new
roots and the workers keep meeting them, the workers are forked again.  A chunk of paths goes over a pipe, its
answers come back over another (a length, then a pickle, as the engine's workers
speak); while the caller waits for the answer it has reached, it takes in whatever the
other workers have answered and sends them more, so none sits idle behind the order of
the results.  A worker that dies leaves its documents to the caller.  A worker ignores
Ctrl-C: the caller stops them.  A caller running several threads gets no workers: a
fork would copy one thread of many, and whatever locks the others hold.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from egif.validate import forking
from egif.validate.core.detect import RootInfo, root_info
from egif.validate.core.result import DocumentResult
from egif.validate.core.sources import Source, label_of, open_input, small_input, small_plain_file, sniff_root
from egif.validate.core.validator import parse_small, parse_small_data

if TYPE_CHECKING:
    from egif.model import Finding
    from egif.validate.core.validator import Validator

S = TypeVar("S", bound=Source)
RootKey = tuple[str, str | None]  # the root's Clark name and its version attribute
# documents per message: enough that passing it costs little beside checking them (each
# message wakes the caller and a worker; 32 a message against 16 took a batch of 1,000 small
# messages from 0.79x to 0.84x of a plain lxml loop, and changed nothing at 150 or fewer)
CHUNK = 32
IN_FLIGHT = 2  # chunks queued at each worker: it never waits for the caller, and a pipe never fills
MIN_AHEAD = 32  # fewer path documents waiting than this: not worth starting workers
# A batch that ends within the look-ahead gets workers only when checking what is left of it
# would take the caller at least this long (seconds), at the pace of the last two documents
# it checked itself (the faster of them) -- looked at again after each one, so a batch whose
# later documents are bigger gets workers when it reaches them (the first document is left
# out: it makes what the validator needs for its kind).  Forking a worker costs 5 to
# 15 ms on a 2-core machine: the fork itself, and then every memory page the worker
# and the caller write to after it is copied (a thousand or so a worker, some 4 to 14 us
# each here); on two cores the worker saves at most half of what is left.  Measured by
# benchmarks/bench_validate.py --small-only (batches of other lengths).
FORK_WORTH = 0.04
RELEARN = 16  # roots the workers did not know, since they were forked, before forking again
MAX_FORKS = 8

DONE, OTHER, UNKNOWN = 0, 1, 2
# what a worker says of a document: the kind of answer, the root (a RootInfo as a plain tuple:
# a named tuple costs more to pickle), and when done, the result without what the caller
# knows already (the label, the schema): (findings, records, truncated)
Found = tuple[list["Finding"], int | None, bool]
Answer = tuple[int, tuple[Any, ...] | None, Found | None]
Done = tuple["Validator", RootInfo, "DocumentResult"]  # a document checked ahead: validator, root, result

# What a forked worker inherits: set by the caller just before it forks.
_TABLE: dict[RootKey, Validator] = {}
_LEAN: Any = None  # the parser _answer reads with, made once a process (see _as_worker)
_SENT: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # a worker's roots, as first sent
_SENT_MAX = 1024


def key_of(info: RootInfo) -> RootKey:
    """What decides a document's validator, as far as its root goes."""
    return info.tag, info.version


def _answer(path: str, table: dict[RootKey, Validator] | None = None) -> Answer:
    """What a worker says of the document at *path*, with the validators of *table* (by
    default the table it inherited)."""
    if table is None:
        table = _TABLE
    try:
        quick, faulty, data = _clean_message(path, table)
        if quick is not None:
            return quick
        # a finding in bytes already read: the full path takes the same bytes, not the file
        # read again (it may have changed since; and a read costs a fifth of a clean message)
        with small_input(data, path) if faulty is not None and data is not None else open_input(path, path) as doc:
            if doc.path is not None:  # a big file: the caller's engine cuts it over every core
                return OTHER, None, None
            parsed = None if faulty is not None else parse_small(doc, _LEAN)
            info = faulty or root_info(parsed if parsed is not None else sniff_root(doc))
            validator = table.get(key_of(info))
            if validator is None:
                return UNKNOWN, _fields(info), None
            if validator.own is not None and info.tag not in validator.own:
                return OTHER, None, None  # the caller says whose root it is
            result = validator.result_of(doc, info, None, parsed, faulty=faulty is not None)
            return DONE, _fields(info), (result.findings, result.records, result.truncated)
    except Exception:
        return OTHER, None, None


def _fields(info: RootInfo) -> tuple[Any, ...]:
    """*info* as the plain tuple an answer carries: the same object for the same root, so
    that a chunk's answers carry it once (pickle refers back to an object it has written)."""
    fields = tuple(info)
    return _SENT.setdefault(fields, fields) if len(_SENT) < _SENT_MAX else fields


def _clean_message(path: str, table: dict[RootKey, Validator] | None = None,
                   ) -> tuple[Answer | None, RootInfo | None, bytes | None]:
    """The answer for a small plain file without a single finding, on the shortest path
    (no input object, no result built); or None, the root of a document this found a finding
    in (the ordinary path then need not look for one on one parse again) and the bytes it was
    read as; or None three times: :func:`_answer` takes the ordinary path.  The same answer
    either way."""
    data = small_plain_file(path)
    if data is None or b"<!DOCTYPE" in data:  # a DOCTYPE: the ordinary path checks it, and says why
        return None, None, None
    root = parse_small_data(data, _LEAN, path)
    if root is None:
        return None, None, None
    info = root_info(root)
    validator = (_TABLE if table is None else table).get(key_of(info))
    if validator is None or not validator.may_be_clean(info):
        return None, None, None
    if not validator.clean_small(data, info, root):
        return None, info, data
    return (DONE, _fields(info), ([], validator.records, False)), None, None


@contextlib.contextmanager
def _as_worker(validators: Iterable[Validator]) -> Iterator[None]:
    """Check documents as a worker does: with the lean parser :func:`_answer` reads with
    (made once a process), and *validators* reporting no progress and starting no processes
    of their own (in a worker they are its copies; in the caller they are as they were
    afterwards)."""
    global _LEAN
    if _LEAN is None:
        from egif.xmlsafe import make_parser

        _LEAN = make_parser(remove_blank_text=True)
    distinct = list({id(v): v for v in validators}.values())
    saved = [(v.progress, v.jobs) for v in distinct]
    try:
        for v in distinct:
            v.progress, v.jobs = None, 1
        yield
    finally:
        for v, (progress, jobs) in zip(distinct, saved, strict=True):
            v.progress, v.jobs = progress, jobs


def _serve(rfd: int, wfd: int) -> None:
    """A worker's life: chunks of paths in, their answers out, until the caller closes."""
    from egif.validate.stream.worker import read_message, send_message

    with _as_worker(_TABLE.values()):
        while True:
            try:
                paths = read_message(rfd)
            except EOFError:
                return
            send_message(wfd, [_answer(p) for p in paths])


class _Worker:
    """One forked worker and its two pipes."""

    def __init__(self) -> None:
        # the pipes' wire format, imported here before the fork (not in _serve): the worker
        # inherits it, pickle included, instead of importing it after each fork
        from egif.validate.stream.worker import read_message, send_message

        self._send, self._read = send_message, read_message
        self.pid, self.wfd, self.rfd = forking.fork_worker(_serve)
        self.pending: deque[list[_Entry[Any]]] = deque()  # chunks sent, answers not read yet
        self.alive = True

    def send(self, chunk: list[_Entry[Any]]) -> None:
        try:
            self._send(self.wfd, [os.fspath(e.source) for e in chunk])
        except OSError:
            self.alive = False
            return
        for e in chunk:
            e.worker = self
        self.pending.append(chunk)

    def receive(self) -> list[_Entry[Any]]:
        """Read the answers of the oldest chunk sent (all None when the worker has died)."""
        chunk = self.pending.popleft()
        try:
            answers = self._read(self.rfd) if self.alive else None
        except (EOFError, OSError):
            answers = None
        if answers is None:
            self.alive = False
            answers = [None] * len(chunk)
        for e, a in zip(chunk, answers, strict=True):
            e.answer = a
            e.worker = None
        return chunk

    def stop(self) -> None:
        forking.stop_worker(self.pid, self.wfd, self.rfd)

    def reap(self) -> None:
        forking.reap(self.pid)


class _Entry(Generic[S]):
    __slots__ = ("answer", "source", "worker")

    def __init__(self, source: S) -> None:
        self.source = source
        self.worker: _Worker | None = None  # sent to this worker, answer not read yet
        self.answer: Answer | None = None


class Ahead:
    """Answers for the documents coming next, computed on worker processes.

    *jobs*: the processes that check documents, the caller included (*jobs* - 1 workers;
    1: none, every document is checked by the caller on the ordinary path);
    *table*: which validator each root goes to, filled by the caller (:meth:`learn`)
    once it has checked a document with that root on the ordinary path, so that the
    validator has made everything it needs before the workers inherit it."""

    def __init__(self, jobs: int, table: dict[RootKey, Validator] | None = None) -> None:
        self.jobs = jobs if forking.FORKS else 1
        self.table: dict[RootKey, Validator] = table if table is not None else {}
        self._workers: list[_Worker] = []
        self._old: list[_Worker] = []  # forked before the last fork
        self._forked_keys: set[RootKey] = set()  # the roots the workers know
        self._unknown = 0  # roots the workers did not know since then
        self._forks = 0
        # the roots answers name, each made once, and their validators
        self._roots: dict[tuple[Any, ...], tuple[RootInfo, Validator]] = {}
        self._changed = True  # since the last send: sources taken or answers read
        self._routes = 0  # the roots in *table* at the last send (a session fills it itself)
        self._taken: deque[_Entry[Any]] = deque()  # the sources taken ahead, not yet given back
        self._own = 0  # documents the caller has checked itself before any worker was forked
        self._last: float | None = None  # seconds the last of them took (the first left out)
        self._pace: float | None = None  # the faster of the last two

    def learn(self, info: RootInfo, validator: Validator) -> None:
        """Documents with this root go to *validator*."""
        self.table.setdefault(key_of(info), validator)

    def run(self, sources: Iterable[S]) -> Generator[tuple[S, Done | None], None, None]:
        """Each source in order, with its answer from a worker -- the validator, the root
        and the result -- or None: check it on the ordinary path."""
        window: deque[_Entry[S]] = deque()
        self._taken = window
        waiting: deque[_Entry[S]] = deque()  # path sources not sent yet
        it = iter(sources)
        exhausted = False
        ahead = self._window()
        # the window is topped up a chunk at a time, and a send is tried only when something
        # has changed: sources taken, answers read, a root learnt (each look costs the caller
        # time the workers could use)
        low = ahead - CHUNK if ahead > CHUNK else ahead - 1
        try:
            while True:
                if not exhausted and len(window) <= low:
                    self._changed = True
                    while len(window) < ahead:  # look ahead
                        try:
                            entry = _Entry(next(it))
                        except StopIteration:
                            exhausted = True
                            break
                        window.append(entry)
                        if _is_path(entry.source):
                            waiting.append(entry)
                if self._changed or len(self.table) != self._routes:
                    self._changed = False
                    self._routes = len(self.table)
                    self._send(waiting, exhausted)
                if not window:
                    return
                entry = window.popleft()
                if waiting and waiting[0] is entry:  # the caller gets there first
                    waiting.popleft()
                while entry.worker is not None:
                    if waiting and not self._answered():
                        self._check_here(entry, waiting)
                    if entry.worker is not None:
                        self._receive_any(entry, waiting, exhausted)
                done = self._done(entry)
                if done is None and not self._workers and self.jobs > 1:
                    started = time.perf_counter()
                    yield entry.source, None
                    self._timed(time.perf_counter() - started)
                else:
                    yield entry.source, done
        finally:
            self.close()

    def _timed(self, seconds: float) -> None:
        """The caller took *seconds* over a document it checked itself, no worker forked yet.
        The first is left out: it makes what the validator needs for its kind.  The pace is
        the faster of the last two: one slow document (a faulty message, a pause) is no pace."""
        self._own += 1
        if self._own < 2:
            return
        if self._last is not None:
            self._pace = min(self._last, seconds)
            self._changed = True  # (whether to fork is looked at again)
        self._last = seconds

    def _worth(self, waiting: int, exhausted: bool) -> bool:
        """Whether forking workers for *waiting* documents is worth it: always when more lie
        beyond the look-ahead, else when checking them at the caller's pace would take
        :data:`FORK_WORTH` or more."""
        if not exhausted or FORK_WORTH <= 0:
            return True
        return self._pace is not None and self._pace * waiting >= FORK_WORTH

    def _busy(self) -> dict[int, _Worker]:
        """The live workers with answers to come, by the descriptor they answer on."""
        return {w.rfd: w for w in (*self._workers, *self._old) if w.alive and w.pending}

    def _answered(self) -> bool:
        """Whether some worker has answers waiting to be read (or has died): a look, no wait."""
        import select

        poll = select.poll()
        for fd in self._busy():
            poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))

    def _check_here(self, head: _Entry[Any], waiting: deque[_Entry[Any]]) -> None:
        """While no answer is in, the caller checks the documents next in line to be sent,
        one at a time, with the workers' own code (:func:`_answer`), until one is: a core
        the caller would spend waiting does what a worker would (see :meth:`_ready`).  The
        validators report no progress meanwhile (a document here is not the one the caller
        is at) and cut no document over processes of their own, as in a worker."""
        with _as_worker(self.table.values()):
            while waiting and head.worker is not None:
                entry = waiting.popleft()
                entry.answer = _answer(os.fspath(entry.source), self.table)
                self._changed = True  # (one fewer to send)
                if self._answered():
                    return

    def _receive_any(self, head: _Entry[Any], waiting: deque[_Entry[Any]], exhausted: bool) -> None:
        """Take in the next answers of *head*'s worker or of any other worker that has some
        ready, and send more to whichever has room: while the caller waits for the document
        it has reached, a worker that has answered what it was sent is not left idle until
        the caller reaches its documents in order (at the end of a batch, one worker would
        otherwise sit out the other's queue)."""
        import select

        worker = head.worker
        assert worker is not None
        busy = self._busy()
        busy.pop(worker.rfd, None)
        if not busy:
            self._receive(worker, head, waiting)
            return
        busy[worker.rfd] = worker
        poll = select.poll()  # (not select(): a descriptor may be above 1023)
        for fd in busy:
            poll.register(fd, select.POLLIN)
        for fd, _event in poll.poll():  # readable, or the worker gone (its answers are then None)
            self._receive(busy[fd], head, waiting)
        self._send(waiting, exhausted)

    def _receive(self, worker: _Worker, head: _Entry[Any], waiting: deque[_Entry[Any]]) -> None:
        """Take in *worker*'s next answers.  A root it did not know, which the workers forked
        since know, is sent again (ahead of the waiting ones: it comes before them)."""
        self._changed = True  # the worker has room again
        again = []
        for e in worker.receive():
            if e.answer is None or e.answer[0] != UNKNOWN or e.answer[1] is None:
                continue
            self._unknown += 1
            if e is not head and key_of(RootInfo(*e.answer[1])) in self._forked_keys:
                e.answer = None
                again.append(e)
        waiting.extendleft(reversed(again))

    def _done(self, entry: _Entry[Any]) -> Done | None:
        if entry.answer is None:
            return None
        kind, fields, found = entry.answer
        if kind != DONE or fields is None or found is None:
            return None
        known = self._roots.get(fields)
        if known is None:
            info = RootInfo(*fields)
            validator = self.table.get(key_of(info))
            if validator is None:
                return None
            # (a root's validator never changes once learnt)
            known = self._roots[fields] = (info, validator)
        info, validator = known
        findings, records, truncated = found
        return validator, info, DocumentResult(label_of(entry.source), validator.label, findings, records, truncated)

    def _window(self) -> int:
        """How many sources are taken from the caller's iterable ahead of the one it is at:
        none without workers (a generator of opened files is not drawn on early)."""
        return 1 if self.jobs <= 1 else max(MIN_AHEAD, self.jobs * CHUNK * (IN_FLIGHT + 1))

    def _send(self, waiting: deque[_Entry[Any]], exhausted: bool) -> None:
        """Send the waiting path sources to the workers, a chunk at a time, to whichever
        has the fewest queued, up to :data:`IN_FLIGHT` each.  Once no source lies beyond
        *waiting*, a chunk is a share of what is left, down to a quarter of :data:`CHUNK`:
        the last chunks are small, and no worker is left checking a full one alone (a
        batch of 150 to 1,000 messages: 3% to 10% less wall time)."""
        if self.jobs <= 1:
            waiting.clear()
            return
        if not self.table or (len(waiting) < CHUNK and not exhausted):
            return
        if self._workers and all(len(w.pending) >= IN_FLIGHT for w in self._workers) and not self._stale():
            return  # every worker has its fill (the usual case: one look, no list made)
        workers = self._ready(waiting, exhausted)
        while waiting and workers:
            worker = min(workers, key=lambda w: len(w.pending))
            if len(worker.pending) >= IN_FLIGHT:
                return
            size = CHUNK
            if exhausted:  # the batch's end in sight: smaller messages, so that the workers end together
                size = max(CHUNK // 4, min(CHUNK, len(waiting) // (2 * (len(workers) + 1))))
            chunk = [waiting.popleft() for _ in range(min(size, len(waiting)))]
            worker.send(chunk)
            if not worker.alive:
                workers.remove(worker)

    def _stale(self) -> bool:
        """Whether the caller has learnt roots since the workers were forked, and the workers
        keep meeting roots they do not know."""
        return bool(self._workers) and len(self.table) > len(self._forked_keys) and self._unknown >= RELEARN

    def _ready(self, waiting: deque[_Entry[Any]], exhausted: bool = False) -> list[_Worker]:
        """The live workers, forked (again) when that is worth it (*exhausted*: no source
        lies beyond *waiting*)."""
        stale = self._stale()
        live = [w for w in self._workers if w.alive]
        if (self._workers and not stale) or self._forks >= MAX_FORKS:
            return live
        if not self._workers and (len(waiting) < MIN_AHEAD or not self._worth(len(waiting), exhausted)):
            return live
        if not forking.fork_safe():
            return live  # a fork copies one thread of many, and whatever locks the others hold
        global _TABLE
        _TABLE = dict(self.table)
        for validator in {id(v): v for v in _TABLE.values()}.values():
            validator.prepare_forks()
        fresh: list[_Worker] = []
        for _ in range(self.jobs - 1):  # the caller is the last: it checks while it would wait
            fresh.append(_Worker())
        self._old.extend(self._workers)  # they answer what they were sent; closed at the end
        self._workers = fresh
        self._forked_keys = set(self.table)
        self._unknown = 0
        self._forks += 1
        self._again(waiting)
        return list(fresh)

    def _again(self, waiting: deque[_Entry[Any]]) -> None:
        """After a fork: the documents taken ahead that a worker answered it could not check,
        for want of a root the new workers know, wait to be sent again, in their order (else
        the caller would check each of them itself, however early the fork came)."""
        back: set[int] = set()
        for e in self._taken:
            a = e.answer
            if a is not None and a[0] == UNKNOWN and a[1] is not None and key_of(RootInfo(*a[1])) in self._forked_keys:
                e.answer = None
                back.add(id(e))
        if back:
            back.update(id(e) for e in waiting)
            merged = [e for e in self._taken if id(e) in back]
            waiting.clear()
            waiting.extend(merged)

    def close(self) -> None:
        """Stop the workers: all are told at once, then each is waited for (the system
        takes them down side by side)."""
        workers = [*self._workers, *self._old]
        for w in workers:
            w.stop()
        for w in workers:
            w.reap()
        self._workers = []
        self._old = []
        self._taken = deque()  # (the batch's sources are not held past its end)


def _is_path(source: Source) -> bool:
    return isinstance(source, (str, os.PathLike)) and os.fspath(source) != "-"
