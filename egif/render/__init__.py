"""Pure functions turning results into text, JSON or JUnit XML strings.

Nothing here prints: the command-line tool writes what these return.  Text
that came from users, documents or publishers goes through the neutraliser in
:mod:`egif.render.text` before it reaches a terminal.
"""

from egif.render.findings import (
    FINDING_KEYS,
    finding_line,
    json_item,
    matrix_json,
    matrix_junit,
    matrix_text,
    render,
    render_json,
    render_junit,
    render_text,
    summary_line,
    verdict_line,
)

__all__ = [
    "FINDING_KEYS",
    "finding_line",
    "json_item",
    "matrix_json",
    "matrix_junit",
    "matrix_text",
    "render",
    "render_json",
    "render_junit",
    "render_text",
    "summary_line",
    "verdict_line",
]
