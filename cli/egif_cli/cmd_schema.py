"""``egif schema ...``: add, list, show and export stored schema versions, and read their history."""

from __future__ import annotations

from pathlib import Path

import click

from egif.render.lifecycle import HISTORY
from egif.render.schema import ADD, ADD_SET, LIST, SHOW, export_text
from egif_cli.common import echo, emit, format_option, parse_imports, state


@click.group("schema")
def schema_group() -> None:
    """Add, list, show and export schema versions."""


@click.command("add")
@click.argument("main", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Registry name of the standard, e.g. BS7666.")
@click.option("--version", "version", required=True, help="Version, MAJOR.MINOR (a revision letter may follow: 3.1d).")
@click.option("--import", "imports", multiple=True, metavar="NS=NAME@VERSION|FILE",
              help="Bind an imported namespace (repeatable). Default: the file its schemaLocation names "
                   "when that file is supplied beside the schema, else the newest usable registered "
                   "version of that namespace.")
@click.option("--prefer-registered", is_flag=True,
              help="Bind imports to registered versions of their namespaces even when a file is supplied.")
@format_option(ADD)
@click.pass_context
def add(ctx: click.Context, main: Path, name: str, version: str, imports: tuple[str, ...],
        prefer_registered: bool, fmt: str) -> None:
    """Store MAIN and every document it includes, binding each import.

    Published files win: an import whose schemaLocation names a file that
    exists beside the schema binds to that file, exactly as published (or to
    a registered version when the file is byte-identical to it).  Every
    binding is printed with the reason it was chosen.

    A new version is a draft; it moves on only through `egif lifecycle`
    (propose, approve, ratify ...), so nobody can add a ratified version
    without the checks and approvals.
    """
    result = state(ctx).registry().add(main, name=name, version=version,
                                       imports=parse_imports(imports),
                                       prefer_registered=prefer_registered)
    emit(ADD, fmt, result)


@click.command("add-set")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--manifest", type=click.Path(path_type=Path),
              help="JSON file naming modules: {\"modules\": {\"File.xsd\": {\"name\": N, \"version\": V}}} "
                   "(default: egif-set.json in DIRECTORY, if present).")
@click.option("--dry-run", is_flag=True, help="Show the plan; store nothing.")
@format_option(ADD_SET)
@click.pass_context
def add_set(ctx: click.Context, directory: Path, manifest: Path | None, dry_run: bool, fmt: str) -> None:
    """Register every module of a published schema set, dependencies first.

    Each document another one imports (or that nothing refers to) becomes a
    version of its own, named from the manifest, else from its GovTalk file
    name (Name-vM-N.xsd, e.g. VBcommon-v3-1d.xsd is VBcommon@3.1d), else from
    its file name and xs:schema/@version.  Documents reached only through
    xs:include are stored as parts of their module.  One transaction; running
    it again changes nothing.  A module already registered under its name and
    version with other content is not added (its importers keep the published
    file, and the plan says how it differs); the exit code is still 0.
    """
    from egif.sets import add_set as run

    result = run(state(ctx).registry(), directory, manifest=manifest, dry_run=dry_run)
    emit(ADD_SET, fmt, result)


@click.command("list")
@click.option("--name", help="Only this standard.")
@click.option("--namespace", help="Only this target namespace.")
@click.option("--status", help="Only this status.")
@format_option(LIST)
@click.pass_context
def list_(ctx: click.Context, name: str | None, namespace: str | None, status: str | None,
          fmt: str) -> None:
    """List stored schema versions."""
    emit(LIST, fmt, state(ctx).registry().list(name=name, namespace=namespace, status=status))


@click.command("show")
@click.argument("ref")
@format_option(SHOW)
@click.pass_context
def show(ctx: click.Context, ref: str, fmt: str) -> None:
    """Show one version: REF is NAME@VERSION, or NAME for its newest version."""
    emit(SHOW, fmt, state(ctx).registry().get(ref))


@click.command("export")
@click.argument("ref")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, ref: str, directory: Path) -> None:
    """Write REF and everything it imports to DIRECTORY as a self-contained tree."""
    reg = state(ctx).registry()
    written = reg.export(ref, directory)
    echo(export_text(written, directory, reg.resolve(ref).main), nl=False)


@click.command("history")
@click.argument("ref", metavar="NAME[@VERSION]")
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              help="Only events of this kind (repeatable), e.g. approve, ratify, comment.")
@format_option(HISTORY)
@click.pass_context
def history(ctx: click.Context, ref: str, kinds: tuple[str, ...], fmt: str) -> None:
    """Show the audit log of a standard or one of its versions, oldest first."""
    from egif.lifecycle import Lifecycle

    events = Lifecycle(state(ctx).registry()).history(ref)
    if kinds:
        events = [e for e in events if e.kind in kinds]
    emit(HISTORY, fmt, events, ref=ref)


for _command in (add, add_set, list_, show, export, history):
    schema_group.add_command(_command)
