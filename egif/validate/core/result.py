"""The outcome of validating one document."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from egif.model import Finding, Severity
from egif.record import record


@record(frozen=False)
class DocumentResult:
    """The findings of one document and what the summary says about it."""

    source: str  # the document's label: its path, <stdin>, <bytes>
    schema: str | None  # "NAME@VERSION" it was checked against; None when it could not be
    findings: list[Finding] = field(default_factory=list)
    records: int | None = None  # records of a collection, when read to the end
    truncated: bool = False  # stopped at max_errors: more errors may follow

    def __init__(self, source: str, schema: str | None, findings: list[Finding] | None = None,
                 records: int | None = None, truncated: bool = False) -> None:
        self.source = source
        self.schema = schema
        self.findings = [] if findings is None else findings
        self.records = records
        self.truncated = truncated

    @property
    def errors(self) -> list[Finding]:
        """The findings of severity error."""
        return [f for f in self.findings if f.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        """The findings of severity warning."""
        return [f for f in self.findings if f.severity == Severity.WARNING]

    @property
    def valid(self) -> bool:
        """True when no finding is an error (warnings and information do not count)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with every finding."""
        return {"file": self.source, "schema": self.schema, "valid": self.valid,
                "records": self.records, "truncated": self.truncated,
                "errors": len(self.errors), "warnings": len(self.warnings),
                "findings": [f.to_dict() for f in self.findings]}
