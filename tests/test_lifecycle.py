"""The lifecycle library: transition table, guards, consultation, permissions, audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egif import Conflict, InputError, LifecycleError, NotFound, PermissionDenied, Registry, Status
from egif.config import ConfigEditor, load_config
from egif.lifecycle import (
    TRANSITIONS,
    Lifecycle,
    allowed_next,
    find_transition,
    transition_for_action,
)

from .conftest import DATA, Backend

LC = DATA / "lifecycle"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime = START) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


def schema(version: str) -> Path:
    return LC / f"ParkingPermit-v{version.replace('.', '-')}.xsd"


@pytest.fixture
def clock() -> Clock:
    return Clock()


_BACKEND: list[Backend] = []


@pytest.fixture
def reg(backend: Backend) -> Iterator[Registry]:
    """An unseeded registry with maintainers alice and bob, window 28 days, 2 approvals.

    Runs on SQLite and on PostgreSQL, where each person is a database role.
    """
    _BACKEND[:] = [backend]
    location = backend.new_location(seed=False)
    r = backend.open(location)
    ConfigEditor(backend.admin(r) if backend.enforced else user(r, "alice")).add_maintainer("alice")
    ConfigEditor(user(r, "alice")).add_maintainer("bob")
    yield r


def user(reg: Registry, actor: str) -> Registry:
    """*reg* acting as *actor* (in PostgreSQL, a connection as that role)."""
    return _BACKEND[0].as_user(reg, actor)


def as_(reg: Registry, actor: str, clock: Clock) -> Lifecycle:
    return Lifecycle(user(reg, actor), clock=clock)


def add(reg: Registry, version: str) -> None:
    user(reg, "carol").add(schema(version), name="ParkingPermit", version=version)


def ratified(reg: Registry, version: str, clock: Clock) -> None:
    """Take a fresh version all the way to ratified, the proper way."""
    add(reg, version)
    as_(reg, "carol", clock).propose(f"ParkingPermit@{version}")
    as_(reg, "alice", clock).approve(f"ParkingPermit@{version}", "fine")
    as_(reg, "bob", clock).approve(f"ParkingPermit@{version}")
    clock.advance(days=29)
    as_(reg, "alice", clock).ratify(f"ParkingPermit@{version}")


# -- the table ----------------------------------------------------------------
def test_table_is_the_documented_process() -> None:
    assert allowed_next(Status.DRAFT) == [Status.CANDIDATE]
    assert allowed_next(Status.CANDIDATE) == [Status.RATIFIED, Status.REJECTED]
    assert allowed_next(Status.RATIFIED) == [Status.DEPRECATED]
    assert allowed_next(Status.DEPRECATED) == [Status.WITHDRAWN]
    assert allowed_next(Status.WITHDRAWN) == []
    assert allowed_next(Status.REJECTED) == []
    assert [t.action for t in TRANSITIONS if not t.maintainers_only] == ["propose"]
    assert transition_for_action("ratify").target == Status.RATIFIED
    with pytest.raises(InputError, match="unknown lifecycle action"):
        transition_for_action("promote")


@given(st.sampled_from(list(Status)), st.sampled_from(list(Status)))
def test_only_table_moves_are_allowed(source: Status, target: Status) -> None:
    in_table = any(t.source == source and t.target == target for t in TRANSITIONS)
    if in_table:
        assert find_transition(source, target).target == target
        return
    with pytest.raises(LifecycleError) as info:
        find_transition(source, target)
    message = str(info.value)
    nxt = allowed_next(source)
    if nxt:
        for status in nxt:
            assert status.value in message.split("allowed next:")[1]
    else:
        assert "is final" in message


# -- the whole process ----------------------------------------------------------
def test_draft_to_ratified_with_window_and_approvals(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    carol, alice, bob = (as_(reg, n, clock) for n in ("carol", "alice", "bob"))
    proposed = carol.propose("ParkingPermit@1.0", comment="please review")
    assert proposed.version.status == Status.CANDIDATE
    assert proposed.details["opens_at"] == "2026-03-01T09:00:00+00:00"
    assert proposed.details["closes_at"] == "2026-03-29T09:00:00+00:00"

    carol.comment("ParkingPermit@1.0", "zone letters too?")
    with pytest.raises(LifecycleError) as refused:
        alice.ratify("ParkingPermit@1.0")
    assert "window is open until 2026-03-29T09:00:00+00:00" in str(refused.value)
    assert "0 of 2 approvals" in str(refused.value)

    alice.approve("ParkingPermit@1.0", "good")
    bob.approve("ParkingPermit@1.0", "agreed")
    clock.advance(days=27, hours=23)
    with pytest.raises(LifecycleError, match="window is open"):
        alice.ratify("ParkingPermit@1.0")
    clock.advance(hours=1)
    done = alice.ratify("ParkingPermit@1.0")
    assert done.version.status == Status.RATIFIED
    assert done.details["approvers"] == ["alice", "bob"]
    assert done.details["digest"] == reg.get("ParkingPermit@1.0").digest

    kinds = [(e.kind, e.actor) for e in Lifecycle(reg).history("ParkingPermit@1.0")]
    assert kinds == [("add", "carol"), ("propose", "carol"), ("comment", "carol"),
                     ("approve", "alice"), ("approve", "bob"), ("ratify", "alice")]
    ratify_event = Lifecycle(reg).history("ParkingPermit@1.0")[-1]
    assert ratify_event.at == "2026-03-29T09:00:00+00:00"
    assert ratify_event.data["from"] == "candidate" and ratify_event.data["to"] == "ratified"


def test_anything_outside_the_table_is_refused_naming_next_states(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    alice = as_(reg, "alice", clock)
    with pytest.raises(LifecycleError, match=r"is draft: .*allowed next: candidate \(propose\)"):
        alice.ratify("ParkingPermit@1.0")
    with pytest.raises(LifecycleError, match="allowed next: candidate"):
        alice.transition("ParkingPermit@1.0", "deprecated", reason="x")
    with pytest.raises(LifecycleError, match="only candidates"):
        alice.approve("ParkingPermit@1.0")


def test_only_maintainers_decide(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    carol = as_(reg, "carol", clock)
    carol.propose("ParkingPermit@1.0")
    for action in (lambda: carol.approve("ParkingPermit@1.0"),
                   lambda: carol.object("ParkingPermit@1.0", "no"),
                   lambda: carol.close_window("ParkingPermit@1.0", "hurry"),
                   lambda: carol.ratify("ParkingPermit@1.0"),
                   lambda: carol.reject("ParkingPermit@1.0", "no")):
        with pytest.raises(PermissionDenied, match=r"'carol' may not .*maintainers: alice, bob"):
            action()
    # anyone comments; nothing of the refused attempts reached the log
    carol.comment("ParkingPermit@1.0", "I still may comment")
    kinds = [e.kind for e in reg.events(name="ParkingPermit")]
    assert kinds == ["add", "propose", "comment"]
    assert reg.get("ParkingPermit@1.0").status == Status.CANDIDATE


def test_objections_block_until_resolved(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    alice, bob, carol = (as_(reg, n, clock) for n in ("alice", "bob", "carol"))
    carol.propose("ParkingPermit@1.0")
    obj = bob.object("ParkingPermit@1.0", "the number should allow 8 digits").event.id
    alice.approve("ParkingPermit@1.0")
    with pytest.raises(LifecycleError, match=f"open objection \\(#{obj}\\)"):
        bob.approve("ParkingPermit@1.0")
    with pytest.raises(LifecycleError, match="already approved"):
        alice.approve("ParkingPermit@1.0")
    alice.close_window("ParkingPermit@1.0", "urgent for the pilot")
    with pytest.raises(LifecycleError, match=f"open objection #{obj} by bob"):
        alice.ratify("ParkingPermit@1.0")
    with pytest.raises(PermissionDenied):
        carol.resolve_objection("ParkingPermit@1.0", obj, "I disagree with bob")
    with pytest.raises(NotFound, match="no objection #9999"):
        bob.resolve_objection("ParkingPermit@1.0", 9999, "x")
    withdrawn = bob.resolve_objection("ParkingPermit@1.0", obj, "six digits are enough after all")
    assert withdrawn.details["how"] == "withdrawn"
    with pytest.raises(LifecycleError, match="already resolved by bob"):
        alice.resolve_objection("ParkingPermit@1.0", obj, "again")
    second = alice.object("ParkingPermit@1.0", "typo in docs").event.id
    resolved = bob.resolve_objection("ParkingPermit@1.0", second, "fixed in the docs")
    assert resolved.details["how"] == "resolved"
    bob.approve("ParkingPermit@1.0")
    consultation = Lifecycle(reg, clock=clock).consultation("ParkingPermit@1.0")
    assert [(o.id, o.open, o.resolved_by) for o in consultation.objections] == [
        (obj, False, "bob"), (second, False, "bob")]
    assert alice.ratify("ParkingPermit@1.0").details["closed_early"]["actor"] == "alice"


def test_close_window_early_is_recorded_once(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    alice = as_(reg, "alice", clock)
    as_(reg, "carol", clock).propose("ParkingPermit@1.0")
    with pytest.raises(InputError, match="reason is required"):
        alice.close_window("ParkingPermit@1.0", "  ")
    alice.close_window("ParkingPermit@1.0", "no comments expected")
    with pytest.raises(LifecycleError, match="already closed"):
        alice.close_window("ParkingPermit@1.0", "again")
    clock.advance(days=1)
    late = as_(reg, "dave", clock).comment("ParkingPermit@1.0", "too late?")
    assert late.details["late"] is True


def test_approvals_count_only_current_maintainers(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    as_(reg, "carol", clock).propose("ParkingPermit@1.0")
    as_(reg, "alice", clock).approve("ParkingPermit@1.0")
    as_(reg, "bob", clock).approve("ParkingPermit@1.0")
    ConfigEditor(user(reg, "alice")).add_maintainer("erin")
    ConfigEditor(user(reg, "alice")).remove_maintainer("bob")
    clock.advance(days=30)
    with pytest.raises(LifecycleError, match=r"1 of 2 approvals from distinct maintainers \(alice\)"):
        as_(reg, "alice", clock).ratify("ParkingPermit@1.0")
    as_(reg, "erin", clock).approve("ParkingPermit@1.0")
    assert as_(reg, "erin", clock).ratify("ParkingPermit@1.0").details["approvers"] == ["alice", "erin"]


def test_reject_needs_a_reason_and_is_final(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    as_(reg, "carol", clock).propose("ParkingPermit@1.0")
    alice = as_(reg, "alice", clock)
    with pytest.raises(InputError, match="reason is required"):
        alice.reject("ParkingPermit@1.0", "")
    alice.reject("ParkingPermit@1.0", "superseded by the national scheme")
    assert reg.get("ParkingPermit@1.0").status == Status.REJECTED
    with pytest.raises(LifecycleError, match="rejected is final"):
        alice.transition("ParkingPermit@1.0", Status.CANDIDATE)


def test_deprecate_then_withdraw(reg: Registry, clock: Clock) -> None:
    ratified(reg, "1.0", clock)
    alice = as_(reg, "alice", clock)
    with pytest.raises(InputError, match="needs a successor version or a reason"):
        alice.deprecate("ParkingPermit@1.0")
    with pytest.raises(NotFound):
        alice.deprecate("ParkingPermit@1.0", successor="2.0")
    add(reg, "2.0")
    with pytest.raises(LifecycleError, match=r"successor ParkingPermit@2\.0 is draft"):
        alice.deprecate("ParkingPermit@1.0", successor="2.0")
    as_(reg, "carol", clock).propose("ParkingPermit@2.0")
    as_(reg, "alice", clock).approve("ParkingPermit@2.0")
    as_(reg, "bob", clock).approve("ParkingPermit@2.0")
    clock.advance(days=28)
    ratify_2 = alice.ratify("ParkingPermit@2.0")
    assert "major version 1 -> 2" in ratify_2.details["compatibility"]["note"]
    with pytest.raises(PermissionDenied):
        as_(reg, "carol", clock).deprecate("ParkingPermit@1.0", successor="2.0")
    dep = alice.deprecate("ParkingPermit@1.0", successor="ParkingPermit@2.0")
    assert dep.version.status == Status.DEPRECATED and dep.version.successor == "2.0"
    with pytest.raises(LifecycleError, match="allowed next: withdrawn"):
        alice.transition("ParkingPermit@1.0", "ratified")
    alice.withdraw("ParkingPermit@1.0", "no council uses it any more")
    assert reg.get("ParkingPermit@1.0").status == Status.WITHDRAWN
    with pytest.raises(LifecycleError, match="withdrawn is final"):
        alice.deprecate("ParkingPermit@1.0", reason="x")
    assert Lifecycle(reg).newest("ParkingPermit", "ratified").version == "2.0"
    assert Lifecycle(reg).newest("ParkingPermit", Status.WITHDRAWN).version == "1.0"
    with pytest.raises(NotFound):
        Lifecycle(reg).newest("ParkingPermit", "candidate")


# -- guards -------------------------------------------------------------------
def test_compatibility_with_the_newest_earlier_ratified(reg: Registry, clock: Clock) -> None:
    ratified(reg, "1.0", clock)
    ratified(reg, "1.1", clock)  # adds an optional element: backward compatible
    ratify_11 = Lifecycle(reg).history("ParkingPermit@1.1")[-1].data["compatibility"]
    assert ratify_11["against"] == "ParkingPermit@1.0"
    add(reg, "1.2")  # makes that element required: breaks 1.1 documents
    lc = as_(reg, "alice", clock)
    as_(reg, "carol", clock).propose("ParkingPermit@1.2")
    lc.approve("ParkingPermit@1.2")
    as_(reg, "bob", clock).approve("ParkingPermit@1.2")
    clock.advance(days=28)
    compat = lc.compatibility("ParkingPermit@1.2")
    assert compat.against == "ParkingPermit@1.1"
    assert compat.method == "egif.diff"
    assert ratify_11["verdict"] in ("backward", "full")
    assert not compat.ok and compat.verdict not in ("identical", "backward", "full")
    with pytest.raises(LifecycleError, match=r"egif.diff.*publish it as 2.0 instead"):
        lc.ratify("ParkingPermit@1.2")
    assert reg.get("ParkingPermit@1.2").status == Status.CANDIDATE


def test_propose_refused_when_lint_finds_errors(reg: Registry, clock: Clock) -> None:
    # the 1.0 document says version="1.0": registered as 1.5 it contradicts its registry version
    user(reg, "carol").add(schema("1.0"), name="ParkingPermit", version="1.5")
    with pytest.raises(LifecycleError, match=r"cannot be proposed: lint version-matches-registry"):
        as_(reg, "carol", clock).propose("ParkingPermit@1.5")
    assert reg.get("ParkingPermit@1.5").status == Status.DRAFT
    # a maintainer may switch the rule off for this registry; then the guard passes
    ConfigEditor(user(reg, "alice")).set_lint_rule("version-matches-registry", "off")
    checks = as_(reg, "carol", clock).propose("ParkingPermit@1.5").details["checks"]
    assert checks["lint"]["errors"] == 0


def test_propose_checks_registered_fixtures(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    fx = LC / "fixtures-1.0"
    for path in sorted(fx.rglob("*.xml")):
        reg.attach("ParkingPermit@1.0", "fixture", path.relative_to(fx).as_posix(), path.read_bytes())
    # one fixture filed on the wrong side: the invalid permit claims to be valid
    reg.attach("ParkingPermit@1.0", "fixture", "valid/wrong.xml",
               (fx / "invalid" / "letters-in-number.xml").read_bytes())
    with pytest.raises(LifecycleError, match=r"fixture valid/wrong.xml should be valid but is not"):
        as_(reg, "carol", clock).propose("ParkingPermit@1.0")


def test_propose_passes_fixtures_and_records_the_checks(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    fx = LC / "fixtures-1.0"
    for path in sorted(fx.rglob("*.xml")):
        reg.attach("ParkingPermit@1.0", "fixture", path.relative_to(fx).as_posix(), path.read_bytes())
    done = as_(reg, "carol", clock).propose("ParkingPermit@1.0")
    fixtures = done.details["checks"]["fixtures"]
    assert fixtures["source"] == "attachments" and fixtures["checked"] == 2 and not fixtures["failures"]


def test_shipped_fixtures_validate_as_their_manifests_say(registry: Registry) -> None:
    from egif.lifecycle import fixture_report

    for version in registry.list():
        report = fixture_report(registry, version.ref, registry.resolve(version.ref).lxml_schema())
        assert report.source == "shipped", version.ref
        assert report.checked > 0 and report.ok, (version.ref, report.failures)


# -- queries ------------------------------------------------------------------
def test_pending_and_closing_within(reg: Registry, clock: Clock) -> None:
    add(reg, "1.0")
    add(reg, "1.1")
    as_(reg, "carol", clock).propose("ParkingPermit@1.0")
    clock.advance(days=10)
    as_(reg, "carol", clock).propose("ParkingPermit@1.1")
    clock.advance(days=10)  # 1.0 closes in 8 days, 1.1 in 18
    lc = Lifecycle(reg, clock=clock)
    assert [str(c.ref) for c in lc.pending()] == ["ParkingPermit@1.0", "ParkingPermit@1.1"]
    assert [str(c.ref) for c in lc.closing_within(8)] == ["ParkingPermit@1.0"]
    assert [str(c.ref) for c in lc.closing_within(7.9)] == []
    assert len(lc.closing_within(30)) == 2
    clock.advance(days=9)  # 1.0's window has closed: no longer "closing"
    assert [str(c.ref) for c in lc.closing_within(30)] == ["ParkingPermit@1.1"]
    assert len(lc.pending()) == 2
    with pytest.raises(InputError):
        lc.closing_within(-1)


def test_candidate_added_directly_gets_a_window_from_its_add_time(registry: Registry) -> None:
    # the shipped GazetteerExtract 1.1 is a candidate without a proposal event
    candidates = registry.list(status="candidate")
    assert candidates, "the shipped registry holds a candidate"
    v = candidates[0]
    c = Lifecycle(registry).consultation(v.ref)
    added = datetime.fromisoformat(v.added_at)
    assert datetime.fromisoformat(c.closes_at or "") - added == timedelta(days=28)


# -- configuration ------------------------------------------------------------
def test_config_bootstrap_permissions_and_audit(backend: Backend) -> None:
    r = backend.open(backend.new_location(seed=False))
    assert load_config(r).maintainers == () and load_config(r).approvals_needed == 2
    mallory = ConfigEditor(user_of(backend, r, "mallory"))
    with pytest.raises(PermissionDenied, match="no maintainers yet"):
        mallory.set_window_days(1)
    if backend.enforced:  # PostgreSQL: only the owner role bootstraps
        with pytest.raises(PermissionDenied, match="only the role that owns the registry"):
            mallory.add_maintainer("mallory")
        first = ConfigEditor(backend.admin(r))
        first.add_maintainer("alice")
        bootstrapper = first.actor
    else:
        mallory.add_maintainer("alice")  # anyone bootstraps a self-asserted registry
        bootstrapper = "mallory"
    with pytest.raises(PermissionDenied, match="only maintainers"):
        ConfigEditor(user_of(backend, r, "mallory")).add_maintainer("mallory")
    alice = ConfigEditor(user_of(backend, r, "alice"))
    with pytest.raises(PermissionDenied, match="last maintainer"):
        alice.remove_maintainer("alice")
    with pytest.raises(InputError, match="between 1 and"):
        alice.set_approvals_needed(0)
    with pytest.raises(InputError, match="between 0 and"):
        alice.set_window_days(-1)
    with pytest.raises(InputError, match="unknown lint rule"):
        alice.set_lint_rule("no-such-rule", "off")
    with pytest.raises(InputError, match="setting 'loud'"):
        alice.set_lint_rule("wildcard", "loud")
    alice.set_approvals_needed(3)
    alice.set_window_days(14)
    assert dict(alice.set_lint_rule("wildcard", "error").lint) == {"severity": {"wildcard": "error"}}
    assert dict(alice.set_lint_rule("redefine", "off").lint) == {"disabled": ["redefine"],
                                                                  "severity": {"wildcard": "error"}}
    alice.set_lint_rule("wildcard", "default")
    alice.set_lint_rule("redefine", "default")
    cfg = load_config(r)
    assert (cfg.approvals_needed, cfg.window_days, dict(cfg.lint)) == (3, 14, {})
    events = [(e.actor, e.data["key"], e.data.get("bootstrap", False))
              for e in r.events(kinds=("config",))]
    assert events == [(bootstrapper, "maintainers", True), ("alice", "approvals_needed", False),
                      ("alice", "window_days", False), *[("alice", "lint", False)] * 4]


def user_of(backend: Backend, reg: Registry, actor: str) -> Registry:
    return backend.as_user(reg, actor)


def test_window_length_is_fixed_at_proposal(reg: Registry, clock: Clock) -> None:
    ConfigEditor(user(reg, "alice")).set_window_days(7)
    add(reg, "1.0")
    as_(reg, "carol", clock).propose("ParkingPermit@1.0")
    ConfigEditor(user(reg, "alice")).set_window_days(60)
    c = Lifecycle(reg, clock=clock).consultation("ParkingPermit@1.0")
    assert c.closes_at == "2026-03-08T09:00:00+00:00"


# -- immutability -------------------------------------------------------------
def test_ratified_content_cannot_be_replaced(reg: Registry, clock: Clock, tmp_path: Path) -> None:
    ratified(reg, "1.0", clock)
    changed = tmp_path / "ParkingPermit-v1-0.xsd"
    changed.write_text(schema("1.0").read_text().replace("Six digits.", "6 digits."))
    with pytest.raises(Conflict, match="already registered with different content"):
        reg.add(changed, name="ParkingPermit", version="1.0")
    # the same bytes again are simply "unchanged"
    assert reg.add(schema("1.0"), name="ParkingPermit", version="1.0").created is False
    assert reg.get("ParkingPermit@1.0").status == Status.RATIFIED


def test_audit_log_cannot_be_rewritten(reg: Registry, clock: Clock) -> None:
    """Not even the registry's administrator (in PostgreSQL, the owner role) rewrites the log."""
    import sqlite3

    ratified(reg, "1.0", clock)
    store = _BACKEND[0].admin(reg).store
    with pytest.raises((sqlite3.DatabaseError, PermissionDenied), match="append-only"):
        store.execute("UPDATE events SET actor = 'mallory' WHERE kind = 'ratify'")  # type: ignore[attr-defined]
    with pytest.raises((sqlite3.DatabaseError, PermissionDenied), match="append-only"):
        store.execute("DELETE FROM events")  # type: ignore[attr-defined]
    assert [e.actor for e in reg.events(kinds=("ratify",))] == ["alice"]
