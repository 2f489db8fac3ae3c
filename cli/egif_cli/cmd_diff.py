"""``egif diff OLD NEW``: what changed between two schema versions, and is it compatible."""

from __future__ import annotations

import click

from egif.diff import diff_refs
from egif.errors import EgifError
from egif.render.diff import DIFF
from egif_cli.common import diagnostic, emit, format_option, parse_imports, state


@click.command("diff")
@click.argument("old")
@click.argument("new")
@format_option(DIFF)
@click.option("--require", type=click.Choice(["backward", "forward", "full"]),
              help="Exit 1 unless the verdict is at least this compatible.")
@click.option("--import", "imports", multiple=True, metavar="NS=NAME@VERSION|FILE",
              help="Bind an imported namespace of a local-file side (repeatable), as on `schema add`. "
                   "Default: as `schema add` binds them.")
@click.option("--samples", type=click.IntRange(0, 100_000), default=50, show_default=True,
              help="Generated documents per direction used as a second check (0: none).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the generated documents.")
@click.option("--full-paths", is_flag=True, help="Show component paths with namespace URIs (text).")
@click.pass_context
def diff(ctx: click.Context, old: str, new: str, fmt: str, require: str | None, imports: tuple[str, ...],
         samples: int, seed: int, full_paths: bool) -> None:
    """Compare OLD with NEW and decide compatibility.

    Each side is NAME@VERSION from the registry or a local schema file (its
    includes and imports come along).  Verdicts: identical, full, backward,
    forward, breaking; each direction is proven, refuted by a witness
    document that libxml2 accepts under one side and refuses under the
    other, or reported "not proven" with the construct that could not be
    decided (counted as not compatible).  See docs/diff.md.
    """
    bindings = parse_imports(imports)
    try:
        result = diff_refs(state(ctx).registry(), old, new, evidence=samples > 0, samples=samples,
                           seed=seed, imports=bindings)
    except EgifError:
        raise
    except Exception as exc:  # a crash is never a verdict: exit 1 is reserved for --require
        message = " ".join(str(exc).split())[:300]
        diagnostic(f"internal error in diff: {type(exc).__name__}: {message}")
        ctx.exit(2)
    emit(DIFF, fmt, result, require=require, full_paths=full_paths)
    if require and not result.satisfies(require):
        diagnostic(f"verdict {result.verdict} falls short of --require {require}")
        ctx.exit(1)

