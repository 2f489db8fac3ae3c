"""Validation of documents: XSD (libxml2) and Schematron business rules, in one pass.

Rooms:

* :mod:`egif.validate.core` -- the :class:`Validator` and :class:`Session`,
  the :class:`DocumentResult`, sources (paths, bytes, streams, compressed
  data) and the choice of a document's version;
* :mod:`egif.validate.stream` -- the engine that checks a collection range by
  range on every core: its layout, the cutter, the workers and their pool;
* :mod:`egif.validate.schematron` -- the business rules: loader, evaluator and
  the state they share across records;
* :mod:`egif.validate.xsd` -- how a libxml2 error reads as a finding, and
  :mod:`egif.validate.paths` -- how a finding names an element.

Public API::

    from egif.validate import Validator, Session

    v = Validator.for_version(registry, "BS7666@2.0")
    v.is_valid("address.xml")
    for finding in v.iter_errors("address.xml"): ...
    v.validate("address.xml")               # raises DocumentInvalid
    for result in v.check_many(paths): ...   # one compiled schema for all

    Session(registry).check("export.xml.gz")   # detects each document's version
"""

from egif.validate.core.detect import RootInfo, detect
from egif.validate.core.result import DocumentResult
from egif.validate.core.session import Session
from egif.validate.core.sources import Source
from egif.validate.core.validator import Validator, rules_for
from egif.validate.schematron.loader import RuleSet, load_rules
from egif.validate.stream.progress import Progress

__all__ = [
    "DocumentResult",
    "Progress",
    "RootInfo",
    "RuleSet",
    "Session",
    "Source",
    "Validator",
    "detect",
    "load_rules",
    "rules_for",
]
