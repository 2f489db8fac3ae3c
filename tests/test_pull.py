"""Publishing a registry as static files and pulling it over real HTTP (issue 7)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egif import EgifError, Registry, Status, TamperedError
from egif.errors import NotFound
from egif.publish import object_path, publish
from egif.remote import PullLimits, RemoteError, normalise_url, parse_index, pull

from .conftest import run_egif
from .hostile_publisher import dump
from .publish_server import StaticServer, serve

FAST = PullLimits(timeout=2.0, retries=1, backoff=0.01, workers=4)
WIDGET_NS = "urn:egif:test:widget"


def widget_xsd(folder: Path, version: str, extra: str = "") -> Path:
    """A small two-file schema importing the BS 7666 namespace."""
    major, minor = version.split(".")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parts").mkdir(exist_ok=True)
    (folder / "parts" / f"WidgetParts-v{major}-{minor}.xsd").write_text(f"""<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="{WIDGET_NS}"
  elementFormDefault="qualified" version="{version}">
  <xsd:simpleType name="ColourType"><xsd:restriction base="xsd:string">
    <xsd:enumeration value="red"/><xsd:enumeration value="blue"/>{extra}
  </xsd:restriction></xsd:simpleType>
</xsd:schema>
""")
    main = folder / f"Widget-v{major}-{minor}.xsd"
    main.write_text(f"""<?xml version="1.0"?>
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:w="{WIDGET_NS}"
  xmlns:bs7666="http://www.govtalk.gov.uk/people/bs7666" targetNamespace="{WIDGET_NS}"
  elementFormDefault="qualified" version="{version}">
  <xsd:annotation><xsd:documentation>A widget delivered to a BS 7666 address.</xsd:documentation>
  </xsd:annotation>
  <xsd:import namespace="http://www.govtalk.gov.uk/people/bs7666" schemaLocation="BS7666-v2-0.xsd"/>
  <xsd:include schemaLocation="parts/WidgetParts-v{major}-{minor}.xsd"/>
  <xsd:element name="Widget">
    <xsd:annotation><xsd:documentation>One widget and where it goes.</xsd:documentation>
    </xsd:annotation>
    <xsd:complexType><xsd:sequence>
      <xsd:element name="Colour" type="w:ColourType"/>
      <xsd:element ref="bs7666:BS7666Address" minOccurs="0"/>
    </xsd:sequence></xsd:complexType>
  </xsd:element>
</xsd:schema>
""")
    return main


@pytest.fixture
def published(registry: Registry, tmp_path: Path) -> Iterator[tuple[Registry, Path, StaticServer]]:
    """A seeded publisher with one extra standard, published and served."""
    registry._add(widget_xsd(tmp_path / "w1", "1.0"), name="Widget", version="1.0", status="ratified",
                  via="test set-up")
    site = tmp_path / "site"
    publish(registry, site, catalogue=False)
    with serve(site) as server:
        yield registry, site, server


@pytest.fixture
def consumer(tmp_path: Path) -> Iterator[tuple[Registry, Path]]:
    path = tmp_path / "consumer.sqlite"
    with Registry.init(path, actor="council@example.org", seed=False) as reg:
        yield reg, path


def test_full_pull_copies_versions_statuses_and_history(published, consumer) -> None:
    publisher, _site, server = published
    reg, _ = consumer
    result = pull(reg, server.url, limits=FAST)
    expected = {(v.name, v.version): (v.digest, v.status) for v in publisher.list()}
    got = {(v.name, v.version): (v.digest, v.status) for v in reg.list()}
    assert got == expected
    assert sorted(result.added) == sorted(f"{n}@{v}" for n, v in expected)
    assert reg.get("BS7666@1.0").status is Status.DEPRECATED
    # the pulled schema works offline, imports bound as the publisher bound them
    widget = reg.get("Widget@1.0")
    assert [str(b.target) for b in widget.imports] == ["BS7666@2.0"]
    reg.resolve("Widget@1.0").lxml_schema()
    # the publisher's history came along, marked with where it came from
    copied = [e for e in reg.events(name="Widget", version="1.0") if "origin" in e.data]
    assert [e.actor for e in copied] == ["tester@example.org"]
    assert copied[0].data["origin"]["url"] == server.url
    assert copied[0].data["origin"]["index_sha256"] == result.index_sha256
    pulls = list(reg.events(kinds=("pull",)))
    assert len(pulls) == 1 and "Widget@1.0" in pulls[0].data["added"]


def test_unchanged_registry_costs_one_conditional_request(published, consumer) -> None:
    _publisher, _site, server = published
    reg, path = consumer
    pull(reg, server.url, limits=FAST)
    before = dump(path)
    server.clear()
    result = pull(reg, server.url, limits=FAST)
    assert result.unchanged
    assert server.log == [("index.json", 304)]
    assert dump(path) == before


def test_incremental_pull_fetches_only_new_objects(published, consumer, tmp_path: Path) -> None:
    publisher, site, server = published
    reg, _ = consumer
    pull(reg, server.url, limits=FAST)
    publisher._add(widget_xsd(tmp_path / "w2", "2.0", '<xsd:enumeration value="green"/>'),
                   name="Widget", version="2.0", status="candidate", via="test set-up")
    with publisher.store.transaction():
        row = publisher.store.find_version("Widget", "1.0")
        assert row is not None
        publisher.store.set_status(row["id"], "deprecated", "2.0")
        publisher.record_event("status", name="Widget", version="1.0",
                               data={"from": "ratified", "to": "deprecated"})
    publish(publisher, site, catalogue=False)
    server.clear()
    result = pull(reg, server.url, limits=FAST)
    assert result.added == ["Widget@2.0"]
    assert result.status_changed == [("Widget@1.0", "ratified", "deprecated")]
    assert reg.get("Widget@1.0").status is Status.DEPRECATED
    assert reg.get("Widget@1.0").successor == "2.0"
    objects = [p for p, _ in server.log if p.startswith("objects/")]
    # the two new files of Widget 2.0 and the Widget history: nothing already held
    assert len(objects) == 3 == len(set(objects))
    assert result.fetched_files == 3
    assert any(e.kind == "pulled-status" and e.data.get("origin") for e in reg.events(name="Widget"))


@pytest.mark.parametrize(("target", "fault", "words"), [
    ("object", "corrupt", "does not match its digest"),
    ("object", "truncate", "truncated"),
    ("object", "slow", "no data within"),
    ("object", "404", "HTTP 404"),
    ("object", "drop", "connection"),
    ("index.json", "500", "HTTP 500"),
    ("index.json", "drop", "connection"),
    ("index.json", "truncate", "truncated"),
    ("index.json", "slow", "no data within"),
    ("index.json", "404", "HTTP 404"),
])
def test_faulty_server_changes_nothing(published, consumer, target: str, fault: str,
                                       words: str) -> None:
    publisher, _site, server = published
    reg, path = consumer
    server.slow_seconds = 3.0
    prefix = object_path(publisher.get("Widget@1.0").files[0].digest) if target == "object" else target
    server.fault(prefix, fault)
    before = dump(path)
    limits = PullLimits(timeout=0.5, retries=1, backoff=0.01, workers=4)
    with pytest.raises(EgifError) as err:
        pull(reg, server.url, limits=limits)
    assert words in str(err.value)
    assert "\n" not in str(err.value)
    assert dump(path) == before
    # once the server behaves, the same pull succeeds
    server.clear()
    assert "Widget@1.0" in pull(reg, server.url, limits=FAST).added


def test_transient_failure_is_retried(published, consumer) -> None:
    _publisher, _site, server = published
    reg, _ = consumer
    server.fault("index.json", "500", times=1)
    result = pull(reg, server.url, limits=FAST)
    assert "Widget@1.0" in result.added
    assert [c for p, c in server.log if p == "index.json"] == [500, 200]


def test_index_lying_about_a_version_digest_is_refused(published, consumer) -> None:
    _publisher, site, server = published
    reg, path = consumer
    index = json.loads((site / "index.json").read_text())
    for std in index["standards"]:
        for v in std["versions"]:
            if v["name"] == "Widget":
                v["digest"] = "0" * 64
    (site / "index.json").write_text(json.dumps(index))
    before = dump(path)
    with pytest.raises(TamperedError, match=r"Widget@1\.0"):
        pull(reg, server.url, limits=FAST)
    assert dump(path) == before


def test_local_draft_is_never_overwritten(published, seeded_registry_file: Path, tmp_path: Path) -> None:
    _publisher, _site, server = published
    local_path = tmp_path / "local.sqlite"
    shutil.copyfile(seeded_registry_file, local_path)
    with Registry.open(local_path, actor="council") as local:
        # the council has its own draft Widget 1.0, with other content
        local.add(widget_xsd(tmp_path / "mine", "1.0", '<xsd:enumeration value="pink"/>'),
                  name="Widget", version="1.0")
        mine = local.get("Widget@1.0")
        result = pull(local, server.url, limits=FAST)
        kept = local.get("Widget@1.0")
        assert (kept.digest, kept.status) == (mine.digest, Status.DRAFT)
        assert [r for r, _ in result.kept_local] == ["Widget@1.0"]
        assert "differs from the publisher" in result.kept_local[0][1]
        assert result.added == []
        assert result.already_present == len(local.list()) - 1


def test_pin_accepts_only_that_registry_state(published, consumer, tmp_path: Path) -> None:
    publisher, site, server = published
    reg, path = consumer
    pinned = (site / "index.sha256").read_text().split()[0]
    # the publisher moves on; a pinned pull still gets the pinned state
    publisher.add(widget_xsd(tmp_path / "w2", "2.0", '<xsd:enumeration value="green"/>'),
                  name="Widget", version="2.0")
    publish(publisher, site, catalogue=False)
    result = pull(reg, server.url, pin=pinned, limits=FAST)
    assert result.index_sha256 == pinned
    assert "Widget@2.0" not in result.added
    before = dump(path)
    with pytest.raises(NotFound, match="no published state with that SHA-256: " + "ab" * 32):
        pull(reg, server.url, pin="AB" * 32, limits=FAST)
    snap = site / "snapshots" / f"{pinned}.json"
    snap.write_bytes(snap.read_bytes().replace(b'"ratified"', b'"draft"', 1))
    with pytest.raises(TamperedError, match="not the pinned"):
        pull(reg, server.url, pin=pinned, limits=FAST)
    assert dump(path) == before


def test_republish_is_incremental(registry: Registry, tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = publish(registry, site, catalogue=False)
    stamp = (site / "index.json").stat().st_mtime_ns
    again = publish(registry, site, catalogue=False)
    assert first.changed and not again.changed
    assert again.objects_written == 0
    assert again.objects_kept == first.objects_written + first.objects_kept
    assert again.index_sha256 == first.index_sha256
    assert (site / "index.json").stat().st_mtime_ns == stamp
    registry.add(widget_xsd(tmp_path / "w1", "1.0"), name="Widget", version="1.0")
    third = publish(registry, site, catalogue=False)
    assert third.changed and third.objects_written == 4  # two files, Widget history, the log segment
    index = json.loads((site / "index.json").read_bytes())
    assert index["previous"] == first.index_sha256
    # every object the old index names is still there for readers holding it
    old = json.loads((site / "snapshots" / f"{first.index_sha256}.json").read_bytes())
    for std in old["standards"]:
        for v in std["versions"]:
            for f in v["files"]:
                assert (site / object_path(f["digest"])).is_file()
    assert (site / "index.sha256").read_text().split()[0] == third.index_sha256


def test_cli_publish_and_pull(egif_cli, tmp_path: Path) -> None:
    site = tmp_path / "site"
    out = egif_cli("registry", "publish", str(site), "--no-catalogue")
    assert out.returncode == 0, out.stderr
    assert "index sha256:" in out.stdout
    consumer = tmp_path / "c.sqlite"
    assert run_egif("registry", "init", str(consumer)).returncode == 0  # a named registry is made on purpose
    with serve(site) as server:
        first = run_egif("registry", "pull", server.url, "--format", "json", registry=consumer)
        assert first.returncode == 0, first.stderr
        assert len(json.loads(first.stdout)["added"]) >= 1 or json.loads(first.stdout)["already_present"]
        second = run_egif("registry", "pull", server.url, registry=consumer)
        assert second.returncode == 0 and second.stdout.startswith("up to date"), second.stdout
        server.fault("index.json", "500")
        failed = run_egif("registry", "pull", server.url, "--retries", "0", registry=consumer)
    assert failed.returncode == 2
    assert failed.stderr.startswith("egif: error: ") and "HTTP 500" in failed.stderr
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    bad = run_egif("registry", "pull", "ftp://example.org/x", registry=consumer)
    assert bad.returncode == 2 and "not an http(s) URL" in bad.stderr


def test_malformed_index_is_refused(published, consumer) -> None:
    _publisher, site, server = published
    reg, path = consumer
    before = dump(path)
    index = json.loads((site / "index.json").read_text())
    index["standards"][0]["versions"][0]["files"][0]["path"] = "../../etc/passwd"
    (site / "index.json").write_text(json.dumps(index))
    with pytest.raises(RemoteError, match="unsafe file path"):
        pull(reg, server.url, limits=FAST)
    (site / "index.json").write_text("[1, 2]")
    with pytest.raises(RemoteError, match="not an egif registry index"):
        pull(reg, server.url, limits=FAST)
    assert dump(path) == before


@given(st.lists(st.sampled_from(["a", "b", "..", ".", "", "x.xsd"]), min_size=1, max_size=5))
def test_index_paths_are_accepted_only_when_inside_the_version(parts: list[str]) -> None:
    path = "/".join(parts)
    index = {"format": "egif-registry-index/1", "standards": [{
        "name": "S", "history": {"digest": "a" * 64}, "versions": [{
            "name": "S", "version": "1.0", "status": "draft", "digest": "b" * 64, "main": path,
            "imports": [], "files": [{"path": path, "digest": "c" * 64}]}]}]}
    safe = all(p not in ("", ".", "..") for p in parts)
    try:
        parse_index(json.dumps(index).encode(), "u")
        accepted = True
    except RemoteError:
        accepted = False
    assert accepted == safe


@given(st.sampled_from(["http", "https"]), st.from_regex(r"[a-z]{1,8}(:[0-9]{2,4})?", fullmatch=True),
       st.sampled_from(["", "/", "/reg", "/reg/", "/reg/index.json"]))
def test_url_normalisation_gives_the_tree_base(scheme: str, host: str, path: str) -> None:
    base = normalise_url(f"{scheme}://{host}{path}")
    assert base.endswith("/") and not base.endswith("index.json/")
    assert normalise_url(base) == base


def test_publisher_status_reaches_seeded_versions_but_not_local_drafts(
        published, seeded_registry_file: Path, tmp_path: Path) -> None:
    publisher, site, server = published
    with publisher.store.transaction():
        row = publisher.store.find_version("GazetteerExtract", "1.0")
        assert row is not None and row["status"] != "deprecated"
        publisher.store.set_status(row["id"], "deprecated")
    publish(publisher, site, catalogue=False)
    local_path = tmp_path / "local.sqlite"
    shutil.copyfile(seeded_registry_file, local_path)
    with Registry.open(local_path, actor="council") as local:
        # the same Widget content, but here it is the council's own draft
        local.add(widget_xsd(tmp_path / "same", "1.0"), name="Widget", version="1.0")
        result = pull(local, server.url, limits=FAST)
        assert local.get("GazetteerExtract@1.0").status is Status.DEPRECATED
        assert ("GazetteerExtract@1.0", row["status"], "deprecated") in result.status_changed
        assert local.get("Widget@1.0").status is Status.DRAFT
        assert result.added == [] and result.kept_local == []
        moved = [e for e in local.events(name="GazetteerExtract", version="1.0")
                 if e.kind == "pulled-status"]
        assert len(moved) == 1 and moved[0].data["origin"]["url"] == server.url
