"""Collection documents cut into pieces that parse on their own, with exact lines.

libxml2 keeps an element's line number in a 16-bit field.  Past line 65,535
lxml's ``sourceline`` of an element falls back to the line of its first
child, and when that child is whitespace the answer comes out one line (or
more) too high -- ``EndRange``, ``AddressRecord`` and every other element
that starts with a line break.  The streaming engine avoids this by parsing
ranges of fewer than :data:`~egif.validate.stream_worker.MAX_LINES` lines and
adding each range's line offset; this module does the same for everything
that is not the XSD pass of that engine (the business-rules pass, and the
line fix-up of findings in whole documents).

A :class:`Piece` is the document's root start tag, a run of the root's
children cut at record start tags, and the root end tag, parsed with the
safe parser settings.  Cuts are first guessed from the raw bytes (record
start tags found by :func:`~egif.validate.stream_split.record_pattern`); a
piece that does not parse -- a record start tag inside a comment or CDATA --
makes the rest of the document be cut by
:func:`~egif.validate.stream_split.careful_splits`, which tracks markup.

Files are read with ``pread`` in windows, so memory stays bounded by the
window and the piece, whatever the file size.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lxml import etree

from egif.errors import InputError
from egif.validate.stream_split import (
    ascii_compatible,
    careful_splits,
    find_prolog,
    find_root_end,
    record_pattern,
)
from egif.validate.stream_worker import MAX_LINES
from egif.xmlsafe import make_parser

WINDOW = 64 * 1024
_HEAD = 64 * 1024
_MAX_HEAD = 16 * 1024 * 1024
_TAIL = 64 * 1024
_CAREFUL_TARGET = 256 * 1024
# libxml2's line field saturates here: a sourceline at or above it may be wrong
LINE_LIMIT = 65_535


class Reader(Protocol):
    size: int

    def read(self, offset: int, size: int) -> bytes: ...

    def whole(self) -> bytes | mmap.mmap: ...


class BytesReader:
    """A document already in memory."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def read(self, offset: int, size: int) -> bytes:
        return self.data[offset:offset + size]

    def whole(self) -> bytes | mmap.mmap:
        return self.data

    def close(self) -> None:
        return None


class FileReader:
    """A file read with ``pread`` in windows (nothing mapped unless the careful
    splitter needs it)."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size
        self._map: mmap.mmap | None = None

    def read(self, offset: int, size: int) -> bytes:
        return os.pread(self.fd, size, offset)

    def whole(self) -> bytes | mmap.mmap:
        if self._map is None:
            self._map = mmap.mmap(self.fd, 0, access=mmap.ACCESS_READ)
        return self._map

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
        os.close(self.fd)

    def __enter__(self) -> FileReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Layout:
    """Where the root's content lies in a document."""

    head: bytes  # XML declaration, newline, root start tag, newline
    tail: bytes  # the root end tag
    head_lines: int  # newlines in head
    content_start: int  # offset just after the root start tag
    end: int  # offset of the root end tag
    first_line: int  # line of the byte at content_start
    root_line: int  # line of the root start tag's "<"


def find_layout(reader: Reader) -> Layout | None:
    """The layout of a document, or None when its bytes cannot be cut safely
    (not an ASCII-family encoding, no root start or end tag where expected,
    a self-closing root)."""
    head = reader.read(0, _HEAD)
    if not head.strip() or not ascii_compatible(head):
        return None
    limit = _HEAD
    prolog = find_prolog(head)
    while prolog is None and limit < min(reader.size, _MAX_HEAD):
        limit *= 4
        prolog = find_prolog(reader.read(0, limit))
    if prolog is None or prolog.self_closing:
        return None
    tail_from = max(0, reader.size - _TAIL)
    found = find_root_end(reader.read(tail_from, reader.size - tail_from), prolog.root_qname)
    if found is None or tail_from + found < prolog.content_start:
        return None
    start_bytes = reader.read(0, prolog.content_start)
    root_tag = start_bytes[prolog.root_start:]
    head_bytes = prolog.decl + b"\n" + root_tag + b"\n"
    return Layout(
        head=head_bytes, tail=b"</" + prolog.root_qname + b">",
        head_lines=head_bytes.count(b"\n"), content_start=prolog.content_start,
        end=tail_from + found, first_line=1 + start_bytes.count(b"\n"),
        root_line=1 + start_bytes[:prolog.root_start].count(b"\n"),
    )


@dataclass
class Piece:
    """One parsed range: a wrapper root holding a run of the real root's children."""

    root: etree._Element
    first_line: int  # the document line of the range's first byte
    delta: int  # the wrapper line of the range's first byte
    children_before: int  # root children (elements, comments, PIs) in earlier pieces

    def line(self, el: etree._Element) -> int | None:
        """The exact document line of an element of this piece."""
        line = el.sourceline
        if not isinstance(line, int) or line <= 0:
            return None
        if line < self.delta:  # the wrapper root itself
            return None
        return line - self.delta + self.first_line


def _last_start(buf: bytes, pattern: re.Pattern[bytes], lo: int, hi: int) -> int | None:
    """Offset of the last record start tag beginning in ``buf[lo:hi]``."""
    last = None
    for m in pattern.finditer(buf, lo, min(len(buf), hi + 256)):
        if m.start() >= hi:
            break
        last = m.start()
    return last


def _fast_cuts(reader: Reader, layout: Layout, start: int, record_locals: list[str],
               max_lines: int) -> Iterator[tuple[int, int]]:
    """Ranges ``[a, b)`` cut at record start tags, each under MAX_LINES lines."""
    pattern = record_pattern(record_locals)
    end = layout.end
    pos = start
    while pos < end:
        size = min(WINDOW, end - pos)
        buf = reader.read(pos, size)
        if pos + len(buf) >= end and buf.count(b"\n") < max_lines:
            yield pos, end
            return
        limit = len(buf)
        while limit > 1 and buf.count(b"\n", 0, limit) >= max_lines:
            limit //= 2
        cut = _last_start(buf, pattern, 1, limit)
        if cut is None:
            # one record longer than the window or MAX_LINES: cut at the next
            # start tag however far it is (lines inside it may then be inexact)
            cut = _next_start(reader, pattern, pos, max(limit, 1), end)
        yield pos, pos + cut
        pos += cut


def _next_start(reader: Reader, pattern: re.Pattern[bytes], pos: int, offset: int,
                end: int) -> int:
    """Offset from *pos* of the first record start tag at or after ``pos + offset``."""
    at = pos + offset
    while at < end:
        buf = reader.read(at, min(WINDOW, end - at) + 256)
        m = pattern.search(buf, 0, min(len(buf), end - at + 256))
        if m is not None and at + m.start() < end:
            return at + m.start() - pos
        at += WINDOW
    return end - pos


def pieces(reader: Reader, layout: Layout, record_locals: list[str], *, name: str,
           max_lines: int = MAX_LINES) -> Iterator[Piece]:
    """The document's root content, piece by piece, in order, each piece under
    *max_lines* lines (unless one record alone is longer).

    Raises :class:`~egif.errors.InputError` when a piece cut by the careful
    splitter still does not parse (the document is not well-formed).
    """
    parser = make_parser()
    line = layout.first_line
    children = 0
    delta = layout.head_lines + 1
    careful = False
    ranges: Iterator[tuple[int, int]] = _fast_cuts(reader, layout, layout.content_start,
                                                  record_locals, max_lines)
    while True:
        restart: int | None = None
        for a, b in ranges:
            data = reader.read(a, b - a)
            try:
                root = etree.fromstring(layout.head + data + layout.tail, parser)
            except etree.XMLSyntaxError as exc:
                if careful:
                    raise InputError(f"not well-formed XML: {exc.msg}", file=name) from None
                restart = a
                break
            yield Piece(root, line, delta, children)
            line += data.count(b"\n")
            children += len(root)
        if restart is None:
            return
        careful = True
        ranges = _careful_cuts(reader, restart, layout.end, record_locals,
                               min(_CAREFUL_TARGET, 4 * max_lines))


def _careful_cuts(reader: Reader, start: int, end: int, record_locals: list[str],
                  target: int) -> Iterator[tuple[int, int]]:
    """Cuts every *target* bytes or so, at real record boundaries (markup tracked).

    At least 4 bytes per line on average keeps pieces under the line limit.
    """
    whole = reader.whole()
    prev = start
    for cut in careful_splits(whole, start, end, record_locals, target):
        yield prev, cut
        prev = cut
    yield prev, end


# -- exact lines of elements of a whole-document tree -----------------------------------
def node_key(el: etree._Element, root: etree._Element,
             top_index: dict[etree._Element, int]) -> tuple[int, tuple[int, ...]] | None:
    """Where *el* sits: the index of its top-level ancestor among the root's
    children, then the child indexes down to it.  None for the root itself."""
    steps: list[int] = []
    node = el
    parent = node.getparent()
    while parent is not None and parent is not root:
        steps.append(parent.index(node))
        node = parent
        parent = node.getparent()
    if parent is None:
        return None
    top = top_index.get(node)
    if top is None:
        return None
    steps.reverse()
    return top, tuple(steps)


def exact_lines(reader: Reader, layout: Layout, record_locals: list[str],
                keys: set[tuple[int, tuple[int, ...]]], *, name: str,
                max_lines: int = MAX_LINES) -> dict[tuple[int, tuple[int, ...]], int]:
    """The exact line of each element named by a :func:`node_key`, found by
    parsing the document piece by piece (stopping once all are found)."""
    wanted = sorted(keys)
    found: dict[tuple[int, tuple[int, ...]], int] = {}
    i = 0
    for piece in pieces(reader, layout, record_locals, name=name, max_lines=max_lines):
        upto = piece.children_before + len(piece.root)
        while i < len(wanted) and wanted[i][0] < upto:
            top, steps = wanted[i]
            i += 1
            node: etree._Element | None = piece.root[top - piece.children_before]
            for s in steps:
                if node is None or s >= len(node):
                    node = None
                    break
                node = node[s]
            if node is not None:
                line = piece.line(node)
                if line is not None:
                    found[(top, steps)] = line
        if i >= len(wanted):
            break
    return found
