"""What Segment expects of each field's value (HTTP API and Spec).

Kept apart from the expression checker so that the Segment-specific rules
read as one list. The checker calls in here with the types it inferred:

- :func:`check_field` -- one Segment field of one call (identity, event
  name, timestamp, the keys of `properties:` and `traits:`),
- :func:`check_templates` -- null values rendered into text templates,
- :func:`check_hundred` -- a hard-coded `/ 100` on a money amount,
- :func:`check_currency_pair` -- an amount converted with another field's currency,
- :func:`check_file` -- file-wide conventions (one casing for property keys).

Sources: Segment Spec (identify/group reserved traits, track reserved
properties, E-commerce v2 properties, naming best practices) and ISO 4217
(the currency exponents Dodo uses, ``segmap.runtime.currency``).
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Collection, Iterator

from segmap.compiler import sdk_checks, spec_checks
from segmap.compiler import types as T
from segmap.compiler.scope import CheckContext, Scope
from segmap.compiler.types import Ty
from segmap.compiler.wording import expr_text, path_text, show, suggest
from segmap.diagnostics.model import Span
from segmap.dsl import ast
from segmap.dsl.segment_fields import IDENTITY_FIELDS, OBJECT_FIELDS
from segmap.dsl.yaml_source import YScalar, yaml_reading
from segmap.runtime.currency import EXPONENTS, THREE_DECIMAL, ZERO_DECIMAL

# --- the tables ----------------------------------------------------------------

#: Reserved identify traits and what Segment expects of them (Spec: Identify).
IDENTIFY_TRAITS: dict[str, str] = {
    "address": "address", "age": "number", "avatar": "text", "birthday": "date", "company": "company",
    "createdAt": "datetime", "description": "text", "email": "text", "firstName": "text", "gender": "text",
    "id": "text", "lastName": "text", "name": "text", "phone": "text", "title": "text", "username": "text",
    "website": "text",
}
#: Reserved group traits (Spec: Group).
GROUP_TRAITS: dict[str, str] = {
    "address": "address", "avatar": "text", "createdAt": "datetime", "description": "text", "email": "text",
    "employees": "number", "id": "text", "industry": "text", "name": "text", "phone": "text", "website": "text",
    "plan": "text",
}
OBJECT_TRAIT_FIELDS = {
    "address": "city, country, postalCode, state, street",
    "company": "name, id, industry, employee_count, plan",
}

#: Track properties with a meaning in the Spec (reserved + E-commerce v2).
PROPERTY_KINDS: dict[str, str] = {
    "revenue": "number", "value": "number", "total": "number", "subtotal": "number", "tax": "number",
    "discount": "number", "shipping": "number", "price": "number", "quantity": "number",
    "currency": "currency", "products": "products",
    "order_id": "text", "checkout_id": "text", "product_id": "text", "sku": "text", "coupon": "text",
    "affiliation": "text",
}
#: Properties of each item of `products` (E-commerce v2).
PRODUCT_KINDS: dict[str, str] = {
    "price": "number", "quantity": "number", "position": "number", "product_id": "text", "sku": "text",
    "category": "text", "name": "text", "brand": "text", "variant": "text", "coupon": "text", "url": "text",
    "image_url": "text",
}
#: Keys written for a product property of the spec, by people porting from other tools (`id`,
#: `qty`); a key not listed but one typo from a spec key (`quantiy`) is caught by distance.
PRODUCT_KEY_SLIPS: dict[str, str] = {"id": "product_id", "productId": "product_id", "qty": "quantity",
                                     "title": "name", "product_name": "name", "unit_price": "price"}
#: The Spec's semantic event names (E-commerce v2, B2B SaaS), which destinations map by their exact
#: name (a "Order Completed" becomes a purchase in GA4, Amplitude revenue, ...).
SPEC_EVENTS = frozenset({
    "Products Searched", "Product List Viewed", "Product List Filtered", "Promotion Viewed", "Promotion Clicked",
    "Product Clicked", "Product Viewed", "Product Added", "Product Removed", "Cart Viewed", "Checkout Started",
    "Checkout Step Viewed", "Checkout Step Completed", "Payment Info Entered", "Order Updated", "Order Completed",
    "Order Refunded", "Order Cancelled", "Coupon Entered", "Coupon Applied", "Coupon Denied", "Coupon Removed",
    "Product Added to Wishlist", "Product Removed from Wishlist", "Wishlist Product Added to Cart",
    "Product Shared", "Cart Shared", "Product Reviewed",
    "Account Created", "Account Deleted", "Signed Up", "Signed In", "Signed Out", "Invite Sent",
    "Account Added User", "Account Removed User", "Trial Started", "Trial Ended",
})
#: Spec numbers worth a warning when they can be null (Segment records no revenue then).
NULL_SENSITIVE = ("revenue", "value", "total")

#: The last word of a key that names a single value: an object there is a mistake.
SCALAR_WORDS = frozenset({
    "email", "name", "id", "phone", "url", "currency", "amount", "revenue", "price", "total", "date", "at",
    "status", "method", "count", "quantity", "code", "country", "number", "spent", "city", "plan",
})
#: The last word of a key that names a money amount: text there is a mistake.
MONEY_WORDS = frozenset({"amount", "price", "revenue", "total", "subtotal", "spent"})

_MONEY_FIELD = re.compile(r"(^|_)(amount|tax|fee|refunds|chargebacks)($|_)")
_ISO_8601 = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?")
_MINOR_WORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "per",
                          "the", "to", "via", "with"})


def _words(key: str) -> list[str]:
    """`customerEmail`, `customer_email`, `Customer Email` -> ["customer", "email"]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", key)
    return [w.lower() for w in re.split(r"[\s_\-.]+", spaced) if w]


def _camel(key: str) -> str:
    words = _words(key)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:]) if words else key


# --- money -------------------------------------------------------------------------


def money_pair(checker: CheckContext, expr: ast.Expr) -> tuple[str, str, Ty] | None:
    """(amount path, currency path, currency type) when ``expr`` reads an integer money field.

    A money field is an integer amount/tax/fee field of a Dodo model that
    carries its currency: `settlement_*` amounts are in `settlement_currency`,
    the others in `currency`.
    """
    if not isinstance(expr, ast.Field):
        return None
    owner = checker.type_of(expr.obj)
    if owner is None or owner.required().kind != "model":
        return None
    fields = T.model_fields(owner.required().name)
    ty = fields.get(expr.name)
    if ty is None or ty.required().kind != "int" or not _MONEY_FIELD.search(expr.name):
        return None
    cur = "settlement_currency" if expr.name.startswith("settlement_") else "currency"
    if cur not in fields:
        return None
    base = path_text(expr.obj)
    if base is None:
        return None
    return f"{base}.{expr.name}", f"{base}.{cur}", fields[cur]


def _currency_examples(cur_ty: Ty) -> tuple[list[str], list[str]]:

    base = cur_ty.required()
    values = set(base.args) if base.kind == "enum" else ZERO_DECIMAL | THREE_DECIMAL
    well_known = ("JPY", "KRW", "VND", "CLP", "KWD", "BHD", "OMR", "JOD")
    order = lambda c: (c not in well_known, well_known.index(c) if c in well_known else 0, c)  # noqa: E731
    return sorted(values & ZERO_DECIMAL, key=order), sorted(values & THREE_DECIMAL, key=order)


def check_hundred(checker: CheckContext, e: ast.Binary, scope: Scope) -> None:
    """`amount / 100` (or `* 0.01`) on a money field whose currency may not have 2 decimals."""
    right = e.right
    if not isinstance(right, ast.Literal) or isinstance(right.value, bool):
        return
    if not ((e.op == "/" and right.value == 100) or (e.op == "*" and right.value == 0.01)):
        return
    pair = money_pair(checker, e.left)
    if pair is None:
        return
    amount, currency, cur_ty = pair
    zero, three = _currency_examples(cur_ty)
    if not zero and not three:
        return
    cur_doc = "`" + currency + "`"
    parts = []
    if zero:
        parts.append(f"0 decimals ({', '.join(zero[:4])}{', ...' if len(zero) > 4 else ''})")
    if three:
        parts.append(f"3 decimals ({', '.join(three[:4])}{', ...' if len(three) > 4 else ''})")
    checker.report("W430", f"`{e.op} {right.value}` assumes 2 decimals, but {cur_doc} can be a currency with "
                   + " or ".join(parts), e.span,
                   suggestion=f"to_major({amount}, {currency})",
                   notes=("Dodo sends amounts in the currency's smallest unit: 1500 JPY arrives as 1500 (yen), "
                          "12.345 KWD as 12345 (fils); `/ 100` turns them into 15 and 123.45",),
                   hint="to_major(amount, currency) divides by the currency's ISO 4217 exponent")


def check_currency_pair(checker: CheckContext, call: ast.Call) -> None:
    """`to_major(data.settlement_amount, data.currency)`: the amount's own currency is another field."""
    if len(call.args) != 2:
        return
    pair = money_pair(checker, call.args[0])
    given = path_text(call.args[1])
    if pair is None or given is None:
        return
    amount, currency, _ = pair
    if given != currency and given.rsplit(".", 1)[-1].endswith("currency"):
        checker.report("W431", f"`{amount}` is in `{currency}`, but it is converted with `{given}`", call.args[1].span,
                       suggestion=currency,
                       notes=("settlement amounts are in the settlement currency, which can differ from the "
                              "customer's currency (adaptive pricing)",))


# --- templates and nulls -------------------------------------------------------


def check_templates(checker: CheckContext, expr: ast.Expr, identity: str | None) -> None:
    """Holes of f"..." templates that can be null or absent render as empty text."""
    for node in ast.walk(expr):
        if not isinstance(node, ast.Template):
            continue
        for part in node.parts:
            if isinstance(part, str):
                continue
            t = checker.type_of(part)
            if t is None or not t.maybe_empty or t.kind in ("null",):
                continue
            src = show(part)
            if identity:
                checker.report("E303", f"`{identity}` can be incomplete: `{src}` is {t.describe()} and a null "
                               "renders as empty text in the template", part.span,
                               hint=f"guard the call with `when: {src} != null`, or give a default: `{src} ?? ...`",
                               notes=("two customers would then share one identity",))
            else:
                checker.report("W304", f"`{src}` can be null or absent ({t.describe()}); it renders as empty text "
                               "in this template", part.span,
                               hint=f'give a default inside the hole: {{{src} ?? "unknown"}}')


def _empty_words(ty: Ty) -> str:
    return "null or absent" if ty.nullable and ty.optional else "null" if ty.nullable else "absent"


# --- one field ---------------------------------------------------------------------


def check_field(checker: CheckContext, spec: ast.CallSpec, f: ast.FieldSpec, ty: Ty) -> None:
    base = ty.required()
    name = f.name
    is_identity = name in IDENTITY_FIELDS or (name == "event" and spec.kind == "track")
    check_templates(checker, f.value, name if is_identity else None)
    if name in OBJECT_FIELDS:
        if base.kind not in ("object", "model", "dict", "any", "null", "never", "union"):
            checker.report("E412" if base.kind in SCALARISH else "E301",
                           f"`{name}` must be an object, but `{show(f.value)}` is {ty.describe()}", f.value.span,
                           hint=f"write the {name} as a YAML mapping of name: expression")
            return
        if isinstance(f.value, ast.ObjectLit):
            if name == "properties":
                _check_properties(checker, f.value)
            elif name == "traits":
                _check_traits(checker, spec.kind, f.value)
            elif name == "context":
                spec_checks.check_context(checker, f.value)
            elif name == "integrations":
                spec_checks.check_integrations(checker, f.value)
        return
    if is_identity:
        _check_identity(checker, name, f.value, ty)
        spec_checks.check_personal_identity(checker, name, f.value)
        spec_checks.check_person_identity(checker, name, f.value)
        if name == "event":
            check_event_name(checker, f.value)
            check_spec_event_typo(checker, f.value)
        return
    if name == "timestamp":
        reported = _check_time(checker, "timestamp", f.value, ty, date_ok=False)
        if not reported and ty.maybe_empty and base.kind not in ("null", "any") \
                and not spec_checks.only_explicitly_empty(f.value, checker.type_of):
            checker.report("W304", f"`timestamp` can be {_empty_words(ty)}: `{show(f.value)}` is "
                           f"{ty.describe()}", f.value.span,
                           notes=("without it Segment stamps the call with the time it arrives",),
                           hint="use the envelope's `timestamp`, which is always set")
        return
    if name in ("name", "category"):
        _expect_scalar(checker, f"`{name}`", f.value, ty, "text")


SCALARISH = ("str", "int", "float", "bool", "datetime", "date", "enum")


def _check_identity(checker: CheckContext, name: str, value: ast.Expr, ty: Ty) -> None:
    base = ty.required()
    src = show(value)
    if base.kind in ("object", "model", "dict", "list"):
        _object_for_scalar(checker, f"`{name}`", value, ty, "text", key=name)
        return
    if isinstance(value, ast.Literal) and value.value is None:
        checker.report("E303", f"`{name}` is always null", value.span, notes=("Segment drops a call without its identity",))
        return
    if base.kind in ("int", "float", "bool"):
        checker.report("W412", f"`{name}` should be text, but `{src}` is {ty.describe()}", value.span,
                       suggestion=f"string({src})", notes=("Segment's HTTP API types ids and event names as strings",))
    arg = value.args[0] if isinstance(value, ast.Call) and value.func == "string" and value.args else None
    inner = checker.type_of(arg) if arg is not None else None
    if arg is not None and inner is not None and inner.nullable:
        isrc = show(arg)
        checker.report("E303", f"`{name}` can be the text \"null\": string() turns a null `{isrc}` into \"null\"",
                       arg.span, hint=f"guard the call with `when: {isrc} != null`",
                       notes=("every event without the field would share the identity \"null\"",))
    elif ty.maybe_empty and not isinstance(value, ast.Literal) and base.kind != "null":
        checker.report("E303", f"`{name}` can be {_empty_words(ty)}: `{src}` is {ty.describe()}", value.span,
                       hint=f"give a default (`{src} ?? ...`) or guard the call with `when: {src} != null`",
                       notes=("Segment drops a call without its identity",))


# --- event names -----------------------------------------------------------------


def title_case(name: str) -> str:
    """The "Object Action" Title Case form of an event name: `payment_completed` -> `Payment Completed`."""
    out = []
    for i, w in enumerate(re.split(r"[\s_\-.]+|(?<=[a-z0-9])(?=[A-Z])", name.strip())):
        if not w:
            continue
        if i and w.lower() in _MINOR_WORDS:
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


_KEBAB_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+")
_NO_SPAN = Span("", 0, 0)  # for a scalar made up to ask how YAML would read a name


def event_name_problem(name: str) -> str | None:
    """Why ``name`` is not Title Case "Object Action", or None."""
    if not name.strip():
        return "the event name is empty"
    if name != name.strip() or "  " in name:
        return "it has extra spaces"
    if not any(ch.isalpha() for ch in name) or yaml_reading(YScalar(name, _NO_SPAN, None)) is not None:
        return None  # YAML-typed plain names get E013/W013 from the loader
    if "_" in name:
        return "it is snake_case"
    # kebab-case is a lower-case word joined by hyphens (`order-completed`); a hyphenated word in
    # Title Case (`One-Time Purchase`, `Sign-up Completed`) is an ordinary English compound.
    if any(_KEBAB_WORD.fullmatch(w) for w in name.split(" ")):
        return "it is kebab-case"
    if re.search(r"[a-z]\.[a-z]", name):
        return "it looks like a Dodo event type, not a Segment event name"
    words = name.split(" ")
    for i, w in enumerate(words):
        if re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", w):
            return "it is camelCase"
        first = w[:1]
        if first.isalpha() and first.islower() and not (i and w in _MINOR_WORDS):
            return "it is not Title Case"
    return None


def check_event_name(checker: CheckContext, value: ast.Expr) -> None:
    """Title Case "Object Action" names (W420); no data in names (W421)."""
    for text, node in _name_parts(value):
        if text is None:
            checker.report("W421", "the event name is built from data", node.span,
                           notes=("Segment's naming guide: keep event names static and put the varying part in a "
                                  "property, so that reports group one event",),
                           hint="use a fixed name (branches with `if ... then \"A Done\" else \"B Done\"` are fine) "
                                "and send the value as a property")
            continue
        problem = event_name_problem(text)
        if problem:
            fixed = title_case(text)
            checker.report("W420", f"event name \"{text}\" is not \"Object Action\" in Title Case: {problem}", node.span,
                           suggestion=fixed if fixed and fixed != text else None,
                           notes=("Segment's naming convention: an object and a past-tense action, each word capitalised, "
                                  "e.g. \"Order Completed\", \"Subscription Cancelled\"",))


def _name_parts(value: ast.Expr) -> Iterator[tuple[str | None, ast.Expr]]:
    """(text, literal) for each constant branch of an event-name expression, (None, node) for data."""
    if isinstance(value, ast.Literal):
        if isinstance(value.value, str):
            yield value.value, value
        return
    if isinstance(value, ast.Cond):
        yield from _name_parts(value.then)
        yield from _name_parts(value.orelse)
        return
    if isinstance(value, ast.Binary) and value.op == "??":
        yield from _name_parts(value.left)
        yield from _name_parts(value.right)
        return
    yield None, value


# --- timestamps ------------------------------------------------------------------

_TIME_NAME = re.compile(r"(?:^|_)(?:at|on|date|time|timestamp|datetime)$|(?:date|time|timestamp)$", re.I)


def _names_a_time(value: ast.Expr) -> bool:
    """Whether ``value`` reads a field whose name says it is a time (`created_at`, `paid_on`, `date`)."""
    path = path_text(value)
    return path is not None and bool(_TIME_NAME.search(path.rsplit(".", 1)[-1]))


def _datetime_fields(checker: CheckContext) -> str:
    """`, or one of the event's datetime fields: data.created_at, ...` for the event being checked."""
    data = dict(T.envelope_type(checker.current_event).args).get("data") if checker.current_event else None
    if data is None or data.required().kind != "model":
        return ""
    found = [f"data.{n}" for n, t in T.model_fields(data.required().name).items()
             if t.required().kind in ("datetime", "date")]
    return f", or one of the event's datetime fields: {', '.join(found[:4])}" if found else ""


def _check_time(checker: CheckContext, what: str, value: ast.Expr, ty: Ty, date_ok: bool) -> bool:
    """ISO-8601 times (E413/W413); True when something was reported."""
    base = ty.required()
    if base.kind in ("any", "null", "never"):
        return False
    kinds = {o.kind for o in (base.args if base.kind == "union" else (base,))}
    if kinds <= {"datetime", "date"}:
        return False
    src = show(value)
    if kinds & {"model", "object", "dict", "list"}:
        _object_for_scalar(checker, what, value, ty, "an ISO-8601 time")
        return True
    if isinstance(value, ast.Literal) and isinstance(value.value, str):
        if not _ISO_8601.fullmatch(value.value):
            checker.report("E413", f"{what} \"{value.value}\" is not an ISO-8601 time", value.span,
                           notes=("Segment reads times as ISO-8601 text such as 2025-01-01T00:48:46.533Z",))
            return True
        return False
    if base.is_stringy:
        empty = f" and can be {_empty_words(ty)}" if ty.maybe_empty else ""
        # iso_time() is offered only for text that names a time: on anything else (an id, a
        # status) it would fail on every event, so the hint says where the times are instead
        timely = _names_a_time(value)
        checker.report("W413", f"{what} should be an ISO-8601 time, but `{src}` is text not known to be one "
                       f"({ty.describe()}){empty}", value.span, suggestion=f"iso_time({src})" if timely else None,
                       notes=("iso_time() checks the value and normalises it to YYYY-MM-DDTHH:MM:SS.sssZ; "
                              "the envelope's `timestamp` and the SDK's datetime fields already are ISO-8601",),
                       hint=None if timely else f"`{src}` does not name a time: use the envelope's `timestamp`"
                       + _datetime_fields(checker))
        return True
    hint = None
    if kinds & {"int", "float"}:
        hint = "Segment does not read epoch numbers; use the envelope's `timestamp` or a datetime field"
    checker.report("E413", f"{what} must be an ISO-8601 time, but `{src}` is {ty.describe()}", value.span, hint=hint,
                   notes=("Segment reads times as ISO-8601 text such as 2025-01-01T00:48:46.533Z",))
    return True


# --- properties and traits ---------------------------------------------------------


def _check_properties(checker: CheckContext, obj: ast.ObjectLit) -> None:
    for entry in obj.entries:
        kind = PROPERTY_KINDS.get(entry.key) or _guess_kind(entry.key)
        if kind:
            _check_entry(checker, f"property `{entry.key}`", entry, kind, spec_key=entry.key in PROPERTY_KINDS)
        _check_meaning(checker, f"property `{entry.key}`", entry)


def _check_meaning(checker: CheckContext, what: str, entry: ast.ObjectEntry) -> None:
    """What the SDK says the value means against what Segment's key says (sdk_checks)."""
    sdk_checks.check_money_property(checker, what, entry.key, entry.value, checker.current_non_null)
    if entry.key == "coupon":
        spec_checks.check_coupon(checker, what, entry.value)
    sdk_checks.check_period_role(checker, what, entry.key, entry.value)


def _check_traits(checker: CheckContext, call_kind: str, obj: ast.ObjectLit) -> None:
    reserved = IDENTIFY_TRAITS if call_kind == "identify" else GROUP_TRAITS if call_kind == "group" else {}
    for entry in obj.entries:
        canon = _camel(entry.key)
        kind = reserved.get(entry.key) or reserved.get(canon)
        if kind:
            _check_entry(checker, f"reserved trait `{entry.key}`", entry, kind, spec_key=True)
        else:
            guess = _guess_kind(entry.key)
            if guess:
                _check_entry(checker, f"trait `{entry.key}`", entry, guess, spec_key=False)
        sdk_checks.check_period_role(checker, f"trait `{entry.key}`", entry.key, entry.value)
        if call_kind in ("identify", "group"):
            sdk_checks.check_total_trait(checker, call_kind, entry.key, entry.value)


def _guess_kind(key: str) -> str | None:
    words = _words(key)
    if not words:
        return None
    if words[-1] in MONEY_WORDS:
        return "money"
    if words[-1] in SCALAR_WORDS:
        return "scalar"
    return None


def _check_entry(checker: CheckContext, what: str, entry: ast.ObjectEntry, kind: str, spec_key: bool) -> None:
    value = entry.value
    ty = checker.type_of(value)
    if ty is None:
        return
    base = ty.required()
    if base.kind in ("any", "never", "null"):
        return
    if kind in ("number", "money"):
        _expect_number(checker, what, entry, ty, strict=spec_key)
    elif kind == "currency":
        _check_currency(checker, what, value, ty)
    elif kind in ("datetime", "date"):
        _check_time(checker, what, value, ty, date_ok=kind == "date")
    elif kind in ("address", "company"):
        if base.kind not in ("model", "object", "dict", "union"):
            checker.report("E412", f"{what} must be an object ({OBJECT_TRAIT_FIELDS[kind]}), but `"
                           f"{show(value)}` is {ty.describe()}", value.span,
                           hint=f"write it as a mapping, e.g. {kind}: {{{OBJECT_TRAIT_FIELDS[kind].split(', ')[0]}: ...}}")
    elif kind == "products":
        _check_products(checker, what, value, ty)
    else:  # text / scalar
        _expect_scalar(checker, what, value, ty, "text" if kind == "text" and spec_key else None, key=entry.key)
    if spec_key and entry.key in NULL_SENSITIVE and ty.maybe_empty \
            and not spec_checks.only_explicitly_empty(value, checker.type_of):
        checker.report("W304", f"{what} can be {_empty_words(ty)}: `{show(value)}` is {ty.describe()}",
                       value.span, notes=("Segment then records no revenue for the call",),
                       hint="guard the call with `when:` or give a default with `??`")


def _expect_number(checker: CheckContext, what: str, entry: ast.ObjectEntry, ty: Ty, strict: bool) -> None:
    value = entry.value
    base = ty.required()
    if base.kind in ("model", "object", "dict", "list"):
        _object_for_scalar(checker, what, value, ty, "a number", key=entry.key)
        return
    if base.could_be(lambda t: t.is_numeric) and not base.could_be(lambda t: t.is_stringy or t.kind == "bool"):
        return
    if base.kind == "bool" and not strict:
        return
    src = show(value)
    fix = _number_fix(checker, value)
    hint = None if fix else "send a number: to_major(amount, currency) converts Dodo's minor units"
    if fix is not None and fix.startswith("number(") and entry.key not in ("age", "employees", "quantity", "position"):
        # text that is money: number() would check clean and be wrong if the text holds minor
        # units (1250 for 12.50); no safe fix, so the hint says what to find out
        fix = None
        hint = (f"no safe fix: `{src}` is text, and nothing says whether it holds minor units (1250 for 12.50) or "
                f"major units; look at a real event, then use number({src}) for major units or "
                f"to_major(number({src}), <its currency>) for minor units")
    if entry.key in ("age", "employees", "quantity", "position"):
        notes = (f"Segment's spec defines `{entry.key}` as a number",)
    else:
        notes = ("Segment and its destinations sum `revenue`, `total`, `value` and prices as numbers; "
                 "text such as \"19.99\" is dropped or counted as 0",)
    checker.report("W410", f"{what} should be a number, but `{src}` is {ty.describe()}", value.span,
                   suggestion=fix, notes=notes, hint=hint)


def _number_fix(checker: CheckContext, value: ast.Expr) -> str | None:
    inner = value
    if isinstance(value, ast.Call) and value.func == "fixed" and value.args:
        inner = value.args[0]
        if isinstance(inner, ast.Binary) and inner.op in ("/", "*"):
            pair = money_pair(checker, inner.left)
            if pair is not None:
                return f"to_major({pair[0]}, {pair[1]})"
        return f"round({expr_text(inner)}, {expr_text(value.args[1])})" if len(value.args) > 1 else None
    pair = money_pair(checker, value)
    if pair is not None:
        return f"to_major({pair[0]}, {pair[1]})"
    if isinstance(value, ast.Call) and value.func == "string" and len(value.args) == 1:
        inner_t = checker.type_of(value.args[0])
        if inner_t is not None and inner_t.required().is_numeric:
            return expr_text(value.args[0])
    t = checker.type_of(value)
    if t is not None and t.required().is_stringy and not isinstance(value, ast.Literal):
        return f"number({expr_text(value)})"
    if isinstance(value, ast.Literal) and isinstance(value.value, str):
        try:
            float(value.value)
        except ValueError:
            return None
        return value.value
    return None


def _check_currency(checker: CheckContext, what: str, value: ast.Expr, ty: Ty) -> None:
    base = ty.required()
    if base.kind in ("model", "object", "dict", "list"):
        _object_for_scalar(checker, what, value, ty, "a currency code")
        return
    if isinstance(value, ast.Literal) and isinstance(value.value, str):
        code = value.value
        if code not in EXPONENTS:
            sugg = _currency_guess(code, EXPONENTS)
            checker.report("W411", f"{what} \"{code}\" is not an ISO 4217 currency code", value.span,
                           suggestion=f'"{sugg}"' if sugg else None,
                           notes=("Segment expects a three-letter upper-case ISO 4217 code; without a valid one "
                                  "it assumes USD",))
        return
    if isinstance(value, ast.Call) and value.func == "lower":
        checker.report("W411", f"{what} is lower-cased, but ISO 4217 codes are upper-case", value.span,
                       suggestion=expr_text(value.args[0]) if value.args else None)
        return
    if not base.could_be(lambda t: t.is_stringy):
        checker.report("W412", f"{what} should be a currency code, but `{show(value)}` is {ty.describe()}",
                       value.span)


_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "USD$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR",
                     "₩": "KRW", "C$": "CAD", "A$": "AUD", "R$": "BRL", "CHF": "CHF", "₽": "RUB", "₺": "TRY"}


def _currency_guess(code: str, known: Collection[str]) -> str | None:
    if code.strip() in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[code.strip()]
    letters = "".join(ch for ch in code if ch.isalpha()).upper()
    if letters in known:
        return letters
    return suggest(letters, list(known), cutoff=0.7) if len(letters) == 3 else None


def _check_products(checker: CheckContext, what: str, value: ast.Expr, ty: Ty) -> None:
    base = ty.required()
    if base.kind in ("model", "object", "dict") or base.kind in SCALARISH:
        checker.report("E412", f"{what} must be a list of product objects, but `{show(value)}` is "
                       f"{ty.describe()}", value.span,
                       hint="map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})")
        return
    items: list[ast.ObjectLit] = []
    if isinstance(value, ast.ListLit):
        items = [i for i in value.items if isinstance(i, ast.ObjectLit)]
    elif isinstance(value, ast.Call) and value.func == "map" and len(value.args) == 2 \
            and isinstance(value.args[1], ast.Lambda) and isinstance(value.args[1].body, ast.ObjectLit):
        items = [value.args[1].body]
    for item in items:
        check_product_keys(checker, item)
        for entry in item.entries:
            kind = PRODUCT_KINDS.get(entry.key) or _guess_kind(entry.key)
            if kind:
                _check_entry(checker, f"product property `{entry.key}`", entry, kind, spec_key=entry.key in PRODUCT_KINDS)
            _check_meaning(checker, f"product property `{entry.key}`", entry)


def _expect_scalar(checker: CheckContext, what: str, value: ast.Expr, ty: Ty, want: str | None, key: str | None = None) -> None:
    base = ty.required()
    if base.kind in ("model", "object", "dict", "list"):
        _object_for_scalar(checker, what, value, ty, "text" if want == "text" else "a single value", key=key)
        return
    if want == "text" and base.kind in ("int", "float", "bool") and not isinstance(value, ast.Literal):
        src = show(value)
        checker.report("W412", f"{what} should be text, but `{src}` is {ty.describe()}", value.span,
                       suggestion=f"string({src})")


def _object_for_scalar(checker: CheckContext, what: str, value: ast.Expr, ty: Ty, want: str, key: str | None = None) -> None:
    """E412: an object or list where Segment expects one value, with the likely field as did-you-mean."""
    src = show(value)
    suggestion = None
    base = ty.required()
    if key and base.kind == "model" and path_text(value):
        fields = T.model_fields(base.name)
        words = _words(key)
        candidates = [key, "_".join(words), words[-1] if words else key, f"{words[-1]}_id" if words else key]
        if key in ("userId", "groupId", "anonymousId", "previousId"):
            candidates = ["customer_id", "id"] + candidates
        for c in candidates:
            if c in fields and fields[c].required().kind in SCALARISH:
                suggestion = f"{path_text(value)}.{c}"
                break
        if suggestion is None and words:
            for fname, fty in fields.items():
                if fname.endswith("_" + words[-1]) and fty.required().kind in SCALARISH:
                    suggestion = f"{path_text(value)}.{fname}"
                    break
    kind_word = "a list" if base.kind == "list" else "an object"
    checker.report("E412", f"{what} must be {want}, but `{src}` is {kind_word} ({ty.describe()})", value.span,
                   suggestion=suggestion,
                   notes=("Segment stores this as a single value; destinations drop or stringify objects "
                          "(\"[object Object]\")",))


# --- the whole file --------------------------------------------------------------

_STYLES = (
    ("snake_case", re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")),
    ("camelCase", re.compile(r"[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+")),
    ("PascalCase", re.compile(r"(?:[A-Z][a-z0-9]+){2,}")),
    ("kebab-case", re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+")),
)
# Keys with spaces (`"display name"`, the README's own example) have no casing to compare:
# Title Case is a convention for event names (W420), not for keys, so they get no style.


def key_style(key: str) -> str | None:
    """The casing of a multi-word key (None for one-word keys and anything unusual)."""
    for name, pattern in _STYLES:
        if pattern.fullmatch(key):
            return name
    return None


def restyle(key: str, style: str) -> str:
    words = _words(key)
    if not words:
        return key
    if style == "snake_case":
        return "_".join(words)
    if style == "camelCase":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style == "PascalCase":
        return "".join(w.capitalize() for w in words)
    if style == "kebab-case":
        return "-".join(words)
    return " ".join(w.capitalize() for w in words)


def _object_keys(expr: ast.Expr) -> Iterator[ast.ObjectEntry]:
    for node in ast.walk(expr):
        if isinstance(node, ast.ObjectLit):
            yield from node.entries


def check_file(checker: CheckContext, mapping: ast.MappingFile) -> None:
    """W422: one casing for property keys (and one for trait keys) in a file."""
    groups: dict[str, list[ast.ObjectEntry]] = {"properties": [], "traits": []}
    specs = list(mapping.defaults) + [f for rule in mapping.rules for call in rule.calls for f in call.fields]
    for f in specs:
        if f.name in groups:
            groups[f.name].extend(_object_keys(f.value))
    spec_names = set(IDENTIFY_TRAITS) | set(GROUP_TRAITS)  # Segment's own spelling (createdAt) is never wrong
    for group, entries in groups.items():
        styled = [(e, None if group == "traits" and e.key in spec_names else key_style(e.key)) for e in entries]
        counts = Counter(s for _, s in styled if s)
        if len(counts) < 2:
            continue
        first_seen = {s: i for i, (_, s) in reversed(list(enumerate(styled))) if s}
        main = max(counts, key=lambda s: (counts[s], -first_seen[s]))
        word = "property" if group == "properties" else "trait"
        for entry, style in styled:
            if style and style != main:
                checker.report("W422", f"{word} key `{entry.key}` is {style}, but this file's {word} keys are {main}",
                               entry.key_span, suggestion=restyle(entry.key, main),
                               notes=(f"{counts[main]} {word} key{'s' if counts[main] != 1 else ''} use {main}; "
                                      "destinations treat `order_id` and `orderId` as two different fields",))


# --- spec names one typo away ---------------------------------------------------------------


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance (a swap of two neighbours counts 1), cut off above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]


def _one_typo(word: str, target: str) -> bool:
    """A slip of the fingers: one edit for short words, two for words of 6 letters or more."""
    return word != target and edit_distance(word, target) <= (1 if min(len(word), len(target)) < 6 else 2)


@functools.lru_cache(maxsize=256)
def near_spec_event(name: str) -> str | None:
    """The Spec event ``name`` is one typo away from (one word differs by a slip), or None."""
    if name in SPEC_EVENTS:
        return None
    words = name.split(" ")
    for spec in sorted(SPEC_EVENTS):
        theirs = spec.split(" ")
        if len(theirs) != len(words):
            continue
        differ = [(w, t) for w, t in zip(words, theirs) if w.lower() != t.lower()]
        if len(differ) == 1 and _one_typo(differ[0][0].lower(), differ[0][1].lower()):
            return spec
    return None


def check_spec_event_typo(checker: CheckContext, value: ast.Expr) -> None:
    """W423: `Order Compelted` -- a Spec event name with a slip is a different event to every destination."""
    for text, node in _name_parts(value):
        if text is None or event_name_problem(text):
            continue
        spec = near_spec_event(text)
        if spec:
            checker.report("W423", f"event name \"{text}\" is one slip away from Segment's spec event \"{spec}\"",
                           node.span, suggestion=spec,
                           notes=("destinations recognise the spec's event names exactly (an \"Order Completed\" "
                                  "becomes a purchase with its revenue); any other spelling is a custom event",))


def check_product_keys(checker: CheckContext, item: ast.ObjectLit) -> None:
    """W424: a product's `id` / `qty` / `quantiy` where the E-commerce spec names `product_id`, `quantity`."""
    present = {e.key for e in item.entries}
    for entry in item.entries:
        if entry.key in PRODUCT_KINDS:
            continue
        target = PRODUCT_KEY_SLIPS.get(entry.key) or next(
            (k for k in sorted(PRODUCT_KINDS) if len(entry.key) >= 4 and _one_typo(entry.key, k)), None)
        if target is None or target in present:
            continue
        checker.report("W424", f"product key `{entry.key}` is not in Segment's E-commerce spec; its product "
                       f"property is `{target}`", entry.key_span, suggestion=target,
                       notes=("the spec's product properties: " + ", ".join(sorted(PRODUCT_KINDS)),
                              "destinations read products by these names; other keys are kept as custom data"))
