"""Opening what can be opened, creating only on purpose, and no back door in the API (issue 14)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from egif import PermissionDenied, ReadOnlyRegistry, Registry, RegistryError, Status
from egif.lifecycle import Lifecycle
from egif.store import sqlite as sqlite_store

from .conftest import DATA, REPO, run_egif

BETA = DATA / "multifile" / "b" / "Beta-v1-0.xsd"
VALID_ADDRESS = next((REPO / "fixtures" / "bs7666" / "2.0" / "valid").glob("*.xml"))


# -- no back door ---------------------------------------------------------------
def test_the_public_api_adds_drafts_only(any_registry: Registry) -> None:
    with pytest.raises(TypeError):
        any_registry.add(BETA, name="Beta", version="1.0", status="ratified")  # type: ignore[call-arg]
    with pytest.raises(PermissionDenied, match="only an administrative path"):
        any_registry._add(BETA, name="Beta", version="1.0", status=Status.RATIFIED)
    added = any_registry.add(BETA, name="Beta", version="1.0")
    assert added.version.status == Status.DRAFT
    event = next(any_registry.events(name="Beta", kinds=("add",)))
    assert "via" not in event.data and event.data["status"] == "draft"


def test_the_issue_example_no_longer_works(registry_path: Path) -> None:
    with Registry.open(registry_path, actor="mallory") as reg:
        with pytest.raises(TypeError):
            reg.add(BETA, name="Beta", version="1.0", status="ratified")  # type: ignore[call-arg]
        assert reg.list(name="Beta") == []


def test_administrative_paths_are_recorded_as_such(any_registry: Registry) -> None:
    shipped = [e for e in any_registry.events(kinds=("add",))]
    assert shipped and {e.data.get("via") for e in shipped} == {"shipped"}
    assert {e.actor for e in shipped} == {"egif (shipped standards)"}


def test_statuses_move_only_along_the_table(any_registry: Registry) -> None:
    any_registry.add(BETA, name="Beta", version="1.0")
    lc = Lifecycle(any_registry)
    for target in (Status.RATIFIED, Status.DEPRECATED, Status.WITHDRAWN, Status.REJECTED):
        with pytest.raises(Exception, match="cannot go from draft"):
            lc.transition("Beta@1.0", target, reason="skip the process")
    assert any_registry.get("Beta@1.0").status == Status.DRAFT


# -- create only on purpose ----------------------------------------------------------
def test_a_named_registry_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "team.sqlite"
    with pytest.raises(RegistryError, match=r"no registry at this path: create one with `egif registry init"):
        Registry.open(missing)
    for args, env in ((["--registry", str(missing), "schema", "list"], {}),
                      (["schema", "list"], {"EGIF_REGISTRY": str(missing)})):
        proc = run_egif(*args, env=env)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert f"egif: error: {missing}: no registry at this path" in proc.stderr
        assert "egif registry init" in proc.stderr
    assert not missing.parent.exists()  # not even the folder was made


def test_an_empty_file_is_not_silently_made_a_registry(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(RegistryError, match="no registry tables"):
        Registry.open(empty)
    with Registry.init(empty, seed=False) as reg:  # on purpose, it is fine
        assert reg.list() == []


def test_only_the_per_user_registry_is_created_on_first_use(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with Registry.open() as reg:
        assert reg.location == str(tmp_path / "data" / "egif" / "registry.sqlite")
        assert reg.get("BS7666@2.0").status == Status.RATIFIED


# -- open read-only what cannot be written ----------------------------------------------
@pytest.fixture
def read_only_registry(seeded_registry_file: Path) -> Iterator[Path]:
    """A registry file and folder nobody may write (as on a read-only mount)."""
    folder = Path(tempfile.mkdtemp(prefix="egif-ro-"))
    path = folder / "registry.sqlite"
    shutil.copyfile(seeded_registry_file, path)
    path.chmod(0o444)
    folder.chmod(0o555)
    try:
        yield path
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def test_read_only_file_reads_validates_and_refuses_writes(read_only_registry: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:  # root may write anything: look at the file as its permissions say
        monkeypatch.setattr(sqlite_store, "_writable", lambda path: False)
    before = read_only_registry.read_bytes()
    with Registry.open(read_only_registry) as reg:
        assert reg.read_only
        assert reg.get("BS7666@2.0").status == Status.RATIFIED
        schema = reg.resolve("BS7666@2.0").lxml_schema()
        from lxml import etree

        assert schema.validate(etree.parse(str(VALID_ADDRESS)))
        with pytest.raises(ReadOnlyRegistry, match=f"read-only registry {read_only_registry}"):
            reg.add(BETA, name="Beta", version="1.0")
        with pytest.raises(ReadOnlyRegistry):
            Lifecycle(reg).comment("BS7666@2.0", "hello")
    assert read_only_registry.read_bytes() == before


AS_ANOTHER_USER = textwrap.dedent("""
    import os, pwd, sys
    import importlib
    import egif_cli.app, egif_cli.commands, egif.validate, egif.shipped, egif.lifecycle, egif.lint
    for name in egif_cli.commands.MODULES:  # commands are imported when used: import them all now
        importlib.import_module(name)
    nobody = pwd.getpwnam("nobody")
    os.setgroups([]); os.setgid(nobody.pw_gid); os.setuid(nobody.pw_uid)
    sys.argv = ["egif", *sys.argv[1:]]
    egif_cli.app.main()
""")


def _as_unprivileged(*args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI as a user who may read the registry but not write it."""
    # as root, drop to nobody once everything is imported (the interpreter may live under /root)
    cmd = [sys.executable, "-c", AS_ANOTHER_USER, *args] if os.geteuid() == 0 else [
        sys.executable, "-m", "egif", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "EGIF_USER": "reader"})


def test_read_only_registry_through_the_cli(read_only_registry: Path) -> None:
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("no unprivileged user 'nobody' to read the registry as")
    reg = str(read_only_registry)
    listed = _as_unprivileged("--registry", reg, "schema", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert "BS7666" in {v["name"] for v in json.loads(listed.stdout)}
    valid = _as_unprivileged("--registry", reg, "validate", "--schema", "BS7666@2.0", str(VALID_ADDRESS))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    info = json.loads(_as_unprivileged("--registry", reg, "registry", "info", "--format", "json").stdout)
    assert info["access"] == "read-only"
    add = _as_unprivileged("--registry", reg, "schema", "add", str(BETA), "--name", "Beta", "--version", "1.0")
    assert add.returncode == 2 and add.stderr == f"egif: error: read-only registry {reg}\n"
