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
C), and past 131,072 of them packs them as 8-byte integers (8 to 16 bytes
a key instead of some 70): those that ascend into a sorted array, tested in
C, the rest into an open-addressing table (:class:`CompactSeen`); any other
key goes to an ordinary set.  All of it is exact.  This is the one thing
here that grows with the file.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

_EMPTY = -1
_MAX_INT = 2**63 - 1
_MIX = 0x9E3779B97F4A7C15

# What a range saw for the first time, per (check index, scope): its numeric keys packed as
# 8-byte integers (cheap to send), and the others.
Fresh = dict[tuple[int, str], tuple[bytes, list[str]]]


class CompactSeen:
    """An exact set of strings, compact for canonical decimal numbers.

    Numbers are held first in an ordinary set (every batch test and addition in C).
    When it holds :data:`RECENT` of them, and then every ``RECENT >> 4`` more, they
    are packed as 8-byte integers.  An export's record ids mostly ascend: those above
    every number packed so far are appended to a sorted run (:class:`SortedRun`, 8
    bytes a key; a batch above the run's end is cleared by one comparison in C), and
    the few that are not (a repeated or mistyped id) are set aside in a small set.
    When the numbers do not ascend, or too many stray, they all go to an
    open-addressing table instead (13 to 27 bytes a key, probed in Python), cut in
    :data:`SEGMENTS` parts that grow one at a time, so that a growth never holds the
    whole table twice.  A file of up to 131,072 keys never leaves the first set.

    Keys asked about as text (the rules of a document checked in this process) are
    first kept as they are written, in a set of strings, until a number has to be
    held as an integer: when :data:`RECENT` keys are held, or numbers come from a
    worker (:meth:`add_new`).  Only then are they read as numbers or not.  A set of
    fewer keys is never read at all: reading every batch (a test of the whole batch,
    then a conversion of each key) cost more than the set itself.  Where more keys
    are expected (:meth:`expect_many`), each batch is read as it comes: reading many
    kept as written costs more than reading them as they come."""

    def __init__(self, as_written: bool = True) -> None:
        # keys asked about as text may be kept as written (see expect_many)
        self._as_written = as_written
        self._run = SortedRun()
        self._segments: list[array[int]] = []  # made on first use: most checks of a message never need them
        self._held = [0] * SEGMENTS  # numbers in each segment
        self._ints = 0  # in the table
        self._recent: set[int] = set()
        self._limit = RECENT  # recent numbers held before they are packed
        self._rising = True  # the run still takes numbers
        self._strays: set[int] = set()  # the few packed numbers that do not fit the run
        self._top = -1  # the greatest number of the last batch add_new took
        self._late = 0  # numbers added since the last packing in batches not above the one before
        self._others: set[str] = set()
        # keys as written, not yet read as numbers or not: held only while no number is
        # held as an integer (see _written); none of them is in _others.  Also listed in the
        # order they came: record ids mostly ascend, and sorting them once read is then a
        # pass, where the set's order would make it a full sort
        self._texts: set[str] = set()
        self._came: list[str] = []

    def __len__(self) -> int:
        return (len(self._run) + len(self._strays) + self._ints + len(self._recent) + len(self._others)
                + len(self._texts))

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        if key in self._texts:
            return True
        number = _as_number(key)
        if number is None:
            return key in self._others
        return number in self._recent or self._packed(number)

    def add(self, key: str) -> bool:
        """Remember *key*; True when it had been added before."""
        if self._written():
            if key in self._texts or key in self._others:
                return True
            self._texts.add(key)
            self._came.append(key)
            self.settle()
            return False
        number = _as_number(key)
        if number is None:
            if key in self._others:
                return True
            self._others.add(key)
            return False
        if number in self._recent or self._packed(number):
            return True
        self._recent.add(number)
        self.settle()
        return False

    def add_all(self, keys: list[str]) -> list[int]:
        """:meth:`add` each of *keys* in turn; the positions of those added before (earlier
        in *keys*, or before the call).  The held numbers are looked for a batch at a time
        (the rules of a document checked with one job ask about every record's key)."""
        if self._written():
            return self._add_written(keys)
        numbers: list[int] | list[int | None]
        if _all_numbers(keys):  # the usual keys, record ids: tested at once, then each read
            numbers = list(map(int, keys))
            ints = set(numbers)
            others: list[str] = []
        else:
            numbers = [_as_number(key) for key in keys]
            ints = {n for n in numbers if n is not None}
            others = [key for key, n in zip(keys, numbers, strict=True) if n is None]
        held = self._held_of(ints)
        held_others = self._others.intersection(others) if others and self._others else set()
        out: list[int] = []
        if held or held_others or len(ints) + len(set(others)) != len(keys):
            fresh_ints: set[int] = set()
            fresh_others: set[str] = set()
            for i, (key, n) in enumerate(zip(keys, numbers, strict=True)):
                if n is None:
                    if key in held_others or key in fresh_others:
                        out.append(i)
                    else:
                        fresh_others.add(key)
                elif n in held or n in fresh_ints:
                    out.append(i)
                else:
                    fresh_ints.add(n)
            ints, others = fresh_ints, list(fresh_others)
        self._recent |= ints
        self._others.update(others)
        self.settle()
        return out

    def _written(self) -> bool:
        """Whether keys are kept as written: they may be, and no number is held as an
        integer yet."""
        return self._as_written and not (self._recent or self._run or self._strays or self._ints)

    def expect_many(self) -> None:
        """Read keys as numbers from now on: more than :data:`RECENT` are expected, so they
        will be read anyway, and reading each batch as it comes is cheaper than reading
        many kept as written (their strings no longer in the processor's cache)."""
        self._as_written = False
        if self._texts:
            self._hold_texts()
            self.settle()

    def _add_written(self, keys: list[str]) -> list[int]:
        """:meth:`add_all` while keys are kept as written: tested and added as strings."""
        texts, others = self._texts, self._others
        out: list[int] = []
        distinct = set(keys)
        if len(distinct) == len(keys) and texts.isdisjoint(distinct) and others.isdisjoint(distinct):
            texts |= distinct  # the usual batch: every key new
            self._came += keys
        else:
            for i, key in enumerate(keys):
                if key in texts or key in others:
                    out.append(i)
                else:
                    texts.add(key)
                    self._came.append(key)
        self.settle()
        return out

    def _read_texts(self) -> list[int]:
        """Read the keys kept as written: the others join the other keys, and the numbers
        are returned (none of them is held yet)."""
        texts, self._came, self._texts = self._came, [], set()
        numbers: list[int] = []
        for at in range(0, len(texts), _READ):  # (tested a slice at a time: one test of them
            part = texts[at:at + _READ]  # all reads a long string a third as fast)
            if _all_numbers(part):
                numbers += map(int, part)
                continue
            for key in part:
                number = _as_number(key)
                if number is None:
                    self._others.add(key)
                else:
                    numbers.append(number)
        return numbers

    def _hold_texts(self) -> None:
        """Read the keys kept as written, and hold their numbers with the recent ones."""
        self._recent.update(self._read_texts())

    def _held_of(self, numbers: set[int]) -> set[int]:
        """Those of *numbers* held already."""
        if not numbers:
            return set()
        held = numbers & self._recent
        if self._strays:
            held |= numbers & self._strays
        if self._run and self._run.meets(numbers, min(numbers), max(numbers)):
            held.update(n for n in numbers if n in self._run)
        if self._ints:
            held.update(n for n in numbers if self._in_table(n))
        return held

    def add_new(self, numbers: array[int], others: list[str]) -> set[int] | None:
        """Add keys that are new to their range (*numbers* already converted); when one of
        them is here already, add nothing and return None.  Else the numbers added (to
        take back with :meth:`take_back`); :meth:`settle` after the last of a batch."""
        if self._texts:
            self._hold_texts()  # (numbers are held as integers from now on)
        batch = set(numbers)
        if len(batch) != len(numbers) or not self._recent.isdisjoint(batch) or not self._strays.isdisjoint(batch):
            return None
        rising = self._rising and batch
        if rising:
            low, high = min(batch), max(batch)
            if self._run and self._run.meets(batch, low, high):
                return None
        if self._ints and any(self._in_table(n) for n in batch):
            return None
        if not self._others.isdisjoint(others) or len(set(others)) != len(others):
            return None
        if rising:  # how the batches come: each above the one before, or not
            if low <= self._top:
                self._late += len(batch)
            self._top = high
        self._recent |= batch
        self._others.update(others)
        return batch

    def take_back(self, numbers: set[int], others: list[str]) -> None:
        """Undo an :meth:`add_new` (before :meth:`settle`)."""
        self._recent -= numbers
        self._others.difference_update(others)

    def settle(self) -> None:
        """Pack the recent numbers once there are enough of them."""
        recent: set[int] | list[int]
        if self._texts and len(self._texts) >= self._limit:
            # (no number is held as an integer yet: those read are packed as they are)
            recent = self._read_texts()
            if len(recent) < self._limit:
                self._recent.update(recent)
                return
        elif len(self._recent) < self._limit:
            return
        else:
            recent, self._recent = self._recent, set()
        self._limit = max(1, RECENT >> 4)  # from now on: pack often, the set stays small
        late, self._late = self._late, 0
        if self._rising:
            run = self._run
            if late * 2 <= len(recent):  # most batches came above the one before them
                ordered = sorted(recent)
                cut = bisect_right(ordered, run.last)
                if cut * 2 <= len(ordered):
                    above = ordered[cut:]
                    keep = _bulk(above)
                    run.extend(above[:keep])
                    # below the run's end, or far above the rest (a mistyped id): aside
                    self._stray(ordered[:cut] + above[keep:])
                    return
            # most fall below the run's end: the keys do not ascend, and testing batches
            # against the run would cost a binary search a key.  The table takes all.
            self._rising = False
            self._run = SortedRun()
            self._store(run, len(run))
            self._stray(())
        self._store(recent, len(recent))

    def _stray(self, numbers: Iterable[int]) -> None:
        """Numbers the run cannot take: an ordinary set while they are few, else the table."""
        strays = self._strays
        strays.update(numbers)
        if strays and (not self._rising or self._ints or len(strays) > max(1, RECENT >> 3)):
            self._strays = set()
            self._store(strays, len(strays))

    def _store(self, numbers: Iterable[int], count: int) -> None:
        """Put *count* numbers that are held nowhere yet into the table."""
        self._reserve(count)
        segments, held = self._segments, self._held
        for number in numbers:
            mixed = number * _MIX
            segment = (mixed >> 58) & _SEGMENT_MASK
            table = segments[segment]
            mask = len(table) - 1
            slot = (mixed >> 17) & mask
            while table[slot] != _EMPTY:
                slot = (slot + 1) & mask
            table[slot] = number
            held[segment] += 1
            if held[segment] * 10 > len(table) * 6:  # keep the load under 0.6
                self._resize(segment, len(table) * 2)

    def _packed(self, number: int) -> bool:
        return number in self._run or number in self._strays or self._in_table(number)

    def _in_table(self, number: int) -> bool:
        if not self._ints:
            return False
        mixed = number * _MIX
        table = self._segments[(mixed >> 58) & _SEGMENT_MASK]
        mask = len(table) - 1
        slot = (mixed >> 17) & mask
        while True:
            held = table[slot]
            if held == _EMPTY:
                return False
            if held == number:
                return True
            slot = (slot + 1) & mask

    def _reserve(self, count: int) -> None:
        """Grow the segments at once for *count* more numbers (one rehash, not several)."""
        self._ints += count  # none of them is held yet
        if not self._segments:
            self._segments = [array("q", [_EMPTY]) * 8 for _ in range(SEGMENTS)]
        share = count // SEGMENTS
        for segment, held in enumerate(self._held):
            size = len(self._segments[segment])
            while (held + share) * 10 > size * 6:
                size *= 2
            if size > len(self._segments[segment]):
                self._resize(segment, size)

    def _resize(self, segment: int, size: int) -> None:
        old = self._segments[segment]
        table = self._segments[segment] = array("q", [_EMPTY]) * size
        mask = size - 1
        for number in old:
            if number != _EMPTY:
                slot = (number * _MIX >> 17) & mask
                while table[slot] != _EMPTY:
                    slot = (slot + 1) & mask
                table[slot] = number


def _bulk(ordered: list[int]) -> int:
    """How many of *ordered* (ascending) to append to a run: all but those far above the
    rest (beyond the middle 80% of them by twice its spread), which would lift the run's
    end above the numbers still to come."""
    n = len(ordered)
    if n < 16:
        return n
    low, high = ordered[n // 10], ordered[n - 1 - n // 10]
    return bisect_right(ordered, high + 2 * (high - low) + 16)


class SortedRun:
    """Ascending 8-byte integers, appended in order, kept in chunks of :data:`CHUNK`.

    A chunk is allocated whole and never resized: one array grown by ``realloc`` would
    be copied as it grows and leave holes in the C heap that stay resident."""

    def __init__(self) -> None:
        self.chunks: list[array[int]] = []
        self.firsts: list[int] = []  # the first number of each chunk
        self.fill = 0  # numbers in the last chunk
        self.last = -1  # the greatest number; -1 when empty

    def __len__(self) -> int:
        return (len(self.chunks) - 1) * CHUNK + self.fill if self.chunks else 0

    def __iter__(self) -> Iterator[int]:
        for c, chunk in enumerate(self.chunks):
            yield from chunk[: self._end(c)]

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int) or number > self.last:
            return False
        c = bisect_right(self.firsts, number) - 1
        if c < 0:
            return False
        chunk, end = self.chunks[c], self._end(c)
        i = bisect_left(chunk, number, 0, end)
        return i < end and chunk[i] == number

    def extend(self, numbers: list[int]) -> None:
        """Append *numbers*, ascending and all above :attr:`last`."""
        at = 0
        while at < len(numbers):
            if not self.chunks or self.fill == CHUNK:
                self.chunks.append(array("q", [0]) * CHUNK)
                self.firsts.append(numbers[at])
                self.fill = 0
            take = min(CHUNK - self.fill, len(numbers) - at)
            self.chunks[-1][self.fill:self.fill + take] = array("q", numbers[at:at + take])
            self.fill += take
            at += take
        if numbers:
            self.last = numbers[-1]

    def meets(self, batch: set[int], low: int, high: int) -> bool:
        """Whether a number of *batch* (its least *low*, its greatest *high*) is here."""
        if low > self.last or high < self.firsts[0]:
            return False  # the common case: the batch is above all that was packed
        c = max(0, bisect_right(self.firsts, low) - 1)
        if c == bisect_right(self.firsts, high) - 1:  # one chunk spans low..high
            chunk, end = self.chunks[c], self._end(c)
            i = bisect_left(chunk, low, 0, end)
            j = bisect_right(chunk, high, i, end)
            if j - i <= 8 * len(batch):  # few numbers between: one test in C
                return not batch.isdisjoint(chunk[i:j])
        # a few numbers out of order: a binary search for each of them
        return any(n in self for n in batch if n <= self.last)

    def _end(self, c: int) -> int:
        return self.fill if c == len(self.chunks) - 1 else CHUNK


RECENT = 1 << 17  # numbers held in an ordinary set before the first packing
_READ = 1024  # keys kept as written, read as numbers a slice at a time
SEGMENTS = 16  # parts of the table, each growing on its own
CHUNK = 1 << 16  # numbers in a chunk of a sorted run (512 KB)
_SEGMENT_MASK = SEGMENTS - 1


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

    def __init__(self) -> None:
        self.sets: dict[tuple[int, str], CompactSeen] = {}
        self.as_written = True  # keys may be kept as written (see expect)

    def expect(self, records: int) -> None:
        """The document is expected to hold about *records* records: past :data:`RECENT`,
        its keys are read as numbers as they come (see :meth:`CompactSeen.expect_many`)."""
        if records > RECENT and self.as_written:
            self.as_written = False
            for bucket in self.sets.values():
                bucket.expect_many()

    def seen(self, check: int, scope: str, key: str) -> bool:
        return self._bucket((check, scope)).add(key)

    def seen_all(self, check: int, scope: str, keys: list[str]) -> list[int]:
        return self._bucket((check, scope)).add_all(keys)

    def _bucket(self, key: tuple[int, str]) -> CompactSeen:
        """The set of one check and scope, made when first asked for."""
        bucket = self.sets.get(key)
        if bucket is None:
            bucket = self.sets[key] = CompactSeen(self.as_written)
        return bucket

    def merge_checks(self, fresh: Fresh) -> frozenset[int]:
        """Add what a range saw first, check by check; return the checks one of whose values
        had been seen in an earlier range.  The range's answers to those were wrong, and of
        them nothing is added: their tests are evaluated again against this book, which adds
        their values as it answers.  The other checks' answers were right (a check's sets are
        its own), and their values are added."""
        added: list[tuple[int, CompactSeen, set[int], list[str]]] = []
        wrong: set[int] = set()
        for key, (packed, others) in fresh.items():
            if key[0] in wrong:
                continue
            bucket = self._bucket(key)
            numbers = array("q")
            numbers.frombytes(packed)
            got = bucket.add_new(numbers, others)
            if got is None:
                wrong.add(key[0])
            else:
                added.append((key[0], bucket, got, others))
        for check, bucket, got, others in added:
            if check in wrong:  # (another of its scopes was wrong)
                bucket.take_back(got, others)
        for check, bucket, _got, _others in added:
            if check not in wrong:
                bucket.settle()
        return frozenset(wrong)


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
                # (an array is made faster from a list than from an iterator)
                out[key] = (array("q", list(map(int, values))).tobytes(), [])
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


# what _as_number takes, values joined by NUL: ASCII digits, no leading zero, at most 18 of
# them (compiled on first use: re keeps it)
_NUMBERS = "(?:[1-9][0-9]{0,17}|0)(?:\x00(?:[1-9][0-9]{0,17}|0))*"


def prepare_patterns() -> None:
    """Compile now what a range's record of values needs (re keeps it), for processes about
    to be forked from this one."""
    re.compile(_NUMBERS)


def _all_numbers(values: set[str] | list[str]) -> bool:
    """Whether :func:`_as_number` takes every value (tested on them all at once, in C)."""
    if not values:
        return True
    joined = "\x00".join(values)
    # (a value holding the separator itself would be read as two)
    return re.fullmatch(_NUMBERS, joined) is not None and joined.count("\x00") == len(values) - 1
