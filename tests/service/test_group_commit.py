"""The group-commit writer on a real SQLite outbox: how it groups, when it lingers, and that
nothing handed to it is lost when it stops.

Timing is never asserted: lingering is made long (seconds) where a test needs it to happen and
would make the request time out where a test needs it not to happen.
"""
from __future__ import annotations

import asyncio
import threading

import pytest

from segmap.delivery.outbox import open_store
from segmap.runtime.calls import Call
from segmap.service.ingest import GroupCommitter, StoreUnavailable


class _CountingStore:
    """The real store, with the size of every `accept_many` transaction recorded."""

    def __init__(self, store):
        self._store = store
        self.groups: list[int] = []

    def accept_many(self, items):
        items = list(items)
        self.groups.append(len(items))
        return self._store.accept_many(items)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.fixture
def store(tmp_path):
    s = _CountingStore(open_store(tmp_path / "outbox.db"))
    yield s
    s.close()


def _call(i: int) -> list[Call]:
    return [Call("track", {"userId": f"u{i}", "event": "Order Completed"})]


async def _accept(committer: GroupCommitter, i: int, timeout: float = 30.0):
    return await committer.accept(f"wh_{i}", "payment.succeeded", b'{"n": %d}' % i, _call(i), timeout=timeout)


def test_a_lone_webhook_never_waits_for_the_linger(store):
    """Sequential webhooks (one at a time, as on a quiet service) are committed at once: with a
    linger far longer than the request's own timeout, any lingering would answer 503."""
    committer = GroupCommitter(store, linger=60.0)
    committer.start()
    try:
        async def one_by_one():
            return [await _accept(committer, i, timeout=10.0) for i in range(5)]

        results = asyncio.run(one_by_one())
    finally:
        assert committer.close(timeout=10)
    assert [r.duplicate for r in results] == [False] * 5
    assert store.groups == [1] * 5
    assert store.counts()["pending"] == 5


def _burst_then_trickle(committer: GroupCommitter) -> list:
    """10 webhooks at once (concurrent load has begun), then 20 more arriving 10 ms apart."""
    async def scenario():
        async def later(i):
            await asyncio.sleep(0.01 * (i - 9))
            return await _accept(committer, i)

        return await asyncio.gather(*(_accept(committer, i) for i in range(10)),
                                    *(later(i) for i in range(10, 30)))

    return asyncio.run(scenario())


@pytest.mark.parametrize("linger", [1.0, 0.0])
def test_under_concurrent_load_the_writer_lingers_for_bigger_groups(tmp_path, linger):
    """Once webhooks arrive together, the writer keeps collecting them before it commits: the 20
    that trickle in after a burst share one or two transactions. Without lingering (linger=0, the
    control) each of them is committed as it arrives, alone."""
    store = _CountingStore(open_store(tmp_path / "outbox.db"))
    committer = GroupCommitter(store, linger=linger)
    committer.start()
    try:
        results = _burst_then_trickle(committer)
    finally:
        assert committer.close(timeout=10)
        counts = store.counts()
        store.close()
    assert len(results) == 30 and not any(r.duplicate for r in results)
    assert sum(store.groups) == 30 and counts["pending"] == 30
    if linger:
        assert len(store.groups) <= 4, store.groups
    else:
        assert len(store.groups) >= 12, store.groups


def test_without_linger_a_group_is_only_what_already_waits(store):
    """linger=0 is the old behaviour: the writer never waits for more, so webhooks handed over
    while it commits start the next group; everything is still committed exactly once."""
    committer = GroupCommitter(store, linger=0)
    committer.start()
    try:
        async def together():
            return await asyncio.gather(*(_accept(committer, i) for i in range(50)))

        results = asyncio.run(together())
    finally:
        assert committer.close(timeout=10)
    assert sum(store.groups) == 50 and len(results) == 50
    assert store.counts()["pending"] == 50


def test_a_group_is_capped_at_max_group_even_while_lingering(store):
    committer = GroupCommitter(store, linger=2.0, max_group=8)
    committer.start()
    try:
        async def together():
            return await asyncio.gather(*(_accept(committer, i) for i in range(40)))

        asyncio.run(together())
    finally:
        assert committer.close(timeout=10)
    assert sum(store.groups) == 40
    assert max(store.groups) <= 8


def test_stopping_while_lingering_commits_the_group(store):
    """close() during a long linger ends it: the webhooks already collected are committed and
    answered, none is dropped, and close() does not wait for the linger to run out."""
    committer = GroupCommitter(store, linger=600.0)
    committer.start()
    lingering = threading.Event()
    real_linger = committer._linger

    def spy(batch, linger):
        lingering.set()
        return real_linger(batch, linger)

    committer._linger = spy

    async def scenario():
        tasks = [asyncio.ensure_future(_accept(committer, i, timeout=60.0)) for i in range(6)]
        await asyncio.sleep(0)  # let every task hand its webhook over
        # the first group may be committed alone; the next one (more than one webhook) lingers
        while not lingering.is_set():
            await asyncio.sleep(0.01)
        closed = await asyncio.get_running_loop().run_in_executor(None, committer.close, 30.0)
        return closed, await asyncio.gather(*tasks, return_exceptions=True)

    closed, results = asyncio.run(scenario())
    assert closed
    assert all(not isinstance(r, BaseException) for r in results), results
    assert store.counts()["pending"] == 6
    assert sum(store.groups) == 6


def test_a_webhook_handed_over_after_close_is_refused_not_dropped(store):
    committer = GroupCommitter(store, linger=0.5)
    committer.start()
    assert committer.close(timeout=10)

    with pytest.raises(StoreUnavailable):
        asyncio.run(_accept(committer, 1))
    assert store.counts()["pending"] == 0
