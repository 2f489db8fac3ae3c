"""The candidate -> ratified process: transitions, guards, consultation, audit.

One table, :data:`TRANSITIONS`, says which status may follow which and who may
make the move.  Everything else here is the guard for a move, the consultation
that runs while a version is a candidate, and the queries over both.

The audit log is the source of truth for a consultation: the ``propose`` event
fixes when the window opens and closes, and every comment, approval,
objection, resolution and early close is an event of its own.  Nothing about a
consultation is kept anywhere that could be rewritten.

"Now" comes from a clock (``Lifecycle(..., clock=...)``) so that callers and
tests can act at a chosen moment instead of waiting for a window to pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from egif import eventlog
from egif.config import Clock, RegistryConfig, load_config, require_maintainer, stamp, utc_now
from egif.errors import EgifError, InputError, LifecycleError, NotFound, SchemaCompileError
from egif.limits import loads_json
from egif.model import Event, Finding, SchemaRef, SchemaVersion, Severity, Status, parse_version
from egif.signing import Signer
from egif.xmlsafe import parse_bytes

if TYPE_CHECKING:
    from egif.registry import Registry


# --------------------------------------------------------------------------
# the transition table
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Transition:
    """One allowed move: ``action`` takes a version from ``source`` to ``target``."""

    action: str
    source: Status
    target: Status
    maintainers_only: bool
    reason_required: bool
    summary: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition("propose", Status.DRAFT, Status.CANDIDATE, False, False,
               "compiles, lints clean and passes its fixtures; opens the consultation window"),
    Transition("ratify", Status.CANDIDATE, Status.RATIFIED, True, False,
               "window closed, enough approvals, no open objection, compatible with the last ratified"),
    Transition("reject", Status.CANDIDATE, Status.REJECTED, True, True,
               "a maintainer turns the candidate down, saying why"),
    Transition("deprecate", Status.RATIFIED, Status.DEPRECATED, True, False,
               "names a successor version or records a reason"),
    Transition("withdraw", Status.DEPRECATED, Status.WITHDRAWN, True, True,
               "final: validation against it is refused unless asked for explicitly"),
)

TRANSITION_ACTIONS = tuple(t.action for t in TRANSITIONS)
# every kind of event this module writes
CONSULTATION_KINDS = ("comment", "approve", "object", "resolve-objection", "close-window")
LIFECYCLE_KINDS = TRANSITION_ACTIONS + CONSULTATION_KINDS
# verdicts of egif.diff that keep every document valid under the old version valid
BACKWARD_VERDICTS = frozenset({"identical", "backward", "full"})
MAX_TEXT = 4000


def allowed_next(status: Status) -> list[Status]:
    """The statuses a version in *status* may move to."""
    return [t.target for t in TRANSITIONS if t.source == status]


def find_transition(source: Status, target: Status) -> Transition:
    """The table entry for ``source -> target``, or a :class:`LifecycleError` naming the options."""
    for t in TRANSITIONS:
        if t.source == source and t.target == target:
            return t
    nxt = allowed_next(source)
    if not nxt:
        options = f"{source.value} is final: no further status changes"
    else:
        options = "allowed next: " + ", ".join(
            f"{t.value} ({_action_for(source, t)})" for t in nxt)
    raise LifecycleError(f"cannot go from {source.value} to {target.value}; {options}")


def transition_for_action(action: str) -> Transition:
    for t in TRANSITIONS:
        if t.action == action:
            return t
    raise InputError(f"unknown lifecycle action {action!r} (one of: {', '.join(TRANSITION_ACTIONS)})")


def _action_for(source: Status, target: Status) -> str:
    return next(t.action for t in TRANSITIONS if t.source == source and t.target == target)


# --------------------------------------------------------------------------
# the decisions people take: the table the command line is built from
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Input:
    """What a decision takes besides the version: a keyword argument of its :class:`Lifecycle` method."""

    name: str
    help: str
    required: bool = False
    positional: bool = False  # given after REF, in order (else an option named after it)
    integer: bool = False
    metavar: str = "TEXT"
    short: str | None = None  # a one-letter alias of the option, e.g. "-m"


@dataclass(frozen=True)
class Action:
    """One decision: its name, the versions it applies to, what it takes and what it does.

    ``method`` names the :class:`Lifecycle` method that takes it (:meth:`Lifecycle.act`
    calls it with the ``inputs`` as keyword arguments); ``signed``: a maintainer's
    decision, signed once the maintainers have keys.  A status move names its row of
    :data:`TRANSITIONS` (``move``), which says where it goes from and to.
    """

    name: str
    method: str
    summary: str
    details: str = ""
    inputs: tuple[Input, ...] = ()
    signed: bool = True
    move: Transition | None = None
    on: tuple[Status, ...] = ()  # the statuses a consultation step applies to (() = any)

    @property
    def sources(self) -> tuple[Status, ...]:
        """The statuses a version must be in for this decision (``()``: any)."""
        return (self.move.source,) if self.move is not None else self.on

    @property
    def help(self) -> str:
        return self.summary + (f"\n\n{self.details}" if self.details else "")


def _reason(required: bool) -> Input:
    return Input("reason", "Why (required)." if required else "Why (recorded in the log).",
                 required=required, short="-m")


def _moving(action: str, summary: str, *, details: str = "", inputs: tuple[Input, ...] | None = None) -> Action:
    step = transition_for_action(action)
    return Action(action, action, summary, details,
                  (_reason(step.reason_required),) if inputs is None else inputs,
                  signed=step.maintainers_only, move=step)


ACTIONS: tuple[Action, ...] = (
    _moving("propose", "Make draft REF a candidate and open its consultation window.",
            details="Refused unless it compiles, the linter reports no errors and its fixtures (if any) "
                    "validate as expected.",
            inputs=(Input("comment", "A note recorded with the proposal.", short="-m"),)),
    Action("comment", "comment", "Record a comment on REF (anyone may).",
           inputs=(Input("text", "The comment.", required=True, positional=True),), signed=False),
    Action("approve", "approve", "Approve candidate REF (maintainers).", inputs=(_reason(False),),
           on=(Status.CANDIDATE,)),
    Action("object", "object", "Object to candidate REF (maintainers); it blocks ratification until resolved.",
           inputs=(_reason(True),), on=(Status.CANDIDATE,)),
    Action("resolve", "resolve_objection",
           "Resolve OBJECTION (its number) on REF: its author withdraws it, or a maintainer resolves it.",
           inputs=(Input("objection_id", "The objection's number.", required=True, positional=True,
                         integer=True, metavar="OBJECTION"), _reason(True))),
    Action("close-window", "close_window", "Close the consultation window of candidate REF early (maintainers).",
           inputs=(Input("reason", "Why close early (required).", required=True, short="-m"),),
           on=(Status.CANDIDATE,)),
    _moving("ratify", "Ratify candidate REF (maintainers).",
            details="Refused, with every reason listed, unless the window has closed, enough distinct "
                    "maintainers approved, no objection is open and the diff against the newest earlier "
                    "ratified version is backward compatible (or the major version increases).",
            inputs=()),
    _moving("reject", "Reject candidate REF (maintainers)."),
    _moving("deprecate", "Deprecate ratified REF (maintainers); give --successor or --reason.",
            inputs=(Input("successor", "The ratified version that replaces REF.", metavar="VERSION|NAME@VERSION"),
                    _reason(False))),
    _moving("withdraw", "Withdraw deprecated REF (maintainers); withdrawn is final."),
)


def action_named(name: str, actions: Sequence[Action] = ACTIONS) -> Action:
    for a in actions:
        if a.name == name:
            return a
    raise InputError(f"unknown lifecycle action {name!r} (one of: {', '.join(a.name for a in actions)})")


# --------------------------------------------------------------------------
# consultation records
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Remark:
    """A comment or an approval: who, when and why."""

    id: int
    kind: str
    actor: str
    at: str
    text: str
    late: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "actor": self.actor, "at": self.at,
                "text": self.text, "late": self.late}


@dataclass(frozen=True)
class Objection:
    """An objection by a maintainer; it blocks ratification until resolved."""

    id: int
    actor: str
    at: str
    reason: str
    resolved_by: str | None = None
    resolved_at: str | None = None
    resolution: str | None = None

    @property
    def open(self) -> bool:
        return self.resolved_by is None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "actor": self.actor, "at": self.at, "reason": self.reason,
                "open": self.open, "resolved_by": self.resolved_by, "resolved_at": self.resolved_at,
                "resolution": self.resolution}


@dataclass(frozen=True)
class Consultation:
    """Where a version's consultation stands, rebuilt from the audit log."""

    ref: SchemaRef
    status: Status
    proposed_by: str | None
    opened_at: str | None
    closes_at: str | None
    closed_early: Remark | None
    comments: tuple[Remark, ...]
    approvals: tuple[Remark, ...]
    objections: tuple[Objection, ...]

    def window_closed(self, now: datetime) -> bool:
        if self.closed_early is not None:
            return True
        if self.closes_at is None:
            return False
        return now >= datetime.fromisoformat(self.closes_at)

    def open_objections(self) -> list[Objection]:
        return [o for o in self.objections if o.open]

    def approvers(self, config: RegistryConfig) -> list[str]:
        """Distinct approvers who are maintainers now, in the order they approved."""
        seen: list[str] = []
        for a in self.approvals:
            if config.is_maintainer(a.actor) and a.actor not in seen:
                seen.append(a.actor)
        return seen

    def days_left(self, now: datetime) -> float | None:
        if self.closes_at is None or self.window_closed(now):
            return None
        return (datetime.fromisoformat(self.closes_at) - now).total_seconds() / 86400

    def blockers(self, config: RegistryConfig, now: datetime) -> list[str]:
        """Why the version cannot be ratified now (the compatibility check aside)."""
        out: list[str] = []
        if self.status != Status.CANDIDATE:
            out.append(f"it is {self.status.value}, not a candidate")
            return out
        if not self.window_closed(now):
            out.append(f"the consultation window is open until {self.closes_at} "
                       "(a maintainer may close it early with a reason)")
        approvers = self.approvers(config)
        if len(approvers) < config.approvals_needed:
            have = f" ({', '.join(approvers)})" if approvers else ""
            out.append(f"{len(approvers)} of {config.approvals_needed} approvals from distinct "
                       f"maintainers{have}")
        for o in self.open_objections():
            out.append(f"open objection #{o.id} by {o.actor}: {o.reason}")
        return out

    def to_dict(self, config: RegistryConfig, now: datetime) -> dict[str, Any]:
        return {
            "ref": str(self.ref),
            "status": self.status.value,
            "proposed_by": self.proposed_by,
            "opened_at": self.opened_at,
            "closes_at": self.closes_at,
            "window_closed": self.window_closed(now),
            "closed_early": self.closed_early.to_dict() if self.closed_early else None,
            "days_left": _round(self.days_left(now)),
            "approvals_needed": config.approvals_needed,
            "approvers": self.approvers(config),
            "approvals": [a.to_dict() for a in self.approvals],
            "objections": [o.to_dict() for o in self.objections],
            "comments": [c.to_dict() for c in self.comments],
            "blockers": self.blockers(config, now),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass(frozen=True)
class Compatibility:
    """The result of comparing a candidate with the newest ratified version before it."""

    method: str  # "egif.diff"
    against: str | None
    verdict: str | None
    ok: bool
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "against": self.against, "verdict": self.verdict,
                "ok": self.ok, "note": self.note}


@dataclass(frozen=True)
class FixtureReport:
    """How a version's registered fixtures fared against it."""

    source: str  # "attachments", "shipped" or "none"
    checked: int = 0
    skipped: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "checked": self.checked, "skipped": list(self.skipped),
                "failures": list(self.failures)}


@dataclass(frozen=True)
class Outcome:
    """What an action did: the event it appended and the version afterwards."""

    event: Event
    version: SchemaVersion
    details: dict[str, Any] = field(default_factory=dict)
    # things the actor should know, one line each (e.g. ratified versions still importing it)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------
# the process
# --------------------------------------------------------------------------
class Lifecycle:
    """Runs the process on one registry, as one actor, at the clock's "now"."""

    def __init__(self, registry: Registry, *, actor: str | None = None,
                 clock: Clock | None = None, signer: Signer | None = None) -> None:
        self.registry = registry
        self.actor = registry.acting_as(actor)  # PostgreSQL: the connected role, nobody else
        self.clock = clock or utc_now
        self.signer = signer  # signs governance events (required once maintainers have keys)

    # -- reading ----------------------------------------------------------
    def config(self) -> RegistryConfig:
        return load_config(self.registry)

    def consultation(self, ref: str | SchemaRef) -> Consultation:
        version = self.registry.get(ref)
        return self._consultation(version, self.config())

    def _consultation(self, version: SchemaVersion, config: RegistryConfig) -> Consultation:
        # a pulled publisher's events (data.origin) are its record, never a local approval
        events = [e for e in self.registry.store.iter_events(name=version.name, version=version.version)
                  if not (isinstance(e["data"], dict) and "origin" in e["data"])]
        # only what happened since the latest proposal belongs to this consultation
        start = max((i for i, e in enumerate(events) if e["kind"] == "propose"), default=None)
        proposed_by = opened = closes = None
        if start is not None:
            proposal = events[start]
            proposed_by = proposal["actor"]
            opened = proposal["data"].get("opens_at", proposal["at"])
            closes = proposal["data"].get("closes_at")
            events = events[start + 1:]
        elif version.status == Status.CANDIDATE:
            # added straight in as a candidate: its window runs from when it was added
            opened = stamp(datetime.fromisoformat(version.added_at))
            closes = stamp(datetime.fromisoformat(version.added_at) + timedelta(days=config.window_days))
        comments: list[Remark] = []
        approvals: list[Remark] = []
        objections: dict[int, Objection] = {}
        closed_early: Remark | None = None
        for e in events:
            kind, data = e["kind"], e["data"]
            if kind == "comment":
                comments.append(Remark(e["id"], kind, e["actor"], e["at"], data.get("text", ""),
                                       bool(data.get("late"))))
            elif kind == "approve":
                approvals.append(Remark(e["id"], kind, e["actor"], e["at"], data.get("reason", "")))
            elif kind == "object":
                objections[e["id"]] = Objection(e["id"], e["actor"], e["at"], data.get("reason", ""))
            elif kind == "resolve-objection":
                target = objections.get(int(data.get("objection", -1)))
                if target is not None and target.open:
                    objections[target.id] = Objection(target.id, target.actor, target.at, target.reason,
                                                      e["actor"], e["at"], data.get("reason", ""))
            elif kind == "close-window" and closed_early is None:
                closed_early = Remark(e["id"], kind, e["actor"], e["at"], data.get("reason", ""))
        return Consultation(
            ref=version.ref, status=version.status, proposed_by=proposed_by, opened_at=opened,
            closes_at=closes, closed_early=closed_early, comments=tuple(comments),
            approvals=tuple(approvals), objections=tuple(objections.values()),
        )

    def history(self, ref: str | SchemaRef) -> list[Event]:
        """Every audit event of a standard (``NAME``) or of one version (``NAME@VERSION``)."""
        ref = SchemaRef.parse(ref) if isinstance(ref, str) else ref
        if ref.version is None:
            self.registry.versions(ref.name)  # NotFound for an unknown name
        else:
            self.registry.get(ref)
        return list(self.registry.events(name=ref.name, version=ref.version))

    def pending(self, *, closing_within: float | None = None) -> list[Consultation]:
        """Every candidate, soonest-closing window first.

        ``closing_within`` keeps only consultations whose window is still open
        and closes within that many days.
        """
        config = self.config()
        now = self.clock()
        found = [self._consultation(v, config) for v in self.registry.list(status=Status.CANDIDATE)]
        if closing_within is not None:
            if closing_within < 0:
                raise InputError(f"closing within {closing_within} days: give zero or more days")
            found = [c for c in found
                     if (left := c.days_left(now)) is not None and left <= closing_within]
        return sorted(found, key=lambda c: (c.closes_at or "9999", str(c.ref)))

    def closing_within(self, days: float) -> list[Consultation]:
        return self.pending(closing_within=days)

    def newest(self, name: str, status: Status | str) -> SchemaVersion:
        """The newest version of a standard in the given status."""
        wanted = Status.parse(status) if isinstance(status, str) else status
        return self.registry.newest(name, statuses=[wanted])

    # -- consultation -----------------------------------------------------
    def comment(self, ref: str | SchemaRef, text: str) -> Outcome:
        """Anyone may comment on any version; comments after the window closes are marked late."""
        text = _text(text, "comment")
        version = self.registry.get(ref)
        data: dict[str, Any] = {"text": text, "status": version.status.value}
        if version.status == Status.CANDIDATE:
            data["late"] = self._consultation(version, self.config()).window_closed(self.clock())
        return self._record(version, "comment", data)

    def approve(self, ref: str | SchemaRef, reason: str = "") -> Outcome:
        reason = _text(reason, "reason", required=False)
        with self.registry.store.transaction():
            version, _, consultation = self._candidate_for(ref, "approve", "approve")
            if self.actor in {a.actor for a in consultation.approvals}:
                raise LifecycleError(f"{self.actor} has already approved {version.ref}")
            mine = [o for o in consultation.open_objections() if o.actor == self.actor]
            if mine:
                raise LifecycleError(
                    f"{self.actor} has an open objection (#{mine[0].id}) to {version.ref}: "
                    "resolve it before approving")
            return self._record(version, "approve", {"reason": reason})

    def object(self, ref: str | SchemaRef, reason: str) -> Outcome:
        reason = _text(reason, "reason")
        with self.registry.store.transaction():
            version, _, _ = self._candidate_for(ref, "object to", "object")
            return self._record(version, "object", {"reason": reason})

    def resolve_objection(self, ref: str | SchemaRef, objection_id: int, reason: str) -> Outcome:
        """Close an objection: its author withdraws it, or a maintainer resolves it; both say why."""
        reason = _text(reason, "reason")
        with self.registry.store.transaction():
            version = self.registry.get(ref)
            config = self.config()
            consultation = self._consultation(version, config)
            target = next((o for o in consultation.objections if o.id == objection_id), None)
            if target is None:
                known = ", ".join(f"#{o.id}" for o in consultation.objections) or "none"
                raise NotFound(f"no objection #{objection_id} on {version.ref} (objections: {known})")
            if not target.open:
                raise LifecycleError(f"objection #{objection_id} on {version.ref} was already resolved "
                                     f"by {target.resolved_by} at {target.resolved_at}")
            if self.actor != target.actor:
                require_maintainer(config, self.actor, f"resolve objection #{objection_id} by {target.actor}")
            how = "withdrawn" if self.actor == target.actor else "resolved"
            return self._record(version, "resolve-objection",
                                {"objection": objection_id, "reason": reason, "how": how})

    def close_window(self, ref: str | SchemaRef, reason: str) -> Outcome:
        reason = _text(reason, "reason")
        with self.registry.store.transaction():
            version, _, consultation = self._candidate_for(ref, "close the consultation window of",
                                                              "close-window")
            if consultation.window_closed(self.clock()):
                when = (consultation.closed_early.at if consultation.closed_early
                        else consultation.closes_at)
                raise LifecycleError(f"the consultation window of {version.ref} is already closed "
                                     f"(since {when})")
            return self._record(version, "close-window",
                                {"reason": reason, "scheduled_close": consultation.closes_at})

    # -- transitions -------------------------------------------------------
    def act(self, action: str | Action, ref: str | SchemaRef, **inputs: Any) -> Outcome:
        """Take the decision *action* (a name of :data:`ACTIONS`, or an :class:`Action`) on *ref*."""
        step = action_named(action) if isinstance(action, str) else action
        unknown = set(inputs) - {i.name for i in step.inputs}
        if unknown:
            raise InputError(f"{step.name} takes no {', '.join(sorted(unknown))}")
        method: Callable[..., Outcome] = getattr(self, step.method)
        return method(ref, **inputs)

    def transition(self, ref: str | SchemaRef, target: Status | str, *, reason: str = "",
                   successor: str | None = None) -> Outcome:
        """Move a version to *target* through the action the table names for it; *reason* goes
        to the action as its reason (a proposal's comment), *successor* where it takes one."""
        wanted = Status.parse(target) if isinstance(target, str) else target
        version = self.registry.get(ref)
        step = action_named(find_transition(version.status, wanted).action)
        takes = {i.name for i in step.inputs}
        given = {"reason": reason, "comment": reason, "successor": successor}
        return self.act(step, ref, **{k: v for k, v in given.items() if k in takes and v is not None})

    def propose(self, ref: str | SchemaRef, *, comment: str = "") -> Outcome:
        """draft -> candidate: anyone may propose; the guards decide."""
        comment = _text(comment, "comment", required=False)
        version = self.registry.get(ref)
        step = self._step(version, Status.CANDIDATE)
        config = self.config()
        self._permit(step, config, version)
        checks = self.proposal_checks(version.ref, config)
        problems = [p for check in checks.values() for p in check.get("problems", [])]
        if problems:
            raise LifecycleError(f"{version.ref} cannot be proposed: " + "; ".join(problems[:8])
                                 + (f"; and {len(problems) - 8} more" if len(problems) > 8 else ""))
        opens = self.clock()
        closes = opens + timedelta(days=config.window_days)
        with self.registry.store.transaction():
            version = self._recheck(version, Status.DRAFT)
            return self._move(version, step, {
                "opens_at": stamp(opens), "closes_at": stamp(closes),
                "window_days": config.window_days, "comment": comment, "checks": checks,
            })

    def proposal_checks(self, ref: SchemaRef, config: RegistryConfig) -> dict[str, dict[str, Any]]:
        """The draft -> candidate guards; each entry lists its ``problems`` (empty when passed)."""
        checks: dict[str, dict[str, Any]] = {}
        try:
            resolved = self.registry.resolve(ref)
            schema = resolved.lxml_schema()
        except SchemaCompileError as exc:
            checks["compile"] = {"problems": [f"it does not compile: {exc.message}"]}
            return checks
        checks["compile"] = {"problems": []}
        checks["lint"] = self._lint_check(ref, config)
        report = fixture_report(self.registry, ref, schema)
        checks["fixtures"] = {**report.to_dict(), "problems": [
            f"fixture {f}" for f in report.failures]}
        return checks

    def _lint_check(self, ref: SchemaRef, config: RegistryConfig) -> dict[str, Any]:
        from egif.lint import lint_version  # imported on use: the linter is big

        findings: Sequence[Finding] = lint_version(self.registry, ref)  # with the registry's lint settings
        errors = [f for f in findings if f.severity == Severity.ERROR]
        warnings = [f for f in findings if f.severity == Severity.WARNING]
        return {
            "available": True, "errors": len(errors), "warnings": len(warnings),
            "problems": [f"lint {f.rule}: {f.message}" + (f" ({f.file}:{f.line})" if f.file else "")
                         for f in errors],
        }

    def ratify(self, ref: str | SchemaRef) -> Outcome:
        """candidate -> ratified, when every guard passes; otherwise a refusal listing them all."""
        version = self.registry.get(ref)
        step = self._step(version, Status.RATIFIED)
        config = self.config()
        self._permit(step, config, version)
        now = self.clock()
        consultation = self._consultation(version, config)
        blockers = consultation.blockers(config, now)
        compat = self.compatibility(version.ref)
        if not compat.ok:
            blockers.append(compat.note)
        if blockers:
            raise LifecycleError(f"{version.ref} cannot be ratified: " + "; ".join(blockers))
        with self.registry.store.transaction():
            version = self._recheck(version, Status.CANDIDATE)
            again = self._consultation(version, config)
            late = again.blockers(config, now)
            if late:  # something changed between the checks and the lock
                raise LifecycleError(f"{version.ref} cannot be ratified: " + "; ".join(late))
            files = self.registry.files(version.ref)  # digests verified once more before freezing
            return self._move(version, step, {
                "approvers": again.approvers(config), "approvals_needed": config.approvals_needed,
                "closes_at": again.closes_at,
                "closed_early": again.closed_early.to_dict() if again.closed_early else None,
                "compatibility": compat.to_dict(), "digest": version.digest,
                "files": sorted(files),
            })

    def compatibility(self, ref: str | SchemaRef) -> Compatibility:
        """Compare with the newest ratified version of the same name numbered below this one."""
        version = self.registry.get(ref)
        major, minor = version.version_key
        older = [v for v in self.registry.list(name=version.name, status=Status.RATIFIED)
                 if v.version_key < (major, minor)]
        from egif.diff import diff_schemas  # imported on use: the diff is big

        method = "egif.diff"
        if not older:
            return Compatibility(method, None, None, True,
                                 f"no earlier ratified version of {version.name} to compare with")
        base = max(older, key=lambda v: v.version_key)
        if major > base.version_key[0]:
            return Compatibility(method, str(base.ref), None, True,
                                 f"major version {base.version_key[0]} -> {major}: breaking changes allowed")
        result = diff_schemas(self.registry.resolve(base.ref), self.registry.resolve(version.ref),
                                   evidence=False)
        verdict = str(result.verdict)
        if verdict in BACKWARD_VERDICTS:
            return Compatibility(method, str(base.ref), verdict, True,
                                 f"diff against {base.ref}: {verdict}")
        return Compatibility(
            method, str(base.ref), verdict, False,
            f"the diff against {base.ref} (egif.diff) says {verdict!r}, not backward compatible, "
            f"and the major version stays {major}: publish it as {major + 1}.0 instead")

    def reject(self, ref: str | SchemaRef, reason: str) -> Outcome:
        reason = _text(reason, "reason")
        return self._simple(ref, Status.REJECTED, {"reason": reason})

    def deprecate(self, ref: str | SchemaRef, *, successor: str | None = None,
                  reason: str = "") -> Outcome:
        reason = _text(reason, "reason", required=False)
        version = self.registry.get(ref)
        label = None
        if successor:
            label = self._successor(version, successor)
        elif not reason:
            raise InputError(f"deprecating {version.ref} needs a successor version or a reason")
        return self._still_imported(self._simple(ref, Status.DEPRECATED, {"successor": label, "reason": reason},
                                                 successor=label))

    def _successor(self, version: SchemaVersion, text: str) -> str:
        text = text.strip()
        try:
            if "@" in text:
                target = SchemaRef.parse(text)
            else:
                parse_version(text)
                target = SchemaRef(version.name, text)
        except InputError as exc:
            raise InputError(f"successor {text!r}: {exc.message}") from None
        found = self.registry.get(target)
        if found.ref == version.ref:
            raise LifecycleError(f"{version.ref} cannot be its own successor")
        if found.status != Status.RATIFIED:
            raise LifecycleError(f"successor {found.ref} is {found.status.value}: a successor must be "
                                 "ratified")
        return found.version if found.name == version.name else str(found.ref)

    def withdraw(self, ref: str | SchemaRef, reason: str) -> Outcome:
        reason = _text(reason, "reason")
        return self._still_imported(self._simple(ref, Status.WITHDRAWN, {"reason": reason}))

    def _still_imported(self, outcome: Outcome) -> Outcome:
        """Name the ratified versions that still import a version just deprecated or withdrawn:
        in ``details["still_imported_by"]`` (NAME@VERSION, empty when none) and as a warning.
        Not recorded in the event: it describes the registry at that moment, not the decision."""
        version = outcome.version
        users = [str(v.ref) for v in self.registry.importers(version.ref, statuses=(Status.RATIFIED,))]
        outcome.details["still_imported_by"] = users
        if users:
            after = "; validating against them warns" if version.status == Status.WITHDRAWN else ""
            outcome.warnings.append(f"{version.ref} is still imported by ratified version"
                                    f"{'s' if len(users) > 1 else ''}: {', '.join(users)}{after}")
        return outcome

    # -- internals ----------------------------------------------------------
    def _simple(self, ref: str | SchemaRef, target: Status, data: dict[str, Any],
                successor: str | None = None) -> Outcome:
        version = self.registry.get(ref)
        step = self._step(version, target)
        self._permit(step, self.config(), version)
        with self.registry.store.transaction():
            version = self._recheck(version, step.source)
            return self._move(version, step, data, successor=successor)

    def _step(self, version: SchemaVersion, target: Status) -> Transition:
        try:
            return find_transition(version.status, target)
        except LifecycleError as exc:
            raise LifecycleError(f"{version.ref} is {version.status.value}: {exc.message}") from None

    def _permit(self, step: Transition, config: RegistryConfig, version: SchemaVersion) -> None:
        if step.maintainers_only:
            require_maintainer(config, self.actor, f"{step.action} {version.ref}")
        self._can_sign(step.action, version)

    def _can_sign(self, kind: str, version: SchemaVersion) -> None:
        """Refuse early, before slow checks, what the log would refuse for want of a signature."""
        eventlog.check_signer(self.registry.store, kind=kind, actor=self.actor, data={},
                              signer=self.signer, action=f"{kind} {version.ref}")

    def _recheck(self, version: SchemaVersion, expected: Status) -> SchemaVersion:
        """Re-read the status under the write lock: another process may have moved it."""
        current = self.registry.get(version.ref)
        if current.status != expected:
            raise LifecycleError(f"{version.ref} changed meanwhile: it is now {current.status.value}")
        return current

    def _candidate_for(self, ref: str | SchemaRef, what: str, kind: str
                       ) -> tuple[SchemaVersion, RegistryConfig, Consultation]:
        version = self.registry.get(ref)
        config = self.config()
        require_maintainer(config, self.actor, f"{what} {version.ref}")
        self._can_sign(kind, version)
        if version.status != Status.CANDIDATE:
            raise LifecycleError(f"{version.ref} is {version.status.value}: maintainers {what} only "
                                 "candidates, during consultation")
        return version, config, self._consultation(version, config)

    def _move(self, version: SchemaVersion, step: Transition, data: dict[str, Any],
              successor: str | None = None) -> Outcome:
        store = self.registry.store
        row = store.find_version(version.name, version.version)
        if row is None:  # pragma: no cover - versions are never deleted
            raise NotFound(f"no schema {version.ref} in the registry")
        store.set_status(int(row["id"]), step.target.value, successor)
        payload = {"from": step.source.value, "to": step.target.value,
                   **{k: v for k, v in data.items() if v not in (None, "")}}
        outcome = self._record(version, step.action, payload)
        return Outcome(outcome.event, self.registry.get(version.ref), payload)

    def _record(self, version: SchemaVersion, kind: str, data: dict[str, Any]) -> Outcome:
        """Append the event; it names the version's digest, so a decision binds to exact content."""
        at = stamp(self.clock())
        data = {**data, "digest": version.digest}
        event_id = eventlog.append(self.registry.store, name=version.name, version=version.version, kind=kind,
                                   actor=self.actor, at=at, data=data, signer=self.signer,
                                   action=f"{kind} {version.ref}")
        event = Event(event_id, version.name, version.version, kind, self.actor, at,
                      json.loads(json.dumps(data)))
        return Outcome(event, version, data)


def _text(value: str | None, what: str, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InputError(f"a {what} is required: say why")
    if len(text) > MAX_TEXT:
        raise InputError(f"the {what} is too long ({len(text)} characters; at most {MAX_TEXT})")
    return text


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------
def fixture_files(registry: Registry, ref: SchemaRef) -> tuple[str, dict[str, bytes]]:
    """The fixtures registered for a version: its ``fixture`` attachments, else shipped ones."""
    attached = registry.attachments(ref, "fixture")
    if attached:
        return "attachments", attached
    from egif.shipped import shipped_versions

    for sv in shipped_versions():
        if sv.ref == ref and sv.fixtures is not None and sv.fixtures.is_dir():
            return "shipped", dict(_read_folder(sv.fixtures))
    return "none", {}


def _read_folder(folder: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and (path.suffix.lower() == ".xml" or path.name == "manifest.json"):
            yield path.relative_to(folder).as_posix(), path.read_bytes()


def _expectations(files: dict[str, bytes]) -> tuple[dict[str, bool], list[str], list[str]]:
    """``{name: should_be_valid}``, fixtures skipped, and problems with the manifest itself."""
    expect: dict[str, bool] = {}
    skipped: list[str] = []
    problems: list[str] = []
    manifest_bytes = files.get("manifest.json")
    if manifest_bytes is not None:
        try:
            manifest = loads_json(manifest_bytes, label="manifest.json", what="the fixture manifest")
            for name in manifest.get("valid", []):
                expect[str(name)] = True
            for entry in manifest.get("invalid", []):
                name = str(entry["file"]) if isinstance(entry, dict) else str(entry)
                layer = entry.get("layer", "xsd") if isinstance(entry, dict) else "xsd"
                if layer == "xsd":
                    expect[name] = False
                else:  # Schematron and other rule layers are the validator's business
                    skipped.append(f"{name} (layer {layer})")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problems.append(f"manifest.json is not a usable fixture manifest ({exc})")
        for name in list(expect):
            if name not in files:
                problems.append(f"{name} is listed in manifest.json but not registered")
                del expect[name]
    else:
        for name in files:
            if name.startswith("valid/"):
                expect[name] = True
            elif name.startswith("invalid/"):
                expect[name] = False
            else:
                problems.append(f"{name}: cannot tell whether it should be valid "
                                "(put it under valid/ or invalid/, or list it in manifest.json)")
    return expect, skipped, problems


def fixture_report(registry: Registry, ref: SchemaRef, schema: etree.XMLSchema) -> FixtureReport:
    """Validate every registered fixture and compare with what it is expected to do."""
    source, files = fixture_files(registry, ref)
    if not files:
        return FixtureReport(source)
    expect, skipped, failures = _expectations(files)
    for name, should_pass in sorted(expect.items()):
        try:
            tree = parse_bytes(files[name], name)
        except EgifError as exc:
            if should_pass:
                failures.append(f"{name} should be valid but is not usable XML: {exc.message}")
            continue
        try:
            schema.assertValid(tree)
            passed, detail = True, ""
        except etree.DocumentInvalid as exc:
            passed, detail = False, str(exc)
        if should_pass and not passed:
            failures.append(f"{name} should be valid but is not ({detail})")
        elif not should_pass and passed:
            failures.append(f"{name} should be invalid but the schema accepts it")
    return FixtureReport(source, len(expect), tuple(skipped), tuple(failures))


__all__ = [
    "ACTIONS",
    "BACKWARD_VERDICTS",
    "LIFECYCLE_KINDS",
    "TRANSITIONS",
    "Action",
    "Compatibility",
    "Consultation",
    "FixtureReport",
    "Input",
    "Lifecycle",
    "Objection",
    "Outcome",
    "Remark",
    "Transition",
    "action_named",
    "allowed_next",
    "find_transition",
    "fixture_report",
    "transition_for_action",
]
