"""Writes the blind set: correct mappings and their one-slip twins, plus manifest.json.

Why a generator: every bad file must be its ok twin with exactly one realistic slip, and
the slip's line must be known without running the checker. Each pair is written here as a
correct mapping and one line edit (replace, insert or delete); the bad file and the line
of the slip are computed from that edit, so the manifest cannot drift from the files.

The set was written blind: from README.md, docs/authoring.md, docs/functions.md,
examples/, the `segmap init` starter, the `dodopayments` SDK models' field docstrings and
Segment's public specs, without reading the checker's source or its catalogue. It was
committed before the checker was first run on it (see RESULTS.md).

Run: python bench/blind/write_pairs.py   (rewrites bench/blind/*.yaml and manifest.json)
Halves: set A = odd ids, set B = even ids.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- shared mapping pieces

HDR = """version: 1

defaults:
  userId: data.customer.customer_id
  timestamp: timestamp

events:
"""

# no timestamp default: the call sets its own
HDR_CALL_TS = """version: 1

defaults:
  userId: data.customer.customer_id

events:
"""

HDR_BUSINESS = """version: 1

defaults:
  userId: f"business:{business_id}"
  timestamp: timestamp

events:
"""

ORDER = """  payment.succeeded:
    - track: Order Completed
      when: not data.is_update_payment_method
      properties:
        order_id: data.payment_id
        total: to_major(data.total_amount, data.currency)
        revenue: to_major(data.total_amount - (data.tax ?? 0), data.currency)
        tax: to_major(data.tax ?? 0, data.currency)
        coupon: data.discounts[0].code
        currency: data.currency
        products: 'map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})'
"""

IDENTIFY = """    - identify:
      traits:
        email: data.customer.email
        name: data.customer.name
"""

REFUND = """  refund.succeeded:
    - track: Order Refunded
      when: data.amount != null and data.currency != null
      properties:
        order_id: data.payment_id
        refund_id: data.refund_id
        total: to_major(data.amount, data.currency)
        currency: data.currency
        reason: data.reason
        partial: data.is_partial
"""

GROUP = """  subscription.active:
    - group:
      groupId: data.subscription_id
      traits:
        name: data.customer_business_name ?? data.customer.name
        plan: data.product_id
        status: data.status
        seats: data.quantity
        billing_amount: to_major(data.recurring_pre_tax_amount, data.currency)
        billing_currency: data.currency
        billing_interval: data.payment_frequency_interval
"""

RENEWED = """  subscription.renewed:
    - track: Subscription Renewed
      properties:
        subscription_id: data.subscription_id
        plan: data.product_id
        amount: to_major(data.recurring_pre_tax_amount, data.currency)
        currency: data.currency
        period_start: data.previous_billing_date
        period_end: data.next_billing_date
"""

DISPUTE = """  dispute.opened:
    - track: Dispute Opened
      properties:
        dispute_id: data.dispute_id
        order_id: data.payment_id
        amount: to_major(number(data.amount), data.currency)
        currency: data.currency
        stage: data.dispute_stage
"""

PAYOUT = """  payout.*:
    - track: Payout Updated
      properties:
        payout_id: data.payout_id
        status: data.status
        paid: data.status == "success"
        amount: to_major(data.amount, data.currency)
        fee: to_major(data.fee, data.currency)
        currency: data.currency
"""

LICENSE = """version: 1

defaults:
  userId: data.customer_id
  timestamp: timestamp

events:
  license_key.created:
    - track: License Key Issued
      properties:
        license_key_id: data.id
        product_id: data.product_id
        activations_limit: data.activations_limit
        expires_at: data.expires_at
"""

CREDITS = """version: 1

defaults:
  userId: data.customer_id
  timestamp: timestamp

events:
  credit.added:
    - track: Credits Added
      properties:
        credit_entitlement_id: data.credit_entitlement_id
        credits: number(data.amount)
        balance: number(data.balance_after)
        reason: data.description
"""


def order_with(*extra: str, after: str = "        currency: data.currency") -> str:
    """ORDER with extra property lines after `after`."""
    lines = ORDER.splitlines()
    i = lines.index(after)
    return "\n".join(lines[: i + 1] + list(extra) + lines[i + 1 :]) + "\n"


# ---------------------------------------------------------------- the pairs


@dataclass(frozen=True)
class Pair:
    name: str
    category: str
    review: str  # what a reviewer who knows Dodo and Segment would say about the slip
    ok: str
    edit: str  # "replace" | "insert_after" | "delete"
    old: str  # the whole line (with indentation) replaced, anchored on, or deleted
    new: str = ""  # the new whole line (replace, insert_after)
    anchor: str = ""  # delete only: the line (in bad) the reviewer would point at


PAIRS: list[Pair] = [
    # ---- units
    Pair(
        "revenue-minor-units", "units",
        "revenue is sent in minor units: 49.99 USD becomes 4999; wrap it in to_major(..., data.currency)",
        HDR + ORDER, "replace",
        "        revenue: to_major(data.total_amount - (data.tax ?? 0), data.currency)",
        "        revenue: data.total_amount - (data.tax ?? 0)",
    ),
    Pair(
        "total-divided-by-100", "units",
        "/ 100 assumes two decimals: a JPY total is shrunk 100x and a KWD total is 10x too big; use to_major",
        HDR + ORDER, "replace",
        "        total: to_major(data.total_amount, data.currency)",
        "        total: data.total_amount / 100",
    ),
    Pair(
        "refund-total-minor-units", "units",
        "Order Refunded total is the refund amount in minor units (cents, fils); convert it with the refund's currency",
        HDR + REFUND, "replace",
        "        total: to_major(data.amount, data.currency)",
        "        total: data.amount",
    ),
    Pair(
        "group-billing-minor-units", "units",
        "the account's billing_amount trait is recurring_pre_tax_amount in cents: a 49 USD plan shows as 4900",
        HDR + GROUP, "replace",
        "        billing_amount: to_major(data.recurring_pre_tax_amount, data.currency)",
        "        billing_amount: data.recurring_pre_tax_amount",
    ),
    # ---- currency
    Pair(
        "settlement-amount-payment-currency", "currency",
        "settlement_amount is in settlement_currency (adaptive pricing): converting it with the payment's currency uses the wrong decimals",
        HDR + order_with(
            "        net_settled: to_major(data.settlement_amount, data.settlement_currency)",
            "        settlement_currency: data.settlement_currency",
        ), "replace",
        "        net_settled: to_major(data.settlement_amount, data.settlement_currency)",
        "        net_settled: to_major(data.settlement_amount, data.currency)",
    ),
    Pair(
        "currency-property-is-settlement", "currency",
        "total/revenue/tax are in data.currency but the spec's currency property names the settlement currency",
        HDR + ORDER, "replace",
        "        currency: data.currency",
        "        currency: data.settlement_currency",
    ),
    Pair(
        "hardcoded-usd-conversion", "currency",
        "the conversion hard-codes USD: a JPY or KWD payment is divided by 100 and mislabelled",
        HDR + ORDER, "replace",
        "        total: to_major(data.total_amount, data.currency)",
        '        total: to_major(data.total_amount, "USD")',
    ),
    Pair(
        "order-without-currency", "currency",
        "Order Completed sends total/revenue/tax but no currency: Segment and its destinations assume USD",
        HDR + ORDER, "delete",
        "        currency: data.currency",
        anchor="    - track: Order Completed",
    ),
    # ---- time
    Pair(
        "timestamp-payment-created-at", "time",
        "data.created_at is when the payment was created (before processing/3DS), not when it succeeded: use the envelope's timestamp",
        HDR_CALL_TS + ORDER.replace(
            "      when: not data.is_update_payment_method\n",
            "      when: not data.is_update_payment_method\n      timestamp: timestamp\n",
        ), "replace",
        "      timestamp: timestamp",
        "      timestamp: data.created_at",
    ),
    Pair(
        "timestamp-next-billing-date", "time",
        "next_billing_date is the end of the new period, in the future: the renewal happened at the envelope's timestamp",
        HDR_CALL_TS + RENEWED.replace(
            "    - track: Subscription Renewed\n",
            "    - track: Subscription Renewed\n      timestamp: timestamp\n",
        ), "replace",
        "      timestamp: timestamp",
        "      timestamp: data.next_billing_date",
    ),
    Pair(
        "timestamp-not-a-time", "time",
        "`type` is the event type (refund.succeeded), not a time: Segment needs an ISO-8601 timestamp here",
        HDR + REFUND, "replace",
        "  timestamp: timestamp",
        "  timestamp: type",
    ),
    Pair(
        "createdAt-trait-from-payment", "time",
        "Segment's createdAt trait is when the user signed up; data.created_at is this payment's creation, rewritten on every purchase",
        HDR + ORDER + IDENTIFY, "insert_after",
        "        name: data.customer.name",
        "        createdAt: data.created_at",
    ),
    Pair(
        "period-start-is-next-billing", "time",
        "the SDK says previous_billing_date starts the current period and next_billing_date ends it: period_start is set to the end",
        HDR + RENEWED, "replace",
        "        period_start: data.previous_billing_date",
        "        period_start: data.next_billing_date",
    ),
    # ---- segment-spec
    Pair(
        "order-without-products", "segment-spec",
        "Order Completed without products: the e-commerce spec's product list is what product reports and GA4 items read",
        HDR + ORDER, "delete",
        "        products: 'map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})'",
        anchor="    - track: Order Completed",
    ),
    Pair(
        "order-completed-typo", "segment-spec",
        "`Order Compelted` is not the spec's Order Completed: e-commerce destinations will not map it to a purchase",
        HDR + ORDER, "replace",
        "    - track: Order Completed",
        "    - track: Order Compelted",
    ),
    Pair(
        "revenue-includes-tax", "segment-spec",
        "the spec's revenue excludes tax and shipping; here revenue equals total while tax is sent beside it",
        HDR + ORDER, "replace",
        "        revenue: to_major(data.total_amount - (data.tax ?? 0), data.currency)",
        "        revenue: to_major(data.total_amount, data.currency)",
    ),
    Pair(
        "products-non-spec-keys", "segment-spec",
        "products items must use the spec's product_id and quantity; id/qty are ignored by e-commerce destinations",
        HDR + ORDER, "replace",
        "        products: 'map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})'",
        "        products: 'map(data.product_cart ?? [], p => {id: p.product_id, qty: p.quantity})'",
    ),
    Pair(
        "renewal-sends-revenue", "segment-spec",
        "the renewal's charge already arrives as payment.succeeded (Order Completed with revenue): revenue here counts it twice, at list price",
        HDR + RENEWED, "replace",
        "        amount: to_major(data.recurring_pre_tax_amount, data.currency)",
        "        revenue: to_major(data.recurring_pre_tax_amount, data.currency)",
    ),
    Pair(
        "identify-money-trait", "segment-spec",
        "traits hold the user's current state: total_spent set to this one payment overwrites lifetime spend on every order",
        HDR + ORDER + IDENTIFY, "insert_after",
        "        name: data.customer.name",
        "        total_spent: to_major(data.total_amount, data.currency)",
    ),
    # ---- identity
    Pair(
        "group-id-snake-case", "identity",
        "Segment's field is groupId; group_id (the Python library's argument name) is not a group field, so the call has no groupId",
        HDR + GROUP, "replace",
        "      groupId: data.subscription_id",
        "      group_id: data.subscription_id",
    ),
    Pair(
        "identify-with-properties", "identity",
        "identify takes traits, not properties (copied from the track call): email and name never reach the profile",
        HDR + ORDER + IDENTIFY, "replace",
        "      traits:",
        "      properties:",
    ),
    Pair(
        "userId-business-id", "identity",
        "business_id is the merchant's own Dodo business, the same on every webhook: all customers collapse into one user",
        HDR + ORDER, "replace",
        "  userId: data.customer.customer_id",
        "  userId: business_id",
    ),
    Pair(
        "userId-payment-id", "identity",
        "payment_id names the order, not the person: each refund lands on a new user instead of the customer",
        HDR + REFUND.replace(
            "    - track: Order Refunded\n",
            "    - track: Order Refunded\n      userId: data.customer.customer_id\n",
        ), "replace",
        "      userId: data.customer.customer_id",
        "      userId: data.payment_id",
    ),
    Pair(
        "license-userId-key-id", "identity",
        "data.id is the license key's id; the customer is data.customer_id",
        LICENSE, "replace",
        "  userId: data.customer_id",
        "  userId: data.id",
    ),
    # ---- sdk-field-meaning
    Pair(
        "discount-basis-points-as-money", "sdk-field-meaning",
        "DiscountDetail.amount is in basis points (2000 = 20%), not minor units: as the spec's discount it claims 20.00 off",
        HDR + ORDER, "insert_after",
        "        coupon: data.discounts[0].code",
        "        discount: to_major(data.discounts[0].amount, data.currency)",
    ),
    Pair(
        "credits-as-revenue", "sdk-field-meaning",
        "a credit ledger amount counts credits, not money (it has no currency): as revenue it is summed into revenue reports",
        CREDITS, "replace",
        "        credits: number(data.amount)",
        "        revenue: number(data.amount)",
    ),
    Pair(
        "multi-subscription-by-length", "sdk-field-meaning",
        "the SDK says: read is_multi_subscription to find the payment type, do not read the length of subscription_ids",
        HDR + order_with("        multi_subscription: data.is_multi_subscription"), "replace",
        "        multi_subscription: data.is_multi_subscription",
        "        multi_subscription: length(data.subscription_ids) > 1",
    ),
    Pair(
        "card-network-capitalised", "sdk-field-meaning",
        'card_network is lower case ("visa"; older payments vary): == "Visa" is false for new payments',
        HDR + order_with('        is_visa: lower(data.card_network) == "visa"'), "replace",
        '        is_visa: lower(data.card_network) == "visa"',
        '        is_visa: data.card_network == "Visa"',
    ),
    Pair(
        "coupon-from-deprecated-discount-id", "sdk-field-meaning",
        "discount_id is deprecated and is the discount's id, not its code: the spec's coupon is discounts[0].code",
        HDR + ORDER, "replace",
        "        coupon: data.discounts[0].code",
        "        coupon: data.discount_id",
    ),
    Pair(
        "card-update-counted-as-order", "sdk-field-meaning",
        "payments made only to update a card (is_update_payment_method, a zero/setup charge) become Order Completed",
        HDR + ORDER, "delete",
        "      when: not data.is_update_payment_method",
        anchor="    - track: Order Completed",
    ),
    Pair(
        "one-time-by-null-subscription-id", "sdk-field-meaning",
        "the SDK says a multi-subscription payment leaves subscription_id null: test charge_type == null for one-time purchases",
        HDR + ORDER.replace(
            "      when: not data.is_update_payment_method\n",
            "      when: data.charge_type == null\n",
        ), "replace",
        "      when: data.charge_type == null",
        "      when: data.subscription_id == null",
    ),
    # ---- yaml-shape
    Pair(
        "unquoted-norway", "yaml-shape",
        'unquoted NO is YAML 1.1 false (the Norway problem), not the market code: write \'"NO"\'',
        HDR + order_with("        market: '\"NO\"'"), "replace",
        "        market: '\"NO\"'",
        "        market: NO",
    ),
    Pair(
        "leading-zero-octal", "yaml-shape",
        "0750 is read as a number (octal 488 in YAML 1.1, 750 otherwise): a store code with a leading zero must be text",
        HDR + order_with("        store_code: '\"0750\"'"), "replace",
        "        store_code: '\"0750\"'",
        "        store_code: 0750",
    ),
    Pair(
        "unquoted-date", "yaml-shape",
        "an unquoted 2025-03-01 is a YAML date, and as an expression 2025 - 3 - 1 = 2021: quote the campaign date as text",
        HDR + order_with("        campaign_start: '\"2025-03-01\"'"), "replace",
        "        campaign_start: '\"2025-03-01\"'",
        "        campaign_start: 2025-03-01",
    ),
    Pair(
        "timestamp-indented-into-properties", "yaml-shape",
        "timestamp is indented under properties: it becomes a property and the call has no timestamp (Segment uses the receive time)",
        HDR_CALL_TS + ORDER + "      timestamp: timestamp\n", "replace",
        "      timestamp: timestamp",
        "        timestamp: timestamp",
    ),
    Pair(
        "when-indented-into-properties", "yaml-shape",
        "the guard is indented under properties: it becomes a boolean property `when` and every card update is sent as an order",
        HDR + ORDER.replace("      when: not data.is_update_payment_method\n", "")
        + "      when: not data.is_update_payment_method\n", "replace",
        "      when: not data.is_update_payment_method",
        "        when: not data.is_update_payment_method",
    ),
    Pair(
        "duplicate-event-key", "yaml-shape",
        "payment.succeeded appears twice: a YAML mapping keeps one of them, so one of the two calls is silently lost",
        HDR + ORDER + IDENTIFY, "insert_after",
        "        products: 'map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})'",
        "  payment.succeeded:",
    ),
    Pair(
        "missing-list-dash", "yaml-shape",
        "the '- ' before identify is missing: identify and traits become keys of the track call",
        HDR + ORDER + IDENTIFY, "replace",
        "    - identify:",
        "      identify:",
    ),
    Pair(
        "flow-mapping-comma", "yaml-shape",
        "in a flow mapping the comma ends the value: total is cut to `to_major(data.total_amount` and `data.currency)` becomes a key",
        HDR + """  payment.cancelled:
    - track: Order Cancelled
      properties: {order_id: data.payment_id, total: 'to_major(data.total_amount, data.currency)', currency: data.currency}
""", "replace",
        "      properties: {order_id: data.payment_id, total: 'to_major(data.total_amount, data.currency)', currency: data.currency}",
        "      properties: {order_id: data.payment_id, total: to_major(data.total_amount, data.currency), currency: data.currency}",
    ),
    # ---- path/type
    Pair(
        "dispute-amount-is-text", "path/type",
        "Dispute.amount is a string (\"5498\"): to_major needs number(data.amount)",
        HDR_BUSINESS + DISPUTE, "replace",
        "        amount: to_major(number(data.amount), data.currency)",
        "        amount: to_major(data.amount, data.currency)",
    ),
    Pair(
        "dispute-has-no-customer", "path/type",
        "dispute webhooks carry no customer object: data.customer.customer_id is never there",
        HDR_BUSINESS + DISPUTE, "replace",
        '  userId: f"business:{business_id}"',
        "  userId: data.customer.customer_id",
    ),
    Pair(
        "payout-status-succeeded", "path/type",
        'a payout\'s status is "success", never "succeeded": paid is always false',
        HDR_BUSINESS + PAYOUT, "replace",
        '        paid: data.status == "success"',
        '        paid: data.status == "succeeded"',
    ),
]


def one_index(lines: list[str], line: str, what: str) -> int:
    hits = [i for i, text in enumerate(lines) if text == line]
    if len(hits) != 1:
        raise SystemExit(f"{what}: {line!r} occurs {len(hits)} times")
    return hits[0]


def build(pair: Pair, ident: int) -> tuple[str, dict[str, object]]:
    """The bad text and the manifest entry of one pair."""
    what = f"{ident:02d}-{pair.name}"
    ok_lines = pair.ok.splitlines()
    i = one_index(ok_lines, pair.old, what)
    bad_lines = list(ok_lines)
    if pair.edit == "replace":
        bad_lines[i] = pair.new
        first = last = i + 1
    elif pair.edit == "insert_after":
        bad_lines.insert(i + 1, pair.new)
        first = last = i + 2
    elif pair.edit == "delete":
        del bad_lines[i]
        first = one_index(bad_lines, pair.anchor, what) + 1
        last = i  # the line just before the deleted one (1-based: i)
    else:
        raise SystemExit(f"{what}: unknown edit {pair.edit}")
    entry: dict[str, object] = {
        "id": f"{ident:02d}",
        "name": pair.name,
        "half": "A" if ident % 2 else "B",
        "category": pair.category,
        "review": pair.review,
        "edit": pair.edit,
        "line": first,
        "lines": [first, last],
        "ok": f"{what}.ok.yaml",
        "bad": f"{what}.bad.yaml",
    }
    return "\n".join(bad_lines) + "\n", entry


def main() -> None:
    manifest = []
    for ident, pair in enumerate(PAIRS, start=1):
        bad, entry = build(pair, ident)
        (HERE / str(entry["ok"])).write_text(pair.ok)
        (HERE / str(entry["bad"])).write_text(bad)
        manifest.append(entry)
    doc = {
        "about": "blind set: correct mappings (.ok.yaml) and one-slip twins (.bad.yaml); "
        "line/lines: 1-based lines of the slip in the bad file (a deletion points at the call "
        "and spans it); half A = odd ids, B = even ids",
        "pairs": manifest,
    }
    (HERE / "manifest.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {len(manifest)} pairs")


if __name__ == "__main__":
    main()
