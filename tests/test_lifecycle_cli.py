"""The lifecycle through the real CLI in subprocesses, on real registry files."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from egif import Registry, Status
from egif.lifecycle import Lifecycle

from .conftest import DATA, Backend

LC = DATA / "lifecycle"


def ok(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def fails(result: Any, code: int, *needles: str) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    err = str(result.stderr)
    assert err.startswith("egif: error: ") and err.count("\n") == 1, err  # one line, no traceback
    for needle in needles:
        assert needle in err, err
    return err


def test_main_flow_through_the_cli(any_cli: Any, backend: Backend) -> None:
    run = any_cli
    # the first maintainer is bootstrapped by whoever comes first (in PostgreSQL: the owner role);
    # later changes need a maintainer
    ok(run("--as", backend.bootstrapper, "registry", "config", "--add-maintainer", "alice"))
    shown = json.loads(ok(run("--as", "alice", "registry", "config", "--add-maintainer", "bob",
                              "--format", "json")))
    assert shown == {"maintainers": ["alice", "bob"], "approvals_needed": 2, "window_days": 28,
                     "lint": {}, "maintainer_keys": {}}

    ok(run("--as", "carol", "schema", "add", str(LC / "ParkingPermit-v1-0.xsd"),
           "--name", "ParkingPermit", "--version", "1.0"))
    out = ok(run("--as", "carol", "lifecycle", "propose", "ParkingPermit@1.0", "-m", "first cut"))
    assert "is now a candidate; consultation open until" in out and "(28 days)" in out
    fails(run("--as", "carol", "lifecycle", "approve", "ParkingPermit@1.0"), 1,
          "'carol' may not approve ParkingPermit@1.0")
    ok(run("--as", "dave", "lifecycle", "comment", "ParkingPermit@1.0", "what about zones?"))
    ok(run("--as", "alice", "lifecycle", "approve", "ParkingPermit@1.0", "--reason", "fine"))
    objection = json.loads(ok(run("--as", "bob", "lifecycle", "object", "ParkingPermit@1.0",
                                  "--reason", "zones missing", "--format", "json")))["event"]["id"]

    err = fails(run("--as", "alice", "lifecycle", "ratify", "ParkingPermit@1.0"), 1,
                "cannot be ratified", "window is open", "1 of 2 approvals",
                f"open objection #{objection} by bob: zones missing")
    assert "Traceback" not in err

    pending = json.loads(ok(run("lifecycle", "pending", "--format", "json")))
    mine = next(p for p in pending if p["ref"] == "ParkingPermit@1.0")
    assert mine["approvers"] == ["alice"] and len(mine["blockers"]) == 3

    ok(run("--as", "bob", "lifecycle", "resolve", "ParkingPermit@1.0", str(objection),
           "--reason", "zones come in 1.1"))
    ok(run("--as", "bob", "lifecycle", "approve", "ParkingPermit@1.0"))
    ok(run("--as", "alice", "lifecycle", "close-window", "ParkingPermit@1.0",
           "--reason", "the pilot starts Monday"))
    out = ok(run("--as", "alice", "lifecycle", "ratify", "ParkingPermit@1.0"))
    assert "is now ratified (approved by alice, bob)" in out

    text = ok(run("schema", "history", "ParkingPermit@1.0"))
    lines = text.strip().splitlines()
    kinds = [line.split()[2] for line in lines]
    assert kinds == ["add", "propose", "comment", "approve", "object", "resolve-objection", "approve",
                     "close-window", "ratify"]
    assert "by dave  what about zones?" in lines[2]
    assert "[candidate -> ratified]" in lines[-1] and "by alice" in lines[-1]
    events = json.loads(ok(run("schema", "history", "ParkingPermit", "--format", "json")))
    assert [e["kind"] for e in events] == kinds
    assert events[-1]["data"]["approvers"] == ["alice", "bob"]
    assert events[-1]["data"]["closed_early"]["text"] == "the pilot starts Monday"
    fails(run("--as", "alice", "lifecycle", "reject", "ParkingPermit@1.0", "--reason", "x"), 1,
          "ParkingPermit@1.0 is ratified", "allowed next: deprecated (deprecate)")
    config_log = ok(run("registry", "config", "--history"))
    assert "(first maintainer)" in config_log


def test_time_passes_without_sleeping(egif_cli: Any, registry_path: Path) -> None:
    """Propose through the library 30 days ago; the real CLI then sees the window closed."""
    past = datetime.now(UTC) - timedelta(days=30)
    with Registry.open(registry_path) as reg:
        reg.store.set_config("maintainers", ["alice", "bob"])
        reg.add(LC / "ParkingPermit-v1-0.xsd", name="ParkingPermit", version="1.0", actor="carol")
        then = Lifecycle(reg, actor="carol", clock=lambda: past)
        then.propose("ParkingPermit@1.0")
        Lifecycle(reg, actor="alice", clock=lambda: past).approve("ParkingPermit@1.0")
    status = json.loads(ok(egif_cli("lifecycle", "status", "ParkingPermit@1.0", "--format", "json")))
    assert status["window_closed"] is True and status["blockers"] == [
        "1 of 2 approvals from distinct maintainers (alice)"]
    late = json.loads(ok(egif_cli("--as", "dave", "lifecycle", "comment", "ParkingPermit@1.0",
                                  "after the window", "--format", "json")))
    assert late["event"]["data"]["late"] is True
    ok(egif_cli("--as", "bob", "lifecycle", "approve", "ParkingPermit@1.0"))
    ok(egif_cli("--as", "bob", "lifecycle", "ratify", "ParkingPermit@1.0"))
    with Registry.open(registry_path) as reg:
        assert reg.get("ParkingPermit@1.0").status == Status.RATIFIED


def test_usage_errors_exit_2(any_cli: Any, backend: Backend) -> None:
    egif_cli = any_cli
    fails(egif_cli("lifecycle", "propose", "NoSuchStandard@1.0"), 2, "no standard NoSuchStandard in the registry")
    fails(egif_cli("schema", "history", "NoSuchStandard"), 2, "no standard NoSuchStandard in the registry")
    fails(egif_cli("--as", backend.bootstrapper, "registry", "config", "--add-maintainer", "alice",
                   "--approvals", "0"), 2,
          "approvals needed must be between 1 and")
    # the whole command is one transaction: the maintainer above was not added either
    shown = json.loads(ok(egif_cli("registry", "config", "--format", "json")))
    assert shown["maintainers"] == []
    bad = egif_cli("registry", "config", "--lint-rule", "wildcard")
    assert bad.returncode == 2 and "expected RULE=SETTING" in bad.stderr


def test_deprecate_and_withdraw_shipped_versions(any_cli: Any, backend: Backend) -> None:
    egif_cli = any_cli
    ok(egif_cli("--as", backend.bootstrapper, "registry", "config", "--add-maintainer", "alice"))
    fails(egif_cli("--as", "alice", "lifecycle", "deprecate", "BS7666@2.0", "--successor", "1.0"), 1,
          "successor BS7666@1.0 is deprecated")
    out = ok(egif_cli("--as", "alice", "lifecycle", "deprecate", "CommonSimpleTypes@1.3",
                      "--reason", "folded into a new core"))
    assert "is now deprecated" in out
    ok(egif_cli("--as", "alice", "lifecycle", "withdraw", "BS7666@1.0", "--reason", "retired"))
    fails(egif_cli("--as", "alice", "lifecycle", "withdraw", "BS7666@1.0", "--reason", "again"), 1,
          "withdrawn is final")
    shown = json.loads(ok(egif_cli("schema", "show", "BS7666@1.0", "--format", "json")))
    assert shown["status"] == "withdrawn" and shown["successor"] == "2.0"


def test_tampered_database_is_reported(egif_cli: Any, registry_path: Path) -> None:
    with Registry.open(registry_path) as reg:
        digest = reg.get("BS7666@2.0").files[0].digest
    db = sqlite3.connect(registry_path)
    with db:
        db.execute("UPDATE blobs SET content = CAST(? AS BLOB) WHERE digest = ?",
                   (b"<xsd:schema/>", digest))
    db.close()
    fails(egif_cli("schema", "export", "BS7666@2.0", str(registry_path.parent / "out")), 2,
          "BS7666@2.0: stored file BS7666-v2-0.xsd no longer matches its digest",
          "the registry database has been altered")
    ok(egif_cli("--as", "alice", "registry", "config", "--add-maintainer", "alice"))
    # a version that imports the tampered one cannot be moved on either
    fails(egif_cli("--as", "alice", "lifecycle", "ratify", "GazetteerExtract@1.1"), 2,
          "no longer matches its digest")


def test_help_names_the_rules(egif_cli: Any) -> None:
    out = ok(egif_cli("lifecycle", "--help"))
    for line in ("propose    draft -> candidate (anyone)", "withdraw   deprecated -> withdrawn"):
        assert line in out
