"""Embedded outbox on one SQLite file: the default for a single instance.

WAL + synchronous=FULL so that a commit survives a power cut (not only a
process crash), `BEGIN IMMEDIATE` for every write so that two writers never
deadlock on a lock upgrade, and one connection per thread so that readers
(`segmap outbox status`) never wait for the worker. WAL needs a local disk:
never put the file on a network filesystem.
"""
from __future__ import annotations

import dataclasses
import os
import secrets
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import orjson

from segmap.runtime.calls import Call
from segmap.delivery.message import EncodedMessage, encode_calls
from segmap.delivery.outbox.migrations import latest, to_apply
from segmap.delivery.outbox.store import (
    INBOX_MIN_RETENTION,
    STATES,
    AcceptResult,
    HOLDS,
    DeadLetter,
    DeliveryError,
    OutboxRow,
    OutboxStatus,
    PauseState,
    PruneResult,
    QuarantinedEnvelope,
)

SCHEMA_VERSION = latest("sqlite")  # kept for callers of the first release
MAX_TEXT = 2000  # stored error texts are capped: an upstream body must not bloat the table

_ROW_COLUMNS = "id, webhook_id, idx, event_type, call, message_id, payload, attempts, first_attempt_at, created_at, lease_token, claimed_at"
_IDS = "id IN (SELECT value FROM json_each(?))"
_TOKEN = "(? IS NULL OR lease_token = ?)"


def _cap(text: str) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _check_hold(hold: str | None) -> str | None:
    if hold is not None and hold not in HOLDS:
        raise ValueError(f"hold must be one of {', '.join(HOLDS)} or None, not {hold!r}")
    return hold


def _row(r: tuple) -> OutboxRow:
    return OutboxRow(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), r[7], r[8], r[9], r[10] or "", r[11])



# one scalar subquery per state, each answered from that state's partial index (see counts())
_COUNT_STATES = "SELECT " + ", ".join(f"(SELECT count(*) FROM outbox WHERE state = '{state}')" for state in STATES)

class SqliteOutbox:
    """`OutboxStore` on SQLite. Safe to share between threads; pass `clock` to test time."""

    def __init__(self, path: str | os.PathLike, *, create: bool = True, clock: Callable[[], float] = time.time,
                 busy_timeout: float = 30.0, synchronous: str = "FULL", upgrade: bool = True,
                 readonly: bool = False):
        """`create` makes a missing file; `upgrade` applies missing schema migrations (see
        migrations.py); with `upgrade=False` an older schema is refused instead of changed.

        `readonly` opens the file with SQLite's `mode=ro` and never writes, not even the
        WAL switch: for `outbox status` and `outbox dead` on a full or read-only disk. When
        even the WAL's shared-memory file cannot be created (a read-only directory), the
        file is opened `immutable`: what the last checkpoint wrote, which `stale_wal` then
        says may miss recent changes."""
        self.path = Path(path)
        self.readonly = bool(readonly)
        self.immutable = False  # readonly, and opened without the WAL (see above)
        if (readonly or not create) and not self.path.exists():
            raise FileNotFoundError(f"no outbox database at {self.path}")
        if synchronous.upper() not in ("FULL", "EXTRA", "NORMAL"):
            raise ValueError("synchronous must be FULL, EXTRA or NORMAL")
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._synchronous = synchronous.upper()
        self._worker_synchronous = "NORMAL"  # see _tx
        self._sync_modes: dict[int, str] = {}  # id(connection) -> its synchronous setting now
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        conn = self._conn()
        version = self.schema_version()
        if readonly:
            if version == 0:
                raise ValueError(f"{self.path} is not a segmap outbox (schema version 0)")
            self.upgraded_from = version
            to_apply(version, where=str(self.path), backend="sqlite", upgrade=False)  # refuses a schema it cannot read
            return
        if version == 0 and not create:
            raise ValueError(f"{self.path} is not a segmap outbox (schema version 0)")
        self.upgraded_from = version
        try:
            for migration in to_apply(version, where=str(self.path), backend="sqlite", upgrade=upgrade or version == 0):
                with self._tx(conn):
                    # re-read under the write lock: another process may have upgraded meanwhile
                    if self.schema_version() >= migration.version:
                        continue
                    for stmt in migration.sqlite:
                        conn.execute(stmt)
                    conn.execute(f"PRAGMA user_version = {migration.version}")
        except BaseException:
            self.close()
            raise

    def schema_version(self) -> int:
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])

    # --- connections and transactions ---

    def _readonly_conn(self) -> sqlite3.Connection:
        from urllib.parse import quote

        base = "file:" + quote(str(self.path.resolve()))
        uris = [f"{base}?mode=ro&immutable=1"] if self.immutable else [f"{base}?mode=ro", f"{base}?mode=ro&immutable=1"]
        last: sqlite3.Error | None = None
        for uri in uris:
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False,
                                   timeout=self._busy_timeout)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
                conn.execute("PRAGMA query_only = ON")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file (and the WAL) now
            except sqlite3.Error as exc:  # e.g. the -shm file cannot be created in a read-only directory
                conn.close()
                last = exc
                continue
            self.immutable = "immutable=1" in uri
            return conn
        assert last is not None
        raise last

    @property
    def stale_wal(self) -> bool:
        """Opened immutable while a non-empty WAL file exists: recent commits may be missing."""
        wal = self.path.with_name(self.path.name + "-wal")
        try:
            return self.immutable and wal.stat().st_size > 0
        except OSError:
            return False

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise RuntimeError("outbox store is closed")
        if self.readonly:
            conn = self._readonly_conn()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
            return conn
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise PermissionError(f"outbox database {self.path} is not writable")
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=self._busy_timeout)
        # busy_timeout first: the following pragmas may already need the lock.
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise RuntimeError(f"could not switch {self.path} to WAL (got {mode}); is it on a network filesystem?")
        conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        self._sync_modes[id(conn)] = self._synchronous
        if sys.platform == "darwin":  # fsync alone does not reach the platter on macOS
            conn.execute("PRAGMA fullfsync = ON")
        self._local.conn = conn
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    @contextmanager
    def _tx(self, conn: sqlite3.Connection | None = None, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction. `durable=False` is for the delivery worker's own bookkeeping
        (claims, renewals, and acks, nacks, dead letters and releases under a claim's token): it
        commits with synchronous=NORMAL, without an fsync. A power cut can then lose the last of
        them, which only means a call is sent again with the same messageId (Segment drops it) or
        retried once more, the outcome of a worker crash between send and ack; and a later durable
        commit (an accept) makes every earlier one durable too, as the WAL is flushed in order.
        Accepts, which a 2xx answers, and every operator's action stay durable. PostgreSQL's
        store does the same with synchronous_commit."""
        conn = conn or self._conn()
        mode = self._synchronous if durable else self._worker_synchronous
        if self._sync_modes.get(id(conn)) != mode:
            conn.execute(f"PRAGMA synchronous = {mode}")
            self._sync_modes[id(conn)] = mode
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may already have rolled back by itself (I/O error, disk full).
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise

    def close(self) -> None:
        """Close every thread's connection. Uncommitted work is rolled back, as in a crash."""
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
            self._sync_modes.clear()
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def __enter__(self) -> "SqliteOutbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteOutbox({str(self.path)!r})"

    # --- ingest ---

    def _insert_rows(self, conn: sqlite3.Connection, webhook_id: str, event_type: str,
                     encoded: Sequence[EncodedMessage], now: float, hold: str | None = None) -> tuple[int, int]:
        rows = [
            (webhook_id, m.index, event_type, m.call, m.message_id, m.origin, m.payload, 1 if m.sendable else 0,
             "pending" if m.sendable else "dead", now, None if m.sendable else _cap(m.reject_reason or ""),
             now, None if m.sendable else now, hold if m.sendable else None)
            for m in encoded
        ]
        queued = dead = 0
        for row in rows:
            # DO NOTHING only matters after a prune let an old webhook id in again.
            if conn.execute(
                "INSERT INTO outbox (webhook_id, idx, event_type, call, message_id, origin, payload, sendable, state,"
                " available_at, dead_reason, created_at, finished_at, hold) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (webhook_id, idx) DO NOTHING",
                row,
            ).rowcount == 1:
                if row[7]:
                    queued += 1
                else:
                    dead += 1
        return queued, dead

    def accept(self, webhook_id: str, event_type: str, raw_body: bytes, calls: Sequence[Call], *,
               hold: str | None = None) -> AcceptResult:
        """Inbox row + outbox rows in one transaction; the first accepted body wins."""
        return self.accept_many([(webhook_id, event_type, raw_body, calls, hold)])[0]

    def accept_many(self, items: Iterable[tuple]) -> list[AcceptResult]:
        """Many webhooks in one transaction (backfills, benchmarks): one fsync for all.
        Items are (webhook_id, event_type, raw_body, calls[, hold])."""
        prepared = []
        for item in items:
            webhook_id, event_type, raw_body, calls = item[:4]
            hold = _check_hold(item[4] if len(item) > 4 else None)
            if not isinstance(webhook_id, str) or not webhook_id:
                raise ValueError("webhook_id must be a non-empty string")
            body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
            prepared.append((webhook_id, str(event_type), body, encode_calls(webhook_id, list(calls)), hold))
        results: list[AcceptResult] = []
        now = self._clock()
        with self._tx() as conn:
            for webhook_id, event_type, body, encoded, hold in prepared:
                cur = conn.execute(
                    "INSERT INTO inbox (webhook_id, event_type, raw_body, status, received_at, calls)"
                    " VALUES (?, ?, ?, 'accepted', ?, ?) ON CONFLICT (webhook_id) DO NOTHING",
                    (webhook_id, event_type, body, now, len(encoded)),
                )
                if cur.rowcount != 1:
                    results.append(AcceptResult(webhook_id, new=False))
                    continue
                queued, dead = self._insert_rows(conn, webhook_id, event_type, encoded, now, hold)
                results.append(AcceptResult(webhook_id, new=True, queued=queued, dead=dead))
        return results

    def quarantine(self, webhook_id: str, event_type: str, raw_body: bytes, error: str, location: str, *,
                   hold: str | None = None) -> AcceptResult:
        """Keep an envelope the mapping failed on; it counts as received (a redelivery is a duplicate)."""
        _check_hold(hold)
        body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
        now = self._clock()
        with self._tx() as conn:
            cur = conn.execute(
                "INSERT INTO inbox (webhook_id, event_type, raw_body, status, received_at, calls)"
                " VALUES (?, ?, ?, 'quarantined', ?, 0) ON CONFLICT (webhook_id) DO NOTHING",
                (webhook_id, event_type, body, now),
            )
            if cur.rowcount != 1:
                return AcceptResult(webhook_id, new=False, quarantined=True)
            conn.execute(
                "INSERT INTO quarantine (webhook_id, event_type, raw_body, error, location, status, created_at,"
                " updated_at, hold) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                (webhook_id, event_type, body, _cap(error), _cap(location), now, now, hold),
            )
        return AcceptResult(webhook_id, new=True, quarantined=True)

    # --- delivery ---

    def claim(self, limit: int, lease_seconds: float) -> list[OutboxRow]:
        """Take up to `limit` due rows for `lease_seconds`; rows whose lease ran out
        (their worker crashed or hung) are due again first."""
        now = self._clock()
        token = secrets.token_hex(8)
        with self._tx(durable=False) as conn:
            conn.execute(
                "UPDATE outbox SET state = 'pending', lease_until = NULL, lease_token = NULL"
                " WHERE state = 'in_flight' AND lease_until <= ?",
                (now,),
            )
            rows = conn.execute(
                "UPDATE outbox SET state = 'in_flight', lease_until = ?, lease_token = ?, claimed_at = ?"
                " WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND hold IS NULL AND available_at <= ?"
                " ORDER BY available_at, id LIMIT ?)"
                f" RETURNING {_ROW_COLUMNS}",
                (now + lease_seconds, token, now, now, int(limit)),
            ).fetchall()
        return sorted((_row(r) for r in rows), key=lambda r: r.id)

    def renew(self, token: str, lease_seconds: float) -> int:
        with self._tx(durable=False) as conn:
            return conn.execute(
                "UPDATE outbox SET lease_until = ? WHERE state = 'in_flight' AND lease_token = ?",
                (self._clock() + lease_seconds, token),
            ).rowcount

    def _transition(self, sql: str, params: tuple, ids: Sequence[int], token: str | None) -> int:
        if not ids:
            return 0
        with self._tx(durable=token is None) as conn:  # under a claim's token: the worker's bookkeeping
            return conn.execute(sql, params + (orjson.dumps(list(ids)), token, token)).rowcount

    def ack(self, ids: Sequence[int], *, token: str | None = None) -> int:
        return self._transition(
            "UPDATE outbox SET state = 'delivered', finished_at = ?, lease_until = NULL, lease_token = NULL"
            f" WHERE state = 'in_flight' AND {_IDS} AND {_TOKEN}",
            (self._clock(),), ids, token,
        )

    def nack(self, ids: Sequence[int], error: str, retry_at: float, *, token: str | None = None) -> int:
        """A failed attempt: back to pending, due at `retry_at`, attempt counted."""
        now = self._clock()
        return self._transition(
            "UPDATE outbox SET state = 'pending', available_at = ?, attempts = attempts + 1,"
            " first_attempt_at = COALESCE(first_attempt_at, claimed_at, ?), last_error = ?,"
            " lease_until = NULL, lease_token = NULL"
            f" WHERE state = 'in_flight' AND {_IDS} AND {_TOKEN}",
            (float(retry_at), now, _cap(error)), ids, token,
        )

    def dead(self, ids: Sequence[int], reason: str, *, token: str | None = None) -> int:
        """Dead-letter rows (kept, listable, replayable). Without a token, pending rows too.
        A row that was in flight counts the attempt that failed (a 400 on the first try shows
        `attempts=1`, and a replayed row that fails again adds to its count)."""
        now = self._clock()
        states = "state = 'in_flight'" if token is not None else "state IN ('in_flight', 'pending')"
        return self._transition(
            "UPDATE outbox SET state = 'dead', dead_reason = ?, last_error = COALESCE(last_error, ?), finished_at = ?,"
            " attempts = attempts + (state = 'in_flight'),"
            " first_attempt_at = COALESCE(first_attempt_at, claimed_at), lease_until = NULL, lease_token = NULL"
            f" WHERE {states} AND {_IDS} AND {_TOKEN}",
            (_cap(reason), _cap(reason), now), ids, token,
        )

    def release(self, ids: Sequence[int], *, token: str | None = None) -> int:
        """Give rows back untouched (shutdown, auth pause): no attempt is counted."""
        return self._transition(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, lease_token = NULL"
            f" WHERE state = 'in_flight' AND {_IDS} AND {_TOKEN}",
            (), ids, token,
        )

    def set_paused(self, reason: str | None) -> None:
        now = self._clock()
        with self._tx() as conn:
            if reason is None:
                cleared = conn.execute("DELETE FROM delivery_state WHERE key = 'paused'").rowcount
                if cleared:
                    # nothing was tried while paused: the retry budget starts again, so that a long
                    # auth pause does not dead-letter everything at the first 5xx after it
                    conn.execute("UPDATE outbox SET first_attempt_at = NULL WHERE state = 'pending'")
                return
            old = conn.execute("SELECT value FROM delivery_state WHERE key = 'paused'").fetchone()
            since = orjson.loads(old[0]).get("since", now) if old else now
            conn.execute(
                "INSERT INTO delivery_state (key, value, updated_at) VALUES ('paused', ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (orjson.dumps({"reason": _cap(reason), "since": since}), now),
            )

    def paused(self) -> PauseState | None:
        row = self._conn().execute("SELECT value FROM delivery_state WHERE key = 'paused'").fetchone()
        if row is None:
            return None
        value = orjson.loads(row[0])
        return PauseState(value.get("reason", ""), float(value.get("since", 0.0)))

    def record_delivery_error(self, error: str) -> None:
        now = self._clock()
        with self._tx() as conn:
            old = conn.execute("SELECT value FROM delivery_state WHERE key = 'last_error'").fetchone()
            since = orjson.loads(old[0]).get("failing_since") if old else None
            conn.execute(
                "INSERT INTO delivery_state (key, value, updated_at) VALUES ('last_error', ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (orjson.dumps({"error": _cap(error), "at": now, "failing_since": now if since is None else since}), now),
            )

    def record_delivery_ok(self) -> None:
        now = self._clock()
        with self._tx() as conn:
            old = conn.execute("SELECT value FROM delivery_state WHERE key = 'last_error'").fetchone()
            if old is None:
                return
            value = orjson.loads(old[0])
            if value.get("failing_since") is None:
                return
            value["failing_since"] = None
            conn.execute("UPDATE delivery_state SET value = ?, updated_at = ? WHERE key = 'last_error'",
                         (orjson.dumps(value), now))

    def last_delivery_error(self) -> DeliveryError | None:
        row = self._conn().execute("SELECT value FROM delivery_state WHERE key = 'last_error'").fetchone()
        if row is None:
            return None
        value = orjson.loads(row[0])
        since = value.get("failing_since")
        return DeliveryError(str(value.get("error", "")), float(value.get("at", 0.0)),
                             None if since is None else float(since))

    def get_state(self, key: str) -> bytes | None:
        row = self._conn().execute("SELECT value FROM delivery_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def put_state(self, key: str, value: bytes, *, only_if_absent: bool = False) -> bytes:
        conflict = "NOTHING" if only_if_absent else "UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        with self._tx() as conn:
            conn.execute(f"INSERT INTO delivery_state (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO {conflict}",
                         (key, bytes(value), self._clock()))
            return bytes(conn.execute("SELECT value FROM delivery_state WHERE key = ?", (key,)).fetchone()[0])

    # --- operations ---

    def counts(self) -> dict[str, int]:
        """Calls per state, in one statement (one snapshot). Each state is counted on its own
        partial index: every metrics scrape asks, and a GROUP BY over the table would read every
        row kept for the seven days of history (ten times slower on 200,000 delivered calls)."""
        row = self._conn().execute(_COUNT_STATES).fetchone()
        return dict(zip(STATES, row))

    def has_undelivered(self) -> bool:
        conn = self._conn()
        return bool(
            conn.execute("SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND hold IS NULL)").fetchone()[0]
            or conn.execute("SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'in_flight')").fetchone()[0]
        )

    def oldest_pending_age(self) -> float | None:
        """Age of the oldest call not yet delivered (pending or in flight, not held): the lag alarm."""
        row = self._conn().execute(
            "SELECT min(created_at) FROM outbox WHERE state IN ('pending', 'in_flight') AND hold IS NULL"
        ).fetchone()
        return None if row[0] is None else max(0.0, self._clock() - row[0])

    def next_attempt_at(self) -> float | None:
        row = self._conn().execute(
            "SELECT min(available_at) FROM outbox WHERE state = 'pending' AND hold IS NULL").fetchone()
        return row[0]

    def status(self) -> OutboxStatus:
        conn = self._conn()
        return OutboxStatus(
            counts=self.counts(),
            oldest_pending_age=self.oldest_pending_age(),
            paused=self.paused(),
            quarantined_open=conn.execute("SELECT count(*) FROM quarantine WHERE status = 'open'").fetchone()[0],
            inbox=conn.execute("SELECT count(*) FROM inbox").fetchone()[0],
            next_attempt_at=self.next_attempt_at(),
            last_error=self.last_delivery_error(),
            held=self.held_counts(),
        )

    # --- held calls ---

    def held_counts(self) -> dict[str, int]:
        return {hold: n for hold, n in self._conn().execute(
            "SELECT hold, count(*) FROM outbox WHERE hold IS NOT NULL AND state = 'pending' GROUP BY hold ORDER BY hold")}

    def list_held(self, *, hold: str | None = None, limit: int | None = None) -> list[OutboxRow]:
        _check_hold(hold)
        sql = (f"SELECT {_ROW_COLUMNS}, hold FROM outbox WHERE hold IS NOT NULL AND state = 'pending'"
               " AND (? IS NULL OR hold = ?) ORDER BY id")
        params: list = [hold, hold]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        rows = self._conn().execute(sql, params).fetchall()
        return [dataclasses.replace(_row(r[:-1]), hold=r[-1]) for r in rows]

    def _held_where(self, hold: str | None, webhook_ids: Sequence[str] | None) -> tuple[str, list]:
        _check_hold(hold)
        where = "hold IS NOT NULL AND state = 'pending' AND (? IS NULL OR hold = ?)"
        params: list = [hold, hold]
        if webhook_ids is not None:
            where += " AND webhook_id IN (SELECT value FROM json_each(?))"
            params.append(orjson.dumps(list(webhook_ids)))
        return where, params

    def release_held(self, *, hold: str | None = None, webhook_ids: Sequence[str] | None = None) -> int:
        where, params = self._held_where(hold, webhook_ids)
        with self._tx() as conn:
            n = conn.execute(f"UPDATE outbox SET hold = NULL, available_at = ? WHERE {where}",
                             [self._clock(), *params]).rowcount
            # open quarantined envelopes of the same webhooks: released too, so a later fix sends them
            qwhere = "hold IS NOT NULL AND status = 'open' AND (? IS NULL OR hold = ?)"
            qparams: list = [hold, hold]
            if webhook_ids is not None:
                qwhere += " AND webhook_id IN (SELECT value FROM json_each(?))"
                qparams.append(orjson.dumps(list(webhook_ids)))
            conn.execute(f"UPDATE quarantine SET hold = NULL WHERE {qwhere}", qparams)
        return n

    def discard_held(self, *, hold: str | None = None, webhook_ids: Sequence[str] | None = None) -> int:
        where, params = self._held_where(hold, webhook_ids)
        with self._tx() as conn:
            return conn.execute(f"DELETE FROM outbox WHERE {where}", params).rowcount

    def peek(self, limit: int, after_id: int = 0) -> list[OutboxRow]:
        """Pending rows in id order, read only (dry runs)."""
        rows = self._conn().execute(
            f"SELECT {_ROW_COLUMNS} FROM outbox WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?",
            (after_id, int(limit)),
        ).fetchall()
        return [_row(r) for r in rows]

    @staticmethod
    def _dead_filter(event_type: str | None, reason: str | None, since: float | None) -> tuple[str, list[str | float]]:
        where = ["state = 'dead'"]
        params: list[str | float] = []
        if event_type is not None:
            where.append("event_type = ?")
            params.append(event_type)
        if reason is not None:
            where.append("instr(lower(dead_reason), lower(?)) > 0")
            params.append(reason)
        if since is not None:
            where.append("finished_at >= ?")
            params.append(float(since))
        return " AND ".join(where), params

    def list_dead(self, *, event_type: str | None = None, reason: str | None = None, since: float | None = None,
                  limit: int | None = None) -> list[DeadLetter]:
        where, params = self._dead_filter(event_type, reason, since)
        sql = ("SELECT id, webhook_id, idx, event_type, call, message_id, dead_reason, attempts, finished_at, created_at,"
               f" sendable, origin FROM outbox WHERE {where} ORDER BY finished_at, id")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [
            DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or "", r[7], r[8], r[9], bool(r[10]), r[11])
            for r in self._conn().execute(sql, params)
        ]

    def replay_dead(self, *, event_type: str | None = None, reason: str | None = None, since: float | None = None) -> int:
        """Re-queue matching dead letters with a fresh time budget (their attempt count is kept,
        so a replayed message that fails again shows every attempt). Items that can never
        be sent as stored (NaN, oversize) stay dead: re-run their webhook instead."""
        where, params = self._dead_filter(event_type, reason, since)
        with self._tx() as conn:
            return conn.execute(
                "UPDATE outbox SET state = 'pending', available_at = ?, first_attempt_at = NULL,"
                " claimed_at = NULL, last_error = dead_reason, dead_reason = NULL, finished_at = NULL"
                f" WHERE {where} AND sendable = 1",
                [self._clock(), *params],
            ).rowcount

    def list_quarantine(self, *, open_only: bool = True, event_type: str | None = None) -> list[QuarantinedEnvelope]:
        where, params = [], []
        if open_only:
            where.append("status = 'open'")
        if event_type is not None:
            where.append("event_type = ?")
            params.append(event_type)
        sql = ("SELECT id, webhook_id, event_type, raw_body, error, location, created_at, attempts, status, hold"
               " FROM quarantine"
               + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
        return [QuarantinedEnvelope(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7], r[8], r[9])
                for r in self._conn().execute(sql, params)]

    def resolve_quarantine(self, quarantine_id: int, calls: Sequence[Call]) -> AcceptResult:
        """Queue the calls a fixed mapping produced for a quarantined envelope, and close it,
        in one transaction. messageIds are the ones the first run would have used."""
        conn = self._conn()
        row = conn.execute("SELECT webhook_id, event_type, hold FROM quarantine WHERE id = ?",
                           (quarantine_id,)).fetchone()
        if row is None:
            raise KeyError(f"no quarantined envelope {quarantine_id}")
        webhook_id, event_type, hold = row
        encoded = encode_calls(webhook_id, list(calls))
        now = self._clock()
        with self._tx(conn):
            cur = conn.execute(
                "UPDATE quarantine SET status = 'resolved', attempts = attempts + 1, updated_at = ?"
                " WHERE id = ? AND status = 'open'",
                (now, quarantine_id),
            )
            if cur.rowcount != 1:
                return AcceptResult(webhook_id, new=False, quarantined=True)
            queued, dead = self._insert_rows(conn, webhook_id, event_type, encoded, now, hold)
            conn.execute(
                "UPDATE inbox SET status = 'accepted', calls = ? WHERE webhook_id = ?",
                (len(encoded), webhook_id),
            )
        return AcceptResult(webhook_id, new=True, queued=queued, dead=dead)

    def record_quarantine_failure(self, quarantine_id: int, error: str, location: str = "") -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE quarantine SET attempts = attempts + 1, error = ?, location = CASE WHEN ? = '' THEN location"
                " ELSE ? END, updated_at = ? WHERE id = ?",
                (_cap(error), location, _cap(location), self._clock(), quarantine_id),
            )

    def prune(self, *, inbox_older_than: float = INBOX_MIN_RETENTION,
              delivered_older_than: float = INBOX_MIN_RETENTION) -> PruneResult:
        """Drop delivered rows and old inbox entries. Never touches pending, in-flight or
        dead rows, and keeps an inbox entry while any of its calls is undelivered."""
        if inbox_older_than < INBOX_MIN_RETENTION:
            raise ValueError("the inbox is kept for at least 7 days (Dodo may redeliver that late)")
        if delivered_older_than < 0:
            raise ValueError("delivered_older_than must be >= 0")
        now = self._clock()
        with self._tx() as conn:
            delivered = conn.execute(
                "DELETE FROM outbox WHERE state = 'delivered' AND finished_at < ?", (now - delivered_older_than,)
            ).rowcount
            inbox = conn.execute(
                "DELETE FROM inbox WHERE received_at < ? AND NOT EXISTS (SELECT 1 FROM outbox o WHERE"
                " o.webhook_id = inbox.webhook_id AND o.state <> 'delivered') AND NOT EXISTS (SELECT 1 FROM"
                " quarantine q WHERE q.webhook_id = inbox.webhook_id AND q.status = 'open')",
                (now - inbox_older_than,),
            ).rowcount
        return PruneResult(inbox=inbox, delivered=delivered)

    def integrity_check(self) -> str:
        return self._conn().execute("PRAGMA integrity_check").fetchone()[0]

    def check_health(self, *, integrity: bool = False) -> str:
        """"ok", or why this store cannot be trusted with a webhook now: with `integrity`,
        SQLite's `quick_check` (every page and index entry readable and consistent, in one
        pass; not the full cross-check of `integrity_check`); then a real committed write
        (a row in delivery_state), which a lock check alone would not prove (a full disk or
        a failing device only shows at COMMIT)."""
        if integrity:
            rows = [r[0] for r in self._conn().execute("PRAGMA quick_check(5)").fetchall()]
            if rows != ["ok"]:
                return "integrity check failed: " + "; ".join(str(r) for r in rows)
        now = self._clock()
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO delivery_state (key, value, updated_at) VALUES ('health_probe', ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (orjson.dumps({"at": now}), now),
            )
        return "ok"
