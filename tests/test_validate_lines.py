"""Exact lines and record numbers past libxml2's 16-bit line field, whole and streamed.

Past line 65,535 lxml's ``sourceline`` of an element whose first child is
whitespace comes out too high.  Every finding -- XSD or business rule, from
the whole-document path or the streaming path -- must still carry the line of
the element's start tag and its record number.
"""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egif import Registry
from egif.model import Finding
from egif.resolve import ResolvedSchema
from egif.sample import write_sample
from egif.validate import Validator
from egif.validate.stream.cutter import BytesReader, careful_cut, fast_cuts, record_pattern, record_starts
from egif.validate.stream.layout import read_frame

LINE_LIMIT = 65_535  # libxml2's 16-bit line field saturates here

SCHEMA = "GazetteerExtract@1.0"
COUNT = 4_200  # about 80,000 lines: the last ~700 records lie past line 65,535
SEED = 7


@pytest.fixture(scope="module")
def planted() -> tuple[bytes, list[tuple[int, int, str]]]:
    """A sample export with faults of both layers; (record, line, layer) of each."""
    buf = io.BytesIO()
    report = write_sample("gazetteer", buf, count=COUNT, seed=SEED, invalid_rate=0.03,
                          faults=("all",))
    faults = [(r.record, r.line, r.layer) for r in report.invalid]
    # the fixture only proves something if rule faults on elements that start
    # with whitespace (EndRange, AddressRecord) lie past the 16-bit limit
    late = {r.kind for r in report.invalid if r.line > LINE_LIMIT}
    assert {"range-backwards", "duplicate-preferred"} <= late, late
    return buf.getvalue(), faults


def _located(findings: list[Finding]) -> list[tuple[int | None, int | None, str]]:
    return sorted((f.record, f.line, "xsd" if f.rule.startswith("xsd:") else "rules")
                  for f in findings)


def test_whole_document_lines_and_records_are_exact(
        registry: Registry, planted: tuple[bytes, list[tuple[int, int, str]]]) -> None:
    data, faults = planted
    result = Validator.for_version(registry, SCHEMA).check(data)
    assert _located(result.errors) == sorted(faults)
    assert result.records == COUNT


@pytest.mark.parametrize("jobs", [1, 2])
def test_streamed_lines_and_records_are_exact(
        registry: Registry, tmp_path: Path, planted: tuple[bytes, list[tuple[int, int, str]]],
        jobs: int) -> None:
    data, faults = planted
    path = tmp_path / "extract.xml"
    path.write_bytes(data)
    result = Validator.for_version(registry, SCHEMA, jobs=jobs, piece_bytes=65536).check(path)
    assert _located(result.errors) == sorted(faults)
    assert result.records == COUNT  # the summary's record count, streamed too


def test_streamed_rule_paths_match_whole_document(
        registry: Registry, tmp_path: Path, planted: tuple[bytes, list[tuple[int, int, str]]]) -> None:
    data, _ = planted
    path = tmp_path / "extract.xml"
    path.write_bytes(data)
    whole = Validator.for_version(registry, SCHEMA).check(path).errors
    streamed = Validator.for_version(registry, SCHEMA, jobs=1, piece_bytes=4096).check(path).errors
    key = [(f.line, f.rule, f.path, f.record, f.message) for f in whole if not f.rule.startswith("xsd")]
    got = [(f.line, f.rule, f.path, f.record, f.message) for f in streamed
           if not f.rule.startswith("xsd")]
    assert sorted(got) == sorted(key) and got


def _start_tag_line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def test_xsd_finding_on_element_starting_with_whitespace(registry: Registry, tmp_path: Path) -> None:
    """A late StartRange emptied of its Number: libxml2 alone reports it two lines low."""
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=COUNT, seed=SEED)
    data = buf.getvalue()
    at = [m.start() for m in re.finditer(rb"<bs7666:StartRange>", data)][-3]
    number = re.compile(rb"<bs7666:Number>\d+</bs7666:Number>").search(data, at)
    assert number is not None
    broken = data[:number.start()] + data[number.end():]  # same lines, Number gone
    line = _start_tag_line(broken, at)
    assert line > LINE_LIMIT
    record = broken.count(b"<AddressRecord>", 0, at)
    whole = Validator.for_version(registry, SCHEMA).check(broken).errors
    assert [(f.line, f.record, f.rule) for f in whole] == [(line, record, "xsd:element-content")]
    path = tmp_path / "x.xml"
    path.write_bytes(broken)
    streamed = Validator.for_version(registry, SCHEMA, jobs=1, piece_bytes=4096).check(path).errors
    assert [(f.line, f.record) for f in streamed] == [(line, record)]


def test_cuts_fall_on_record_starts_fast_and_careful() -> None:
    """Fast cuts land on record start tags about a target apart; careful cuts land only on
    real depth-1 record starts, also past a record tag hidden in a comment or CDATA."""
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=300, seed=1)
    data = buf.getvalue().replace(b"<AddressRecord>", b"<!-- <AddressRecord> --><AddressRecord>", 1)
    reader = BytesReader(data)
    frame = read_frame(reader)
    assert frame is not None
    cuts = list(fast_cuts(reader, record_pattern(("AddressRecord",)), frame.content_start,
                          frame.content_end, 5000))
    assert len(cuts) >= 10
    assert all(data.startswith(b"<AddressRecord", c) for c in cuts)
    assert all(b - a >= 5000 for a, b in itertools.pairwise([frame.content_start, *cuts]))
    pos, careful = frame.content_start, []
    while pos < frame.content_end:
        pos = careful_cut(reader, ("AddressRecord",), pos, frame.content_end, 5000)
        careful.append(pos)
    assert careful[-1] == frame.content_end
    real = [m.start() for m in re.finditer(rb"(?<!<!-- )<AddressRecord>", data)]
    assert set(careful[:-1]) <= set(real)


# pieces a range's bytes are made of around a record's start tag: names with and without a
# prefix, near misses, end tags, text and the characters that end a start tag's name
_PIECES = st.one_of(
    st.sampled_from([b"<", b"</", b":", b"a:", b"_x-1.b:", b"9:", b"Rec", b"Record", b"ARec", b"Rec2",
                     b" ", b"\n", b">", b"/>", b"/", b"x", b".", b"-", b"\xc3\xa9"]),
    st.tuples(st.sampled_from([b"<", b"</"]), st.sampled_from([b"", b"a:", b"_x-1.b:", b"9:", b"a:b:", b":"]),
              st.sampled_from([b"Rec", b"Record", b"ARec", b"Rec2"]),
              st.sampled_from([b">", b" ", b"\t", b"/", b"x", b""])).map(b"".join))


@given(st.lists(_PIECES, max_size=40).map(b"".join),
       st.sampled_from([("Rec",), ("Record",), ("Rec", "Record"), ("Rec", "ARec")]))
@settings(max_examples=500, deadline=None)
def test_the_record_pattern_finds_what_the_backtracking_form_finds(data: bytes, names: tuple[str, ...]) -> None:
    """The start-tag pattern takes a prefix possessively (it is cheaper at every "<"); it
    must match exactly where the plain form, which gives characters back, matches."""
    plain = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names))
                       + rb")[\s/>]")
    assert [m.span() for m in record_pattern(names).finditer(data)] == [m.span() for m in plain.finditer(data)]
    # and the literal-name search that finds the start tags of a faulty range
    assert record_starts(data, names) == [m.start() for m in plain.finditer(data)]


_LINES_XSD = (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" targetNamespace="urn:t" '
              b'elementFormDefault="qualified"><xs:element name="r"><xs:complexType><xs:sequence>'
              b'<xs:element ref="t:rec" maxOccurs="unbounded"/></xs:sequence></xs:complexType></xs:element>'
              b'<xs:element name="rec"><xs:complexType><xs:sequence><xs:element name="a"><xs:complexType>'
              b'<xs:sequence><xs:element name="b" type="xs:int"/></xs:sequence></xs:complexType></xs:element>'
              b'</xs:sequence><xs:attribute name="a"/><xs:attribute name="b"/></xs:complexType></xs:element>'
              b'</xs:schema>')


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=3),
       st.integers(min_value=0, max_value=2), st.booleans(), st.integers(min_value=64, max_value=600),
       st.sampled_from([b"<rec>", b"<rec\n>", b"<rec a='1\n>'>", b'<rec\ta=">"\n  b="2">']))
def test_exact_lines_equal_start_tag_lines(records: int, blank: int, comment: int, decoy: bool,
                                           piece: int, start_tag: bytes) -> None:
    """For any layout (blank lines, comments, a record start tag hidden in a comment, a
    record's start tag over two lines) and any piece size, the line of every finding is the
    line of its element's start tag."""
    parts = [b'<?xml version="1.0"?>\n<r xmlns="urn:t">\n']
    for i in range(records):
        parts.append(b"\n" * blank)
        if comment and i % 3 == 0:
            parts.append(b"<!-- a\ncomment -->\n" * comment)
        if decoy and i % 4 == 1:
            parts.append(b"<!-- not a record: <rec>\n -->\n")
        parts.append(start_tag + b"\n  <a>\n    <b>x</b>\n  </a>\n</rec>\n")
    parts.append(b"</r>\n")
    data = b"".join(parts)
    v = Validator.for_schema(ResolvedSchema({"t.xsd": _LINES_XSD}, "t.xsd"), piece_bytes=piece)
    result = v.check(data)
    offsets = [m.start() for m in re.finditer(rb"<b>", data)]
    assert [f.line for f in result.findings] == [_start_tag_line(data, o) for o in offsets]
    assert [f.record for f in result.findings] == list(range(1, records + 1))
    assert result.records == records
