"""What the Dodo SDK's own field documentation says, checked against how a mapping uses a field.

The facts come from the SDK's docstrings, read once by the snapshot generator
(``snapshot_gen.field_facts``) and shipped in the snapshot, so nothing here
parses prose or imports the SDK:

- W432 -- an amount in the currency's smallest unit (``unit: minor``: the
  docstring says "smallest unit", or an integer amount/tax/fee beside a
  `currency`) reaching one of Segment's money properties (`revenue`,
  `total`, `price`, ...) unconverted; the unit is kept through `+`, `-`,
  `??`, `if` and a multiplication by a constant;
- W433 -- a value in basis points (``unit: basis_points``, a discount's
  percentage) converted with to_major() or sent as money;
- W445 -- a date the SDK calls the start (end) of the billing or service
  period sent under a name that says end (start): `period_start:
  data.next_billing_date`;
- W446 -- an identify/group trait named as a running total (`total_spent`,
  `lifetime_value`) set to one event's amount, which every call overwrites;
- W447 -- a field the SDK marks DEPRECATED, with its replacement;
- W448 -- a test the SDK advises against: "Do not read the length of
  `subscription_ids`", "Do not read `subscription_id` for null" (a
  multi-subscription payment leaves it null too);
- W449 -- a field the SDK says is "set only for" other events (a
  subscription's `payment_id`, set only for `subscription.renewed`), read
  where nothing handles its null.

The Segment-side tables (which properties are money) are here; the rest of
Segment's spec is in ``segment_rules`` and ``spec_checks``.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

from segmap.compiler import types as T
from segmap.compiler.scope import CheckContext
from segmap.compiler.snapshot import load_snapshot
from segmap.compiler.wording import expr_text, path_text, show
from segmap.dsl import ast

#: Segment's money properties (Spec: Track reserved `revenue`/`value`, E-commerce v2 `total`,
#: `subtotal`, `tax`, `discount`, `shipping`, `price`): amounts in the currency's major unit
#: ("Revenue ($) associated with the transaction", "Price ($) of the product").
MONEY_PROPERTIES = frozenset({"revenue", "value", "total", "subtotal", "tax", "discount", "shipping", "price"})

_UNIT_WORDS = {"minor": "minor units (cents for USD, yen for JPY, fils for KWD)",
               "basis_points": "basis points (540 means 5.4%)"}


def _model_field(checker: CheckContext, expr: ast.Expr) -> tuple[str, ast.Field] | None:
    """(model name, field node) when ``expr`` reads a field of an SDK model."""
    if not isinstance(expr, ast.Field):
        return None
    owner = checker.type_of(expr.obj)
    if owner is None or owner.required().kind != "model" or not owner.required().name:
        return None
    return str(owner.required().name), expr


def facts(checker: CheckContext, expr: ast.Expr) -> dict[str, Any]:
    """The SDK facts of the field ``expr`` reads ({} for anything else)."""
    found = _model_field(checker, expr)
    return T.field_facts(found[0], found[1].name) if found else {}


# --- units ---------------------------------------------------------------------------------

Unit = tuple[str, str | None, ast.Field]  # (minor | basis_points, its currency's expression text, the field)


def _is_constant(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.Literal) and type(expr.value) in (int, float) or (
        isinstance(expr, ast.Unary) and expr.op == "-" and _is_constant(expr.operand))


def _is_count(checker: CheckContext, expr: ast.Expr) -> bool:
    """An integer without a unit of its own: `2`, `data.quantity`."""
    if _is_constant(expr):
        inner = expr.operand if isinstance(expr, ast.Unary) else expr
        return isinstance(inner, ast.Literal) and type(inner.value) is int
    ty = checker.type_of(expr)
    return ty is not None and ty.required().kind == "int" and unit_of(checker, expr) is None


def unit_of(checker: CheckContext, expr: ast.Expr) -> Unit | None:
    """The unit of a number the SDK documents, kept through arithmetic that keeps it.

    `a - (b ?? 0)` of two minor amounts in one currency is in minor units; `a * 2` too;
    `a / 100`, `to_major(a, c)` or a mix of units or currencies is no longer known (None).
    """
    if isinstance(expr, ast.Field):
        found = _model_field(checker, expr)
        if found is None:
            return None
        f = T.field_facts(found[0], expr.name)
        unit = f.get("unit")
        if unit is None:
            return None
        currency = f"{expr_text(expr.obj)}.{f['currency']}" if "currency" in f else None
        return unit, currency, expr
    if isinstance(expr, ast.Binary):
        if expr.op in ("+", "-", "??"):
            return _same_unit(checker, (expr.left, expr.right))
        if expr.op == "*":  # by a whole number (2, a quantity) the unit stays; by 0.01 it is converted
            for a, b in ((expr.left, expr.right), (expr.right, expr.left)):
                if _is_count(checker, b):
                    return unit_of(checker, a)
        return None
    if isinstance(expr, ast.Cond):
        return _same_unit(checker, (expr.then, expr.orelse))
    if isinstance(expr, ast.Unary) and expr.op == "-":
        return unit_of(checker, expr.operand)
    if isinstance(expr, ast.Call) and expr.func in ("abs", "max", "min", "sum") and expr.args:
        return _same_unit(checker, expr.args)
    return None


def _same_unit(checker: CheckContext, parts: Iterable[ast.Expr]) -> Unit | None:
    """One unit (and currency) for every part that has one; constants and `null` are neutral."""
    found: Unit | None = None
    for part in parts:
        if _is_constant(part) or (isinstance(part, ast.Literal) and part.value is None):
            continue
        u = unit_of(checker, part)
        if u is None or (found is not None and found[:2] != u[:2]):
            return None
        found = found or u
    return found


def check_money_property(checker: CheckContext, what: str, key: str, value: ast.Expr,
                         non_null: frozenset[str]) -> None:
    """W432 / W433: one of Segment's money properties given minor units or basis points."""
    if key not in MONEY_PROPERTIES:
        return
    unit = unit_of(checker, value)
    if unit is None:
        return
    kind, currency, field = unit
    src = show(value)
    if kind == "basis_points":
        checker.report("W433", f"{what} is `{src}`, in {_UNIT_WORDS[kind]}, not money", value.span,
                       notes=(_doc_note(checker, field),
                              "Segment's money properties are amounts in the currency's major unit"),
                       hint=_basis_points_hint(field))
        return
    fix = f"to_major({expr_text(value)}, {currency})" if currency else None
    currency_ok = currency is not None and not _maybe_empty(checker, field, currency, non_null)
    guard = [currency or ""]
    amount_ty, amount_path = checker.type_of(value), path_text(value)
    if amount_ty is not None and amount_ty.maybe_empty and amount_path and amount_path not in non_null:
        guard.insert(0, amount_path)  # `total: data.amount` of a refund: both can be null
    checker.report("W432", f"{what} is `{src}`, in {_UNIT_WORDS[kind]}: Segment reads {key} in the "
                   "currency's major unit, so 12.50 USD is sent as 1250", value.span,
                   suggestion=fix if currency_ok else None,
                   notes=(_doc_note(checker, field),
                          f"Segment's spec: `{key}` is an amount such as 12.50; destinations sum it as sent"),
                   hint=None if currency_ok else
                   (f"convert it: `{fix}` (guard the call with `when: {' and '.join(g + ' != null' for g in guard)}`)"
                    if fix else
                    "convert it with to_major(amount, currency)"))


def _maybe_empty(checker: CheckContext, field: ast.Field, currency: str, non_null: frozenset[str]) -> bool:
    found = _model_field(checker, field)
    if found is None or currency in non_null:
        return False
    cur = T.model_fields(found[0]).get(currency.rsplit(".", 1)[-1])
    owner = checker.type_of(field.obj)
    return cur is None or cur.maybe_empty or (owner is not None and owner.maybe_empty)


def _doc_note(checker: CheckContext, field: ast.Field) -> str:
    return checker.field_doc(field) or f"`{show(field)}` is documented by the Dodo SDK"


def _basis_points_hint(field: ast.Field) -> str:
    return (f"for the percentage, `{expr_text(field)} / 100` (540 becomes 5.4) under a name that says so, "
            "e.g. `discount_percent`; the amount of money a discount saved is not in the payload")


def check_to_major(checker: CheckContext, call: ast.Call) -> None:
    """W433: to_major() of a value in basis points."""
    if call.func != "to_major" or not call.args:
        return
    unit = unit_of(checker, call.args[0])
    if unit is None or unit[0] != "basis_points":
        return
    checker.report("W433", f"`{show(call.args[0])}` is in {_UNIT_WORDS['basis_points']}, not money: "
                   "to_major() divides it as if it were an amount", call.args[0].span,
                   notes=(_doc_note(checker, unit[2]),), hint=_basis_points_hint(unit[2]))


# --- one event's amount as a lifetime total -------------------------------------------------------

_TOTAL_WORDS = frozenset({"total", "lifetime", "ltv", "cumulative", "spent", "spend"})
_ONE_WORDS = frozenset({"last", "latest", "recent", "current", "previous", "first", "initial", "this", "next"})
# a plan's recurring price is the subscription's state, repeated each period, not one payment
_STATE_WORDS = frozenset({"mrr", "arr", "recurring", "plan", "price", "seat", "seats", "subscription"})


# conversions and formatting that leave "this event's amount" what it was
_KEEPS_THE_AMOUNT = frozenset({"to_major", "fixed", "round", "number", "string"})


def _amount_inside(value: ast.Expr) -> ast.Expr:
    """The amount under `to_major(x, c)`, `fixed(x / 100, 2)`, `number(x)` and the like: Dodo's own
    example writes `(total_amount / 100).toFixed(2)`, which is still one payment's amount."""
    while True:
        if isinstance(value, ast.Call) and value.func in _KEEPS_THE_AMOUNT and value.args:
            value = value.args[0]
        elif isinstance(value, ast.Binary) and value.op == "/" and isinstance(value.right, ast.Literal) \
                and isinstance(value.right.value, (int, float)) and not isinstance(value.right.value, bool):
            value = value.left
        else:
            return value


def check_total_trait(checker: CheckContext, call_kind: str, key: str, value: ast.Expr) -> None:
    """W446: an identify/group trait named as a running total set to this event's amount.

    Traits are the profile's current state and each call overwrites them: `total_spent:
    to_major(data.total_amount, ...)` holds the *last* payment, not the sum of them.
    """
    words = _key_words(key)
    if not words & _TOTAL_WORDS or words & (_ONE_WORDS | _STATE_WORDS):
        return
    unit = unit_of(checker, _amount_inside(value))
    if unit is None or unit[0] != "minor" or unit[2].name.startswith(("recurring", "trial")):
        return
    checker.report("W446", f"{call_kind} trait `{key}` is set to this event's amount (`{show(unit[2])}`): each "
                   f"{call_kind} call overwrites it, so it holds the last amount, not a total", value.span,
                   notes=("Segment's spec: traits are the current state of the user or account, replaced by each "
                          f"{call_kind} call; segmap keeps no running sum",),
                   hint="send the amount as `revenue` on the track call (destinations sum it), or name the trait "
                        "for what it holds, e.g. `last_payment_amount`")


# --- dates and their role -------------------------------------------------------------------

_START_WORDS = frozenset({"start", "starts", "started", "begin", "begins", "began", "from"})
_END_WORDS = frozenset({"end", "ends", "ended", "until", "through"})
_NEXT_WORDS = frozenset({"next", "upcoming", "renewal", "renews", "following"})
_PREVIOUS_WORDS = frozenset({"previous", "prev", "last", "prior", "past"})


@functools.lru_cache(maxsize=1024)
def _key_words(key: str) -> frozenset[str]:
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key)
    return frozenset(w.lower() for w in re.split(r"[\s_\-.]+", spaced) if w)


def check_period_role(checker: CheckContext, what: str, key: str, value: ast.Expr) -> None:
    """W445: `period_start: data.next_billing_date` -- the SDK says that date ends the period."""
    words = _key_words(key)
    says = "start" if words & _START_WORDS else "end" if words & _END_WORDS else None
    if says is None or (words & _START_WORDS and words & _END_WORDS):
        return
    inner = value.left if isinstance(value, ast.Binary) and value.op == "??" else value
    role = facts(checker, inner).get("role")
    if role is None or role == f"period_{says}":
        return
    if (role == "period_end" and words & _NEXT_WORDS) or (role == "period_start" and words & _PREVIOUS_WORDS):
        return  # `next_period_start: data.next_billing_date`: the next period starts where this one ends
    assert isinstance(inner, ast.Field)  # facts() are only found for a field read
    found = _model_field(checker, inner)
    other = None
    if found is not None:
        fields = T.model_fields(found[0])
        for name in fields:
            if T.field_facts(found[0], name).get("role") == f"period_{says}" \
                    and fields[name].maybe_empty == fields[inner.name].maybe_empty:
                other = f"{expr_text(inner.obj)}.{name}"
                break
    checker.report("W445", f"{what} says {says}, but `{show(inner)}` is the {role.split('_')[1]} of the period",
                   inner.span, suggestion=other,
                   notes=(_doc_note(checker, inner),))


# --- deprecated fields ------------------------------------------------------------------------

def check_deprecated(checker: CheckContext, e: ast.Field) -> None:
    """W447: a field the SDK documents as DEPRECATED, with the replacement its docstring names."""
    if e.name not in _names_with("deprecated"):
        return
    found = _model_field(checker, e)
    if found is None:
        return
    advice = T.field_facts(found[0], e.name).get("deprecated")
    if advice is None:
        return
    fix = _replacement(found[0], e, advice)
    checker.report("W447", f"`{show(e)}` is deprecated in the Dodo SDK: {advice}", e.name_span if fix is None else e.span,
                   suggestion=fix, notes=(_doc_note(checker, e),
                                          "a deprecated field can stop being sent in a later API version"))


def _replacement(model: str, e: ast.Field, advice: str) -> str | None:
    """`data.discounts[0].discount_id` for "Use discounts instead" on `discount_id` (the first
    discount's id, as the docstring says it returns), `...[0].cycles_remaining` for
    "Use discounts[].cycles_remaining"; None when the advice names no such field."""
    m = re.search(r"\b([a-z_]+)(?:\[\]\.([a-z_]+))?", advice.removeprefix("Use ").strip("` "))
    if not advice.startswith("Use ") or m is None:
        return None
    lst, item_field = m.group(1), m.group(2) or e.name
    ty = T.model_fields(model).get(lst)
    if ty is None or ty.required().kind != "list":
        return None
    item = ty.required().args[0].required()
    if item.kind != "model" or not item.name or item_field not in T.model_fields(item.name):
        return None
    return f"{expr_text(e.obj)}.{lst}[0].{item_field}"


# --- the SDK's advice on how to test a field -------------------------------------------------------

def _advice_for(checker: CheckContext, obj: ast.Expr, avoid: str, of: str) -> str | None:
    """The field of ``obj``'s model whose docstring advises against reading `of` that way."""
    owner = checker.type_of(obj)
    if owner is None or owner.required().kind != "model" or not owner.required().name:
        return None
    model = str(owner.required().name)
    for name in T.model_fields(model):
        for a in T.field_facts(model, name).get("advice", ()):
            if a["avoid"] == avoid and a["of"] == of:
                return name
    return None


@functools.cache
def _names_with(fact: str) -> frozenset[str]:
    """The field names, in any model, that have ``fact``; for ``advice``, the fields it is about.
    Checked first, so that reading any other field costs one set lookup."""
    names: set[str] = set()
    for model in load_snapshot()["models"].values():
        for name, f in model["fields"].items():
            value = f.get("facts", {}).get(fact)
            if value is not None:
                names.update(a["of"] for a in value) if fact == "advice" else names.add(name)
    return frozenset(names)


@functools.cache
def _watched_pairs() -> frozenset[tuple[str, str]]:
    """(model, field) pairs whose reads :func:`check_reads` looks at: a field set only for some
    events, and the fields a docstring of the same model advises how (not) to test."""
    pairs: set[tuple[str, str]] = set()
    for model, entry in load_snapshot()["models"].items():
        for name, f in entry["fields"].items():
            facts_ = f.get("facts", {})
            if "only_for" in facts_:
                pairs.add((model, name))
            pairs.update((model, a["of"]) for a in facts_.get("advice", ()))
    return frozenset(pairs)


def watched(owner: T.Ty, field: str) -> bool:
    """Whether reading ``field`` of a value of type ``owner`` matters to :func:`check_reads`."""
    base = owner.required()
    return base.kind == "model" and (str(base.name), field) in _watched_pairs()


def _null_test(node: ast.Expr) -> ast.Field | None:
    """`x.f == null` / `null != x.f` -> x.f."""
    if isinstance(node, ast.Binary) and node.op in ("==", "!="):
        for a, b in ((node.left, node.right), (node.right, node.left)):
            if isinstance(a, ast.Field) and isinstance(b, ast.Literal) and b.value is None:
                return a
    return None


def _length_test(node: ast.Expr) -> ast.Field | None:
    """`length(x.f) > 1` (any comparison) -> x.f."""
    if isinstance(node, ast.Binary) and node.op in ("==", "!=", "<", "<=", ">", ">="):
        for side in (node.left, node.right):
            if isinstance(side, ast.Call) and side.func == "length" and len(side.args) == 1 \
                    and isinstance(side.args[0], ast.Field):
                return side.args[0]
    return None


def check_reads(checker: CheckContext, exprs: Iterable[ast.Expr], non_null: frozenset[str]) -> None:
    """W448 and W449 over one call (its guard and every field), in one walk of its expressions;
    the checker calls it only for a call that reads a :func:`watched` field."""
    nodes = [n for e in exprs for n in ast.walk(e)]
    _check_advice(checker, nodes)
    _check_event_only(checker, nodes, non_null)


def _check_advice(checker: CheckContext, nodes: list[ast.Expr]) -> None:
    """W448: the SDK's "Do not read ..." advice.

    A null test of a field the call also reads elsewhere is a guard for that read, not
    a way to classify the payment, so only a field the call reads nowhere else is reported.
    """
    tested: list[tuple[ast.Expr, ast.Field]] = []
    reads: dict[str, int] = {}
    for node in nodes:
        field = _length_test(node)
        if field is not None:
            better = _advice_for(checker, field.obj, "length", field.name)
            if better is not None:
                fix = f"{expr_text(field.obj)}.{better}"
                multi = isinstance(node, ast.Binary) and _is_more_than_one(node)
                checker.report("W448", f"the Dodo SDK says not to read the length of `{show(field)}` to tell the "
                               f"kind of payment: read `{fix}`", node.span, suggestion=fix if multi else None,
                               notes=(_advice_note(checker, field.obj, better),),
                               hint=None if multi else f"`{fix}` is true when one payment starts more than one "
                                                       "subscription")
        tested_field = _null_test(node)
        if tested_field is not None:
            tested.append((node, tested_field))
        p = path_text(node) if isinstance(node, ast.Field) else None
        if p is not None:
            reads[p] = reads.get(p, 0) + 1
    for node, field in tested:
        p = path_text(field)
        if p is None or reads.get(p, 0) > sum(1 for _, f in tested if path_text(f) == p):
            continue  # the call reads the field too: the test guards that read
        better = _advice_for(checker, field.obj, "null", field.name)
        if better is None:
            continue
        checker.report("W448", f"the Dodo SDK says not to test `{p}` for null: a payment for several "
                       "subscriptions leaves it null too", node.span,
                       notes=(_advice_note(checker, field.obj, better),),
                       hint=_null_hint(checker, field.obj, better))


def _check_event_only(checker: CheckContext, nodes: list[ast.Expr], non_null: frozenset[str]) -> None:
    """W449: a field the SDK says is "set only for" other events, read where nothing handles its null.

    `payment_id` of a subscription is set only for `subscription.renewed`: in a
    `subscription.*` rule it sends null for every other event. A read that handles the
    null (`?? ...`, a null test of the same path anywhere in the call, a `when:` proving
    it) is deliberate and not reported.
    """
    event = checker.current_event
    handled = set(non_null)
    defaulted: set[int] = set()  # the reads on the left of a `??`
    candidates: list[ast.Field] = []
    for node in nodes:
        tested = _null_test(node)
        if tested is not None and (p := path_text(tested)) is not None:
            handled.add(p)
        if isinstance(node, ast.Binary) and node.op == "??":
            defaulted.add(id(node.left))
        elif isinstance(node, ast.Field):
            candidates.append(node)
    for field in candidates:
        p = path_text(field)
        if p is None or p in handled or id(field) in defaulted:
            continue
        only = facts(checker, field).get("only_for")
        if not only or event in only:
            continue
        checker.report("W449", f"`{p}` is always null here: the Dodo SDK sets it only for {', '.join(only)}",
                       field.span, notes=(_doc_note(checker, field),),
                       hint=f"read it in a call guarded by `when: type == \"{only[0]}\"`, or give a default: "
                            f"`{p} ?? ...`")


def _is_more_than_one(node: ast.Binary) -> bool:
    n = node.right.value if isinstance(node.right, ast.Literal) else None
    return isinstance(node.left, ast.Call) and ((node.op == ">" and n == 1) or (node.op == ">=" and n == 2))


def _advice_note(checker: CheckContext, obj: ast.Expr, better: str) -> str:
    owner = checker.type_of(obj)
    model = str(owner.required().name) if owner is not None else ""
    doc = T.field_doc(model, better) or ""
    said = T.field_facts(model, better).get("advice_said", "")
    return f"the Dodo SDK, `{better}`: {doc} {said}".rstrip()


def _null_hint(checker: CheckContext, obj: ast.Expr, better: str) -> str:
    base = expr_text(obj)
    owner = checker.type_of(obj)
    model = str(owner.required().name) if owner is not None else ""
    no_sub = next((n for n in T.model_fields(model)
                   if "no subscription" in T.field_facts(model, n).get("null_when", "")), None)
    one_time = f"a one-time payment: `{base}.{no_sub} == null` (the SDK: null when this payment charges no " \
        "subscription); " if no_sub else ""
    return f"to find {one_time}a payment for several subscriptions: `{base}.{better}`"
