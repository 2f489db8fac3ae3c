"""The HTML catalogue of a published registry: pages for people.

``index.html`` lists every standard; ``<Name>.html`` shows one standard: its
versions and statuses, the documentation its annotations carry, the
structure of its global components, and the diff between consecutive
versions.  The renderers are pure functions of plain data (no registry, no
I/O); :func:`build_catalogue` gathers that data.  The pages are static HTML
with one stylesheet and no scripts, so any static host serves them.

The schema diff comes from :mod:`egif.diff` when that is installed; until then
each diff section says so, and the next publish fills it in.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lxml import etree

from egif.errors import EgifError, UnsafeInputError
from egif.limits import (
    MAX_CATALOGUE_COMPONENTS,
    MAX_SCHEMA_COMPONENTS,
    check_component_count,
    count_global_components,
)
from egif.xmlsafe import XSD_NS, parse_bytes

if TYPE_CHECKING:
    from egif.registry import Registry

XS = f"{{{XSD_NS}}}"
STATUS_ORDER = ("ratified", "candidate", "draft", "deprecated", "withdrawn", "rejected")
MAX_DEPTH = 6


@dataclass
class Site:
    """The pages of a catalogue: relative path -> bytes."""

    pages: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# -- reading a schema's documentation and structure ---------------------------
@dataclass
class Component:
    kind: str  # element, complexType, simpleType, group, attributeGroup
    name: str
    file: str
    doc: str
    detail: str  # one line: type, base and facets
    children: list[Particle] = field(default_factory=list)


@dataclass
class Particle:
    label: str  # "sequence", "choice", "all" or an element/group/any
    occurs: str
    detail: str = ""
    doc: str = ""
    children: list[Particle] = field(default_factory=list)


@dataclass
class Outline:
    doc: str
    components: list[Component]
    total: int = -1  # global components in the documents; more than listed when cut short

    def __post_init__(self) -> None:
        if self.total < 0:
            self.total = len(self.components)


def _doc(elem: etree._Element) -> str:
    texts = []
    for d in elem.iterfind(f"{XS}annotation/{XS}documentation"):
        text = " ".join("".join(str(t) for t in d.itertext()).split())
        if text:
            texts.append(text)
    return " ".join(texts)


def _occurs(elem: etree._Element) -> str:
    lo = elem.get("minOccurs", "1")
    hi = elem.get("maxOccurs", "1")
    hi = "n" if hi == "unbounded" else hi
    return "" if (lo, hi) == ("1", "1") else f"[{lo}..{hi}]"


def _facets(restriction: etree._Element) -> str:
    parts = []
    enums = [e.get("value", "") for e in restriction.iterfind(f"{XS}enumeration")]
    if enums:
        shown = ", ".join(enums[:12]) + (", ..." if len(enums) > 12 else "")
        parts.append(f"one of: {shown}")
    for facet in restriction:
        if not isinstance(facet.tag, str) or facet.tag == f"{XS}enumeration":
            continue
        local = etree.QName(facet).localname
        if local in ("annotation", "simpleType"):
            continue
        parts.append(f"{local} {facet.get('value', '')}")
    return "; ".join(parts)


def _simple_detail(st: etree._Element) -> str:
    restriction = st.find(f"{XS}restriction")
    if restriction is not None:
        facets = _facets(restriction)
        base = restriction.get("base", "anonymous")
        return f"restricts {base}" + (f": {facets}" if facets else "")
    lst = st.find(f"{XS}list")
    if lst is not None:
        return f"list of {lst.get('itemType', 'anonymous')}"
    union = st.find(f"{XS}union")
    if union is not None:
        return f"union of {union.get('memberTypes', 'anonymous types')}"
    return ""


def _particles(parent: etree._Element, depth: int) -> list[Particle]:
    out: list[Particle] = []
    if depth > MAX_DEPTH:
        return out
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local in ("sequence", "choice", "all"):
            out.append(Particle(local, _occurs(child), children=_particles(child, depth + 1)))
        elif local == "element":
            if child.get("ref"):
                out.append(Particle(child.get("ref", ""), _occurs(child), "reference", _doc(child)))
                continue
            detail, kids = _element_body(child, depth)
            out.append(Particle(child.get("name", "?"), _occurs(child), detail, _doc(child), kids))
        elif local == "group" and child.get("ref"):
            out.append(Particle(f"group {child.get('ref')}", _occurs(child)))
        elif local == "any":
            out.append(Particle(f"any element ({child.get('namespace', '##any')})", _occurs(child)))
        elif local in ("complexContent", "simpleContent"):
            for deriv in child:
                if isinstance(deriv.tag, str) and etree.QName(deriv).localname in ("extension",
                                                                                    "restriction"):
                    how = etree.QName(deriv).localname
                    out.append(Particle(f"{how} of {deriv.get('base', '?')}", "",
                                        children=_particles(deriv, depth + 1)))
        elif local == "attribute":
            name = child.get("name") or child.get("ref", "?")
            use = "required" if child.get("use") == "required" else "optional"
            out.append(Particle(f"@{name}", "", f"{child.get('type', '')} ({use})".strip(),
                                _doc(child)))
    return out


def _element_body(elem: etree._Element, depth: int) -> tuple[str, list[Particle]]:
    if elem.get("type"):
        return elem.get("type", ""), []
    ct = elem.find(f"{XS}complexType")
    if ct is not None:
        return "", _particles(ct, depth + 1)
    st = elem.find(f"{XS}simpleType")
    if st is not None:
        return _simple_detail(st), []
    return "", []


def schema_outline(files: Mapping[str, bytes], main: str, *,
                   limit: int = MAX_CATALOGUE_COMPONENTS) -> Outline:
    """Documentation and global components of a version's own documents.

    Only the first *limit* components are described; the rest are counted
    (``Outline.total``), so a page stays readable whatever the schema's size.
    """
    doc = ""
    components: list[Component] = []
    total = 0
    ordered = [main, *sorted(p for p in files if p != main)]
    for path in ordered:
        root = parse_bytes(files[path], path).getroot()
        if path == main:
            doc = _doc(root)
        for child in root:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            name = child.get("name")
            if not name or local not in _OUTLINED:
                continue
            total += 1
            if len(components) >= limit:
                continue
            if local == "element":
                detail, kids = _element_body(child, 0)
                components.append(Component("element", name, path, _doc(child), detail, kids))
            elif local == "complexType":
                components.append(Component("complexType", name, path, _doc(child), "",
                                            _particles(child, 0)))
            elif local == "simpleType":
                components.append(Component("simpleType", name, path, _doc(child),
                                            _simple_detail(child)))
            elif local in ("group", "attributeGroup"):
                components.append(Component(local, name, path, _doc(child), "",
                                            _particles(child, 0)))
    return Outline(doc, components, total)


_OUTLINED = frozenset({"element", "complexType", "simpleType", "group", "attributeGroup"})


# -- rendering -----------------------------------------------------------------
def _e(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def page_name(standard: str) -> str:
    return f"{quote(standard, safe='')}.html"


def version_anchor(version: str) -> str:
    return "v" + version.replace(".", "-")


STYLE = """\
:root { --ink: #1d1d1b; --muted: #5f5f5f; --line: #d0d0d0; --accent: #1d4f91; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, sans-serif; color: var(--ink); margin: 0; background: #fafafa; }
header { background: var(--accent); color: #fff; padding: 1rem 2rem; }
header a { color: #fff; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 2rem 3rem; }
h1 { margin: 0; font-size: 1.5rem; }
h2 { border-bottom: 2px solid var(--line); padding-bottom: .2rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; background: #fff; }
th, td { text-align: left; border: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; }
th { background: #eef1f5; }
code, .digest { font-family: ui-monospace, monospace; font-size: .85em; }
.digest { color: var(--muted); }
.status { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem;
  font-weight: 600; color: #fff; background: #777; }
.status-ratified { background: #2e7d32; } .status-candidate { background: #1565c0; }
.status-draft { background: #8d6e00; } .status-deprecated { background: #b05a00; }
.status-withdrawn, .status-rejected { background: #8e2424; }
.verdict { font-weight: 600; }
.verdict-breaking { color: #8e2424; } .verdict-identical, .verdict-full { color: #2e7d32; }
.doc { color: var(--muted); margin: .1rem 0 .4rem; }
ul.tree { list-style: none; padding-left: 1.2rem; margin: .2rem 0; border-left: 1px dotted var(--line); }
details { background: #fff; border: 1px solid var(--line); padding: .3rem .8rem; margin: .4rem 0; }
summary { cursor: pointer; font-weight: 600; }
footer { color: var(--muted); font-size: .85rem; margin-top: 3rem; }
"""


def _status(status: str) -> str:
    return f'<span class="status status-{_e(status)}">{_e(status)}</span>'


def _layout(title: str, heading: str, body: str, *, home: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(heading)} - {_e(title)}</title>\n"
        "<link rel=\"icon\" href=\"data:,\">\n"
        "<link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n"
        f"<header><a href=\"{home}\">{_e(title)}</a><h1>{_e(heading)}</h1></header>\n"
        f"<main>\n{body}\n<footer>Generated by egif from the published registry "
        "(<a href=\"../index.json\">index.json</a>, "
        "<a href=\"../index.sha256\">index.sha256</a>).</footer>\n</main>\n</body>\n</html>\n"
    )


def render_index(title: str, standards: list[dict[str, Any]], index_sha256: str | None = None) -> str:
    """The front page: one row per standard."""
    rows = []
    for std in standards:
        versions = std["versions"]
        newest = versions[-1] if versions else None
        counts: dict[str, int] = {}
        for v in versions:
            counts[v["status"]] = counts.get(v["status"], 0) + 1
        statuses = " ".join(f"{_status(s)}&nbsp;{counts[s]}" for s in STATUS_ORDER if s in counts)
        rows.append(
            f"<tr><td><a href=\"{page_name(std['name'])}\">{_e(std['name'])}</a></td>"
            f"<td>{_e(std.get('title') or '')}</td>"
            f"<td><code>{_e(newest['namespace'] if newest else '')}</code></td>"
            f"<td>{len(versions)}</td><td>{statuses}</td></tr>"
        )
    pin = (f"<p>Registry state: <code class=\"digest\">{_e(index_sha256)}</code> "
           "(SHA-256 of index.json; pin it with <code>egif registry pull URL --pin</code>)</p>"
           if index_sha256 else "")
    body = (
        f"<p>{len(standards)} standards, {sum(len(s['versions']) for s in standards)} versions.</p>"
        f"{pin}<table><thead><tr><th>Standard</th><th>Title</th><th>Namespace</th>"
        "<th>Versions</th><th>Statuses</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows) + "\n</tbody></table>"
    )
    return _layout(title, "Standards", body, home="index.html")


def _render_particles(items: list[Particle]) -> str:
    if not items:
        return ""
    out = ["<ul class=\"tree\">"]
    for p in items:
        detail = f" : <code>{_e(p.detail)}</code>" if p.detail else ""
        occurs = f" <em>{_e(p.occurs)}</em>" if p.occurs else ""
        doc = f"<div class=\"doc\">{_e(p.doc)}</div>" if p.doc else ""
        label = f"<em>{_e(p.label)}</em>" if p.label in ("sequence", "choice", "all") else \
            f"<strong>{_e(p.label)}</strong>"
        out.append(f"<li>{label}{detail}{occurs}{doc}{_render_particles(p.children)}</li>")
    out.append("</ul>")
    return "".join(out)


def render_outline(outline: Outline) -> str:
    parts = []
    if outline.doc:
        parts.append(f"<p class=\"doc\">{_e(outline.doc)}</p>")
    if outline.total > len(outline.components):
        parts.append(f"<p class=\"doc\">This version has {outline.total:,} global components: the "
                     f"first {len(outline.components):,} are described below (the catalogue's limit); "
                     "the schema files above hold them all.</p>")
    for kind, heading in (("element", "Global elements"), ("complexType", "Complex types"),
                          ("simpleType", "Simple types"), ("group", "Groups"),
                          ("attributeGroup", "Attribute groups")):
        comps = [c for c in outline.components if c.kind == kind]
        if not comps:
            continue
        parts.append(f"<h4>{heading} ({len(comps)})</h4>")
        for c in comps:
            detail = f" : <code>{_e(c.detail)}</code>" if c.detail else ""
            doc = f"<div class=\"doc\">{_e(c.doc)}</div>" if c.doc else ""
            parts.append(f"<details><summary>{_e(c.name)}{detail}</summary>{doc}"
                         f"<div class=\"doc\">in <code>{_e(c.file)}</code></div>"
                         f"{_render_particles(c.children)}</details>")
    return "\n".join(parts)


def render_diff(old: str, new: str, diff: Mapping[str, Any] | None, reason: str | None) -> str:
    head = f"<h3 id=\"diff-{version_anchor(old)}-{version_anchor(new)}\">{_e(old)} &rarr; {_e(new)}</h3>"
    if diff is None:
        return f"{head}<p class=\"doc\">{_e(reason or 'No diff available.')}</p>"
    verdict = str(diff.get("verdict", "unknown"))
    bump = diff.get("implied_bump")
    changes = diff.get("changes") or []
    out = [head, f"<p>Verdict: <span class=\"verdict verdict-{_e(verdict)}\">{_e(verdict)}</span>"
                 + (f"; implied version bump: {_e(bump)}" if bump else "")
                 + f"; {len(changes)} change{'s' if len(changes) != 1 else ''}.</p>"]
    if changes:
        out.append("<table><thead><tr><th>Where</th><th>Change</th><th>Old</th><th>New</th>"
                   "<th>Old documents still valid</th></tr></thead><tbody>")
        for c in changes:
            kind = c.get("kind", "")
            note = f"<div class=\"doc\">{_e(c['note'])}</div>" if c.get("note") else ""
            out.append(
                f"<tr><td><code>{_e(c.get('path', ''))}</code></td>"
                f"<td>{_e(kind)} <span class=\"doc\">({_e(c.get('rule', ''))})</span>{note}</td>"
                f"<td><code>{_e(_short(c.get('old')))}</code></td>"
                f"<td><code>{_e(_short(c.get('new')))}</code></td>"
                f"<td>{'yes' if c.get('backward') else 'no'}</td></tr>")
        out.append("</tbody></table>")
    return "\n".join(out)


def _short(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def render_standard(title: str, std: Mapping[str, Any], outlines: Mapping[str, str],
                    diffs: list[str], history: Sequence[Mapping[str, Any]] | None = None) -> str:
    """One standard: versions table, per-version documentation and structure, diffs."""
    versions = std["versions"]
    rows = []
    for v in versions:
        anchor = version_anchor(v["version"])
        main_file = next((f for f in v["files"] if f["path"] == v["main"]), v["files"][0])
        imports = ", ".join(b["target"] or f"file {b['bundled_path']}" for b in v["imports"]) or "-"
        rows.append(
            f"<tr><td><a href=\"#{anchor}\">{_e(v['version'])}</a></td><td>{_status(v['status'])}"
            + (f" <span class=\"doc\">successor {_e(v['successor'])}</span>" if v.get("successor") else "")
            + f"</td><td><code>{_e(v['namespace'] or '(none)')}</code></td>"
            f"<td><a href=\"../objects/{main_file['digest'][:2]}/{main_file['digest']}\">"
            f"{_e(v['main'])}</a></td><td>{_e(imports)}</td>"
            f"<td class=\"digest\">{_e(v['digest'][:16])}</td></tr>")
    body = [f"<p>{_e(std.get('title') or '')}</p>",
            "<h2>Versions</h2><table><thead><tr><th>Version</th><th>Status</th><th>Namespace</th>"
            "<th>Main file</th><th>Imports</th><th>Digest</th></tr></thead><tbody>",
            "\n".join(rows), "</tbody></table>"]
    for v in reversed(versions):
        anchor = version_anchor(v["version"])
        files = "".join(
            f"<li><a href=\"../objects/{f['digest'][:2]}/{f['digest']}\">{_e(f['path'])}</a> "
            f"<span class=\"doc\">{_e(f['role'])}, {f.get('size', '?')} bytes</span></li>"
            for f in v["files"])
        body.append(
            f"<h2 id=\"{anchor}\">{_e(std['name'])} {_e(v['version'])} {_status(v['status'])}</h2>"
            f"<p class=\"doc\">Added {_e(v.get('added_at', ''))} by {_e(v.get('added_by', ''))}; "
            f"digest <code class=\"digest\">{_e(v['digest'])}</code></p>"
            f"<ul>{files}</ul>{outlines.get(v['version'], '')}")
    if diffs:
        body.append("<h2 id=\"changes\">Changes between versions</h2>")
        body.extend(diffs)
    if history:
        body.append("<h2 id=\"history\">History</h2><table><thead><tr><th>When</th><th>Version</th>"
                    "<th>What</th><th>Who</th></tr></thead><tbody>")
        for e in history:
            what = _e(e.get("kind", ""))
            data = e.get("data") or {}
            if isinstance(data, Mapping) and data.get("to"):
                what += f": {_e(data.get('from', '?'))} &rarr; {_e(data.get('to'))}"
            body.append(f"<tr><td>{_e(e.get('at', ''))}</td><td>{_e(e.get('version') or '')}</td>"
                        f"<td>{what}</td>"
                        f"<td>{_e(e.get('actor', ''))}</td></tr>")
        body.append("</tbody></table>")
    return _layout(title, std["name"], "\n".join(body), home="index.html")


# -- gathering ----------------------------------------------------------------
DiffFunc = Callable[..., Any]


def load_diff() -> DiffFunc:
    """The schema diff function (imported on use: the diff is big)."""
    from egif.diff import diff_schemas

    func: DiffFunc = diff_schemas
    return func


def build_catalogue(registry: Registry, index: Mapping[str, Any], *,
                    title: str = "egif schema registry", index_sha256: str | None = None,
                    diff: DiffFunc | None = None, cache_dir: Path | None = None,
                    max_components: int = MAX_SCHEMA_COMPONENTS,
                    max_listed: int = MAX_CATALOGUE_COMPONENTS) -> Site:
    """Every page of the catalogue of *registry*, whose published index is *index*.

    Diffs are the slow part; with *cache_dir*, each rendered diff is kept
    there under the two version digests (stored versions never change), so
    a republish only computes the diffs of new versions.  A version with more
    than *max_components* global components (imports included) gets no diff,
    and each version page describes at most *max_listed* components, so one
    oversized schema cannot make a publish slow (see :mod:`egif.limits`).
    """
    site = Site()
    site.pages["style.css"] = STYLE.encode()
    func = diff if diff is not None else load_diff()
    standards = list(index["standards"])
    site.pages["index.html"] = render_index(title, standards, index_sha256).encode()
    history_by_name: dict[str, list[dict[str, Any]]] = {}
    for e in registry.events():
        if e.name:
            history_by_name.setdefault(e.name, []).append(e.to_dict())
    for std in standards:
        outlines: dict[str, str] = {}
        for v in std["versions"]:
            ref = f"{v['name']}@{v['version']}"
            try:
                outlines[v["version"]] = render_outline(schema_outline(registry.files(ref), v["main"],
                                                                       limit=max_listed))
            except EgifError as exc:
                outlines[v["version"]] = f"<p class=\"doc\">Structure unavailable: {_e(exc)}</p>"
        diffs = []
        ordered = std["versions"]
        for old, new in itertools.pairwise(ordered):
            old_ref, new_ref = f"{old['name']}@{old['version']}", f"{new['name']}@{new['version']}"
            cached = cache_dir / f"diff-{old['digest']}-{new['digest']}.html" if cache_dir else None
            if cached is not None and cached.is_file():
                diffs.append(cached.read_text(encoding="utf-8"))
                continue
            too_big = _over_diff_limit(registry, (old_ref, new_ref), max_components)
            if too_big is not None:
                diffs.append(render_diff(old["version"], new["version"], None,
                                         f"The diff was not computed: {too_big}."))
                site.notes.append(f"diff {old_ref} -> {new_ref} skipped: {too_big}")
                continue
            try:
                result = func(registry.resolve(old_ref), registry.resolve(new_ref), evidence=False)
                data = result.to_dict() if hasattr(result, "to_dict") else {"verdict": str(result)}
                rendered = render_diff(old["version"], new["version"], data, None)
                diffs.append(rendered)
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    cached.write_text(rendered, encoding="utf-8")
            except Exception as exc:  # a diff failure must not stop the catalogue
                diffs.append(render_diff(old["version"], new["version"], None,
                                         f"The diff could not be computed: {exc}"))
                site.notes.append(f"diff {old_ref} -> {new_ref} failed: {exc}")
        history = history_by_name.get(std["name"], [])
        site.pages[page_name(std["name"])] = render_standard(title, std, outlines, diffs,
                                                             history).encode()
    return site


def _over_diff_limit(registry: Registry, refs: Sequence[str], limit: int) -> str | None:
    """Why diffing these versions would cost too much, or ``None``."""
    for ref in refs:
        try:
            count = count_global_components(registry.resolve(ref).files)
            check_component_count(count, label=ref, what="schema with its imports", limit=limit)
        except UnsafeInputError as exc:
            return str(exc)
        except EgifError:
            return None  # the diff itself reports a broken version
    return None


__all__ = ["Outline", "Site", "build_catalogue", "render_diff", "render_index", "render_outline",
           "render_standard", "schema_outline"]
