"""Pure functions that turn a :class:`DiffResult` into text or Markdown."""

from __future__ import annotations

import json
from typing import Any

from egif.diff.result import Change, DiffResult
from egif.render.text import escape

_VERDICT_WORDS = {
    "identical": "identical: no change at all",
    "full": "fully compatible: old and new documents validate under both",
    "backward": "backward compatible: documents valid under the old version stay valid",
    "forward": "forward compatible only: new documents pass old validators, some old documents fail",
    "breaking": "breaking: some old documents fail and some new documents fail old validators",
}


_PARTS = {
    "backward": {"yes": "documents valid under the old version stay valid",
                 "no": "some old documents fail", "not-proven": "backward compatibility not proven"},
    "forward": {"yes": "new documents pass old validators", "no": "some new documents fail old validators",
                "not-proven": "forward compatibility not proven"},
}


def verdict_words(result: DiffResult) -> str:
    """The verdict in words; a direction not proven is said so, never called a failure."""
    statuses = {d: result.status(d) for d in ("backward", "forward")}
    if "not-proven" not in statuses.values():
        return _VERDICT_WORDS[result.verdict]
    return f"{result.verdict}: " + "; ".join(_PARTS[d][st] for d, st in statuses.items())


def _effect(c: Change) -> str:
    if c.backward and c.forward:
        return "no effect"
    if c.backward:
        return "widens"
    if c.forward:
        return "narrows"
    return "breaks"


def _value(v: Any, limit: int = 70) -> str:
    text = "-" if v is None else (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short(path: str) -> str:
    """Drop namespace URIs from a path for people: ``{ns}A/{ns}B`` -> ``A/B``."""
    parts: list[str] = []
    current = ""
    in_braces = False
    for ch in path:
        if ch == "{":
            in_braces = True
        elif ch == "}":
            in_braces = False
        if ch == "/" and not in_braces:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    out = []
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            out.append(f"(schema {part[1:-1]})")
        else:
            out.append(part.rsplit("}", 1)[-1] if part.startswith("{") else part)
    return "/".join(out)


_STATUS_WORDS = {
    "backward": {"yes": "yes: every document valid under OLD is valid under NEW",
                 "no": "no: documents valid under OLD are refused by NEW",
                 "not-proven": "not proven (counted as no)"},
    "forward": {"yes": "yes: every document valid under NEW is valid under OLD",
                "no": "no: documents valid under NEW are refused by OLD",
                "not-proven": "not proven (counted as no)"},
}


def _status_lines(result: DiffResult) -> list[tuple[str, str]]:
    return [(d, _STATUS_WORDS[d][result.status(d)]) for d in ("backward", "forward")]


def render_text(result: DiffResult, *, full_paths: bool = False) -> str:
    lines = [f"{escape(result.old_label)} -> {escape(result.new_label)}",
             f"verdict: {result.verdict} ({verdict_words(result)})"]
    for direction, words in _status_lines(result):
        lines.append(f"  {direction}: {words}")
    for note in result.notes:
        lines.append(f"  note: {escape(note)}")
    bump = result.bump_check
    lines.append(f"implied bump: {result.implied_bump}" + (f" ({bump.message})" if bump else ""))
    for w in result.witnesses:
        path = w.path if full_paths else _short(w.path)
        lines.append(f"witness ({w.direction}) at {escape(path)}: {escape(w.reason)}")
        lines.append(f"  refused with: {escape(w.error)}")
        lines.extend("    " + escape(line) for line in w.document.strip().split("\n"))
    for u in result.not_proven:
        path = u.path if full_paths else _short(u.path)
        lines.append(f"not proven at {escape(path)}: {escape(u.construct)}")
    if result.changes:
        lines.append(f"changes ({len(result.changes)}; the typical effect of each rule in brackets):")
        for c in result.changes:
            path = c.path if full_paths else _short(c.path)
            lines.append(f"  [{_effect(c)}] {c.rule}: {escape(path)}")
            if c.kind != "annotation":
                lines.append(f"      {c.kind}: {escape(_value(c.old))} -> {escape(_value(c.new))}")
            if c.note:
                lines.append(f"      note: {escape(c.note)}")
    if result.evidence is not None:
        lines.append("evidence (sampled documents, a second check):")
        for direction, ev in result.evidence.items():
            lines.append(
                f"  {direction}: {ev.accepted_by_source} of {ev.generated} generated documents valid "
                f"at source, {ev.refused_by_target} refused by target; fixtures {ev.fixtures_checked} "
                f"checked, {ev.fixtures_refused} refused")
    for ce in result.counterexamples:
        lines.append(f"counterexample ({ce.direction}, {escape(ce.source)}) overturning a proof: {escape(ce.error)}")
        lines.extend("    " + escape(line) for line in ce.document.strip().split("\n"))
    return "\n".join(lines)


def render_markdown(result: DiffResult) -> str:
    out = [f"## Changes from {escape(result.old_label)} to {escape(result.new_label)}", "",
           f"**Verdict:** {result.verdict} — {verdict_words(result)}.", ""]
    for direction, words in _status_lines(result):
        out.append(f"- **{direction}**: {words}")
    for note in result.notes:
        out.append(f"- **note**: {escape(note)}")
    out.append("")
    bump = result.bump_check
    out.append(f"**Implied version bump:** {result.implied_bump}"
               + (f" ({bump.message})." if bump else "."))
    out.append("")
    if result.witnesses:
        out += ["### Witnesses", ""]
        for w in result.witnesses:
            out += [f"{w.direction} at `{escape(_short(w.path))}`: {escape(w.reason)}. Refused with: "
                    f"{escape(w.error)}", "", "```xml", *map(escape, w.document.strip().split("\n")), "```", ""]
    if result.not_proven:
        out += ["### Not proven", ""]
        out += [f"- `{escape(_short(u.path))}`: {escape(u.construct)}" for u in result.not_proven]
        out.append("")
    if result.changes:
        out += ["### Changes", "", "| Component | Change | Old | New | Typical effect |", "|---|---|---|---|---|"]
        for c in result.changes:
            cells = [f"`{escape(_short(c.path))}`", f"{c.rule}", escape(_value(c.old, 50)), escape(_value(c.new, 50)),
                     _effect(c)]
            out.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
        out.append("")
    else:
        out += ["No changes.", ""]
    if result.evidence is not None:
        out += ["### Evidence", ""]
        for direction, ev in result.evidence.items():
            out.append(f"- {direction}: {ev.accepted_by_source} generated documents valid under the "
                       f"source, {ev.refused_by_target} refused by the target; "
                       f"{ev.fixtures_checked} stored fixtures re-validated, {ev.fixtures_refused} refused.")
        out.append("")
    for ce in result.counterexamples:
        out += [f"Counterexample ({ce.direction}, {escape(ce.source)}) overturning a proof: {escape(ce.error)}", "",
                "```xml", *map(escape, ce.document.strip().split("\n")), "```", ""]
    return "\n".join(out).rstrip() + "\n"


__all__ = ["render_markdown", "render_text", "verdict_words"]
