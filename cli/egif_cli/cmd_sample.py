"""``egif sample``: write a deterministic synthetic export of a shipped collection."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from egif import InputError
from egif.render.sample import faults_text, written_text
from egif.sample import SAMPLE_KINDS, SampleReport, parse_size, write_sample
from egif_cli.common import echo

EPILOG = """\b
Kinds:
  gazetteer  GazetteerExtract (1.0, 1.1): BS 7666 addresses with UPRNs
  persons    PersonRecordList (1.0): names, birth dates, NI numbers, contacts
\b
The same KIND, --seed, --count (or --size), --version, --invalid-rate and
--fault always give byte-identical output. See docs/sample.md.
\b
Exit codes:
  0  written
  2  usage error (unknown kind, version or fault kind; bad size or rate)"""


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_size(value)
    except InputError as exc:
        raise click.BadParameter(exc.message) from None


@click.command("sample", epilog=EPILOG)
@click.argument("kind", type=click.Choice(sorted(SAMPLE_KINDS)))
@click.option("--count", "-n", type=click.IntRange(min=1), metavar="N", help="Number of records.")
@click.option("--size", callback=_size, metavar="SIZE",
              help="Instead of --count: add records until the file reaches SIZE "
                   "(e.g. 100MB, 64MiB); the header then omits the record count.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the generator; equal seeds give equal files.")
@click.option("--invalid-rate", type=click.FloatRange(0.0, 1.0), default=0.0, show_default=True,
              metavar="R", help="Share of records (0 to 1) given one deliberate error each.")
@click.option("--fault", "faults", multiple=True, metavar="ID",
              help="Fault kind to sprinkle (repeatable; also xsd, rules or all). "
                   "Default: every schema-layer fault of KIND. See --list-faults.")
@click.option("--version", "version", metavar="M.N",
              help="Schema version to write (default: the ratified one).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file (default: standard output).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a JSON report of the faulty records (record, line, kind) here.")
@click.option("--list-faults", is_flag=True, help="List the fault kinds of KIND and exit.")
def sample(kind: str, count: int | None, size: int | None, seed: int, invalid_rate: float,
           faults: tuple[str, ...], version: str | None, output: Path | None,
           report: Path | None, list_faults: bool) -> None:
    """Write a synthetic export of KIND, valid unless --invalid-rate says otherwise."""
    if list_faults:
        echo(faults_text(kind), nl=False)
        return
    if count is None and size is None:
        raise click.UsageError("give --count N or --size SIZE")
    if count is not None and size is not None:
        raise click.UsageError("give --count or --size, not both")
    args: dict[str, Any] = {"count": count, "size": size, "seed": seed,
                            "invalid_rate": invalid_rate, "version": version,
                            "faults": list(faults) or None}
    if output is None:
        stream = sys.stdout.buffer
        result = write_sample(kind, stream, **args)
        stream.flush()
    else:
        result = _write_file(kind, output, args)
        echo(written_text(result, output, seed=seed), err=True, nl=False)
    if report is not None:
        report.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")


def _write_file(kind: str, output: Path, args: dict[str, Any]) -> SampleReport:
    """Write through a temporary file in the same folder so a failure leaves nothing half-written."""
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            result = write_sample(kind, fh, **args)
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror or exc}", file=output) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return result
