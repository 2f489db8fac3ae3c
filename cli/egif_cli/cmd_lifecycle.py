"""``egif lifecycle ...``: a thin layer over :mod:`egif.lifecycle`.

The decisions (propose, approve, ratify, withdraw ...) are built from the
lifecycle's table of actions (:data:`egif.lifecycle.ACTIONS`): one command per
action, its arguments and options from what the action takes, so a new action
in the table is a new command.  The queries (status, pending, newest) are
written out below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from egif.config import utc_now
from egif.lifecycle import ACTIONS, TRANSITIONS, Action, Input, Lifecycle
from egif.model import Status
from egif.render.lifecycle import NEWEST, OUTCOME, PENDING, STATUS
from egif.signing import configured_signer
from egif_cli.common import FormatOption, emit, format_option, state, warn


def lifecycle(ctx: click.Context, key: str | None = None) -> Lifecycle:
    """The lifecycle of the registry in use, acting as the current identity, signing with *key*."""
    return Lifecycle(state(ctx).registry(), signer=configured_signer(key))


def _table_help() -> str:
    lines = ["\b", "Transitions (the only ones allowed):"]
    for t in TRANSITIONS:
        who = "maintainers" if t.maintainers_only else "anyone"
        lines.append(f"  {t.action:<10} {t.source.value} -> {t.target.value} ({who})")
    return "\n".join(lines)


KEY_HELP = ("Sign the decision with this SSH key: an ed25519 private key file, or a .pub file whose key "
            "ssh-agent holds (default: $EGIF_SIGNING_KEY). Required once the maintainers have keys.")


def _param(spec: Input) -> click.Parameter:
    kind: Any = int if spec.integer else str
    if spec.positional:
        return click.Argument([spec.name], type=kind, required=spec.required, metavar=spec.metavar)
    decls = [f"--{spec.name.replace('_', '-')}", *([spec.short] if spec.short else []), spec.name]
    return click.Option(decls, type=kind, required=spec.required, metavar=spec.metavar, help=spec.help)


def action_command(action: Action) -> click.Command:
    """The command that takes *action*: ``egif lifecycle NAME REF [inputs] [--format] [--key]``."""

    @click.pass_context
    def run(ctx: click.Context, /, ref: str, fmt: str, key: str | None = None, **inputs: Any) -> None:
        given = {name: value for name, value in inputs.items() if value is not None}
        outcome = lifecycle(ctx, key).act(action, ref, **given)
        emit(OUTCOME, fmt, outcome)
        if fmt == "text":  # JSON carries them as a field
            warn(outcome.warnings)

    params: list[click.Parameter] = [click.Argument(["ref"])]
    params += [_param(i) for i in action.inputs if i.positional]
    params += [_param(i) for i in action.inputs if not i.positional]
    params.append(FormatOption(renderers=OUTCOME))
    if action.signed:
        params.append(click.Option(["--key", "key"], metavar="FILE", help=KEY_HELP))
    return click.Command(action.name, callback=run, params=params, help=action.help)


@click.command("status")
@click.argument("ref")
@format_option(STATUS)
@click.pass_context
def status(ctx: click.Context, ref: str, fmt: str) -> None:
    """Show REF's status, consultation window, approvals, objections and comments."""
    lc = lifecycle(ctx)
    emit(STATUS, fmt, lc.consultation(ref), config=lc.config(), now=utc_now())


@click.command("pending")
@click.option("--closing-within", "closing", type=click.FloatRange(min=0), metavar="DAYS",
              help="Only consultations still open that close within DAYS days.")
@format_option(PENDING)
@click.pass_context
def pending(ctx: click.Context, closing: float | None, fmt: str) -> None:
    """List every candidate awaiting a decision, soonest-closing first."""
    lc = lifecycle(ctx)
    emit(PENDING, fmt, lc.pending(closing_within=closing), config=lc.config(), now=utc_now(),
         closing_within=closing)


@click.command("newest")
@click.argument("name")
@click.option("--status", "status_", default="ratified", show_default=True,
              type=click.Choice([s.value for s in Status]), help="The status wanted.")
@format_option(NEWEST)
@click.pass_context
def newest(ctx: click.Context, name: str, status_: str, fmt: str) -> None:
    """Show the newest version of standard NAME in a given status."""
    emit(NEWEST, fmt, lifecycle(ctx).newest(name, status_))


def build_group(actions: Sequence[Action] = ACTIONS) -> click.Group:
    """``egif lifecycle``: one command per action of *actions*, and the queries."""
    group = click.Group("lifecycle", epilog=_table_help(), help="""\
Propose, consult on, ratify, deprecate and withdraw schema versions.

Identity comes from --as, then $EGIF_USER, then the git user. Anyone may
propose a draft and comment; only maintainers (see `egif registry config`)
approve, object, close windows, ratify, reject, deprecate and withdraw.
""")
    for action in actions:
        group.add_command(action_command(action))
    for query in (status, pending, newest):
        group.add_command(query)
    return group


lifecycle_group = build_group()
