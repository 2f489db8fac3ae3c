"""A malicious publisher on 127.0.0.1: a pull reads nothing but what it downloaded (issue 17).

Each case is a published tree written by hand (:mod:`tests.hostile_publisher`),
with every digest right so that only the attack can be the reason for a
refusal.  Each must end in one line naming the published registry and the
rule or limit, leave the consumer's registry byte-for-byte as it was, and
never open the marker file that stands for a secret on the consumer's disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from egif import EgifError, Registry
from egif.limits import MAX_IMPORT_DEPTH, MAX_JSON_DEPTH
from egif.remote import PullLimits, PullResult, pull

from .conftest import run_egif
from .hostile_publisher import MARKER_TEXT, EvilSite, OpenAudit, dump, touched, xsd
from .publish_server import StaticServer, serve

FAST = PullLimits(timeout=2.0, retries=0, backoff=0.01, workers=2)
NS = "urn:egif:test:evil"


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "secret" / "marker.xsd"
    path.parent.mkdir()
    # a schema, so that reading it would even "work"
    path.write_bytes(xsd(NS, f"<xs:annotation><xs:documentation>{MARKER_TEXT}</xs:documentation>"
                             "</xs:annotation>"))
    return path


@dataclass(frozen=True)
class LocalMirror:
    """The site as a local mirror: pulled from its file:// URL, with the checks HTTP gets."""

    url: str


@pytest.fixture(params=["http", "file"])
def evil(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[EvilSite, StaticServer | LocalMirror]]:
    site = EvilSite(tmp_path / "site")
    if request.param == "file":
        yield site, LocalMirror(site.root.resolve().as_uri() + "/")
        return
    with serve(site.root) as server:
        yield site, server


@pytest.fixture
def consumer(tmp_path: Path) -> Iterator[tuple[Registry, Path]]:
    path = tmp_path / "consumer.sqlite"
    with Registry.init(path, actor="council@example.org", seed=False) as reg:
        yield reg, path


def pull_refused(consumer: tuple[Registry, Path], url: str, marker: Path, *words: str) -> str:
    """Pull, expect a refusal; check it is one line, names the site and *words*, changed nothing."""
    reg, path = consumer
    before = dump(path)
    with OpenAudit.watch() as seen, pytest.raises(EgifError) as info:
        pull(reg, url, limits=FAST)
    message = str(info.value)
    assert "\n" not in message and len(message) < 600, message
    assert url in message, message
    for word in words:
        assert word in message, message
    assert MARKER_TEXT not in message
    assert touched(seen, marker) == [], f"the marker was opened: {touched(seen, marker)}"
    assert dump(path) == before
    return message


def pull_accepted(consumer: tuple[Registry, Path], url: str, marker: Path) -> PullResult:
    reg, _path = consumer
    with OpenAudit.watch() as seen:
        result = pull(reg, url, limits=FAST)
    assert touched(seen, marker) == []
    return result


def test_audit_really_sees_opens(marker: Path) -> None:
    """The proofs below mean something only if an open of the marker would be seen."""
    with OpenAudit.watch() as seen:
        marker.read_bytes()
    assert touched(seen, marker)
    with OpenAudit.watch() as seen:
        from egif.xmlsafe import read_file

        read_file(marker)
    assert touched(seen, marker)


def test_an_honest_hand_written_site_is_pulled(evil, consumer, marker: Path) -> None:
    """The hand-written trees are right apart from their attack: this one has none."""
    site, server = evil
    site.version("Parts", "1.0", {"Types.xsd": xsd(NS, '<xs:simpleType name="T">'
                                                             '<xs:restriction base="xs:string"/>'
                                                             "</xs:simpleType>")})
    site.version("Evil", "1.0", {
        "Main.xsd": xsd(NS, '<xs:element name="E" type="xs:string"/>',
                        directives='<xs:include schemaLocation="sub/Inc.xsd"/>'),
        "sub/Inc.xsd": xsd(NS, '<xs:element name="F" type="xs:string"/>',
                           directives='<xs:include schemaLocation="../Leaf.xsd"/>'),
        "Leaf.xsd": xsd(NS, '<xs:element name="G" type="xs:string"/>')})
    site.write()
    result = pull_accepted(consumer, server.url, marker)
    assert sorted(result.added) == ["Evil@1.0", "Parts@1.0"]
    reg, _ = consumer
    reg.resolve("Evil@1.0").lxml_schema()


# -- paths from the index are names inside the version -------------------------------------
BAD_PATHS = {
    "/dev/zero": "absolute path",
    "/etc/passwd": "absolute path",
    "../../outside.xsd": "segment '..'",
    "a/../../b.xsd": "segment '..'",
    "./a.xsd": "segment '.'",
    "a//b.xsd": "segment ''",
    "a/": "segment ''",
    "C:/Windows/win.ini": "drive letter",
    "c:evil.xsd": "drive letter",
    "file:///etc/passwd": "drive letter or URL",
    "a\\..\\b.xsd": "backslash",
    "evil\x00.xsd": "U+0000",
    "evil\x1b[2J.xsd": "U+001B",
    "CON": "device name",
    "aux.xsd": "device name",
    "sub/LPT1.txt.xsd": "device name",
    "trailing.": "ending in a dot",
    "x" * 300 + ".xsd": "over 255 bytes",
    "/".join(["d"] * 40) + ".xsd": "40 segments",
}


@pytest.mark.parametrize("bad", sorted(BAD_PATHS))
@pytest.mark.parametrize("where", ["main", "file", "bundled"])
def test_unsafe_paths_in_the_index_are_refused(evil, consumer, marker: Path, bad: str,
                                               where: str) -> None:
    site, server = evil
    good = xsd(NS, '<xs:element name="E" type="xs:string"/>')
    if where == "main":
        site.version("Evil", "1.0", {"Main.xsd": good}, main=bad)
    elif where == "file":
        site.version("Evil", "1.0", {bad: good})
    else:
        site.version("Evil", "1.0", {"Main.xsd": good},
                     imports=[{"namespace": "urn:other", "target": None, "bundled_path": bad}])
    site.write()
    pull_refused(consumer, server.url, marker, "unsafe file path", BAD_PATHS[bad])


@pytest.mark.parametrize(("paths", "words"), [
    (["A.xsd", "a.xsd"], "differ only in case"),
    (["x.xsd", "x.xsd/y.xsd"], "both a file and a folder"),
])
def test_file_sets_no_disk_could_hold_are_refused(evil, consumer, marker: Path, paths: list[str],
                                                  words: str) -> None:
    site, server = evil
    files = {p: xsd(NS, f'<xs:element name="E{i}" type="xs:string"/>') for i, p in enumerate(paths)}
    site.version("Evil", "1.0", files)
    site.write()
    pull_refused(consumer, server.url, marker, words)


def test_main_file_must_be_one_of_the_files(evil, consumer, marker: Path) -> None:
    site, server = evil
    site.version("Evil", "1.0", {"Main.xsd": xsd(NS)}, main="Other.xsd")
    site.write()
    pull_refused(consumer, server.url, marker, "'Other.xsd' is not among its files")


# -- what the downloaded schemas name ------------------------------------------------------
def _locations(marker: Path) -> dict[str, str]:
    return {
        "absolute": str(marker),
        "file-url": marker.as_uri(),
        "climbing": "../" * 12 + str(marker).lstrip("/"),
        "http": "http://127.0.0.1:9/x.xsd",
        "missing": "NotPublished.xsd",
        "backslash": "sub\\Inc.xsd",
    }


@pytest.mark.parametrize("case", ["absolute", "file-url", "climbing", "http", "missing", "backslash"])
@pytest.mark.parametrize("kind", ["include", "redefine", "override"])
def test_includes_must_name_downloaded_files(evil, consumer, marker: Path, case: str,
                                             kind: str) -> None:
    site, server = evil
    loc = _locations(marker)[case]
    main = xsd(NS, '<xs:element name="E" type="xs:string"/>',
               directives=f'<xs:{kind} schemaLocation="{loc}"/>')
    site.version("Evil", "1.0", {"Main.xsd": main, "sub/Inc.xsd": xsd(NS)})
    site.write()
    words = {"absolute": "is not a relative path inside the set", "file-url": "points to the network",
             "climbing": "points outside the set", "http": "points to the network", "missing": "not found",
             "backslash": "is not a relative path inside the set"}[case]
    pull_refused(consumer, server.url, marker, "Evil@1.0 from the publisher cannot be stored", words)


@pytest.mark.parametrize("case", ["absolute", "file-url", "climbing", "http", "missing"])
def test_imports_must_be_bound_by_the_index(evil, consumer, marker: Path, case: str) -> None:
    site, server = evil
    loc = _locations(marker)[case]
    main = xsd(NS, '<xs:element name="E" type="xs:string"/>',
               directives=f'<xs:import namespace="{NS}:other" schemaLocation="{loc}"/>')
    site.version("Evil", "1.0", {"Main.xsd": main})
    site.write()
    pull_refused(consumer, server.url, marker, "binds neither to a version nor to one of its files")


def test_a_bound_import_never_follows_its_location(evil, consumer, marker: Path) -> None:
    """Bound to a downloaded file, an import whose hint names the marker still reads only the download."""
    site, server = evil
    other = xsd(f"{NS}:other", '<xs:element name="O" type="xs:string"/>')
    main = xsd(NS, '<xs:element name="E" type="xs:string"/>',
               directives=f'<xs:import namespace="{NS}:other" schemaLocation="Other.xsd"/>')
    site.version("Evil", "1.0", {"Main.xsd": main, "Other.xsd": other},
                 imports=[{"namespace": f"{NS}:other", "target": None, "bundled_path": "Other.xsd"}])
    site.write()
    assert pull_accepted(consumer, server.url, marker).added == ["Evil@1.0"]


def test_a_doctype_in_a_downloaded_schema_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    main = (f'<?xml version="1.0"?><!DOCTYPE xs:schema [<!ENTITY s SYSTEM "{marker.as_uri()}">]>'
            f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{NS}">'
            '<xs:element name="E" type="xs:string" default="&s;"/></xs:schema>').encode()
    site.version("Evil", "1.0", {"Main.xsd": main})
    site.write()
    pull_refused(consumer, server.url, marker, "entit")


# -- structure and size limits ----------------------------------------------------------------
def test_index_nested_100000_deep_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    site.write(raw=b'{"format": "egif-registry-index/1", "standards": ' + b"[" * 100_000
               + b"]" * 100_000 + b"}")
    pull_refused(consumer, server.url + "index.json", marker,
                 f"more than {MAX_JSON_DEPTH} levels deep (the limit)")


def test_truncated_deep_index_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    site.write(raw=b'{"standards": ' + b'[{"a": ' * 50_000)
    pull_refused(consumer, server.url, marker, "levels deep (the limit)")


def test_history_nested_deep_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    site.version("Evil", "1.0", {"Main.xsd": xsd(NS)})
    index = site.index()
    deep = b"[" * 100_000 + b"]" * 100_000
    index["standards"][0]["history"]["digest"] = site.put(deep)
    site.write(index)
    pull_refused(consumer, server.url, marker, "the history of Evil", "levels deep (the limit)")


def _chain(site: EvilSite, length: int) -> None:
    """Link0 imports Link1 imports ... Link<length-1>, each a version of its own."""
    for i in range(length):
        ns = f"{NS}:link{i}"
        directives = imports = ""
        bindings: list[dict[str, Any]] = []
        if i + 1 < length:
            nxt = f"{NS}:link{i + 1}"
            directives = f'<xs:import namespace="{nxt}"/>'
            imports = f' xmlns:n="{nxt}"'
            bindings = [{"namespace": nxt, "target": f"Link{i + 1}@1.0", "bundled_path": None}]
        body = f'<xs:element name="L{i}" type="xs:string"/>'
        data = xsd(ns, body, directives=directives).replace(b"<xs:schema ", f"<xs:schema{imports} ".encode())
        site.version(f"Link{i}", "1.0", {f"Link{i}.xsd": data}, imports=bindings)


def test_a_chain_of_imports_over_the_limit_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    _chain(site, 2000)  # a recursive walk failed at about 1,000
    site.write()
    pull_refused(consumer, server.url, marker, f"a chain of more than {MAX_IMPORT_DEPTH} versions")


@pytest.mark.slow
def test_a_chain_of_imports_at_the_limit_is_pulled(evil, consumer, marker: Path) -> None:
    site, server = evil
    _chain(site, MAX_IMPORT_DEPTH)
    site.write()
    result = pull_accepted(consumer, server.url, marker)
    assert len(result.added) == MAX_IMPORT_DEPTH
    consumer[0].resolve("Link0@1.0").lxml_schema()


def test_an_import_cycle_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    for i in range(3):
        nxt = (i + 1) % 3
        site.version(f"Ring{i}", "1.0", {f"Ring{i}.xsd": xsd(f"{NS}:ring{i}")},
                     imports=[{"namespace": f"{NS}:ring{nxt}", "target": f"Ring{nxt}@1.0",
                               "bundled_path": None}])
    site.write()
    pull_refused(consumer, server.url, marker, "import cycle", "Ring0@1.0 -> Ring1@1.0")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("title", {"nested": True}, "'title' is not a string"),
    ("successor", "../2.0", "invalid version"),
    ("name", "Evil\n", "invalid schema name"),
    ("version", "1.0\n", "invalid version"),
    ("status", "ratified\x1b[2J", "unknown status"),
    ("attachments", [{"kind": "../x", "name": "a", "digest": "0" * 64}], "is not a plain word"),
    ("attachments", [{"kind": "fixture", "name": "/etc/passwd", "digest": "0" * 64}], "absolute path"),
])
def test_malformed_version_fields_are_refused(evil, consumer, marker: Path, field: str, value: Any,
                                              words: str) -> None:
    site, server = evil
    entry = site.version("Evil", "1.0", {"Main.xsd": xsd(NS)})
    entry[field] = value
    site.write()
    pull_refused(consumer, server.url, marker, words)


def test_a_version_listed_twice_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    site.version("Evil", "1.0", {"Main.xsd": xsd(NS)})
    site.version("Evil", "1.0", {"Other.xsd": xsd(NS)})
    site.write()
    pull_refused(consumer, server.url, marker, "Evil@1.0 is listed twice")


def test_an_oversized_object_is_refused(evil, consumer, marker: Path) -> None:
    site, server = evil
    site.version("Evil", "1.0", {"Main.xsd": xsd(NS, "<!--" + "x" * 5000 + "-->")})
    site.write()
    reg, path = consumer
    before = dump(path)
    with pytest.raises(EgifError, match="over the limit of 1000 bytes") as info:
        pull(reg, server.url, limits=PullLimits(timeout=2.0, retries=0, max_file_bytes=1000))
    assert "\n" not in str(info.value)
    assert dump(path) == before


def test_a_publisher_trickling_bytes_is_given_up_on(consumer) -> None:
    """Each byte within the read timeout, the whole never: one file may take *deadline*."""
    import http.server
    import threading
    import time

    stop = threading.Event()

    class Drip(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            while not stop.is_set():
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.1)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Drip)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    reg, path = consumer
    before = dump(path)
    started = time.monotonic()
    try:
        with pytest.raises(EgifError, match="too slow") as info:
            pull(reg, f"http://127.0.0.1:{server.server_address[1]}/",
                 limits=PullLimits(timeout=1.0, deadline=1.5, retries=0))
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
    assert time.monotonic() - started < 10
    assert "\n" not in str(info.value)
    assert dump(path) == before


def test_redirects_are_followed_only_within_the_publishers_origin(consumer) -> None:
    """A publisher may move its files on its own server, but may not aim the consumer's
    requests at another host or port (its internal network included)."""
    import http.server
    import threading

    hits: list[str] = []

    class Other(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Other)
    target = f"http://127.0.0.1:{other.server_address[1]}"

    class Mover(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            # the index moves within the site first, then off it
            self.send_header("Location", "/moved/index.json" if self.path == "/index.json" else target + "/x")
            self.end_headers()

    mover = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mover)
    servers = [other, mover]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    reg, path = consumer
    before = dump(path)
    try:
        with pytest.raises(EgifError, match="another origin") as info:
            pull(reg, f"http://127.0.0.1:{mover.server_address[1]}/", limits=FAST)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    # the move within the site was followed, the one off it was not
    assert "/moved/index.json" in str(info.value) and target in str(info.value)
    assert hits == []
    assert dump(path) == before


# -- what a publisher's history may do here ---------------------------------------------------
def test_publisher_approvals_do_not_count_in_a_local_consultation(evil, consumer, marker: Path) -> None:
    from egif.config import ConfigEditor
    from egif.lifecycle import Lifecycle

    site, server = evil
    history = [{"kind": "propose", "actor": "alice", "data": {"closes_at": "2000-01-01T00:00:00+00:00"}},
               {"kind": "approve", "actor": "alice", "data": {"reason": "fine"}},
               {"kind": "approve", "actor": "bob", "data": {"reason": "fine"}}]
    site.version("Evil", "1.0", {"Main.xsd": xsd(NS)}, status="candidate", history=history)
    site.write()
    reg, _ = consumer
    ConfigEditor(Registry(reg.store, actor="alice")).add_maintainer("alice")
    pull_accepted(consumer, server.url, marker)
    copied = [e for e in reg.events(name="Evil", version="1.0") if e.kind == "approve"]
    assert [e.actor for e in copied] == ["alice", "bob"]  # kept as the publisher's record
    consultation = Lifecycle(Registry(reg.store, actor="alice")).consultation("Evil@1.0")
    assert consultation.approvals == ()


def test_cli_pull_refusal_is_one_line_exit_2(evil, tmp_path: Path, marker: Path) -> None:
    site, server = evil
    site.version("Evil", "1.0", {"Main.xsd": xsd(NS)}, main="/dev/zero")
    site.write()
    registry = tmp_path / "cli.sqlite"
    Registry.init(registry, seed=False).close()
    before = dump(registry)
    out = run_egif("registry", "pull", server.url, "--retries", "0", registry=registry, timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("egif: error: ")
    assert "Traceback" not in out.stderr and "absolute path '/dev/zero'" in out.stderr
    assert dump(registry) == before


def test_index_lists_the_same_data_it_was_given(evil) -> None:
    """The helper's index is what it claims: a sanity check of the hand-written trees."""
    site, _server = evil
    site.version("Evil", "1.0", {"Main.xsd": xsd(NS)})
    body = site.write()
    assert json.loads(body)["standards"][0]["versions"][0]["main"] == "Main.xsd"
