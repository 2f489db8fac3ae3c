"""Worker processes, and the parent working beside them.

``jobs=N`` runs N-1 worker processes; the parent checks ranges too, whenever
the next result in file order is not back yet, so all N cores do the same
work and the parent's own bookkeeping fills the gaps.

Where a fork is safe (:func:`egif.validate.forking.fork_safe`: Linux, one
thread) a worker is a fork of the parent made as the document starts: it
inherits the compiled schema and the rules made ready, and shares the
parent's pages until one of them writes to a page (memory is counted
proportionally, so shared pages are not counted twice).  Elsewhere each
worker is a fresh interpreter that loads only lxml and the few egif modules
a worker uses -- the egif package's ``__init__`` (registry, SQLite) is
bypassed with bare package stubs -- and compiles the schema and the rules
from the plan's bytes, about a tenth of a second of a core.  Either way it
answers range after range over two pipes: a 4-byte length and a pickle each
way.  Six tasks are kept queued at each worker, and finished
results are taken in before every step, so a worker never waits for the
parent.  A worker whose parent dies sees the end of its input and exits.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egif.errors import InputError, SchemaCompileError, UnsafeInputError
from egif.validate.forking import fork_safe, fork_worker, reap, stop_worker
from egif.validate.stream.worker import Doc, Plan, RangeResult, Worker, answer, read_message, send_message

if TYPE_CHECKING:  # started processes only: imported when the first worker starts
    import subprocess

Task = tuple[int, int, bool, bytes | None]

_EGIF_DIR = str(Path(__file__).resolve().parent.parent.parent)
_PACKAGES = ("egif", "egif.validate", "egif.validate.stream", "egif.validate.schematron")
BOOT = """
import sys, types
sys.path[:0] = {paths!r}
for name in {packages!r}:
    stub = types.ModuleType(name)
    stub.__path__ = [{egif!r} + name[4:].replace(".", "/")]
    sys.modules[name] = stub
from egif.validate.stream.worker import serve
serve(0, 1)
"""
IN_FLIGHT = 6  # tasks queued at each worker: enough that it never waits for the parent
_ERRORS: dict[str, type[InputError] | type[SchemaCompileError]] = {
    "UnsafeInputError": UnsafeInputError, "SchemaCompileError": SchemaCompileError}


def boot_code() -> str:
    """The program a worker process runs."""
    return BOOT.format(paths=[p for p in sys.path if p], packages=_PACKAGES, egif=_EGIF_DIR)


class _Proc:
    """One worker process: a fork of the parent holding *local*'s schema and rules where
    that is safe, else a fresh interpreter sent *plan* first."""

    def __init__(self, plan: Plan, local: Worker) -> None:
        self.slots: deque[list[Any]] = deque()
        self.plan: Plan | None = None
        self.popen: subprocess.Popen[bytes] | None = None
        self.pid = 0
        if fork_safe():
            self._fork(local)
            return
        import subprocess

        self.popen = subprocess.Popen(
            [sys.executable, "-c", boot_code()], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, close_fds=True)
        assert self.popen.stdin is not None and self.popen.stdout is not None
        self.wfd = self.popen.stdin.fileno()
        self.rfd = self.popen.stdout.fileno()
        self.plan = plan

    def _fork(self, local: Worker) -> None:
        def serve(tasks: int, answers: int) -> None:
            local.forget()
            answer(local, tasks, answers)

        self.pid, self.wfd, self.rfd = fork_worker(serve)

    def send(self, message: Any, label: str) -> None:
        try:
            if self.plan is not None:
                send_message(self.wfd, self.plan)
                self.plan = None
            send_message(self.wfd, message)
        except OSError:
            self._died(label)

    def _died(self, label: str) -> None:
        self.slots.clear()
        code = self._wait()
        raise InputError(f"a validation worker stopped (exit code {code})", file=label) from None

    def receive(self, label: str) -> None:
        """Block for this worker's next result and put it in its oldest slot."""
        try:
            kind, value = read_message(self.rfd)
        except (EOFError, OSError):
            self._died(label)
        if kind != "ok":
            name, message = value
            raise _ERRORS.get(name, InputError)(message, file=label)
        self.slots.popleft()[2] = value

    def close(self) -> None:
        """End the worker.  It holds nothing that needs an orderly exit, and an
        interpreter's shutdown would cost the caller ~15 ms of waiting: it is killed,
        then reaped."""
        if self.popen is None:
            stop_worker(self.pid, self.wfd, self.rfd)
            reap(self.pid)
            return
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        if self.popen.stdout is not None:
            self.popen.stdout.close()

    def _wait(self) -> int:
        """The worker's exit code, once it has ended (a signal's number negated)."""
        return self.popen.wait() if self.popen is not None else reap(self.pid)


class Pool:
    """Ordered map of ranges over the parent's worker and ``jobs - 1`` worker processes."""

    def __init__(self, plan: Plan, jobs: int, local: Worker, label: str) -> None:
        self.local = local
        self.label = label
        self.procs: list[_Proc] = []
        try:
            for _ in range(max(0, jobs - 1)):
                self.procs.append(_Proc(plan, local))
        except OSError:
            # no interpreter to start (an embedded Python, a process limit): the parent
            # does the work of the workers that did not start; the findings are the same
            pass

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self, doc: Doc) -> None:
        """Every worker reads *doc* next."""
        self.local.open(doc)
        for p in self.procs:
            p.send(doc, self.label)

    def close(self) -> None:
        for p in self.procs:
            p.close()
        self.procs = []
        self.local.close()

    def map_ordered(self, tasks: Iterator[Task]) -> Generator[tuple[Task, RangeResult], None, None]:
        """Results in task order.  Stop consuming to abandon the rest (the workers are
        drained of what they already hold, so the pool can be used again)."""
        pending: deque[list[Any]] = deque()  # [task, worker or None, result or None]
        more = True
        limit = 4 * (len(self.procs) + 1) * IN_FLIGHT
        try:
            while True:
                # take in whatever the workers have finished, then top their queues up:
                # a worker must never sit idle behind results the parent has not read
                self._collect_ready()
                for p in self.procs:
                    while more and len(p.slots) < IN_FLIGHT:
                        task = next(tasks, None)
                        if task is None:
                            more = False
                            break
                        slot: list[Any] = [task, p, None]
                        p.send(task, self.label)
                        p.slots.append(slot)
                        pending.append(slot)
                if not pending:
                    task = next(tasks, None) if more else None
                    if task is None:
                        return
                    yield task, self.local.check(*task)
                    continue
                head = pending[0]
                if head[2] is not None:
                    pending.popleft()
                    yield head[0], head[2]
                    continue
                # the next result in order is a worker's and not back yet: work meanwhile
                if more and len(pending) < limit:
                    task = next(tasks, None)
                    if task is None:
                        more = False
                    else:
                        pending.append([task, None, self.local.check(*task)])
                        continue
                head[1].receive(self.label)
        finally:
            try:
                for p in self.procs:
                    while p.slots:
                        p.receive(self.label)
            except (InputError, SchemaCompileError):
                self.close()

    def _collect_ready(self) -> None:
        busy = {p.rfd: p for p in self.procs if p.slots}
        if not busy:
            return
        import select

        ready, _, _ = select.select(list(busy), [], [], 0)
        for fd in ready:
            busy[fd].receive(self.label)
