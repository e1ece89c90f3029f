"""Moving an outbox from SQLite to PostgreSQL without losing a row (`segmap db copy`).

What is copied, and how a re-run stays harmless:

* **inbox**: every entry (so a webhook Dodo redelivers after the move is still a
  duplicate); ``ON CONFLICT (webhook_id) DO NOTHING``.
* **outbox**: every row not yet delivered (pending, in flight, dead), with its attempts,
  budget start, errors, dead reason and hold. A row in flight in SQLite becomes pending:
  the lease belonged to a process of the old setup. ``ON CONFLICT (webhook_id, idx) DO
  NOTHING``, and skipped when PostgreSQL has delivered it since an earlier copy (a
  delivered row moves to ``delivered_calls``). Delivered rows are not copied: they
  are done, and the inbox keeps their webhook ids.
* **quarantine**: every envelope; one per (webhook id, time quarantined), skipped when
  already there.
* **delivery_state**: the pause, the last delivery error, backfill cursors, the first
  start; a key already in the target keeps the target's value.

Everything goes in one PostgreSQL transaction, so an interrupted copy leaves nothing
half-written, and a re-run adds exactly what is missing. A row whose state changed in
SQLite after an earlier copy (delivered there since) is not changed in PostgreSQL: at
worst it is sent once more, with the same messageId, which Segment drops.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

_CHUNK = 1000


@dataclass
class CopyReport:
    copied: dict[str, int] = field(default_factory=dict)  # per table: rows written now
    present: dict[str, int] = field(default_factory=dict)  # per table: rows the target already had
    missing_after: list[str] = field(default_factory=list)  # verification: what is still not in the target

    @property
    def ok(self) -> bool:
        return not self.missing_after


def _chunks(rows: list, n: int = _CHUNK):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def copy_sqlite_to_postgres(source: str | Path, target_url: str) -> CopyReport:
    """Copy the SQLite outbox at `source` into the PostgreSQL database at `target_url`
    (its schema created or upgraded first), then verify that every inbox entry and every
    undelivered row of the source is in the target."""
    from segmap.delivery.outbox.postgres import PostgresOutbox
    from segmap.delivery.outbox.sqlite import SqliteOutbox

    src = SqliteOutbox(source, create=False)  # refuses a missing file or a newer schema; upgrades an older one
    dst = PostgresOutbox(target_url)
    report = CopyReport()
    try:
        conn = src._conn()
        conn.execute("BEGIN")  # one consistent snapshot of the source (WAL: writers are not blocked)
        try:
            inbox = conn.execute(
                "SELECT webhook_id, event_type, raw_body, status, received_at, calls FROM inbox ORDER BY received_at"
            ).fetchall()
            outbox = conn.execute(
                "SELECT webhook_id, idx, event_type, call, message_id, origin, payload, sendable,"
                " CASE WHEN state = 'in_flight' THEN 'pending' ELSE state END, available_at, attempts,"
                " first_attempt_at, last_error, dead_reason, created_at, finished_at, hold"
                " FROM outbox WHERE state <> 'delivered' ORDER BY id"
            ).fetchall()
            quarantine = conn.execute(
                "SELECT webhook_id, event_type, raw_body, error, location, status, attempts, created_at, updated_at, hold"
                " FROM quarantine ORDER BY id"
            ).fetchall()
            state = conn.execute(
                "SELECT key, value, updated_at FROM delivery_state WHERE key <> 'health_probe' ORDER BY key"
            ).fetchall()
        finally:
            conn.execute("COMMIT")

        with dst._tx() as pg:
            n = 0
            for part in _chunks(inbox):
                n += len(pg.execute(
                    "INSERT INTO inbox (webhook_id, event_type, raw_body, status, received_at, calls)"
                    " SELECT w, e, b, s, to_timestamp(r), c FROM unnest(%s::text[], %s::text[], %s::bytea[],"
                    " %s::text[], %s::float8[], %s::int[]) AS t(w, e, b, s, r, c)"
                    " ON CONFLICT (webhook_id) DO NOTHING RETURNING 1",
                    [list(col) for col in zip(*[(r[0], r[1], bytes(r[2]), r[3], r[4], r[5]) for r in part])],
                ).fetchall())
            report.copied["inbox"], report.present["inbox"] = n, len(inbox) - n

            n = 0
            for part in _chunks(outbox):
                cols = [list(col) for col in zip(*[
                    (r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), bool(r[7]), r[8], r[9], r[10], r[11], r[12],
                     r[13], r[14], r[15], r[16]) for r in part])]
                n += len(pg.execute(
                    "INSERT INTO outbox (webhook_id, idx, event_type, call, message_id, origin, payload, sendable,"
                    " state, available_at, attempts, first_attempt_at, last_error, dead_reason, created_at,"
                    " finished_at, hold)"
                    " SELECT w, i, e, k, m, o, p, s, st, to_timestamp(av), a, to_timestamp(fa), le, dr,"
                    " to_timestamp(ca), to_timestamp(fi), h"
                    " FROM unnest(%s::text[], %s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::bytea[],"
                    " %s::bool[], %s::text[], %s::float8[], %s::int[], %s::float8[], %s::text[], %s::text[],"
                    " %s::float8[], %s::float8[], %s::text[])"
                    " AS t(w, i, e, k, m, o, p, s, st, av, a, fa, le, dr, ca, fi, h)"
                    " WHERE NOT EXISTS (SELECT 1 FROM delivered_calls d WHERE d.webhook_id = t.w AND d.idx = t.i)"
                    " ON CONFLICT (webhook_id, idx) DO NOTHING RETURNING 1",
                    cols,
                ).fetchall())
            report.copied["outbox"], report.present["outbox"] = n, len(outbox) - n

            n = 0
            for r in quarantine:
                n += pg.execute(
                    "INSERT INTO quarantine (webhook_id, event_type, raw_body, error, location, status, attempts,"
                    " created_at, updated_at, hold)"
                    " SELECT %s, %s, %s, %s, %s, %s, %s, to_timestamp(%s), to_timestamp(%s), %s"
                    " WHERE NOT EXISTS (SELECT 1 FROM quarantine WHERE webhook_id = %s AND created_at = to_timestamp(%s))",
                    (r[0], r[1], bytes(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[0], r[7]),
                ).rowcount
            report.copied["quarantine"], report.present["quarantine"] = n, len(quarantine) - n

            n = 0
            for key, value, updated in state:
                n += pg.execute(
                    "INSERT INTO delivery_state (key, value, updated_at) VALUES (%s, %s, to_timestamp(%s))"
                    " ON CONFLICT (key) DO NOTHING",
                    (key, bytes(value), updated),
                ).rowcount
            report.copied["delivery_state"], report.present["delivery_state"] = n, len(state) - n

        # verification, read back from the target after the commit
        with dst._tx() as pg:
            have = {w for (w,) in pg.execute("SELECT webhook_id FROM inbox")}
            missing = [w for w, *_ in inbox if w not in have]
            report.missing_after += [f"inbox {w}" for w in missing[:20]]
            rows = {(w, i) for w, i in pg.execute(
                "SELECT webhook_id, idx FROM outbox UNION ALL SELECT webhook_id, idx FROM delivered_calls")}
            lost = [(r[0], r[1]) for r in outbox if (r[0], r[1]) not in rows]
            report.missing_after += [f"outbox {w}#{i}" for w, i in lost[:20]]
            qs = {(w, round(t, 3)) for w, t in pg.execute(
                "SELECT webhook_id, extract(epoch from created_at)::float8 FROM quarantine")}
            report.missing_after += [f"quarantine {r[0]}" for r in quarantine if (r[0], round(r[7], 3)) not in qs][:20]
    finally:
        src.close()
        dst.close()
    return report
