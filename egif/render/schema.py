"""Rendering what ``egif schema`` reports: additions, listings, one version, its export.

Names, paths, namespaces and metadata were supplied by users and publishers:
each is escaped where it is placed (:func:`egif.render.text.escape`); the JSON
forms keep them exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egif.limits import MAX_SHOWN_METADATA_VALUES, MAX_SHOWN_VALUE_CHARS
from egif.model import BindingReport, SchemaVersion
from egif.render.table import Renderers, json_document, lines
from egif.render.text import escape

if TYPE_CHECKING:
    from egif.registry import AddResult
    from egif.sets import SetResult


# -- egif schema add ------------------------------------------------------------
def add_text(result: AddResult) -> str:
    return lines(_add_rows(result))


def _add_rows(result: AddResult) -> Iterator[str]:
    v = result.version
    if result.created:
        yield f"added {v.name}@{v.version} ({v.status.value}) digest {v.digest[:16]}"
    else:
        yield f"unchanged: {v.name}@{v.version} is already stored with this content"
    yield f"  files: {', '.join(escape(f.path) for f in v.files)}"
    yield from _import_rows(result.bindings, "  ", detail=True)
    for note in result.notes:
        yield f"  note: {escape(note)}"


def _import_rows(bindings: Sequence[BindingReport], indent: str, *, detail: bool) -> Iterator[str]:
    """How each import was bound, and why (with the reason's detail when *detail*)."""
    for b in bindings:
        why = f"{escape(b.reason)}: {escape(b.detail)}" if detail else escape(b.reason)
        yield f"{indent}import {escape(b.namespace or '(no namespace)')} -> {escape(b.target)} ({why})"
        if b.note:
            yield f"{indent}  note: {escape(b.note)}"


def add_json(result: AddResult) -> str:
    return json_document({"created": result.created, **result.version.to_dict(),
                          "bindings": [b.to_dict() for b in result.bindings], "notes": list(result.notes)})


ADD: Renderers = {"text": add_text, "json": add_json}


# -- egif schema add-set --------------------------------------------------------
def add_set_text(result: SetResult) -> str:
    return lines(_add_set_rows(result))


def _add_set_rows(result: SetResult) -> Iterator[str]:
    head = "plan for" if result.dry_run else "set"
    yield f"{head} {escape(result.directory)}: {len(result.entries)} module(s), {len(result.parts)} part(s)"
    for e in result.entries:
        m = e.module
        yield f"  {escape(e.message)}  [{escape(m.path)}; name from {escape(m.naming)}]"
        if e.action == "conflict" or e.result is None:
            continue
        yield from _import_rows(e.result.bindings, "      ", detail=False)
    for part in result.parts:
        yield f"  part {escape(part)} (stored with the module that includes it)"
    for path, why in result.skipped:
        yield f"  skipped {escape(path)}: {escape(why)}"
    if result.dry_run:
        yield "dry run: nothing was stored"


def add_set_json(result: SetResult) -> str:
    return json_document(result.to_dict())


ADD_SET: Renderers = {"text": add_set_text, "json": add_set_json}


# -- egif schema list -------------------------------------------------------------
def list_text(versions: Sequence[SchemaVersion]) -> str:
    if not versions:
        return "no schema versions match\n"
    width = max(len(f"{v.name}@{v.version}") for v in versions)
    return lines(f"{v.name + '@' + v.version:<{width}}  {v.status.value:<10}  {escape(v.namespace or '-')}"
                 for v in versions)


def version_summary(v: SchemaVersion) -> dict[str, Any]:
    return {"name": v.name, "version": v.version, "status": v.status.value,
            "namespace": v.namespace, "digest": v.digest, "added_at": v.added_at}


def list_json(versions: Sequence[SchemaVersion]) -> str:
    return json_document([version_summary(v) for v in versions])


LIST: Renderers = {"text": list_text, "json": list_json}


# -- egif schema show ---------------------------------------------------------------
def shorten(text: str, limit: int = MAX_SHOWN_VALUE_CHARS) -> str:
    """*text* cut to *limit* characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters; --format json gives them all)"


def _binding(b: object) -> str:
    target = getattr(b, "target", None)
    return str(target) if target is not None else f"file {escape(getattr(b, 'bundled_path', ''))}"


def show_text(v: SchemaVersion) -> str:
    return lines(_show_rows(v))


def _show_rows(v: SchemaVersion) -> Iterator[str]:
    yield f"{v.name}@{v.version}"
    rows = [
        ("title", escape(v.title or "-")),
        ("namespace", escape(v.namespace or "(none)")),
        ("status", v.status.value + (f" (successor {escape(v.successor)})" if v.successor else "")),
        ("digest", f"sha256:{v.digest}"),
        ("declared", escape(v.declared_version or "(no version attribute)")),
        ("added", f"{escape(v.added_at)} by {escape(v.added_by)}"),
    ]
    for key, value in rows:
        yield f"  {key + ':':<11}{shorten(value)}"
    yield "  files:"
    for f in v.files:
        yield f"    {escape(f.path)}  [{f.role}]  {f.size} bytes  sha256:{f.digest[:16]}"
    if v.imports:
        yield "  imports:"
        for b in v.imports:
            yield f"    {escape(b.namespace)} -> {_binding(b)} ({b.chosen})"
    if v.metadata:
        yield "  e-GMS metadata:"
        shown = 0
        total = sum(len(values) for values in v.metadata.values())
        for key, values in v.metadata.items():
            for value in values:
                if shown == MAX_SHOWN_METADATA_VALUES:
                    break
                yield f"    {escape(key)}: {shorten(escape(value))}"
                shown += 1
        if shown < total:
            yield (f"    ... {total - shown:,} more values not shown (the limit is "
                   f"{MAX_SHOWN_METADATA_VALUES}); --format json gives them all")


def show_json(v: SchemaVersion) -> str:
    return json_document(v.to_dict())


SHOW: Renderers = {"text": show_text, "json": show_json}


# -- egif schema export ---------------------------------------------------------------
def export_text(written: Sequence[object], directory: Path, main: str) -> str:
    return lines([f"wrote {len(written)} files to {escape(directory)}",
                  f"main schema: {escape(directory / main)}"])


__all__ = ["ADD", "ADD_SET", "LIST", "SHOW", "export_text", "shorten", "version_summary"]
