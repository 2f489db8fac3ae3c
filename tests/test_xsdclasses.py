"""Pattern facets rewritten for libxml2 (egif.xsdclasses): the same verdicts, the same
messages, and only where a class is read with certainty."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.resolve import ResolvedSchema
from egif.validate import Validator
from egif.validate.stream.worker import compile_schema, rewritten_schema
from egif.xsdclasses import RewrittenSchema, faster_files, restore_message, rewrite_all

# a text class as GovTalk schemas write it: 21 ranges where 4 would do
TEXT = "[A-Za-z0-9 :;<=>?@%&'()*+,\\-.]+"


def _schema(pattern: str) -> str:
    return ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t" '
            'elementFormDefault="qualified">'
            '<xs:element name="List"><xs:complexType><xs:sequence>'
            '<xs:element name="Item" maxOccurs="unbounded"><xs:complexType><xs:sequence>'
            '<xs:element name="Text" type="t:TextType"/></xs:sequence></xs:complexType></xs:element>'
            '</xs:sequence></xs:complexType></xs:element>'
            '<xs:simpleType name="TextType"><xs:restriction base="xs:string">'
            f'<xs:pattern value="{_attr(pattern)}"/></xs:restriction></xs:simpleType></xs:schema>')


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;"))


def _verdicts(pattern: str, values: list[str]) -> list[bool] | None:
    """libxml2's verdict on each value against *pattern*; None when it does not compile."""
    try:
        schema = etree.XMLSchema(etree.fromstring(_schema(pattern).encode()))
    except etree.XMLSchemaParseError:
        return None
    out = []
    for value in values:
        doc = etree.fromstring(f'<List xmlns="urn:t"><Item><Text>{_attr(value)}</Text></Item></List>'.encode())
        out.append(schema.validate(doc))
    return out


def test_a_text_class_is_merged_and_means_the_same() -> None:
    faster = rewrite_all([TEXT])[TEXT]
    assert faster == "[ %-.0-Za-z]+"
    values = ["High Street", "Flat 2-4", "St. Mary's (East)", "a_b", "caf\u00e9", "x/y", "", "<tag>", "50%"]
    assert _verdicts(faster, values) == _verdicts(TEXT, values)


@pytest.mark.parametrize("pattern", [
    "[^A-Za-z0-9 ,.]+",  # negated: it holds characters beyond ASCII
    "[\\p{L}0-9 ,.'\\-]+",  # a category
    "[a-z-[aeiou]0-9 ,.]+",  # a subtraction
    "[\\d ,.;:]+",  # a multi-character escape other than \\s
    "[a-z\u00e0-\u00ff ,.;:]+",  # a range beyond ASCII
    "[a-z\u00e9-\u00e8 ,.;:]+",  # a "-" beside a character beyond ASCII
    "[0-9]{4}",  # one range already
    "\\[a-zA-Z0-9 ,.;:]",  # no class at all: an escaped bracket
])
def test_what_is_not_plain_or_gains_nothing_is_left_as_written(pattern: str) -> None:
    assert pattern not in rewrite_all([pattern])


def test_a_govtalk_address_line_class_naming_pound_and_euro() -> None:
    """35 ranges as GovTalk's address-line types write it, 7 merged; the characters beyond
    ASCII it names are asked about too."""
    pattern = "[A-Za-z0-9\\s~!\"@#$%&'\\(\\)\\*\\+,\\-\\./:;<=>\\?\\[\\\\\\]_\\{\\}\\^\u00a3\u20ac]{1,35}"
    faster = rewrite_all([pattern])[pattern]
    assert faster == "[\\t-\\n\\r -_a-{}-~\u00a3\u20ac]{1,35}"
    values = ["1 High St", "\u00a3100 \u20ac5", "caf\u00e9", "a|b", "`x`", "tab\there", "[x]\\y^", "x" * 36]
    assert _verdicts(faster, values) == _verdicts(pattern, values)


def test_escapes_outside_classes_are_read_as_escapes() -> None:
    pattern = "\\p{Lu}\\[[A-Za-z0-9 ,.;:]{2}\\]"
    faster = rewrite_all([pattern])[pattern]
    assert faster.startswith("\\p{Lu}\\[") and faster.endswith("{2}\\]")
    values = ["A[ab]", "A[a;]", "a[ab]", "A[ab", "A[a_]", "A[:,]"]
    assert _verdicts(faster, values) == _verdicts(pattern, values)


_PIECES = ["A-Z", "a-z", "0-9", " ", ",", ".", "'", "\\-", ":", ";", "(", ")", "&", "/", "\\.", "\\\\", "\\[",
           "\\]", "\\^", "!", "#", "$", "%", "*", "+", "=", "?", "@", "_", "`", "{", "|", "}", "~", "\\s", "\\t",
           "\\n", "\\r", "\\|", "\\(", "\\)", "\\?", "\\*", "\\+", "\\{", "\\}", "<", ">", "\"", "b-d", "!-/",
           "x", "-", "\u00a3", "\u20ac", "\u00e9"]
_QUANTIFIERS = ["", "+", "*", "?", "{2}", "{0,3}", "{1,}"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(_PIECES), min_size=3, max_size=8),
       quantifier=st.sampled_from(_QUANTIFIERS), prefix=st.sampled_from(["", "x", "[0-9]", "(a|b)"]),
       values=st.lists(st.text(alphabet=st.sampled_from(
           [chr(c) for c in range(0x20, 0x7F)] + ["\t", "\n", "\r", "\u00e9", "\u2013"]), max_size=5),
           min_size=1, max_size=12))
def test_a_rewritten_pattern_gives_libxml2_the_same_verdicts(pieces: list[str], quantifier: str, prefix: str,
                                                            values: list[str]) -> None:
    """Whatever the class as written (escapes, ranges, a "-" anywhere), where it is
    rewritten libxml2 accepts exactly the values it accepted before, and every character
    alone besides."""
    pattern = prefix + "[" + "".join(pieces) + "]" + quantifier
    faster = rewrite_all([pattern]).get(pattern)
    if faster is None:
        return
    singles = [chr(c) for c in range(0x20, 0x80)] + ["\t", "\n", "\r", "\u00e9"]
    probes = values + [p + s for p in ("", "x", "0", "a") for s in singles]
    before = _verdicts(pattern, probes)
    assert before is not None  # a pattern that does not compile is never rewritten
    assert _verdicts(faster, probes) == before, (pattern, faster)


def test_the_message_quotes_the_pattern_as_written() -> None:
    files = {"t.xsd": _schema(TEXT).encode()}
    found = faster_files(files)
    assert found is not None
    faster_docs, originals = found
    assert originals == {"[ %-.0-Za-z]+": TEXT}
    assert b"[ %-.0-Za-z]+" in faster_docs["t.xsd"]
    # the value itself may hold what a message ends with
    message = ("Element 'Text': [facet 'pattern'] The value 'by the pattern '[ %-.0-Za-z]+'. x_' is not "
               "accepted by the pattern '[ %-.0-Za-z]+'.")
    assert restore_message(message, originals) == message[: -len("[ %-.0-Za-z]+'.")] + TEXT + "'."
    assert restore_message("Element 'Text': something else.", originals) == "Element 'Text': something else."


def test_a_clash_keeps_both_patterns_as_written() -> None:
    """Two patterns that would merge to one form (or to a pattern written elsewhere) stay
    as they are: a message must lead back to one pattern alone."""
    other = "[A-Za-z0-9 :;<=>?@%&'()*+,.\\-]+"  # the same set, written in another order
    files = {"a.xsd": _schema(TEXT).encode(), "b.xsd": _schema(other).encode().replace(b"urn:t", b"urn:u")}
    assert faster_files(files) is None
    written = {"a.xsd": _schema(TEXT).encode(), "b.xsd": _schema("[ %-.0-Za-z]+").encode().replace(b"urn:t", b"urn:u")}
    assert faster_files(written) is None


def test_the_range_validator_is_rewritten_and_the_findings_are_the_same(tmp_path: Path) -> None:
    """A document big enough to be cut into ranges is checked with the rewritten schema;
    one read whole with the schema as written; the findings are the same, messages too."""
    files = {"t.xsd": _schema(TEXT).encode()}
    assert isinstance(rewritten_schema(files, "t.xsd"), RewrittenSchema)
    assert not isinstance(compile_schema(files, "t.xsd"), RewrittenSchema)
    rs = ResolvedSchema(files, "t.xsd", "T")
    items = []
    for i in range(400):
        text = {37: "a_b", 150: "caf\u00e9 noir", 151: "x/y", 399: "tab\there"}.get(i, f"Number {i}, High St.")
        items.append(f"  <Item>\n    <Text>{_attr(text)}</Text>\n  </Item>\n")
    path = tmp_path / "list.xml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<List xmlns="urn:t">\n' + "".join(items) + "</List>\n",
                    encoding="utf-8")
    whole = Validator.for_schema(rs, jobs=1, piece_bytes=1 << 24).check(path).findings
    ranged = Validator.for_schema(rs, jobs=1, piece_bytes=1024).check(path).findings
    assert len(whole) == 4
    assert [(f.line, f.rule, f.message) for f in ranged] == [(f.line, f.rule, f.message) for f in whole]
    assert any(TEXT in f.message for f in ranged)
    assert not any("[ %-.0-Za-z]+" in f.message for f in ranged)


def test_a_schema_with_very_many_classes_is_asked_about_a_bounded_number() -> None:
    """Each class costs a probe: past the bound the others stay as written, so no schema
    makes the asking costly."""
    from egif import xsdclasses

    bodies = [f"{chr(c)}{chr(c + 1)}{chr(c + 2)}0-{d}{p}" for c in range(ord("a"), ord("x"))
              for d in range(1, 10) for p in "!#%&*+;=?@"]
    patterns = [f"[{b}]+" for b in bodies]
    assert len(set(patterns)) > 2 * xsdclasses._MAX_CLASSES
    before = set(xsdclasses._KNOWN)
    rewritten = rewrite_all(patterns)
    asked = set(xsdclasses._KNOWN) - before
    assert 0 < len(rewritten) <= xsdclasses._MAX_CLASSES
    assert len(asked) <= 2 * xsdclasses._MAX_CLASSES
    values = ["abc", "a0!", "d", "0", "!!", "b9?"]
    for p in sorted(rewritten)[:5]:
        assert _verdicts(rewritten[p], values) == _verdicts(p, values)
