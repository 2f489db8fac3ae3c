"""A pack marked for XSD 1.1 processors is diffed as validation reads it (issue 11).

An XSD 1.0 reading of such a pack drops every document whole, so two versions
of it once compared as "identical" however much they differed.  egif applies
conditional inclusion when it lays a closure out and then reads what remains
as libxml2 does; the diff must see the same schema.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from lxml import etree

from egif import Registry
from egif.diff import diff_schemas

from .conftest import DATA

PACK = DATA / "published" / "transitpack"


def test_two_versions_of_an_xsd11_pack_differ_with_a_witness(registry: Registry, tmp_path: Path) -> None:
    newer = tmp_path / "pack"
    shutil.copytree(PACK, newer)
    stypes = newer / "stypes.xsd"
    # the new version narrows the office country code to GB or XI
    text = stypes.read_text(encoding="utf-8")
    stypes.write_text(text.replace('<xs:pattern value="[A-Z]{2}"/>', '<xs:pattern value="GB|XI"/>'),
                      encoding="utf-8")
    registry.add(PACK / "cc901c.xsd", name="CC901C", version="3.0")
    registry.add(newer / "cc901c.xsd", name="CC901C", version="3.1")
    old, new = registry.resolve("CC901C@3.0"), registry.resolve("CC901C@3.1")
    assert old.xsd_version == new.xsd_version == "1.1"
    result = diff_schemas(old, new, evidence=False)
    decided = result.to_dict()
    assert result.verdict != "identical"
    assert decided["backward"] == "no" and decided["forward"] == "yes"
    # the witness is a real counterexample: libxml2 accepts it under the old pack, refuses it under the new
    witnesses = [w for w in decided["witnesses"] if w["direction"] == "backward"]
    assert witnesses
    doc = etree.fromstring(witnesses[0]["document"].encode())
    assert old.lxml_schema().validate(doc) and not new.lxml_schema().validate(doc)


def test_an_unchanged_pack_is_identical_and_not_empty(registry: Registry) -> None:
    registry.add(PACK / "cc901c.xsd", name="CC901C", version="3.0")
    resolved = registry.resolve("CC901C@3.0")
    result = diff_schemas(resolved, resolved, evidence=False)
    assert result.verdict == "identical"
    assert not result.notes  # a model that validates nothing would be noted
