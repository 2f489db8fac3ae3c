"""Pure functions turning results into text, JSON, JUnit XML or Markdown strings.

Nothing here prints: the command-line tool writes what these return.  Each kind
of result has one table of renderers by format name (:mod:`egif.render.table`),
in the module for its part of the tool: :mod:`~egif.render.findings`
(validation, streamed and whole; the conformance matrix), :mod:`~egif.render.diff`,
:mod:`~egif.render.lint`, :mod:`~egif.render.lifecycle` (decisions,
consultations, history, settings), :mod:`~egif.render.schema` and
:mod:`~egif.render.registry` (info, copy, publish, pull, catalog, verify).
The command line's ``--format`` choices are a table's keys.  Only the
validation renderers are imported here: importing a table imports what its
results need (the diff, the linter), which ``egif validate`` never loads.

Text that came from users, documents or publishers goes through the
neutraliser in :mod:`egif.render.text` before it reaches a terminal.
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
