"""Which registered schema version a document is written to.

The candidates are the registered versions whose target namespace is the
namespace of the document's root element and whose *own* documents declare
the root element globally (an element of an imported schema does not make a
version a candidate).  Withdrawn and rejected versions are left out unless
nothing else is left.  Then:

1. a ``version`` attribute on the root naming a candidate's version chooses it;
2. one candidate left: that one;
3. several (versions sharing a namespace, as BS 7666 1.0 to 2.0 do): the
   document is checked against them in order of preference -- the newest
   ratified first, then the other ratified versions newest first, then the
   rest newest first -- and the first it conforms to is chosen.  When it
   conforms to none, the most preferred is reported, with the versions
   considered (:class:`egif.validate.Session` does this).

``xsi:schemaLocation`` hints are never fetched.
"""

from __future__ import annotations

from typing import NamedTuple

from lxml import etree

from egif.errors import InputError, NotFound
from egif.model import SchemaVersion, Status
from egif.registry import Registry
from egif.xmlsafe import XSD_NS, parse_schema_bytes

UNUSABLE = {Status.WITHDRAWN, Status.REJECTED}


class RootInfo(NamedTuple):
    """What the start of a document says about itself."""

    tag: str  # Clark name
    namespace: str | None
    local: str
    version: str | None  # the root's version attribute, if any
    line: int | None = None
    path: str | None = None  # "/prefix:Name" as written


def root_info(root: etree._Element) -> RootInfo:
    """The :class:`RootInfo` of a (sniffed or parsed) root element."""
    tag = str(root.tag)
    namespace, _, local = tag[1:].partition("}") if tag[0] == "{" else (None, "", tag)
    version = root.get("version")
    line = root.sourceline
    prefix = root.prefix
    return RootInfo(tag, namespace, local, version.strip() if version else None,
                    line if isinstance(line, int) and line > 0 else None,
                    f"/{prefix}:{local}" if prefix else "/" + local)


_OWN: dict[str, frozenset[str]] = {}


def own_globals(registry: Registry, version: SchemaVersion) -> frozenset[str]:
    """Clark names of the global elements the version's own documents declare."""
    cached = _OWN.get(version.digest)
    if cached is None:
        names: set[str] = set()
        for path, data in registry.files(version.ref).items():
            doc = parse_schema_bytes(data, path).getroot()
            tns = doc.get("targetNamespace") or version.namespace or ""
            names.update(f"{{{tns}}}{c.get('name')}" if tns else str(c.get("name"))
                         for c in doc if c.tag == f"{{{XSD_NS}}}element" and c.get("name"))
        cached = _OWN[version.digest] = frozenset(names)
    return cached


def candidates(registry: Registry, info: RootInfo) -> list[SchemaVersion]:
    """Registered versions whose own documents declare the root, oldest first."""
    found = [v for v in registry.list(namespace=info.namespace) if v.namespace == info.namespace]
    return sorted((v for v in found if info.tag in own_globals(registry, v)), key=lambda v: v.version_key)


def preference(versions: list[SchemaVersion]) -> list[SchemaVersion]:
    """Usable versions, most preferred first (see the module documentation)."""
    usable = [v for v in versions if v.status not in UNUSABLE] or list(versions)
    newest_first = sorted(usable, key=lambda v: v.version_key, reverse=True)
    return ([v for v in newest_first if v.status == Status.RATIFIED]
            + [v for v in newest_first if v.status != Status.RATIFIED])


def detect(registry: Registry, info: RootInfo, *, file: str | None = None) -> list[SchemaVersion]:
    """The versions a document may be written to, most preferred first; one when the root
    names its version.  Raises :class:`~egif.errors.NotFound` when none declares the root."""
    found = candidates(registry, info)
    if not found:
        ns = f"namespace {info.namespace!r}" if info.namespace else "no namespace"
        raise NotFound(f"no registered schema declares root element {info.local!r} in {ns}; "
                       "name one with --schema NAME@VERSION", file=file)
    ordered = preference(found)
    if info.version:
        named = [v for v in ordered if v.version == info.version]
        if named:
            return named[:1]
    return ordered


def check_usable(version: SchemaVersion, *, allow_withdrawn: bool) -> None:
    """Refuse a withdrawn or rejected version unless explicitly allowed."""
    if version.status in UNUSABLE and not allow_withdrawn:
        raise InputError(f"{version.name}@{version.version} is {version.status.value}: validation against it "
                         "is refused (allow it with --allow-withdrawn)")
