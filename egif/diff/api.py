"""``diff_schemas`` and ``diff_refs``: the entry points of the diff."""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from egif.diff.compare import compare_schemas
from egif.diff.evidence import fixture_documents, probe_fixtures, probe_generated
from egif.diff.result import DiffResult, DirectionEvidence, check_bump
from egif.errors import InputError, NotFound
from egif.model import SchemaRef
from egif.resolve import ResolvedSchema
from egif.xmlsafe import parse_bytes

if TYPE_CHECKING:
    from egif.registry import Registry

_VERSION_ATTR = re.compile(r"^\d+\.\d+$")


def diff_schemas(old: ResolvedSchema, new: ResolvedSchema, *, evidence: bool = True, samples: int = 50,
                 seed: int = 0, old_version: str | None = None, new_version: str | None = None,
                 old_fixtures: Path | None = None, new_fixtures: Path | None = None) -> DiffResult:
    """Compare two resolved schemas and judge compatibility.

    The rules compare the compiled component models; with ``evidence`` the
    verdict is also tested: ``samples`` documents generated from each side
    (seeded by ``seed``) and the valid fixtures in ``old_fixtures`` /
    ``new_fixtures`` (folders with a manifest.json) are validated against the
    other side.  A document that overturns a rule-based "compatible" becomes
    a counterexample and the verdict follows it.  ``old_version`` and
    ``new_version`` (default: each main document's xs:schema/@version) are
    checked against the implied GovTalk-style bump.
    """
    changes = compare_schemas(old.xmlschema_schema(), new.xmlschema_schema())
    result = DiffResult(old.label or old.main, new.label or new.main, changes)
    if evidence:
        result.evidence = {}
        for direction, src, dst, fixtures, rule_ok in (
                ("backward", old, new, old_fixtures, result.rule_backward),
                ("forward", new, old, new_fixtures, result.rule_forward)):
            probe = probe_generated(src, dst, direction, samples=samples, seed=seed)
            ev: DirectionEvidence = probe.evidence
            refused = list(probe.refused)
            if fixtures is not None:
                refused = probe_fixtures(fixture_documents(fixtures), src, dst, direction, ev) + refused
            result.evidence[direction] = ev
            if rule_ok and refused:
                result.counterexamples.extend(refused[:3])
    ov = old_version if old_version is not None else _declared_version(old)
    nv = new_version if new_version is not None else _declared_version(new)
    result.bump_check = check_bump(ov, nv, result.implied_bump)
    return result


def _declared_version(resolved: ResolvedSchema) -> str | None:
    try:
        root = parse_bytes(resolved.files[resolved.main], resolved.main).getroot()
    except Exception:
        return None
    value = root.get("version")
    return value.strip() if value and _VERSION_ATTR.match(value.strip()) else None


def _is_file_spec(spec: str) -> bool:
    return spec.endswith((".xsd", ".xml")) or "/" in spec or os.sep in spec or Path(spec).is_file()


def _shipped_fixtures(ref: SchemaRef) -> Path | None:
    from egif.shipped import shipped_versions

    for sv in shipped_versions():
        if sv.name == ref.name and sv.version == ref.version:
            return sv.fixtures
    return None


class _Side:
    def __init__(self, resolved: ResolvedSchema, version: str | None, fixtures: Path | None) -> None:
        self.resolved = resolved
        self.version = version
        self.fixtures = fixtures


def _scratch_registry(registry: Registry, directory: str) -> Registry:
    """A private copy of ``registry`` to add local files to (the original is never written)."""
    from egif.registry import Registry as _Registry

    target = Path(directory) / "scratch.sqlite"
    source_path = Path(registry.location)
    if source_path.is_file():
        src = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return _Registry.open(target, actor=registry.actor)
    # another kind of store (PostgreSQL): copy its content into the scratch file
    from egif.store import SqliteStore
    from egif.store.copy import copy_store

    scratch = SqliteStore(target, create=True)
    try:
        copy_store(registry.store, scratch)
    finally:
        scratch.close()
    return _Registry.open(target, actor=registry.actor)


def _side(registry: Registry, spec: str, role: str, scratch: list[Registry],
          tmpdir: str) -> _Side:
    if _is_file_spec(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise InputError("no such schema file", file=spec)
        if not scratch:
            scratch.append(_scratch_registry(registry, tmpdir))
        reg = scratch[0]
        name = f"egif-diff-{role}"
        added = reg.add(path, name=name, version="0.1" if role == "old" else "0.2")
        resolved = reg.resolve(added.version.ref)
        resolved = ResolvedSchema(resolved.files, resolved.main, label=str(spec))
        return _Side(resolved, _declared_version(resolved), None)
    try:
        ref = SchemaRef.parse(spec)
    except InputError:
        raise InputError(f"{spec!r} is neither a schema file nor NAME@VERSION") from None
    version = registry.get(ref)
    resolved = registry.resolve(version.ref)
    return _Side(resolved, version.version, _shipped_fixtures(version.ref))


def diff_refs(registry: Registry, old: str, new: str, *, evidence: bool = True, samples: int = 50,
              seed: int = 0) -> DiffResult:
    """Diff two sides, each ``NAME@VERSION`` in ``registry`` or a local schema file.

    A local file is compiled with its includes and imports by adding it to a
    scratch copy of the registry (imports bind as ``egif schema add`` would);
    the registry itself is not written to.  Shipped versions bring their
    stored fixtures as extra evidence.
    """
    scratch: list[Registry] = []
    with tempfile.TemporaryDirectory(prefix="egif-diff-") as tmpdir:
        try:
            a = _side(registry, old, "old", scratch, tmpdir)
            b = _side(registry, new, "new", scratch, tmpdir)
        except NotFound:
            raise
        finally:
            for reg in scratch:
                reg.close()
        return diff_schemas(a.resolved, b.resolved, evidence=evidence, samples=samples, seed=seed,
                            old_version=a.version, new_version=b.version,
                            old_fixtures=a.fixtures, new_fixtures=b.fixtures)


__all__ = ["diff_refs", "diff_schemas"]
