"""Checked plan -> Python source -> one compiled module.

The generated code is flat: one function per event type, every envelope
path read once into a local (a fast subscript block with a safe fallback),
values built as dict literals, and run-time helpers called only where an
operation can fail or needs JavaScript semantics. Each emitted line is
recorded with the mapping span it came from, so a failure at run time is
reported at the mapping's file:line:col (jinja2 does the same with its
templates).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from segmap.compiler.checker import Plan, PlannedCall
from segmap.diagnostics.model import Span
from segmap.dsl import ast
from segmap.dsl.segment_fields import OBJECT_FIELDS

ENVELOPE_ROOTS = ("business_id", "type", "timestamp", "data")


def lit(value) -> str:
    """A Python literal for a JSON scalar; ascii() escapes every non-ASCII character."""
    if value is None:
        return "None"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, str):
        return ascii(value)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        r = repr(float(value))
        if r in ("inf", "-inf", "nan"):
            raise ValueError("non-finite number in a mapping")
        return r
    raise TypeError(f"not a literal: {type(value).__name__}")


@dataclass
class _Emitter:
    lines: list[str] = field(default_factory=list)
    spans: list[Span | None] = field(default_factory=list)
    indent: int = 1

    def emit(self, code: str, span: Span | None = None) -> None:
        self.lines.append("    " * self.indent + code)
        self.spans.append(span)


def _static_path(expr: ast.Expr) -> tuple[str, tuple] | None:
    """(root name, keys) for a chain of names, fields and constant integer indexes."""
    keys = []
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


class _FunctionGen:
    """Generates one event function."""

    def __init__(self, fn_name: str, event: str, calls: tuple[PlannedCall, ...], origin_index: dict, funcs):
        self.fn_name = fn_name
        self.event = event
        self.calls = calls
        self.origin_index = origin_index
        self.funcs = funcs
        self.out = _Emitter()
        self.tmp = 0
        self.paths: dict[tuple, str] = {}  # (root, keys...) -> local name (envelope paths only)
        self.lambda_vars: list[dict[str, str]] = []

    def new(self, prefix: str = "_t") -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    # --- paths ------------------------------------------------------------
    def _collect_paths(self) -> None:
        def visit(expr, bound: frozenset):
            if isinstance(expr, ast.Lambda):
                visit(expr.body, bound | {expr.param})
                return
            sp = _static_path(expr)
            if sp is not None and sp[0] in ENVELOPE_ROOTS and sp[0] not in bound:
                root, keys = sp
                for i in range(0, len(keys) + 1):
                    key = (root,) + keys[:i]
                    if key not in self.paths:
                        self.paths[key] = self.new("_p")
                return
            for ch in ast.children(expr):
                visit(ch, bound)

        for pc in self.calls:
            if pc.spec.when is not None:
                visit(pc.spec.when, frozenset())
            for f in pc.fields:
                visit(f.value, frozenset())

    def _emit_path_block(self) -> None:
        if not self.paths:
            return
        o = self.out
        items = sorted(self.paths.items(), key=lambda kv: len(kv[0]))
        o.emit("try:")
        o.indent += 1
        for key, var in items:
            if len(key) == 1:
                o.emit(f"{var} = env[{lit(key[0])}]")
            else:
                parent = self.paths[key[:-1]]
                k = key[-1]
                if type(k) is int:
                    o.emit(f"{var} = {parent}[{k}] if {parent}.__class__ is list else _M")
                else:
                    o.emit(f"{var} = {parent}[{lit(k)}]")
        o.indent -= 1
        o.emit("except (KeyError, TypeError, IndexError):")
        o.indent += 1
        for key, var in items:
            if len(key) == 1:
                o.emit(f"{var} = env.get({lit(key[0])}, _M)")
            else:
                parent = self.paths[key[:-1]]
                o.emit(f"{var} = _f.index({parent}, {lit(key[-1])})")
        o.indent -= 1

    # --- expressions -------------------------------------------------------
    def expr(self, e: ast.Expr) -> str:
        """Python expression for ``e``; may emit statements first. Results are names or literals
        whenever the value is used more than once."""
        sp = _static_path(e)
        if sp is not None:
            root, keys = sp
            for scope in reversed(self.lambda_vars):
                if root in scope:
                    cur = scope[root]
                    for k in keys:
                        t = self.new()
                        self.out.emit(f"{t} = _f.index({cur}, {lit(k)})", e.span)
                        cur = t
                    return cur
            if (root,) + keys in self.paths:
                return self.paths[(root,) + keys]
        return getattr(self, "_" + type(e).__name__)(e)

    def _assign(self, code: str, span: Span) -> str:
        t = self.new()
        self.out.emit(f"{t} = {code}", span)
        return t

    def _Literal(self, e: ast.Literal) -> str:
        return lit(e.value)

    def _Name(self, e: ast.Name) -> str:  # pragma: no cover - the checker rejects unknown names
        return "_M"

    def _Field(self, e: ast.Field) -> str:
        obj = self.expr(e.obj)
        return self._assign(f"_f.index({obj}, {lit(e.name)})", e.span)

    def _Index(self, e: ast.Index) -> str:
        obj = self.expr(e.obj)
        idx = self.expr(e.index)
        return self._assign(f"_f.index({obj}, {idx})", e.span)

    def _Unary(self, e: ast.Unary) -> str:
        v = self.expr(e.operand)
        if e.op == "not":
            return self._assign(f"not _f.truth({v})", e.span)
        return self._assign(f"_f.neg({v})", e.span)

    _ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod",
              "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}

    def _Binary(self, e: ast.Binary) -> str:
        op = e.op
        if op == "??":
            left = self.expr(e.left)
            t = self.new()
            self.out.emit(f"{t} = {left}", e.span)
            self.out.emit(f"if {t} is _M or {t} is None:", e.span)
            self.out.indent += 1
            right = self.expr(e.right)
            self.out.emit(f"{t} = {right}", e.span)
            self.out.indent -= 1
            return t
        if op in ("and", "or"):
            t = self.new()
            left = self.expr(e.left)
            self.out.emit(f"{t} = _f.truth({left})", e.left.span)
            self.out.emit(f"if {'' if op == 'and' else 'not '}{t}:", e.span)
            self.out.indent += 1
            right = self.expr(e.right)
            self.out.emit(f"{t} = _f.truth({right})", e.right.span)
            self.out.indent -= 1
            return t
        left = self.expr(e.left)
        right = self.expr(e.right)
        if op in ("==", "!="):
            for a, b, be in ((left, right, e.right), (right, left, e.left)):
                if isinstance(be, ast.Literal) and isinstance(be.value, str):
                    return self._assign(f"({a} {op} {b})", e.span)
                if isinstance(be, ast.Literal) and be.value is None:
                    if op == "==":
                        return self._assign(f"({a} is None or {a} is _M)", e.span)
                    return self._assign(f"({a} is not None and {a} is not _M)", e.span)
            return self._assign(f"{'' if op == '==' else 'not '}_f.eq({left}, {right})", e.span)
        return self._assign(f"_f.{self._ARITH[op]}({left}, {right})", e.span)

    def _Cond(self, e: ast.Cond) -> str:
        t = self.new()
        test = self.expr(e.test)
        self.out.emit(f"if _f.truth({test}):", e.test.span)
        self.out.indent += 1
        then = self.expr(e.then)
        self.out.emit(f"{t} = {then}", e.then.span)
        self.out.indent -= 1
        self.out.emit("else:")
        self.out.indent += 1
        orelse = self.expr(e.orelse)
        self.out.emit(f"{t} = {orelse}", e.orelse.span)
        self.out.indent -= 1
        return t

    def _Template(self, e: ast.Template) -> str:
        parts = []
        for p in e.parts:
            if isinstance(p, str):
                parts.append(lit(p))
            else:
                v = self.expr(p)
                parts.append(self._assign(f"_f.template_part({v})", p.span))
        return self._assign(" + ".join(parts), e.span)

    def _ObjectLit(self, e: ast.ObjectLit) -> str:
        values = [(entry, self.expr(entry.value)) for entry in e.entries]
        t = self.new()
        inner = ", ".join(f"{lit(entry.key)}: {v}" for entry, v in values)
        self.out.emit(f"{t} = {{{inner}}}", e.span)
        for entry, v in values:
            if not isinstance(entry.value, ast.Literal):
                self.out.emit(f"if {v} is _M: del {t}[{lit(entry.key)}]", entry.value.span)
        return t

    def _ListLit(self, e: ast.ListLit) -> str:
        items = []
        for item in e.items:
            v = self.expr(item)
            items.append(v if isinstance(item, ast.Literal) else f"(None if {v} is _M else {v})")
        return self._assign("[" + ", ".join(items) + "]", e.span)

    def _Lambda(self, e: ast.Lambda) -> str:  # pragma: no cover - rejected by the checker
        raise AssertionError("lambda outside map()")

    def _Call(self, e: ast.Call) -> str:
        if e.func == "map":
            return self._map(e)
        args = [self.expr(a) for a in e.args]
        return self._assign(f"_f.{self.funcs(e.func)}({', '.join(args)})", e.span)

    def _map(self, e: ast.Call) -> str:
        seq_expr, lam = e.args
        seq = self.expr(seq_expr)
        t = self.new()
        item = self.new("_l")
        self.out.emit(f"{t} = {seq}", e.span)
        self.out.emit(f"if {t}.__class__ is list:", e.span)
        self.out.indent += 1
        acc = self.new()
        self.out.emit(f"{acc} = []")
        self.out.emit(f"for {item} in {t}:")
        self.out.indent += 1
        self.lambda_vars.append({lam.param: item})
        body = self.expr(lam.body)
        self.lambda_vars.pop()
        self.out.emit(f"{acc}.append(None if {body} is _M else {body})", lam.body.span)
        self.out.indent -= 1
        self.out.emit(f"{t} = {acc}")
        self.out.indent -= 1
        self.out.emit(f"elif {t} is not _M and {t} is not None:", e.span)
        self.out.emit(f"    raise _Err('map() needs a list, got ' + _f.type_name({t}))", seq_expr.span)
        return t

    # --- calls -------------------------------------------------------------
    def generate(self) -> str:
        o = self.out
        self._collect_paths()
        self._emit_path_block()
        o.emit("calls = []")
        for pc in self.calls:
            self._call(pc)
        o.emit("return calls")
        return "\n".join([f"def {self.fn_name}(env):"] + o.lines)

    def _call(self, pc: PlannedCall) -> None:
        o = self.out
        spec = pc.spec
        guarded = spec.when is not None
        if guarded:
            w = self.expr(spec.when)
            o.emit(f"if _f.truth({w}):", spec.when.span)
            o.indent += 1
        values = []
        for f in pc.fields:
            v = self.expr(f.value)
            if f.name in OBJECT_FIELDS and not isinstance(f.value, ast.ObjectLit):
                o.emit(f"if {v} is not _M and {v} is not None and {v}.__class__ is not dict:", f.value.span)
                o.emit(f"    raise _Err({lit(f.name + ' must be an object, got ')} + _f.type_name({v}))", f.value.span)
            values.append((f, v))
        body = self.new("_b")
        inner = ", ".join(f"{lit(f.name)}: {v}" for f, v in values)
        o.emit(f"{body} = {{{inner}}}", spec.span)
        for f, v in values:
            if not isinstance(f.value, (ast.Literal, ast.ObjectLit)):
                o.emit(f"if {v} is _M: del {body}[{lit(f.name)}]", f.value.span)
        self._runtime_requirements(pc, values, body)
        o.emit(f"calls.append(_Call({lit(spec.kind)}, {body}, ORIGINS[{self.origin_index[spec.rule_id]}]))", spec.span)
        if guarded:
            o.indent -= 1

    def _runtime_requirements(self, pc: PlannedCall, values, body: str) -> None:
        """Fail loudly rather than send Segment a call it will drop."""
        o = self.out
        by_name = {f.name: (f, v) for f, v in values}
        spec = pc.spec
        if spec.kind == "alias":
            required = [("previousId",), ("userId",)]
        else:
            required = [("userId", "anonymousId")]
        if spec.kind == "track":
            required.append(("event",))
        if spec.kind == "group":
            required.append(("groupId",))
        for alternatives in required:
            present = [by_name[n] for n in alternatives if n in by_name]
            if not present or all(isinstance(f.value, ast.Literal) and f.value.value is not None for f, _ in present):
                continue
            cond = " and ".join(f"({v} is _M or {v} is None)" for _, v in present)
            names = " or ".join(alternatives)
            srcs = ", ".join(_describe_source(f.value) for f, _ in present)
            o.emit(f"if {cond}:", present[0][0].value.span)
            o.emit(f"    raise _Err({lit(f'{spec.kind} call has no {names}: {srcs} was null or absent')})",
                   present[0][0].value.span)


def _describe_source(e: ast.Expr) -> str:
    from segmap.compiler.checker import path_text

    return path_text(e) or "the expression"


@dataclass
class GeneratedModule:
    source: str
    line_spans: dict[int, Span]  # generated line number -> mapping span
    origins: list[str]


def generate(plan: Plan, file: str, version: str, func_name_of) -> GeneratedModule:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    origin_index: dict[str, int] = {}
    origins: list[str] = []
    for calls in plan.calls.values():
        for pc in calls:
            if pc.spec.rule_id not in origin_index:
                origin_index[pc.spec.rule_id] = len(origins)
                s = pc.spec.span
                origins.append(f"{s.file}:{s.line}:{s.col}")
    functions = []
    fn_spans = []
    dispatch = []
    # events that share a rule share one function
    by_rule: dict[int, str] = {}
    for i, (event, calls) in enumerate(plan.calls.items()):
        rule = plan.rule_of[event]
        if id(rule) in by_rule and not _depends_on_type(calls):
            dispatch.append((lit(event), by_rule[id(rule)]))
            continue
        name = f"_e{i}"
        gen = _FunctionGen(name, event, calls, origin_index, func_name_of)
        functions.append(gen.generate())
        fn_spans.append([None] + gen.out.spans)
        by_rule.setdefault(id(rule), name)
        dispatch.append((lit(event), name))
    env = _jinja()
    source = env.get_template("module.py.j2").render(
        version=version, origins=repr(origins), functions=functions, dispatch=dispatch)
    # line table: find each function's first line in the rendered source
    line_spans: dict[int, Span] = {}
    src_lines = source.split("\n")
    fi = 0
    for lineno, text in enumerate(src_lines, start=1):
        if fi < len(functions) and text == functions[fi].split("\n", 1)[0]:
            for off, sp in enumerate(fn_spans[fi]):
                if sp is not None:
                    line_spans[lineno + off] = sp
            fi += 1
    return GeneratedModule(source, line_spans, origins)


def _depends_on_type(calls) -> bool:
    """A glob rule's function is shared by its events unless it reads `type`."""
    for pc in calls:
        exprs = [f.value for f in pc.fields] + ([pc.spec.when] if pc.spec.when else [])
        for e in exprs:
            for node in ast.walk(e):
                if isinstance(node, ast.Name) and node.name == "type":
                    return True
    return False


@lru_cache(maxsize=1)
def _jinja():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("segmap.compiler", "templates"), undefined=StrictUndefined,
                       keep_trailing_newline=True, autoescape=False)
