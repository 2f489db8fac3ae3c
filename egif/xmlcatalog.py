"""Export the registry as an OASIS XML catalog (1.1) plus the schema files.

Other tools (xmllint and lxml through libxml2's ``XML_CATALOG_FILES``,
Oxygen, Xerces' ``XMLCatalogResolver``, Saxon...) then resolve, offline:

* every registered namespace, to the preferred version of its schema
  (ratified first, then candidate, draft, deprecated; newest within a status),
  as both a ``uri`` entry (lookup by namespace) and a ``system`` entry;
* GovTalk-style locations ``<namespace>/<file>`` of every stored file of every
  version (e.g. ``http://www.govtalk.gov.uk/people/bs7666/BS7666-v2-0.xsd``);
* every absolute ``schemaLocation`` written in a stored schema, to the file the
  registry bound it to;
* ``urn:egif:schema:<Name>:<version>``, naming one exact version.

The files are written as ``schemas/<Name>/<version>/<path>`` with their
include and import locations rewritten to relative paths inside that tree
(the layout of :meth:`egif.registry.Registry.export`), so each schema also
compiles without the catalog.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from egif.errors import InputError
from egif.model import USABLE_STATUSES, SchemaVersion
from egif.publish import write_atomic
from egif.registry import Registry

CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
CATALOG_NAME = "catalog.xml"
SCHEMAS_DIR = "schemas"


@dataclass(frozen=True)
class CatalogResult:
    catalog: Path
    files: int
    entries: int
    namespaces: dict[str, str]  # namespace -> "Name@version" it resolves to

    def to_dict(self) -> dict[str, Any]:
        return {"catalog": str(self.catalog), "files": self.files, "entries": self.entries,
                "namespaces": self.namespaces}


def _preference(v: SchemaVersion) -> tuple[int, int, int]:
    """Sort key: the version a namespace should resolve to comes first."""
    ranks = {s: i for i, s in enumerate(USABLE_STATUSES)}
    major, minor = v.version_key
    return (ranks.get(v.status, len(ranks)), -major, -minor)


def govtalk_location(namespace: str, path: str) -> str | None:
    """``<namespace>/<path>`` for an http(s) namespace, else None."""
    if not namespace.startswith(("http://", "https://")):
        return None
    return namespace.rstrip("/") + "/" + path


def version_urn(name: str, version: str) -> str:
    return f"urn:egif:schema:{name}:{version}"


def export_catalog(registry: Registry, directory: str | Path) -> CatalogResult:
    """Write ``catalog.xml`` and every registered schema under *directory*."""
    root = Path(directory)
    if root.exists() and not root.is_dir():
        raise InputError("exists and is not a directory", file=root)
    versions = sorted(registry.list(), key=_preference)
    tree: dict[str, bytes] = {}
    mains: dict[str, str] = {}
    for v in versions:
        resolved = registry.resolve(v.ref)
        tree.update(resolved.files)
        mains[str(v.ref)] = resolved.main

    entries: list[tuple[str, str, str]] = []  # (kind, key, target vpath)
    seen: set[tuple[str, str]] = set()

    def entry(key: str, vpath: str) -> None:
        for kind in ("uri", "system"):
            if (kind, key) not in seen:
                seen.add((kind, key))
                entries.append((kind, key, vpath))

    namespaces: dict[str, str] = {}
    for v in versions:  # best first: the first claim on a key wins
        if v.namespace and v.namespace not in namespaces:
            namespaces[v.namespace] = str(v.ref)
            entry(v.namespace, mains[str(v.ref)])
    for v in versions:
        base = f"{v.name}/{v.version}"
        entry(version_urn(v.name, v.version), mains[str(v.ref)])
        for f in v.files:
            loc = govtalk_location(f.namespace or v.namespace or "", f.path)
            if loc:
                entry(loc, f"{base}/{f.path}")
        for d in v.directives:
            loc = d.location or ""
            if not loc.startswith(("http://", "https://")):
                continue
            if d.target is not None:
                entry(loc, mains[str(d.target)])
            elif d.target_path is not None:
                entry(loc, f"{base}/{d.target_path}")

    for vpath, data in sorted(tree.items()):
        target = root / SCHEMAS_DIR / Path(*vpath.split("/"))
        if not target.is_file() or target.read_bytes() != data:
            write_atomic(target, data)

    cat = etree.Element(f"{{{CATALOG_NS}}}catalog", nsmap={None: CATALOG_NS})  # type: ignore[dict-item]
    cat.set("prefer", "public")
    cat.append(etree.Comment(" Written by egif registry export-catalog: every registered namespace "
                             "and schema location, resolved to the files beside this catalog. "))
    for kind, key, vpath in entries:
        el = etree.SubElement(cat, f"{{{CATALOG_NS}}}{kind}")
        el.set("name" if kind == "uri" else "systemId", key)
        el.set("uri", posixpath.join(SCHEMAS_DIR, vpath))
    data = etree.tostring(cat, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    catalog = root / CATALOG_NAME
    write_atomic(catalog, data)
    return CatalogResult(catalog=catalog, files=len(tree), entries=len(entries), namespaces=namespaces)


__all__ = ["CATALOG_NAME", "CatalogResult", "export_catalog", "govtalk_location", "version_urn"]
