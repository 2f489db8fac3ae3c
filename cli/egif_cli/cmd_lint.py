"""``egif lint``: check a schema against the GovTalk conventions."""

from __future__ import annotations

from pathlib import Path

import click

from egif.lint import (
    RULES,
    LintSettings,
    explain,
    has_errors,
    lint_file,
    lint_version,
    registry_settings,
)
from egif.model import is_schema_file
from egif.registry import default_location, is_url
from egif.render.lint import REPORT, RULE_LIST
from egif_cli.common import echo, emit, format_option, state


def _parse_levels(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        rule, sep, level = value.partition("=")
        if not sep or not rule or not level:
            raise click.BadParameter(f"{value!r}: expected RULE=LEVEL (error, warning or info)",
                                     param_hint="--severity")
        out[rule.strip()] = level.strip()
    return out




@click.command("lint")
@click.argument("schema", required=False)
@click.option("--explain", "explain_rule", metavar="RULE", help="Explain one rule and exit.")
@click.option("--rules", "list_rules", is_flag=True, help="List every rule and exit.")
@click.option("--disable", multiple=True, metavar="RULE", help="Switch a rule off (repeatable).")
@click.option("--severity", "levels", multiple=True, metavar="RULE=LEVEL",
              help="Report a rule as error, warning or info (repeatable).")
@click.option("--namespace-base", metavar="URI",
              help="Base that targetNamespaces must start with (default: the registry's setting, "
                   "else http://www.govtalk.gov.uk/).")
@click.option("--include-imports", is_flag=True,
              help="Also lint the imported files bundled with a registered version (other standards' "
                   "documents, such as the W3C signature schema: named but not linted by default).")
@format_option(REPORT)
@click.pass_context
def lint(ctx: click.Context, schema: str | None, explain_rule: str | None, list_rules: bool,
         disable: tuple[str, ...], levels: tuple[str, ...], namespace_base: str | None,
         include_imports: bool, fmt: str) -> None:
    """Check SCHEMA (a file, or NAME@VERSION in the registry) against the GovTalk conventions.

    A registry's lint settings (config key "lint") apply to registered versions,
    and to files when the registry file exists; --disable and --severity apply on
    top.  Exit status 1 when any error is found (warnings and info alone exit 0).
    """
    if explain_rule is not None:
        echo(explain(explain_rule))  # the library's one line
        return
    if list_rules:
        emit(RULE_LIST, fmt, RULES)
        return
    if schema is None:
        raise click.UsageError("give a SCHEMA (file or NAME@VERSION), --explain RULE or --rules")

    app = state(ctx)
    is_file = is_schema_file(schema)
    base = LintSettings()
    if not is_file:
        base = registry_settings(app.registry())
    else:
        location = app.registry_path or default_location()[0]
        if is_url(location) or Path(location).is_file():  # never create a registry just to lint a file
            base = registry_settings(app.registry())
    settings = base.with_overrides(disable=disable, severity=_parse_levels(levels),
                                   namespace_base=namespace_base)

    if is_file:
        findings = lint_file(Path(schema), settings=settings)
        label = schema
    else:
        reg = app.registry()
        version = reg.get(schema)
        label = f"{version.name}@{version.version}"
        findings = lint_version(reg, version.ref, settings=settings, include_imports=include_imports)

    emit(REPORT, fmt, findings, label=label)
    if has_errors(findings):
        ctx.exit(1)

