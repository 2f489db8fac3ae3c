"""Diff two versions of a generated 1,000-type schema; print (and optionally record) timings.

    .venv/bin/python benchmarks/bench_diff.py            # print figures
    .venv/bin/python benchmarks/bench_diff.py --write    # also update docs/performance.md "## Diff"

The schema has 600 simple types (strings with lengths, bounded integers,
enumerations, patterns) and 400 complex types, each a sequence of 5 elements
using those types and one complex child, plus 400 global elements.  The new
version changes about 15% of the types (widened facets, added optional
elements, an added enumeration value, a narrowed bound).  Timed: compiling both
sides with xmlschema, the rule-based diff on the compiled models, and the diff
with evidence (50 generated documents per direction).
"""

from __future__ import annotations

import argparse
import platform
import re
import statistics
import time
from pathlib import Path

from egif.diff import diff_schemas
from egif.resolve import ResolvedSchema

TNS = "urn:egif:bench:diff"
N_SIMPLE = 600
N_COMPLEX = 400


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


def timed(fn: object, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()

    compile_times: list[float] = []
    for _ in range(args.repeat):
        a, b = resolved("1.0", None), resolved("2.0", 20)
        start = time.perf_counter()
        a.xmlschema_schema()
        b.xmlschema_schema()
        compile_times.append(time.perf_counter() - start)
    a, b = resolved("1.0", None), resolved("2.0", 20)
    a.xmlschema_schema()
    b.xmlschema_schema()
    result = diff_schemas(a, b, evidence=False)
    rules = timed(lambda: diff_schemas(a, b, evidence=False), args.repeat)
    evidence = timed(lambda: diff_schemas(a, b, samples=50), max(1, args.repeat // 2))
    types = len([q for q in a.xmlschema_schema().maps.types if q.startswith("{" + TNS)])

    rows = [
        ("compile both versions (xmlschema)", statistics.median(compile_times)),
        ("rule-based diff of the compiled models", statistics.median(rules)),
        ("diff with evidence (50 documents per direction, lxml)", statistics.median(evidence)),
    ]
    report = [f"{types} named types per version; {len(result.changes)} changes found; "
              f"verdict {result.verdict}; median of {args.repeat} runs; Python "
              f"{platform.python_version()}, {platform.machine()}.", "",
              "| step | seconds |", "|---|---|"]
    report += [f"| {name} | {secs:.3f} |" for name, secs in rows]
    text = "\n".join(report)
    print(text)
    if args.write:
        write_section(text)


def write_section(text: str) -> None:
    doc = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
    section = ("## Diff\n\nMeasured with `.venv/bin/python benchmarks/bench_diff.py --write` "
               "(two versions of a generated schema, see the script).\n\n" + text + "\n")
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Performance\n"
    pattern = re.compile(r"^## Diff\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current).rstrip() + "\n"
    else:
        updated = current.rstrip() + "\n\n" + section
    doc.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    main()
