"""Shutdown closes the store only after the threads of a metrics scrape, a readiness probe or a
prune have left it: closing a SQLite connection under a running transaction can crash the process."""
from __future__ import annotations

import threading
import time

import httpx

from segmap.service.storefence import StoreFence


def test_close_waits_for_users_inside_and_turns_new_ones_away():
    fence = StoreFence()
    inside, leave = threading.Event(), threading.Event()

    def user():
        with fence.use() as allowed:
            assert allowed
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=user)
    t.start()
    inside.wait(5)
    assert fence.close(0.2) is False  # still inside after the timeout
    with fence.use() as allowed:  # closing: nobody new gets in
        assert allowed is False
    leave.set()
    t.join(5)
    assert fence.close(1.0) is True


def test_shutdown_closes_the_store_after_a_metrics_scrape_has_left_it(live):
    svc = live()
    store = svc.store
    events: list[str] = []
    inside, release = threading.Event(), threading.Event()
    real_status, real_close = store.status, store.close

    def slow_status():
        inside.set()
        release.wait(5)
        result = real_status()
        events.append("status returned")
        return result

    def recording_close():
        events.append("close")
        real_close()

    store.status, store.close = slow_status, recording_close
    scrape = threading.Thread(target=lambda: httpx.get(f"{svc.admin_url}/metrics", timeout=10))
    scrape.start()
    assert inside.wait(5)
    stopper = threading.Thread(target=svc.stop)
    stopper.start()
    # uvicorn gives the request its graceful time, then cancels it and runs the service's own
    # shutdown; the cancelled request's thread is still inside the store
    deadline = time.monotonic() + 10
    while not svc.service.stopping and time.monotonic() < deadline:
        time.sleep(0.02)
    assert svc.service.stopping
    time.sleep(0.5)
    assert "close" not in events
    release.set()
    stopper.join(15)
    scrape.join(10)
    assert events == ["status returned", "close"]
