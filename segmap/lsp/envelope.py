"""What the envelope paths of a rule's events are: types, docs, which events have them.

The checker types one event at a time; an editor asks across events: for a
glob rule (`subscription.*`) a field every matched event has is completed
plainly, one only some have is marked with the events that have it. Types
come from the same SDK snapshot as the checker's (segmap.compiler.types).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from segmap.compiler import types as T
from segmap.compiler.types import Ty

_SEGMENT = re.compile(r"\.([A-Za-z_]\w*)|\[\s*(-?\d+)\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*'([^']*)'\s*\]")
_ROOT = re.compile(r"[A-Za-z_]\w*")


def events_for(rule: str | None) -> tuple[str, ...]:
    """The event types a rule key covers; every event type for `defaults:` or an unknown key."""
    all_events = T.event_types()
    if rule is None:
        return all_events
    if rule in all_events:
        return (rule,)
    matched = tuple(e for e in all_events if fnmatch.fnmatchcase(e, rule))
    return matched or all_events


def split_path(text: str) -> list[str | int] | None:
    """`data.product_cart[0].product_id` -> ["data", "product_cart", 0, "product_id"]; None if not a path."""
    m = _ROOT.match(text)
    if m is None:
        return None
    parts: list[str | int] = [m.group()]
    pos = m.end()
    while pos < len(text):
        s = _SEGMENT.match(text, pos)
        if s is None:
            return None
        if s.group(1) is not None:
            parts.append(s.group(1))
        elif s.group(2) is not None:
            parts.append(int(s.group(2)))
        else:
            parts.append(s.group(3) if s.group(3) is not None else s.group(4))
        pos = s.end()
    return parts


@dataclass(frozen=True, slots=True)
class Member:
    """A field of a value: its type, and the SDK model it belongs to (for its doc)."""

    ty: Ty
    model: str | None


def members(ty: Ty) -> dict[str, Member]:
    """The fields of a value of type ``ty`` (empty for a scalar or a list)."""
    base = ty.required()
    if base.kind == "model" and base.name:
        return {k: Member(v, base.name) for k, v in T.model_fields(base.name).items()}
    if base.kind == "object":
        return {k: Member(v, None) for k, v in base.args}
    if base.kind == "union":
        out: dict[str, Member] = {}
        for option in base.args:
            for k, m in members(option).items():
                out.setdefault(k, Member(m.ty.with_flags(optional=True), m.model))
        return out
    return {}


def step(ty: Ty, part: str | int) -> Ty | None:
    """The type one path step below ``ty``; None where the path does not exist."""
    through = ty.maybe_empty
    base = ty.required()
    out: Ty | None
    if isinstance(part, int):
        out = base.args[0].with_flags(optional=True) if base.kind == "list" else None
    elif base.kind == "dict":
        out = base.args[0].with_flags(optional=True)
    elif base.kind == "any":
        out = T.ANY
    else:
        m = members(base).get(part)
        out = m.ty if m else None
    if out is not None and through:
        out = out.with_flags(optional=True)
    return out


def resolve(event: str, parts: list[str | int], variables: dict[str, Ty] | None = None) -> Ty | None:
    """The type of a path for one event type (a map()/filter() variable as its root allowed)."""
    root = parts[0]
    if variables and root in variables:
        ty: Ty | None = variables[root]
    else:
        ty = dict(T.envelope_type(event).args).get(str(root))
    for part in parts[1:]:
        if ty is None:
            return None
        ty = step(ty, part)
    return ty


@dataclass
class FieldInfo:
    """A field name below a path, across the events of a rule."""

    name: str
    types: dict[str, Ty] = field(default_factory=dict)  # event -> type
    model: str | None = None

    def describe(self) -> str:
        shown = list(dict.fromkeys(t.describe() for t in self.types.values()))
        return shown[0] if len(shown) == 1 else " | ".join(shown[:3]) + (" | ..." if len(shown) > 3 else "")

    def enum_values(self) -> tuple:
        values: list = []
        for t in self.types.values():
            base = t.required()
            if base.kind == "enum":
                values.extend(v for v in base.args if v not in values)
        return tuple(values)

    def doc(self) -> str | None:
        return T.field_doc(self.model, self.name) if self.model else None


def fields_below(events: tuple[str, ...], parts: list[str | int],
                 variables_of=None) -> dict[str, FieldInfo]:
    """Every field of the value at ``parts``, for each of ``events``.

    ``variables_of(event)`` gives the map()/filter() variables' types.
    """
    out: dict[str, FieldInfo] = {}
    for ev in events:
        variables = variables_of(ev) if variables_of else None
        ty = resolve(ev, parts, variables) if parts else T.envelope_type(ev)
        if ty is None:
            continue
        base = ty.required()
        if base.kind == "list":  # `data.product_cart.` -- the checker will say to index it; show the items' fields
            base = base.args[0]
        for name, m in members(base).items():
            info = out.setdefault(name, FieldInfo(name, model=m.model))
            info.types[ev] = m.ty
            if info.model is None:
                info.model = m.model
    return out


__all__ = ["FieldInfo", "Member", "events_for", "fields_below", "members", "resolve", "split_path", "step"]
