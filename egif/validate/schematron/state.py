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

Keys are mostly numbers (UPRNs, record ids).  The parent keeps the numbers of
each check first in an ordinary set (fast: every batch is tested and added in
C), and past 131,072 of them packs them as 8-byte integers into an
open-addressing table (about 16 bytes a key instead of some 70); any other
key goes to an ordinary set.  All of it is exact.  This is the one thing
here that grows with the file.
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
    """An exact set of strings, compact for canonical decimal numbers.

    Numbers are held first in an ordinary set (every batch test and addition in C),
    and moved into an open-addressing table of 8-byte integers when that set holds
    :data:`RECENT` of them: the set costs some 70 bytes a key, the table 16.  So a
    file of up to a few hundred thousand keys never pays for Python probing, and a
    bigger one stays within bounded memory."""

    def __init__(self, capacity: int = 8) -> None:
        size = 1
        while size < min(capacity, RECENT) * 2:
            size *= 2
        self._table = array("q", [_EMPTY]) * size
        self._mask = size - 1
        self._ints = 0  # in the table
        self._recent: set[int] = set()
        self._others: set[str] = set()

    def __len__(self) -> int:
        return self._ints + len(self._recent) + len(self._others)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        number = _as_number(key)
        if number is None:
            return key in self._others
        return number in self._recent or self._in_table(number)

    def add(self, key: str) -> bool:
        """Remember *key*; True when it had been added before."""
        number = _as_number(key)
        if number is None:
            if key in self._others:
                return True
            self._others.add(key)
            return False
        if number in self._recent or self._in_table(number):
            return True
        self._recent.add(number)
        if len(self._recent) >= RECENT:
            self.settle()
        return False

    def add_new(self, numbers: array[int], others: list[str]) -> set[int] | None:
        """Add keys that are new to their range (*numbers* already converted); when one of
        them is here already, add nothing and return None.  Else the numbers added (to
        take back with :meth:`take_back`); :meth:`settle` after the last of a batch."""
        batch = set(numbers)
        if len(batch) != len(numbers) or not self._recent.isdisjoint(batch):
            return None
        if self._ints and any(self._in_table(n) for n in batch):
            return None
        if not self._others.isdisjoint(others) or len(set(others)) != len(others):
            return None
        self._recent |= batch
        self._others.update(others)
        return batch

    def take_back(self, numbers: set[int], others: list[str]) -> None:
        """Undo an :meth:`add_new` (before :meth:`settle`)."""
        self._recent -= numbers
        self._others.difference_update(others)

    def settle(self) -> None:
        """Move the recent numbers into the compact table once there are many."""
        if len(self._recent) < RECENT:
            return
        for number in self._recent:
            self._add_int(number)
        self._recent = set()

    def _in_table(self, number: int) -> bool:
        table, mask = self._table, self._mask
        slot = (number * _MIX >> 17) & mask
        while True:
            held = table[slot]
            if held == _EMPTY:
                return False
            if held == number:
                return True
            slot = (slot + 1) & mask

    def _add_int(self, number: int) -> None:
        table, mask = self._table, self._mask
        slot = (number * _MIX >> 17) & mask
        while True:
            held = table[slot]
            if held == _EMPTY:
                break
            if held == number:
                return
            slot = (slot + 1) & mask
        table[slot] = number
        self._ints += 1
        if self._ints * 10 > len(table) * 6:  # keep the load under 0.6
            self._grow()

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


RECENT = 1 << 17  # numbers held in an ordinary set before they are packed into the table


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

    def seen_all(self, check: int, scope: str, keys: list[str]) -> list[int]:
        """The positions in *keys* that :meth:`seen` answers true for, asked in order."""
        return [i for i, key in enumerate(keys) if self.seen(check, scope, key)]


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
        done: list[tuple[CompactSeen, set[int], list[str]]] = []
        for key, (packed, others) in fresh.items():
            bucket = self.sets.get(key)
            if bucket is None:
                bucket = self.sets[key] = CompactSeen(self.capacity)
            numbers = array("q")
            numbers.frombytes(packed)
            added = bucket.add_new(numbers, others)
            if added is None:
                for b, n, o in done:
                    b.take_back(n, o)
                return False
            done.append((bucket, added, others))
        for bucket, _n, _o in done:
            bucket.settle()
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

    def seen_all(self, check: int, scope: str, keys: list[str]) -> list[int]:
        bucket = self.sets.get((check, scope))
        if bucket is None:
            bucket = self.sets[(check, scope)] = set()
        distinct = set(keys)
        if len(distinct) == len(keys) and bucket.isdisjoint(distinct):  # all new: nothing seen
            bucket |= distinct
            return []
        out = []  # a repeat somewhere: ask one at a time, in order
        for i, key in enumerate(keys):
            if key in bucket:
                out.append(i)
            else:
                bucket.add(key)
        return out

    def fresh(self) -> Fresh:
        """Every value this range saw, split into numbers and the rest, for the parent."""
        out: Fresh = {}
        for key, values in self.sets.items():
            if _all_numbers(values):
                out[key] = (array("q", map(int, values)).tobytes(), [])
                continue
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


def _all_numbers(values: set[str]) -> bool:
    """Whether :func:`_as_number` takes every value (tested on them all at once, in C)."""
    if not values:
        return True
    joined = "\x00".join(values)
    return (joined.isascii() and joined.replace("\x00", "").isdigit() and "\x000" not in "\x00" + joined
            and min(map(len, values)) >= 1 and max(map(len, values)) <= 18)
