"""The proof set: schema pairs whose compatibility is argued (yes) or witnessed (no), both ways.

See tests/diff_cases/README.md for the format.  Every "no" is checked here
again with lxml: each witness document the diff reports must be valid under
the source side and refused by the target.  Every "yes" carries its argument
in the case file, and is cross-checked by a few generated documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from egif.diff import diff_schemas
from egif.resolve import ResolvedSchema

FOLDER = Path(__file__).resolve().parent / "diff_cases"
HEAD = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:egif:proof" '
        'xmlns:t="urn:egif:proof" elementFormDefault="qualified">')
STATUS = re.compile(r"^(backward|forward):\s*(yes|no|not-proven)\s*(?:(?:--|:)\s*(.*))?$")


@dataclass
class Case:
    id: str
    source: str
    expect: dict[str, tuple[str, str]] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=lambda: {"old": {}, "new": {}})


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(FOLDER.glob("*.cases")):
        current: Case | None = None
        section: tuple[str, str] | None = None
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.rstrip()
            if line.startswith("=== "):
                current = Case(line[4:].strip(), path.name)
                cases.append(current)
                section = None
                continue
            if current is None or (not line and section is None) or line.startswith("#"):
                continue
            if line.startswith("--- "):
                side, _, name = line[4:].strip().partition(":")
                section = (side, name or "main.xsd")
                current.files[side][section[1]] = ""
                continue
            if section is None:
                m = STATUS.match(line)
                if not m:
                    raise ValueError(f"{path.name}: {current.id}: cannot read {line!r}")
                current.expect[m.group(1)] = (m.group(2), (m.group(3) or "").strip())
                continue
            side, name = section
            current.files[side][name] += line + "\n"
    return cases


CASES = load_cases()


def resolved(case: Case, side: str) -> ResolvedSchema:
    files: dict[str, bytes] = {}
    for name, body in case.files[side].items():
        text = body.strip()
        if not text.startswith("<xs:schema"):
            text = HEAD + text + "</xs:schema>"
        files[f"proof/{case.id}-{side}/{name}"] = text.encode("utf-8")
    return ResolvedSchema(files, f"proof/{case.id}-{side}/main.xsd", label=f"{case.id} ({side})")


def test_the_proof_set_is_complete() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids repeat"
    assert len(CASES) >= 150
    for case in CASES:
        assert set(case.expect) == {"backward", "forward"}, case.id
        assert case.files["old"] and case.files["new"], case.id
        for direction, (status, text) in case.expect.items():
            if status in ("yes", "not-proven"):
                assert len(text) > 10, f"{case.id}: a {status} {direction} needs its argument or construct"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_proof_case(case: Case) -> None:
    old, new = resolved(case, "old"), resolved(case, "new")
    any_yes = any(s == "yes" for s, _ in case.expect.values())
    result = diff_schemas(old, new, evidence=any_yes, samples=4, seed=3)
    assert result.decision is not None
    for direction, (status, text) in case.expect.items():
        got = result.decision[direction]
        detail = [u.construct for u in got.unproven] + [w.reason for w in got.witnesses]
        assert got.status == status, f"{direction}: expected {status}, got {got.status}: {detail}"
        if status == "not-proven":
            assert any(text in u.construct for u in got.unproven), detail
        if status == "no":
            assert got.witnesses
            src, dst = (old, new) if direction == "backward" else (new, old)
            for w in got.witnesses:
                doc = etree.fromstring(w.document.encode("utf-8"))
                assert src.lxml_schema().validate(doc), w.document
                assert not dst.lxml_schema().validate(doc), w.document
        if status == "yes":
            # the second check never contradicts a proof
            assert not [c for c in result.counterexamples if c.direction == direction]
    if result.decision["backward"].status == result.decision["forward"].status == "yes" and not result.changes:
        assert result.verdict == "identical"
