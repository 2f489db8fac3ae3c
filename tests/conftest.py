"""Shared fixtures: isolated registries, a network guard, the CLI as a subprocess."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egif import Registry

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch the user's registry or identity; the default registry is per test."""
    monkeypatch.setenv("EGIF_REGISTRY", str(tmp_path / "default-registry.sqlite"))
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
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may talk to 127.0.0.1 only."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(scope="session")
def seeded_registry_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with the shipped standards, built once per session."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite"
    Registry.open(path, actor="template").close()
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
    with Registry.open(tmp_path / "empty.sqlite", actor="tester@example.org", seed=False) as reg:
        yield reg


def run_egif(*args: str, registry: Path | None = None, input: bytes | None = None,
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
