"""The mapping AST: frozen dataclasses, each carrying the source span it came from.

One AST serves every stage: the checker walks it to infer types, the Python
and JavaScript generators walk it to emit code. Expressions from YAML
mappings and lists (in value slots) are represented with the same
``ObjectLit``/``ListLit`` nodes as written-out ``{...}``/``[...]``
expressions, so nothing downstream cares which way a user wrote them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Union

from segmap.diagnostics.model import Span


@dataclass(frozen=True, slots=True)
class Literal:
    value: object  # str | int | float | bool | None
    span: Span


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: an envelope field (`data`, `timestamp`...) or a lambda variable."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Field:
    """`obj.name` or `obj["name"]` (a constant key)."""

    obj: "Expr"
    name: str
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True)
class Index:
    """`obj[expr]` with a non-constant-string index (numbers, expressions)."""

    obj: "Expr"
    index: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" | "not"
    operand: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, comparison, `and`/`or` and `??`; `op` is the source token."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span
    op_span: Span


@dataclass(frozen=True, slots=True)
class Cond:
    test: "Expr"
    then: "Expr"
    orelse: "Expr"
    span: Span


@dataclass(frozen=True, slots=True)
class Template:
    """f"..." : parts are literal text (str) or expressions."""

    parts: tuple[Union[str, "Expr"], ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    key: str
    value: "Expr"
    key_span: Span


@dataclass(frozen=True, slots=True)
class ObjectLit:
    entries: tuple[ObjectEntry, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ListLit:
    items: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Lambda:
    """`x => body`; only valid as the second argument of map()."""

    param: str
    body: "Expr"
    span: Span
    param_span: Span


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple["Expr", ...]
    span: Span
    name_span: Span


Expr = Union[Literal, Name, Field, Index, Unary, Binary, Cond, Template, ObjectLit, ListLit, Lambda, Call]


# --- the mapping file ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One Segment field of a call (`userId: data.customer.customer_id`)."""

    name: str
    value: Expr
    span: Span  # the key's span
    from_defaults: bool = False


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One Segment call. ``kind`` is track/identify/...; ``fields`` are in file order."""

    kind: str
    fields: tuple[FieldSpec, ...]
    when: Expr | None
    span: Span  # the call key's span
    rule_id: str  # "payment.succeeded#0", stable per file, used for origins and messageIds
    # fields whose value had errors of its own: present for the required-field checks, so that one
    # mistake is not reported twice
    broken_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EventRule:
    pattern: str
    is_glob: bool
    calls: tuple[CallSpec, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class MappingFile:
    file: str
    version: int
    defaults: tuple[FieldSpec, ...]
    rules: tuple[EventRule, ...]
    tests: object | None  # the raw YAML node of `tests:` (see segmap.dsl.yaml_source)
    span: Span


def walk(expr: Expr) -> Iterator[Expr]:
    """Yield every expression node below (and including) ``expr``, parents first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, Field):
        return (node.obj,)
    if isinstance(node, Index):
        return (node.obj, node.index)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Cond):
        return (node.test, node.then, node.orelse)
    if isinstance(node, Template):
        return tuple(p for p in node.parts if not isinstance(p, str))
    if isinstance(node, ObjectLit):
        return tuple(e.value for e in node.entries)
    if isinstance(node, ListLit):
        return node.items
    if isinstance(node, Lambda):
        return (node.body,)
    if isinstance(node, Call):
        return node.args
    return ()
