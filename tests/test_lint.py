"""The schema linter: one bad schema per rule, the clean one, the shipped standards."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egif import Finding, InputError, Registry, Severity
from egif.config import ConfigEditor, load_config
from egif.lint import (
    COMPLEX_TYPE_NAME_RE,
    RULES,
    SIMPLE_TYPE_NAME_RE,
    UPPER_CAMEL_RE,
    LintSettings,
    explain,
    has_errors,
    lint_file,
    lint_version,
    pattern_uses_backslash_d,
    registry_settings,
)
from egif.shipped import shipped_versions

DATA = Path(__file__).resolve().parent / "data" / "lint"
CLEAN = DATA / "clean" / "LintClean-v1-0.xsd"
HELPERS = {"Shared-v1-0.xsd", "Other-v1-0.xsd", "Base-v1-0.xsd"}
MARKER = re.compile(r"<!-- expect: ([a-z\-]+) -->")
# rules that need a registry to fire: tested apart
REGISTRY_ONLY = {"version-matches-registry", "bundled-import"}


def bad_main(rule: str) -> Path:
    folder = DATA / "bad" / rule
    (main,) = [p for p in folder.iterdir() if p.name not in HELPERS]
    return main


def expected_hits(path: Path) -> set[tuple[str, int]]:
    """The (rule, line) pairs the markers in a file announce.

    A marker after other content names its own line; a marker alone on a line
    names the next element, whose line is where its start tag ends (libxml2's
    convention for multi-line start tags).
    """
    lines = path.read_text().splitlines()
    out: set[tuple[str, int]] = set()
    for number, text in enumerate(lines, start=1):
        m = MARKER.search(text)
        if m is None:
            continue
        if text[: m.start()].strip():
            out.add((m.group(1), number))
            continue
        n = number
        while not lines[n].lstrip().startswith("<"):
            n += 1
        while ">" not in lines[n]:
            n += 1
        out.add((m.group(1), n + 1))
    return out


def test_clean_schema_has_no_findings() -> None:
    assert lint_file(CLEAN) == []


def test_every_rule_has_a_bad_example() -> None:
    have = {p.name for p in (DATA / "bad").iterdir()}
    assert have == set(RULES) - REGISTRY_ONLY


@pytest.mark.parametrize("rule", sorted(set(RULES) - REGISTRY_ONLY))
def test_bad_schema_trips_exactly_its_rule(rule: str) -> None:
    main = bad_main(rule)
    expected = expected_hits(main)
    assert {r for r, _ in expected} == {rule}
    findings = lint_file(main)
    in_main = {(f.rule, f.line) for f in findings if f.file == str(main)}
    assert in_main == expected
    for f in findings:
        if f.rule == rule:
            assert f.severity is RULES[rule].severity
            assert f.message and f.path


def test_file_names_and_component_paths() -> None:
    findings = lint_file(bad_main("upper-camel-case"))
    (f,) = findings
    assert f.file == str(bad_main("upper-camel-case"))
    assert f.path == "xs:element[@name='record_code']"
    assert "record_code" in f.message


def test_chameleon_include_reports_the_include_and_the_included_file() -> None:
    main = bad_main("chameleon-include")
    findings = lint_file(main)
    shared = str(main.parent / "Shared-v1-0.xsd")
    assert ("target-namespace", shared) in {(f.rule, f.file) for f in findings}


def test_explain_every_rule() -> None:
    for rule in RULES.values():
        text = explain(rule.id)
        assert text.startswith(f"{rule.id} ({rule.severity.value}")
        assert rule.summary in text
    with pytest.raises(InputError, match="unknown lint rule"):
        explain("no-such-rule")


def test_not_a_schema_and_missing_file_are_input_errors_broken_xml_a_finding(tmp_path: Path) -> None:
    doc = tmp_path / "doc.xml"
    doc.write_text("<a/>")
    with pytest.raises(InputError, match="not an XML Schema"):
        lint_file(doc)
    with pytest.raises(InputError, match="no such file"):
        lint_file(tmp_path / "missing.xsd")
    broken = tmp_path / "Broken-v1-0.xsd"
    broken.write_text("<xsd:schema")
    # not well-formed is a finding, located like a document's syntax error
    [finding] = lint_file(broken)
    assert (finding.rule, finding.severity.value, finding.line) == ("xml:syntax", "error", 1)
    assert finding.column and finding.message.startswith("not well-formed XML: ")


def test_missing_include_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    text = CLEAN.read_text().replace("<!--IMPORT-->", '<xsd:include schemaLocation="Gone-v1-0.xsd"/>')
    path = tmp_path / "LintClean-v1-0.xsd"
    path.write_text(text)
    findings = lint_file(path)
    assert [f.rule for f in findings] == ["schema-compiles"]
    assert "Gone-v1-0.xsd" in findings[0].message


# -- settings ---------------------------------------------------------------------------
def test_settings_disable_and_change_severity() -> None:
    main = bad_main("upper-camel-case")
    assert has_errors(lint_file(main))
    off = LintSettings().with_overrides(disable=["upper-camel-case"])
    assert lint_file(main, settings=off) == []
    softer = LintSettings().with_overrides(severity={"upper-camel-case": "warning"})
    (f,) = lint_file(main, settings=softer)
    assert f.severity is Severity.WARNING
    assert not has_errors([f])


def test_namespace_base_is_configurable() -> None:
    main = bad_main("namespace-form")  # targetNamespace urn:example:lint-clean
    settings = LintSettings.from_config({"namespace_base": "urn:example:"})
    assert lint_file(main, settings=settings) == []
    # ... and under that base the GovTalk namespace of the clean schema is the odd one out
    assert [f.rule for f in lint_file(CLEAN, settings=settings)] == ["namespace-form"]
    ok = LintSettings.from_config({"namespace_base": "http://www.govtalk.gov.uk/test"})
    assert lint_file(CLEAN, settings=ok) == []


@pytest.mark.parametrize("config, message", [
    ([], "expected a JSON object"),
    ({"disabled": "wildcard"}, "must be a list"),
    ({"disabled": ["no-such-rule"]}, "unknown lint rule"),
    ({"severity": {"wildcard": "fatal"}}, "unknown severity"),
    ({"severity": {"no-such-rule": "error"}}, "unknown lint rule"),
    ({"colour": "red"}, "unknown key"),
    ({"namespace_base": "govtalk"}, "absolute URI"),
])
def test_bad_settings_are_refused(config: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        LintSettings.from_config(config)


def test_settings_round_trip() -> None:
    config = {"disabled": ["wildcard"], "severity": {"documentation": "error"},
              "namespace_base": "http://example.org/standards/"}
    assert LintSettings.from_config(config).to_config() == config
    assert LintSettings().to_config() == {}


# -- registered versions -------------------------------------------------------------------
def test_every_shipped_version_lints_without_errors(registry: Registry) -> None:
    versions = shipped_versions()
    assert versions
    for sv in versions:
        findings = lint_version(registry, sv.ref)
        errors = [f"{f.file}:{f.line}: [{f.rule}] {f.message}" for f in findings
                  if f.severity is Severity.ERROR]
        assert errors == [], sv.ref


def test_registered_version_must_match_its_version_attribute(registry: Registry) -> None:
    registry.add(CLEAN, name="LintClean", version="1.1")
    findings = lint_version(registry, "LintClean@1.1")
    assert [(f.rule, f.file) for f in findings] == [
        ("version-matches-registry", "LintClean@1.1/LintClean-v1-0.xsd")]
    registry.add(CLEAN, name="LintClean", version="1.0")
    assert lint_version(registry, "LintClean@1.0") == []


def test_registered_version_with_chameleon_include(registry: Registry) -> None:
    main = bad_main("chameleon-include")
    registry.add(main, name="LintClean", version="1.0")
    findings = lint_version(registry, "LintClean@1.0")
    expected = expected_hits(main)
    got = {(f.rule, f.line) for f in findings if f.file == "LintClean@1.0/LintClean-v1-0.xsd"}
    assert got == expected
    assert any(f.rule == "target-namespace" and f.file == "LintClean@1.0/Shared-v1-0.xsd"
               for f in findings)


def test_registry_settings_apply_to_lint_version(registry: Registry) -> None:
    registry.add(bad_main("documentation"), name="LintClean", version="1.0")
    assert [f.rule for f in lint_version(registry, "LintClean@1.0")] == ["documentation"]
    with registry.store.transaction():
        registry.store.set_config("lint", {"severity": {"documentation": "error"}})
    (f,) = lint_version(registry, "LintClean@1.0")
    assert f.severity is Severity.ERROR
    with registry.store.transaction():
        registry.store.set_config("lint", {"disabled": ["documentation"]})
    assert lint_version(registry, "LintClean@1.0") == []
    # explicit settings win over the registry's
    assert [f.rule for f in lint_version(registry, "LintClean@1.0", settings=LintSettings())] == [
        "documentation"]


def test_the_old_per_rule_key_is_read_once_then_moved(registry: Registry) -> None:
    """Settings an older egif kept under "lint.rules" still apply (over "lint"), the settings
    say where they came from, and the next change moves them under "lint" for good."""
    with registry.store.transaction():
        registry.store.set_config("lint", {"disabled": ["wildcard"], "namespace_base": "http://example.org/"})
        registry.store.set_config("lint.rules", {"wildcard": "error", "redefine": "off",
                                                 "rule-from-a-newer-egif": "off"})
    settings = registry_settings(registry)
    assert "wildcard" not in settings.disabled
    assert settings.severity["wildcard"] is Severity.ERROR
    assert "redefine" in settings.disabled
    assert settings.namespace_base == "http://example.org/"
    config = load_config(registry)
    assert any("lint.rules" in note for note in config.notes)

    editor = ConfigEditor(registry, actor="alice")
    editor.add_maintainer("alice")
    moved = editor.set_lint_rule("documentation", "warning")
    assert registry.store.get_config("lint.rules") is None
    assert moved.notes == ()
    assert registry.store.get_config("lint") == moved.lint == {
        "disabled": ["redefine", "rule-from-a-newer-egif"], "namespace_base": "http://example.org/",
        "severity": {"documentation": "warning", "wildcard": "error"}}
    after = registry_settings(registry)
    assert (after.disabled, dict(after.severity)) == (
        settings.disabled, {**settings.severity, "documentation": Severity.WARNING})
    (event,) = [e for e in registry.events(kinds=("config",)) if e.data["key"] == "lint"]
    assert event.data["moved_from"] == {"key": "lint.rules", "value": {
        "wildcard": "error", "redefine": "off", "rule-from-a-newer-egif": "off"}}


# -- the naming and pattern rules as properties ------------------------------------------------
_word = st.from_regex(r"[A-Z][a-z]{1,8}", fullmatch=True)
_acronym = st.from_regex(r"[A-Z]{2,5}", fullmatch=True)


@given(st.lists(_word, min_size=1, max_size=4))
def test_camel_case_words_with_suffixes_pass(words: list[str]) -> None:
    name = "".join(words)
    assert UPPER_CAMEL_RE.match(name)
    assert COMPLEX_TYPE_NAME_RE.match(name + "Structure")
    assert SIMPLE_TYPE_NAME_RE.match(name + "Type")


@given(_acronym, st.from_regex(r"[a-z]{0,6}", fullmatch=True))
def test_lower_case_suffix_only_right_after_an_acronym(acronym: str, tail: str) -> None:
    assert COMPLEX_TYPE_NAME_RE.match(acronym + "structure")
    assert SIMPLE_TYPE_NAME_RE.match(acronym + "type")
    if tail:  # the suffix no longer follows the acronym: AONfoostructure is wrong
        assert not COMPLEX_TYPE_NAME_RE.match(acronym + tail + "structure")
        assert not SIMPLE_TYPE_NAME_RE.match(acronym + tail + "type")


@given(st.lists(_word, min_size=2, max_size=3), st.sampled_from(["_", "-", "."]))
def test_separators_and_lower_case_first_letter_fail(words: list[str], sep: str) -> None:
    assert not UPPER_CAMEL_RE.match(sep.join(words))
    assert not UPPER_CAMEL_RE.match("".join(words).lower())


_pattern_text = st.text(alphabet="[]0-9{}AZaz ", max_size=20)


@given(_pattern_text, _pattern_text)
def test_backslash_d_found_wherever_it_is(before: str, after: str) -> None:
    assert not pattern_uses_backslash_d(before + after)
    assert pattern_uses_backslash_d(before + "\\d" + after)
    # an escaped backslash followed by a letter d is not the digit escape
    assert not pattern_uses_backslash_d(before + "\\\\d" + after)
    assert pattern_uses_backslash_d(before + "\\\\\\d" + after)


def _findings_sorted(findings: list[Finding]) -> list[tuple[str | None, int | None]]:
    return [(f.file, f.line) for f in findings]


def test_findings_come_in_file_and_line_order() -> None:
    findings = lint_file(bad_main("chameleon-include"))
    main = str(bad_main("chameleon-include"))
    order = _findings_sorted(findings)
    assert order[0][0] == main  # the main document first
    lines = [line or 0 for file, line in order if file == main]
    assert lines == sorted(lines)


def test_docs_describe_every_rule() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "lint.md").read_text(encoding="utf-8")
    for rule in RULES.values():
        assert f"### {rule.id} ({rule.severity.value})" in text, rule.id
        assert f"| `{rule.id}` | {rule.severity.value} |" in text, rule.id
        assert f"--disable {rule.id}" in text, rule.id


# -- fair to real published sets (issue 10) ---------------------------------------------------
PUBLISHED = Path(__file__).resolve().parent / "data" / "published"


def _variant(tmp_path: Path, name: str, **replace: str) -> Path:
    text = CLEAN.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


@pytest.mark.parametrize("declared", ["1.00", "1.0-HMRC", "1.0d"])
def test_version_attributes_published_sets_use_are_accepted(tmp_path: Path, declared: str) -> None:
    indent = " " * 12
    path = _variant(tmp_path, "LintClean-v1-0.xsd", **{f'{indent}version="1.0"': f'{indent}version="{declared}"'})
    findings = lint_file(path)
    assert "version-attribute" not in _rules(findings)
    # the file name's version must still agree: 1.0d names another revision than -v1-0
    assert ("file-name" in _rules(findings)) == (declared == "1.0d")


def test_other_version_forms_are_still_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, "LintClean-v1-0.xsd", **{'            version="1.0"': '            version="60.4.16"'})
    assert "version-attribute" in _rules(lint_file(path))


def test_message_namespaces_may_carry_a_version_data_standards_may_not(tmp_path: Path) -> None:
    base = "http://www.govtalk.gov.uk/test/LintClean"
    message = _variant(tmp_path, "LintClean-v1-0.xsd",
                       **{base: "http://www.govtalk.gov.uk/taxation/LintClean/2"})
    assert "namespace-unversioned" not in _rules(lint_file(message))
    (tmp_path / "data").mkdir()
    data = _variant(tmp_path / "data", "LintClean-v1-0.xsd",
                    **{base: "http://www.govtalk.gov.uk/people/LintClean/2"})
    assert "namespace-unversioned" in _rules(lint_file(data))
    assert "version theirs by path" in explain("namespace-unversioned")


def test_older_govtalk_metadata_counts_as_egms(tmp_path: Path) -> None:
    text = CLEAN.read_text(encoding="utf-8")
    assert "http://www.govtalk.gov.uk/metadata/egms" in text
    path = tmp_path / "LintClean-v1-0.xsd"
    path.write_text(text.replace("http://www.govtalk.gov.uk/metadata/egms", "http://www.govtalk.gov.uk/CM/gms-xs"),
                    encoding="utf-8")
    findings = lint_file(path)
    assert "egms-metadata" not in _rules(findings)
    assert not has_errors(findings)


def test_bundled_third_party_files_are_named_not_linted(registry: Registry) -> None:
    registry.add(PUBLISHED / "envelope" / "GovTalkEnvelope-v2-0.xsd", name="GovTalkEnvelope", version="2.0")
    findings = lint_version(registry, "GovTalkEnvelope@2.0")
    bundled = [f for f in findings if f.rule == "bundled-import"]
    assert len(bundled) == 1 and bundled[0].severity == Severity.INFO
    assert "xmldsig-core-schema.xsd" in bundled[0].message and "xml.xsd" in bundled[0].message
    assert not [f for f in findings if f.file and ("xmldsig" in f.file or f.file.endswith("/xml.xsd"))]
    everything = lint_version(registry, "GovTalkEnvelope@2.0", include_imports=True)
    assert "bundled-import" not in _rules(everything)
    assert [f for f in everything if f.file and "xmldsig" in f.file]  # the W3C file breaks GovTalk conventions
