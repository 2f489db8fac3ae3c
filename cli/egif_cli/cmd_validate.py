"""``egif validate``: check documents against registered schema versions and their rules."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import sys
import time
from pathlib import Path
from typing import IO, Any

import click

from egif.errors import EgifError, InputError, UnsafeInputError
from egif.model import Finding, Severity
from egif.render.findings import MATRIX, STREAMS, file_counter, progress_text
from egif.render.text import escape, escape_block
from egif.validate import DocumentResult, Session
from egif.validate.core.sources import documents_under
from egif_cli.common import emit, error, format_option, state

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
            import glob  # here: only a pattern needs it, and its import costs every start

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
        self._show((self.prefix + progress_text(p))[:200])

    def file(self, index: int, total: int, name: str) -> None:
        self.prefix = file_counter(index, total)
        self.last = 0.0  # each file's first report is shown at once
        if self.enabled and total > 1:
            self._show("  " + self.prefix + escape(name)[:160])

    def _show(self, line: str) -> None:
        # the control codes here are the progress line's own (back to the start, clear the line)
        click.echo("\r\x1b[K" + escape(line), err=True, nl=False)
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self.shown = False


class Report:
    """Writes results in one format as they come (the format's stream renders them);
    always leaves a complete document."""

    def __init__(self, fmt: str, quiet: bool, progress: ProgressLine, out: IO[str]) -> None:
        self.stream = STREAMS[fmt](quiet=quiet)
        self.progress = progress
        self.out = out
        self.results: list[DocumentResult] = []
        self._write(self.stream.start())

    def _write(self, text: str) -> None:
        if not text:
            return
        self.progress.clear()
        self.out.write(escape_block(text))  # the last guard: fields are escaped where rendered
        self.out.flush()

    def begin(self, source: str) -> None:
        """A file whose findings come as they are found: they belong to *source* until done."""
        self._write(self.stream.begin(source))

    def finding(self, f: Finding, source: str) -> None:
        self._write(self.stream.finding(f, source))

    def done(self, result: DocumentResult, streamed: bool) -> None:
        self.results.append(result)
        if not streamed:
            for f in result.findings:
                self.finding(f, result.source)
        self._write(self.stream.done(result))

    def close(self, interrupted: bool = False) -> None:
        self._write(self.stream.close(self.results, interrupted=interrupted))


def _refused(name: str, exc: EgifError) -> DocumentResult:
    rule = "xml:unsafe" if isinstance(exc, UnsafeInputError) else "xml:input"
    return DocumentResult(name, None, [Finding(exc.message, rule, Severity.ERROR, file=name)])


@click.command("validate", epilog=EPILOG)
@click.argument("inputs", nargs=-1, required=True, metavar="FILE|DIR|GLOB|- ...")
@click.option("--schema", "schema", metavar="NAME[@VERSION]",
              help="Validate against this version (NAME alone: newest, or newest in --status); "
                   "the root element must be declared by that version's own documents.")
@click.option("--status", type=click.Choice(["ratified", "candidate", "draft", "deprecated"]),
              help="Use the newest version of the document's standard in this status.")
@click.option("--against-all", is_flag=True,
              help="Conformance matrix: which registered versions of the standard each "
                   "document satisfies.")
@format_option(STREAMS, help="Output format (json: one object per finding).")
@click.option("--quiet", "-q", is_flag=True,
              help="Text: print only the files that fail, and the summary; no progress line.")
@click.option("--max-errors", type=click.IntRange(min=1), metavar="N",
              help="Stop reporting a file after N errors (default: all).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="Processes for a large collection export, and for many small files "
                   "(checked ahead, results in order; default: all cores).")
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
    out = sys.stdout
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
        with contextlib.closing(session.ahead(files)) as ahead:
            for i, (name, clean) in enumerate(ahead, 1):
                progress.file(i, len(files), name)
                report.done(*((clean, False) if clean is not None else _check(session, name, report)))
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
    report.begin(label)
    try:
        return session.check(source, label=label, on_finding=lambda f: report.finding(f, label)), True
    except InputError as exc:
        return _refused(label, exc), False
    except EgifError as exc:  # unknown schema for this document, withdrawn version...
        if exc.exit_code != 2:
            raise
        return _refused(label, exc), False


def _unusable(exc: EgifError, fmt: str, out: IO[str]) -> None:
    """A complete report in *fmt* saying the run could not start."""
    report = Report(fmt, False, ProgressLine(False), out)
    report.done(DocumentResult("egif validate", None, [Finding(exc.message, "egif:unusable", Severity.ERROR)]),
                streamed=False)
    report.close()
    error(exc)


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
    emit(MATRIX, fmt, rows)
    for r in refused:
        error(f"{r.source}: {r.findings[0].message}")
    if refused:
        raise click.exceptions.Exit(2)
    if any(not any(v for v in verdicts.values()) for _f, _s, verdicts in rows):
        raise click.exceptions.Exit(1)
