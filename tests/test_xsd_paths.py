"""Finding the element a libxml2 error path points at (``egif.validate.xsd.find_node``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.validate import xsd

_LOCALS = st.sampled_from(["A", "B", "Ab", "bA", "x-y"])
_SPACES = st.sampled_from([None, "urn:one", "urn:two"])
_PREFIXES = st.sampled_from([None, "p", "q"])


def _by_qname(el: etree._Element, name: str) -> bool:
    """The rule stated plainly: ``*`` is any element; ``p:l`` an element written with prefix
    p and local name l; ``l`` an element of no namespace named l."""
    if name == "*":
        return True
    prefix, _, local = name.rpartition(":")
    q = etree.QName(el)
    if q.localname != local:
        return False
    return el.prefix == prefix if prefix else q.namespace is None


@st.composite
def _trees(draw: st.DrawFn) -> etree._Element:
    root = etree.Element("root")
    for _ in range(draw(st.integers(1, 8))):
        ns, prefix, local = draw(_SPACES), draw(_PREFIXES), draw(_LOCALS)
        if ns is None:
            etree.SubElement(root, local)
        else:
            nsmap = {prefix: ns}
            etree.SubElement(root, f"{{{ns}}}{local}", nsmap=nsmap)
    return root


@settings(max_examples=300, deadline=None)
@given(_trees(), st.sampled_from(["*", "A", "B", "Ab", "p:A", "q:A", "p:B", "p:Ab", "q:bA", "x-y", "p:x-y"]),
       st.integers(1, 4))
def test_a_step_finds_the_nth_element_it_names(root: etree._Element, name: str, n: int) -> None:
    wanted = [c for c in root if _by_qname(c, name)]
    expected = wanted[n - 1] if len(wanted) >= n else None
    assert xsd.find_node(root, f"/root/{name}[{n}]") is expected
    if n == 1:
        assert xsd.find_node(root, f"/root/{name}") is expected


def test_paths_as_libxml2_writes_them() -> None:
    root = etree.fromstring(
        b'<r:Root xmlns:r="urn:r" xmlns="urn:d"><r:Rec><Child/><r:Child/></r:Rec>'
        b'<r:Rec><r:Child/><r:Child><plain xmlns=""/></r:Child></r:Rec></r:Root>')
    second = root[1]
    assert xsd.find_node(root, "/r:Root/r:Rec[2]/r:Child[2]") is second[1]
    assert xsd.find_node(root, "/r:Root/r:Rec[2]/r:Child[2]/plain") is second[1][0]
    assert xsd.find_node(root, "/*/*[2]/*[1]") is second[0]
    assert xsd.find_node(root, "/r:Root/r:Rec[1]/Child") is None  # in a namespace: written *[1]
    assert xsd.find_node(root, "/r:Root/r:Rec[3]") is None
    assert xsd.find_node(root, "relative/path") is None
    assert xsd.find_node(root, "/r:Root/bad[step") is None
