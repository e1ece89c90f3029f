"""Ledger tests: every webhook id the sender saw acknowledged ends up at Segment as exactly the
expected set of messageIds (sets, not counts), across kill -9 and a Segment outage."""
from __future__ import annotations

import asyncio
import signal
import time

import httpx

from segmap.delivery.outbox import SqliteOutbox
from tests.fakes.fake_segment import Ok, Reset, Slow, Status
from tests.service.conftest import (
    SECRET,
    Ledger,
    WRITE_KEY,
    assert_no_canaries,
    envelope,
    expected_message_ids,
    inbox_ids,
    send_all,
    until_acked,
)


def wait_drained(url: str, timeout: float = 30.0) -> bool:
    """The service's own view: nothing pending or in flight."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = httpx.get(f"{url}/metrics", timeout=5).text
        depth = [ln for ln in text.splitlines() if ln.startswith("segmap_outbox_depth ")]
        if depth and float(depth[0].split()[1]) == 0:
            return True
        time.sleep(0.1)
    return False


def test_kill_9_under_load_then_restart_delivers_exactly_the_acknowledged_set(tmp_path, fake, mapping_file, spawn):
    env = {"SEGMENT_WRITE_KEY": WRITE_KEY, "SEGMENT_HOST": fake.url, "DODO_WEBHOOK_SECRET": SECRET}
    db = tmp_path / "segmap.db"
    items = [(f"msg_k{i}", envelope(i)) for i in range(500)]
    svc = spawn(mapping_file, db, env=env, args=["--lease", "2"]).start()
    fake.script(Ok(times=2), Slow(1.5))  # a batch is on the wire when the kill lands: sent, never acked

    async def load_then_kill():
        progress = Ledger()
        sender = asyncio.create_task(send_all(svc.webhook_url, items, rate=250, retry=False, concurrency=32,
                                              ledger=progress))
        await until_acked(progress, 60, sender)  # a count, not a time: a loaded machine only takes longer
        svc.kill()  # SIGKILL mid-load: requests in flight, commits in progress, batches on the wire
        return await sender

    first = asyncio.run(load_then_kill())
    acked_before_kill = set(first.acked)
    assert 50 < len(acked_before_kill) < len(items), len(acked_before_kill)

    # what was acknowledged is on disk, whole
    store = SqliteOutbox(db, create=False)
    assert store.integrity_check() == "ok"
    assert acked_before_kill <= inbox_ids(store)
    per_webhook = dict(store._conn().execute("SELECT webhook_id, count(*) FROM outbox GROUP BY webhook_id"))
    assert all(per_webhook.get(w) == 2 for w in inbox_ids(store))
    store.close()

    # restart; the sender retries everything it did not see acknowledged, as Dodo would
    svc2 = spawn(mapping_file, db, env=env, args=["--lease", "2"]).start()
    rest = [(w, b) for w, b in items if w not in acked_before_kill]
    second = asyncio.run(send_all(svc2.webhook_url, rest, concurrency=32))
    assert set(second.acked) == {w for w, _ in rest}
    expected = expected_message_ids(mapping_file, items)
    assert fake.wait_for_ids(expected, timeout=30)
    assert wait_drained(svc2.admin_url)
    svc2.signal(signal.SIGTERM)
    assert svc2.wait(15) == 0

    received = fake.received_ids
    print(f"acked before kill {len(acked_before_kill)}, resent messageIds {len(fake.duplicates())}")
    assert expected - received == set(), "missing messageIds"
    assert received - expected == set(), "unexpected messageIds"
    assert not fake.violations
    store = SqliteOutbox(db, create=False)
    counts = store.counts()
    assert counts["pending"] == 0 and counts["in_flight"] == 0 and counts["dead"] == 0
    assert inbox_ids(store) == {w for w, _ in items}
    store.close()
    assert_no_canaries(svc.output + svc2.output)


def test_segment_outage_during_load_loses_nothing_and_acks_stay_fast(live, fake, mapping_file):
    fake.script(Status(503, times=12), Status(429, retry_after="0.3"), Reset(times=2), Status(500, times=3),
                Status(502), Status(504))
    svc = live()
    items = [(f"msg_o{i}", envelope(i)) for i in range(400)]
    ledger = asyncio.run(send_all(svc.webhook_url, items, rate=400, concurrency=32))
    assert set(ledger.acked) == {w for w, _ in items}
    assert ledger.attempts == len(items), "accepting must not depend on Segment being up"
    expected = expected_message_ids(mapping_file, items)
    assert fake.wait_for_ids(expected, timeout=30)
    assert wait_drained(svc.admin_url)
    assert fake.received_ids == expected
    assert not fake.violations
    counts = svc.store.counts()
    assert counts["dead"] == 0 and counts["pending"] == 0 and counts["delivered"] == len(expected)
    failed = [r for r in fake.requests if r.action != "ok"]
    assert len(failed) >= 19  # the outage really happened
