"""Evidence for a diff: documents that one side accepts and the other refuses.

Documents are generated from each schema with a seeded
:class:`egif.generate.DocumentGenerator`, kept only when their own schema
accepts them (libxml2), then validated against the other schema.  The valid
fixtures stored for a shipped version are re-validated the same way.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from egif.diff.result import Counterexample, DirectionEvidence
from egif.errors import EgifError
from egif.generate import DocumentGenerator, GenerationError
from egif.resolve import ResolvedSchema
from egif.xmlsafe import parse_bytes

MAX_COUNTEREXAMPLES = 3


@dataclass
class Probe:
    """Outcome of one direction: counts plus the smallest refused documents."""

    evidence: DirectionEvidence
    refused: list[Counterexample]


def _first_error(schema: etree.XMLSchema) -> str:
    log: Any = schema.error_log  # iterable at run time; the stubs do not say so
    entries = list(log)
    if not entries:
        return "refused"
    return f"line {entries[0].line}: {entries[0].message}"


def _check(doc: bytes, source: etree.XMLSchema, target: etree.XMLSchema) -> tuple[bool, str | None]:
    """(accepted by source, error from target or None)."""
    try:
        tree = parse_bytes(doc, "generated")
    except EgifError:
        return False, None
    if not source.validate(tree):
        return False, None
    if target.validate(tree):
        return True, None
    return True, _first_error(target)


def probe_generated(source: ResolvedSchema, target: ResolvedSchema, direction: str, *,
                    samples: int, seed: int) -> Probe:
    ev = DirectionEvidence()
    refused: list[Counterexample] = []
    if samples <= 0:
        return Probe(ev, refused)
    generator = DocumentGenerator(source.xmlschema_schema())
    roots = generator.roots()
    if not roots:
        return Probe(ev, refused)
    src, dst = source.lxml_schema(), target.lxml_schema()
    rng = random.Random(seed)
    for i in range(samples):
        root = roots[i % len(roots)]
        try:
            doc = generator.document(rng, root)
        except GenerationError:
            continue
        ev.generated += 1
        ok, error = _check(doc, src, dst)
        if not ok:
            continue
        ev.accepted_by_source += 1
        if error is not None:
            ev.refused_by_target += 1
            refused.append(Counterexample(direction, doc.decode("utf-8"), error, "generated"))
    refused.sort(key=lambda c: len(c.document))
    return Probe(ev, refused[:MAX_COUNTEREXAMPLES])


def fixture_documents(folder: Path) -> list[tuple[str, bytes]]:
    """The valid fixture files listed in ``folder/manifest.json``."""
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return []
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out = []
    for rel in data.get("valid", []):
        path = folder / rel
        if path.is_file():
            out.append((f"{folder.name}/{rel}", path.read_bytes()))
    return out


def probe_fixtures(docs: list[tuple[str, bytes]], source: ResolvedSchema, target: ResolvedSchema,
                   direction: str, ev: DirectionEvidence) -> list[Counterexample]:
    refused: list[Counterexample] = []
    src, dst = source.lxml_schema(), target.lxml_schema()
    for name, doc in docs:
        ok, error = _check(doc, src, dst)
        if not ok:
            continue
        ev.fixtures_checked += 1
        if error is not None:
            ev.fixtures_refused += 1
            refused.append(Counterexample(direction, doc.decode("utf-8"), error, f"fixture {name}"))
    return refused


__all__ = ["Probe", "fixture_documents", "probe_fixtures", "probe_generated"]
