"""Several `segmap serve` instances on one PostgreSQL database, and a database that goes away.

Ledger-checked: the messageIds the fake Segment accepted are compared, as sets, with the ones
the mapping gives for the webhooks (ids, not counts)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx
import psycopg
import pytest

from tests.fakes.fake_segment import Slow
from tests.service.conftest import (
    SECRET,
    WRITE_KEY,
    Ledger,
    Signer,
    assert_no_canaries,
    envelope,
    expected_message_ids,
    send_all,
)

pytestmark = pytest.mark.timeout(300)


# every call, wherever it is now: PostgreSQL moves a delivered call from outbox to delivered_calls
CALLS = ("(SELECT webhook_id, state FROM outbox UNION ALL SELECT webhook_id, 'delivered' FROM delivered_calls)"
         " AS calls")

def _env(fake) -> dict:
    return {"SEGMENT_WRITE_KEY": WRITE_KEY, "SEGMENT_HOST": fake.url, "DODO_WEBHOOK_SECRET": SECRET}


def _db(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@dataclass
class RoundRobin:
    """Spreads webhooks over the instances like a load balancer: webhook i goes to instance
    i mod N; on an error or a non-2xx it is retried on the next instance (as Dodo would retry,
    and a balancer would fail over), with a fresh signature, until a 2xx or the deadline."""
    urls: list[str]
    acked: set[str] = field(default_factory=set)
    errors: int = 0

    async def send(self, items, *, rate: float, deadline: float = 90.0) -> None:
        signer, end, t0 = Signer(), time.monotonic() + deadline, time.monotonic()
        async with httpx.AsyncClient(timeout=httpx.Timeout(15.0), limits=httpx.Limits(max_connections=48)) as client:
            async def one(i: int, wid: str, body: bytes) -> None:
                k = i
                while time.monotonic() < end:
                    url = self.urls[k % len(self.urls)]
                    try:
                        r = await client.post(url, content=body, headers=signer.headers(wid, body))
                        if 200 <= r.status_code < 300:
                            self.acked.add(wid)
                            return
                    except httpx.HTTPError:
                        pass
                    self.errors += 1
                    k += 1
                    await asyncio.sleep(0.05)

            tasks = []
            for i, (wid, body) in enumerate(items):
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(i, wid, body)))
            await asyncio.gather(*tasks)


def test_three_instances_one_killed_and_restarted_deliver_exactly_the_webhooks(
        tmp_path, fake, mapping_file, spawn, pg_url):
    args = ["--lease", "2", "--workers", "1"]
    svcs = [spawn(mapping_file, pg_url, env=_env(fake), args=args, cwd=tmp_path).start() for _ in range(3)]
    items = [(f"msg_m{i}", envelope(i)) for i in range(450)]
    rr = RoundRobin([s.webhook_url for s in svcs])
    fake.script(Slow(0.5, times=3))  # batches on the wire when the kill lands: sent, never acked

    async def run():
        sender = asyncio.create_task(rr.send(items, rate=150))
        await asyncio.sleep(1.0)
        svcs[1].kill()  # kill -9: requests in flight, a group commit, claimed rows
        await asyncio.sleep(0.7)
        again = await asyncio.to_thread(lambda: spawn(mapping_file, pg_url, env=_env(fake), args=args,
                                                      cwd=tmp_path).start())
        rr.urls[1] = again.webhook_url
        svcs[1] = again
        await sender

    asyncio.run(run())
    assert rr.acked == {w for w, _ in items}, f"{len(items) - len(rr.acked)} webhooks never got a 2xx"
    expected = expected_message_ids(mapping_file, items)
    assert fake.wait_for(lambda f: f.received_ids >= expected, timeout=60), \
        f"missing at Segment: {sorted(expected - fake.received_ids)[:5]}"
    time.sleep(0.5)  # let a late duplicate show up, if there were one to show
    assert fake.received_ids == expected  # 0 missing, 0 unexpected
    assert fake.violations == []
    assert _db(pg_url, "SELECT count(*), count(DISTINCT webhook_id) FROM inbox") == [(450, 450)]
    deadline = time.monotonic() + 30
    while _db(pg_url, "SELECT count(*) FROM outbox WHERE state <> 'delivered'")[0][0] and time.monotonic() < deadline:
        time.sleep(0.2)  # an ack still on its way from the last request
    assert _db(pg_url, f"SELECT state, count(*) FROM {CALLS} GROUP BY state") == [("delivered", len(expected))]
    for s in svcs:
        assert_no_canaries(s.output)


def test_one_webhook_at_two_instances_at_once_is_stored_once(tmp_path, fake, mapping_file, spawn, pg_url):
    a, b = (spawn(mapping_file, pg_url, env=_env(fake), cwd=tmp_path).start() for _ in range(2))
    items = [(f"msg_d{i}", envelope(i)) for i in range(40)]
    signer = Signer()

    async def both():
        async with httpx.AsyncClient(timeout=15) as client:
            async def twice(wid, body):
                h = signer.headers(wid, body)
                return await asyncio.gather(client.post(a.webhook_url, content=body, headers=h),
                                            client.post(b.webhook_url, content=body, headers=h))
            return await asyncio.gather(*(twice(w, body) for w, body in items))

    answers = asyncio.run(both())
    assert all(r.status_code == 200 for pair in answers for r in pair)
    assert _db(pg_url, "SELECT count(*), count(DISTINCT webhook_id) FROM inbox") == [(40, 40)]
    expected = expected_message_ids(mapping_file, items)
    assert _db(pg_url, f"SELECT count(*) FROM {CALLS}")[0][0] == len(expected)
    assert fake.wait_for(lambda f: f.received_ids >= expected, timeout=30)
    assert fake.received_ids == expected and max(fake.attempted.values(), default=0) == 1


def test_database_restart_under_load_503_while_down_never_a_false_2xx_and_recovery(
        tmp_path, fake, mapping_file, spawn):
    from tests.conftest import require_tool
    from tests.pg_server import PrivatePostgres

    server = PrivatePostgres(require_tool("postgresql-server")).init()
    try:
        server.start()
        svc = spawn(mapping_file, server.url, env=_env(fake), args=["--lease", "3"], cwd=tmp_path).start()
        # 12 s of webhooks at 100/s: still sending when the database comes back, however long
        # its stop takes on a loaded machine (with 5 s of them, a slow stop once left no webhook
        # arriving during the outage, and so no 503 to see)
        items = [(f"msg_r{i}", envelope(i)) for i in range(1200)]
        ledger = Ledger()
        ready_seen: list[int] = []

        async def watch_ready(stop: asyncio.Event):
            async with httpx.AsyncClient(timeout=8) as client:
                while not stop.is_set():
                    try:
                        ready_seen.append((await client.get(f"{svc.admin_url}/readyz")).status_code)
                    except httpx.HTTPError:
                        ready_seen.append(-1)
                    await asyncio.sleep(0.1)

        async def run():
            stop = asyncio.Event()
            watcher = asyncio.create_task(watch_ready(stop))
            sender = asyncio.create_task(send_all(svc.webhook_url, items, rate=100, ledger=ledger, deadline=120,
                                                  schedule=(0.2, 0.5, 1.0, 1.0, 2.0)))
            await asyncio.sleep(1.5)
            await asyncio.to_thread(server.stop, "fast")  # the database goes away under load
            assert not sender.done(), "every webhook was sent before the database stopped"
            # longer than a commit waits for a connection (5 s): webhooks arriving now must get 503
            await asyncio.sleep(7.0)
            await asyncio.to_thread(server.start)  # ... and comes back; segmap is not restarted
            await sender
            await asyncio.sleep(1.0)
            stop.set()
            await watcher

        asyncio.run(run())
        assert svc.proc.poll() is None, "serve died with its database"
        assert any(f.endswith(": 503") for f in ledger.failures), "no 503 while the database was down"
        assert all(f.endswith((": 503", "ReadTimeout", "RemoteProtocolError")) for f in ledger.failures), \
            sorted(set(f.split(": ")[1] for f in ledger.failures))
        assert 503 in ready_seen and ready_seen[-1] == 200, "readyz did not follow the database down and back"
        # every webhook got its 2xx in the end, by retries to the same instance: it recovered by itself
        assert set(ledger.acked) == {w for w, _ in items}
        # never a 2xx for something not committed: every acknowledged id is in the inbox, whole
        inbox = dict(_db(server.url, "SELECT webhook_id, calls FROM inbox"))
        assert set(ledger.acked) <= set(inbox)
        per_webhook = dict(_db(server.url, f"SELECT webhook_id, count(*) FROM {CALLS} GROUP BY webhook_id"))
        assert all(per_webhook.get(w) == n for w, n in inbox.items())
        expected = expected_message_ids(mapping_file, items)
        assert fake.wait_for(lambda f: f.received_ids >= expected, timeout=60)
        assert fake.received_ids == expected and fake.violations == []
        assert_no_canaries(svc.output)
    finally:
        server.destroy()
