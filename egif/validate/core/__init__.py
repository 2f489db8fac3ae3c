"""The validator's front rooms: what a caller meets.

* ``validator`` -- :class:`Validator`: one compiled schema version and its rules,
  applied to any number of documents;
* ``session`` -- :class:`Session`: the version of each document chosen (named, by
  status, or detected), one validator per version kept;
* ``detect`` -- which registered versions a document's root can belong to;
* ``sources`` -- paths, bytes, file objects, standard input and compressed data
  turned into one kind of input with random access;
* ``result`` -- :class:`DocumentResult`, what one document came to.

Kept free of imports: worker processes load ``egif.validate.stream`` modules
without running package ``__init__`` files.
"""
