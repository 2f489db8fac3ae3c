"""Which command modules make up the tool, and which of them each top-level command needs.

Commands are imported when they are used: ``egif validate`` does not import the
diff, the linter or the generator (and through it hypothesis), which would cost
more than validating a small document.
"""

from __future__ import annotations

import importlib

import click

# top-level command -> the modules that build it, in order (some add subcommands to
# groups that others define: lifecycle adds `schema history` and `registry config`)
NEEDS: dict[str, tuple[str, ...]] = {
    "diff": ("egif_cli.cmd_diff",),
    "lifecycle": ("egif_cli.cmd_registry", "egif_cli.cmd_schema", "egif_cli.cmd_lifecycle"),
    "lint": ("egif_cli.cmd_lint",),
    "registry": ("egif_cli.cmd_registry", "egif_cli.cmd_publish", "egif_cli.cmd_verify",
                 "egif_cli.cmd_schema", "egif_cli.cmd_lifecycle"),
    "sample": ("egif_cli.cmd_sample",),
    "schema": ("egif_cli.cmd_registry", "egif_cli.cmd_schema", "egif_cli.cmd_lifecycle"),
    "validate": ("egif_cli.cmd_validate",),
}
MODULES = list(dict.fromkeys(m for needed in NEEDS.values() for m in needed))


def load(root: click.Group, name: str, loaded: set[str]) -> None:
    """Register the modules command *name* needs (each module once)."""
    for module_name in NEEDS.get(name, ()):
        if module_name not in loaded:
            loaded.add(module_name)
            importlib.import_module(module_name).register(root)


def register(root: click.Group) -> None:
    """Register every command (for the generated reference)."""
    loaded: set[str] = set()
    for name in NEEDS:
        load(root, name, loaded)
