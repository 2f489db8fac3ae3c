"""A rule's context, rewritten for the record phase, matches the nodes Schematron would.

The record phase evaluates each rule on a tree of records under a copy of the root, with
its context rewritten to search below the root (``descendant::``) where that is sound.
Whatever the rewrite, the contexts that fire must be exactly the elements inside the
records that the context pattern matches, never the root: checked here against a plain
walk of the tree, for name tests and namespace wildcards, in the root's namespace and
in others.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.validate.schematron.evaluator import RECORDS, REST, WHOLE, _boolean_predicates, _by_attribute, program
from egif.validate.schematron.loader import load_rules
from egif.validate.schematron.state import RangeBook

ROOT_NS = "urn:example:list"
OTHER_NS = "urn:example:other"
NS = {"l": ROOT_NS, "o": OTHER_NS}
ROOT = f"{{{ROOT_NS}}}List"
RECORD = f"{{{ROOT_NS}}}Item"
CONTEXTS = ["o:*", "o:*[@a]", "l:*", "l:*[@a]", "o:Thing", "l:Item[@a]", "*[@a]", "o:Thing[1]", "o:*[1]",
            "l:Part[2]", "o:Thing[position() = 2]", "o:*[@a][1]", "l:List", "l:List[@a]", "l:List[1]"]


def _rules(context: str) -> bytes:
    return f"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
  <sch:ns prefix="l" uri="{ROOT_NS}"/><sch:ns prefix="o" uri="{OTHER_NS}"/>
  <sch:pattern><sch:rule context="{context}"><sch:assert test="false()">here</sch:assert></sch:rule></sch:pattern>
</sch:schema>""".encode()


def _expected(root: etree._Element, context: str, *, with_root: bool = False) -> list[etree._Element]:
    prefix, _, rest = context.partition(":") if ":" in context.split("[")[0] else ("", "", context)
    name, _, predicate = rest.partition("[")
    want_ns = NS[prefix] if prefix else None
    out = []
    for el in root.iter():
        if (el is root and not with_root) or not isinstance(el.tag, str):
            continue
        qname = etree.QName(el)
        if want_ns is not None and qname.namespace != want_ns:
            continue
        if name != "*" and qname.localname != name:
            continue
        if predicate.startswith("@a]") and el.get("a") is None:
            continue
        position = re.search(r"(?:^|\[)(?:position\(\) = )?(\d+)\]$", predicate)
        if position is not None:  # [n]: the n-th such element among its siblings
            same = [s for s in el.itersiblings(preceding=True) if _matches(s, want_ns, name)
                    and (not predicate.startswith("@a]") or s.get("a") is not None)]
            if len(same) + 1 != int(position.group(1)):
                continue
        out.append(el)
    return out


def _matches(el: etree._Element, want_ns: str | None, name: str) -> bool:
    if not isinstance(el.tag, str):
        return False
    qname = etree.QName(el)
    return (want_ns is None or qname.namespace == want_ns) and (name == "*" or qname.localname == name)


element = st.tuples(st.sampled_from([f"{{{ROOT_NS}}}Item", f"{{{ROOT_NS}}}Part", f"{{{OTHER_NS}}}Thing",
                                     f"{{{OTHER_NS}}}Other", "Plain"]),
                    st.booleans(), st.integers(0, 2))


@settings(max_examples=150, deadline=None)
@given(context=st.sampled_from(CONTEXTS), shape=st.lists(element, min_size=1, max_size=12),
       root_has_a=st.booleans())
def test_record_phase_contexts_are_the_pattern_s_matches(context: str, shape: list[tuple[str, bool, int]],
                                                          root_has_a: bool) -> None:
    root = etree.Element(ROOT, nsmap={"l": ROOT_NS, "o": OTHER_NS})
    if root_has_a:
        root.set("a", "1")  # the root matches l:*[@a] and *[@a]: it must not fire in a record phase
    for tag, has_a, depth in shape:
        record = etree.SubElement(root, RECORD)
        parent = record
        for _ in range(depth):
            parent = etree.SubElement(parent, f"{{{ROOT_NS}}}Part")
        for _ in range(1 + depth % 2):  # siblings of one name, for the positional contexts
            child = etree.SubElement(parent, tag)
            if has_a:
                child.set("a", "x")
    rules = load_rules([("t.sch", _rules(context))])
    found = program(rules, ROOT, RECORDS, frozenset(), frozenset({RECORD})).run(root, RangeBook(), today="2026-11-30")
    assert sorted(id(f.node) for f in found) == sorted(id(e) for e in _expected(root, context))


@pytest.mark.parametrize(("context", "truth"), [
    ("x:A", True), ("x:A[@a]", True), ("x:A[@a and @b]", True), ("x:A[not(@a)]", True),
    ('x:A[contains(., "]")]', True), ("x:A[../x:B]", True), ('x:A[@TelPreferred = "yes"]', True),
    ("x:A/x:B[1]", True), ("x:A[@a = 1 + 2]", True),
    ("x:A[1]", False), ("x:A[last()]", False), ("x:A[position() = 2]", False), ("x:A[count(b) + 1]", False),
    ("x:A[$n]", False), ("x:A[@a][2]", False), ("x:A[number(@n)]", False), ("x:A[not(@a) + 1]", False),
])
def test_which_first_steps_may_search_the_descendants(context: str, truth: bool) -> None:
    assert _boolean_predicates(context) is truth


@settings(max_examples=150, deadline=None)
@given(context=st.sampled_from(CONTEXTS), shape=st.lists(element, min_size=1, max_size=12),
       root_has_a=st.booleans(), phase=st.sampled_from([WHOLE, REST]))
def test_whole_and_rest_phase_contexts_are_the_pattern_s_matches(context: str, shape: list[tuple[str, bool, int]],
                                                                root_has_a: bool, phase: str) -> None:
    """On a whole document, or the root and its header, a context matches the root itself too
    (``l:List``, ``l:*[@a]``) as well as every element below it that the pattern matches."""
    root = etree.Element(ROOT, nsmap={"l": ROOT_NS, "o": OTHER_NS})
    if root_has_a:
        root.set("a", "1")
    for tag, has_a, depth in shape:
        parent = etree.SubElement(root, RECORD if phase == WHOLE else f"{{{ROOT_NS}}}Header")
        for _ in range(depth):
            parent = etree.SubElement(parent, f"{{{ROOT_NS}}}Part")
        for _ in range(1 + depth % 2):
            child = etree.SubElement(parent, tag)
            if has_a:
                child.set("a", "x")
    rules = load_rules([("t.sch", _rules(context))])
    found = program(rules, ROOT, phase, frozenset(), frozenset({RECORD})).run(
        root, RangeBook(), today="2026-11-30", record_count=len(root))
    assert sorted(id(f.node) for f in found) == sorted(id(e) for e in _expected(root, context, with_root=True))


_ATTRIBUTE_PARTS = ["o:*[@a]", "o:*[@a and @b]", "l:Part[@b]", "l:Part[@a and @b]", "o:Thing[@o:a and @a]",
                    "Plain[@a]", "*[@b and @a]", "o:*[ @a  and  @o:a ]"]
_NAMES = [f"{{{ROOT_NS}}}Part", f"{{{OTHER_NS}}}Thing", f"{{{OTHER_NS}}}Other", "Plain"]
_ATTRS = ["a", "b", f"{{{OTHER_NS}}}a"]


@settings(max_examples=200, deadline=None)
@given(part=st.sampled_from(_ATTRIBUTE_PARTS),
       tree=st.lists(st.tuples(st.integers(0, 6), st.sampled_from(_NAMES), st.sets(st.sampled_from(_ATTRS))),
                     min_size=1, max_size=25),
       root_attrs=st.sets(st.sampled_from(_ATTRS)))
def test_a_context_reached_through_its_attributes_is_the_same_node_set(
        part: str, tree: list[tuple[int, str, set[str]]], root_attrs: set[str]) -> None:
    """``descendant::name[@a and @b]`` and its form through the attribute axis select the same
    elements in the same order, below the root only, at any depth, whatever the names."""
    root = etree.Element(ROOT, nsmap={"l": ROOT_NS, "o": OTHER_NS})
    for name in root_attrs:
        root.set(name, "r")  # the root carries them too: never selected, it is no descendant
    made = [root]
    for parent_at, tag, attrs in tree:
        el = etree.SubElement(made[parent_at % len(made)], tag)
        for name in sorted(attrs):
            el.set(name, "v")
        made.append(el)
    rewritten = _by_attribute(part)
    assert rewritten is not None
    plain = etree.XPath("descendant::" + part, namespaces=NS)(root)
    through = etree.XPath(rewritten, namespaces=NS)(root)
    assert isinstance(plain, list) and isinstance(through, list)
    assert [id(e) for e in through] == [id(e) for e in plain]


@pytest.mark.parametrize("part", ["o:*", "o:*[@a or @b]", "o:*[@a and @b and @c]", "o:*[@a][@b]",
                                  "o:*[@a = 'x']", "o:Thing/o:Other[@a]", "o:*[not(@a)]", "o:*[1]"])
def test_other_contexts_are_not_reached_through_attributes(part: str) -> None:
    assert _by_attribute(part) is None
