"""bench/all_events.yaml written by hand in Python: the baseline segmap's 48-event mapping is timed against.

What a merchant would write to send Segment the same bodies without segmap: one small function
per family of events (the families share their shapes), a dict from event type to function,
``(call, body)`` tuples out. It produces the bodies segmap produces, byte for byte once
serialised (bench_targets.py checks that on every envelope of its corpus before timing), so it
does what that takes and nothing more:

* amounts in minor units become major units with the currency's ISO 4217 exponent, and a whole
  result is an int (``JSON.stringify`` prints ``5``, not ``5.0``);
* ``number()`` of a decimal string is the float, an int when whole, for the same reason;
* keys the Dodo schema marks optional are left out when the envelope leaves them out;
* a call whose ``userId``/``anonymousId`` is null raises, as segmap's does.

It does not re-check what segmap's generated code checks on every value (that a value the schema
types as text is text, that a number is one JavaScript prints the same): the corpus is valid.
"""
from __future__ import annotations

from typing import Any

from segmap.runtime.values import MappingRuntimeError

# ISO 4217 exponents other than 2 (bench/ts/handler.ts has the same table)
_DECIMALS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0,
    "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}
_SCALE = {0: 1, 2: 100, 3: 1000}


def to_major(amount: int, currency: str) -> int | float:
    v = amount / _SCALE[_DECIMALS.get(currency, 2)]
    return int(v) if v.is_integer() else v


def number(text: str) -> int | float:
    v = float(text)
    return int(v) if v.is_integer() else v


def _no_identity(what: str) -> Any:
    raise MappingRuntimeError(f"track call has no userId or anonymousId: {what} was null or absent")


def abandoned_checkout(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    user_id = d["customer_id"]
    if user_id is None:
        _no_identity("data.customer_id")
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id,
                       "properties": {"payment_id": d["payment_id"], "abandonment_reason": d["abandonment_reason"],
                                      "checkout_status": d["status"]}})]


def credit_entry(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    user_id = d["customer_id"]
    if user_id is None:
        _no_identity("data.customer_id")
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id,
                       "properties": {"entry_id": d["id"], "credits": number(d["amount"]),
                                      "balance_after": number(d["balance_after"]),
                                      "transaction_type": d["transaction_type"]}})]


def credit_balance_low(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    user_id = d["customer_id"]
    if user_id is None:
        _no_identity("data.customer_id")
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id,
                       "properties": {"subscription_id": d["subscription_id"],
                                      "available_balance": number(d["available_balance"]),
                                      "threshold_percent": d["threshold_percent"]}})]


def dispute(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    anonymous_id = d["payment_id"]
    if anonymous_id is None:
        _no_identity("data.payment_id")
    return [("track", {"timestamp": env["timestamp"], "event": name, "anonymousId": anonymous_id,
                       "properties": {"dispute_id": d["dispute_id"], "value": number(d["amount"]),
                                      "currency": d["currency"], "stage": d["dispute_stage"],
                                      "dispute_status": d["dispute_status"]}})]


def dunning(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    user_id = d["customer_id"]
    if user_id is None:
        _no_identity("data.customer_id")
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id,
                       "properties": {"subscription_id": d["subscription_id"], "trigger_state": d["trigger_state"],
                                      "dunning_status": d["status"]}})]


def entitlement_grant(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    user_id = d["customer_id"]
    if user_id is None:
        _no_identity("data.customer_id")
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id,
                       "properties": {"grant_id": d["id"], "entitlement_id": d["entitlement_id"],
                                      "integration_type": d["integration_type"], "grant_status": d["status"]}})]


def license_key(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    user_id = d["customer_id"]
    if user_id is None:
        _no_identity("data.customer_id")
    props = {"license_key_id": d["id"], "product_id": d["product_id"]}
    if "activations_limit" in d:
        props["activations_limit"] = d["activations_limit"]
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id, "properties": props})]


def payment(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    customer = d["customer"]
    user_id = customer["customer_id"]
    if user_id is None:
        _no_identity("data.customer.customer_id")
    currency = d["currency"]
    total = d["total_amount"]
    tax = d.get("tax")
    method = d.get("payment_method")
    props = {"order_id": d["payment_id"], "revenue": to_major(total - (0 if tax is None else tax), currency),
             "total": to_major(total, currency), "currency": currency,
             "payment_method": "unknown" if method is None else method}
    if "status" in d:
        props["status"] = d["status"]
    cart = d.get("product_cart")
    props["products"] = [] if cart is None else [{"product_id": p["product_id"], "quantity": p["quantity"]}
                                                 for p in cart]
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id, "properties": props})]


def payment_succeeded(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    calls = payment(env, name)
    customer = env["data"]["customer"]
    calls.append(("identify", {"timestamp": env["timestamp"], "userId": customer["customer_id"],
                               "traits": {"email": customer["email"], "name": customer["name"]}}))
    return calls


def payout(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    anonymous_id = env["business_id"]
    if anonymous_id is None:
        _no_identity("business_id")
    currency = d["currency"]
    return [("track", {"timestamp": env["timestamp"], "event": name, "anonymousId": anonymous_id,
                       "properties": {"payout_id": d["payout_id"], "value": to_major(d["amount"], currency),
                                      "fee": to_major(d["fee"], currency), "currency": currency,
                                      "payout_status": d["status"]}})]


def refund(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    amount = d.get("amount")
    currency = d.get("currency")
    if amount is None or currency is None:
        return []
    user_id = d["customer"]["customer_id"]
    if user_id is None:
        _no_identity("data.customer.customer_id")
    props = {"order_id": d["payment_id"], "refund_id": d["refund_id"], "total": to_major(amount, currency),
             "currency": currency}
    if "reason" in d:
        props["reason"] = d["reason"]
    props["is_partial"] = d["is_partial"]
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id, "properties": props})]


def subscription(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    d = env["data"]
    user_id = d["customer"]["customer_id"]
    if user_id is None:
        _no_identity("data.customer.customer_id")
    currency = d["currency"]
    return [("track", {"timestamp": env["timestamp"], "event": name, "userId": user_id,
                       "properties": {"subscription_id": d["subscription_id"], "product_id": d["product_id"],
                                      "value": to_major(d["recurring_pre_tax_amount"], currency),
                                      "currency": currency, "interval": d["payment_frequency_interval"],
                                      "next_billing_date": d["next_billing_date"],
                                      "subscription_status": d["status"]}})]


def subscription_active(env: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
    calls = subscription(env, name)
    customer = env["data"]["customer"]
    calls.append(("identify", {"timestamp": env["timestamp"], "userId": customer["customer_id"],
                               "traits": {"email": customer["email"], "name": customer["name"]}}))
    return calls


EVENTS = {
    "abandoned_checkout.detected": (abandoned_checkout, "Checkout Abandoned"),
    "abandoned_checkout.recovered": (abandoned_checkout, "Abandoned Checkout Recovered"),
    "credit.added": (credit_entry, "Credit Added"),
    "credit.balance_low": (credit_balance_low, "Credit Balance Low Reached"),
    "credit.deducted": (credit_entry, "Credit Deducted"),
    "credit.expired": (credit_entry, "Credit Expired"),
    "credit.manual_adjustment": (credit_entry, "Credit Manually Adjusted"),
    "credit.overage_charged": (credit_entry, "Credit Overage Charged"),
    "credit.overage_reset": (credit_entry, "Credit Overage Reset"),
    "credit.rolled_over": (credit_entry, "Credit Rolled Over"),
    "credit.rollover_forfeited": (credit_entry, "Credit Rollover Forfeited"),
    "dispute.accepted": (dispute, "Dispute Accepted"),
    "dispute.cancelled": (dispute, "Dispute Cancelled"),
    "dispute.challenged": (dispute, "Dispute Challenged"),
    "dispute.expired": (dispute, "Dispute Expired"),
    "dispute.lost": (dispute, "Dispute Lost"),
    "dispute.opened": (dispute, "Dispute Opened"),
    "dispute.won": (dispute, "Dispute Won"),
    "dunning.recovered": (dunning, "Dunning Recovered"),
    "dunning.started": (dunning, "Dunning Started"),
    "entitlement_grant.created": (entitlement_grant, "Entitlement Grant Created"),
    "entitlement_grant.delivered": (entitlement_grant, "Entitlement Grant Delivered"),
    "entitlement_grant.failed": (entitlement_grant, "Entitlement Grant Failed"),
    "entitlement_grant.revoked": (entitlement_grant, "Entitlement Grant Revoked"),
    "license_key.created": (license_key, "License Key Created"),
    "payment.cancelled": (payment, "Payment Cancelled"),
    "payment.failed": (payment, "Payment Failed"),
    "payment.processing": (payment, "Payment Processing Started"),
    "payment.succeeded": (payment_succeeded, "Order Completed"),
    "payout.created": (payout, "Payout Created"),
    "payout.failed": (payout, "Payout Failed"),
    "payout.in_progress": (payout, "Payout Started"),
    "payout.on_hold": (payout, "Payout Put On Hold"),
    "payout.success": (payout, "Payout Paid"),
    "refund.failed": (refund, "Refund Failed"),
    "refund.succeeded": (refund, "Order Refunded"),
    "subscription.active": (subscription_active, "Subscription Activated"),
    "subscription.cancelled": (subscription, "Subscription Cancelled"),
    "subscription.expired": (subscription, "Subscription Expired"),
    "subscription.failed": (subscription, "Subscription Failed"),
    "subscription.on_hold": (subscription, "Subscription Put On Hold"),
    "subscription.past_due": (subscription, "Subscription Past Due Reached"),
    "subscription.paused": (subscription, "Subscription Paused"),
    "subscription.plan_changed": (subscription, "Subscription Plan Changed"),
    "subscription.renewed": (subscription, "Subscription Renewed"),
    "subscription.unpaused": (subscription, "Subscription Unpaused"),
    "subscription.update_payment_method": (subscription, "Subscription Payment Method Updated"),
    "subscription.updated": (subscription, "Subscription Updated"),
}


def apply(env: dict[str, Any], _get: Any = EVENTS.get) -> list[tuple[str, dict[str, Any]]]:
    handler = _get(env["type"])
    if handler is None:
        return []
    fn, name = handler
    return fn(env, name)
