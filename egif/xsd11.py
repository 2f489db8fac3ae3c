"""XSD 1.1 conditional inclusion (the ``vc:`` attributes), applied once for every reader.

A schema document may mark any of its XSD elements with attributes in the
versioning namespace ``http://www.w3.org/2007/XMLSchema-versioning``:
``vc:minVersion`` / ``vc:maxVersion`` (an element is kept only when the
processor's XSD version V satisfies ``minVersion <= V < maxVersion``) and
``vc:typeAvailable`` / ``vc:typeUnavailable`` / ``vc:facetAvailable`` /
``vc:facetUnavailable`` (kept only when the named built-in types or facets
are, or are not, all supported).  An element that is not kept is removed with
everything inside it before the schema is read (XSD 1.1 part 1, section 4.2.1).

egif decides one XSD version for a whole closure of schema documents: 1.1
when one of its documents asks for a 1.1 processor on its ``xs:schema``
element (``vc:minVersion="1.1"``: the HMRC transit packs), else 1.0.  The
documents are then pruned for that version and the ``vc:`` attributes
dropped, so libxml2 (which ignores them), xmlschema (which would prune with
its own version) and egif's own readers all see one and the same schema.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from lxml import etree

from egif.xmlsafe import VC_NS, XSD_NS

_XSD_SCHEMA = f"{{{XSD_NS}}}schema"
_SKIP_INSIDE = {f"{{{XSD_NS}}}appinfo", f"{{{XSD_NS}}}documentation"}

_MIN = f"{{{VC_NS}}}minVersion"
_MAX = f"{{{VC_NS}}}maxVersion"
_TYPE_AVAILABLE = f"{{{VC_NS}}}typeAvailable"
_TYPE_UNAVAILABLE = f"{{{VC_NS}}}typeUnavailable"
_FACET_AVAILABLE = f"{{{VC_NS}}}facetAvailable"
_FACET_UNAVAILABLE = f"{{{VC_NS}}}facetUnavailable"

# The built-in types and facets egif's validator (libxml2, an XSD 1.0 engine)
# supports: what vc:typeAvailable / vc:facetAvailable can count on.
_BUILTIN_TYPES = frozenset([
    "anyType", "anySimpleType", "string", "normalizedString", "token", "language", "Name", "NCName", "ID",
    "IDREF", "IDREFS", "ENTITY", "ENTITIES", "NMTOKEN", "NMTOKENS", "QName", "NOTATION", "anyURI",
    "boolean", "base64Binary", "hexBinary", "float", "double", "decimal", "integer", "nonPositiveInteger",
    "negativeInteger", "long", "int", "short", "byte", "nonNegativeInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte", "positiveInteger", "duration", "dateTime", "time", "date",
    "gYearMonth", "gYear", "gMonthDay", "gDay", "gMonth",
])
_FACETS = frozenset([
    "length", "minLength", "maxLength", "pattern", "enumeration", "whiteSpace", "maxInclusive",
    "maxExclusive", "minInclusive", "minExclusive", "totalDigits", "fractionDigits",
])

ONE_ZERO = Decimal("1.0")
ONE_ONE = Decimal("1.1")


def _decimal(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        return None  # not a decimal: the attribute says nothing we can honour


def _qname_locals(elem: etree._Element, value: str) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for token in value.split():
        prefix, _, local = token.rpartition(":")
        out.append((elem.nsmap.get(prefix or None), local))
    return out


def _all_known(elem: etree._Element, value: str, known: frozenset[str]) -> bool:
    names = _qname_locals(elem, value)
    return bool(names) and all(ns == XSD_NS and local in known for ns, local in names)


def kept(elem: etree._Element, version: Decimal) -> bool:
    """Whether conditional inclusion keeps *elem* for an XSD processor of *version*."""
    low = _decimal(elem.get(_MIN))
    if low is not None and version < low:
        return False
    high = _decimal(elem.get(_MAX))
    if high is not None and version >= high:
        return False
    for attr, known, wanted in ((_TYPE_AVAILABLE, _BUILTIN_TYPES, True),
                                (_TYPE_UNAVAILABLE, _BUILTIN_TYPES, False),
                                (_FACET_AVAILABLE, _FACETS, True),
                                (_FACET_UNAVAILABLE, _FACETS, False)):
        value = elem.get(attr)
        if value is not None and _all_known(elem, value, known) != wanted:
            return False
    return True


def has_markers(root: etree._Element) -> bool:
    """Whether any element of the document carries a ``vc:`` attribute."""
    for elem in root.iter():
        if isinstance(elem.tag, str) and any(str(a).startswith(f"{{{VC_NS}}}") for a in elem.attrib):
            return True
    return False


def asks_for_xsd11(root: etree._Element) -> bool:
    """The document's xs:schema says it is for XSD 1.1 processors (a 1.0 reader would drop it whole)."""
    return root.tag == _XSD_SCHEMA and not kept(root, ONE_ZERO) and kept(root, ONE_ONE)


def apply(root: etree._Element, version: Decimal | str) -> tuple[etree._Element, bool]:
    """Prune *root* (in place) for an XSD processor of *version* (``"1.1"`` or its Decimal);
    returns (root, changed).

    A schema element that is itself excluded leaves an empty ``xs:schema``
    with the same target namespace: the document contributes no components.
    ``vc:`` attributes are removed from what is kept.
    """
    version = Decimal(version)
    changed = False
    if root.tag == _XSD_SCHEMA and not kept(root, version):
        empty = etree.Element(_XSD_SCHEMA, nsmap=root.nsmap)  # type: ignore[arg-type]
        tns = root.get("targetNamespace")
        if tns is not None:
            empty.set("targetNamespace", tns)
        return empty, True
    stack = [root]
    while stack:
        elem = stack.pop()
        for attr in [a for a in elem.attrib if str(a).startswith(f"{{{VC_NS}}}")]:
            del elem.attrib[attr]
            changed = True
        if elem.tag in _SKIP_INSIDE:
            continue
        for child in list(elem):
            if not isinstance(child.tag, str):
                continue
            if str(child.tag).startswith(f"{{{XSD_NS}}}") and not kept(child, version):
                elem.remove(child)
                changed = True
            else:
                stack.append(child)
    return root, changed


__all__ = ["ONE_ONE", "ONE_ZERO", "VC_NS", "apply", "asks_for_xsd11", "has_markers", "kept"]
