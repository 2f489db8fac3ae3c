"""Identity-constraint fields that name one child or attribute are looked up without XPath.

The workers read a record's xs:unique / xs:key field by name when the field is a plain
child element or attribute name; the answer must be the one the field's XPath gives on
any record: the same text, or "not exactly one node" in the same cases.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.validate.stream.worker import _field, field_text

NS = {"p": "urn:example:p", "q": "urn:example:q"}
NAMES = ["a", "b", "p:a", "p:b", "q:a"]
FIELDS = [*NAMES, *(f"@{n}" for n in ("id", "p:id", "q:id", "code")), " p:a ", "p:a/p:b", ".", "*", "@*",
          "p:a[1]", "child::p:b", "x:a"]


def _clark(name: str) -> str:
    prefix, _, local = name.rpartition(":")
    return f"{{{NS[prefix]}}}{local}" if prefix else local


children = st.lists(st.tuples(st.sampled_from(NAMES), st.one_of(st.none(), st.text("ab \n", max_size=4))),
                    max_size=6)
attributes = st.dictionaries(st.sampled_from(["id", "p:id", "q:id", "code"]), st.text("xy ", max_size=3),
                             max_size=4)


@settings(max_examples=300, deadline=None)
@given(kids=children, attrs=attributes, field=st.sampled_from(FIELDS))
def test_a_named_field_reads_what_its_xpath_reads(kids: list[tuple[str, str | None]], attrs: dict[str, str],
                                                  field: str) -> None:
    record = etree.Element("{urn:example:p}Record", nsmap={"p": NS["p"], "q": NS["q"]})
    for name, value in attrs.items():
        record.set(_clark(name), value)
    for name, text in kids:
        child = etree.SubElement(record, _clark(name))
        child.text = text
        if text == "ab":
            etree.SubElement(child, _clark("p:b")).text = "inner"
    try:
        xpath = etree.XPath(field, namespaces=NS, smart_strings=False)
    except etree.XPathError:
        xpath = None
    try:
        fast = _field(field, NS)
    except etree.XPathError:
        fast = None
    assert (fast is None) == (xpath is None)  # an unknown prefix is refused either way
    if xpath is None or fast is None:
        return
    assert _outcome(fast, record) == _outcome(xpath, record)


def _outcome(field: etree.XPath | str, record: etree._Element) -> str | type[Exception] | None:
    try:
        return field_text(field, record)
    except etree.XPathError as exc:  # an undefined prefix fails when evaluated, the same either way
        return type(exc)


def test_plain_names_take_the_fast_way() -> None:
    assert _field("p:a", NS) == "{urn:example:p}a"
    assert _field("@p:id", NS) == "@{urn:example:p}id"
    assert _field("code", NS) == "code"
    assert not isinstance(_field("p:a/p:b", NS), str)
