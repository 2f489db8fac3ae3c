"""``egif schema ...``: add, list, show and export stored schema versions."""

from __future__ import annotations

from pathlib import Path

import click

from egif import SchemaVersion
from egif.limits import MAX_SHOWN_METADATA_VALUES, MAX_SHOWN_VALUE_CHARS
from egif.render.text import escape
from egif_cli.common import echo, echo_json, format_option, state


@click.group("schema")
def schema_group() -> None:
    """Add, list, show and export schema versions."""


def _parse_imports(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        ns, sep, target = value.rpartition("=")
        if not sep or not target:
            raise click.BadParameter(f"{value!r}: expected NAMESPACE=NAME@VERSION or NAMESPACE=FILE",
                                     param_hint="--import")
        out[ns] = target
    return out


@schema_group.command("add")
@click.argument("main", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Registry name of the standard, e.g. BS7666.")
@click.option("--version", "version", required=True, help="Version, MAJOR.MINOR (a revision letter may follow: 3.1d).")
@click.option("--import", "imports", multiple=True, metavar="NS=NAME@VERSION|FILE",
              help="Bind an imported namespace (repeatable). Default: the file its schemaLocation names "
                   "when that file is supplied beside the schema, else the newest usable registered "
                   "version of that namespace.")
@click.option("--prefer-registered", is_flag=True,
              help="Bind imports to registered versions of their namespaces even when a file is supplied.")
@format_option("text", "json")
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
                                       imports=_parse_imports(imports),
                                       prefer_registered=prefer_registered)
    v = result.version
    if fmt == "json":
        echo_json({"created": result.created, **v.to_dict(),
                   "bindings": [b.to_dict() for b in result.bindings], "notes": list(result.notes)})
        return
    if result.created:
        echo(f"added {v.name}@{v.version} ({v.status.value}) digest {v.digest[:16]}")
    else:
        echo(f"unchanged: {v.name}@{v.version} is already stored with this content")
    echo(f"  files: {', '.join(escape(f.path) for f in v.files)}")
    for b in result.bindings:
        echo(f"  import {escape(b.namespace or '(no namespace)')} -> {escape(b.target)} "
             f"({escape(b.reason)}: {escape(b.detail)})")
        if b.note:
            echo(f"    note: {escape(b.note)}")
    for note in result.notes:
        echo(f"  note: {escape(note)}")


@schema_group.command("add-set")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--manifest", type=click.Path(path_type=Path),
              help="JSON file naming modules: {\"modules\": {\"File.xsd\": {\"name\": N, \"version\": V}}} "
                   "(default: egif-set.json in DIRECTORY, if present).")
@click.option("--dry-run", is_flag=True, help="Show the plan; store nothing.")
@format_option("text", "json")
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
    if fmt == "json":
        echo_json(result.to_dict())
        return
    head = "plan for" if dry_run else "set"
    echo(f"{head} {escape(result.directory)}: {len(result.entries)} module(s), {len(result.parts)} part(s)")
    for e in result.entries:
        m = e.module
        echo(f"  {escape(e.message)}  [{escape(m.path)}; name from {escape(m.naming)}]")
        if e.action == "conflict":
            continue
        assert e.result is not None
        for b in e.result.bindings:
            echo(f"      import {escape(b.namespace or '(no namespace)')} -> {escape(b.target)} "
                 f"({escape(b.reason)})")
            if b.note:
                echo(f"        note: {escape(b.note)}")
    for part in result.parts:
        echo(f"  part {escape(part)} (stored with the module that includes it)")
    for path, why in result.skipped:
        echo(f"  skipped {escape(path)}: {escape(why)}")
    if dry_run:
        echo("dry run: nothing was stored")


def _binding(b: object) -> str:
    target = getattr(b, "target", None)
    return str(target) if target is not None else f"file {escape(getattr(b, 'bundled_path', ''))}"


@schema_group.command("list")
@click.option("--name", help="Only this standard.")
@click.option("--namespace", help="Only this target namespace.")
@click.option("--status", help="Only this status.")
@format_option("text", "json")
@click.pass_context
def list_(ctx: click.Context, name: str | None, namespace: str | None, status: str | None,
          fmt: str) -> None:
    """List stored schema versions."""
    versions = state(ctx).registry().list(name=name, namespace=namespace, status=status)
    if fmt == "json":
        echo_json([_summary(v) for v in versions])
        return
    if not versions:
        echo("no schema versions match")
        return
    width = max(len(f"{v.name}@{v.version}") for v in versions)
    for v in versions:
        echo(f"{v.name + '@' + v.version:<{width}}  {v.status.value:<10}  {escape(v.namespace or '-')}")


def _summary(v: SchemaVersion) -> dict[str, object]:
    return {"name": v.name, "version": v.version, "status": v.status.value,
            "namespace": v.namespace, "digest": v.digest, "added_at": v.added_at}


@schema_group.command("show")
@click.argument("ref")
@format_option("text", "json")
@click.pass_context
def show(ctx: click.Context, ref: str, fmt: str) -> None:
    """Show one version: REF is NAME@VERSION, or NAME for its newest version."""
    v = state(ctx).registry().get(ref)
    if fmt == "json":
        echo_json(v.to_dict())
        return
    echo(f"{v.name}@{v.version}")
    rows = [
        ("title", escape(v.title or "-")),
        ("namespace", escape(v.namespace or "(none)")),
        ("status", v.status.value + (f" (successor {escape(v.successor)})" if v.successor else "")),
        ("digest", f"sha256:{v.digest}"),
        ("declared", escape(v.declared_version or "(no version attribute)")),
        ("added", f"{escape(v.added_at)} by {escape(v.added_by)}"),
    ]
    for key, value in rows:
        echo(f"  {key + ':':<11}{shorten(value)}")
    echo("  files:")
    for f in v.files:
        echo(f"    {escape(f.path)}  [{f.role}]  {f.size} bytes  sha256:{f.digest[:16]}")
    if v.imports:
        echo("  imports:")
        for b in v.imports:
            echo(f"    {escape(b.namespace)} -> {_binding(b)} ({b.chosen})")
    if v.metadata:
        echo("  e-GMS metadata:")
        shown = 0
        total = sum(len(values) for values in v.metadata.values())
        for key, values in v.metadata.items():
            for value in values:
                if shown == MAX_SHOWN_METADATA_VALUES:
                    break
                echo(f"    {escape(key)}: {shorten(escape(value))}")
                shown += 1
        if shown < total:
            echo(f"    ... {total - shown:,} more values not shown (the limit is "
                 f"{MAX_SHOWN_METADATA_VALUES}); --format json gives them all")


def shorten(text: str, limit: int = MAX_SHOWN_VALUE_CHARS) -> str:
    """*text* cut to *limit* characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters; --format json gives them all)"


@schema_group.command("export")
@click.argument("ref")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, ref: str, directory: Path) -> None:
    """Write REF and everything it imports to DIRECTORY as a self-contained tree."""
    reg = state(ctx).registry()
    written = reg.export(ref, directory)
    resolved = reg.resolve(ref)
    echo(f"wrote {len(written)} files to {escape(directory)}")
    echo(f"main schema: {escape(directory / resolved.main)}")


def register(root: click.Group) -> None:
    root.add_command(schema_group)
