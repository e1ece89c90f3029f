"""`segmap db copy`: a SQLite outbox moved into PostgreSQL without losing a row, re-runnable,
all or nothing; then delivered from PostgreSQL, ledger-checked."""
from __future__ import annotations

import math

import psycopg

from segmap.cli.main import main
from segmap.delivery.message import message_id_for
from segmap.delivery.outbox import SqliteOutbox
from segmap.delivery.outbox.postgres import PostgresOutbox
from segmap.delivery.worker import Delivery, DeliveryConfig
from segmap.runtime.calls import Call
from tests.delivery.conftest import Clock, calls_for, fast_policy

UNDELIVERED = ("SELECT webhook_id, idx, message_id, state, attempts, hold, dead_reason, last_error, payload, sendable"
               " FROM outbox WHERE state <> 'delivered' ORDER BY webhook_id, idx")


def fill_sqlite(path) -> SqliteOutbox:
    """Every kind of row an outbox holds: pending, retried, in flight, delivered, dead (400 and
    NaN), quarantined, held test traffic, a pause, a backfill cursor, a last delivery error."""
    clock = Clock()
    s = SqliteOutbox(path, clock=clock)
    s.accept_many([(f"msg_{i}", "payment.succeeded", f'{{"i":{i}}}'.encode(), calls_for(i)) for i in range(20)])
    s.accept("msg_nan", "payment.succeeded", b"{}", [
        Call("track", {"userId": "u", "event": "E", "properties": {"x": math.nan}}),
        Call("track", {"userId": "u", "event": "E"})])
    s.accept("msg_send_1", "payment.succeeded", b"{}", calls_for(99), hold="test")
    rows = s.claim(6, 30)
    s.ack([r.id for r in rows], token=rows[0].token)  # delivered: not copied
    rows = s.claim(4, 30)
    s.nack([r.id for r in rows[:2]], "HTTP 503", clock() + 60, token=rows[0].token)
    s.dead([r.id for r in rows[2:]], "rejected by Segment: HTTP 400: bad", token=rows[0].token)
    s.claim(3, 30)  # in flight when the old setup stopped
    s.quarantine("msg_q1", "payment.failed", b'{"q":1}', "KeyError: customer", "m.yaml:7:3")
    s.quarantine("msg_q2", "refund.succeeded", b'{"q":2}', "division by zero", "m.yaml:9:1")
    s.set_paused("HTTP 401: invalid write key")
    s.put_state("backfill.cursor.payments", b'{"page": 7}')
    s.record_delivery_error("HTTP 503")
    return s


def test_copy_moves_every_undelivered_row_and_is_idempotent(tmp_path, pg_url, capsys):
    path = tmp_path / "segmap.db"
    src = fill_sqlite(path)
    src_rows = src._conn().execute(UNDELIVERED).fetchall()
    src_inbox = {w for (w,) in src._conn().execute("SELECT webhook_id FROM inbox")}
    src_dead, src_q, src_pause = src.list_dead(), src.list_quarantine(), src.paused()
    src.close()

    assert main(["db", "copy", "--from", str(path), "--to", pg_url]) == 0
    out = capsys.readouterr().out
    assert "verified" in out

    dst = PostgresOutbox(pg_url)
    with dst._tx() as conn:
        dst_rows = conn.execute(UNDELIVERED).fetchall()
        dst_inbox = {w for (w,) in conn.execute("SELECT webhook_id FROM inbox")}
    expect = [(w, i, m, "pending" if st == "in_flight" else st, a, h, dr, le, bytes(p), bool(sd))
              for w, i, m, st, a, h, dr, le, p, sd in src_rows]
    got = [(w, i, m, st, a, h, dr, le, bytes(p), sd) for w, i, m, st, a, h, dr, le, p, sd in dst_rows]
    assert got == expect and len(got) == 38
    assert dst_inbox == src_inbox  # a redelivered webhook is still a duplicate after the move
    assert dst.accept("msg_3", "payment.succeeded", b"{}", calls_for(3)).duplicate
    assert [(d.message_id, d.reason, d.replayable) for d in dst.list_dead()] == \
        [(d.message_id, d.reason, d.replayable) for d in src_dead]
    assert [(q.webhook_id, q.raw_body, q.error, q.location, q.status) for q in dst.list_quarantine()] == \
        [(q.webhook_id, q.raw_body, q.error, q.location, q.status) for q in src_q]
    assert (dst.paused().reason, dst.paused().since) == (src_pause.reason, src_pause.since)
    assert dst.get_state("backfill.cursor.payments") == b'{"page": 7}'
    assert dst.last_delivery_error().error == "HTTP 503"
    assert dst.held_counts() == {"test": 2}
    dst.close()

    # again: nothing new, nothing changed
    assert main(["db", "copy", "--from", str(path), "--to", pg_url]) == 0
    again = capsys.readouterr().out
    assert "       0 copied" in again and "verified" in again
    for table, n in (("inbox", 24), ("outbox", 38), ("quarantine", 2)):
        line = next(ln for ln in again.splitlines() if ln.strip().startswith(table + " "))
        assert line.split()[1:] == ["0", "copied", str(n), "already", "there"], line
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(UNDELIVERED).fetchall() == dst_rows


def test_after_the_copy_postgresql_delivers_exactly_what_sqlite_still_owed(tmp_path, pg_url, fake, make_client):
    path = tmp_path / "segmap.db"
    src = fill_sqlite(path)
    owed = {m for (m,) in src._conn().execute(
        "SELECT message_id FROM outbox WHERE state IN ('pending', 'in_flight') AND hold IS NULL")}
    src.close()
    assert main(["db", "copy", "--from", str(path), "--to", pg_url]) == 0
    dst = PostgresOutbox(pg_url)
    dst.set_paused(None)  # the operator fixed the write key
    delivery = Delivery(dst, make_client(), DeliveryConfig(policy=fast_policy(), poll_interval=0.02))
    try:
        assert delivery.drain(timeout=30)
    finally:
        delivery.stop(5)
    assert fake.received_ids == owed and len(owed) == 33
    assert message_id_for("msg_send_1", 0) not in fake.received_ids  # held test traffic stays held
    assert dst.counts()["pending"] == 2 and dst.held_counts() == {"test": 2}
    delivered = dst.counts()["delivered"]
    # a copy run again after PostgreSQL delivered them (they left `outbox` at ack) queues none of them again
    assert main(["db", "copy", "--from", str(path), "--to", pg_url]) == 0
    assert dst.counts() == {"pending": 2, "in_flight": 0, "delivered": delivered, "dead": 3}
    assert delivery.deliver_due() == 0
    dst.close()


def test_a_copy_that_fails_writes_nothing(tmp_path, pg_url, capsys):
    path = tmp_path / "segmap.db"
    fill_sqlite(path).close()
    PostgresOutbox(pg_url).close()
    with psycopg.connect(pg_url) as conn:  # the target refuses one row half-way through
        conn.execute("ALTER TABLE outbox ADD CONSTRAINT refuse_one CHECK (webhook_id <> 'msg_17')")
    assert main(["db", "copy", "--from", str(path), "--to", pg_url]) == 2
    assert "nothing was written" in capsys.readouterr().err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT (SELECT count(*) FROM inbox) + (SELECT count(*) FROM outbox)"
                            " + (SELECT count(*) FROM quarantine)").fetchone()[0] == 0


def test_copy_refuses_the_wrong_directions(tmp_path, pg_url, capsys):
    assert main(["db", "copy", "--from", pg_url, "--to", pg_url]) == 2
    assert main(["db", "copy", "--from", str(tmp_path / "a.db"), "--to", str(tmp_path / "b.db")]) == 2
    assert main(["db", "copy", "--from", str(tmp_path / "missing.db"), "--to", pg_url]) == 2
    err = capsys.readouterr().err
    assert "must be a SQLite file" in err and "must be a postgresql:// URL" in err and "no outbox database" in err
