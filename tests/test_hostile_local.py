"""Hostile local input (issue 17): devices, FIFOs, oversized and deeply nested files, huge schemas.

Every case ends in a one-line refusal naming the input and the limit (exit 2
in the CLI), in bounded time and memory, with the registry unchanged.
"""

from __future__ import annotations

import json
import os
import posixpath
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egif import EgifError, InputError, LifecycleError, Registry, UnsafeInputError
from egif.catalog_html import build_catalogue
from egif.limits import (
    MAX_JSON_DEPTH,
    MAX_SCHEMA_FILE_BYTES,
    check_component_count,
    check_member_paths,
    compiled_component_count,
    count_global_components,
    json_depth,
    loads_json,
    member_path_problem,
)
from egif.publish import build_index
from egif.xmlsafe import read_file

from .hostile_publisher import dump

NS = "urn:egif:test:local"


def small_schema(body: str = '<xs:element name="E" type="xs:string"/>', *, directives: str = "") -> bytes:
    return (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{NS}">'
            f"{directives}{body}</xs:schema>").encode()


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.xsd"
    os.mkfifo(path)
    return path


def one_line(exc: BaseException, *words: str) -> str:
    message = str(exc)
    assert "\n" not in message and len(message) < 400, message
    for word in words:
        assert word in message, message
    return message


# -- non-regular files -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["device", "null", "fifo", "directory", "symlink-to-device"])
def test_schema_add_refuses_what_is_not_a_regular_file(registry: Registry, registry_path: Path,
                                                       fifo: Path, tmp_path: Path, kind: str) -> None:
    target = {"device": Path("/dev/zero"), "null": Path("/dev/null"), "fifo": fifo,
              "directory": tmp_path, "symlink-to-device": tmp_path / "link.xsd"}[kind]
    if kind == "symlink-to-device":
        target.symlink_to("/dev/zero")
    before = dump(registry_path)
    with pytest.raises(InputError) as info:
        registry.add(target, name="X", version="1.0")
    shown = "/dev/zero" if kind == "symlink-to-device" else str(target)  # named as resolved
    one_line(info.value, shown, "directory" if kind == "directory" else "not a regular file")
    assert dump(registry_path) == before


def test_an_include_naming_a_fifo_does_not_wait(registry: Registry, fifo: Path, tmp_path: Path) -> None:
    main = tmp_path / "Main.xsd"
    main.write_bytes(small_schema(directives=f'<xs:include schemaLocation="{fifo.name}"/>'))
    with pytest.raises(EgifError) as info:
        registry.add(main, name="X", version="1.0")
    one_line(info.value, "pipe.xsd")


def test_schema_over_the_size_limit_is_refused_before_reading(registry: Registry, registry_path: Path,
                                                              tmp_path: Path) -> None:
    big = tmp_path / "Big.xsd"
    with big.open("wb") as fh:  # sparse: its size is all that is checked
        fh.truncate(MAX_SCHEMA_FILE_BYTES + 1)
    before = dump(registry_path)
    with pytest.raises(UnsafeInputError) as info:
        registry.add(big, name="X", version="1.0")
    one_line(info.value, "Big.xsd", f"over the limit of {MAX_SCHEMA_FILE_BYTES:,} bytes")
    assert dump(registry_path) == before


def test_read_file_reads_no_more_than_its_limit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_file(path, limit=100) == b"x" * 100
    with pytest.raises(UnsafeInputError, match="over the limit of 99 bytes"):
        read_file(path, limit=99, what="thing")


@pytest.mark.parametrize("args", [
    ["schema", "add", "/dev/zero", "--name", "X", "--version", "1.0"],
    ["schema", "add", "{fifo}", "--name", "X", "--version", "1.0"],
    ["lint", "/dev/zero"],
    ["lint", "{fifo}"],
    ["validate", "{fifo}"],
    ["validate", "/dev/zero"],
    ["validate", "--against-all", "{fifo}"],
    ["diff", "{fifo}", "BS7666@2.0", "--samples", "0"],
], ids=lambda a: " ".join(a))
def test_cli_refuses_devices_and_fifos(egif_cli: Any, registry_path: Path, fifo: Path,
                                       args: list[str]) -> None:
    before = dump(registry_path)
    out = egif_cli(*[a.replace("{fifo}", str(fifo)) for a in args], timeout=60)  # a wait would time out
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    shown = out.stderr + out.stdout
    assert "not a regular file" in shown or "no such schema file" in shown, shown
    assert dump(registry_path) == before


def test_stdin_is_the_way_to_stream(egif_cli: Any) -> None:
    doc = (b'<BS7666Address xmlns="http://www.govtalk.gov.uk/people/bs7666"><PAON><Description>1'
           b"</Description></PAON><StreetDescription>High Street</StreetDescription>"
           b"<Town>Exeter</Town></BS7666Address>")
    out = egif_cli("validate", "-", input=doc)
    assert out.returncode == 0, out.stdout + out.stderr


# -- nesting --------------------------------------------------------------------------------
def test_a_document_read_as_one_tree_is_bounded_in_elements(registry: Registry, egif_cli: Any,
                                                             tmp_path: Path) -> None:
    """A root that is no collection is parsed whole: a gzip file of a few kilobytes holding
    millions of empty elements made a tree of gigabytes; it is refused after a count of its
    tags, before its bytes are read into memory."""
    import gzip

    from egif import Validator
    from egif.limits import MAX_WHOLE_DOCUMENT_MARKUP

    head = b'<BS7666Address xmlns="http://www.govtalk.gov.uk/people/bs7666">'
    bomb = tmp_path / "address.xml.gz"
    bomb.write_bytes(gzip.compress(head + b"<i/>" * (MAX_WHOLE_DOCUMENT_MARKUP + 1) + b"</BS7666Address>"))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(UnsafeInputError) as info:
        Validator.for_version(registry, "BS7666@2.0").check(str(bomb))
    one_line(info.value, "address.xml.gz", f"{MAX_WHOLE_DOCUMENT_MARKUP:,} tags")
    out = egif_cli("validate", str(bomb))
    assert out.returncode == 2 and "over" not in out.stderr and "tags" in out.stdout
    # under the limit the same shape is checked as usual (an error: i is no child of an address)
    ok = tmp_path / "small.xml"
    ok.write_bytes(head + b"<i/>" * 300_000 + b"</BS7666Address>")
    found = Validator.for_version(registry, "BS7666@2.0").check(str(ok))
    assert found.errors and found.errors[0].rule.startswith("xsd:")


def test_deep_json_is_refused_before_decoding() -> None:
    for deep in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000, b"]" * 10 + b"[" * 100_000):
        with pytest.raises(UnsafeInputError) as info:
            loads_json(deep, label="deep.json")
        one_line(info.value, "deep.json", f"more than {MAX_JSON_DEPTH} levels deep")
    assert loads_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH, label="x") is not None


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n,:é'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\a'), inner,
                                                                 max_size=3),
    max_leaves=30)


@given(JSON_VALUES, st.sampled_from(["utf-8", "utf-16", "utf-32-be"]))
def test_json_depth_counts_what_the_decoder_would_descend(value: Any, encoding: str) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert json_depth(text.encode(), limit=100) == _depth(value)
    decoded = loads_json(text.encode(encoding), label="v", max_depth=max(_depth(value), 1))
    assert decoded == value
    if _depth(value) > 1:
        with pytest.raises(UnsafeInputError):
            loads_json(text.encode(encoding), label="v", max_depth=_depth(value) - 1)


@given(st.text(alphabet='[]{}"\\ 1a,:', max_size=60))
def test_the_depth_bound_agrees_with_the_decoder(text: str) -> None:
    """On any text: refused only when the decoder would nest deeper; never a different answer."""
    try:
        expected: Any = json.loads(text)
    except ValueError:
        expected = ValueError
    try:
        got: Any = loads_json(text.encode(), label="t", max_depth=3)
    except UnsafeInputError:
        assert expected is ValueError or _depth(expected) > 3
        return
    except ValueError:
        got = ValueError
    assert got == expected
    assert got is ValueError or _depth(got) <= 3


def test_fixture_manifest_nested_deep_is_a_problem_not_a_crash(registry: Registry, tmp_path: Path) -> None:
    from egif.lifecycle import Lifecycle

    main = tmp_path / "Local-v1-0.xsd"
    main.write_bytes(small_schema())
    registry.add(main, name="Local", version="1.0")
    registry.attach("Local@1.0", "fixture", "manifest.json", b'{"valid": ' + b"[" * 100_000)
    with pytest.raises(LifecycleError) as info:
        Lifecycle(registry).propose("Local@1.0")
    message = str(info.value)  # one line listing every problem, this one among them
    assert "\n" not in message and "manifest.json: refused: the fixture manifest nests more than" in message


# -- names inside a version -------------------------------------------------------------------
@given(st.lists(st.sampled_from([*"ab./\\:\x00\x1b C~é", "con", "..", "\u202e"]), max_size=15)
       .map("".join))
def test_an_accepted_member_path_stays_inside_any_folder(path: str) -> None:
    if member_path_problem(path) is not None:
        return
    assert posixpath.normpath(path) == path and not path.startswith(("/", "../"))
    root = "/srv/version"
    assert posixpath.normpath(posixpath.join(root, path)).startswith(root + "/")
    assert not any(ord(c) < 32 or c in "\\:" for c in path)
    check_member_paths([path])


def test_member_paths_refuse_sets_no_file_system_can_hold() -> None:
    check_member_paths(["a/b.xsd", "a/c.xsd", "b.xsd"])
    for paths, words in ((["a.xsd", "A.XSD"], "differ only in case"), (["a", "a/b"], "file and a folder"),
                         (["x.xsd", "x.xsd"], "twice")):
        with pytest.raises(UnsafeInputError, match=words):
            check_member_paths(paths)


# -- the cost of one huge schema --------------------------------------------------------------
def many_components(n: int, version: str = "1.0", changed: int = -1) -> bytes:
    parts = [f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:b="{NS}" '
             f'targetNamespace="{NS}" version="{version}">']
    for i in range(n // 2):
        top = 11 if i == changed else 10
        parts.append(f'<xs:simpleType name="T{i}"><xs:restriction base="xs:string">'
                     f'<xs:maxLength value="{top}"/></xs:restriction></xs:simpleType>'
                     f'<xs:element name="E{i}" type="b:T{i}"/>')
    parts.append("</xs:schema>")
    return "\n".join(parts).encode()


def test_component_count_check(registry: Registry) -> None:
    resolved = registry.resolve("BS7666@2.0")
    own = count_global_components(resolved.files)
    assert own > 20
    assert compiled_component_count(resolved.xmlschema_schema()) >= own
    check_component_count(own, label="BS7666@2.0")
    with pytest.raises(UnsafeInputError) as info:
        check_component_count(own, label="BS7666@2.0", limit=own - 1)
    one_line(info.value, "BS7666@2.0", f"over the limit of {own - 1:,}")


def test_catalogue_of_an_oversized_schema_lists_a_bounded_part(registry: Registry, tmp_path: Path) -> None:
    for version, changed in (("1.0", -1), ("1.1", 3)):
        path = tmp_path / version / f"Huge-v{version.replace('.', '-')}.xsd"
        path.parent.mkdir()
        path.write_bytes(many_components(400, version, changed))
        registry.add(path, name="Huge", version=version)
    calls: list[Any] = []

    def diff(*args: Any, **kw: Any) -> Any:
        calls.append(args)
        raise RuntimeError("no diff here")

    site = build_catalogue(registry, build_index(registry), diff=diff, max_components=300,
                           max_listed=50)
    page = site.pages["Huge.html"].decode()
    assert not [c for c in calls if "Huge" in c[0].label]
    assert "The diff was not computed" in page and "over the limit of 300" in page
    assert "This version has 400 global components: the first 50 are described" in page
    assert page.count("<details>") <= 2 * 50 + 10
    assert any("Huge@1.0 -> Huge@1.1 skipped" in n for n in site.notes)


@pytest.mark.slow
def test_publishing_a_schema_over_the_component_limit_stays_cheap(registry: Registry,
                                                                  tmp_path: Path) -> None:
    """12,000 components, two versions: no diff, a bounded page (it took minutes and 30 MB)."""
    from egif.publish import publish

    for version, changed in (("1.0", -1), ("1.1", 3)):
        path = tmp_path / version / "Huge.xsd"
        path.parent.mkdir()
        path.write_bytes(many_components(12_000, version, changed))
        registry.add(path, name="Huge", version=version)
    result = publish(registry, tmp_path / "site")
    assert any("over the limit of 10,000" in n for n in result.notes)
    assert (tmp_path / "site" / "catalogue" / "Huge.html").stat().st_size < 2_000_000


def test_schema_show_bounds_the_metadata_block(egif_cli: Any, registry_path: Path, tmp_path: Path) -> None:
    long_value = "word " * 200_000  # 1 MB
    many = "".join(f"<egms:Subject>s{i}</egms:Subject>" for i in range(5_000))
    path = tmp_path / "Meta-v1-0.xsd"
    path.write_bytes(small_schema(
        '<xs:annotation><xs:appinfo><egms:Metadata xmlns:egms="http://www.govtalk.gov.uk/metadata/egms">'
        f"<egms:Description>{long_value}</egms:Description>{many}</egms:Metadata></xs:appinfo>"
        '</xs:annotation><xs:element name="E" type="xs:string"/>'))
    with Registry.open(registry_path) as reg:
        reg.add(path, name="Meta", version="1.0")
    out = egif_cli("schema", "show", "Meta@1.0")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout) < 50_000
    assert "more characters; --format json gives them all" in out.stdout
    assert "4,901 more values not shown" in out.stdout
    full = json.loads(egif_cli("schema", "show", "Meta@1.0", "--format", "json").stdout)
    assert len(full["metadata"]["Subject"]) == 5_000



# -- the documented limits are the enforced ones ----------------------------------------------
def test_security_doc_lists_every_limit_with_its_value() -> None:
    import re

    from egif import limits

    from .conftest import REPO

    doc = (REPO / "docs" / "security.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(MAX_[A-Z_]+)` \| ([^|]+) \|", doc, re.M)}
    constants = {name: getattr(limits, name) for name in dir(limits) if name.startswith("MAX_")}
    assert set(rows) == set(constants)
    for name, value in constants.items():
        assert f"{value:,}" in rows[name] or f"{value} " in rows[name], (name, value, rows[name])
