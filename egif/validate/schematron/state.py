"""Cross-record state of the business rules: what ``seen()`` remembers.

``egif:seen(scope, value)`` is true when the same assertion already saw
*value* under *scope* at an earlier context in the document.  Each assertion
keeps its own sets, so two assertions never disturb each other, and within an
assertion contexts are taken in document order: the answer does not depend
on how the document was cut.

A collection is checked range by range in several processes, and only the
parent sees every range.  A worker answers ``seen()`` from what it saw in its
own range (:class:`RangeBook`) and sends the values it saw; the parent holds
the document's sets (:class:`DocumentBook`).  A worker's answer can only be
wrong one way -- "not seen" for a value an earlier range held -- so when none
of a range's values is in the document's sets yet, every answer was right and
they are added; otherwise the parent evaluates that range's rules again with
:class:`DocumentBook` as the oracle (a duplicate across ranges, rare in an
export worth checking).

Keys are mostly numbers (UPRNs, record ids), kept as 8-byte integers in an
open-addressing table; any other key goes to an ordinary set.  Both are
exact.  Memory is the one thing here that grows with the file: about 16
bytes per numeric key.
"""

from __future__ import annotations

from array import array

_EMPTY = -1
_MAX_INT = 2**63 - 1
_MIX = 0x9E3779B97F4A7C15

# What a range saw for the first time, per (check index, scope): its numeric keys packed as
# 8-byte integers (cheap to send), and the others.
Fresh = dict[tuple[int, str], tuple[bytes, list[str]]]


class CompactSeen:
    """An exact set of strings, compact for canonical decimal numbers."""

    def __init__(self, capacity: int = 8) -> None:
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
        slot = (number * _MIX >> 17) & mask
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

    def add_new(self, numbers: array[int], others: list[str]) -> bool:
        """Add keys that are new to their range (*numbers* already converted); when one of
        them is here already, undo the additions of this call and return False."""
        added: list[int] = []
        table, mask = self._table, self._mask
        for number in numbers:
            slot = (number * _MIX >> 17) & mask
            held = table[slot]
            while held != _EMPTY and held != number:
                slot = (slot + 1) & mask
                held = table[slot]
            if held == number:
                for n in added:
                    self._discard_int(n)
                return False
            table[slot] = number
            added.append(number)
            self._ints += 1
            if self._ints * 10 > len(table) * 6:  # keep the load under 0.6
                self._grow()
                table, mask = self._table, self._mask
        if not self._others.isdisjoint(others) or len(set(others)) != len(others):
            for n in added:
                self._discard_int(n)
            return False
        self._others.update(others)
        return True

    def _add_int(self, number: int) -> bool:
        table, mask = self._table, self._mask
        slot = (number * _MIX >> 17) & mask
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

    def _discard_int(self, number: int) -> None:
        """Remove *number* (linear probing: shift the rest of its cluster back)."""
        table, mask = self._table, self._mask
        slot = (number * _MIX >> 17) & mask
        while table[slot] != number:
            if table[slot] == _EMPTY:
                return
            slot = (slot + 1) & mask
        table[slot] = _EMPTY
        self._ints -= 1
        nxt = (slot + 1) & mask
        while table[nxt] != _EMPTY:
            held = table[nxt]
            table[nxt] = _EMPTY
            self._ints -= 1
            self._add_int(held)
            nxt = (nxt + 1) & mask

    def _grow(self) -> None:
        old = self._table
        table = self._table = array("q", [_EMPTY]) * (len(old) * 2)
        mask = self._mask = len(table) - 1
        for number in old:
            if number != _EMPTY:
                slot = (number * _MIX >> 17) & mask
                while table[slot] != _EMPTY:
                    slot = (slot + 1) & mask
                table[slot] = number


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

    def __init__(self, capacity: int = 8) -> None:
        self.sets: dict[tuple[int, str], CompactSeen] = {}
        self.capacity = capacity  # of each new set: big for a big file, saving regrowth

    def seen(self, check: int, scope: str, key: str) -> bool:
        bucket = self.sets.get((check, scope))
        if bucket is None:
            bucket = self.sets[(check, scope)] = CompactSeen(self.capacity)
        return bucket.add(key)

    def merge(self, fresh: Fresh) -> bool:
        """Add what a range saw first; False, adding nothing, when one of its values was
        seen in an earlier range (the range's answers are then wrong)."""
        done: list[tuple[CompactSeen, array[int], list[str]]] = []
        for key, (packed, others) in fresh.items():
            bucket = self.sets.get(key)
            if bucket is None:
                bucket = self.sets[key] = CompactSeen(self.capacity)
            numbers = array("q")
            numbers.frombytes(packed)
            if not bucket.add_new(numbers, others):
                for b, n, o in done:
                    for number in n:
                        b._discard_int(number)
                    b._others.difference_update(o)
                return False
            done.append((bucket, numbers, others))
        return True


class RangeBook(Book):
    """A worker's answers from its own range alone."""

    def __init__(self) -> None:
        self.sets: dict[tuple[int, str], set[str]] = {}

    def seen(self, check: int, scope: str, key: str) -> bool:
        bucket = self.sets.get((check, scope))
        if bucket is None:
            bucket = self.sets[(check, scope)] = set()
        if key in bucket:
            return True
        bucket.add(key)
        return False

    def fresh(self) -> Fresh:
        """Every value this range saw, split into numbers and the rest, for the parent."""
        out: Fresh = {}
        for key, values in self.sets.items():
            numbers = array("q")
            others: list[str] = []
            for value in values:
                number = _as_number(value)
                if number is None:
                    others.append(value)
                else:
                    numbers.append(number)
            out[key] = (numbers.tobytes(), others)
        return out
