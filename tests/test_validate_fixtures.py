"""Every shipped fixture: valid ones validate, invalid ones fail where the manifest says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from egif import Registry
from egif.shipped import shipped_versions
from egif.validate import Validator


def _cases() -> list[Any]:
    out = []
    for sv in shipped_versions():
        if sv.fixtures is None or not (sv.fixtures / "manifest.json").is_file():
            continue
        manifest = json.loads((sv.fixtures / "manifest.json").read_text(encoding="utf-8"))
        out.append(pytest.param(sv.fixtures, manifest, id=manifest["schema"]))
    return out


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Any:
    reg = Registry.init(tmp_path_factory.mktemp("fx") / "r.sqlite", actor="tester")
    yield reg
    reg.close()


@pytest.mark.parametrize(("folder", "manifest"), _cases())
def test_fixture_corpus(shipped: Registry, folder: Path, manifest: dict[str, Any]) -> None:
    validator = Validator.for_version(shipped, manifest["schema"])
    problems = []
    for name in manifest["valid"]:
        result = validator.check(folder / name)
        if not result.valid:
            problems.append(f"{name}: expected valid, got {[f.message for f in result.errors][:2]}")
    for case in manifest["invalid"]:
        result = validator.check(folder / case["file"])
        if result.valid:
            problems.append(f"{case['file']}: expected invalid, validated")
            continue
        if case.get("layer") == "rules":
            hits = [f for f in result.errors if f.rule == case["rule"] and f.line == case["line"]]
        else:
            # a root the version's own documents do not declare is refused before the XSD pass
            hits = [f for f in result.errors if (f.rule.startswith("xsd:") or f.rule == "version:wrong-root")
                    and f.line == case["line"]]
        if case.get("element"):
            hits = [f for f in hits if f.path is None or case["element"] in f.path
                    or case["element"] in f.message]
        if case.get("record") is not None:
            hits = [f for f in hits if f.record == case["record"]]
        if not hits:
            got = [(f.line, f.rule, f.path) for f in result.errors][:3]
            problems.append(f"{case['file']}: expected line {case['line']} {case.get('rule', '')} "
                            f"{case.get('element', '')}, got {got}")
    assert not problems, "\n".join(problems)


def test_every_rules_layer_rule_is_shipped(shipped: Registry) -> None:
    """Each rule id a manifest names is defined by the rules of that version."""
    for sv in shipped_versions():
        if sv.fixtures is None or not (sv.fixtures / "manifest.json").is_file():
            continue
        manifest = json.loads((sv.fixtures / "manifest.json").read_text(encoding="utf-8"))
        wanted = {c["rule"] for c in manifest["invalid"] if c.get("layer") == "rules"}
        have = set(Validator.for_version(shipped, manifest["schema"]).rules.rule_ids)
        assert wanted <= have, (manifest["schema"], wanted - have)
