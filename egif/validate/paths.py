"""Where a finding is: the path of an element, written as the document writes it.

Steps carry the prefix the document uses (``bs7666:PostCode``); an element in
a default namespace, or in none, is written by its local name.  A step
carries ``[n]`` when its parent has several children of that name -- except
the root's children in a collection, which always carry it: a stream cannot
know whether more of the same name follow, and the path must not depend on
how the file was read::

    /GazetteerExtract/AddressRecord[17]/bs7666:BS7666Address/bs7666:PostCode
"""

from __future__ import annotations

from lxml import etree


def step(el: etree._Element) -> str:
    """One step: the element's name with the prefix written in the document."""
    local = str(el.tag).rpartition("}")[2]  # the tag is a Clark name; QName() costs more
    prefix = el.prefix
    return f"{prefix}:{local}" if prefix else local


Positions = dict[etree._Element, dict[etree._Element, tuple[int, int]]]


def inner_path(el: etree._Element, top: etree._Element, positions: Positions | None = None) -> str:
    """Steps from *top* (exclusive) down to *el* (inclusive); ``""`` when they are the same.
    *positions*: where each parent's children stand, kept between calls on one tree (without
    it, the paths of many children of one parent cost the square of their number)."""
    steps: list[str] = []
    node: etree._Element | None = el
    if positions is None:
        positions = {}
    while node is not top and node is not None:
        parent = node.getparent()
        name = step(node)
        if parent is not None:
            found = positions.get(parent)
            if found is None:
                found = positions[parent] = _positions(parent)
            position, total = found[node]
            if total > 1:
                name += f"[{position}]"
        steps.append(name)
        node = parent
    steps.reverse()
    return "".join("/" + s for s in steps)


def _positions(parent: etree._Element) -> dict[etree._Element, tuple[int, int]]:
    """Each child's position among the children of its name, and how many there are."""
    seen: dict[object, int] = {}
    at: list[tuple[etree._Element, object, int]] = []
    for child in parent:
        n = seen[child.tag] = seen.get(child.tag, 0) + 1
        at.append((child, child.tag, n))
    return {child: (n, seen[tag]) for child, tag, n in at}


def top_child(node: etree._Element, root: etree._Element) -> etree._Element:
    """The child of *root* that holds *node* (*node* itself when it is one)."""
    top = node
    while True:
        parent = top.getparent()
        if parent is None or parent is root:
            return top
        top = parent


def document_path(el: etree._Element, positions: Positions | None = None) -> str:
    """The path of an element of a whole (not collection) document (*positions*: see
    :func:`inner_path`)."""
    root = el.getroottree().getroot()
    return "/" + step(root) + inner_path(el, root, positions)
