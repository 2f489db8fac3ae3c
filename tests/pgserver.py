"""A real PostgreSQL server for the tests: the one CI names, or a throwaway cluster.

``EGIF_TEST_PG_DSN`` names a running server and a superuser to administer it
with (CI starts one in ``.ci/run``).  Without it, and with PostgreSQL's
binaries installed (Debian: /usr/lib/postgresql/*/bin), the test session
starts its own cluster on a unix socket in a temporary folder, as an
unprivileged user when the tests run as root, and stops it at the end.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

DSN_ENV = "EGIF_TEST_PG_DSN"
# the roles the tests act as (a cluster's roles are shared by its databases)
ROLES = ("alice", "bob", "carol", "dave", "erin", "mallory", "tester@example.org", "council")


def bin_dir() -> Path | None:
    """Where initdb, pg_ctl and psql are, or None when PostgreSQL is not installed."""
    env = os.environ.get("EGIF_PG_BINDIR")
    if env and (Path(env) / "pg_ctl").exists():
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(re.sub(r"\D", "", p.split("/")[4]) or 0))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


class PgServer:
    """One server; each test gets databases of its own on it."""

    def __init__(self, admin_dsn: str, psql: Path | None) -> None:
        self.admin_dsn = admin_dsn
        self.psql = psql
        info = psycopg.conninfo.conninfo_to_dict(admin_dsn)
        self.host = str(info.get("host") or "")
        self.port = str(info.get("port") or "")
        self.admin_user = str(info.get("user") or "postgres")
        with self.connect() as db:
            for role in ROLES:
                exists = db.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                if not exists:
                    db.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.admin_dsn, dbname=dbname, autocommit=True)

    def dsn(self, dbname: str, user: str | None = None) -> str:
        """A URL DSN for *dbname* as *user* (default: the administrator)."""
        who = quote(user or self.admin_user, safe="")
        query = []
        if self.host.startswith("/"):
            query.append(f"host={quote(self.host, safe='/')}")
            netloc = f"{who}@"
        else:
            netloc = f"{who}@{self.host or 'localhost'}"
        if self.port:
            if self.host.startswith("/"):
                query.append(f"port={self.port}")
            else:
                netloc += f":{self.port}"
        return f"postgresql://{netloc}/{dbname}" + (f"?{'&'.join(query)}" if query else "")

    def create_database(self, template: str | None = None) -> str:
        name = f"egif_t_{uuid.uuid4().hex[:12]}"
        with self.connect() as db:
            if template:  # copying the files is quicker than replaying them (PostgreSQL 15+)
                strategy = sql.SQL(" STRATEGY FILE_COPY" if db.info.server_version >= 150000 else "")
                db.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
                    sql.Identifier(name), sql.Identifier(template), strategy))
            else:
                db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(psycopg.Error), self.connect() as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class Cluster:
    """A throwaway cluster: initdb + pg_ctl on a unix socket in a private folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="egif-pg-"))
        self.data = self.root / "data"
        self.run_as: str | None = None
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            for name in ("postgres", "nobody"):
                with contextlib.suppress(KeyError):
                    entry = pwd.getpwnam(name)
                    os.chown(self.root, entry.pw_uid, entry.pw_gid)
                    self.run_as = name
                    break
        self.root.chmod(0o755)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> str:
        init = self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync",
                         "-E", "UTF8", "--locale=C")
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()}")
        options = (f"-k {self.root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off -c max_connections=100")
        started = self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                            "-w", "-t", "60", "start")
        if started.returncode != 0:
            log = (self.root / "log").read_text(errors="replace") if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stderr.strip()} {log[-2000:]}")
        deadline = time.monotonic() + 30
        while not (self.root / ".s.PGSQL.5432").exists():
            if time.monotonic() > deadline:
                raise RuntimeError("PostgreSQL did not open its socket")
            time.sleep(0.05)
        return f"host={self.root} user=postgres dbname=postgres"

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
