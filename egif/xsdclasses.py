"""Pattern facets written so that libxml2 checks them for less, with the same meaning.

libxml2 tests a character against a class such as ``[A-Za-z0-9 :;<=>?@%&'()*+,\\-.]``
range by range, and always tests every range.  That class is 21 ranges as written,
but 4 once merged (``[ %-.0-Za-z]``); a gazetteer's text fields pay for every
character of every value.  Before the ranges of a big document are validated, each
class of the schema's pattern facets that is written with at least two ranges more
than it needs is replaced by its merged form.

The meaning cannot change, because libxml2 itself says what each class holds.
Only plain classes are rewritten: literal characters, ranges, the
single-character escapes and ``\\s``; no negation, subtraction, category or
other multi-character escape, and beyond ASCII only characters standing alone
(GovTalk's address lines name "£" and "€").  Such a class holds only ASCII
characters and the ones it names, so asking libxml2 about every character an
XML document can carry below 128, and about those, gives its whole set.  The
merged form is asked about in the same way, and it is used only when libxml2
gives the same set for both.  A schema whose rewritten form does not compile
is compiled as written.

libxml2 quotes a pattern in its message when a value fails it.
:func:`restore_message` puts the pattern as written back, so findings read the
same whichever form checked them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

from lxml import etree

from egif.xmlsafe import XSD_NS, make_parser

# every character below 128 an XML 1.0 document can carry, and three beyond it that a class
# must not hold unless it names them (a check that the class is what it seems)
_PROBES = "\t\n\r" + "".join(chr(c) for c in range(0x20, 0x80)) + "\u00e9\u2013\U00010000"
_PLAIN_ESCAPES = frozenset("nrts\\|.-^?*+{}()[]")  # \s: space, tab, newline, return
_MIN_SAVED = 2  # ranges a rewrite must save to be worth a different pattern
_MAX_CLASSES = 64  # classes of one schema asked about; the others stay as written
_MAX_BEYOND = 64  # characters beyond ASCII the classes of one schema may name
_BATCH = 8  # classes asked about in one validation
_PATTERN = f"{{{XSD_NS}}}pattern"

# libxml2's answer for each class asked about in this process: its characters, or None
# when it does not compile
_KNOWN: dict[str, frozenset[str] | None] = {}


class RewrittenSchema(etree.XMLSchema):
    """A libxml2 schema compiled from rewritten pattern facets; ``originals`` maps each
    pattern as compiled to the pattern as written."""

    originals: dict[str, str]


def compile_rewritten(files: Mapping[str, bytes],
                      main_tree: Callable[[Mapping[str, bytes]], etree._ElementTree]) -> RewrittenSchema | None:
    """The libxml2 schema of *files* with their pattern facets rewritten, the main document
    parsed by ``main_tree`` (its parser resolving the others); None when no facet gains by
    it, or the rewritten documents do not compile (then compile them as written)."""
    rewritten = faster_files(files)
    if rewritten is None:
        return None
    faster, originals = rewritten
    try:
        schema = RewrittenSchema(main_tree(faster))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError):
        return None
    schema.originals = originals
    return schema


def faster_files(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], dict[str, str]] | None:
    """The schema documents with their pattern facets rewritten, and each rewritten
    pattern's original; None when no facet gains by it."""
    trees: dict[str, etree._Element] = {}
    facets: list[tuple[str, etree._Element, str]] = []
    for name, data in files.items():
        if b"pattern" not in data or b"<!DOCTYPE" in data:
            continue  # (entities in a DOCTYPE would not survive a rewrite as they are)
        try:
            root = etree.fromstring(data, make_parser())
        except etree.XMLSyntaxError:
            continue
        found = [(name, el, value) for el in root.iter(_PATTERN) if (value := el.get("value")) is not None]
        if found:
            trees[name] = root
            facets.extend(found)
    if not facets:
        return None
    written = {value for _n, _el, value in facets}
    new = rewrite_all(sorted(written))
    # a rewritten pattern must lead back to one original alone
    originals: dict[str, str] = {}
    clashes: set[str] = set()
    for value, faster in new.items():
        if faster in written or (faster in originals and originals[faster] != value):
            clashes.add(faster)
        originals.setdefault(faster, value)
    originals = {f: v for f, v in originals.items() if f not in clashes}
    changed: set[str] = set()
    for name, el, value in facets:
        rewritten = new.get(value)
        if rewritten is not None and rewritten in originals:
            el.set("value", rewritten)
            changed.add(name)
    if not changed:
        return None
    out = dict(files)
    for name in changed:
        out[name] = etree.tostring(trees[name].getroottree(), encoding="UTF-8", xml_declaration=True)
    return out, originals


def restore_message(message: str, originals: Mapping[str, str]) -> str:
    """*message* (libxml2's, about a pattern facet) quoting the pattern as written."""
    text = message.rstrip()
    found = [f for f in originals if text.endswith(f" pattern '{f}'.")]
    if not found:
        return message
    faster = max(found, key=len)
    cut = len(text) - len(faster) - 2
    return text[:cut] + originals[faster] + text[cut + len(faster):] + message[len(text):]


def rewrite_all(patterns: Iterable[str]) -> dict[str, str]:
    """For each pattern that gains by it, its rewritten form.  Each class written with
    enough ranges is read as the XSD grammar says and merged; libxml2 is then asked about
    both forms of every such class at once, and a class is rewritten only where its
    answers agree (so a class libxml2 reads otherwise than the grammar stays as written)."""
    proposals: dict[str, list[tuple[int, int, str]]] = {}
    classes: set[str] = set()
    beyond: set[str] = set()
    for p in patterns:
        for a, b in _classes(p) or []:
            body = p[a + 1:b]
            members = _read(body) if _count(body) > _MIN_SAVED else None
            if members is None:
                continue
            merged = _emit(_ranges(members))
            if _count(body) - _count(merged[1:-1]) < _MIN_SAVED:
                continue
            # a schema's classes cost one probe each, its named characters one probe for every
            # class: both are bounded, so that no schema makes asking costly
            named = {ch for ch in body if not ch.isascii()}
            if (body not in classes and len(classes) >= _MAX_CLASSES) or len(beyond | named) > _MAX_BEYOND:
                continue
            classes.add(body)
            beyond |= named
            proposals.setdefault(p, []).append((a, b, merged))
    _ask([body for p, found in proposals.items() for a, b, merged in found for body in (p[a + 1:b], merged[1:-1])])
    out: dict[str, str] = {}
    for p, found in proposals.items():
        pieces: list[str] = []
        at = 0
        for a, b, merged in found:
            written = _KNOWN.get(p[a + 1:b])
            if written is None or _KNOWN.get(merged[1:-1]) != written:
                continue  # libxml2 reads one of the two otherwise: keep the class as written
            pieces += [p[at:a], merged]
            at = b + 1
        if pieces:
            out[p] = "".join(pieces) + p[at:]
    return out


_ESCAPED = {"n": "\n", "r": "\r", "t": "\t"}


def _read(body: str) -> frozenset[str] | None:
    """The characters of a plain class body as the XSD grammar reads it (a "-" first or
    last stands for itself); None when it is not read with certainty."""
    items: list[str | None] = []  # a character, or None for "-" between two of them
    i = 0
    members: set[str] = set()
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            code = body[i + 1]
            if code == "s":
                members.update(" \t\n\r")
                items.append("")  # (a multi-character escape: no range may end or start here)
            else:
                items.append(_ESCAPED.get(code, code))
            i += 2
        elif ch == "-" and 0 < i < len(body) - 1:
            items.append(None)
            i += 1
        else:
            items.append(ch)
            i += 1
    k = 0
    while k < len(items):
        item = items[k]
        if k + 2 < len(items) and items[k + 1] is None:
            low, high = item, items[k + 2]
            if not low or not high or len(low) != 1 or len(high) != 1 or low > high:
                return None
            members.update(chr(c) for c in range(ord(low), ord(high) + 1))
            k += 3
        elif item is None:
            return None  # a "-" that is neither first, last nor between two characters
        else:
            members.update(item)
            k += 1
    return frozenset(members)


def _classes(pattern: str) -> list[tuple[int, int]] | None:
    """The (open, close) bracket offsets of the pattern's plain classes; None when the
    pattern is not read to its end with certainty (it is then left as written)."""
    spans: list[tuple[int, int]] = []
    after = 0  # (the offset after the last class found)
    try:
        for i, ch in _outside_escapes(pattern, 0):
            if i < after or ch != "[":
                continue
            end = _class_end(pattern, i)
            if end is None:
                return None
            if _plain(pattern[i + 1:end]):
                spans.append((i, end))
            after = end + 1
    except _Unread:
        return None
    return spans


def _class_end(pattern: str, start: int) -> int | None:
    """The offset of the "]" closing the class opened at *start* (a subtraction's inner
    class included); None when there is none."""
    depth = 0
    try:
        for i, ch in _outside_escapes(pattern, start + 1):
            if ch == "[":
                depth += 1
            elif ch == "]":
                if depth == 0:
                    return i
                depth -= 1
    except _Unread:
        return None
    return None


class _Unread(Exception):
    """A category escape whose brace is not closed: the pattern is not read with certainty."""


def _outside_escapes(pattern: str, start: int) -> Iterator[tuple[int, str]]:
    """The offsets and characters of *pattern* from *start* that no backslash escapes
    (``\\p{...}`` runs to its brace)."""
    i = start
    while i < len(pattern):
        if pattern[i] != "\\":
            yield i, pattern[i]
            i += 1
        elif pattern[i + 1:i + 2] in ("p", "P"):
            close = pattern.find("}", i)
            if close < 0:
                raise _Unread
            i = close + 1
        else:
            i += 2


def _plain(body: str) -> bool:
    """Whether a class body is plain: characters, ranges, single-character escapes and
    ``\\s``; no negation, subtraction or other escape; beyond ASCII, only characters of
    their own (no "-" beside one, so no range reaches past ASCII)."""
    if not body or body[0] == "^":
        return False
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            if body[i + 1:i + 2] not in _PLAIN_ESCAPES:
                return False
            i += 2
        else:
            if ch in "[]" or (ch < " " and ch not in "\t\n\r"):
                return False
            if not ch.isascii() and "-" in body[max(0, i - 1):i + 2]:
                return False
            i += 1
    return True


def _count(body: str) -> int:
    """About how many ranges libxml2 tests for a class body: one per character, escape or
    range."""
    items = 0
    i = 0
    while i < len(body):
        i += 2 if body[i] == "\\" else 1
        if body[i:i + 1] == "-" and i + 1 < len(body):
            i += 1
            i += 2 if body[i] == "\\" else 1
        items += 1
    return items


def _ranges(members: frozenset[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for code in sorted(map(ord, members)):
        if out and out[-1][1] == code - 1:
            out[-1] = (out[-1][0], code)
        else:
            out.append((code, code))
    return out


_SPECIAL = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _char(code: int) -> str:
    return _SPECIAL.get(code) or ("\\" + chr(code) if chr(code) in "\\[]-^" else chr(code))


def _emit(ranges: list[tuple[int, int]]) -> str:
    """A class of these ranges; a "-" at either end of a range is written last, alone, where
    libxml2 reads an escaped "-" as the character."""
    parts: list[str] = []
    dash = False
    for low, high in ranges:
        if low == 0x2D:
            dash, low = True, low + 1
        if high == 0x2D:
            dash, high = True, high - 1
        if low > high:
            continue
        parts.append(_char(low) if low == high else f"{_char(low)}-{_char(high)}")
    return "[" + "".join(parts) + ("\\-" if dash else "") + "]"


def _ask(bodies: list[str]) -> None:
    """Ask libxml2 which characters each class body holds (answers kept in :data:`_KNOWN`)."""
    todo = sorted({b for b in bodies if b not in _KNOWN})
    # a few classes a probe: most characters are refused by most classes, and libxml2 with
    # lxml spends more on each error the more a validation has raised (4 us each at 500
    # errors, 150 us at 6,000)
    for at in range(0, len(todo), _BATCH):
        batch = todo[at:at + _BATCH]
        answers = _probe(batch)
        if answers is None:  # one of them does not compile: ask about each alone
            answers = [found[0] if (found := _probe([b])) is not None else None for b in batch]
        for body, members in zip(batch, answers, strict=True):
            _KNOWN[body] = members


def _escape(text: str) -> str:
    """*text* as XML character data or a quoted attribute's value, every character kept."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


def _probe(bodies: list[str]) -> list[frozenset[str] | None] | None:
    declarations = "".join(
        f'<xs:element name="c{i}"><xs:simpleType>'
        f'<xs:restriction base="xs:string"><xs:pattern value="{_escape("[" + b + "]")}"/>'
        f'</xs:restriction></xs:simpleType></xs:element>'
        for i, b in enumerate(bodies))
    schema_text = (f'<xs:schema xmlns:xs="{XSD_NS}"><xs:element name="r"><xs:complexType>'
                   f'<xs:choice maxOccurs="unbounded">{declarations}</xs:choice></xs:complexType>'
                   '</xs:element></xs:schema>')
    # every class is asked about the same characters: the ASCII ones, three beyond ASCII,
    # and those the classes name beyond ASCII; one a line (no newline is written raw), so an
    # error's line says which it is
    named = sorted({ch for b in bodies for ch in b if not ch.isascii()} - set(_PROBES))
    probes = _PROBES + "".join(named)
    values = "".join(f"<v>{_escape(ch)}</v>\n" for ch in probes)
    document = "<r>\n" + "".join(values.replace("<v>", f"<c{i}>").replace("</v>", f"</c{i}>")
                                 for i in range(len(bodies))) + "</r>"
    try:
        schema = etree.XMLSchema(etree.fromstring(schema_text.encode(), make_parser()))
    except etree.XMLSchemaParseError:
        return None
    tree = etree.fromstring(document.encode(), make_parser())
    refused: list[set[int]] = [set() for _ in bodies]
    per_class = len(probes)
    if not schema.validate(tree):
        for entry in schema.error_log:  # type: ignore[attr-defined]
            at = entry.line - 2  # (the root's start tag is line 1)
            if not 0 <= at < per_class * len(bodies):
                return None
            refused[at // per_class].add(at % per_class)
    answers: list[frozenset[str] | None] = []
    for body, no in zip(bodies, refused, strict=True):
        members = frozenset(ch for k, ch in enumerate(probes) if k not in no)
        # a class holds no character beyond ASCII that it does not name
        answers.append(members if all(ch.isascii() or ch in body for ch in members) else None)
    return answers
