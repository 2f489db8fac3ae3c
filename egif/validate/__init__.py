"""Validation of documents: XSD (libxml2) then Schematron business rules.

Public API::

    from egif.validate import Validator, Session

    v = Validator(registry, "BS7666@2.0")
    v.is_valid("address.xml")
    for finding in v.iter_errors("address.xml"): ...
    v.validate("address.xml")            # raises DocumentInvalid
    for result in v.check_many(paths): ...  # one compiled schema for all

    session = Session(registry)          # detects each document's version
    session.check("export.xml")
"""

from egif.validate.detect import RootInfo, detect
from egif.validate.document import (
    DocumentResult,
    Session,
    Source,
    Validator,
    rules_for,
    safe_parse,
)
from egif.validate.rules import RuleSet, load_rules

__all__ = [
    "DocumentResult",
    "RootInfo",
    "RuleSet",
    "Session",
    "Source",
    "Validator",
    "detect",
    "load_rules",
    "rules_for",
    "safe_parse",
]
