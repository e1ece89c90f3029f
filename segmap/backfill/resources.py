"""Which Dodo objects a backfill reads, and which webhook each one stands for.

A historical object is turned into the envelope of the webhook that reported
its *current* state: a succeeded payment becomes `payment.succeeded`, a
cancelled subscription `subscription.cancelled`. Objects in a state no webhook
ends in (a payment still `requires_payment_method`, a `pending` refund) are
skipped and counted: the live service will see their next webhook.

The table is data so that docs/backfill.md, `segmap backfill --help` and the
tests read the same thing. Event types Dodo's API offers no listing for
(credits, entitlement grants, abandoned checkouts, dunning, the intermediate
subscription events such as `renewed` or `plan_changed`) cannot be
backfilled: they are facts about a moment, and the API keeps only the latest
state of each object.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Resource:
    """One listable kind of Dodo object."""

    name: str  # the --only name, also the SDK attribute (client.<name>)
    id_field: str
    list_model: str  # SDK class of a listed item (dodopayments.types)
    detail_model: str | None  # SDK class `retrieve` returns, None without a retrieve endpoint
    state_field: str | None
    events: Mapping[str, str]  # state value -> webhook event type ("*" = every object)
    time_fields: Mapping[str, tuple[str, ...]]  # event type -> fields holding the time of that state, in order

    def event_type(self, obj: Mapping[str, Any]) -> str | None:
        """The webhook event type `obj`'s current state stands for, or None (skipped)."""
        if self.state_field is None:
            return self.events.get("*")
        state = obj.get(self.state_field)
        return self.events.get(state) if isinstance(state, str) else None

    def time_candidates(self, event_type: str) -> tuple[str, ...]:
        return self.time_fields.get(event_type, ()) + ("created_at",)


def _times(default: tuple[str, ...], **per_event: tuple[str, ...]) -> Callable[[Mapping[str, str]], dict[str, tuple[str, ...]]]:
    def build(events: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
        out = {}
        for ev in set(events.values()):
            out[ev] = per_event.get(ev.split(".", 1)[1], default)
        return out

    return build


def _resource(name: str, id_field: str, list_model: str, detail_model: str | None, state_field: str | None,
              events: Mapping[str, str],
              times: Callable[[Mapping[str, str]], dict[str, tuple[str, ...]]]) -> Resource:
    return Resource(name, id_field, list_model, detail_model, state_field, events, times(events))


RESOURCES: dict[str, Resource] = {r.name: r for r in (
    _resource(
        "payments", "payment_id", "PaymentListResponse", "Payment", "status",
        {"succeeded": "payment.succeeded", "failed": "payment.failed", "cancelled": "payment.cancelled",
         "processing": "payment.processing"},
        _times(("updated_at",)),
    ),
    _resource(
        "refunds", "refund_id", "RefundListItem", "Refund", "status",
        {"succeeded": "refund.succeeded", "failed": "refund.failed"},
        _times(()),
    ),
    _resource(
        "disputes", "dispute_id", "DisputeListResponse", "GetDispute", "dispute_status",
        {"dispute_opened": "dispute.opened", "dispute_expired": "dispute.expired",
         "dispute_accepted": "dispute.accepted", "dispute_cancelled": "dispute.cancelled",
         "dispute_challenged": "dispute.challenged", "dispute_won": "dispute.won", "dispute_lost": "dispute.lost"},
        _times(()),
    ),
    _resource(
        "subscriptions", "subscription_id", "SubscriptionListResponse", "Subscription", "status",
        {"active": "subscription.active", "cancelled": "subscription.cancelled", "expired": "subscription.expired",
         "failed": "subscription.failed", "on_hold": "subscription.on_hold", "paused": "subscription.paused",
         "past_due": "subscription.past_due"},
        _times((), cancelled=("cancelled_at",), expired=("expires_at",), paused=("paused_at",)),
    ),
    _resource(
        "license_keys", "id", "LicenseKey", "LicenseKey", None,
        {"*": "license_key.created"},
        _times(()),
    ),
    _resource(
        "payouts", "payout_id", "PayoutListResponse", None, "status",
        {"not_initiated": "payout.created", "in_progress": "payout.in_progress", "on_hold": "payout.on_hold",
         "failed": "payout.failed", "success": "payout.success"},
        _times(("updated_at",), created=()),
    ),
)}


def resource_for_event(event_type: str) -> Resource | None:
    for r in RESOURCES.values():
        if event_type in r.events.values():
            return r
    return None


def backfillable_events() -> list[str]:
    return sorted({ev for r in RESOURCES.values() for ev in r.events.values()})


def parse_only(text: str | None) -> list[Resource]:
    """`--only payments,subscriptions` -> resources; ValueError naming the unknown ones."""
    if not text:
        return list(RESOURCES.values())
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in RESOURCES]
    if unknown:
        raise ValueError(f"unknown resource {', '.join(unknown)}: choose from {', '.join(RESOURCES)}")
    return [RESOURCES[n] for n in dict.fromkeys(names)]
