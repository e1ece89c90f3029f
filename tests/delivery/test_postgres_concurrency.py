"""PostgreSQL only: what several instances on one database must never do to each other.

Each store object here has its own connection pool, so to the server it is another instance."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from segmap.delivery.outbox.postgres import PostgresOutbox
from tests.delivery.conftest import calls_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def instances(pg_url):
    made: list[PostgresOutbox] = []

    def make(**kw) -> PostgresOutbox:
        s = PostgresOutbox(pg_url, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_two_instances_claiming_at_once_never_share_a_row(instances):
    a, b = instances(), instances()
    a.accept_many([(f"msg_{i}", "payment.succeeded", b"{}", calls_for(i)) for i in range(1500)])
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(name: str, store: PostgresOutbox):
        try:
            while True:
                rows = store.claim(40, 30)
                if not rows:
                    if not store.has_undelivered():
                        return
                    continue
                assert len({r.token for r in rows}) == 1
                with lock:
                    claimed[name].extend(r.id for r in rows)
                assert store.ack([r.id for r in rows], token=rows[0].token) == len(rows)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n, s)) for n, s in (("a", a), ("a", a), ("b", b), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    every = claimed["a"] + claimed["b"]
    assert len(every) == len(set(every)) == 3000, "a row was claimed twice, or one was never claimed"
    assert claimed["a"] and claimed["b"]  # both instances took part
    assert a.counts() == {"pending": 0, "in_flight": 0, "delivered": 3000, "dead": 0}


_STALLED_WORKER = """
import json, sys
from segmap.delivery.outbox.postgres import PostgresOutbox
store = PostgresOutbox(sys.argv[1])
rows = store.claim(100, 1.0)
print(json.dumps({"ids": [r.id for r in rows], "token": rows[0].token}), flush=True)
sys.stdin.readline()  # SIGSTOPped around here, past its lease, then woken up
ids, token = [r.id for r in rows], rows[0].token
out = {"renew": store.renew(token, 30), "nack": store.nack(ids, "late", 0, token=token),
       "dead": store.dead(ids, "late", token=token), "release": store.release(ids, token=token),
       "ack": store.ack(ids, token=token)}
print(json.dumps(out), flush=True)
store.close()
"""


def test_a_worker_stopped_past_its_lease_changes_nothing_when_it_comes_back(instances, pg_url):
    other = instances()
    other.accept_many([(f"msg_{i}", "payment.succeeded", b"{}", calls_for(i)) for i in range(3)])
    proc = subprocess.Popen([sys.executable, "-c", _STALLED_WORKER, pg_url], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        first = json.loads(proc.stdout.readline())
        assert len(first["ids"]) == 6
        os.kill(proc.pid, signal.SIGSTOP)
        # wait until the lease ran out on the database's clock (not on ours)
        deadline = time.monotonic() + 30
        with psycopg.connect(pg_url, autocommit=True) as conn:
            while conn.execute("SELECT count(*) FROM outbox WHERE state = 'in_flight' AND lease_until <= now()"
                               ).fetchone()[0] < 6:
                assert time.monotonic() < deadline, "the lease never expired"
                time.sleep(0.1)
        second = other.claim(100, 30)
        assert sorted(r.id for r in second) == sorted(first["ids"]) and second[0].token != first["token"]
        os.kill(proc.pid, signal.SIGCONT)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        late = json.loads(proc.stdout.readline())
        assert late == {"renew": 0, "nack": 0, "dead": 0, "release": 0, "ack": 0}, "the stale worker changed rows"
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
    # the rows are still the second claimer's, untouched by the late one
    assert other.counts() == {"pending": 0, "in_flight": 6, "delivered": 0, "dead": 0}
    assert all(r.attempts == 0 for r in second)
    assert other.ack([r.id for r in second], token=second[0].token) == 6


def test_two_instances_receiving_one_webhook_id_at_once_store_one_inbox_row(instances):
    a, b = instances(), instances()
    n = 60
    barrier = threading.Barrier(2)
    results: dict[str, list] = {"a": [], "b": []}

    def receive(name: str, store: PostgresOutbox):
        for i in range(n):
            barrier.wait()
            results[name].append(store.accept(f"msg_{i}", "payment.succeeded", f"from {name}".encode(), calls_for(i)))

    threads = [threading.Thread(target=receive, args=("a", a)), threading.Thread(target=receive, args=("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for ra, rb in zip(results["a"], results["b"]):
        assert ra.new != rb.new, f"{ra.webhook_id}: both or neither stored it"
        winner = ra if ra.new else rb
        assert winner.queued == 2
    with a._tx() as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT webhook_id) FROM inbox").fetchone() == (n, n)
        assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2 * n
        bodies = dict(conn.execute("SELECT webhook_id, raw_body FROM inbox").fetchall())
    for i, (ra, _) in enumerate(zip(results["a"], results["b"])):
        assert bytes(bodies[f"msg_{i}"]) == (b"from a" if ra.new else b"from b")  # the first committed body


def test_groups_in_opposite_orders_do_not_deadlock(instances):
    """Two group commits holding the same ids in reverse order: written in one key order, so
    neither waits for the other in a cycle (a deadlock would abort one of them)."""
    a, b = instances(), instances()
    for round_ in range(5):
        ids = [f"r{round_}_{i}" for i in range(200)]
        out: dict[str, list] = {}
        errors: list[BaseException] = []

        def group(name, store, order, out=out, errors=errors):
            try:
                out[name] = store.accept_many([(w, "payment.succeeded", b"{}", calls_for(1)) for w in order])
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        ts = [threading.Thread(target=group, args=("a", a, ids)), threading.Thread(target=group, args=("b", b, ids[::-1]))]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        assert errors == []
        new = [r.webhook_id for r in out["a"] + out["b"] if r.new]
        assert sorted(new) == sorted(ids)


def test_leases_and_due_times_follow_the_database_clock(instances):
    """A host whose clock is an hour ahead still retries after the delay it asked for, and
    leases expire by the server's time."""
    store = instances()
    skewed = instances()
    skewed._host_clock = lambda: time.time() + 3600.0  # this host's clock is wrong by an hour
    store.accept("msg_1", "payment.succeeded", b"{}", calls_for(1))
    rows = skewed.claim(10, 0.5)
    assert len(rows) == 2 and store.claim(10, 30) == []
    time.sleep(0.8)
    again = store.claim(10, 30)  # the lease ran out on the server's clock
    assert sorted(r.id for r in again) == sorted(r.id for r in rows)
    ids = [r.id for r in again]
    assert store.nack(ids, "503", time.time() + 30, token=again[0].token) == 2
    with store._tx() as conn:
        delay = conn.execute("SELECT extract(epoch from min(available_at) - now())::float8 FROM outbox").fetchone()[0]
    assert 25 < delay <= 30
    assert store.claim(10, 30) == []  # not due yet
    # the skewed host asks for a 1 s delay on its own clock: due in 1 s on the server's, not an hour ago
    store2 = skewed
    with store2._tx() as conn:
        conn.execute("UPDATE outbox SET available_at = now()")
    got = store2.claim(10, 30)
    assert store2.nack([r.id for r in got], "503", store2._host_clock() + 1.0, token=got[0].token) == 2
    with store2._tx() as conn:
        delay = conn.execute("SELECT extract(epoch from min(available_at) - now())::float8 FROM outbox").fetchone()[0]
    assert 0 < delay <= 1.0
    assert 0 < store2.next_attempt_at() - store2._host_clock() <= 1.0


def test_the_workers_bookkeeping_does_not_wait_for_the_disk_the_2xx_and_operators_do(pg_url):
    """ack/nack/dead/release/renew with a claim's token commit with synchronous_commit off (a lost
    one means a resend with the same messageId); accept and token-less operator actions keep it on.
    Each statement the store sends is run in a transaction that then reads the setting."""
    store = PostgresOutbox(pg_url)
    seen: list[tuple[str, str]] = []

    def run(sql, params, fetch):
        with store._tx() as conn:
            cur = conn.execute(sql, params)
            out = (cur.fetchall() if cur.description else []) if fetch else cur.rowcount
            seen.append((sql.split()[0], conn.execute("SHOW synchronous_commit").fetchone()[0]))
        return out

    store._rowcount = lambda sql, params: run(sql, params, False)
    store._one = lambda sql, params: run(sql, params, True)
    try:
        assert store.accept_many([(f"msg_{i}", "payment.succeeded", b"{}", calls_for(i)) for i in range(4)])[0].queued == 2
        assert seen == [("WITH", "on")]
        rows = store.claim(5, 30)
        token, ids = rows[0].token, [r.id for r in rows]
        seen.clear()
        assert store.renew(token, 30) == 5
        assert store.ack(ids[:2], token=token) == 2
        assert store.nack(ids[2:3], "HTTP 503", time.time() + 60, token=token) == 1
        assert store.dead(ids[3:4], "HTTP 400", token=token) == 1
        assert store.release(ids[4:], token=token) == 1
        assert [s for _, s in seen] == ["off"] * 5
        seen.clear()
        rows = store.claim(1, 30)
        assert store.ack([rows[0].id]) == 1 and store.dead([r.id for r in store.peek(10)], "operator") == 4
        assert [s for _, s in seen] == ["on", "on"]
        assert store.counts() == {"pending": 0, "in_flight": 0, "delivered": 3, "dead": 5}
    finally:
        store.close()


def test_a_connection_the_server_dropped_is_checked_on_checkout_unless_it_just_worked(pg_url):
    """The pool's check (a round trip) runs for a connection idle FRESH_FOR seconds or more, so a
    server restart costs no request; one that finished a transaction just before is handed out
    unchecked: if the server dropped it in that moment, one call fails and the next gets a new one."""
    store = PostgresOutbox(pg_url, min_size=1, max_size=1)

    def drop_the_connection() -> None:
        with store._tx() as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    try:
        store.accept("msg_1", "payment.succeeded", b"{}", calls_for(1))
        drop_the_connection()
        with pytest.raises(psycopg.OperationalError):
            store.counts()
        assert store.counts()["pending"] == 2
        store.FRESH_FOR = 0.0  # every checkout checked: the dropped connection is replaced, no call fails
        drop_the_connection()
        assert store.counts()["pending"] == 2
        assert store.accept("msg_2", "payment.succeeded", b"{}", calls_for(2)).queued == 2
    finally:
        store.close()
