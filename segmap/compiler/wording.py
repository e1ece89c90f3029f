"""How diagnostics name things: expressions as the user wrote them, and "did you mean".

Shared by the checker and its rule modules (function types, Segment rules)
and by the authoring tools, so that every message quotes an expression the
same way and every suggestion is chosen by the same rule.
"""
from __future__ import annotations

from sys import intern as _intern
import difflib
import json
from collections.abc import Iterable

from segmap.dsl import ast


def suggest(word: str, options: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest option to a misspelt ``word``, if one is close enough."""
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return found[0] if found else None


def containing(word: str, options: list[str]) -> str | None:
    """The one option that contains ``word`` (`open` -> `dispute_opened`), if exactly one does."""
    w = word.lower().strip()
    hits = [o for o in options if w and w in o.lower()]
    return hits[0] if len(hits) == 1 else None


def quoted(text: str | None) -> str | None:
    """A suggestion that replaces a string constant keeps its quotes."""
    return json.dumps(text, ensure_ascii=False) if text is not None else None


def show(expr: ast.Expr, limit: int = 48) -> str:
    """How a message names an expression: its path, or its text (shortened)."""
    p = path_text(expr)
    if p is not None:
        return p
    text = expr_text(expr)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def path_text(expr: ast.Expr) -> str | None:
    """`data.customer.email` for a chain of names and fields, else None."""
    parts = []
    while isinstance(expr, ast.Field):
        parts.append(expr.name)
        expr = expr.obj
    if isinstance(expr, ast.Name):
        parts.append(expr.name)
        return ".".join(reversed(parts))
    return None


_PREC = {"??": 1, "or": 2, "and": 3, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5,
         "+": 6, "-": 6, "*": 7, "/": 7, "%": 7}


def _prec(e: ast.Expr) -> int:
    if isinstance(e, ast.Cond):
        return 0
    if isinstance(e, ast.Binary):
        return _PREC.get(e.op, 5)
    if isinstance(e, ast.Unary):
        return 4 if e.op == "not" else 8
    return 9


def expr_text(e: ast.Expr) -> str:
    """Mapping-language text for an expression (used to write suggested fixes)."""

    def sub(child: ast.Expr, min_prec: int) -> str:
        text = expr_text(child)
        return f"({text})" if _prec(child) < min_prec else text

    if isinstance(e, ast.Literal):
        v = e.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        return repr(v)
    if isinstance(e, ast.Name):
        return e.name
    if isinstance(e, ast.Field):
        base = sub(e.obj, 9)
        return f"{base}.{e.name}" if e.name.isidentifier() else f"{base}[{json.dumps(e.name, ensure_ascii=False)}]"
    if isinstance(e, ast.Index):
        return f"{sub(e.obj, 9)}[{expr_text(e.index)}]"
    if isinstance(e, ast.Unary):
        return f"not {sub(e.operand, 4)}" if e.op == "not" else f"-{sub(e.operand, 8)}"
    if isinstance(e, ast.Binary):
        p = _PREC.get(e.op, 5)
        right_min = p if e.op == "??" else p + 1
        left_min = p + 1 if e.op == "??" or p == 5 else p
        return f"{sub(e.left, left_min)} {e.op} {sub(e.right, right_min)}"
    if isinstance(e, ast.Cond):
        return f"if {expr_text(e.test)} then {expr_text(e.then)} else {expr_text(e.orelse)}"
    if isinstance(e, ast.Template):
        out = []
        for part in e.parts:
            if isinstance(part, str):
                out.append(json.dumps(part, ensure_ascii=False)[1:-1].replace("{", "{{").replace("}", "}}"))
            else:
                out.append("{" + expr_text(part) + "}")
        return 'f"' + "".join(out) + '"'
    if isinstance(e, ast.ObjectLit):
        return "{" + ", ".join(f"{en.key if en.key.isidentifier() else json.dumps(en.key)}: {expr_text(en.value)}"
                               for en in e.entries) + "}"
    if isinstance(e, ast.ListLit):
        return "[" + ", ".join(expr_text(i) for i in e.items) + "]"
    if isinstance(e, ast.Lambda):
        return f"{e.param} => {expr_text(e.body)}"
    if isinstance(e, ast.Call):
        return f"{e.func}({', '.join(expr_text(a) for a in e.args)})"
    return "..."  # pragma: no cover


def method_name(prefix: str, name: str) -> str:
    """``prefix + name``, interned: the attribute name a visitor looks up for a node.

    CPython's type attribute cache keeps a reference to every distinct name
    string looked up; a fresh concatenation per lookup filled it with copies
    (about 70 bytes per node per compile, until its 4,096 entries were full).
    """
    return _intern(prefix + name)
