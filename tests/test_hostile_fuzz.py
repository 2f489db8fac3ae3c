"""Fuzzing pull and the CLI (issue 17): never a traceback, never a read outside the download.

Hypothesis writes published trees (index.json documents, version entries,
file names, schemas and the locations they name, histories), some honest,
most not, serves them from 127.0.0.1 and pulls each into a fresh registry.
Whatever it builds, a pull either succeeds, storing only bytes it
downloaded, or refuses with one line and leaves the registry as it was; the
marker file outside the tree is never opened.

A second fuzzer drives the command-line tool in-process with hostile
arguments and files: every run ends in an exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import posixpath
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from egif_cli.app import cli
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from egif import EgifError, Registry
from egif.remote import PullLimits, pull

from .hostile_publisher import MARKER_TEXT, EvilSite, OpenAudit, dump, touched, xsd
from .publish_server import StaticServer, serve

FAST = PullLimits(timeout=2.0, retries=0, backoff=0.01, workers=2)
NS = "urn:egif:test:fuzz"
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server for the module; each example gets its own folder under it and its own registry."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "sites").mkdir()
    marker = root / "private" / "Marker.xsd"
    marker.parent.mkdir()
    marker.write_bytes(xsd(NS, f"<xs:annotation><xs:documentation>{MARKER_TEXT}</xs:documentation>"
                               "</xs:annotation>"))
    template = root / "template.sqlite"
    Registry.init(template, actor="fuzz", seed=False).close()
    with serve(root / "sites") as server:
        yield {"root": root, "marker": marker, "template": template, "server": server,
               "counter": itertools.count()}


# -- what a publisher may write ---------------------------------------------------------------
SAFE_NAMES = ["Main.xsd", "Types.xsd", "sub/Inc.xsd", "sub/deeper/Leaf.xsd"]
HOSTILE_NAMES = ["/dev/zero", "../Escape.xsd", "sub/../../Escape.xsd", "C:/x.xsd", "a\\b.xsd", "nul",
                 "x\x00.xsd", "", "sub//x.xsd", "SUB/INC.XSD", "Main.xsd/x.xsd", "e\x1b[2J.xsd",
                 "x" * 300]


def locations(marker: Path) -> list[str]:
    return ["Types.xsd", "sub/Inc.xsd", "../Main.xsd", "deeper/Leaf.xsd", "Missing.xsd",
            str(marker), marker.as_uri(), "../" * 10 + str(marker).lstrip("/"), "http://127.0.0.1:9/x.xsd",
            "sub\\Inc.xsd", "", "file:Types.xsd"]


@st.composite
def schema_file(draw: st.DrawFn, marker: Path) -> bytes:
    directives = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["include", "import", "redefine"]))
        loc = draw(st.sampled_from(locations(marker)))
        where = f' schemaLocation="{loc}"' if loc else ""
        if kind == "import":
            ns = draw(st.sampled_from([f"{NS}:other", f"{NS}:more"]))
            directives.append(f'<xs:import namespace="{ns}"{where}/>')
        else:
            directives.append(f"<xs:{kind}{where}/>")
    name = draw(st.sampled_from(["A", "B", "C"]))
    data = xsd(NS, f'<xs:element name="{name}" type="xs:string"/>', directives="".join(directives))
    if draw(st.integers(0, 9)) == 0:  # now and then something that is not a clean schema
        data = draw(st.sampled_from([
            b"", b"not xml", data[: len(data) // 2],
            f'<!DOCTYPE x [<!ENTITY e SYSTEM "{marker.as_uri()}">]><x>&e;</x>'.encode(),
            b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xi:include '
            b'xmlns:xi="http://www.w3.org/2001/XInclude" href="' + str(marker).encode() + b'"/></xs:schema>']))
    return data


@st.composite
def honest_version(draw: st.DrawFn, site: EvilSite, name: str) -> None:
    """A version a pull must accept: every include names a file of the version, imports are bound."""
    others = draw(st.lists(st.sampled_from(SAFE_NAMES[1:]), max_size=3, unique=True))
    paths = ["Main.xsd", *others]
    files = {}
    for i, path in enumerate(paths):
        targets = others if path == "Main.xsd" else draw(st.lists(st.sampled_from(others), max_size=1))
        directives = "".join(f'<xs:include schemaLocation="{posixpath.relpath(t, posixpath.dirname(path) or ".")}"/>'
                             for t in targets if t != path)
        files[path] = xsd(NS, f'<xs:element name="E{i}" type="xs:string"/>', directives=directives)
    imports = []
    if draw(st.booleans()):
        bound = f'elementFormDefault="qualified"><xs:import namespace="{NS}:other"/>'
        files["Main.xsd"] = files["Main.xsd"].replace(b'elementFormDefault="qualified">', bound.encode())
        imports.append({"namespace": f"{NS}:other", "target": "Lib@1.0", "bundled_path": None})
    site.version(name, draw(st.sampled_from(["1.0", "1.1"])), files, main="Main.xsd", imports=imports,
                 status=draw(st.sampled_from(["draft", "candidate", "ratified"])))


@st.composite
def version_entry(draw: st.DrawFn, site: EvilSite, marker: Path, name: str) -> None:
    paths = draw(st.lists(st.sampled_from(SAFE_NAMES + HOSTILE_NAMES) if draw(st.booleans())
                          else st.sampled_from(SAFE_NAMES), min_size=1, max_size=3, unique=True))
    files = {p: draw(schema_file(marker)) for p in paths}
    main = draw(st.sampled_from([*paths, "/dev/zero", "Absent.xsd"])) if draw(st.integers(0, 4)) == 0 \
        else paths[0]
    imports = []
    for ns in draw(st.lists(st.sampled_from([f"{NS}:other", f"{NS}:more"]), max_size=2, unique=True)):
        target = draw(st.sampled_from(["Lib@1.0", "Gone@9.9", None]))
        bundled = None if target else draw(st.sampled_from([*paths, "/etc/passwd", "../x.xsd", None]))
        imports.append({"namespace": ns, "target": target, "bundled_path": bundled})
    history = draw(st.lists(st.fixed_dictionaries({
        "kind": st.sampled_from(["comment", "approve", "propose", "status"]),
        "actor": st.text(max_size=8), "data": st.dictionaries(st.sampled_from(["text", "from", "to"]),
                                                             st.text(max_size=8), max_size=2)}),
        max_size=2))
    site.version(name, draw(st.sampled_from(["1.0", "1.1"])), files, main=main, imports=imports,
                 status=draw(st.sampled_from(["draft", "candidate", "ratified"])), history=history)


JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                          lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


def _mutate(data: Any, draw: st.DrawFn) -> Any:
    """Replace one value somewhere inside *data* by an arbitrary JSON value."""
    if isinstance(data, dict) and data:
        key = draw(st.sampled_from(sorted(data)))
        data[key] = draw(JSON_VALUE) if draw(st.integers(0, 2)) == 0 else _mutate(data[key], draw)
    elif isinstance(data, list) and data:
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(JSON_VALUE) if draw(st.integers(0, 2)) == 0 else _mutate(data[i], draw)
    else:
        return draw(JSON_VALUE)
    return data


@st.composite
def published_tree(draw: st.DrawFn, site: EvilSite, marker: Path) -> bool:
    """Write a tree; true when it is one a pull must accept."""
    lib = xsd(f"{NS}:other", '<xs:element name="O" type="xs:string"/>')
    honest = draw(st.booleans())
    if honest or draw(st.booleans()):
        site.version("Lib", "1.0", {"Lib.xsd": lib}, namespace=f"{NS}:other", status="ratified")
    for name in draw(st.lists(st.sampled_from(["Evil", "Other"]), min_size=1, max_size=2, unique=True)):
        draw(honest_version(site, name) if honest else version_entry(site, marker, name))
    index = site.index()
    shape = 0 if honest else draw(st.integers(0, 9))
    if shape <= 5:
        site.write(index)
    elif shape <= 7:
        site.write(_mutate(index, draw))
    elif shape == 8:
        depth = draw(st.sampled_from([10, 70, 5_000, 100_000]))
        site.write(raw=b'{"format":"egif-registry-index/1","standards":' + b"[" * depth + b"]" * depth + b"}")
    else:
        site.write(raw=draw(st.binary(max_size=64)))
    return honest


def stored_digests(path: Path) -> set[str]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {row[0] for row in db.execute("SELECT digest FROM blobs")}
    finally:
        db.close()


def stored_blobs_match(path: Path) -> bool:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return all(hashlib.sha256(content).hexdigest() == digest
                   for digest, content in db.execute("SELECT digest, content FROM blobs"))
    finally:
        db.close()


@FUZZ
@given(st.data())
def test_pull_of_any_published_tree(world: dict[str, Any], data: st.DataObject) -> None:
    n = next(world["counter"])
    server: StaticServer = world["server"]
    site = EvilSite(world["root"] / "sites" / f"s{n}")
    honest = data.draw(published_tree(site, world["marker"]))
    registry_file = world["root"] / f"consumer-{n}.sqlite"
    shutil.copyfile(world["template"], registry_file)
    before = dump(registry_file)
    url = f"{server.url}s{n}/"
    with Registry.open(registry_file, actor="fuzz", seed=False) as reg, OpenAudit.watch() as seen:
        try:
            result = pull(reg, url, limits=FAST)
        except EgifError as exc:  # anything else is a traceback: the test fails
            message = str(exc)
            assert "\n" not in message and MARKER_TEXT not in message, message
            refused = True
            event(f"refused: {exc.message[:40]}")
        else:
            refused = False
            event(f"pulled {len(result.added)} versions")
    assert touched(seen, world["marker"]) == [], "the marker was opened"
    if refused:
        assert not honest, "an honest tree was refused"
        assert dump(registry_file) == before
    else:
        # everything stored was downloaded from this site and checked against its digest
        assert stored_digests(registry_file) <= site.objects
        assert stored_blobs_match(registry_file)
        assert len(result.added) == len(set(result.added))
    registry_file.unlink()
    shutil.rmtree(site.root)


# -- the command line -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("clifuzz")
    seeded = root / "seeded.sqlite"
    Registry.init(seeded, actor="fuzz").close()
    (root / "bad.xml").write_bytes(b"<a><b></a>")
    (root / "deep.xml").write_bytes(b"<a>" * 5000 + b"</a>" * 5000)
    (root / "ok.xsd").write_bytes(xsd(NS, '<xs:element name="A" type="xs:string"/>'))
    (root / "escape.xsd").write_bytes(xsd(NS, directives='<xs:include schemaLocation="/etc/passwd"/>'))
    (root / "deep.json").write_bytes(b"[" * 100_000)
    (root / "folder").mkdir()
    os.mkfifo(root / "fifo")
    return {"root": root, "seeded": seeded}


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                  click.Command]]:
    ctx = click.Context(group)  # commands are loaded when named: ask through the public API
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*prefix, name))
        elif name != "sample":  # writes big files; covered by its own tests
            yield (*prefix, name), cmd


COMMANDS = list(_commands(cli))


def _values(root: Path) -> list[str]:
    return ["/dev/zero", str(root / "fifo"), str(root / "folder"), str(root / "missing"),
            str(root / "bad.xml"), str(root / "deep.xml"), str(root / "ok.xsd"), str(root / "escape.xsd"),
            str(root / "deep.json"), "", "@", "..", "BS7666@2.0", "BS7666", "BS7666@99.0",
            "x\x1b[2J", "-1", "0", "99999999999999999999", "nan", "http://[::1", "http://127.0.0.1:9/",
            "a=b", "=", "urn:x=BS7666@2.0", "é", "1.0", "-", "BS7666@2.0=x", "*", "[", "**/*.xml",
            str(root / "folder") + "/*"]


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_cli_never_shows_a_traceback(cli_world: dict[str, Any], tmp_path_factory: pytest.TempPathFactory,
                                     data: st.DataObject) -> None:
    root: Path = cli_world["root"]
    values = _values(root)
    path, cmd = data.draw(st.sampled_from(COMMANDS))
    args = list(path)
    for param in cmd.params:
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else data.draw(st.integers(1, 2))
            if param.required or data.draw(st.booleans()):
                args += [data.draw(st.sampled_from(values)) for _ in range(count)]
        elif isinstance(param, click.Option) and param.name != "help" and data.draw(st.integers(0, 3)) == 0:
            args += [param.opts[0]] if param.is_flag else [param.opts[0], data.draw(st.sampled_from(values))]
    registry = tmp_path_factory.mktemp("reg") / "r.sqlite"
    shutil.copyfile(cli_world["seeded"], registry)
    # arguments name files relative to the working folder: a private one per run
    with contextlib.chdir(tmp_path_factory.mktemp("cwd")):
        result = CliRunner().invoke(cli, ["--registry", str(registry), *args], input="")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"egif {' '.join(map(repr, args))} raised {result.exception!r}")
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    event(f"exit {result.exit_code}")


def test_the_cli_fuzzer_reaches_every_command() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"registry pull", "schema add", "lifecycle comment", "validate", "diff", "lint"} <= names
