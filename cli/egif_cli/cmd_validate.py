"""``egif validate``: check documents against registered schema versions and their rules."""

from __future__ import annotations

import datetime as _dt
import glob
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import click

from egif.errors import EgifError, InputError, UnsafeInputError
from egif.model import Finding, Severity
from egif.render import (
    finding_line,
    json_item,
    matrix_json,
    matrix_junit,
    matrix_text,
    render_junit,
    summary_line,
    verdict_line,
)
from egif.render.text import escape, escape_block
from egif.validate import DocumentResult, Session
from egif.validate.core.sources import documents_under
from egif_cli.common import echo, state

EPILOG = """\b
The schema of each document is detected from its root element's namespace
and its own declaration of the root; a `version` attribute on the root picks
that version; when several versions share the namespace, the newest ratified
one the document conforms to is used. xsi:schemaLocation hints are never
fetched. Business rules run in the same pass as the schema.

\b
Sources: files, directories (every *.xml below, in any case: *.XML too), globs, and `-` for standard
input. gzip, bzip2 and xz data is recognised by its first bytes and
decompressed as it is read. Standard input, compressed data and UTF-16/UTF-32
documents of more than 1 MiB are copied to a temporary file in $TMPDIR (else
/tmp), removed when the file is done.

\b
Output: text findings are printed as they are found, each file's verdict after
its findings; JSON (one object per finding) and JUnit are always complete
documents, also when a file or the schema is unusable or the run is
interrupted (Ctrl-C prints what was found so far, exit 130).

\b
Exit codes:
  0  every document is valid (warnings, e.g. a deprecated version, do not fail)
  1  at least one document is invalid (XSD, business rules, or not
     well-formed after its root start tag)
  2  usage error, or a file is unreadable, not XML, or refused as unsafe
     (entities, external DTD, XInclude, over the size/depth limits),
     or the schema is unknown or withdrawn
  130  interrupted
  141  the output pipe was closed by its reader (| head): stops quietly"""

_GLOB_CHARS = set("*?[")


def expand_inputs(inputs: tuple[str, ...]) -> list[str]:
    """FILE, DIR (every *.xml below it, any case), GLOB, or ``-`` (stdin), in a stable order."""
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
            found = [str(p) for p in documents_under(item)]
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
        self.prefix = ""

    def __call__(self, p: Any) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        seconds = max(float(p.seconds), 1e-6)
        total = float(p.bytes_total) or None
        pct = f" {100 * p.bytes_done / total:5.1f}%" if total else ""
        if p.stage == "reading":
            line = f"  reading {p.bytes_done / 1e6:,.0f} MB{pct}"
        else:
            line = (f"  {p.records:,} records  {p.bytes_done / seconds / 1e6:6.1f} MB/s  "
                    f"{p.errors:,} errors{pct}")
        click.echo("\r\x1b[K" + escape(self.prefix + line)[:200], err=True, nl=False)
        self.shown = True

    def file(self, index: int, total: int, name: str) -> None:
        self.prefix = f"[{index}/{total}] " if total > 1 else ""
        self.last = 0.0  # each file's first report is shown at once
        if self.enabled and total > 1:
            # the control codes here are the progress line's own; the name is escaped
            click.echo(f"\r\x1b[K  [{index}/{total}] {escape(name)[:160]}", err=True, nl=False)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False


class Report:
    """Writes results in one format as they come; always leaves a complete document."""

    def __init__(self, fmt: str, quiet: bool, progress: ProgressLine, out: IO[str]) -> None:
        self.fmt = fmt
        self.quiet = quiet
        self.progress = progress
        self.out = out
        self.results: list[DocumentResult] = []
        self.json_items = 0
        self.pending: list[str] = []  # text lines of the current file (quiet: printed if it fails)
        if fmt == "json":
            self._write("[\n")

    def _write(self, text: str) -> None:
        self.progress.clear()
        self.out.write(escape_block(text))  # the last guard: fields are escaped where rendered
        self.out.flush()

    def finding(self, f: Finding, source: str) -> None:
        if self.fmt == "json":
            self._write(("," if self.json_items else "") + ("\n" if self.json_items else "") + json_item(f, source))
            self.json_items += 1
        elif self.fmt == "text":
            line = "  " + finding_line(f, source) + "\n"
            if self.quiet:
                self.pending.append(line)
            else:
                self._write(line)

    def done(self, result: DocumentResult, streamed: bool) -> None:
        self.results.append(result)
        if not streamed:
            for f in result.findings:
                self.finding(f, result.source)
        if self.fmt == "text":
            failed = result.schema is None or not result.valid
            if self.quiet and failed:
                self._write("".join(self.pending))
            if failed or not self.quiet:
                self._write(verdict_line(result) + "\n")
            self.pending = []

    def close(self, interrupted: bool = False) -> None:
        if self.fmt == "json":
            self._write("\n]\n" if self.json_items else "]\n")
        elif self.fmt == "junit":
            self._write(render_junit(self.results))
        else:
            if self.quiet and interrupted:
                self._write("".join(self.pending))
            text = summary_line(self.results)
            self._write((text + "; interrupted" if interrupted else text) + "\n")


def _refused(name: str, exc: EgifError) -> DocumentResult:
    rule = "xml:unsafe" if isinstance(exc, UnsafeInputError) else "xml:input"
    return DocumentResult(name, None, [Finding(exc.message, rule, Severity.ERROR, file=name)])


def register(root: click.Group) -> None:
    @root.command("validate", epilog=EPILOG)
    @click.argument("inputs", nargs=-1, required=True, metavar="FILE|DIR|GLOB|- ...")
    @click.option("--schema", "schema", metavar="NAME[@VERSION]",
                  help="Validate against this version (NAME alone: newest, or newest in --status); "
                       "the root element must be declared by that version's own documents.")
    @click.option("--status", type=click.Choice(["ratified", "candidate", "draft", "deprecated"]),
                  help="Use the newest version of the document's standard in this status.")
    @click.option("--against-all", is_flag=True,
                  help="Conformance matrix: which registered versions of the standard each "
                       "document satisfies.")
    @click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text",
                  show_default=True, help="Output format (json: one object per finding).")
    @click.option("--quiet", "-q", is_flag=True,
                  help="Text: print only the files that fail, and the summary; no progress line.")
    @click.option("--max-errors", type=click.IntRange(min=1), metavar="N",
                  help="Stop reporting a file after N errors (default: all).")
    @click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
                  help="Processes for large collection exports (default: all cores).")
    @click.option("--allow-withdrawn", is_flag=True,
                  help="Allow validation against a withdrawn or rejected version.")
    @click.option("--no-rules", is_flag=True, help="Skip the Schematron business rules.")
    @click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                  help="The date rules compare with (default: today).")
    @click.pass_context
    def validate(ctx: click.Context, inputs: tuple[str, ...], schema: str | None,
                 status: str | None, against_all: bool, fmt: str, quiet: bool, max_errors: int | None,
                 jobs: int | None, allow_withdrawn: bool, no_rules: bool,
                 today: _dt.datetime | None) -> None:
        """Validate XML documents against their schema version and its business rules."""
        files = expand_inputs(inputs)
        if files.count("-") > 1:
            raise click.UsageError("'-' (standard input) may be given only once")
        progress = ProgressLine(not quiet and sys.stderr.isatty() and os.environ.get("TERM") != "dumb")
        out = click.get_text_stream("stdout")
        try:
            session = Session(state(ctx).registry(), schema=schema, status=status,
                              allow_withdrawn=allow_withdrawn, rules=not no_rules,
                              today=today.date() if today else None, jobs=jobs,
                              max_errors=max_errors, progress=progress)
        except EgifError as exc:
            if fmt == "text" or against_all:
                raise
            _unusable(exc, fmt, out)
            ctx.exit(exc.exit_code)
        if against_all:
            _matrix(session, files, fmt, progress)
            return
        report = Report(fmt, quiet, progress, out)
        try:
            for i, name in enumerate(files, 1):
                progress.file(i, len(files), name)
                report.done(*_check(session, name, report))
        except KeyboardInterrupt:
            report.close(interrupted=True)
            click.echo("egif: interrupted", err=True)
            ctx.exit(130)
        report.close()
        if any(r.schema is None for r in report.results):
            ctx.exit(2)
        if any(not r.valid for r in report.results):
            ctx.exit(1)


def _check(session: Session, name: str, report: Report) -> tuple[DocumentResult, bool]:
    """One file's result, and whether its findings were already written as they came."""
    label = "<stdin>" if name == "-" else name
    source: Any = sys.stdin.buffer if name == "-" else name
    try:
        return session.check(source, label=label, on_finding=lambda f: report.finding(f, label)), True
    except InputError as exc:
        return _refused(label, exc), False
    except EgifError as exc:  # unknown schema for this document, withdrawn version...
        if exc.exit_code != 2:
            raise
        return _refused(label, exc), False


def _unusable(exc: EgifError, fmt: str, out: IO[str]) -> None:
    """A complete JSON or JUnit document saying the run could not start."""
    result = DocumentResult("egif validate", None, [Finding(exc.message, "egif:unusable", Severity.ERROR)])
    if fmt == "json":
        out.write("[\n" + json_item(result.findings[0], "") + "\n]\n")
    else:
        out.write(render_junit([result]))
    echo(f"egif: error: {escape(str(exc))}", err=True)


def _matrix(session: Session, files: list[str], fmt: str, progress: ProgressLine) -> None:
    rows: list[tuple[str, str, dict[str, bool | None]]] = []
    refused: list[DocumentResult] = []
    for i, name in enumerate(files, 1):
        progress.file(i, len(files), name)
        label = "<stdin>" if name == "-" else name
        try:
            standard, verdicts = session.matrix(sys.stdin.buffer if name == "-" else name, label=label)
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
    elif rows:
        echo(matrix_text(rows), nl=False)
    for r in refused:
        echo(f"egif: error: {escape(r.source)}: {escape(r.findings[0].message)}", err=True)
    if refused:
        raise click.exceptions.Exit(2)
    if any(not any(v for v in verdicts.values()) for _f, _s, verdicts in rows):
        raise click.exceptions.Exit(1)
