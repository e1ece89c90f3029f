"""`segmap plan`: the tracking plan must accept everything the mapping really sends."""
import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from segmap.authoring import tracking_plan as tp
from segmap.compiler.api import check_source, compile_source
from segmap.runtime.values import MappingRuntimeError
from segmap.samples import sample_envelope

from .conftest import EXAMPLES, ROOT

DRAFT7 = jsonschema.Draft7Validator
FORMATS = DRAFT7.FORMAT_CHECKER

TYPES = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        order_id: data.payment_id
        revenue: to_major(data.total_amount, data.currency)
        currency: data.currency
        method: data.payment_method
        status: '"paid"'
        paid_at: data.created_at
        items: length(data.product_cart ?? [])
        meta: data.metadata
        first_item: data.product_cart[0]
        size: 'if data.total_amount > 10000 then "large" else "small"'
    - identify:
      traits:
        email: data.customer.email
        phone: data.customer.phone_number
    - alias:
      previousId: data.customer.email
    - track:
      event: 'if data.total_amount > 10000 then "Big Order" else "Small Order"'
    - track:
      event: data.payment_id
  subscription.active:
    - page: Pricing
      properties: {plan: data.product_id}
"""


def plan_of(text: str, name: str = "m.yaml"):
    result = check_source(text, name)
    assert result.ok, result.diagnostics
    return tp.build(result)


def rules_by_key(plan, enums=True):
    rules = tp.segment_rules(plan, enums)
    for r in rules:
        DRAFT7.check_schema(r["jsonSchema"])
    return {(r["type"], r.get("key")): r for r in rules}


def payload(rule):
    schema = rule["jsonSchema"]
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#" and schema["type"] == "object"
    (inner,) = schema["properties"].values()
    return inner


def test_types_nullability_and_required_keys():
    plan = plan_of(TYPES)
    rules = rules_by_key(plan)
    assert list(rules) == [("TRACK", "Big Order"), ("TRACK", "Order Completed"), ("TRACK", "Small Order"),
                           ("IDENTIFY", None), ("PAGE", "Pricing")]
    assert all(r["version"] == 1 for r in rules.values())
    oc = payload(rules[("TRACK", "Order Completed")])
    props = oc["properties"]
    assert props["order_id"] == {"type": "string"}
    assert props["revenue"] == {"type": "number"}
    assert props["currency"]["type"] == "string" and "JPY" in props["currency"]["enum"]
    assert props["method"] == {"type": ["string", "null"]}
    assert props["status"] == {"type": "string", "enum": ["paid"]}
    assert props["paid_at"] == {"type": "string", "format": "date-time"}
    assert props["items"] == {"type": "integer"}
    assert props["meta"] == {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
    assert props["first_item"] == {"type": "object", "properties": {"product_id": {"type": "string"},
                                                                    "quantity": {"type": "integer"}},
                                   "required": ["product_id", "quantity"]}
    assert props["size"] == {"type": "string", "enum": ["large", "small"]}
    # absent-able keys are not required; nullable ones can still be required
    assert oc["required"] == ["order_id", "revenue", "currency", "status", "paid_at", "items", "meta", "size"]
    # identify traits are never required
    traits = payload(rules[("IDENTIFY", None)])
    assert traits == {"type": "object", "properties": {"email": {"type": "string"}, "phone": {"type": ["string", "null"]}}}
    assert [n.split(": ", 1)[1] for n in plan.notes] == [
        "alias calls have no tracking-plan rule type; left out",
        "the track event name is computed from the webhook, so it cannot be a tracking-plan key; left out",
    ]


def test_no_enums():
    rules = rules_by_key(plan_of(TYPES), enums=False)
    text = json.dumps(list(rules.values()))
    assert '"enum"' not in text
    assert payload(rules[("TRACK", "Order Completed")])["properties"]["status"] == {"type": "string"}


MERGED = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        order_id: data.payment_id
        revenue: to_major(data.total_amount, data.currency)
        method: data.payment_method
  payment.cancelled:
    - track: Order Completed
      properties:
        order_id: data.payment_id
        revenue: 0
        cancelled: true
"""


def test_one_rule_per_event_name_merging_every_source():
    rules = rules_by_key(plan_of(MERGED))
    oc = payload(rules[("TRACK", "Order Completed")])
    assert oc["properties"] == {"order_id": {"type": "string"}, "revenue": {"type": "number"},
                                "method": {"type": ["string", "null"]}, "cancelled": {"type": "boolean"}}
    assert oc["required"] == ["order_id", "revenue"]
    # a source without properties makes every key optional
    more = MERGED + "  refund.succeeded:\n    - track: Order Completed\n"
    oc = payload(rules_by_key(plan_of(more))[("TRACK", "Order Completed")])
    assert "required" not in oc and set(oc["properties"]) == {"order_id", "revenue", "method", "cancelled"}


def test_when_guards_narrow_types():
    text = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  refund.succeeded:
    - track: Order Refunded
      when: data.amount != null and data.currency != null
      properties:
        total: to_major(data.amount, data.currency)
        currency: data.currency
"""
    props = payload(rules_by_key(plan_of(text))[("TRACK", "Order Refunded")])
    assert props["properties"]["total"] == {"type": "number"}
    assert props["required"] == ["total", "currency"]


def test_guards_on_the_event_type_pick_the_events_of_a_glob_rule(mapping_file, cli):
    text = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  subscription.*:
    - track: Subscription Renewed
      when: type == "subscription.renewed"
      properties: {payment_id: data.payment_id}
    - track: Subscription Changed
      when: not (type == "subscription.renewed" or type == "subscription.active")
"""
    plan = plan_of(text)
    (renewed,) = [r for r in plan.rules if r.key == "Subscription Renewed"]
    assert [s.event_type for s in renewed.sources] == ["subscription.renewed"]
    (changed,) = [r for r in plan.rules if r.key == "Subscription Changed"]
    assert len(changed.sources) == 10 and "subscription.active" not in [s.event_type for s in changed.sources]
    code, out, _ = cli("preview", mapping_file(text), "-e", "subscription.renewed")
    assert code == 0 and "1 call\n" in out and "not sent" not in out and "Subscription Changed" not in out


def _plan_accepts(text, envelope) -> list[str]:
    plan = plan_of(text)
    compiled = compile_source(text, "m.yaml")
    errors = []
    for call in compiled.apply(envelope):
        schema = tp.schema_for_call(plan, call.call, call.body)
        body = json.loads(json.dumps(call.body))
        errors += [e.message for e in DRAFT7(schema, format_checker=FORMATS).iter_errors(body)]
    return errors


LIST_ITEMS = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        tags: [data.metadata.campaign, data.payment_method]
        from_map: map(data.product_cart ?? [], item => data.metadata.campaign)
"""


def test_absent_list_items_are_sent_as_null():
    env = sample_envelope("payment.succeeded")
    env["data"]["metadata"] = {}
    text = LIST_ITEMS.replace("        from_map: map(data.product_cart ?? [], item => data.metadata.campaign)\n", "")
    assert _plan_accepts(text, env) == []


def test_absent_map_items_are_sent_as_null():
    env = sample_envelope("payment.succeeded")
    env["data"]["metadata"] = {}
    assert _plan_accepts(LIST_ITEMS, env) == []


def test_json_schema_and_markdown_formats(mapping_file, cli, tmp_path):
    path = mapping_file(TYPES)
    code, out, err = cli("plan", path, "--format", "jsonschema")
    assert code == 0
    schemas = json.loads(out)
    assert set(schemas) == {"track", "identify", "page"}
    assert set(schemas["track"]) == {"Order Completed", "Big Order", "Small Order"}
    assert schemas["page"]["Pricing"]["properties"]["properties"]["required"] == ["plan"]
    assert "alias calls have no tracking-plan rule type" in err
    code, out, _ = cli("plan", path, "--format", "markdown")
    assert code == 0
    assert out.startswith(f"# Tracking plan: `{path}`")
    assert "| `method` | string | yes | no | `data.payment_method` |" in out
    assert "| `first_item.quantity` | integer | no | yes | |" not in out  # computed objects: no source column
    assert "| `email` | string | no | no | `data.customer.email` |" in out
    assert "## Not in the plan" in out
    code, out, _ = cli("plan", path, "-o", tmp_path / "plan.json")
    assert code == 0 and out == ""
    assert json.loads((tmp_path / "plan.json").read_text())[0]["type"] == "TRACK"


def test_plan_errors(mapping_file, cli, tmp_path):
    broken = mapping_file("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.nope\n")
    code, out, err = cli("plan", broken)
    assert code == 1 and out == "" and "error[E203]" in err
    code, _, err = cli("plan", tmp_path / "missing.yaml")
    assert code == 2 and "cannot read" in err


# --- the strongest test: real outputs validate against the plan -----------------------

MAPPINGS = sorted(EXAMPLES.glob("*.yaml")) + [ROOT / "segmap" / "cli" / "starter.yaml"]


def _load(path: Path):
    text = path.read_text(encoding="utf-8")
    name = str(path.relative_to(ROOT))
    result = check_source(text, name)
    assert result.ok, result.diagnostics
    plan = tp.build(result)
    validators = {}
    for rule in plan.rules:
        schema = tp.rule_schema(rule)
        DRAFT7.check_schema(schema)
        validators[(rule.kind, rule.key)] = DRAFT7(schema, format_checker=FORMATS)
    return compile_source(text, name), plan, validators, list(result.plan.calls)


def _validate(compiled, validators, envelope) -> int:
    try:
        calls = compiled.apply(envelope)
    except MappingRuntimeError:
        return 0  # reported by the mapping's own tests; the plan covers what is sent
    for call in calls:
        body = json.loads(json.dumps(call.body))
        key = body.get("event") if call.call == "track" else body.get("name") if call.call in ("page", "screen") else None
        if call.call == "alias":
            continue
        validator = validators[(call.call, key)]
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, (envelope["type"], call.call, key, errors)
    return len(calls)


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: p.name)
def test_the_plan_accepts_every_sample_output(path):
    compiled, plan, validators, mapped = _load(path)
    sent = 0
    for event in mapped:
        for variant in range(10):
            sent += _validate(compiled, validators, sample_envelope(event, variant=variant))
    assert sent > 0
    assert plan.rules


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda p: p.name)
def test_the_plan_accepts_generated_outputs(path):
    from segmap.testing.strategies import envelopes

    compiled, _, validators, mapped = _load(path)

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(envelopes(mapped))
    def check(envelope):
        _validate(compiled, validators, envelope)

    check()
