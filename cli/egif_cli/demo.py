"""``./dev demo``: the main job, end to end, with zero configuration.

Opens the default registry (``$EGIF_REGISTRY`` or ``registry.sqlite`` in the
user data directory; created and seeded with the shipped standards on first
use), writes a synthetic gazetteer extract with a few deliberate errors into
the user cache directory, validates it against the shipped
``GazetteerExtract`` schema and its business rules, and checks that the
errors found are exactly the ones that were sprinkled in, at the exact line
and record.

By default both layers get faults: schema faults (caught by the XSD pass)
and business-rule faults (caught by the Schematron rules, e.g. an address
range that ends before it starts, or a second approved preferred address for
one UPRN), since the job is the two passes together.  ``--fault xsd`` plants
schema faults only.

Exit 0 when they are, 1 when validation found anything else or missed one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import click

from egif import Finding, Registry
from egif.sample import SampleReport, write_sample
from egif.userdirs import user_cache_dir


@click.command()
@click.option("--count", "-n", type=click.IntRange(min=1), default=20_000, show_default=True,
              help="Records in the example export.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True, help="Generator seed.")
@click.option("--invalid-rate", type=click.FloatRange(0.0, 1.0), default=0.001, show_default=True,
              help="Share of records given one deliberate error.")
@click.option("--fault", "faults", multiple=True, metavar="ID",
              help="Fault kinds to plant (default: all, i.e. xsd and rules; or one kind's id).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the example export (default: the user cache directory).")
def main(count: int, seed: int, invalid_rate: float, faults: tuple[str, ...], out_dir: Path | None) -> None:
    """Generate an example gazetteer export and validate it against the shipped registry."""
    with Registry.open() as registry:
        versions = registry.list()
        click.echo(f"registry   {registry.location} ({len(versions)} schema versions)")
        out_dir = out_dir or user_cache_dir() / "demo"
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"gazetteer-{count}-seed{seed}.xml"

        validator = _validator(registry)
        faults = faults or ("all",)
        started = time.perf_counter()
        with open(path, "wb") as fh:
            report = write_sample("gazetteer", fh, count=count, seed=seed, invalid_rate=invalid_rate,
                                  faults=faults)
        took = time.perf_counter() - started
        click.echo(f"generated  {path}")
        click.echo(f"           {report.schema}, {report.records:,} records, {report.bytes / 1e6:.1f} MB "
                   f"in {took:.2f} s; {len(report.invalid)} records made invalid on purpose (seed {seed})")

        started = time.perf_counter()
        findings = validator(report, path)
        took = time.perf_counter() - started
        click.echo(f"validated  against {report.schema} in {took:.2f} s "
                   f"({report.bytes / 1e6 / max(took, 1e-9):.0f} MB/s): {len(findings)} error(s)")
    ok = _compare(report, findings)
    raise SystemExit(0 if ok else 1)


Check = Callable[[SampleReport, Path], list[Finding]]


def _validator(registry: Registry) -> Check:
    """The validation API: XSD and the business rules, in one pass."""
    from egif.validate import Validator

    def check(report: SampleReport, path: Path) -> list[Finding]:
        return list(Validator.for_version(registry, report.schema).check(path).errors)

    return check


def _compare(report: SampleReport, findings: list[Finding]) -> bool:
    planted = {(r.record, r.line): r for r in report.invalid}
    planted_lines = {r.line: r for r in report.invalid}
    expected: list[Finding] = []
    unexpected: list[Finding] = []
    for f in findings:
        line = f.line or -1
        hit = planted.get((f.record, line)) if f.record is not None else planted_lines.get(line)
        (expected if hit else unexpected).append(f)
    seen_lines = {f.line for f in expected}
    missed = [r for r in report.invalid if r.line not in seen_lines]

    for f in sorted(expected, key=lambda f: f.line or 0):
        r = planted_lines[f.line or -1]
        click.echo(f"  line {f.line} (record {r.record}) [{f.rule}]: {f.message}")
        click.echo(f"      expected: deliberate '{r.kind}' error")
    for f in unexpected:
        rec = f" (record {f.record})" if f.record is not None else ""
        click.echo(f"  line {f.line}{rec} [{f.rule}]: {f.message}   <- NOT EXPECTED")
    for r in missed:
        click.echo(f"  line {r.line} (record {r.record}): deliberate '{r.kind}' error NOT FOUND")
    if unexpected or missed:
        click.echo(f"demo FAILED: {len(unexpected)} unexpected error(s), {len(missed)} planted error(s) missed")
        return False
    click.echo(f"demo OK: every error found was one of the {len(report.invalid)} deliberately sprinkled "
               "ones, and each of them was found")
    return True


if __name__ == "__main__":
    main(prog_name="python -m egif_cli.demo")
