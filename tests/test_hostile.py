"""Hostile and broken documents: one-line refusals, bounded effort, no file read, no network.

The corpus is in tests/hostile/ (see its README); the huge cases are generated
here.  A recording HTTP server on 127.0.0.1 stands in for the network: every
document that points at it must leave it untouched.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egif import InputError, Registry, UnsafeInputError
from egif.validate import Validator

HOSTILE = Path(__file__).resolve().parent / "hostile"
MARKER = "EGIF-SECRET-MARKER-7f3a"

# file -> (expected exit code, expected words in the one-line error or the finding).
# A document whose root element can be read but that breaks off later is invalid (exit
# 1, an xml:syntax finding after whatever was found before), as a big export is: the
# answer does not depend on the size.  No root element at all is unusable input (2).
CASES: dict[str, tuple[int, str]] = {
    "billion-laughs.xml": (2, "entit"),
    "recursive-entities.xml": (2, "entit"),
    "external-entity-file.xml": (2, "entit"),
    "external-entity-http.xml": (2, "entit"),
    "external-parameter-entity.xml": (2, "entit"),
    "external-dtd.xml": (2, "external DTD"),
    "xinclude.xml": (2, "XInclude"),
    "schema-location-http.xml": (0, ""),
    "empty.xml": (2, "empty"),
    "binary-garbage.xml": (2, "not well-formed"),
    "truncated.xml": (1, "not well-formed"),
    "wrong-declared-encoding.xml": (1, "encoding"),
    "unknown-encoding.xml": (2, "encoding"),
    "utf16-bom.xml": (0, ""),
}


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        body = b'<!ENTITY leak "' + MARKER.encode() + b'">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def corpus(tmp_path: Path, recorder: tuple[str, list[str]]) -> Path:
    """The corpus with {URL} and {SECRET} filled in."""
    url, _ = recorder
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    out = tmp_path / "hostile"
    out.mkdir()
    for name in CASES:
        data = (HOSTILE / name).read_bytes()
        data = data.replace(b"{URL}", url.encode()).replace(b"{SECRET}", str(secret).encode())
        (out / name).write_bytes(data)
    return out


def test_recorder_really_records(recorder: tuple[str, list[str]]) -> None:
    """The proof below means something only if a real request would be seen."""
    import urllib.request

    url, hits = recorder
    with urllib.request.urlopen(url + "/probe") as resp:
        assert MARKER.encode() in resp.read()
    assert hits == ["/probe"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_api_refuses_or_accepts(registry: Registry, corpus: Path, recorder: tuple[str, list[str]],
                                name: str) -> None:
    code, words = CASES[name]
    validator = Validator.for_version(registry, "BS7666@2.0")
    path = corpus / name
    if code == 0:
        assert validator.is_valid(path)
        # bytes and file objects go the same way as paths
        assert validator.is_valid(path.read_bytes())
        with path.open("rb") as fh:
            assert validator.is_valid(fh)
    elif code == 1:
        [finding] = list(validator.iter_errors(path))
        assert finding.rule == "xml:syntax" and words in finding.message and finding.line
        assert [(f.rule, f.line) for f in validator.iter_errors(path.read_bytes())] == [("xml:syntax", finding.line)]
    else:
        with pytest.raises(InputError) as info:
            list(validator.iter_errors(path))
        message = str(info.value)
        assert words.lower() in message.lower()
        assert "\n" not in message and str(path) in message
        assert MARKER not in message
        with pytest.raises(InputError):
            validator.is_valid(path.read_bytes())
    assert recorder[1] == [], f"{name} caused HTTP requests: {recorder[1]}"


def test_cli_on_whole_corpus(egif_cli: Any, corpus: Path, recorder: tuple[str, list[str]]) -> None:
    """One run over every file: each refused one is listed, nothing leaks, exit 2."""
    result = egif_cli("validate", "--schema", "BS7666@2.0", str(corpus))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert MARKER not in result.stdout + result.stderr
    for name, (code, _words) in CASES.items():
        head = next(line for line in result.stdout.splitlines() if line.startswith(str(corpus / name)))
        if code == 0:
            assert head.endswith("valid (BS7666@2.0)"), head
        elif code == 1:
            assert head.endswith("invalid against BS7666@2.0 (1 error)"), head
            assert f"  {corpus / name}:" in result.stdout and "[xml:syntax]" in result.stdout
        else:
            assert head.endswith(": refused"), head
    assert recorder[1] == []


@pytest.mark.parametrize("name", ["billion-laughs.xml", "external-dtd.xml", "truncated.xml",
                                  "utf16-bom.xml"])
def test_cli_exit_code_per_file(egif_cli: Any, corpus: Path, recorder: tuple[str, list[str]],
                                name: str) -> None:
    code, words = CASES[name]
    result = egif_cli("validate", str(corpus / name))
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if code:
        refusal = [line for line in result.stdout.splitlines() if "error [xml:" in line]
        assert len(refusal) == 1 and words.lower() in refusal[0].lower()
        assert ("[xml:syntax]" in refusal[0]) == (code == 1)
    assert recorder[1] == []


def _address(description: str, *, depth: int = 0, attribute: str | None = None) -> bytes:
    attr = f' note="{attribute}"' if attribute is not None else ""
    nest = "<Description>" * depth + "</Description>" * depth
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<BS7666Address xmlns="http://www.govtalk.gov.uk/people/bs7666"{attr}>'
        f"<PAON><Description>{description}</Description>{nest}</PAON>"
        "<StreetDescription>High Street</StreetDescription><Town>Exeter</Town></BS7666Address>\n"
    ).encode()


def test_deep_nesting_refused(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    path.write_bytes(_address("x", depth=100_000))
    with pytest.raises(UnsafeInputError, match="safety limits"):
        Validator.for_version(registry, "BS7666@2.0").is_valid(path)


def test_huge_text_node_refused(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "huge-text.xml"
    path.write_bytes(_address("A" * (50 * 1024 * 1024)))
    with pytest.raises(UnsafeInputError, match="safety limits") as info:
        Validator.for_version(registry, "BS7666@2.0").is_valid(path)
    assert len(str(info.value)) < 400


def test_megabyte_attribute_is_merely_invalid(registry: Registry, tmp_path: Path) -> None:
    """1 MB is under libxml2's limit: the document parses and fails the schema (exit 1)."""
    path = tmp_path / "big-attribute.xml"
    path.write_bytes(_address("Riverside House", attribute="B" * (1024 * 1024)))
    errors = list(Validator.for_version(registry, "BS7666@2.0").iter_errors(path))
    assert errors and errors[0].rule.startswith("xsd:")
    assert all(len(e.message) <= 300 for e in errors)


def test_quadratic_blowup_refused(registry: Registry, tmp_path: Path) -> None:
    big = "x" * 100_000
    refs = "&big;" * 10_000
    path = tmp_path / "quadratic.xml"
    path.write_bytes(
        f'<?xml version="1.0"?>\n<!DOCTYPE BS7666Address [<!ENTITY big "{big}">]>\n'.encode()
        + _address(refs).split(b"\n", 1)[1])
    with pytest.raises(UnsafeInputError, match="entit"):
        Validator.for_version(registry, "BS7666@2.0").is_valid(path)


def test_cli_huge_cases_exit_2(egif_cli: Any, tmp_path: Path) -> None:
    deep = tmp_path / "deep.xml"
    deep.write_bytes(_address("x", depth=100_000))
    result = egif_cli("validate", str(deep))
    assert result.returncode == 2
    assert "safety limits" in result.stdout and "Traceback" not in result.stderr
