"""Checked plan -> Python source -> one compiled module.

The generated code is flat and close to what a person would write by hand:

* one function per event type, found by a dict lookup on ``type``;
* every envelope path is read once into a local. Each event gets two
  versions of its function. The *fast* one reads the paths with plain
  subscripts (``dict.get`` for keys the Dodo schema marks optional) inside a
  ``try``; since a subscript never yields MISSING, most "drop the key when
  absent" checks vanish and bodies are built as nested dict displays right in
  the ``return``. Anything unusual (a required key absent, a path through
  null or through a non-object) falls back to the *general* version, which
  treats every path as possibly absent. General versions are compiled the
  first time one is needed (``GeneratedModule.exec_source`` has a stub in
  their place, at the same line numbers);
* constant sub-expressions are folded at compile time with the run-time
  helpers themselves (so the result is the helper's, by construction); a
  fold that would fail is left to fail at run time, at its location;
* an expression repeated in one event (``fixed(data.total_amount / 100, 2)``
  in the seed's track and identify calls) is computed once, where reuse is
  safe (pure helpers, same or enclosing block, nothing that builds an
  object: constant objects stay fresh per call);
* helpers are inlined where the inline form is exactly the helper on the
  common input (``fallback``, ``coalesce``, ``string``, ``fixed`` of an
  integer, ``fixed(n / 10**j, k)`` for an integer ``n`` small enough that
  the quotient can never be a rounding tie), with the helper call kept for
  every other input;
* calls are built with ``tuple.__new__(Call, ...)``, one C call;
* conditions (``when:``, ``if``, ``and``, ``or``, ``not``) stay lazy.

Each emitted line is recorded with the mapping span it came from, so a
failure at run time is reported at the mapping's file:line:col (jinja2 does
the same with its templates). Lines of the fast and the general version of
a function carry the same spans.
"""
from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Callable, ContextManager, Iterable, Iterator, Sequence, TypeVar

from segmap.diagnostics.model import Span
from segmap.compiler.literals import literal_operand, number_literal_problem
from segmap.compiler.paths import PathKey, envelope_paths, static_path
from segmap.compiler.plan import Plan, PlannedCall, PlannedField
from segmap.compiler.types import NUM as _NUMBER, Ty
from segmap.compiler.wording import method_name as _method_name
from segmap.dsl import ast
from segmap.dsl.segment_fields import OBJECT_FIELDS
from segmap.runtime import functions as _rt
from segmap.runtime import jsjson as _jsjson
from segmap.runtime.values import MISSING, MappingRuntimeError


_TWO53 = 2**53
# helpers whose result is text (or the null/absent they were given): printed alike by both targets
# (or true/false, or a list of texts)
_TEXT_FUNCTIONS = frozenset({"fixed", "string", "lower", "upper", "trim", "iso_time", "join", "replace", "split",
                             "starts_with", "ends_with", "contains"})
# below this, an int is one CPython digit, and 3.11 compares two such ints in its specialised
# instruction (a larger constant takes the generic comparison, about twice the work)
_ONE_DIGIT = 2**30 - 1
_NOCONST = object()  # "not a compile-time constant"
_SCALARS = (str, int, float, bool, type(None))
#: a structural key of an expression for reuse (see `_FunctionGen.key`), or of a test already made
_Key = tuple[object, ...]
_X = TypeVar("_X")  # what a display entry is made from (an object entry, a planned field)


def _within(c: str, bound: int) -> str:
    """Code for ``-bound < c < bound`` for an int ``c``, in parentheses: against ``2**30 - 1`` first,
    the common case, compared in CPython's specialised instruction, then against ``bound``."""
    if bound <= _ONE_DIGIT:
        return f"({c} < {bound} and {c} > -{bound})"
    return f"({c} < {_ONE_DIGIT} and {c} > -{_ONE_DIGIT} or {c} < {bound} and {c} > -{bound})"


def lit(value: object) -> str:
    """A Python literal for a JSON scalar; ascii() escapes every non-ASCII character."""
    if value is None:
        return "None"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if value is MISSING:
        return "_M"
    if isinstance(value, str):
        return ascii(value)
    if isinstance(value, (int, float)):
        problem = number_literal_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return str(int(value)) if isinstance(value, int) else repr(float(value))
    raise TypeError(f"not a literal: {type(value).__name__}")


class V:
    """A generated value: Python expression text plus what the generator knows about it.

    ``code`` is a local name, a literal or a side-effect-free display (``{...}``,
    ``[...]``); ``mm`` says it may be MISSING at run time; ``const`` is the value
    when known at compile time; ``isbool`` that it is certainly True or False;
    ``js`` that every number in it is already in the form orjson prints as
    ``JSON.stringify`` does (strings, booleans, displays of such values).
    """

    __slots__ = ("code", "mm", "const", "isbool", "js")

    def __init__(self, code: str, mm: bool = False, const: object = _NOCONST, isbool: bool = False, js: bool = False):
        self.code = code
        self.mm = mm
        self.const = const
        self.isbool = isbool
        # printed by orjson exactly as JSON.stringify prints it (see segmap.runtime.jsjson)
        self.js = js or isbool

    @property
    def is_const(self) -> bool:
        return self.const is not _NOCONST


def _const_v(value: object) -> V:
    # text, booleans, null and MISSING hold no number: already in their output form
    return V(lit(value), value is MISSING, value, isinstance(value, bool),
             js=value is None or value is MISSING or value.__class__ is str)


@dataclass
class _Emitter:
    lines: list[str] = field(default_factory=list)
    spans: list[Span | None] = field(default_factory=list)
    indent: int = 1

    def emit(self, code: str, span: Span | None = None) -> None:
        self.lines.append("    " * self.indent + code)
        self.spans.append(span)


# Marks where a call is built in a function's lines, filled in by `_FunctionGen.render`: a NUL, which
# generated code never holds otherwise (user text is written with ascii(), which escapes it).
_MARK = "\x00"
_MARKED = re.compile("\x00(\\w+)\x00")

_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod",
          "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_COMPARISONS = ("<", "<=", ">", ">=")


class _FunctionGen:
    """Generates one version (fast or general) of one event function."""

    def __init__(self, fn_name: str, event: str, calls: tuple[PlannedCall, ...], origins: dict[str, str],
                 funcs: Callable[[str], str],
                 *, fast: bool, general_name: str | None = None):
        self.fn_name = fn_name
        # each call made, (type, body, origin) as code; the lines hold a marker for it (see `render`)
        self.made: list[tuple[str, str, str]] = []
        # a local whose output form another local already holds (set on both branches where it is made)
        self.js_form: dict[str, str] = {}
        # fast version: envelope values passed into bodies as they are, each with the tests that show
        # js_value would not change it; all tested at once after the reads (else: the general version)
        self.passed: dict[str, list[str]] = {}
        self.event = event
        self.calls = calls
        self.origins = origins  # rule_id -> "file:line:col"
        self.funcs = funcs
        self.fast = fast
        self.general_name = general_name
        self.out = _Emitter()
        self.tmp = 0
        self.paths: dict[PathKey, str] = {}  # (root, keys...) -> local name (envelope paths only)
        self.path_mm: dict[PathKey, bool] = {}
        self.lambda_vars: list[dict[str, str]] = []
        self.path_names: set[str] = set()
        self.cse: list[dict[_Key, V | bool]] = [{}]  # a value computed, or True for a test already made
        self._folds: dict[int, object] = {}
        self.local_keys: dict[str, PathKey] = {}  # path local -> its path
        self.only_guarded = False  # the one call made has a `when:` (see generate)
        self.schema_types: dict[PathKey, Ty | None] = {}  # the schema's type of each path (fast version)

    def new(self, prefix: str = "_t") -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    @contextlib.contextmanager
    def block(self) -> Iterator[None]:
        """An indented block: values computed inside are not reused outside it."""
        self.out.indent += 1
        self.cse.append({})
        try:
            yield
        finally:
            self.cse.pop()
            self.out.indent -= 1

    # --- paths ------------------------------------------------------------
    def collect_paths(self) -> None:
        for key in envelope_paths(self.calls):
            self.paths[key] = self.new("_p")
        self.path_names = set(self.paths.values())
        self.local_keys = {var: key for key, var in self.paths.items()}

    def emit_path_block(self) -> None:
        if self.fast:
            self._emit_fast_paths()
        else:
            self._emit_general_paths()

    def _emit_general_paths(self) -> None:
        o = self.out
        for key, var in sorted(self.paths.items(), key=lambda kv: len(kv[0])):
            self.path_mm[key] = True
            if len(key) == 1:
                o.emit(f"{var} = env.get({lit(key[0])}, _M)")
                continue
            parent = self.paths[key[:-1]]
            k = key[-1]
            if type(k) is int:
                o.emit(f"{var} = _f.index({parent}, {k})")
            else:
                o.emit(f"{var} = {parent}.get({lit(k)}, _M) if {parent}.__class__ is dict else _M")

    def _emit_fast_paths(self) -> None:
        o = self.out
        self.schema_types = _schema_types(self.event, self.paths)
        optional = {key for key, ty in self.schema_types.items() if len(key) >= 2 and (ty is None or ty.optional)}
        o.emit("try:")
        o.indent += 1
        for key, var in sorted(self.paths.items(), key=lambda kv: len(kv[0])):
            if len(key) == 1:
                o.emit(f"{var} = env[{lit(key[0])}]")
                self.path_mm[key] = False
                continue
            parent = self.paths[key[:-1]]
            k = key[-1]
            if type(k) is int:  # a str parent would give a character: only lists are indexed
                o.emit(f"{var} = {parent}[{k}] if {parent}.__class__ is list else _M")
                self.path_mm[key] = True
            elif key in optional:  # absent in valid envelopes too: no reason to leave the fast path
                o.emit(f"{var} = {parent}.get({lit(k)}, _M)")
                self.path_mm[key] = True
            else:
                o.emit(f"{var} = {parent}[{lit(k)}]")
                self.path_mm[key] = False
        o.indent -= 1
        o.emit("except (KeyError, TypeError, IndexError, _AttributeError):")
        o.emit(f"    return {_MARK}general{_MARK}")

    # --- constant folding ---------------------------------------------------
    def fold(self, e: ast.Expr) -> object:
        """The value of ``e`` if it is a compile-time constant (computed by the run-time helpers), else _NOCONST."""
        k = id(e)
        if k not in self._folds:
            try:
                r = self._fold(e)
            except Exception:  # noqa: BLE001 - fails on every envelope: leave it to fail at run time, located
                r = _NOCONST
            if r is not _NOCONST and r is not MISSING and type(r) not in _SCALARS:
                r = _NOCONST
            self._folds[k] = r
        return self._folds[k]

    def _fold(self, e: ast.Expr) -> object:
        F = _rt
        if isinstance(e, ast.Literal):
            return e.value
        if isinstance(e, ast.Template):
            out = []
            for p in e.parts:
                if isinstance(p, str):
                    out.append(p)
                    continue
                v = self.fold(p)
                if v is _NOCONST:
                    return _NOCONST
                out.append(F.template_part(v))
            return "".join(out)
        if isinstance(e, ast.Unary):
            v = self.fold(e.operand)
            if v is _NOCONST:
                return _NOCONST
            return (not F.truth(v)) if e.op == "not" else F.neg(v)
        if isinstance(e, ast.Binary):
            op = e.op
            left = self.fold(e.left)
            if op == "??":
                if left is _NOCONST:
                    return _NOCONST
                return left if left is not None and left is not MISSING else self.fold(e.right)
            if op in ("and", "or"):
                if left is _NOCONST:
                    return _NOCONST
                t = F.truth(left)
                if (op == "and") != t:
                    return t
                right = self.fold(e.right)
                return _NOCONST if right is _NOCONST else F.truth(right)
            right = self.fold(e.right)
            if left is _NOCONST or right is _NOCONST:
                return _NOCONST
            if op in ("==", "!="):
                return _eq_const(e, left, right)
            return getattr(F, _ARITH[op])(left, right)
        if isinstance(e, ast.Cond):
            test = self.fold(e.test)
            if test is _NOCONST:
                return _NOCONST
            return self.fold(e.then if F.truth(test) else e.orelse)
        if isinstance(e, ast.Call) and e.func not in ("map", "filter"):
            args = [self.fold(a) for a in e.args]
            if any(a is _NOCONST for a in args):
                return _NOCONST
            return getattr(F, self.funcs(e.func))(*args)
        return _NOCONST

    # --- common sub-expressions ---------------------------------------------
    def key(self, e: ast.Expr) -> _Key | None:
        """A structural key (spans dropped, map() variables resolved), or None for what must not be shared."""
        if isinstance(e, ast.Literal):
            return ("L", repr(e.value))
        if isinstance(e, ast.Name):
            for scope in reversed(self.lambda_vars):
                if e.name in scope:
                    return ("V", scope[e.name])
            return ("N", e.name)
        if isinstance(e, (ast.ObjectLit, ast.ListLit, ast.Lambda)) or (isinstance(e, ast.Call) and e.func in ("map", "filter")):
            return None  # builds a fresh object each time
        parts: list[object] = [type(e).__name__]
        if isinstance(e, ast.Field):
            parts.append(e.name)
        elif isinstance(e, (ast.Unary, ast.Binary)):
            parts.append(e.op)
        elif isinstance(e, ast.Call):
            parts.append(e.func)
        elif isinstance(e, ast.Template):
            template_key = tuple(("s", p) if isinstance(p, str) else ("e", self.key(p)) for p in e.parts)
            parts.append(template_key)
            if any(k == ("e", None) for k in template_key):
                return None
        for ch in ast.children(e) if not isinstance(e, ast.Template) else ():
            k = self.key(ch)
            if k is None:
                return None
            parts.append(k)
        return tuple(parts)

    def _cse_get(self, key: _Key) -> V | None:
        """The value computed for ``key`` in this block or an enclosing one."""
        for scope in reversed(self.cse):
            if key in scope:
                hit = scope[key]
                return hit if isinstance(hit, V) else None
        return None

    def _cse_seen(self, key: _Key) -> bool:
        """``key`` was computed or tested in this block or an enclosing one."""
        return any(key in scope for scope in self.cse)

    # --- expressions -------------------------------------------------------
    def expr(self, e: ast.Expr) -> V:
        c = self.fold(e)
        if c is not _NOCONST:
            return _const_v(c)
        if isinstance(e, ast.Name) or isinstance(e, (ast.Field, ast.Index)):
            sp = static_path(e)
            if sp is not None:
                root, keys = sp
                if not any(root in scope for scope in self.lambda_vars) and (root,) + keys in self.paths:
                    k = (root,) + keys
                    c = self.paths[k]
                    # a value tested right after the reads is in its output form from there on
                    return V(c, self.path_mm[k], js=self.fast and c in self.passed)
        key = None
        if not isinstance(e, (ast.Literal, ast.Name, ast.ObjectLit, ast.ListLit)):
            key = self.key(e)
            if key is not None:
                hit = self._cse_get(key)
                if hit is not None:
                    return hit
        v: V = getattr(self, _method_name("_", type(e).__name__))(e)  # _Literal, _Binary ... for e's type
        if key is not None and v.code.isidentifier():
            self.cse[-1][key] = v
        return v

    def _assign(self, code: str, span: Span | None, mm: bool = False, isbool: bool = False, js: bool = False) -> V:
        t = self.new()
        self.out.emit(f"{t} = {code}", span)
        return V(t, mm, isbool=isbool, js=js)

    # --- output values: numbers printed as JavaScript prints them -----------
    def expr_out(self, e: ast.Expr, ty: Ty | None = None) -> V:
        """``e`` where its value becomes part of a call body: every number in it printable as
        ``JSON.stringify`` prints it (``segmap.runtime.jsjson``). Displays are built from
        output members; anything else passed through (an envelope value, a number from a
        helper) goes through ``js_value`` unless it needs no change (see ``to_js``); ``ty`` is
        the checker's type for ``e``."""
        base = ty.required() if ty is not None else None
        if isinstance(e, ast.ObjectLit) and self.fold(e) is _NOCONST:
            members = dict(base.args) if base is not None and base.kind == "object" else {}
            values = [(entry, self.expr_out(entry.value, members.get(entry.key))) for entry in e.entries]
            v = self._object(values, e.span, lambda entry: entry.key, lambda entry: entry.value.span)
            v.js = True
            return v
        if isinstance(e, ast.ListLit) and self.fold(e) is _NOCONST:
            item = base.args[0] if base is not None and base.kind == "list" and base.args else None
            return self._list([self.expr_out(x, item) for x in e.items])
        if isinstance(e, ast.Call) and e.func == "map":
            return self._map(e, out=True, ty=ty)
        return self.to_js(self.expr(e), ty)

    def to_js(self, v: V, ty: Ty | None = None) -> V:
        """``v`` in its JavaScript-printable form: ``js_value`` of it, inlined for the values that need
        no change. ``ty`` (the checker's type for the value) says which values to expect, so that
        those pass with an identity test and no call; anything else still goes through ``js_value``."""
        if v.js:
            return v
        if v.is_const:
            c = v.const
            if c.__class__ is float or c.__class__ is int:
                n = _jsjson.js_number(c)
                if n.__class__ is _jsjson.JSNumber:
                    return V(f"_JN({lit(float(n))})", False, js=True)
                return V(lit(n), False, n, js=True)
            return V(v.code, v.mm, v.const, v.isbool, js=True)
        v = self.name(v)
        c = v.code
        if c in self.js_form:
            return V(self.js_form[c], v.mm, js=True)
        if self.fast and ty is not None and c in self.path_names and _passes_as_is(ty):
            self.passed.setdefault(c, self._passed_tests(c, ty, v.mm))
            return V(c, v.mm, js=True)
        key = ("js", c)
        hit = self._cse_get(key)
        if hit is not None:
            return hit
        t = self.new()
        self.out.emit(f"{t} = {c} if {' or '.join(_unchanged_by_js_value(c, ty, v.mm))} else _jv({c})")
        out = V(t, v.mm, js=True)
        self.cse[-1][key] = out
        return out

    def name(self, v: V) -> V:
        """``v`` as a local name or a literal, never a display (``{} is None`` would be a SyntaxWarning)."""
        if v.code[:1] in ("{", "["):
            return self._assign(v.code, None, v.mm)
        return v

    def truth(self, v: V) -> str:
        """Code for the truth of ``v`` (``_f.truth``, inlined for the booleans)."""
        if v.isbool:
            return v.code
        x = self.name(v).code
        return f"({x} is True or ({x} is not False and _f.truth({x})))"

    def nullish(self, v: V) -> str:
        """Code testing for None or MISSING (``v`` is not a constant)."""
        v = self.name(v)
        return f"({v.code} is None or {v.code} is _M)" if v.mm else f"{v.code} is None"

    def _Literal(self, e: ast.Literal) -> V:  # pragma: no cover - folded
        return _const_v(e.value)

    def _Name(self, e: ast.Name) -> V:
        for scope in reversed(self.lambda_vars):
            if e.name in scope:
                return V(scope[e.name])  # a list item: never MISSING
        return V("_M", True, MISSING)  # pragma: no cover - the checker rejects unknown names

    def _Field(self, e: ast.Field) -> V:
        obj = self.expr(e.obj)
        if obj.is_const:
            return self._assign(f"_f.index({obj.code}, {lit(e.name)})", e.span, mm=True)
        o = obj.code
        return self._assign(f"{o}.get({lit(e.name)}, _M) if {o}.__class__ is dict else _M", e.span, mm=True)

    def _Index(self, e: ast.Index) -> V:
        obj = self.expr(e.obj)
        idx = self.expr(e.index)
        return self._assign(f"_f.index({obj.code}, {idx.code})", e.span, mm=True)

    def _Unary(self, e: ast.Unary) -> V:
        v = self.expr(e.operand)
        if e.op == "not":
            if v.isbool:
                return self._assign(f"not {v.code}", e.span, isbool=True)
            return self._assign(f"not _f.truth({v.code})", e.span, isbool=True)
        return self._assign(f"_f.neg({v.code})", e.span, mm=v.mm)

    def _Binary(self, e: ast.Binary) -> V:
        op = e.op
        o = self.out
        if op == "??":
            left = self.expr(e.left)
            if left.is_const:  # null or absent, or the whole thing would have folded
                return self.expr(e.right)
            t = self.new()
            head = len(o.lines)
            o.emit(f"{t} = {left.code}", e.span)
            o.emit(f"if {t} is None or {t} is _M:" if left.mm else f"if {t} is None:", e.span)
            with self.block():
                right = self.expr(e.right)
                one_line = len(o.lines) == head + 2 and not left.code.startswith(("{", "["))
                if not one_line:
                    o.emit(f"{t} = {right.code}", e.span)
            if one_line:  # nothing to compute for the right operand: one conditional expression
                del o.lines[head:], o.spans[head:]
                x = left.code
                test = f"{x} is None or {x} is _M" if left.mm else f"{x} is None"
                o.emit(f"{t} = {right.code} if {test} else {x}", e.span)
            return V(t, right.mm, js=left.js and right.js)
        if op in ("and", "or"):
            t = self.new()
            left = self.expr(e.left)
            if left.is_const and left.const.__class__ is bool:  # settled by the test after the reads
                if left.const is (op == "or"):
                    return left
                right = self.expr(e.right)
                return right if right.isbool else self._assign(self.truth(right), e.right.span, isbool=True)
            head = len(o.lines)
            o.emit(f"{t} = {self.truth(left)}", e.left.span)
            o.emit(f"if {'' if op == 'and' else 'not '}{t}:", e.span)
            with self.block():
                right = self.expr(e.right)
                if len(o.lines) == head + 2 and not right.code.startswith(("{", "[")):
                    # nothing to compute for the right operand: one line, still lazy (`and`/`or`)
                    del o.lines[head + 1:], o.spans[head + 1:]
                    o.lines[head] = f"{'    ' * (o.indent - 1)}{t} = {self.truth(left)} {op} {self.truth(right)}"
                    return V(t, isbool=True)
                o.emit(f"{t} = {self.truth(right)}", e.right.span)
            return V(t, isbool=True)
        left = self.expr(e.left)
        right = self.expr(e.right)
        if op in ("==", "!="):
            shortcut = literal_operand(e)
            if shortcut is not None:
                side, kind = shortcut
                a, b = (left, right) if side == 0 else (right, left)
                # a comparison with a literal cannot fail: an expression, computed where it is used
                if kind == "string":
                    return V(f"({a.code} {op} {b.code})", isbool=True)
                if not a.is_const and self._never_nullish(a.code):  # tested right after the reads
                    return _const_v(op == "!=")
                test = self.nullish(a)
                return V(f"({test})" if op == "==" else f"(not {test})", isbool=True)
            neg = "" if op == "==" else "not "
            return self._assign(f"{neg}_f.eq({left.code}, {right.code})", e.span, isbool=True)
        if op in _COMPARISONS:
            return self._assign(f"_f.{_ARITH[op]}({left.code}, {right.code})", e.span, isbool=True)
        if op in ("+", "-", "*"):
            v = self._int_arith(e, left, right)
            if v is not None:
                return v
        return self._assign(f"_f.{_ARITH[op]}({left.code}, {right.code})", e.span, mm=left.mm or right.mm)

    def _int_arith(self, e: ast.Binary, left: V, right: V) -> V | None:
        """``a + b``, ``a - b``, ``a * b`` of two ints below 2**53 inlined: Python's exact result, made
        the nearest double when it is 2**53 or more, which is what the helpers (``add``, ``sub``, ``mul``)
        do with such ints (one rounding of the exact result is IEEE arithmetic's); the helper for every
        other input. None where an operand is a constant that is not such an int."""
        tests = []
        for v in (left, right):
            if v.is_const:
                if v.const.__class__ is not int or not -_TWO53 < v.const < _TWO53:
                    return None
            else:
                tests.append(f"{v.code}.__class__ is int and {_within(v.code, _TWO53)}")
        if not tests:
            return None
        a, b = self.name(left).code, self.name(right).code
        o = self.out
        t = self.new()
        o.emit(f"if {' and '.join(tests)}:", e.span)
        o.emit(f"    {t} = {a} {e.op} {b}")
        o.emit(f"    if not {_within(t, _TWO53)}:")
        o.emit(f"        {t} = float({t})")
        o.emit("else:")
        o.emit(f"    {t} = _f.{_ARITH[e.op]}({a}, {b})", e.span)
        return V(t, left.mm or right.mm)

    def _Cond(self, e: ast.Cond) -> V:
        o = self.out
        t = self.new()
        test = self.expr(e.test)
        if test.is_const:  # the test folds but a branch does not: only the branch taken exists
            try:
                taken = e.then if _rt.truth(test.const) else e.orelse
            except MappingRuntimeError:
                taken = None
            if taken is not None:
                return self.expr(taken)
        o.emit(f"if {self.truth(test)}:", e.test.span)
        with self.block():
            then = self.expr(e.then)
            o.emit(f"{t} = {then.code}", e.then.span)
        o.emit("else:")
        with self.block():
            orelse = self.expr(e.orelse)
            o.emit(f"{t} = {orelse.code}", e.orelse.span)
        return V(t, then.mm or orelse.mm, isbool=then.isbool and orelse.isbool, js=then.js and orelse.js)

    def _Template(self, e: ast.Template) -> V:
        parts: list[tuple[str, str]] = []  # ("text", literal text) or ("code", code)
        codes: list[tuple[bool, str]] = []
        for p in e.parts:
            if isinstance(p, str):
                codes.append((True, p))
                continue
            v = self.expr(p)
            if v.is_const:
                try:
                    codes.append((True, _rt.template_part(v.const)))
                    continue
                except MappingRuntimeError:
                    pass
            x = v.code
            t = self._assign(f"{x} if {x}.__class__ is str else _f.template_part({x})", p.span)
            codes.append((False, t.code))
        # merge adjacent text
        for is_text, c in codes:
            if is_text and parts and parts[-1][0] == "text":
                parts[-1] = ("text", parts[-1][1] + c)
            else:
                parts.append(("text", c) if is_text else ("code", c))
        pieces = [lit(c) if kind == "text" else c for kind, c in parts if not (kind == "text" and c == "")]
        if not pieces:
            return _const_v("")
        if len(pieces) == 1 and parts[0][0] == "code":
            return V(pieces[0], js=True)
        return self._assign(" + ".join(pieces), e.span, js=True)

    def _ObjectLit(self, e: ast.ObjectLit) -> V:
        values = [(entry, self.expr(entry.value)) for entry in e.entries]
        return self._object(values, e.span, lambda entry: entry.key, lambda entry: entry.value.span)

    def _object(self, values: Sequence[tuple[_X, V]], span: Span, key_of: Callable[[_X], str],
                span_of: Callable[[_X], Span]) -> V:
        """A dict display; entries that may be MISSING are deleted after it is built (keeping key order)."""
        kept = [(x, v) for x, v in values if not (v.is_const and v.const is MISSING)]
        kept = _js_property_order(kept, key_of)
        inner = ", ".join(f"{lit(key_of(x))}: {v.code}" for x, v in kept)
        display = "{" + inner + "}"
        maybe = [(x, v) for x, v in kept if v.mm]
        if not maybe:
            return V(display)
        t = self._assign(display, span)
        for x, v in maybe:
            self.out.emit(f"if {v.code} is _M: del {t.code}[{lit(key_of(x))}]", span_of(x))
        return t

    def _ListLit(self, e: ast.ListLit) -> V:
        return self._list([self.expr(item) for item in e.items])

    def _list(self, values: list[V]) -> V:
        items = []
        for v in values:
            if v.is_const and v.const is MISSING:
                items.append("None")
            elif v.mm:
                items.append(f"(None if {v.code} is _M else {v.code})")
            else:
                items.append(v.code)
        return V("[" + ", ".join(items) + "]", js=all(v.js for v in values))

    def _Lambda(self, e: ast.Lambda) -> V:  # pragma: no cover - rejected by the checker
        raise AssertionError("lambda outside map()")

    def _Call(self, e: ast.Call) -> V:
        if e.func == "map":
            return self._map(e)
        if e.func == "filter":
            return self._filter(e)
        special = getattr(self, _method_name("_call_", e.func), None)
        if special is not None:
            v: V | None = special(e)  # an inlined form (_call_fixed ...), None where it does not apply
            if v is not None:
                return v
        args = [self.expr(a) for a in e.args]
        return self._generic_call(e, args)

    def _generic_call(self, e: ast.Call, args: list[V]) -> V:
        from segmap.compiler.functions import FUNCTIONS

        return self._assign(f"_f.{self.funcs(e.func)}({', '.join(a.code for a in args)})", e.span,
                            mm=any(a.mm for a in args) or FUNCTIONS[e.func].makes_missing,
                            js=e.func in _TEXT_FUNCTIONS)

    # --- inlined helpers (each exactly the helper; the helper stays for the other inputs) ---
    def _text_or_empty(self, c: str) -> bool:
        """Whether local ``c`` is certainly text, null or MISSING here (tested right after the reads):
        then its truth is that of ``fallback``'s test (MISSING, None and "" are false)."""
        tests = self.passed.get(c)
        return tests is not None and all(t in (f"{c}.__class__ is str", f"{c} is None", f"{c} is _M") for t in tests)

    def _call_fallback(self, e: ast.Call) -> V | None:
        x, d = (self.expr(a) for a in e.args)
        if x.is_const:
            return d if x.const is None or x.const is MISSING or x.const == "" else x
        x = self.name(x)
        c = x.code
        if self._text_or_empty(c):
            return self._assign(f"{c} or {d.code}", e.span, mm=d.mm, js=x.js and d.js)
        # a truthy value is never null, absent or "": one truth test on the common path
        test = f"{c} is None or {c} is _M or {c} == ''" if x.mm else f"{c} is None or {c} == ''"
        return self._assign(f"{d.code} if not {c} and ({test}) else {c}", e.span, mm=d.mm, js=x.js and d.js)

    def _call_coalesce(self, e: ast.Call) -> V | None:
        args = [self.expr(a) for a in e.args]
        args = [a if a is args[-1] else self.name(a) for a in args]
        chain: list[V] = []
        for a in args:
            if a.is_const and (a.const is None or a.const is MISSING):
                continue
            chain.append(a)
            if a.is_const:
                break
        else:
            if not chain or args[-1] is not chain[-1]:
                chain.append(args[-1])  # all null or absent: the last value, as the helper returns
        code = chain[-1].code
        for a in reversed(chain[:-1]):
            test = f"{a.code} is not None and {a.code} is not _M" if a.mm else f"{a.code} is not None"
            code = f"{a.code} if {test} else ({code})"
        if len(chain) == 1:
            return chain[0]
        return self._assign(code, e.span, mm=chain[-1].mm, js=all(a.js for a in chain))

    def _call_string(self, e: ast.Call) -> V | None:
        (x,) = (self.expr(a) for a in e.args)
        if x.is_const:  # a constant inside what does not fold (`string(coalesce(0, data.x))`): the helper
            return None  # (`0.__class__` would not even parse)
        x = self.name(x)
        return self._assign(f"{x.code} if {x.code}.__class__ is str else _f.string({x.code})", e.span, mm=x.mm,
                            js=True)

    def _call_to_major(self, e: ast.Call) -> V | None:
        """``to_major(n, c)`` for an integer ``|n| < 2**53`` and a known currency code: ``n // d`` when
        ``d = 10**e`` divides ``n``, else ``n / d``, exactly the helper's result (which it keeps for
        every other input). The helper divides and makes a whole quotient an int; the remainder
        says the same without the ``int()`` call, because for ``|n| < 2**53`` and ``d`` in 1, 100,
        1000 a quotient with a remainder is at least ``1/d`` from the nearest integer while the
        double is within half a unit in the last place of it, less than ``1/d`` at that size
        (``tests/perf_semantics`` checks the edges)."""
        if len(e.args) != 2:
            return None
        n, cur = (self.expr(a) for a in e.args)
        if n.is_const or cur.is_const:
            return None
        n, cur = self.name(n), self.name(cur)
        a, c = n.code, cur.code
        o = self.out
        t = self.new()
        d = self.new()
        js = self.new()
        if self._known_str(c):  # text is hashable: the table's get() cannot fail
            hit = self._cse_get(("divisor", c))
            if hit is not None:
                d = hit.code
            else:
                o.emit(f"{d} = _DIV.get({c})", e.span)
                self.cse[-1][("divisor", c)] = V(d)
            o.emit(f"if {a}.__class__ is int and {d} is not None and {_within(a, _TWO53)}:", e.span)
        else:
            o.emit(f"if {a}.__class__ is int and {c}.__class__ is str and {c} in _DIV "
                   f"and {_within(a, _TWO53)}:", e.span)
            o.emit(f"    {d} = _DIV[{c}]")
        o.emit(f"    {t} = {a} / {d} if {a} % {d} else {a} // {d}", e.span)
        o.emit(f"    {js} = {t}")  # |t| < 2**53, an int when whole, never below 1e-3: printed alike
        o.emit("else:")
        o.emit(f"    {t} = _f.{self.funcs('to_major')}({a}, {c})", e.span)
        o.emit(f"    {js} = _jv({t})")
        self.js_form[t] = js
        return V(t, n.mm or cur.mm)

    def _call_number(self, e: ast.Call) -> V | None:
        """``number(s)`` for ASCII digits only, at most 15 of them: ``int(s)``, exactly the helper's
        result (below 10**15 the double is exact and whole, so the helper gives that int) and already
        in its output form; the helper for everything else (signs, points, exponents, whitespace,
        other scripts' digits, which ``int`` would accept and ``Number()`` does not)."""
        if len(e.args) != 1:
            return None
        x = self.expr(e.args[0])
        if x.is_const:
            return None
        x = self.name(x)
        c = x.code
        o = self.out
        t = self.new()
        js = self.new()
        test = f"{c}.isdigit() and {c}.isascii() and len({c}) < 16"
        if not self._known_str(c):
            test = f"{c}.__class__ is str and {test}"
        o.emit(f"if {test}:", e.span)
        o.emit(f"    {t} = int({c})", e.span)
        o.emit(f"    {js} = {t}")
        o.emit("else:")
        o.emit(f"    {t} = _f.{self.funcs('number')}({c})", e.span)
        o.emit(f"    {js} = {t} if {' or '.join(_unchanged_by_js_value(t, _NUMBER, x.mm))} else _jv({t})")
        self.js_form[t] = js
        return V(t, x.mm)

    def _passed_tests(self, c: str, ty: Ty, mm: bool) -> list[str]:
        """The tests of envelope value ``c`` passed as it is where the checker types it ``ty``, made right
        after the reads. They let null and absence through wherever the schema allows them, even where
        the checker has ruled them out (inside a call's ``when: data.x != null``): the test comes
        before the ``when``, and an envelope the ``when`` skips must not leave the fast path for it."""
        key = self.local_keys[c]
        schema = self.schema_types.get(key)
        nullable = ty.nullable or schema is None or schema.nullable
        optional = ty.optional or schema is None or schema.optional
        return _unchanged_by_js_value(c, ty.with_flags(nullable=nullable, optional=optional), mm)

    def _known_str(self, c: str) -> bool:
        """Whether local ``c`` is certainly text here: a value the fast version tests with the others
        right after the reads, where text is all the test lets through."""
        return self.passed.get(c) == [f"{c}.__class__ is str"]

    def _never_nullish(self, c: str) -> bool:
        """Whether local ``c`` is certainly neither null nor absent here: a value the fast version
        tests with the others right after the reads, with a test that lets neither through."""
        tests = self.passed.get(c)
        return tests is not None and f"{c} is None" not in tests and f"{c} is _M" not in tests

    def _call_fixed(self, e: ast.Call) -> V | None:
        if len(e.args) != 2:
            return None
        digits = self.fold(e.args[1])
        if type(digits) is not int or not 0 <= digits <= 100:
            return None
        inner = e.args[0]
        if (isinstance(inner, ast.Binary) and inner.op == "/" and self.fold(inner) is _NOCONST
                and not self._cse_seen(self.key(inner) or ("nothing",))):
            c = self.fold(inner.right)
            j = _power_of_ten(c)
            bound = (2**52) // 10**digits
            if j is not None and j <= digits and bound >= 1:
                # n / 10**j for an integer |n| < 2**52 / 10**digits is correctly rounded and never
                # exactly halfway between two results with `digits` decimals, so printf's rounding
                # (half even) and toFixed's (half up) agree; the helpers handle every other input.
                n = self.expr(inner.left)
                if not n.is_const:
                    o = self.out
                    t = self.new()
                    # two plain comparisons: cheaper than the chained `-b < n < b` in CPython 3.11
                    o.emit(f"if {n.code}.__class__ is int and {_within(n.code, bound)}:", e.span)
                    o.emit(f"    {t} = '%.{digits}f' % ({n.code} / {c})", e.span)
                    o.emit("else:")
                    with self.block():
                        q = self.expr(inner)
                        o.emit(f"{t} = _f.fixed({q.code}, {digits})", e.span)
                    return V(t, n.mm, js=True)
        x = self.expr(inner)
        if x.is_const:
            return None
        d = self.expr(e.args[1])
        tail = f" + {lit('.' + '0' * digits)}" if digits else ""
        c = x.code
        return self._assign(f"str({c}){tail} if {c}.__class__ is int and {_within(c, _TWO53)} "
                            f"else _f.fixed({c}, {d.code})", e.span, mm=x.mm, js=True)

    def _map(self, e: ast.Call, out: bool = False, ty: Ty | None = None) -> V:
        o = self.out
        seq_expr, lam = e.args
        assert isinstance(lam, ast.Lambda)  # the checker accepts only a lambda here
        seq = self.expr(seq_expr)
        t = self.new()
        item = self.new("_l")
        o.emit(f"{t} = {seq.code}", e.span)
        o.emit(f"if {t}.__class__ is list:", e.span)
        with self.block():
            acc = self.new()
            o.emit(f"{acc} = []")
            o.emit(f"for {item} in {t}:")
            with self.block():
                self.lambda_vars.append({lam.param: item})
                base = ty.required() if ty is not None else None
                item_ty = base.args[0] if base is not None and base.kind == "list" and base.args else None
                body = self.expr_out(lam.body, item_ty) if out else self.expr(lam.body)
                self.lambda_vars.pop()
                if body.is_const and body.const is MISSING:
                    o.emit(f"{acc}.append(None)", lam.body.span)
                elif body.mm:
                    o.emit(f"{acc}.append(None if {body.code} is _M else {body.code})", lam.body.span)
                else:
                    o.emit(f"{acc}.append({body.code})", lam.body.span)
            o.emit(f"{t} = {acc}")
        o.emit(f"elif {t} is not None{' and ' + t + ' is not _M' if seq.mm else ''}:", e.span)
        o.emit(f"    raise _Err('map() needs a list, got ' + _f.type_name({t}))", seq_expr.span)
        return V(t, seq.mm, js=out)

    def _filter(self, e: ast.Call) -> V:
        """``filter(list, x => cond)``: a loop keeping the items whose condition is true."""
        o = self.out
        seq_expr, lam = e.args
        assert isinstance(lam, ast.Lambda)  # the checker accepts only a lambda here
        seq = self.expr(seq_expr)
        t = self.new()
        item = self.new("_l")
        o.emit(f"{t} = {seq.code}", e.span)
        o.emit(f"if {t}.__class__ is list:", e.span)
        with self.block():
            acc = self.new()
            o.emit(f"{acc} = []")
            o.emit(f"for {item} in {t}:")
            with self.block():
                self.lambda_vars.append({lam.param: item})
                cond = self.expr(lam.body)
                self.lambda_vars.pop()
                o.emit(f"if {self.truth(cond)}:", lam.body.span)
                o.emit(f"    {acc}.append({item})")
            o.emit(f"{t} = {acc}")
        o.emit(f"elif {t} is not None{' and ' + t + ' is not _M' if seq.mm else ''}:", e.span)
        o.emit(f"    raise _Err('filter() needs a list, got ' + _f.type_name({t}))", seq_expr.span)
        return V(t, seq.mm)

    # --- calls -------------------------------------------------------------
    def generate(self) -> str:
        o = self.out
        if self.paths:
            self.emit_path_block()
        tests_at = len(o.lines)
        if self.fast:
            self._prescan_passed()
        states = [self._guard_state(pc) for pc in self.calls]
        guarded = "guarded" in states
        # the only call made has a `when:`: returned from inside its block, no list to append to
        self.only_guarded = guarded and len(states) - states.count("never") == 1
        pending: list[tuple[str, Span]] = []
        if guarded and not self.only_guarded:
            o.emit("calls = []")
        for pc in self.calls:
            code = self._call(pc)
            if code is None:
                continue
            if guarded:
                o.emit(f"calls.append({code[0]})", code[1])
            else:
                pending.append(code)
        if self.only_guarded:
            o.emit("return []")
        elif guarded:
            o.emit("return calls")
        else:
            o.emit("return [" + ", ".join(c for c, _ in pending) + "]", pending[0][1] if pending else None)
        if self.passed:  # one test of every value passed through as it is; an odd one: the general version
            alternatives = [" or ".join(t) for t in self.passed.values()]
            conds = [f"({a})" if " or " in a else a for a in alternatives]
            o.lines[tests_at:tests_at] = ["    if not (" + " and ".join(conds) + "):", f"        return {_MARK}general{_MARK}"]
            o.spans[tests_at:tests_at] = [None, None]
        return "\n".join([f"def {self.fn_name}(env):"] + o.lines)

    def _prescan_passed(self) -> None:
        """Record, before any code is generated, the envelope values the calls will pass into their
        bodies as they are (what ``to_js`` will find, in the same order), so that code generated
        before a value's own field already knows what the test after the reads lets through
        (``_known_str``, ``_never_nullish``). Everything recorded is tested there."""
        def walk(e: ast.Expr, ty: Ty | None) -> None:
            base = ty.required() if ty is not None else None
            if isinstance(e, ast.ObjectLit) and self.fold(e) is _NOCONST:
                members = dict(base.args) if base is not None and base.kind == "object" else {}
                for entry in e.entries:
                    walk(entry.value, members.get(entry.key))
            elif isinstance(e, ast.ListLit) and self.fold(e) is _NOCONST:
                item = base.args[0] if base is not None and base.kind == "list" and base.args else None
                for x in e.items:
                    walk(x, item)
            elif ty is not None and _passes_as_is(ty):
                sp = static_path(e)
                key = (sp[0],) + sp[1] if sp is not None else None
                if key is not None and key in self.paths:
                    c = self.paths[key]
                    self.passed.setdefault(c, self._passed_tests(c, ty, self.path_mm[key]))

        for pc in self.calls:
            if self._guard_state(pc) != "never":
                for f in pc.fields:
                    walk(f.value, f.ty)

    def render(self, json: bool) -> list[str]:
        """The function's lines with its calls built as ``Call`` objects (``apply``), or as the
        ``{"call": ..., "body": ...}`` dicts ``apply_json_bytes`` serialises (its JSON twin, which
        hands an unusual envelope to the general function and converts what that returns). One
        generation, two renderings: the twin's lines are the function's, line for line."""
        def made(m: re.Match[str]) -> str:
            if m.group(1) == "general":
                return f"_json_calls({self.general_name}(env))" if json else f"{self.general_name}(env)"
            kind, body, origin = self.made[int(m.group(1))]
            return f"{{'call': {kind}, 'body': {body}}}" if json else f"_new(_Call, ({kind}, {body}, {origin}))"

        return [_MARKED.sub(made, line) if _MARK in line else line for line in self.out.lines]

    def _guard_state(self, pc: PlannedCall) -> str:
        w = pc.spec.when
        if w is None:
            return "always"
        c = self.fold(w)
        if c is _NOCONST:
            return "guarded"
        try:
            return "always" if _rt.truth(c) else "never"
        except MappingRuntimeError:
            return "guarded"

    def _call(self, pc: PlannedCall) -> tuple[str, Span] | None:
        """Emit one call's statements; return (code building the Call, span) when it is made unconditionally."""
        o = self.out
        spec = pc.spec
        state = self._guard_state(pc)
        if state == "never":
            return None
        ctx: ContextManager[None] = contextlib.nullcontext()
        if state == "guarded":
            assert spec.when is not None  # "guarded": a `when:` that does not fold to a constant
            w = self.expr(spec.when)
            o.emit(f"if {self.truth(w)}:", spec.when.span)
            ctx = self.block()
        with ctx:
            values = []
            raw = []  # the values as computed, for the checks (the output forms print them)
            for f in pc.fields:
                if isinstance(f.value, (ast.ObjectLit, ast.ListLit)) or (
                        isinstance(f.value, ast.Call) and f.value.func == "map"):
                    r = v = self.expr_out(f.value, f.ty)
                    if f.name in OBJECT_FIELDS and not isinstance(f.value, ast.ObjectLit):
                        self._object_check(f, r)
                else:
                    r = self.expr(f.value)
                    if f.name in OBJECT_FIELDS:
                        self._object_check(f, r)
                    v = self.to_js(r, f.ty)
                values.append((f, v))
                raw.append((f, r))
            body = self._object(values, spec.span, lambda f: f.name, lambda f: f.value.span)
            self._runtime_requirements(pc, raw)
            self.made.append((lit(spec.kind), body.code, lit(self.origins[spec.rule_id])))
            code = f"{_MARK}{len(self.made) - 1}{_MARK}"
            if state == "guarded":
                o.emit(f"return [{code}]" if self.only_guarded else f"calls.append({code})", spec.span)
                return None
        return code, spec.span

    def _object_check(self, f: PlannedField, v: V) -> None:
        o = self.out
        msg = lit(f.name + " must be an object, got ")
        if v.is_const:
            if v.const is not None and v.const is not MISSING:
                o.emit(f"raise _Err({lit(f.name + ' must be an object, got ' + _rt.type_name(v.const))})",
                       f.value.span)
            return
        v = self.name(v)
        cond = f"{v.code} is not None and {v.code}.__class__ is not dict"
        if v.mm:
            cond = f"{v.code} is not _M and " + cond
        o.emit(f"if {cond}:", f.value.span)
        o.emit(f"    raise _Err({msg} + _f.type_name({v.code}))", f.value.span)

    def _runtime_requirements(self, pc: PlannedCall, values: list[tuple[PlannedField, V]]) -> None:
        """Fail loudly rather than send Segment a call it will drop."""
        o = self.out
        value_of = {f.name: v for f, v in values}
        for check in pc.identity_checks():
            conds = []
            satisfied = False
            for v in (value_of[f.name] for f in check.present):
                if v.is_const:
                    if v.const is not None and v.const is not MISSING:
                        satisfied = True
                    continue  # null or absent: that alternative is always missing
                if self._never_nullish(v.code):
                    satisfied = True  # tested right after the reads: neither null nor absent here
                    continue
                conds.append(self.nullish(v))
            if satisfied:
                continue
            message = f"raise _Err({lit(check.message)})"
            span = check.span
            if not conds:
                o.emit(message, span)
                continue
            cond = conds[0] if len(conds) == 1 else " and ".join(f"({c})" for c in conds)
            if self._cse_seen(("required", cond)):
                continue  # the same test passed already (an earlier call had the same identity)
            self.cse[-1][("required", cond)] = True
            o.emit(f"if {cond}:", span)
            o.emit(f"    {message}", span)


def _passes_as_is(ty: Ty) -> bool:
    """Whether a valid envelope's value of this type is one js_value returns unchanged (text, a boolean,
    an integer, null): the fast version then tests it with the others and passes it as it is."""
    base = ty.required()
    return base.is_stringy or base.kind in ("bool", "int")


def _unchanged_by_js_value(c: str, ty: Ty | None, mm: bool) -> list[str]:
    """Tests (or-ed) for values of local ``c`` that ``js_value`` returns unchanged, the expected kind
    first: text, booleans, integers JavaScript holds exactly, null (when the type allows it), MISSING
    (when ``c`` may hold it). A value that passes none of them goes through ``js_value``."""
    base = ty.required() if ty is not None else None
    if base is not None and base.kind == "bool":
        tests = [f"{c} is True or {c} is False"]
    elif base is not None and base.kind == "int":
        tests = [f"({c}.__class__ is int and {_within(c, _TWO53)})"]
    elif base is not None and base.is_numeric:  # an int as above, or a float with a fraction that
        # JavaScript prints positionally as orjson does (js_number keeps those)
        tests = [f"({c}.__class__ is int and {_within(c, _TWO53)})",
                 f"({c}.__class__ is float and (1e-05 <= {c} < {float(_TWO53)!r} or {-float(_TWO53)!r} < {c} <= -1e-05)"
                 f" and {c} % 1.0 != 0.0)"]
    else:
        tests = [f"{c}.__class__ is str"]
    if ty is not None and ty.nullable:
        tests.append(f"{c} is None")
    if mm and ty is not None and ty.optional:
        tests.append(f"{c} is _M")
    return tests


def _js_property_order(items: list[tuple[_X, V]], key_of: Callable[[_X], str]) -> list[tuple[_X, V]]:
    """Entries in the order JavaScript enumerates an object's keys: integer-like keys
    ("0", "42") first, ascending, then the others as written. The values were already
    computed in the order written; only the display is reordered."""
    def index(k: str) -> int | None:
        if k[:1].isdigit() and k.isascii() and k.isdigit() and (k == "0" or k[0] != "0") and int(k) < 4294967295:
            return int(k)
        return None

    numbered = [(index(key_of(x)), x, v) for x, v in items]
    if all(i is None for i, _, _ in numbered):
        return items
    first = sorted(((i, x, v) for i, x, v in numbered if i is not None), key=lambda t: t[0])
    return [(x, v) for _, x, v in first] + [(x, v) for i, x, v in numbered if i is None]


def _eq_const(e: ast.Binary, left: object, right: object) -> bool:
    """``==``/``!=`` on constants, exactly as the generated code does it at run time."""
    shortcut = literal_operand(e)
    if shortcut is not None:
        side, kind = shortcut
        a, b = (left, right) if side == 0 else (right, left)
        if kind == "string":
            return (a == b) if e.op == "==" else (a != b)
        r = a is None or a is MISSING
        return r if e.op == "==" else not r
    r = _rt.eq(left, right)
    return r if e.op == "==" else not r


def _power_of_ten(c: object) -> int | None:
    if type(c) is not int or c < 1:
        return None
    j = 0
    while c % 10 == 0:
        c //= 10
        j += 1
    return j if c == 1 else None


def _schema_types(event: str, paths: Iterable[PathKey]) -> dict[PathKey, Ty | None]:
    """The Dodo schema's type of each path for ``event`` (None where the schema does not say)."""
    from segmap.compiler import types as T

    out: dict[PathKey, Ty | None] = {}
    root_types = dict(T.envelope_type(event).args)
    for key in paths:
        ty = root_types.get(key[0]) if isinstance(key[0], str) else None  # the root is a name
        for k in key[1:]:
            if ty is None:
                break
            base = ty.required()
            if isinstance(k, int):  # never a bool: static_path takes int literals only
                ty = base.args[0] if base.kind == "list" else None
                continue
            if base.kind == "model":
                ty = T.model_fields(base.name).get(k)
            elif base.kind == "object":
                ty = dict(base.args).get(k)
            else:
                ty = None
        out[key] = ty
    return out


def _optional_keys(event: str, paths: Iterable[PathKey]) -> set[PathKey]:
    """Paths whose last key the Dodo schema lets be absent (read with ``.get`` on the fast path)."""
    return {key for key, ty in _schema_types(event, paths).items() if len(key) >= 2 and (ty is None or ty.optional)}


@dataclass
class GeneratedModule:
    source: str  # the whole module, as shown to people, in tracebacks and by `segmap export python`
    line_spans: dict[int, Span]  # generated line number -> mapping span (also in the source, as LINE_MAP)
    # ``source`` with each general (cold-path) function reduced to a stub calling
    # ``_lazy(name, env)``; same line numbers. ``lazy`` maps such a name to
    # (first line, its source) so it can be compiled the first time it is needed.
    exec_source: str = ""
    lazy: dict[str, tuple[int, str]] = field(default_factory=dict)


_HEADER = """\
# Generated by segmap {version} from {file}. Do not edit: regenerate from the mapping file.
# User text appears only as escaped string literals; identifiers are generated.
from segmap.runtime.values import MISSING as _M
from segmap.runtime import functions as _f
from segmap.runtime.calls import Call as _Call
from segmap.runtime.values import MappingRuntimeError as _Err
from segmap.runtime.calls import tuple_new as _new, json_calls as _json_calls
from segmap.runtime.jsjson import js_value as _jv, JSNumber as _JN
from segmap.runtime.currency import DIVISORS as _DIV
from builtins import AttributeError as _AttributeError
# _eN(env) is event N's fast path; on an unusual envelope it hands over to _gN(env), the general one.
# _jN(env) is _eN building the call/body dicts apply_json_bytes serialises instead of Calls."""

_ENTRY = """\
# apply(envelope), apply_json(text) and apply_json_bytes(text): see segmap.runtime.entry
from segmap.runtime.entry import bind as _bind
apply, apply_json, apply_json_bytes = _bind(globals())"""


class _ModuleWriter:
    """The module's lines, and the mapping span of each, recorded as the line is written
    (as jinja2's CodeGenerator keeps its ``debug_info``): no search afterwards."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.spans: dict[int, Span] = {}

    @property
    def next_line(self) -> int:
        return len(self.lines) + 1

    def write(self, text: str) -> None:
        self.lines.extend(text.split("\n"))

    def function(self, head: str, body: list[str], spans: list[Span | None]) -> int:
        """Write ``def head`` and its body lines (each with its span); the first line's number."""
        first = self.next_line
        self.lines.append(head)
        for code, span in zip(body, spans):
            if span is not None:
                self.spans[self.next_line] = span
            self.lines.append(code)
        return first


def generate(plan: Plan, file: str, version: str, func_name_of: Callable[[str], str], *,
             entry: bool = False) -> GeneratedModule:
    """The module for a checked plan; ``entry=True`` adds ``apply``/``apply_json``/``apply_json_bytes``
    bound from ``segmap.runtime.entry`` (for ``segmap export python``; ``compile_source`` binds them itself)."""
    origin_of: dict[str, str] = {}
    for calls in plan.calls.values():
        for pc in calls:
            if pc.spec.rule_id not in origin_of:
                s = pc.spec.span
                origin_of[pc.spec.rule_id] = f"{s.file}:{s.line}:{s.col}"
    w = _ModuleWriter()
    w.write(_HEADER.format(version=version, file=ascii(file)[1:-1]))
    exec_lines: dict[int, list[str]] = {}  # first line of a general function -> its stub lines
    lazy: dict[str, tuple[int, str]] = {}
    dispatch: list[tuple[str, int]] = []  # (event literal, the number of its functions)
    by_rule: dict[int, int] = {}  # events that share a rule share one function
    for i, (event, calls) in enumerate(plan.calls.items()):
        rule = plan.rule_of[event]
        if id(rule) in by_rule and plan.shares_function(event):
            dispatch.append((lit(event), by_rule[id(rule)]))
            continue
        name = f"_e{i}"
        folds: dict[int, object] = {}
        general = _FunctionGen(f"_g{i}", event, calls, origin_of, func_name_of, fast=False)
        general._folds = folds
        general.collect_paths()
        if general.paths:
            fast = _FunctionGen(name, event, calls, origin_of, func_name_of, fast=True, general_name=f"_g{i}")
            fast._folds = folds
            fast.collect_paths()
            gens = [fast, general]
        else:  # reads nothing from the envelope: one version is all there is
            fast = _FunctionGen(name, event, calls, origin_of, func_name_of, fast=False)
            gens = [fast]
        # each function, then the JSON twin of the one apply runs (_jN: its lines, calls as dicts);
        # the general function and the twin are compiled the first time one is needed
        versions = [(gen.fn_name, gen, False, gen is general) for gen in gens] + [(f"_j{i}", fast, True, True)]
        for fn_name, gen, json, deferred in versions:
            if fn_name != f"_j{i}":
                gen.generate()
            lines = gen.render(json)
            w.write("\n")
            first = w.function(f"def {fn_name}(env):", lines, gen.out.spans)
            if deferred:
                lazy[fn_name] = (first, "\n".join([f"def {fn_name}(env):"] + lines))
                exec_lines[first] = [f"    return _lazy({fn_name!r}, env)"] + [""] * (len(lines) - 1)
        by_rule.setdefault(id(rule), i)
        dispatch.append((lit(event), i))
    w.write("\n\nDISPATCH = {")
    for ev, n in dispatch:
        w.write(f"    {ev}: _e{n},")
    w.write("}")
    w.write("JSON_DISPATCH = {")
    for ev, n in dispatch:
        w.write(f"    {ev}: _j{n},")
    w.write("}")
    # The line map, in the module itself: generated line = mapping line:column (in FILE).
    line_map = " ".join(f"{n}={sp.line}:{sp.col}" for n, sp in w.spans.items())
    w.write(f"FILE = {ascii(file)}")
    w.write(f"LINE_MAP = {line_map!r}")
    if entry:
        w.write(_ENTRY)
    source = "\n".join(w.lines) + "\n"
    stubbed = list(w.lines)
    for first, stub in exec_lines.items():
        stubbed[first:first + len(stub)] = stub
    return GeneratedModule(source, w.spans, "\n".join(stubbed) + "\n", lazy)
