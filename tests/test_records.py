"""egif's data classes behave as the classes ``@dataclass`` would make of the same fields.

:func:`egif.record.record` makes them without compiling code at import (see its
module).  Each class is held here against the dataclass built from its own
fields: the constructor's parameters, and what instances made from the same
values print, compare, hash, order, copy and refuse.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egif.model import (
    BindingReport,
    Directive,
    Event,
    Finding,
    ImportBinding,
    SchemaFile,
    SchemaRef,
    SchemaVersion,
)
from egif.registry import AddResult
from egif.resolve import ResolvedSchema
from egif.validate.core.result import DocumentResult
from egif.validate.schematron.loader import Check, RuleSet
from egif.validate.stream.progress import Progress

RECORDS: list[tuple[type, bool, bool]] = [  # (class, frozen, ordered)
    (SchemaRef, True, True),
    (SchemaFile, True, False),
    (Directive, True, False),
    (ImportBinding, True, False),
    (BindingReport, True, False),
    (SchemaVersion, True, False),
    (Event, True, False),
    (Finding, True, False),
    (AddResult, True, False),
    (ResolvedSchema, False, False),
    (DocumentResult, False, False),
    (Check, False, False),
    (RuleSet, False, False),
    (Progress, False, False),
]
IDS = [cls.__name__ for cls, _f, _o in RECORDS]


def _reference(cls: type, frozen: bool, order: bool) -> type:
    """The class ``@dataclass(frozen=frozen, order=order)`` makes of *cls*'s fields."""
    specs = []
    for f in dataclasses.fields(cls):
        kw: dict[str, Any] = {"repr": f.repr, "compare": f.compare, "hash": f.hash}
        if f.default is not dataclasses.MISSING:
            kw["default"] = f.default
        if f.default_factory is not dataclasses.MISSING:
            kw["default_factory"] = f.default_factory
        specs.append((f.name, f.type, dataclasses.field(**kw)))
    return dataclasses.make_dataclass(cls.__name__, specs, frozen=frozen, order=order)


@pytest.mark.parametrize(("cls", "frozen", "order"), RECORDS, ids=IDS)
def test_the_constructor_takes_the_fields_in_order_with_their_defaults(cls: type, frozen: bool,
                                                                       order: bool) -> None:
    own = list(inspect.signature(cls.__init__).parameters.values())[1:]
    fields = dataclasses.fields(cls)
    assert [p.name for p in own] == [f.name for f in fields]
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in own)
    for p, f in zip(own, fields, strict=True):
        if f.default is not dataclasses.MISSING:
            assert p.default == f.default, f.name
        elif f.default_factory is not dataclasses.MISSING:
            assert p.default is None, f.name  # None stands for "a new one", as the factory makes
        else:
            assert p.default is inspect.Parameter.empty, f.name
    made = cls(**{f.name: f"v-{f.name}" for f in fields})
    assert [getattr(made, f.name) for f in fields] == [f"v-{f.name}" for f in fields]


_SOME = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "b", ""]), st.tuples(st.integers(0, 2)))
_VALUES = st.one_of(st.none(), _SOME)


def _args(cls: type, draw: Any) -> list[Any]:
    # a field made by a factory takes None for "a new one": given a value, it keeps it
    return [draw(_SOME if f.default_factory is not dataclasses.MISSING
                 else _VALUES) for f in dataclasses.fields(cls)]


def _hash_of(obj: object) -> int | str:
    try:
        return hash(obj)
    except TypeError as exc:  # a field holds an unhashable value: the same for both
        return str(exc)


@pytest.mark.parametrize(("cls", "frozen", "order"), RECORDS, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_instances_behave_as_the_dataclass_of_the_same_fields(cls: type, frozen: bool, order: bool,
                                                               data: st.DataObject) -> None:
    ref = _reference(cls, frozen, order)
    a_args, b_args = _args(cls, data.draw), _args(cls, data.draw)
    if data.draw(st.booleans()):
        b_args = list(a_args)
    a, b, ra, rb = cls(*a_args), cls(*b_args), ref(*a_args), ref(*b_args)
    assert repr(a) == repr(ra)
    assert (a == b) == (ra == rb)
    assert (a != b) == (ra != rb)
    assert (a == object()) is False and (a == ra) is False  # another class is never equal
    assert dataclasses.astuple(a) == dataclasses.astuple(ra)
    assert dataclasses.asdict(a) == dataclasses.asdict(ra)
    changed = dataclasses.replace(a, **{dataclasses.fields(cls)[0].name: "changed"})
    assert dataclasses.astuple(changed) == dataclasses.astuple(dataclasses.replace(
        ra, **{dataclasses.fields(cls)[0].name: "changed"}))
    assert pickle.loads(pickle.dumps(a)) == a and copy.copy(a) == a and copy.deepcopy(a) == a
    if frozen:
        assert (_hash_of(a) == _hash_of(b)) == (_hash_of(ra) == _hash_of(rb))
        assert _hash_of(a) == _hash_of(ra)
        name = dataclasses.fields(cls)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(a, name, 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(a, name)
    else:
        assert type(a).__hash__ is None and ref.__hash__ is None
        with pytest.raises(TypeError):
            hash(a)
    if order:
        try:
            expected = (ra < rb, ra <= rb, ra > rb, ra >= rb)
        except TypeError:  # values of kinds that do not order: neither does the record
            with pytest.raises(TypeError):
                _ = a < b
        else:
            assert (a < b, a <= b, a > b, a >= b) == expected
        with pytest.raises(TypeError):
            _ = a < ra  # type: ignore[operator]


def test_a_record_holding_itself_prints_without_end() -> None:
    result = DocumentResult("a", None)
    result.findings.append(result)  # type: ignore[arg-type]
    assert repr(result) == "DocumentResult(source='a', schema=None, findings=[...], records=None, truncated=False)"


def test_starting_egif_compiles_no_dataclass_methods() -> None:
    """What ``egif validate`` imports makes its data classes without ``exec``."""
    probe = (
        "import builtins, sys\n"
        "made = []\n"
        "real = builtins.exec\n"
        "def watch(source, *args, **kwargs):\n"
        "    if isinstance(source, str) and sys._getframe(1).f_globals.get('__name__') == 'dataclasses':\n"
        "        made.append(source.split('(')[0])\n"
        "    return real(source, *args, **kwargs)\n"
        "builtins.exec = watch\n"
        "import egif, egif.validate, egif_cli.app\n"
        "print(len(made))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0", out.stdout
