"""Read the e-GMS metadata record a GovTalk-style schema carries in its appinfo."""

from __future__ import annotations

from lxml import etree

from egif.xmlsafe import XSD_NS

EGMS_NS = "http://www.govtalk.gov.uk/metadata/egms"
# Older GovTalk schemas carry the same kind of record in the pre-e-GMS "GovTalk
# metadata" namespaces; egif reads them as e-GMS records.
GMS_XS_NS = "http://www.govtalk.gov.uk/CM/gms-xs"
GMS_NS = "http://www.govtalk.gov.uk/CM/gms"
METADATA_NAMESPACES = (EGMS_NS, GMS_XS_NS, GMS_NS)


def metadata_blocks(schema_root: etree._Element) -> list[etree._Element]:
    """The ``Metadata`` blocks (e-GMS or older GovTalk metadata) in the schema's own appinfo."""
    return [block for ns in METADATA_NAMESPACES for block in schema_root.iterfind(
        f"{{{XSD_NS}}}annotation/{{{XSD_NS}}}appinfo/{{{ns}}}Metadata")]


def egms_metadata(schema_root: etree._Element) -> dict[str, list[str]]:
    """Flatten every ``egms:Metadata`` block (or older ``gms:Metadata``) under the schema's own annotations.

    Each child element becomes ``local-name -> [text, ...]`` (names may repeat,
    e.g. several Subject categories).  Nested children contribute their own
    text under ``Parent.Child``.  Only annotations directly on xs:schema count:
    those on components describe the component, not the schema.
    """
    result: dict[str, list[str]] = {}
    for block in metadata_blocks(schema_root):
        for child in block:
            if not isinstance(child.tag, str):
                continue
            _collect(child, etree.QName(child).localname, result)
    return result


def _collect(elem: etree._Element, key: str, out: dict[str, list[str]]) -> None:
    children = [c for c in elem if isinstance(c.tag, str)]
    text = " ".join((elem.text or "").split())
    if text:
        out.setdefault(key, []).append(text)
    for c in children:
        _collect(c, f"{key}.{etree.QName(c).localname}", out)
