"""Byte-level helpers of the streaming engine: the prolog, the tail, split points.

Nothing here decides validity.  These functions only find places where a
collection file can be cut; every cut is checked afterwards by parsing the
piece with the safe parser, so a wrong guess (a record start tag inside a
comment, CDATA or a nested element) shows up as a piece that does not parse,
and the engine then switches to :func:`careful_splits`, which tracks markup
and depth exactly.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass

# Encodings in which every byte below 0x80 means its ASCII character, so that
# searching for b"<" and tag names in the raw bytes is sound.
_ASCII_FAMILY = re.compile(
    r"^(utf-?8|us-?ascii|ascii|iso[-_]?8859[-_]?\d+|latin[-_]?\d|windows-125\d|cp125\d)$", re.I
)

_DECL = re.compile(rb"<\?xml\s(?:[^?]|\?(?!>))*\?>")
_ENCODING = re.compile(rb"""encoding\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_WS = re.compile(rb"[ \t\r\n]*")
_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_PI = re.compile(rb"<\?.*?\?>", re.S)
# DOCTYPE with an optional internal subset; quoted strings may hold brackets
_DOCTYPE = re.compile(
    rb"""<!DOCTYPE(?:[^\["'>]|"[^"]*"|'[^']*')*(?:\[(?:[^\]"']|"[^"]*"|'[^']*')*\]\s*)?>""", re.S
)
_NAME = rb"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?"
_START_TAG = re.compile(rb"<(" + _NAME + rb""")(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
# Tokens of element content, for the careful splitter.
_TOKEN = re.compile(
    rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|</[^>]*>|<(?:[^!?/>\"']|\"[^\"]*\"|'[^']*')*>", re.S
)
_QNAME = re.compile(rb"<([^\s/>]+)")
_TAIL_OK = re.compile(rb"(?:\s+|<!--(?:[^-]|-(?!-))*-->|<\?(?:[^?]|\?(?!>))*\?>)*\Z")


@dataclass(frozen=True)
class Prolog:
    """Where the root start tag sits in a file, and the bytes around it."""

    decl: bytes  # the XML declaration (empty when there is none)
    root_qname: bytes  # the root's tag as written, e.g. b"gze:GazetteerExtract"
    root_start: int  # offset of the root's "<"
    content_start: int  # offset just after the root start tag's ">"
    self_closing: bool


def ascii_compatible(head: bytes) -> bool:
    """True when the file's encoding lets us search its raw bytes for markup."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        return False
    if head[:4] in (b"<\x00?\x00", b"\x00<\x00?", b"\x00\x00\x00<", b"<\x00\x00\x00", b"\x4c\x6f\xa7\x94"):
        return False
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    m = _DECL.match(body)
    if m is None:
        return True
    enc = _ENCODING.search(m.group(0))
    if enc is None:
        return True
    name = (enc.group(1) or enc.group(2) or b"").decode("ascii", "replace")
    return bool(_ASCII_FAMILY.match(name))


def declared_encoding(head: bytes) -> str | None:
    m = _DECL.match(head[3:] if head.startswith(b"\xef\xbb\xbf") else head)
    if m is None:
        return None
    enc = _ENCODING.search(m.group(0))
    return (enc.group(1) or enc.group(2) or b"").decode("ascii", "replace") if enc else None


def find_prolog(head: bytes) -> Prolog | None:
    """Locate the root start tag in the first bytes of a file (None: not found)."""
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    decl = b""
    m = _DECL.match(head, pos)
    if m is not None:
        decl = m.group(0)
        pos = m.end()
    while True:
        pos = _WS.match(head, pos).end()  # type: ignore[union-attr]
        if head.startswith(b"<!--", pos):
            m = _COMMENT.match(head, pos)
        elif head.startswith(b"<?", pos):
            m = _PI.match(head, pos)
        elif head.startswith(b"<!DOCTYPE", pos):
            m = _DOCTYPE.match(head, pos)
        else:
            break
        if m is None:
            return None
        pos = m.end()
    m = _START_TAG.match(head, pos)
    if m is None:
        return None
    return Prolog(decl=decl, root_qname=m.group(1), root_start=pos, content_start=m.end(),
                  self_closing=m.group(2) == b"/")


def find_root_end(tail: bytes, root_qname: bytes) -> int | None:
    """Offset in *tail* of the root end tag, when only comments, PIs and space follow it."""
    pattern = re.compile(rb"</" + re.escape(root_qname) + rb"\s*>")
    last = None
    for m in pattern.finditer(tail):
        last = m
    if last is None or not _TAIL_OK.match(tail, last.end()):
        return None
    return last.start()


def record_pattern(local_names: list[str]) -> re.Pattern[bytes]:
    """A start tag of any of the record elements, under any prefix or none."""
    names = b"|".join(re.escape(n.encode("utf-8")) for n in sorted(local_names))
    return re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(?:" + names + rb")[\s/>]")


def careful_splits(data: bytes | mmap.mmap, start: int, end: int, local_names: list[str],
                   target: int) -> Iterator[int]:
    """Offsets in ``[start, end)`` where a depth-1 record element starts.

    Tracks comments, CDATA, processing instructions and element depth, so the
    offsets are real record boundaries in a well-formed file.  One offset is
    given about every *target* bytes (never *start* itself).
    """
    names = {n.encode("utf-8") for n in local_names}
    depth = 0
    last = start
    for m in _TOKEN.finditer(data, start, end):
        tok = m.group(0)
        second = tok[1:2]
        if second in (b"!", b"?"):
            continue
        if second == b"/":
            depth -= 1
            continue
        if depth == 0:
            qname = _QNAME.match(tok)
            local = qname.group(1).rpartition(b":")[2] if qname else b""
            if local in names and m.start() - last >= target:
                yield m.start()
                last = m.start()
        if not tok.endswith(b"/>"):
            depth += 1
