"""Rendering what ``egif sample`` says about the file it wrote and the faults it knows."""

from __future__ import annotations

from pathlib import Path

from egif.render.table import lines
from egif.render.text import escape
from egif.sample import SampleReport, fault_kinds, sample_kind


def written_text(report: SampleReport, output: Path, *, seed: int) -> str:
    bad = len(report.invalid)
    return (f"{escape(output)}: {report.schema}, {report.records:,} records, {report.bytes:,} bytes, "
            f"{bad:,} invalid record{'s' if bad != 1 else ''} (seed {seed})\n")


def faults_text(kind: str) -> str:
    spec = sample_kind(kind)
    rows = [f"{kind}: {spec.description} ({spec.schema} {', '.join(spec.versions)})"]
    for f in fault_kinds(kind):
        rule = f" {f.rule}" if f.rule else ""
        rows.append(f"  {f.id:<30} {f.layer:<5}{rule:<10} {f.element:<30} {f.description}")
    return lines(rows)


__all__ = ["faults_text", "written_text"]
