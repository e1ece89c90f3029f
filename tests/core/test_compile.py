"""Compiled mappings: the bodies they produce and how they fail."""
import pytest

import segmap
from segmap.runtime.values import MappingRuntimeError
from segmap.samples import sample_envelope


def pay(**data):
    env = sample_envelope("payment.succeeded")
    env["data"].update(data)
    return env


def test_compile_file_api_returns_calls_with_call_and_body(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nevents:\n  payment.succeeded:\n    - track: Order Completed\n"
                    "      userId: data.customer.customer_id\n      properties:\n        revenue: to_major(data.total_amount, data.currency)\n")
    mapping = segmap.compile_file(path)
    env = pay(total_amount=1999, currency="USD")
    (call,) = mapping.apply(env)
    assert call.call == "track"
    assert call.body == {"event": "Order Completed", "userId": env["data"]["customer"]["customer_id"],
                         "properties": {"revenue": 19.99}}
    assert segmap.check_file(path) == []


def test_errors_raise_mapping_error_listing_all(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nevents:\n  payment.succeded:\n    - track: X\n  refund.x:\n    - track: Y\n")
    with pytest.raises(segmap.MappingError) as info:
        segmap.compile_file(path)
    assert [d.code for d in info.value.diagnostics if d.is_error] == ["E201", "E401", "E201", "E401"] or \
        {d.code for d in info.value.diagnostics} >= {"E201"}
    assert "m.yaml:3:3" in str(info.value)


def test_unmapped_event_produces_no_call(compile_text):
    m = compile_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: business_id\n")
    assert m.apply(sample_envelope("refund.succeeded")) == []
    assert m.apply({"type": "no.such.event"}) == []


def test_absent_path_drops_the_key_and_null_stays_null(compile_text):
    m = compile_text("""
        version: 1
        events:
          payment.succeeded:
            - track: X
              userId: data.customer.customer_id
              properties:
                method: data.payment_method
                deep: data.customer.metadata.plan
    """)
    env = pay(payment_method=None)
    env["data"]["customer"]["metadata"] = {}
    (call,) = m.apply(env)
    assert call.body["properties"] == {"method": None}
    del env["data"]["payment_method"]
    (call,) = m.apply(env)
    assert call.body["properties"] == {}


def test_currency_decimals_and_multiple_calls_and_when(compile_text):
    m = compile_text("""
        version: 1
        defaults:
          userId: data.customer.customer_id
          timestamp: timestamp
        events:
          payment.*:
            - track: Order Completed
              when: data.status == "succeeded"
              properties:
                revenue: to_major(data.total_amount, data.currency)
                label: f"{upper(data.currency)} {fixed(to_major(data.total_amount, data.currency), decimals(data.currency))}"
            - identify:
              traits: {email: lower(data.customer.email)}
    """)
    for currency, amount, revenue, label in (("JPY", 1500, 1500, "JPY 1500"), ("KWD", 12345, 12.345, "KWD 12.345"),
                                             ("USD", 1999, 19.99, "USD 19.99")):
        env = pay(currency=currency, total_amount=amount, status="succeeded")
        track, identify = m.apply(env)
        assert track.body["properties"] == {"revenue": revenue, "label": label}
        assert track.body["timestamp"] == env["timestamp"]
        assert identify.call == "identify" and identify.body["traits"]["email"] == env["data"]["customer"]["email"].lower()
    env = pay(status="failed")
    env["type"] = "payment.failed"
    assert [c.call for c in m.apply(env)] == ["identify"]


def test_map_over_product_cart(compile_text):
    m = compile_text("""
        version: 1
        events:
          payment.succeeded:
            - track: Order Completed
              userId: data.customer.customer_id
              properties:
                products: 'map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})'
                count: length(data.product_cart ?? [])
    """)
    env = pay(product_cart=[{"product_id": "a", "quantity": 2}, {"product_id": "b", "quantity": 1}])
    (call,) = m.apply(env)
    assert call.body["properties"] == {"products": [{"product_id": "a", "quantity": 2}, {"product_id": "b", "quantity": 1}],
                                       "count": 2}
    (call,) = m.apply(pay(product_cart=None))
    assert call.body["properties"] == {"products": [], "count": 0}


def test_conditional_coalesce_and_templates(compile_text):
    m = compile_text("""
        version: 1
        events:
          payment.succeeded:
            - track: X
              userId: data.customer.customer_id
              properties:
                tier: 'if data.total_amount >= 10000 then "big" else "small"'
                method: data.payment_method ?? "unknown"
                title: f"{data.customer.name} paid via {data.payment_method}"
    """)
    (c,) = m.apply(pay(total_amount=20000, payment_method=None))
    assert c.body["properties"]["tier"] == "big" and c.body["properties"]["method"] == "unknown"
    assert c.body["properties"]["title"].endswith("paid via ")
    (c,) = m.apply(pay(total_amount=5, payment_method="card"))
    assert c.body["properties"]["tier"] == "small" and c.body["properties"]["method"] == "card"


def test_runtime_error_is_located_at_the_failing_sub_expression(compile_text):
    m = compile_text("""
        version: 1
        events:
          payment.succeeded:
            - track: X
              userId: data.customer.customer_id
              properties:
                ok: data.payment_id
                revenue: to_major(data.total_amount, data.currency)
    """)
    with pytest.raises(MappingRuntimeError) as info:
        m.apply(pay(currency="XXX"))
    assert info.value.location == "m.yaml:8:18"
    assert "XXX" in info.value.message


def test_missing_identity_at_runtime_fails_loudly(compile_text):
    m = compile_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.customer.customer_id\n")
    env = pay()
    env["data"]["customer"] = None
    with pytest.raises(MappingRuntimeError) as info:
        m.apply(env)
    assert "userId" in info.value.message and info.value.location.startswith("m.yaml:")


def test_bad_envelopes_are_errors_not_crashes(compile_text):
    m = compile_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: business_id\n")
    for bad in ([], "x", None):
        with pytest.raises(MappingRuntimeError):
            m.apply(bad)
    with pytest.raises(MappingRuntimeError):
        m.apply({"no": "type"})
    for bad_type in (7, None, ["payment.succeeded"], {"a": 1}):
        with pytest.raises(MappingRuntimeError, match="must be a string"):
            m.apply({"type": bad_type})
    # a structurally wrong data object: paths come out absent, identity is still there
    (c,) = m.apply({"type": "payment.succeeded", "business_id": "b", "data": [1, 2]})
    assert c.body == {"event": "X", "userId": "b"}


def test_bodies_are_fresh_objects_per_call(compile_text):
    m = compile_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: business_id\n"
                     "      properties: {a: 1}\n")
    a = m.apply(pay())[0].body
    a["properties"]["a"] = 2
    assert m.apply(pay())[0].body["properties"] == {"a": 1}
