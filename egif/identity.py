"""Who is acting: recorded on every event in the audit log."""

from __future__ import annotations

import os
from pathlib import Path

ACTOR_ENV = "EGIF_USER"


def current_actor(explicit: str | None = None, *, cwd: str | Path | None = None) -> str:
    """``explicit`` (``--as``), else ``$EGIF_USER``, else the git user here, else the login name."""
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ.get(ACTOR_ENV, "").strip()
    if env:
        return env
    git = _git_user(cwd)
    if git:
        return git
    import getpass  # here, with subprocess: needed only by commands that record an actor

    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def _git_user(cwd: str | Path | None) -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "config", "user.email"], cwd=cwd, capture_output=True, text=True, timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return value or None
