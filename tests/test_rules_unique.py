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

from egif.validate.schematron import evaluator
from egif.validate.schematron.evaluator import RECORDS, program
from egif.validate.schematron.loader import load_rules
from egif.validate.schematron.state import RangeBook

NS = "urn:example:list"
ROOT = f"{{{NS}}}List"
RECORD = f"{{{NS}}}Item"

def _rules(context: str) -> bytes:
    return f"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="l" uri="{NS}"/><sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern><sch:rule context="{context}">
    <sch:assert test="not(egif:seen('id', normalize-space(l:Id)))">repeated</sch:assert>
  </sch:rule></sch:pattern>
</sch:schema>""".encode()


RULES = _rules("l:Item")
# only the records without a Skip child are contexts: with the records standing only under
# the root, the contexts are still at one depth, and their values are read in their order
CHOSEN = _rules("l:Item[not(l:Skip)]")

# a record: its Id children's texts (none, one, or two: the first counts), whether an
# element of another name comes first, whether it has a Skip child, and the Id of a record
# standing inside it, before its own Ids (the inner record's value then comes first)
record = st.tuples(st.lists(st.sampled_from(["1", "2", " 1", "1 ", "a b", "a  b", "", "\t2\n", "\u00e9", "\u00e9  1"]),
                                    max_size=2),
                   st.booleans(), st.booleans(), st.sampled_from([None, "1", "3", "a b"]))


def _document(records: list[tuple[list[str], bool, bool, str | None]], nested: bool = False) -> etree._Element:
    root = etree.Element(ROOT, nsmap={"l": NS})
    for ids, other_first, skip, inner in records:
        item = etree.SubElement(root, RECORD)
        if other_first:
            etree.SubElement(item, f"{{{NS}}}Note").text = "1"
        if skip:
            etree.SubElement(item, f"{{{NS}}}Skip")
        if nested and inner is not None:
            etree.SubElement(etree.SubElement(item, RECORD), f"{{{NS}}}Id").text = inner
        for text in ids:
            etree.SubElement(item, f"{{{NS}}}Id").text = text
    return root


def _expected(items: list[etree._Element]) -> list[etree._Element]:
    seen: set[str] = set()
    out = []
    for item in items:
        first = item.find(f"{{{NS}}}Id")
        key = " ".join((first.text or "").split()) if first is not None else ""
        if key in seen:
            out.append(item)
        seen.add(key)
    return out


@given(st.lists(record, max_size=40), st.booleans(), st.booleans(), st.sampled_from([0, evaluator._FEW]))
@settings(max_examples=400, deadline=None)
def test_a_uniqueness_rule_fires_at_each_repeated_key(records: list[tuple[list[str], bool, bool, str | None]],
                                                      top_only: bool, chosen: bool, few: int) -> None:
    """Records only under the root (their contexts at one depth), or records that may hold
    records (contexts nested, their values then out of the contexts' order); every record a
    context, or those a predicate chooses; the values of few contexts looked up one by one,
    or (*few* 0) every time in one evaluation."""
    root = _document(records, nested=not top_only)
    only = frozenset({RECORD}) if top_only else frozenset()
    run = program(load_rules([("list.sch", CHOSEN if chosen else RULES)]), ROOT, RECORDS, only, frozenset({RECORD}))
    saved, evaluator._FEW = evaluator._FEW, few
    try:
        firings = run.run(root, RangeBook(), today="2026-12-01")
    finally:
        evaluator._FEW = saved
    items = [item for item in root.iter(RECORD) if not chosen or item.find(f"{{{NS}}}Skip") is None]
    assert [f.node for f in firings] == _expected(items)


def test_records_under_the_root_alone_read_their_keys_in_one_walk() -> None:
    """Where the records stand only under the root, the keys are read straight from the
    root, and a record without the child is still counted (as the empty key)."""
    run = program(load_rules([("list.sch", RULES)]), ROOT, RECORDS, frozenset({RECORD}), frozenset({RECORD}))
    (compiled,), = run.compiled
    (unique,) = compiled.uniques.values()
    assert unique.direct is not None and unique.how_many is not None
    root = _document([(["7"], False, False, None), ([], False, False, None), (["7"], True, False, None),
                      ([], False, False, None)])
    assert [f.node for f in run.run(root, RangeBook(), today="2026-12-01")] == [root[2], root[3]]


def test_contexts_chosen_by_a_predicate_at_one_depth_are_read_without_their_parents() -> None:
    """Records under the root chosen by a predicate: at one depth, so the values found for
    them stand in their order when there are as many, and no parent is read to see it."""
    run = program(load_rules([("list.sch", CHOSEN)]), ROOT, RECORDS, frozenset({RECORD}), frozenset({RECORD}))
    (compiled,), = run.compiled
    (unique,) = compiled.uniques.values()
    assert unique.level and unique.direct is None
    nested = program(load_rules([("list.sch", CHOSEN)]), ROOT, RECORDS, frozenset(), frozenset({RECORD}))
    (compiled,), = nested.compiled
    assert not next(iter(compiled.uniques.values())).level
