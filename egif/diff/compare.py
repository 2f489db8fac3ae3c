"""Walk two compiled xmlschema component models side by side and list the changes.

Every global component of the whole closure (all namespaces but the XSD
built-ins) is compared with the component of the same qualified name on the
other side.  Below a global component the walk goes through local elements,
anonymous types, nested groups and attributes; a reference to another global
component (an element ref, a named type, a group ref) is not followed when
both sides name the same component, because that component is compared at its
own global path.  When an element moves to another named type, the two types
are compared structurally under the element's path, so a derived type that
only widens or only narrows is judged by what actually differs.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from egif.diff.result import Change
from egif.diff.rules import RULES
from egif.generate import list_item_type, union_member_types

XSD = "http://www.w3.org/2001/XMLSchema"
BUILTIN_NAMESPACES = frozenset({
    XSD, "http://www.w3.org/XML/1998/namespace", "http://www.w3.org/2001/XMLSchema-instance",
})
_WS_RANK = {"preserve": 0, "replace": 1, "collapse": 2}
_PROCESS_RANK = {"strict": 0, "lax": 1, "skip": 2}
_UNBOUNDED = float("inf")


def _ns(qname: str | None) -> str:
    if qname and qname.startswith("{"):
        return qname[1:qname.index("}")]
    return ""


def _local(qname: str) -> str:
    return qname.rsplit("}", 1)[-1]


def _occ(value: int | None) -> float:
    return _UNBOUNDED if value is None else float(value)


def _occ_text(value: int | None) -> str:
    return "unbounded" if value is None else str(value)


def _annotation_text(component: Any) -> str:
    """The documentation and appinfo directly on a component (read from its XSD element)."""
    elem = getattr(component, "elem", None)
    if elem is None or not hasattr(component, "parent"):
        elem = getattr(component, "root", elem)
    if elem is None:
        return ""
    parts = _annotations_on(elem)
    # and on the facets of its own simple type (a global one, or one written inside it):
    # an enumeration value's documentation is what a code list's readers look up
    simple = elem if elem.tag == f"{{{XSD}}}simpleType" else elem.find(f"{{{XSD}}}simpleType")
    for facet in () if simple is None else simple.iterfind(f"{{{XSD}}}restriction/*"):
        notes = _annotations_on(facet) if facet.tag != f"{{{XSD}}}annotation" else []
        if notes:
            label = f"{str(facet.tag).rpartition('}')[2]} {facet.get('value')!r}"
            parts.extend(f"{label}: {note}" for note in notes)
    return "\n".join(parts)


def _annotations_on(elem: Any) -> list[str]:
    """The documentation and appinfo of the xs:annotation children of one XSD element."""
    parts: list[str] = []
    for ann in elem:
        if ann.tag != f"{{{XSD}}}annotation":
            continue
        for child in ann:
            if child.tag == f"{{{XSD}}}documentation":
                parts.append(" ".join("".join(child.itertext()).split()))
            elif child.tag == f"{{{XSD}}}appinfo":
                parts.append(" ".join(ElementTree.tostring(child, encoding="unicode").split()))
    return parts


class Comparer:
    """Compares two compiled schemas; ``run()`` returns the list of changes."""

    def __init__(self, old: Any, new: Any) -> None:
        self.old = old
        self.new = new
        self.old_tns: str = old.target_namespace or ""
        self.new_tns: str = new.target_namespace or ""
        self.changes: list[Change] = []
        self._pair_results: dict[tuple[int, int], tuple[str, bool, bool, int]] = {}
        self._in_progress: set[tuple[int, int]] = set()

    # -- emitting ----------------------------------------------------------
    def emit(self, rule_id: str, path: str, kind: str, old: Any, new: Any, note: str = "", *,
             backward: bool | None = None, forward: bool | None = None) -> None:
        r = RULES[rule_id]
        b = r.backward if backward is None else backward
        f = r.forward if forward is None else forward
        if b is None or f is None:
            raise AssertionError(f"rule {rule_id} needs computed flags")
        self.changes.append(Change(path, kind, rule_id, old, new, b, f, note))

    def key(self, qname: str | None) -> str | None:
        """An old qualified name as it would read in the new target namespace."""
        if qname and self.old_tns != self.new_tns and _ns(qname) == self.old_tns:
            return f"{{{self.new_tns}}}{_local(qname)}" if self.new_tns else _local(qname)
        return qname

    # -- top level ---------------------------------------------------------
    def run(self) -> list[Change]:
        if self.old_tns != self.new_tns:
            self.emit("target-namespace-changed", "/", "targetNamespace", self.old_tns or None,
                      self.new_tns or None,
                      "old names are matched to new ones by local name in the new namespace")
        self.compare_closure()
        if _annotation_text(self.old) != _annotation_text(self.new):
            self.emit("documentation-changed", f"{{{self.new_tns}}}", "annotation",
                      _annotation_text(self.old), _annotation_text(self.new), "schema-level annotation")
        maps_o, maps_n = self.old.maps, self.new.maps
        self.compare_globals("element", maps_o.elements, maps_n.elements, self.compare_global_element)
        self.compare_globals("type", maps_o.types, maps_n.types, self.compare_global_type)
        self.compare_globals("attribute", maps_o.attributes, maps_n.attributes,
                             self.compare_global_attribute)
        self.compare_globals("group", maps_o.groups, maps_n.groups, self.compare_global_group)
        self.compare_globals("attribute-group", maps_o.attribute_groups, maps_n.attribute_groups, None)
        self.compare_substitutions()
        return self.changes

    def compare_closure(self) -> None:
        def closure(schema: Any) -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            for ns, schemas in schema.maps.namespaces.items():
                if ns in BUILTIN_NAMESPACES:
                    continue
                out[ns] = {s.url or "": s for s in schemas}
            return out

        old, new = closure(self.old), closure(self.new)
        old_keyed = {self.key(f"{{{ns}}}x") or "": v for ns, v in old.items()}
        old = {_ns(k): v for k, v in old_keyed.items()}
        for ns in sorted(set(old) | set(new)):
            if ns not in new:
                self.emit("import-removed", f"{{{ns}}}", "import", ns, None)
                continue
            if ns not in old:
                self.emit("import-added", f"{{{ns}}}", "import", None, ns)
                continue
            units_o = {_unit(u) for u in old[ns]}
            units_n = {_unit(u) for u in new[ns]}
            if ns not in (self.old_tns, self.new_tns) and units_o != units_n and \
                    {_document_digest(s) for s in old[ns].values()} != {
                        _document_digest(s) for s in new[ns].values()}:
                # bound to another stored version, and not merely a copy of the same documents
                self.emit("import-rebound", f"{{{ns}}}", "import", sorted(units_o), sorted(units_n))
            mains = {self.old.url, self.new.url}
            docs_o = {_doc(u) for u in old[ns] if u not in mains}
            docs_n = {_doc(u) for u in new[ns] if u not in mains}
            for d in sorted(docs_o - docs_n):
                self.emit("document-removed", f"{{{ns}}}", "include", d, None)
            for d in sorted(docs_n - docs_o):
                self.emit("document-added", f"{{{ns}}}", "include", None, d)

    def compare_globals(self, what: str, olds: Any, news: Any, compare: Any) -> None:
        old_by_key = {self.key(q): c for q, c in olds.items() if _ns(q) not in BUILTIN_NAMESPACES}
        new_by_key = {q: c for q, c in news.items() if _ns(q) not in BUILTIN_NAMESPACES}
        removed = sorted(old_by_key.keys() - new_by_key.keys(), key=str)
        added = sorted(new_by_key.keys() - old_by_key.keys(), key=str)
        if what == "type":
            renamed = self.renamed_types({q: old_by_key[q] for q in removed}, {q: new_by_key[q] for q in added})
            for q_old, q_new in renamed:
                moved = _ns(q_old) != _ns(q_new) and _local(str(q_old)) == _local(str(q_new))
                self.emit("global-type-renamed", str(q_new), what, str(q_old), str(q_new),
                          ("moved to another namespace" if moved else "same structure under a new name")
                          + "; documents naming the old type in xsi:type see the difference")
            removed = [q for q in removed if q not in {a for a, _ in renamed}]
            added = [q for q in added if q not in {b for _, b in renamed}]
        for q in removed:
            self.emit(f"global-{what}-removed", str(q), what, str(q), None)
        for q in added:
            self.emit(f"global-{what}-added", str(q), what, None, str(q))
        if compare is None:
            return
        for q in sorted(old_by_key.keys() & new_by_key.keys(), key=str):
            compare(old_by_key[q], new_by_key[q], str(q))

    def renamed_types(self, removed: dict[Any, Any], added: dict[Any, Any]) -> list[tuple[Any, Any]]:
        """Pairs (old name, new name) of removed and added types with the same structure."""
        out: list[tuple[Any, Any]] = []
        taken: set[Any] = set()
        by_print: dict[str, list[Any]] = {}
        for q, t in added.items():
            by_print.setdefault(_fingerprint(t), []).append(q)
        for q_old, t_old in removed.items():
            for q_new in by_print.get(_fingerprint(t_old), []):
                if q_new in taken:
                    continue
                probe = Comparer(self.old, self.new)
                probe.compare_type(t_old, added[q_new], "/")
                if not [c for c in probe.changes if c.rule != "documentation-changed"]:
                    out.append((q_old, q_new))
                    taken.add(q_new)
                    break
        return out

    # -- globals -----------------------------------------------------------
    def compare_global_element(self, o: Any, n: Any, path: str) -> None:
        self.compare_docs(o, n, path)
        if bool(o.abstract) != bool(n.abstract):
            self.emit("abstract-narrowed" if n.abstract else "abstract-widened", path, "abstract",
                      bool(o.abstract), bool(n.abstract))
        self.compare_element(o, n, path)

    def compare_global_type(self, o: Any, n: Any, path: str) -> None:
        self.compare_docs(o, n, path)
        self.compare_type(o, n, path)

    def compare_global_attribute(self, o: Any, n: Any, path: str) -> None:
        self.compare_docs(o, n, path)
        self.compare_attribute_decl(o, n, path)

    def compare_global_group(self, o: Any, n: Any, path: str) -> None:
        self.compare_docs(o, n, path)
        self.compare_group(o, n, path)

    def compare_docs(self, o: Any, n: Any, path: str) -> None:
        a, b = _annotation_text(o), _annotation_text(n)
        if a != b:
            self.emit("documentation-changed", path, "annotation", a or None, b or None)

    def compare_substitutions(self) -> None:
        olds = {self.key(q): e for q, e in self.old.maps.elements.items()
                if _ns(q) not in BUILTIN_NAMESPACES}
        for q, n in self.new.maps.elements.items():
            o = olds.get(q)
            if o is None:
                continue
            head_o = self.key(o.substitution_group) if o.substitution_group else None
            head_n = n.substitution_group or None
            if head_o == head_n:
                continue
            if head_o is None:
                self.emit("substitution-group-joined", q, "substitutionGroup", None, head_n)
            elif head_n is None:
                self.emit("substitution-group-left", q, "substitutionGroup", head_o, None)
            else:
                self.emit("substitution-group-changed", q, "substitutionGroup", head_o, head_n)

    # -- elements ----------------------------------------------------------
    def compare_element(self, o: Any, n: Any, path: str) -> None:
        self.compare_identities(o, n, path)
        for attr in ("block", "final"):
            a, b = _methods(getattr(o, attr, None)), _methods(getattr(n, attr, None))
            if a != b:
                self.emit(f"{attr}-changed", path, attr, " ".join(sorted(a)) or None, " ".join(sorted(b)) or None)
        if bool(o.nillable) != bool(n.nillable):
            self.emit("nillable-widened" if n.nillable else "nillable-narrowed", path, "nillable",
                      bool(o.nillable), bool(n.nillable))
        self.compare_value_constraints(o, n, path)
        self.compare_type_use(o.type, n.type, path)

    def compare_identities(self, o: Any, n: Any, path: str) -> None:
        def sigs(e: Any) -> dict[str, tuple[str, ...]]:
            out: dict[str, tuple[str, ...]] = {}
            for ident in getattr(e, "identities", None) or []:
                refer = getattr(ident, "refer", None)
                out[_local(str(ident.name))] = (
                    type(ident).__name__.replace("Xsd", "").lower(), str(ident.selector.path),
                    " ".join(str(f.path) for f in ident.fields), _local(str(getattr(refer, "name", refer) or "")))
            return out

        a, b = sigs(o), sigs(n)
        for name in sorted(set(a) | set(b)):
            sub = f"{path}/{{identity}}{name}"
            if name not in b:
                self.emit("identity-constraint-removed", sub, "identity", " ".join(a[name]), None)
            elif name not in a:
                self.emit("identity-constraint-added", sub, "identity", None, " ".join(b[name]))
            elif a[name] != b[name]:
                self.emit("identity-constraint-changed", sub, "identity", " ".join(a[name]), " ".join(b[name]))

    def compare_value_constraints(self, o: Any, n: Any, path: str) -> None:
        fo, fn = o.fixed, n.fixed
        if fo != fn:
            if fo is None:
                self.emit("fixed-added", path, "fixed", None, fn)
            elif fn is None:
                self.emit("fixed-removed", path, "fixed", fo, None)
            else:
                self.emit("fixed-changed", path, "fixed", fo, fn)
        if o.default != n.default:
            self.emit("default-changed", path, "default", o.default, n.default)

    def compare_type_use(self, to: Any, tn: Any, path: str) -> None:
        """Compare the types two declarations use; named types are compared globally."""
        name_o = self.key(to.name) if to.name else None
        name_n = tn.name or None
        if name_o is not None and name_o == name_n:
            return
        if name_o is None and name_n is None:
            self.compare_type(to, tn, path)
            return
        pair = (id(to), id(tn))
        note = _derivation_note(to, tn)
        label_o, label_n = to.name or "(anonymous)", tn.name or "(anonymous)"
        known = self._pair_results.get(pair)
        if known is not None:
            first, b, f, count = known
            if count == 0:
                self.emit("element-type-renamed", path, "type", label_o, label_n, note)
            else:
                self.changes.append(Change(
                    path, "type", "element-type-changed", label_o, label_n, b, f,
                    (note + "; " if note else "") + f"same {count} difference(s) as listed at {first}"))
            return
        if pair in self._in_progress:
            return  # a recursive type: the outer comparison covers it
        self._in_progress.add(pair)
        start = len(self.changes)
        self.compare_type(to, tn, path)
        self._in_progress.discard(pair)
        below = self.changes[start:]
        b, f = all(c.backward for c in below), all(c.forward for c in below)
        self._pair_results[pair] = (path, b, f, len(below))
        if not below:
            self.emit("element-type-renamed", path, "type", label_o, label_n, note)
        else:
            self.changes.insert(start, Change(
                path, "type", "element-type-changed", label_o, label_n, b, f,
                (note + "; " if note else "") + f"{len(below)} difference(s) listed below"))

    # -- types -------------------------------------------------------------
    def compare_type(self, o: Any, n: Any, path: str) -> None:
        if o.is_simple() and n.is_simple():
            self.compare_simple(o, n, path)
            return
        so, sn = _simple_content(o), _simple_content(n)
        if (so is None) != (sn is None):
            self.emit("content-kind-changed", path, "content", _content_label(o), _content_label(n))
            return
        if bool(getattr(o, "abstract", False)) != bool(getattr(n, "abstract", False)):
            self.emit("abstract-narrowed" if n.abstract else "abstract-widened", path, "abstract",
                      bool(o.abstract), bool(n.abstract))
        for attr in ("block", "final"):
            a, b = _methods(getattr(o, attr, None)), _methods(getattr(n, attr, None))
            if a != b:
                self.emit(f"{attr}-changed", path, attr, " ".join(sorted(a)) or None, " ".join(sorted(b)) or None)
        self.compare_attributes(_attributes(o), _attributes(n), path)
        if so is not None and sn is not None:
            if so is not o and sn is not n:
                self.compare_type_use(so, sn, path)
            else:
                self.compare_simple(so, sn, path)
            return
        mo, mn = bool(o.mixed), bool(n.mixed)
        if mo != mn:
            self.emit("mixed-widened" if mn else "mixed-narrowed", path, "mixed", mo, mn)
        if o.content is not None and n.content is not None:
            self.compare_occurs(o.content, n.content, path)
            self.compare_group(o.content, n.content, path)

    # -- content models ----------------------------------------------------
    def compare_group(self, o: Any, n: Any, path: str) -> None:
        particles_o, particles_n = list(o), list(n)
        if o.model != n.model:
            b, f = _compositor_effect(o.model, n.model, particles_o, particles_n)
            self.emit("compositor-changed", path, "compositor", o.model, n.model,
                      _compositor_note(o.model, n.model, b, f), backward=b, forward=f)
        model = n.model
        keyed_o = self._keyed(particles_o, old=True)
        keyed_n = self._keyed(particles_n, old=False)
        # order of the shared particles
        shared_o = [k for k in keyed_o if k in keyed_n]
        shared_n = [k for k in keyed_n if k in keyed_o]
        if o.model == n.model == "sequence" and shared_o != shared_n:
            self.emit("sequence-order-changed", path, "order", [_label(k) for k in shared_o],
                      [_label(k) for k in shared_n])
        for k, p in keyed_o.items():
            if k in keyed_n:
                continue
            sub = self._particle_path(path, k)
            if model == "choice":
                self.emit("choice-alternative-removed", sub, "particle", _label(k), None)
            elif p.is_emptiable():
                self.emit("element-removed-optional", sub, "particle", _label(k), None)
            else:
                self.emit("element-removed-required", sub, "particle", _label(k), None)
        for k, p in keyed_n.items():
            if k in keyed_o:
                continue
            sub = self._particle_path(path, k)
            if model == "choice":
                self.emit("choice-alternative-added", sub, "particle", None, _label(k))
            elif p.is_emptiable():
                self.emit("element-added-optional", sub, "particle", None, _label(k))
            else:
                self.emit("element-added-required", sub, "particle", None, _label(k))
        for k in shared_n:
            po, pn = keyed_o[k], keyed_n[k]
            sub = self._particle_path(path, k)
            self.compare_occurs(po, pn, sub)
            if k[0] == "element":
                ref_o = po.ref is not None
                ref_n = pn.ref is not None
                if ref_o and ref_n:
                    continue  # the global element is compared at its own path
                self.compare_docs(po, pn, sub)
                self.compare_element(po, pn, sub)
            elif k[0] == "any":
                self.compare_wildcard(po, pn, sub)
            elif k[0] == "group-ref":
                continue  # compared at the group's global path
            else:
                self.compare_group(po, pn, sub)

    def _keyed(self, particles: Iterable[Any], *, old: bool) -> dict[tuple[str, str], Any]:
        out: dict[tuple[str, str], Any] = {}
        counters: dict[str, int] = {}
        for p in particles:
            kind = type(p).__name__
            if kind == "XsdElement":
                key = ("element", str(self.key(p.name) if old else p.name))
            elif kind == "XsdAnyElement":
                counters["any"] = counters.get("any", 0) + 1
                key = ("any", f"any[{counters['any']}]")
            elif p.name:
                key = ("group-ref", str(self.key(p.name) if old else p.name))
            else:
                counters[p.model] = counters.get(p.model, 0) + 1
                key = ("group", f"{p.model}[{counters[p.model]}]")
            out.setdefault(key, p)
        return out

    def _particle_path(self, path: str, key: tuple[str, str]) -> str:
        return f"{path}/{_label(key)}"

    def compare_occurs(self, o: Any, n: Any, path: str) -> None:
        omin, omax = o.min_occurs, o.max_occurs
        nmin, nmax = n.min_occurs, n.max_occurs
        if (omin, omax) == (nmin, nmax):
            return
        wider = nmin <= omin and _occ(nmax) >= _occ(omax)
        narrower = nmin >= omin and _occ(nmax) <= _occ(omax)
        old_t = f"{omin}..{_occ_text(omax)}"
        new_t = f"{nmin}..{_occ_text(nmax)}"
        rule_id = "occurs-widened" if wider else "occurs-narrowed" if narrower else "occurs-changed"
        self.emit(rule_id, path, "occurs", old_t, new_t)

    def compare_wildcard(self, o: Any, n: Any, path: str) -> None:
        probe = {self.old_tns, self.new_tns, "", "urn:egif:diff:unnamed-namespace"}
        for w in (o, n):
            probe.update(x for x in (getattr(w, "namespace", None) or []) if not x.startswith("##"))
            probe.update(x for x in (getattr(w, "not_namespace", None) or []) if not x.startswith("##"))
        def old_ns(ns: str) -> str:
            return self.old_tns if ns == self.new_tns else ns

        allowed_o = {ns for ns in probe if o.is_namespace_allowed(old_ns(ns))}
        allowed_n = {ns for ns in probe if n.is_namespace_allowed(ns)}
        if allowed_o != allowed_n:
            rule_id = ("wildcard-namespace-widened" if allowed_n > allowed_o else
                       "wildcard-namespace-narrowed" if allowed_n < allowed_o else
                       "wildcard-namespace-changed")
            self.emit(rule_id, path, "namespace", _wildcard_text(o), _wildcard_text(n),
                      "decided on the namespaces either schema names, plus the empty one and one unnamed")
        po, pn = _PROCESS_RANK[o.process_contents], _PROCESS_RANK[n.process_contents]
        if po != pn:
            self.emit("wildcard-process-widened" if pn > po else "wildcard-process-narrowed", path,
                      "processContents", o.process_contents, n.process_contents)

    # -- attributes --------------------------------------------------------
    def compare_attributes(self, o: dict[str | None, Any], n: dict[str | None, Any], path: str) -> None:
        olds = {(self.key(k) if k else k): a for k, a in o.items()}
        for k in sorted(set(olds) | set(n), key=lambda x: x or ""):
            a, b = olds.get(k), n.get(k)
            sub = f"{path}/@{_local(k)}" if k else f"{path}/@*"
            if k is None:
                if a is None:
                    self.emit("wildcard-added", sub, "anyAttribute", None, _wildcard_text(b))
                elif b is None:
                    self.emit("wildcard-removed", sub, "anyAttribute", _wildcard_text(a), None)
                else:
                    self.compare_wildcard(a, b, sub)
                continue
            if a is None and b is not None:
                req = b.use == "required"
                self.emit("attribute-added-required" if req else "attribute-added-optional", sub,
                          "attribute", None, b.use)
                continue
            if b is None and a is not None:
                req = a.use == "required"
                self.emit("attribute-removed-required" if req else "attribute-removed-optional", sub,
                          "attribute", a.use, None)
                continue
            if a is None or b is None:
                continue
            if a.use != b.use:
                self.emit("attribute-now-required" if b.use == "required" else "attribute-now-optional",
                          sub, "use", a.use, b.use)
            self.compare_attribute_decl(a, b, sub)

    def compare_attribute_decl(self, o: Any, n: Any, path: str) -> None:
        ref_o = getattr(o, "ref", None) is not None
        ref_n = getattr(n, "ref", None) is not None
        self.compare_value_constraints(o, n, path)
        if ref_o and ref_n:
            return
        self.compare_type_use(o.type, n.type, path)

    # -- simple types ------------------------------------------------------
    def compare_simple(self, o: Any, n: Any, path: str) -> None:
        vo, vn = _variety(o), _variety(n)
        if vo != vn:
            self.emit("variety-changed", path, "variety", vo, vn)
            return
        if vo == "list":
            self.compare_facets(o, n, path)
            io, in_ = list_item_type(o), list_item_type(n)
            if io is not None and in_ is not None:
                self.compare_type_use(io, in_, f"{path}/item")
            return
        if vo == "union":
            self.compare_union(o, n, path)
            self.compare_facets(o, n, path)
            return
        bo, bn = _builtin(o), _builtin(n)
        if self.key(bo.name) != bn.name:
            if bn.is_derived(bo):
                self.emit("base-type-narrowed", path, "base", bo.name, bn.name)
            elif bo.is_derived(bn):
                self.emit("base-type-widened", path, "base", bo.name, bn.name)
            else:
                self.emit("base-type-changed", path, "base", bo.name, bn.name)
                return
        self.compare_facets(o, n, path)

    def compare_union(self, o: Any, n: Any, path: str) -> None:
        def sig(t: Any, old: bool) -> str:
            return str(self.key(t.name) if old else t.name) if t.name else _simple_signature(t)

        mo = {sig(t, True): t for t in union_member_types(o)}
        mn = {sig(t, False): t for t in union_member_types(n)}
        for k in sorted(mo.keys() - mn.keys()):
            self.emit("union-member-removed", path, "memberTypes", k, None)
        for k in sorted(mn.keys() - mo.keys()):
            self.emit("union-member-added", path, "memberTypes", None, k)
        for k in sorted(mo.keys() & mn.keys()):
            if not mo[k].name:
                self.compare_simple(mo[k], mn[k], f"{path}/member")

    def compare_facets(self, o: Any, n: Any, path: str) -> None:
        fo, fn = _effective_facets(o), _effective_facets(n)
        # lengths
        for name, lo_hi_o, lo_hi_n in (("length", fo["length"], fn["length"]),):
            self._interval(path, name, lo_hi_o, lo_hi_n)
        self._bound(path, "lower bound", fo["lower"], fn["lower"], lower=True)
        self._bound(path, "upper bound", fo["upper"], fn["upper"], lower=False)
        for digits in ("totalDigits", "fractionDigits"):
            a, b = fo[digits], fn[digits]
            if a != b:
                wider = b is None or (a is not None and b > a)
                self.emit("facet-widened" if wider else "facet-narrowed", path, digits, a, b)
        # enumeration
        eo, en = fo["enumeration"], fn["enumeration"]
        if eo != en:
            if eo is None:
                self.emit("enumeration-added", path, "enumeration", None, sorted(en))
            elif en is None:
                self.emit("enumeration-removed", path, "enumeration", sorted(eo), None)
            else:
                for v in sorted(eo - en):
                    self.emit("enumeration-value-removed", path, "enumeration", v, None)
                for v in sorted(en - eo):
                    self.emit("enumeration-value-added", path, "enumeration", None, v)
        self._patterns(path, fo["patterns"], fn["patterns"])
        wo, wn = fo["whiteSpace"], fn["whiteSpace"]
        if wo != wn and wo is not None and wn is not None:
            lexical = any(x[k] is not None and x[k] != (None, None) for x in (fo, fn)
                          for k in ("enumeration",)) or fo["patterns"] or fn["patterns"] or (
                fo["length"] != (None, None) or fn["length"] != (None, None))
            if lexical:
                self.emit("whitespace-changed", path, "whiteSpace", wo, wn,
                          "length, pattern or enumeration facets see the normalised value",
                          backward=False, forward=False)
            else:
                self.emit("whitespace-changed", path, "whiteSpace", wo, wn,
                          "no lexical facets: normalisation does not change validity",
                          backward=True, forward=True)

    def _interval(self, path: str, name: str, a: tuple[Any, Any], b: tuple[Any, Any]) -> None:
        if a == b:
            return
        lo_a, hi_a = a[0] or 0, _UNBOUNDED if a[1] is None else a[1]
        lo_b, hi_b = b[0] or 0, _UNBOUNDED if b[1] is None else b[1]
        wider = lo_b <= lo_a and hi_b >= hi_a
        narrower = lo_b >= lo_a and hi_b <= hi_a
        rule_id = "facet-widened" if wider else "facet-narrowed" if narrower else "facet-changed"
        self.emit(rule_id, path, name, _interval_text(a), _interval_text(b))

    def _bound(self, path: str, name: str, a: tuple[Any, bool] | None, b: tuple[Any, bool] | None, *,
               lower: bool) -> None:
        if a == b:
            return
        if a is None or b is None:
            wider = b is None
        else:
            try:
                # at the same value an inclusive bound is the wider one
                wider = b[1] if a[0] == b[0] else ((b[0] < a[0]) if lower else (b[0] > a[0]))
            except TypeError:
                self.emit("facet-changed", path, name, _bound_text(a, lower), _bound_text(b, lower))
                return
        self.emit("facet-widened" if wider else "facet-narrowed", path, name,
                  _bound_text(a, lower), _bound_text(b, lower))

    def _patterns(self, path: str, a: list[tuple[str, ...]], b: list[tuple[str, ...]]) -> None:
        if a == b:
            return
        sa, sb = set(a), set(b)
        removed = [p for p in a if p not in sb]
        added = [p for p in b if p not in sa]
        # pair changed steps one to one; leftovers are additions or removals
        while removed and added:
            po, pn = removed.pop(0), added.pop(0)
            alts_o = set(_alternatives(po))
            alts_n = set(_alternatives(pn))
            if alts_o < alts_n:
                rule_id = "pattern-widened"
            elif alts_n < alts_o:
                rule_id = "pattern-narrowed"
            else:
                rule_id = "pattern-changed"
            self.emit(rule_id, path, "pattern", _pattern_text(po), _pattern_text(pn),
                      "" if rule_id != "pattern-changed" else
                      "regular-expression inclusion is undecided: counted as breaking both ways")
        for p in removed:
            self.emit("pattern-removed", path, "pattern", _pattern_text(p), None)
        for p in added:
            self.emit("pattern-added", path, "pattern", None, _pattern_text(p))


# -- helpers ---------------------------------------------------------------
def _document_digest(schema: Any) -> str:
    """The content of a schema document, schemaLocation hints left out (they name stored folders)."""
    import hashlib

    root = getattr(schema, "root", None)
    if root is None:
        return str(getattr(schema, "url", ""))
    text = ElementTree.tostring(root)
    return hashlib.sha256(re.sub(rb'schemaLocation="[^"]*"', b"", text)).hexdigest()


def _unit(url: str) -> str:
    """``Name/version`` of a virtual-tree URL (the stored version a document belongs to)."""
    path = url.split("/registry/", 1)[-1]
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else path


def _doc(url: str) -> str:
    """A document's path inside its version, without a ``-vM-N`` version suffix."""
    path = url.split("/registry/", 1)[-1]
    parts = path.split("/")
    name = "/".join(parts[2:]) if len(parts) > 2 else posixpath.basename(path)
    return re.sub(r"-v\d+-\d+(?=\.xsd$)", "", name)


def _label(key: tuple[str, str]) -> str:
    kind, name = key
    if kind == "element":
        return name
    if kind == "group-ref":
        return f"group({name})"
    return name


def _attributes(t: Any) -> dict[str | None, Any]:
    attrs = getattr(t, "attributes", None)
    if attrs is None:
        return {}
    return dict(attrs.items())


def _simple_content(t: Any) -> Any:
    if t.is_simple():
        return t
    if t.has_simple_content():
        return t.content
    return None


def _content_label(t: Any) -> str:
    if t.is_simple():
        return "simple type"
    return str(t.content_type_label)


def _variety(t: Any) -> str:
    if t.is_list():
        return "list"
    if t.is_union():
        return "union"
    return "atomic"


def _methods(value: Any) -> frozenset[str]:
    words = set(str(value or "").split())
    if "#all" in words:
        return frozenset({"extension", "restriction", "substitution"})
    return frozenset(words)


def _fingerprint(t: Any) -> str:
    """A cheap structural key: types with different keys cannot have the same structure."""
    if t.is_simple():
        return "simple:" + _simple_signature(t)
    parts = [str(getattr(t, "content_type_label", "")), str(bool(getattr(t, "mixed", False)))]
    parts.append(",".join(sorted(str(k) for k in _attributes(t))))
    content = getattr(t, "content", None)
    if content is not None and not t.has_simple_content():
        names = []
        for p in content.iter_elements() if hasattr(content, "iter_elements") else []:
            names.append(str(getattr(p, "name", type(p).__name__)))
        parts.append(",".join(names))
    return "complex:" + "|".join(parts)


def _builtin(t: Any) -> Any:
    while t is not None and _ns(t.name) != XSD:
        t = t.base_type
    return t


def _chain(t: Any) -> list[Any]:
    """The type and its base types, most derived first."""
    out = []
    while t is not None and not t.is_complex():
        out.append(t)
        t = getattr(t, "base_type", None)
    return out


def _effective_facets(t: Any) -> dict[str, Any]:
    chain = _chain(t)
    lo_len: Any = None
    hi_len: Any = None
    lower: tuple[Any, bool] | None = None
    upper: tuple[Any, bool] | None = None
    total: Any = None
    fraction: Any = None
    enumeration: frozenset[str] | None = None
    patterns: list[tuple[str, ...]] = []
    for step in chain:
        facets = getattr(step, "facets", None) or {}
        for name, facet in facets.items():
            if name is None:
                continue
            local = _local(name)
            value: Any = getattr(facet, "value", None)
            if local == "length":
                lo_len = max(lo_len or 0, value)
                hi_len = value if hi_len is None else min(hi_len, value)
            elif local == "minLength":
                lo_len = max(lo_len or 0, value)
            elif local == "maxLength":
                hi_len = value if hi_len is None else min(hi_len, value)
            elif local in ("minInclusive", "minExclusive"):
                cand = (value, local == "minInclusive")
                lower = cand if lower is None else _tighter(lower, cand, lower=True)
            elif local in ("maxInclusive", "maxExclusive"):
                cand = (value, local == "maxInclusive")
                upper = cand if upper is None else _tighter(upper, cand, lower=False)
            elif local == "totalDigits":
                total = value if total is None else min(total, value)
            elif local == "fractionDigits":
                fraction = value if fraction is None else min(fraction, value)
            elif local == "enumeration" and enumeration is None:
                enumeration = frozenset(str(v) for v in getattr(facet, "enumeration", []))
            elif local == "pattern":
                patterns.append(tuple(getattr(facet, "regexps", [])))
    ws = getattr(chain[0], "white_space", None) if chain else None
    return {"length": (lo_len, hi_len), "lower": lower, "upper": upper, "totalDigits": total,
            "fractionDigits": fraction, "enumeration": enumeration, "patterns": patterns,
            "whiteSpace": ws}


def _tighter(a: tuple[Any, bool], b: tuple[Any, bool], *, lower: bool) -> tuple[Any, bool]:
    try:
        if a[0] == b[0]:
            return a if not a[1] else b  # exclusive is tighter
        if lower:
            return a if a[0] > b[0] else b
        return a if a[0] < b[0] else b
    except TypeError:
        return b


def _interval_text(v: tuple[Any, Any]) -> str:
    lo, hi = v
    return f"{lo or 0}..{'unbounded' if hi is None else hi}"


def _bound_text(v: tuple[Any, bool] | None, lower: bool) -> str | None:
    if v is None:
        return None
    value, inclusive = v
    if isinstance(value, Decimal):
        value = format(value, "f")
    op = (">=" if inclusive else ">") if lower else ("<=" if inclusive else "<")
    return f"{op} {value}"


def _pattern_text(p: tuple[str, ...]) -> str:
    return " | ".join(p)


def _alternatives(p: tuple[str, ...]) -> list[str]:
    """Top-level alternatives of the patterns of one derivation step (ORed together)."""
    out: list[str] = []
    for regex in p:
        depth = 0
        start = 0
        escaped = False
        in_class = 0
        for i, ch in enumerate(regex):
            if escaped:
                escaped = False
                continue
            if ch == "\\":
                escaped = True
            elif ch == "[":
                in_class += 1
            elif ch == "]" and in_class:
                in_class -= 1
            elif in_class:
                continue
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "|" and depth == 0:
                out.append(regex[start:i])
                start = i + 1
        out.append(regex[start:])
    return out


def _simple_signature(t: Any) -> str:
    f = _effective_facets(t)
    base = _builtin(t)
    return f"{base.name if base is not None else _variety(t)}{sorted((k, str(v)) for k, v in f.items())}"


def _derivation_note(o: Any, n: Any) -> str:
    if o.name and n.name:
        try:
            if n.is_derived(o, "restriction"):
                return f"{n.name} is derived from {o.name} by restriction"
            if n.is_derived(o, "extension"):
                return f"{n.name} is derived from {o.name} by extension"
            if o.is_derived(n, "restriction"):
                return f"{o.name} is derived from {n.name} by restriction"
            if o.is_derived(n, "extension"):
                return f"{o.name} is derived from {n.name} by extension"
        except (TypeError, AttributeError):
            return ""
    return ""


def _compositor_effect(old: str, new: str, po: list[Any], pn: list[Any]) -> tuple[bool, bool]:
    if len(po) <= 1 and len(pn) <= 1:
        return True, True
    single = all((p.max_occurs or 2) <= 1 for p in po + pn)
    if old == "sequence" and new == "all" and single:
        return True, False
    if old == "all" and new == "sequence" and single:
        return False, True
    return False, False


def _compositor_note(old: str, new: str, b: bool, f: bool) -> str:
    if b and f:
        return "a group of at most one particle means the same under any compositor"
    if b:
        return f"{new} accepts every order {old} did"
    if f:
        return f"{new} accepts only one of the orders {old} did"
    return f"{old} -> {new} changes which documents are accepted both ways"


def _wildcard_text(w: Any) -> str:
    if w is None:
        return ""
    ns = " ".join(sorted(getattr(w, "namespace", None) or []))
    not_ns = getattr(w, "not_namespace", None)
    text = f"namespace={ns or '##any'}"
    if not_ns:
        text += f" notNamespace={' '.join(sorted(not_ns))}"
    return f"{text} processContents={w.process_contents}"


def compare_schemas(old: Any, new: Any) -> list[Change]:
    """The changes from compiled schema ``old`` to ``new`` (xmlschema objects)."""
    return Comparer(old, new).run()


__all__ = ["Comparer", "compare_schemas"]
