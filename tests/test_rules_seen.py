"""The compact set behind seen(): exact, whatever the keys (property tests)."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import example, given, settings
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
    compact, reference = CompactSeen(), set()
    for item in items:
        assert compact.add(item) == (item in reference)
        reference.add(item)
    assert len(compact) == len(reference)


def test_growth_keeps_every_key() -> None:
    compact = CompactSeen()
    numbers = [str(n * 7919 + 1) for n in range(20_000)]
    assert not any(compact.add(n) for n in numbers)
    assert all(compact.add(n) for n in numbers)
    assert not compact.add("0" + numbers[5])  # leading zero: a different key
    assert len(compact) == 20_001


@given(st.sets(st.one_of(keys, st.sampled_from(["", "\x00", "1\x002", "\u0663", "+1", " 1", "1_0", "9" * 18,
                                                 "9" * 19, "1" + "0" * 17, "0" * 18]))))
@settings(max_examples=300, deadline=None)
def test_all_numbers_at_once_is_each_one_read_as_a_number(values: set[str]) -> None:
    """The one-pass test a range's values take before they are sent as 8-byte numbers says
    yes exactly when every value is a number as :func:`state._as_number` reads it."""
    assert state._all_numbers(values) == all(state._as_number(v) is not None for v in values)


# -- the parent's book: ranges merged, a wrong worker answer caught ------------------------
@given(st.lists(st.lists(keys, max_size=20), max_size=12))
@example(ranges=[["1", "\x00"]])  # a value holding the separator _all_numbers joins with
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
        accepted = not book.merge_checks(worker.fresh())
        assert accepted == (answers == expected)
        if not accepted:  # nothing of the range was added: the parent evaluates it again
            assert {k for k in (x.strip() for rr in ranges for x in rr)
                    if k in book.sets.get((0, "s"), ())} == before
            for k in r:
                book.seen(0, "s", k.strip())
    final = book.sets.get((0, "s"))
    assert len(final or ()) == len(one_pass.sets.get((0, "s")) or ())


def _unpacked(bucket: CompactSeen) -> set[str]:
    """The keys a set holds before any is packed: as written, as integers, or neither."""
    return set(bucket._texts) | set(bucket._others) | {str(n) for n in bucket._recent}


_CALLS = st.tuples(st.sampled_from([0, 1, 2]), st.sampled_from(["a", "b"]),
                   st.one_of(st.integers(0, 40).map(str), st.sampled_from(["x", "y", "07"])))


@given(st.lists(st.lists(_CALLS, max_size=15), max_size=8))
@settings(max_examples=200, deadline=None)
def test_checks_are_merged_each_on_its_own(ranges: list[list[tuple[int, str, str]]]) -> None:
    """Three checks asking in two scopes: a range's answers to a check are kept exactly when
    they are one pass's; the checks whose answers were wrong add nothing at the merge (none of
    their scopes), and once asked again in order the book knows what one pass knows."""
    one_pass = DocumentBook()
    truth = [[one_pass.seen(c, sc, k) for c, sc, k in r] for r in ranges]
    book = DocumentBook()
    for r, expected in zip(ranges, truth, strict=True):
        worker = RangeBook()
        answers = [worker.seen(c, sc, k) for c, sc, k in r]
        held = {key: _unpacked(bucket) for key, bucket in book.sets.items()}
        wrong = book.merge_checks(worker.fresh())
        for check in (0, 1, 2):
            mine = [(a, e) for (c, _sc, _k), a, e in zip(r, answers, expected, strict=True) if c == check]
            assert (check in wrong) == any(a != e for a, e in mine)
        for (check, scope), bucket in book.sets.items():
            if check in wrong:  # nothing added to any of its scopes
                now = _unpacked(bucket)
                assert now == held.get((check, scope), set())
        for c, sc, k in r:
            if c in wrong:
                book.seen(c, sc, k)
    for key, bucket in one_pass.sets.items():
        assert len(book.sets[key]) == len(bucket)


def test_numbers_packed_into_the_table_stay_findable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past RECENT numbers the set is packed (into the run or the table); batches,
    take-backs and single additions see every part."""
    monkeypatch.setattr(state, "RECENT", 16)
    compact = CompactSeen()
    numbers = [(n * 7919) % 40 * 2048 + 5 for n in range(40)]  # not ascending: the table
    for n in numbers[:20]:
        assert not compact.add(str(n))
    assert compact._ints >= 16 and not compact._run  # packed into the table
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


def test_ascending_numbers_stay_in_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Record ids that ascend range after range are appended to the sorted run (8 bytes a
    key, batches tested in C); a few out of order, or far above the rest, are set aside
    in a small set, so that they neither lift the run's end nor send the rest to the table."""
    monkeypatch.setattr(state, "RECENT", 1024)  # then packed every 64
    monkeypatch.setattr(state, "CHUNK", 256)  # the run spans several chunks
    compact = CompactSeen()
    base = 100040000000
    for start in range(0, 2000, 50):
        assert compact.add_new(array("q", range(base + start + 49, base + start - 1, -1)), []) is not None
        compact.settle()
    assert len(compact._run) >= 1900 and compact._ints == 0 and len(compact._run.chunks) >= 7
    assert list(compact._run) == sorted(compact._run)
    # a batch reaching back into the run: caught whether it is narrow (a slice of the run is
    # compared) or wide (a binary search per number below the run's end)
    assert compact.add_new(array("q", [base + 5000, base + 1999]), []) is None
    assert compact.add_new(array("q", [base + 10, base + 5000]), []) is None
    assert compact.add_new(array("q", [base - 7, *range(base + 5000, base + 5050)]), []) is not None
    assert compact.add_new(array("q", [*range(base + 5050, base + 5100), base * 10]), []) is not None
    for start in range(5100, 5400, 50):
        assert compact.add_new(array("q", range(base + start, base + start + 50)), []) is not None
        compact.settle()
    assert compact._rising and compact._ints == 0
    assert compact._strays == {base - 7, base * 10}  # aside: the run's end stays below base + 5400
    assert base + 5299 <= compact._run.last < base + 5400
    assert compact.add_new(array("q", [base + 6000, base * 10]), []) is None  # a stray is held
    for n in (base - 7, base * 10, base + 5050, base + 1234, base + 5399):
        assert str(n) in compact
    assert str(base + 2500) not in compact and str(base * 10 + 1) not in compact
    assert len(compact) == 2000 + 400 + 2


def test_numbers_in_one_segment_grow_it_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Numbers that all hash into one segment of the table: that segment grows, the others
    stay small, and every number is still found."""
    monkeypatch.setattr(state, "RECENT", 8)
    numbers = [n for n in range(1, 400_000) if (n * state._MIX >> 58) & state._SEGMENT_MASK == 3][:3000]
    compact = CompactSeen()
    for n in reversed(numbers):  # descending: the table, not the run
        assert not compact.add(str(n))
    sizes = [len(t) for t in compact._segments]
    assert sizes[3] >= 4096 and max(sizes[:3] + sizes[4:]) <= 8
    assert all(str(n) in compact for n in numbers) and str(numbers[-1] + 1) not in compact


orders = st.sampled_from(["ascending", "descending", "shuffled", "mostly ascending"])


@given(st.lists(st.tuples(st.lists(st.integers(0, 3000), max_size=30), st.booleans()), max_size=40),
       orders, st.integers(2, 40))
@settings(max_examples=200, deadline=None)
def test_batches_behave_like_a_set(batches: list[tuple[list[int], bool]], order: str, recent: int) -> None:
    """add_new / take_back / settle against a plain set: a batch is refused exactly when it
    repeats a number or meets one held, a taken-back batch leaves nothing, and membership
    is exact however the numbers come (the run, the table, or a switch between them)."""
    saved = state.RECENT, state.CHUNK
    state.RECENT, state.CHUNK = recent, 16
    try:
        compact, reference = CompactSeen(), set[int]()
        for i, (numbers, undo) in enumerate(batches):
            if order == "ascending" or (order == "mostly ascending" and i % 5):
                numbers = [n + 4000 * i for n in numbers]
            elif order == "descending":
                numbers = [n + 4000 * (60 - i) for n in numbers]
            added = compact.add_new(array("q", numbers), [])
            fresh = len(set(numbers)) == len(numbers) and reference.isdisjoint(numbers)
            assert (added is not None) == fresh
            if added is not None and undo:
                compact.take_back(added, [])
            elif added is not None:
                reference.update(numbers)
            compact.settle()
            assert len(compact) == len(reference)
        probe = {n + 4000 * i for i in range(61) for n in range(0, 3001, 97)} | reference
        assert {n for n in probe if str(n) in compact} == reference
    finally:
        state.RECENT, state.CHUNK = saved


@given(st.lists(keys, max_size=300), st.integers(2, 20))
@settings(max_examples=100, deadline=None)
def test_packed_sets_behave_like_a_set(items: list[str], recent: int) -> None:
    saved = state.RECENT, state.CHUNK
    state.RECENT, state.CHUNK = recent, 8  # packed after a few numbers, into small chunks
    try:
        compact, reference = CompactSeen(), set()
        for item in items:
            assert compact.add(item) == (item in reference)
            reference.add(item)
        assert len(compact) == len(reference)
    finally:
        state.RECENT, state.CHUNK = saved


@given(st.lists(st.lists(keys, max_size=40), max_size=10), st.integers(2, 20), st.booleans())
@settings(max_examples=200, deadline=None)
def test_a_batch_of_keys_is_answered_as_one_at_a_time(batches: list[list[str]], recent: int,
                                                      ascending: bool) -> None:
    """add_all (the parent's book asked about a range's keys at once) answers and remembers
    exactly what add, key after key, would: whether the numbers sit in the recent set, the
    sorted run, the strays or the table."""
    saved = state.RECENT, state.CHUNK
    state.RECENT, state.CHUNK = recent, 8
    try:
        batched, one_by_one = CompactSeen(), CompactSeen()
        for i, batch in enumerate(batches):
            if ascending:  # record ids that mostly rise from batch to batch, as in an export
                batch = [str(int(k) + 10**6 * i) if k.isdigit() and k.isascii() and k[:1] != "0" else k
                         for k in batch]
            expected = [j for j, key in enumerate(batch) if one_by_one.add(key)]
            assert batched.add_all(batch) == expected
            assert len(batched) == len(one_by_one)
        probe = {key for batch in batches for key in batch} | {str(n) for n in range(0, 50)}
        assert {k for k in probe if k in batched} == {k for k in probe if k in one_by_one}
    finally:
        state.RECENT, state.CHUNK = saved


def test_the_documents_book_answers_a_batch_in_order() -> None:
    book = DocumentBook()
    assert book.seen_all(1, "uprn", ["10", "11", "10", "x", "x", "011"]) == [2, 4]
    assert book.seen_all(1, "uprn", ["12", "11", "011"]) == [1, 2]
    assert book.seen_all(2, "uprn", ["11"]) == []  # another check keeps its own sets


_STEPS = st.lists(st.tuples(st.sampled_from(["all", "one", "new"]), st.lists(keys, max_size=12)), max_size=25)


@given(_STEPS, st.integers(2, 40))
@settings(max_examples=300, deadline=None)
def test_keys_kept_as_written_and_numbers_from_workers_make_one_set(steps: list[tuple[str, list[str]]],
                                                                   recent: int) -> None:
    """Keys asked about as text are kept as written until a number must be held as an
    integer; batches of numbers merged from workers may come at any point.  Whichever way
    a key came, the set answers as a plain set of the keys would."""
    saved = state.RECENT, state.CHUNK
    state.RECENT, state.CHUNK = recent, 8
    try:
        compact, reference = CompactSeen(), set[str]()
        for how, batch in steps:
            if how == "all":
                expected = []
                for j, key in enumerate(batch):
                    if key in reference:
                        expected.append(j)
                    reference.add(key)
                assert compact.add_all(batch) == expected
            elif how == "one":
                for key in batch:
                    assert compact.add(key) == (key in reference)
                    reference.add(key)
            else:  # a worker's range: its distinct keys, numbers packed as integers
                distinct = list(dict.fromkeys(batch))
                numbers = [state._as_number(k) for k in distinct]
                ints = array("q", [n for n in numbers if n is not None])
                others = [k for k, n in zip(distinct, numbers, strict=True) if n is None]
                got = compact.add_new(ints, others)
                assert (got is None) == any(k in reference for k in distinct)
                if got is not None:
                    reference.update(distinct)
                compact.settle()
            assert len(compact) == len(reference)
        probe = {key for _how, batch in steps for key in batch} | {str(n) for n in range(50)} | {"07", "x"}
        assert {k for k in probe if k in compact} == {k for k in probe if k in reference}
    finally:
        state.RECENT, state.CHUNK = saved


@given(_STEPS, st.integers(2, 40), st.integers(0, 25))
@settings(max_examples=200, deadline=None)
def test_a_book_told_to_expect_many_keys_answers_the_same(steps: list[tuple[str, list[str]]], recent: int,
                                                          told: int) -> None:
    """Told at any point that many records are coming, the document's book reads its keys
    as numbers from then on (those kept as written first); its answers do not change."""
    saved = state.RECENT, state.CHUNK
    state.RECENT, state.CHUNK = recent, 8
    try:
        book, plain = DocumentBook(), DocumentBook()
        for i, (how, batch) in enumerate(steps):
            if i == told:
                book.expect(recent + 1)
                assert not book.as_written
            scope = "a" if how == "all" else "b"
            assert book.seen_all(0, scope, batch) == plain.seen_all(0, scope, batch)
            for key in batch:
                assert book.seen(1, scope, key) == plain.seen(1, scope, key)
        for key, bucket in plain.sets.items():
            assert len(book.sets[key]) == len(bucket)
            assert all(k in book.sets[key] for _how, batch in steps for k in batch if k in bucket)
    finally:
        state.RECENT, state.CHUNK = saved
