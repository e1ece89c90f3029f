"""What Segment expects of each field's value (HTTP API and Spec).

Kept apart from the expression checker so that the Segment-specific rules
read as one list.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from segmap.compiler.types import Ty
from segmap.dsl import ast
from segmap.dsl.segment_fields import IDENTITY_FIELDS, OBJECT_FIELDS

if TYPE_CHECKING:  # pragma: no cover
    from segmap.compiler.checker import Checker


def check_field(checker: "Checker", spec: ast.CallSpec, f: ast.FieldSpec, ty: Ty) -> None:
    from segmap.compiler.checker import path_text

    base = ty.required()
    if f.name in OBJECT_FIELDS:
        if base.kind not in ("object", "model", "dict", "any", "null", "never", "union"):
            checker.report("E301", f"`{f.name}` must be an object, but this is {ty.describe()}", f.value.span,
                           hint=f"write the {f.name} as a YAML mapping of name: expression")
        return
    if f.name in IDENTITY_FIELDS or (f.name == "event" and spec.kind == "track"):
        if base.kind in ("object", "model", "dict", "list"):
            checker.report("E301", f"`{f.name}` must be text, but this is {ty.describe()}", f.value.span)
        elif ty.maybe_empty and not f.value.__class__ is ast.Literal:
            src = path_text(f.value) or "this value"
            what = "null or absent" if ty.nullable and ty.optional else "null" if ty.nullable else "absent"
            checker.report("E303", f"`{f.name}` can be {what}: `{src}` is {ty.describe()}", f.value.span,
                           hint=f"give a default (`{src} ?? ...`) or guard the call with `when: {src} != null`",
                           notes=("Segment drops a call without its identity",))
