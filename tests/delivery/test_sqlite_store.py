"""SQLite only: what every metrics scrape asks of the store never reads the seven days of history,
and which commits wait for the disk.

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


def test_the_workers_bookkeeping_does_not_wait_for_the_disk_the_2xx_and_operators_do(tmp_path):
    """claim, renew, and ack/nack/dead/release under a claim's token commit with synchronous=NORMAL
    (no fsync: a lost one means a resend with the same messageId); accept and the token-less
    operator actions commit with FULL. The setting each commit ran with is read from the trace of
    the connection."""
    store = SqliteOutbox(tmp_path / "outbox.db")
    conn = store._conn()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)

    def commits_ran_with() -> list[str]:
        """The synchronous setting in force at each COMMIT since the last call."""
        mode, out = "FULL", []
        for sql in statements:
            if sql.startswith("PRAGMA synchronous"):
                mode = sql.split("=")[1].strip()
            elif sql == "COMMIT":
                out.append(mode)
        statements.clear()
        return out

    try:
        for i in range(4):
            store.accept(f"wh_{i}", "payment.succeeded", b"{}", calls_for(i))
        assert commits_ran_with() == ["FULL"] * 4
        rows = store.claim(5, 30.0)
        token, ids = rows[0].token, [r.id for r in rows]
        assert store.renew(token, 30.0) == 5
        assert store.ack(ids[:2], token=token) == 2
        assert store.nack(ids[2:3], "HTTP 503", 0.0, token=token) == 1
        assert store.dead(ids[3:4], "HTTP 400", token=token) == 1
        assert store.release(ids[4:], token=token) == 1
        assert commits_ran_with() == ["NORMAL"] * 6
        store.accept("wh_9", "payment.succeeded", b"{}", calls_for(9))
        assert store.dead([r.id for r in store.peek(20)], "operator") > 0
        assert commits_ran_with() == ["FULL", "FULL"]
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again, for the next accept
    finally:
        conn.set_trace_callback(None)
        store.close()
