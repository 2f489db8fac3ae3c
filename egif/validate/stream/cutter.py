"""How a collection file is cut into ranges that parse on their own.

Nothing here decides validity.  Inside the root content that
:func:`egif.validate.stream.layout.read_frame` found, the cutter proposes cuts at
record start tags about every *target* bytes (:func:`fast_cuts`): a byte
search for ``<`` + the record's local name, under any prefix.  A search on
raw bytes can be fooled -- a record start tag inside a comment, a CDATA
section or a nested element -- but a wrong cut always leaves a range that
does not parse (an unterminated comment, an unclosed element), while every
range that parses ends at depth 1 outside markup, so the next cut is sound.
The engine then asks :func:`careful_cut` for the next real cut: a tokenizer
that tracks comments, CDATA, processing instructions and depth, run from
the last sound cut over just enough bytes.

Files are read through a :class:`Reader` in small windows (``pread`` on a
descriptor, or slices of bytes in memory), never mapped: pages the parent
touches would count as its resident memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Protocol

# One token of element content, matched at a "<": comment, CDATA, PI, end tag, start tag.
# Compiled where used (re keeps it): only cutting a big file tokenizes, and compiling it
# costs every start-up of egif a little.
_TOKEN = rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|</[^>]*>|<(?:[^!?/>\"']|\"[^\"]*\"|'[^']*')*>"
_QNAME = rb"<([^\s/>]+)"

_LONGEST_TOKEN = 256 * 1024 * 1024  # a comment or CDATA section longer than this ends the search
ATTRIBUTE_LIMIT = 10_000  # attributes on one element: more is refused before parsing
_FLOOD: list[re.Pattern[bytes]] = []  # compiled on first use (a few milliseconds)


class Reader(Protocol):
    """Random access to the bytes of one input."""

    size: int

    def read(self, offset: int, size: int) -> bytes: ...


class BytesReader:
    """A document held in memory."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def read(self, offset: int, size: int) -> bytes:
        return self.data[offset:offset + size]


class FileReader:
    """A file read with ``pread``; no pages mapped."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size

    def read(self, offset: int, size: int) -> bytes:
        return os.pread(self.fd, size, offset)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def record_pattern(local_names: tuple[str, ...]) -> re.Pattern[bytes]:
    """A start tag of one of the record elements, under any prefix or none (made once for
    each set of names: a batch of small messages asks for it once a message)."""
    found = _PATTERNS.get(local_names)
    if found is None:
        names = b"|".join(re.escape(n.encode("utf-8")) for n in sorted(local_names))
        # possessive: a prefix ends at the first ":" or not at all, so giving back what it took
        # never finds another match (a third of the cost at each "<" of a range)
        found = _PATTERNS[local_names] = re.compile(rb"<(?:[A-Za-z_][\w.\-]*+:)?+(?:" + names + rb")[\s/>]")
    return found


_PATTERNS: dict[tuple[str, ...], re.Pattern[bytes]] = {}
_NAMES: dict[tuple[str, ...], re.Pattern[bytes]] = {}


def record_starts(data: bytes, local_names: tuple[str, ...]) -> list[int]:
    """Offsets of every record start tag in *data*: what ``record_pattern(local_names)``
    finds, found about twice as fast.

    The record's name is searched alone, a literal scan, and a hit kept when a ``<`` stands
    just before it, or a ``:`` that ends a prefix whose ``<`` the full pattern confirms.  The
    hits cannot overlap the tags they stand for: a name and its terminator hold neither
    ``<`` nor ``:``, the only characters a record's name can follow."""
    names = _NAMES.get(local_names)
    if names is None:
        alternatives = b"|".join(re.escape(n.encode("utf-8")) for n in sorted(local_names))
        names = _NAMES[local_names] = re.compile(rb"(?:" + alternatives + rb")[\s/>]")
    full = record_pattern(local_names)
    starts: list[int] = []
    for m in names.finditer(data):
        at = m.start()
        before = data[at - 1] if at else 0
        if before == 0x3C:  # "<"
            starts.append(at - 1)
        elif before == 0x3A:  # ":" - a prefix, or a colon in text
            lt = data.rfind(b"<", 0, at)
            if lt >= 0:
                tag = full.match(data, lt)
                if tag is not None and tag.end() == m.end():
                    starts.append(lt)
    return starts


def fast_cuts(reader: Reader, pattern: re.Pattern[bytes], start: int, end: int,
              target: int) -> Iterator[int]:
    """Offsets in ``(start, end)`` of record start tags, about *target* bytes apart.

    Small windows are read first (records are usually short) and widened while
    nothing is found, so a cut costs a few kilobytes of reading.
    """
    pos = start
    while True:
        at = pos + target
        found = None
        window = 4096
        while at < end:
            buf = reader.read(at, min(window, end - at) + 256)
            m = pattern.search(buf, 0, min(len(buf), end - at))
            if m is not None:
                found = at + m.start()
                break
            at += window
            window = min(window * 2, 1 << 16)
        if found is None:
            return
        pos = found
        yield pos


def careful_cut(reader: Reader, local_names: tuple[str, ...], start: int, end: int,
                target: int) -> int:
    """The first depth-1 record start tag at or after ``start + target``, found by
    tokenizing from *start* (which must itself be a sound cut); *end* if there is none."""
    names = {n.encode("utf-8") for n in local_names}
    token_at = re.compile(_TOKEN, re.S).match
    qname_of = re.compile(_QNAME).match
    window = 1 << 16
    buf = reader.read(start, min(window, end - start))
    base = start  # offset of buf[0]
    pos = 0
    depth = 0
    while True:
        lt = buf.find(b"<", pos)
        if lt < 0:
            if base + len(buf) >= end:
                return end
            base, buf, pos = base + len(buf), reader.read(base + len(buf), min(window, end - base - len(buf))), 0
            continue
        m = token_at(buf, lt)
        if m is None:
            # the token runs past the window: read on from its "<" (a malformed "<" reads
            # to the end of the range, which then does not parse: the engine reports it)
            if base + len(buf) >= end or len(buf) - lt > _LONGEST_TOKEN:
                return end
            more = reader.read(base + len(buf), min(max(window, len(buf)), end - base - len(buf)))
            buf, base, pos = buf[lt:] + more, base + lt, 0
            window *= 2
            continue
        token = m.group(0)
        second = token[1:2]
        if second not in (b"!", b"?"):
            if second == b"/":
                depth -= 1
            else:
                if depth == 0 and base + lt >= start + target and base + lt > start:
                    qname = qname_of(token)
                    local = qname.group(1).rpartition(b":")[2] if qname else b""
                    if local in names:
                        return base + lt
                if not token.endswith(b"/>"):
                    depth += 1
        pos = m.end()


def attribute_flood(data: bytes) -> int | None:
    """Offset of a start tag carrying more than :data:`ATTRIBUTE_LIMIT` attributes, if any.

    Checked before parsing big ranges and big documents: libxml2 parses such a
    tag, but a validator's error log then holds an entry per attribute
    (a million attributes took 1.3 GB)."""
    if not _FLOOD:
        _FLOOD.append(re.compile(
            rb"<[A-Za-z_][^\s/>]*(?>\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*')){%d}" % ATTRIBUTE_LIMIT))
    m = _FLOOD[0].search(data)
    return m.start() if m is not None else None
