"""Model-based test of the outbox on both backends (SQLite, PostgreSQL): random enqueue/claim/ack/nack/dead/release/
lease-expiry/crash-and-reopen/replay sequences, checked step by step against a tiny
in-memory model. The invariant: every id is in exactly one state, the same one
the model says, and nothing committed is ever lost."""
from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from segmap.runtime.calls import Call
from segmap.delivery.outbox import STATES, SqliteOutbox
from tests.delivery.conftest import Clock


def make_calls(n: int, poison: bool) -> list[Call]:
    calls = [Call("track", {"userId": "u", "event": "E", "properties": {"i": i}}) for i in range(n)]
    if poison:
        calls.append(Call("track", {"userId": "u", "event": "E", "properties": {"bad": math.nan}}))
    return calls


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="outbox-model-"))
        self.clock = Clock()
        self.store = self._open(create=True)
        self.webhooks: list[str] = []
        # model: id -> dict(state, available_at, token, lease_until, attempts, sendable)
        self.rows: dict[int, dict] = {}
        self.claims: list[tuple[str, list[int]]] = []  # claims held by live "workers"
        self.acked: set[int] = set()

    def teardown(self):
        self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- the backend (SQLite here; PostgreSQL in the subclass below) ---

    def _open(self, create: bool):
        return SqliteOutbox(self.dir / "o.db", clock=self.clock, create=create, synchronous="NORMAL")

    def _sql(self, query: str, params=()) -> list[tuple]:
        return self.store._conn().execute(query, params).fetchall()

    # --- helpers ---

    def _in_flight_for(self, token: str, ids: list[int]) -> list[int]:
        return [i for i in ids if self.rows[i]["state"] == "in_flight" and self.rows[i]["token"] == token]

    def _pick(self, data, ids: list[int]) -> list[int]:
        return data.draw(st.lists(st.sampled_from(ids), unique=True)) if ids else []

    # --- rules ---

    @rule(n=st.integers(min_value=0, max_value=4), poison=st.booleans())
    def enqueue(self, n, poison):
        wid = f"msg_{len(self.webhooks)}"
        res = self.store.accept(wid, "payment.succeeded", b"{}", make_calls(n, poison))
        assert res.new and res.queued == n and res.dead == int(poison)
        self.webhooks.append(wid)
        for rid, state, sendable in self._sql("SELECT id, state, sendable FROM outbox WHERE webhook_id = ?", (wid,)):
            assert rid not in self.rows
            self.rows[rid] = dict(state=state, available_at=self.clock(), token=None, lease_until=None,
                                  attempts=0, sendable=bool(sendable))

    @precondition(lambda self: self.webhooks)
    @rule(data=st.data())
    def enqueue_duplicate(self, data):
        wid = data.draw(st.sampled_from(self.webhooks))
        assert self.store.accept(wid, "payment.succeeded", b"{}", make_calls(2, False)).duplicate

    @rule(limit=st.integers(min_value=1, max_value=6), lease=st.sampled_from([5.0, 30.0]))
    def claim(self, limit, lease):
        now = self.clock()
        for r in self.rows.values():
            if r["state"] == "in_flight" and r["lease_until"] <= now:
                r.update(state="pending", token=None, lease_until=None)
        due = sorted((r["available_at"], i) for i, r in self.rows.items()
                     if r["state"] == "pending" and r["available_at"] <= now)
        expected = [i for _, i in due[:limit]]
        got = self.store.claim(limit, lease)
        assert [r.id for r in got] == sorted(expected)
        if got:
            token = got[0].token
            for row in got:
                assert row.attempts == self.rows[row.id]["attempts"]
                self.rows[row.id].update(state="in_flight", token=token, lease_until=now + lease)
            self.claims.append((token, [r.id for r in got]))

    @precondition(lambda self: self.claims)
    @rule(data=st.data())
    def ack(self, data):
        token, ids = data.draw(st.sampled_from(self.claims))
        pick = self._pick(data, ids)
        live = self._in_flight_for(token, pick)
        assert self.store.ack(pick, token=token) == len(live)
        for i in live:
            assert i not in self.acked, "acked twice"
            self.acked.add(i)
            self.rows[i].update(state="delivered", token=None, lease_until=None)

    @precondition(lambda self: self.claims)
    @rule(data=st.data(), delay=st.sampled_from([0.0, 10.0, 100.0]))
    def nack(self, data, delay):
        token, ids = data.draw(st.sampled_from(self.claims))
        pick = self._pick(data, ids)
        live = self._in_flight_for(token, pick)
        assert self.store.nack(pick, "HTTP 503", self.clock() + delay, token=token) == len(live)
        for i in live:
            r = self.rows[i]
            r.update(state="pending", token=None, lease_until=None, available_at=self.clock() + delay,
                     attempts=r["attempts"] + 1)

    @precondition(lambda self: self.claims)
    @rule(data=st.data())
    def dead(self, data):
        token, ids = data.draw(st.sampled_from(self.claims))
        pick = self._pick(data, ids)
        live = self._in_flight_for(token, pick)
        assert self.store.dead(pick, "rejected by Segment: HTTP 400", token=token) == len(live)
        for i in live:  # the attempt that failed counts
            r = self.rows[i]
            r.update(state="dead", token=None, lease_until=None, attempts=r["attempts"] + 1)

    @precondition(lambda self: self.claims)
    @rule(data=st.data())
    def release(self, data):
        token, ids = data.draw(st.sampled_from(self.claims))
        live = self._in_flight_for(token, ids)
        assert self.store.release(ids, token=token) == len(live)
        for i in live:
            self.rows[i].update(state="pending", token=None, lease_until=None)

    @precondition(lambda self: self.claims)
    @rule()
    def leases_expire_and_another_worker_reclaims(self):
        """A stalled worker's leases run out and someone else claims its rows; the stalled
        worker stays in `claims`, so later ack/nack/dead/release rules act with a stale token."""
        self.clock.advance(31.0)
        self.claim(limit=6, lease=30.0)

    @rule(seconds=st.sampled_from([1.0, 6.0, 31.0, 120.0]))
    def advance_clock(self, seconds):
        self.clock.advance(seconds)

    @rule()
    def crash_and_reopen(self):
        """The process dies: its claims are forgotten, the file stays; a new process opens it."""
        self.store.close()
        self.claims.clear()
        self.store = self._open(create=False)
        assert self.store.integrity_check() == "ok"

    @rule()
    def replay_dead(self):
        targets = [i for i, r in self.rows.items() if r["state"] == "dead" and r["sendable"]]
        assert self.store.replay_dead() == len(targets)
        for i in targets:
            self.rows[i].update(state="pending", available_at=self.clock())  # attempts are kept

    # --- invariants ---

    @invariant()
    def every_id_in_exactly_the_modelled_state(self):
        db = dict(self._sql("SELECT id, state FROM outbox"))
        assert db.keys() == self.rows.keys(), "an id appeared or vanished"
        assert db == {i: r["state"] for i, r in self.rows.items()}
        counts = self.store.counts()
        assert set(counts) == set(STATES)
        assert sum(counts.values()) == len(self.rows)

    @invariant()
    def delivered_ids_stay_delivered(self):
        assert all(self.rows[i]["state"] == "delivered" for i in self.acked)


MODEL_SETTINGS = settings(
    max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
OutboxMachine.TestCase.settings = MODEL_SETTINGS
TestOutboxModel = OutboxMachine.TestCase


class PostgresOutboxMachine(OutboxMachine):
    """The same rules and invariants on PostgreSQL: one schema for the test, emptied at the
    start of each example; a crash closes the pool and opens a new store on it."""

    database_url = ""

    def _open(self, create: bool):
        from segmap.delivery.outbox.postgres import PostgresOutbox

        store = PostgresOutbox(self.database_url, clock=self.clock)
        if create:
            with store._tx() as conn:
                conn.execute("TRUNCATE inbox, outbox, delivered_calls, quarantine, delivery_state RESTART IDENTITY")
        return store

    def _sql(self, query: str, params=()) -> list[tuple]:
        # a delivered call lives in delivered_calls on PostgreSQL: the model sees both tables as one
        query = query.replace("FROM outbox", "FROM (SELECT id, webhook_id, state, sendable FROM outbox UNION ALL"
                                             " SELECT id, webhook_id, 'delivered', true FROM delivered_calls) AS outbox")
        with self.store._tx() as conn:
            return conn.execute(query.replace("?", "%s"), params).fetchall()


def test_outbox_model_on_postgresql(pg_url):
    PostgresOutboxMachine.database_url = pg_url
    run_state_machine_as_test(PostgresOutboxMachine, settings=settings(MODEL_SETTINGS, max_examples=15))
