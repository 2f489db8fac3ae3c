"""`egif validate` as a supplier runs it, side by side with xmllint, on three export shapes.

    .venv/bin/python benchmarks/bench_validate.py --size 100MB --big 1GB --runs 3 [--before DIR] [--write]

For each shape -- a gazetteer extract and a person record list written by
``egif sample``, and an address list of ~300-byte records with pattern facets
(benchmarks/addresslist_gen.py) -- a file of ``--size`` is written with faults
of both layers planted at a known line (seed 7, 0.1% of records; ``--rate 0.01`` for a
dirty export), and these run
in fresh processes, interleaved run by run so that every row sees the same load:

* ``xmllint --stream --noout --schema`` (XSD only; its error count must equal the
  planted schema faults);
* ``egif validate FILE`` (XSD and business rules, every core), ``--no-rules``,
  ``--jobs 1`` and ``--jobs 1 --no-rules``: wall time and CPU time (the process and
  its workers) per MB; every finding is compared with the planted faults -- each at
  its exact line, nothing else.

``--before DIR`` runs the same egif rows with the egif source tree in DIR (a checkout
of an earlier commit) in the same run, for before/after figures.  With ``--big`` a
gazetteer extract of that size is validated from a path, from standard input (through
a pipe) and gzip-compressed, while the process tree's memory is sampled every 20 ms
(sampling costs CPU, so these runs are not timed).  Then 1,000 small documents are
checked in one call with rules (``Validator.check_many``) beside a Python loop over
lxml with a precompiled schema (XSD only), and the start-up of ``egif validate
small.xml`` is timed.  ``--write`` puts the tables in docs/performance.md.

``--small-only`` measures just those two (many small documents, start-up), in a few
minutes; with ``--write`` it replaces only their part of docs/performance.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# the small document whose whole command the start-up rows time and count
SMALL_DOC = REPO / "fixtures" / "gazetteer" / "1.0" / "valid" / "three-records.xml"
sys.path.insert(0, str(HERE))

import addresslist_gen  # noqa: E402

SEED = 7
RATE = 0.001
TODAY = "2026-11-01"
SHAPES = {
    "gazetteer": ("GazetteerExtract@1.0", "gazetteer extract"),
    "persons": ("PersonRecordList@1.0", "person record list"),
    "addresslist": ("AddressList@1.0", "address list (~300-byte records, patterns)"),
}
ROWS: dict[str, list[str]] = {
    "default (XSD + rules, all cores)": [],
    "--no-rules": ["--no-rules"],
    "--jobs 1 (XSD + rules)": ["--jobs", "1"],
    "--jobs 1 --no-rules": ["--jobs", "1", "--no-rules"],
}
# Python's bytecode cache on, as an installed egif has it (some sandboxes set
# PYTHONDONTWRITEBYTECODE, which would make every tool process compile egif again).
BASE_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}


@dataclass
class Tree:
    """One egif source tree: this checkout (after) or an earlier one (before)."""

    label: str
    root: Path
    registry: Path = Path()

    @property
    def env(self) -> dict[str, str]:
        return {**BASE_ENV, "PYTHONPATH": f"{self.root}{os.pathsep}{self.root / 'cli'}"}

    def egif(self, *args: str) -> list[str]:
        # -P: the current directory is not put first on sys.path, so PYTHONPATH decides
        # which tree's egif runs (the benchmark may be started from either checkout)
        return [sys.executable, "-P", "-m", "egif", "--registry", str(self.registry), *args]

    def python(self, code: str, *args: str) -> str:
        out = subprocess.run([sys.executable, "-P", "-c", code, *args], env=self.env, capture_output=True,
                             text=True, check=False)
        if out.returncode:
            raise SystemExit(f"{self.label}: {out.stderr.strip()[-800:]}")
        return out.stdout


_SETUP = """
import sys
from egif import Registry
# the registry API of the tree measured: Registry.init and _add(via=) now, Registry.open and add before
reg = getattr(Registry, "init", Registry.open)(sys.argv[1], actor="bench")
if hasattr(reg, "_add"):
    reg._add(sys.argv[2], name="AddressList", version="1.0", status="ratified", via="benchmark set-up")
else:
    reg.add(sys.argv[2], name="AddressList", version="1.0", status="ratified")
reg.attach("AddressList@1.0", "schematron", "addresslist.sch", open(sys.argv[3], "rb").read())
reg.close()
import egif.validate, lxml.etree, egif_cli.app  # warm the bytecode cache
"""


def setup(tree: Tree, work: Path) -> None:
    folder = work / f"registry-{tree.label}"
    folder.mkdir()
    tree.registry = folder / "registry.sqlite"
    xsd, sch = folder / "AddressList-v1-0.xsd", folder / "addresslist.sch"
    xsd.write_text(addresslist_gen.SCHEMA)
    sch.write_text(addresslist_gen.RULES)
    tree.python(_SETUP, str(tree.registry), str(xsd), str(sch))


# -- measuring ---------------------------------------------------------------------------
def run(cmd: list[str], env: dict[str, str], stdin: Path | None = None,
        ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, str]:
    """Wall and CPU seconds (the process and everything it waited for), and stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fh:
        proc = subprocess.run(cmd, stdin=fh, capture_output=True, env=env, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd[:6]} failed ({proc.returncode}): {proc.stderr.decode()[-800:]}")
    return wall, cpu, proc.stdout.decode() + proc.stderr.decode()


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


def sampled(cmd: list[str], env: dict[str, str], *, pipe_from: Path | None = None) -> tuple[float, int, int, str]:
    """Run *cmd* (fed through a pipe from ``cat`` when *pipe_from*) while sampling its
    process tree: seconds, peak RSS and PSS sums (kB), output."""
    start = time.perf_counter()
    # the output goes to a file: a pipe nobody reads while the tree is sampled would fill
    # up and stop the command for good
    with tempfile.TemporaryFile() as sink, tempfile.TemporaryFile() as sink_err:
        feeder = subprocess.Popen(["cat", str(pipe_from)], stdout=subprocess.PIPE) if pipe_from else None
        proc = subprocess.Popen(cmd, stdin=feeder.stdout if feeder else subprocess.DEVNULL,
                                stdout=sink, stderr=sink_err, env=env)
        if feeder is not None and feeder.stdout is not None:
            feeder.stdout.close()
        peak_rss = peak_pss = 0
        while proc.poll() is None:
            rss, pss = _memory(_tree_pids(proc.pid))
            peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
            time.sleep(0.02)
        if feeder is not None:
            feeder.wait()
        sink.seek(0)
        sink_err.seek(0)
        out = sink.read() + sink_err.read()
    return time.perf_counter() - start, peak_rss, peak_pss, out.decode()


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# -- the exports -------------------------------------------------------------------------
@dataclass
class Export:
    shape: str
    ref: str
    path: Path
    records: int
    planted: list[tuple[int, int, str]]  # (record, line, layer)

    @property
    def mb(self) -> float:
        return self.path.stat().st_size / 1e6

    def expected(self, rules: bool) -> list[tuple[int, int]]:
        return sorted((r, line) for r, line, layer in self.planted if rules or layer == "xsd")


def write_export(shape: str, path: Path, size: int, rate: float = RATE) -> Export:
    """An export of *shape* of about *size* bytes, a *rate* of its records faulty."""
    ref = SHAPES[shape][0]
    if shape == "addresslist":
        records, planted = addresslist_gen.write(path, size, seed=SEED, invalid_rate=rate)
        return Export(shape, ref, path, records, planted)
    from egif.sample import write_sample

    with path.open("wb") as fh:
        report = write_sample(shape, fh, size=size, seed=SEED, invalid_rate=rate, faults=("all",))
    # a duplicate-preferred fault in the first record has no earlier record to repeat: the
    # generator then writes nothing wrong; keep only faults a validator can see
    return Export(shape, ref, path, report.records,
                  [(r.record, r.line, r.layer) for r in report.invalid])


def findings_of(out: str) -> list[tuple[int, int]]:
    """(record, line) of every error egif printed as JSON; ValueError when a file was refused."""
    start = out.index("[")
    data = json.loads(out[start:out.rindex("]") + 1])
    refused = [d["message"] for d in data if d["rule"] in ("xml:input", "xml:unsafe")]
    if refused:
        raise ValueError(refused[0])
    return sorted((d["record"] or 0, d["line"] or 0) for d in data if d["severity"] == "error")


# -- rows --------------------------------------------------------------------------------
@dataclass
class Row:
    name: str
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def shape_rows(export: Export, trees: list[Tree], xsd: Path, runs: int) -> list[Row]:
    rows: dict[str, Row] = {"xmllint": Row("xmllint --stream --schema (XSD only)")}
    tasks: list[tuple[Row, Callable[[], tuple[float, float, str]], Callable[[str], None]]] = []

    def check_xmllint(out: str) -> None:
        found = len(re.findall(r"Schemas validity error", out))
        want = len(export.expected(False))
        rows["xmllint"].note = f"{found} errors" + ("" if found == want else f" (planted: {want})")

    cmd = ["xmllint", "--stream", "--noout", "--schema", str(xsd), str(export.path)]
    tasks.append((rows["xmllint"], lambda: run(cmd, BASE_ENV, ok=(0, 3)), check_xmllint))  # 3: invalid
    for tree in trees:
        for name, extra in ROWS.items():
            row = rows[f"{tree.label} {name}"] = Row(f"egif validate {name} [{tree.label}]")
            egif_cmd = tree.egif("validate", "--format", "json", "--today", TODAY, "--schema", export.ref,
                                 *extra, str(export.path))

            def check(out: str, row: Row = row, rules: bool = "--no-rules" not in extra) -> None:
                found = findings_of(out)
                want = export.expected(rules)
                row.note = ("all planted found, exact lines" if found == want else
                            f"MISMATCH: {len(found)} found, {len(want)} planted, "
                            f"missing {sorted(set(want) - set(found))[:3]}, extra {sorted(set(found) - set(want))[:3]}")

            tasks.append((row, lambda c=egif_cmd, t=tree: run(c, t.env), check))
    for i in range(runs):
        for row, task, check in tasks:
            wall, cpu, out = task()
            row.walls.append(wall)
            row.cpus.append(cpu)
            if i == runs - 1:
                check(out)
    return list(rows.values())


def shape_table(export: Export, rows: list[Row]) -> list[str]:
    base = rows[0]
    lines = [f"**{SHAPES[export.shape][1]}** ({export.ref}): {export.mb:.0f} MB, {export.records:,} records, "
             f"{len(export.planted)} planted faults ({len(export.expected(False))} schema, "
             f"{len(export.planted) - len(export.expected(False))} rules)", "",
             "| tool | MB/s | speed vs xmllint | CPU s/MB | CPU vs xmllint | findings |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.name} | {export.mb / r.wall:.1f} | {base.wall / r.wall:.2f}x | "
                     f"{r.cpu / export.mb * 1000:.1f} ms | {r.cpu / base.cpu:.2f}x | {r.note} |")
    return lines


def memory_rows(trees: list[Tree], big: Export, work: Path, small: Export) -> list[str]:
    gz = work / "big.xml.gz"
    with big.path.open("rb") as src, gzip.open(gz, "wb", compresslevel=1) as out:
        shutil.copyfileobj(src, out, 1 << 20)
    lines = ["| source | egif | file | seconds | peak RSS, process tree | peak PSS, process tree | findings |",
             "|---|---|---|---|---|---|---|"]
    for tree in trees:
        cases: list[tuple[str, Export, list[str], Path | None]] = [
            ("path", big, [str(big.path)], None),
            ("standard input (pipe)", big, ["-"], big.path),
            ("gzip file", big, [str(gz)], None)]
        if tree.label == "before":
            # the earlier engine read standard input whole into memory (GBs at 1 GB): measured at the
            # small size instead; it did not read gzip at all
            cases = [cases[0], ("standard input (pipe)", small, ["-"], small.path), ("gzip file", big, [str(gz)], None)]
        for label, export, args, pipe in cases:
            cmd = tree.egif("validate", "--format", "json", "--today", TODAY, "--schema", export.ref, *args)
            seconds, rss, pss, out = sampled(cmd, tree.env, pipe_from=pipe)
            try:
                found = findings_of(out)
                note = ("all planted found, exact lines" if found == export.expected(True)
                        else f"MISMATCH: {len(found)} found, {len(export.expected(True))} planted")
            except ValueError as exc:
                note = f"refused: {str(exc)[:100]}"
            lines.append(f"| {label} | {tree.label} | {export.mb:,.0f} MB | {seconds:.1f} | {rss / 1024:.0f} MB | "
                         f"{pss / 1024:.0f} MB | {note} |")
            print(lines[-1], file=sys.stderr)
    return lines


# What the many-documents scripts share: the registry (argv[1]), a validator maker that also
# reads the before tree's API, the lxml loop they are measured against, and interleaved timing.
_BATCH_PRELUDE = """
import glob, json, statistics, sys, time
from lxml import etree
from egif import Registry
from egif.validate import Validator
from egif.xmlsafe import make_parser
reg = Registry.open(sys.argv[1], actor="bench")
make = getattr(Validator, "for_version", None) or (lambda r, ref, **kw: Validator(r, ref, **kw))
schema = reg.resolve("GazetteerExtract@1.0").lxml_schema()


def loop(files):
    return [schema.validate(etree.parse(f, make_parser())) for f in files]


def medians(ways, turns):
    times = {k: [] for k in ways}
    for _ in range(turns):
        for k, f in ways.items():
            t = time.perf_counter(); f(); times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}
"""

_MANY = _BATCH_PRELUDE + """
files = sorted(glob.glob(sys.argv[2]))
ruled = make(reg, "GazetteerExtract@1.0")
plain = make(reg, "GazetteerExtract@1.0", rules=False)
ways = {
    "loop": lambda: loop(files),
    "rules": lambda: [r.valid for r in ruled.check_many(files)],
    "xsd": lambda: [r.valid for r in plain.check_many(files)],
}
answers = {k: f() for k, f in ways.items()}  # warm up, and compare verdicts
assert answers["loop"] == answers["xsd"], "verdicts differ"
print(json.dumps({"n": len(files), "invalid": answers["rules"].count(False), **medians(ways, 7)}))
"""


_SIZES = _BATCH_PRELUDE + """
every = sorted(glob.glob(sys.argv[2]))
spread = make(reg, "GazetteerExtract@1.0")
alone = make(reg, "GazetteerExtract@1.0", jobs=1)
list(spread.check_many(every)); list(alone.check_many(every))  # warm up
out = {}
for n in map(int, sys.argv[3].split(",")):
    files = every[:n]
    out[n] = medians({
        "loop": lambda: loop(files),
        "spread": lambda: [r.valid for r in spread.check_many(files)],
        "alone": lambda: [r.valid for r in alone.check_many(files)],
    }, 9)
print(json.dumps(out))
"""
SIZES = (40, 100, 150, 300, 1000)


def size_rows(trees: list[Tree], messages: Path, rounds: int = 3) -> list[str]:
    """``check_many`` over the first N messages, for several N: on every core (workers forked
    when they pay) and with ``jobs=1``, beside the lxml loop; medians of each process's 9
    turns, then of *rounds* processes per tree, taken in turn."""
    lines = ["| egif | documents | Python loop over lxml (XSD only) | `check_many` with rules, every core "
             "| `check_many` with rules, `jobs=1` | every core vs `jobs=1` |", "|---|---|---|---|---|---|"]
    runs: dict[str, list[dict[str, dict[str, float]]]] = {t.label: [] for t in trees}
    for _ in range(rounds):
        for tree in trees:
            runs[tree.label].append(json.loads(tree.python(_SIZES, str(tree.registry), str(messages / "*.xml"),
                                                           ",".join(map(str, SIZES)))))
    for tree in trees:
        for n in SIZES:
            ds = [d[str(n)] for d in runs[tree.label]]
            loop, spread, alone = (statistics.median(d[k] for d in ds) * 1000 for k in ("loop", "spread", "alone"))
            ratio = statistics.median(d["alone"] / d["spread"] for d in ds)
            lines.append(f"| {tree.label} | {n} | {loop:.1f} ms | {spread:.1f} ms | {alone:.1f} ms | {ratio:.2f}x |")
    return lines


def write_messages(folder: Path, n: int = 1000) -> None:
    from egif.sample import write_sample

    folder.mkdir()
    for i in range(n):
        with (folder / f"message-{i:04d}.xml").open("wb") as fh:
            write_sample("gazetteer", fh, count=3, seed=i, invalid_rate=0.01, faults=("all",))


def many_rows(trees: list[Tree], messages: Path, rounds: int = 5) -> list[str]:
    """Each tree's process times its three ways side by side; the trees' processes take turns,
    *rounds* times, and the medians are reported (a ratio: the median of each process's own)."""
    lines = ["| egif | documents | Python loop over lxml, precompiled schema (XSD only) "
             "| `check_many` with rules | `check_many`, XSD only |", "|---|---|---|---|---|"]
    runs: dict[str, list[dict[str, float]]] = {t.label: [] for t in trees}
    for _ in range(rounds):
        for tree in trees:
            runs[tree.label].append(json.loads(tree.python(_MANY, str(tree.registry), str(messages / "*.xml"))))
    for tree in trees:
        ds = runs[tree.label]

        def median(key: str, ds: list[dict[str, float]] = ds) -> float:
            return statistics.median(d[key] for d in ds)

        def speed(key: str, ds: list[dict[str, float]] = ds) -> float:
            return statistics.median(d["loop"] / d[key] for d in ds)

        lines.append(f"| {tree.label} | {ds[0]['n']:.0f} ({ds[0]['invalid']:.0f} invalid) "
                     f"| {median('loop') * 1000:.1f} ms | {median('rules') * 1000:.1f} ms ({speed('rules'):.2f}x) "
                     f"| {median('xsd') * 1000:.1f} ms ({speed('xsd'):.2f}x) |")
    return lines


_LOOP_PROCESS = """
import glob, sys
from lxml import etree
parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
schema = etree.XMLSchema(etree.parse(sys.argv[1], parser))
print(sum(not schema.validate(etree.parse(f, parser)) for f in sorted(glob.glob(sys.argv[2]))))
"""


def cli_many_rows(trees: list[Tree], messages: Path, xsd: Path, runs: int = 5) -> list[str]:
    """The same messages as whole commands: ``egif validate DIR`` (every core, and ``--jobs 1``)
    beside a Python process that compiles the schema and loops over lxml (XSD only); start-up
    included on both sides, the commands taking turns, medians of *runs*."""
    lines = ["| egif | `egif validate DIR` (rules, all cores) | `egif validate DIR --jobs 1` (rules) "
             "| Python process: lxml loop, schema compiled at start (XSD only) | speed vs that loop "
             "(all cores / --jobs 1) |", "|---|---|---|---|---|"]
    loop_cmd = [sys.executable, "-P", "-c", _LOOP_PROCESS, str(xsd), str(messages / "*.xml")]
    samples: dict[str, dict[str, list[float]]] = {t.label: {"all": [], "one": [], "loop": []} for t in trees}
    for _ in range(runs):
        for tree in trees:
            got = samples[tree.label]
            got["loop"].append(run(loop_cmd, tree.env)[0])
            got["all"].append(run(tree.egif("validate", str(messages)), tree.env)[0])
            got["one"].append(run(tree.egif("validate", str(messages), "--jobs", "1"), tree.env)[0])
    for tree in trees:
        med = {k: statistics.median(v) for k, v in samples[tree.label].items()}
        lines.append(f"| {tree.label} | {med['all'] * 1000:.0f} ms | {med['one'] * 1000:.0f} ms "
                     f"| {med['loop'] * 1000:.0f} ms | {med['loop'] / med['all']:.2f}x / "
                     f"{med['loop'] / med['one']:.2f}x |")
    return lines


def startup_rows(trees: list[Tree], runs: int) -> list[str]:
    doc = SMALL_DOC
    lines = ["| egif | `egif validate three-records.xml`, wall (median) | CPU |", "|---|---|---|"]
    samples: dict[str, list[tuple[float, float]]] = {t.label: [] for t in trees}
    floor = "Python starting and importing lxml (no egif; a floor)"
    samples[floor] = []
    for _ in range(runs):
        for tree in trees:
            wall, cpu, _out = run(tree.egif("validate", str(doc)), tree.env)
            samples[tree.label].append((wall, cpu))
        wall, cpu, _out = run([sys.executable, "-P", "-c", "import lxml.etree"], BASE_ENV)
        samples[floor].append((wall, cpu))
    for tree in [*trees, Tree(floor, REPO)]:
        walls = [w for w, _c in samples[tree.label]]
        cpus = [c for _w, c in samples[tree.label]]
        lines.append(f"| {tree.label} | {statistics.median(walls) * 1000:.0f} ms | "
                     f"{statistics.median(cpus) * 1000:.0f} ms |")
    return lines


# -- main ------------------------------------------------------------------------------------
def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(MB|GB)", text.strip(), re.I)
    if not m:
        raise SystemExit(f"bad size {text!r}: use e.g. 100MB or 1GB")
    return int(float(m.group(1)) * (1e9 if m.group(2).upper() == "GB" else 1e6))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", default="100MB")
    ap.add_argument("--big", default=None, help="also measure memory on a gazetteer extract this big (e.g. 1GB)")
    ap.add_argument("--runs", type=int, default=3, help="timed runs per row (median reported)")
    ap.add_argument("--before", type=Path, help="an earlier egif source tree, measured in the same run")
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--rate", type=float, default=RATE,
                    help="share of records with a planted fault (0.01: a dirty export); not with --write")
    ap.add_argument("--write", action="store_true", help="write the tables into docs/performance.md")
    ap.add_argument("--small-only", action="store_true",
                    help="measure only many small documents and start-up (with --write: replace only that part)")
    args = ap.parse_args()
    if args.write and args.rate != RATE:
        raise SystemExit("--write keeps the tables of the 0.1% rate: measure other rates without it")
    if args.small_only:
        small_only(args)
        return
    trees = [Tree("after", REPO)] + ([Tree("before", args.before.resolve())] if args.before else [])
    work = Path(tempfile.mkdtemp(prefix="egif-bench-"))
    loads = [("start", load())]
    out: list[str] = []
    try:
        for tree in trees:
            setup(tree, work)
        from egif import Registry

        with Registry.open(trees[0].registry, actor="bench") as reg:
            xsds = {}
            for shape, (ref, _title) in SHAPES.items():
                rs = reg.resolve(ref)
                rs.write(work / "xsd" / shape)
                xsds[shape] = work / "xsd" / shape / rs.main
        size = parse_size(args.size)
        exports: dict[str, Export] = {}
        for shape in args.shapes.split(","):
            export = exports[shape] = write_export(shape, work / f"{shape}.xml", size, args.rate)
            print(f"{shape}: {export.mb:.1f} MB, {export.records} records, {len(export.planted)} faults; "
                  f"load {load()}", file=sys.stderr)
            rows = shape_rows(export, trees, xsds[shape], args.runs)
            out += [*shape_table(export, rows), ""]
            print("\n".join(shape_table(export, rows)), file=sys.stderr)
            loads.append((f"after {shape}", load()))
            if shape != "gazetteer":
                export.path.unlink()
        if args.big:
            small = exports.get("gazetteer") or write_export("gazetteer", work / "gazetteer.xml", size)
            big = write_export("gazetteer", work / "big.xml", parse_size(args.big))
            out += [f"**Memory**: a gazetteer extract of {big.mb:,.0f} MB ({big.records:,} records, "
                    f"{len(big.planted)} planted faults), XSD and rules, every core, the process tree "
                    "sampled every 20 ms.", ""]
            out += [*memory_rows(trees, big, work, small), ""]
            big.path.unlink()
            loads.append(("after memory", load()))
        messages = work / "messages"
        write_messages(messages)
        out += _small_tables(trees, messages)
        loads.append(("end", load()))
        out.append("Machine: " + f"{os.cpu_count()} cores, Python {sys.version.split()[0]}. Load average "
                   "(1, 5, 15 min): " + "; ".join(f"{k} {v}" for k, v in loads) + ".")
        text = "\n".join(out)
        print(text)
        if args.write:
            argv = " ".join(["--size", args.size, "--runs", str(args.runs)] + (["--big", args.big] if args.big else [])
                            + (["--before", "DIR"] if args.before else []))
            write_section(text, argv)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def small_only(args: argparse.Namespace) -> None:
    """The many-small-documents and start-up tables alone, before and after, in one run."""
    trees = [Tree("after", REPO)] + ([Tree("before", args.before.resolve())] if args.before else [])
    work = Path(tempfile.mkdtemp(prefix="egif-bench-"))
    loads = [("start", load())]
    try:
        for tree in trees:
            setup(tree, work)
        messages = work / "messages"
        write_messages(messages)
        out = [*_small_tables(trees, messages)]
        loads.append(("end", load()))
        before = " --before DIR" if args.before else ""
        out.append("Measured apart from the tables above with "
                   f"`.venv/bin/python benchmarks/bench_validate.py --small-only{before}"
                   f" --write`; {os.cpu_count()} cores, Python {sys.version.split()[0]}; load average (1, 5, 15 min): "
                   + "; ".join(f"{k} {v}" for k, v in loads) + ".")
        text = "\n".join(out)
        print(text)
        if args.write:
            doc = REPO / "docs" / "performance.md"
            old = doc.read_text()
            pattern = re.compile(r"^\*\*Many small documents\*\*.*?(?=^Machine: |^## |\Z)", re.S | re.M)
            if not pattern.search(old):
                raise SystemExit("docs/performance.md has no many-small-documents table: run the whole benchmark")
            doc.write_text(pattern.sub(lambda _m: text + "\n\n", old, count=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _small_tables(trees: list[Tree], messages: Path) -> list[str]:
    from egif import Registry

    with Registry.open(trees[0].registry, actor="bench") as reg:
        resolved = reg.resolve("GazetteerExtract@1.0")
        resolved.write(messages.parent / "messages-xsd")
        xsd = messages.parent / "messages-xsd" / resolved.main
    return ["**Many small documents** in one call (gazetteer messages of 3 records, faults of both "
            "layers in 1% of records; in each process the three ways take turns 7 times, median kept; "
            "the trees' processes take turns, 5 each; medians of the 5):", "",
            *many_rows(trees, messages), "",
            "The same messages as whole commands (a fresh process each, start-up included):", "",
            *cli_many_rows(trees, messages, xsd), "",
            "Batches of other lengths, the first N of the same messages (a batch that ends within the "
            "look-ahead gets workers only when the main process's pace says they pay; 3 processes "
            "per tree taking turns, 9 turns each, medians):", "",
            *size_rows(trees, messages), "",
            "**Start-up** (median of 15 runs):", "", *startup_rows(trees, 15), ""]


def write_section(body: str, argv: str) -> None:
    section = (
        "## Validation\n\n"
        "What a supplier runs, `egif validate export.xml` (XSD and business rules in one pass), beside\n"
        "`xmllint --stream --noout --schema` (XSD only), on three export shapes with faults of both\n"
        "layers planted at known lines. Reproduce with\n"
        f"`.venv/bin/python benchmarks/bench_validate.py {argv} --write`\n"
        "(`--before DIR` measures an earlier egif checkout in the same run). Every row is a fresh\n"
        "process (interpreter start, imports, opening the registry, compiling the schema and rules\n"
        "included; Python's bytecode cache on); the rows of a table run interleaved, run by run, so\n"
        "that they share the machine's load; wall time and CPU time (the process and its workers)\n"
        "are medians. egif's findings are compared with the planted faults: every one at its exact\n"
        "line, nothing else.\n\n"
        f"{body}\n\n"
        "How the engine works and why: docs/validation-streaming.md.\n"
    )
    put_section("Validation", section)


def put_section(heading: str, section: str) -> None:
    """Put *section* into docs/performance.md in place of the one headed ``## heading``, or
    at the end when there is none."""
    doc = REPO / "docs" / "performance.md"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _m: section + "\n", text, count=1) if pattern.search(text) else (
        text.rstrip("\n") + "\n\n" + section)
    doc.write_text(text.rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
