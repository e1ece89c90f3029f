"""PostgreSQL only: the history tables are estimated once they are large, never scanned per scrape.

Every metrics scrape and `/readyz` asks the store for its counts. `inbox` and `delivered_calls`
keep seven days of history; on a busy deployment `count(*)` over them would scan hundreds of
millions of rows on the database all instances share, every few seconds."""
from __future__ import annotations

import pytest

from segmap.delivery.outbox.postgres import PostgresOutbox
from tests.delivery.conftest import calls_for


@pytest.fixture
def pg_store(pg_url):
    s = PostgresOutbox(pg_url)
    yield s
    s.close()


def _analyze(store: PostgresOutbox) -> None:
    with store._tx() as conn:
        conn.execute("ANALYZE inbox")
        conn.execute("ANALYZE delivered_calls")


def _accept(store: PostgresOutbox, first: int, n: int) -> None:
    store.accept_many([(f"wh_{i}", "payment.succeeded", b"{}", calls_for(i)) for i in range(first, first + n)])


def _deliver_all(store: PostgresOutbox) -> None:
    rows = store.claim(1000, 60.0)
    assert store.ack([r.id for r in rows], token=rows[0].token) == len(rows)


def test_small_history_tables_are_counted_exactly(pg_store):
    _accept(pg_store, 0, 5)
    _deliver_all(pg_store)
    _analyze(pg_store)  # the estimate now says 5 inbox rows and 10 delivered calls
    _accept(pg_store, 5, 3)
    _deliver_all(pg_store)
    status = pg_store.status()
    assert status.inbox == 8
    assert status.counts["delivered"] == 16


def test_large_history_tables_report_the_estimate(pg_store):
    _accept(pg_store, 0, 5)
    _deliver_all(pg_store)
    _analyze(pg_store)
    _accept(pg_store, 5, 3)  # not in the estimate until autovacuum or ANALYZE sees them
    _deliver_all(pg_store)
    _accept(pg_store, 8, 1)  # pending: the outbox's own states are always counted
    pg_store.EXACT_COUNT_LIMIT = 1  # as if the tables held millions of rows
    status = pg_store.status()
    assert status.inbox == 5
    assert status.counts["delivered"] == 10
    assert status.counts["pending"] == 2


def test_a_table_never_analyzed_is_counted(pg_store):
    """PostgreSQL has no estimate (-1) for a table it never vacuumed or analyzed: count it."""
    _accept(pg_store, 0, 4)
    pg_store.EXACT_COUNT_LIMIT = 1
    assert pg_store.status().inbox == 4
