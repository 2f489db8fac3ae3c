"""The business rules: ISO Schematron with egif's XPath 1.0 subset.

* ``loader`` -- Schematron documents read, checked and compiled into a
  :class:`RuleSet` (anything unsupported is refused when loaded);
* ``evaluator`` -- the rules run on a tree: the record phase (each range of a
  collection, in the worker that parsed it) and the rest phase (the root and
  its other children, once, at the end);
* ``state`` -- what rules share across records: the values ``seen()`` has met,
  gathered range by range in the parent.

Kept free of imports (worker processes bypass package ``__init__`` files).
"""
