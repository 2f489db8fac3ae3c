"""Generate docs/cli.md from the commands' own --help text.

Run ``python -m egif_cli.docgen > docs/cli.md``; a test fails when the file
is out of date, so the reference can never drift from the tool.
"""

from __future__ import annotations

from collections.abc import Iterator

import click

from egif_cli.app import cli

HEADER = """# CLI reference

Generated from `egif --help` by `python -m egif_cli.docgen > docs/cli.md`;
a test checks it is current.

Exit codes, the same for every command: 0 success; 1 a check failed (an
invalid document, a lint error, a refused lifecycle step, a diff verdict short
of `--require`); 2 a usage error or unusable input (a bad file, an unknown
schema, a broken registry); 130 interrupted (Ctrl-C); 141 the reader of the
output went away (`egif schema list | head -1`): the command stops without a
message, with the status a shell gives any program stopped by a closed pipe
(128 + SIGPIPE), so that `set -o pipefail` never takes a report cut short for
a passed check.

The global options `--registry` and `--as` may be given before the command
(`egif --as bob lifecycle approve REF`) or after it (`egif lifecycle approve
REF --as bob`); given in both places, the one after the command wins, and
either wins over `EGIF_REGISTRY` / `EGIF_USER`.

A reference is `NAME@VERSION` (or `NAME` for the newest version), read the
same way by every command: a malformed version gets one error (`invalid
version '2': expected MAJOR.MINOR ...`), and a name the registry does not hold
gets the closest registered names (`no standard bs7666 in the registry — did
you mean BS7666@2.0?`; same name in another case first, then similar names,
with the versions it has when the one asked for is missing).
"""


def walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command under *command*, loading the lazily registered ones."""
    for sub_path, ctx in contexts(command, path):
        yield sub_path, ctx.command


def contexts(command: click.Command, path: tuple[str, ...], parent: click.Context | None = None
             ) -> Iterator[tuple[tuple[str, ...], click.Context]]:
    """Every command under *command* with the context it runs in (so that each inherits the
    root's settings, ``-h`` among them, as when it is typed), loading the lazily registered ones."""
    ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=100, max_content_width=100,
                        **(command.context_settings if parent is None else {}))
    yield path, ctx
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None:
                yield from contexts(sub, (*path, name), ctx)


def render() -> str:
    parts = [HEADER]
    for path, ctx in contexts(cli, ("egif",)):
        text = ctx.command.get_help(ctx)
        level = "#" * min(len(path) + 1, 4)
        parts.append(f"{level} `{' '.join(path)}`\n\n```text\n{text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    click.echo(render(), nl=False)
