"""The one way egif parses XML it did not write.

Entity expansion, DTD loading, network access and XInclude are off; libxml2's
depth and text-size limits stay on (``huge_tree=False``).  A document type
declaration that declares entities or points at an external DTD is refused
outright: even unexpanded, entity nodes in a tree confuse validation, and an
honest data document never needs one.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from egif.errors import InputError, UnsafeInputError
from egif.limits import MAX_DOCUMENT_BYTES, MAX_SCHEMA_FILE_BYTES

XSD_NS = "http://www.w3.org/2001/XMLSchema"
# XSD 1.1 conditional inclusion attributes (vc:minVersion...), applied by egif.xsd11
VC_NS = "http://www.w3.org/2007/XMLSchema-versioning"
# XInclude elements are never processed: a document holding one is refused
XINCLUDE_NAMESPACES = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")
# where a schema lets an element of any name be valid: a wildcard, or xs:anyType
_WILDCARD = re.compile(rb"<(?:[\w.\-]+:)?any[\s/>]|anyType")


def xinclude_may_be_valid(schema_documents: Iterable[bytes]) -> bool:
    """Whether an XInclude element could pass a schema made of *schema_documents*: one
    has a wildcard, xs:anyType, or names XInclude (it may declare XInclude's elements).
    Elsewhere one is always a validation error, so only documents with errors need a
    search for one."""
    return any(_WILDCARD.search(d) or b"XInclude" in d for d in schema_documents)


_XINCLUDE_TAGS = tuple(f"{{{ns}}}*" for ns in XINCLUDE_NAMESPACES)


def first_xinclude(scope: etree._Element) -> etree._Element | None:
    """The first XInclude element in *scope* (itself included), in document order."""
    return next(scope.iter(*_XINCLUDE_TAGS), None)


def make_parser(**overrides: bool) -> etree.XMLParser:
    """A fresh parser with the safe settings (parsers are not thread-safe)."""
    options: dict[str, bool] = {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "dtd_validation": False,
        "huge_tree": False,
    }
    options.update(overrides)
    return etree.XMLParser(**options)  # type: ignore[arg-type]


def check_doctype(tree: etree._ElementTree, name: str) -> None:
    """Refuse entity declarations and external DTD references."""
    docinfo = tree.docinfo
    if getattr(docinfo, "system_url", None) or docinfo.public_id:
        raise UnsafeInputError("refused: the DOCTYPE refers to an external DTD", file=name)
    dtd = docinfo.internalDTD
    if dtd is not None:
        entities = list(dtd.iterentities())  # type: ignore[attr-defined]
        if entities:
            raise UnsafeInputError(
                f"refused: the DOCTYPE declares entities ({entities[0].name!s}...); "
                "entity declarations are not accepted",
                file=name,
            )


def parse_bytes(data: bytes, name: str, *, base_url: str | None = None) -> etree._ElementTree:
    """Parse untrusted bytes; raise :class:`InputError` naming *name* on failure."""
    if not data.strip():
        raise InputError("empty file, not XML", file=name)
    parser = make_parser()
    try:
        root = etree.fromstring(data, parser, base_url=base_url or "")
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, name) from None
    tree = root.getroottree()
    check_doctype(tree, name)
    return tree


# A schema document may carry a DOCTYPE (the W3C XML-Signature and xml.xsd
# schemas do, as published): its external DTD is never loaded, and its
# internal subset may declare only small, self-contained internal entities.
SCHEMA_ENTITY_LIMIT = 64
SCHEMA_ENTITY_SIZE = 1024


def parse_schema_bytes(data: bytes, name: str, *, base_url: str | None = None) -> etree._ElementTree:
    """Parse an untrusted XML Schema document, tolerating the DOCTYPEs published schemas carry.

    The external DTD a DOCTYPE names is never read.  Entities declared in the
    internal subset are accepted only when they are internal, at most
    ``SCHEMA_ENTITY_SIZE`` characters and free of references to other
    entities (so nothing can be amplified), and at most
    ``SCHEMA_ENTITY_LIMIT`` of them; the few a schema uses are then expanded.
    Anything else is refused with :class:`UnsafeInputError`.
    """
    if not data.strip():
        raise InputError("empty file, not XML", file=name)
    try:
        root = etree.fromstring(data, make_parser(), base_url=base_url or "")
    except etree.XMLSyntaxError as exc:
        raise syntax_error(exc, name) from None
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is None:
        return tree
    entities = list(dtd.iterentities())  # type: ignore[union-attr]
    if len(entities) > SCHEMA_ENTITY_LIMIT:
        raise UnsafeInputError(f"refused: the DOCTYPE declares {len(entities)} entities "
                               f"(limit {SCHEMA_ENTITY_LIMIT})", file=name)
    for entity in entities:
        content = entity.content or ""
        if entity.system_url is not None:
            raise UnsafeInputError(f"refused: the DOCTYPE declares the external entity {entity.name!s}",
                                   file=name)
        if len(content) > SCHEMA_ENTITY_SIZE or "&" in content or "%" in content:
            raise UnsafeInputError(
                f"refused: the DOCTYPE's entity {entity.name!s} is larger than {SCHEMA_ENTITY_SIZE} "
                "characters or refers to other entities", file=name)
    if any(True for _ in root.iter(etree.Entity)):
        # only small, flat internal entities are declared: expanding them is safe
        parser = make_parser(resolve_entities=True)
        try:
            root = etree.fromstring(data, parser, base_url=base_url or "")
        except etree.XMLSyntaxError as exc:
            raise syntax_error(exc, name) from None
        tree = root.getroottree()
        if any(True for _ in root.iter(etree.Entity)):
            raise UnsafeInputError("refused: the schema uses an entity its DOCTYPE does not declare",
                                   file=name)
    return tree


def read_file(path: Path, name: str | None = None, *, limit: int = MAX_DOCUMENT_BYTES,
              what: str = "file") -> bytes:
    """A local regular file's bytes, at most *limit* of them.

    The one entry point for local paths egif did not choose: a device, FIFO,
    socket or directory is refused before anything is read (a FIFO is opened
    without waiting for a writer), and a file longer than *limit* is refused
    after reading at most ``limit + 1`` bytes.  Failures are an
    :class:`InputError` naming the file (as *name*); a limit hit is an
    :class:`UnsafeInputError`.  Data meant to be streamed comes through
    standard input instead.
    """
    label = name if name is not None else str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise InputError("no such file", file=label) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", file=label) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=label) from None
    try:
        info = os.fstat(fd)
        _need_regular(info.st_mode, label)
        if info.st_size > limit:
            raise UnsafeInputError(f"refused: {what} of {info.st_size:,} bytes, over the limit of "
                                   f"{limit:,} bytes", file=label)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=label) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew while being read
        raise UnsafeInputError(f"refused: {what} over the limit of {limit:,} bytes", file=label)
    return data


def check_regular_file(path: str | Path, name: str | None = None) -> None:
    """Refuse, without opening it, a path that is not a regular file (or does not exist).

    For callers that open the file themselves later (the validator streams big
    files): opening a FIFO would wait for a writer, and a device never ends.
    """
    label = name if name is not None else str(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError("no such file", file=label) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=label) from None
    _need_regular(mode, label)


def _need_regular(mode: int, label: str) -> None:
    if stat.S_ISDIR(mode):
        raise InputError("is a directory, not a file", file=label)
    if not stat.S_ISREG(mode):
        raise InputError(f"refused: not a regular file ({_file_kind(mode)}); give a file, or "
                         "stream the data through standard input where the command accepts '-'",
                         file=label)


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def parse_file(path: Path, *, limit: int = MAX_SCHEMA_FILE_BYTES,
               what: str = "schema document") -> tuple[bytes, etree._ElementTree]:
    """Read and parse a local file (a schema, unless told otherwise); returns the raw bytes too."""
    data = read_file(path, limit=limit, what=what)
    return data, parse_bytes(data, str(path))


# libxml2 ends its messages with ", line N, column M" (lxml may add " (<string>, line N)");
# compiled on first use (re keeps it), as only an error needs it
_TRAILING_POSITION = r",? line \d+, column \d+(?: \(<string>, line \d+\))?\s*$"


def syntax_position(exc: etree.XMLSyntaxError) -> tuple[int | None, int | None, str]:
    """``(line, column, message)`` of a well-formedness error, the message without the
    position libxml2 writes into it: the trailing ", line N, column M", and an embedded
    "line N" naming the same line (``tag mismatch: a line 1 and b`` at line 1 reads
    ``tag mismatch: a and b``; a different line, where the open tag was, stays).

    The one reading of libxml2's syntax errors, whatever parsed the bytes (a whole tree,
    a streaming pass, a schema): the same bytes give the same line, column and words.
    """
    line, column = exc.position if exc.position else (0, 0)
    text = str(exc.msg or exc).strip()
    text = text.splitlines()[0] if text else text
    text = re.sub(_TRAILING_POSITION, "", text).strip()
    if line:
        text = re.sub(rf" line {line}\b(?!,? column)", "", text)
    return line or None, column or None, text


def syntax_error(exc: etree.XMLSyntaxError, name: str) -> InputError:
    """The located one-line error for XML that is not well-formed."""
    line, column, message = syntax_position(exc)
    return InputError(f"not well-formed XML: {message}", file=name, line=line, column=column)
