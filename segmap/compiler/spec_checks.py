"""Checks from Segment's spec and JavaScript's semantics that the author cannot see in the types.

- :func:`only_explicitly_empty` -- a value is null only where the author
  wrote `null` (`if c then x else null`): saying so is not a mistake, so no
  W304 for it;
- :func:`check_ordering_null` -- `a < b` with a side that can be JSON null:
  segmap answers false, JavaScript converts null to 0 (`null >= 0` is true),
  so a handler ported from JavaScript can behave differently (N301);
- :func:`check_context` / :func:`check_integrations` -- the `context`
  fields Segment documents and `integrations` values, against the spec's
  types, quoting the spec's description;
- :func:`check_personal_identity` -- a `userId` built from an email, a name
  or a phone number (W414): Segment advises durable database ids.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from segmap.compiler import types as T
from segmap.compiler.scope import CheckContext
from segmap.compiler.types import Ty
from segmap.compiler.wording import expr_text, path_text, show, suggest
from segmap.dsl import ast
from segmap.dsl.segment_context import CONTEXT_FIELDS

_SCALAR = ("str", "int", "float", "bool", "datetime", "date", "enum")
_OBJECT = ("object", "model", "dict")


# --- explicit null ---------------------------------------------------------------------

def only_explicitly_empty(expr: ast.Expr, type_of: Callable[[ast.Expr], Ty | None]) -> bool:
    """True when every way ``expr`` can be null or absent is a `null` literal the author wrote."""
    if isinstance(expr, ast.Literal):
        return expr.value is None
    if isinstance(expr, ast.Cond):
        return all(_never_empty(b, type_of) or only_explicitly_empty(b, type_of) for b in (expr.then, expr.orelse))
    if isinstance(expr, ast.Binary) and expr.op == "??":
        return _never_empty(expr.right, type_of) or only_explicitly_empty(expr.right, type_of)
    return False


def _never_empty(expr: ast.Expr, type_of: Callable[[ast.Expr], Ty | None]) -> bool:
    ty = type_of(expr)
    return ty is not None and not ty.maybe_empty


# --- ordering comparisons with null ------------------------------------------------------

_JS_WITH_ZERO = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
                 ">=": lambda a, b: a >= b}


def _number(expr: ast.Expr) -> float | None:
    if isinstance(expr, ast.Literal) and type(expr.value) in (int, float):
        return float(expr.value)  # type: ignore[arg-type]  # an int or float, tested just above
    if isinstance(expr, ast.Unary) and expr.op == "-":
        inner = _number(expr.operand)
        return None if inner is None else -inner
    return None


def check_ordering_null(checker: CheckContext, e: ast.Binary, left: Ty, right: Ty) -> None:
    """N301 where a side of `<`, `<=`, `>`, `>=` can be JSON null, the other is a number, and
    JavaScript (null converted to 0) would answer true where segmap answers false."""
    for side, ty, other, oty, null_left in ((e.left, left, e.right, right, True),
                                            (e.right, right, e.left, left, False)):
        if not ty.nullable or ty.required().kind in ("null", "never"):
            continue
        if not oty.required().could_be(lambda t: t.is_numeric):
            continue
        k = _number(other)
        if k is not None:  # with a constant, JavaScript differs only where 0 <op> k holds
            a, b = (0.0, k) if null_left else (k, 0.0)
            if not _JS_WITH_ZERO[e.op](a, b):
                continue
        src = show(side)
        checker.report(
            "N301", f"when `{src}` is null, `{show(e)}` is false here, but true in JavaScript "
            f"(which compares null as 0)", e.op_span,
            notes=(f"`{src}` is {ty.describe()}",
                   "segmap's ordering comparisons are false when either side is null or absent"),
            hint=f"if null should count as 0, write `({src} ?? 0) {e.op} ...`; "
                 f"to say null is excluded, guard it: `{src} != null and ...`")
        return


# --- context and integrations -------------------------------------------------------------

_WANT = {"string": "text", "boolean": "true or false", "object": "an object"}


def _kind_ok(kind: str, base: Ty) -> bool:
    if base.kind in ("any", "null", "never", "union"):
        return True
    if kind == "string":
        return base.is_stringy
    if kind == "boolean":
        return base.kind == "bool"
    return base.kind in _OBJECT


def check_context(checker: CheckContext, obj: ast.ObjectLit) -> None:
    """Each documented `context` field against the type the spec gives it (W412 / E412)."""
    for entry in obj.entries:
        spec = CONTEXT_FIELDS.get(entry.key)
        if spec is None:
            continue
        kind, description = spec
        ty = checker.type_of(entry.value)
        if ty is None or _kind_ok(kind, ty.required()):
            continue
        base = ty.required()
        src = show(entry.value)
        note = f"Segment's spec, context.{entry.key}: {description}"
        if kind == "object" or base.kind in _OBJECT or base.kind == "list":
            code = "E412"
        else:
            code = "W412"
        checker.report(code, f"`context.{entry.key}` should be {_WANT[kind]}, but `{src}` is {ty.describe()}",
                       entry.value.span, notes=(note,),
                       suggestion=f"string({src})" if kind == "string" and base.kind in ("int", "float", "bool")
                       else None)


def check_integrations(checker: CheckContext, obj: ast.ObjectLit) -> None:
    """`integrations` maps destination names (and `All`) to true/false or a destination's options."""
    for entry in obj.entries:
        if entry.key != "All" and entry.key.lower() == "all":
            checker.report("W412", f"`integrations.{entry.key}`: the key for every destination is `All`",
                           entry.key_span or entry.value.span, suggestion="All",
                           notes=("Segment's spec: integration names are case-sensitive",))
        ty = checker.type_of(entry.value)
        if ty is None:
            continue
        base = ty.required()
        if base.kind in ("any", "null", "never", "union", "bool") or base.kind in _OBJECT:
            continue
        checker.report("W412", f"`integrations.{entry.key}` should be true, false or an object of the "
                       f"destination's options, but `{show(entry.value)}` is {ty.describe()}", entry.value.span,
                       notes=("Segment's spec: `integrations` is a dictionary of destination names to booleans "
                              "(`{All: true, Salesforce: false}`), or options objects for destinations that take them",))


# --- personal data as an identity ------------------------------------------------------------

_PERSONAL = re.compile(r"(^|_)(e?mail|email_address|name|first_name|last_name|full_name|phone|phone_number|"
                       r"mobile|username)$")
_WHAT = (("mail", "an email address"), ("phone", "a phone number"), ("mobile", "a phone number"),
         ("username", "a user name"), ("name", "a person's name"))


def _personal_path(expr: ast.Expr) -> ast.Expr | None:
    for node in ast.walk(expr):
        if isinstance(node, ast.Field) and _PERSONAL.search(node.name) and path_text(node) is not None:
            return node
    return None


def check_personal_identity(checker: CheckContext, name: str, value: ast.Expr) -> None:
    """W414: `userId` taken from an email, a name or a phone number."""
    if name != "userId":
        return
    found = _personal_path(value)
    if found is None:
        return
    assert isinstance(found, ast.Field)
    what = next(w for key, w in _WHAT if key in found.name)
    fields = _sibling_ids(checker, found)
    better = suggest("customer_id", fields, cutoff=0.5) if fields else None
    checker.report(
        "W414", f"`userId` is built from `{path_text(found)}`, {what}: personal data that can change",
        found.span,
        notes=("Segment's advice for the Identify spec: use a unique, durable id from your database as the "
               "userId, not an email address or a name, which people change and which would then split one "
               "user's history; send personal data as traits instead",),
        suggestion=f"{path_text(found.obj)}.{better}" if better else None)


def _sibling_ids(checker: CheckContext, field: ast.Field) -> list[str]:
    owner = checker.type_of(field.obj)
    if owner is None or owner.required().kind != "model" or not owner.required().name:
        return []
    return [f for f in T.model_fields(owner.required().name) if f.endswith("_id") or f == "id"]


# --- an id that is not a person's as the userId -----------------------------------------------

#: the SDK fields that identify a person: the SDK's docstrings call only `customer_id` "Unique
#: identifier for the customer" / "Identifier of the customer the grant was issued to"; every
#: other `*_id` / `id` field of an SDK model identifies a thing (a payment, refund, subscription,
#: license key, dispute, payout, business, brand, ...). The one hand list of identity kinds.
PERSON_ID_FIELDS = frozenset({"customer_id"})


def _identity_path(value: ast.Expr) -> ast.Field | None:
    """The field a userId is read from: `x.y_id`, `string(x.y_id)`, `x.y_id ?? ...`."""
    while True:
        if isinstance(value, ast.Call) and value.func == "string" and len(value.args) == 1:
            value = value.args[0]
        elif isinstance(value, ast.Binary) and value.op == "??":
            value = value.left
        else:
            break
    return value if isinstance(value, ast.Field) else None


def check_person_identity(checker: CheckContext, name: str, value: ast.Expr) -> None:
    """W415: `userId: data.payment_id` -- every payment would be a new user."""
    if name != "userId":
        return
    field = _identity_path(value)
    if field is None or not (field.name == "id" or field.name.endswith("_id")) or field.name in PERSON_ID_FIELDS:
        return
    owner = checker.type_of(field.obj)
    if owner is None or owner.required().kind != "model" or not owner.required().name:
        return
    model = str(owner.required().name)
    thing = field.name.removesuffix("_id").replace("_", " ") if field.name != "id" else \
        re.sub(r"(?<=[a-z])(?=[A-Z])", " ", model.split(".")[0].removesuffix("_webhook_event")).replace("_", " ").lower()
    fix = _customer_id_path(checker)
    checker.report(
        "W415", f"`userId` is `{path_text(field) or show(field)}`, the id of a {thing}, not of a person: every {thing} "
        "would be a new user", field.span,
        suggestion=fix,
        notes=(f"Segment's Identify spec: the userId is the durable id of a user in your database; for Dodo, "
               f"the customer's id{' (`' + fix + '`)' if fix else ''}",) + ((f"the Dodo SDK, `{field.name}`: "
                                                                            f"{T.field_doc(model, field.name)}",)
                                                                           if T.field_doc(model, field.name) else ()),
        hint=None if fix else "this event carries no customer id: use an anonymousId, or a customer id kept in "
                              "the payload's metadata")


def _customer_id_path(checker: CheckContext) -> str | None:
    """`data.customer.customer_id` or `data.customer_id`: the event's customer id, when never null."""
    event = checker.current_event
    if not event or event not in T.event_types():
        return None
    data = dict(T.envelope_type(event).args)["data"].required()
    fields = T.model_fields(str(data.name))
    own = fields.get("customer_id")
    if own is not None and not own.maybe_empty:
        return "data.customer_id"
    customer = fields.get("customer")
    if customer is not None and not customer.maybe_empty and customer.required().kind == "model":
        cid = T.model_fields(str(customer.required().name)).get("customer_id")
        if cid is not None and not cid.maybe_empty:
            return "data.customer.customer_id"
    return None


# --- a coupon that is an id ----------------------------------------------------------------------

def check_coupon(checker: CheckContext, what: str, value: ast.Expr) -> None:
    """W425: Segment's `coupon` is the code a customer typed; an id (`discount_id`) is not it."""
    field = _identity_path(value)
    if field is None or not (field.name == "id" or field.name.endswith("_id")):
        return
    owner = checker.type_of(field.obj)
    if owner is None or owner.required().kind != "model" or not owner.required().name:
        return
    fix = _code_beside(str(owner.required().name), field)
    checker.report("W425", f"{what} is `{show(field)}`, an id: Segment's coupon is the code the customer entered",
                   field.span, suggestion=fix,
                   notes=("Segment's E-commerce spec: `coupon` is the coupon code used for the order "
                          "(\"SPRING10\"); destinations report coupons by that code",),
                   hint=None if fix else "send the discount's code, e.g. `data.discounts[0].code`")


def _code_beside(model: str, field: ast.Field) -> str | None:
    """`x.code` when the id's own model has a `code`; `x.discounts[0].code` when the id is the
    first item's of a list of models that carry both the id and a code."""
    fields = T.model_fields(model)
    base = path_text(field.obj) or expr_text(field.obj)
    if "code" in fields and fields["code"].required().is_stringy:
        return f"{base}.code"
    for name, ty in fields.items():
        item = ty.required().args[0].required() if ty.required().kind == "list" else None
        if item is not None and item.kind == "model" and item.name:
            inner = T.model_fields(str(item.name))
            if field.name in inner and "code" in inner:
                return f"{base}.{name}[0].code"
    return None


__all__ = ["check_context", "check_coupon", "check_integrations", "check_ordering_null", "check_person_identity",
           "check_personal_identity", "only_explicitly_empty"]
