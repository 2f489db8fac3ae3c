"""Time the diff on two versions of a generated 2,000-type schema, and on a real pair if given.

    .venv/bin/python benchmarks/bench_diff.py                       # print figures
    .venv/bin/python benchmarks/bench_diff.py --pair OLD.xsd NEW.xsd  # also a real pair (local files)
    .venv/bin/python benchmarks/bench_diff.py --write               # also update docs/performance.md

The generated schema has 1,200 simple types (strings with lengths, bounded
integers, enumerations, patterns) and 800 complex types, each a sequence of 5
elements using those types and one complex child, plus 800 global elements.
The new version changes about 15% of the types (widened facets, added optional
elements, an added enumeration value, a narrowed bound).  Timed, each the
median of the runs: compiling both sides (xmlschema and libxml2), the decision
in both directions on the compiled models (witnesses included), the change
list, and the diff with evidence (50 generated documents per direction).
Compilation is reported apart: the targets are for what comes after it.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import re
import statistics
import time
from pathlib import Path

from egif.diff import compare_schemas, diff_schemas
from egif.diff.decide import decide
from egif.diff.model import Side
from egif.diff.values import clear_shared_languages
from egif.resolve import ResolvedSchema

TNS = "urn:egif:bench:diff"
N_SIMPLE = 1200
N_COMPLEX = 800


def simple_type(i: int, changed: bool) -> str:
    kind = i % 4
    if kind == 0:
        top = 40 if changed else 30
        return (f'<xs:simpleType name="S{i}"><xs:restriction base="xs:string">'
                f'<xs:minLength value="1"/><xs:maxLength value="{top}"/></xs:restriction></xs:simpleType>')
    if kind == 1:
        top = 999 if changed else 9999  # narrowed in the new version
        return (f'<xs:simpleType name="S{i}"><xs:restriction base="xs:integer">'
                f'<xs:minInclusive value="0"/><xs:maxInclusive value="{top}"/></xs:restriction></xs:simpleType>')
    if kind == 2:
        values = ["A", "B", "C"] + (["D"] if changed else [])
        enum = "".join(f'<xs:enumeration value="{v}"/>' for v in values)
        return f'<xs:simpleType name="S{i}"><xs:restriction base="xs:token">{enum}</xs:restriction></xs:simpleType>'
    return (f'<xs:simpleType name="S{i}"><xs:restriction base="xs:string">'
            f'<xs:pattern value="[A-Z]{{2}}[0-9]{{{1 + (i % 3)}}}"/></xs:restriction></xs:simpleType>')


def complex_type(i: int, changed: bool) -> str:
    fields = "".join(
        f'<xs:element name="F{j}" type="t:S{(i * 5 + j) % N_SIMPLE}" minOccurs="{j % 2}"/>'
        for j in range(5))
    if i + 1 < N_COMPLEX:
        fields += f'<xs:element name="Next" type="t:C{i + 1}" minOccurs="0"/>'
    if changed:
        fields += '<xs:element name="Extra" type="xs:string" minOccurs="0"/>'
    return f'<xs:complexType name="C{i}"><xs:sequence>{fields}</xs:sequence></xs:complexType>'


def schema(version: str, changed_every: int | None) -> bytes:
    def ch(i: int) -> bool:
        return changed_every is not None and i % changed_every in (0, 1, 2)

    parts = [simple_type(i, ch(i)) for i in range(N_SIMPLE)]
    parts += [complex_type(i, ch(i)) for i in range(N_COMPLEX)]
    parts += [f'<xs:element name="E{i}" type="t:C{i}"/>' for i in range(N_COMPLEX)]
    return (f'<?xml version="1.0"?><xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace="{TNS}" xmlns:t="{TNS}" elementFormDefault="qualified" '
            f'version="{version}">' + "".join(parts) + "</xs:schema>").encode()


def resolved(version: str, changed_every: int | None) -> ResolvedSchema:
    path = f"Bench/{version}/Bench.xsd"
    return ResolvedSchema({path: schema(version, changed_every)}, path, label=f"Bench@{version}")


def quiet() -> None:
    """Before a timed run: collect, and set what exists aside from the collector's scans, so the
    objects left over from earlier measurements do not slow the next one."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def timed(fn: object, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        clear_shared_languages()  # every run builds its value automata from scratch
        quiet()
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return out


def compile_both(a: ResolvedSchema, b: ResolvedSchema) -> None:
    a.xmlschema_schema()
    b.xmlschema_schema()
    a.lxml_schema()
    b.lxml_schema()


def decide_both(a: ResolvedSchema, b: ResolvedSchema) -> tuple[str, str]:
    sa = Side(a.xmlschema_schema(), a.lxml_schema(), "old")
    sb = Side(b.xmlschema_schema(), b.lxml_schema(), "new")
    return decide(sa, sb, "backward").status, decide(sb, sa, "forward").status


def local_pair(old: Path, new: Path) -> tuple[ResolvedSchema, ResolvedSchema]:
    """Both folders' .xsd files, laid out as they are on disk."""
    def load(path: Path) -> ResolvedSchema:
        folder = path.parent
        files = {f"{folder.name}/{p.name}": p.read_bytes() for p in folder.glob("*.xsd")}
        return ResolvedSchema(files, f"{folder.name}/{path.name}", label=str(path))
    return load(old), load(new)


def measure(label: str, make: object, repeat: int, evidence: bool) -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    compile_times: list[float] = []
    for _ in range(repeat):
        a, b = make()  # type: ignore[operator]
        quiet()
        start = time.perf_counter()
        compile_both(a, b)
        compile_times.append(time.perf_counter() - start)
    rows.append((f"{label}: compile both versions (xmlschema + libxml2)", statistics.median(compile_times), ""))
    decide_times: list[float] = []
    statuses = ("", "")
    for _ in range(repeat):
        a, b = make()  # type: ignore[operator]
        compile_both(a, b)  # not timed
        clear_shared_languages()
        quiet()
        start = time.perf_counter()
        statuses = decide_both(a, b)
        decide_times.append(time.perf_counter() - start)
    rows.append((f"{label}: decision, both directions (witnesses included)", statistics.median(decide_times),
                 f"backward {statuses[0]}, forward {statuses[1]}"))
    a, b = make()  # type: ignore[operator]
    compile_both(a, b)
    walk = timed(lambda: compare_schemas(a.xmlschema_schema(), b.xmlschema_schema()), repeat)
    rows.append((f"{label}: change list", statistics.median(walk), ""))
    full = timed(lambda: diff_schemas(a, b, evidence=False), repeat)
    result = diff_schemas(a, b, evidence=False)
    rows.append((f"{label}: diff_schemas without evidence", statistics.median(full),
                 f"verdict {result.verdict}, {len(result.changes)} changes"))
    if evidence:
        ev = timed(lambda: diff_schemas(a, b, samples=50), max(1, repeat // 2))
        rows.append((f"{label}: diff_schemas with evidence (50 documents per direction)", statistics.median(ev), ""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pair", nargs=2, type=Path, metavar=("OLD", "NEW"),
                        help="also time a real pair of local schema files (their folders are read)")
    parser.add_argument("--pair-label", default=None, help="how to name the real pair in the table")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()

    load_before = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    rows = measure("2,000-type schema", lambda: (resolved("1.0", None), resolved("2.0", 20)), args.repeat,
                   evidence=True)
    if args.pair:
        label = args.pair_label or f"{args.pair[0].name} pair"
        rows += measure(label, lambda: local_pair(*args.pair), args.repeat, evidence=False)
    a = resolved("1.0", None)
    types = len([q for q in a.xmlschema_schema().maps.types if q.startswith("{" + TNS)])
    load_after = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    report = [f"{types} named types per version in the generated pair; median of {args.repeat} runs; Python "
              f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; load average "
              f"{' '.join(load_before)} before, {' '.join(load_after)} after.", "",
              "| step | seconds | outcome |", "|---|---|---|"]
    report += [f"| {name} | {secs:.3f} | {note} |" for name, secs, note in rows]
    text = "\n".join(report)
    print(text)
    if args.write:
        write_section(text)


def write_section(text: str) -> None:
    doc = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
    section = ("## Diff\n\nMeasured with `.venv/bin/python benchmarks/bench_diff.py --repeat 5 --pair OLD NEW "
               "--write` (two versions of a generated schema, see the script, and a real pair of local files). "
               "Compilation is listed apart; the targets are for what follows it: under 1 s for a real "
               "message-schema pair, under 2 s for 2,000-type schemas. The decision builds every value "
               "automaton from scratch in each run (the shared cache is emptied first).\n\n" + text + "\n")
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    pattern = re.compile(r"^## Diff\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current).rstrip() + "\n"
    else:
        updated = current.rstrip() + "\n\n" + section
    doc.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    main()
