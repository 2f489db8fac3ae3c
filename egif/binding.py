"""Reading a schema's documents and binding every include and import.

A schema is added from a *source*: the local file system (``egif schema
add``) or a set of files held in memory (a pull, which must never read
anything but what it downloaded).  The documents are read the way an XSD
processor reads them: depth first, in document order, each namespace imported
once — the first import of a namespace wins and later ones of the same
namespace are skipped, as libxml2 and xmlschema both do.

Each imported namespace is bound once, by the first rule that applies:

1. ``explicit``: the caller named a file or a registered ``NAME@VERSION``;
2. ``preferred``: the caller asked for registered versions first and the
   registry holds a usable version of the namespace;
3. ``published``: the schemaLocation names a file that was supplied with the
   schema: the file is stored with the version, exactly as published —
   unless its whole closure is byte-identical to a registered version's, in
   which case the binding is recorded to that version (``identical``) and
   nothing is stored twice;
4. ``registered``: no file was supplied (no schemaLocation, a URL, or a
   missing file): the newest usable registered version of the namespace.

Nothing is ever fetched from the network.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lxml import etree

from egif.errors import EgifError, InputError, SchemaCompileError
from egif.limits import MAX_SCHEMA_FILE_BYTES, member_path_problem
from egif.model import USABLE_STATUSES, SchemaRef, Status, version_order
from egif.resolve import DIRECTIVE_TAGS, iter_directives
from egif.xmlsafe import XSD_NS, parse_schema_bytes, read_file

if TYPE_CHECKING:
    from egif.registry import Registry

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
# GovTalk file names: Name-vMAJOR-MINOR[letters].xsd (VBcommon-v3-1d.xsd)
_GOVTALK_FILE_RE = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9_.\-]*?)-v(?P<major>\d+)-(?P<minor>\d+)(?P<rev>[a-z]{0,2})\.xsd$", re.IGNORECASE)
MAX_DEPTH = 500  # include/import chains deeper than this are refused

REASONS = {
    "explicit": "named by the caller",
    "preferred": "registered version preferred by the caller",
    "published": "the file its schemaLocation names, supplied with the schema",
    "identical": "the supplied file is byte-identical to a registered version",
    "registered": "newest usable registered version",
    "unbound": "no file supplied and none registered: skipped, as XSD processors skip it",
}


def govtalk_name(filename: str) -> tuple[str, str] | None:
    """``("VBcommon", "3.1d")`` for ``VBcommon-v3-1d.xsd``; None for other names."""
    m = _GOVTALK_FILE_RE.match(filename)
    if not m:
        return None
    return m.group("name"), f"{int(m.group('major'))}.{int(m.group('minor'))}{m.group('rev').lower()}"


# -- sources -------------------------------------------------------------------
class Source(Protocol):
    """Where the documents of a schema being added come from."""

    def locate(self, base: str, location: str) -> str | None:
        """The key a schemaLocation names, relative to the document *base*; None for a URL."""
        ...

    def exists(self, key: str) -> bool: ...

    def read(self, key: str) -> bytes: ...

    def display(self, key: str) -> str: ...


class LocalSource:
    """Files on the local disk, named by the user: relative and absolute paths are allowed,
    or, given *within* (a set's folder), only files inside that folder once symbolic links
    are followed: a location leading anywhere else is refused."""

    def __init__(self, within: Path | None = None) -> None:
        self.within = within.expanduser().resolve() if within is not None else None

    def key_of(self, path: str | Path) -> str:
        return str(Path(path).expanduser().resolve())

    def locate(self, base: str, location: str) -> str | None:
        loc = location.strip()
        if loc.startswith("file:"):
            loc = re.sub(r"^file:(//)?", "", loc)
        elif _URL_RE.match(loc) and not _DRIVE_RE.match(loc):
            return None
        target = (Path(base).parent / loc).resolve()
        if self.within is not None and not target.is_relative_to(self.within):
            raise InputError(f"schemaLocation {location!r} leads outside the set's folder {self.within}",
                             file=base)
        return str(target)

    def exists(self, key: str) -> bool:
        return Path(key).is_file()

    def read(self, key: str) -> bytes:
        return read_file(Path(key), limit=MAX_SCHEMA_FILE_BYTES, what="schema document")

    def display(self, key: str) -> str:
        return key


class MemorySource:
    """A closed set of files held in memory (a download): nothing outside it is ever read.

    Keys are relative POSIX paths.  A schemaLocation that is absolute, has a
    drive letter or a backslash, holds a NUL, or climbs out of the set with
    ``..`` is refused; a URL means "not supplied" (the registry may bind it).
    """

    def __init__(self, files: Mapping[str, bytes], label: str = "") -> None:
        for key in files:
            check_member_path(key, label or "the file set")
        self.files = {posixpath.normpath(k): v for k, v in files.items()}
        self.label = label

    def locate(self, base: str, location: str) -> str | None:
        loc = location.strip()
        if _URL_RE.match(loc) and not _DRIVE_RE.match(loc):
            return None
        if "\\" in loc or "\x00" in loc or loc.startswith("/") or _DRIVE_RE.match(loc):
            raise InputError(f"schemaLocation {location!r} is not a relative path inside the set",
                             file=self.display(base))
        target = posixpath.normpath(posixpath.join(posixpath.dirname(base), loc))
        if target == ".." or target.startswith("../"):
            raise InputError(f"schemaLocation {location!r} points outside the set", file=self.display(base))
        return target

    def exists(self, key: str) -> bool:
        return key in self.files

    def read(self, key: str) -> bytes:
        try:
            return self.files[key]
        except KeyError:
            raise InputError("not in the set", file=self.display(key)) from None

    def display(self, key: str) -> str:
        return f"{self.label}:{key}" if self.label else key


def check_member_path(path: str, where: str) -> str:
    """Refuse a path inside a file set that could name anything outside it
    (the rules: :func:`egif.limits.member_path_problem`)."""
    problem = member_path_problem(path)
    if problem is not None:
        raise InputError(f"unsafe file path: {problem}", file=where)
    return path


# -- the result of a scan ------------------------------------------------------------
@dataclass
class ScannedFile:
    key: str
    data: bytes
    tree: etree._ElementTree
    role: str  # main | include | import

    @property
    def namespace(self) -> str | None:
        value = self.tree.getroot().get("targetNamespace")
        return str(value) if value is not None else None

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class ScannedDirective:
    file: str
    kind: str
    namespace: str | None
    location: str | None
    target: str | None = None  # a scanned file's key
    version_id: int | None = None  # or a registered version


@dataclass
class NamespaceBinding:
    """How one imported namespace is satisfied, and why (what ``schema add`` prints)."""

    namespace: str | None
    reason: str  # a key of REASONS
    detail: str
    version_id: int | None = None
    target_label: str | None = None  # NAME@VERSION of version_id
    file: str | None = None  # key of the first supplied file
    note: str | None = None  # e.g. how the file differs from a registered version


@dataclass
class Scan:
    files: dict[str, ScannedFile] = field(default_factory=dict)
    directives: list[ScannedDirective] = field(default_factory=list)
    bindings: dict[str, NamespaceBinding] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def reachable(self, start: str, *, without_imports_of: str | None = None) -> list[str]:
        """Keys of the files reachable from *start* through directives to files, in discovery
        order; with *without_imports_of* (a namespace, "" for none), not through its imports."""
        by_file: dict[str, list[ScannedDirective]] = {}
        for d in self.directives:
            if not (d.kind == "import" and (d.namespace or "") == without_imports_of):
                by_file.setdefault(d.file, []).append(d)
        seen = [start]
        known = {start}
        i = 0
        while i < len(seen):
            for d in by_file.get(seen[i], []):
                if d.target is not None and d.target not in known:
                    known.add(d.target)
                    seen.append(d.target)
            i += 1
        return seen


# -- scanning ------------------------------------------------------------------------
class Scanner:
    """Reads a schema's documents from a source and binds every directive."""

    def __init__(self, registry: Registry, source: Source, *,
                 explicit: Mapping[str, str | SchemaRef | Path] | None = None,
                 prefer_registered: bool = False,
                 known: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> None:
        self.registry = registry
        self.known = dict(known or {})  # registered versions already read, by (name, version)
        self.source = source
        self.explicit = dict(explicit or {})
        self.prefer_registered = prefer_registered
        self.scan = Scan()
        self._deferred: list[str] = []
        self._pending: dict[str, list[tuple[ScannedDirective, str]]] = {}

    # reading ------------------------------------------------------------------
    def _load(self, key: str, role: str) -> ScannedFile:
        found = self.scan.files.get(key)
        if found is not None:
            return found
        name = self.source.display(key)
        data = self.source.read(key)
        tree = parse_schema_bytes(data, name)
        root = tree.getroot()
        if root.tag != f"{{{XSD_NS}}}schema":
            tag = etree.QName(root).localname if isinstance(root.tag, str) else "?"
            raise InputError(f"not an XML Schema (root element is {tag!r}, expected xs:schema)", file=name)
        scanned = ScannedFile(key, data, tree, role)
        self.scan.files[key] = scanned
        return scanned

    def run(self, main: str) -> Scan:
        self._load(main, "main")
        self._walk(main)
        self._settle_pending()
        # imports that XSD processors skip (their namespace came first from another file):
        # kept as published when they read cleanly, dropped with a note when not
        while self._deferred:
            key = self._deferred.pop(0)
            if key in self.scan.files:
                continue
            mark = (len(self.scan.directives), dict(self.scan.files), dict(self.scan.bindings))
            try:
                self._load(key, "import")
                self._walk(key)
                self._settle_pending()
            except EgifError as exc:
                self._pending.clear()
                del self.scan.directives[mark[0]:]
                self.scan.files = mark[1]
                self.scan.bindings = mark[2]
                for d in self.scan.directives:
                    if d.target is not None and d.target not in self.scan.files:
                        d.target = None
                self.scan.notes.append(
                    f"not stored: {self.source.display(key)}, which XSD processors skip (its namespace "
                    f"is imported first from another file), does not read cleanly: {exc}")
        self._dedupe(main)
        return self.scan

    def _walk(self, start: str) -> None:
        stack: list[tuple[str, Iterator[etree._Element]]] = [
            (start, iter(iter_directives(self.scan.files[start].tree.getroot())))]
        while stack:
            key, pending = stack[-1]
            elem = next(pending, None)
            if elem is None:
                stack.pop()
                continue
            descend = self._directive(key, elem)
            if descend is not None:
                if len(stack) >= MAX_DEPTH:
                    raise SchemaCompileError(f"includes and imports nest deeper than {MAX_DEPTH} documents",
                                             file=self.source.display(key))
                stack.append((descend, iter(iter_directives(self.scan.files[descend].tree.getroot()))))

    def _directive(self, key: str, elem: etree._Element) -> str | None:
        """Record one directive; returns a newly read file to descend into."""
        kind = DIRECTIVE_TAGS[str(elem.tag)]
        loc = elem.get("schemaLocation")
        here = self.scan.files[key]
        name = self.source.display(key)
        if kind != "import":
            if not loc:
                raise InputError(f"xs:{kind} without a schemaLocation", file=name)
            target = self.source.locate(key, loc)
            if target is None:
                raise InputError(f"xs:{kind} of {loc!r} points to the network; included documents must be "
                                 "supplied with the schema", file=name)
            if not self.source.exists(target):
                raise SchemaCompileError(f"xs:{kind} {loc!r} not found (looked for "
                                         f"{self.source.display(target)})", file=name)
            new = target not in self.scan.files
            included = self._load(target, "include")
            inc_tns, tns = included.namespace, here.namespace
            if inc_tns is not None and inc_tns != tns:
                raise SchemaCompileError(f"xs:{kind} {loc!r} has targetNamespace {inc_tns!r}, not {tns!r}; "
                                         "use xs:import for another namespace", file=name)
            self.scan.directives.append(ScannedDirective(key, kind, tns, loc, target=target))
            return target if new else None

        ns = elem.get("namespace")
        d = ScannedDirective(key, kind, ns, loc)
        self.scan.directives.append(d)
        nk = ns or ""
        binding = self.scan.bindings.get(nk)
        if binding is None:
            found = self._bind(key, ns, loc)
            if found is None:
                # no file here: XSD processors skip this import and take a later one of the
                # namespace; only when none supplies a file does a registered version step in
                self._pending.setdefault(nk, []).append((d, key))
                return None
            binding = self.scan.bindings[nk] = found
            for earlier, _ in self._pending.pop(nk, []):
                self._point(earlier, binding)
            if binding.version_id is not None:
                d.version_id = binding.version_id
                return None
            assert binding.file is not None
            d.target = binding.file
            new = binding.file not in self.scan.files
            self._load(binding.file, "import")
            return binding.file if new else None
        if binding.version_id is not None or binding.reason in ("explicit", "unbound"):
            self._point(d, binding)
            return None
        # the namespace is already imported from a supplied file: a second file of it is
        # skipped by XSD processors, but kept as published
        target = self.source.locate(key, loc) if loc else None
        if target is not None and self.source.exists(target):
            d.target = target
            if target not in self.scan.files:
                self._deferred.append(target)
        else:
            d.target = binding.file
        return None

    @staticmethod
    def _point(d: ScannedDirective, binding: NamespaceBinding) -> None:
        if binding.version_id is not None:
            d.target, d.version_id = None, binding.version_id
        else:
            d.target, d.version_id = binding.file, None

    def _settle_pending(self) -> None:
        """Namespaces no import supplied a file for: bound to a registered version, or refused."""
        for nk, waiting in list(self._pending.items()):
            first, key = waiting[0]
            binding = self._bind(key, first.namespace, first.location, last_resort=True)
            assert binding is not None
            self.scan.bindings[nk] = binding
            for d, _ in waiting:
                self._point(d, binding)
            if binding.reason == "unbound":
                what = f"namespace {first.namespace!r}" if first.namespace else "the no-namespace schema"
                self.scan.notes.append(f"the import of {what} is skipped: {binding.detail}")
        self._pending.clear()

    def _bind(self, key: str, ns: str | None, loc: str | None, *, last_resort: bool = False
              ) -> NamespaceBinding | None:
        what = f"namespace {ns!r}" if ns else "the no-namespace schema"
        name = self.source.display(key)
        choice = self.explicit.get(ns or "")
        if choice is not None:
            return self._explicit(ns, what, choice)
        if self.prefer_registered and ns is not None:
            row = self._default_row(ns, name)
            if row is not None:
                return self._to_version(ns, row, "preferred", "registered versions preferred (--prefer-registered)")
        target = self.source.locate(key, loc) if loc else None
        if target is not None and self.source.exists(target):
            return NamespaceBinding(ns, "published", f"{loc} supplied with the schema", file=target)
        if not last_resort:
            return None
        why = ("no schemaLocation" if not loc else
               f"schemaLocation {loc!r} is a URL, never fetched" if target is None else
               f"{loc!r} not supplied (looked for {self.source.display(target)})")
        if ns is not None:
            row = self._default_row(ns, name)
            if row is not None:
                return self._to_version(ns, row, "registered", why)
        hint = self._hint(key, ns, loc, target)
        # XSD processors skip an import they cannot load; the schema compiles only if it
        # uses nothing of that namespace, and the add says so when it does not
        return NamespaceBinding(ns, "unbound", f"{why}; neither supplied nor registered{hint}")

    def _hint(self, key: str, ns: str | None, loc: str | None, target: str | None) -> str:
        """Point at a supplied file that could satisfy an unbound import, if one lies beside it."""
        if not isinstance(self.source, LocalSource):
            return ""
        folder = Path(key).parent
        names = []
        if target is None and loc:
            names.append(posixpath.basename(loc.rstrip("/")))
        names += sorted(p.name for p in folder.glob("*") if p.suffix.lower() == ".xsd")[:200]
        for base in names:
            path = folder / base
            if not base or not path.is_file() or str(path) == key:
                continue
            try:
                head = read_file(path)[:4096]
            except EgifError:
                continue
            found = re.search(rb'targetNamespace\s*=\s*["\']([^"\']*)["\']', head)
            if found is not None and found.group(1).decode("utf-8", "replace") == (ns or ""):
                return f"; {base} beside it has that targetNamespace: bind it with --import {ns or ''}={base}"
        return ""

    def _explicit(self, ns: str | None, what: str, choice: str | SchemaRef | Path) -> NamespaceBinding:
        if isinstance(choice, Path) or (isinstance(choice, str) and looks_like_file(choice)):
            if isinstance(self.source, LocalSource):
                target = self.source.key_of(choice)
            else:
                target = posixpath.normpath(str(choice))
            if not self.source.exists(target):
                raise InputError(f"--import for {what}: no such file", file=str(choice))
            return NamespaceBinding(ns, "explicit", f"--import {choice}", file=target)
        ref = SchemaRef.parse(choice) if isinstance(choice, str) else choice
        row = self.known.get((ref.name, str(ref.version))) if ref.version is not None else None
        if row is None:
            row = self.registry._row(ref)
        if row["namespace"] != ns:
            raise InputError(f"--import binds {what} to {row['name']}@{row['version']}, whose namespace "
                             f"is {row['namespace']!r}")
        return self._to_version(ns, row, "explicit", f"--import {ref}")

    @staticmethod
    def _to_version(ns: str | None, row: Mapping[str, Any], reason: str, detail: str) -> NamespaceBinding:
        return NamespaceBinding(ns, reason, detail, version_id=int(row["id"]),
                                target_label=f"{row['name']}@{row['version']}")

    def _default_row(self, ns: str, where: str) -> dict[str, Any] | None:
        rows = [r for r in self.registry.store.list_versions(namespace=ns)
                if Status(r["status"]) in USABLE_STATUSES]
        if not rows:
            return None
        names = sorted({r["name"] for r in rows})
        if len(names) > 1:
            raise InputError(f"namespace {ns!r} is held by several registered schemas ({', '.join(names)}): "
                             f"choose one with --import {ns}=NAME@VERSION", file=where)
        rank = {s.value: i for i, s in enumerate(USABLE_STATUSES)}
        best_rank = min(rank[r["status"]] for r in rows)
        best = [r for r in rows if rank[r["status"]] == best_rank]
        return max(best, key=lambda r: version_order(r["version"]))

    # deduplication -------------------------------------------------------------
    def _dedupe(self, main: str) -> None:
        """Bind supplied imports that are byte-identical to a registered version to that version
        (again until nothing changes: binding one may let another, which it stranded, follow)."""
        held: dict[str, str] = {}  # identical, but stored as published: why
        changed = True
        while changed:
            changed = False
            held.clear()
            for nk, binding in self.scan.bindings.items():
                # a file the caller named (--import NS=FILE, or a pull applying its index) stays that file
                if binding.reason != "published" or binding.file is None:
                    continue
                first = self.scan.files[binding.file]
                if main in self.scan.reachable(binding.file):
                    continue  # imports the schema being added: no registered version can equal it
                mine = self._canonical_local(binding.file)
                for row in self._candidates(binding.namespace, first.digest):
                    if canonical_stored(self.registry, int(row["id"])) != mine:
                        continue
                    stranded = self._stranded(main, nk)
                    if stranded is not None:
                        held[nk] = (f"{posixpath.basename(binding.file)} is byte-identical to "
                                    f"{row['name']}@{row['version']} but is stored as published: it supplies "
                                    f"{stranded}, which other files of the set import too")
                        break
                    binding.version_id = int(row["id"])
                    binding.target_label = f"{row['name']}@{row['version']}"
                    binding.reason = "identical"
                    binding.detail = (f"{posixpath.basename(binding.file)} supplied with the schema is "
                                      f"byte-identical to {binding.target_label}")
                    for d in self.scan.directives:
                        if d.kind == "import" and (d.namespace or "") == nk:
                            d.target, d.version_id = None, binding.version_id
                    changed = True
                    break
        self.scan.notes.extend(held.values())
        keep = set(self.scan.reachable(main))
        self.scan.files = {k: f for k, f in self.scan.files.items() if k in keep}
        self.scan.directives = [d for d in self.scan.directives if d.file in keep]
        # a namespace imported only inside files now left to a registered version is that version's
        imported = {d.namespace or "" for d in self.scan.directives if d.kind == "import"}
        self.scan.bindings = {nk: b for nk, b in self.scan.bindings.items() if nk in imported}
        for binding in self.scan.bindings.values():
            if binding.version_id is not None:
                binding.file = None

    def _stranded(self, main: str, nk: str) -> str | None:
        """What binding namespace *nk* to a registered version would leave without its file:
        a namespace whose supplied file is reached only through *nk*'s imports, yet which files
        still reached import too (XSD processors take the first file of a namespace and skip
        the others, so the kept files would lose the one they compile against); None when
        nothing would be."""
        kept = set(self.scan.reachable(main, without_imports_of=nk))
        imported = {d.namespace or "" for d in self.scan.directives
                    if d.kind == "import" and d.file in kept and (d.namespace or "") != nk}
        for other, b in self.scan.bindings.items():
            if other in imported and b.version_id is None and b.file is not None and b.file not in kept:
                return f"namespace {b.namespace!r}" if b.namespace else "the no-namespace schema"
        return None

    def _candidates(self, ns: str | None, digest: str) -> list[dict[str, Any]]:
        if ns is None:
            return []
        out = []
        for row in self.registry.store.list_versions(namespace=ns):
            if Status(row["status"]) not in USABLE_STATUSES:
                continue
            main = next((f for f in self.registry.store.version_files(row["id"]) if f["path"] == row["main_path"]),
                        None)
            if main is not None and main["digest"] == digest:
                out.append(row)
        rank = {s.value: i for i, s in enumerate(USABLE_STATUSES)}
        # like the default binding: the best status first, then the newest
        out.sort(key=lambda r: version_order(r["version"]), reverse=True)
        out.sort(key=lambda r: rank[r["status"]])
        return out

    def _canonical_local(self, start: str) -> list[tuple[str, tuple[int | None, ...]]]:
        by_file: dict[str, list[ScannedDirective]] = {}
        for d in self.scan.directives:
            by_file.setdefault(d.file, []).append(d)

        def children(node: tuple[str, Any]) -> tuple[str, list[tuple[str, Any] | None]]:
            if node[0] == "local":
                key = node[1]
                kids: list[tuple[str, Any] | None] = []
                for d in by_file.get(key, []):
                    if d.target is not None:
                        kids.append(("local", d.target))
                    elif d.version_id is not None:
                        kids.append(("stored", _main_of(self.registry, d.version_id)))
                    else:
                        kids.append(None)
                return self.scan.files[key].digest, kids
            return _stored_children(self.registry, node[1])

        return _canonical(("local", start), children)


def looks_like_file(value: str) -> bool:
    return value.endswith((".xsd", ".xml")) or "/" in value or os.sep in value


def _main_of(registry: Registry, version_id: int) -> tuple[int, str]:
    row = registry.store.version_by_id(version_id)
    return int(row["id"]), str(row["main_path"])


def _stored_children(registry: Registry, node: tuple[int, str]) -> tuple[str, list[tuple[str, Any] | None]]:
    version_id, path = node
    digest = next(f["digest"] for f in registry.store.version_files(version_id) if f["path"] == path)
    kids: list[tuple[str, Any] | None] = []
    for d in registry.store.version_directives(version_id):
        if d["file"] != path:
            continue
        if d["target_path"] is not None:
            kids.append(("stored", (version_id, d["target_path"])))
        elif d["target_version_id"] is not None:
            kids.append(("stored", _main_of(registry, int(d["target_version_id"]))))
        else:
            kids.append(None)
    return str(digest), kids


def canonical_stored(registry: Registry, version_id: int) -> list[tuple[str, tuple[int | None, ...]]]:
    """The canonical form of a registered version's closure (see :func:`_canonical`)."""
    return _canonical(("stored", _main_of(registry, version_id)),
                      lambda node: _stored_children(registry, node[1]))


def _canonical(start: tuple[str, Any],
               children: Callable[[tuple[str, Any]], tuple[str, list[tuple[str, Any] | None]]]
               ) -> list[tuple[str, tuple[int | None, ...]]]:
    """Number the documents of a closure in breadth-first order from its main document.

    Each document becomes (content digest, numbers of its directives'
    targets); two closures compile alike when these lists are equal, wherever
    their files lie.
    """
    numbers: dict[tuple[str, Any], int] = {start: 0}
    order = [start]
    out: list[tuple[str, tuple[int | None, ...]]] = []
    i = 0
    while i < len(order):
        digest, kids = children(order[i])
        refs: list[int | None] = []
        for kid in kids:
            if kid is None:
                refs.append(None)
                continue
            if kid not in numbers:
                numbers[kid] = len(order)
                order.append(kid)
            refs.append(numbers[kid])
        out.append((digest, tuple(refs)))
        i += 1
    return out


__all__ = [
    "REASONS",
    "LocalSource",
    "MemorySource",
    "NamespaceBinding",
    "Scan",
    "ScannedDirective",
    "ScannedFile",
    "Scanner",
    "check_member_path",
    "govtalk_name",
    "looks_like_file",
]
