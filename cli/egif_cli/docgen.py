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
a test checks it is current. Every command exits 0 on success, 1 when a check
fails and 2 on a usage error or unusable input.
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
