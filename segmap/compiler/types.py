"""The checker's type model, built from the schema snapshot of the SDK models.

A ``Ty`` says what an expression can evaluate to on a valid envelope:
its kind, and whether it can be JSON null (``nullable``) or absent from the
envelope (``optional``, i.e. MISSING at run time).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from segmap.compiler.paths import ENVELOPE_ROOTS as ENVELOPE_ROOTS  # re-exported: one definition
from segmap.compiler.snapshot import load_snapshot
from segmap.record import Record

_set = object.__setattr__

SCALAR_KINDS = ("str", "int", "float", "bool", "datetime", "date")


class Ty(Record):
    __slots__ = ("kind", "args", "name", "nullable", "optional")
    kind: str  # str int float bool datetime date enum list dict model object union any null never
    args: tuple[Any, ...]  # enum: values; list/dict: (item,); union: options; object: ((key, Ty), ...)
    name: str | None  # model name, or the enum's alias name
    nullable: bool
    optional: bool

    def __init__(self, kind: str, args: tuple[Any, ...] = (), name: str | None = None, nullable: bool = False,
                 optional: bool = False) -> None:
        _set(self, "kind", kind)
        _set(self, "args", args)
        _set(self, "name", name)
        _set(self, "nullable", nullable)
        _set(self, "optional", optional)

    # --- constructors and flags -------------------------------------------
    def with_flags(self, nullable: bool | None = None, optional: bool | None = None) -> "Ty":
        nullable = self.nullable if nullable is None else nullable
        optional = self.optional if optional is None else optional
        if nullable == self.nullable and optional == self.optional:
            return self
        return Ty(self.kind, self.args, self.name, nullable, optional)

    def required(self) -> "Ty":
        """The type once null and absence are ruled out."""
        if not self.nullable and not self.optional:
            return self
        return Ty(self.kind, self.args, self.name, False, False)

    @property
    def maybe_empty(self) -> bool:
        return self.nullable or self.optional

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "float") or (self.kind == "union" and all(o.is_numeric for o in self.args))

    @property
    def is_stringy(self) -> bool:
        if self.kind in ("str", "datetime", "date"):
            return True
        if self.kind == "enum":
            return _all_text(self.args)
        return self.kind == "union" and all(o.is_stringy for o in self.args)

    def could_be(self, pred: Callable[[Ty], bool]) -> bool:
        """True when some value of this type satisfies ``pred`` (any: always)."""
        if self.kind == "any":
            return True
        if self.kind == "union":
            return any(o.could_be(pred) for o in self.args)
        return bool(pred(self))

    def describe(self) -> str:
        base = _describe(self)
        if self.nullable and self.optional:
            return f"{base} (nullable, optional)"
        if self.nullable:
            return f"{base} or null"
        if self.optional:
            return f"{base} (may be absent)"
        return base


def _describe(t: Ty) -> str:
    if t.kind == "enum":
        if t.name:
            return t.name
        vals = ", ".join(repr(v) for v in t.args[:5])
        return f"one of {vals}{', ...' if len(t.args) > 5 else ''}"
    if t.kind == "list":
        return f"list of {_describe(t.args[0])}"
    if t.kind == "dict":
        return f"object of {_describe(t.args[0])}"
    if t.kind == "model":
        return f"object {t.name.split('.')[-1] if t.name else ''}".strip()
    if t.kind == "object":
        return "object"
    if t.kind == "union":
        return " | ".join(_describe(o) for o in t.args)
    if t.kind == "int":
        return "integer"
    if t.kind == "float":
        return "number"
    if t.kind == "str":
        return "string"
    if t.kind == "datetime":
        return "datetime string"
    if t.kind == "date":
        return "date string"
    return t.kind


STR = Ty("str")
INT = Ty("int")
NUM = Ty("float")
BOOL = Ty("bool")
ANY = Ty("any")
NULL = Ty("null", nullable=True)
DATETIME = Ty("datetime")
NEVER = Ty("never")


@lru_cache(maxsize=1024)
def _all_text(values: tuple[Any, ...]) -> bool:
    """Whether every enum value is text (asked for the same long enums, such as currencies, often)."""
    return all(isinstance(v, str) for v in values)


def union(*types: Ty) -> Ty:
    """Least upper bound, flattening unions and merging flags."""
    opts: list[Ty] = []
    nullable = optional = False
    for t in types:
        nullable |= t.nullable
        optional |= t.optional
        parts = t.args if t.kind == "union" else (t,)
        for p in parts:
            if p.kind in ("null", "never"):
                continue
            p = p.required()
            if p.kind == "any":
                return ANY.with_flags(nullable, optional)
            if p not in opts:
                opts.append(p)
    if not opts:
        return NULL.with_flags(True, optional) if nullable else NEVER.with_flags(False, optional)
    if len(opts) == 1:
        return opts[0].with_flags(nullable, optional)
    if all(o.kind in ("int", "float") for o in opts):
        return NUM.with_flags(nullable, optional)
    if all(o.kind == "list" for o in opts):
        return Ty("list", (union(*(o.args[0] for o in opts)),), None, nullable, optional)
    if all(o.kind == "dict" for o in opts):
        return Ty("dict", (union(*(o.args[0] for o in opts)),), None, nullable, optional)
    if all(o.kind == "enum" for o in opts):
        vals = tuple(sorted({v for o in opts for v in o.args}, key=str))
        return Ty("enum", vals, None, nullable, optional)
    return Ty("union", tuple(opts), None, nullable, optional)


# --- from the snapshot ---------------------------------------------------


def from_snapshot(t: dict[str, Any]) -> Ty:
    kind = t["t"]
    if kind in SCALAR_KINDS or kind == "any":
        return Ty(kind)
    if kind == "enum":
        return Ty("enum", tuple(t["values"]), t.get("name"))
    if kind == "list":
        return Ty("list", (from_snapshot(t["items"]),))
    if kind == "dict":
        return Ty("dict", (from_snapshot(t["values"]),))
    if kind == "model":
        return Ty("model", (), t["name"])
    if kind == "union":
        return union(*(from_snapshot(o) for o in t["of"]))
    return ANY


@lru_cache(maxsize=None)
def model_fields(model: str) -> dict[str, Ty]:
    """Field name -> type (with nullable/optional flags) of a snapshot model."""
    snap = load_snapshot()
    out = {}
    for name, f in snap["models"][model]["fields"].items():
        out[name] = from_snapshot(f["type"]).with_flags(nullable=f["nullable"], optional=not f["required"])
    return out


def field_facts(model: str, field: str) -> dict[str, Any]:
    """What the SDK says a field means (unit, deprecation, role, advice): ``snapshot_gen.field_facts``."""
    f = load_snapshot()["models"].get(model, {}).get("fields", {}).get(field)
    facts: dict[str, Any] = f.get("facts", {}) if f else {}
    return facts


def field_doc(model: str, field: str) -> str | None:
    f = load_snapshot()["models"].get(model, {}).get("fields", {}).get(field)
    return f.get("doc") if f else None


@lru_cache(maxsize=None)
def envelope_type(event_type: str) -> Ty:
    snap = load_snapshot()
    fields = [("business_id", STR), ("type", Ty("enum", (event_type,))), ("timestamp", DATETIME),
              ("data", Ty("model", (), snap["events"][event_type]["data"]))]
    return Ty("object", tuple(fields))


def event_types() -> tuple[str, ...]:
    return tuple(sorted(load_snapshot()["events"]))



def constant_strings(ty: Ty) -> tuple[str, ...] | None:
    """The texts a string type can be, when they are all known; else None."""
    base = ty.required()
    if base.kind == "str" and base.args:
        return tuple(str(a) for a in base.args)
    if base.kind == "enum" and all(isinstance(v, str) for v in base.args):
        return tuple(base.args)
    if base.kind == "union":
        out: list[str] = []
        for o in base.args:
            sub = constant_strings(o)
            if sub is None:
                return None
            out.extend(s for s in sub if s not in out)
        return tuple(out)
    return None
