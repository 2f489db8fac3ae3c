"""Where egif keeps per-user files: its data directory (the registry) and its cache directory.

On Linux the answer is the XDG base directory one, worked out here from the
environment: ``$XDG_DATA_HOME/egif`` (``$XDG_CACHE_HOME/egif``) when the
variable holds an absolute path, else ``$HOME/.local/share/egif``
(``$HOME/.cache/egif``).  The specification tells programs to ignore a relative
value, and an empty one is no value at all, so both fall back to the home
directory.  That is the answer platformdirs gives; importing it costs every
``egif`` command several milliseconds (it loads tempfile, shutil, random and
the compressors), so it is imported only where this module cannot answer: on
other platforms, and on Linux when ``$HOME`` is unset or not absolute (there
platformdirs looks the user up in the password database, or says it cannot).
"""

from __future__ import annotations

import os
import posixpath
import sys
from pathlib import Path

APP = "egif"


def user_data_dir() -> Path:
    """egif's per-user data directory (``~/.local/share/egif`` on Linux)."""
    base = _xdg_base("XDG_DATA_HOME", ".local/share")
    if base is not None:
        return Path(base, APP)
    from platformdirs import user_data_dir as platform_data_dir

    return Path(platform_data_dir(APP, appauthor=False))


def user_cache_dir() -> Path:
    """egif's per-user cache directory (``~/.cache/egif`` on Linux)."""
    base = _xdg_base("XDG_CACHE_HOME", ".cache")
    if base is not None:
        return Path(base, APP)
    from platformdirs import user_cache_dir as platform_cache_dir

    return Path(platform_cache_dir(APP, appauthor=False))


def _xdg_base(variable: str, below_home: str) -> str | None:
    """The XDG base directory *variable* names, or ``$HOME/below_home``; None where platformdirs must answer."""
    if not _plain_linux():
        return None
    value = os.environ.get(variable, "")
    if posixpath.isabs(value):
        return value
    home = os.environ.get("HOME", "")
    if not posixpath.isabs(home):
        return None
    # as os.path.expanduser joins them: "/" as HOME gives "/.local/share", not "//.local/share"
    return home.rstrip("/") + "/" + below_home


def _plain_linux() -> bool:
    """Linux and not an Android app (platformdirs has its own rules for Android)."""
    return sys.platform == "linux" and not hasattr(sys, "getandroidapilevel") and "ANDROID_DATA" not in os.environ
