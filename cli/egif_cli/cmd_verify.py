"""``egif registry verify``: check the audit log's chain, signatures and ratifications."""

from __future__ import annotations

import click

from egif.render.text import escape
from egif_cli.common import echo, echo_json, format_option, state


@click.command("verify")
@format_option("text", "json")
@click.pass_context
def verify_cmd(ctx: click.Context, fmt: str) -> None:
    """Check the registry's audit log and what it says against the registry's tables.

    Checks every link of the hash-chained log, every signature against the
    maintainer keys in force when it was made, that governance events were
    signed once maintainers had keys, that every event about a version names
    the digest it was added with, that every ratified version had enough
    approvals from distinct maintainer keys since its last proposal, and that
    statuses, digests, settings and stored bytes agree with the log. Says
    plainly when approvals are unsigned.

    Exit 0: everything verifies; 1: problems found (one line each); 2: the
    registry cannot be read.
    """
    from egif.verify import verify_registry

    report = verify_registry(state(ctx).registry())
    if fmt == "json":
        echo_json(report.to_dict())
    else:
        for problem in report.problems:
            echo(f"problem: {escape(problem)}")
        legacy = f", the first {report.legacy_events} from before the chain" if report.legacy_events else ""
        echo(f"log: {report.events} events{legacy}; head {report.head}")
        echo(f"approvals: {'signed' if report.signed_registry else 'unsigned'}; "
             f"{report.signatures_verified} signatures verified")
        for note in report.notes:
            echo(f"note: {escape(note)}")
        count = len(report.problems)
        echo(f"{escape(report.location)}: " + ("verified" if report.ok else
                                              f"{count} problem{'s' if count != 1 else ''}"))
    if not report.ok:
        ctx.exit(1)


def register(root: click.Group) -> None:
    group = root.commands["registry"]
    assert isinstance(group, click.Group)
    group.add_command(verify_cmd)
