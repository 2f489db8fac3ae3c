"""Checking a registry's audit log: chain, signatures, and every ratification.

:func:`replay` reads a log oldest first, the way :mod:`egif.eventlog` wrote
it, and rebuilds from the log alone (never from the ``config`` table, which
whoever can write the database could edit) who the maintainers were, which
keys were in force and how many approvals a ratification needed at each
moment.  Against that it checks:

* every link of the hash chain;
* every signature, against the keys of the acting maintainer in force when
  the event was written; once maintainers have keys, every governance event
  must carry one;
* that decisions only maintainers may take were taken by maintainers;
* that an event about a version names the digest that version was added with;
* that every ratification had at least N approvals (N in force then) since the
  version's latest proposal, from maintainers, by distinct keys (or distinct
  names while nobody had keys), each approval valid when it was made.

:func:`verify_registry` does this for a local registry and also compares the
log with what the tables say (statuses, digests, settings, stored bytes).  A
pull (:mod:`egif.remote`) runs the same replay over a publisher's log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from egif import eventlog
from egif.errors import EgifError, InputError
from egif.signing import PublicKey, SignatureError

if TYPE_CHECKING:
    from egif.registry import Registry

# statuses a version reaches only through a ratification
RATIFIED_FAMILY = frozenset({"ratified", "deprecated", "withdrawn"})
TRANSITION_KINDS = ("propose", "ratify", "reject", "deprecate", "withdraw")
# events about a version that name the digest it was decided on (egif.lifecycle writes it)
DECISION_KINDS = (*TRANSITION_KINDS, "comment", "approve", "object", "resolve-objection", "close-window")
DEFAULT_APPROVALS = 2


@dataclass(frozen=True)
class Approval:
    event_id: int
    actor: str
    fingerprint: str | None  # the key that signed it, when signed and verified
    valid: bool


@dataclass
class Ratification:
    """How a version came to be ratified, as the log shows it."""

    how: str  # "approved", "short" (too few approvals), "shipped", "pulled", "administrative"
    event_id: int | None = None
    approvers: list[str] = field(default_factory=list)  # "alice (SHA256:...)" / "alice (unsigned)"
    needed: int = 0
    via: str | None = None

    @property
    def by_approval(self) -> bool:
        return self.how == "approved"

    def to_dict(self) -> dict[str, Any]:
        return {"how": self.how, "event": self.event_id, "approvers": self.approvers, "needed": self.needed,
                "via": self.via}


@dataclass
class VersionTrack:
    """One version as the log tells its story."""

    ref: str
    digest: str | None
    status: str
    via: str | None = None
    approvals: list[Approval] = field(default_factory=list)
    ratification: Ratification | None = None


@dataclass
class Audit:
    """What a replay found."""

    chain: eventlog.Chain
    problems: list[str] = field(default_factory=list)
    signed: int = 0  # signatures that verified
    unchecked: int = 0  # signatures by a key nobody had registered then (not checked)
    unsigned_governance: int = 0  # governance events written while nobody had keys
    keys_since: int | None = None  # the event from which maintainers had keys
    maintainers: list[str] = field(default_factory=list)
    approvals_needed: int = DEFAULT_APPROVALS
    keys: dict[str, list[PublicKey]] = field(default_factory=dict)
    versions: dict[str, VersionTrack] = field(default_factory=dict)

    @property
    def signed_registry(self) -> bool:
        return bool(eventlog.keys_in_force(self.maintainers, self.keys))


def replay(events: Iterable[Mapping[str, Any]]) -> Audit:
    """Walk and check a log, oldest event first (see the module docstring)."""
    audit = Audit(chain=eventlog.walk(events))
    audit.problems.extend(audit.chain.problems)
    for link in audit.chain.links:
        _apply(audit, link)
    return audit


def _apply(audit: Audit, link: eventlog.Link) -> None:
    e = link.event
    label = eventlog._label(e)
    data = e.get("data")
    if not isinstance(data, dict):
        audit.problems.append(f"{label}: its data is not a JSON object")
        data = {}
    kind, actor = str(e.get("kind")), str(e.get("actor"))
    origin = "origin" in data  # a publisher's event copied by a pull: its record, not a decision here
    in_force = eventlog.keys_in_force(audit.maintainers, audit.keys)
    governance = not origin and eventlog.is_governance(kind, actor, audit.maintainers)
    required = governance and bool(in_force)
    if required and audit.keys_since is None:
        audit.keys_since = int(e.get("id") or 0)
    fingerprint, valid = _check_signature(audit, link, label, kind, actor, data, in_force, required)
    if (kind in eventlog.MAINTAINER_KINDS and not origin and actor not in audit.maintainers
            and not (kind == "config" and not audit.maintainers
                     and data.get("key") in ("maintainers", eventlog.KEY_MAINTAINER_KEYS))):
        audit.problems.append(f"{label}: {actor} was not a maintainer then")
        valid = False
    if kind == "config" and not origin:
        _apply_config(audit, label, data)
    name, version = e.get("name"), e.get("version")
    if name is None or version is None:
        return
    ref = f"{name}@{version}"
    track = audit.versions.get(ref)
    if kind == "add" and not origin:
        if track is not None:
            audit.problems.append(f"{label}: {ref} was already added (event of an earlier add)")
        status = str(data.get("status") or "draft")
        audit.versions[ref] = VersionTrack(ref, _str(data.get("digest")), status, _str(data.get("via")))
        if status in RATIFIED_FAMILY:
            audit.versions[ref].ratification = Ratification(_came_in(data.get("via")), int(e.get("id") or 0),
                                                            via=_str(data.get("via")))
        return
    if kind == "pulled-status":  # a pull applied the publisher's status (marked with its origin)
        if track is not None:
            track.status = str(data.get("to") or track.status)
            if track.status in RATIFIED_FAMILY and not (track.ratification and track.ratification.by_approval):
                track.ratification = Ratification("pulled", int(e.get("id") or 0), via="pull")
        return
    if origin:
        return
    if track is None:
        audit.problems.append(f"{label}: the log never recorded the addition of {ref}")
        track = audit.versions[ref] = VersionTrack(ref, None, "draft")
    named = data.get("digest") if kind in DECISION_KINDS else None
    if named is not None and track.digest is not None and named != track.digest:
        audit.problems.append(f"{label} names digest {str(named)[:12]}, but {ref} was added with "
                              f"{track.digest[:12]}: it is not about the stored content")
        valid = False
    if kind in TRANSITION_KINDS:
        moved_from = data.get("from")
        if moved_from is not None and moved_from != track.status:
            audit.problems.append(f"{label} moves {ref} from {moved_from}, but the log has it {track.status}")
        track.status = str(data.get("to") or track.status)
    if kind == "propose":
        track.approvals = []
    elif kind == "approve":
        track.approvals.append(Approval(int(e.get("id") or 0), actor, fingerprint, valid))
    elif kind == "ratify":
        _ratified(audit, track, label, int(e.get("id") or 0))


def _check_signature(audit: Audit, link: eventlog.Link, label: str, kind: str, actor: str,
                     data: Mapping[str, Any], in_force: Mapping[str, list[PublicKey]],
                     required: bool) -> tuple[str | None, bool]:
    """The fingerprint of the key that signed the event (if it verifies), and whether it is valid."""
    e = link.event
    if not e.get("signature"):
        if required:
            audit.problems.append(f"{label} is not signed, although the maintainers had keys then")
            return None, False
        if "origin" not in data and eventlog.is_governance(kind, actor, audit.maintainers):
            audit.unsigned_governance += 1
        return None, True
    allowed = list(in_force.get(actor, ()))
    if not allowed and not in_force:  # nobody's keys in force yet: a key registered in this name will do
        allowed = list(audit.keys.get(actor, ()))
        if kind == "config" and data.get("key") == eventlog.KEY_MAINTAINER_KEYS:
            allowed += _granted(data, actor)  # a first key, signed with itself: proof its holder agreed
    if not allowed:
        if required:
            audit.problems.append(f"{label} is signed, but {actor} had no key in force while the maintainers "
                                  "signed their decisions")
            return None, False
        audit.unchecked += 1
        return None, True
    try:
        key = eventlog.verify_event_signature(e, link.prev, allowed)
    except SignatureError as exc:
        audit.problems.append(f"{label}: its signature does not verify ({exc.message})")
        return None, False
    audit.signed += 1
    return key.fingerprint, True


def _granted(data: Mapping[str, Any], actor: str) -> list[PublicKey]:
    try:
        return eventlog.keys_from_config(data.get("new")).get(actor, [])
    except InputError:
        return []


def _apply_config(audit: Audit, label: str, data: Mapping[str, Any]) -> None:
    key, new = data.get("key"), data.get("new")
    if key == "maintainers":
        if isinstance(new, list) and all(isinstance(m, str) for m in new):
            audit.maintainers = list(new)
        else:
            audit.problems.append(f"{label}: the new maintainers are not a list of names")
    elif key == "approvals_needed":
        if isinstance(new, int) and not isinstance(new, bool) and new >= 1:
            audit.approvals_needed = new
        else:
            audit.problems.append(f"{label}: approvals needed is not a positive number")
    elif key == eventlog.KEY_MAINTAINER_KEYS:
        try:
            audit.keys = eventlog.keys_from_config(new or {})
        except InputError as exc:
            audit.problems.append(f"{label}: unreadable maintainer keys ({exc.message})")


def _ratified(audit: Audit, track: VersionTrack, label: str, event_id: int) -> None:
    counted: list[Approval] = []
    names: set[str] = set()
    keys: set[str] = set()
    for a in track.approvals:
        if not a.valid or a.actor not in audit.maintainers or a.actor in names:
            continue
        if a.fingerprint is not None and a.fingerprint in keys:
            continue
        counted.append(a)
        names.add(a.actor)
        if a.fingerprint is not None:
            keys.add(a.fingerprint)
    needed = audit.approvals_needed
    shown = [f"{a.actor} ({a.fingerprint or 'unsigned'})" for a in counted]
    ok = len(counted) >= needed
    track.ratification = Ratification("approved" if ok else "short", event_id, shown, needed)
    if not ok:
        audit.problems.append(
            f"{label}: {track.ref} was ratified with {len(counted)} of {needed} approvals by distinct "
            f"maintainers that verify{' (' + ', '.join(shown) + ')' if shown else ''}")


def _came_in(via: Any) -> str:
    return {"shipped": "shipped", "pull": "pulled"}.get(str(via), "administrative")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- a local registry ------------------------------------------------------------------
@dataclass
class VerifyReport:
    """What ``egif registry verify`` found: problems (each one line) and a plain summary."""

    location: str
    problems: list[str]
    notes: list[str]
    events: int
    legacy_events: int
    head: str
    signed_registry: bool
    signatures_verified: int
    ratified: dict[str, dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "ok": self.ok, "problems": self.problems, "notes": self.notes,
                "events": self.events, "legacy_events": self.legacy_events, "head": self.head,
                "approvals": "signed" if self.signed_registry else "unsigned",
                "signatures_verified": self.signatures_verified, "ratified": self.ratified}


def verify_registry(registry: Registry) -> VerifyReport:
    """Check the whole registry: its log (see :func:`replay`) against its own tables."""
    store = registry.store
    audit = replay(store.iter_events())
    problems = list(audit.problems)
    notes: list[str] = []
    rows = {f"{r['name']}@{r['version']}": r for r in store.list_versions()}
    for ref, row in rows.items():
        track = audit.versions.get(ref)
        if track is None:
            problems.append(f"{ref} is in the registry, but the log never recorded its addition")
            continue
        if track.digest is not None and track.digest != row["digest"]:
            problems.append(f"{ref} has digest {row['digest'][:12]} in the registry, but was added with "
                            f"{track.digest[:12]}: the registry database has been altered")
        if track.status != row["status"]:
            problems.append(f"{ref} is {row['status']} in the registry, but the log has it {track.status}: "
                            "its status was changed outside egif")
    for ref in sorted(set(audit.versions) - set(rows)):
        problems.append(f"the log records {ref}, which the registry does not hold")
    problems.extend(_config_drift(registry, audit))
    try:
        from egif.store.copy import verify_digests

        verify_digests(store)
    except EgifError as exc:
        problems.append(exc.message)

    ratified: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    unsigned_approvals = 0
    for ref, row in sorted(rows.items()):
        if row["status"] not in RATIFIED_FAMILY:
            continue
        track = audit.versions.get(ref)
        how = track.ratification if track is not None and track.ratification is not None \
            else Ratification("administrative")
        ratified[ref] = {"status": row["status"], **how.to_dict()}
        counts[how.how] = counts.get(how.how, 0) + 1
        unsigned_approvals += sum(1 for a in how.approvers if a.endswith("(unsigned)"))
    if not audit.signed_registry:
        notes.append("approvals are unsigned: this registry's maintainers have no keys, so an approval is a "
                     "name the writer recorded (add keys with `egif registry config --add-key NAME FILE.pub`)")
    elif unsigned_approvals:
        notes.append(f"{unsigned_approvals} approvals counted in ratifications are unsigned (made before the "
                     "maintainers had keys)")
    if audit.unchecked:
        notes.append(f"{audit.unchecked} signatures by keys nobody had registered then were not checked")
    if audit.chain.legacy:
        notes.append(f"{audit.chain.legacy} events were written before the log was chained: they are fixed by "
                     "the first chained event, not checked one by one")
    labels = {"approved": "ratified here with enough approvals", "shipped": "came in with egif's shipped "
              "standards", "pulled": "came in from a pull", "administrative": "came in ratified through an "
              "administrative path (not by a ratification in this log)", "short": "ratified without enough "
              "approvals"}
    for way, n in sorted(counts.items()):
        notes.append(f"{n} ratified, deprecated or withdrawn versions {labels.get(way, way)}")
    return VerifyReport(store.location, problems, notes, len(audit.chain), audit.chain.legacy, audit.chain.head,
                        audit.signed_registry, audit.signed, ratified)


def publication_problems(audit: Audit, entries: Iterable[Mapping[str, Any]],
                         shipped: Mapping[str, str]) -> list[str]:
    """Why a publisher's index and its log disagree, or a ratification in it does not verify.

    Each entry (a version of the index) must be in the log with the same digest
    and status; a ratified, deprecated or withdrawn one must have been ratified
    in that log with enough approvals that verify, or be one of egif's own
    shipped standards (*shipped*: ``{ref: digest}``), byte for byte.
    """
    out = []
    for v in entries:
        ref, status, digest = f"{v['name']}@{v['version']}", str(v["status"]), str(v["digest"])
        track = audit.versions.get(ref)
        if track is None:
            out.append(f"{ref} is in the index, but the publisher's log never recorded its addition")
            continue
        if track.digest != digest:
            out.append(f"{ref}: the index gives digest {digest[:12]}, but the publisher's log recorded "
                       f"{str(track.digest)[:12]} when it was added")
            continue
        if track.status != status:
            out.append(f"{ref} is {status} in the index, but the publisher's log has it {track.status}")
            continue
        if status not in RATIFIED_FAMILY:
            continue
        how = track.ratification
        if how is not None and how.by_approval:
            continue
        if how is not None and how.how == "shipped":
            if shipped.get(ref) == digest:
                continue
            why = ("it came in as one of egif's shipped standards, but this egif ships it with another digest"
                   if ref in shipped else "it came in as one of egif's shipped standards, which this egif "
                   "does not ship")
        elif how is not None and how.how == "short":
            why = f"its ratification (event #{how.event_id}) had {len(how.approvers)} of {how.needed} approvals"
        else:
            came = how.via if how is not None and how.via else "an administrative path"
            why = f"it came in {status} through {came}, not by a ratification in the publisher's log"
        out.append(f"{ref} is {status} in the index, but its ratification does not verify: {why}")
    return out


def _config_drift(registry: Registry, audit: Audit) -> list[str]:
    """Settings the table holds that the log does not account for (edited outside egif)."""
    store = registry.store
    out = []
    table_maintainers = [str(m) for m in (store.get_config("maintainers") or [])]
    if table_maintainers != audit.maintainers:
        out.append(f"the registry's maintainers ({', '.join(table_maintainers) or 'none'}) differ from those "
                   f"the log records ({', '.join(audit.maintainers) or 'none'}): changed outside egif")
    approvals = store.get_config("approvals_needed")
    if (approvals if approvals is not None else DEFAULT_APPROVALS) != audit.approvals_needed:
        out.append(f"the registry needs {approvals} approvals, but the log records {audit.approvals_needed}: "
                   "changed outside egif")
    try:
        table_keys = eventlog.keys_from_config(store.get_config(eventlog.KEY_MAINTAINER_KEYS))
    except InputError as exc:
        return [*out, f"the registry's maintainer keys are unreadable ({exc.message})"]
    if _prints(table_keys) != _prints(audit.keys):
        out.append("the registry's maintainer keys differ from those the log records: changed outside egif")
    return out


def _prints(keys: Mapping[str, list[PublicKey]]) -> dict[str, set[str]]:
    return {who: {k.fingerprint for k in ks} for who, ks in keys.items() if ks}


__all__ = ["RATIFIED_FAMILY", "Audit", "Ratification", "VerifyReport", "publication_problems", "replay",
           "verify_registry"]
