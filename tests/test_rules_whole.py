"""Rules run once on a small document's tree only where that answers as the two phase trees do.

A collection's rules run in two phases: on the root with its records alone, then on the
root with its other children alone.  A small document checked in memory is split into
those two trees -- unless every rule provably reads nothing across a record's edge
(:mod:`egif.validate.schematron.locality`), when one run on the tree as parsed says the
same.  These tests check the reading itself, that rules which do read across are kept on
the split (and would answer differently if they were not), and, end to end, that the
answer of every small document is the full path's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from egif import Registry
from egif.resolve import ResolvedSchema
from egif.validate import DocumentResult, Validator, load_rules
from egif.validate.schematron.evaluator import RECORDS, REST, WHOLE, Program, program, whole_program
from egif.validate.schematron.loader import EGIF_FN_NS
from egif.validate.schematron.locality import Reader
from egif.validate.schematron.state import RangeBook

NS = "urn:egif:test:whole"
ROOT = f"{{{NS}}}Liste"
HEADER = f"{{{NS}}}Kopf"
RECORD = f"{{{NS}}}Eintrag"
TODAY = "2026-11-30"

_XSD = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{NS}" xmlns="{NS}"
  elementFormDefault="qualified">
  <xs:element name="Liste"><xs:complexType><xs:sequence>
    <xs:element name="Kopf" type="xs:string"/>
    <xs:element ref="Eintrag" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence><xs:attribute name="version" type="xs:string"/></xs:complexType></xs:element>
  <xs:element name="Eintrag"><xs:complexType><xs:sequence>
    <xs:element name="Name" type="xs:string" minOccurs="0"/>
    <xs:element name="Von" type="xs:int" minOccurs="0"/>
    <xs:element name="Bis" type="xs:int" minOccurs="0"/>
    <xs:element name="Spanne" minOccurs="0"><xs:complexType><xs:sequence>
      <xs:element name="Von" type="xs:int" minOccurs="0"/>
      <xs:element name="Bis" type="xs:int" minOccurs="0"/>
    </xs:sequence></xs:complexType></xs:element>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>"""

# rules that read only their own record, or the header, or the root's attributes
LOCAL = {
    "range": '<sch:rule context="f:Bis[../f:Von]"><sch:assert id="W-range" '
             'test="number(.) &gt;= number((../f:Von)[1])">ends before it starts</sch:assert></sch:rule>',
    "unique": '<sch:rule context="f:Eintrag[f:Name]"><sch:assert id="W-unique" '
              'test="not(egif:seen(\'names\', normalize-space(f:Name)))">name used twice</sch:assert></sch:rule>',
    "count": '<sch:rule context="/f:Liste/f:Kopf"><sch:assert id="W-count" '
             'test="not(starts-with(., \'n=\')) or number(substring(., 3)) = egif:record-count()">'
             'count</sch:assert></sch:rule>',
    "short": '<sch:rule context="f:Name"><sch:report id="W-short" test="string-length(normalize-space()) &lt; 2">'
             'short</sch:report></sch:rule>',
    "root": '<sch:rule context="/f:Liste[@version]"><sch:assert id="W-root" test="@version = \'1\'">'
            'version</sch:assert></sch:rule>',
    "sibling": '<sch:rule context="f:Spanne/f:Bis"><sch:assert id="W-sibling" '
               'test="not(preceding-sibling::f:Von) or number(.) &gt;= number(preceding-sibling::f:Von[1])">'
               'span ends before it starts</sch:assert></sch:rule>',
    # "../.." from a Bis in a span is its record; from a Bis in the record itself, the root:
    # alike where every Bis stands in a span, which the one run checks (a guard)
    "climb": '<sch:rule context="f:Bis"><sch:assert id="W-climb" test="../f:Von or ../../f:Kopf">'
             'an end without a start</sch:assert></sch:rule>',
}
# rules that look across a record's edge: the two phase trees and the whole tree differ
ACROSS = {
    "header-from-record": '<sch:rule context="f:Eintrag"><sch:assert id="X-header" '
                          'test="not(../f:Kopf = \'leer\')">header seen from a record</sch:assert></sch:rule>',
    "records-from-header": '<sch:rule context="f:Kopf"><sch:assert id="X-records" '
                           'test="count(../f:Eintrag) = 0">records seen from the header</sch:assert></sch:rule>',
    "root-children": '<sch:rule context="/f:Liste"><sch:assert id="X-children" test="count(*) = 1">'
                     'children of the root</sch:assert></sch:rule>',
    "first-child": '<sch:rule context="/f:Liste/*[1]"><sch:report id="X-first" test="self::f:Eintrag">'
                   'a record comes first</sch:report></sch:rule>',
    "absolute": '<sch:rule context="f:Name"><sch:assert id="X-absolute" test=". != /f:Liste/f:Kopf">'
                'name equals the header</sch:assert></sch:rule>',
    "sibling-of-record": '<sch:rule context="f:Eintrag"><sch:assert id="X-sibling" '
                         'test="not(preceding-sibling::f:Kopf = \'leer\')">header beside a record'
                         '</sch:assert></sch:rule>',
}


def _rules(*bodies: str) -> bytes:
    patterns = "".join(f"<sch:pattern>{b}</sch:pattern>" for b in bodies)
    return (f'<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron"><sch:ns prefix="f" uri="{NS}"/>'
            f'<sch:ns prefix="egif" uri="{EGIF_FN_NS}"/>{patterns}</sch:schema>').encode()


Record = tuple[str | None, int | None, int | None, tuple[int | None, int | None] | None]


def _doc(header: str, records: Sequence[Record], version: str | None = None) -> bytes:
    """A list: its header, then records (name, start, end, and a span of start and end)."""
    parts = []
    for name, start, end, span in records:
        inner = "".join([f"<Name>{name}</Name>" if name is not None else "",
                         f"<Von>{start}</Von>" if start is not None else "",
                         f"<Bis>{end}</Bis>" if end is not None else ""])
        if span is not None:
            inner += "<Spanne>" + "".join(f"<{tag}>{n}</{tag}>" for tag, n in zip(("Von", "Bis"), span, strict=True)
                                          if n is not None) + "</Spanne>"
        parts.append(f"  <Eintrag>{inner}</Eintrag>\n")
    attr = f' version="{version}"' if version is not None else ""
    return (f'<?xml version="1.0"?>\n<Liste xmlns="{NS}"{attr}>\n  <Kopf>{header}</Kopf>\n'
            f'{"".join(parts)}</Liste>\n').encode()


def _split_fires(rules: bytes, data: bytes) -> bool:
    """The two phase trees' answer, made as the validator makes it."""
    ruleset = load_rules([("w.sch", rules)])
    root = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
    records = [c for c in root if c.tag == RECORD]
    others = [c for c in root if c.tag != RECORD]
    for c in others:
        root.remove(c)
    book = RangeBook()
    records_phase = program(ruleset, ROOT, RECORDS, frozenset({RECORD}), frozenset({RECORD}))
    if records_phase.any_fires(root, book, today=TODAY):
        return True
    for c in records:
        root.remove(c)
    for c in others:
        root.append(c)
    rest = program(ruleset, ROOT, REST, frozenset({RECORD}), frozenset({RECORD}))
    return rest.any_fires(root, book, today=TODAY, record_count=len(records))


def _whole_fires(rules: bytes, data: bytes, *, guarded: bool = True) -> bool:
    """The one run on the whole tree: as the validator makes it (its guards in), or made
    whether or not it may be trusted (*guarded* false: no guards, no reading of the rules)."""
    ruleset = load_rules([("w.sch", rules)])
    root = etree.fromstring(data, etree.XMLParser(remove_blank_text=True))
    if guarded:
        tops = frozenset(str(c.tag) for c in root)
        whole = whole_program(ruleset, ROOT, tops, frozenset({RECORD}), frozenset({RECORD}))
        assert whole is not None, "the rules were not found alike"
    else:
        whole = Program(ruleset, ROOT, WHOLE, frozenset({RECORD}), frozenset({RECORD}))
    return whole.any_fires(root, RangeBook(), today=TODAY, record_count=sum(c.tag == RECORD for c in root))


def _trusted(rules: bytes) -> bool:
    ruleset = load_rules([("w.sch", rules)])
    return whole_program(ruleset, ROOT, frozenset({HEADER, RECORD}), frozenset({RECORD}),
                         frozenset({RECORD})) is not None


# -- the reading of one expression -------------------------------------------------------------
@pytest.mark.parametrize(("expr", "level", "local"), [
    ("number(.) >= number(../f:Von)", 2, True),
    ("number(.) >= number(../f:Von)", 1, False),  # from a record, ".." is the root
    ("(../f:Von)/f:X", 2, True),
    ("../..", 3, True),
    ("../..", 2, False),
    ("parent::f:X", 2, True),
    ("f:A/f:B[@x = 1]/text()", 1, True),
    ("f:A", 0, False),  # below the root lie both phases' children
    ("@version = '1'", 0, True),
    ("string-length(normalize-space()) > 1", 0, False),  # the root's string value
    ("string-length(normalize-space()) > 1", 1, True),
    ("name() = 'x' and local-name(.) = 'x'", 1, True),
    (".", 0, False),
    ("/f:Liste/f:Kopf", 2, False),
    ("count(//f:X)", 2, False),
    ("f:A//f:B", 1, True),
    ("preceding-sibling::f:A", 2, True),  # siblings below a child of the root: its own
    ("following-sibling::*[1]", 3, True),
    ("preceding-sibling::f:A", 1, False),  # the root's children: they differ by phase
    ("ancestor::f:A", 3, False),
    ("following::*", 3, False),
    ("position() = 1", 2, False),
    ("f:A[last()]", 2, False),
    ("id('x')", 2, False),
    ("$today > .", 2, True),
    ("$other > .", 2, False),
    ("2 * 3 div 4 mod 5 > f:A", 1, True),  # operators, not names
    ("f:A * 2 > 1", 1, True),
    ("egif:seen('k', normalize-space(f:A))", 1, True),
    ("egif:record-count() = 3", 2, True),
    ("other:f(.)", 2, False),
    ("f:A[", 2, False),
    ("count(f:A)/f:B", 2, False),
    ("'a/b' = concat(f:A, '//')", 1, True),
    ("f:A and * = 1", 1, True),  # "*" after an operator: every child
    ("@* = 1", 0, True),  # the root's attributes
    ("div > 1 and mod", 1, True),  # names of elements, where an operand is expected
    ("f:A * /f:B", 1, False),  # "*" after an operand multiplies: "/" then starts a path
])
def test_an_expression_is_local_only_when_it_stays_in_its_top_level_child(expr: str, level: int,
                                                                          local: bool) -> None:
    reader = Reader({"f": NS, "egif": EGIF_FN_NS})
    assert reader.local(expr, level) is local


# -- rule sets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LOCAL))
def test_a_rule_that_reads_its_own_record_runs_on_the_whole_tree(name: str) -> None:
    assert _trusted(_rules(LOCAL[name]))


@pytest.mark.parametrize("name", sorted(ACROSS))
def test_a_rule_that_reads_across_keeps_the_split(name: str) -> None:
    assert not _trusted(_rules(*LOCAL.values(), ACROSS[name]))


@pytest.mark.parametrize(("name", "data"), [
    ("header-from-record", _doc("leer", [("a", None, None, None)])),
    ("records-from-header", _doc("x", [("a", None, None, None)])),
    ("root-children", _doc("x", [("a", None, None, None)])),
    ("first-child", _doc("x", [("a", None, None, None)])),
    ("sibling-of-record", _doc("leer", [("a", None, None, None)])),
])
def test_the_whole_tree_would_answer_otherwise_for_rules_that_read_across(name: str, data: bytes) -> None:
    """Why the split is kept for them: run whole, these rules answer differently."""
    rules = _rules(ACROSS[name])
    assert _whole_fires(rules, data, guarded=False) is not _split_fires(rules, data)


def test_a_rule_that_climbs_above_its_least_depth_runs_whole_behind_a_guard() -> None:
    """``../..`` from a ``Bis`` reads its record when the ``Bis`` stands in a span, and the
    root when it stands in the record itself -- where the whole tree holds the header the
    record tree lacks.  The one run holds a guard that fires for a ``Bis`` standing that
    high: such a document takes the full path."""
    rules = _rules(LOCAL["climb"])
    ruleset = load_rules([("w.sch", rules)])
    tops = frozenset({HEADER, RECORD})
    whole = whole_program(ruleset, ROOT, tops, frozenset({RECORD}), frozenset({RECORD}))
    assert whole is not None and list(whole.guards.values()) == [3]
    in_spans = _doc("x", [("a", None, None, (1, 2)), ("b", 2, None, (None, 4))])
    assert _split_fires(rules, in_spans) is True  # the second span has an end without a start
    assert _whole_fires(rules, in_spans) is True
    in_spans_ok = _doc("x", [("a", None, None, (1, 2))])
    assert _split_fires(rules, in_spans_ok) is False
    assert _whole_fires(rules, in_spans_ok) is False  # deep enough: the one run answers
    high = _doc("x", [("a", None, 5, None)])  # a Bis in the record, no Von beside it
    assert _split_fires(rules, high) is True
    assert _whole_fires(rules, high, guarded=False) is False  # wrong: the Bis read the header
    assert _whole_fires(rules, high) is True  # the guard: the document takes the full path


def test_the_shipped_person_list_rules_run_whole_with_a_guard_on_the_death_date(registry: Registry) -> None:
    v = Validator.for_version(registry, "PersonRecordList@1.0")
    prl = "{http://www.govtalk.gov.uk/exchange/PersonRecordList}"
    layout = v.layout(f"{prl}PersonRecordList")
    assert layout is not None and v.rules
    whole = whole_program(v.rules, f"{prl}PersonRecordList", frozenset({f"{prl}PersonRecord"}), layout.top_only,
                          layout.records)
    assert whole is not None
    guarded = {next(r.context for p in v.rules.patterns for r in p.rules if id(r) == k): d
               for k, d in whole.guards.items()}
    assert guarded == {"pdt:PersonDeathDate": 3}  # PDT-R2 reads ../../pdt:BirthDate


def test_seen_on_both_sides_keeps_the_split() -> None:
    both = ('<sch:rule context="f:Kopf | f:Name"><sch:assert id="S-both" '
            'test="not(egif:seen(\'all\', normalize-space(.)))">twice</sch:assert></sch:rule>')
    assert not _trusted(_rules(both))
    assert _trusted(_rules(LOCAL["unique"], LOCAL["range"]))


def test_record_count_inside_a_record_keeps_the_split() -> None:
    inside = ('<sch:rule context="f:Eintrag"><sch:assert id="C-in" test="egif:record-count() &gt; 0">'
              'count</sch:assert></sch:rule>')
    assert not _trusted(_rules(inside))


def test_a_document_whose_root_holds_an_element_named_by_a_deep_rule_keeps_the_split() -> None:
    """``f:Bis[../f:Von]`` reads its parent: below a record that is the record, but a
    ``Bis`` standing under the root itself would read the root."""
    ruleset = load_rules([("w.sch", _rules(LOCAL["range"]))])
    tops = frozenset({HEADER, RECORD})
    assert whole_program(ruleset, ROOT, tops, frozenset({RECORD}), frozenset({RECORD})) is not None
    odd = tops | {f"{{{NS}}}Bis"}
    assert whole_program(ruleset, ROOT, odd, frozenset({RECORD}), frozenset({RECORD})) is None


def test_the_shipped_gazetteer_rules_run_on_the_whole_tree(registry: Registry) -> None:
    v = Validator.for_version(registry, "GazetteerExtract@1.0")
    gze = "{http://www.govtalk.gov.uk/exchange/GazetteerExtract}"
    layout = v.layout(f"{gze}GazetteerExtract")
    assert layout is not None and v.rules
    tops = frozenset({f"{gze}ExtractHeader", f"{gze}AddressRecord"})
    assert whole_program(v.rules, f"{gze}GazetteerExtract", tops, layout.top_only, layout.records) is not None


# -- end to end --------------------------------------------------------------------------------
Row = tuple[str, str, str, int | None, int | None, str | None, int | None]


def _rows(result: DocumentResult) -> tuple[list[Row], int | None]:
    return ([(f.rule, f.severity.value, f.message, f.line, f.column, f.path, f.record)
             for f in result.findings], result.records)


_NAMES = st.sampled_from([None, "a", "b", " a ", "Zed"])
_NUMBERS = st.one_of(st.none(), st.integers(0, 5))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(sorted(LOCAL) + sorted(ACROSS)), min_size=1, max_size=4, unique=True),
       header=st.sampled_from(["x", "leer", "n=0", "n=2", "n=3"]),
       records=st.lists(st.tuples(_NAMES, _NUMBERS, _NUMBERS, st.one_of(st.none(), st.tuples(_NUMBERS, _NUMBERS))),
                        max_size=4),
       version=st.sampled_from([None, "1", "2"]))
# the cases where a wrong reading would call a faulty document clean
@example(chosen=["climb"], header="x", records=[("a", None, 5, None)], version=None)
@example(chosen=["climb", "range"], header="x", records=[("a", None, None, (1, 2)), ("b", 1, 2, None)],
         version=None)
def test_small_documents_answer_as_the_full_path(monkeypatch: pytest.MonkeyPatch, chosen: list[str], header: str,
                                                 records: list[Record],
                                                 version: str | None) -> None:
    rules = _rules(*({**LOCAL, **ACROSS}[n] for n in chosen))
    schema = ResolvedSchema({"w.xsd": _XSD.encode()}, "w.xsd")
    fast = Validator.for_schema(schema, rules=load_rules([("w.sch", rules)]))
    full = Validator.for_schema(schema, rules=load_rules([("w.sch", rules)]))
    monkeypatch.setattr(full, "_clean", lambda *_args: False)  # every document takes the full path
    data = _doc(header, records, version)
    assert _rows(fast.check(data)) == _rows(full.check(data))
    if all(n in LOCAL for n in chosen):
        whole, split = _whole_fires(rules, data), _split_fires(rules, data)
        assert whole or not split  # never "nothing fires" where the split fires
        if "climb" not in chosen:  # (a guard may fire where the rules do not)
            assert whole is split


def test_small_files_on_every_core_answer_as_the_full_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = _rules(*LOCAL.values())
    schema = ResolvedSchema({"w.xsd": _XSD.encode()}, "w.xsd")
    paths = []
    for i in range(80):
        # a Bis in the record itself (odd i) meets the climbing rule's guard: the full path;
        # otherwise every Bis stands in a span and the one run answers
        names: list[Record] = [("anna", 1, 2 if i % 2 else None, None), ("bert", 3, None, (2, 1 + i % 4)),
                               ("anna" if i % 7 == 0 else "carl", None, None, None)]
        p = tmp_path / f"m{i:02d}.xml"
        p.write_bytes(_doc(f"n={3 - (i % 11 == 0)}", names, "1" if i % 5 else "2"))
        paths.append(p)
    fast = Validator.for_schema(schema, rules=load_rules([("w.sch", rules)]), jobs=2)
    full = Validator.for_schema(schema, rules=load_rules([("w.sch", rules)]), jobs=1)
    monkeypatch.setattr(full, "_clean", lambda *_args: False)
    layout = fast.layout(ROOT)
    assert layout is not None and layout.records == {RECORD}  # a collection: the phases apply
    assert whole_program(fast.rules, ROOT, frozenset({HEADER, RECORD}), layout.top_only, layout.records) is not None
    got = [_rows(r) for r in fast.check_many(paths)]
    assert got == [_rows(full.check(p)) for p in paths]
    assert sum(1 for rows, _n in got if not rows) > 20 and sum(1 for rows, _n in got if rows) > 20
