"""Registering a whole published schema set in one step (``egif schema add-set DIR``).

A published set is a folder of modules that name each other by relative
schemaLocation.  Every document that another one imports, or that nothing
refers to, is a *module* and becomes a registered version of its own; a
document reached only through xs:include / xs:redefine / xs:override is a
part of the module that includes it.  Names and versions come from a
manifest the user supplies, else from the GovTalk file name
(``Name-vM-N.xsd``, a revision letter allowed: ``VBcommon-v3-1d.xsd``), else
from the file's stem and its ``xs:schema/@version`` (``1.0`` when it has
none, said in the plan).

Modules are added dependencies first, in one transaction: an importer then
finds the module it imports already registered and byte-identical, and
records a binding to it instead of a second copy.  Re-running is a no-op.
A module whose name and version are already registered with other content
is not added; its importers keep the published file, and the plan says how
it differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from egif.binding import LocalSource, govtalk_name
from egif.errors import Conflict, EgifError, InputError
from egif.limits import MAX_SCHEMA_FILE_BYTES, loads_json
from egif.model import SchemaRef, check_name, parse_version
from egif.resolve import DIRECTIVE_TAGS, iter_directives
from egif.xmlsafe import XSD_NS, parse_schema_bytes, read_file

if TYPE_CHECKING:
    from egif.registry import AddResult, Registry

MANIFEST_NAME = "egif-set.json"
MAX_SET_FILES = 5000
_VERSION_ATTR = re.compile(r"^\s*(\d+)\.(\d+)")


@dataclass(frozen=True)
class SetModule:
    """One module of a set: a file that becomes a registered version."""

    path: str  # relative to the set's folder
    name: str
    version: str
    namespace: str | None
    naming: str  # how name and version were found: manifest | file name | schema version | assumed
    depends: tuple[str, ...]  # paths of the modules it imports

    @property
    def ref(self) -> SchemaRef:
        return SchemaRef(self.name, self.version)


@dataclass(frozen=True)
class SetEntry:
    """What happened (or, in a dry run, would happen) to one module."""

    module: SetModule
    action: str  # added | unchanged | conflict
    message: str
    result: AddResult | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.module.path, "name": self.module.name, "version": self.module.version,
            "namespace": self.module.namespace, "naming": self.module.naming,
            "depends": list(self.module.depends), "action": self.action, "message": self.message,
        }
        if self.result is not None:
            out["digest"] = self.result.version.digest
            out["files"] = [f.path for f in self.result.version.files]
            out["bindings"] = [b.to_dict() for b in self.result.bindings]
        return out


@dataclass(frozen=True)
class SetResult:
    directory: str
    entries: tuple[SetEntry, ...]
    parts: tuple[str, ...]  # documents stored as parts of a module (included only)
    skipped: tuple[tuple[str, str], ...]  # (path, why) of files that are not schema documents
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {"directory": self.directory, "dry_run": self.dry_run,
                "modules": [e.to_dict() for e in self.entries], "parts": list(self.parts),
                "skipped": [{"path": p, "why": w} for p, w in self.skipped]}


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


@dataclass(frozen=True)
class Manifest:
    """What the user says of a set: names and versions of modules, files to leave out."""

    modules: dict[str, tuple[str, str]]
    skip: frozenset[str] = frozenset()


def read_manifest(path: Path) -> Manifest:
    """Read a set's manifest.

    The manifest is JSON: ``{"modules": {"path/File.xsd": {"name": "N", "version": "1.0"}},
    "skip": ["path/Broken.xsd"]}``; both keys are optional.
    """
    data = read_file(path, limit=MAX_SCHEMA_FILE_BYTES, what="manifest")
    try:
        doc = loads_json(data.decode("utf-8"), label=str(path), what="the manifest")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"not a JSON manifest: {exc}", file=path) from None
    modules = doc.get("modules", {}) if isinstance(doc, dict) else None
    skip = doc.get("skip", []) if isinstance(doc, dict) else None
    if not isinstance(modules, dict) or not isinstance(skip, list) or not all(isinstance(x, str) for x in skip):
        raise InputError('expected {"modules": {"File.xsd": {"name": ..., "version": ...}}, "skip": [...]}',
                         file=path)
    out: dict[str, tuple[str, str]] = {}
    for rel, entry in modules.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("version"), str):
            raise InputError(f"module {rel!r}: expected an object with string name and version", file=path)
        check_name(entry["name"])
        parse_version(entry["version"])
        out[str(rel).replace("\\", "/")] = (entry["name"], entry["version"])
    return Manifest(out, frozenset(x.replace("\\", "/") for x in skip))


def plan_modules(directory: Path, manifest: Manifest | None = None
                 ) -> tuple[list[SetModule], list[str], list[tuple[str, str]]]:
    """The modules of the set in *directory*, dependencies first; its parts; what was skipped."""
    root = directory.expanduser().resolve()
    if not root.is_dir():
        raise InputError("not a directory", file=directory)
    names = manifest.modules if manifest is not None else {}
    leave_out = manifest.skip if manifest is not None else frozenset()
    candidates = sorted(p for p in root.rglob("*") if p.suffix.lower() == ".xsd" and p.is_file())
    if len(candidates) > MAX_SET_FILES:
        raise InputError(f"holds more than {MAX_SET_FILES} schema files", file=directory)
    source = LocalSource(root)
    docs: dict[str, Any] = {}
    left_out: dict[str, Any] = {}  # read all the same: what they include is left out with them
    skipped: list[tuple[str, str]] = []
    for path in candidates:
        rel = path.relative_to(root).as_posix()
        if not path.resolve().is_relative_to(root):
            skipped.append((rel, "a symbolic link leading outside the set's folder: not read"))
            continue
        try:
            tree = parse_schema_bytes(read_file(path, limit=MAX_SCHEMA_FILE_BYTES, what="schema document"),
                                      str(path))
        except EgifError as exc:
            skipped.append((rel, "left out by the manifest" if rel in leave_out else exc.message))
            continue
        if rel in leave_out:
            skipped.append((rel, "left out by the manifest"))
            left_out[rel] = tree.getroot()
            continue
        if tree.getroot().tag != f"{{{XSD_NS}}}schema":
            skipped.append((rel, "not an XML Schema document"))
            continue
        docs[rel] = tree.getroot()

    included: set[str] = set()
    imported: set[str] = set()
    edges: dict[str, list[tuple[str, str]]] = {}
    by_namespace: dict[str, list[str]] = {}
    for rel, schema in docs.items():
        by_namespace.setdefault(schema.get("targetNamespace") or "", []).append(rel)
    def target_of(rel: str, elem: Any) -> str | None:
        """The set's file a directive of *rel* names (None: no file); a location leading out
        of the set's folder is refused by the source."""
        loc = elem.get("schemaLocation")
        key = source.locate(str(root / rel), loc) if loc else None
        return None if key is None else Path(key).relative_to(root).as_posix()

    for rel, schema in docs.items():
        for elem in iter_directives(schema):
            target = target_of(rel, elem)
            kind = DIRECTIVE_TAGS[str(elem.tag)]
            if target is None:
                # an import naming no file binds to a registered version of its namespace:
                # a module of the set that holds it must be registered first
                if kind == "import":
                    holders = by_namespace.get(elem.get("namespace") or "", [])
                    edges.setdefault(rel, []).extend(("namespace", h) for h in holders if h != rel)
                continue
            if target not in docs:
                continue
            edges.setdefault(rel, []).append((kind, target))
            (imported if kind == "import" else included).add(target)
    for rel, schema in left_out.items():
        # a document the manifest leaves out takes the parts it includes with it: they are
        # no modules of their own (its imports stay modules, as anything nothing refers to)
        for elem in iter_directives(schema):
            if DIRECTIVE_TAGS[str(elem.tag)] == "import":
                continue
            try:
                target = target_of(rel, elem)
            except InputError:
                continue  # leads outside the set: nothing of the set to leave out with it
            if target is not None:
                included.add(target)
    module_paths = [rel for rel in docs if rel in imported or rel not in included]
    parts = sorted(rel for rel in docs if rel not in module_paths)

    def closure_imports(rel: str) -> list[str]:
        """Modules imported by a module or by the parts it includes."""
        seen, todo, out = {rel}, [rel], []
        while todo:
            for kind, target in edges.get(todo.pop(), []):
                if kind == "namespace":
                    if target in module_paths and target != rel and target not in out:
                        out.append(target)
                elif kind == "import":
                    if target != rel and target not in out:
                        out.append(target)
                elif target not in seen and target not in module_paths:
                    seen.add(target)
                    todo.append(target)
        return out

    modules: dict[str, SetModule] = {}
    unnamed: list[str] = []
    for rel in module_paths:
        naming = "manifest"
        found = names.get(rel)
        if found is None:
            found, naming = govtalk_name(Path(rel).name), "file name"
        if found is None:
            stem = Path(rel).stem
            declared = _VERSION_ATTR.match(docs[rel].get("version") or "")
            if not re.match(r"^[A-Za-z][A-Za-z0-9_.\-]{0,99}$", stem):
                unnamed.append(rel)
                continue
            found = ((stem, f"{int(declared.group(1))}.{int(declared.group(2))}") if declared
                     else (stem, "1.0"))
            naming = "schema version" if declared else "assumed"
        modules[rel] = SetModule(rel, found[0], found[1], docs[rel].get("targetNamespace"), naming,
                                 tuple(closure_imports(rel)))
    if unnamed:
        raise InputError("cannot tell the name and version of " + ", ".join(unnamed) +
                         f": name them in a manifest ({MANIFEST_NAME})", file=directory)
    clashes: dict[tuple[str, str], list[str]] = {}
    for m in modules.values():
        clashes.setdefault((m.name, m.version), []).append(m.path)
    for (name, version), paths in clashes.items():
        if len(paths) > 1:
            contents = {read_file(root / p, limit=MAX_SCHEMA_FILE_BYTES, what="schema document") for p in paths}
            if len(contents) > 1:
                raise InputError(f"{', '.join(paths)} would all be {name}@{version} but differ: give them "
                                 f"distinct names or versions in a manifest ({MANIFEST_NAME})", file=directory)

    ordered: list[SetModule] = []
    state: dict[str, int] = {}
    for start in sorted(modules):
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            rel, i = stack.pop()
            if i == 0:
                if state.get(rel):
                    continue
                state[rel] = 1  # on the path: an import cycle is cut here
            deps = [d for d in modules[rel].depends if d in modules]
            if i < len(deps):
                stack.append((rel, i + 1))
                if not state.get(deps[i]):
                    stack.append((deps[i], 0))
                continue
            state[rel] = 2
            ordered.append(modules[rel])
    return ordered, parts, skipped


def _add_module(registry: Registry, root: Path, module: SetModule, dry_run: bool,
                actor: str | None) -> SetEntry:
    try:
        result = registry.add(root / module.path, name=module.name, version=module.version, actor=actor,
                              within=root)
    except Conflict:
        stored = registry.get(module.ref)
        return SetEntry(module, "conflict", (
            f"not added: {module.ref} is already registered with other content (digest "
            f"{stored.digest[:12]}); modules importing it keep the published file"))
    if result.created:
        return SetEntry(module, "added", f"{'would add' if dry_run else 'added'} {module.ref}", result)
    return SetEntry(module, "unchanged", f"unchanged: {module.ref} is already stored with this content", result)


def add_set(registry: Registry, directory: str | Path, *, manifest: Path | None = None,
            dry_run: bool = False, actor: str | None = None) -> SetResult:
    """Register every module of the set in *directory*, dependencies first, in one transaction."""
    folder = Path(directory).expanduser()
    if manifest is None and (folder / MANIFEST_NAME).is_file():
        manifest = folder / MANIFEST_NAME
    modules, parts, skipped = plan_modules(folder, read_manifest(manifest) if manifest is not None else None)
    root = folder.resolve()
    entries: list[SetEntry] = []
    try:
        with registry.store.transaction():
            # every module is tried (an add that fails stores nothing), so that one answer
            # names all that do not register, not the first of them
            failed: list[tuple[SetModule, EgifError]] = []
            for module in modules:
                try:
                    entries.append(_add_module(registry, root, module, dry_run, actor))
                except EgifError as exc:
                    failed.append((module, exc))
            if failed:
                raise _not_registered(folder, failed)
            if dry_run:
                raise _DryRun
    except _DryRun:
        registry.forget_cache()
    return SetResult(str(folder), tuple(entries), tuple(parts), tuple(skipped), dry_run)


def _not_registered(folder: Path, failed: list[tuple[SetModule, EgifError]]) -> EgifError:
    """One error for the modules of a set that did not register (all or nothing)."""
    module, first = failed[0]
    if len(failed) == 1:
        return type(first)(f"{first.message} (module {module.path} of the set: fix it, or list it under "
                           f"\"skip\" in {MANIFEST_NAME} to register the rest)", file=first.file)
    paths = [m.path for m, _e in failed]
    reasons = "; ".join(f"{m.path}: {e.message}" for m, e in failed)
    skip = ", ".join(f'"{p}"' for p in paths)
    return type(first)(f"{len(failed)} modules of the set do not register: {reasons} (fix them, or list them "
                       f"under \"skip\" in {MANIFEST_NAME} to register the rest: {{\"skip\": [{skip}]}})",
                       file=str(folder))


__all__ = [
    "MANIFEST_NAME", "Manifest", "SetEntry", "SetModule", "SetResult", "add_set", "plan_modules", "read_manifest",
]
