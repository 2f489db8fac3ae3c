"""Cross-record state of the business rules: what ``seen()`` remembers.

``egif:seen(scope, value)`` is true when the same assertion already saw
*value* under *scope* at an earlier context in the document.  Each assertion
keeps its own sets, so two assertions never disturb each other, and within an
assertion contexts are taken in document order: the answer does not depend
on how the document was cut.

A collection is checked range by range in several processes, and only the
parent sees every range.  A worker answers ``seen()`` from what it saw in its
own range (:class:`RangeBook`) and logs every call; the parent holds the
document's sets (:class:`DocumentBook`) and replays the log.  A worker's
answer can only be wrong one way -- "not seen" for a value an earlier range
held -- and the first call of a log that is wrong in that way is where the
worker's evaluation left the true one: the parent then evaluates that range's
rules again with :class:`DocumentBook` as the oracle (a duplicate across
ranges, rare in an export worth checking).

Keys are mostly numbers (UPRNs, record ids), kept as 8-byte integers in an
open-addressing table; any other key goes to an ordinary set.  Both are
exact.  Memory is the one thing here that grows with the file: about 16
bytes per numeric key.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable

_EMPTY = -1
_MAX_INT = 2**63 - 1

Call = tuple[int, str, str]  # (check index, scope, key)


class CompactSeen:
    """An exact set of strings, compact for canonical decimal numbers."""

    def __init__(self, capacity: int = 1024) -> None:
        size = 1
        while size < capacity * 2:
            size *= 2
        self._table = array("q", [_EMPTY]) * size
        self._mask = size - 1
        self._ints = 0
        self._others: set[str] = set()

    def __len__(self) -> int:
        return self._ints + len(self._others)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        number = _as_number(key)
        if number is None:
            return key in self._others
        table, mask = self._table, self._mask
        slot = (number * 0x9E3779B97F4A7C15 >> 17) & mask
        while True:
            held = table[slot]
            if held == _EMPTY:
                return False
            if held == number:
                return True
            slot = (slot + 1) & mask

    def add(self, key: str) -> bool:
        """Remember *key*; True when it had been added before."""
        number = _as_number(key)
        if number is None:
            if key in self._others:
                return True
            self._others.add(key)
            return False
        return self._add_int(number)

    def _add_int(self, number: int) -> bool:
        table, mask = self._table, self._mask
        slot = (number * 0x9E3779B97F4A7C15 >> 17) & mask
        while True:
            held = table[slot]
            if held == _EMPTY:
                break
            if held == number:
                return True
            slot = (slot + 1) & mask
        table[slot] = number
        self._ints += 1
        if self._ints * 10 > len(table) * 6:  # keep the load under 0.6
            self._grow()
        return False

    def _grow(self) -> None:
        old = self._table
        self._table = array("q", [_EMPTY]) * (len(old) * 2)
        self._mask = len(self._table) - 1
        self._ints = 0
        for number in old:
            if number != _EMPTY:
                self._add_int(number)


def _as_number(key: str) -> int | None:
    """The key as a non-negative integer if written as one, canonically ("0012" is not)."""
    if not key.isascii() or not key.isdigit() or (len(key) > 1 and key[0] == "0") or len(key) > 18:
        return None
    value = int(key)
    return value if value <= _MAX_INT else None


class Book:
    """Answers ``seen()`` calls."""

    def seen(self, check: int, scope: str, key: str) -> bool:
        raise NotImplementedError


class DocumentBook(Book):
    """The document's sets: exact answers, calls taken in document order."""

    def __init__(self) -> None:
        self.sets: dict[tuple[int, str], CompactSeen] = {}

    def seen(self, check: int, scope: str, key: str) -> bool:
        bucket = self.sets.get((check, scope))
        if bucket is None:
            bucket = self.sets[(check, scope)] = CompactSeen()
        return bucket.add(key)

    def agrees(self, calls: Iterable[Call]) -> bool:
        """True when a range's logged calls got the answers these sets would have given
        (the range's values are not yet added)."""
        for check, scope, key in calls:
            bucket = self.sets.get((check, scope))
            if bucket is not None and key in bucket:
                return False
        return True

    def take(self, calls: Iterable[Call]) -> None:
        """Add the values of a range whose answers agreed."""
        for check, scope, key in calls:
            self.seen(check, scope, key)


class RangeBook(Book):
    """A worker's answers from its own range alone, with the log of every call."""

    def __init__(self) -> None:
        self.sets: dict[tuple[int, str], set[str]] = {}
        self.calls: list[Call] = []

    def seen(self, check: int, scope: str, key: str) -> bool:
        self.calls.append((check, scope, key))
        bucket = self.sets.get((check, scope))
        if bucket is None:
            bucket = self.sets[(check, scope)] = set()
        if key in bucket:
            return True
        bucket.add(key)
        return False
