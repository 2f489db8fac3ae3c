"""The data a diff returns: changes, counterexamples, verdict and implied bump."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from egif.diff.rules import RULES

if TYPE_CHECKING:
    from egif.diff.decide import Direction, Unproven, Witness

VERDICTS = ("identical", "full", "backward", "forward", "breaking")

# What each --require level accepts.
SATISFIES: dict[str, frozenset[str]] = {
    "backward": frozenset({"identical", "full", "backward"}),
    "forward": frozenset({"identical", "full", "forward"}),
    "full": frozenset({"identical", "full"}),
}

_BUMP_RANK = {"none": 0, "minor": 1, "major": 2}


@dataclass(frozen=True)
class Change:
    """One difference between the two compiled schemas.

    ``backward``: documents valid under the old schema stay valid under the
    new one as far as this change goes; ``forward``: documents valid under the
    new one are valid under the old one.
    """

    path: str
    kind: str
    rule: str
    old: Any
    new: Any
    backward: bool
    forward: bool
    note: str = ""

    @property
    def explanation(self) -> str:
        return RULES[self.rule].summary

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path, "kind": self.kind, "rule": self.rule,
            "old": _plain(self.old), "new": _plain(self.new),
            "backward": self.backward, "forward": self.forward, "note": self.note,
        }


@dataclass(frozen=True)
class Counterexample:
    """A document valid under one side and refused by the other.

    ``direction`` is ``"backward"`` (valid under OLD, refused by NEW) or
    ``"forward"`` (valid under NEW, refused by OLD); ``source`` says where it
    came from (``generated`` or a fixture file).
    """

    direction: str
    document: str
    error: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "source": self.source, "error": self.error,
                "document": self.document}


@dataclass
class DirectionEvidence:
    """What the sampling found in one direction."""

    generated: int = 0
    accepted_by_source: int = 0
    refused_by_target: int = 0
    fixtures_checked: int = 0
    fixtures_refused: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class BumpCheck:
    """Whether the version numbers given agree with the implied bump."""

    old_version: str | None
    new_version: str | None
    actual: str | None  # none | minor | major | downgrade, None when unknown
    agrees: bool | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DiffResult:
    """What changed, and the decided verdict.

    ``changes`` describe what differs between the two component models (each
    with the typical effect of its rule); the verdict does not come from
    them but from ``decision``: for each direction, whether every document
    valid under the source is valid under the target ("yes"), with witness
    documents where it is not ("no"), or "not-proven" with the constructs
    that could not be decided.  ``counterexamples`` are sampled documents
    (the second check) that contradict a "yes"; they overturn it.
    """

    old_label: str
    new_label: str
    changes: list[Change]
    counterexamples: list[Counterexample] = field(default_factory=list)
    evidence: dict[str, DirectionEvidence] | None = None
    bump_check: BumpCheck | None = None
    decision: dict[str, Direction] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def rule_backward(self) -> bool:
        return all(c.backward for c in self.changes)

    @property
    def rule_forward(self) -> bool:
        return all(c.forward for c in self.changes)

    def status(self, direction: str) -> str:
        """``yes``, ``no`` or ``not-proven`` for "backward" or "forward"."""
        if any(c.direction == direction for c in self.counterexamples):
            return "no"
        if self.decision is None:
            ok = self.rule_backward if direction == "backward" else self.rule_forward
            return "yes" if ok else "no"
        return self.decision[direction].status

    @property
    def backward(self) -> bool:
        return self.status("backward") == "yes"

    @property
    def forward(self) -> bool:
        return self.status("forward") == "yes"

    @property
    def witnesses(self) -> list[Witness]:
        if self.decision is None:
            return []
        return [w for d in self.decision.values() for w in d.witnesses]

    @property
    def not_proven(self) -> list[Unproven]:
        """What could not be decided, in the directions answered "not proven" (each once)."""
        if self.decision is None:
            return []
        return list(dict.fromkeys(u for d in self.decision.values() if d.status == "not-proven"
                                  for u in d.unproven))

    @property
    def verdict(self) -> str:
        """identical, full, backward, forward or breaking; "not proven" counts as not compatible."""
        b, f = self.backward, self.forward
        if b and f and not self.changes and not self.counterexamples and not self.notes:
            return "identical"
        if b and f:
            return "full"
        if b:
            return "backward"
        if f:
            return "forward"
        return "breaking"

    @property
    def rule_verdict(self) -> str:
        """What the change rules' typical effects alone would say (for comparison only)."""
        if not self.changes:
            return "identical"
        b, f = self.rule_backward, self.rule_forward
        return "full" if b and f else "backward" if b else "forward" if f else "breaking"

    @property
    def implied_bump(self) -> str:
        """GovTalk style: no change none; old documents still valid minor; else major."""
        return implied_bump(self.verdict)

    def satisfies(self, require: str) -> bool:
        return self.verdict in SATISFIES[require]

    def to_dict(self) -> dict[str, Any]:
        return {
            "old": self.old_label,
            "new": self.new_label,
            "verdict": self.verdict,
            "backward": self.status("backward"),
            "forward": self.status("forward"),
            "implied_bump": self.implied_bump,
            "bump_check": self.bump_check.to_dict() if self.bump_check else None,
            "notes": list(self.notes),
            "witnesses": [w.to_dict() for w in self.witnesses],
            "not_proven": [dict(u.to_dict(), direction=d) for d, dec in (self.decision or {}).items()
                           if dec.status == "not-proven" for u in dec.unproven],
            "rule_verdict": self.rule_verdict,
            "changes": [c.to_dict() for c in self.changes],
            "counterexamples": [c.to_dict() for c in self.counterexamples],
            "evidence": ({k: v.to_dict() for k, v in self.evidence.items()}
                         if self.evidence is not None else None),
        }


def implied_bump(verdict: str) -> str:
    if verdict == "identical":
        return "none"
    if verdict in ("full", "backward"):
        return "minor"
    return "major"


def check_bump(old_version: str | None, new_version: str | None, implied: str) -> BumpCheck:
    """Compare the step between two MAJOR.MINOR versions with the bump a verdict implies."""
    def parse(v: str | None) -> tuple[int, int] | None:
        if not v:
            return None
        head, _, tail = v.strip().partition(".")
        if not head.isdigit() or not (tail or "0").isdigit():
            return None
        return int(head), int(tail or "0")

    o, n = parse(old_version), parse(new_version)
    if o is None or n is None:
        return BumpCheck(old_version, new_version, None, None,
                         f"version numbers unknown: implied bump is {implied}")
    if n < o:
        actual = "downgrade"
    elif n[0] > o[0]:
        actual = "major"
    elif n[1] > o[1]:
        actual = "minor"
    else:
        actual = "none"
    if actual == "downgrade":
        return BumpCheck(old_version, new_version, actual, False,
                         f"{new_version} is older than {old_version}")
    have, want = _BUMP_RANK[actual], _BUMP_RANK[implied]
    if have == want:
        return BumpCheck(old_version, new_version, actual, True,
                         f"{old_version} -> {new_version} is a {actual} step, as the verdict implies")
    if have > want:
        return BumpCheck(old_version, new_version, actual, True,
                         f"{old_version} -> {new_version} is a {actual} step; a {implied} one would do")
    return BumpCheck(old_version, new_version, actual, False,
                     f"{old_version} -> {new_version} is a {actual} step but the verdict needs {implied}")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


__all__ = [
    "SATISFIES",
    "VERDICTS",
    "BumpCheck",
    "Change",
    "Counterexample",
    "DiffResult",
    "DirectionEvidence",
    "check_bump",
    "implied_bump",
]
