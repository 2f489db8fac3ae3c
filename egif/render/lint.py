"""Rendering the linter's report and its rule table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from egif.lint import Rule, count, has_errors
from egif.model import Finding
from egif.render.table import Renderers, json_document, lines
from egif.render.text import escape


def report_text(findings: Sequence[Finding], *, label: str) -> str:
    rows = []
    for f in findings:
        where = escape(f.file or label)
        if f.line:
            where += f":{f.line}" + (f":{f.column}" if f.column else "")
        rows.append(f"{where}: {f.severity.value}: [{escape(f.rule)}] {escape(f.message)}")
    n = count(findings)
    verdict = "FAIL" if has_errors(findings) else "ok"
    rows.append(f"{escape(label)}: {verdict}: {n['error']} error(s), {n['warning']} warning(s), {n['info']} info")
    return lines(rows)


def report_json(findings: Sequence[Finding], *, label: str) -> str:
    return json_document({"schema": label, "ok": not has_errors(findings), "counts": count(findings),
                          "findings": [f.to_dict() for f in findings]})


REPORT: Renderers = {"text": report_text, "json": report_json}


def rules_text(rules: Mapping[str, Rule]) -> str:
    width = max(len(r) for r in rules)
    return lines(f"{r.id:<{width}}  {r.severity.value:<7}  {r.convention:<6}  {r.summary}" for r in rules.values())


def rules_json(rules: Mapping[str, Rule]) -> str:
    return json_document([{"id": r.id, "severity": r.severity.value, "convention": r.convention,
                           "summary": r.summary} for r in rules.values()])


RULE_LIST: Renderers = {"text": rules_text, "json": rules_json}

__all__ = ["REPORT", "RULE_LIST"]
