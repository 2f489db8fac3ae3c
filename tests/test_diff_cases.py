"""Every change kind: a fixture pair in tests/data/diff/<case>/, diffed both ways.

The expected verdicts are decided ones: every direction that is not
compatible is backed by witness documents, which this test checks again with
lxml (valid under the source side, refused by the target).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from egif import Registry
from egif.diff import RULES, diff_refs

CASES = Path(__file__).resolve().parent / "data" / "diff"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "expected.json").is_file())


@pytest.mark.parametrize("case", CASE_NAMES)
@pytest.mark.parametrize("direction", ["old_to_new", "new_to_old"])
def test_change_kind(case: str, direction: str, empty_registry: Registry) -> None:
    folder = CASES / case
    expected = json.loads((folder / "expected.json").read_text())[direction]
    old, new = folder / "old.xsd", folder / "new.xsd"
    if direction == "new_to_old":
        old, new = new, old
    result = diff_refs(empty_registry, str(old), str(new), samples=15, seed=1)
    rules = sorted({c.rule for c in result.changes})
    assert rules == expected["rules"], [c.to_dict() for c in result.changes]
    assert result.verdict == expected["verdict"], [c.to_dict() for c in result.counterexamples]
    assert all(c.rule in RULES for c in result.changes)
    # evidence never contradicts a proven direction
    assert result.counterexamples == []
    schemas = {"old": _compiled(old), "new": _compiled(new)}
    for w in result.witnesses:
        src, dst = ("old", "new") if w.direction == "backward" else ("new", "old")
        doc = etree.fromstring(w.document.encode("utf-8"))
        assert schemas[src].validate(doc) and not schemas[dst].validate(doc), w.document
    for direction in ("backward", "forward"):
        if result.status(direction) == "no":
            assert any(w.direction == direction for w in result.witnesses)


def _compiled(path: Path) -> etree.XMLSchema:
    """libxml2 reading the case file from disk (its includes and imports are beside it)."""
    return etree.XMLSchema(etree.parse(str(path)))


def test_every_rule_is_documented() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "diff.md").read_text()
    missing = [r for r in RULES if f"`{r}`" not in docs]
    assert missing == []


def test_fixture_pairs_cover_the_issue_kinds() -> None:
    covered = set()
    for name in CASE_NAMES:
        data = json.loads((CASES / name / "expected.json").read_text())
        covered.update(data["old_to_new"]["rules"], data["new_to_old"]["rules"])
    wanted = {
        "global-element-added", "global-element-removed", "global-type-added", "global-type-removed",
        "global-attribute-added", "global-attribute-removed", "global-group-added",
        "global-group-removed", "element-type-changed", "occurs-widened", "occurs-narrowed",
        "attribute-now-required", "attribute-now-optional", "sequence-order-changed",
        "compositor-changed", "element-added-optional", "element-added-required",
        "element-removed-optional", "element-removed-required", "facet-widened", "facet-narrowed",
        "facet-changed", "pattern-changed", "pattern-added", "pattern-removed", "whitespace-changed",
        "enumeration-value-added", "enumeration-value-removed", "nillable-widened",
        "nillable-narrowed", "fixed-added", "fixed-removed", "default-changed",
        "wildcard-namespace-widened", "wildcard-process-widened", "substitution-group-joined",
        "substitution-group-left", "target-namespace-changed", "import-added", "document-added",
        "documentation-changed",
    }
    assert wanted - covered == set()
