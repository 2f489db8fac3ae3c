"""The engine for collections: one document cut into ranges, checked on every core.

* ``layout`` -- what the compiled schema says a collection is: the record
  elements, the root's other children, occurrence bounds, identity constraints;
  and where a document's root start tag, content and end tag lie;
* ``cutter`` -- where ranges may start (record start tags), found in raw bytes;
* ``worker`` -- one range checked: parse, XSD pass, the rules' record phase;
* ``pool`` -- worker processes, and the parent working beside them;
* ``engine`` -- a document through cutting, the pool and merging, in file order.

docs/validation-streaming.md draws the data flow.  Kept free of imports (see
``pool``: workers bypass package ``__init__`` files).
"""
