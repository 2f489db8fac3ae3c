"""One-core cost of `egif validate --jobs 1` beside xmllint, counted in instructions.

    .venv/bin/python benchmarks/bench_instructions.py [--size 5MB] [--before DIR] [--write]

CPU time on a shared machine moves by up to twice within minutes, which makes a
ratio of 1.3 hard to tell from 1.5 in one run.  The number of instructions a
process executes does not move: valgrind's callgrind tool counts them (about 50
times slower than running natively, so the exports here are small).  A count is
not a time -- memory stalls and system calls are left out -- so these figures
stand beside the timed tables of bench_validate.py and do not replace them.

For each shape (the same generators, seed and fault rate as bench_validate.py), it
counts:

* ``xmllint --stream --noout --schema`` on the export, and on the shape's first
  record alone (its start-up: reading and compiling the schema);
* ``egif validate --jobs 1`` with rules and with ``--no-rules``, on the export and on
  that one-record document (start-up: the interpreter, imports, the registry,
  compiling the schema and rules).

Per MB is (export - start-up) / MB for each tool; "at 100 MB" adds the start-up
once to 100 MB of that steady cost, which is what the timed table's ``--jobs 1``
CPU row compares.  Needs valgrind (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_validate as bv  # noqa: E402

_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def instructions(cmd: list[str], env: dict[str, str], ok: tuple[int, ...] = (0, 1)) -> tuple[int, str]:
    """Instructions *cmd* executes (one process: the runs here start none), and its output."""
    with tempfile.TemporaryDirectory() as tmp:
        full = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out", *cmd]
        proc = subprocess.run(full, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:3])}... exited {proc.returncode}: {proc.stderr.strip()[-600:]}")
    m = _COLLECTED.search(proc.stderr)
    if m is None:
        raise SystemExit(f"no instruction count from callgrind: {proc.stderr.strip()[-400:]}")
    return int(m.group(1)), proc.stdout + proc.stderr


@dataclass
class Count:
    """A tool's count on the export and at start-up."""

    name: str
    total: int
    start: int
    note: str = ""

    def per_mb(self, mb: float) -> float:
        return (self.total - self.start) / mb


def first_record(export: bv.Export, path: Path) -> None:
    """The export cut after its first record, root closed: a tiny document of the shape."""
    data = export.path.read_bytes()
    name = re.search(rb"<(?!\?|!)([\w.\-:]+)", data)
    assert name is not None
    root = name.group(1)
    local = root.rpartition(b":")[2]
    records = {"gazetteer": b"AddressRecord", "persons": b"PersonRecord", "addresslist": b"Address"}
    record = records[export.shape]
    prefix = rb"(?:[\w.\-]+:)?"
    start_tag = re.compile(rb"<" + prefix + record + rb"[\s>]")
    first = start_tag.search(data)
    second = start_tag.search(data, first.end()) if first else None
    assert second is not None and local
    path.write_bytes(data[:second.start()] + b"</" + root + b">\n")


def shape_counts(export: bv.Export, trees: list[bv.Tree], xsd: Path, work: Path) -> list[Count]:
    tiny = work / f"{export.shape}-one.xml"
    first_record(export, tiny)
    lint = ["xmllint", "--stream", "--noout", "--schema", str(xsd)]
    total, out = instructions([*lint, str(export.path)], bv.BASE_ENV, ok=(0, 3))
    start, _ = instructions([*lint, str(tiny)], bv.BASE_ENV, ok=(0, 3))
    errors = len(re.findall(r"Schemas validity error", out))
    counts = [Count("xmllint --stream --schema (XSD only)", total, start, f"{errors} errors")]
    # what any validator that builds lxml trees starts from: the export parsed as egif's workers
    # parse a range (whitespace-only text left out), then the tree validated by libxml2
    for label, way in (("lxml: parse into a tree, no validation (no egif)", "parse"),
                       ("lxml: parse into a tree, then XMLSchema.validate (XSD only, no egif)", "validate")):
        cmd = [sys.executable, "-P", "-c", _TREE, str(xsd), way]
        start, _ = instructions([*cmd, str(tiny)], bv.BASE_ENV, ok=(0,))
        total, out = instructions([*cmd, str(export.path)], bv.BASE_ENV, ok=(0,))
        note = f"{out.split()[0]} errors" if way == "validate" else ""
        counts.append(Count(label, total, start, note))
    for tree in trees:
        for label, extra in (("--jobs 1 (XSD + rules)", []), ("--jobs 1 --no-rules", ["--no-rules"])):
            cmd = tree.egif("validate", "--format", "json", "--today", bv.TODAY, "--schema", export.ref,
                            *extra, "--jobs", "1")
            start, _ = instructions([*cmd, str(tiny)], tree.env)
            total, out = instructions([*cmd, str(export.path)], tree.env)
            want = export.expected("--no-rules" not in extra)
            found = bv.findings_of(out)
            note = "all planted found, exact lines" if found == want else f"MISMATCH: {len(found)} of {len(want)}"
            counts.append(Count(f"egif validate {label} [{tree.label}]", total, start, note))
    return counts


_TREE = """
import sys
from lxml import etree
xsd, way, path = sys.argv[1:4]
schema = etree.XMLSchema(etree.parse(xsd))
parser = etree.XMLParser(remove_blank_text=True, huge_tree=True, resolve_entities=False, no_network=True)
tree = etree.parse(path, parser)
if way == "validate":
    schema.validate(tree)
    print(len(schema.error_log))
"""


def table(export: bv.Export, counts: list[Count]) -> list[str]:
    base = counts[0]
    mb = export.mb
    lines = [f"**{bv.SHAPES[export.shape][1]}**: {mb:.1f} MB, {export.records:,} records, "
             f"{len(export.planted)} planted faults", "",
             "| tool | instructions, export | start-up | per MB | per MB vs xmllint | at 100 MB vs xmllint "
             "| findings |",
             "|---|---|---|---|---|---|---|"]
    for c in counts:
        at_100 = (c.start + 100 * c.per_mb(mb)) / (base.start + 100 * base.per_mb(mb))
        lines.append(f"| {c.name} | {c.total / 1e9:.2f} G | {c.start / 1e6:.0f} M | {c.per_mb(mb) / 1e6:.0f} M | "
                     f"{c.per_mb(mb) / base.per_mb(mb):.2f}x | {at_100:.2f}x | {c.note} |")
    return lines


def floor_row(trees: list[bv.Tree]) -> list[str]:
    floor, _ = instructions([sys.executable, "-P", "-c", "import lxml.etree"], bv.BASE_ENV, ok=(0,))
    small = bv.SMALL_DOC
    lines = ["**Start-up**, `egif validate three-records.xml`, beside Python starting and importing lxml "
             "(the floor):", "", "| egif | instructions | vs the floor |", "|---|---|---|"]
    for tree in trees:
        count, _ = instructions(tree.egif("validate", str(small)), tree.env)
        lines.append(f"| {tree.label} | {count / 1e6:.0f} M | {count / floor:.2f}x |")
    lines.append(f"| floor | {floor / 1e6:.0f} M | 1.00x |")
    return lines


_LOADED = """
import importlib, runpy, sys
out, argv = sys.argv[1], sys.argv[2:]
sys.argv = ["egif", *argv]
try:
    runpy.run_module("egif", run_name="__main__")
except SystemExit:
    pass
names = []
for name in list(sys.modules):
    if name == "__main__" or name.startswith(("cython", "_cython", "_distutils_hack")):
        continue
    try:
        importlib.import_module(name)  # (only names an import statement takes)
    except Exception:
        continue
    names.append(name)
with open(out, "w") as fh:
    fh.write("\\n".join(names))
"""


def startup_layers(tree: bv.Tree, work: Path) -> tuple[list[str], list[int]]:
    """``egif validate three-records.xml`` counted layer by layer: Python alone; with lxml
    (the floor of the timed start-up row); with click and every standard module the
    command loads; with egif's own modules as well (everything imported, nothing run);
    and the whole command.  Each layer is one process importing all that the one above
    imported and more, so the differences are what each layer adds."""
    small = bv.SMALL_DOC
    listing = work / "loaded.txt"
    subprocess.run([sys.executable, "-P", "-c", _LOADED, str(listing), "--registry", str(tree.registry), "validate",
                    str(small)], env=tree.env, capture_output=True, check=True)
    loaded = [n for n in listing.read_text().split() if n]
    own = [n for n in loaded if n.split(".")[0] in ("egif", "egif_cli")]
    others = [n for n in loaded if n not in own]
    layers = [
        ("Python starting (`-c pass`)", "pass"),
        ("+ lxml (`import lxml.etree`: the floor of the timed row)", "import lxml.etree"),
        (f"+ click and the other modules the command loads ({len(others)} in all)",
         "import lxml.etree\nimport " + ", ".join(others)),
        (f"+ egif's own modules, imported and not run ({len(own)})",
         "import lxml.etree\nimport " + ", ".join(others + own)),
    ]
    counts = [(label, instructions([sys.executable, "-P", "-c", code], tree.env, ok=(0,))[0]) for label, code in layers]
    counts.append(("the whole command: `egif validate three-records.xml` (opening the registry, compiling the "
                   "schema and rules, validating)", instructions(tree.egif("validate", str(small)), tree.env)[0]))
    whole = counts[-1][1]
    lines = [f"**Start-up, layer by layer** [{tree.label}]: each row a process that does what the one above did "
             "and more.", "", "| layer | instructions | added by the layer | share of the command |",
             "|---|---|---|---|"]
    previous = 0
    for label, count in counts:
        lines.append(f"| {label} | {count / 1e6:.0f} M | {(count - previous) / 1e6:+.0f} M | "
                     f"{(count - previous) / whole:.0%} |")
        previous = count
    return lines, [count for _label, count in counts]


_MESSAGES = """
import glob, sys
from lxml import etree
from egif import Registry
from egif.validate import Validator
from egif.xmlsafe import make_parser
registry, listing, way = sys.argv[1:4]
files = [line for line in open(listing).read().splitlines() if line]
reg = Registry.open(registry, actor="bench")
jobs = 2 if way == "caller" else 1
v = Validator.for_version(reg, "GazetteerExtract@1.0", rules=way != "xsd", jobs=jobs)
schema = reg.resolve("GazetteerExtract@1.0").lxml_schema()
warm = sorted(glob.glob(sys.argv[4]))[:20]  # everything compiled and made once, before counting
[schema.validate(etree.parse(f, make_parser())) for f in warm]
list(v.check_many(warm))
if way == "loop":
    found = [schema.validate(etree.parse(f, make_parser())) for f in files]
elif way != "setup":
    found = [r.valid for r in v.check_many(files)]
"""


def message_rows(tree: bv.Tree, messages: Path, work: Path) -> list[str]:
    """Instructions per small message, in one process: the lxml loop of bench_validate.py's
    many-documents table beside ``check_many`` with ``--jobs 1`` (XSD only; with rules, over
    every message, the clean ones and the ones with a finding), and the caller's own share
    with ``jobs=2``, one worker beside it, which checks messages too (callgrind counts the
    caller: the worker is stopped with SIGKILL and reports nothing).  Each figure is (count - the same process
    without the loop) / messages."""
    from egif import Registry
    from egif.validate import Validator

    every = sorted(str(p) for p in messages.glob("*.xml"))
    with Registry.open(tree.registry, actor="bench") as reg:
        v = Validator.for_version(reg, "GazetteerExtract@1.0", jobs=1)
        faulty = [r.source for r in v.check_many(every) if r.findings]
    found = set(faulty)
    lists = {"all": every, "clean": [f for f in every if f not in found], "faulty": faulty}
    for name, files in lists.items():
        (work / f"messages-{name}.txt").write_text("\n".join(files) + "\n")

    def count(way: str, listing: str) -> int:
        cmd = [sys.executable, "-P", "-c", _MESSAGES, str(tree.registry), str(work / f"messages-{listing}.txt"),
               way, str(messages / "*.xml")]
        return instructions(cmd, tree.env, ok=(0,))[0]

    setup = count("setup", "all")
    ways = [("Python loop over lxml, precompiled schema (XSD only)", "loop", "all"),
            ("`check_many`, XSD only, `--jobs 1`", "xsd", "all"),
            ("`check_many` with rules, `--jobs 1`: every message", "rules", "all"),
            ("... the messages without a finding", "rules", "clean"),
            ("... the messages with a finding", "rules", "faulty"),
            ("the caller's own share, `jobs=2`: one worker beside it (rules)", "caller", "all")]
    per: dict[tuple[str, str], float] = {}
    lines = [f"**Many small documents**, per message, in one process ({len(every):,} gazetteer messages of 3 "
             f"records as in the timed table, {len(faulty)} with a finding; [{tree.label}]):", "",
             "| way | messages | instructions per message | vs the lxml loop |", "|---|---|---|---|"]
    for label, way, listing in ways:
        n = len(lists[listing])
        per[(way, listing)] = (count(way, listing) - setup) / n
        lines.append(f"| {label} | {n:,} | {per[(way, listing)] / 1e3:.0f} K | "
                     f"{per[(way, listing)] / per[('loop', 'all')]:.2f}x |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", default="5MB")
    ap.add_argument("--before", type=Path, help="an earlier egif source tree, counted in the same run")
    ap.add_argument("--shapes", default=",".join(bv.SHAPES))
    ap.add_argument("--write", action="store_true", help="put the tables in docs/performance.md")
    ap.add_argument("--no-messages", dest="messages", action="store_false",
                    help="leave out the many-small-documents table")
    ap.add_argument("--startup-only", action="store_true",
                    help="count only the start-up, layer by layer (with --write: its own section)")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    if args.startup_only:
        startup_only(args)
        return
    trees = [bv.Tree("after", bv.REPO)] + ([bv.Tree("before", args.before.resolve())] if args.before else [])
    work = Path(tempfile.mkdtemp(prefix="egif-instr-"))
    out: list[str] = []
    try:
        for tree in trees:
            bv.setup(tree, work)
        from egif import Registry

        with Registry.open(trees[0].registry, actor="bench") as reg:
            xsds = {}
            for shape, (ref, _title) in bv.SHAPES.items():
                rs = reg.resolve(ref)
                rs.write(work / "xsd" / shape)
                xsds[shape] = work / "xsd" / shape / rs.main
        for shape in [s for s in args.shapes.split(",") if s]:
            export = bv.write_export(shape, work / f"{shape}.xml", bv.parse_size(args.size))
            lines = table(export, shape_counts(export, trees, xsds[shape], work))
            print("\n".join(lines), file=sys.stderr)
            out += [*lines, ""]
        out += [*floor_row(trees), ""]
        if args.messages:
            messages = work / "messages"
            bv.write_messages(messages)
            lines = message_rows(trees[0], messages, work)
            print("\n".join(lines), file=sys.stderr)
            out += [*lines, ""]
        out.append(f"Counted by valgrind's callgrind; Python {sys.version.split()[0]}, {os.cpu_count()} cores "
                   "(counts do not depend on the load).")
        text = "\n".join(out)
        print(text)
        if args.write:
            write_section(text, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def startup_only(args: argparse.Namespace) -> None:
    tree = bv.Tree("after", bv.REPO)
    work = Path(tempfile.mkdtemp(prefix="egif-instr-"))
    try:
        bv.setup(tree, work)
        lines, counts = startup_layers(tree, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor, before_egif, whole = counts[1], counts[2], counts[-1]
    text = "\n".join([
        *lines, "", f"Counted by valgrind's callgrind; Python {sys.version.split()[0]}.", "",
        "The timed start-up row compares the whole command with the floor (Python and lxml). Before any of "
        f"egif's code runs, click and the standard modules the command needs bring the count to "
        f"{before_egif / floor:.2f}x the floor; the whole command stands at {whole / floor:.2f}x. On a machine "
        f"where the floor takes F ms, the command takes about {whole / floor:.2f} F (runs 7 to 11 of the trust "
        "table timed it at 1.9 F to 2.4 F), so a start-up of 150 ms asks for a floor of about "
        f"{150 * floor / whole:.0f} ms, and a floor of more than {150 * floor / before_egif:.0f} ms leaves "
        "nothing for egif's own modules and work at all."])
    print(text)
    if args.write:
        bv.put_section("Start-up, layer by layer", (
            "## Start-up, layer by layer\n\n"
            "Where the instructions of `egif validate` on a three-record message go, counted by callgrind\n"
            "(reproduce with `.venv/bin/python benchmarks/bench_instructions.py --startup-only --write`).\n\n"
            f"{text}\n"))


def write_section(body: str, args: argparse.Namespace) -> None:
    argv = " ".join(["--size", args.size] + (["--before", "DIR"] if args.before else []))
    section = (
        "## One core, counted in instructions\n\n"
        "The `--jobs 1` CPU rows above move with the machine's load. The same comparison counted in\n"
        "instructions (valgrind's callgrind) does not; a count leaves out memory stalls and system\n"
        "calls, so it stands beside the timed rows rather than replacing them. Reproduce with\n"
        f"`.venv/bin/python benchmarks/bench_instructions.py {argv} --write`.\n\n"
        f"{body}\n"
    )
    bv.put_section("One core, counted in instructions", section)


if __name__ == "__main__":
    main()
