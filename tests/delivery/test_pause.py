"""Answers that say the endpoint is wrong pause delivery like a refused key; probes back off.

A 404, 405 or 3xx from "Segment" means a wrong host, path or proxy: every batch
would get the same answer, so dead-lettering them would throw away the whole
stream (issue 14: 1,482 of 1,491 calls died in 25 s). Instead nothing changes in
the outbox, the pause is recorded and logged once at ERROR, and a one-row probe
finds the fixed route: first after seconds, then less and less often.
"""
from __future__ import annotations

import logging

import pytest

from segmap.delivery.outbox import SqliteOutbox
from segmap.delivery.retry import Outcome, RetryPolicy, classify_status
from tests.delivery.conftest import fast_policy, fill
from tests.fakes.fake_segment import Status


@pytest.mark.parametrize("status", [404, 405, 410, 301, 302, 307, 308, 300, 406, 409, 411, 415, 418, 431, 451, 501, 505, 600])
def test_answers_about_the_endpoint_pause_instead_of_dead_lettering(status):
    assert classify_status(status) is Outcome.ENDPOINT


def test_only_400_413_422_are_about_one_message_and_407_is_auth():
    assert {s for s in range(300, 600) if classify_status(s) is Outcome.REJECTED} == {400, 413, 422}
    assert classify_status(407) is Outcome.AUTH
    assert not any(classify_status(s) is Outcome.FAILED for s in range(100, 700))


def test_probe_wait_starts_at_seconds_and_doubles_up_to_five_minutes():
    p = RetryPolicy()
    waits = [p.probe_delay(n) for n in range(10)]
    assert waits == [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0, 300.0]
    assert RetryPolicy(probe_first=1.0, auth_probe_interval=3.0).probe_delay(5) == 3.0
    # a first probe longer than the cap is capped too (tests shrink only the cap)
    assert RetryPolicy(auth_probe_interval=0.1).probe_delay(0) == 0.1


@pytest.mark.parametrize("status", [404, 301, 405])
def test_a_wrong_endpoint_pauses_with_zero_dead_letters_and_a_fixed_route_resumes(
        status, store, fake, make_client, make_delivery, caplog):
    caplog.set_level(logging.INFO, logger="segmap.delivery")
    expected = fill(store, 25)
    wrong = {"on": True}
    fake.on_request = lambda req: Status(status, body=b"<html>moved</html>") if wrong["on"] else None
    # the first probe comes quickly; without the backoff (a fixed 1 h interval) the route fix would wait an hour
    delivery = make_delivery(make_client(), workers=2,
                             policy=fast_policy(probe_first=0.2, auth_probe_interval=3600.0))
    delivery.start()
    assert delivery.drain(timeout=10) is False  # returns once paused
    st = store.status()
    assert st.counts == {"pending": 50, "in_flight": 0, "delivered": 0, "dead": 0}
    assert st.paused is not None and f"HTTP {status}" in st.paused.reason and "endpoint" in st.paused.reason
    assert st.last_error is not None and f"HTTP {status}" in st.last_error.error
    assert delivery.stats().pause_kind == "endpoint" and delivery.stats().pauses >= 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "DELIVERY PAUSED" in errors[0].getMessage()
    assert f"HTTP {status}" in errors[0].getMessage()
    wrong["on"] = False  # the proxy / route is fixed
    assert delivery.drain(timeout=10, stop_on_pause=False)
    assert fake.received_ids == expected and store.paused() is None and delivery.paused is None
    assert store.counts()["dead"] == 0
    assert store.status().last_error.failing_since is None  # the failing streak is over, the error is kept
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1  # logged once


def test_probes_while_paused_send_one_row_each_and_get_sparser(store, fake, make_client, make_delivery):
    fill(store, 10)
    fake.on_request = lambda req: Status(404)
    delivery = make_delivery(make_client(), workers=2, policy=fast_policy(probe_first=0.01, auth_probe_interval=0.08))
    delivery.start()
    assert fake.wait_for(lambda f: len(f.requests) >= 8, timeout=10)
    delivery.stop(5)
    probes = fake.requests[2:]  # after the (at most two) batches that found the pause
    assert all(len(r.message_ids) == 1 for r in probes)
    assert delivery.stats().probes >= 5 and store.counts()["dead"] == 0


def test_resume_from_another_process_makes_a_paused_worker_probe_at_once(tmp_path, fake, make_client, make_delivery):
    path = tmp_path / "shared.db"
    store = SqliteOutbox(path)
    expected = fill(store, 5)
    wrong = {"on": True}
    fake.on_request = lambda req: Status(404) if wrong["on"] else None
    delivery = make_delivery(make_client(), store_=store, workers=1, poll_interval=0.02,
                             policy=fast_policy(probe_first=3600.0, auth_probe_interval=3600.0))
    delivery.start()
    assert delivery.drain(timeout=10) is False
    wrong["on"] = False
    other = SqliteOutbox(path, create=False)  # what `segmap outbox resume` does: clear the recorded pause
    other.set_paused(None)
    other.close()
    assert delivery.drain(timeout=10, stop_on_pause=False)  # with an hour to the next probe
    assert fake.received_ids == expected and store.paused() is None
    delivery.stop(5)
    store.close()


def test_last_error_and_failing_streak_are_recorded_for_operators(store, fake, make_client, make_delivery, clock):
    fill(store, 2)
    fake.script(Status(503, times=3))
    delivery = make_delivery(make_client(), workers=1)
    assert delivery.run_once() == 4
    err = store.last_delivery_error()
    assert err is not None and err.error.startswith("HTTP 503") and err.failing_since is not None
    first_since = err.failing_since
    assert delivery.drain(timeout=10)
    err = store.last_delivery_error()
    assert err.error.startswith("HTTP 503") and err.failing_since is None
    stats = delivery.stats()
    assert stats.failing_since is None and stats.last_error.startswith("HTTP 503") and stats.last_error_at >= first_since


def test_a_rejected_message_counts_its_attempts_across_replays(store, fake, make_client, make_delivery):
    fill(store, 1)
    bad = sorted(store.peek(10), key=lambda r: r.id)[0].message_id
    fake.poison_ids = {bad}
    delivery = make_delivery(make_client(), workers=1)
    assert delivery.drain(timeout=10)
    [dead] = store.list_dead()
    assert dead.message_id == bad and dead.attempts == 1
    assert store.replay_dead() == 1
    assert delivery.drain(timeout=10)
    [dead] = store.list_dead()
    assert dead.attempts == 2  # the replay kept the count (issue 14: it showed attempts=0)
