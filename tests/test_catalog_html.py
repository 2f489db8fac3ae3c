"""The HTML catalogue renderers: pure functions of plain data (issue 7)."""

from __future__ import annotations

from egif.catalog_html import render_diff, render_standard, schema_outline


def test_renderers_escape_what_they_show() -> None:
    hostile = "<script>alert(1)</script>"
    std = {"name": "S", "title": hostile, "versions": [{
        "name": "S", "version": "1.0", "namespace": hostile, "status": "draft", "digest": "a" * 64,
        "main": "m.xsd", "successor": None, "added_at": hostile, "added_by": hostile,
        "files": [{"path": "m.xsd", "digest": "b" * 64, "size": 1, "role": "main"}], "imports": []}]}
    history = [{"at": "t", "version": "1.0", "kind": hostile, "actor": hostile,
                "data": {"from": hostile, "to": hostile}}]
    page = render_standard(hostile, std, {}, [], history)
    assert "<script>" not in page and page.count("&lt;script&gt;") >= 6



def test_outline_reads_documentation_and_structure() -> None:
    xsd = b"""<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">
  <xsd:annotation><xsd:documentation>The schema.</xsd:documentation></xsd:annotation>
  <xsd:element name="Root"><xsd:annotation><xsd:documentation>The root.</xsd:documentation>
    </xsd:annotation><xsd:complexType><xsd:choice>
      <xsd:element name="A" type="xsd:string" minOccurs="0" maxOccurs="unbounded"/>
      <xsd:element ref="B"/></xsd:choice></xsd:complexType></xsd:element>
  <xsd:simpleType name="CodeType"><xsd:restriction base="xsd:string">
    <xsd:enumeration value="x"/><xsd:maxLength value="3"/></xsd:restriction></xsd:simpleType>
</xsd:schema>"""
    outline = schema_outline({"m.xsd": xsd}, "m.xsd")
    assert outline.doc == "The schema."
    root, code = outline.components
    assert (root.kind, root.name, root.doc) == ("element", "Root", "The root.")
    choice = root.children[0]
    assert choice.label == "choice"
    assert [(p.label, p.occurs) for p in choice.children] == [("A", "[0..n]"), ("B", "")]
    assert (code.kind, code.detail) == ("simpleType", "restricts xsd:string: one of: x; maxLength 3")


def test_diff_section_shows_verdict_or_placeholder() -> None:
    shown = render_diff("1.0", "2.0", {"verdict": "breaking", "implied_bump": "major", "changes": [
        {"path": "/Root/A", "kind": "element-removed", "rule": "D1", "old": "A", "new": None,
         "backward": False}]}, None)
    assert "verdict-breaking" in shown and "/Root/A" in shown and "major" in shown
    missing = render_diff("1.0", "2.0", None, "The schema diff is not available")
    assert "not available" in missing
