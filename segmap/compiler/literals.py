"""The one literal policy of both generators: which numbers a literal may hold, and `==` on literals.

A number literal must mean the same on both targets: a finite double, and
an integer only if a double holds it exactly (JavaScript rounds larger
ones). The parser refuses other numbers in mapping text; both generators
ask :func:`number_literal_problem` again for every literal they write, so
a constant folded at compile time is held to the same rule.

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


def number_literal_problem(value: int | float) -> str | None:
    """Why ``value`` cannot be written as a number literal on both targets, or None when it can."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        try:
            exact = float(value) == value
        except OverflowError:
            exact = False
        if not exact:
            return (f"the number {value} cannot be represented exactly in JavaScript "
                    "(integers beyond 2^53 are rounded)")
        return None
    if value - value != 0.0:
        return "the number is not finite (too large for a double)"
    return None


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
