"""Any source, one engine: compressed data, file objects, standard input and other encodings
give the findings of the plain file, line for line."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egif import Registry
from egif.errors import InputError
from egif.sample import write_sample
from egif.validate import DocumentResult, Validator

Rows = list[tuple[str, str, int | None, int | None, str | None, int | None]]

COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress,
}


def _rows(result: DocumentResult) -> tuple[Rows, int | None]:
    return [(f.rule, f.message, f.line, f.column, f.path, f.record) for f in result.findings], result.records


def _export(count: int, seed: int = 7) -> bytes:
    buf = io.BytesIO()
    write_sample("gazetteer", buf, count=count, seed=seed, invalid_rate=0.2, version="1.0", faults=("all",))
    return buf.getvalue()


@pytest.fixture(scope="module")
def export() -> bytes:
    return _export(60)


@pytest.mark.parametrize("kind", sorted(COMPRESSORS))
@pytest.mark.parametrize("piece", [None, 2_000])
def test_compressed_paths_and_file_objects_equal_the_plain_file(registry: Registry, tmp_path: Path,
                                                               export: bytes, kind: str,
                                                               piece: int | None) -> None:
    validator = Validator.for_version(registry, "GazetteerExtract@1.0", jobs=2, piece_bytes=piece)
    plain = tmp_path / "export.xml"
    plain.write_bytes(export)
    expected = _rows(validator.check(plain, label="export.xml"))
    assert expected[0] and expected[1] == 60  # faults were planted and found
    packed = COMPRESSORS[kind](export)
    squeezed = tmp_path / "export.xml.z"  # the name says nothing: the first bytes decide
    squeezed.write_bytes(packed)
    assert _rows(validator.check(squeezed, label="export.xml")) == expected
    assert _rows(validator.check(io.BytesIO(packed), label="export.xml")) == expected
    assert _rows(validator.check(packed, label="export.xml")) == expected
    with open(squeezed, "rb") as fh:  # a real file object, not seekable from the engine's view
        assert _rows(validator.check(_Unseekable(fh), label="export.xml")) == expected


class _Unseekable(io.RawIOBase):
    """A pipe-like binary stream over a file: read only."""

    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.fh.read(len(b))
        b[:len(data)] = data
        return len(data)


def test_utf16_compressed_equals_utf8(registry: Registry, tmp_path: Path, export: bytes) -> None:
    validator = Validator.for_version(registry, "GazetteerExtract@1.0", piece_bytes=3_000)
    expected = _rows(validator.check(export, label="x"))
    text = export.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    utf16 = text.encode("utf-16")
    assert _rows(validator.check(utf16, label="x")) == expected
    assert _rows(validator.check(io.BytesIO(gzip.compress(utf16)), label="x")) == expected


def test_a_truncated_or_corrupt_compressed_stream_is_one_clear_finding(registry: Registry,
                                                                       export: bytes) -> None:
    validator = Validator.for_version(registry, "GazetteerExtract@1.0")
    packed = gzip.compress(export)
    for broken in (packed[:len(packed) // 2], packed[:40] + b"\0" * 200 + packed[240:]):
        try:
            result = validator.check(io.BytesIO(broken), label="cut.xml.gz")
        except InputError as exc:
            assert "cut.xml.gz" in str(exc) and "\n" not in str(exc)
        else:
            assert not result.valid and result.errors[0].file == "cut.xml.gz"


def test_non_regular_files_are_refused_without_waiting(registry: Registry, tmp_path: Path) -> None:
    validator = Validator.for_version(registry, "GazetteerExtract@1.0")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer for ever
    with pytest.raises(InputError, match="not a regular file"):
        validator.check(fifo)
    with pytest.raises(InputError, match="directory"):
        validator.check(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        validator.check(tmp_path / "missing.xml")


def test_stdin_over_a_mebibyte_plain_and_compressed(registry_path: Path, tmp_path: Path) -> None:
    data = _export(3_000, seed=11)
    assert len(data) > 1 << 20  # spooled to a temporary file, then cut like a path
    path = tmp_path / "big.xml"
    path.write_bytes(data)
    by_path = _egif(registry_path, None, "validate", "--format", "json", "--jobs", "2", str(path))
    assert by_path.returncode == 1, by_path.stderr
    expected = by_path.stdout.replace(str(path).encode(), b"<stdin>")
    assert expected.count(b'"rule"') > 10
    for fed in (data, gzip.compress(data), lzma.compress(data)):
        piped = _egif(registry_path, fed, "validate", "--format", "json", "--jobs", "2", "-")
        assert piped.returncode == 1 and piped.stdout == expected


def _egif(registry: Path, data: bytes | None, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, EGIF_REGISTRY=str(registry))
    return subprocess.run([sys.executable, "-m", "egif", *args], input=data, capture_output=True,
                          env=env, timeout=300, check=False)


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 70_000])
def test_a_small_file_is_read_whole_and_a_grown_one_to_where_it_stands(tmp_path: Path, size: int) -> None:
    from egif.validate.core.sources import _read_fd

    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    path = tmp_path / "f.xml"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert _read_fd(fd, size) == data
        with path.open("ab") as grow:  # written after the size was taken
            grow.write(b"<more/>")
        os.lseek(fd, 0, os.SEEK_SET)
        assert _read_fd(fd, size) == (data + b"<more/>")[: size + 1]
    finally:
        os.close(fd)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b'<?xml version="1.0" encoding="UTF-8"?>', b'<?xml version="1.0" encoding="utf-8"?>',
                        b"<?xml version='1.0' encoding='UTF-8'?>", b'<?xml version="1.0"?>',
                        b'<?xml version="1.0" encoding="ISO-8859-1"?>', b'<?xml version="1.0" encoding="UTF-16"?>',
                        b'<?xml version="1.0" encoding="EBCDIC-US"?>', b"\xef\xbb\xbf", b"\xff\xfe", b"",
                        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', b"<?xml version='1.0'?>"]),
       st.binary(max_size=40))
def test_the_usual_declarations_are_read_as_any_other(start: bytes, rest: bytes) -> None:
    """The shortcut for the usual UTF-8 declarations answers what reading the declaration does."""
    from egif.validate.stream import layout

    head = start + rest
    shortcut = layout.ascii_compatible(head)
    usual = layout._UTF8_DECLARATIONS
    layout._UTF8_DECLARATIONS = ()  # type: ignore[assignment]  # every head read in full
    try:
        assert shortcut is layout.ascii_compatible(head)
    finally:
        layout._UTF8_DECLARATIONS = usual


def test_a_root_start_tag_longer_than_the_sniffed_head_says_so(registry: Registry, tmp_path: Path) -> None:
    """The root is read from the first 4 MB; an attribute of the root longer than that was
    reported as libxml2 saw the cut ("AttValue: ' expected"), not as the limit it is."""
    from egif import UnsafeInputError

    doc = tmp_path / "long-root.xml"
    doc.write_bytes(b'<BS7666Address xmlns="http://www.govtalk.gov.uk/people/bs7666" note="'
                    + b"a" * (5 << 20) + b'"/>')
    with pytest.raises(UnsafeInputError, match="no root start tag ends in the first 4 MB") as info:
        Validator.for_version(registry, "BS7666@2.0").check(str(doc))
    assert "AttValue" not in info.value.message
