"""Type rules for function calls, driven by the function registry.

The registry (``segmap.compiler.functions``) is the single description of
each function: arity, parameter kinds, result kind, null behaviour. This
module turns those kinds into checks and result types; a few functions
whose result type depends on their arguments (coalesce, fallback) get a
precise rule here.
"""
from __future__ import annotations

from segmap.compiler import meaning_checks, sdk_checks, segment_rules
from segmap.compiler import types as T
from segmap.compiler.functions import FUNCTIONS, LAMBDA_FUNCTIONS, FunctionSpec
from segmap.compiler.scope import CheckContext, Scope
from segmap.compiler.types import Ty
from segmap.compiler.wording import quoted, show, suggest
from segmap.dsl import ast
from segmap.runtime.currency import EXPONENTS


def python_name(func: str) -> str:
    """The name generated Python code calls ``func`` by."""
    return FUNCTIONS[func].py


_KIND_CHECKS = {
    "number": (lambda t: t.is_numeric, "a number"),
    "integer": (lambda t: t.kind == "int", "an integer (minor units)"),
    "string": (lambda t: t.is_stringy, "text"),
    "currency": (lambda t: t.is_stringy, "a currency code"),
    "bool": (lambda t: t.kind == "bool", "true or false"),
    "list": (lambda t: t.kind == "list", "a list"),
    "text_or_list": (lambda t: t.is_stringy or t.kind == "list", "text or a list"),
    "any": (lambda t: True, "any value"),
}

_RESULT = {"number": T.NUM, "integer": T.INT, "string": T.STR, "bool": T.BOOL, "list": Ty("list", (T.ANY,)),
           "currency": T.STR, "any": T.ANY, "datetime": T.DATETIME}


def infer_call(checker: CheckContext, e: ast.Call, scope: Scope) -> Ty:
    funcs = FUNCTIONS
    if e.func in ("map", "filter"):
        return _infer_map(checker, e, scope)
    spec = funcs.get(e.func)
    if spec is None:
        for a in e.args:
            if not isinstance(a, ast.Lambda):
                checker.infer(a, scope)
        checker.report("E204", f"unknown function `{e.func}`", e.name_span,
                       suggestion=suggest(e.func, list(funcs) + list(LAMBDA_FUNCTIONS)),
                       notes=("functions: " + ", ".join(sorted(list(funcs) + list(LAMBDA_FUNCTIONS))),))
        return T.ANY
    n = len(e.args)
    if not spec.accepts_arity(n):
        want = (f"{spec.min_arity}" if spec.max_arity == spec.min_arity else
                f"at least {spec.min_arity}" if spec.max_arity is None else f"{spec.min_arity} to {spec.max_arity}")
        checker.report("E205", f"`{e.func}` takes {want} argument{'s' if want != '1' else ''}, got {n}", e.span,
                       notes=(f"usage: {spec.signature}",))
    arg_types = []
    for i, a in enumerate(e.args):
        if isinstance(a, ast.Lambda):
            checker.report("E207", "`x => ...` is only allowed as the second argument of map() or filter()", a.span)
            arg_types.append(T.ANY)
            continue
        t = checker.infer(a, scope)
        arg_types.append(t)
        kinds = spec.param_kinds
        kind = kinds[min(i, len(kinds) - 1)] if kinds else "any"
        pname = spec.param_names[min(i, len(spec.params) - 1)].strip() if spec.params else "x"
        pred, what = _KIND_CHECKS.get(kind, _KIND_CHECKS["any"])
        base = t.required()
        if base.kind in ("any", "null", "never"):
            continue
        if kind == "integer" and isinstance(a, ast.Call) and a.func == "number":
            pass  # number("1250") is checked to be whole at run time by the integer parameter
        elif not base.could_be(pred):
            hint = None
            notes: tuple[str, ...] = ()
            if e.func == "to_major" and i == 0 and base.could_be(lambda x: x.is_stringy):
                # number() would make this check clean, and wrong whenever the text is in major
                # units: there is no safe fix to offer, so say why instead
                hint = (f"no safe fix: `{show(a)}` is text, and nothing says whether it holds minor units "
                        "(what to_major() divides) or major units already; look at a real event, then "
                        f"use number({show(a)}) alone for major units or to_major(number({show(a)}), ...) for minor units")
            elif kind in ("integer", "number") and base.could_be(lambda x: x.is_stringy):
                hint = f"this value is text; convert it with number({show(a)}) first"
            elif kind == "integer" and base.could_be(lambda x: x.is_numeric):
                hint = "to_major() converts integer minor units; this value is already in major units" \
                    if e.func == "to_major" else "round it first: round(x, 0)"
            doc = checker.field_doc(a)
            if doc:
                notes = (doc,)
            checker.report("E301", f"`{e.func}` expects {what} as `{pname}`, "
                           f"but `{show(a)}` is {t.describe()}", a.span, hint=hint, notes=notes)
        elif kind != "any" and t.maybe_empty and not (i == 0 and spec.propagates_null and spec.propagates_missing):
            src = show(a)
            empty = "null or absent" if t.nullable and t.optional else "null" if t.nullable else "absent"
            checker.report("E304", f"`{e.func}` fails at run time when `{pname}` is {empty}: `{src}` is {t.describe()}",
                           a.span, hint=f"guard the call with `when: {src} != null`, or give a default: `{src} ?? ...`",
                           notes=(f"only the first argument of {e.func}() passes a null through; "
                                  f"a null `{pname}` stops the event with a run-time error",))
        if kind == "currency" and base.kind == "str" and base.args:
            if base.args[0] not in EXPONENTS:
                checker.report("E301", f"\"{base.args[0]}\" is not an ISO 4217 currency code that Dodo uses", a.span,
                               suggestion=quoted(suggest(str(base.args[0]).upper(), list(EXPONENTS))))
    if e.func == "to_major":
        segment_rules.check_currency_pair(checker, e)
        meaning_checks.check_constant_currency(checker, e)
        sdk_checks.check_to_major(checker, e)
    if e.func == "contains" and len(arg_types) == 2:
        hay, needle = arg_types[0].required(), arg_types[1].required()
        if hay.kind != "any" and hay.is_stringy and needle.kind not in ("any", "null", "never") \
                and not needle.could_be(lambda t: t.is_stringy):
            checker.report("E301", f"`contains` looks for text in text, but `{show(e.args[1])}` is "
                           f"{arg_types[1].describe()}", e.args[1].span,
                           hint=f"convert it: string({show(e.args[1])})")
    return _result(e.func, spec, arg_types)


def _result(name: str, spec: FunctionSpec, args: list[Ty]) -> Ty:
    if name == "slice" and args and args[0].required().kind in ("list", "str"):
        base = args[0].required()
        return (T.STR if base.kind == "str" else base).with_flags(nullable=args[0].nullable, optional=args[0].optional)
    if name == "split":
        return Ty("list", (T.STR,), None, bool(args) and args[0].nullable, bool(args) and args[0].optional)
    if name in ("first", "last") and args and args[0].required().kind == "list":
        item: Ty = args[0].required().args[0]
        # an empty list gives missing
        return item.with_flags(nullable=item.nullable or args[0].nullable, optional=True)
    if name in ("first", "last"):
        return T.ANY
    if name == "coalesce":
        if not args:
            return T.ANY
        out = args[-1]
        for t in reversed(args[:-1]):
            out = T.union(t.required(), out)
        return out
    if name == "fallback" and len(args) == 2:
        return T.union(args[0].required(), args[1])
    result = T.DATETIME if name == "iso_time" else _RESULT.get(spec.returns, T.ANY)
    if args:
        result = result.with_flags(nullable=spec.propagates_null and args[0].nullable,
                                   optional=spec.propagates_missing and args[0].optional)
    return result


def _infer_map(checker: CheckContext, e: ast.Call, scope: Scope) -> Ty:
    lam = e.args[1] if len(e.args) == 2 else None
    if not isinstance(lam, ast.Lambda):
        checker.report("E205", f"`{e.func}` takes a list and a function: {LAMBDA_FUNCTIONS[e.func].signature}", e.span)
        for a in e.args:
            if not isinstance(a, ast.Lambda):
                checker.infer(a, scope)
        return Ty("list", (T.ANY,))
    seq = e.args[0]
    st = checker.infer(seq, scope)
    base = st.required()
    item: Ty
    if base.kind == "list":
        item = base.args[0]
    elif base.kind in ("any", "never", "null"):
        item = T.ANY
    else:
        checker.report("E301", f"`{e.func}` needs a list, but `{show(seq)}` is {st.describe()}", seq.span)
        item = T.ANY
    if lam.param in T.ENVELOPE_ROOTS:
        checker.report("E206", f"`{lam.param}` is an envelope field; name the {e.func}() variable something else", lam.param_span)
    body = checker.infer(lam.body, scope.bind(lam.param, item))
    if e.func == "filter":
        checker.expect_bool(lam.body, body, "the condition of filter()")
        return Ty("list", (item,), None, st.nullable, st.optional)
    # the generated code turns an absent item into null, so "may be absent" becomes "may be null"
    item = body.with_flags(nullable=body.nullable or body.optional, optional=False)
    return Ty("list", (item,), None, st.nullable, st.optional)
