"""Every bound egif puts on untrusted input, in one place.

Each limit below is a plain constant with the reason for its value; the
functions after them are the checks that enforce the limits which are not
enforced by a parser setting.  ``docs/security.md`` lists every limit, its
value and where it is enforced; a test keeps that table and this module in
step.

A limit that is hit is a refusal, never a crash: an
:class:`~egif.errors.UnsafeInputError` (exit code 2 in the command-line tool)
whose one-line message names the input, the limit and its value.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from egif.errors import UnsafeInputError

MIB = 1024 * 1024

# -- bytes read ------------------------------------------------------------------
#: A schema document read from a local file (``schema add``, ``lint FILE``,
#: ``diff FILE``).  The largest published GovTalk/HMRC modules are a few
#: hundred kilobytes; 16 MiB leaves a wide margin.
MAX_SCHEMA_FILE_BYTES = 16 * MIB

#: A document read whole by the validator.  libxml2 parses a buffer whose
#: length is a C ``int``; bigger collection exports go through the streaming
#: engine, which never reads the file into memory.
MAX_DOCUMENT_BYTES = 2**31 - 1

#: Markup in a document the validator parses into one tree (one that is not a
#: collection, so not streamed): ``<`` characters, which bound its elements.
#: libxml2 spends about 150 bytes on the smallest element, so 100 MiB of
#: ``<i/>`` (a 105 KB gzip file) became a 3.9 GB tree; 2,000,000 keeps a tree
#: near 300 MB. Real messages and documents hold far fewer; exports of many
#: records are collections and streamed.
MAX_WHOLE_DOCUMENT_MARKUP = 2_000_000

#: ``index.json`` (or a pinned snapshot) of a published registry.
MAX_INDEX_BYTES = 64 * MIB

#: One object of a published registry: a schema file or an attachment.
MAX_OBJECT_BYTES = 16 * MIB

#: The audit history of one standard in a published registry.
MAX_HISTORY_BYTES = 64 * MIB

#: Everything one pull downloads, all requests together.
MAX_PULL_TOTAL_BYTES = 2 * 1024 * MIB

#: One segment of a published audit log (1,000 events; an honest event is
#: well under a kilobyte, a proposal with its lint report a few).
MAX_LOG_SEGMENT_BYTES = 64 * MIB

#: A publisher key list or the signatures of one index: a few dozen lines.
MAX_TRUST_FILE_BYTES = 1 * MIB

#: Keys in one publisher key list (a threshold of them signs the index).
MAX_PUBLISHER_KEYS = 32

#: Key-list versions one pull follows from the one it trusts to the newest
#: (each rotation is one version; a body rotating monthly needs 12 a year).
MAX_KEY_ROTATIONS = 1_000

# -- structure -----------------------------------------------------------------------
#: Nesting of arrays and objects in any JSON egif decodes from outside
#: (published indexes and histories, fixture manifests).  The deepest honest
#: document egif writes nests 7 levels; Python's decoder recurses once per
#: level and would fail near 1,000.
MAX_JSON_DEPTH = 64

#: Versions a chain of imports may run through (A imports B imports C ...),
#: counted from the version itself.  Real sets chain 3 to 5 modules deep.
MAX_IMPORT_DEPTH = 64

#: Files in one schema version.
MAX_FILES_PER_VERSION = 1000

#: A file name inside a published version: whole path, one segment (in UTF-8
#: bytes, the usual file-system limit) and number of folders deep.
MAX_MEMBER_PATH_CHARS = 1024
MAX_MEMBER_SEGMENT_BYTES = 255
MAX_MEMBER_SEGMENTS = 32

# -- cost of one schema ------------------------------------------------------------
#: Global components (elements, attributes, types, groups, attribute groups,
#: notations) in one version with everything it imports.  The biggest real
#: set checked (the transit CTC 3.0 message pack) holds 950; diffing two
#: versions costs about 3.5 ms per component (72 s at 20,000).  Over this
#: bound the catalogue shows no diff and lists only the first components, and
#: a schema diff refuses (see :func:`check_component_count`).
MAX_SCHEMA_COMPONENTS = 10_000

#: Components listed one by one on a version's catalogue page; the rest are
#: counted in a note (the schema files stay linked for the whole story).
MAX_CATALOGUE_COMPONENTS = 2_000

#: Values of a version's e-GMS record printed by ``schema show`` in text
#: (``--format json`` gives everything), and characters of each value.
MAX_SHOWN_METADATA_VALUES = 100
MAX_SHOWN_VALUE_CHARS = 1_000

# Windows device names: a file called like this is a device there.
_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$", "clock$",
                           *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10)),
                           "com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"})
_SAME_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _refuse(message: str, label: str | None) -> UnsafeInputError:
    return UnsafeInputError(message, file=label)


# -- JSON ------------------------------------------------------------------------------
def json_depth(data: bytes, *, limit: int) -> int:
    """How deep arrays and objects nest in UTF-8 *data*, counted up to ``limit + 1``.

    Decodes nothing: strings are cut out (with their escapes, so brackets in
    them do not count), then innermost bracket pairs are removed pass after
    pass, at most ``limit + 1`` passes, each a linear scan.  On broken JSON
    the answer can only be too high, never too low, over the part a decoder
    would read before failing.
    """
    # drop escape pairs (an escaped backslash first), then the strings between quotes
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    brackets = outside.translate(_SAME_BRACKETS, _NOT_BRACKETS)
    passes = 0
    while brackets and passes <= limit:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break
        brackets = shorter
        passes += 1
    # what is left never closes (truncated or broken JSON): a decoder still descends into it
    depth = deepest = 0
    for byte in brackets:
        depth = depth + 1 if byte == 0x5B else max(depth - 1, 0)
        deepest = max(deepest, depth)
        if passes + deepest > limit:
            break
    return min(passes + deepest, limit + 1)


def loads_json(data: bytes | str, *, label: str, what: str = "JSON",
               max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` for data from outside, with its nesting bounded first.

    Raises :class:`UnsafeInputError` over the depth limit and ``ValueError``
    (as ``json.loads`` does) when the text is not JSON.
    """
    import json

    if isinstance(data, str):
        raw = data.encode("utf-8", "surrogatepass")
    else:
        encoding = json.detect_encoding(data)
        if encoding not in ("utf-8", "utf-8-sig"):
            # bytes are scanned as UTF-8, where '"' and brackets never occur inside a character
            data = data.decode(encoding, "surrogatepass")
            raw = data.encode("utf-8", "surrogatepass")
        else:
            raw = data
    if json_depth(raw, limit=max_depth) > max_depth:
        raise _refuse(f"refused: {what} nests more than {max_depth} levels deep (the limit)", label)
    return json.loads(data)


# -- names inside a published version ---------------------------------------------------
def member_path_problem(path: object) -> str | None:
    """Why *path* cannot name a file inside a published version, or ``None``.

    A member path is a relative POSIX path of plain names: no absolute path,
    drive letter or URL (no ``:`` at all), no ``.`` / ``..`` / empty segment,
    no backslash, NUL or other control character, no Windows device name,
    no segment ending in a dot or space, within the length limits.
    """
    if not isinstance(path, str):
        return f"{path!r} is not a string"
    if not path:
        return "empty path"
    if len(path) > MAX_MEMBER_PATH_CHARS:
        return f"path of {len(path)} characters, over the limit of {MAX_MEMBER_PATH_CHARS}"
    for ch in path:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return f"control or format character U+{ord(ch):04X} in {_show(path)}"
    if "\\" in path:
        return f"backslash in {_show(path)}"
    if ":" in path:
        return f"':' (drive letter or URL) in {_show(path)}"
    if path.startswith("/"):
        return f"absolute path {_show(path)}"
    parts = path.split("/")
    if len(parts) > MAX_MEMBER_SEGMENTS:
        return f"{len(parts)} segments, over the limit of {MAX_MEMBER_SEGMENTS}"
    for part in parts:
        if part in ("", ".", ".."):
            return f"segment {part!r} in {_show(path)}"
        if len(part.encode("utf-8")) > MAX_MEMBER_SEGMENT_BYTES:
            return f"a name over {MAX_MEMBER_SEGMENT_BYTES} bytes in {_show(path)}"
        if part.endswith((".", " ")):
            return f"a name ending in a dot or space in {_show(path)}"
        if part.split(".", 1)[0].rstrip(" ").lower() in _DEVICE_NAMES:
            return f"device name {part!r} in {_show(path)}"
    return None


def check_member_paths(paths: Iterable[str], *, label: str | None = None) -> None:
    """Refuse a file set that no file system could hold as given.

    Each path must pass :func:`member_path_problem`; no two may be equal or
    differ only in case; no path may also be a folder of another.
    """
    seen: dict[str, str] = {}
    folders: set[str] = set()
    files: list[str] = []
    for path in paths:
        problem = member_path_problem(path)
        if problem is not None:
            raise _refuse(f"unsafe file name: {problem}", label)
        key = path.casefold()
        if key in seen:
            other = seen[key]
            why = "twice" if other == path else f"and {_show(other)} differ only in case"
            raise _refuse(f"unsafe file name: {_show(path)} {why}", label)
        seen[key] = path
        files.append(key)
        parts = key.split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
    if len(files) > MAX_FILES_PER_VERSION:
        raise _refuse(f"{len(files)} files, over the limit of {MAX_FILES_PER_VERSION} per version",
                      label)
    for key in files:
        if key in folders:
            raise _refuse(f"unsafe file name: {_show(seen[key])} is both a file and a folder", label)


def _show(path: str) -> str:
    text = path if len(path) <= 80 else path[:77] + "..."
    return ascii(text)


# -- cost of a schema -----------------------------------------------------------------
_GLOBAL_KINDS = frozenset({"element", "attribute", "complexType", "simpleType", "group",
                           "attributeGroup", "notation"})


def count_global_components(files: Mapping[str, bytes]) -> int:
    """Top-level named components across a version's own documents (cheap: no compile)."""
    from lxml import etree

    from egif.xmlsafe import XSD_NS, parse_bytes

    count = 0
    for name, data in files.items():
        root = parse_bytes(data, name).getroot()
        for child in root:
            if isinstance(child.tag, str) and child.get("name") is not None:
                qname = etree.QName(child)
                if qname.namespace == XSD_NS and qname.localname in _GLOBAL_KINDS:
                    count += 1
    return count


def compiled_component_count(schema: Any) -> int:
    """Global components of a compiled ``xmlschema`` schema, imports included."""
    maps = schema.maps
    return sum(len(getattr(maps, kind, ())) for kind in
               ("types", "attributes", "attribute_groups", "groups", "notations", "elements"))


def check_component_count(count: int, *, label: str | None = None, what: str = "schema",
                          limit: int = MAX_SCHEMA_COMPONENTS) -> None:
    """Refuse work on a schema with more global components than *limit*."""
    if count > limit:
        raise _refuse(f"refused: the {what} has {count:,} global components, over the limit of "
                      f"{limit:,}", label)


__all__ = [
    "MAX_CATALOGUE_COMPONENTS",
    "MAX_DOCUMENT_BYTES",
    "MAX_FILES_PER_VERSION",
    "MAX_HISTORY_BYTES",
    "MAX_IMPORT_DEPTH",
    "MAX_INDEX_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_MEMBER_PATH_CHARS",
    "MAX_MEMBER_SEGMENTS",
    "MAX_MEMBER_SEGMENT_BYTES",
    "MAX_OBJECT_BYTES",
    "MAX_PULL_TOTAL_BYTES",
    "MAX_SCHEMA_COMPONENTS",
    "MAX_SCHEMA_FILE_BYTES",
    "MAX_SHOWN_METADATA_VALUES",
    "MAX_SHOWN_VALUE_CHARS",
    "MAX_WHOLE_DOCUMENT_MARKUP",
    "check_component_count",
    "check_member_paths",
    "compiled_component_count",
    "count_global_components",
    "json_depth",
    "loads_json",
    "member_path_problem",
]
