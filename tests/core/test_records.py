"""Every record class (segmap/record.py) behaves as the dataclass it replaced: the same fields in
the same order with the same defaults, every field set by ``__init__``, the same repr, equality and
hashing, frozen where the dataclass was frozen, and pickle and copy round trips."""
from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

import segmap.compiler.api
import segmap.compiler.functions
import segmap.compiler.plan
import segmap.compiler.types
import segmap.diagnostics.acknowledge
import segmap.diagnostics.codes
import segmap.diagnostics.model
import segmap.dsl.ast
import segmap.dsl.yaml_source
from segmap.record import MutableRecord, Record

MODULES = [segmap.compiler.api, segmap.compiler.functions, segmap.compiler.plan, segmap.compiler.types,
           segmap.diagnostics.acknowledge, segmap.diagnostics.codes, segmap.diagnostics.model, segmap.dsl.ast,
           segmap.dsl.yaml_source]
CLASSES = sorted({obj for m in MODULES for obj in vars(m).values()
                  if isinstance(obj, type) and issubclass(obj, (Record, MutableRecord))
                  and obj not in (Record, MutableRecord) and obj.__module__ == m.__name__},
                 key=lambda c: f"{c.__module__}.{c.__qualname__}")
# CompiledMapping needs a generated module to be made; test_compile_* make it for real
PLAIN = [c for c in CLASSES if c is not segmap.compiler.api.CompiledMapping]


def test_every_value_class_of_the_check_path_is_a_record():
    assert len(CLASSES) == 35, [c.__qualname__ for c in CLASSES]


def _twin(cls: type) -> type:
    """The dataclass ``cls`` stands for, built from its __init__'s signature."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    kw_only = all(p.kind is p.KEYWORD_ONLY for p in params)
    fields = []
    for p in params:
        spec = dataclasses.field(repr=p.name not in cls._hidden)
        if p.default is not p.empty:
            spec = dataclasses.field(repr=p.name not in cls._hidden, default=p.default)
        fields.append((p.name, object, spec))
    frozen = issubclass(cls, Record)
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=frozen, slots=frozen, kw_only=kw_only)


def _values(cls: type, salt: int) -> dict:
    """A distinct value for every parameter (ints where the class computes with them)."""
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    return {name: 10 * salt + i + 1 if cls is segmap.diagnostics.model.Span and i else f"{name}-{salt}"
            for i, name in enumerate(params)}


def _make(cls: type, values: dict):
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    if all(p.kind is p.KEYWORD_ONLY for p in params):
        return cls(**values)
    return cls(*values.values())


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__qualname__)
def test_the_fields_are_the_init_parameters_in_order(cls):
    assert list(inspect.signature(cls.__init__).parameters)[1:] == list(cls._fields)
    assert set(cls._hidden) <= set(cls._fields)


@pytest.mark.parametrize("cls", PLAIN, ids=lambda c: c.__qualname__)
def test_a_record_behaves_as_its_dataclass(cls):
    twin = _twin(cls)
    values, other = _values(cls, 1), _values(cls, 2)
    record, same, different = _make(cls, values), _make(cls, dict(values)), _make(cls, other)
    dc = _make(twin, values)
    for name, value in values.items():  # every field set, from its own parameter
        assert getattr(record, name) == value, name
    assert repr(record) == repr(dc).replace(twin.__qualname__, cls.__qualname__, 1)
    assert record == same and not record != same and record != different and record != dc
    if issubclass(cls, Record):
        assert hash(record) == hash(same)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, cls._fields[0], "changed")
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(record, cls._fields[0])
        assert not hasattr(record, "__dict__")  # slotted, as the dataclass was
        for again in (pickle.loads(pickle.dumps(record)), copy.copy(record), copy.deepcopy(record)):
            assert again == record and type(again) is cls
    else:
        with pytest.raises(TypeError):
            hash(record)
        setattr(record, cls._fields[0], "changed")
        assert getattr(record, cls._fields[0]) == "changed"


def test_defaults_are_the_dataclass_defaults():
    from segmap.diagnostics.model import Diagnostic, Severity, Span

    span = Span("f", 3, 4)
    assert (span.end_line, span.end_col) == (3, 5)
    assert Span("f", 3, 4, 3, 2).end_col == 5 and Span("f", 3, 4, 5, 2) == Span("f", 3, 4, 5, 2)
    d = Diagnostic("E1", Severity.ERROR, "m")
    assert (d.span, d.notes, d.suggestion, d.hint, d.label) == (None, (), None, None, None)
    a = segmap.diagnostics.acknowledge.Acknowledgement(span, ("W1",), {}, 0, 0)
    b = segmap.diagnostics.acknowledge.Acknowledgement(span, ("W1",), {}, 0, 0)
    a.used.add("W1")
    assert b.used == set()  # a fresh set each, as default_factory gave
    assert segmap.compiler.plan.Plan().calls == {} and segmap.compiler.plan.Plan().calls is not segmap.compiler.plan.Plan().calls
