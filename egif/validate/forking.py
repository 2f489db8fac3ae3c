"""Whether a worker process may be a fork of the caller, and what a fork keeps open.

A fork inherits everything the caller has made -- a compiled schema, rules made
ready -- for the price of copying the pages it writes to, where a fresh
interpreter must import and compile it all again (about a tenth of a second).
It is safe on Linux, in a process running one thread: a fork copies only the
thread that made it, with whatever locks the others held.  Windows has no fork,
and macOS's system libraries may not survive one.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Callable

FORKS = sys.platform.startswith("linux") and hasattr(os, "fork")


def fork_safe() -> bool:
    """True when this process may fork a worker now."""
    if not FORKS:
        return False
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def highest_fd() -> int:
    """The highest descriptor this process has open.  Asked by the caller before it forks:
    the fork inherits the same table, and need not make a listing of its own."""
    try:
        return max(int(name) for name in os.listdir("/proc/self/fd"))
    except (OSError, ValueError):  # no /proc: as far as descriptors go in practice
        return 1023


def keep_only(*fds: int, highest: int | None = None) -> None:
    """In a fork: close every descriptor but the standard three and *fds*, so that no pipe,
    file or database the caller holds stays open because a worker has a copy of it.
    *highest*: the caller's :func:`highest_fd`.  The descriptors between are closed a range
    at a time, in C: every object a fork makes lands on a page it shares with the caller,
    which must then be copied (listing them here cost a worker a hundred such pages)."""
    top = highest_fd() if highest is None else highest
    low = 3
    for fd in sorted(fds):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, top + 1)


def fork_worker(serve: Callable[[int, int], None]) -> tuple[int, int, int]:
    """Fork a worker that runs ``serve(tasks, answers)`` on its ends of two new pipes, then
    exits (it never returns into the caller's code); the caller gets the worker's pid, the
    end it writes tasks to and the end it reads answers from.

    In the worker only those two ends stay open (when the caller goes, the worker reads the
    end of its tasks), Ctrl-C is ignored (the caller stops its workers), and what the
    caller made is never collected: the collector would write to every inherited object,
    and each page written to is copied."""
    import signal  # here, as in stop_worker and reap: its enums cost every start-up of egif a millisecond

    tasks_r, tasks_w = os.pipe()
    answers_r, answers_w = os.pipe()
    highest = highest_fd()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            keep_only(tasks_r, answers_w, highest=highest)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            gc.freeze()
            serve(tasks_r, answers_w)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(tasks_r)
    os.close(answers_w)
    return pid, tasks_w, answers_r


def stop_worker(pid: int, *fds: int) -> None:
    """Close the caller's ends of a forked worker's pipes and kill it: it holds nothing that
    needs an orderly end.  Reap it with :func:`reap` (stopping several first lets the system
    take them down side by side)."""
    import signal

    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)


def reap(pid: int) -> int:
    """Wait for a worker that has ended or been stopped; its exit code (a signal's number
    negated; -SIGKILL when it was reaped already)."""
    import signal

    try:
        _pid, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return -signal.SIGKILL
    return os.waitstatus_to_exitcode(status)
