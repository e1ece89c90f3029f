"""Small named facts beside the outbox (backfill cursors, serve's first start): part of every store's contract."""
from __future__ import annotations


def test_state_is_absent_until_put_and_put_replaces(store):
    assert store.get_state("backfill.cursor.payments") is None
    assert store.put_state("backfill.cursor.payments", b'{"page": 1}') == b'{"page": 1}'
    assert store.put_state("backfill.cursor.payments", b'{"page": 2}') == b'{"page": 2}'
    assert store.get_state("backfill.cursor.payments") == b'{"page": 2}'


def test_only_if_absent_keeps_the_first_value(store):
    assert store.put_state("service.first_started_at", b"100.5", only_if_absent=True) == b"100.5"
    assert store.put_state("service.first_started_at", b"200.0", only_if_absent=True) == b"100.5"
    assert store.get_state("service.first_started_at") == b"100.5"


def test_state_keys_do_not_disturb_the_pause(store):
    store.set_paused("401 from Segment")
    store.put_state("backfill.cursor.refunds", b"{}")
    assert store.paused() is not None and store.paused().reason == "401 from Segment"
    store.set_paused(None)
    assert store.paused() is None and store.get_state("backfill.cursor.refunds") == b"{}"
