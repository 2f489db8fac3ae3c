"""Any source, one kind of input: paths, bytes, file objects, standard input, compressed files.

:func:`open_input` turns what a caller gives -- a path, bytes, a binary file
object (standard input is one) -- into an :class:`Input`: random access to the
document's bytes through a :class:`~egif.validate.stream.cutter.Reader`, and a
file name worker processes can open.  So every source goes through the same
engine, in bounded memory, with the same findings:

* a regular file is read where it lies;
* gzip, bzip2 and xz data (recognised by their first bytes, whatever the
  name) is decompressed as a stream into a temporary file;
* a stream (standard input, a file object) is read into memory when it is
  small (under 1 MiB) and copied to a temporary file otherwise;
* a document in an encoding outside the ASCII family (UTF-16, UTF-32) is
  copied to a temporary UTF-8 file; its lines do not change.

Temporary files go to the system's temporary directory (``$TMPDIR``, else
``/tmp``) and are removed when the input is closed.  Copying stops with a
refusal before the disk is full.  A path that names something other than a
regular file (a directory, a device, a pipe) is refused: a stream is read
only when given as one.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Union

from lxml import etree

from egif.errors import InputError, UnsafeInputError
from egif.validate.stream.cutter import BytesReader, FileReader, Reader
from egif.validate.stream.layout import ascii_compatible, declared_encoding, root_start
from egif.xmlsafe import check_doctype, check_regular_file
from egif.xmlsafe import syntax_error as located_syntax_error

Source = Union[str, "os.PathLike[str]", bytes, IO[bytes]]

IN_MEMORY = 1 << 20  # a stream or file up to this size is kept in memory
_BLOCK = 1 << 20
_SNIFF_LIMIT = 4 * 1024 * 1024
_KEEP_FREE = 256 * 1024 * 1024  # copying stops when the temporary directory would keep less free
_MAGIC: tuple[tuple[bytes, str], ...] = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"))


def _decompressor(kind: str, raw: IO[bytes]) -> Any:
    """A stream reading *raw* decompressed, block by block (modules imported on use)."""
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=raw, mode="rb")
    if kind == "bzip2":
        import bz2

        return bz2.BZ2File(raw)
    import lzma

    return lzma.LZMAFile(raw)


_LIMIT_HINTS = ("XML_PARSE_HUGE", "Excessive depth", "huge text node", "xmlSAX2Characters",
                "AttValue length too long", "Huge input lookup")
_ROOT_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class Input:
    """One document's bytes, ready for the validator; close it when done."""

    def __init__(self, label: str, reader: Reader, path: str | None, temp: Path | None = None,
                 note: str | None = None) -> None:
        self.label = label
        self.reader = reader
        self.path = path  # a file worker processes can open (None: in memory only)
        self.temp = temp
        self.note = note  # how it was read, when not as given ("gzip", "UTF-16")

    @property
    def size(self) -> int:
        return self.reader.size

    def data(self) -> bytes:
        """The whole document."""
        return self.reader.read(0, self.reader.size)

    def close(self) -> None:
        close = getattr(self.reader, "close", None)
        if close is not None:
            close()
        if self.temp is not None:
            with contextlib.suppress(OSError):
                self.temp.unlink()
            self.temp = None

    def __enter__(self) -> Input:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def documents_under(folder: str | Path) -> list[Path]:
    """The XML documents below *folder*, in a stable order: every regular file whose name ends
    in ``.xml`` in any case (``EXPORT.XML`` as well as ``export.xml``)."""
    found = [p for p in Path(folder).rglob("*") if p.suffix.lower() == ".xml" and p.is_file()]
    # the order of the paths themselves (part by part, case folded where the system folds it),
    # with one key per path instead of comparing paths n log n times
    return sorted(found, key=lambda p: tuple(os.path.normcase(part) for part in p.parts))


def label_of(source: Source) -> str:
    """How findings name a source: its path, ``<bytes>``, or the file object's name."""
    if isinstance(source, bytes):
        return "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    name = getattr(source, "name", None)
    return str(name) if isinstance(name, str) else "<stream>"


def open_input(source: Source, label: str | None = None, *,
               progress: Callable[[int, int], None] | None = None) -> Input:
    """An :class:`Input` for *source* (see the module documentation); *progress* hears
    ``(bytes read, bytes in total or 0)`` while a source is copied."""
    name = label or label_of(source)
    if isinstance(source, bytes):
        return _from_head(io.BytesIO(source), name, len(source), progress, in_memory=source)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        data, size = _plain_file(path, name)
        if data is not None:
            return small_input(data, name)
        if size > IN_MEMORY:
            return Input(name, FileReader(path), path)
        with open(path, "rb") as fh:
            return _from_head(fh, name, abs(size), progress)
    if not hasattr(source, "read"):
        raise TypeError(f"cannot validate a {type(source).__name__}: give a path, bytes or a binary file object")
    return _from_head(source, name, 0, progress)


def small_input(data: bytes, label: str) -> Input:
    """The :class:`Input` :func:`open_input` makes of a small plain file whose bytes, as read
    by :func:`small_plain_file`, are *data*."""
    return Input(label, BytesReader(data), None)


def small_plain_file(path: str) -> bytes | None:
    """The bytes of *path* when it is a small regular file, neither compressed nor in an
    encoding other than ASCII's family -- what :func:`open_input` would hold in memory as
    they are; None for any other file, or one that cannot be read (open_input says why)."""
    try:
        return _plain_file(path, path)[0]
    except InputError:
        return None


def _plain_file(path: str, name: str) -> tuple[bytes | None, int]:
    """A regular file's bytes when small and plain, else None; and its size, as a positive
    number when it can be read in place (big, plain), negated when it must be copied out
    (compressed, or another encoding)."""
    check_regular_file(path, name)  # a FIFO would wait for a writer, a device never ends
    try:
        # plain descriptors: opening a file object costs more than parsing a small document
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped since it was looked at
            check_regular_file(path, name)
            raise InputError("not a regular file", file=name)
        if st.st_size <= IN_MEMORY:  # small: one read, then slices
            data = _read_fd(fd, st.st_size)
            if _compression(data) is None and ascii_compatible(data[:64 * 1024]):
                return data, len(data)
        else:
            head = os.pread(fd, 64 * 1024, 0)
            if _compression(head) is None and ascii_compatible(head):
                return None, st.st_size
        return None, -st.st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    finally:
        os.close(fd)


def _read_fd(fd: int, size: int) -> bytes:
    """A regular file of *size* bytes (as fstat said), read whole.  One byte more is asked
    for, so that a file grown since is read to where it stands; once *size* bytes are in
    and a read gave less than asked, the end is reached (no extra call to hear it)."""
    want = size + 1
    parts: list[bytes] = []
    got = 0
    while got < want:
        asked = want - got
        block = os.read(fd, asked)
        if not block:
            break
        parts.append(block)
        got += len(block)
        if len(block) < asked and got >= size:
            break
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _read(fh: IO[bytes], name: str, n: int) -> bytes:
    try:
        data = _read_some(fh, n)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=name) from None
    except EOFError as exc:
        raise InputError(f"the compressed data is damaged: {exc}", file=name) from None
    except Exception as exc:  # zlib.error, lzma.LZMAError: the decompressors' own errors
        if type(exc).__module__ not in ("zlib", "_lzma", "lzma", "_bz2"):
            raise
        raise InputError(f"the compressed data is damaged: {exc}", file=name) from None
    if not isinstance(data, bytes):
        raise InputError("a file object given to the validator must be opened in binary mode", file=name)
    return data


def _read_some(fh: IO[bytes], n: int) -> bytes:
    """*n* bytes, or fewer at the end (a raw stream may return less at a time).  A
    buffered stream (standard input) is read one system call at a time: its own
    ``read(n)`` loops in C, where a Ctrl-C that arrives between two calls waits for the
    next input to be noticed."""
    read1 = getattr(fh, "read1", None) or fh.read
    first = read1(n)
    if not isinstance(first, bytes) or len(first) in (0, n):
        return first
    chunks, size = [first], len(first)
    while size < n:
        more = read1(n - size)
        if not more:
            break
        chunks.append(more)
        size += len(more)
    return b"".join(chunks)


def _compression(head: bytes) -> str | None:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


class _Prepended(io.RawIOBase):
    """A stream whose first bytes were already read: those, then the rest."""

    def __init__(self, first: bytes, rest: IO[bytes]) -> None:
        self.first = first
        self.rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self.first:
            n = min(len(view), len(self.first))
            view[:n] = self.first[:n]
            self.first = self.first[n:]
            return n
        data = self.rest.read(len(view))
        if not isinstance(data, bytes):
            raise TypeError("not a binary stream")
        view[:len(data)] = data
        return len(data)


def _from_head(stream: IO[bytes], name: str, total: int, progress: Callable[[int, int], None] | None,
               in_memory: bytes | None = None) -> Input:
    head = _read(stream, name, 64 * 1024)
    kind = _compression(head)
    note = None
    if kind is not None:
        raw = io.BufferedReader(_Prepended(head, stream))
        stream = _decompressor(kind, raw)
        head = _read(stream, name, 64 * 1024)
        note = kind
        in_memory = None
    decoder = None
    if not ascii_compatible(head):
        codec = _codec(head)
        import codecs

        try:
            decoder = codecs.getincrementaldecoder(codec)("strict")
        except LookupError:
            raise InputError(f"unsupported encoding {codec!r}", file=name) from None
        note = f"{note}, {codec}" if note else codec
        in_memory = None
    if in_memory is not None:
        return Input(name, BytesReader(in_memory), None)
    return _copy(stream, head, name, total, progress, decoder, note)


def _codec(head: bytes) -> str:
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if head[:4] == b"<\x00?\x00":
        return "utf-16-le"
    if head[:4] == b"\x00<\x00?":
        return "utf-16-be"
    return declared_encoding(head) or "utf-8"


def _copy(stream: IO[bytes], head: bytes, name: str, total: int, progress: Callable[[int, int], None] | None,
          decoder: Any, note: str | None) -> Input:
    """Read the rest of *stream*: into memory when it ends soon, else into a temporary file."""
    chunks = [head]
    size = len(head)
    first = decoder is not None
    while size <= IN_MEMORY:
        block = _read(stream, name, _BLOCK)
        if not block:
            data = b"".join(chunks)
            if decoder is not None:
                data = _recode(decoder, data, True, True, name)
            return Input(name, BytesReader(data), None, note=note)
        chunks.append(block)
        size += len(block)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="egif-input-", suffix=".xml")
    temp = Path(tmp)
    try:
        with open(fd, "wb") as out:
            pending = b"".join(chunks)
            written = 0
            while True:
                data = _recode(decoder, pending, first, not pending, name) if decoder is not None else pending
                first = False
                out.write(data)
                written += len(data)
                if written // (64 << 20) != (written - len(data)) // (64 << 20):
                    _room_left(temp, name)
                if progress is not None:
                    progress(_consumed(stream, written), total)
                if not pending:
                    break
                pending = _read(stream, name, _BLOCK)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return Input(name, FileReader(str(temp)), str(temp), temp, note)


def _consumed(stream: Any, written: int) -> int:
    """How far into the original source a copy has read (compressed bytes when known)."""
    inner = getattr(stream, "fileobj", None) or getattr(stream, "_fp", None)
    with contextlib.suppress(Exception):
        if inner is not None:
            return int(inner.tell())
    return written


def _room_left(temp: Path, name: str) -> None:
    import shutil

    if shutil.disk_usage(temp.parent).free < _KEEP_FREE:
        raise UnsafeInputError(f"refused: the copy in {temp.parent} would fill the disk (it holds "
                               f"{temp.stat().st_size / 1e9:.1f} GB so far)", file=name)


def _recode(decoder: Any, data: bytes, first: bool, final: bool, name: str) -> bytes:
    try:
        text = decoder.decode(data, final=final)
    except UnicodeDecodeError as exc:
        raise InputError(f"not valid {decoder.__class__.__module__.rpartition('.')[2]}: {exc.reason}",
                         file=name) from None
    if first:
        text = text.lstrip("\ufeff")
        text = re.sub(r"^(<\?xml[^>]*?encoding\s*=\s*)([\"'])[^\"']*\2", r"\1\2UTF-8\2", text, count=1)
    encoded: bytes = text.encode("utf-8")
    return encoded


# -- the root element -----------------------------------------------------------------------
def sniff_root(source: Input) -> etree._Element:
    """The root element as the first bytes show it (a start tag with no content); the prolog
    is checked on the way: a DOCTYPE with entities or an external DTD is refused."""
    head = source.reader.read(0, 64 * 1024)
    start = root_start(head)
    if start is not None and not start[2]:
        # no DOCTYPE: the root start tag alone tells its name, namespaces and attributes
        decl, tag, _doctype = start
        closed = tag[:-2] + b">" if tag.endswith(b"/>") else tag
        qname = re.match(rb"<([^\s/>]+)", tag)
        try:
            lines = head.count(b"\n", 0, head.index(tag)) - decl.count(b"\n")  # the tag keeps its line
            root = etree.fromstring(decl + b"\n" * lines + closed
                                    + b"</" + (qname.group(1) if qname else b"") + b">", _ROOT_PARSER)
        except etree.XMLSyntaxError:
            pass
        else:
            return root
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True,
                                 load_dtd=False, dtd_validation=False, huge_tree=False)
    reader, name = source.reader, source.label
    at = 0
    try:
        while at < min(reader.size, _SNIFF_LIMIT):
            chunk = reader.read(at, 64 * 1024)
            at += len(chunk)
            parser.feed(chunk)
            for _event, elem in parser.read_events():
                if isinstance(elem, etree._Element):
                    check_doctype(elem.getroottree(), name)
                    return elem
        if at >= _SNIFF_LIMIT:
            # (ending the parse here would blame the cut: "AttValue: ' expected" in a long attribute)
            raise UnsafeInputError(f"refused: no root start tag ends in the first {_SNIFF_LIMIT // (1 << 20)} MB "
                                   "(a prolog, or a start tag with its attributes, longer than that)", file=name)
        parser.close()
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, reader.read(0, 64 * 1024), name) from None
    if not reader.read(0, 64 * 1024).strip():
        raise InputError("empty file, not XML", file=name)
    raise InputError("no root element found in the first 4 MB", file=name)


def syntax_error(exc: etree.XMLSyntaxError, head: bytes, name: str) -> InputError:
    """The one-line error for a document that does not parse."""
    if not head.strip():
        return InputError("empty file, not XML", file=name)
    if any(m in head for m in (b"<!ENTITY", "<!ENTITY".encode("utf-16-le"), "<!ENTITY".encode("utf-16-be"))):
        return UnsafeInputError("refused: the DOCTYPE declares entities; entity declarations are not accepted",
                                file=name)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else str(exc)
    if any(h in text for h in _LIMIT_HINTS):
        return limits_error(text, name)
    return located_syntax_error(exc, name)


def limits_error(text: str, name: str) -> UnsafeInputError:
    detail = text.strip().splitlines()[0].replace(", use XML_PARSE_HUGE option", "")
    detail = detail.replace("not well-formed XML: ", "")
    return UnsafeInputError(
        "refused: the document exceeds the parser's safety limits (nesting deeper than 256 "
        f"levels, or a text or attribute value over 10 MB): {detail}", file=name)
