"""``egif registry verify``: check the audit log's chain, signatures and ratifications.

Added to the ``registry`` group by :mod:`egif_cli.cmd_registry`.
"""

from __future__ import annotations

import click

from egif.render.registry import VERIFY
from egif_cli.common import emit, format_option, state


@click.command("verify")
@format_option(VERIFY)
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
    emit(VERIFY, fmt, report)
    if not report.ok:
        ctx.exit(1)
