"""Shared fixtures: a real outbox (a SQLite file in tmp_path, and the same tests again on a
fresh schema of the real PostgreSQL), a fake Segment on 127.0.0.1, and retry timings shrunk
to milliseconds so outages play out in well under a second."""
from __future__ import annotations

import random

import httpx
import pytest

from segmap.runtime.calls import Call
from segmap.delivery.worker import Delivery, DeliveryConfig
from segmap.delivery.message import message_id_for
from segmap.delivery.outbox import SqliteOutbox
from segmap.delivery.retry import RetryPolicy
from segmap.delivery.segment_client import SegmentClient
from tests.fakes.fake_segment import FakeSegment

WRITE_KEY = "wk_canary_5f1d2c9e"  # greppable canary: must never show up in logs or output


class Clock:
    """Wall clock the tests can move forward (budgets, leases) without sleeping."""

    def __init__(self, start: float = 1_750_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def fast_policy(**kw) -> RetryPolicy:
    base = dict(base_delay=0.005, max_delay=0.05, max_retry_after=2.0, budget_seconds=3600.0,
                auth_probe_interval=0.05, rng=random.Random(7))
    base.update(kw)
    return RetryPolicy(**base)


def calls_for(i: int) -> list[Call]:
    user = f"cus_{i}"
    return [
        Call("identify", {"userId": user, "traits": {"email": f"u{i}@example.com"}}, origin="m.yaml:3:5"),
        Call("track", {"userId": user, "event": "Order Completed", "properties": {"order_id": f"pay_{i}", "revenue": 19.99}},
             origin="m.yaml:9:5"),
    ]


def fill(store, n_webhooks: int, prefix: str = "msg_") -> set[str]:
    """Accept n webhooks (2 calls each); return the messageIds Segment must end up with."""
    expected = set()
    for i in range(n_webhooks):
        wid = f"{prefix}{i}"
        res = store.accept(wid, "payment.succeeded", b'{"type":"payment.succeeded"}', calls_for(i))
        assert res.new and res.queued == 2
        expected |= {message_id_for(wid, 0), message_id_for(wid, 1)}
    return expected


@pytest.fixture
def clock() -> Clock:
    return Clock()


class Backend:
    """One outbox backend under test: `open()` a store on this test's database (again after a
    simulated crash), `sql()` to look at its tables directly (`?` placeholders on both)."""

    def __init__(self, name: str, target):
        self.name, self.target = name, target
        self._opened: list = []

    def open(self, **kw):
        if self.name == "sqlite":
            s = SqliteOutbox(self.target, **kw)
        else:
            from segmap.delivery.outbox.postgres import PostgresOutbox

            kw.pop("create", None)
            kw.pop("synchronous", None)
            s = PostgresOutbox(self.target, **kw)
        self._opened.append(s)
        return s

    def sql(self, store, query: str, params=()) -> list[tuple]:
        if self.name == "sqlite":
            return store._conn().execute(query, params).fetchall()
        with store._tx() as conn:
            cur = conn.execute(query.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []

    def close_all(self) -> None:
        for s in self._opened:
            s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    if request.param == "sqlite":
        b = Backend("sqlite", tmp_path / "outbox.db")
    else:
        b = Backend("postgresql", request.getfixturevalue("pg_url"))
    yield b
    b.close_all()


@pytest.fixture
def store(backend):
    return backend.open()


@pytest.fixture
def fake():
    with FakeSegment(write_keys={WRITE_KEY}) as f:
        yield f


@pytest.fixture
def make_client(fake):
    made = []

    def make(**kw) -> SegmentClient:
        kw.setdefault("host", fake.url)
        kw.setdefault("timeout", httpx.Timeout(2.0))
        c = SegmentClient(kw.pop("write_key", WRITE_KEY), **kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def make_delivery(store):
    made = []

    def make(sink, *, store_=None, **kw) -> Delivery:
        kw.setdefault("policy", fast_policy())
        kw.setdefault("poll_interval", 0.02)
        d = Delivery(store_ or store, sink, DeliveryConfig(**kw))
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop(5)
