"""Ledger tests: the set of messageIds Segment must end up with is computed up front
and compared, as sets, with what the fake Segment accepted. Faults are scripted."""
from __future__ import annotations

import base64
import logging
import math
import time

import httpx

from segmap.runtime.calls import Call
from segmap.delivery.worker import Delivery, DeliveryConfig
from segmap.delivery.message import message_id_for
from segmap.delivery.retry import Outcome
from segmap.delivery.sinks import SendResult
from tests.delivery.conftest import WRITE_KEY, fast_policy, fill
from tests.fakes.fake_segment import Hang, Reset, Slow, Status


def test_outage_loses_nothing(store, fake, make_client, make_delivery, caplog):
    expected = fill(store, 300)
    fake.script(Status(503, times=4), Status(429, retry_after="1"), Reset(times=2), Hang(5.0),
                Status(500, times=2), Status(502), Status(504), Status(408))
    client = make_client(timeout=httpx.Timeout(0.3))
    delivery = make_delivery(client, workers=2, claim_limit=100)
    delivery.start()
    assert delivery.drain(timeout=30)
    assert fake.received_ids == expected  # nothing lost, nothing unexpected
    assert store.counts() == {"pending": 0, "in_flight": 0, "delivered": 600, "dead": 0}
    assert fake.violations == []
    actions = [r.action for r in fake.requests]
    assert actions[:4] == ["status:503"] * 4 and "reset" in actions and "hang" in actions
    # Retry-After: silence from the moment a worker has read the 429 (it logs it after closing
    # the gate) until the second is over. The other worker may still send what it had decided on
    # before that moment (on a loaded machine, tens of ms after the fake answered); the strict
    # single-worker check is below.
    t429 = next(r.answered for r in fake.requests if r.action == "status:429")
    to_monotonic = time.monotonic() - time.time()
    read = min(rec.created + to_monotonic for rec in caplog.records if "429" in rec.getMessage())
    assert read < t429 + 0.9, "the 429 was read too late to check the silence after it"
    assert not [(r.action, r.at - t429) for r in fake.requests if read < r.at < t429 + 0.95]
    # re-sent ids after ambiguous failures carry the same messageId (Segment dedups them)
    assert set(fake.attempted) == expected


def test_retry_after_is_honoured_and_outage_backoff_spaces_requests(store, fake, make_client, make_delivery):
    expected = fill(store, 5)
    fake.script(Status(503, retry_after="1"), Status(429, retry_after="0"), Status(503, times=6))
    delivery = make_delivery(make_client(), workers=1, policy=fast_policy(base_delay=0.02, max_delay=0.2))
    delivery.start()
    assert delivery.drain(timeout=20)
    assert fake.received_ids == expected
    reqs = fake.requests
    assert reqs[1].at - reqs[0].answered >= 1.0  # Retry-After: 1 on a 503
    gaps = [b.at - a.answered for a, b in zip(reqs[2:], reqs[3:])]
    assert max(gaps) > 0.02 and sum(gaps) > 0.1  # backoff, not a hot loop (full jitter: each gap may be small)


def test_a_400_costs_only_the_bad_message(store, fake, make_client, make_delivery):
    expected = fill(store, 50)
    bad = message_id_for("msg_17", 1)
    fake.poison_ids = {bad}
    delivery = make_delivery(make_client(), workers=1, claim_limit=100)
    assert delivery.drain(timeout=10)
    assert fake.received_ids == expected - {bad}
    (dl,) = store.list_dead()
    assert dl.message_id == bad and dl.reason.startswith("rejected by Segment: HTTP 400")
    assert len(fake.requests) <= 1 + 2 * 7  # bisection, not one request per message
    assert store.counts()["delivered"] == 99


def test_nan_and_oversized_items_never_reach_segment(store, fake, make_client, make_delivery):
    calls = [Call("track", {"userId": "u", "event": "E", "properties": {"i": i}}) for i in range(98)]
    calls.insert(10, Call("track", {"userId": "u", "event": "E", "properties": {"revenue": math.inf}}))
    calls.insert(50, Call("track", {"userId": "u", "event": "E", "properties": {"blob": "x" * 40_000}}))
    res = store.accept("msg_big", "payment.succeeded", b"{}", calls)
    assert (res.queued, res.dead) == (98, 2)
    delivery = make_delivery(make_client(), workers=1)
    assert delivery.drain(timeout=10)
    assert len(fake.requests) == 1 and fake.violations == []
    assert fake.received_ids == {message_id_for("msg_big", i) for i in range(100)} - {
        message_id_for("msg_big", 10), message_id_for("msg_big", 50)}
    reasons = sorted(d.reason for d in store.list_dead())
    assert "NaN or Infinity at properties.revenue" in reasons[0] and "32768-byte limit" in reasons[1]


def test_401_pauses_without_dead_letters_and_resumes_with_a_fixed_key(store, fake, make_client, make_delivery, caplog):
    caplog.set_level(logging.DEBUG)
    expected = fill(store, 20)
    fake.set_write_keys("the-right-key")
    delivery = make_delivery(make_client(), workers=2, policy=fast_policy(auth_probe_interval=3600))
    delivery.start()
    assert delivery.drain(timeout=10) is False  # returns as soon as delivery is paused
    assert delivery.paused is not None and "HTTP 401" in delivery.paused.reason
    st = store.status()
    assert st.paused is not None and "refused the write key" in st.paused.reason
    assert st.counts == {"pending": 40, "in_flight": 0, "delivered": 0, "dead": 0}
    assert any(r.levelno == logging.ERROR and "DELIVERY PAUSED" in r.getMessage() for r in caplog.records)
    assert len(fake.requests) <= 2  # one refused request per worker, then silence
    delivery.resume(write_key="the-right-key")
    assert delivery.drain(timeout=10)
    assert fake.received_ids == expected and store.paused() is None
    secret_forms = (WRITE_KEY, "the-right-key", base64.b64encode(b"the-right-key:").decode())
    assert not any(s in caplog.text for s in secret_forms)


def test_401_probe_resumes_by_itself_once_segment_accepts_the_key(store, fake, make_client, make_delivery):
    expected = fill(store, 10)
    fake.set_write_keys("rotated")
    delivery = make_delivery(make_client(), workers=1, policy=fast_policy(auth_probe_interval=0.05))
    delivery.start()
    assert fake.wait_for(lambda f: sum(r.status == 401 for r in f.requests) >= 3, timeout=10)  # probing
    assert store.counts()["dead"] == 0 and all(len(r.message_ids) == 1 for r in fake.requests[1:])
    fake.set_write_keys("rotated", WRITE_KEY)  # the key is valid again
    assert delivery.drain(timeout=10, stop_on_pause=False)
    assert fake.received_ids == expected and store.paused() is None and delivery.paused is None


def test_time_budget_dead_letters_and_replay_delivers_everything(backend, fake, make_client, clock):
    store = backend.open(clock=clock)
    expected = fill(store, 5)
    fake.on_request = lambda req: Status(503)
    policy = fast_policy(budget_seconds=24 * 3600.0, base_delay=0.0, max_delay=0.0)  # only the fake clock moves
    delivery = Delivery(store, make_client(), DeliveryConfig(policy=policy, clock=clock))
    assert delivery.run_once() == 10
    assert store.counts()["pending"] == 10  # retried, not dead
    clock.advance(23 * 3600)
    assert delivery.run_once() == 10 and store.counts()["dead"] == 0
    clock.advance(3600)
    assert delivery.run_once() == 10
    dead = store.list_dead()
    assert len(dead) == 10 and all(d.reason.startswith("retry budget of 24h spent; last error: HTTP 503") for d in dead)
    assert all(d.attempts == 3 for d in dead)  # two retried failures and the one that spent the budget
    assert sum(store.counts().values()) == 10  # nothing deleted
    fake.on_request = None
    assert store.replay_dead(reason="retry budget") == 10
    assert delivery.drain(timeout=10)
    assert fake.received_ids == expected
    store.close()


def test_a_long_auth_pause_does_not_spend_the_retry_budget(backend, fake, make_client, clock):
    store = backend.open(clock=clock)
    expected = fill(store, 3)
    fake.on_request = lambda req: Status(503)
    policy = fast_policy(budget_seconds=24 * 3600.0, base_delay=0.0, max_delay=0.0, auth_probe_interval=0.0)
    delivery = Delivery(store, make_client(), DeliveryConfig(policy=policy, clock=clock))
    assert delivery.run_once() == 6 and store.counts()["pending"] == 6  # first failure: the budget starts
    clock.advance(20 * 3600)
    fake.on_request = lambda req: Status(401)
    delivery.run_once()
    assert store.paused() is not None and store.counts()["dead"] == 0
    clock.advance(30 * 3600)  # a weekend with the wrong key: nothing is tried
    fake.on_request = lambda req: Status(503)
    store.set_paused(None)  # the operator fixed the key
    delivery.resume()
    delivery.run_once()
    assert store.counts()["dead"] == 0  # the 5xx after the pause starts a new budget
    fake.on_request = None
    assert delivery.drain(timeout=10)
    assert fake.received_ids == expected
    store.close()


def test_a_501_pauses_and_dead_letters_nothing(store, fake, make_client, make_delivery):
    expected = fill(store, 3)
    fake.script(Status(501))
    delivery = make_delivery(make_client(), workers=1, policy=fast_policy(auth_probe_interval=0.02))
    assert delivery.drain(timeout=10, stop_on_pause=False)  # paused, then the probe got through
    assert store.list_dead() == [] and fake.received_ids == expected


def test_stop_lets_the_request_finish_and_releases_unsent_rows(store, fake, make_client, make_delivery):
    expected = fill(store, 30)
    fake.script(Hang(1.0))
    client = make_client(timeout=httpx.Timeout(5.0), max_batch_items=10)
    delivery = make_delivery(client, workers=1, claim_limit=60)
    delivery.start()
    assert fake.wait_requests(1, timeout=5)  # the worker is now stuck inside the hung request
    assert delivery.stop(timeout=0.1) is False  # still in the request ...
    counts = store.counts()
    assert counts["in_flight"] == 0 and counts["pending"] == 60  # ... but its rows are already given back
    # a new worker (another instance, or after restart) picks them up without waiting for a lease
    other = make_delivery(client, workers=1)
    assert other.drain(timeout=10)
    assert fake.received_ids == expected


def test_stop_between_batches_gives_the_rest_back_itself(store, fake, make_client, make_delivery):
    fill(store, 30)
    fake.script(Slow(0.5))
    delivery = make_delivery(make_client(max_batch_items=10), workers=1, claim_limit=60)
    delivery.start()
    assert fake.wait_for(lambda f: f.arrivals >= 1, timeout=5)  # the worker is inside the slow request
    assert delivery.stop(timeout=5) is True  # the slow request ends with a 200, then the worker stops
    assert len(fake.received_ids) == 10
    assert store.counts() == {"pending": 50, "in_flight": 0, "delivered": 10, "dead": 0}
    assert delivery.stats().released == 50


def test_idle_stop_is_quick_and_notify_wakes_the_worker(store, fake, make_client, make_delivery):
    delivery = make_delivery(make_client(), workers=2, poll_interval=30.0)
    delivery.start()
    expected = fill(store, 2)
    delivery.notify()
    assert fake.wait_for_ids(expected, timeout=5)  # long before the 30 s poll
    assert delivery.stop(timeout=5)
    assert not delivery.running


def test_a_sink_that_raises_is_a_retry_not_a_loss(store, make_delivery):
    expected = fill(store, 3)
    received: set[str] = set()

    class Flaky:
        max_batch_bytes, max_batch_items = 475_000, 2500
        calls = 0

        def send(self, payloads):
            self.calls += 1
            if self.calls <= 2:
                raise RuntimeError("bug")
            import orjson
            received.update(orjson.loads(p)["messageId"] for p in payloads)
            return SendResult(Outcome.OK, 200)

        def close(self):
            pass

    assert make_delivery(Flaky()).drain(timeout=10)
    assert received == expected


def test_expired_lease_of_a_crashed_worker_is_delivered_by_another(backend, fake, make_client, clock):
    store = backend.open(clock=clock)
    expected = fill(store, 4)
    store.claim(100, lease_seconds=60)  # a worker took everything, then died
    delivery = Delivery(store, make_client(), DeliveryConfig(policy=fast_policy(), clock=clock, lease_seconds=60))
    assert delivery.run_once() == 0
    clock.advance(61)
    assert delivery.run_once() == 8
    assert fake.received_ids == expected
    store.close()


def test_replaying_a_webhook_resends_identical_message_ids(store, backend, fake, make_client, make_delivery):
    expected = fill(store, 3)
    d = make_delivery(make_client())
    assert d.drain(timeout=10)
    first = {mid: dict(m) for mid, m in fake.messages.items()}
    if backend.name == "postgresql":  # delivered calls are kept in delivered_calls there: back into outbox
        backend.sql(store, "WITH d AS (DELETE FROM delivered_calls RETURNING *) INSERT INTO outbox (id, webhook_id,"
                    " idx, event_type, call, message_id, origin, payload, state, available_at, attempts, created_at,"
                    " finished_at) SELECT id, webhook_id, idx, event_type, call, message_id, origin, payload, 'delivered',"
                    " finished_at, attempts, created_at, finished_at FROM d")
    backend.sql(store, "UPDATE outbox SET state='dead', dead_reason='test'")  # operator replays everything
    assert store.replay_dead() == 6 and d.drain(timeout=10)
    assert fake.received_ids == expected and all(v == 2 for v in fake.received.values())
    for mid, m in fake.messages.items():
        assert {k: v for k, v in m.items() if k != "sentAt"} == {k: v for k, v in first[mid].items() if k != "sentAt"}
