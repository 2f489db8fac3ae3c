"""A compact, exact set for ``seen()``: the one rule state that grows with a file.

Rules such as "at most one approved preferred record per UPRN" remember every
key of a collection.  Kept as a Python ``set`` of strings, that costs about
70 bytes a key (90 MB for the 1.25 million records of a 1 GB gazetteer).
Keys are mostly decimal numbers (UPRNs, USRNs, record ids), so those are
stored as 8-byte integers in an open-addressing table; any other key goes to
an ordinary set.  Both are exact: no key is ever mistaken for another.
"""

from __future__ import annotations

from array import array

_EMPTY = -1
_MAX_INT = 2**63 - 1


class CompactSeen:
    """``add(key)`` returns whether *key* was already there."""

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
    """The key as a non-negative integer if it is written as one, canonically.

    "0012" stays a string: it must not collide with "12".
    """
    if not key.isascii() or not key.isdigit() or (len(key) > 1 and key[0] == "0") or len(key) > 18:
        return None
    value = int(key)
    return value if value <= _MAX_INT else None
