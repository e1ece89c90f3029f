"""A deliberately naive interpreter of a checked plan: the oracle for the optimised generator.

It walks the AST for every envelope and calls the run-time helpers for every
operation, exactly as the first (unoptimised) generator did: every path
read with ``_f.index``, every argument evaluated left to right before its
call, ``when:``/``if``/``and``/``or``/``??`` lazy, every field that is
MISSING dropped. A failure carries the location the generated code must
report (the span of the sub-expression whose helper failed).

It knows nothing of constant folding, common sub-expressions, inlined
helpers or fast paths, which is the point: the compiled mapping must agree
with it on every envelope, failures included.
"""
from __future__ import annotations

from segmap.compiler.function_types import python_name
from segmap.compiler.paths import ENVELOPE_ROOTS
from segmap.dsl import ast
from segmap.dsl.segment_fields import OBJECT_FIELDS
from segmap.runtime import functions as F
from segmap.runtime.calls import Call
from segmap.runtime.jsjson import js_value
from segmap.runtime.values import MISSING, MappingRuntimeError

_ARITH = {"+": F.add, "-": F.sub, "*": F.mul, "/": F.div, "%": F.mod,
          "<": F.lt, "<=": F.le, ">": F.gt, ">=": F.ge}


def _at(span, fn, *args):
    try:
        return fn(*args)
    except MappingRuntimeError as exc:
        if not exc.location:
            exc.location = str(span)
        raise


def _fail(span, message):
    raise MappingRuntimeError(message, str(span))


class Reference:
    def __init__(self, plan, origins: dict[str, str]):
        self.plan = plan
        self.origins = origins  # rule_id -> origin string

    def apply(self, envelope: dict) -> list[Call]:
        calls = self.plan.calls.get(envelope["type"])
        if calls is None:
            return []
        out = []
        for pc in calls:
            call = self.call(pc, envelope)
            if call is not None:
                out.append(call)
        return out

    def call(self, pc, env):
        spec = pc.spec
        if spec.when is not None:
            w = self.ev(spec.when, env, {})
            if not _at(spec.when.span, F.truth, w):
                return None
        body = {}
        for f in pc.fields:
            v = self.ev(f.value, env, {})
            if f.name in OBJECT_FIELDS and not isinstance(f.value, ast.ObjectLit):
                if v is not MISSING and v is not None and type(v) is not dict:
                    _fail(f.value.span, f"{f.name} must be an object, got {F.type_name(v)}")
            body[f.name] = v
        names = {f.name: f for f in pc.fields}
        required = [("previousId",), ("userId",)] if spec.kind == "alias" else [("userId", "anonymousId")]
        if spec.kind == "track":
            required.append(("event",))
        if spec.kind == "group":
            required.append(("groupId",))
        for alternatives in required:
            present = [names[n] for n in alternatives if n in names]
            if not present:
                continue
            if all(body[f.name] is None or body[f.name] is MISSING for f in present):
                from segmap.compiler.wording import path_text

                srcs = ", ".join(path_text(f.value) or "the expression" for f in present)
                _fail(present[0].value.span,
                      f"{spec.kind} call has no {' or '.join(alternatives)}: {srcs} was null or absent")
        # output numbers in the form JSON.stringify prints (segmap.runtime.jsjson), as generated code makes them
        return Call(spec.kind, js_value({k: v for k, v in body.items() if v is not MISSING}), self.origins[spec.rule_id])

    # --- expressions ------------------------------------------------------
    def ev(self, e, env, scope):
        m = getattr(self, "_" + type(e).__name__)
        return m(e, env, scope)

    def _Literal(self, e, env, scope):
        return e.value

    def _Name(self, e, env, scope):
        if e.name in scope:
            return scope[e.name]
        if e.name in ENVELOPE_ROOTS:
            return env.get(e.name, MISSING)
        return MISSING

    def _Field(self, e, env, scope):
        return F.index(self.ev(e.obj, env, scope), e.name)

    def _Index(self, e, env, scope):
        obj = self.ev(e.obj, env, scope)
        return F.index(obj, self.ev(e.index, env, scope))

    def _Unary(self, e, env, scope):
        v = self.ev(e.operand, env, scope)
        if e.op == "not":
            return not _at(e.span, F.truth, v)
        return _at(e.span, F.neg, v)

    def _Binary(self, e, env, scope):
        op = e.op
        if op == "??":
            left = self.ev(e.left, env, scope)
            if left is None or left is MISSING:
                return self.ev(e.right, env, scope)
            return left
        if op in ("and", "or"):
            t = _at(e.left.span, F.truth, self.ev(e.left, env, scope))
            if t == (op == "and"):
                t = _at(e.right.span, F.truth, self.ev(e.right, env, scope))
            return t
        left = self.ev(e.left, env, scope)
        right = self.ev(e.right, env, scope)
        if op in ("==", "!="):
            for a, b, be in ((left, right, e.right), (right, left, e.left)):
                if isinstance(be, ast.Literal) and isinstance(be.value, str):
                    return (a == b) if op == "==" else (a != b)
                if isinstance(be, ast.Literal) and be.value is None:
                    r = a is None or a is MISSING
                    return r if op == "==" else not r
            r = _at(e.span, F.eq, left, right)
            return r if op == "==" else not r
        return _at(e.span, _ARITH[op], left, right)

    def _Cond(self, e, env, scope):
        if _at(e.test.span, F.truth, self.ev(e.test, env, scope)):
            return self.ev(e.then, env, scope)
        return self.ev(e.orelse, env, scope)

    def _Template(self, e, env, scope):
        out = ""
        for p in e.parts:
            out += p if isinstance(p, str) else _at(p.span, F.template_part, self.ev(p, env, scope))
        return out

    def _ObjectLit(self, e, env, scope):
        out = {}
        for entry in e.entries:
            out[entry.key] = self.ev(entry.value, env, scope)
        return {k: v for k, v in out.items() if v is not MISSING}

    def _ListLit(self, e, env, scope):
        return [None if v is MISSING else v for v in (self.ev(i, env, scope) for i in e.items)]

    def _Call(self, e, env, scope):
        if e.func == "map":
            seq_expr, lam = e.args
            seq = self.ev(seq_expr, env, scope)
            if type(seq) is list:
                out = []
                for item in seq:
                    v = self.ev(lam.body, env, {**scope, lam.param: item})
                    out.append(None if v is MISSING else v)
                return out
            if seq is not MISSING and seq is not None:
                _fail(seq_expr.span, "map() needs a list, got " + F.type_name(seq))
            return seq
        args = [self.ev(a, env, scope) for a in e.args]
        return _at(e.span, getattr(F, python_name(e.func)), *args)


def reference_for(compiled) -> Reference:
    plan = compiled.check.plan
    origins = {}
    for calls in plan.calls.values():
        for pc in calls:
            s = pc.spec.span
            origins.setdefault(pc.spec.rule_id, f"{s.file}:{s.line}:{s.col}")
    return Reference(plan, origins)
