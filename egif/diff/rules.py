"""The change rules: one table, each rule with an id, its effect and an explanation.

A rule's effect is a pair of flags: ``backward`` (every document valid under
the old schema stays valid under the new one) and ``forward`` (every document
valid under the new schema is valid under the old one).  ``None`` means the
effect depends on the case and is computed where the change is found (the
explanation says how).  docs/diff.md lists every rule with a longer note.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    backward: bool | None
    forward: bool | None
    summary: str


_TABLE: tuple[Rule, ...] = (
    # -- schema level -------------------------------------------------------
    Rule("target-namespace-changed", False, False,
         "The main target namespace changed: every element of the old namespace is a different element now."),
    Rule("import-added", True, True,
         "A namespace joined the import closure; its components count only where they are used."),
    Rule("import-removed", True, True,
         "A namespace left the import closure; its components count only where they were used."),
    Rule("import-rebound", True, True,
         "An imported namespace is bound to another stored version; its components are compared one by one."),
    Rule("document-added", True, True,
         "A document joined the include closure of a namespace (no effect by itself)."),
    Rule("document-removed", True, True,
         "A document left the include closure of a namespace (no effect by itself)."),
    Rule("documentation-changed", True, True,
         "Only xs:annotation (documentation or appinfo) changed: no effect on validity."),
    # -- global components --------------------------------------------------
    Rule("global-element-added", True, False,
         "A new global element: old documents are unaffected; documents rooted at it are new."),
    Rule("global-element-removed", False, True,
         "A global element was removed: documents rooted at it (or using it by ref) no longer validate."),
    Rule("global-attribute-added", True, True,
         "A new global attribute declaration; it counts where a ref or a lax/strict attribute wildcard reaches it."),
    Rule("global-attribute-removed", True, True,
         "A global attribute declaration was removed; it counts where a ref or a wildcard reached it."),
    Rule("global-type-added", True, False,
         "A new named type: new documents may name it with xsi:type where it derives from a declared type."),
    Rule("global-type-removed", False, True,
         "A named type was removed: old documents naming it with xsi:type are refused."),
    Rule("global-type-renamed", False, False,
         "A named type has a new name (or namespace) and the same structure: only xsi:type can tell."),
    Rule("global-group-added", True, True,
         "A new named model group; it counts where a content model refers to it."),
    Rule("global-group-removed", True, True,
         "A named model group was removed; its users are compared where they are."),
    Rule("global-attribute-group-added", True, True,
         "A new attribute group; its attributes are compared inside the types that use it."),
    Rule("global-attribute-group-removed", True, True,
         "An attribute group was removed; its attributes are compared inside the types that used it."),
    # -- elements -----------------------------------------------------------
    Rule("element-added-optional", True, False,
         "An optional element (or emptiable particle) was added to a sequence or all group."),
    Rule("element-added-required", False, False,
         "A required element was added: old documents lack it, new documents carry something old ones refuse."),
    Rule("element-removed-optional", False, True,
         "An optional element was removed: old documents that used it are refused."),
    Rule("element-removed-required", False, False,
         "A required element was removed."),
    Rule("choice-alternative-added", True, False,
         "A choice gained an alternative: more documents are accepted."),
    Rule("choice-alternative-removed", False, True,
         "A choice lost an alternative: documents that took it are refused."),
    Rule("sequence-order-changed", False, False,
         "Elements of a sequence appear in another order."),
    Rule("compositor-changed", None, None,
         "The compositor of a group changed (sequence, choice, all): sequence->all widens, all->sequence "
         "narrows, a one-particle group is unaffected, anything else breaks both ways."),
    Rule("occurs-widened", True, False,
         "minOccurs went down or maxOccurs went up."),
    Rule("occurs-narrowed", False, True,
         "minOccurs went up or maxOccurs went down."),
    Rule("occurs-changed", False, False,
         "minOccurs and maxOccurs moved in opposite directions."),
    Rule("element-type-changed", None, None,
         "An element or attribute now uses another type; judged by comparing the two types (and their "
         "derivation): the effect is that of the differences found beneath."),
    Rule("element-type-renamed", True, True,
         "The element uses a type with another name but the same structure."),
    Rule("content-kind-changed", False, False,
         "The content switched between simple content and element content."),
    Rule("mixed-widened", True, False, "Character data is now allowed between child elements."),
    Rule("mixed-narrowed", False, True, "Character data is no longer allowed between child elements."),
    Rule("nillable-widened", True, False, "The element became nillable."),
    Rule("nillable-narrowed", False, True, "The element is no longer nillable."),
    Rule("fixed-added", False, True, "A fixed value was added: other values are refused."),
    Rule("fixed-removed", True, False, "A fixed value was removed: other values are accepted."),
    Rule("fixed-changed", False, False, "The fixed value changed."),
    Rule("default-changed", True, True,
         "A default value was added, removed or changed: an empty element takes the default, so one "
         "the type refuses when empty becomes valid (or invalid); applications read another value."),
    Rule("identity-constraint-added", False, True,
         "An xs:unique, xs:key or xs:keyref was added: documents that break it are now refused."),
    Rule("identity-constraint-removed", True, False,
         "An identity constraint was removed: documents that broke it are now accepted."),
    Rule("identity-constraint-changed", False, False,
         "An identity constraint selects or compares other values."),
    Rule("block-changed", False, False,
         "block changed: which xsi:type derivations or substitutions an instance may use changed."),
    Rule("final-changed", True, True,
         "final changed: which types or elements the schema itself may derive; instances see it only "
         "through the derivations present."),
    Rule("abstract-widened", True, False, "The element or type is no longer abstract."),
    Rule("abstract-narrowed", False, True, "The element or type became abstract and cannot be used directly."),
    Rule("substitution-group-joined", True, False,
         "The element became a member of a substitution group: it may now replace the head."),
    Rule("substitution-group-left", False, True,
         "The element left a substitution group: documents using it in place of the head are refused."),
    Rule("substitution-group-changed", False, False, "The element moved to another substitution group."),
    # -- wildcards ----------------------------------------------------------
    Rule("wildcard-added", True, False, "A wildcard (xs:any / xs:anyAttribute) was added."),
    Rule("wildcard-removed", False, True, "A wildcard was removed."),
    Rule("wildcard-namespace-widened", True, False, "A wildcard admits more namespaces."),
    Rule("wildcard-namespace-narrowed", False, True, "A wildcard admits fewer namespaces."),
    Rule("wildcard-namespace-changed", False, False, "A wildcard admits other namespaces (neither more nor fewer)."),
    Rule("wildcard-process-widened", True, False,
         "processContents became more lenient (strict -> lax -> skip)."),
    Rule("wildcard-process-narrowed", False, True, "processContents became stricter (skip -> lax -> strict)."),
    # -- attributes ---------------------------------------------------------
    Rule("attribute-added-optional", True, False, "An optional attribute was added."),
    Rule("attribute-added-required", False, False, "A required attribute was added."),
    Rule("attribute-removed-optional", False, True, "An optional attribute was removed."),
    Rule("attribute-removed-required", False, False, "A required attribute was removed."),
    Rule("attribute-now-optional", True, False, "A required attribute became optional."),
    Rule("attribute-now-required", False, True, "An optional attribute became required."),
    # -- simple types -------------------------------------------------------
    Rule("base-type-widened", True, False,
         "The built-in base type is an ancestor of the old one (e.g. xs:positiveInteger -> xs:integer)."),
    Rule("base-type-narrowed", False, True,
         "The built-in base type is derived from the old one (e.g. xs:integer -> xs:positiveInteger)."),
    Rule("base-type-changed", False, False, "The built-in base type changed to an unrelated type."),
    Rule("variety-changed", False, False, "The simple type changed between atomic, list and union."),
    Rule("facet-widened", True, False, "A facet was relaxed or removed (length, bound or digits)."),
    Rule("facet-narrowed", False, True, "A facet was tightened or added (length, bound or digits)."),
    Rule("facet-changed", False, False, "A facet changed in a way that is neither wider nor narrower."),
    Rule("enumeration-value-added", True, False, "An enumeration gained a value."),
    Rule("enumeration-value-removed", False, True, "An enumeration lost a value."),
    Rule("enumeration-added", False, True, "The type is now limited to an enumeration."),
    Rule("enumeration-removed", True, False, "The type is no longer limited to an enumeration."),
    Rule("pattern-added", False, True, "A pattern was added: values must match it too."),
    Rule("pattern-removed", True, False, "A pattern was removed."),
    Rule("pattern-widened", True, False,
         "Heuristic: the new pattern's top-level alternatives include every old one."),
    Rule("pattern-narrowed", False, True,
         "Heuristic: the old pattern's top-level alternatives include every new one."),
    Rule("pattern-changed", False, False,
         "A pattern changed; regular-expression inclusion is not decided in general, so it counts as "
         "breaking both ways (evidence may show a document)."),
    Rule("whitespace-changed", None, None,
         "whiteSpace changed; no effect when neither side has length, pattern or enumeration facets, "
         "otherwise breaking both ways."),
    Rule("union-member-added", True, False, "A union gained a member type."),
    Rule("union-member-removed", False, True, "A union lost a member type."),
)

RULES: dict[str, Rule] = {r.id: r for r in _TABLE}


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]


__all__ = ["RULES", "Rule", "rule"]
