"""The object -> webhook table: checked against the SDK's models, the webhook snapshot and the docs."""
from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from tests.conftest import require_tool  # noqa: E402

require_tool("dodopayments")

import dodopayments.types as sdk_types  # noqa: E402

from segmap.backfill.needs import plan_event  # noqa: E402
from segmap.backfill.resources import RESOURCES, parse_only, resource_for_event  # noqa: E402
from segmap.compiler.api import check_source  # noqa: E402
from segmap.compiler.snapshot import load_snapshot  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "backfill.md"


def _literals(annotation) -> list[str]:
    out: list[str] = []
    for arg in typing.get_args(annotation):
        out += [arg] if isinstance(arg, str) else _literals(arg)
    return out


def _states(resource) -> list[str]:
    model = getattr(sdk_types, resource.list_model)
    return _literals(model.model_fields[resource.state_field].annotation)


@pytest.mark.parametrize("resource", list(RESOURCES.values()), ids=list(RESOURCES))
def test_every_state_the_sdk_knows_is_mapped_or_deliberately_skipped(resource):
    events = load_snapshot()["events"]
    for event_type in resource.events.values():
        assert event_type in events  # a real webhook type
        assert resource_for_event(event_type) is resource
    if resource.state_field is None:
        assert resource.event_type({}) == "license_key.created"
        return
    states = _states(resource)
    assert set(resource.events) <= set(states)  # no state the API never returns
    for state in states:
        obj = {resource.state_field: state}
        assert resource.event_type(obj) == resource.events.get(state)
    # the SDK client has the endpoints the table names
    for model in (resource.list_model, resource.detail_model):
        if model:
            assert hasattr(sdk_types, model)


def test_the_documented_table_is_the_table_in_the_code():
    text = DOC.read_text()
    rows = re.findall(r"^\| `(\w+)` \| (.+?) \| (.+?) \| (.+?) \|$", text, re.M)
    documented = {name: dict(re.findall(r"`(\w+)` → `([\w.]+)`", mapped)) for name, mapped, _, _ in rows}
    assert set(documented) == set(RESOURCES)
    for name, resource in RESOURCES.items():
        want = dict(resource.events)
        if resource.state_field is None:
            want = {"any": want["*"]}
        assert documented[name] == want, name
    skipped = {name: set(re.findall(r"`(\w+)`", s)) for name, _, _, s in rows}
    for name, resource in RESOURCES.items():
        if resource.state_field:
            assert skipped[name] == set(_states(resource)) - set(resource.events), name


def test_only_names_resources_and_rejects_others():
    assert [r.name for r in parse_only("payments, refunds")] == ["payments", "refunds"]
    with pytest.raises(ValueError, match="unknown resource charges"):
        parse_only("payments,charges")


def _calls(text: str, event_type: str):
    result = check_source(text, "m.yaml")
    assert result.ok, result.diagnostics
    return result.plan.calls[event_type]


def test_listing_is_enough_when_the_mapping_reads_listed_fields_only():
    calls = _calls("version: 1\nevents:\n  refund.succeeded:\n    - track: Order Refunded\n"
                   "      userId: data.payment_id\n      properties: {refund_id: data.refund_id}\n", "refund.succeeded")
    needs = plan_event("refund.succeeded", RESOURCES["refunds"], calls, business_id_given=False)
    assert not needs.fetch_detail and not needs.missing
    assert "refund_id" in needs.keep and "customer" not in needs.keep  # what a listing lacks stays out


def test_a_field_only_the_detail_has_is_retrieved_and_one_no_answer_has_is_reported():
    calls = _calls("version: 1\nevents:\n  refund.succeeded:\n    - track: Order Refunded\n"
                   "      userId: data.customer.customer_id\n", "refund.succeeded")
    needs = plan_event("refund.succeeded", RESOURCES["refunds"], calls, business_id_given=False)
    assert needs.fetch_detail and not needs.missing
    calls = _calls("version: 1\nevents:\n  subscription.active:\n    - track: Subscription Started\n"
                   "      userId: data.customer.customer_id\n      properties:\n"
                   "        due: data.past_due_ends_at\n", "subscription.active")
    needs = plan_event("subscription.active", RESOURCES["subscriptions"], calls, business_id_given=False)
    assert [(m.key, m.span.line, m.span.col) for m in needs.missing] == [("past_due_ends_at", 7, 14)]


def test_the_whole_data_object_needs_everything():
    calls = _calls("version: 1\nevents:\n  refund.succeeded:\n    - track: Order Refunded\n"
                   "      userId: data.payment_id\n      properties: {raw: data}\n", "refund.succeeded")
    needs = plan_event("refund.succeeded", RESOURCES["refunds"], calls, business_id_given=False)
    assert needs.fetch_detail
