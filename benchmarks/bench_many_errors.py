"""Time a document whose errors all fall under one parent: egif beside lxml alone.

    .venv/bin/python benchmarks/bench_many_errors.py [--items 5000,10000,20000] [--runs 3] [--before DIR]

A document that is not a collection (a root holding one list, so it is read whole)
with N items, every one invalid, is validated by ``egif validate`` (this tree, and
the egif checkout DIR with ``--before``) and by a Python process that only parses it
and calls lxml's ``XMLSchema.validate`` (the floor: lxml writes down a path for each
error, walking the siblings before it). Each command is a fresh process; the rows of
a size take turns, run by run; the median wall time is printed as a markdown table.
Every egif run must report N errors.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCHEMA = """<?xml version="1.0" encoding="UTF-8"?>
<!-- One list of integers, for a document whose errors share one parent. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="Root"><xs:complexType><xs:sequence>
    <xs:element name="List"><xs:complexType><xs:sequence>
      <xs:element name="Item" type="xs:integer" maxOccurs="unbounded"/>
    </xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
"""

FLOOR = """
import sys
from lxml import etree
schema = etree.XMLSchema(etree.parse(sys.argv[1]))
schema.validate(etree.parse(sys.argv[2]))
print(len(schema.error_log))
"""


def egif_command(tree: Path | None, registry: Path, doc: Path) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = f"{tree}{os.pathsep}{tree / 'cli'}"
    return ([sys.executable, "-P" if tree is not None else "-B", "-m", "egif", "--registry", str(registry),
             "validate", "--format", "json", "--schema", "Many@1.0", str(doc)], env)


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", default="5000,10000,20000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="an earlier egif checkout, measured beside this one")
    args = parser.parse_args()
    sizes = [int(n) for n in args.items.split(",")]
    with tempfile.TemporaryDirectory(prefix="egif-many-") as tmp:
        work = Path(tmp)
        xsd = work / "many.xsd"
        xsd.write_text(SCHEMA, encoding="utf-8")
        registry = work / "registry.sqlite"
        env = dict(os.environ)
        subprocess.run([sys.executable, "-m", "egif", "registry", "init", str(registry)], env=env, check=True,
                       capture_output=True)
        subprocess.run([sys.executable, "-m", "egif", "--registry", str(registry), "schema", "add", str(xsd),
                        "--name", "Many", "--version", "1.0"], env=env, check=True, capture_output=True)
        trees: list[tuple[str, Path | None]] = [("after", None)]
        if args.before is not None:
            trees.append(("before", args.before.resolve()))
        print("| items (all invalid) | file | " + " | ".join(f"egif validate [{label}]" for label, _ in trees)
              + " | lxml alone: parse, XMLSchema.validate |")
        print("|---|---|" + "---|" * (len(trees) + 1))
        for n in sizes:
            doc = work / f"many-{n}.xml"
            doc.write_text("<Root><List>\n" + "".join(f"<Item>x{i}</Item>\n" for i in range(n)) + "</List></Root>\n",
                           encoding="utf-8")
            times: dict[str, list[float]] = {label: [] for label, _ in trees}
            times["lxml"] = []
            for _ in range(args.runs):
                for label, tree in trees:
                    cmd, run_env = egif_command(tree, registry, doc)
                    seconds, out = timed(cmd, run_env)
                    found = out.count('"rule": "xsd:')
                    if found != n:
                        sys.exit(f"egif [{label}] reported {found} errors for {n} items")
                    times[label].append(seconds)
                seconds, out = timed([sys.executable, "-c", FLOOR, str(xsd), str(doc)], env)
                if out.strip() != str(n):
                    sys.exit(f"lxml reported {out.strip()} errors for {n} items")
                times["lxml"].append(seconds)
            cells = [f"{statistics.median(times[label]):.2f} s" for label, _ in trees]
            print(f"| {n:,} | {doc.stat().st_size / 1e6:.2f} MB | " + " | ".join(cells)
                  + f" | {statistics.median(times['lxml']):.2f} s |")
    print(f"\nLoad average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
