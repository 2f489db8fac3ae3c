"""The Python API reference (docs/api.md): every public name documented, as pdoc shows it."""

from __future__ import annotations

import re

import pdoc.doc
import pytest

import egif
from egif import Validator

from .conftest import REPO


def _undocumented(module: pdoc.doc.Module) -> list[str]:
    missing: list[str] = []
    for name in egif.__all__:
        member = module.get(name)
        if member is None:
            missing.append(f"{name} (not in the reference at all)")
            continue
        if not member.docstring.strip():
            missing.append(name)
        if isinstance(member, pdoc.doc.Class):
            missing.extend(f"{name}.{m.name}" for m in member.own_members
                           if isinstance(m, pdoc.doc.Function) and not m.name.startswith("_")
                           and not m.docstring.strip())
    return missing


def test_every_public_name_and_method_has_a_docstring() -> None:
    missing = _undocumented(pdoc.doc.Module(egif))
    assert not missing, "no docstring in the API reference for: " + ", ".join(missing)


def test_is_valid_says_what_it_raises() -> None:
    doc = Validator.is_valid.__doc__ or ""
    for raised in ("InputError", "UnsafeInputError", "TypeError"):
        assert raised in doc, f"Validator.is_valid does not document {raised}"


def test_the_reference_builds_every_module_the_docs_show_from_python() -> None:
    """docs/api.md's pdoc command names every egif module a ```python block of the docs imports."""
    page = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    command = re.search(r"^\$ (python3 -W error -m pdoc .*)$", page, re.M)
    assert command, "docs/api.md shows the pdoc command"
    built = set(command.group(1).split()[6:])
    shown: set[str] = set()
    for doc in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        for block in re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            shown.update(re.findall(r"^\s*from (egif(?:\.\w+)*) import", block, re.M))
    assert shown, "the docs show Python examples"
    assert shown <= built, f"add to the pdoc command in docs/api.md: {sorted(shown - built)}"


@pytest.mark.parametrize("source", [b"not xml", b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>"])
def test_is_valid_raises_as_documented(seeded_registry_file, source: bytes) -> None:  # type: ignore[no-untyped-def]
    from egif import InputError, Registry

    with Registry.open(seeded_registry_file) as reg:
        validator = Validator.for_version(reg, "BS7666@2.0")
        with pytest.raises(InputError):
            validator.is_valid(source)
        assert validator.is_valid(b"<a/>") is False
