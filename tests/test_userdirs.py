"""egif.userdirs answers as platformdirs does on Linux, without importing it on the common path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egif.registry import per_user_registry_path
from egif.userdirs import user_cache_dir, user_data_dir

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the XDG rules are worked out by egif on Linux only")

UNSET = None

# values of $XDG_DATA_HOME / $XDG_CACHE_HOME, None for unset
XDG_VALUES = [
    UNSET,
    "",
    "   ",
    "relative/dir",
    "./here",
    "~/data",
    "/abs/xdg",
    "/abs/xdg/",
    "//double/lead",
    "/with space/x",
]
# values of $HOME, None for unset (the password database answers then)
HOME_VALUES = [UNSET, "", "relative-home", "/home/someone", "/home/someone/", "/", "//"]


def theirs_data() -> Path:
    return Path(platformdirs.user_data_dir("egif", appauthor=False))


def theirs_cache() -> Path:
    return Path(platformdirs.user_cache_dir("egif", appauthor=False))


def set_env(monkeypatch: pytest.MonkeyPatch, name: str, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, value)


# kind -> (its XDG variable, egif's answer, platformdirs' answer)
KINDS = {
    "data": ("XDG_DATA_HOME", user_data_dir, theirs_data),
    "cache": ("XDG_CACHE_HOME", user_cache_dir, theirs_cache),
}


@pytest.mark.parametrize("home", HOME_VALUES)
@pytest.mark.parametrize("xdg", XDG_VALUES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_directory_is_platformdirs_answer(monkeypatch: pytest.MonkeyPatch, kind: str, xdg: str | None,
                                          home: str | None) -> None:
    variable, ours, theirs = KINDS[kind]
    set_env(monkeypatch, variable, xdg)
    set_env(monkeypatch, "HOME", home)
    assert ours() == theirs()


def test_the_registry_lives_in_the_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", "/home/someone")
    assert per_user_registry_path() == theirs_data() / "registry.sqlite"
    assert per_user_registry_path() == Path("/home/someone/.local/share/egif/registry.sqlite")


def test_each_directory_reads_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("XDG_DATA_HOME", "/xdg/data")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert user_data_dir() == Path("/xdg/data/egif")
    assert user_cache_dir() == Path("/home/someone/.cache/egif")
    monkeypatch.setenv("XDG_CACHE_HOME", "/xdg/cache")
    monkeypatch.setenv("XDG_DATA_HOME", "")
    assert user_data_dir() == Path("/home/someone/.local/share/egif")
    assert user_cache_dir() == Path("/xdg/cache/egif")


env_text = st.text(st.sampled_from("/~. a-é\t"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(xdg=st.none() | env_text, home=st.none() | env_text)
def test_any_environment_gives_platformdirs_answer(xdg: str | None, home: str | None) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        set_env(monkeypatch, "HOME", home)
        set_env(monkeypatch, "XDG_DATA_HOME", xdg)
        set_env(monkeypatch, "XDG_CACHE_HOME", xdg)
        assert user_data_dir() == theirs_data()
        assert user_cache_dir() == theirs_cache()


def test_common_path_does_not_import_platformdirs(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": "", "XDG_CACHE_HOME": "rel", "EGIF_REGISTRY": ""}
    code = (
        "import sys\n"
        "from egif.registry import default_location\n"
        "from egif.userdirs import user_cache_dir\n"
        "print(default_location()[0]); print(user_cache_dir())\n"
        "print('platformdirs' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        str(tmp_path / ".local/share/egif/registry.sqlite"),
        str(tmp_path / ".cache/egif"),
        "False",
    ]
