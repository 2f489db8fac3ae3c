"""Time the sample generators: a big export of each kind, throughput and peak memory.

    .venv/bin/python benchmarks/bench_sample.py [--size 100MB] [--runs 3] [--write]

Each run writes ``--size`` bytes of one kind (seed 7, invalid rate 0.001) to a
file in a temporary folder, in a fresh process so that peak RSS is the
generator's own.  Prints a markdown table (median of the runs); ``--write``
also puts it in the "## Sample generation" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, time
from egif.sample import write_sample
kind, path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
with open(path, "wb") as out:
    report = write_sample(kind, out, size=size, seed=7, invalid_rate=0.001)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "bytes": report.bytes, "records": report.records,
                  "invalid": len(report.invalid), "rss_mb": peak / 1024, "base_mb": base / 1024}))
"""


def parse_size(text: str) -> int:
    from egif.sample import parse_size as parse

    return parse(text)


def measure(kind: str, size: int, runs: int) -> dict[str, float]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", CHILD, kind, os.path.join(tmp, f"{kind}.xml"),
                                  str(size)], capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout))
    best = statistics.median(r["seconds"] for r in results)
    first = results[0]
    return {"seconds": best, "bytes": first["bytes"], "records": first["records"],
            "invalid": first["invalid"], "rss_mb": max(r["rss_mb"] for r in results),
            "base_mb": first["base_mb"]}


def table(rows: dict[str, dict[str, float]]) -> str:
    lines = ["| kind | records | MB | seconds | MB/s | records/s | planted errors | peak RSS (after imports) |",
             "|---|---|---|---|---|---|---|---|"]
    for kind, r in rows.items():
        mb = r["bytes"] / 1e6
        lines.append(f"| {kind} | {int(r['records']):,} | {mb:.0f} | {r['seconds']:.2f} | "
                     f"{mb / r['seconds']:.0f} | {r['records'] / r['seconds']:,.0f} | {int(r['invalid'])} | "
                     f"{r['rss_mb']:.0f} MB ({r['base_mb']:.0f} MB) |")
    return "\n".join(lines)


def write_section(text_table: str, argv: str) -> None:
    doc = REPO / "docs" / "performance.md"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    section = (
        "## Sample generation\n\n"
        "`egif sample` writing one big export of each kind (seed 7, invalid rate 0.001) to a local file,\n"
        f"median of the runs, one core; {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} cores. Reproduce with\n"
        f"`.venv/bin/python benchmarks/bench_sample.py {argv} --write`.\n\n"
        f"{text_table}\n\n"
        "Peak RSS is that of the whole process; the figure in brackets is the RSS after importing egif,\n"
        "before generating: the generator itself holds one 256 kB output buffer and a street table.\n"
        "See docs/sample.md.\n"
    )
    pattern = re.compile(r"^## Sample generation\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="100MB", help="bytes per export (default 100MB)")
    ap.add_argument("--runs", type=int, default=3, help="runs per kind (default 3)")
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = ap.parse_args()
    size = parse_size(args.size)
    rows = {kind: measure(kind, size, args.runs) for kind in ("gazetteer", "persons")}
    text = table(rows)
    print(text)
    if args.write:
        write_section(text, f"--size {args.size} --runs {args.runs}")


if __name__ == "__main__":
    main()
