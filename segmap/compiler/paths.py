"""Which envelope paths a set of planned calls reads.

Both generators read every envelope path once, into a local, before
building bodies; this is the one place that decides what a "path" is
(a chain of names, fields and constant integer indexes from an envelope
root, outside any `map()` variable) and lists every prefix to compute.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from segmap.dsl import ast

ENVELOPE_ROOTS = ("business_id", "type", "timestamp", "data")

PathKey = tuple[str | int, ...]  # (root, key, key, ...): keys are field names (str) or list indexes (int)


def static_path(expr: ast.Expr) -> tuple[str, tuple[str | int, ...]] | None:
    """(root name, keys) for a chain of names, fields and constant integer indexes, else None."""
    keys: list[str | int] = []
    while True:
        if isinstance(expr, ast.Field):
            keys.append(expr.name)
            expr = expr.obj
        elif isinstance(expr, ast.Index) and isinstance(expr.index, ast.Literal) and type(expr.index.value) is int:
            keys.append(expr.index.value)
            expr = expr.obj
        elif isinstance(expr, ast.Name):
            return expr.name, tuple(reversed(keys))
        else:
            return None


def envelope_paths(calls: Iterable[Any]) -> list[PathKey]:
    """Every envelope path the calls (``plan.PlannedCall``) read, each prefix included, in first-use order."""
    found: dict[PathKey, None] = {}

    def visit(expr: ast.Expr, bound: frozenset[str]) -> None:
        if isinstance(expr, ast.Lambda):
            visit(expr.body, bound | {expr.param})
            return
        sp = static_path(expr)
        if sp is not None and sp[0] in ENVELOPE_ROOTS and sp[0] not in bound:
            root, keys = sp
            for i in range(len(keys) + 1):
                found.setdefault((root,) + keys[:i], None)
            return
        for child in ast.children(expr):
            visit(child, bound)

    for pc in calls:
        if pc.spec.when is not None:
            visit(pc.spec.when, frozenset())
        for f in pc.fields:
            visit(f.value, frozenset())
    return list(found)
