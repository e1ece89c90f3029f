"""How both generators treat a literal operand of `==` / `!=`: the one literal policy.

Deep JSON equality (``_f.eq`` / ``__sm_eq``) is only needed when neither
side is known. Against a string literal, `==` is a plain comparison (a
string equals only the same string, whatever the other side is); against
`null`, it is the test "null or absent" (absent equals null). Both
generators, and the Python generator's constant folding, ask here which
case applies so that the targets cannot drift apart.
"""
from __future__ import annotations

from typing import Literal

from segmap.dsl import ast

LiteralKind = Literal["string", "null"]


def literal_kind(e: ast.Expr) -> LiteralKind | None:
    """``"string"`` or ``"null"`` for a string or null literal, else None."""
    if isinstance(e, ast.Literal):
        if isinstance(e.value, str):
            return "string"
        if e.value is None:
            return "null"
    return None


def literal_operand(e: ast.Binary) -> tuple[int, LiteralKind] | None:
    """For `==`/`!=` with a string or null literal on one side: (index of the *other* side, the kind).

    The right side is looked at first, so ``x == "a"`` and ``"a" == x`` both
    compare ``x`` (index 0 and 1) with the literal.
    """
    for other, lit in ((0, e.right), (1, e.left)):
        kind = literal_kind(lit)
        if kind is not None:
            return other, kind
    return None
