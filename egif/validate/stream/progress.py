"""What a long validation tells while it runs, apart from the engine that runs it.

:class:`Progress` and :func:`reading` are all a validator needs to start, so that checking
a small document does not import the streaming engine and its worker pool (imported when a
document first needs them).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from egif.record import record

PIECE_BYTES = 128 * 1024  # the size of the ranges a collection is cut into, by default


@record(frozen=False)
class Progress:
    """Where a run stands; passed to the progress callback now and then."""

    records: int
    bytes_done: int
    bytes_total: int
    errors: int
    seconds: float
    stage: str = "validating"  # or "reading" (a source copied to a temporary file first)

    def __init__(self, records: int, bytes_done: int, bytes_total: int, errors: int, seconds: float,
                 stage: str = "validating") -> None:
        self.records = records
        self.bytes_done = bytes_done
        self.bytes_total = bytes_total
        self.errors = errors
        self.seconds = seconds
        self.stage = stage


def reading(progress: Callable[[Progress], None] | None) -> Callable[[int, int], None] | None:
    """A callback for copying a source (bytes read, bytes in all) that reports to *progress*."""
    if progress is None:
        return None
    report = progress
    started = time.monotonic()

    def tell(done: int, total: int) -> None:
        report(Progress(0, done, total, 0, time.monotonic() - started, stage="reading"))

    return tell
