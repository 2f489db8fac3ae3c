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


def inner_path(el: etree._Element, top: etree._Element) -> str:
    """Steps from *top* (exclusive) down to *el* (inclusive); ``""`` when they are the same."""
    steps: list[str] = []
    node: etree._Element | None = el
    while node is not top and node is not None:
        parent = node.getparent()
        name = step(node)
        if parent is not None:
            position = total = 0
            for sibling in parent:
                if sibling.tag == node.tag:
                    total += 1
                    if sibling is node:
                        position = total
            if total > 1:
                name += f"[{position}]"
        steps.append(name)
        node = parent
    steps.reverse()
    return "".join("/" + s for s in steps)


def top_child(node: etree._Element, root: etree._Element) -> etree._Element:
    """The child of *root* that holds *node* (*node* itself when it is one)."""
    top = node
    while True:
        parent = top.getparent()
        if parent is None or parent is root:
            return top
        top = parent


def document_path(el: etree._Element) -> str:
    """The path of an element of a whole (not collection) document."""
    root = el.getroottree().getroot()
    return "/" + step(root) + inner_path(el, root)
