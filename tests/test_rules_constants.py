"""Rules made ready for one date: ``$today`` written in as a literal, and calls of literals
alone folded to their value, give the answers the plain expressions give.

A variable is looked up at every use and a constant call is evaluated at every node, so
the evaluator writes them in once (see :class:`~egif.validate.schematron.evaluator.Program`).
Each rewriting is checked here against the expression as written.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from egif.validate.schematron.evaluator import REST, Program, fold_constants, program, with_today
from egif.validate.schematron.loader import load_rules
from egif.validate.schematron.state import DocumentBook

PDT = "http://www.govtalk.gov.uk/people/PersonDescriptives"
PDT_RULES = Path(__file__).resolve().parent.parent / "schemas" / "pdt" / "rules" / "pdt-1-0.sch"

# -- folding: any expression of literals and pure calls keeps its value ------------------
_TEXT = st.text(alphabet="ab-1 0.'", max_size=6)
_string = _TEXT.filter(lambda t: "'" not in t).map(lambda t: f"'{t}'")
_number = st.one_of(st.integers(-50, 10**6).map(str), st.decimals("-9", "99", places=2).map(str))


def _calls(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arg = st.one_of(inner, _string, _number)
    return st.one_of(
        st.tuples(arg, arg, arg).map(lambda a: f"translate({a[0]}, {a[1]}, {a[2]})"),
        st.tuples(arg, arg).map(lambda a: f"substring-before({a[0]}, {a[1]})"),
        st.tuples(arg, arg).map(lambda a: f"substring-after({a[0]}, {a[1]})"),
        st.tuples(arg, arg).map(lambda a: f"substring({a[0]}, {a[1]})"),
        st.tuples(arg, arg, arg).map(lambda a: f"substring({a[0]}, {a[1]}, {a[2]})"),
        st.lists(arg, min_size=2, max_size=3).map(lambda a: f"concat({', '.join(a)})"),
        arg.map(lambda a: f"normalize-space({a})"),
        arg.map(lambda a: f"string-length({a})"),
        arg.map(lambda a: f"string({a})"),
        arg.map(lambda a: f"number({a})"),
        arg.map(lambda a: f"floor({a})"),
        arg.map(lambda a: f"round({a})"),
    )


constant = st.recursive(st.one_of(_string, _number), _calls, max_leaves=6)
# the constant put where the context matters too: beside the text of the context node
in_context = st.tuples(constant, st.sampled_from(["concat(., {c})", "translate(., 'ab', {c})",
                                                  "number(.) + {c}", "{c} = .", "string-length(.) < {c}"]))


def _value(expr: str, node: etree._Element) -> tuple[str, object]:
    try:
        got = etree.XPath(expr)(node)
    except etree.XPathError:
        return ("error", None)
    if isinstance(got, float) and math.isnan(got):
        return ("nan", None)
    return (type(got).__name__, got)


@given(constant, st.text(alphabet="ab-1 0.", max_size=5))
@settings(max_examples=400, deadline=None)
def test_a_folded_constant_has_the_value_of_the_expression(expr: str, text: str) -> None:
    node = etree.Element("v")
    node.text = text
    assert _value(fold_constants(expr), node) == _value(expr, node)


@given(in_context, st.text(alphabet="ab-1 0.", max_size=5))
@settings(max_examples=300, deadline=None)
def test_folding_keeps_what_reads_the_context_node(pair: tuple[str, str], text: str) -> None:
    c, shape = pair
    expr = shape.format(c=c)
    node = etree.Element("v")
    node.text = text
    folded = fold_constants(expr)
    assert _value(folded, node) == _value(expr, node)
    assert "." in folded  # the context is still read where the expression read it


def test_folding_leaves_strings_context_calls_and_inexact_numbers_alone() -> None:
    assert fold_constants("number(translate('2026-12-02', '-', '')) >= 3") == "20261202 >= 3"
    assert fold_constants("'number(1)' = concat('a', 'b')") == "'number(1)' = 'ab'"
    assert fold_constants("translate(., '-', '')") == "translate(., '-', '')"
    assert fold_constants("normalize-space()") == "normalize-space()"
    assert fold_constants("p:number('3')") == "p:number('3')"  # an extension function of that name
    assert fold_constants("number('0.1')") == "number('0.1')"  # libxml2 reads 0.1 its own way
    assert fold_constants("number('x')") == "number('x')"  # NaN has no literal
    assert fold_constants("number('-4') + 1") == "(-4) + 1"


def test_today_is_written_in_outside_string_literals_only() -> None:
    assert with_today("$today = '$today' and $todays = $today", "2026-12-02") == \
        "'2026-12-02' = '$today' and $todays = '2026-12-02'"
    assert with_today("$today", None) == "$today"


# -- the shipped date rules answer alike, made ready for a date or given it -----------------
_date = st.dates().map(lambda d: d.isoformat())


def _person(birth: str | None, death: str | None) -> etree._Element:
    root = etree.Element(f"{{{PDT}}}Person", nsmap={"pdt": PDT})
    if birth is not None:
        etree.SubElement(etree.SubElement(root, f"{{{PDT}}}BirthDate"), f"{{{PDT}}}PersonBirthDate").text = birth
    if death is not None:
        etree.SubElement(etree.SubElement(root, f"{{{PDT}}}DeathDate"), f"{{{PDT}}}PersonDeathDate").text = death
    return root


def _firings(run: Program, root: etree._Element, today: str) -> list[tuple[str | None, str]]:
    return [(f.check.rule_id, f.message) for f in run.run(root, DocumentBook(), today=today)]


@given(st.one_of(st.none(), _date), st.one_of(st.none(), _date), _date)
@settings(max_examples=200, deadline=None)
def test_date_rules_made_ready_for_today_fire_where_the_variable_does(birth: str | None, death: str | None,
                                                                        today: str) -> None:
    rules = load_rules([(PDT_RULES.name, PDT_RULES.read_bytes())])
    root = _person(birth, death)
    tag = str(root.tag)
    plain = Program(rules, tag, REST)
    ready = program(rules, tag, REST, today=today)
    assert "$today" not in " ".join(str(t.xpath.path) for c in ready.compiled[0] for _c, t, _a in c.tests)
    assert _firings(ready, root, today) == _firings(plain, root, today)


def test_a_let_named_today_keeps_its_own_value() -> None:
    rules = load_rules([("let.sch", b"""<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron">
      <sch:pattern><sch:rule context="d">
        <sch:let name="today" value="'1900-01-01'"/>
        <sch:assert id="D1" test="string(.) = $today">not the let's day</sch:assert>
      </sch:rule></sch:pattern></sch:schema>""")])
    root = etree.fromstring(b"<r><d>1900-01-01</d><d>2026-12-02</d></r>")
    ready = program(rules, "r", REST, today="2026-12-02")
    assert [f.node.text for f in ready.run(root, DocumentBook(), today="2026-12-02")] == ["2026-12-02"]


def test_rules_made_ready_for_one_day_refuse_another() -> None:
    rules = load_rules([(PDT_RULES.name, PDT_RULES.read_bytes())])
    root = _person("2000-01-01", None)
    ready = program(rules, str(root.tag), REST, today="2026-12-02")
    with pytest.raises(ValueError, match="2026-12-02"):
        ready.run(root, DocumentBook(), today="2026-12-03")
