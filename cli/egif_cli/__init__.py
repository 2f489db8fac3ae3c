"""The ``egif`` command-line tool: a thin click layer over the egif library."""
