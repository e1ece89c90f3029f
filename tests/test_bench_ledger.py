"""bench/bench_serve.py's ledger: compared as sets of ids, and a mismatch fails the script."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import httpx

from segmap.delivery.message import message_id_for
from tests.fakes.fake_segment import FakeSegment

_spec = importlib.util.spec_from_file_location("bench_serve", Path(__file__).parents[1] / "bench" / "bench_serve.py")
bench_serve = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_serve)


def _delivered(webhooks):
    return {message_id_for(w, i) for w in webhooks for i in range(bench_serve.CALLS_PER_WEBHOOK)}


def test_matching_ledgers_are_ok():
    acked = {"msg_a", "msg_b"}
    ok, text = bench_serve.compare_ledgers(acked, set(acked), _delivered(acked))
    assert ok and text.startswith("ok")


def test_same_counts_different_ids_is_a_mismatch():
    """One webhook lost and another one invented: every count still agrees."""
    acked = {"msg_a", "msg_b"}
    inbox = {"msg_a", "msg_c"}
    ok, text = bench_serve.compare_ledgers(acked, inbox, _delivered(inbox))
    assert not ok
    assert "acked but not in the inbox (e.g. msg_b)" in text and "in the inbox but not acked (e.g. msg_c)" in text


def test_a_message_lost_on_the_way_to_segment_is_a_mismatch():
    acked = {"msg_a", "msg_b"}
    ok, text = bench_serve.compare_ledgers(acked, set(acked), _delivered({"msg_a"}) | {message_id_for("msg_b", 0)})
    assert not ok and "1 messageIds never delivered" in text


def test_any_mismatched_run_makes_the_script_exit_1():
    assert bench_serve.exit_status([{"ledger_ok": True}, {"ledger_ok": True}]) == 0
    assert bench_serve.exit_status([{"ledger_ok": True}, {"ledger_ok": False}]) == 1


def test_the_fake_lists_the_message_ids_it_accepted():
    with FakeSegment() as fake:
        batch = {"batch": [{"type": "track", "event": "E", "userId": "u", "messageId": m} for m in ("m1", "m2")]}
        r = httpx.post(f"{fake.url}/v1/batch", json=batch, auth=("test-write-key", ""))
        assert r.status_code == 200
        assert httpx.get(f"{fake.url}/_ids").json() == ["m1", "m2"]
