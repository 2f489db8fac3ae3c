"""``egif validate``: check documents against registered schema versions and their rules."""

from __future__ import annotations

import datetime as _dt
import glob
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from egif import EgifError, Finding, InputError, UnsafeInputError
from egif.render import matrix_json, matrix_junit, matrix_text, render
from egif.render.text import escape
from egif.validate import DocumentResult, Session
from egif.xmlsafe import check_regular_file
from egif_cli.common import echo, state

EPILOG = """\b
The schema of each document is detected from its root element's namespace
and declared global element; a `version` attribute on the root picks that
version; otherwise the newest ratified version is used. xsi:schemaLocation
hints are never fetched.

\b
Exit codes:
  0  every document is valid (warnings, e.g. a deprecated version, do not fail)
  1  at least one document is invalid (XSD or business rules)
  2  usage error, or a file is unreadable, not XML, or refused as unsafe
     (entities, external DTD, XInclude, over the size/depth limits),
     or the schema is unknown or withdrawn"""

_GLOB_CHARS = set("*?[")


def expand_inputs(inputs: tuple[str, ...]) -> list[str]:
    """FILE, DIR (every *.xml below it), GLOB, or ``-`` (stdin), in a stable order."""
    out: list[str] = []
    for item in inputs:
        if item == "-":
            out.append("-")
        elif _GLOB_CHARS & set(item) and not Path(item).exists():
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                raise click.UsageError(f"{item}: no file matches this pattern")
            out.extend(m for m in matches if not Path(m).is_dir())
        elif Path(item).is_dir():
            found = sorted(str(p) for p in Path(item).rglob("*.xml") if p.is_file())
            if not found:
                raise click.UsageError(f"{item}: directory holds no *.xml file")
            out.extend(found)
        else:
            out.append(item)
    # a file named twice (a glob and a path, overlapping dirs) is checked once
    return list(dict.fromkeys(out))


class ProgressLine:
    """A one-line progress display on stderr; silent unless stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0.0
        self.shown = False

    def __call__(self, p: Any) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        seconds = max(float(getattr(p, "seconds", 0.0)), 1e-6)
        done = float(getattr(p, "bytes_done", 0))
        total = float(getattr(p, "bytes_total", 0)) or None
        pct = f" {100 * done / total:5.1f}%" if total else ""
        line = (f"\r  {getattr(p, 'records', 0):,} records  {done / seconds / 1e6:6.1f} MB/s  "
                f"{getattr(p, 'errors', 0):,} errors{pct}")
        click.echo(line, err=True, nl=False)
        self.shown = True

    def file(self, index: int, total: int, name: str) -> None:
        if self.enabled and total > 1:
            # the control codes here are the progress line's own; the name is escaped
            click.echo(f"\r\x1b[K  [{index}/{total}] {escape(name)[:160]}", err=True, nl=False)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False


def _refused(name: str, exc: EgifError) -> DocumentResult:
    rule = "xml:unsafe" if isinstance(exc, UnsafeInputError) else "xml:input"
    return DocumentResult(name, None, [Finding(exc.message, rule, file=name)])


def register(root: click.Group) -> None:
    @root.command("validate", epilog=EPILOG)
    @click.argument("inputs", nargs=-1, required=True, metavar="FILE|DIR|GLOB|- ...")
    @click.option("--schema", "schema", metavar="NAME[@VERSION]",
                  help="Validate against this version (NAME alone: newest, or newest in --status).")
    @click.option("--status", type=click.Choice(["ratified", "candidate", "draft", "deprecated"]),
                  help="Use the newest version of the document's standard in this status.")
    @click.option("--against-all", is_flag=True,
                  help="Conformance matrix: which registered versions of the standard each "
                       "document satisfies.")
    @click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
                  show_default=True, help="Output format (json: one object per finding).")
    @click.option("--max-errors", type=click.IntRange(min=1), metavar="N",
                  help="Stop reporting a file after N errors (default: all).")
    @click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
                  help="Worker processes for large collection exports (default: all cores).")
    @click.option("--allow-withdrawn", is_flag=True,
                  help="Allow validation against a withdrawn or rejected version.")
    @click.option("--no-rules", is_flag=True, help="Skip the Schematron business rules.")
    @click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                  help="The date rules compare with (default: today).")
    @click.pass_context
    def validate(ctx: click.Context, inputs: tuple[str, ...], schema: str | None,
                 status: str | None, against_all: bool, fmt: str, max_errors: int | None,
                 jobs: int | None, allow_withdrawn: bool, no_rules: bool,
                 today: _dt.datetime | None) -> None:
        """Validate XML documents: XSD first, then the version's business rules."""
        files = expand_inputs(inputs)
        if files.count("-") > 1:
            raise click.UsageError("'-' (standard input) may be given only once")
        progress = ProgressLine(sys.stderr.isatty() and os.environ.get("TERM") != "dumb")
        session = Session(state(ctx).registry(), schema=schema, status=status,
                          allow_withdrawn=allow_withdrawn, rules=not no_rules,
                          today=today.date() if today else None, jobs=jobs,
                          max_errors=max_errors, progress=progress)
        stdin_data = sys.stdin.buffer.read() if "-" in files else b""

        if against_all:
            _matrix(session, files, stdin_data, fmt, progress)
            return
        results: list[DocumentResult] = []
        for i, name in enumerate(files, 1):
            progress.file(i, len(files), name)
            label = "<stdin>" if name == "-" else name
            try:
                if name == "-":
                    results.append(session.check(stdin_data, label=label))
                else:
                    check_regular_file(Path(name), label)  # a FIFO or device: use '-' instead
                    results.append(session.check(name, label=label))
            except InputError as exc:
                results.append(_refused(label, exc))
            except EgifError as exc:  # unknown schema for this document, withdrawn version...
                if exc.exit_code != 2:
                    raise
                results.append(_refused(label, exc))
        progress.clear()
        echo(render(results, fmt), nl=False)
        if any(r.schema is None for r in results):
            ctx.exit(2)
        if any(not r.valid for r in results):
            ctx.exit(1)


def _matrix(session: Session, files: list[str], stdin_data: bytes, fmt: str,
            progress: ProgressLine) -> None:
    rows: list[tuple[str, str, dict[str, bool | None]]] = []
    refused: list[DocumentResult] = []
    for i, name in enumerate(files, 1):
        progress.file(i, len(files), name)
        label = "<stdin>" if name == "-" else name
        try:
            if name != "-":
                check_regular_file(Path(name), label)
            standard, verdicts = session.matrix(stdin_data if name == "-" else name, label=label)
        except EgifError as exc:
            if exc.exit_code != 2:
                raise
            refused.append(_refused(label, exc))
            continue
        rows.append((label, standard, dict(verdicts)))
    progress.clear()
    if fmt == "json":
        echo(matrix_json(rows), nl=False)
    elif fmt == "junit":
        echo(matrix_junit(rows), nl=False)
    else:
        if rows:
            echo(matrix_text(rows), nl=False)
    for r in refused:
        echo(f"egif: error: {escape(r.source)}: {escape(r.findings[0].message)}", err=True)
    if refused:
        raise click.exceptions.Exit(2)
    if any(not any(v for v in verdicts.values()) for _f, _s, verdicts in rows):
        raise click.exceptions.Exit(1)
