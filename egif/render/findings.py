"""Rendering validation results: text for people, JSON for programs, JUnit for CI.

File names, paths and messages quote what documents and users supplied: the
text and JUnit renderings escape each of them (:mod:`egif.render.text`), and
the JSON keeps them exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from lxml import etree

from egif.model import Finding, Severity
from egif.render.table import Renderers
from egif.render.text import escape, escape_json
from egif.validate.core.result import DocumentResult

# The keys of every JSON finding, in this order; documented in docs/validation.md.
FINDING_KEYS = ("file", "line", "column", "path", "record", "rule", "severity", "message")


def _where(f: Finding, default_file: str) -> str:
    where = escape(f.file or default_file)
    if f.line is not None:
        where += f":{f.line}"
        if f.column is not None:
            where += f":{f.column}"
    return where


def finding_line(f: Finding, default_file: str = "") -> str:
    """``file:line:col: error [rule] path (record N): message``."""
    parts = [f"{_where(f, default_file)}: {f.severity.value} [{escape(f.rule)}]"]
    if f.path:
        parts.append(f" {escape(f.path)}")
    if f.record is not None:
        parts.append(f" (record {f.record})")
    parts.append(f": {escape(f.message)}")
    return "".join(parts)


def _counts(results: Sequence[DocumentResult]) -> tuple[int, int, int, int, int]:
    unusable = sum(1 for r in results if r.schema is None)
    invalid = sum(1 for r in results if r.schema is not None and not r.valid)
    valid = len(results) - unusable - invalid
    errors = sum(len(r.errors) for r in results)
    warnings = sum(len(r.warnings) for r in results)
    return valid, invalid, unusable, errors, warnings


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_line(results: Sequence[DocumentResult]) -> str:
    valid, invalid, unusable, errors, warnings = _counts(results)
    text = f"{_plural(len(results), 'file')}: {valid} valid, {invalid} invalid"
    if unusable:
        text += f", {unusable} unreadable or refused"
    text += f"; {_plural(errors, 'error')}"
    if warnings:
        text += f", {_plural(warnings, 'warning')}"
    return text


def verdict_line(r: DocumentResult) -> str:
    """One file's verdict: ``extract.xml: invalid against X@1.0 (3 errors), 5 records``."""
    source, schema = escape(r.source), escape(r.schema)
    if r.schema is None:
        head = f"{source}: refused"
    elif r.valid:
        head = f"{source}: valid ({schema})"
    elif r.truncated:
        head = f"{source}: invalid against {schema} (stopped after {_plural(len(r.errors), 'error')})"
    else:
        head = f"{source}: invalid against {schema} ({_plural(len(r.errors), 'error')})"
    if r.records is not None:
        head += f", {_plural(r.records, 'record')}"
    return head


def render_text(results: Sequence[DocumentResult]) -> str:
    """Grouped per file: the file's findings, one a line, then its verdict; a summary at the end
    (the order ``egif validate`` prints in as it goes)."""
    lines: list[str] = []
    for r in results:
        lines.extend("  " + finding_line(f, r.source) for f in r.findings)
        lines.append(verdict_line(r))
    lines.append(summary_line(results))
    return "\n".join(lines) + "\n"


def finding_dict(f: Finding, default_file: str) -> dict[str, Any]:
    d = f.to_dict()
    d["file"] = d["file"] or default_file
    return {k: d[k] for k in FINDING_KEYS}


def render_json(results: Sequence[DocumentResult]) -> str:
    """A JSON array with one object per finding (keys: :data:`FINDING_KEYS`)."""
    items = [json_item(f, r.source) for r in results for f in r.findings]
    return "[\n" + ",\n".join(items) + ("\n]\n" if items else "]\n")


def json_item(f: Finding, default_file: str) -> str:
    """One finding as an element of the JSON array :func:`render_json` writes (indented by
    two spaces, no comma): the CLI writes them as they are found."""
    text = escape_json(json.dumps(finding_dict(f, default_file), indent=2, ensure_ascii=False))
    return "\n".join("  " + line for line in text.splitlines())


def render_junit(results: Sequence[DocumentResult], *, suite: str = "egif validate",
                 interrupted: tuple[str, Sequence[Finding]] | None = None) -> str:
    """JUnit XML: one testcase per file; a failure (invalid) or error (refused: no schema)
    inside.  *interrupted*: the file a run was stopped in and its findings so far, written
    as one more testcase with an error of type ``interrupted``."""
    _valid, invalid, unusable, _errors, _warnings = _counts(results)
    tests, errors = len(results) + (interrupted is not None), unusable + (interrupted is not None)
    root = etree.Element("testsuites", name=suite, tests=str(tests), failures=str(invalid), errors=str(errors))
    ts = etree.SubElement(root, "testsuite", name=suite, tests=str(tests), failures=str(invalid),
                          errors=str(errors), skipped="0")
    for r in results:
        case = etree.SubElement(ts, "testcase", name=escape(r.source),
                                classname=escape(r.schema or "unvalidated").replace(".", "_"))
        text = "\n".join(finding_line(f, r.source) for f in r.findings)
        if r.schema is None:
            first = escape(r.findings[0].message) if r.findings else "refused"
            el = etree.SubElement(case, "error", message=first[:500], type="input")
            el.text = text
        elif not r.valid:
            el = etree.SubElement(case, "failure",
                                  message=f"{_plural(len(r.errors), 'error')}; first: "
                                          f"{escape(r.errors[0].message)}"[:500],
                                  type="invalid")
            el.text = text
        elif r.warnings:
            out = etree.SubElement(case, "system-out")
            out.text = text
    if interrupted is not None:
        source, so_far = interrupted
        case = etree.SubElement(ts, "testcase", name=escape(source), classname="interrupted")
        el = etree.SubElement(case, "error", type="interrupted",
                              message=f"interrupted before the end of the file; {_plural(len(so_far), 'finding')} "
                                      "so far")
        el.text = "\n".join(finding_line(f, source) for f in so_far)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data.decode("utf-8")


# The whole report of finished results, by format.
RESULTS: Renderers = {"text": render_text, "json": render_json, "junit": render_junit}


def render(results: Sequence[DocumentResult], fmt: str) -> str:
    return RESULTS[fmt](results)


class FindingStream(Protocol):
    """The report of a validation run written as it goes: each call returns the text to
    write now (possibly nothing); whatever happens, ``close`` completes the document."""

    def start(self) -> str: ...
    def begin(self, source: str) -> str: ...
    def finding(self, f: Finding, source: str) -> str: ...
    def done(self, result: DocumentResult) -> str: ...
    def close(self, results: Sequence[DocumentResult], *, interrupted: bool = False) -> str: ...


class TextStream:
    """Each finding as it is found, each file's verdict after its findings, a summary at the end.

    ``quiet``: only the files that fail (their findings held back until the verdict), and the summary.
    """

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.pending: list[str] = []

    def start(self) -> str:
        return ""

    def begin(self, source: str) -> str:
        return ""

    def finding(self, f: Finding, source: str) -> str:
        line = "  " + finding_line(f, source) + "\n"
        if self.quiet:
            self.pending.append(line)
            return ""
        return line

    def done(self, result: DocumentResult) -> str:
        failed = result.schema is None or not result.valid
        out = "".join(self.pending) if self.quiet and failed else ""
        if failed or not self.quiet:
            out += verdict_line(result) + "\n"
        self.pending = []
        return out

    def close(self, results: Sequence[DocumentResult], *, interrupted: bool = False) -> str:
        out = "".join(self.pending) if self.quiet and interrupted else ""
        text = summary_line(results)
        return out + (text + "; interrupted" if interrupted else text) + "\n"


class JsonStream:
    """The JSON array of :func:`render_json`, one finding at a time."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.items = 0

    def start(self) -> str:
        return "[\n"

    def begin(self, source: str) -> str:
        return ""

    def finding(self, f: Finding, source: str) -> str:
        sep = ",\n" if self.items else ""
        self.items += 1
        return sep + json_item(f, source)

    def done(self, result: DocumentResult) -> str:
        return ""

    def close(self, results: Sequence[DocumentResult], *, interrupted: bool = False) -> str:
        return "\n]\n" if self.items else "]\n"


class JunitStream:
    """JUnit XML is one document: written whole when the run ends, or when it is
    interrupted (then with the file it was stopped in and that file's findings so far)."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.current: str | None = None  # the file begun and not done
        self.so_far: list[Finding] = []

    def start(self) -> str:
        return ""

    def begin(self, source: str) -> str:
        self.current, self.so_far = source, []
        return ""

    def finding(self, f: Finding, source: str) -> str:
        if self.current is not None:
            self.so_far.append(f)
        return ""

    def done(self, result: DocumentResult) -> str:
        self.current, self.so_far = None, []
        return ""

    def close(self, results: Sequence[DocumentResult], *, interrupted: bool = False) -> str:
        stopped_in = (self.current, self.so_far) if interrupted and self.current is not None else None
        return render_junit(results, interrupted=stopped_in)


# The streamed report of ``egif validate``, by format.
STREAMS: Mapping[str, Callable[..., FindingStream]] = {"text": TextStream, "json": JsonStream,
                                                       "junit": JunitStream}


def matrix_text(rows: Sequence[tuple[str, str, Mapping[str, bool | None]]]) -> str:
    """The conformance matrix as a table: documents down, versions across (nothing without rows)."""
    if not rows:
        return ""
    columns: list[str] = []
    for _file, _std, verdicts in rows:
        for c in verdicts:
            if c not in columns:
                columns.append(c)
    rows = [(escape(f), s, {escape(c): v for c, v in verdicts.items()}) for f, s, verdicts in rows]
    width = max([len("document"), *(len(f) for f, _s, _v in rows)])
    col_w = [max(len(c), 5) for c in columns]
    head = "document".ljust(width) + "  " + "  ".join(c.ljust(w) for c, w in zip(columns, col_w,
                                                                                strict=True))
    lines = [head.rstrip(), "-" * len(head.rstrip())]
    for file, _std, verdicts in rows:
        cells = []
        for c, w in zip(columns, col_w, strict=True):
            v = verdicts.get(c)
            cells.append(("-" if v is None else "yes" if v else "no").ljust(w))
        lines.append((file.ljust(width) + "  " + "  ".join(cells)).rstrip())
    return "\n".join(lines) + "\n"


def matrix_junit(rows: Sequence[tuple[str, str, Mapping[str, bool | None]]], *,
                 suite: str = "egif validate --against-all") -> str:
    """The conformance matrix as JUnit XML: one testcase per document, failing
    when the document satisfies none of the versions (as the exit code)."""
    failures = sum(1 for _f, _s, v in rows if not any(v.values()))
    root = etree.Element("testsuites", name=suite, tests=str(len(rows)), failures=str(failures),
                         errors="0")
    ts = etree.SubElement(root, "testsuite", name=suite, tests=str(len(rows)),
                          failures=str(failures), errors="0", skipped="0")
    for file, standard, verdicts in rows:
        case = etree.SubElement(ts, "testcase", name=escape(file), classname=escape(standard))
        text = "\n".join(f"{escape(v)}: {'-' if ok is None else 'yes' if ok else 'no'}"
                         for v, ok in verdicts.items())
        if not any(verdicts.values()):
            el = etree.SubElement(case, "failure", type="nonconforming",
                                  message=f"satisfies none of the {len(verdicts)} versions of "
                                          f"{escape(standard)}")
            el.text = text
        else:
            out = etree.SubElement(case, "system-out")
            out.text = text
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data.decode("utf-8")


def matrix_json(rows: Sequence[tuple[str, str, Mapping[str, bool | None]]]) -> str:
    out = [{"file": f, "standard": s, "versions": dict(v)} for f, s, v in rows]
    return escape_json(json.dumps(out, indent=2, ensure_ascii=False)) + "\n"


def progress_text(p: Any) -> str:
    """One line of progress (an :class:`egif.validate.Progress`): bytes read, or records and speed."""
    seconds = max(float(p.seconds), 1e-6)
    total = float(p.bytes_total) or None
    pct = f" {100 * p.bytes_done / total:5.1f}%" if total else ""
    if p.stage == "reading":
        return f"  reading {p.bytes_done / 1e6:,.0f} MB{pct}"
    return f"  {p.records:,} records  {p.bytes_done / seconds / 1e6:6.1f} MB/s  {p.errors:,} errors{pct}"


def file_counter(index: int, total: int) -> str:
    """``[3/10] `` while several files are checked, else nothing."""
    return f"[{index}/{total}] " if total > 1 else ""


# The conformance matrix of ``egif validate --against-all``, by format.
MATRIX: Renderers = {"text": matrix_text, "json": matrix_json, "junit": matrix_junit}


__all__ = [
    "FINDING_KEYS",
    "MATRIX",
    "RESULTS",
    "STREAMS",
    "FindingStream",
    "JsonStream",
    "JunitStream",
    "Severity",
    "TextStream",
    "file_counter",
    "finding_dict",
    "finding_line",
    "json_item",
    "matrix_json",
    "matrix_junit",
    "matrix_text",
    "progress_text",
    "render",
    "render_json",
    "render_junit",
    "render_text",
    "summary_line",
    "verdict_line",
]
