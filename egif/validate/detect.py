"""Which registered schema version a document is written to.

The rule, in order:

1. Candidates are the registered versions whose target namespace is the
   namespace of the document's root element and whose own documents declare
   the root element globally.  Withdrawn and rejected versions are left out
   unless nothing else is left.
2. If the root carries a ``version`` attribute naming one of the candidates'
   versions, that version is chosen.
3. Otherwise the newest ratified candidate, else the newest candidate of any
   status.

``xsi:schemaLocation`` hints are never fetched: only their namespace part
matters, and that is the root's namespace anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from egif.errors import InputError, NotFound
from egif.model import SchemaVersion, Status
from egif.registry import Registry
from egif.xmlsafe import XSD_NS, parse_bytes

_UNUSABLE = {Status.WITHDRAWN, Status.REJECTED}


@dataclass(frozen=True)
class RootInfo:
    """What the start of a document says about itself."""

    tag: str  # Clark name
    namespace: str | None
    local: str
    version: str | None
    line: int | None = None


_GLOBALS: dict[str, frozenset[str]] = {}


def global_elements(registry: Registry, version: SchemaVersion) -> frozenset[str]:
    """Local names of the global elements the version's own documents declare."""
    cached = _GLOBALS.get(version.digest)
    if cached is None:
        names: set[str] = set()
        for path, data in registry.files(version.ref).items():
            root = parse_bytes(data, path).getroot()
            if root.get("targetNamespace") != version.namespace:
                continue
            names.update(str(c.get("name")) for c in root
                         if c.tag == f"{{{XSD_NS}}}element" and c.get("name"))
        cached = frozenset(names)
        _GLOBALS[version.digest] = cached
    return cached


def declares_global(registry: Registry, version: SchemaVersion, local: str) -> bool:
    """True when one of the version's own documents declares ``local`` as a global element."""
    return local in global_elements(registry, version)


def candidates(registry: Registry, info: RootInfo) -> list[SchemaVersion]:
    """Registered versions that could validate a document with this root, oldest first."""
    found = [v for v in registry.list(namespace=info.namespace) if v.namespace == info.namespace]
    return [v for v in found if declares_global(registry, v, info.local)]


def detect(registry: Registry, info: RootInfo, *, file: str | None = None) -> SchemaVersion:
    """Choose the version for a document (see the module docstring for the rule)."""
    found = candidates(registry, info)
    if not found:
        ns = f"namespace {info.namespace!r}" if info.namespace else "no namespace"
        raise NotFound(
            f"no registered schema declares root element {info.local!r} in {ns}; "
            "name one with --schema NAME@VERSION", file=file)
    usable = [v for v in found if v.status not in _UNUSABLE] or found
    if info.version:
        named = [v for v in usable if v.version == info.version]
        if named:
            return max(named, key=lambda v: v.version_key)
    ratified = [v for v in usable if v.status == Status.RATIFIED]
    pool = ratified or usable
    return max(pool, key=lambda v: v.version_key)


def same_standard(registry: Registry, version: SchemaVersion) -> list[SchemaVersion]:
    """Every registered version of the standard ``version`` belongs to, oldest first."""
    return sorted(registry.list(name=version.name), key=lambda v: v.version_key)


def root_info_from_tree(root: etree._Element) -> RootInfo:
    q = etree.QName(root)
    version = root.get("version")
    return RootInfo(tag=str(root.tag), namespace=q.namespace, local=q.localname,
                    version=version.strip() if version else None, line=_line(root))


def check_usable(version: SchemaVersion, *, allow_withdrawn: bool) -> None:
    """Refuse a withdrawn or rejected version unless explicitly allowed."""
    if version.status in _UNUSABLE and not allow_withdrawn:
        raise InputError(
            f"{version.name}@{version.version} is {version.status.value}: validation against it "
            "is refused (allow it with --allow-withdrawn)")


def _line(el: etree._Element) -> int | None:
    line = getattr(el, "sourceline", None)
    return line if isinstance(line, int) and line > 0 else None
