"""Which envelope paths a set of planned calls reads.

Both generators read every envelope path once, into a local, before
building bodies; this is the one place that decides what a "path" is
(a chain of names, fields and constant integer indexes from an envelope
root, outside any `map()` variable) and lists every prefix to compute.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
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


def envelope_reads(calls: Iterable[Any]) -> Iterator[tuple[ast.Expr, str, tuple[str | int, ...]]]:
    """Each envelope read of the calls (``plan.PlannedCall``): the outermost path expression, its
    root and keys, in source order. A computed index (`data[x]`) reads its object as a whole."""

    def visit(expr: ast.Expr, bound: frozenset[str]) -> Iterator[tuple[ast.Expr, str, tuple[str | int, ...]]]:
        if isinstance(expr, ast.Lambda):
            yield from visit(expr.body, bound | {expr.param})
            return
        sp = static_path(expr)
        if sp is not None and sp[0] in ENVELOPE_ROOTS and sp[0] not in bound:
            yield expr, sp[0], sp[1]
            return
        for child in ast.children(expr):
            yield from visit(child, bound)

    for pc in calls:
        if pc.spec.when is not None:
            yield from visit(pc.spec.when, frozenset())
        for f in pc.fields:
            yield from visit(f.value, frozenset())


def envelope_paths(calls: Iterable[Any]) -> list[PathKey]:
    """Every envelope path the calls (``plan.PlannedCall``) read, each prefix included, in first-use order."""
    found: dict[PathKey, None] = {}
    for _, root, keys in envelope_reads(calls):
        for i in range(len(keys) + 1):
            found.setdefault((root,) + keys[:i], None)
    return list(found)
