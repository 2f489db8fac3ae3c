"""Data classes whose methods are not compiled at import.

``@dataclass`` writes the source of each class's ``__init__``, ``__repr__``,
``__eq__``, ``__hash__`` and frozen ``__setattr__`` and compiles it with
``exec`` when the class is made: about half a millisecond a class, and a
seventh of the instructions of ``egif validate small.xml`` for the fourteen
classes every start makes.  :func:`record` makes the same kind of class
without compiling anything: the class writes its own ``__init__`` (as plain
code, compiled once into the module's bytecode), ``dataclasses`` is asked only
to record the fields, and the other methods are shared functions that read
the fields the class declares.

A class made so is still a dataclass to every caller: ``dataclasses.fields``,
``replace``, ``asdict`` and ``astuple`` work on it, and it compares, hashes,
orders, prints, pickles and refuses assignment (when frozen) as the class
``@dataclass`` would make.  tests/test_records.py holds each one against that
class.  (Its ``__dataclass_params__`` tell what ``dataclasses`` itself was asked
to write: no ``__init__``, ``__repr__`` or ``__eq__``, and not frozen.)
"""

from __future__ import annotations

import dataclasses
import operator
import reprlib
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

__all__ = ["record"]


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(*, frozen: bool = True, order: bool = False) -> Callable[[type[T]], type[T]]:
    """``@dataclass(frozen=frozen, order=order)`` for a class that defines its own
    ``__init__`` (taking the fields in order, with their defaults, and setting each one;
    a frozen class sets them with ``object.__setattr__``)."""

    def make(cls: type[T]) -> type[T]:
        if "__init__" not in cls.__dict__:
            raise TypeError(f"{cls.__qualname__} must define __init__ to be a record")
        # the fields alone: no method is generated, so nothing is compiled
        cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        shown = tuple(f.name for f in fields if f.repr)
        compared = _values(tuple(f.name for f in fields if f.compare))
        cls.__repr__ = _repr(shown)  # type: ignore[method-assign]
        cls.__eq__ = _eq(compared)  # type: ignore[method-assign]
        if frozen:
            hashed = _values(tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash)))
            cls.__hash__ = _hash(hashed)  # type: ignore[assignment]
            names = frozenset(f.name for f in fields)
            cls.__setattr__ = _frozen_set(cls, names)  # type: ignore[method-assign]
            cls.__delattr__ = _frozen_del(cls, names)  # type: ignore[method-assign]
        else:
            cls.__hash__ = None  # type: ignore[assignment]  # as @dataclass: equal by value, so unhashable
        if order:
            for name, test in (("__lt__", operator.lt), ("__le__", operator.le), ("__gt__", operator.gt),
                               ("__ge__", operator.ge)):
                setattr(cls, name, _ordered(name, test, compared))
        return cls

    return make


def _values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The tuple of *names*' values of an object, as @dataclass compares and hashes it."""
    if len(names) == 1:
        only = names[0]
        return lambda obj: (getattr(obj, only),)
    if not names:
        return lambda obj: ()
    return operator.attrgetter(*names)


def _repr(names: tuple[str, ...]) -> Callable[[Any], str]:
    @reprlib.recursive_repr()
    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({inner})"

    return __repr__


def _eq(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    return __eq__


def _hash(values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any], int]:
    def __hash__(self: Any) -> int:
        return hash(values(self))

    return __hash__


def _frozen_set(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_del(cls: type[Any], names: frozenset[str]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__


def _ordered(name: str, test: Callable[[Any, Any], Any],
             values: Callable[[Any], tuple[Any, ...]]) -> Callable[[Any, Any], Any]:
    def compare(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return test(values(self), values(other))
        return NotImplemented

    compare.__name__ = compare.__qualname__ = name
    return compare
