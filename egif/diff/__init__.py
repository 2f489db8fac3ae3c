"""Schema diff: compare two compiled schemas, judge compatibility, back it with evidence.

>>> from egif.diff import diff_refs
>>> result = diff_refs(registry, "BS7666@1.0", "BS7666@2.0")   # doctest: +SKIP
>>> result.verdict, result.implied_bump                         # doctest: +SKIP
('breaking', 'major')

See docs/diff.md for the rules, verdicts and evidence method.
"""

from egif.diff.api import diff_refs, diff_schemas
from egif.diff.compare import compare_schemas
from egif.diff.result import (
    SATISFIES,
    VERDICTS,
    BumpCheck,
    Change,
    Counterexample,
    DiffResult,
    DirectionEvidence,
    check_bump,
    implied_bump,
)
from egif.diff.rules import RULES, Rule

__all__ = [
    "RULES",
    "SATISFIES",
    "VERDICTS",
    "BumpCheck",
    "Change",
    "Counterexample",
    "DiffResult",
    "DirectionEvidence",
    "Rule",
    "check_bump",
    "compare_schemas",
    "diff_refs",
    "diff_schemas",
    "implied_bump",
]
