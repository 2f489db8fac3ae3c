"""The standards egif ships, and loading them into a new registry.

Each folder of ``schemas/`` holds an ``index.json`` listing its versions (main
file, status, import bindings, fixtures).  A new registry loads every listed
version, dependencies first.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egif.errors import RegistryError
from egif.model import SchemaRef, Status

if TYPE_CHECKING:
    from egif.registry import Registry

SHIPPED_ACTOR = "egif (shipped standards)"


def data_root() -> Path:
    """Where the shipped ``schemas/`` and ``fixtures/`` live.

    In an installed wheel they sit in ``egif/_data``; in a source checkout, at
    the top of the repository.
    """
    packaged = Path(__file__).resolve().parent / "_data"
    if (packaged / "schemas").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def schemas_dir() -> Path:
    return data_root() / "schemas"


def fixtures_dir() -> Path:
    return data_root() / "fixtures"


@dataclass(frozen=True)
class ShippedVersion:
    name: str
    version: str
    main: Path
    status: Status
    imports: dict[str, str]
    successor: str | None
    fixtures: Path | None
    standard: str
    title: str | None
    changes: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    rules: tuple[Path, ...] = ()  # Schematron files, attached as kind "schematron"

    @property
    def ref(self) -> SchemaRef:
        return SchemaRef(self.name, self.version)


def shipped_versions(root: Path | None = None) -> list[ShippedVersion]:
    """Every shipped version, ordered so that each comes after what it imports."""
    base = root or schemas_dir()
    found: dict[str, ShippedVersion] = {}
    for index in sorted(base.glob("*/index.json")):
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RegistryError(f"unreadable shipped index: {exc}", file=index) from None
        for v in data.get("versions", []):
            fixtures = v.get("fixtures")
            sv = ShippedVersion(
                name=v["name"], version=v["version"], main=index.parent / v["main"],
                status=Status.parse(v.get("status", "ratified")), imports=dict(v.get("imports", {})),
                successor=v.get("successor"),
                fixtures=(data_root() / fixtures) if fixtures else None,
                standard=data.get("standard", v["name"]), title=data.get("title"),
                changes=v.get("changes"),
                rules=tuple(index.parent / r for r in v.get("rules", [])),
            )
            found[str(sv.ref)] = sv
    ordered: list[ShippedVersion] = []
    state: dict[str, int] = {}

    def visit(key: str, trail: tuple[str, ...]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise RegistryError(f"shipped schemas import each other in a cycle: {' -> '.join(trail)}")
        state[key] = 1
        for dep in found[key].imports.values():
            if dep not in found:
                raise RegistryError(f"shipped {key} imports {dep}, which is not shipped")
            visit(dep, (*trail, dep))
        state[key] = 2
        ordered.append(found[key])

    for key in sorted(found, key=lambda k: (found[k].name, found[k].ref)):
        visit(key, (key,))
    return ordered


@functools.cache
def shipped_digests() -> dict[str, str]:
    """``{"NAME@VERSION": version digest}`` of every shipped version, as a seeded registry stores it.

    Computed once per process by seeding a throwaway registry: exactly what a
    registry seeded by this egif holds, by construction.
    """
    from egif.registry import Registry

    with tempfile.TemporaryDirectory(prefix="egif-shipped-") as folder, \
            Registry.init(Path(folder) / "shipped.sqlite", actor=SHIPPED_ACTOR) as reg:
        return {str(v.ref): v.digest for v in reg.list()}


def seed_registry(registry: Registry) -> list[SchemaRef]:
    """Add every shipped version (inside the caller's transaction), through the administrative path."""
    added = []
    for sv in shipped_versions():
        result = registry._add(
            sv.main, name=sv.name, version=sv.version, imports=sv.imports, status=sv.status,
            successor=sv.successor, actor=SHIPPED_ACTOR, via="shipped",
        )
        for rule_file in sv.rules:
            registry._attach(result.version.ref, "schematron", rule_file.name,
                             rule_file.read_bytes(), actor=SHIPPED_ACTOR)
        added.append(result.version.ref)
    return added
