"""What an expression is checked in: its scope, `when:` narrowing, and the checker's interface.

The checker (``checker.py``) and its rule modules (``function_types.py``,
``segment_rules.py``) need the same things, so they live here, below all
of them:

- :class:`Scope` -- what names mean inside one expression (the envelope of
  one event type, `map()` variables, paths a guard proved non-null);
- :func:`non_null_paths` -- the paths a condition proves non-null;
- :func:`static_truth` -- a guard's value when the event type alone decides it;
- :class:`CheckContext` -- what a rule module may ask of the checker
  (report a problem, infer or look up a type), so rule modules never
  import the checker itself.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from segmap.compiler.types import Ty
from segmap.compiler.wording import path_text
from segmap.diagnostics.model import Span
from segmap.dsl import ast


class Scope:
    """What names mean inside one expression: the envelope, lambda variables, narrowed paths."""

    __slots__ = ("event", "variables", "non_null")

    def __init__(self, event: str, variables: dict[str, Ty] | None = None,
                 non_null: frozenset[str] = frozenset()):
        self.event = event
        self.variables = variables or {}
        self.non_null = non_null

    def bind(self, name: str, ty: Ty) -> Scope:
        return Scope(self.event, {**self.variables, name: ty}, self.non_null)

    def narrowed(self, paths: Iterable[str]) -> Scope:
        return Scope(self.event, self.variables, self.non_null | frozenset(paths))


def non_null_paths(expr: ast.Expr, truthy: bool) -> list[str]:
    """Paths known to be non-null when ``expr`` evaluates to ``truthy``."""
    if isinstance(expr, ast.Binary):
        if expr.op == "and" and truthy:
            return non_null_paths(expr.left, True) + non_null_paths(expr.right, True)
        if expr.op == "or" and not truthy:
            return non_null_paths(expr.left, False) + non_null_paths(expr.right, False)
        if expr.op in ("!=", "==", "<", "<=", ">", ">="):
            positive = (expr.op != "==") == truthy if expr.op in ("!=", "==") else truthy
            for side, other in ((expr.left, expr.right), (expr.right, expr.left)):
                p = path_text(side)
                if p is None:
                    continue
                other_is_null = isinstance(other, ast.Literal) and other.value is None
                if expr.op in ("!=", "==") and other_is_null and positive:
                    return [p]
                if expr.op == "==" and truthy and isinstance(other, ast.Literal) and other.value is not None:
                    return [p]
                if expr.op in ("<", "<=", ">", ">=") and truthy:
                    return [p]
    if isinstance(expr, ast.Unary) and expr.op == "not":
        return non_null_paths(expr.operand, not truthy)
    return []


def static_truth(expr: ast.Expr, event: str) -> bool | None:
    """The value of a condition that only depends on the event type, else None (unknown).

    ``type == "credit.added"`` in a ``credit.*`` rule is known for each event
    the rule matches, and so are ``!=``, chains of ``or`` (``type == "a" or
    type == "b"``, the `in` of other languages), ``and`` and ``not``; anything
    reading the payload is unknown. The checker uses it to check a call only
    for the events its guard lets through (and only the branch of an ``if``
    that an event can take), and ``segmap plan``/preview to leave out the calls
    an event never makes: one rule, so the two always agree.
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


class CheckContext(Protocol):
    """The part of the checker a rule module uses."""

    current_event: str
    current_non_null: frozenset[str]  # the paths the current call's `when:` proves non-null

    def report(self, code: str, message: str, span: Span | None, **kw: Any) -> None: ...

    def infer(self, expr: ast.Expr, scope: Scope) -> Ty: ...

    def type_of(self, expr: ast.Expr) -> Ty | None: ...

    def field_doc(self, expr: ast.Expr) -> str | None: ...

    def expect_bool(self, expr: ast.Expr, ty: Ty, what: str) -> None: ...
