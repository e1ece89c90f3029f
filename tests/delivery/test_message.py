"""What goes into one batch item: ids, type, library, and the refusals that keep a batch clean."""
from __future__ import annotations

import math
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmap import __version__
from segmap.runtime.calls import Call
from segmap.delivery.message import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    SENT_AT_OVERHEAD,
    batch_body,
    encode_call,
    format_sent_at,
    message_id_for,
    plan_batches,
    stamp,
)


def track(**props) -> Call:
    return Call("track", {"userId": "u1", "event": "Order Completed", "properties": props})


def test_message_id_is_deterministic_namespaced_and_positional():
    assert message_id_for("msg_2Lh9KRb0pzN4", 0) == "segmap-msg_2Lh9KRb0pzN4-0"
    assert message_id_for("msg_2Lh9KRb0pzN4", 1) == "segmap-msg_2Lh9KRb0pzN4-1"
    assert message_id_for("a", 0) != message_id_for("b", 0)


@given(st.text(min_size=1, max_size=400), st.integers(min_value=0, max_value=10_000))
def test_message_id_never_exceeds_100_chars_and_is_stable(webhook_id, index):
    mid = message_id_for(webhook_id, index)
    assert len(mid) <= 100
    assert mid.startswith("segmap-")
    assert mid == message_id_for(webhook_id, index)


def test_long_webhook_ids_are_hashed_without_collisions_between_positions():
    wid = "x" * 200
    a, b = message_id_for(wid, 0), message_id_for(wid, 1)
    assert a != b and len(a) <= 100 and "xxxx" not in a
    assert message_id_for("y" * 200, 0) != a


def test_a_webhook_id_spelt_like_a_digest_cannot_take_the_message_ids_of_another_webhook():
    """`segmap-h-<digest>-N` is what a long id turns into; a short id that is literally
    `h-<digest>` must not produce the same messageIds (Segment would drop one webhook's calls)."""
    long_id = "msg_" + "L" * 200
    hashed = message_id_for(long_id, 0)
    assert hashed.startswith("segmap-h-")
    lookalike = hashed[len("segmap-"):-len("-0")]  # "h-" + 40 hex, a valid webhook-id
    assert len(lookalike) == 42
    for i in range(3):
        assert message_id_for(lookalike, i) != message_id_for(long_id, i)
        assert len(message_id_for(lookalike, i)) <= 100
    # ids that only resemble it are still written out
    assert message_id_for("h-abc", 0) == "segmap-h-abc-0"
    assert message_id_for(lookalike.upper(), 0) == f"segmap-{lookalike.upper()}-0"


@given(st.text(min_size=1, max_size=300), st.text(min_size=1, max_size=300), st.integers(0, 200), st.integers(0, 200))
def test_distinct_webhook_ids_or_positions_never_share_a_message_id(a, b, i, j):
    if (a, i) != (b, j):
        assert message_id_for(a, i) != message_id_for(b, j)


def test_item_carries_type_message_id_and_library():
    m = encode_call("msg_1", 3, track(order_id="o1"))
    assert m.sendable
    item = orjson.loads(m.payload)
    assert item["type"] == "track"
    assert item["messageId"] == "segmap-msg_1-3" == m.message_id
    assert item["context"]["library"] == {"name": "segmap", "version": __version__}


def test_mapping_context_is_kept_and_segment_owned_fields_are_dropped():
    call = Call("identify", {"userId": "u", "context": {"ip": "1.2.3.4"}, "sentAt": "x", "receivedAt": "y", "writeKey": "k"})
    item = orjson.loads(encode_call("w", 0, call).payload)
    assert item["context"]["ip"] == "1.2.3.4"
    assert not {"sentAt", "receivedAt", "writeKey"} & item.keys()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Infinity")])
def test_nan_and_infinity_are_refused_with_the_path(bad):
    m = encode_call("w", 0, track(items=[{"price": 1.0}, {"price": bad}]))
    assert not m.sendable
    assert "NaN or Infinity at properties.items[1].price" in m.reject_reason


def test_the_walk_for_nan_runs_when_the_json_has_a_null_and_only_a_nan_is_refused():
    # encode_message walks the body only when orjson wrote a null somewhere (NaN and Infinity come out as null)
    ok = encode_call("w", 0, track(coupon=None, note="null"))
    assert ok.sendable and b'"coupon":null' in ok.payload
    m = encode_call("w", 0, track(coupon=None, items=[{"price": math.inf}]))
    assert not m.sendable and "NaN or Infinity at properties.items[0].price" in m.reject_reason


def test_orjson_alone_would_have_sent_null_for_nan():
    # the reason encode_call checks by itself
    assert orjson.dumps({"a": math.nan}) == b'{"a":null}'


def test_decimal_money_is_written_exactly():
    item = encode_call("w", 0, track(revenue=Decimal("19.990"), big=Decimal("12345678901234567890.01"))).payload
    assert b'"revenue":19.990' in item
    assert b'"big":12345678901234567890.01' in item


def test_oversized_message_is_refused_before_it_can_fail_a_batch():
    # just under and just over the 32 KB limit, counted with the sentAt stamp
    base = encode_call("w", 0, track(blob="")).payload
    room = MAX_MESSAGE_BYTES - len(base) - SENT_AT_OVERHEAD
    fits = encode_call("w", 0, track(blob="a" * room))
    over = encode_call("w", 0, track(blob="a" * (room + 1)))
    assert fits.sendable and len(stamp(fits.payload, format_sent_at())) == MAX_MESSAGE_BYTES
    assert not over.sendable and "over Segment's 32768-byte limit" in over.reject_reason
    assert over.payload  # kept for diagnosis


@pytest.mark.parametrize(
    "call, reason",
    [
        (Call("track", {"userId": "u"}), "track needs a non-empty string event"),
        (Call("track", {"event": "E"}), "track needs userId or anonymousId"),
        (Call("group", {"userId": "u"}), "group needs groupId"),
        (Call("alias", {"userId": "u"}), "alias needs both previousId and userId"),
        (Call("launch", {"userId": "u"}), "unknown call type 'launch'"),
        (Call("track", {"userId": "u", "event": "E", "messageId": "x" * 101}), "messageId set by the mapping"),
        (Call("track", {"userId": "u", "event": "E", "x": object()}), "cannot encode as JSON"),
    ],
)
def test_items_segment_would_drop_silently_are_refused_with_a_reason(call, reason):
    m = encode_call("w", 0, call)
    assert not m.sendable and reason in m.reject_reason


def test_anonymous_id_is_enough_and_an_explicit_message_id_is_kept():
    m = encode_call("w", 0, Call("page", {"anonymousId": "a", "messageId": "mine-1"}))
    assert m.sendable and m.message_id == "mine-1"


def test_stamp_and_batch_body_are_valid_json_with_sent_at_everywhere():
    sent_at = format_sent_at(0.0)
    assert sent_at == "1970-01-01T00:00:00.000Z"
    payloads = [encode_call("w", i, track(i=i)).payload for i in range(3)]
    body = orjson.loads(batch_body(payloads, sent_at))
    assert body["sentAt"] == sent_at
    assert [b["sentAt"] for b in body["batch"]] == [sent_at] * 3
    assert [b["properties"]["i"] for b in body["batch"]] == [0, 1, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=40_000), min_size=1, max_size=120),
       st.integers(min_value=1_000, max_value=MAX_BATCH_BYTES), st.integers(min_value=1, max_value=2500))
def test_planned_batches_respect_every_limit(sizes, max_bytes, max_items):
    payloads = [encode_call("w", i, track(blob="a" * s)).payload for i, s in enumerate(sizes)]
    sendable = [p for p in payloads if len(p) + SENT_AT_OVERHEAD <= MAX_MESSAGE_BYTES]
    ranges = plan_batches(sendable, max_bytes, max_items)
    assert [i for r in ranges for i in r] == list(range(len(sendable)))  # every item once, in order
    for r in ranges:
        body = batch_body(sendable[r.start:r.stop], format_sent_at())
        assert len(r) <= max_items
        assert len(body) <= max_bytes or len(r) == 1  # a lone item larger than max_bytes still fits Segment
        assert len(body) <= MAX_BATCH_BYTES
