"""The store's batched reads and writes give what the one-at-a-time ones give, on both stores.

A registry on a server pays a round trip per question, so the registry asks in
batches: a version's whole closure at once (``Store.closure``), many stored
files at once (``get_blobs`` / ``put_blobs``), and ``add`` builds the version it
returns from what it has just written instead of reading it back.  Each batch
is checked here against the plain reads it replaces, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from egif import NotFound, Registry
from egif.store.base import Store

from .conftest import DATA, Backend

MULTI = DATA / "multifile"


def walk(store: Store, version_id: int) -> dict[int, dict[str, Any]]:
    """The closure the slow way: one version, one binding at a time."""
    found: dict[int, dict[str, Any]] = {}
    todo = [version_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found[current] = store.version_by_id(current)
        bound = [b["target_version_id"] for b in store.version_imports(current)]
        bound += [d["target_version_id"] for d in store.version_directives(current)]
        todo += [int(t) for t in bound if t is not None]
    return found


def test_closure_is_every_bound_version_once_with_its_add_record(any_registry: Registry) -> None:
    store = any_registry.store
    versions = store.list_versions()
    assert any(store.version_imports(int(v["id"])) for v in versions), "the seeded registry has imports"
    deepest = 0
    for v in versions:
        expected = walk(store, int(v["id"]))
        got = store.closure([int(v["id"])])
        assert sorted(int(r["id"]) for r in got) == sorted(expected), v["name"]
        for row in got:
            recorded = row.pop("add_event")
            assert row == expected[int(row["id"])]
            first = next(store.iter_events(name=row["name"], version=row["version"], kinds=("add",)), None)
            assert recorded == (first["data"] if first else None)
            assert recorded is not None and recorded["digest"] == row["digest"]
            # the details the closure kept (on a server) are the ones asked for afterwards
            assert store.version_files(int(row["id"])) == any_registry.store.version_files(int(row["id"]))
        deepest = max(deepest, len(got))
    assert deepest >= 3, "some version binds another that binds a third"
    # roots named instead of numbered give the same; names not registered are left out
    for v in versions[:20]:
        by_name = store.closure(refs=[(v["name"], v["version"]), ("NoSuchStandard", "1.0")])
        assert sorted(int(r["id"]) for r in by_name) == sorted(walk(store, int(v["id"])))
    # several roots at once: the union, each version once
    ids = [int(v["id"]) for v in versions[:5]]
    union = set().union(*(walk(store, i) for i in ids))
    got_ids = [int(r["id"]) for r in store.closure(ids)]
    assert sorted(got_ids) == sorted(union) and len(got_ids) == len(set(got_ids))


def test_blobs_in_batches(any_empty_registry: Registry, backend: Backend) -> None:
    store = backend.admin(any_empty_registry).store
    contents = [b"<a/>", b"<b/>", "<c>\u00e9</c>".encode()]
    digests = [hashlib.sha256(c).hexdigest() for c in contents]
    with store.transaction():
        store.put_blobs(dict(zip(digests, contents, strict=True)))
        store.put_blobs({digests[0]: contents[0]})  # already stored: left as it is
    assert store.get_blobs([*digests, digests[1]]) == dict(zip(digests, contents, strict=True))
    assert all(store.get_blob(d) == c for d, c in zip(digests, contents, strict=True))
    assert store.get_blobs([]) == {}
    missing = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(NotFound, match=missing):
        store.get_blobs([digests[0], missing])


def test_add_returns_the_version_as_it_reads_back(any_empty_registry: Registry) -> None:
    reg = any_empty_registry
    beta = reg.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version="1.0")
    gamma = reg.add(MULTI / "c" / "Gamma-v1-0.xsd", name="Gamma", version="1.0")
    alpha = reg.add(MULTI / "a" / "Alpha-v1-0.xsd", name="Alpha", version="1.0",
                    imports={"urn:egif:test:b": "Beta@1.0", "urn:egif:test:c": "Gamma@1.0"})
    assert alpha.created and len(alpha.version.files) == 2
    assert {str(b.target) for b in alpha.version.imports} == {"Beta@1.0", "Gamma@1.0"}
    assert any(d.target is not None for d in alpha.version.directives)
    for added in (beta, gamma, alpha):
        assert added.version == reg.get(added.version.ref)
    # and the same from a fresh connection, nothing kept in memory
    again = Registry(reg.store, actor=reg.actor)
    assert again.get("Alpha@1.0") == alpha.version


def test_validation_view_is_get_and_resolve_in_fewer_reads(any_registry: Registry) -> None:
    reg = any_registry
    for v in reg.list():
        if not v.imports:
            continue
        version, resolved, closure = Registry(reg.store, actor=reg.actor)._validation_view(v.ref)
        assert version == reg.get(v.ref)
        plain = Registry(reg.store, actor=reg.actor).resolve(v.ref)
        assert resolved.main == plain.main and resolved.files == plain.files
        assert set(closure) == {f"{r['name']}@{r['version']}" for r in walk(reg.store, _id(reg, v)).values()}
        assert all(closure[k] == reg.get(k) for k in closure)


def _id(reg: Registry, v: Any) -> int:
    row = reg.store.find_version(v.name, v.version)
    assert row is not None
    return int(row["id"])


def test_inserting_a_registered_name_and_version_stores_nothing(any_empty_registry: Registry,
                                                                backend: Backend) -> None:
    reg = any_empty_registry
    reg.add(MULTI / "b" / "Beta-v1-0.xsd", name="Beta", version="1.0")
    store = backend.admin(reg).store
    existing = store.find_version("Beta", "1.0")
    assert existing is not None
    row = {k: v for k, v in existing.items() if k != "id"}
    row["digest"] = "0" * 64  # other content under the same name and version
    other = b"<xsd:schema xmlns:xsd='http://www.w3.org/2001/XMLSchema'/>"
    files = [{"path": "other.xsd", "digest": hashlib.sha256(other).hexdigest(), "namespace": None,
              "role": "main", "content": other}]
    before = {t: list(store.dump_table(t)) for t in ("blobs", "schema_versions", "schema_files")}
    with store.transaction():
        assert store.insert_version(row, files, [], []) is None
    assert {t: list(store.dump_table(t)) for t in before} == before
