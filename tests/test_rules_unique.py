"""A uniqueness rule, ``not(egif:seen('scope', normalize-space(child)))``, fires exactly at the
contexts whose key an earlier context already had, however the evaluator reads the keys.

The record phase reads them in bulk: from the contexts found (any context), or, where the
contexts cannot hold one another (records that stand only under the root), straight from
the root in one walk, falling back when a context lacks the child.  Each way is checked
here against a plain walk of the records, property by property.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.validate.schematron.evaluator import RECORDS, program
from egif.validate.schematron.loader import load_rules
from egif.validate.schematron.state import RangeBook

NS = "urn:example:list"
ROOT = f"{{{NS}}}List"
RECORD = f"{{{NS}}}Item"
RULES = f"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="l" uri="{NS}"/><sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern><sch:rule context="l:Item">
    <sch:assert test="not(egif:seen('id', normalize-space(l:Id)))">repeated</sch:assert>
  </sch:rule></sch:pattern>
</sch:schema>""".encode()

# a record: its Id children's texts (none, one, or two: the first counts), and whether an
# element of another name comes first
record = st.tuples(st.lists(st.sampled_from(["1", "2", " 1", "1 ", "a b", "a  b", "", "\t2\n", "\u00e9", "\u00e9  1"]),
                                    max_size=2),
                   st.booleans())


def _document(records: list[tuple[list[str], bool]]) -> etree._Element:
    root = etree.Element(ROOT, nsmap={"l": NS})
    for ids, other_first in records:
        item = etree.SubElement(root, RECORD)
        if other_first:
            etree.SubElement(item, f"{{{NS}}}Note").text = "1"
        for text in ids:
            etree.SubElement(item, f"{{{NS}}}Id").text = text
    return root


def _expected(root: etree._Element) -> list[etree._Element]:
    seen: set[str] = set()
    out = []
    for item in root:
        first = item.find(f"{{{NS}}}Id")
        key = " ".join((first.text or "").split()) if first is not None else ""
        if key in seen:
            out.append(item)
        seen.add(key)
    return out


@given(st.lists(record, max_size=40), st.booleans())
@settings(max_examples=300, deadline=None)
def test_a_uniqueness_rule_fires_at_each_repeated_key(records: list[tuple[list[str], bool]],
                                                      top_only: bool) -> None:
    root = _document(records)
    only = frozenset({RECORD}) if top_only else frozenset()
    run = program(load_rules([("list.sch", RULES)]), ROOT, RECORDS, only, frozenset({RECORD}))
    firings = run.run(root, RangeBook(), today="2026-12-01")
    assert [f.node for f in firings] == _expected(root)


def test_records_under_the_root_alone_read_their_keys_in_one_walk() -> None:
    """Where the records stand only under the root, the keys are read straight from the
    root, and a record without the child is still counted (as the empty key)."""
    run = program(load_rules([("list.sch", RULES)]), ROOT, RECORDS, frozenset({RECORD}), frozenset({RECORD}))
    (compiled,), = run.compiled
    (unique,) = compiled.uniques.values()
    assert unique.direct is not None and unique.how_many is not None
    root = _document([(["7"], False), ([], False), (["7"], True), ([], False)])
    assert [f.node for f in run.run(root, RangeBook(), today="2026-12-01")] == [root[2], root[3]]
