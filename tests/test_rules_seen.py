"""The compact set behind seen(): exact, whatever the keys (property tests)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_discarding_keeps_the_rest_findable() -> None:
    compact = CompactSeen(capacity=2)
    numbers = [n * 2048 + 5 for n in range(40)]  # many collide in a small table
    for n in numbers:
        compact.add(str(n))
    for n in numbers[::3]:
        compact._discard_int(n)
    kept = [n for i, n in enumerate(numbers) if i % 3]
    assert all(str(n) in compact for n in kept)
    assert not any(str(n) in compact for n in numbers[::3])
    assert len(compact) == len(kept)
