"""One way to render: every --format comes from a renderer table, every renderer's output
parses, the lifecycle's commands come from its table of actions, and the command modules
build no text of their own."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from egif_cli.app import AppState, cli
from egif_cli.cmd_lifecycle import build_group
from egif_cli.common import FormatOption
from egif_cli.docgen import walk
from lxml import etree

from egif import InputError, Registry
from egif.config import ConfigEditor
from egif.lifecycle import ACTIONS, Action, Input, Lifecycle, transition_for_action
from egif.model import Status
from egif.render.findings import MATRIX, STREAMS
from egif.render.lint import REPORT, RULE_LIST
from egif.render.table import Renderers

from .conftest import REPO
from .publish_server import serve

WIDGET = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="http://www.govtalk.gov.uk/test/Widget"
           targetNamespace="http://www.govtalk.gov.uk/test/Widget" elementFormDefault="qualified"
           version="1.0">
  <xs:element name="Widget" type="xs:string"/>
</xs:schema>
"""


def format_options() -> Iterator[tuple[tuple[str, ...], click.Command, click.Option]]:
    for path, command in walk(cli, ("egif",)):
        for param in command.params:
            if isinstance(param, click.Option) and "--format" in param.opts:
                yield path, command, param


def test_every_format_option_lists_exactly_its_renderer_table() -> None:
    seen = 0
    for path, _command, option in format_options():
        assert isinstance(option, FormatOption), f"{' '.join(path)}: --format is not built from a renderer table"
        assert isinstance(option.type, click.Choice)
        assert list(option.type.choices) == sorted(option.renderers), " ".join(path)
        assert option.default in option.renderers
        seen += 1
    assert seen >= 20  # every command that prints a result has one
    # the tables that share another table's --format offer the same formats
    assert sorted(MATRIX) == sorted(STREAMS)
    assert sorted(RULE_LIST) == sorted(REPORT)


def _check_parses(fmt: str, text: str, what: str) -> None:
    assert text.strip(), f"{what}: no output"
    if fmt == "json":
        json.loads(text)
    elif fmt == "junit":
        root = etree.fromstring(text.encode("utf-8"))
        assert root.tag == "testsuites", what
    else:
        assert "Traceback" not in text, what


@pytest.fixture
def scene(registry_path: Path, tmp_path: Path) -> dict[str, Any]:
    """A registry with two maintainers and a few files to feed every command."""
    widget = tmp_path / "set" / "Widget-v1-0.xsd"
    widget.parent.mkdir()
    widget.write_text(WIDGET, encoding="utf-8")
    with Registry.open(registry_path, actor="alice") as reg:
        ConfigEditor(reg, actor="alice").add_maintainer("alice")
    site = tmp_path / "site"
    assert CliRunner().invoke(cli, ["--registry", str(registry_path), "registry", "publish", str(site),
                                    "--no-catalogue"]).exit_code == 0
    document = next((REPO / "fixtures" / "gazetteer" / "1.0" / "valid").glob("*.xml"))
    return {"registry": registry_path, "widget": widget, "site": site, "document": document, "tmp": tmp_path}


def _cases(scene: dict[str, Any], fmt: str, url: str) -> list[list[str]]:
    tmp: Path = scene["tmp"]
    widget, document = str(scene["widget"]), str(scene["document"])
    return [
        ["schema", "add", widget, "--name", "Widget", "--version", "1.0"],
        ["schema", "add-set", str(scene["widget"].parent), "--dry-run"],
        ["schema", "list"],
        ["schema", "show", "BS7666@2.0"],
        ["schema", "history", "BS7666"],
        ["lifecycle", "comment", "BS7666@2.0", f"a comment in {fmt}"],
        ["lifecycle", "status", "GazetteerExtract@1.1"],
        ["lifecycle", "pending"],
        ["lifecycle", "newest", "BS7666"],
        ["registry", "config"],
        ["registry", "info"],
        ["registry", "copy", str(scene["registry"]), str(tmp / f"copy-{fmt}.sqlite")],
        ["registry", "publish", str(tmp / f"site-{fmt}"), "--no-catalogue"],
        ["registry", "pull", url],
        ["registry", "export-catalog", str(tmp / f"catalog-{fmt}")],
        ["registry", "verify"],
        ["lint", widget],
        ["lint", "--rules"],
        ["diff", widget, widget, "--samples", "0"],
        ["validate", document],
        ["validate", "--against-all", document],
    ]


def test_every_renderer_of_every_command_writes_what_its_format_promises(scene: dict[str, Any]) -> None:
    runner = CliRunner()
    tables_used: dict[int, Renderers] = {}
    covered: set[tuple[str, ...]] = set()
    options = {path: option for path, _c, option in format_options()}
    with serve(scene["site"]) as server:
        for fmt in ("text", "json", "junit", "markdown"):
            for args in _cases(scene, fmt, server.url):
                path = ("egif", *[a for a in args[:2] if not a.startswith(("-", "/"))])
                option = options[path]
                assert isinstance(option, FormatOption)
                if fmt not in option.renderers:
                    continue
                result = runner.invoke(cli, ["--registry", str(scene["registry"]), *args, "--format", fmt])
                what = f"{' '.join(args)} --format {fmt}"
                assert result.exit_code in (0, 1), f"{what}: {result.output}{result.exception!r}"
                _check_parses(fmt, result.stdout, what)
                covered.add((*path, fmt))
                tables_used[id(option.renderers)] = option.renderers
    for path, _command, option in format_options():
        assert isinstance(option, FormatOption)
        if id(option.renderers) in tables_used:  # the lifecycle decisions share one table
            continue
        pytest.fail(f"{' '.join(path)}: no case renders its table")
    for path, option in options.items():
        assert isinstance(option, FormatOption)
        if any((*path, f) in covered for f in option.renderers):
            assert all((*path, f) in covered for f in option.renderers), path


def test_decisions_render_as_json_for_every_kind(registry_path: Path, tmp_path: Path) -> None:
    """Each decision's outcome (not only a comment's) is one JSON object naming the event."""
    runner = CliRunner()

    def act(*args: str) -> dict[str, Any]:
        result = runner.invoke(cli, ["--registry", str(registry_path), "--as", args[0], "lifecycle", *args[1:],
                                     "--format", "json"])
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    with Registry.open(registry_path, actor="alice") as reg:
        editor = ConfigEditor(reg, actor="alice")
        editor.add_maintainer("alice")
        editor.add_maintainer("bob")
        editor.set_approvals_needed(1)
    ref = "GazetteerExtract@1.1"
    objection = act("bob", "object", ref, "-m", "not yet")["event"]["id"]
    assert act("bob", "resolve", ref, str(objection), "-m", "fine now")["event"]["kind"] == "resolve-objection"
    assert act("alice", "approve", ref)["event"]["kind"] == "approve"
    with Registry.open(registry_path, actor="alice") as reg:
        if not Lifecycle(reg).consultation(ref).window_closed(Lifecycle(reg).clock()):
            assert act("alice", "close-window", ref, "-m", "done")["event"]["kind"] == "close-window"
    ratified = act("alice", "ratify", ref)
    assert ratified["version"]["status"] == "ratified"
    assert act("alice", "deprecate", "BS7666@2.0", "-m", "old")["version"]["status"] == "deprecated"
    assert act("alice", "withdraw", "BS7666@1.0", "-m", "gone")["version"]["status"] == "withdrawn"


# -- the lifecycle's commands come from its table ------------------------------------------
DECLINE = Action("decline", "reject", "Decline candidate REF (maintainers), saying why.",
                 inputs=(Input("reason", "Why (required).", required=True, short="-m"),),
                 move=transition_for_action("reject"))


def test_a_new_action_in_the_table_is_a_new_command(registry_path: Path) -> None:
    group = build_group((*ACTIONS, DECLINE))
    assert set(group.commands) == {a.name for a in ACTIONS} | {"decline", "status", "pending", "newest"}
    command = group.commands["decline"]
    names = {p.name: p for p in command.params}
    assert set(names) == {"ref", "reason", "fmt", "key"}
    assert names["reason"].required
    assert command.help == DECLINE.summary

    with Registry.open(registry_path, actor="alice") as reg:
        ConfigEditor(reg, actor="alice").add_maintainer("alice")
    runner = CliRunner()
    missing = runner.invoke(group, ["decline", "GazetteerExtract@1.1"], obj=AppState(str(registry_path), "alice"))
    assert missing.exit_code == 2 and "--reason" in missing.output
    done = runner.invoke(group, ["decline", "GazetteerExtract@1.1", "-m", "superseded", "--format", "json"],
                         obj=AppState(str(registry_path), "alice"))
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["version"]["status"] == "rejected"
    with Registry.open(registry_path) as reg:
        assert reg.get("GazetteerExtract@1.1").status is Status.REJECTED


def test_the_real_lifecycle_group_has_one_command_per_action() -> None:
    group = cli.get_command(click.Context(cli), "lifecycle")
    assert isinstance(group, click.Group)
    assert {a.name for a in ACTIONS} <= set(group.commands)
    for action in ACTIONS:
        params = {p.name: p for p in group.commands[action.name].params}
        assert ("key" in params) == action.signed, action.name
        for spec in action.inputs:
            assert params[spec.name].required == spec.required, (action.name, spec.name)
        if action.move is not None:
            assert action.sources == (action.move.source,)


def test_act_refuses_what_the_action_does_not_take(registry: Registry) -> None:
    with pytest.raises(InputError, match="ratify takes no reason"):
        Lifecycle(registry).act("ratify", "GazetteerExtract@1.1", reason="why not")
    with pytest.raises(InputError, match="unknown lifecycle action 'promote'"):
        Lifecycle(registry).act("promote", "GazetteerExtract@1.1")


# -- the command modules build no text ----------------------------------------------------------
WRITERS = {"echo", "emit"}


def _builds_text(node: ast.AST) -> bool:
    """Whether an argument is text made on the spot: an f-string, a string literal, str.format,
    or %-formatting / concatenation / a conditional involving one.  What a call returns (a
    renderer's text, a query's result) is not, whatever strings are passed to that call."""
    if isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return True
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Attribute) and node.func.attr == "format"
    if isinstance(node, ast.BinOp):
        return _builds_text(node.left) or _builds_text(node.right)
    if isinstance(node, ast.IfExp):
        return _builds_text(node.body) or _builds_text(node.orelse)
    return False


def test_command_modules_pass_only_rendered_text_to_the_output() -> None:
    """What a command writes comes from a renderer: echo()/emit() in cmd_*.py never get text
    built on the spot (diagnostics on stderr go through common.diagnostic / common.error)."""
    offenders = []
    for path in sorted((REPO / "cli" / "egif_cli").glob("cmd_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else "")
            if name not in WRITERS:
                continue
            if isinstance(node.func, ast.Attribute) and name == "echo":
                continue  # click.echo: cmd_validate's progress line, checked by test_hostile_terminal
            args = [*node.args, *(k.value for k in node.keywords if k.arg not in ("err", "nl"))]
            if any(_builds_text(a) for a in args):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_the_rule_catches_inline_text(tmp_path: Path) -> None:
    """The scan above is not vacuous: it flags the shapes it forbids."""
    for line in ['echo(f"{v.name} added")', 'echo("added")', 'emit(T, fmt, x, note="{}".format(n))',
                 'echo("a" + b)', 'echo("%d found" % n)', 'echo(a if ok else "none")']:
        (call,) = [n for n in ast.walk(ast.parse(line)) if isinstance(n, ast.Call) and
                   isinstance(n.func, ast.Name)]
        assert any(_builds_text(a) for a in [*call.args, *(k.value for k in call.keywords)]), line
    for line in ["emit(LIST, fmt, versions)", "emit(T, fmt, reg.events(kinds=('config',)))"]:
        call = ast.parse(line).body[0].value  # type: ignore[attr-defined]
        assert not any(_builds_text(a) for a in call.args), line


def test_no_command_module_adds_commands_to_another() -> None:
    """One registration style: each group module adds its own subcommands; nothing reaches into
    the root or another module's group."""
    for path in sorted((REPO / "cli" / "egif_cli").glob("cmd_*.py")):
        text = path.read_text(encoding="utf-8")
        assert "def register(" not in text, path.name
        assert ".commands[" not in text and ".commands.get(" not in text, path.name


def test_registry_subcommands_load_whatever_was_imported_first(tmp_path: Path) -> None:
    """No import-order dependence: importing a subcommand's module alone does not change the tree."""
    import subprocess
    import sys

    code = ("import egif_cli.cmd_publish, egif_cli.cmd_verify\n"
            "import click\nfrom egif_cli.app import cli\n"
            "g = cli.get_command(click.Context(cli), 'registry')\n"
            "print(' '.join(sorted(g.list_commands(click.Context(g)))))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["config", "copy", "export-catalog", "info", "init", "publish", "pull", "verify"]


@pytest.mark.parametrize("fmt", sorted(STREAMS))
def test_an_interrupted_stream_keeps_the_findings_of_the_file_it_stopped_in(fmt: str) -> None:
    """Whatever the format, a report closed in the middle of a file is a whole document
    that still carries the findings that file had so far."""
    from egif.model import Finding, Severity
    from egif.validate import DocumentResult

    first = Finding("first file's error", "xsd:one", Severity.ERROR, file="a.xml", line=3)
    second = Finding("found before Ctrl-C", "xsd:two", Severity.ERROR, file="b.xml", line=7)
    stream = STREAMS[fmt](quiet=False)
    done = DocumentResult("a.xml", "BS7666@2.0", [first])
    parts = [stream.start(), stream.begin("a.xml"), stream.finding(first, "a.xml"), stream.done(done),
             stream.begin("b.xml"), stream.finding(second, "b.xml"), stream.close([done], interrupted=True)]
    text = "".join(parts)
    if fmt == "json":
        assert [f["message"] for f in json.loads(text)] == [first.message, second.message]
    elif fmt == "junit":
        cases = etree.fromstring(text.encode()).findall(".//testcase")
        assert [c.get("name") for c in cases] == ["a.xml", "b.xml"]
        error = cases[1].find("error")
        assert error is not None and error.get("type") == "interrupted" and second.message in (error.text or "")
        assert "1 finding so far" in (error.get("message") or "")
    else:
        assert first.message in text and second.message in text and text.endswith("; interrupted\n")
