"""``Record``: the base of segmap's value classes (spans, diagnostics, AST nodes, types, the plan).

A record behaves as a frozen, slotted dataclass does: its fields are set once, by its own
``__init__``; two records are equal when they are of the same class with equal fields, and hash
alike then; ``repr`` shows the class and its fields; assigning a field raises
``dataclasses.FrozenInstanceError``. ``MutableRecord`` is the plain (not frozen) dataclass's
twin: fields may be assigned, equality is by fields, and it is not hashable.

Why not ``dataclasses``: creating a dataclass at import costs about 3.8 M instructions (0.6 ms on
Python 3.11), most of it compiling the methods it generates, and importing the module another
43 M (it imports ``inspect``). `segmap check` runs in a fresh process every time and loads 35
such classes: a quarter of its instructions went to making classes. A record's methods are
written once, here, and a subclass writes only its ``__slots__`` (its fields, in order) and an
``__init__`` that sets them (with ``object.__setattr__`` when frozen), so a class costs what a
class statement costs (about 0.1 M instructions). ``tests/core/test_records.py`` holds every record class to the dataclass
behaviour it replaces.
"""
from __future__ import annotations

from operator import attrgetter
from typing import Any, ClassVar


def _no_fields(record: object) -> tuple[()]:
    return ()


class _Fields:
    """What both kinds share: the field list, equality by fields, and repr."""

    __slots__ = ()
    #: the fields, in order (``__slots__`` unless the class says otherwise)
    _fields: ClassVar[tuple[str, ...]] = ()
    #: fields ``repr`` leaves out (dataclasses' ``field(repr=False)``)
    _hidden: ClassVar[tuple[str, ...]] = ()
    _values: ClassVar[Any] = staticmethod(_no_fields)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_fields" not in cls.__dict__:
            cls._fields = tuple(cls.__dict__.get("__slots__", ()))
        names = cls._fields
        if len(names) > 1:
            cls._values = staticmethod(attrgetter(*names))
        elif names:
            one = attrgetter(names[0])
            cls._values = staticmethod(lambda record: (one(record),))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(self._values(self) == self._values(other))
        return NotImplemented

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if name not in self._hidden)
        return f"{type(self).__qualname__}({shown})"


class Record(_Fields):
    """Frozen: the fields are the class's ``__slots__``, set in ``__init__`` with ``object.__setattr__``."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._values(self))

    def __setattr__(self, name: str, value: Any) -> None:
        from dataclasses import FrozenInstanceError  # a bug's cost only

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __getstate__(self) -> tuple[Any, ...]:  # pickle and copy, which would otherwise assign
        return tuple(self._values(self))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        for name, value in zip(self._fields, state):
            object.__setattr__(self, name, value)


class MutableRecord(_Fields):
    """Not frozen: fields may be assigned; equal by fields, and so not hashable. Like the plain
    dataclass it replaces, a subclass keeps a ``__dict__`` (no ``__slots__``) and names its
    fields in ``_fields``."""

    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]
