"""The compact set behind seen(): exact, whatever the keys (property tests)."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egif.validate.schematron import state
from egif.validate.schematron.state import CompactSeen, DocumentBook, RangeBook

keys = st.one_of(
    st.integers(min_value=0, max_value=10**13).map(str),
    st.sampled_from(["0", "00", "007", "7", "12", "012", "9223372036854775807", "9223372036854775808"]),
    st.text(max_size=8),
)


@given(st.lists(keys, max_size=300))
@settings(max_examples=200, deadline=None)
def test_behaves_like_a_set(items: list[str]) -> None:
    compact, reference = CompactSeen(capacity=2), set()
    for item in items:
        assert compact.add(item) == (item in reference)
        reference.add(item)
    assert len(compact) == len(reference)


def test_growth_keeps_every_key() -> None:
    compact = CompactSeen(capacity=4)
    numbers = [str(n * 7919 + 1) for n in range(20_000)]
    assert not any(compact.add(n) for n in numbers)
    assert all(compact.add(n) for n in numbers)
    assert not compact.add("0" + numbers[5])  # leading zero: a different key
    assert len(compact) == 20_001


# -- the parent's book: ranges merged, a wrong worker answer caught ------------------------
@given(st.lists(st.lists(keys, max_size=20), max_size=12))
@settings(max_examples=150, deadline=None)
def test_merging_ranges_equals_one_pass(ranges: list[list[str]]) -> None:
    """Workers answer seen() from their own range; the parent's merge accepts a range exactly
    when every answer was right, and then knows what one pass over the document knows."""
    _merging_equals_one_pass(ranges)


@given(st.lists(st.lists(keys, max_size=20), max_size=12))
@settings(max_examples=100, deadline=None)
def test_merging_equals_one_pass_when_numbers_are_packed(ranges: list[list[str]]) -> None:
    saved = state.RECENT
    state.RECENT = 4  # pack into the compact table after every few numbers
    try:
        _merging_equals_one_pass(ranges)
    finally:
        state.RECENT = saved


def _merging_equals_one_pass(ranges: list[list[str]]) -> None:
    one_pass = DocumentBook()
    truth = [[one_pass.seen(0, "s", k.strip()) for k in r] for r in ranges]
    book = DocumentBook()
    for r, expected in zip(ranges, truth, strict=True):
        worker = RangeBook()
        answers = [worker.seen(0, "s", k.strip()) for k in r]
        before = {k for k in (x.strip() for rr in ranges for x in rr) if k in book.sets.get((0, "s"), ())}
        accepted = book.merge(worker.fresh())
        assert accepted == (answers == expected)
        if not accepted:  # nothing of the range was added: the parent evaluates it again
            assert {k for k in (x.strip() for rr in ranges for x in rr)
                    if k in book.sets.get((0, "s"), ())} == before
            for k in r:
                book.seen(0, "s", k.strip())
    final = book.sets.get((0, "s"))
    assert len(final or ()) == len(one_pass.sets.get((0, "s")) or ())


def test_numbers_packed_into_the_table_stay_findable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past RECENT numbers the set is packed into the compact table; batches, take-backs
    and single additions see both."""
    monkeypatch.setattr(state, "RECENT", 16)
    compact = CompactSeen(capacity=2)
    numbers = [n * 2048 + 5 for n in range(40)]  # many collide in a small table
    for n in numbers[:20]:
        assert not compact.add(str(n))
    assert compact._ints >= 16  # packed
    batch = array("q", numbers[20:30])
    added = compact.add_new(batch, ["x"])
    assert added is not None
    compact.take_back(added, ["x"])
    assert not any(str(n) in compact for n in numbers[20:30]) and "x" not in compact
    assert compact.add_new(array("q", [numbers[3], numbers[35]]), []) is None  # 3 is in the table
    assert str(numbers[35]) not in compact
    assert compact.add_new(array("q", numbers[20:40]), []) is not None
    compact.settle()
    assert all(str(n) in compact for n in numbers) and len(compact) == 40
    assert all(compact.add(str(n)) for n in numbers)
