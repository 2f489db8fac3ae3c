"""Renderer tables: for each kind of result, one mapping of format name -> renderer.

A renderer is a pure function from a result (and a few keyword options) to the
whole text of the output, final line break included.  The command-line tool
offers exactly the formats of a result's table (``--format`` is built from its
keys) and writes what the chosen renderer returns; adding a format is one entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from egif.render.text import escape_json

Renderer: TypeAlias = Callable[..., str]
Renderers: TypeAlias = Mapping[str, Renderer]


def json_document(data: Any) -> str:
    """*data* as indented JSON: the data exactly, with C1 and bidirectional characters as
    ``\\u`` escapes so that the text is safe on a terminal."""
    return escape_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def lines(rows: Iterable[str]) -> str:
    """Rows of text, one a line, each ended by a line break."""
    return "".join(f"{row}\n" for row in rows)


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural_form or word + 's'}"


__all__ = ["Renderer", "Renderers", "json_document", "lines", "plural"]
