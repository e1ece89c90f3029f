"""Mistakes of meaning: mappings that type-check, run, and send the wrong thing.

What a reviewer who knows both Dodo and Segment would flag, built from
porting work (correct twins first: examples/ and tests/check/correct/ check
clean; the broken ones are tests/check/catalogue/w44*.yaml):

- W440 -- a YAML indentation slip that silently changes meaning: a call's own
  key (`when`, `userId`, `groupId`, `event`, ...) indented under
  `properties:` or `traits:` becomes a property named `when`, and the call
  loses its guard or identity without any error (`timestamp` too, when the
  call, defaults included, has none of its own: a property named timestamp
  beside the call's own is common and deliberate);
- W441 -- an `alias` whose `previousId` is the same value as its `userId`:
  Segment merges nothing (Segment's identity spec: alias joins two
  different ids);
- W442 -- a `group` whose `groupId` is the same value as its `userId`: the
  "account" is the person (Segment's B2B spec: a group is a company, team
  or account the user belongs to);
- W443 -- `to_major(amount, "USD")` with a constant currency where the
  amount's own object carries a `currency` field: every non-USD payment is
  converted with the wrong exponent (1500 JPY becomes 15);
- W444 -- `timestamp` taken from another date of the payload (`created_at`
  of a renewed subscription, `next_billing_date`): Segment orders a user's
  events by it, so the renewal lands where the subscription began.

Each check compares expressions by their text and reads only what the
checker already inferred, so a correct mapping (all of examples/ and the
docs) gets none of them.
"""
from __future__ import annotations

from collections.abc import Iterable

from segmap.compiler import types as T
from segmap.compiler.scope import CheckContext
from segmap.compiler.wording import expr_text, path_text
from segmap.dsl import ast
from segmap.runtime.currency import EXPONENTS

# keys that belong to the call, not inside properties/traits
_CALL_KEYS = {
    "when": "the call's guard (the call is now made for every event)",
    "userId": "the call's user identity (the call is sent with the default userId, or none)",
    "anonymousId": "the call's anonymous identity",
    "groupId": "the call's group",
    "previousId": "the alias call's previous id",
    "event": "the track call's event name",
    "context": "the call's context object",
    "integrations": "the call's integrations object",
}
# keys that are ordinary property names as often as call keys: a slip only when the call lacks its own
_CALL_KEYS_IF_MISSING = {
    "timestamp": "the call's time (Segment stamps the call with the time it arrives instead)",
}


def check_call(checker: CheckContext, spec: ast.CallSpec, fields: Iterable[ast.FieldSpec]) -> None:
    """The meaning checks of one call (``fields``: the planned fields, defaults included)."""
    by_name = {f.name: f for f in fields}
    for payload in ("properties", "traits"):
        f = by_name.get(payload)
        if f is not None and not f.from_defaults and isinstance(f.value, ast.ObjectLit):
            for entry in f.value.entries:
                meant = _CALL_KEYS.get(entry.key) or (
                    _CALL_KEYS_IF_MISSING.get(entry.key) if entry.key not in by_name else None)
                if meant is None or (entry.key == "event" and spec.kind != "track"):
                    continue
                checker.report("W440", f"`{entry.key}` is indented under `{payload}:`, so it is sent as a "
                               f"{'property' if payload == 'properties' else 'trait'} named {entry.key}, "
                               f"not as {meant}", entry.key_span,
                               notes=(f"`{entry.key}:` belongs at the level of `{payload}:`, beside the call key",),
                               hint=f"outdent `{entry.key}:` to the call's level; if a {payload[:-1] if payload == 'traits' else 'property'} "
                               "of that name is really meant, rename it (`order_when`, `customer_user_id`)")
    user = by_name.get("userId")
    if spec.kind == "alias" and user is not None and "previousId" in by_name:
        previous = by_name["previousId"]
        if _same(previous.value, user.value):
            checker.report("W441", f"`previousId` and `userId` are the same value (`{expr_text(user.value)}`): "
                           "this alias joins an id to itself", previous.value.span,
                           notes=("Segment's alias call merges two different identities: the id the user had "
                                  "before (an anonymous or an old id) into the one they have now",),
                           hint="give previousId the earlier id, e.g. an id stored in the customer's metadata")
    if spec.kind == "group" and user is not None and "groupId" in by_name:
        group = by_name["groupId"]
        if _same(group.value, user.value):
            checker.report("W442", f"`groupId` is the user's own id (`{expr_text(user.value)}`): the group is "
                           "the person, not an account", group.value.span,
                           notes=("Segment's B2B spec: a group is the company, team or account the user "
                                  "belongs to (for Dodo, often the subscription or the business)",),
                           hint="use the account's id, e.g. `data.subscription_id` or `business_id`")


def check_time(checker: CheckContext, fields: Iterable[ast.FieldSpec], event: str) -> None:
    """W444: `timestamp` taken from another date of the payload than the event's own time."""
    f = next((f for f in fields if f.name == "timestamp"), None)
    if f is None:
        return
    path = path_text(f.value)
    ty = checker.type_of(f.value)
    if path is None or not path.startswith("data.") or ty is None or ty.required().kind not in ("datetime", "date"):
        return
    name = path.rsplit(".", 1)[-1]
    action = event.rsplit(".", 1)[-1]
    if name == "created_at" and action in _CREATION_EVENTS:
        return  # the object's creation is the event
    stem = name.removesuffix("_at").removesuffix("_date").removesuffix("_on")
    if stem[:5] == action[:5]:
        return  # `cancelled_at` of subscription.cancelled, `expires_at` of an expired one: the event's own time
    what = {"created_at": "when the object was created", "updated_at": "when the object last changed"}.get(
        name, f"the payload's `{name}`")
    checker.report("W444", f"`timestamp` is `{path}`, {what}, not when {event} happened", f.value.span,
                   suggestion="timestamp",
                   notes=("Segment orders a user's events by `timestamp`; the envelope's `timestamp` is when Dodo "
                          "sent the event",),
                   hint=f"send `{path}` as a property if it matters")


# the action part of event types whose event *is* the creation of the object (`created_at` is its time)
_CREATION_EVENTS = {"created", "opened", "detected"}


def check_constant_currency(checker: CheckContext, call: ast.Call) -> None:
    """W443: `to_major(x.amount, "USD")` where ``x`` has a `currency` field of its own."""
    if call.func != "to_major" or len(call.args) != 2:
        return
    amount, currency = call.args
    if not (isinstance(currency, ast.Literal) and isinstance(currency.value, str)) or currency.value not in EXPONENTS:
        return  # an unknown code is E301 already
    if not isinstance(amount, ast.Field):
        return
    owner = checker.type_of(amount.obj)
    if owner is None or owner.required().kind != "model":
        return
    field = T.model_fields(owner.required().name).get("currency")
    owner_path = path_text(amount.obj)
    if field is None or owner_path is None:
        return
    fix = f"{owner_path}.currency"
    checker.report("W443", f"`{path_text(amount) or expr_text(amount)}` is converted as {currency.value}, "
                   f"but its object carries its own currency (`{fix}`)", currency.span,
                   suggestion=fix if not field.maybe_empty else None,
                   notes=("to_major() divides by the currency's exponent: 1500 JPY converted as USD becomes 15, "
                          "12345 KWD becomes 123.45",),
                   hint=None if not field.maybe_empty else
                   f"use `{fix}` (it can be null: guard the call with `when: {fix} != null`)")


def _same(a: ast.Expr, b: ast.Expr) -> bool:
    """Whether two expressions are written the same (spans aside)."""
    return expr_text(a) == expr_text(b)
