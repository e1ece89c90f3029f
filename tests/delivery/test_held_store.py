"""Held calls in the store: never claimed, not counted as lag, released or discarded only on request;
an outbox of the previous release holds its pending `segmap send` samples after the upgrade."""
from __future__ import annotations

import pytest

from segmap.delivery.outbox import SqliteOutbox
from tests.delivery.conftest import Clock, calls_for
from tests.delivery.legacy.outbox_sqlite_c5b3eb0 import SqliteOutbox as ReleasedSqliteOutbox


def test_held_calls_are_never_claimed_and_do_not_count_as_lag(store):
    store.accept("msg_dry", "payment.succeeded", b"{}", calls_for(1), hold="dry_run")
    store.accept("msg_test", "payment.succeeded", b"{}", calls_for(2), hold="test")
    assert store.claim(100, 30) == []
    assert not store.has_undelivered()
    assert store.oldest_pending_age() is None and store.next_attempt_at() is None
    st = store.status()
    assert st.held == {"dry_run": 2, "test": 2} and st.counts["pending"] == 4
    assert len(store.peek(100)) == 4  # a dry run still shows what would be sent
    assert store.release_held(hold="dry_run") == 2
    assert store.has_undelivered() and store.oldest_pending_age() is not None
    claimed = store.claim(100, 30)
    assert {r.webhook_id for r in claimed} == {"msg_dry"}
    assert store.discard_held(hold="test") == 2
    assert store.held_counts() == {} and store.counts()["pending"] == 0
    assert store.accept("msg_test", "payment.succeeded", b"{}", calls_for(2)).duplicate


def test_held_lag_is_not_counted_on_a_moving_clock(tmp_path):
    clock = Clock()
    store = SqliteOutbox(tmp_path / "o.db", clock=clock)
    store.accept("msg_dry", "payment.succeeded", b"{}", calls_for(1), hold="dry_run")
    clock.advance(100)
    assert store.oldest_pending_age() is None and store.claim(100, 30) == []
    store.release_held()
    assert store.oldest_pending_age() == pytest.approx(100)
    store.close()


def test_unknown_hold_is_refused(store):
    with pytest.raises(ValueError, match="hold must be one of"):
        store.accept("msg_x", "payment.succeeded", b"{}", calls_for(1), hold="maybe")


def test_a_quarantined_envelope_passes_its_hold_to_the_calls_it_resolves_to(store):
    store.quarantine("msg_q", "payment.succeeded", b"{}", "boom", "m.yaml:1:1", hold="test")
    [q] = store.list_quarantine()
    assert q.hold == "test"
    assert store.resolve_quarantine(q.id, calls_for(3)).queued == 2
    assert store.held_counts() == {"test": 2} and store.claim(10, 30) == []


def test_release_by_webhook_id_only_touches_that_webhook(store):
    for i in range(3):
        store.accept(f"msg_{i}", "payment.succeeded", b"{}", calls_for(i), hold="test")
    assert store.release_held(webhook_ids=["msg_1"]) == 2
    assert {r.webhook_id for r in store.list_held()} == {"msg_0", "msg_2"}
    assert {r.hold for r in store.list_held()} == {"test"}


def test_upgrade_holds_pending_samples_of_the_previous_release(tmp_path):
    path = tmp_path / "old.db"
    old = ReleasedSqliteOutbox(path)
    old.accept("msg_send_0123456789abcdef0123", "payment.succeeded", b"{}", calls_for(1))  # README's segmap send
    old.accept("msg_2aB", "payment.succeeded", b"{}", calls_for(2))  # a Dodo webhook id
    old.accept("msg_sendX", "payment.succeeded", b"{}", calls_for(3))  # `_` is not a wildcard here
    old.quarantine("msg_send_q", "payment.succeeded", b"{}", "boom", "m.yaml:1:1")
    old.close()
    store = SqliteOutbox(path, create=False)
    assert store.held_counts() == {"test": 2}
    assert {r.webhook_id for r in store.claim(100, 30)} == {"msg_2aB", "msg_sendX"}
    assert [q.hold for q in store.list_quarantine()] == ["test"]
    store.close()
