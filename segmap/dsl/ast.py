"""The mapping AST: frozen records (``segmap.record``), each carrying the source span it came from.

One AST serves every stage: the checker walks it to infer types, the Python
and JavaScript generators walk it to emit code. Expressions from YAML
mappings and lists (in value slots) are represented with the same
``ObjectLit``/``ListLit`` nodes as written-out ``{...}``/``[...]``
expressions, so nothing downstream cares which way a user wrote them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Union

from segmap.diagnostics.model import Span
from segmap.record import Record

_set = object.__setattr__


class Literal(Record):
    __slots__ = ("value", "span")
    value: object  # str | int | float | bool | None
    span: Span

    def __init__(self, value: object, span: Span) -> None:
        _set(self, "value", value)
        _set(self, "span", span)


class Name(Record):
    """A bare name: an envelope field (`data`, `timestamp`...) or a lambda variable."""

    __slots__ = ("name", "span")
    name: str
    span: Span

    def __init__(self, name: str, span: Span) -> None:
        _set(self, "name", name)
        _set(self, "span", span)


class Field(Record):
    """`obj.name` or `obj["name"]` (a constant key)."""

    __slots__ = ("obj", "name", "span", "name_span")
    obj: Expr
    name: str
    span: Span
    name_span: Span

    def __init__(self, obj: Expr, name: str, span: Span, name_span: Span) -> None:
        _set(self, "obj", obj)
        _set(self, "name", name)
        _set(self, "span", span)
        _set(self, "name_span", name_span)


class Index(Record):
    """`obj[expr]` with a non-constant-string index (numbers, expressions)."""

    __slots__ = ("obj", "index", "span")
    obj: Expr
    index: Expr
    span: Span

    def __init__(self, obj: Expr, index: Expr, span: Span) -> None:
        _set(self, "obj", obj)
        _set(self, "index", index)
        _set(self, "span", span)


class Unary(Record):
    __slots__ = ("op", "operand", "span")
    op: str  # "-" | "not"
    operand: Expr
    span: Span

    def __init__(self, op: str, operand: Expr, span: Span) -> None:
        _set(self, "op", op)
        _set(self, "operand", operand)
        _set(self, "span", span)


class Binary(Record):
    """Arithmetic, comparison, `and`/`or` and `??`; `op` is the source token."""

    __slots__ = ("op", "left", "right", "span", "op_span")
    op: str
    left: Expr
    right: Expr
    span: Span
    op_span: Span

    def __init__(self, op: str, left: Expr, right: Expr, span: Span, op_span: Span) -> None:
        _set(self, "op", op)
        _set(self, "left", left)
        _set(self, "right", right)
        _set(self, "span", span)
        _set(self, "op_span", op_span)


class Cond(Record):
    __slots__ = ("test", "then", "orelse", "span")
    test: Expr
    then: Expr
    orelse: Expr
    span: Span

    def __init__(self, test: Expr, then: Expr, orelse: Expr, span: Span) -> None:
        _set(self, "test", test)
        _set(self, "then", then)
        _set(self, "orelse", orelse)
        _set(self, "span", span)


class Template(Record):
    """f"..." : parts are literal text (str) or expressions."""

    __slots__ = ("parts", "span")
    parts: tuple[Union[str, Expr], ...]
    span: Span

    def __init__(self, parts: tuple[Union[str, Expr], ...], span: Span) -> None:
        _set(self, "parts", parts)
        _set(self, "span", span)


class ObjectEntry(Record):
    __slots__ = ("key", "value", "key_span")
    key: str
    value: Expr
    key_span: Span

    def __init__(self, key: str, value: Expr, key_span: Span) -> None:
        _set(self, "key", key)
        _set(self, "value", value)
        _set(self, "key_span", key_span)


class ObjectLit(Record):
    __slots__ = ("entries", "span")
    entries: tuple[ObjectEntry, ...]
    span: Span

    def __init__(self, entries: tuple[ObjectEntry, ...], span: Span) -> None:
        _set(self, "entries", entries)
        _set(self, "span", span)


class ListLit(Record):
    __slots__ = ("items", "span")
    items: tuple[Expr, ...]
    span: Span

    def __init__(self, items: tuple[Expr, ...], span: Span) -> None:
        _set(self, "items", items)
        _set(self, "span", span)


class Lambda(Record):
    """`x => body`; only valid as the second argument of map()."""

    __slots__ = ("param", "body", "span", "param_span")
    param: str
    body: Expr
    span: Span
    param_span: Span

    def __init__(self, param: str, body: Expr, span: Span, param_span: Span) -> None:
        _set(self, "param", param)
        _set(self, "body", body)
        _set(self, "span", span)
        _set(self, "param_span", param_span)


class Call(Record):
    __slots__ = ("func", "args", "span", "name_span")
    func: str
    args: tuple[Expr, ...]
    span: Span
    name_span: Span

    def __init__(self, func: str, args: tuple[Expr, ...], span: Span, name_span: Span) -> None:
        _set(self, "func", func)
        _set(self, "args", args)
        _set(self, "span", span)
        _set(self, "name_span", name_span)


Expr = Union[Literal, Name, Field, Index, Unary, Binary, Cond, Template, ObjectLit, ListLit, Lambda, Call]


# --- the mapping file ---------------------------------------------------------


class FieldSpec(Record):
    """One Segment field of a call (`userId: data.customer.customer_id`)."""

    __slots__ = ("name", "value", "span", "from_defaults")
    name: str
    value: Expr
    span: Span  # the key's span
    from_defaults: bool

    def __init__(self, name: str, value: Expr, span: Span, from_defaults: bool = False) -> None:
        _set(self, "name", name)
        _set(self, "value", value)
        _set(self, "span", span)
        _set(self, "from_defaults", from_defaults)


class CallSpec(Record):
    """One Segment call. ``kind`` is track/identify/...; ``fields`` are in file order."""

    __slots__ = ("kind", "fields", "when", "span", "rule_id", "broken_fields")
    kind: str
    fields: tuple[FieldSpec, ...]
    when: Expr | None
    span: Span  # the call key's span
    rule_id: str  # "payment.succeeded#0", stable per file, used for origins and messageIds
    # fields whose value had errors of its own: present for the required-field checks, so that one
    # mistake is not reported twice
    broken_fields: tuple[str, ...]

    def __init__(self, kind: str, fields: tuple[FieldSpec, ...], when: Expr | None, span: Span, rule_id: str,
                 broken_fields: tuple[str, ...] = ()) -> None:
        _set(self, "kind", kind)
        _set(self, "fields", fields)
        _set(self, "when", when)
        _set(self, "span", span)
        _set(self, "rule_id", rule_id)
        _set(self, "broken_fields", broken_fields)


class EventRule(Record):
    __slots__ = ("pattern", "is_glob", "calls", "span")
    pattern: str
    is_glob: bool
    calls: tuple[CallSpec, ...]
    span: Span

    def __init__(self, pattern: str, is_glob: bool, calls: tuple[CallSpec, ...], span: Span) -> None:
        _set(self, "pattern", pattern)
        _set(self, "is_glob", is_glob)
        _set(self, "calls", calls)
        _set(self, "span", span)


class MappingFile(Record):
    __slots__ = ("file", "version", "defaults", "rules", "tests", "span")
    file: str
    version: int
    defaults: tuple[FieldSpec, ...]
    rules: tuple[EventRule, ...]
    tests: object | None  # the raw YAML node of `tests:` (see segmap.dsl.yaml_source)
    span: Span

    def __init__(self, file: str, version: int, defaults: tuple[FieldSpec, ...], rules: tuple[EventRule, ...],
                 tests: object | None, span: Span) -> None:
        _set(self, "file", file)
        _set(self, "version", version)
        _set(self, "defaults", defaults)
        _set(self, "rules", rules)
        _set(self, "tests", tests)
        _set(self, "span", span)


def walk(expr: Expr) -> Iterator[Expr]:
    """Yield every expression node below (and including) ``expr``, parents first."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def children(node: Expr) -> tuple[Expr, ...]:
    """The expressions directly below ``node``, in source order (none for a leaf)."""
    of = _CHILDREN.get(node.__class__)  # one lookup: the checks walk every expression many times
    return of(node) if of is not None else ()


_CHILDREN: dict[type, Callable[[Any], tuple[Expr, ...]]] = {
    Field: lambda n: (n.obj,),
    Index: lambda n: (n.obj, n.index),
    Unary: lambda n: (n.operand,),
    Binary: lambda n: (n.left, n.right),
    Cond: lambda n: (n.test, n.then, n.orelse),
    Template: lambda n: tuple(p for p in n.parts if not isinstance(p, str)),
    ObjectLit: lambda n: tuple(e.value for e in n.entries),
    ListLit: lambda n: n.items,
    Lambda: lambda n: (n.body,),
    Call: lambda n: n.args,
}
