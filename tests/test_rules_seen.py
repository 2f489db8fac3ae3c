"""The compact set behind seen(): exact, whatever the keys (property tests)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from egif.validate.schematron.state import CompactSeen

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
