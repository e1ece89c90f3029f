"""kill -9 of real processes: what was committed survives and is delivered, exactly as a set."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from segmap.delivery.worker import Delivery, DeliveryConfig
from segmap.delivery.message import message_id_for
from segmap.delivery.outbox import SqliteOutbox
from segmap.delivery.segment_client import SegmentClient
from tests.delivery.conftest import WRITE_KEY, calls_for, fast_policy, fill
from tests.fakes.fake_segment import Hang, Ok

ROOT = Path(__file__).resolve().parents[2]


def spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


ACCEPTOR = """
    import sys
    from segmap.delivery.outbox import SqliteOutbox
    from tests.delivery.conftest import calls_for
    store = SqliteOutbox(sys.argv[1])
    i = 0
    while True:
        store.accept(f"msg_{i}", "payment.succeeded", b"{}", calls_for(i))
        print(f"msg_{i}", flush=True)  # the "2xx" goes out only after the commit
        i += 1
"""


def test_kill_during_accepts_keeps_every_acknowledged_webhook_whole(tmp_path):
    db = tmp_path / "o.db"
    proc = spawn(ACCEPTOR, str(db))
    acked = []
    for line in proc.stdout:
        acked.append(line.strip())
        if len(acked) == 60:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    store = SqliteOutbox(db, create=False)
    assert store.integrity_check() == "ok"
    conn = store._conn()
    inbox = {w for (w,) in conn.execute("SELECT webhook_id FROM inbox")}
    assert set(acked) <= inbox
    per_webhook = dict(conn.execute("SELECT webhook_id, count(*) FROM outbox GROUP BY webhook_id").fetchall())
    assert all(per_webhook.get(w) == 2 for w in inbox)  # never an inbox row without all of its calls
    assert sum(per_webhook.values()) == 2 * len(inbox)
    store.close()


WORKER = """
    import sys
    import httpx
    from segmap.delivery.worker import Delivery, DeliveryConfig
    from segmap.delivery.outbox import SqliteOutbox
    from segmap.delivery.segment_client import SegmentClient
    store = SqliteOutbox(sys.argv[1])
    client = SegmentClient(sys.argv[3], host=sys.argv[2], timeout=httpx.Timeout(30.0), max_batch_items=10)
    d = Delivery(store, client, DeliveryConfig(workers=1, claim_limit=40, lease_seconds=1.0, poll_interval=0.02))
    d.start()
    print("started", flush=True)
    d.drain(timeout=60)
"""


def test_kill_of_a_worker_mid_flight_loses_nothing(tmp_path, fake):
    db = tmp_path / "o.db"
    store = SqliteOutbox(db)
    expected = fill(store, 60)
    fake.script(Ok(times=3), Hang(30.0))  # three batches land, the fourth hangs: then kill -9
    proc = spawn(WORKER, str(db), fake.url, WRITE_KEY)
    assert fake.wait_requests(4, timeout=20), proc.stderr.read() if proc.poll() is not None else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert len(fake.received_ids) == 30
    assert store.integrity_check() == "ok"
    assert store.counts()["in_flight"] > 0  # the dead worker's claim, until its lease runs out
    with SegmentClient(WRITE_KEY, host=fake.url) as client:
        d = Delivery(store, client, DeliveryConfig(policy=fast_policy(), lease_seconds=1.0, poll_interval=0.05))
        assert d.drain(timeout=20)
    assert fake.received_ids == expected
    # at most the hung batch plus acks lost at the kill are sent twice (Segment dedups them)
    assert sum(n - 1 for n in fake.received.values()) <= 40
    assert store.counts() == {"pending": 0, "in_flight": 0, "delivered": 120, "dead": 0}
    store.close()


def test_message_ids_survive_a_restart(tmp_path):
    db = tmp_path / "o.db"
    s = SqliteOutbox(db)
    s.accept("msg_x", "payment.succeeded", b"{}", calls_for(1))
    before = {r.message_id for r in s.peek(10)}
    s.close()
    s = SqliteOutbox(db)
    assert {r.message_id for r in s.peek(10)} == before == {message_id_for("msg_x", 0), message_id_for("msg_x", 1)}
    s.close()
