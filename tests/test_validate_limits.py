"""Where libxml2 gives up or departs from the specification, and inputs built to exhaust it.

Each case ends in a finding or a one-line refusal, in bounded time and memory,
with the same answer whatever the size of the pieces a file is cut into.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from egif.errors import UnsafeInputError
from egif.resolve import ResolvedSchema
from egif.validate import Validator
from egif.validate.stream import engine as engine_module

NS = "urn:egif:test:limits"


def _schema(body: str) -> ResolvedSchema:
    xsd = (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:t="{NS}" targetNamespace="{NS}" '
           f'elementFormDefault="qualified">{body}</xs:schema>')
    return ResolvedSchema({"t.xsd": xsd.encode()}, "t.xsd")


def _rows(result: object) -> list[tuple[object, ...]]:
    return [(f.line, f.rule, f.path, f.record, f.message) for f in result.findings]  # type: ignore[attr-defined]


# -- libxml2's regular expression engine giving up ------------------------------------------------
GIVES_UP = _schema(
    '<xs:simpleType name="P"><xs:restriction base="xs:string"><xs:pattern value="(a|aa)*b"/>'
    '</xs:restriction></xs:simpleType>'
    '<xs:element name="List"><xs:complexType><xs:sequence><xs:element ref="t:Item" maxOccurs="unbounded"/>'
    '</xs:sequence></xs:complexType></xs:element>'
    '<xs:element name="Item"><xs:complexType><xs:sequence><xs:element name="V" type="t:P"/>'
    '<xs:element name="W" type="xs:int"/></xs:sequence></xs:complexType></xs:element>'
    '<xs:element name="One" type="t:P"/>')


def test_a_pattern_libxml2_gives_up_on_is_a_finding() -> None:
    with pytest.raises(etree.XMLSchemaValidateError):  # what lxml alone does
        GIVES_UP.lxml_schema().validate(etree.fromstring(f'<One xmlns="{NS}">{"a" * 41}</One>'.encode()))
    one = Validator.for_schema(GIVES_UP).check(f'<One xmlns="{NS}">{"a" * 41}</One>'.encode())
    assert [(f.rule, f.path) for f in one.findings] == [("xsd:pattern-unchecked", "/One")]
    doc = (f'<List xmlns="{NS}">\n<Item><V>ab</V><W>1</W></Item>\n<Item><V>{"a" * 41}</V><W>1</W></Item>\n'
           "<Item><V>zz</V><W>2</W></Item>\n</List>\n").encode()
    answers = [_rows(Validator.for_schema(GIVES_UP, piece_bytes=p).check(doc)) for p in (None, 40)]
    assert answers[0] == answers[1]
    # the element libxml2 gave up on, and the next record still checked
    assert [(line, rule, record) for line, rule, _p, record, _m in answers[0]] == [
        (3, "xsd:pattern-unchecked", 2), (4, "xsd:cvc-pattern-valid", 3)]


def test_cli_reports_the_pattern_libxml2_gives_up_on(tmp_path: Path, registry_path: Path) -> None:
    xsd = tmp_path / "Limits-v1-0.xsd"
    xsd.write_bytes(GIVES_UP.files["t.xsd"])
    doc = tmp_path / "one.xml"
    doc.write_text(f'<One xmlns="{NS}">{"a" * 41}</One>')
    env = {"EGIF_REGISTRY": str(registry_path)}
    add = subprocess.run([sys.executable, "-m", "egif", "schema", "add", str(xsd), "--name", "Limits",
                          "--version", "1.0"], capture_output=True, text=True, env={**_env(), **env}, check=False)
    assert add.returncode == 0, add.stderr
    out = subprocess.run([sys.executable, "-m", "egif", "validate", "--schema", "Limits@1.0", str(doc)],
                         capture_output=True, text=True, env={**_env(), **env}, check=False)
    assert out.returncode == 1 and "[xsd:pattern-unchecked]" in out.stdout
    assert "Traceback" not in out.stderr


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


# -- whitespace around date and time values ---------------------------------------------------------
DATES = _schema(
    '<xs:element name="List"><xs:complexType><xs:sequence><xs:element ref="t:Hearing" maxOccurs="unbounded"/>'
    '</xs:sequence></xs:complexType></xs:element>'
    '<xs:element name="Hearing"><xs:complexType><xs:sequence>'
    '<xs:element name="Start" type="xs:dateTime"/><xs:element name="Day" type="xs:date"/>'
    '<xs:element name="At" type="xs:time"/></xs:sequence>'
    '<xs:attribute name="listed" type="xs:date"/></xs:complexType></xs:element>')


def _hearing(start: str, day: str = "2026-03-02", at: str = "10:00:00", listed: str = "2026-01-05") -> str:
    return (f'<Hearing listed="{listed}">\n  <Start>{start}</Start>\n  <Day>{day}</Day>\n'
            f"  <At>{at}</At>\n</Hearing>\n")


def test_whitespace_around_dates_is_collapsed_as_the_spec_says() -> None:
    """Pretty-printed values: libxml2 alone refuses them, xmlschema and egif accept them;
    a value that is wrong once collapsed is still reported, with libxml2's message."""
    pretty = _hearing("\n    2026-03-02T10:00:00\n  ", day=" 2026-03-02 ", at="\t10:00:00\n", listed=" 2026-01-05 ")
    wrong = _hearing("\n    2026-02-30T10:00:00\n  ")
    doc = f'<List xmlns="{NS}">\n{pretty}{wrong}</List>\n'.encode()
    schema = DATES.lxml_schema()
    assert not schema.validate(etree.fromstring(f'<List xmlns="{NS}">{pretty}</List>'.encode()))
    assert DATES.xmlschema_schema().is_valid(f'<List xmlns="{NS}">{pretty}</List>'.encode())
    answers = [_rows(Validator.for_schema(DATES, piece_bytes=p).check(doc)) for p in (None, 64)]
    assert answers[0] == answers[1]
    [(line, rule, path, record, message)] = answers[0]
    assert (line, rule, path, record) == (11, "xsd:cvc-datatype-valid.1.2.1", "/List/Hearing[2]/Start", 2)
    assert "2026-02-30T10:00:00" in message and "dateTime" in message


# -- a record with a million attributes ----------------------------------------------------------------
FLAT = _schema(
    '<xs:element name="List"><xs:complexType><xs:sequence><xs:element ref="t:Item" maxOccurs="unbounded"/>'
    '</xs:sequence></xs:complexType></xs:element>'
    '<xs:element name="Item"><xs:complexType><xs:sequence><xs:element name="V" type="xs:string"/>'
    '</xs:sequence></xs:complexType></xs:element>')


@pytest.mark.slow
def test_a_record_with_a_million_attributes_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """Parsed and validated, such a record cost 1.3 GB (an error entry per attribute); it is
    refused before it is parsed.  The run is held to 800 MB of address space."""
    path = tmp_path / "flood.xml"
    with path.open("w") as fh:
        fh.write(f'<List xmlns="{NS}">\n<Item ')
        for i in range(0, 1_000_000, 1000):
            fh.write(" ".join(f'attribute{j}="value{j}"' for j in range(i, i + 1000)) + " ")
        fh.write("><V>x</V></Item>\n")
        fh.writelines(f"<Item><V>{i}</V></Item>\n" for i in range(2000))
        fh.write("</List>\n")
    assert path.stat().st_size > 25_000_000
    code = ("import sys\nfrom egif.resolve import ResolvedSchema\nfrom egif.validate import Validator\n"
            f"rs = ResolvedSchema({{'t.xsd': {FLAT.files['t.xsd']!r}}}, 't.xsd')\n"
            "try:\n    Validator.for_schema(rs, jobs=2).check(sys.argv[1])\n"
            "except Exception as exc:\n    print(type(exc).__name__, exc)\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (800 << 20, 800 << 20))

    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         preexec_fn=limit, check=False, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("UnsafeInputError") and "line 2" in out.stdout and "10,000 attributes" in out.stdout
    with pytest.raises(UnsafeInputError, match=r"flood\.xml.*more than 10,000 attributes"):
        Validator.for_schema(FLAT, jobs=1).check(path)


# -- a large finite maxOccurs on the records -------------------------------------------------------------
CAPPED = _schema(
    '<xs:element name="List"><xs:complexType><xs:sequence><xs:element ref="t:Item" maxOccurs="150000"/>'
    '</xs:sequence></xs:complexType></xs:element>'
    '<xs:element name="Item"><xs:complexType><xs:sequence><xs:element name="V" type="xs:string"/>'
    '<xs:element name="W" type="xs:int"/></xs:sequence></xs:complexType></xs:element>')


@pytest.mark.slow
def test_a_large_occurrence_bound_is_checked_a_few_times_not_per_range(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """160,000 records against maxOccurs=150000: the root's content is checked when a run of
    records crosses one of the schema's bounds, not at every range (the run used to be
    rebuilt and scanned per record: quadratic), and the 150,001st record is the one reported."""
    path = tmp_path / "capped.xml"
    with path.open("w") as fh:
        fh.write(f'<List xmlns="{NS}">\n')
        fh.writelines(f"  <Item><V>value {i}</V><W>{i}</W></Item>\n" for i in range(160_000))
        fh.write("</List>\n")
    checks: list[int] = []
    real = engine_module._Skeleton._check

    def counted(self: engine_module._Skeleton, **kw: bool) -> object:
        checks.append(1)
        return real(self, **kw)

    monkeypatch.setattr(engine_module._Skeleton, "_check", counted)
    result = Validator.for_schema(CAPPED, jobs=2, piece_bytes=64 * 1024).check(path)
    assert [(f.line, f.path, f.record) for f in result.findings] == [(150_002, "/List/Item[150001]", 150_001)]
    assert result.records == 160_000
    assert 1 <= len(checks) <= 6, len(checks)
