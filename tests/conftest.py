"""Shared fixtures: isolated registries, a network guard, the CLI as a subprocess."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egif import Registry, Status
from egif.store import PostgresStore

from .pgserver import DSN_ENV, Cluster, PgServer, bin_dir

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch the user's registry or identity; the per-user registry is per test."""
    monkeypatch.delenv("EGIF_REGISTRY", raising=False)
    monkeypatch.setenv("EGIF_USER", "tester@example.org")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if ip is None or not ip.is_loopback:
            raise OSError(f"test network guard: connection to {host!r} refused")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _workers_for_short_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch gets workers as soon as it is long enough to start them, whatever the
    machine's pace, so that the worker path stays under test in short batches too (the tests
    of when forking pays set FORK_WORTH themselves)."""
    from egif.validate.core import ahead

    monkeypatch.setattr(ahead, "FORK_WORTH", 0.0)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may talk to 127.0.0.1 only."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def seeded_registry_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with the shipped standards, built once per session."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite"
    Registry.init(path, actor="template").close()
    return path


@pytest.fixture
def registry_path(tmp_path: Path, seeded_registry_file: Path) -> Path:
    """A private copy of the seeded registry."""
    target = tmp_path / "registry.sqlite"
    shutil.copyfile(seeded_registry_file, target)
    return target


@pytest.fixture
def registry(registry_path: Path) -> Iterator[Registry]:
    with Registry.open(registry_path, actor="tester@example.org") as reg:
        yield reg


@pytest.fixture
def empty_registry(tmp_path: Path) -> Iterator[Registry]:
    with Registry.init(tmp_path / "empty.sqlite", actor="tester@example.org", seed=False) as reg:
        yield reg


def run_egif(*args: str, registry: Path | str | None = None, input: bytes | None = None,
             env: dict[str, str] | None = None, cwd: Path | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (``python -m egif``)."""
    full_env = dict(os.environ)
    if registry is not None:
        full_env["EGIF_REGISTRY"] = str(registry)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "egif", *args], input=input.decode() if input else None,
        capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout, check=False,
    )


@pytest.fixture
def egif_cli(registry_path: Path) -> Any:
    """``egif_cli("schema", "list")`` runs the CLI in a subprocess on a private registry."""

    def run(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        kw.setdefault("registry", registry_path)
        return run_egif(*args, **kw)

    return run


# -- both stores: the same tests on SQLite and on PostgreSQL ---------------------------
USER = "tester@example.org"


_SERVERS: list[PgServer] = []


def stored_as(reg: Registry, main: Path, name: str, version: str, status: Status) -> None:
    """Put a version straight into *status*: test set-up through the administrative path.

    The public API only adds drafts; this is what seeding and pulls do, run by
    the registry's administrator (in PostgreSQL, the owner role).
    """
    store = reg.store
    if isinstance(store, PostgresStore) and not store.is_admin:
        admin = Registry.open(_SERVERS[0].dsn(store.dsn.split("?")[0].rsplit("/", 1)[1]))
        try:
            admin._add(main, name=name, version=version, status=status, via="test set-up")
        finally:
            admin.close()
        return
    reg._add(main, name=name, version=version, status=status, via="test set-up")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The PostgreSQL server of this session (see tests/pgserver.py)."""
    dsn = os.environ.get(DSN_ENV, "").strip()
    bindir = bin_dir()
    psql = (bindir / "psql") if bindir else (Path(p) if (p := shutil.which("psql")) else None)
    if dsn:
        _SERVERS.append(PgServer(dsn, psql))
        yield _SERVERS[-1]
        return
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test PostgreSQL: no PostgreSQL binaries found and no EGIF_TEST_PG_DSN")
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl; Debian: apt-get install postgresql)")
    cluster = Cluster(bindir)
    try:
        _SERVERS.append(PgServer(cluster.start(), psql))
        yield _SERVERS[-1]
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_seeded_template(pg_server: PgServer) -> str:
    """A database holding a registry seeded with the shipped standards, to copy per test."""
    name = pg_server.create_database()
    Registry.init(pg_server.dsn(name)).close()
    return name


class Backend:
    """Makes registries of one kind and opens them as a given person."""

    def __init__(self, kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.request = request
        self.opened: list[Registry] = []
        self.databases: list[str] = []
        self.connections: dict[tuple[str, str], Registry] = {}
        self.server: PgServer | None = None
        if kind == "postgresql":
            self.server = request.getfixturevalue("pg_server")

    @property
    def enforced(self) -> bool:
        """Whether the store itself enforces identity (PostgreSQL)."""
        return self.kind == "postgresql"

    def new_location(self, *, seed: bool) -> str:
        """A new registry (seeded or empty), created by its administrator."""
        if self.server is not None:
            template = self.request.getfixturevalue("pg_seeded_template") if seed else None
            name = self.server.create_database(template)
            self.databases.append(name)
            location = self.server.dsn(name)
            if not seed:
                Registry.init(location, seed=False).close()
            return location
        path = self.tmp_path / f"registry-{len(self.opened)}-{uuid.uuid4().hex[:6]}.sqlite"
        if seed:
            shutil.copyfile(self.request.getfixturevalue("seeded_registry_file"), path)
        else:
            Registry.init(path, actor="setup", seed=False).close()
        return str(path)

    def location_as(self, location: str, actor: str) -> str:
        """Where *actor* opens the registry: the same file, or a DSN naming their role."""
        if self.server is None:
            return location
        name = location.split("?")[0].rsplit("/", 1)[1]
        return self.server.dsn(name, actor)

    def open(self, location: str, actor: str = USER) -> Registry:
        if self.server is None:
            reg = Registry.open(location, actor=actor)
        else:
            reg = Registry.open(self.location_as(location, actor))
        self.opened.append(reg)
        return reg

    def as_user(self, reg: Registry, actor: str) -> Registry:
        """The same registry, acting as *actor* (in PostgreSQL, a connection as that role)."""
        if self.server is None:
            return reg if reg.actor == actor else Registry(reg.store, actor=actor)
        key = (self._location_of(reg), actor)
        if key not in self.connections:
            self.connections[key] = self.open(*key)
        return self.connections[key]

    def admin(self, reg: Registry) -> Registry:
        """The registry as its administrator (SQLite: anyone; PostgreSQL: the owner role)."""
        if self.server is None:
            return reg
        return self.as_user(reg, self.server.admin_user)

    def _location_of(self, reg: Registry) -> str:
        """The registry's DSN, without the user (so that any role can be put in)."""
        store = reg.store
        if not isinstance(store, PostgresStore):
            return reg.location
        return self.server.dsn(store.dsn.split("?")[0].rsplit("/", 1)[1]) if self.server else store.dsn

    def cli(self, location: str) -> Any:
        """``run(*args, as_=NAME)`` runs the CLI on the registry as NAME."""

        def run(*args: str, as_: str | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
            if args[:1] == ("--as",):  # the tests' way to say who acts, on either store
                as_, args = args[1], args[2:]
            if self.server is None:
                prefix = ("--as", as_) if as_ else ()
                kw.setdefault("registry", location)
                return run_egif(*prefix, *args, **kw)
            kw.setdefault("registry", self.location_as(location, as_ or USER))
            return run_egif(*args, **kw)

        return run

    @property
    def bootstrapper(self) -> str:
        """Who may add a registry's first maintainer: anyone in SQLite, the owner role in PostgreSQL."""
        return "alice" if self.server is None else self.server.admin_user

    def close(self) -> None:
        for reg in self.opened:
            with contextlib.suppress(Exception):
                reg.close()
        if self.server is not None:
            for name in self.databases:
                self.server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    made = Backend(request.param, tmp_path, request)
    try:
        yield made
    finally:
        made.close()


@pytest.fixture
def any_registry(backend: Backend) -> Registry:
    """A seeded registry of either kind, opened as tester@example.org."""
    return backend.open(backend.new_location(seed=True))


@pytest.fixture
def any_empty_registry(backend: Backend) -> Registry:
    """An empty registry of either kind, opened as tester@example.org."""
    return backend.open(backend.new_location(seed=False))


@pytest.fixture
def any_cli(backend: Backend) -> Any:
    """``any_cli("--as", "alice", "schema", "list")``: the CLI on a seeded registry of either kind."""
    return backend.cli(backend.new_location(seed=True))
