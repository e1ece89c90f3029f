"""The inferred type of every field of every planned call.

A small, stable layer over the checker (``Checker.infer`` with the same
scope rules as ``Checker.check_call``: a call's ``when:`` guard narrows the
paths it proves non-null) so that the tracking-plan exporter and the docs do
not depend on the checker's internals. Problems are not reported here:
callers check the mapping first (``check_source``) and only use this on a
mapping without errors.
"""
from __future__ import annotations

from dataclasses import dataclass

from segmap.compiler import types as T
from segmap.compiler.checker import Checker
from segmap.compiler.scope import Scope, non_null_paths
from segmap.compiler.types import Ty
from segmap.dsl import ast


@dataclass(frozen=True)
class TypedField:
    name: str  # the Segment field: userId, event, properties, traits ...
    spec: ast.FieldSpec
    ty: Ty


@dataclass(frozen=True)
class TypedCall:
    event_type: str  # the Dodo event type the call is made for
    kind: str  # track, identify, group, page, screen, alias
    planned: object  # checker.PlannedCall
    fields: tuple[TypedField, ...]
    reachable: bool = True  # False when the `when:` guard is false for every envelope of this event type

    def field(self, name: str) -> TypedField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def guarded(self) -> bool:
        return self.planned.spec.when is not None

    def names(self) -> tuple[str, ...] | None:
        """The possible event (track) or page/screen names; None when not known statically.

        ``track: Order Completed`` gives one; an expression gives the constants
        it can evaluate to (``if ... then "A" else "B"``), or None.
        """
        field = self.field("event" if self.kind == "track" else "name")
        if field is None:
            return () if self.kind != "track" else None
        return constant_strings(field.ty)


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


def typed_calls(mapping, plan) -> dict[str, tuple[TypedCall, ...]]:
    """Dodo event type -> its calls, each field with its inferred type.

    ``mapping`` is the ``ast.MappingFile`` and ``plan`` the ``Plan`` of a
    ``CheckResult`` (``check_source(text, name)``) without errors.
    """
    checker = Checker(mapping)
    out: dict[str, tuple[TypedCall, ...]] = {}
    for event, planned in plan.calls.items():
        checker.current_event = event
        calls = []
        for pc in planned:
            scope = Scope(event)
            if pc.spec.when is not None:
                checker.infer(pc.spec.when, scope)
                scope = scope.narrowed(non_null_paths(pc.spec.when, True))
            fields = tuple(TypedField(f.name, f, checker.infer(f.value, scope)) for f in pc.fields)
            reachable = pc.spec.when is None or static_truth(pc.spec.when, event) is not False
            calls.append(TypedCall(event, pc.spec.kind, pc, fields, reachable))
        out[event] = tuple(calls)
    checker.current_event = ""
    return out


def static_truth(expr: ast.Expr, event: str) -> bool | None:
    """The value of a guard that only depends on the event type, else None (unknown).

    ``type == "subscription.active"`` in a ``subscription.*`` rule is known
    for each event it matches; ``and``/``or``/``not`` combine as usual, and
    anything reading the payload is unknown.
    """
    if isinstance(expr, ast.Literal) and isinstance(expr.value, bool):
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op == "not":
        inner = static_truth(expr.operand, event)
        return None if inner is None else not inner
    if isinstance(expr, ast.Binary):
        if expr.op in ("and", "or"):
            left, right = static_truth(expr.left, event), static_truth(expr.right, event)
            if expr.op == "and":
                if left is False or right is False:
                    return False
                return True if left is True and right is True else None
            if left is True or right is True:
                return True
            return False if left is False and right is False else None
        if expr.op in ("==", "!="):
            for a, b in ((expr.left, expr.right), (expr.right, expr.left)):
                if isinstance(a, ast.Name) and a.name == "type" and isinstance(b, ast.Literal) \
                        and isinstance(b.value, str):
                    return (b.value == event) == (expr.op == "==")
    return None


def merge(a: Ty | None, b: Ty | None) -> Ty:
    """The type of a value that is ``a`` for some events and ``b`` for others.

    Objects merge key by key (a key missing on one side becomes optional);
    ``None`` stands for "this field is not sent at all" (absent).
    """
    if a is None and b is None:
        return T.NEVER.with_flags(optional=True)
    if a is None or b is None:
        present = a if a is not None else b
        return present.with_flags(optional=True)
    if a.kind == "object" and b.kind == "object":
        fa, fb = dict(a.args), dict(b.args)
        keys = list(fa) + [k for k in fb if k not in fa]
        fields = tuple((k, merge(fa.get(k), fb.get(k))) for k in keys)
        return Ty("object", fields, None, a.nullable or b.nullable, a.optional or b.optional)
    if a == b:
        return a
    return T.union(a, b)
