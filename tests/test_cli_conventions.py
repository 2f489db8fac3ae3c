"""CLI conventions a newcomer expects: global options after the subcommand, suggestions
for mistyped references, one reference parser for every command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egif import Registry, Status
from egif.errors import NotFound
from egif.model import SchemaRef
from egif.registry import suggestion
from egif.resolve import ResolvedSchema

from .conftest import run_egif
from .test_validate_invariance import SEQ, _all_ways, _assert_one_answer


@pytest.fixture
def two_registries(registry_path: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The seeded registry, and an empty one (so that `schema list` tells them apart)."""
    empty = tmp_path / "empty.sqlite"
    Registry.init(empty, actor="tester@example.org", seed=False).close()
    return registry_path, empty


# -- global options where people type them ----------------------------------------------------
def test_registry_after_the_subcommand_wins_over_env_and_before(two_registries: tuple[Path, Path]) -> None:
    seeded, empty = two_registries
    after = run_egif("schema", "list", "--registry", str(empty), registry=seeded)
    assert after.returncode == 0, after.stderr
    assert "BS7666" not in after.stdout
    before = run_egif("--registry", str(empty), "schema", "list", "--registry", str(seeded))
    assert before.returncode == 0, before.stderr
    assert "BS7666@2.0" in before.stdout
    env_only = run_egif("schema", "list", registry=seeded)
    assert "BS7666@2.0" in env_only.stdout


def test_registry_option_inside_a_group(two_registries: tuple[Path, Path]) -> None:
    seeded, empty = two_registries
    result = run_egif("schema", "--registry", str(empty), "list", registry=seeded)
    assert result.returncode == 0, result.stderr
    assert "BS7666" not in result.stdout


def test_validate_accepts_registry_after_the_command(two_registries: tuple[Path, Path], tmp_path: Path) -> None:
    seeded, empty = two_registries
    doc = next((Path(__file__).parent.parent / "fixtures" / "bs7666" / "2.0" / "valid").glob("*.xml"))
    ok = run_egif("validate", "--registry", str(seeded), str(doc), registry=empty)
    assert ok.returncode == 0, ok.stderr + ok.stdout
    refused = run_egif("validate", str(doc), "--registry", str(empty), registry=seeded)
    assert refused.returncode == 2 and "no registered schema" in refused.stdout + refused.stderr


def test_as_after_the_subcommand_names_the_actor(registry_path: Path) -> None:
    result = run_egif("lifecycle", "approve", "BS7666@2.0", "--as", "bob", registry=registry_path)
    assert result.returncode == 1
    assert "'bob' may not approve" in result.stderr
    assert "Did you mean" not in result.stderr
    # before the subcommand, and from the environment (EGIF_USER is tester@example.org here)
    before = run_egif("--as", "carol", "lifecycle", "approve", "BS7666@2.0", registry=registry_path)
    assert "'carol' may not approve" in before.stderr
    env = run_egif("lifecycle", "approve", "BS7666@2.0", registry=registry_path)
    assert "'tester@example.org' may not approve" in env.stderr
    both = run_egif("--as", "carol", "lifecycle", "approve", "BS7666@2.0", "--as", "dave", registry=registry_path)
    assert "'dave' may not approve" in both.stderr


def test_as_after_the_subcommand_is_recorded(registry_path: Path) -> None:
    added = run_egif("registry", "config", "--add-maintainer", "erin", "--as", "erin", "--format", "json",
                     registry=registry_path)
    assert added.returncode == 0, added.stderr
    with Registry.open(registry_path) as reg:
        assert list(reg.events())[-1].actor == "erin"


def test_every_command_lists_the_global_options() -> None:
    from egif_cli.app import cli
    from egif_cli.docgen import walk

    for path, command in walk(cli, ("egif",)):
        if len(path) == 1:
            continue
        names = {opt for p in command.params for opt in p.opts}
        assert {"--registry", "--as"} <= names, path
    # in a subprocess: click keeps the help option a command was first shown with
    result = run_egif("lifecycle", "approve", "--help")
    assert "--as NAME" in result.stdout and "--registry PATH|DSN" in result.stdout


# -- suggestions for a mistyped reference ----------------------------------------------------
KNOWN = {"BS7666": ["1.0", "2.0"], "AddressAndPersonalDetails": ["1.0", "2.0"], "CommonSimpleTypes": ["1.3"]}


@pytest.mark.parametrize(("typed", "expected"), [
    ("bs7666@2.0", "BS7666@2.0"),
    ("bs7666", "BS7666"),
    ("BS766@1.0", "BS7666@1.0"),
    ("bs7666@1.5", "BS7666 (versions: 1.0, 2.0)"),
    ("CommonSimpleType", "CommonSimpleTypes"),
    ("Unrelated", None),
])
def test_suggestion(typed: str, expected: str | None) -> None:
    assert suggestion(SchemaRef.parse(typed), KNOWN) == expected


def test_suggestion_lists_several_close_names() -> None:
    known = {"Permit": ["1.0"], "permit": ["2.0"]}
    assert suggestion(SchemaRef.parse("PERMIT@2.0"), known) == "Permit (versions: 1.0) or permit@2.0"


def test_registry_suggests_on_every_lookup(registry: Registry) -> None:
    for call in (lambda: registry.get("bs7666@2.0"), lambda: registry.versions("bs7666"),
                 lambda: registry.newest("bs7666")):
        with pytest.raises(NotFound, match=r"no standard bs7666 in the registry .* did you mean BS7666"):
            call()
    with pytest.raises(NotFound, match=r"no schema BS7666@9\.9 in the registry \(registered versions: 1\.0, 2\.0\)"):
        registry.get("BS7666@9.9")


@pytest.mark.parametrize("args", [
    ("schema", "show", "bs7666@2.0"),
    ("lint", "bs7666@2.0"),
    ("diff", "bs7666@2.0", "BS7666@1.0"),
    ("schema", "history", "bs7666@2.0"),
])
def test_cli_suggests(egif_cli: Any, args: tuple[str, ...]) -> None:
    result = egif_cli(*args)
    assert result.returncode == 2
    assert "did you mean BS7666@2.0?" in result.stderr, result.stderr


def test_one_version_format_error_for_every_command(egif_cli: Any, tmp_path: Path) -> None:
    errors = set()
    for args in (("lint", "BS7666@2"), ("schema", "show", "BS7666@2"), ("diff", "BS7666@2", "BS7666@1.0"),
                 ("lifecycle", "status", "BS7666@2")):
        result = egif_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        errors.add(result.stderr.strip())
    assert errors == {"egif: error: invalid version '2': expected MAJOR.MINOR such as 1.0 or 2.3 "
                      "(optionally with a revision letter, as in 3.1d)"}


def test_lint_still_takes_a_file_named_like_a_reference(egif_cli: Any, tmp_path: Path) -> None:
    shipped = Path(__file__).parent.parent / "schemas"
    source = next(shipped.rglob("BS7666-v2-0.xsd"))
    shutil.copyfile(source, tmp_path / "BS7666@2")
    result = egif_cli("lint", "--format", "json", "BS7666@2", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert json.loads(result.stdout)["schema"] == "BS7666@2"


# -- syntax errors located by fields, never repeated inside the message ------------------------
@pytest.mark.parametrize(("data", "line", "column", "message"), [
    (b"<a>\n<b></a>", 2, 8, "Opening and ending tag mismatch: b and a"),
    (b"<a>\n<b>\n</a>", 3, 5, "Opening and ending tag mismatch: b line 2 and a"),
    (b"<a><b></c></a>", 1, 11, "Opening and ending tag mismatch: b and c"),
    (b"<a>\n<b>", 2, 4, "Premature end of data in tag b"),
])
def test_syntax_position(data: bytes, line: int, column: int, message: str) -> None:
    from lxml import etree

    from egif.xmlsafe import make_parser, syntax_position

    with pytest.raises(etree.XMLSyntaxError) as info:
        etree.fromstring(data, make_parser())
    found = syntax_position(info.value)
    assert found[0] == line and found[2] == message
    assert found[1] is not None and found[1] > 0


@given(at=st.integers(0, 7), how=st.sampled_from(["</t:Cod>", "<t:Code", "&bogus;", "<<"]),
       bad=st.sets(st.integers(0, 7), max_size=4), piece=st.integers(24, 400))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_syntax_errors_one_answer_whatever_the_size(tmp_path_factory: pytest.TempPathFactory, at: int,
                                                    how: str, bad: set[int], piece: int) -> None:
    resolved = ResolvedSchema({"s.xsd": SEQ.xsd.encode()}, "s.xsd")
    entries = [f"\n  <t:Entry><t:Code>AB12</t:Code><t:Qty>{0 if i in bad else 1}</t:Qty></t:Entry>"
               for i in range(8)]
    entries[at] = entries[at].replace("</t:Code>", how, 1)
    doc = (f'<t:Batch xmlns:t="{SEQ.namespace}">' + "".join(entries) + "\n</t:Batch>\n").encode()
    answers = _all_ways(resolved, None, doc, tmp_path_factory.mktemp("syn"), (piece,))
    # every finding and the record count, field by field: the invalid records before the
    # break are reported whatever the piece size, and nothing follows the syntax error
    _assert_one_answer(answers)
    rows, _records = next(iter(answers.values()))
    assert sorted(r[3] for r in rows if r[0] != "xml:syntax") == \
        sorted(i + 2 for i in bad if i < at)  # one finding per bad record before the break
    rows, _records = next(iter(answers.values()))
    syntax = [r for r in rows if r[0] == "xml:syntax"]
    assert len(syntax) == 1
    _rule, _sev, message, line, column, _path, _record = syntax[0]
    assert line is not None and line >= at + 2 and column is not None
    assert f"line {line}" not in message and "column" not in message


def test_syntax_error_text_and_json(egif_cli: Any, tmp_path: Path) -> None:
    doc = tmp_path / "mismatch.xml"
    doc.write_text('<?xml version="1.0"?>\n<BS7666Address xmlns="http://www.govtalk.gov.uk/people/bs7666">'
                   "<PAON></BS7666Address>\n")
    text = egif_cli("validate", str(doc))
    assert text.returncode == 1
    assert f"{doc}:2:86: error [xml:syntax]: not well-formed XML: Opening and ending tag mismatch: " \
           "PAON and BS7666Address\n" in text.stdout
    data = json.loads(egif_cli("validate", "--format", "json", str(doc)).stdout)
    assert [(f["rule"], f["line"], f["column"]) for f in data] == [("xml:syntax", 2, 86)]
    assert "line" not in data[0]["message"]


def test_schema_syntax_error_is_located(egif_cli: Any, tmp_path: Path) -> None:
    broken = tmp_path / "Broken-v1-0.xsd"
    broken.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
                      '<xs:element name="a">\n</xs:schema>\n')
    lint = egif_cli("lint", "--format", "json", str(broken))
    assert lint.returncode == 1
    [finding] = json.loads(lint.stdout)["findings"]
    assert (finding["rule"], finding["line"], finding["column"]) == ("xml:syntax", 3, 13)
    assert finding["message"] == ("not well-formed XML: Opening and ending tag mismatch: element line 2 "
                                  "and schema")
    text = egif_cli("lint", str(broken))
    assert f"{broken}:3:13: error: [xml:syntax] not well-formed XML" in text.stdout
    add = egif_cli("schema", "add", str(broken), "--name", "Broken", "--version", "1.0")
    assert add.returncode == 2
    assert add.stderr.startswith(f"egif: error: {broken}:3:13: not well-formed XML: ")


# -- a closed pipe, upper-case extensions, local mirrors, a wrong pin -------------------------
def _with_stdout_closed(args: list[str], registry: Path) -> tuple[int, str]:
    """Run the CLI with its stdout a pipe whose reader has already gone (``| head -0``)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, EGIF_REGISTRY=str(registry))
    proc = subprocess.Popen([sys.executable, "-m", "egif", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    return proc.wait(timeout=120), err


@pytest.mark.parametrize("args", [
    ["schema", "list"],
    ["schema", "list", "--format", "json"],
    ["--help"],
    ["validate", "--format", "json", str(Path(__file__).parent.parent / "fixtures" / "bs7666")],
])
def test_a_closed_pipe_ends_quietly(registry_path: Path, args: list[str]) -> None:
    code, err = _with_stdout_closed(args, registry_path)
    assert (code, err) == (141, "")


def test_upper_case_extensions_are_found_in_directories(egif_cli: Any, tmp_path: Path) -> None:
    valid = sorted((Path(__file__).parent.parent / "fixtures" / "bs7666" / "2.0" / "valid").glob("*.xml"))
    folder = tmp_path / "exports"
    (folder / "sub").mkdir(parents=True)
    shutil.copyfile(valid[0], folder / "LOWER.xml")
    shutil.copyfile(valid[1], folder / "sub" / "UPPER.XML")
    shutil.copyfile(valid[2], folder / "Mixed.Xml")
    (folder / "notes.txt").write_text("not a document")
    result = egif_cli("validate", "--format", "json", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    from egif.validate.core.sources import documents_under

    assert [p.name for p in documents_under(folder)] == ["LOWER.xml", "Mixed.Xml", "UPPER.XML"]
    summary = egif_cli("validate", str(folder)).stdout
    assert "3 files: 3 valid" in summary


_NAME = st.text(alphabet="aAbB-_. 0é", min_size=1, max_size=4).filter(lambda n: n not in (".", ".."))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.lists(_NAME, min_size=1, max_size=3), min_size=1, max_size=12, unique_by=tuple))
def test_documents_under_a_folder_come_in_the_order_of_their_paths(tmp_path_factory: pytest.TempPathFactory,
                                                                   names: list[list[str]]) -> None:
    """The listing is sorted with one key per path; the order is the paths' own."""
    from egif.validate.core.sources import documents_under

    folder = tmp_path_factory.mktemp("tree")
    for parts in names:
        target = folder.joinpath(*parts[:-1], parts[-1] + ".xml")
        if any(p.is_file() for p in [*target.parents][: len(parts) - 1]) or target.is_dir():
            continue  # a name already taken by a file where a folder is wanted, or the reverse
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("<x/>")
    found = documents_under(folder)
    assert found == sorted(found)
    assert sorted(found) == sorted(p for p in folder.rglob("*.xml") if p.is_file())


@pytest.fixture
def mirror(registry_path: Path, tmp_path: Path) -> Path:
    site = tmp_path / "mirror"
    published = run_egif("registry", "publish", "--no-catalogue", str(site), registry=registry_path)
    assert published.returncode == 0, published.stderr
    return site


def _empty(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    Registry.init(path, actor="tester@example.org", seed=False).close()
    return path


@pytest.mark.parametrize("how", ["directory", "file-url", "file-url-index"])
def test_pull_from_a_local_mirror(mirror: Path, registry_path: Path, tmp_path: Path, how: str) -> None:
    source = {"directory": str(mirror), "file-url": mirror.resolve().as_uri(),
              "file-url-index": mirror.resolve().as_uri() + "/index.json"}[how]
    target = _empty(tmp_path, "target.sqlite")
    result = run_egif("registry", "pull", source, "--format", "json", registry=target)
    assert result.returncode == 0, result.stderr
    with Registry.open(registry_path) as publisher, Registry.open(target) as pulled:
        assert {(v.ref, v.digest, v.status) for v in pulled.list()} == \
            {(v.ref, v.digest, v.status) for v in publisher.list()}
    again = run_egif("registry", "pull", source, "--format", "json", registry=target)
    assert json.loads(again.stdout)["unchanged"] is True


def test_a_mirror_file_leading_outside_is_refused(mirror: Path, tmp_path: Path) -> None:
    # a symbolic link with the right content still leads outside the mirror: refused, nothing stored.
    # The victim is a file the pull must read: not the segment of the publisher's log, which a
    # pull of an unsigned mirror does not read (so the first object by name was refused in some
    # runs only, as the log's digest moves with the time it was published); and a cache of its own
    objects = sorted(p for p in (mirror / "objects").rglob("*") if p.is_file())
    segments = {s["digest"] for s in json.loads((mirror / "index.json").read_text())["log"]["segments"]}
    victim = next(p for p in objects if p.name not in segments)
    outside = tmp_path / "outside"
    outside.write_bytes(victim.read_bytes())
    victim.unlink()
    victim.symlink_to(outside)
    target = _empty(tmp_path, "target.sqlite")
    result = run_egif("registry", "pull", str(mirror), registry=target,
                      env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 2
    assert "leads outside the mirror directory" in result.stderr and result.stderr.count("\n") == 1
    with Registry.open(target) as pulled:
        assert pulled.list() == []


def test_a_mirror_keeps_the_size_limits(mirror: Path, tmp_path: Path) -> None:
    target = _empty(tmp_path, "target.sqlite")
    result = run_egif("registry", "pull", str(mirror), "--max-file-size", "100", registry=target)
    assert result.returncode == 2
    assert "is over the limit of 100 bytes" in result.stderr


@pytest.mark.parametrize("bad", ["no-such-dir", "file://remote.example/x", "ftp://example.org/"])
def test_not_a_mirror(tmp_path: Path, bad: str) -> None:
    target = _empty(tmp_path, "target.sqlite")
    result = run_egif("registry", "pull", bad, registry=target, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("egif: error: ")


def test_a_wrong_pin_says_so(mirror: Path, tmp_path: Path) -> None:
    target = _empty(tmp_path, "target.sqlite")
    wrong = "0" * 64
    result = run_egif("registry", "pull", str(mirror), "--pin", wrong, registry=target)
    assert result.returncode == 2
    assert result.stderr == (f"egif: error: {mirror.resolve().as_uri()}/: no published state with that "
                             f"SHA-256: {wrong}\n")
    right = (mirror / "index.sha256").read_text().split()[0]
    assert run_egif("registry", "pull", str(mirror), "--pin", right, registry=target).returncode == 0


# -- deprecating or withdrawing a version others still import ---------------------------------
@pytest.fixture
def maintained(registry_path: Path) -> Path:
    added = run_egif("--as", "alice", "registry", "config", "--add-maintainer", "alice", registry=registry_path)
    assert added.returncode == 0, added.stderr
    return registry_path


def test_deprecate_and_withdraw_name_the_ratified_importers(maintained: Path) -> None:
    importers = ["AddressAndPersonalDetails@2.0", "GazetteerExtract@1.0"]
    with Registry.open(maintained) as reg:
        assert [str(v.ref) for v in reg.importers("BS7666@2.0", statuses=[Status.RATIFIED])] == importers
        # every importer, whatever its status, without the filter
        assert "GazetteerExtract@1.1" in [str(v.ref) for v in reg.importers("BS7666@2.0")]
    dep = run_egif("lifecycle", "deprecate", "BS7666@2.0", "-m", "superseded", "--as", "alice", registry=maintained)
    assert dep.returncode == 0, dep.stderr
    assert dep.stdout == "BS7666@2.0 is now deprecated\n"
    assert dep.stderr == ("egif: warning: BS7666@2.0 is still imported by ratified versions: "
                          "AddressAndPersonalDetails@2.0, GazetteerExtract@1.0\n")
    wd = run_egif("lifecycle", "withdraw", "BS7666@2.0", "-m", "gone", "--as", "alice", "--format", "json",
                  registry=maintained)
    assert wd.returncode == 0, wd.stderr
    data = json.loads(wd.stdout)
    assert data["still_imported_by"] == importers
    assert data["warnings"] == ["BS7666@2.0 is still imported by ratified versions: AddressAndPersonalDetails@2.0, "
                                "GazetteerExtract@1.0; validating against them warns"]
    assert wd.stderr == ""
    # the recorded decision is the decision only
    assert "still_imported_by" not in data["event"]["data"]


def test_a_version_nobody_imports_gives_no_warning(maintained: Path) -> None:
    result = run_egif("lifecycle", "deprecate", "PersonRecordList@1.0", "-m", "old", "--as", "alice",
                      "--format", "json", registry=maintained)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["still_imported_by"] == [] and "warnings" not in data and result.stderr == ""


def _withdraw_bs7666(path: Path) -> None:
    for step in (("deprecate", "-m", "superseded"), ("withdraw", "-m", "gone")):
        done = run_egif("lifecycle", step[0], "BS7666@2.0", *step[1:], "--as", "alice", registry=path)
        assert done.returncode == 0, done.stderr


def test_validating_through_a_withdrawn_import_warns_once(maintained: Path, tmp_path: Path) -> None:
    import io

    from egif.sample import write_sample
    from egif.validate import Validator

    _withdraw_bs7666(maintained)
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=300, seed=3, version="1.0")
    with Registry.open(maintained) as reg:
        answers = []
        for jobs, piece in ((1, None), (2, 2000)):
            result = Validator.for_version(reg, "GazetteerExtract@1.0", jobs=jobs, piece_bytes=piece).check(
                buf.getvalue(), label="g.xml")
            answers.append([(f.rule, f.severity.value, f.message) for f in result.findings])
            assert result.valid and result.records == 300
        assert answers[0] == answers[1] == [
            ("lifecycle:withdrawn-import", "warning", "GazetteerExtract@1.0 imports BS7666@2.0, which is withdrawn")]
    doc = next((Path(__file__).parent.parent / "fixtures" / "apd" / "2.0" / "valid").glob("*.xml"))
    text = run_egif("validate", str(doc), registry=maintained)
    assert text.returncode == 0, text.stdout
    assert text.stdout.count("[lifecycle:withdrawn-import]") == 1
    assert "AddressAndPersonalDetails@2.0 imports BS7666@2.0, which is withdrawn" in text.stdout
    # through another import: named with the path it is reached by
    persons = io.BytesIO()
    write_sample("persons", persons, count=20, seed=1)
    with Registry.open(maintained) as reg:
        found = Validator.for_version(reg, "PersonRecordList@1.0").check(persons.getvalue(), label="p.xml")
    assert [f.message for f in found.findings if f.rule == "lifecycle:withdrawn-import"] == [
        "PersonRecordList@1.0 imports BS7666@2.0, which is withdrawn (through PersonRecordList@1.0 -> "
        "AddressAndPersonalDetails@2.0 -> BS7666@2.0)"]
    # the withdrawn version itself stays refused, as before
    direct = run_egif("validate", "--schema", "BS7666@2.0", str(doc), registry=maintained)
    assert direct.returncode == 2
