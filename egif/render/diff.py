"""The renderers of a diff result: text for people, JSON for programs, Markdown for reviews."""

from __future__ import annotations

from egif.diff.render import render_markdown, render_text
from egif.diff.result import DiffResult
from egif.render.table import Renderers, json_document


def diff_text(result: DiffResult, *, require: str | None = None, full_paths: bool = False) -> str:
    return render_text(result, full_paths=full_paths) + "\n"


def diff_json(result: DiffResult, *, require: str | None = None, full_paths: bool = False) -> str:
    return json_document({**result.to_dict(), "require": require,
                          "satisfied": result.satisfies(require) if require else None})


def diff_markdown(result: DiffResult, *, require: str | None = None, full_paths: bool = False) -> str:
    return render_markdown(result)


DIFF: Renderers = {"text": diff_text, "json": diff_json, "markdown": diff_markdown}

__all__ = ["DIFF"]
