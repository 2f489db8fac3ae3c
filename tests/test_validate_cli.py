"""``egif validate`` in a real subprocess: formats, exit codes, inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from egif.render import FINDING_KEYS
from egif.shipped import fixtures_dir

FX = fixtures_dir()
GOOD = str(FX / "bs7666/2.0/valid/full-address.xml")
BAD = str(FX / "bs7666/2.0/invalid/postcode-inward-c.xml")
RULE_BAD = str(FX / "gazetteer/1.0/invalid/two-preferred-addresses.xml")


def test_exit_codes_and_text(egif_cli: Any) -> None:
    ok = egif_cli("validate", GOOD)
    assert ok.returncode == 0 and "valid (BS7666@2.0)" in ok.stdout
    bad = egif_cli("validate", GOOD, BAD)
    assert bad.returncode == 1
    assert f"{BAD}:12: error [xsd:cvc-pattern-valid] /BS7666Address/PostCode:" in bad.stdout
    assert bad.stdout.rstrip().endswith("2 files: 1 valid, 1 invalid; 1 error")
    missing = egif_cli("validate", GOOD, "/nonexistent/x.xml")
    assert missing.returncode == 2 and "no such file" in missing.stdout


def test_json_keys_are_stable(egif_cli: Any) -> None:
    result = egif_cli("validate", "--format", "json", BAD, RULE_BAD)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert [tuple(d) for d in data] == [FINDING_KEYS] * len(data)
    rules = {d["rule"] for d in data}
    assert {"xsd:cvc-pattern-valid", "GZE-R3"} <= rules
    gze = next(d for d in data if d["rule"] == "GZE-R3")
    assert gze["record"] == 3 and gze["line"] == 42 and gze["file"] == RULE_BAD


def test_junit_one_testcase_per_file(egif_cli: Any) -> None:
    result = egif_cli("validate", "--format", "junit", GOOD, BAD)
    root = etree.fromstring(result.stdout.encode())
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [GOOD, BAD]
    assert cases[0].find("failure") is None and cases[1].find("failure") is not None
    assert root.find("testsuite").get("failures") == "1"  # type: ignore[union-attr]


def test_stdin_and_schema_option(egif_cli: Any) -> None:
    data = Path(BAD).read_bytes()
    result = egif_cli("validate", "--schema", "BS7666@2.0", "-", input=data)
    assert result.returncode == 1 and "<stdin>:12:" in result.stdout
    unknown = egif_cli("validate", "--schema", "Nope@1.0", GOOD)
    assert unknown.returncode == 2 and unknown.stderr.startswith("egif: error:")


def test_dir_and_glob(egif_cli: Any) -> None:
    folder = FX / "gazetteer/1.0/valid"
    by_dir = egif_cli("validate", str(folder))
    by_glob = egif_cli("validate", str(folder / "*.xml"))
    assert by_dir.returncode == by_glob.returncode == 0
    assert by_dir.stdout == by_glob.stdout
    none = egif_cli("validate", str(folder / "*.nothing"))
    assert none.returncode == 2


def test_against_all_matrix(egif_cli: Any) -> None:
    doc = str(FX / "gazetteer/1.1/valid/record-with-grid-reference.xml")
    result = egif_cli("validate", "--against-all", "--format", "json", doc)
    assert result.returncode == 0
    assert json.loads(result.stdout) == [{"file": doc, "standard": "GazetteerExtract", "versions": {
        "GazetteerExtract@1.0": False, "GazetteerExtract@1.1": True}}]
    text = egif_cli("validate", "--against-all", doc)
    assert "GazetteerExtract@1.0" in text.stdout and text.stdout.splitlines()[2].split()[1:] == ["no", "yes"]


def test_progress_silent_when_not_a_tty(egif_cli: Any) -> None:
    result = egif_cli("validate", GOOD)
    assert result.stderr == ""


def test_help_documents_exit_codes(egif_cli: Any) -> None:
    result = egif_cli("validate", "--help")
    assert result.returncode == 0
    for words in ("0  every document is valid", "1  at least one document is invalid", "2  usage error"):
        assert words in result.stdout


def test_validate_imports_only_what_it_uses(registry_path: Path) -> None:
    """Fast start: `egif validate` never imports the diff, the linter, the generator,
    hypothesis (an optional extra), on an SQLite registry the PostgreSQL driver, nor what
    only adding a schema (e-GMS metadata, the actor) or an XSD 1.1 pack (decimal) needs."""
    code = ("import sys\nfrom egif_cli.app import main\n"
            f"sys.argv = ['egif', '--registry', {str(registry_path)!r}, 'validate', {GOOD!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stderr.split())
    assert "egif.validate" in loaded
    for heavy in ("hypothesis", "egif.diff", "egif.lint", "egif.generate", "xmlschema", "psycopg",
                  "egif.store.postgres", "egif.xsd11", "decimal", "egif.metadata", "egif.identity",
                  "platformdirs", "egif.validate.stream.engine", "egif.validate.stream.worker",
                  "egif.validate.stream.pool", "signal"):
        assert heavy not in loaded, heavy


def test_import_egif_leaves_out_what_only_some_work_needs() -> None:
    """`import egif` loads no digest code (hashlib: only reading or storing blobs needs it),
    none of the streaming engine's parts (only a big collection, or a document with
    findings, needs them), no forking (signal) and neither the rules' locality reader nor
    libxml2's error reading (a document's first check loads them)."""
    code = "import sys\nimport egif\nprint(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.split())
    assert "egif.validate" in loaded
    for later in ("hashlib", "signal", "click", "hypothesis", "xmlschema", "egif.validate.stream.engine",
                  "egif.validate.stream.worker", "egif.validate.stream.pool",
                  "egif.validate.schematron.locality", "egif.validate.xsd"):
        assert later not in loaded, later


def test_generated_documents_say_what_to_install_without_hypothesis() -> None:
    code = ("import sys\nsys.modules['hypothesis'] = None\n"
            "from egif.generate import documents\n"
            "try:\n    documents(None)\nexcept ModuleNotFoundError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'egif[evidence]'" in out.stdout


# -- the right standard ------------------------------------------------------------------
def test_a_root_of_another_standard_names_its_owner(egif_cli: Any) -> None:
    out = egif_cli("validate", "--schema", "GazetteerExtract@1.0", GOOD)
    assert out.returncode == 1
    assert ("root {http://www.govtalk.gov.uk/people/bs7666}BS7666Address belongs to BS7666@2.0, "
            "not GazetteerExtract@1.0") in out.stdout
    data = json.loads(egif_cli("validate", "--schema", "GazetteerExtract@1.0", "--format", "json", GOOD).stdout)
    assert [d["rule"] for d in data] == ["version:wrong-root"] and data[0]["severity"] == "error"


def test_a_root_no_schema_declares_is_said_so(egif_cli: Any, tmp_path: Path) -> None:
    doc = tmp_path / "stray.xml"
    doc.write_text('<Stray xmlns="http://www.govtalk.gov.uk/exchange/GazetteerExtract"/>')
    out = egif_cli("validate", "--schema", "GazetteerExtract@1.0", str(doc))
    assert out.returncode == 1
    assert ("root {http://www.govtalk.gov.uk/exchange/GazetteerExtract}Stray is declared neither by "
            "GazetteerExtract@1.0 nor by any schema it imports") in out.stdout


def test_candidate_versions_and_unregistered_version_attributes_are_said(egif_cli: Any, tmp_path: Path) -> None:
    candidate = str(FX / "gazetteer/1.1/valid/no-header.xml")
    out = egif_cli("validate", "--format", "json", candidate)
    assert out.returncode == 0
    assert [(d["rule"], d["severity"]) for d in json.loads(out.stdout)] == [("lifecycle:candidate", "info")]
    odd = tmp_path / "odd.xml"
    odd.write_text((FX / "gazetteer/1.0/valid/three-records.xml").read_text().replace(
        'version="1.0" custodianCode', 'version="1.7" custodianCode', 1))
    said = egif_cli("validate", str(odd))
    assert "warning [version:unregistered]: the root says version '1.7', which is not a registered " \
           "version of GazetteerExtract (registered: 1.0, 1.1)" in said.stdout
    assert "names no version" not in said.stdout


# -- output that stays whole -------------------------------------------------------------
def test_json_and_junit_are_documents_when_the_schema_or_input_is_unusable(egif_cli: Any,
                                                                          tmp_path: Path) -> None:
    for args in (("--schema", "Nope@1.0", GOOD), ("--schema", "BS7666@9.9", GOOD)):
        out = egif_cli("validate", "--format", "json", *args)
        assert out.returncode == 2 and out.stderr.startswith("egif: error:")
        [finding] = json.loads(out.stdout)
        assert finding["rule"] == "egif:unusable" and finding["severity"] == "error"
        junit = egif_cli("validate", "--format", "junit", *args)
        assert junit.returncode == 2
        assert etree.fromstring(junit.stdout.encode()).find(".//testcase/error") is not None
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"\x00\x01 not xml at all")
    for fmt in ("json", "junit"):
        out = egif_cli("validate", "--format", fmt, GOOD, str(tmp_path / "missing.xml"), str(broken), BAD)
        assert out.returncode == 2
        if fmt == "json":
            files = {d["file"] for d in json.loads(out.stdout)}
            assert {str(tmp_path / "missing.xml"), str(broken), BAD} <= files
        else:
            assert len(etree.fromstring(out.stdout.encode()).findall(".//testcase")) == 4


def test_quiet_prints_only_failures_and_the_summary(egif_cli: Any) -> None:
    out = egif_cli("validate", "--quiet", GOOD, BAD)
    assert out.returncode == 1 and out.stderr == ""
    lines = out.stdout.splitlines()
    assert not [line for line in lines if GOOD in line]
    assert any(line.startswith(f"  {BAD}:12: error") for line in lines)
    assert f"{BAD}: invalid against BS7666@2.0 (1 error)" in lines
    assert lines[-1] == "2 files: 1 valid, 1 invalid; 1 error"
    assert egif_cli("validate", "-q", GOOD).stdout.splitlines() == ["1 file: 1 valid, 0 invalid; 0 errors"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_ctrl_c_prints_what_was_found_so_far(registry_path: Path, egif_cli: Any, fmt: str) -> None:
    """The run waits on standard input for its second file; Ctrl-C (SIGINT) then
    prints a closing summary or bracket after the first file's findings, exit 130."""
    alone = egif_cli("validate", "--format", fmt, BAD).stdout
    so_far = alone[:alone.rindex("\n]" if fmt == "json" else "1 file:")].encode()
    env = dict(os.environ, EGIF_REGISTRY=str(registry_path))
    with subprocess.Popen([sys.executable, "-m", "egif", "validate", "--format", fmt, BAD, "-"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          # as from a terminal: a background job started by a shell ignores SIGINT
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        assert proc.stdout is not None and proc.stdin is not None and proc.stderr is not None
        out = b""
        while len(out) < len(so_far):  # the first file's findings, as they are printed
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, out
            out += chunk
        assert out == so_far
        proc.stdin.write(b"<BS7666Address")  # the second document has begun and not ended
        proc.stdin.flush()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        out += proc.stdout.read()
        err = proc.stderr.read().decode()
    assert "egif: interrupted" in err and "Traceback" not in err
    if fmt == "json":
        assert json.loads(out) == json.loads(alone)
    else:
        assert out.decode() == so_far.decode() + "1 file: 0 valid, 1 invalid; 1 error; interrupted\n"


def test_ctrl_c_leaves_a_junit_report_naming_the_file_it_stopped_in(registry_path: Path) -> None:
    """JUnit is written whole at the end: on Ctrl-C it holds the finished file and one more
    testcase, an error of type interrupted, for the file the run was stopped in."""
    env = dict(os.environ, EGIF_REGISTRY=str(registry_path))
    with subprocess.Popen([sys.executable, "-m", "egif", "validate", "--format", "junit", BAD, "-"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(b"<BS7666Address")  # the second document has begun and not ended
        proc.stdin.flush()
        # nothing is printed before the end: wait until the process has read what it was
        # given (then it has finished the first file and begun the second)
        deadline = time.monotonic() + 60
        while _unread(proc.stdin.fileno()) and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
        out, err = proc.stdout.read(), proc.stderr.read().decode()
    assert "egif: interrupted" in err and "Traceback" not in err
    suite = etree.fromstring(out)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "1")
    finished, stopped = suite.iter("testcase")
    assert finished.get("name") == BAD and finished.find("failure") is not None
    assert stopped.get("name") == "<stdin>" and stopped.get("classname") == "interrupted"
    error = stopped.find("error")
    assert error is not None and error.get("type") == "interrupted"
    assert "0 findings so far" in (error.get("message") or "")


def _unread(fd: int) -> int:
    """Bytes written to the pipe *fd* that its reader has not taken yet."""
    import fcntl
    import termios

    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), sys.byteorder)


def test_progress_on_a_terminal_covers_reading_and_validating(registry_path: Path, tmp_path: Path) -> None:
    import io

    from egif.sample import write_sample

    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=3_000, seed=3, version="1.0")
    data = buf.getvalue()
    assert len(data) > 1 << 20
    path = tmp_path / "big.xml"
    path.write_bytes(data)
    stderr = _on_a_terminal(registry_path, ["validate", "--jobs", "2", str(path), "-"], data)
    assert "reading" in stderr  # standard input copied to a temporary file
    assert "records" in stderr and "MB/s" in stderr  # the validating pass
    assert stderr.endswith("\x1b[K")  # the line is cleared before the verdicts are printed
    quiet = _on_a_terminal(registry_path, ["validate", "--quiet", str(path)], b"")
    assert quiet == ""


def _on_a_terminal(registry_path: Path, args: list[str], data: bytes) -> str:
    import pty

    master, slave = pty.openpty()
    env = dict(os.environ, EGIF_REGISTRY=str(registry_path), TERM="xterm")
    proc = subprocess.Popen([sys.executable, "-m", "egif", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []
    reader = threading.Thread(target=_drain, args=(master, chunks))
    reader.start()
    proc.communicate(data, timeout=300)
    reader.join(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()


def _drain(fd: int, chunks: list[bytes]) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the terminal's last writer has gone
            return
        if not chunk:
            return
        chunks.append(chunk)
