"""SQLite: what every metrics scrape asks of the store never reads the seven days of history.

`counts()` runs on every scrape of `/metrics` and every `/readyz`. The outbox keeps delivered calls
for seven days: a GROUP BY over the table reads every one of those rows each time. Each state is
counted on its own partial index instead (exact, and the index entries are small)."""
from __future__ import annotations

from segmap.delivery.outbox import STATES, SqliteOutbox
from tests.delivery.conftest import calls_for


def test_counts_are_exact_per_state(tmp_path):
    store = SqliteOutbox(tmp_path / "outbox.db")
    try:
        for i in range(6):
            store.accept(f"wh_{i}", "payment.succeeded", b"{}", calls_for(i))
        rows = store.claim(4, 60.0)  # 4 in flight
        store.ack([r.id for r in rows[:2]], token=rows[0].token)  # 2 delivered
        store.dead([rows[2].id], "refused", token=rows[0].token)  # 1 dead
        assert store.counts() == {"pending": 8, "in_flight": 1, "delivered": 2, "dead": 1}
    finally:
        store.close()


def test_counting_reads_each_states_index_never_the_table(tmp_path):
    store = SqliteOutbox(tmp_path / "outbox.db")
    try:
        store.accept("wh_1", "payment.succeeded", b"{}", calls_for(1))
        conn = store._conn()
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        counts = store.counts()
        conn.set_trace_callback(None)
        assert set(counts) == set(STATES)
        assert statements, "counts() ran no statement on this thread's connection"
        for sql in statements:
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
            scans = [step for step in plan if step.startswith("SCAN outbox")]
            assert scans, plan
            assert all(" USING " in step and "INDEX" in step for step in scans), plan
    finally:
        store.close()
