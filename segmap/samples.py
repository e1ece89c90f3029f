"""Realistic Dodo webhook envelopes for docs, ``segmap sample`` and tests.

Mapping authors need payloads that look like what Dodo sends (prefixed ids,
one customer throughout, amounts in the currency's minor units, a status that
matches the event) to try a mapping before the first real webhook arrives.
Envelopes are built from the shipped schema snapshot, never from the SDK, so
this works in production installs; tests prove each one validates with the
SDK's own model. Output is a pure function of (event_type, variant).

Variant 0 fills every field (optional ones too, except lifecycle fields that
only make sense for another event, which are present but null). Other variants
vary the currency (JPY, KWD, ... to exercise 0- and 3-decimal codes), the
people, list lengths (0-2) and drop or null optional fields at random.
"""
from __future__ import annotations

import difflib
import random
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from segmap.compiler.snapshot import load_snapshot
from segmap.errors import SegmapError

__all__ = ["UnknownEventType", "all_samples", "sample_envelope"]


class UnknownEventType(KeyError, SegmapError):
    """Raised for an event type the snapshot does not know; carries close matches."""

    def __init__(self, event_type: str, suggestions: list[str]) -> None:
        super().__init__(event_type)
        self.event_type = event_type
        self.suggestions = suggestions

    def __str__(self) -> str:  # KeyError would repr() the message
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        return f"unknown Dodo event type {self.event_type!r}{hint}"


def sample_envelope(event_type: str, *, variant: int = 0) -> dict:
    """A fresh, SDK-valid envelope ``{business_id, type, timestamp, data}`` for one event type."""
    snap = load_snapshot()
    event = snap["events"].get(event_type)
    if event is None:
        raise UnknownEventType(event_type, difflib.get_close_matches(event_type, sorted(snap["events"]), n=3, cutoff=0.4))
    ctx = _Context.new(event_type, variant)
    data = _Builder(ctx, snap["models"]).model(event["data"], depth=0)
    return {
        "business_id": ctx.id_for("business", ctx.root),
        "type": event_type,
        "timestamp": _iso(ctx.now),
        "data": data,
    }


def all_samples(*, variant: int = 0) -> dict[str, dict]:
    """One envelope per known event type, keyed and ordered by type."""
    return {et: sample_envelope(et, variant=variant) for et in sorted(load_snapshot()["events"])}


# --------------------------------------------------------------------------- vocabulary

# ISO 4217 minor units; every code not listed here has 2 (contracts §5).
_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
_THREE_DECIMAL = frozenset("BHD IQD JOD KWD LYD OMR TND".split())

# (currency, billing country, typical price in major units) per variant.
_MARKETS = [
    ("USD", "US", "49.99"),
    ("JPY", "JP", "7500"),
    ("KWD", "KW", "15.250"),
    ("EUR", "DE", "45.00"),
    ("GBP", "GB", "39.00"),
    ("INR", "IN", "3999.00"),
    ("BHD", "BH", "18.750"),
    ("BRL", "BR", "249.90"),
]
_ADDRESSES = {
    "US": ("500 Market St, Suite 200", "San Francisco", "CA", "94105"),
    "JP": ("1-9-1 Marunouchi", "Chiyoda-ku", "Tokyo", "100-0005"),
    "KW": ("Block 3, Street 12, Building 7", "Salmiya", "Hawalli", "22001"),
    "DE": ("Torstraße 49", "Berlin", "Berlin", "10119"),
    "GB": ("221B Baker Street", "London", "England", "NW1 6XE"),
    "IN": ("14 MG Road", "Bengaluru", "Karnataka", "560001"),
    "BH": ("Building 1411, Road 4626", "Manama", "Capital", "317"),
    "BR": ("Avenida Paulista, 1578", "São Paulo", "SP", "01310-200"),
}
_PEOPLE = [
    ("Ada", "Lovelace"), ("Grace", "Hopper"), ("Kenji", "Watanabe"), ("Fatima", "Al-Sabah"),
    ("Priya", "Raman"), ("Lucas", "Oliveira"), ("Zoë", "Müller"), ("Tom", "O'Brien"),
]

# Dodo-style id prefixes by the name before "_id" (or by its last word).
_ID_PREFIX = {
    "payment": "pay", "customer": "cus", "subscription": "sub", "refund": "ref", "dispute": "dis",
    "license_key": "lic", "business": "bus", "brand": "bus", "product": "pdt", "discount": "dsc",
    "checkout_session": "cks", "payout": "pout", "invoice": "inv", "payment_method": "pm",
    "addon": "adn", "meter": "mtr", "credit_entitlement": "cde", "entitlement": "ent", "grant": "egr",
    "feature": "feat", "file": "file", "reference": "pay", "scheduled_plan_change": "spc",
}
# ids that stay one value across the whole payload, even inside list items
_SHARED_IDS = frozenset({"business", "brand", "customer", "payment", "subscription"})
# model -> what its bare "id" field identifies
_ID_OWNER = {
    "LicenseKey": "license_key", "LicenseKeyGrant": "license_key", "CreditLedgerEntry": "credit_ledger_entry",
    "EntitlementGrant": "grant", "ScheduledPlanChange": "scheduled_plan_change",
}

# Enum picks when the event does not decide: (enum alias or field name) -> value.
_ENUM_DEFAULTS = {
    "TimeInterval": "Month", "ChargeType": "new", "IntentStatus": "succeeded", "LicenseKeyStatus": "active",
    "DiscountType": "percentage", "EntitlementIntegrationType": "license_key", "CbbOverageBehavior": "forgive_at_reset",
    "ThreeDSFlow": "frictionless", "ThreeDSStatus": "authenticated", "RefundStatus": "succeeded",
    "PaymentRefundStatus": "partial", "CancellationFeedback": "too_expensive", "DisputeStage": "dispute", "DisputeStatus": "dispute_opened",
    "RefundNetworkReferenceType": "acquirer_reference_number", "payment_provider": "dodo", "source": "auto",
    "actor_type": "customer", "abandonment_reason": "payment_failed", "trigger_state": "past_due",
}
# When the event's own verb is not a status value: event type -> status.
_STATUS_FOR_EVENT = {
    "payout.created": "not_initiated", "abandoned_checkout.detected": "abandoned", "dunning.started": "recovering",
    "entitlement_grant.created": "pending", "license_key.created": "active", "subscription.renewed": "active",
    "subscription.plan_changed": "active", "subscription.updated": "active", "subscription.unpaused": "active",
    "subscription.update_payment_method": "active",
}
# Nullable top-level fields that describe one lifecycle step: null unless the event's verb is listed.
_LIFECYCLE = {
    "error_code": {"failed", "cancelled"}, "error_message": {"failed", "cancelled"},
    "cancelled_at": {"cancelled"}, "cancelled_by": {"cancelled"}, "cancellation_feedback": {"cancelled"},
    "cancellation_comment": {"cancelled"}, "paused_at": {"paused", "on_hold"}, "past_due_ends_at": {"past_due"},
    "revoked_at": {"revoked"}, "revocation_reason": {"revoked"}, "delivered_at": {"delivered"},
    "recovered_payment_id": {"recovered"},
}
# Datetime fields relative to the event time.
_TIME_OFFSETS = {
    "created_at": timedelta(days=-31, hours=-3), "updated_at": timedelta(seconds=-2),
    "previous_billing_date": timedelta(days=-1), "next_billing_date": timedelta(days=29),
    "effective_at": timedelta(days=29), "starts_at": timedelta(days=-1), "ends_at": timedelta(days=29),
    "expires_at": timedelta(days=365), "past_due_ends_at": timedelta(days=7), "oauth_expires_at": timedelta(hours=1),
    "abandoned_at": timedelta(hours=-1),
}
_STRINGS = {
    "card_exp_month": "09", "card_exp_year": "2029", "card_last_four": "4242", "card_network": "visa",
    "card_type": "credit", "payment_method_type": "visa", "three_ds_version": "2.2.0", "tax_id": "DE811907980",
    "customer_business_name": "Analytical Engines GmbH", "code": "LAUNCH20", "reason": "Customer requested a refund",
    "remarks": "Processed by the finance team", "instructions": "Download within 24 hours.",
    "cancellation_comment": "Switching to the annual plan later.", "revocation_reason": "Subscription cancelled",
    "error_code": "INSUFFICIENT_FUNDS", "error_message": "The card has insufficient funds to complete the purchase.",
    "network_reference": "74537604221431003881234", "reference_type": "payment", "measurement_unit": "API Calls",
    "unit": "API Calls", "credit_entitlement_name": "API credits", "meter_name": "API requests",
    "product_name": "Pro (annual)", "product_description": "Everything in Pro, billed yearly.",
    "filename": "field-guide.pdf", "content_type": "application/pdf", "value": "11-50",
    # credit amounts are decimal strings in credit units, not money
    "available_balance": "45", "subscription_credits_amount": "500", "threshold_amount": "50",
    "credits_amount": "500", "overage_balance": "0", "remaining_balance": "455", "overage_limit": "1000",
    "price_per_unit": "0.002", "meter_units_per_credit": "10", "proration_factor": "1",
    "balance_before": "355", "balance_after": "455", "overage_before": "0", "overage_after": "0",
}
_INTS = {
    "quantity": 1, "retry_attempt": 0, "payment_frequency_count": 1, "subscription_period_count": 10,
    "trial_period_days": 14, "times_used": 42, "usage_limit": 500, "cycles_remaining": 2, "subscription_cycles": 3,
    "discount_cycles_remaining": 2, "activations_limit": 5, "instances_count": 1, "activations_used": 1,
    "expires_in": 900, "file_size": 2_097_152, "free_threshold": 1000, "threshold_percent": 10,
    "expires_after_days": 30, "low_balance_threshold_percent": 10, "max_rollover_count": 3,
    "rollover_percentage": 50, "rollover_timeframe_count": 1,
}
_MAX_DEPTH = 6
_ALNUM = string.ascii_letters + string.digits
_TRUE_BOOLS = frozenset({"is_partial", "has_payment_method", "overage_enabled", "rollover_enabled", "preserve_on_plan_change"})
_NAMES_BY_MODEL = {"Addon": "Extra seats", "MeterCartResponseItem": "API requests", "DiscountDetail": "Launch discount"}


# --------------------------------------------------------------------------- generation


@dataclass
class _Context:
    event_type: str
    verb: str
    variant: int
    rng: random.Random
    now: datetime
    currency: str
    country: str
    person: tuple[str, str]
    money: dict[str, int]
    root: dict = field(default_factory=dict)

    @classmethod
    def new(cls, event_type: str, variant: int) -> "_Context":
        rng = random.Random(f"segmap-sample:{event_type}:{variant}")
        currency, country, price = _MARKETS[variant % len(_MARKETS)]
        if variant == 0:
            now = datetime(2025, 1, 1, 0, 48, 46, 533095, tzinfo=timezone.utc)
            person = _PEOPLE[0]
        else:
            now = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(365 * 86400), microseconds=rng.randrange(10**6))
            person = rng.choice(_PEOPLE)
            price = str(Decimal(price) * rng.choice([1, 2, 3, 5, 12]))
        exp = 0 if currency in _ZERO_DECIMAL else 3 if currency in _THREE_DECIMAL else 2
        pre = int(Decimal(price).scaleb(exp))
        tax = pre // 10
        total = pre + tax
        fee = total * 4 // 100 + 3 * 10**exp // 10
        money = {
            "pre": pre, "tax": tax, "total": total, "fee": fee, "settlement": total - fee,
            "refund": total // 2, "payout": 40 * total, "payout_fee": 40 * fee, "payout_tax": 40 * tax,
            "payout_refunds": total // 2, "payout_chargebacks": 0, "trial": 0,
        }
        verb = event_type.partition(".")[2]
        return cls(event_type, verb, variant, rng, now, currency, country, person, money)

    @property
    def status_fields(self) -> tuple[str, ...]:
        """Top-level enum fields whose value the event type decides."""
        return ("status", f"{self.event_type.partition('.')[0]}_status", "transaction_type")

    def id_for(self, stem: str, scope: dict) -> str:
        """Same stem, same id within a scope chain, so customer_id agrees everywhere it appears."""
        home = self.root if stem in _SHARED_IDS else scope
        probe: dict | None = scope
        while probe is not None:
            if stem in probe:
                return probe[stem]
            probe = probe.get("__parent__")
        prefix = _ID_PREFIX.get(stem) or _ID_PREFIX.get(stem.rsplit("_", 1)[-1]) or "".join(w[0] for w in stem.split("_")) or "id"
        home[stem] = value = f"{prefix}_{self.token(21)}"
        return value

    def token(self, size: int) -> str:
        return "".join(self.rng.choice(_ALNUM) for _ in range(size))


class _Builder:
    def __init__(self, ctx: _Context, models: dict) -> None:
        self.ctx = ctx
        self.models = models

    def model(self, name: str, *, depth: int, scope: dict | None = None) -> dict:
        ctx = self.ctx
        scope = ctx.root if scope is None else scope
        out: dict = {}
        for fname, fdef in self.models[name]["fields"].items():
            choice = self._presence(fname, fdef, depth=depth)
            if choice == "absent":
                continue
            out[fname] = None if choice == "null" else self.value(fdef["type"], name, fname, depth=depth, scope=scope)
        return _cohere(out) if depth == 0 else out

    def _presence(self, fname: str, fdef: dict, *, depth: int) -> str:
        top = depth == 0
        if depth > _MAX_DEPTH and fdef["nullable"]:
            return "null"  # stops a self-referencing model
        if top and fdef["nullable"] and fname in _LIFECYCLE and self.ctx.verb not in _LIFECYCLE[fname]:
            return "null"
        if self.ctx.variant == 0 or (fdef["required"] and not fdef["nullable"]):
            return "value"
        if top and fname in self.ctx.status_fields:
            return "value"  # the field the event is about stays, whatever the variant
        roll = self.ctx.rng.random()
        if roll < 0.2 and not fdef["required"]:
            return "absent"
        if roll < 0.4 and fdef["nullable"]:
            return "null"
        return "value"

    def value(self, t: dict, model: str, fname: str, *, depth: int, scope: dict):
        kind = t["t"]
        ctx = self.ctx
        if kind == "model":
            return self.model(t["name"], depth=depth + 1, scope=scope)
        if kind == "list":
            count = 1 if ctx.variant == 0 else ctx.rng.randrange(3)
            if depth > _MAX_DEPTH:
                count = 0
            items = []
            for i in range(count):
                item_scope = {"__parent__": scope}
                if t["items"]["t"] == "str" and fname.endswith("_ids") and i == 0:
                    item_scope = scope  # the first of a list of ids is the payload's own one
                item_name = fname[:-1] if fname.endswith("_ids") else fname
                items.append(self.value(t["items"], model, item_name, depth=depth, scope=item_scope))
            return items
        if kind == "dict":
            return self._metadata()
        if kind == "union":
            return self.value(t["of"][0], model, fname, depth=depth, scope=scope)
        if kind == "enum":
            return self._enum(t, fname, top=depth == 0)
        if kind == "datetime":
            return _iso(ctx.now + self._offset(fname, depth))
        if kind == "date":
            return ctx.now.date().isoformat()
        if kind == "bool":
            return self._bool(fname)
        if kind == "int":
            return self._int(model, fname)
        if kind == "float":
            return round(ctx.rng.uniform(0, 100), 2)
        if kind == "str":
            return self._str(model, fname, scope)
        return None  # "any"

    def _enum(self, t: dict, fname: str, *, top: bool):
        ctx, values = self.ctx, t["values"]
        by_lower = {str(v).lower(): v for v in values}
        if t["name"] == "Currency":
            return ctx.currency
        if t["name"] == "CountryCode":
            return ctx.country if ctx.country in by_lower.values() else values[0]
        prefix = ctx.event_type.partition(".")[0]
        if top and fname in ctx.status_fields:
            for want in (_STATUS_FOR_EVENT.get(ctx.event_type), ctx.verb, f"{prefix}_{ctx.verb}"):
                if want and want.lower() in by_lower:
                    return by_lower[want.lower()]
        preferred = _ENUM_DEFAULTS.get(t["name"] or "") or _ENUM_DEFAULTS.get(fname)
        if ctx.variant == 0 and preferred in values:
            return preferred
        return values[0] if ctx.variant == 0 else ctx.rng.choice(values)

    def _offset(self, fname: str, depth: int) -> timedelta:
        if fname == "created_at" and depth == 0 and not self.ctx.event_type.startswith("subscription."):
            return timedelta(minutes=-2, seconds=-13)  # one-off objects are created just before their event
        return _TIME_OFFSETS.get(fname, timedelta(minutes=-self.ctx.rng.randrange(1, 90)))

    def _bool(self, fname: str) -> bool:
        ctx = self.ctx
        if fname == "digital_products_delivered":
            return ctx.verb == "succeeded"
        if fname == "is_credit":
            return ctx.verb in ("added", "rolled_over", "manual_adjustment", "overage_reset")
        if ctx.variant == 0:
            return fname in _TRUE_BOOLS
        return ctx.rng.random() < 0.5

    def _int(self, model: str, fname: str) -> int:
        m = self.ctx.money
        payout = model.startswith("payout_")
        if model == "DiscountDetail" and fname == "amount":
            return 2000  # basis points: 20 %
        if fname == "amount":
            return m["payout"] if payout else m["refund"]
        money = {
            "total_amount": "total", "tax": "payout_tax" if payout else "tax", "settlement_tax": "tax",
            "settlement_amount": "settlement", "recurring_pre_tax_amount": "pre", "trial_amount": "trial",
            "fee": "payout_fee", "refunds": "payout_refunds", "chargebacks": "payout_chargebacks",
        }.get(fname)
        if money:
            return m[money]
        if fname == "position":
            return 0
        return _INTS.get(fname, self.ctx.rng.randrange(1, 10))

    def _str(self, model: str, fname: str, scope: dict) -> str:
        ctx = self.ctx
        first, last = ctx.person
        if fname in ("balance_after", "balance_before") and ctx.verb not in ("added", "rolled_over", "manual_adjustment"):
            fname = "balance_before" if fname == "balance_after" else "balance_after"  # a debit: the balance falls
        if fname in _STRINGS:
            return _STRINGS[fname]
        if fname == "id":
            return ctx.id_for(_ID_OWNER.get(model, model.rsplit(".", 1)[-1].lower()), scope)
        if fname.endswith("_id"):
            return ctx.id_for(fname[:-3], scope)
        if fname.endswith("_ids"):
            return ctx.id_for(fname[:-4], scope)
        if fname == "amount":  # Dispute: money as a string (minor units assumed); credit ledger: credit units
            return str(ctx.money["total"]) if model == "Dispute" else "100"
        if fname == "currency":
            return ctx.currency
        if fname == "restricted_to":
            return ctx.id_for("product", scope)
        if fname == "email":
            return f"{_ascii(first)}.{_ascii(last)}@example.com".lower()
        if fname == "card_holder_name" or (fname == "name" and model in ("CustomerLimitedDetails", "SubscriptionCancelledBy")):
            return f"{first} {last}"
        if fname == "name":
            return _NAMES_BY_MODEL.get(model, "Weekly payout" if model.startswith("payout_") else "Pro plan")
        if fname == "phone_number":
            return "+14155550132"
        if fname.endswith("_url") or fname == "payment_link":
            return f"https://example.com/{fname.replace('_', '-')}/{ctx.token(12)}"
        if fname == "payment_method":
            return "bank_transfer" if model.startswith("payout_") else "card"
        if fname == "key" and model == "CustomFieldResponse":
            return "company_size"
        if fname == "key":
            return "LK-" + "-".join(ctx.id_for("license_key", scope)[4:24][i : i + 5].upper() for i in range(0, 20, 5))
        if fname in ("street", "city", "state", "zipcode"):
            street, city, state, zipcode = _ADDRESSES.get(ctx.country, _ADDRESSES["US"])
            return {"street": street, "city": city, "state": state, "zipcode": zipcode}[fname]
        if fname == "description":
            return "Monthly API credit top-up"
        return f"sample {fname.replace('_', ' ')}"

    def _metadata(self) -> dict:
        if self.ctx.variant == 0:
            return {"campaign": "spring_launch", "referrer": "newsletter", "gift": False}
        return self.ctx.rng.choice([{}, {"order_ref": f"A-{self.ctx.rng.randrange(1000, 9999)}"}, {"seats": 5.0, "trial": True}])


def _cohere(data: dict) -> dict:
    """Cross-field facts the per-field rules cannot see."""
    if isinstance(data.get("subscription_ids"), list):
        data["subscription_ids"] = [data["subscription_id"]] if data.get("subscription_id") else []
        if "is_multi_subscription" in data:
            data["is_multi_subscription"] = len(data["subscription_ids"]) > 1
    if data.get("charge_type") is not None and "subscription_id" in data and not data.get("subscription_id"):
        data["charge_type"] = None
    return data


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalnum())
