"""CLI conventions a newcomer expects: global options after the subcommand, suggestions
for mistyped references, one reference parser for every command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from egif import Registry
from egif.errors import NotFound
from egif.model import SchemaRef
from egif.registry import suggestion

from .conftest import run_egif


@pytest.fixture
def two_registries(registry_path: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The seeded registry, and an empty one (so that `schema list` tells them apart)."""
    empty = tmp_path / "empty.sqlite"
    Registry.init(empty, actor="tester@example.org", seed=False).close()
    return registry_path, empty


# -- global options where people type them ----------------------------------------------------
def test_registry_after_the_subcommand_wins_over_env_and_before(two_registries: tuple[Path, Path]) -> None:
    seeded, empty = two_registries
    after = run_egif("schema", "list", "--registry", str(empty), registry=seeded)
    assert after.returncode == 0, after.stderr
    assert "BS7666" not in after.stdout
    before = run_egif("--registry", str(empty), "schema", "list", "--registry", str(seeded))
    assert before.returncode == 0, before.stderr
    assert "BS7666@2.0" in before.stdout
    env_only = run_egif("schema", "list", registry=seeded)
    assert "BS7666@2.0" in env_only.stdout


def test_registry_option_inside_a_group(two_registries: tuple[Path, Path]) -> None:
    seeded, empty = two_registries
    result = run_egif("schema", "--registry", str(empty), "list", registry=seeded)
    assert result.returncode == 0, result.stderr
    assert "BS7666" not in result.stdout


def test_validate_accepts_registry_after_the_command(two_registries: tuple[Path, Path], tmp_path: Path) -> None:
    seeded, empty = two_registries
    doc = next((Path(__file__).parent.parent / "fixtures" / "bs7666" / "2.0" / "valid").glob("*.xml"))
    ok = run_egif("validate", "--registry", str(seeded), str(doc), registry=empty)
    assert ok.returncode == 0, ok.stderr + ok.stdout
    refused = run_egif("validate", str(doc), "--registry", str(empty), registry=seeded)
    assert refused.returncode == 2 and "no registered schema" in refused.stdout + refused.stderr


def test_as_after_the_subcommand_names_the_actor(registry_path: Path) -> None:
    result = run_egif("lifecycle", "approve", "BS7666@2.0", "--as", "bob", registry=registry_path)
    assert result.returncode == 1
    assert "'bob' may not approve" in result.stderr
    assert "Did you mean" not in result.stderr
    # before the subcommand, and from the environment (EGIF_USER is tester@example.org here)
    before = run_egif("--as", "carol", "lifecycle", "approve", "BS7666@2.0", registry=registry_path)
    assert "'carol' may not approve" in before.stderr
    env = run_egif("lifecycle", "approve", "BS7666@2.0", registry=registry_path)
    assert "'tester@example.org' may not approve" in env.stderr
    both = run_egif("--as", "carol", "lifecycle", "approve", "BS7666@2.0", "--as", "dave", registry=registry_path)
    assert "'dave' may not approve" in both.stderr


def test_as_after_the_subcommand_is_recorded(registry_path: Path) -> None:
    added = run_egif("registry", "config", "--add-maintainer", "erin", "--as", "erin", "--format", "json",
                     registry=registry_path)
    assert added.returncode == 0, added.stderr
    with Registry.open(registry_path) as reg:
        assert list(reg.events())[-1].actor == "erin"


def test_every_command_lists_the_global_options() -> None:
    from click.testing import CliRunner
    from egif_cli.app import cli
    from egif_cli.docgen import walk

    for path, command in walk(cli, ("egif",)):
        if len(path) == 1:
            continue
        names = {opt for p in command.params for opt in p.opts}
        assert {"--registry", "--as"} <= names, path
    result = CliRunner().invoke(cli, ["lifecycle", "approve", "--help"])
    assert "--as NAME" in result.output and "--registry PATH|DSN" in result.output


# -- suggestions for a mistyped reference ----------------------------------------------------
KNOWN = {"BS7666": ["1.0", "2.0"], "AddressAndPersonalDetails": ["1.0", "2.0"], "CommonSimpleTypes": ["1.3"]}


@pytest.mark.parametrize(("typed", "expected"), [
    ("bs7666@2.0", "BS7666@2.0"),
    ("bs7666", "BS7666"),
    ("BS766@1.0", "BS7666@1.0"),
    ("bs7666@1.5", "BS7666 (versions: 1.0, 2.0)"),
    ("CommonSimpleType", "CommonSimpleTypes"),
    ("Unrelated", None),
])
def test_suggestion(typed: str, expected: str | None) -> None:
    assert suggestion(SchemaRef.parse(typed), KNOWN) == expected


def test_suggestion_lists_several_close_names() -> None:
    known = {"Permit": ["1.0"], "permit": ["2.0"]}
    assert suggestion(SchemaRef.parse("PERMIT@2.0"), known) == "Permit (versions: 1.0) or permit@2.0"


def test_registry_suggests_on_every_lookup(registry: Registry) -> None:
    for call in (lambda: registry.get("bs7666@2.0"), lambda: registry.versions("bs7666"),
                 lambda: registry.newest("bs7666")):
        with pytest.raises(NotFound, match=r"no standard bs7666 in the registry .* did you mean BS7666"):
            call()
    with pytest.raises(NotFound, match=r"no schema BS7666@9\.9 in the registry \(registered versions: 1\.0, 2\.0\)"):
        registry.get("BS7666@9.9")


@pytest.mark.parametrize("args", [
    ("schema", "show", "bs7666@2.0"),
    ("lint", "bs7666@2.0"),
    ("diff", "bs7666@2.0", "BS7666@1.0"),
    ("schema", "history", "bs7666@2.0"),
])
def test_cli_suggests(egif_cli: Any, args: tuple[str, ...]) -> None:
    result = egif_cli(*args)
    assert result.returncode == 2
    assert "did you mean BS7666@2.0?" in result.stderr, result.stderr


def test_one_version_format_error_for_every_command(egif_cli: Any, tmp_path: Path) -> None:
    errors = set()
    for args in (("lint", "BS7666@2"), ("schema", "show", "BS7666@2"), ("diff", "BS7666@2", "BS7666@1.0"),
                 ("lifecycle", "status", "BS7666@2")):
        result = egif_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        errors.add(result.stderr.strip())
    assert errors == {"egif: error: invalid version '2': expected MAJOR.MINOR such as 1.0 or 2.3 "
                      "(optionally with a revision letter, as in 3.1d)"}


def test_lint_still_takes_a_file_named_like_a_reference(egif_cli: Any, tmp_path: Path) -> None:
    shipped = Path(__file__).parent.parent / "schemas"
    source = next(shipped.rglob("BS7666-v2-0.xsd"))
    shutil.copyfile(source, tmp_path / "BS7666@2")
    result = egif_cli("lint", "--format", "json", "BS7666@2", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["schema"] == "BS7666@2"
