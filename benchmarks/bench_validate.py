"""Big-export validation, side by side: egif's streaming engine against libxml2 and xmlschema.

    .venv/bin/python benchmarks/bench_validate.py --size 100MB [--big 1GB] [--write]

Generates a gazetteer extract (benchmarks/gazetteer_gen.py, 0.1% invalid
records) in a temporary folder, runs each tool in its own process while
sampling the memory of that process and all its children from /proc, and
prints a markdown table; ``--write`` also puts it in the "## Validation"
section of docs/performance.md.  Peak memory is given both as the sum of RSS
over the process tree (counts pages shared by forked workers several times)
and as the sum of PSS (shares them out).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import gazetteer_gen  # noqa: E402

ROOT = f"{{{gazetteer_gen.NS}}}GazetteerExtract"
REF = "GazetteerExtract@1.0"

# Each tool is a small program run in a fresh interpreter: argv = registry, file.
TOOLS = {
    "egif stream (all cores)": """
import sys
from pathlib import Path
from egif import Registry
from egif.validate.stream import collection_layout, validate_collection
reg = Registry.open(sys.argv[1], actor="bench")
rs = reg.resolve("{ref}")
layout = collection_layout(rs, "{root}")
print(sum(1 for _ in validate_collection(rs, Path(sys.argv[2]), layout=layout)))
""",
    "egif stream (--jobs 1)": """
import sys
from pathlib import Path
from egif import Registry
from egif.validate.stream import collection_layout, validate_collection
reg = Registry.open(sys.argv[1], actor="bench")
rs = reg.resolve("{ref}")
layout = collection_layout(rs, "{root}")
print(sum(1 for _ in validate_collection(rs, Path(sys.argv[2]), layout=layout, jobs=1)))
""",
    "lxml whole-tree XMLSchema.validate": """
import sys
from lxml import etree
from egif import Registry
from egif.xmlsafe import make_parser
reg = Registry.open(sys.argv[1], actor="bench")
schema = reg.resolve("{ref}").lxml_schema()
tree = etree.parse(sys.argv[2], make_parser())
schema.validate(tree)
print(len(schema.error_log))
""",
    "xmlschema iter_errors": """
import sys
from egif import Registry
reg = Registry.open(sys.argv[1], actor="bench")
schema = reg.resolve("{ref}").xmlschema_schema()
print(sum(1 for _ in schema.iter_errors(sys.argv[2])))
""",
}


def _tree_pids(pid: int) -> list[int]:
    pids = [pid]
    i = 0
    while i < len(pids):
        try:
            for task in os.listdir(f"/proc/{pids[i]}/task"):
                with open(f"/proc/{pids[i]}/task/{task}/children") as fh:
                    pids.extend(int(x) for x in fh.read().split())
        except OSError:
            pass
        i += 1
    return pids


def _memory(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                text = fh.read()
        except OSError:
            continue
        m = re.search(r"^Rss:\s+(\d+) kB", text, re.M)
        p = re.search(r"^Pss:\s+(\d+) kB", text, re.M)
        rss += int(m.group(1)) if m else 0
        pss += int(p.group(1)) if p else 0
    return rss, pss


def measure(cmd: list[str]) -> tuple[float, int, int, str]:
    """Run *cmd*; wall seconds, peak tree RSS and PSS (kB), stdout+stderr."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss, pss = _memory(_tree_pids(proc.pid))
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.02)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    return seconds, peak_rss, peak_pss, out.decode() + err.decode()


def run_tool(name: str, registry: Path, xml: Path) -> tuple[float, int, int, int]:
    code = TOOLS[name].format(ref=REF, root=ROOT)
    seconds, rss, pss, out = measure([sys.executable, "-c", code, str(registry), str(xml)])
    found = int(out.strip().splitlines()[-1])
    return seconds, rss, pss, found


def run_xmllint(schema: Path, xml: Path, stream: bool) -> tuple[float, int, int, int]:
    cmd = ["xmllint", "--noout", "--schema", str(schema), str(xml)]
    if stream:
        cmd.insert(1, "--stream")
    seconds, rss, pss, out = measure(cmd)
    return seconds, rss, pss, len(re.findall(r"Schemas validity error", out))


def many_small(registry: Path, count: int = 1000) -> tuple[float, float]:
    """Seconds for *count* small documents: a Python loop over lxml, and validate_many."""
    code = f"""
import sys, time, glob
from pathlib import Path
from lxml import etree
from egif import Registry
from egif.xmlsafe import make_parser
from egif.validate.stream import validate_many
reg = Registry.open(sys.argv[1], actor="bench")
rs = reg.resolve("{REF}")
schema = rs.lxml_schema()
files = sorted(glob.glob("{REPO}/fixtures/gazetteer/1.0/*/*.xml"))
files = (files * ({count} // len(files) + 1))[:{count}]
t = time.perf_counter()
loop = [schema.validate(etree.parse(f, make_parser())) for f in files]
a = time.perf_counter() - t
t = time.perf_counter()
ours = [not f for _, f in validate_many(rs, files)]
b = time.perf_counter() - t
assert loop == ours
print(a, b)
"""
    out = subprocess.run([sys.executable, "-c", code, str(registry)], capture_output=True, text=True,
                         check=True).stdout
    a, b = (float(x) for x in out.split())
    return a, b


def parse_size(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(MB|GB)", text.strip(), re.I)
    if not m:
        raise SystemExit(f"bad size {text!r}: use e.g. 100MB or 1GB")
    return float(m.group(1)) * (1000 if m.group(2).upper() == "GB" else 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100MB")
    ap.add_argument("--big", default=None, help="also measure the engine on a file this big (e.g. 1GB)")
    ap.add_argument("--skip-xmlschema", action="store_true", help="xmlschema takes minutes at 100MB")
    ap.add_argument("--write", action="store_true", help="write the table into docs/performance.md")
    args = ap.parse_args()
    from egif import Registry

    work = Path(tempfile.mkdtemp(prefix="egif-bench-"))
    try:
        registry = work / "registry.sqlite"
        with Registry.open(registry, actor="bench") as reg:
            rs = reg.resolve(REF)
            rs.write(work / "xsd")
        schema_file = work / "xsd" / rs.main
        xml = work / "export.xml"
        records, bad = gazetteer_gen.write_size(xml, parse_size(args.size), invalid_every=1000)
        mb = xml.stat().st_size / 1e6
        rows = []
        print(f"file: {mb:.1f} MB, {records} records, {len(bad)} invalid", file=sys.stderr)
        names = ["egif stream (all cores)", "egif stream (--jobs 1)"]
        results: dict[str, tuple[float, int, int, int]] = {}
        for name in names:
            results[name] = run_tool(name, registry, xml)
        results["xmllint --stream --schema"] = run_xmllint(schema_file, xml, stream=True)
        results["xmllint --schema (whole tree)"] = run_xmllint(schema_file, xml, stream=False)
        results["lxml whole-tree XMLSchema.validate"] = run_tool("lxml whole-tree XMLSchema.validate",
                                                                 registry, xml)
        if not args.skip_xmlschema:
            results["xmlschema iter_errors"] = run_tool("xmlschema iter_errors", registry, xml)
        for name, (seconds, rss, pss, found) in results.items():
            rows.append((f"{name}", f"{mb:.0f} MB", f"{mb / seconds:.1f}", f"{rss / 1024:.0f}",
                         f"{pss / 1024:.0f}", str(found)))
            print(rows[-1], file=sys.stderr)
        ours = mb / results["egif stream (all cores)"][0]
        ratios = []
        for other in ("xmllint --stream --schema", "lxml whole-tree XMLSchema.validate", "xmlschema iter_errors"):
            if other in results:
                ratios.append(f"{ours / (mb / results[other][0]):.1f}x {other}")
        if args.big:
            big = work / "big.xml"
            _records, _bad = gazetteer_gen.write_size(big, parse_size(args.big), invalid_every=1000)
            xml.unlink()
            bmb = big.stat().st_size / 1e6
            for name in names[:1]:
                seconds, rss, pss, found = run_tool(name, registry, big)
                rows.append((name, f"{bmb:.0f} MB", f"{bmb / seconds:.1f}", f"{rss / 1024:.0f}",
                             f"{pss / 1024:.0f}", str(found)))
                print(rows[-1], file=sys.stderr)
            big.unlink()
        loop, many = many_small(registry)
        table = ["| tool | file | MB/s | peak RSS, process tree (MB) | peak PSS, process tree (MB) "
                 "| errors found |", "|---|---|---|---|---|---|"]
        table += ["| " + " | ".join(r) + " |" for r in rows]
        summary = [
            "",
            f"egif stream throughput: {', '.join(ratios)}.",
            "",
            f"1,000 small documents: Python loop over lxml with a precompiled schema {loop:.2f} s, "
            f"`validate_many` {many:.2f} s ({loop / many:.2f}x the loop's speed).",
            "",
            f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
            f"{len(bad)} invalid records of {records} in the {mb:.0f} MB file.",
        ]
        text = "\n".join(table + summary)
        print(text)
        if args.write:
            write_section(text, " ".join(["--size", args.size] + (["--big", args.big] if args.big else [])))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_section(table: str, argv: str) -> None:
    doc = REPO / "docs" / "performance.md"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    section = (
        "## Validation\n\n"
        "Big-export validation of a generated gazetteer extract (0.1% invalid records), every tool\n"
        "measured side by side in one run. Reproduce with\n"
        f"`.venv/bin/python benchmarks/bench_validate.py {argv} --write`.\n\n"
        f"{table}\n\n"
        "How the engine works and why: docs/validation-streaming.md.\n"
    )
    pattern = re.compile(r"^## Validation\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
