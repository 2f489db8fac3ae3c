"""``egif lifecycle ...``, ``egif schema history`` and ``egif registry config``.

A thin layer over :mod:`egif.lifecycle` and :mod:`egif.config`: parse the
options, call the library as the acting identity, print the result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from egif.config import KEY_MAINTAINER_KEYS, ConfigEditor, RegistryConfig, load_config, utc_now
from egif.errors import InputError
from egif.lifecycle import TRANSITIONS, Consultation, Lifecycle, Outcome
from egif.model import Event, Status
from egif.render.text import escape
from egif.signing import PublicKey, configured_signer
from egif_cli.common import echo, echo_json, format_option, outcome_extras, state, warn


def _lifecycle(ctx: click.Context, key: str | None = None) -> Lifecycle:
    return Lifecycle(state(ctx).registry(), signer=configured_signer(key))


key_option = click.option(
    "--key", "key", metavar="FILE",
    help="Sign the decision with this SSH key: an ed25519 private key file, or a .pub file whose key "
         "ssh-agent holds (default: $EGIF_SIGNING_KEY). Required once the maintainers have keys.")


def _table_help() -> str:
    lines = ["\b", "Transitions (the only ones allowed):"]
    for t in TRANSITIONS:
        who = "maintainers" if t.maintainers_only else "anyone"
        lines.append(f"  {t.action:<10} {t.source.value} -> {t.target.value} ({who})")
    return "\n".join(lines)


@click.group("lifecycle", epilog=_table_help())
def lifecycle_group() -> None:
    """Propose, consult on, ratify, deprecate and withdraw schema versions.

    Identity comes from --as, then $EGIF_USER, then the git user. Anyone may
    propose a draft and comment; only maintainers (see `egif registry config`)
    approve, object, close windows, ratify, reject, deprecate and withdraw.
    """


def _done(outcome: Outcome, fmt: str, line: str) -> None:
    if fmt == "json":
        v = outcome.version
        echo_json({"event": outcome.event.to_dict(),
                   "version": {"name": v.name, "version": v.version, "status": v.status.value,
                               "successor": v.successor},
                   **outcome_extras(outcome)})
        return
    echo(line)
    warn(outcome.warnings)


reason_option = click.option("--reason", "-m", default="", metavar="TEXT", help="Why (recorded in the log).")


@lifecycle_group.command("propose")
@click.argument("ref")
@click.option("--comment", "-m", default="", metavar="TEXT", help="A note recorded with the proposal.")
@format_option("text", "json")
@click.pass_context
def propose(ctx: click.Context, ref: str, comment: str, fmt: str) -> None:
    """Make draft REF a candidate and open its consultation window.

    Refused unless it compiles, the linter reports no errors and its fixtures
    (if any) validate as expected.
    """
    outcome = _lifecycle(ctx).propose(ref, comment=comment)
    d = outcome.details
    _done(outcome, fmt, f"{outcome.version.ref} is now a candidate; consultation open until "
                        f"{d['closes_at']} ({d['window_days']} days)" + _check_notes(d["checks"]))


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


@lifecycle_group.command("comment")
@click.argument("ref")
@click.argument("text")
@format_option("text", "json")
@click.pass_context
def comment(ctx: click.Context, ref: str, text: str, fmt: str) -> None:
    """Record a comment on REF (anyone may)."""
    outcome = _lifecycle(ctx).comment(ref, text)
    late = " (after the window closed)" if outcome.details.get("late") else ""
    _done(outcome, fmt, f"comment #{outcome.event.id} recorded on {outcome.version.ref}{late}")


@lifecycle_group.command("approve")
@click.argument("ref")
@reason_option
@format_option("text", "json")
@key_option
@click.pass_context
def approve(ctx: click.Context, ref: str, reason: str, fmt: str, key: str | None) -> None:
    """Approve candidate REF (maintainers)."""
    outcome = _lifecycle(ctx, key).approve(ref, reason)
    _done(outcome, fmt, f"approval #{outcome.event.id} by {escape(outcome.event.actor)} recorded on "
                        f"{outcome.version.ref}")


@lifecycle_group.command("object")
@click.argument("ref")
@click.option("--reason", "-m", required=True, metavar="TEXT", help="Why (required).")
@format_option("text", "json")
@key_option
@click.pass_context
def object_(ctx: click.Context, ref: str, reason: str, fmt: str, key: str | None) -> None:
    """Object to candidate REF (maintainers); it blocks ratification until resolved."""
    outcome = _lifecycle(ctx, key).object(ref, reason)
    _done(outcome, fmt, f"objection #{outcome.event.id} by {escape(outcome.event.actor)} recorded on "
                        f"{outcome.version.ref}")


@lifecycle_group.command("resolve")
@click.argument("ref")
@click.argument("objection", type=int)
@click.option("--reason", "-m", required=True, metavar="TEXT", help="Why (required).")
@format_option("text", "json")
@key_option
@click.pass_context
def resolve(ctx: click.Context, ref: str, objection: int, reason: str, fmt: str, key: str | None) -> None:
    """Resolve OBJECTION (its number) on REF: its author withdraws it, or a maintainer resolves it."""
    outcome = _lifecycle(ctx, key).resolve_objection(ref, objection, reason)
    _done(outcome, fmt, f"objection #{objection} on {outcome.version.ref} "
                        f"{outcome.details['how']} by {escape(outcome.event.actor)}")


@lifecycle_group.command("close-window")
@click.argument("ref")
@click.option("--reason", "-m", required=True, metavar="TEXT", help="Why close early (required).")
@format_option("text", "json")
@key_option
@click.pass_context
def close_window(ctx: click.Context, ref: str, reason: str, fmt: str, key: str | None) -> None:
    """Close the consultation window of candidate REF early (maintainers)."""
    outcome = _lifecycle(ctx, key).close_window(ref, reason)
    _done(outcome, fmt, f"consultation on {outcome.version.ref} closed early by "
                        f"{escape(outcome.event.actor)}")


@lifecycle_group.command("ratify")
@click.argument("ref")
@format_option("text", "json")
@key_option
@click.pass_context
def ratify(ctx: click.Context, ref: str, fmt: str, key: str | None) -> None:
    """Ratify candidate REF (maintainers).

    Refused, with every reason listed, unless the window has closed, enough
    distinct maintainers approved, no objection is open and the diff against
    the newest earlier ratified version is backward compatible (or the major
    version increases).
    """
    outcome = _lifecycle(ctx, key).ratify(ref)
    compat = outcome.details["compatibility"]
    _done(outcome, fmt, f"{outcome.version.ref} is now ratified "
                        f"(approved by {', '.join(escape(a) for a in outcome.details['approvers'])})\n"
                        f"  compatibility ({compat['method']}): {escape(compat['note'])}")


@lifecycle_group.command("reject")
@click.argument("ref")
@click.option("--reason", "-m", required=True, metavar="TEXT", help="Why (required).")
@format_option("text", "json")
@key_option
@click.pass_context
def reject(ctx: click.Context, ref: str, reason: str, fmt: str, key: str | None) -> None:
    """Reject candidate REF (maintainers)."""
    outcome = _lifecycle(ctx, key).reject(ref, reason)
    _done(outcome, fmt, f"{outcome.version.ref} is now rejected")


@lifecycle_group.command("deprecate")
@click.argument("ref")
@click.option("--successor", metavar="VERSION|NAME@VERSION",
              help="The ratified version that replaces REF.")
@reason_option
@format_option("text", "json")
@key_option
@click.pass_context
def deprecate(ctx: click.Context, ref: str, successor: str | None, reason: str, fmt: str, key: str | None) -> None:
    """Deprecate ratified REF (maintainers); give --successor or --reason."""
    outcome = _lifecycle(ctx, key).deprecate(ref, successor=successor, reason=reason)
    extra = f" (successor {outcome.details['successor']})" if outcome.details.get("successor") else ""
    _done(outcome, fmt, f"{outcome.version.ref} is now deprecated{extra}")


@lifecycle_group.command("withdraw")
@click.argument("ref")
@click.option("--reason", "-m", required=True, metavar="TEXT", help="Why (required).")
@format_option("text", "json")
@key_option
@click.pass_context
def withdraw(ctx: click.Context, ref: str, reason: str, fmt: str, key: str | None) -> None:
    """Withdraw deprecated REF (maintainers); withdrawn is final."""
    outcome = _lifecycle(ctx, key).withdraw(ref, reason)
    _done(outcome, fmt, f"{outcome.version.ref} is now withdrawn")


@lifecycle_group.command("status")
@click.argument("ref")
@format_option("text", "json")
@click.pass_context
def status(ctx: click.Context, ref: str, fmt: str) -> None:
    """Show REF's status, consultation window, approvals, objections and comments."""
    lc = _lifecycle(ctx)
    consultation = lc.consultation(ref)
    config = lc.config()
    now = utc_now()
    data = consultation.to_dict(config, now)
    if fmt == "json":
        echo_json(data)
        return
    _print_consultation(consultation, config, now, full=True)


@lifecycle_group.command("pending")
@click.option("--closing-within", "closing", type=click.FloatRange(min=0), metavar="DAYS",
              help="Only consultations still open that close within DAYS days.")
@format_option("text", "json")
@click.pass_context
def pending(ctx: click.Context, closing: float | None, fmt: str) -> None:
    """List every candidate awaiting a decision, soonest-closing first."""
    lc = _lifecycle(ctx)
    found = lc.pending(closing_within=closing)
    config = lc.config()
    now = utc_now()
    if fmt == "json":
        echo_json([c.to_dict(config, now) for c in found])
        return
    if not found:
        echo("nothing awaiting a decision" if closing is None
                   else f"no consultation closes within {closing:g} days")
        return
    for c in found:
        _print_consultation(c, config, now, full=False)


@lifecycle_group.command("newest")
@click.argument("name")
@click.option("--status", "status_", default="ratified", show_default=True,
              type=click.Choice([s.value for s in Status]), help="The status wanted.")
@format_option("text", "json")
@click.pass_context
def newest(ctx: click.Context, name: str, status_: str, fmt: str) -> None:
    """Show the newest version of standard NAME in a given status."""
    v = _lifecycle(ctx).newest(name, status_)
    if fmt == "json":
        echo_json({"name": v.name, "version": v.version, "status": v.status.value, "digest": v.digest})
        return
    echo(f"{v.name}@{v.version}")


def _print_consultation(c: Consultation, config: RegistryConfig, now: datetime, *, full: bool) -> None:
    echo(f"{c.ref}  {c.status.value}")
    if c.opened_at:
        if c.closed_early is not None:
            window = (f"closed early at {escape(c.closed_early.at)} by {escape(c.closed_early.actor)}: "
                      f"{escape(c.closed_early.text)}")
        elif c.window_closed(now):
            window = f"closed at {escape(c.closes_at)}"
        else:
            window = f"open until {escape(c.closes_at)} ({c.days_left(now) or 0:.1f} days left)"
        echo(f"  window:     {window}")
    approvers = c.approvers(config)
    if c.status == Status.CANDIDATE:
        echo(f"  approvals:  {len(approvers)} of {config.approvals_needed}"
                   + (f" ({', '.join(escape(a) for a in approvers)})" if approvers else ""))
        opened = c.open_objections()
        echo(f"  objections: {len(opened)} open of {len(c.objections)}")
        echo(f"  comments:   {len(c.comments)}")
        blockers = c.blockers(config, now)
        echo("  ready to ratify (the compatibility check runs at ratify)" if not blockers
                   else "  waiting for: " + "; ".join(escape(b) for b in blockers))
    if not full:
        return
    for a in c.approvals:
        echo(f"  approval #{a.id}  {escape(a.at)}  {escape(a.actor)}" + (f": {escape(a.text)}" if a.text else ""))
    for o in c.objections:
        state_ = "open" if o.open else (f"resolved by {escape(o.resolved_by)} at {escape(o.resolved_at)}: "
                                        f"{escape(o.resolution)}")
        echo(f"  objection #{o.id}  {escape(o.at)}  {escape(o.actor)}: {escape(o.reason)}  [{state_}]")
    for r in c.comments:
        echo(f"  comment #{r.id}  {escape(r.at)}  {escape(r.actor)}{' (late)' if r.late else ''}: "
             f"{escape(r.text)}")


# -- egif schema history ------------------------------------------------------
@click.command("history")
@click.argument("ref", metavar="NAME[@VERSION]")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only events of this kind (repeatable), e.g. approve, ratify, comment.")
@format_option("text", "json")
@click.pass_context
def history(ctx: click.Context, ref: str, kinds: tuple[str, ...], fmt: str) -> None:
    """Show the audit log of a standard or one of its versions, oldest first."""
    events = _lifecycle(ctx).history(ref)
    if kinds:
        events = [e for e in events if e.kind in kinds]
    if fmt == "json":
        echo_json([e.to_dict() for e in events])
        return
    if not events:
        echo(f"no events for {escape(ref)}")
        return
    for e in events:
        echo(describe_event(e))


def describe_event(e: Event) -> str:
    """One line for an audit event: when, what, which version, who, and why.

    Every value comes from the log, which holds what people typed and what
    publishers sent: each is escaped, so the line stays one line of plain text.
    """
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
    lines = value.get(who, []) if isinstance(value, dict) else []
    prints = []
    for line in lines if isinstance(lines, list) else []:
        try:
            prints.append(PublicKey.parse(str(line)).fingerprint)
        except InputError:
            prints.append("(unreadable key)")
    return "[" + ", ".join(prints) + "]"


# -- egif registry config -----------------------------------------------------
@click.command("config")
@click.option("--add-maintainer", "add", multiple=True, metavar="NAME",
              help="Add a maintainer (repeatable). On a registry without maintainers anyone "
                   "may add the first.")
@click.option("--key", "new_key", metavar="FILE.pub",
              help="With one --add-maintainer: the new maintainer's SSH public key (ed25519). Required "
                   "once the maintainers have keys.")
@click.option("--remove-maintainer", "remove", multiple=True, metavar="NAME",
              help="Remove a maintainer (repeatable); the last one cannot be removed.")
@click.option("--add-key", "add_keys", multiple=True, nargs=2, metavar="NAME FILE.pub",
              help="Register another public key for maintainer NAME (repeatable). The first key "
                   "makes the registry signed: from then on maintainers sign every decision.")
@click.option("--revoke-key", "revoke_keys", multiple=True, nargs=2, metavar="NAME KEY",
              help="Withdraw a key of maintainer NAME, given as its SHA256: fingerprint or its .pub "
                   "file (repeatable); the registry's last key cannot be revoked. Rotate a key by "
                   "adding the new one and revoking the old in one command.")
@click.option("--approvals", type=int, metavar="N", help="Approvals from distinct maintainers needed "
              "to ratify (default 2).")
@click.option("--window-days", type=int, metavar="DAYS",
              help="Length of the consultation window for new proposals (default 28; 0 = none).")
@click.option("--lint-rule", "lint_rules", multiple=True, metavar="RULE=SETTING",
              help="Switch a lint rule off or set its severity: off, error, warning, info or "
                   "default (repeatable).")
@click.option("--signing-key", "signing_key", metavar="FILE",
              help="Sign the changes with this SSH key (private key file, or a .pub file whose key "
                   "ssh-agent holds; default: $EGIF_SIGNING_KEY). Required once the maintainers have keys.")
@click.option("--history", "show_history", is_flag=True, help="Show the log of configuration changes.")
@format_option("text", "json")
@click.pass_context
def config(ctx: click.Context, add: tuple[str, ...], new_key: str | None, remove: tuple[str, ...],
           add_keys: tuple[tuple[str, str], ...], revoke_keys: tuple[tuple[str, str], ...],
           approvals: int | None, window_days: int | None, lint_rules: tuple[str, ...],
           signing_key: str | None, show_history: bool, fmt: str) -> None:
    """Show or change the registry's maintainers, their keys, approvals, window length and lint settings.

    Every change is recorded in the audit log; only maintainers may make one
    (except adding the first maintainer). Once any maintainer has a key, every
    change (like every approval, objection and transition) must be signed by a
    key of the maintainer making it.
    """
    reg = state(ctx).registry()
    editor = ConfigEditor(reg, signer=configured_signer(signing_key))
    if new_key is not None and len(add) != 1:
        raise click.BadParameter("--key goes with exactly one --add-maintainer (use --add-key NAME FILE.pub "
                                 "for others)", param_hint="--key")
    parsed = []
    for item in lint_rules:
        rule, sep, setting = item.partition("=")
        if not sep or not rule.strip() or not setting.strip():
            raise click.BadParameter(f"{item!r}: expected RULE=SETTING", param_hint="--lint-rule")
        parsed.append((rule, setting))
    with reg.store.transaction():  # all requested changes, or none
        for who in add:
            editor.add_maintainer(who, new_key)
        for who, file in add_keys:
            editor.add_key(who, file)
        for who, which in revoke_keys:
            editor.revoke_key(who, which)
        for who in remove:
            editor.remove_maintainer(who)
        if approvals is not None:
            editor.set_approvals_needed(approvals)
        if window_days is not None:
            editor.set_window_days(window_days)
        for rule, setting in parsed:
            editor.set_lint_rule(rule, setting)
    current = load_config(reg)
    if show_history:
        events = list(reg.events(kinds=("config",)))
        if fmt == "json":
            echo_json([e.to_dict() for e in events])
        else:
            for e in events:
                echo(describe_event(e))
            if not events:
                echo("no configuration changes recorded")
        return
    if fmt == "json":
        echo_json(current.to_dict())
        return
    echo(f"maintainers:      {', '.join(escape(m) for m in current.maintainers) or '(none yet)'}")
    if current.signed:
        echo("approvals:        signed (every decision is signed by a key of the maintainer making it)")
        for who in current.maintainers:
            keys = current.keys_of(who)
            echo(f"  {escape(who)}: {', '.join(k.fingerprint for k in keys) or '(no key: cannot act)'}")
    else:
        echo("approvals:        unsigned (no maintainer keys; add them with --add-key NAME FILE.pub)")
    echo(f"approvals needed: {current.approvals_needed}")
    echo(f"window days:      {current.window_days}")
    if current.lint_rules:
        echo("lint rules:")
        for rule, setting in sorted(current.lint_rules.items()):
            echo(f"  {escape(rule)}: {escape(setting)}")
    else:
        echo("lint rules:       (defaults)")


def register(root: click.Group) -> None:
    root.add_command(lifecycle_group)
    schema = root.commands.get("schema")
    if isinstance(schema, click.Group):
        schema.add_command(history)
    registry = root.commands.get("registry")
    if isinstance(registry, click.Group):
        registry.add_command(config)
