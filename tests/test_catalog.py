"""OASIS XML catalog export, checked with the real xmllint and with lxml (issue 7)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from egif import Registry
from egif.shipped import shipped_versions
from egif.xmlcatalog import CATALOG_NS, export_catalog, govtalk_location, version_urn

XMLLINT = shutil.which("xmllint")
needs_xmllint = pytest.mark.skipif(XMLLINT is None, reason="xmllint (Debian libxml2-utils) not installed")


def fixture_cases() -> list[tuple[str, Path, Path | None]]:
    """(Name@version, one valid fixture, one schema-invalid fixture) per shipped version."""
    cases = []
    for sv in shipped_versions():
        if sv.fixtures is None or not (sv.fixtures / "manifest.json").is_file():
            continue
        manifest = json.loads((sv.fixtures / "manifest.json").read_text())
        if not manifest.get("valid"):
            continue
        invalid = [i["file"] for i in manifest.get("invalid", []) if i.get("layer") == "xsd"]
        cases.append((str(sv.ref), sv.fixtures / manifest["valid"][0],
                      sv.fixtures / invalid[0] if invalid else None))
    return cases


def xmllint(catalog: Path | None, schema: str, doc: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XML_CATALOG_FILES"}
    env["XML_CATALOG_FILES"] = str(catalog) if catalog else "/nonexistent-catalog.xml"
    assert XMLLINT is not None
    return subprocess.run([XMLLINT, "--noout", "--nonet", "--schema", schema, str(doc)],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, seeded_registry_file: Path) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("catalog")
    reg_path = out / "reg.sqlite"
    shutil.copyfile(seeded_registry_file, reg_path)
    with Registry.open(reg_path) as reg:
        result = export_catalog(reg, out / "export")
        versions = {str(v.ref): v for v in reg.list()}
    return result.catalog, {"result": result, "versions": versions}


def test_every_catalog_entry_points_at_a_written_schema(exported) -> None:
    catalog, info = exported
    root = etree.parse(str(catalog)).getroot()
    entries = [e for e in root if isinstance(e.tag, str)]
    assert entries and len(entries) == info["result"].entries
    for e in entries:
        assert e.tag in (f"{{{CATALOG_NS}}}uri", f"{{{CATALOG_NS}}}system")
        assert (catalog.parent / e.get("uri")).is_file(), e.get("uri")
    keys = {e.get("name") or e.get("systemId") for e in entries}
    namespaces = {v.namespace for v in info["versions"].values() if v.namespace}
    assert namespaces <= keys
    assert info["result"].namespaces["http://www.govtalk.gov.uk/people/bs7666"] == "BS7666@2.0"


@needs_xmllint
@pytest.mark.parametrize(("ref", "valid", "invalid"), fixture_cases(), ids=lambda x: str(x))
def test_xmllint_resolves_each_version_offline(exported, ref: str, valid: Path,
                                               invalid: Path | None) -> None:
    catalog, info = exported
    v = info["versions"][ref]
    main_file = next(f for f in v.files if f.role == "main")
    schema_uris = [version_urn(v.name, v.version)]
    location = govtalk_location(v.namespace or "", main_file.path)
    if location:
        schema_uris.append(location)
    if info["result"].namespaces.get(v.namespace) == ref:
        schema_uris.append(v.namespace)  # the namespace itself resolves to its preferred version
    for uri in schema_uris:
        ok = xmllint(catalog, uri, valid)
        assert ok.returncode == 0, f"{uri}: {ok.stderr}"
        if invalid is not None:
            bad = xmllint(catalog, uri, invalid)
            assert bad.returncode == 3, f"{uri} accepted {invalid.name}: {bad.stderr}"
    # without the catalog the same URI cannot be resolved offline
    assert xmllint(None, schema_uris[-1], valid).returncode != 0


def test_lxml_resolves_namespaces_through_the_catalog(exported) -> None:
    catalog, info = exported
    cases = [(ref, valid) for ref, valid, _ in fixture_cases()
             if info["result"].namespaces.get(info["versions"][ref].namespace) == ref]
    assert cases
    script = (
        "import sys, json\n"
        "from lxml import etree\n"
        "parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)\n"
        "out = {}\n"
        "for ns, doc in json.loads(sys.argv[1]):\n"
        "    schema = etree.XMLSchema(etree.parse(ns, parser))\n"
        "    out[ns] = schema.validate(etree.parse(doc, parser))\n"
        "print(json.dumps(out))\n"
    )
    args = json.dumps([[info["versions"][ref].namespace, str(valid)] for ref, valid in cases])
    env = dict(os.environ, XML_CATALOG_FILES=str(catalog))
    run = subprocess.run([sys.executable, "-c", script, args], capture_output=True, text=True,
                         env=env, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    results = json.loads(run.stdout)
    assert results and all(results.values()), results


def test_cli_export_catalog(egif_cli, tmp_path: Path) -> None:
    out = egif_cli("registry", "export-catalog", str(tmp_path / "cat"), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert Path(data["catalog"]).is_file() and data["entries"] > 0
    clash = tmp_path / "afile"
    clash.write_text("x")
    bad = egif_cli("registry", "export-catalog", str(clash))
    assert bad.returncode == 2 and "is a file" in bad.stderr
