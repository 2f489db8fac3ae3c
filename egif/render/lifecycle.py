"""Rendering the lifecycle: decisions taken, consultations, the audit log and the settings.

Every value shown here comes from the audit log or the registry's settings,
which hold what people typed and what publishers sent: each is escaped where it
is placed, so a line stays one line of plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from egif.config import KEY_MAINTAINER_KEYS, RegistryConfig
from egif.errors import InputError
from egif.lifecycle import Consultation, Outcome
from egif.model import Event, SchemaVersion, Status
from egif.render.table import Renderers, json_document, lines
from egif.render.text import escape
from egif.signing import PublicKey


# -- one decision ------------------------------------------------------------------
def _check_notes(checks: dict[str, Any]) -> str:
    notes = []
    lint = checks.get("lint", {})
    if not lint.get("available", True):
        notes.append(lint.get("note", "lint not checked"))
    elif lint.get("warnings"):
        notes.append(f"{lint['warnings']} lint warnings")
    fixtures = checks.get("fixtures", {})
    if fixtures.get("source") == "none":
        notes.append("no fixtures registered")
    else:
        notes.append(f"{fixtures.get('checked', 0)} fixtures passed ({fixtures.get('source')})")
    return "".join(f"\n  {n}" for n in notes)


def _by(o: Outcome) -> str:
    return escape(o.event.actor)


def _proposed(o: Outcome) -> str:
    d = o.details
    return (f"{o.version.ref} is now a candidate; consultation open until {d['closes_at']} "
            f"({d['window_days']} days)" + _check_notes(d.get("checks", {})))


def _ratified(o: Outcome) -> str:
    compat = o.details["compatibility"]
    return (f"{o.version.ref} is now ratified (approved by {', '.join(escape(a) for a in o.details['approvers'])})\n"
            f"  compatibility ({compat['method']}): {escape(compat['note'])}")


def _deprecated(o: Outcome) -> str:
    extra = f" (successor {o.details['successor']})" if o.details.get("successor") else ""
    return f"{o.version.ref} is now deprecated{extra}"


# The line saying what a decision did, by the kind of event it recorded; any other
# kind gets the general sentence of :func:`outcome_text`.
OUTCOME_LINES: dict[str, Callable[[Outcome], str]] = {
    "propose": _proposed,
    "comment": lambda o: (f"comment #{o.event.id} recorded on {o.version.ref}"
                          + (" (after the window closed)" if o.details.get("late") else "")),
    "approve": lambda o: f"approval #{o.event.id} by {_by(o)} recorded on {o.version.ref}",
    "object": lambda o: f"objection #{o.event.id} by {_by(o)} recorded on {o.version.ref}",
    "resolve-objection": lambda o: (f"objection #{escape(o.details['objection'])} on {o.version.ref} "
                                    f"{escape(o.details['how'])} by {_by(o)}"),
    "close-window": lambda o: f"consultation on {o.version.ref} closed early by {_by(o)}",
    "ratify": _ratified,
    "deprecate": _deprecated,
}


def outcome_text(outcome: Outcome) -> str:
    line = OUTCOME_LINES.get(outcome.event.kind)
    if line is not None:
        return line(outcome) + "\n"
    if "to" in outcome.details:  # a status move
        return f"{outcome.version.ref} is now {outcome.version.status.value}\n"
    return (f"{escape(outcome.event.kind)} #{outcome.event.id} by {_by(outcome)} recorded on "
            f"{outcome.version.ref}\n")


# what an outcome adds to its JSON beside the event and the version, when the library set it
OUTCOME_EXTRAS = ("still_imported_by",)


def outcome_json(outcome: Outcome) -> str:
    v = outcome.version
    extras: dict[str, object] = {k: outcome.details[k] for k in OUTCOME_EXTRAS if k in outcome.details}
    if outcome.warnings:
        extras["warnings"] = list(outcome.warnings)
    return json_document({"event": outcome.event.to_dict(),
                          "version": {"name": v.name, "version": v.version, "status": v.status.value,
                                      "successor": v.successor},
                          **extras})


OUTCOME: Renderers = {"text": outcome_text, "json": outcome_json}


# -- consultations -------------------------------------------------------------------
def _consultation_rows(c: Consultation, config: RegistryConfig, now: datetime, *, full: bool) -> Iterator[str]:
    yield f"{c.ref}  {c.status.value}"
    if c.opened_at:
        if c.closed_early is not None:
            window = (f"closed early at {escape(c.closed_early.at)} by {escape(c.closed_early.actor)}: "
                      f"{escape(c.closed_early.text)}")
        elif c.window_closed(now):
            window = f"closed at {escape(c.closes_at)}"
        else:
            window = f"open until {escape(c.closes_at)} ({c.days_left(now) or 0:.1f} days left)"
        yield f"  window:     {window}"
    approvers = c.approvers(config)
    if c.status == Status.CANDIDATE:
        yield (f"  approvals:  {len(approvers)} of {config.approvals_needed}"
               + (f" ({', '.join(escape(a) for a in approvers)})" if approvers else ""))
        yield f"  objections: {len(c.open_objections())} open of {len(c.objections)}"
        yield f"  comments:   {len(c.comments)}"
        blockers = c.blockers(config, now)
        yield ("  ready to ratify (the compatibility check runs at ratify)" if not blockers
               else "  waiting for: " + "; ".join(escape(b) for b in blockers))
    if not full:
        return
    for a in c.approvals:
        yield f"  approval #{a.id}  {escape(a.at)}  {escape(a.actor)}" + (f": {escape(a.text)}" if a.text else "")
    for o in c.objections:
        state = "open" if o.open else (f"resolved by {escape(o.resolved_by)} at {escape(o.resolved_at)}: "
                                       f"{escape(o.resolution)}")
        yield f"  objection #{o.id}  {escape(o.at)}  {escape(o.actor)}: {escape(o.reason)}  [{state}]"
    for r in c.comments:
        yield (f"  comment #{r.id}  {escape(r.at)}  {escape(r.actor)}{' (late)' if r.late else ''}: "
               f"{escape(r.text)}")


def status_text(c: Consultation, *, config: RegistryConfig, now: datetime) -> str:
    return lines(_consultation_rows(c, config, now, full=True))


def status_json(c: Consultation, *, config: RegistryConfig, now: datetime) -> str:
    return json_document(c.to_dict(config, now))


STATUS: Renderers = {"text": status_text, "json": status_json}


def pending_text(found: Sequence[Consultation], *, config: RegistryConfig, now: datetime,
                 closing_within: float | None = None) -> str:
    if not found:
        return ("nothing awaiting a decision\n" if closing_within is None
                else f"no consultation closes within {closing_within:g} days\n")
    return "".join(lines(_consultation_rows(c, config, now, full=False)) for c in found)


def pending_json(found: Sequence[Consultation], *, config: RegistryConfig, now: datetime,
                 closing_within: float | None = None) -> str:
    return json_document([c.to_dict(config, now) for c in found])


PENDING: Renderers = {"text": pending_text, "json": pending_json}


def newest_text(v: SchemaVersion) -> str:
    return f"{v.name}@{v.version}\n"


def newest_json(v: SchemaVersion) -> str:
    return json_document({"name": v.name, "version": v.version, "status": v.status.value, "digest": v.digest})


NEWEST: Renderers = {"text": newest_text, "json": newest_json}


# -- the audit log -----------------------------------------------------------------------
def describe_event(e: Event) -> str:
    """One line for an audit event: when, what, which version, who, and why."""
    d = e.data
    subject = f"{e.name}@{e.version}" if e.version else (e.name or "registry")
    detail = ""
    if "from" in d and "to" in d:
        detail = f"{escape(d['from'])} -> {escape(d['to'])}"
        if d.get("successor"):
            detail += f", successor {escape(d['successor'])}"
        if d.get("closes_at") and e.kind == "propose":
            detail += f", window until {escape(d['closes_at'])}"
    elif e.kind == "add":
        detail = f"as {escape(d.get('status'))}, digest {escape(str(d.get('digest', ''))[:12])}"
    elif e.kind == "resolve-objection":
        detail = f"objection #{escape(d.get('objection'))} {escape(d.get('how', 'resolved'))}"
    elif e.kind == "config" and d.get("key") == KEY_MAINTAINER_KEYS:
        who = d.get("maintainer")
        detail = (f"maintainer keys of {escape(who)}: {_prints(d.get('old'), who)} -> {_prints(d.get('new'), who)}"
                  if isinstance(who, str) else "maintainer keys")
    elif e.kind == "config":
        detail = f"{escape(d.get('key'))}: {escape(repr(d.get('old')))} -> {escape(repr(d.get('new')))}"
        if d.get("bootstrap"):
            detail += " (first maintainer)"
    elif e.kind == "attach":
        detail = f"{escape(d.get('kind'))}/{escape(d.get('name'))}"
    why = d.get("text") or d.get("reason") or d.get("comment") or ""
    parts = [f"{escape(e.at)}  #{e.id:<5} {escape(e.kind):<17} {escape(subject)}  by {escape(e.actor)}"]
    if detail:
        parts.append(f"  [{detail}]")
    if why:
        parts.append(f"  {escape(why)}")
    return "".join(parts)


def _prints(value: Any, who: str) -> str:
    """The fingerprints of *who*'s keys in a ``maintainer_keys`` value, for one line of history."""
    keys = value.get(who, []) if isinstance(value, dict) else []
    prints = []
    for line in keys if isinstance(keys, list) else []:
        try:
            prints.append(PublicKey.parse(str(line)).fingerprint)
        except InputError:
            prints.append("(unreadable key)")
    return "[" + ", ".join(prints) + "]"


def history_text(events: Sequence[Event], *, ref: str) -> str:
    if not events:
        return f"no events for {escape(ref)}\n"
    return lines(describe_event(e) for e in events)


def config_history_text(events: Sequence[Event]) -> str:
    if not events:
        return "no configuration changes recorded\n"
    return lines(describe_event(e) for e in events)


def history_json(events: Sequence[Event], **_options: Any) -> str:
    return json_document([e.to_dict() for e in events])


HISTORY: Renderers = {"text": history_text, "json": history_json}
CONFIG_HISTORY: Renderers = {"text": config_history_text, "json": history_json}


# -- the registry's settings -----------------------------------------------------------------
def _lint_rows(lint: dict[str, Any]) -> Iterator[str]:
    disabled = lint.get("disabled", [])
    severity = lint.get("severity", {})
    base = lint.get("namespace_base")
    if not (disabled or severity or base):
        yield "lint rules:       (defaults)"
        return
    yield "lint rules:"
    for rule in sorted({*disabled, *severity}):
        yield f"  {escape(rule)}: {'off' if rule in disabled else escape(severity[rule])}"
    if base:
        yield f"  namespace base: {escape(base)}"


def config_text(config: RegistryConfig) -> str:
    rows = [f"maintainers:      {', '.join(escape(m) for m in config.maintainers) or '(none yet)'}"]
    if config.signed:
        rows.append("approvals:        signed (every decision is signed by a key of the maintainer making it)")
        for who in config.maintainers:
            keys = config.keys_of(who)
            rows.append(f"  {escape(who)}: {', '.join(k.fingerprint for k in keys) or '(no key: cannot act)'}")
    else:
        rows.append("approvals:        unsigned (no maintainer keys; add them with --add-key NAME FILE.pub)")
    rows.append(f"approvals needed: {config.approvals_needed}")
    rows.append(f"window days:      {config.window_days}")
    rows.extend(_lint_rows(dict(config.lint)))
    for note in config.notes:
        rows.append(f"note: {escape(note)}")
    return lines(rows)


def config_json(config: RegistryConfig) -> str:
    return json_document(config.to_dict())


CONFIG: Renderers = {"text": config_text, "json": config_json}


__all__ = ["CONFIG", "CONFIG_HISTORY", "HISTORY", "NEWEST", "OUTCOME", "OUTCOME_LINES", "PENDING", "STATUS",
           "describe_event", "outcome_text"]
