"""Validator fixes: message cleaning, XInclude and record counts on the streaming path."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egif import Registry, UnsafeInputError
from egif.sample import write_sample
from egif.validate import Validator
from egif.validate.xsd import plain_message

SCHEMA = "GazetteerExtract@1.0"
XI = "http://www.w3.org/2001/XInclude"


# -- plain_message ----------------------------------------------------------------------
def test_pattern_quantifiers_stay_in_messages() -> None:
    raw = ("Element '{http://www.govtalk.gov.uk/people/bs7666}PostCode': [facet 'pattern'] The "
           "value 'EX2 5OE' is not accepted by the pattern '[A-PR-UWYZ]([0-9]{1,2}|[A-Z]{2}) "
           "[0-9][ABD-HJLNP-UW-Z]{2}'.")
    assert plain_message(raw) == (
        "Element 'PostCode': [facet 'pattern'] The value 'EX2 5OE' is not accepted by the "
        "pattern '[A-PR-UWYZ]([0-9]{1,2}|[A-Z]{2}) [0-9][ABD-HJLNP-UW-Z]{2}'.")


def test_unicode_class_braces_stay() -> None:
    raw = ("Element '{urn:x:y}Name': [facet 'pattern'] The value 'a' is not accepted by the "
           r"pattern '\p{Lu}\p{Ll}{0,34}x{2}a|\p{L}x'.")
    assert plain_message(raw) == (r"Element 'Name': [facet 'pattern'] The value 'a' is not "
                                  r"accepted by the pattern '\p{Lu}\p{Ll}{0,34}x{2}a|\p{L}x'.")


def test_enumeration_value_set_stays() -> None:
    raw = ("Element '{http://www.govtalk.gov.uk/exchange/GazetteerExtract}GazetteerExtract', "
           "attribute 'version': [facet 'enumeration'] The value '2.0' is not an element of the "
           "set {'1.0'}.")
    assert plain_message(raw) == ("Element 'GazetteerExtract', attribute 'version': [facet "
                                  "'enumeration'] The value '2.0' is not an element of the set "
                                  "{'1.0'}.")


def test_expected_lists_lose_their_namespaces_but_values_keep_braces() -> None:
    raw = ("Element '{http://a.example/ns}X': This element is not expected. Expected is one of "
           "( {http://a.example/ns}A, {urn:b}B ).")
    assert plain_message(raw) == "Element 'X': This element is not expected. Expected is one of ( A, B )."
    value = "Element '{urn:a}X': The value '{urn:z}y' is not a valid value."
    assert plain_message(value) == "Element 'X': The value '{urn:z}y' is not a valid value."


@given(st.text(alphabet="{}0123456789,'aZ/ ._-", max_size=30))
def test_braces_without_a_namespace_uri_are_never_removed(value: str) -> None:
    """Whatever a pattern holds, only the namespace braces of the name go."""
    raw = (f"Element '{{http://x.example/n}}E': [facet 'pattern'] The value 'v' is not accepted "
           f"by the pattern '{value}'.")
    expected = ("Element 'E': [facet 'pattern'] The value 'v' is not accepted by the pattern "
                f"'{value}'.")
    assert plain_message(raw) == " ".join(expected.split())


def test_messages_from_the_real_validator(registry: Registry) -> None:
    """A pattern and an enumeration error through libxml2 and the validator."""
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=3, seed=2)
    data = buf.getvalue().replace(b' version="1.0" custodianCode', b' version="9.9" custodianCode', 1)
    data = data.replace(b"<bs7666:PostCode>", b"<bs7666:PostCode>Q", 1)
    messages = [f.message for f in Validator.for_version(registry, SCHEMA).check(data).errors]
    assert any("{'1.0'}" in m for m in messages), messages
    assert any("[0-9]{1,2}" in m and "PostCode" in m and "{http" not in m for m in messages), messages


# -- XInclude on the streaming path -------------------------------------------------------
def _with_xinclude(data: bytes, declaration: str = XI, on_root: bool = False) -> bytes:
    """An xi:include in the last record, its prefix declared there or on the root."""
    last = data.rindex(b"<bs7666:BS7666Address>")
    bind = f' xmlns:xi="{declaration}"'.encode()
    inject = b"<xi:include" + (b"" if on_root else bind) + b' href="/etc/passwd"/>'
    data = data[:last] + inject + data[last:]
    return data.replace(b"<GazetteerExtract ", b"<GazetteerExtract" + bind + b" ", 1) if on_root else data


@pytest.mark.parametrize("on_root", [False, True])
@pytest.mark.parametrize("declaration", [XI, "http://www.w3.org/2001/XInc&#108;ude",
                                         "http://www.w3.org/2003/XInclude"])
def test_xinclude_refused_when_streamed(registry: Registry, tmp_path: Path, declaration: str,
                                        on_root: bool) -> None:
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=50, seed=3)
    data = _with_xinclude(buf.getvalue(), declaration, on_root)
    assert (data.index(b"xmlns:xi") < data.index(b"<AddressRecord")) == on_root
    path = tmp_path / "xi.xml"
    path.write_bytes(data)
    line = data[:data.index(b"<xi:include")].count(b"\n") + 1
    for piece in (1024, 1 << 30):  # many ranges, and one range: the same refusal
        validator = Validator.for_version(registry, SCHEMA, piece_bytes=piece, jobs=1)
        with pytest.raises(UnsafeInputError) as info:
            validator.check(path)
        assert f"XInclude element 'include' at line {line}" in str(info.value)
        assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_xinclude_found_behind_an_earlier_error_in_its_record(registry: Registry, tmp_path: Path) -> None:
    """libxml2 stops reading a content model at its first error, so an XInclude element after
    one is never itself an error: the walk of the records in error still finds it, with
    other faulty records before it in the same range."""
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=40, seed=5)
    data = _with_xinclude(buf.getvalue())
    last = data.rindex(b"<AddressRecord>") + len(b"<AddressRecord>")
    data = data[:last] + b"<Unexpected/>" + data[last:]  # the record's model fails here first
    first = data.index(b"<AddressRecord>") + len(b"<AddressRecord>")
    data = data[:first] + b"<AlsoUnexpected/>" + data[first:]  # and an earlier record has a fault
    path = tmp_path / "xi-behind.xml"
    path.write_bytes(data)
    line = data[:data.index(b"<xi:include")].count(b"\n") + 1
    for piece in (1024, 1 << 30):
        with pytest.raises(UnsafeInputError) as info:
            Validator.for_version(registry, SCHEMA, piece_bytes=piece, jobs=1).check(path)
        assert f"XInclude element 'include' at line {line}" in str(info.value)


def test_xinclude_found_after_an_error_among_the_records(registry: Registry, tmp_path: Path) -> None:
    """An element out of place among the root's children makes libxml2 skip the records
    after it: an XInclude element in one of those is never an error, and is still found."""
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=40, seed=5)
    data = _with_xinclude(buf.getvalue())  # in the last record
    tenth = 0
    for _ in range(10):
        tenth = data.index(b"<AddressRecord>", tenth + 1)
    data = data[:tenth] + b"<Unexpected/>\n  " + data[tenth:]
    path = tmp_path / "xi-after.xml"
    path.write_bytes(data)
    line = data[:data.index(b"<xi:include")].count(b"\n") + 1
    for piece in (1 << 30, 1 << 16):
        with pytest.raises(UnsafeInputError) as info:
            Validator.for_version(registry, SCHEMA, piece_bytes=piece, jobs=1).check(path)
        assert f"XInclude element 'include' at line {line}" in str(info.value)


_XI_DECLARED = {
    "main.xsd": (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="urn:t" '
                 b'xmlns:xi="http://www.w3.org/2001/XInclude" targetNamespace="urn:t" elementFormDefault="qualified">'
                 b'<xs:import namespace="http://www.w3.org/2001/XInclude" schemaLocation="xi.xsd"/>'
                 b'<xs:element name="r"><xs:complexType><xs:sequence>'
                 b'<xs:element name="rec" maxOccurs="unbounded"><xs:complexType><xs:sequence>'
                 b'<xs:element name="n" type="xs:int"/><xs:element ref="xi:include" minOccurs="0"/>'
                 b'</xs:sequence></xs:complexType></xs:element>'
                 b'</xs:sequence></xs:complexType></xs:element></xs:schema>'),
    "xi.xsd": (b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
               b'targetNamespace="http://www.w3.org/2001/XInclude">'
               b'<xs:element name="include"><xs:complexType><xs:attribute name="href"/></xs:complexType>'
               b'</xs:element></xs:schema>'),
}


def test_xinclude_refused_where_the_schema_declares_it(tmp_path: Path) -> None:
    """A schema may declare XInclude's elements, making one valid where it stands: it is
    still never processed, and refused, in a range with no error at all."""
    from egif.resolve import ResolvedSchema

    records = [b"<rec><n>%d</n></rec>\n" % i for i in range(400)]
    records[300] = b'<rec><n>300</n><xi:include href="/etc/passwd"/></rec>\n'
    data = (b'<?xml version="1.0"?>\n<r xmlns="urn:t" xmlns:xi="http://www.w3.org/2001/XInclude">\n'
            + b"".join(records) + b"</r>\n")
    path = tmp_path / "declared.xml"
    path.write_bytes(data)
    line = data[:data.index(b"<xi:include")].count(b"\n") + 1
    schema = ResolvedSchema(_XI_DECLARED, "main.xsd")
    for piece in (512, 1 << 30):
        with pytest.raises(UnsafeInputError) as info:
            Validator.for_schema(schema, piece_bytes=piece, jobs=1).check(path)
        assert f"XInclude element 'include' at line {line}" in str(info.value)


def test_no_false_xinclude_alarm_on_the_word_in_text(registry: Registry, tmp_path: Path) -> None:
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=20, seed=3)
    data = buf.getvalue().replace(b"<!--", b"<!-- XInclude and xmlns:a='&amp;' here", 1)
    path = tmp_path / "ok.xml"
    path.write_bytes(data)
    result = Validator.for_version(registry, SCHEMA, jobs=1, piece_bytes=4096).check(path)
    assert result.valid and result.records == 20


# -- through the command line, on a file cut into many ranges ------------------------------
@pytest.fixture(scope="module")
def big_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Cut into a few dozen ranges over the worker processes."""
    path = tmp_path_factory.mktemp("big") / "big.xml"
    with path.open("wb") as fh:
        write_sample("gazetteer", fh, size=5 * 1024 * 1024, seed=4)
    return path


def test_cli_streamed_summary_counts_records(egif_cli: Any, big_export: Path) -> None:
    records = big_export.read_bytes().count(b"<AddressRecord>")
    result = egif_cli("validate", str(big_export))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == (
        f"{big_export}: valid (GazetteerExtract@1.0), {records} records")


def test_cli_streamed_xinclude_exit_2(egif_cli: Any, big_export: Path, tmp_path: Path) -> None:
    path = tmp_path / "xi-big.xml"
    path.write_bytes(_with_xinclude(big_export.read_bytes()))
    result = egif_cli("validate", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    refusals = [line for line in result.stdout.splitlines() if "[xml:unsafe]" in line]
    assert len(refusals) == 1 and "XInclude" in refusals[0]
    assert "Traceback" not in result.stderr
