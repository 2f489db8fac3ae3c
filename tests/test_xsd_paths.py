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
    p and local name l; ``l`` an element of no namespace named l.  A comment or a processing
    instruction is none of them."""
    if not isinstance(el.tag, str):
        return False
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
        other = draw(st.sampled_from([None, None, "comment", "pi"]))  # children that are no element
        if other == "comment":
            root.append(etree.Comment("c"))
        elif other == "pi":
            root.append(etree.ProcessingInstruction("p"))
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


def test_any_position_among_many_children_is_found() -> None:
    """A position near the start is found by a walk, a later one by XPath: both give the
    position-th element child, comments and processing instructions between not counted."""
    root = etree.Element("root")
    for i in range(3 * xsd._NEAR):
        if i % 5 == 0:
            root.append(etree.Comment("c"))
        if i % 7 == 0:
            root.append(etree.ProcessingInstruction("p"))
        etree.SubElement(root, "A" if i % 2 else "{urn:one}B", nsmap={"p": "urn:one"})
    elements = [c for c in root if isinstance(c.tag, str)]
    for n in range(1, len(elements) + 2):
        expected = elements[n - 1] if n <= len(elements) else None
        assert xsd.find_node(root, f"/root/*[{n}]") is expected
        wanted = [c for c in root if _by_qname(c, "A")]
        assert xsd.find_node(root, f"/root/A[{n}]") is (wanted[n - 1] if n <= len(wanted) else None)


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
    assert xsd.find_node(root, "/r:Root/r:") is None  # no local name: no name filter, nothing named


@settings(max_examples=100, deadline=None)
@given(_trees(), st.lists(st.tuples(st.sampled_from(["*", "A", "B", "p:A", "q:bA", "x-y"]), st.integers(1, 4)),
                          min_size=1, max_size=12))
def test_one_index_kept_between_lookups_gives_the_same_answers(root: etree._Element,
                                                               steps: list[tuple[str, int]]) -> None:
    """The index the errors of one validation share (each parent's children of a name, read
    once) answers every lookup as a fresh walk does, in any order."""
    index: dict[tuple[etree._Element, str], list[etree._Element]] = {}
    for name, n in steps:
        assert xsd.find_node(root, f"/root/{name}[{n}]", index) is xsd.find_node(root, f"/root/{name}[{n}]")


def test_the_errors_of_many_siblings_are_each_found_and_written_with_their_position() -> None:
    """Thousands of invalid children of one parent: each error leads to its own element, and
    its path carries its position (each parent's children are read once for all of them)."""
    from egif.validate.paths import document_path, inner_path

    schema = etree.XMLSchema(etree.fromstring(
        b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="Root"><xs:complexType>'
        b'<xs:sequence><xs:element name="List"><xs:complexType><xs:sequence>'
        b'<xs:element name="Note" minOccurs="0" maxOccurs="unbounded" type="xs:string"/>'
        b'<xs:element name="Item" maxOccurs="unbounded" type="xs:integer"/>'
        b'</xs:sequence></xs:complexType></xs:element></xs:sequence></xs:complexType></xs:element></xs:schema>'))
    items = "".join(f"<Item>{i if i % 3 else 'x' + str(i)}</Item>\n" for i in range(3000))
    root = etree.fromstring(f"<Root><List><Note/><Note/>\n{items}</List></Root>".encode())
    errors = xsd.validate(schema, root.getroottree())
    bad = [i for i in range(3000) if i % 3 == 0]
    assert [e.node for e in errors] == [root[0][2 + i] for i in bad]
    positions: dict[etree._Element, dict[etree._Element, tuple[int, int]]] = {}
    nodes = [e.node for e in errors if e.node is not None]
    assert [document_path(node, positions) for node in nodes] == [f"/Root/List/Item[{i + 1}]" for i in bad]
    assert document_path(root[0][0], positions) == "/Root/List/Note[1]"
    assert inner_path(root[0][2], root) == "/List/Item[1]"
    lone = etree.fromstring(b"<a><b/><c/><c/></a>")
    assert [inner_path(el, lone, positions) for el in lone] == ["/b", "/c[1]", "/c[2]"]
