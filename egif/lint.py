"""The schema linter: GovTalk conventions and interoperability hazards.

Every rule lives in one table, :data:`RULES`: an id, a default severity, a
one-line explanation and a check function.  A check looks at the documents of
one schema version (its main document and the documents it includes, never
the schemas it imports: those are linted as versions of their own) and yields
:class:`Hit` objects; the runner turns them into :class:`egif.model.Finding`
objects with the severity the settings give the rule.

Two entry points:

* :func:`lint_file` lints a schema on disk with its includes.  Imports are
  followed where they can be found on disk, for the compile check only; an
  import that cannot be found is reported as information, not as an error.
* :func:`lint_version` lints a registered version from the registry's bytes,
  and also checks that ``xs:schema/@version`` matches the registered version.
  The registry's settings (config key ``"lint"``) apply unless other settings
  are passed.

Registry settings are a JSON object (see :class:`LintSettings`)::

    {"disabled": ["local-leaf-element"],
     "severity": {"namespace-unversioned": "error"},
     "namespace_base": "http://www.govtalk.gov.uk/"}

Every key is optional.
"""

from __future__ import annotations

import os
import posixpath
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from egif.errors import InputError, UnsafeInputError
from egif.metadata import EGMS_NS, GMS_XS_NS, egms_metadata, metadata_blocks
from egif.model import Finding, SchemaRef, Severity
from egif.resolve import VIRTUAL_BASE, TreeResolver, documents_xsd_version, iter_directives, normalise
from egif.xmlsafe import XSD_NS, make_parser, parse_schema_bytes, read_file

if TYPE_CHECKING:
    from egif.registry import Registry

CONFIG_KEY = "lint"  # egif.config.KEY_LINT
DEFAULT_NAMESPACE_BASE = "http://www.govtalk.gov.uk/"

_X = f"{{{XSD_NS}}}"
NO_NAMESPACE = "(no namespace)"
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_ABS_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")

# -- the naming rules, stated once -------------------------------------------
# UpperCamelCase as GovTalk wrote it: a capital letter first, then letters and
# digits only.  Runs of capitals (acronyms) are allowed anywhere, so BS7666Address,
# SAON, NHSnumber and UPRNtype all pass; separators (_ - .) and a lower-case
# first letter do not.
UPPER_CAMEL_RE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
# Attributes were written in either camel case (version, custodianCode, TelUse).
ATTRIBUTE_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# A suffix is normally capitalised (AddressStructure, PostCodeType).  The
# acronym exception: when the word before the suffix is an acronym ending in a
# capital letter or a digit, camel case cannot mark the boundary, so the
# suffix may be written in lower case right after it (AONstructure,
# LPIstructure, UPRNtype).  "Addressstructure" or "Posttype" stay wrong.
COMPLEX_TYPE_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]*(?:Structure|[A-Z0-9]structure)$")
SIMPLE_TYPE_NAME_RE = re.compile(r"^[A-Z][A-Za-z0-9]*(?:Type|[A-Z0-9]type)$")
# The declared version and the file name.
# MAJOR.MINOR, as published sets write it: leading zeros in the minor part (1.00),
# a revision letter (3.1d) and a publisher's suffix (2.0-HMRC) are accepted.
VERSION_ATTR_RE = re.compile(r"^([0-9]+)\.([0-9]+)([a-z]{1,2})?(-[A-Za-z][A-Za-z0-9]*)?$")
FILE_NAME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)-v([0-9]+)-([0-9]+)([a-z]{1,2})?\.xsd$")
# Areas under the namespace base whose standards are data standards (one namespace
# across versions); message schemas elsewhere may version their namespace.
DATA_STANDARD_AREAS = ("people", "core", "metadata")
# A namespace path segment that looks like a version: 1, v2, 1.0, 2005-01.
VERSION_SEGMENT_RE = re.compile(r"^[vV]?[0-9]+(?:[._\-][0-9]+)*$")
NAMESPACE_SEGMENT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")

# e-GMS elements accepted for each mandatory element, as flattened by
# egif.metadata.egms_metadata (nested children become "Parent.Child").
EGMS_MANDATORY: dict[str, tuple[str, ...]] = {
    "Creator": ("Creator",),
    "Date": ("Created", "Modified", "Issued", "Date", "Date.Created", "Date.Modified",
             "Date.Issued"),
    "Subject (category)": ("Category", "Subject.Category"),
    "Title": ("Title",),
}
CHANGE_HISTORY_NAMES = ("ChangeHistory", "History")

GLOBAL_KINDS = ("element", "complexType", "simpleType", "group", "attributeGroup", "attribute",
                "notation")


# -- documents and hits --------------------------------------------------------
@dataclass
class Document:
    """One document of the schema being linted."""

    name: str  # shown in findings: a file path, or NAME@VERSION/path
    path: str  # its path inside the version (or the file system): the file-name rule reads it
    root: etree._Element
    main: bool
    # each include/redefine/override element with the document it brings in (None: not found)
    includes: list[tuple[etree._Element, Document | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Hit:
    """What a check found; the runner adds the rule id and severity."""

    doc: Document
    message: str
    elem: etree._Element | None = None
    line: int | None = None


@dataclass
class LintContext:
    documents: list[Document]
    settings: LintSettings
    registry_version: str | None = None
    compile_hits: list[tuple[str, Hit]] = field(default_factory=list)  # (rule id, hit)

    @property
    def main(self) -> Document:
        return next(d for d in self.documents if d.main)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    convention: str  # the convention it comes from (R1..R13 of standards.md section 7)
    check: Callable[[LintContext], Iterable[Hit]]


# -- settings -------------------------------------------------------------------
@dataclass(frozen=True)
class LintSettings:
    """Which rules run and at what severity; what namespace base R1 expects."""

    disabled: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    namespace_base: str = DEFAULT_NAMESPACE_BASE

    @classmethod
    def from_config(cls, value: Any, *, source: str = "lint settings",
                    strict: bool = True) -> LintSettings:
        """Read (and check) the JSON object stored under the registry config key ``"lint"``.

        ``strict``: refuse unknown rule ids (else skip them).
        """
        if value is None:
            return cls()
        if not isinstance(value, dict):
            raise InputError(f"{source}: expected a JSON object, got {type(value).__name__}")
        unknown_keys = set(value) - {"disabled", "severity", "namespace_base"}
        if unknown_keys:
            raise InputError(f"{source}: unknown key(s) {', '.join(sorted(unknown_keys))} "
                             "(allowed: disabled, severity, namespace_base)")
        disabled = value.get("disabled", [])
        if not isinstance(disabled, list) or not all(isinstance(d, str) for d in disabled):
            raise InputError(f"{source}: 'disabled' must be a list of rule ids")
        if strict:
            for rule_id in disabled:
                _check_rule_id(rule_id, source)
        severity_raw = value.get("severity", {})
        if not isinstance(severity_raw, dict):
            raise InputError(f"{source}: 'severity' must be an object of rule id -> level")
        if strict:
            for rule_id in severity_raw:
                _check_rule_id(rule_id, source)
        severity = {k: parse_severity(v, f"{source} {k}")
                    for k, v in severity_raw.items() if k in RULES}
        disabled = [d for d in disabled if d in RULES]
        base = value.get("namespace_base", DEFAULT_NAMESPACE_BASE)
        if not isinstance(base, str) or not _ABS_URI_RE.match(base):
            raise InputError(f"{source}: 'namespace_base' must be an absolute URI such as "
                             f"{DEFAULT_NAMESPACE_BASE}")
        return cls(frozenset(disabled), severity, base)

    def to_config(self) -> dict[str, Any]:
        """The JSON form stored in the registry (keys with default values left out)."""
        out: dict[str, Any] = {}
        if self.disabled:
            out["disabled"] = sorted(self.disabled)
        if self.severity:
            out["severity"] = {k: v.value for k, v in sorted(self.severity.items())}
        if self.namespace_base != DEFAULT_NAMESPACE_BASE:
            out["namespace_base"] = self.namespace_base
        return out

    def with_overrides(self, *, disable: Iterable[str] = (),
                       severity: Mapping[str, str | Severity] | None = None,
                       namespace_base: str | None = None) -> LintSettings:
        """These settings with more rules off / other severities (e.g. from the command line)."""
        disabled = set(self.disabled)
        for rule_id in disable:
            disabled.add(_check_rule_id(rule_id, "--disable"))
        levels = dict(self.severity)
        for rule_id, level in (severity or {}).items():
            _check_rule_id(rule_id, "--severity")
            levels[rule_id] = (
                level if isinstance(level, Severity) else parse_severity(level, "--severity"))
        if namespace_base is not None and not _ABS_URI_RE.match(namespace_base):
            raise InputError(f"namespace base {namespace_base!r} is not an absolute URI such as "
                             f"{DEFAULT_NAMESPACE_BASE}")
        return LintSettings(frozenset(disabled), levels, namespace_base or self.namespace_base)

    def severity_of(self, rule: Rule) -> Severity:
        return self.severity.get(rule.id, rule.severity)


def parse_severity(value: Any, source: str = "severity") -> Severity:
    if isinstance(value, str):
        try:
            return Severity(value.lower())
        except ValueError:
            pass
    allowed = ", ".join(s.value for s in Severity)
    raise InputError(f"{source}: unknown severity {value!r} (one of: {allowed})")


def _check_rule_id(rule_id: str, source: str) -> str:
    if rule_id not in RULES:
        raise InputError(f"{source}: unknown lint rule {rule_id!r} (see 'egif lint --rules')")
    return rule_id


def registry_settings(registry: Registry) -> LintSettings:
    """The lint settings stored in *registry* (defaults when none are stored).

    They live under one config key, ``"lint"`` (the format of
    :meth:`LintSettings.from_config`), read by :func:`egif.config.read_lint_config`
    (which also folds in per-rule settings an older egif kept under
    ``"lint.rules"``).  Rule ids this egif does not know are ignored here (a
    registry may have been configured by a newer egif), unlike on the command
    line where they are refused.
    """
    from egif.config import read_lint_config

    value, _notes = read_lint_config(registry.store)
    return LintSettings.from_config(value, source=f"registry config {CONFIG_KEY!r}", strict=False)


# -- small helpers -----------------------------------------------------------------
def _local(elem: etree._Element) -> str:
    return etree.QName(elem).localname if isinstance(elem.tag, str) else ""


def _xsd_children(elem: etree._Element, *kinds: str) -> Iterator[etree._Element]:
    for child in elem:
        if isinstance(child.tag, str) and child.tag.startswith(_X) and (
                not kinds or _local(child) in kinds):
            yield child


def _xsd_descendants(root: etree._Element, *kinds: str) -> Iterator[etree._Element]:
    yield from root.iter(*[f"{_X}{k}" for k in kinds])


def _in_appinfo(elem: etree._Element) -> bool:
    """Inside xs:appinfo or xs:documentation: content there is not schema syntax."""
    parent = elem.getparent()
    while parent is not None:
        if parent.tag in (f"{_X}appinfo", f"{_X}documentation"):
            return True
        parent = parent.getparent()
    return False


def component_path(elem: etree._Element) -> str:
    """A readable location of a schema component: ``xs:complexType[@name='X']/xs:sequence/...``."""
    parts: list[str] = []
    node: etree._Element | None = elem
    while node is not None and node.getparent() is not None:
        label = f"xs:{_local(node)}" if node.tag.startswith(_X) else str(etree.QName(node).localname)
        for attr in ("name", "ref", "namespace", "schemaLocation"):
            value = node.get(attr)
            if value is not None:
                label += f"[@{attr}='{value}']"
                break
        parts.append(label)
        node = node.getparent()
    return "/".join(reversed(parts)) or "xs:schema"


def _describe(elem: etree._Element) -> str:
    name = elem.get("name")
    scope = "global" if elem.getparent() is not None and elem.getparent() is elem.getroottree().getroot() \
        else "local"
    return f"{scope} {_local(elem)} {name!r}" if name else f"{scope} {_local(elem)}"


def _has_text(elem: etree._Element) -> bool:
    return any(str(t).strip() for t in elem.itertext())


def _line(elem: etree._Element) -> int | None:
    line = elem.sourceline
    return line if isinstance(line, int) else None


# -- the checks ---------------------------------------------------------------------
def check_target_namespace(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        if not doc.root.get("targetNamespace"):
            yield Hit(doc, "xs:schema has no targetNamespace: its components take the namespace of "
                           "whatever schema includes it (a chameleon schema)", doc.root)


def _norm_base(base: str) -> str:
    """A namespace base ends with a separator: '/' for URLs, ':' allowed for URNs."""
    return base if base.endswith(("/", ":")) else base + "/"


def _namespace_segments(ns: str, base: str) -> list[str] | None:
    base = _norm_base(base)
    if not ns.startswith(base):
        return None
    return ns[len(base):].split("/")


def check_namespace_form(ctx: LintContext) -> Iterator[Hit]:
    base = _norm_base(ctx.settings.namespace_base)
    for doc in ctx.documents:
        ns = doc.root.get("targetNamespace")
        if not ns:
            continue
        segments = _namespace_segments(ns, base)
        if segments is None:
            yield Hit(doc, f"targetNamespace {ns!r} does not start with {base!r} "
                           "(expected <base><area>/<Name>)", doc.root)
            continue
        if segments and VERSION_SEGMENT_RE.match(segments[-1]):
            segments = segments[:-1]  # a version segment is rule namespace-unversioned's business
        if not 1 <= len(segments) <= 2 or not all(NAMESPACE_SEGMENT_RE.match(s) for s in segments):
            yield Hit(doc, f"targetNamespace {ns!r} is not of the form {base}<area>/<Name> "
                           "(one or two path segments of letters, digits, '_' or '-')", doc.root)


def _data_standard(ns: str, base: str) -> bool:
    segments = _namespace_segments(ns, base)
    return segments is not None and bool(segments) and segments[0] in DATA_STANDARD_AREAS


def check_namespace_unversioned(ctx: LintContext) -> Iterator[Hit]:
    base = _norm_base(ctx.settings.namespace_base)
    for doc in ctx.documents:
        ns = doc.root.get("targetNamespace")
        if not ns or not _data_standard(ns, base):
            continue  # message schemas may version their namespace (.../r68/2, urn:...:V3.13)
        path = _URL_RE.sub("", ns).split("/", 1)[-1] if _URL_RE.match(ns) else ns
        for segment in re.split(r"[/:#]", path):
            if segment and VERSION_SEGMENT_RE.match(segment):
                yield Hit(doc, f"targetNamespace {ns!r} carries a version ({segment!r}): data "
                               "standards keep one namespace across versions and put the version "
                               "in @version and the file name", doc.root)
                break


def check_qualified_elements(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        value = doc.root.get("elementFormDefault")
        if value != "qualified":
            shown = f"is {value!r}" if value is not None else "is missing (default: unqualified)"
            yield Hit(doc, f"elementFormDefault {shown}: local elements must be namespace-"
                           "qualified (elementFormDefault=\"qualified\")", doc.root)
        for elem in _xsd_descendants(doc.root, "element"):
            if elem.get("form") == "unqualified" and not _in_appinfo(elem):
                yield Hit(doc, f"{_describe(elem)} is declared form=\"unqualified\"", elem)


def check_version_attribute(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        value = doc.root.get("version")
        if value is None:
            yield Hit(doc, "xs:schema has no version attribute (expected \"MAJOR.MINOR\", e.g. "
                           "version=\"2.0\")", doc.root)
        elif not VERSION_ATTR_RE.match(value.strip()):
            yield Hit(doc, f"xs:schema/@version {value!r} is not of the form MAJOR.MINOR "
                           "(e.g. \"2.0\"; \"1.00\", \"3.1d\" and \"2.0-HMRC\" are accepted too)", doc.root)


def declared_version(value: str | None) -> tuple[int, int, str] | None:
    """``(major, minor, revision letters)`` of an @version: 1.00 is 1.0, 2.0-HMRC is 2.0."""
    m = VERSION_ATTR_RE.match((value or "").strip())
    return (int(m.group(1)), int(m.group(2)), m.group(3) or "") if m else None


def check_version_matches(ctx: LintContext) -> Iterator[Hit]:
    if ctx.registry_version is None:
        return
    doc = ctx.main
    value = doc.root.get("version")
    registered = declared_version(ctx.registry_version)
    if value is not None and (declared_version(value) or value.strip()) != (registered or ctx.registry_version):
        yield Hit(doc, f"xs:schema/@version is {value!r} but the version is registered as "
                       f"{ctx.registry_version!r}", doc.root)


def check_file_name(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        base = posixpath.basename(doc.path.replace(os.sep, "/"))
        m = FILE_NAME_RE.match(base)
        if m is None:
            yield Hit(doc, f"file name {base!r} is not of the form <Name>-vMAJOR-MINOR.xsd "
                           "(e.g. BS7666-v2-0.xsd)", doc.root)
            continue
        declared = (doc.root.get("version") or "").strip()
        found = declared_version(declared)
        named = (int(m.group(2)), int(m.group(3)), m.group(4) or "")
        if found and named != found:
            yield Hit(doc, f"file name {base!r} says version {named[0]}.{named[1]}{named[2]} but "
                           f"xs:schema/@version is {declared!r}", doc.root)


def check_xsd_prefix(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        prefixes = [p for p, ns in doc.root.nsmap.items() if ns == XSD_NS]
        if not any(p in ("xsd", "xs") for p in prefixes):
            shown = "the default namespace" if prefixes == [None] else (
                f"prefix {prefixes[0]!r}" if prefixes else "nothing")
            yield Hit(doc, f"the XML Schema namespace is bound to {shown}: bind it to the prefix "
                           "'xsd' (or 'xs')", doc.root)


def check_namespace_prefix(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        nsmap = doc.root.nsmap
        prefixed = {ns for p, ns in nsmap.items() if p}
        tns = doc.root.get("targetNamespace")
        if tns and tns not in prefixed:
            yield Hit(doc, f"the targetNamespace {tns!r} has no prefix: declare one on xs:schema "
                           "and refer to the schema's own components through it", doc.root)
        for imp in _xsd_children(doc.root, "import"):
            ns = imp.get("namespace")
            if ns and ns not in prefixed:
                yield Hit(doc, f"imported namespace {ns!r} has no prefix declared on xs:schema", imp)


def _named(doc: Document, *kinds: str) -> Iterator[etree._Element]:
    for elem in _xsd_descendants(doc.root, *kinds):
        if elem.get("name") is not None and not _in_appinfo(elem):
            yield elem


def check_upper_camel_case(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _named(doc, "element", "complexType", "simpleType", "group", "attributeGroup"):
            name = elem.get("name", "")
            if not UPPER_CAMEL_RE.match(name):
                yield Hit(doc, f"{_describe(elem)}: name is not UpperCamelCase (a capital letter, "
                               "then letters and digits only)", elem)
        for elem in _named(doc, "attribute"):
            name = elem.get("name", "")
            if not ATTRIBUTE_NAME_RE.match(name):
                yield Hit(doc, f"{_describe(elem)}: attribute names are camel case (letters and "
                               "digits only)", elem)


def check_complex_type_suffix(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _named(doc, "complexType"):
            name = elem.get("name", "")
            if UPPER_CAMEL_RE.match(name) and not COMPLEX_TYPE_NAME_RE.match(name):
                yield Hit(doc, f"complex type {name!r} should end in 'Structure' (or 'structure' "
                               "right after an acronym, as in AONstructure)", elem)


def check_simple_type_suffix(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _named(doc, "simpleType"):
            name = elem.get("name", "")
            if UPPER_CAMEL_RE.match(name) and not SIMPLE_TYPE_NAME_RE.match(name):
                yield Hit(doc, f"simple type {name!r} should end in 'Type' (or 'type' right after "
                               "an acronym, as in UPRNtype)", elem)


def _documented(elem: etree._Element) -> bool:
    return any(_has_text(d) for a in _xsd_children(elem, "annotation")
               for d in _xsd_children(a, "documentation"))


def check_documentation(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _xsd_children(doc.root, *GLOBAL_KINDS):
            if not _documented(elem):
                yield Hit(doc, f"{_describe(elem)} has no xs:annotation/xs:documentation", elem)


def _metadata_blocks(doc: Document) -> list[etree._Element]:
    return metadata_blocks(doc.root)


def check_egms_metadata(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        blocks = _metadata_blocks(doc)
        if not blocks:
            yield Hit(doc, "no e-GMS metadata block (xs:annotation/xs:appinfo/egms:Metadata in the "
                           f"{EGMS_NS} namespace, or the older GovTalk {GMS_XS_NS}) on xs:schema",
                      doc.root)
            continue
        found = egms_metadata(doc.root)
        missing = [label for label, names in EGMS_MANDATORY.items()
                   if not any(found.get(n) for n in names)]
        if missing:
            yield Hit(doc, f"e-GMS metadata lacks mandatory element(s): {', '.join(missing)} "
                           "(accepted: Creator; Created/Modified/Issued or Date; Category or "
                           "Subject/Category; Title)", blocks[0])


def check_change_history(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        blocks = _metadata_blocks(doc)
        appinfo = doc.root.iterfind(f"{_X}annotation/{_X}appinfo")
        has_history = any(
            _local(e) in CHANGE_HISTORY_NAMES and _has_text(e)
            for a in appinfo for e in a.iter() if isinstance(e.tag, str)
        )
        if not has_history:
            yield Hit(doc, "no change history: add egms:ChangeHistory entries (one per version) to "
                           "the schema's appinfo", blocks[0] if blocks else doc.root)


def pattern_uses_backslash_d(pattern: str) -> bool:
    """Whether an XSD pattern uses the escape ``\\d`` (an escaped backslash does not count)."""
    i = 0
    while i < len(pattern) - 1:
        if pattern[i] == "\\":
            if pattern[i + 1] == "d":
                return True
            i += 2
            continue
        i += 1
    return False


def check_explicit_class(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _xsd_descendants(doc.root, "pattern"):
            value = elem.get("value", "")
            if pattern_uses_backslash_d(value) and not _in_appinfo(elem):
                yield Hit(doc, f"pattern \"{value}\" uses \\d, which also matches non-ASCII digits "
                               "(Arabic-Indic, Devanagari...): write [0-9]", elem)


def check_deterministic(ctx: LintContext) -> Iterator[Hit]:
    for rule_id, hit in ctx.compile_hits:
        if rule_id == "deterministic-content":
            yield hit


def check_compiles(ctx: LintContext) -> Iterator[Hit]:
    for rule_id, hit in ctx.compile_hits:
        if rule_id == "schema-compiles":
            yield hit


def check_unresolved_import(ctx: LintContext) -> Iterator[Hit]:
    for rule_id, hit in ctx.compile_hits:
        if rule_id == "unresolved-import":
            yield hit


def check_chameleon_include(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        tns = doc.root.get("targetNamespace")
        for elem, target in doc.includes:
            if target is not None and tns and not target.root.get("targetNamespace"):
                yield Hit(doc, f"xs:{_local(elem)} of {elem.get('schemaLocation')!r}, a schema with "
                               "no targetNamespace (chameleon include): give the shared types their "
                               "own namespace and xs:import it", elem)


def _simple_type_names(ctx: LintContext) -> set[str]:
    return {e.get("name", "") for d in ctx.documents for e in _xsd_children(d.root, "simpleType")}


def _is_leaf(elem: etree._Element, doc: Document, simple_names: set[str]) -> bool:
    if any(True for _ in _xsd_children(elem, "complexType")):
        return False
    if any(True for _ in _xsd_children(elem, "simpleType")):
        return True
    type_name = elem.get("type")
    if not type_name:
        return False
    prefix, _, local = type_name.rpartition(":")
    ns = elem.nsmap.get(prefix or None)
    if ns == XSD_NS:
        return local not in ("anyType",)
    return ns == doc.root.get("targetNamespace") and local in simple_names


def check_local_leaf(ctx: LintContext) -> Iterator[Hit]:
    simple_names = _simple_type_names(ctx)
    for doc in ctx.documents:
        for elem in _xsd_descendants(doc.root, "element"):
            if (elem.get("name") is None or elem.getparent() is doc.root or _in_appinfo(elem)):
                continue
            if _is_leaf(elem, doc, simple_names):
                yield Hit(doc, f"{_describe(elem)} is a leaf element declared locally: declare it "
                               "globally and use it by ref so other structures can reuse it", elem)


def check_wildcard(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _xsd_descendants(doc.root, "any", "anyAttribute"):
            if not _in_appinfo(elem):
                yield Hit(doc, f"xs:{_local(elem)} admits content the schema does not describe "
                               "(namespace " f"{elem.get('namespace', '##any')!r}, processContents "
                               f"{elem.get('processContents', 'strict')!r})", elem)


def check_substitution_group(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _xsd_descendants(doc.root, "element"):
            group = elem.get("substitutionGroup")
            if group and not _in_appinfo(elem):
                yield Hit(doc, f"{_describe(elem)} joins substitution group {group!r}: receivers "
                               "must know every member to read the data", elem)


def check_redefine(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _xsd_children(doc.root, "redefine", "override"):
            yield Hit(doc, f"xs:{_local(elem)} of {elem.get('schemaLocation')!r} changes components "
                           "of another schema in place: the same names then mean different things",
                      elem)


def check_abstract(ctx: LintContext) -> Iterator[Hit]:
    for doc in ctx.documents:
        for elem in _xsd_descendants(doc.root, "complexType", "element"):
            if elem.get("abstract") in ("true", "1") and not _in_appinfo(elem):
                yield Hit(doc, f"{_describe(elem)} is abstract: instances need xsi:type or a "
                               "substitution group to say what they hold", elem)


# -- the rule table ------------------------------------------------------------------
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

RULES: dict[str, Rule] = {r.id: r for r in (
    Rule("target-namespace", _E, "A schema declares a targetNamespace (no-namespace schemas turn "
         "chameleon when included).", "R1/R11", check_target_namespace),
    Rule("namespace-form", _W, "The targetNamespace is <base><area>/<Name>, base "
         "http://www.govtalk.gov.uk/ unless the registry sets another.", "R1", check_namespace_form),
    Rule("namespace-unversioned", _W, "Data-standard namespaces (under <base>people/, core/ or "
         "metadata/) carry no version; the version lives in @version and the file name.  Message "
         "schemas elsewhere may version theirs by path or URN (.../r68/2, ...:V3.13), as HMRC's do.",
         "R5", check_namespace_unversioned),
    Rule("qualified-elements", _E, "elementFormDefault=\"qualified\" on every document and no "
         "form=\"unqualified\" local elements.", "R2", check_qualified_elements),
    Rule("version-attribute", _E, "xs:schema/@version is present and of the form MAJOR.MINOR; as "
         "published sets write it, 1.00, a revision letter (3.1d) and a publisher suffix (2.0-HMRC) are "
         "accepted too.", "R3", check_version_attribute),
    Rule("version-matches-registry", _E, "xs:schema/@version of the main document equals the version "
         "it is registered under (1.00 equals 1.0; a publisher suffix is ignored).", "R3",
         check_version_matches),
    Rule("file-name", _W, "Files are named <Name>-vMAJOR-MINOR.xsd (a revision letter may follow: "
         "-v3-1d.xsd), agreeing with @version.", "R4", check_file_name),
    Rule("xsd-prefix", _W, "The XML Schema namespace is bound to the prefix xsd (or xs).", "R6",
         check_xsd_prefix),
    Rule("namespace-prefix", _W, "The targetNamespace and every imported namespace have a prefix on "
         "xs:schema.", "R6", check_namespace_prefix),
    Rule("upper-camel-case", _E, "Element, type and group names are UpperCamelCase (acronyms allowed: "
         "SAON, NHSnumber); attributes are camel case.", "R7", check_upper_camel_case),
    Rule("complex-type-suffix", _E, "Named complex types end in Structure (structure right after an "
         "acronym: AONstructure).", "R7", check_complex_type_suffix),
    Rule("simple-type-suffix", _E, "Named simple types end in Type (type right after an acronym: "
         "UPRNtype).", "R7", check_simple_type_suffix),
    Rule("documentation", _W, "Every global component carries xs:annotation/xs:documentation.", "R8",
         check_documentation),
    Rule("egms-metadata", _E, "xs:schema carries an e-GMS Metadata block in its appinfo with Creator, "
         "a date, a subject category and Title (the older GovTalk metadata namespaces CM/gms-xs and "
         "CM/gms count as e-GMS).", "R8", check_egms_metadata),
    Rule("change-history", _W, "The schema's appinfo records a change history (egms:ChangeHistory).",
         "R8", check_change_history),
    Rule("explicit-character-class", _E, "Patterns write [0-9], not \\d (which matches every Unicode "
         "digit).", "R9", check_explicit_class),
    Rule("deterministic-content", _E, "Content models are deterministic (Unique Particle "
         "Attribution), as libxml2 checks them.", "R10", check_deterministic),
    Rule("schema-compiles", _E, "The schema and its includes compile (errors caused by imports that "
         "are not available locally are not counted).", "R10", check_compiles),
    Rule("unresolved-import", _I, "An imported schema could not be found locally, so checks that "
         "need it were skipped.", "R10", check_unresolved_import),
    Rule("chameleon-include", _E, "Shared types are imported from their own namespace, never "
         "xs:included from a no-namespace (chameleon) schema.", "R11", check_chameleon_include),
    Rule("bundled-import", _I, "Files bundled with a version because it imports them are other "
         "standards' documents: they are named, not linted, unless asked for.", "R11",
         lambda ctx: (hit for rule_id, hit in ctx.compile_hits if rule_id == "bundled-import")),
    Rule("local-leaf-element", _I, "Leaf elements are declared globally and used by ref, so other "
         "structures can reuse them.", "R12", check_local_leaf),
    Rule("wildcard", _W, "xs:any and xs:anyAttribute admit undescribed content.", "R13",
         check_wildcard),
    Rule("substitution-group", _W, "Substitution groups make the content of an element open-ended.",
         "R13", check_substitution_group),
    Rule("redefine", _W, "xs:redefine and xs:override change another schema's components in place.",
         "R13", check_redefine),
    Rule("abstract-type", _W, "Abstract types and elements need xsi:type or substitution to be "
         "used.", "R13", check_abstract),
)}


def explain(rule_id: str) -> str:
    """The one-line explanation of a rule, with its default severity and convention."""
    rule = RULES.get(rule_id)
    if rule is None:
        raise InputError(f"unknown lint rule {rule_id!r} (known: {', '.join(RULES)})")
    return f"{rule.id} ({rule.severity.value}, {rule.convention}): {rule.summary}"


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def count(findings: Iterable[Finding]) -> dict[str, int]:
    out = {s.value: 0 for s in Severity}
    for f in findings:
        out[f.severity.value] += 1
    return out


# -- running -----------------------------------------------------------------------------
def run_rules(ctx: LintContext) -> list[Finding]:
    findings: list[Finding] = []
    for rule in RULES.values():
        if rule.id in ctx.settings.disabled:
            continue
        severity = ctx.settings.severity_of(rule)
        for hit in rule.check(ctx):
            line = hit.line if hit.line is not None else (
                _line(hit.elem) if hit.elem is not None else None)
            findings.append(Finding(
                message=hit.message, rule=rule.id, severity=severity, file=hit.doc.name,
                line=line, path=component_path(hit.elem) if hit.elem is not None else None,
            ))
    order = {s: i for i, s in enumerate((Severity.ERROR, Severity.WARNING, Severity.INFO))}
    files = {d.name: i for i, d in enumerate(ctx.documents)}
    findings.sort(key=lambda f: (files.get(f.file or "", len(files)), f.line or 0,
                                 order[f.severity], f.rule))
    return findings


# -- compiling with libxml2 ------------------------------------------------------------------
@dataclass(frozen=True)
class _CompileError:
    vpath: str | None
    line: int
    message: str
    kind: str  # the libxml2 error type name


def _compile_errors(files: Mapping[str, bytes], main: str, stubs: Mapping[str, bytes] | None = None
                    ) -> tuple[list[_CompileError], bool]:
    """libxml2's schema errors for the closure in *files*; and whether it compiled.

    *stubs* answers import locations that are not available (URL -> an empty
    schema of the imported namespace), so that libxml2 goes on to check the rest.
    """
    parser = make_parser()
    parser.resolvers.add(TreeResolver(files, stubs))
    root = etree.fromstring(files[main], parser, base_url=VIRTUAL_BASE + main)
    try:
        etree.XMLSchema(root.getroottree())
        return [], True
    except etree.XMLSchemaParseError as exc:
        errors = []
        for e in exc.error_log:
            if e.level_name not in ("ERROR", "FATAL"):
                continue
            where = e.filename or ""
            vpath = where[len(VIRTUAL_BASE):] if where.startswith(VIRTUAL_BASE) else None
            errors.append(_CompileError(vpath, e.line, e.message.strip(), e.type_name))
        return errors, False


def _element_at(root: etree._Element, line: int) -> etree._Element | None:
    best = None
    for elem in root.iter():
        at = _line(elem)
        if at is None:
            continue
        if at > line:
            break
        if isinstance(elem.tag, str):
            best = elem
    return best


def _index_path(elem: etree._Element) -> list[int]:
    out: list[int] = []
    node = elem
    while node.getparent() is not None:
        parent = node.getparent()
        assert parent is not None
        out.append(parent.index(node))
        node = parent
    return list(reversed(out))


def _follow(root: etree._Element, path: list[int]) -> etree._Element | None:
    node = root
    for i in path:
        if i >= len(node):
            return None
        node = node[i]
    return node


def _compile_hits(files: Mapping[str, bytes], main: str, own: Mapping[str, Document],
                  laid_out: bool, unresolved: list[tuple[Document, etree._Element, str, str]]
                  ) -> list[tuple[str, Hit]]:
    """Turn libxml2's compile errors into hits on the documents being linted.

    *own* maps virtual paths to documents.  When *laid_out* is true the bytes in
    *files* were rewritten by the registry (locations), so lines are mapped back
    to the stored document through the element's position in the tree.
    """
    hits: list[tuple[str, Hit]] = []
    for doc, elem, ns, kind in unresolved:
        if kind != "import":
            continue  # a missing include is reported by the loader
        hits.append(("unresolved-import", Hit(doc, f"imported namespace {ns!r} "
                     f"({elem.get('schemaLocation') or 'no schemaLocation'}) is not available "
                     "locally: compile errors that may follow from it are not reported", elem)))
    stubs: dict[str, bytes] = {}
    vpath_of = {id(d): v for v, d in own.items()}
    for doc, elem, ns, _kind in unresolved:
        location = elem.get("schemaLocation")
        if location and id(doc) in vpath_of:
            url = urllib.parse.urljoin(VIRTUAL_BASE + vpath_of[id(doc)], location)
            stub = etree.Element(f"{_X}schema", nsmap={"xs": XSD_NS})
            if ns != NO_NAMESPACE:
                stub.set("targetNamespace", ns)
            stubs[url] = etree.tostring(stub)
    errors, _ok = _compile_errors(files, main, stubs)
    main_doc = own[main]
    for err in errors:
        deterministic = err.kind == "SCHEMAP_NOT_DETERMINISTIC" or "not determinist" in err.message
        if unresolved and not deterministic:
            continue
        found = own.get(err.vpath or "")
        target: etree._Element | None = None
        line: int | None = err.line or None
        if found is not None and line is not None and laid_out:
            shown = parse_schema_bytes(files[err.vpath or ""], found.name).getroot()
            at = _element_at(shown, line)
            target = _follow(found.root, _index_path(at)) if at is not None else None
            line = None if target is not None else line
        elif found is not None and line is not None:
            at = _element_at(found.root, line)
            target = at if at is not None and _line(at) == line else None
        rule = "deterministic-content" if deterministic else "schema-compiles"
        message = err.message
        if deterministic:
            message += (" (an element in it can match more than one particle: make the choice "
                        "visible from the first element)")
        if found is None:
            message += f" (in imported file {err.vpath})" if err.vpath else ""
            found, line = main_doc, None
        hits.append((rule, Hit(found, message, target, line)))
    return hits


# -- lint a file on disk ------------------------------------------------------------------------
def _norm(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def lint_file(path: str | Path, *, settings: LintSettings | None = None) -> list[Finding]:
    """Lint a schema file and the documents it includes.

    A file that is not well-formed XML gives one ``xml:syntax`` error finding with its
    line and column; a missing, unreadable or unsafe file raises :class:`InputError`."""
    settings = settings or LintSettings()
    shown_main = str(path)
    data = read_file(Path(path))
    try:
        tree = parse_schema_bytes(data, shown_main)
    except UnsafeInputError:
        raise
    except InputError as exc:
        if exc.line is None:  # empty, not XML at all
            raise
        # not well-formed: a finding located like a document's (file:line:col, JSON fields)
        return [Finding(exc.message, "xml:syntax", Severity.ERROR, shown_main, exc.line, exc.column)]
    if tree.getroot().tag != f"{_X}schema":
        raise InputError("not an XML Schema (the root element is not xs:schema)", file=shown_main)

    # local closure: own documents (main + includes), plus imports found on disk
    loaded: dict[str, tuple[bytes, etree._Element, str]] = {_norm(shown_main): (data, tree.getroot(),
                                                                               shown_main)}
    own: dict[str, Document] = {}
    # (document, directive, namespace, kind) of what could not be found on disk
    unresolved: list[tuple[Document, etree._Element, str, str]] = []
    compile_hits: list[tuple[str, Hit]] = []
    pending: list[tuple[Document, etree._Element, str | None]] = []
    queue: list[tuple[str, bool]] = [(_norm(shown_main), True)]
    seen: set[str] = set()
    while queue:
        absolute, is_own = queue.pop(0)
        if absolute in seen:
            continue
        seen.add(absolute)
        _data, root, shown = loaded[absolute]
        doc = Document(shown, shown, root, main=absolute == _norm(shown_main)) if is_own else None
        if doc is not None:
            own[absolute] = doc
        for elem in iter_directives(root):
            kind = _local(elem)
            location = elem.get("schemaLocation")
            target_abs = None
            if location and not _URL_RE.match(location):
                target_abs = _norm(os.path.join(os.path.dirname(absolute), location))
                if target_abs not in loaded:
                    target_shown = os.path.normpath(os.path.join(os.path.dirname(shown), location))
                    try:
                        t_data = read_file(Path(target_abs))
                        t_tree = parse_schema_bytes(t_data, target_shown)
                        loaded[target_abs] = (t_data, t_tree.getroot(), target_shown)
                    except InputError:
                        target_abs = None
            if kind == "import":
                if target_abs is not None:
                    queue.append((target_abs, False))
                elif doc is not None:
                    unresolved.append((doc, elem, elem.get("namespace") or NO_NAMESPACE, kind))
                continue
            # include, redefine, override: part of the same schema
            if target_abs is not None:
                queue.append((target_abs, is_own))
            elif doc is not None:
                compile_hits.append(("schema-compiles", Hit(
                    doc, f"xs:{kind} of {location!r}: the file cannot be read locally", elem)))
                unresolved.append((doc, elem, root.get("targetNamespace") or NO_NAMESPACE, kind))
            if doc is not None:
                pending.append((doc, elem, target_abs))

    # include targets were recorded by path: now that all are loaded, pair them up
    for doc, elem, target in pending:
        doc.includes.append((elem, own.get(target) if target is not None else None))

    # lay the closure out under its common folder and compile it
    folder = os.path.commonpath([os.path.dirname(p) for p in loaded])
    vpaths = {p: Path(os.path.relpath(p, folder)).as_posix() for p in loaded}
    raw = {vpaths[p]: loaded[p][0] for p in loaded}
    # compiled as every egif reader reads them (DOCTYPE dropped, XSD 1.1 conditional inclusion)
    version = documents_xsd_version(raw)
    files = {v: normalise(d, v, version) for v, d in raw.items()}
    by_vpath = {vpaths[p]: d for p, d in own.items()}
    changed = any(files[v] is not raw[v] for v in raw)
    compile_hits += _compile_hits(files, vpaths[_norm(shown_main)], by_vpath, changed, unresolved)

    ctx = LintContext(list(own.values()), settings, None, compile_hits)
    return run_rules(ctx)


# -- lint a registered version ------------------------------------------------------------------
def lint_version(registry: Registry, ref: str | SchemaRef, *,
                 settings: LintSettings | None = None, include_imports: bool = False) -> list[Finding]:
    """Lint a registered version from the registry's bytes.

    Only the standard's own documents (its main document and what it
    includes) are linted: files bundled with it because it imports them were
    written by others (the W3C signature schema, a bundled GovTalk module)
    and are named in one ``bundled-import`` finding instead, unless
    *include_imports* asks for them too.  Without *settings*, the registry's
    own lint settings apply.
    """
    if settings is None:
        settings = registry_settings(registry)
    version = registry.get(ref)
    stored = registry.files(version.ref)
    resolved = registry.resolve(version.ref)
    key = resolved.main[: -len(version.main)].rstrip("/")
    label = f"{version.name}@{version.version}"

    roles = {f.path: f.role for f in version.files}
    bundled = sorted(p for p in stored if roles.get(p) == "import")
    docs: dict[str, Document] = {}
    for path, content in stored.items():
        if path in bundled and not include_imports:
            continue
        root = parse_schema_bytes(content, f"{label}/{path}").getroot()
        docs[path] = Document(f"{label}/{path}", path, root, main=path == version.main)
    # pair each document's include elements with the stored directives, in order
    by_file: dict[str, list[Any]] = {}
    for d in version.directives:
        by_file.setdefault(d.file, []).append(d)
    for path, doc in docs.items():
        elements = iter_directives(doc.root)
        stored_directives = by_file.get(path, [])
        if len(elements) != len(stored_directives):
            continue  # cannot pair them up: leave includes unchecked rather than guess
        for elem, d in zip(elements, stored_directives, strict=True):
            if d.kind != "import":
                doc.includes.append((elem, docs.get(d.target_path) if d.target_path else None))

    own = {f"{key}/{path}": doc for path, doc in docs.items()}
    compile_hits = _compile_hits(resolved.files, resolved.main, own, True, [])
    ordered = [docs[version.main]] + [d for p, d in sorted(docs.items()) if p != version.main]
    if bundled and not include_imports:
        compile_hits.append(("bundled-import", Hit(docs[version.main], (
            f"{len(bundled)} imported file(s) bundled with this version were not linted, being other "
            f"standards' documents: {', '.join(bundled)} (lint them with --include-imports, or register "
            "them as versions of their own)"), docs[version.main].root)))
    ctx = LintContext(ordered, settings, version.version, compile_hits)
    return run_rules(ctx)
