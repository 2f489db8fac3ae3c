"""Publish a registry holding two versions of one oversized schema; print (and optionally record) the cost.

    .venv/bin/python benchmarks/bench_publish_big.py [--components 100000] [--write]

The schema has ``--components`` global components (half simple types, half
elements using them); the second version changes one facet.  Timed, each in
a fresh process (``python -m egif``): ``schema add`` of each version,
``registry publish`` with the HTML catalogue (where the bounds in
egif/limits.py apply: no diff over 10,000 components, 2,000 components
described per page) and ``schema show``.  With ``--write`` the figures
replace the "## Publishing an oversized schema" section of
docs/performance.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NS = "urn:egif:bench:big"
SECTION = "## Publishing an oversized schema"


def write_schema(path: Path, components: int, version: str, changed: int) -> None:
    parts = [f'<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:b="{NS}" '
             f'targetNamespace="{NS}" elementFormDefault="qualified" version="{version}">']
    for i in range(components // 2):
        top = 11 if i == changed else 10
        parts.append(f'<xs:simpleType name="T{i}"><xs:restriction base="xs:string">'
                     f'<xs:maxLength value="{top}"/></xs:restriction></xs:simpleType>'
                     f'<xs:element name="E{i}" type="b:T{i}"/>')
    parts.append("</xs:schema>")
    path.write_text("\n".join(parts), encoding="utf-8")


def run(*args: str, registry: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and stdout size of one egif process."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "egif", "--registry", str(registry), *args],
                                stdout=out, stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir(),
                                env={**os.environ, "EGIF_USER": "bench"})
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"egif {' '.join(args)} failed with exit {proc.returncode}")
        size = out.tell()
    return seconds, usage.ru_maxrss / 1024, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="egif-bench-big-") as tmp:
        folder = Path(tmp)
        registry = folder / "registry.sqlite"
        rows = []
        for version, changed in (("1.0", -1), ("1.1", 7)):
            path = folder / version / f"Big-v{version.replace('.', '-')}.xsd"
            path.parent.mkdir()
            write_schema(path, args.components, version, changed)
            seconds, peak, _ = run("schema", "add", str(path), "--name", "Big", "--version", version,
                                   registry=registry)
            rows.append((f"schema add Big@{version} ({path.stat().st_size / 1e6:.1f} MB)", seconds, peak, ""))
        site = folder / "site"
        seconds, peak, _ = run("registry", "publish", str(site), registry=registry)
        page = site / "catalogue" / "Big.html"
        rows.append(("registry publish (catalogue included, first time)", seconds, peak,
                     f"Big.html {page.stat().st_size / 1e6:.2f} MB"))
        seconds, peak, size = run("schema", "show", "Big@1.1", registry=registry)
        rows.append(("schema show Big@1.1", seconds, peak, f"{size:,} bytes printed"))
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    lines = [
        SECTION, "",
        f"Two versions of one schema of {args.components:,} global components (one facet changed), "
        "each command in a fresh process; the bounds of egif/limits.py apply (no catalogue diff over "
        "10,000 components, 2,000 components described per page). "
        f"Python {platform.python_version()}, {platform.machine()}, load average {' '.join(load)}. "
        "Reproduce with `.venv/bin/python benchmarks/bench_publish_big.py --write`.", "",
        "| step | seconds | peak RSS (MiB) | detail |", "|---|---|---|---|",
        *(f"| {name} | {s:.1f} | {p:.0f} | {d} |" for name, s, p, d in rows),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        doc = ROOT / "docs" / "performance.md"
        current = doc.read_text(encoding="utf-8")
        pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
        updated = pattern.sub(lambda _m: text + "\n", current) if pattern.search(current) \
            else current.rstrip("\n") + "\n\n" + text
        doc.write_text(updated, encoding="utf-8")


if __name__ == "__main__":
    main()
