"""``diff_schemas`` and ``diff_refs``: the entry points of the diff."""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from egif.diff.compare import compare_schemas
from egif.diff.decide import decide
from egif.diff.evidence import fixture_documents, probe_fixtures, probe_generated
from egif.diff.model import Side
from egif.diff.result import DiffResult, DirectionEvidence, check_bump
from egif.errors import InputError, NotFound
from egif.limits import check_component_count, count_global_components
from egif.model import SchemaRef, check_name, is_schema_file
from egif.resolve import ResolvedSchema

if TYPE_CHECKING:
    from egif.registry import Registry

_VERSION_ATTR = re.compile(r"^\d+\.\d+$")


def diff_schemas(old: ResolvedSchema, new: ResolvedSchema, *, evidence: bool = True, samples: int = 50,
                 seed: int = 0, old_version: str | None = None, new_version: str | None = None,
                 old_fixtures: Path | None = None, new_fixtures: Path | None = None) -> DiffResult:
    """Compare two resolved schemas and decide compatibility.

    The verdict is decided on what the two schemas accept (see
    :mod:`egif.diff.decide`): each direction is "yes", "no" with witness
    documents libxml2 confirmed, or "not-proven" with the constructs that
    could not be decided.  ``changes`` lists what differs between the
    component models.  With ``evidence`` the verdict is also tested:
    ``samples`` documents generated from each side (seeded by ``seed``) and
    the valid fixtures in ``old_fixtures`` / ``new_fixtures`` (folders with a
    manifest.json) are validated against the other side; a document that
    contradicts a "yes" becomes a counterexample and overturns it.
    ``old_version`` and ``new_version`` (default: each main document's
    xs:schema/@version) are checked against the implied GovTalk-style bump.
    """
    for resolved in (old, new):  # one oversized schema must not take a shared registry down
        check_component_count(count_global_components(resolved.files), label=resolved.label or resolved.main,
                              what="schema with its imports")
    old_x, new_x = old.xmlschema_schema(), new.xmlschema_schema()
    changes = compare_schemas(old_x, new_x)
    side_old = Side(old_x, old.lxml_schema(), "old")
    side_new = Side(new_x, new.lxml_schema(), "new")
    decision = {"backward": decide(side_old, side_new, "backward"),
                "forward": decide(side_new, side_old, "forward")}
    result = DiffResult(old.label or old.main, new.label or new.main, changes, decision=decision)
    for role, side in (("old", side_old), ("new", side_new)):
        if not side.elements:
            result.notes.append(f"the {role} schema declares no global element: its model is empty and "
                                "validates no document")
    if evidence:
        result.evidence = {}
        for direction, src, dst, fixtures in (("backward", old, new, old_fixtures),
                                               ("forward", new, old, new_fixtures)):
            decided_yes = decision[direction].status == "yes"
            probe = probe_generated(src, dst, direction, samples=samples, seed=seed)
            ev: DirectionEvidence = probe.evidence
            refused = list(probe.refused)
            if fixtures is not None:
                refused = probe_fixtures(fixture_documents(fixtures), src, dst, direction, ev) + refused
            result.evidence[direction] = ev
            if decided_yes and refused:
                result.counterexamples.extend(refused[:3])
    ov = old_version if old_version is not None else _declared_version(old)
    nv = new_version if new_version is not None else _declared_version(new)
    result.bump_check = check_bump(ov, nv, result.implied_bump)
    return result


def _declared_version(resolved: ResolvedSchema) -> str | None:
    try:
        value = resolved.xmlschema_schema().root.get("version")
    except Exception:
        return None
    return value.strip() if value and _VERSION_ATTR.match(value.strip()) else None


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
          tmpdir: str, imports: Mapping[str, str] | None = None) -> _Side:
    if is_schema_file(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise InputError("no such schema file", file=spec)
        if not scratch:
            scratch.append(_scratch_registry(registry, tmpdir))
        reg = scratch[0]
        name = f"egif-diff-{role}"
        added = reg.add(path, name=name, version="0.1" if role == "old" else "0.2", imports=dict(imports or {}))
        resolved = reg.resolve(added.version.ref)
        resolved = ResolvedSchema(resolved.files, resolved.main, label=str(spec))
        return _Side(resolved, _declared_version(resolved), None)
    try:
        check_name(spec.partition("@")[0])
    except InputError:
        raise InputError(f"{spec!r} is neither a schema file nor NAME@VERSION") from None
    ref = SchemaRef.parse(spec)  # the one reference parser: its version-format error as everywhere
    version = registry.get(ref)
    resolved = registry.resolve(version.ref)
    return _Side(resolved, version.version, _shipped_fixtures(version.ref))


def diff_refs(registry: Registry, old: str, new: str, *, evidence: bool = True, samples: int = 50,
              seed: int = 0, imports: Mapping[str, str] | None = None) -> DiffResult:
    """Diff two sides, each ``NAME@VERSION`` in ``registry`` or a local schema file.

    A local file is compiled with its includes and imports by adding it to a
    scratch copy of the registry (imports bind as ``egif schema add`` would,
    ``imports`` mapping a namespace to ``NAME@VERSION`` or a file, as
    ``--import`` does there); the registry itself is not written to.
    Shipped versions bring their stored fixtures as extra evidence.
    """
    scratch: list[Registry] = []
    with tempfile.TemporaryDirectory(prefix="egif-diff-") as tmpdir:
        try:
            a = _side(registry, old, "old", scratch, tmpdir, imports)
            b = _side(registry, new, "new", scratch, tmpdir, imports)
        except NotFound:
            raise
        finally:
            for reg in scratch:
                reg.close()
        return diff_schemas(a.resolved, b.resolved, evidence=evidence, samples=samples, seed=seed,
                            old_version=a.version, new_version=b.version,
                            old_fixtures=a.fixtures, new_fixtures=b.fixtures)


__all__ = ["diff_refs", "diff_schemas"]
