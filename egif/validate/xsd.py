"""The XSD pass over one parsed tree, and how a libxml2 error reads as a finding.

Every path that validates with libxml2 -- a whole document, a range of a big
collection in a worker process, the skeleton of a collection's root -- calls
:func:`validate` and gets :class:`XsdError` values: the element the error is
about, the line, the rule id and a cleaned message.  There is no other
translation from libxml2 to findings.

Cleaning a message keeps every value as written and shortens only names:
``Element '{http://...}PostCode'`` becomes ``Element 'PostCode'``, and so do
the names in "Expected is ( ... )" lists, type names and identity-constraint
names.  The value ``'{urn:z}y'`` in "The value '{urn:z}y' is not accepted"
is data and stays, as do the braces of a pattern (``[0-9]{1,2}``) and of a
value set (``{'1.0'}``).

Two places where libxml2 departs from the XSD specification are corrected
here, at no cost for valid documents (see docs/validation.md):

* libxml2 rejects leading and trailing whitespace in xs:dateTime, xs:date,
  xs:time (and the other date types), which the specification collapses.
  When libxml2 reports a value as not valid for its atomic type and the value
  has whitespace the type's ``collapse`` facet removes, the value is collapsed
  in the tree and the tree validated again: the second verdict is the spec's.
* libxml2's regular expression engine gives up on some patterns
  (``(a|aa)*b`` against a 41-character value) and aborts the whole
  validation with "Internal error".  That becomes a finding on the element
  (rule ``xsd:pattern-unchecked``) instead of an exception; what follows the
  element in the tree was not checked by libxml2, which the caller handles
  (a range is then checked child by child).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from lxml import etree

MAX_MESSAGE = 300

# libxml2 writes a warning about identity constraints as an error entry; it always
# follows the real error on the same value, so it is left out.
_NOISE = "Warning: No precomputed value available"
_HEAD = re.compile(r"^Element '([^']*)'(?:, attribute '([^']*)')?: ")
_EXPECTED = re.compile(r"(Expected is (?:one of )?\( )(.*)( \)\.)$")
_NAMED_TAIL = re.compile(r"((?:atomic type|type definition|type|identity-constraint|keyref|key|unique) ')"
                         r"([^']*)('\.)$")
_ATTRIBUTE = re.compile(r"^(The attribute ')([^']*)(' is (?:not allowed|required but missing)\.)$")
_CLARK = re.compile(r"\{[^{}]*\}(?=[A-Za-z_])")
_STEP = re.compile(r"^(\*|[^\[\]]+)(?:\[(\d+)\])?$")
_NOT_VALID_FOR_TYPE = "is not a valid value of the atomic type"


@dataclass(frozen=True)
class XsdError:
    """One libxml2 schema error, located and cleaned."""

    node: etree._Element | None  # the element it is about (None: not found in the tree)
    line: int  # libxml2's line of the element (0: unknown)
    rule: str  # ``xsd:`` + libxml2's error type, e.g. ``xsd:cvc-pattern-valid``
    message: str  # cleaned, one line
    raw: str  # libxml2's own message (to classify it)
    type_name: str  # libxml2's error type, e.g. ``SCHEMAV_ELEMENT_CONTENT``

    @property
    def content_model(self) -> bool:
        """True for errors about which children an element holds (not about a value)."""
        return (self.type_name == "SCHEMAV_ELEMENT_CONTENT" or "Missing child" in self.raw
                or "Character content" in self.raw or "is not expected" in self.raw)

    @property
    def unexpected(self) -> bool:
        return "is not expected" in self.raw


def rule_of(type_name: str) -> str:
    """``SCHEMAV_CVC_COMPLEX_TYPE_2_4`` -> ``xsd:cvc-complex-type.2.4``."""
    name = type_name.removeprefix("SCHEMAV_").lower()
    words = [p for p in name.split("_") if not p.isdigit()]
    numbers = [p for p in name.split("_") if p.isdigit()]
    return "xsd:" + "-".join(words) + ("." + ".".join(numbers) if numbers else "")


def plain_message(message: str) -> str:
    """libxml2's message on one line, namespace braces dropped from names only."""
    text = message.strip()
    head = _HEAD.match(text)
    if head is not None:
        name = _local(head.group(1))
        attribute = head.group(2)
        prefix = f"Element '{name}'" + (f", attribute '{_local(attribute)}'" if attribute is not None else "")
        text = prefix + ": " + text[head.end():]
        rest_at = len(prefix) + 2
    else:
        rest_at = 0
    rest = text[rest_at:]
    rest = _EXPECTED.sub(lambda m: m.group(1) + _CLARK.sub("", m.group(2)) + m.group(3), rest)
    rest = _NAMED_TAIL.sub(lambda m: m.group(1) + _local(m.group(2)) + m.group(3), rest)
    rest = _ATTRIBUTE.sub(lambda m: m.group(1) + _local(m.group(2)) + m.group(3), rest)
    text = " ".join((text[:rest_at] + rest).split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return text


def _local(name: str) -> str:
    return name.rpartition("}")[2] if name.startswith("{") else name


def find_node(start: etree._Element, libxml_path: str | None,
              index: dict[tuple[etree._Element, str], list[etree._Element]] | None = None) -> etree._Element | None:
    """The element a libxml2 error path (``/*/*[3]/bs:PostCode``) points at; the path's
    first step is *start* itself.  *index*: each parent's children of a step's name, kept
    between calls on one tree (without it, the errors of many children of one parent cost
    the square of their number)."""
    if not libxml_path or not libxml_path.startswith("/"):
        return None
    if index is None:
        index = {}
    node: etree._Element | None = start
    for i, step in enumerate(libxml_path[1:].split("/")):
        m = _STEP.match(step)
        if m is None or node is None:
            return None
        if i == 0:
            continue
        name, pos = m.group(1), int(m.group(2) or 1)
        prefix, _, local = name.rpartition(":")
        named = index.get((node, name))
        if named is None:  # the first error under this parent: a walk to its element
            index[(node, name)] = _ONCE
            if name == "*" and pos > _NEAR:  # its pos-th element child, counted in C (a walk
                found: Any = _NTH(node, k=pos)  # costs a proxy a child: a record among many)
                node = found[0] if isinstance(found, list) and found else None
            elif name == "*":  # near the start: a short walk costs less than an XPath call
                node = next(islice(node.iterchildren(etree.Element), pos - 1, None), None) if pos > 0 else None
            else:
                node = next(islice(_named_children(node, prefix, local), pos - 1, None), None) if pos > 0 else None
            continue
        if named is _ONCE:  # a second: the parent's children of that name, read once for all
            named = index[(node, name)] = list(node.iterchildren("*") if name == "*"
                                               else _named_children(node, prefix, local))
        node = named[pos - 1] if 0 < pos <= len(named) else None
    return node


_ONCE: list[etree._Element] = []  # (a parent whose children were walked for one error)
_NTH = etree.XPath("*[$k]")  # an element's k-th element child
_NEAR = 16  # up to this position, a walk over the first children finds it sooner than _NTH


def _named_children(node: etree._Element, prefix: str, local: str) -> Iterator[etree._Element]:
    """The children of *node* a path step ``prefix:local`` names, in order: those of that
    local name, found in C, then told apart by namespace and prefix."""
    try:
        candidates = node.iterchildren("{*}" + local)
    except ValueError:  # not a name lxml takes: every element child, each told apart
        candidates = node.iterchildren(etree.Element)
    return (child for child in candidates if _named(child, prefix, local))


def _named(el: etree._Element, prefix: str, local: str) -> bool:
    """Whether *el* is the element a path step ``prefix:local`` (or ``local``: no namespace)
    names; read from the tag as a string (a QName object per child costs more)."""
    tag = str(el.tag)
    if tag[0] != "{":
        return not prefix and tag == local
    return bool(prefix) and tag.endswith(local) and tag[-len(local) - 1] == "}" and el.prefix == prefix


def validate(schema: etree.XMLSchema, target: etree._ElementTree | etree._Element) -> list[XsdError]:
    """Validate *target* (a tree, or one element of it) and return its errors, corrected
    where libxml2 departs from the specification; [] when valid."""
    return validate_noting(schema, target)[0]


def validate_noting(schema: etree.XMLSchema,
                    target: etree._ElementTree | etree._Element) -> tuple[list[XsdError], bool]:
    """:func:`validate`, and whether it changed the tree (values collapsed).  Nothing else
    in it changes a tree: default attributes are not added (lxml's default)."""
    errors = _run(schema, target)
    if errors and _collapse_values(errors):
        return _run(schema, target), True
    return errors, False


def _run(schema: etree.XMLSchema, target: etree._ElementTree | etree._Element) -> list[XsdError]:
    try:
        if schema.validate(target):
            return []
        gave_up = False
    except etree.XMLSchemaValidateError:
        gave_up = True
    start = target.getroot() if isinstance(target, etree._ElementTree) else target
    log: Any = schema.error_log
    # patterns compiled rewritten (egif.xsdclasses): messages quote them as written
    originals: dict[str, str] | None = getattr(schema, "originals", None)
    errors: list[XsdError] = []
    internal: XsdError | None = None
    index: dict[tuple[etree._Element, str], list[etree._Element]] = {}
    for entry in log:
        if entry.level_name not in ("ERROR", "FATAL") or _NOISE in entry.message:
            continue
        node = find_node(start, entry.path, index)
        if entry.type_name == "SCHEMAV_INTERNAL":
            if internal is None:
                internal = _gave_up(node, entry)
            continue
        message = entry.message
        if originals and entry.type_name == "SCHEMAV_CVC_PATTERN_VALID":
            from egif.xsdclasses import restore_message

            message = restore_message(message, originals)
        errors.append(XsdError(node, entry.line or 0, rule_of(entry.type_name),
                               plain_message(message), message, entry.type_name))
    if gave_up:
        errors.append(internal if internal is not None else _gave_up(None, None))
    return errors


def _gave_up(node: etree._Element | None, entry: Any) -> XsdError:
    what = "against a pattern facet" if entry is not None and "pattern" in entry.message else ""
    name = etree.QName(node).localname if node is not None else "?"
    message = (f"Element '{name}': libxml2 gave up checking this value{' ' + what if what else ''} "
               "(its regular expression engine hit an internal limit); the value and what "
               "follows it in this element were not checked.")
    return XsdError(node, entry.line if entry is not None else 0, "xsd:pattern-unchecked", message,
                    entry.message if entry is not None else "Internal error", "SCHEMAV_INTERNAL")


def _collapse_values(errors: list[XsdError]) -> bool:
    """Collapse the whitespace of values libxml2 refused for their atomic type; True when
    something changed (the tree must then be validated again)."""
    changed = False
    for e in errors:
        if e.node is None or e.type_name != "SCHEMAV_CVC_DATATYPE_VALID_1_2_1":
            continue
        if _NOT_VALID_FOR_TYPE not in e.raw:
            continue
        head = _HEAD.match(e.raw.strip())
        attribute = head.group(2) if head is not None else None
        if attribute is not None:
            value = e.node.get(attribute)
            if value is not None and " ".join(value.split()) != value and value.strip():
                e.node.set(attribute, " ".join(value.split()))
                changed = True
        elif len(e.node) == 0:
            value = e.node.text
            if value is not None and " ".join(value.split()) != value and value.strip():
                e.node.text = " ".join(value.split())
                changed = True
    return changed
