"""The outbox contract on both backends (a SQLite file, a PostgreSQL schema; see the `backend`
fixture): transactions, leases, fencing, dead letters, quarantine."""
from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from segmap.runtime.calls import Call
from segmap.delivery.outbox import INBOX_MIN_RETENTION, AsyncOutbox, OutboxStore, SqliteOutbox
from tests.delivery.conftest import calls_for, fill

DAY = 24 * 3600.0


@pytest.fixture
def cstore(backend, clock):
    return backend.open(clock=clock)


def test_it_is_an_outbox_store_with_durable_settings(store, backend):
    assert isinstance(store, OutboxStore)
    if backend.name == "sqlite":
        conn = store._conn()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    else:
        assert backend.sql(store, "SHOW synchronous_commit") == [("on",)]
        assert backend.sql(store, "SHOW transaction_isolation") == [("read committed",)]


def test_accept_is_new_then_duplicate_and_first_body_wins(store, backend):
    first = store.accept("msg_1", "payment.succeeded", b"first", calls_for(1))
    again = store.accept("msg_1", "payment.succeeded", b"second", calls_for(1) + calls_for(2))
    assert first.new and first.queued == 2 and not first.duplicate
    assert again.duplicate and again.queued == 0
    assert store.counts()["pending"] == 2
    body = backend.sql(store, "SELECT raw_body FROM inbox WHERE webhook_id='msg_1'")[0][0]
    assert bytes(body) == b"first"


def test_accept_is_one_transaction(store, backend, monkeypatch):
    """If writing the outbox rows fails, the inbox row is not there either: the webhook can be retried."""
    if backend.name == "postgresql":
        # accept is one statement there: the database refuses its outbox rows
        import psycopg

        backend.sql(store, "ALTER TABLE outbox ADD CONSTRAINT refuse_msg_1 CHECK (webhook_id <> 'msg_1')")
        with pytest.raises(psycopg.errors.CheckViolation):
            store.accept("msg_1", "payment.succeeded", b"{}", calls_for(1))
        backend.sql(store, "ALTER TABLE outbox DROP CONSTRAINT refuse_msg_1")
    else:
        real = store._insert_rows

        def boom(*a, **k):
            real(*a, **k)
            raise sqlite3.OperationalError("disk I/O error")

        monkeypatch.setattr(store, "_insert_rows", boom)
        with pytest.raises(sqlite3.OperationalError):
            store.accept("msg_1", "payment.succeeded", b"{}", calls_for(1))
        monkeypatch.undo()
    assert store.status().inbox == 0 and sum(store.counts().values()) == 0
    assert store.accept("msg_1", "payment.succeeded", b"{}", calls_for(1)).new


def test_unsendable_calls_become_dead_letters_at_once_with_reasons(store):
    res = store.accept("msg_1", "payment.succeeded", b"{}", [
        Call("track", {"userId": "u", "event": "E", "properties": {"revenue": float("nan")}}, origin="m.yaml:4:3"),
        Call("track", {"userId": "u", "event": "E"}),
    ])
    assert (res.queued, res.dead) == (1, 1)
    (dl,) = store.list_dead()
    assert dl.message_id == "segmap-msg_1-0" and "NaN" in dl.reason and not dl.replayable and dl.origin == "m.yaml:4:3"
    assert store.replay_dead() == 0  # re-sending it could only fail again


def test_claim_ack_with_fencing_token(cstore, clock):
    fill(cstore, 3)
    rows = cstore.claim(4, lease_seconds=30)
    assert len(rows) == 4 and len({r.token for r in rows}) == 1
    assert cstore.counts() == {"pending": 2, "in_flight": 4, "delivered": 0, "dead": 0}
    assert cstore.claim(10, 30) and cstore.counts()["in_flight"] == 6
    assert cstore.ack([r.id for r in rows], token="not-mine") == 0
    assert cstore.ack([r.id for r in rows], token=rows[0].token) == 4
    assert cstore.ack([r.id for r in rows], token=rows[0].token) == 0  # acked once only


def test_expired_lease_is_taken_back_and_the_late_worker_changes_nothing(cstore, clock):
    fill(cstore, 1)
    first = cstore.claim(10, lease_seconds=30)
    assert cstore.claim(10, 30) == []
    clock.advance(31)
    second = cstore.claim(10, 30)
    assert {r.id for r in second} == {r.id for r in first} and second[0].token != first[0].token
    ids = [r.id for r in first]
    assert cstore.nack(ids, "late", clock() + 5, token=first[0].token) == 0
    assert cstore.dead(ids, "late", token=first[0].token) == 0
    assert cstore.ack(ids, token=second[0].token) == 2


def test_renew_keeps_a_slow_worker_lease(cstore, clock):
    fill(cstore, 1)
    rows = cstore.claim(10, 30)
    clock.advance(25)
    assert cstore.renew(rows[0].token, 30) == 2
    clock.advance(25)
    assert cstore.claim(10, 30) == []


def test_nack_counts_an_attempt_and_delays(cstore, clock):
    fill(cstore, 1)
    rows = cstore.claim(10, 30)
    t0 = clock()
    assert cstore.nack([r.id for r in rows], "HTTP 503", clock() + 60, token=rows[0].token) == 2
    assert cstore.claim(10, 30) == []
    assert cstore.next_attempt_at() == t0 + 60
    clock.advance(60)
    again = cstore.claim(10, 30)
    assert [r.attempts for r in again] == [1, 1] and again[0].first_attempt_at == t0


def test_release_gives_rows_back_without_an_attempt(cstore):
    fill(cstore, 1)
    rows = cstore.claim(10, 30)
    assert cstore.release([r.id for r in rows], token=rows[0].token) == 2
    again = cstore.claim(10, 30)
    assert [r.attempts for r in again] == [0, 0] and again[0].first_attempt_at is None


def test_dead_list_filters_and_replay(cstore, clock):
    fill(cstore, 2)
    cstore.accept("msg_r", "refund.succeeded", b"{}", calls_for(9))
    rows = cstore.claim(10, 30)
    by_event = {}
    for r in rows:
        by_event.setdefault(r.event_type, []).append(r.id)
    cstore.dead(by_event["payment.succeeded"], "rejected by Segment: HTTP 400: bad", token=rows[0].token)
    clock.advance(100)
    cstore.dead(by_event["refund.succeeded"], "retry budget of 24h spent; last error: HTTP 503", token=rows[0].token)
    assert len(cstore.list_dead()) == 6
    assert {d.event_type for d in cstore.list_dead(event_type="refund.succeeded")} == {"refund.succeeded"}
    assert len(cstore.list_dead(reason="http 400")) == 4  # case-insensitive substring
    assert len(cstore.list_dead(since=clock() - 1)) == 2
    assert cstore.replay_dead(reason="budget") == 2
    assert cstore.counts() == {"pending": 2, "in_flight": 0, "delivered": 0, "dead": 4}
    replayed = cstore.claim(10, 30)
    assert {r.event_type for r in replayed} == {"refund.succeeded"}
    assert all(r.attempts == 1 for r in replayed)  # the failed attempt is remembered; the budget starts again
    assert all(r.first_attempt_at is None for r in replayed)


def test_status_reports_lag_pause_and_quarantine(cstore, clock):
    assert cstore.status().oldest_pending_age is None
    fill(cstore, 1)
    clock.advance(42)
    cstore.quarantine("msg_q", "payment.failed", b"{}", "KeyError: customer", "m.yaml:7:3")
    cstore.set_paused("HTTP 401")
    st = cstore.status()
    assert st.oldest_pending_age == 42 and st.quarantined_open == 1 and st.inbox == 2
    assert st.paused.reason == "HTTP 401"
    since = st.paused.since
    clock.advance(5)
    cstore.set_paused("HTTP 401 again")
    assert cstore.paused().since == since  # still the same pause
    cstore.set_paused(None)
    assert cstore.paused() is None


def test_quarantine_is_deduplicated_and_resolves_into_rows(cstore):
    q = cstore.quarantine("msg_q", "payment.failed", b'{"a":1}', "KeyError: customer", "m.yaml:7:3")
    assert q.new and q.quarantined
    assert cstore.quarantine("msg_q", "payment.failed", b"{}", "x", "y").duplicate
    assert cstore.accept("msg_q", "payment.failed", b"{}", calls_for(1)).duplicate  # already ours
    (env,) = cstore.list_quarantine()
    assert (env.raw_body, env.error, env.location) == (b'{"a":1}', "KeyError: customer", "m.yaml:7:3")
    cstore.record_quarantine_failure(env.id, "still broken", "m.yaml:8:1")
    assert cstore.list_quarantine()[0].attempts == 1 and cstore.list_quarantine()[0].location == "m.yaml:8:1"
    res = cstore.resolve_quarantine(env.id, calls_for(1))
    assert res.new and res.queued == 2
    assert cstore.resolve_quarantine(env.id, calls_for(1)).duplicate
    assert cstore.list_quarantine() == [] and len(cstore.list_quarantine(open_only=False)) == 1
    assert {r.message_id for r in cstore.claim(10, 30)} == {"segmap-msg_q-0", "segmap-msg_q-1"}


def test_prune_keeps_the_inbox_7_days_and_never_drops_undelivered(cstore, clock):
    fill(cstore, 2)
    with pytest.raises(ValueError):
        cstore.prune(inbox_older_than=DAY)
    rows = cstore.claim(2, 30)  # msg_0's two calls
    cstore.ack([r.id for r in rows], token=rows[0].token)
    clock.advance(INBOX_MIN_RETENTION + 1)
    res = cstore.prune()
    assert (res.inbox, res.delivered) == (1, 2)  # msg_1 still has pending rows: its inbox entry stays
    assert cstore.counts()["pending"] == 2
    assert cstore.accept("msg_1", "payment.succeeded", b"{}", calls_for(1)).duplicate


def test_reopen_keeps_everything_committed(backend):
    s = backend.open()
    expected = fill(s, 5)
    rows = s.claim(3, 30)
    s.ack([r.id for r in rows], token=rows[0].token)
    s.close()
    s2 = backend.open(create=False)
    assert s2.counts() == {"pending": 7, "in_flight": 0, "delivered": 3, "dead": 0}
    assert {r.message_id for r in s2.peek(100)} | {r.message_id for r in rows} == expected
    assert s2.integrity_check() == "ok"
    s2.close()


def test_open_without_create_refuses_missing_or_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        SqliteOutbox(tmp_path / "missing.db", create=False)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ValueError):
        SqliteOutbox(other, create=False)


def test_threads_accept_and_claim_concurrently_without_loss_or_double_claim(store):
    n_threads, per = 8, 40
    errors = []

    def producer(t: int):
        try:
            for i in range(per):
                store.accept(f"msg_{t}_{i}", "payment.succeeded", b"{}", calls_for(i))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    claimed: list[int] = []
    lock = threading.Lock()
    done = threading.Event()

    def consumer():
        while True:
            rows = store.claim(7, 60)
            if rows:
                store.ack([r.id for r in rows], token=rows[0].token)
                with lock:
                    claimed.extend(r.id for r in rows)
            elif done.is_set() and not store.has_undelivered():
                return

    producers = [threading.Thread(target=producer, args=(t,)) for t in range(n_threads)]
    consumers = [threading.Thread(target=consumer) for _ in range(3)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join()
    done.set()
    for t in consumers:
        t.join(30)
    assert not errors
    assert len(claimed) == len(set(claimed)) == n_threads * per * 2
    assert store.counts()["delivered"] == n_threads * per * 2


def test_async_wrapper_runs_in_threads(store):
    async def main():
        a = AsyncOutbox(store)
        results = await asyncio.gather(*(a.accept(f"msg_{i}", "payment.succeeded", b"{}", calls_for(i)) for i in range(20)))
        dup = await a.accept("msg_0", "payment.succeeded", b"{}", calls_for(0))
        return results, dup, await a.status(), await a.counts()

    results, dup, status, counts = asyncio.run(main())
    assert all(r.new for r in results) and dup.duplicate
    assert status.counts["pending"] == counts["pending"] == 40
