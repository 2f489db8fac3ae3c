"""Property: whatever anyone tries, a version only moves along the transition table,
every accepted action appends exactly one event, and a refused one appends none."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egif import EgifError, Registry
from egif.config import ConfigEditor
from egif.lifecycle import TRANSITIONS, Lifecycle

from .conftest import DATA

REF = "ParkingPermit@1.0"
ACTORS = ("alice", "bob", "carol")  # alice and bob are maintainers
ACTIONS = ("propose", "comment", "approve", "object", "resolve", "close-window", "ratify", "reject",
           "deprecate", "withdraw", "wait")
MOVES = {(t.source.value, t.target.value) for t in TRANSITIONS}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.sampled_from(ACTORS)), min_size=1, max_size=14))
def test_random_sessions_follow_the_table(steps: list[tuple[str, str]]) -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    with tempfile.TemporaryDirectory() as tmp, \
            Registry.init(Path(tmp) / "p.sqlite", seed=False, actor="setup") as reg:
        ConfigEditor(reg, actor="alice").add_maintainer("alice")
        ConfigEditor(reg, actor="alice").add_maintainer("bob")
        reg.add(DATA / "lifecycle" / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0")
        for action, actor in steps:
            if action == "wait":
                now[0] += timedelta(days=15)
                continue
            lc = Lifecycle(reg, actor=actor, clock=lambda: now[0])
            before = reg.get(REF).status.value
            events_before = len(list(reg.events()))
            try:
                if action == "propose":
                    lc.propose(REF)
                elif action == "comment":
                    lc.comment(REF, "a remark")
                elif action == "approve":
                    lc.approve(REF, "ok")
                elif action == "object":
                    lc.object(REF, "not yet")
                elif action == "resolve":
                    open_ = lc.consultation(REF).open_objections()
                    lc.resolve_objection(REF, open_[0].id if open_ else 1, "settled")
                elif action == "close-window":
                    lc.close_window(REF, "enough")
                elif action == "ratify":
                    lc.ratify(REF)
                elif action == "reject":
                    lc.reject(REF, "no")
                elif action == "deprecate":
                    lc.deprecate(REF, reason="old")
                else:
                    lc.withdraw(REF, "gone")
            except EgifError:
                assert reg.get(REF).status.value == before
                assert len(list(reg.events())) == events_before
                continue
            after = reg.get(REF).status.value
            assert after == before or (before, after) in MOVES
            if actor == "carol":  # not a maintainer: only propose and comment can succeed
                assert action in ("propose", "comment")
            new = list(reg.events())[events_before:]
            assert len(new) == 1 and new[0].actor == actor
