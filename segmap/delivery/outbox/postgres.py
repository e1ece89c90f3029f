"""The outbox on PostgreSQL: one database shared by several `segmap serve` instances.

The same `OutboxStore` contract as SQLite, built so that instances on different
hosts never step on each other:

* **accept** is one statement, so one transaction and one round trip: the inbox rows
  go in with ``INSERT … ON CONFLICT (webhook_id) DO NOTHING RETURNING``, and the
  outbox rows of the webhooks that came back as new, in the same statement. The
  primary key serialises two instances
  receiving the same webhook id: the second insert waits for the first
  transaction and then does nothing, so no check-then-insert race exists. Items of
  a group are written in webhook-id order, so two groups never lock in opposite
  orders. Every connection runs with ``synchronous_commit = on``: the 2xx is sent
  only after the commit reached the WAL on disk.
* **claim** takes rows with ``FOR UPDATE SKIP LOCKED``: a second instance skips
  what the first is claiming instead of waiting for it or taking it too. Expired
  leases are handed back in the same transaction first (through the
  ``outbox_leases`` partial index), then due rows are read in
  ``(available_at, id)`` order straight off the ``outbox_ready`` partial index.
  Two statements rather than one ``OR``: an ``OR`` of both conditions cannot walk
  either index in order, and would sort every due row at each claim.
* **ack** moves the rows to ``delivered_calls`` (schema 4): a delete plus an insert
  into a table with one b-tree costs half of what rewriting the row as
  ``delivered`` did (a new version of the whole row and an entry in each of
  outbox's indexes). Dead rows stay in ``outbox``: they may be replayed.
* **Fencing**: every transition out of ``in_flight`` and every renewal says
  ``lease_token = <the claim's uuid>``. A worker that was stopped past its lease
  (SIGSTOP, a GC pause, a partition) changes nothing when it comes back.
* **One clock**: due times, leases and ages use the database's ``now()``, never
  the clocks of the hosts. A ``retry_at`` given by a worker is turned into a delay
  from its own clock and added to the database's ``now()``.

Connections come from a `psycopg_pool.ConnectionPool`, checked on checkout unless
used successfully less than a second before (`_check`), so after a database restart
the first request does not fail on a dead socket; while
the database is down, calls fail within ``pool_timeout`` seconds (the service
answers 503 and Dodo retries).
"""
from __future__ import annotations

import dataclasses
import secrets
import time
import uuid
import weakref
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson
import psycopg
from psycopg_pool import ConnectionPool

from segmap._version import __version__
from segmap.delivery.message import EncodedMessage, encode_calls
from segmap.delivery.outbox import migrations
from segmap.delivery.outbox.store import (
    INBOX_MIN_RETENTION,
    STATES,
    AcceptResult,
    DeadLetter,
    DeliveryError,
    HOLDS,
    OutboxRow,
    OutboxStatus,
    PauseState,
    PruneResult,
    QuarantinedEnvelope,
)
from segmap.errors import SegmapError
from segmap.runtime.calls import Call

MAX_TEXT = 2000
_MIGRATION_LOCK = 0x5E6A_0B0C  # pg_advisory_xact_lock key: one schema upgrade at a time per database

# The database's clock, unless a test clock is given (then its value is bound as %(now)s).
_NOW = "COALESCE(to_timestamp(%(now)s::float8), now())"


def _ep(column: str) -> str:
    return f"extract(epoch from {column})::float8"


_ROW_COLUMNS = (
    "id, webhook_id, idx, event_type, call, message_id, payload, attempts, "
    f"{_ep('first_attempt_at')}, {_ep('created_at')}, lease_token::text, {_ep('claimed_at')}"
)
_TOKEN = "(%(token)s::uuid IS NULL OR lease_token = %(token)s::uuid)"
# Outbox rows from the arrays of `PostgresOutbox._row_columns`; a row with a reject reason is dead at once.
_INSERT_ROWS = (
    "INSERT INTO outbox (webhook_id, idx, event_type, call, message_id, origin, payload, sendable, state,"
    " available_at, dead_reason, created_at, finished_at, hold)"
    " SELECT rw, ri, re, rk, rm, ro, rp, rr IS NULL, CASE WHEN rr IS NULL THEN 'pending' ELSE 'dead' END,"
    f" {_NOW}, rr, {_NOW}, CASE WHEN rr IS NULL THEN NULL ELSE {_NOW} END, rh"
    " FROM unnest(%(rw)s::text[], %(ri)s::int[], %(re)s::text[], %(rk)s::text[], %(rm)s::text[], %(ro)s::text[],"
    " %(rp)s::bytea[], %(rr)s::text[], %(rh)s::text[]) AS t(rw, ri, re, rk, rm, ro, rp, rr, rh)"
)
_ROWS_CONFLICT = " ON CONFLICT (webhook_id, idx) DO NOTHING"
# The delivery worker's own bookkeeping (claim, renew, and ack/nack/dead/release with the claim's
# token) does not wait for its commit to reach the disk. A server crash may forget the last moments
# of it (PostgreSQL writes the WAL out within wal_writer_delay, 200 ms by default, and never leaves
# a transaction half done); the rows are then in flight or pending again and are sent once more, with
# the same messageIds, which Segment drops: the outcome of a worker crash between send and ack. The
# accept that a 2xx answers, and every operator's action, still commit synchronously.
_ASYNC_COMMIT = "SET LOCAL synchronous_commit = off"
# The same inside a single statement (committed on its own, one round trip): a one-row relation
# joined in, whose set_config holds until the end of the statement's transaction.
_ASYNC_ROW = "(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
# where a worker's UPDATE (FROM …) or INSERT … SELECT (…, …) joins _ASYNC_ROW (`_transition`)
_ASYNC_FROM, _ASYNC_JOIN = "@ASYNC_FROM@", "@ASYNC_JOIN@"


class DatabaseUnavailable(RuntimeError, SegmapError):
    """The PostgreSQL server could not be reached or refused the connection."""


def _cap(text: str) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def _row(r: tuple) -> OutboxRow:
    return OutboxRow(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), r[7], r[8], r[9], r[10] or "", r[11])


def _check_hold(hold: str | None) -> str | None:
    if hold is not None and hold not in HOLDS:
        raise ValueError(f"hold must be one of {', '.join(HOLDS)} or None, not {hold!r}")
    return hold


def _scalar(conn: psycopg.Connection, sql: str, params: Any = None) -> Any:
    """The first column of the one row a query returns (aggregates, EXISTS, SHOW)."""
    row = conn.execute(sql, params).fetchone()
    if row is None:  # pragma: no cover - these queries always return a row
        raise RuntimeError(f"no row from {sql[:60]!r}")
    return row[0]


def _valid_token(token: str | None) -> bool:
    if token is None:
        return True
    try:
        uuid.UUID(str(token))
    except ValueError:
        return False
    return True


def _configure(conn: psycopg.Connection) -> None:
    # explicit even though it is the server default: a server configured with `off` could
    # lose an acknowledged webhook in a crash
    conn.execute("SET synchronous_commit = on")
    conn.commit()


def _configure_readonly(conn: psycopg.Connection) -> None:
    conn.execute("SET default_transaction_read_only = on")
    conn.commit()


class PostgresOutbox:
    """`OutboxStore` on PostgreSQL. Thread-safe (a connection pool); `clock` is for tests only:
    it replaces the database's now() so that leases and budgets can be tested without sleeping."""

    def __init__(self, url: str, *, upgrade: bool = True, clock: Callable[[], float] | None = None,
                 min_size: int = 1, max_size: int = 8, pool_timeout: float = 5.0, connect_timeout: float = 5.0,
                 readonly: bool = False):
        """`readonly` (the commands that only look): no migration, every transaction read-only;
        a schema older or newer than this segmap's is refused rather than misread."""
        self.url = url
        self.readonly = bool(readonly)
        self._test_clock = clock
        self._host_clock = clock or time.time
        self._closed = False
        self._connect_timeout = connect_timeout
        self.upgraded_from = self._migrate(upgrade and not self.readonly, check_only=self.readonly)
        # when each pooled connection last finished a transaction (see `_check`)
        self._last_ok: weakref.WeakKeyDictionary[psycopg.Connection, float] = weakref.WeakKeyDictionary()
        self._pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False,
            configure=_configure_readonly if self.readonly else _configure,
            check=self._check, timeout=pool_timeout, name="segmap-outbox",
            # autocommit: a method that is one statement (accept, ack, nack ...) commits in the same round
            # trip; the others open their transaction explicitly (`_tx`)
            kwargs={"connect_timeout": max(1, int(connect_timeout)), "autocommit": True},
        )
        self._pool.open(wait=False)

    # --- connections, time ---

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, connect_timeout=max(1, int(self._connect_timeout)))
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {str(exc).strip()}") from exc

    def _check(self, conn: psycopg.Connection) -> None:
        """The pool's check on checkout: a round trip to the server (an empty query), so that the
        first request after a database restart does not fail on a dead socket. Skipped for a
        connection that finished a transaction less than FRESH_FOR seconds ago: a restart takes
        longer than that, and under load the extra round trip cost every accept and ack a wait
        for the server process to be scheduled."""
        last = self._last_ok.get(conn)
        if last is not None and time.monotonic() - last < self.FRESH_FOR and not conn.closed:
            return
        ConnectionPool.check_connection(conn)

    FRESH_FOR = 1.0

    @contextmanager
    def _conn(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        """A pooled connection; marked fresh (`_check`) when the block ends without an error."""
        if self._closed:
            raise RuntimeError("outbox store is closed")
        with self._pool.connection(timeout=timeout) as conn:
            yield conn
            self._last_ok[conn] = time.monotonic()

    @contextmanager
    def _tx(self, timeout: float | None = None, *, pipeline: bool = False) -> Iterator[psycopg.Connection]:
        """One transaction on a pooled connection: committed on success, rolled back on error.
        `timeout`: how long to wait for a connection (default: the pool's, `pool_timeout`).
        `pipeline`: the statements go out without waiting for each other's answers (read a
        cursor's rows after the block: BEGIN, the statements and COMMIT then take one round trip)."""
        with self._conn(timeout) as conn:
            if pipeline:
                with conn.pipeline(), conn.transaction():
                    yield conn
            else:
                with conn.transaction():
                    yield conn

    def _one(self, sql: str, params: Any) -> list[tuple]:
        """One statement, its own transaction (the connections are in autocommit): one round trip.
        Its rows if it returns any, else [] (`_rowcount` for the count)."""
        with self._conn() as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def _rowcount(self, sql: str, params: Any) -> int:
        """How many rows one statement (its own transaction) changed."""
        with self._conn() as conn:
            return conn.execute(sql, params).rowcount

    def _p(self, **params: Any) -> dict[str, Any]:
        params["now"] = None if self._test_clock is None else float(self._test_clock())
        return params

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._pool.close()

    def __enter__(self) -> "PostgresOutbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        from segmap.delivery.outbox import describe

        return f"PostgresOutbox({describe(self.url)!r})"

    # --- schema ---

    @staticmethod
    def _version(conn: psycopg.Connection) -> int:
        exists = _scalar(conn, "SELECT to_regclass('segmap_schema_migrations') IS NOT NULL")
        if not exists:
            return 0
        return int(_scalar(conn, "SELECT COALESCE(max(version), 0) FROM segmap_schema_migrations"))

    def _migrate(self, upgrade: bool, check_only: bool = False) -> int:
        """Apply missing migrations, each in one transaction under an advisory lock (instances
        starting together take turns; each re-reads the version once it holds the lock)."""
        from segmap.delivery.outbox import describe

        conn = self._connect()
        try:
            before = self._version(conn)
            conn.rollback()
            if check_only:
                if before == 0:
                    raise ValueError(f"{describe(self.url)} holds no segmap outbox (schema version 0)")
                migrations.to_apply(before, where=describe(self.url), backend="postgresql", upgrade=False)
                return before
            for m in migrations.to_apply(before, where=describe(self.url), backend="postgresql", upgrade=upgrade):
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS segmap_schema_migrations (version integer PRIMARY KEY,"
                        " description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(),"
                        " segmap_version text NOT NULL)"
                    )
                    if self._version(conn) >= m.version:
                        continue
                    for stmt in m.postgresql:
                        conn.execute(stmt)
                    conn.execute(
                        "INSERT INTO segmap_schema_migrations (version, description, segmap_version) VALUES (%s, %s, %s)",
                        (m.version, m.description, __version__),
                    )
            return before
        finally:
            conn.close()

    def schema_version(self) -> int:
        with self._tx() as conn:
            return self._version(conn)

    # --- ingest ---

    @staticmethod
    def _row_columns(items: Sequence[tuple[str, str, Sequence[EncodedMessage], str | None]]) -> dict[str, list]:
        """The outbox rows of several webhooks as one array per column (bound to `_INSERT_ROWS`).
        A hold (HOLDS) marks the sendable rows of its webhook: delivery never claims them."""
        w: list = []
        i: list = []
        e: list = []
        k: list = []
        m: list = []
        o: list = []
        p: list = []
        r: list = []
        h: list = []
        for webhook_id, event_type, encoded, hold in items:
            for msg in encoded:
                w.append(webhook_id)
                i.append(msg.index)
                e.append(event_type)
                k.append(msg.call)
                m.append(msg.message_id)
                o.append(msg.origin)
                p.append(msg.payload)
                if msg.sendable:
                    r.append(None)
                    h.append(hold)
                else:
                    r.append(_cap(msg.reject_reason or ""))
                    h.append(None)
        return dict(rw=w, ri=i, re=e, rk=k, rm=m, ro=o, rp=p, rr=r, rh=h)

    @staticmethod
    def _counts(items: Iterable[tuple[str, Any]], ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(queued, dead) per webhook id from the (webhook_id, sendable) rows an insert returned."""
        out = {wid: (0, 0) for wid in ids}
        for wid, sendable in items:
            q, d = out[wid]
            out[wid] = (q + 1, d) if sendable else (q, d + 1)
        return out

    def _insert_rows(self, conn: psycopg.Connection,
                     items: Sequence[tuple[str, str, Sequence[EncodedMessage], str | None]]) -> dict[str, tuple[int, int]]:
        """Outbox rows of several webhooks in one statement; (queued, dead) per webhook id."""
        cols = self._row_columns(items)
        if not cols["rw"]:
            return self._counts((), (wid for wid, _, _, _ in items))
        rows = conn.execute(_INSERT_ROWS + _ROWS_CONFLICT + " RETURNING webhook_id, sendable", self._p(**cols)).fetchall()
        return self._counts(rows, (wid for wid, _, _, _ in items))

    def accept(self, webhook_id: str, event_type: str, raw_body: bytes, calls: Sequence[Call], *,
               hold: str | None = None) -> AcceptResult:
        """Inbox row + outbox rows in one transaction; the first accepted body wins."""
        return self.accept_many([(webhook_id, event_type, raw_body, calls, hold)])[0]

    def accept_many(self, items: Iterable[tuple]) -> list[AcceptResult]:
        """Many webhooks in one transaction (group commit, backfills): one WAL flush for all.
        Items are (webhook_id, event_type, raw_body, calls[, hold]).

        One statement, committed on its own (one round trip): the inbox insert returns the ids
        that were new, and the outbox insert in the same statement takes only their rows."""
        prepared = []
        for item in items:
            webhook_id, event_type, raw_body, calls = item[:4]
            hold = _check_hold(item[4] if len(item) > 4 else None)
            if not isinstance(webhook_id, str) or not webhook_id:
                raise ValueError("webhook_id must be a non-empty string")
            body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
            prepared.append((webhook_id, str(event_type), body, encode_calls(webhook_id, list(calls)), hold))
        if not prepared:
            return []
        # the first copy of an id within the group is the candidate; later copies are duplicates
        first: dict[str, tuple] = {}
        for p in prepared:
            first.setdefault(p[0], p)
        ordered = sorted(first.values(), key=lambda p: p[0])  # one lock order for every group
        params = self._p(w=[p[0] for p in ordered], e=[p[1] for p in ordered], b=[p[2] for p in ordered],
                         c=[len(p[3]) for p in ordered], **self._row_columns([(p[0], p[1], p[3], p[4]) for p in ordered]))
        # `new` (an inbox row written by this statement) comes back with sendable NULL, each outbox row
        # with its own; DO NOTHING on outbox only matters after a prune let an old webhook id in again
        returned = self._one(
            "WITH new AS (INSERT INTO inbox (webhook_id, event_type, raw_body, status, received_at, calls)"
            f" SELECT w, e, b, 'accepted', {_NOW}, c"
            " FROM unnest(%(w)s::text[], %(e)s::text[], %(b)s::bytea[], %(c)s::int[]) AS t(w, e, b, c)"
            " ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id),"
            f" rows AS ({_INSERT_ROWS} WHERE rw IN (SELECT webhook_id FROM new){_ROWS_CONFLICT} RETURNING webhook_id, sendable)"
            " SELECT webhook_id, NULL::boolean FROM new UNION ALL SELECT webhook_id, sendable FROM rows",
            params,
        )
        new = {wid for wid, sendable in returned if sendable is None}
        counts = self._counts(((wid, s) for wid, s in returned if s is not None), new)
        results, seen = [], set()
        for p in prepared:
            wid = p[0]
            if wid in new and wid not in seen:
                seen.add(wid)
                q, d = counts[wid]
                results.append(AcceptResult(wid, new=True, queued=q, dead=d))
            else:
                results.append(AcceptResult(wid, new=False))
        return results

    def quarantine(self, webhook_id: str, event_type: str, raw_body: bytes, error: str, location: str, *,
                   hold: str | None = None) -> AcceptResult:
        """Keep an envelope the mapping failed on; it counts as received (a redelivery is a duplicate)."""
        _check_hold(hold)
        body = raw_body.encode("utf-8") if isinstance(raw_body, str) else bytes(raw_body)
        with self._tx() as conn:
            got = conn.execute(
                "INSERT INTO inbox (webhook_id, event_type, raw_body, status, received_at, calls)"
                f" VALUES (%(w)s, %(e)s, %(b)s, 'quarantined', {_NOW}, 0) ON CONFLICT (webhook_id) DO NOTHING"
                " RETURNING webhook_id",
                self._p(w=webhook_id, e=event_type, b=body),
            ).fetchone()
            if got is None:
                return AcceptResult(webhook_id, new=False, quarantined=True)
            conn.execute(
                "INSERT INTO quarantine (webhook_id, event_type, raw_body, error, location, status, created_at, updated_at,"
                f" hold) VALUES (%(w)s, %(e)s, %(b)s, %(err)s, %(loc)s, 'open', {_NOW}, {_NOW}, %(h)s)",
                self._p(w=webhook_id, e=event_type, b=body, err=_cap(error), loc=_cap(location), h=hold),
            )
        return AcceptResult(webhook_id, new=True, quarantined=True)

    # --- delivery ---

    def claim(self, limit: int, lease_seconds: float) -> list[OutboxRow]:
        """Take up to `limit` due rows for `lease_seconds`; rows whose lease ran out are due
        again (first: their due time is older). Rows another instance is claiming are skipped."""
        token = str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))
        with self._tx(pipeline=True) as conn:  # one round trip for the whole transaction
            # walk outbox_ready in order, always: with statistics older than a burst of accepts
            # (autovacuum analyses a minute later) the planner reckons few rows are due, reads
            # every due row by bitmap and sorts them all at each claim (100,000 rows: ~80 ms)
            conn.execute("SET LOCAL enable_sort = off")
            conn.execute(_ASYNC_COMMIT)
            conn.execute(
                "UPDATE outbox SET state = 'pending', lease_until = NULL, lease_token = NULL"
                " WHERE id IN (SELECT id FROM outbox WHERE state = 'in_flight' AND"
                f" lease_until <= {_NOW} FOR UPDATE SKIP LOCKED)",
                self._p(),
            )
            # `id = ANY(ARRAY(...))`, not a join with a CTE: the planner then fetches the claimed
            # rows by primary key instead of hashing the whole table at every claim
            claimed = conn.execute(
                "UPDATE outbox SET state = 'in_flight', lease_token = %(token)s::uuid,"
                f" lease_until = {_NOW} + make_interval(secs => %(lease)s), claimed_at = {_NOW}"
                " WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE state = 'pending' AND hold IS NULL"
                f" AND available_at <= {_NOW} ORDER BY available_at, id LIMIT %(limit)s FOR UPDATE SKIP LOCKED))"
                f" RETURNING {_ROW_COLUMNS}",
                self._p(limit=int(limit), token=token, lease=float(lease_seconds)),
            )
        return sorted((_row(r) for r in claimed.fetchall()), key=lambda r: r.id)

    def renew(self, token: str, lease_seconds: float) -> int:
        if not _valid_token(token):
            return 0
        return self._rowcount(
            f"UPDATE outbox SET lease_until = {_NOW} + make_interval(secs => %(lease)s) FROM {_ASYNC_ROW}"
            " WHERE state = 'in_flight' AND lease_token = %(token)s::uuid",
            self._p(token=token, lease=float(lease_seconds)),
        )

    def _transition(self, sql: str, ids: Sequence[int], token: str | None, **params: Any) -> int:
        if not ids or not _valid_token(token):
            return 0  # a token that is not a uuid was never handed out: no row carries it
        # with a token, the worker's bookkeeping: no wait for the disk (_ASYNC_COMMIT); without, an
        # operator's decision (`segmap outbox`), committed to disk before it returns
        worker = token is not None
        sql = sql.replace(_ASYNC_FROM, f" FROM {_ASYNC_ROW}" if worker else "")
        sql = sql.replace(_ASYNC_JOIN, f", {_ASYNC_ROW}" if worker else "")
        return self._rowcount(sql, self._p(ids=[int(i) for i in ids], token=token, **params))

    def ack(self, ids: Sequence[int], *, token: str | None = None) -> int:
        """Delivered rows move to `delivered_calls` in one statement: deleting a row only marks its
        version dead and the insert goes to a table with one b-tree, where setting state = 'delivered'
        wrote a new version of the row with an entry in each of outbox's four indexes."""
        return self._transition(
            "WITH done AS (DELETE FROM outbox"
            f" WHERE state = 'in_flight' AND id = ANY(%(ids)s::bigint[]) AND {_TOKEN}"
            " RETURNING id, webhook_id, idx, event_type, call, message_id, origin, payload, attempts, first_attempt_at,"
            " created_at) INSERT INTO delivered_calls (id, webhook_id, idx, event_type, call, message_id, origin, payload,"
            " attempts,"
            f" first_attempt_at, created_at, finished_at) SELECT done.*, {_NOW} FROM done{_ASYNC_JOIN}",
            ids, token,
        )

    def nack(self, ids: Sequence[int], error: str, retry_at: float, *, token: str | None = None) -> int:
        """A failed attempt: back to pending, due after the delay `retry_at` means on the caller's
        clock (measured from the database's now()), attempt counted."""
        delay = float(retry_at) - self._host_clock()
        return self._transition(
            f"UPDATE outbox SET state = 'pending', available_at = {_NOW} + make_interval(secs => %(delay)s),"
            f" attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, claimed_at, {_NOW}),"
            " last_error = %(err)s, lease_until = NULL, lease_token = NULL"
            f"{_ASYNC_FROM} WHERE state = 'in_flight' AND id = ANY(%(ids)s::bigint[]) AND {_TOKEN}",
            ids, token, delay=delay, err=_cap(error),
        )

    def dead(self, ids: Sequence[int], reason: str, *, token: str | None = None) -> int:
        """Dead-letter rows (kept, listable, replayable). Without a token, pending rows too.
        A row that was in flight counts the attempt that failed."""
        states = "state = 'in_flight'" if token is not None else "state IN ('in_flight', 'pending')"
        return self._transition(
            "UPDATE outbox SET state = 'dead', dead_reason = %(reason)s, last_error = COALESCE(last_error, %(reason)s),"
            f" finished_at = {_NOW}, first_attempt_at = COALESCE(first_attempt_at, claimed_at),"
            " attempts = attempts + (state = 'in_flight')::int,"
            " lease_until = NULL, lease_token = NULL"
            f"{_ASYNC_FROM} WHERE {states} AND id = ANY(%(ids)s::bigint[]) AND {_TOKEN}",
            ids, token, reason=_cap(reason),
        )

    def release(self, ids: Sequence[int], *, token: str | None = None) -> int:
        """Give rows back untouched (shutdown, auth pause): no attempt is counted."""
        return self._transition(
            "UPDATE outbox SET state = 'pending', lease_until = NULL, lease_token = NULL"
            f"{_ASYNC_FROM} WHERE state = 'in_flight' AND id = ANY(%(ids)s::bigint[]) AND {_TOKEN}",
            ids, token,
        )

    def _db_epoch(self, conn: psycopg.Connection) -> float:
        return float(_scalar(conn, f"SELECT {_ep(_NOW)}", self._p()))

    def set_paused(self, reason: str | None) -> None:
        with self._tx() as conn:
            if reason is None:
                cleared = conn.execute("DELETE FROM delivery_state WHERE key = 'paused'").rowcount
                if cleared:
                    # nothing was tried while paused: the retry budget starts again
                    conn.execute("UPDATE outbox SET first_attempt_at = NULL WHERE state = 'pending'")
                return
            now = self._db_epoch(conn)
            old = conn.execute("SELECT value FROM delivery_state WHERE key = 'paused' FOR UPDATE").fetchone()
            since = orjson.loads(bytes(old[0])).get("since", now) if old else now
            conn.execute(
                f"INSERT INTO delivery_state (key, value, updated_at) VALUES ('paused', %(v)s, {_NOW})"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                self._p(v=orjson.dumps({"reason": _cap(reason), "since": since})),
            )

    def _state_value(self, key: str) -> bytes | None:
        rows = self._one("SELECT value FROM delivery_state WHERE key = %s", (key,))
        return bytes(rows[0][0]) if rows else None

    def paused(self) -> PauseState | None:
        row = self._state_value("paused")
        if row is None:
            return None
        value = orjson.loads(row)
        return PauseState(value.get("reason", ""), float(value.get("since", 0.0)))

    def record_delivery_error(self, error: str) -> None:
        with self._tx() as conn:
            now = self._db_epoch(conn)
            old = conn.execute("SELECT value FROM delivery_state WHERE key = 'last_error' FOR UPDATE").fetchone()
            since = orjson.loads(bytes(old[0])).get("failing_since") if old else None
            conn.execute(
                f"INSERT INTO delivery_state (key, value, updated_at) VALUES ('last_error', %(v)s, {_NOW})"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                self._p(v=orjson.dumps({"error": _cap(error), "at": now,
                                        "failing_since": now if since is None else since})),
            )

    def record_delivery_ok(self) -> None:
        with self._tx() as conn:
            old = conn.execute("SELECT value FROM delivery_state WHERE key = 'last_error' FOR UPDATE").fetchone()
            if old is None:
                return
            value = orjson.loads(bytes(old[0]))
            if value.get("failing_since") is None:
                return
            value["failing_since"] = None
            conn.execute(f"UPDATE delivery_state SET value = %(v)s, updated_at = {_NOW} WHERE key = 'last_error'",
                         self._p(v=orjson.dumps(value)))

    def last_delivery_error(self) -> DeliveryError | None:
        row = self._state_value("last_error")
        if row is None:
            return None
        value = orjson.loads(row)
        since = value.get("failing_since")
        return DeliveryError(str(value.get("error", "")), float(value.get("at", 0.0)),
                             None if since is None else float(since))

    def get_state(self, key: str) -> bytes | None:
        return self._state_value(key)

    def put_state(self, key: str, value: bytes, *, only_if_absent: bool = False) -> bytes:
        """Store `value` under `key`; with `only_if_absent` the first writer (of any instance) wins."""
        conflict = "NOTHING" if only_if_absent else "UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        with self._tx() as conn:
            conn.execute(f"INSERT INTO delivery_state (key, value, updated_at) VALUES (%(k)s, %(v)s, {_NOW})"
                         f" ON CONFLICT (key) DO {conflict}", self._p(k=key, v=bytes(value)))
            return bytes(_scalar(conn, "SELECT value FROM delivery_state WHERE key = %s", (key,)))

    # --- operations ---

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(STATES, 0)
        with self._tx() as conn:
            for state, n in conn.execute("SELECT state, count(*) FROM outbox GROUP BY state"):
                out[state] = n
            # delivered rows live in delivered_calls since schema 4 (older ones, and those acked by an
            # instance of an older release during a rolling deploy, are still in outbox)
            out["delivered"] += self._retained_rows(conn, "delivered_calls")
        return out

    #: Above this many rows (by PostgreSQL's own estimate), the append-only tables that hold seven
    #: days of history (inbox, delivered_calls) are not counted: their estimate is reported.
    EXACT_COUNT_LIMIT = 200_000

    def _retained_rows(self, conn: psycopg.Connection, table: str) -> int:
        """Rows in `inbox` or `delivered_calls`: exact while the table is small, PostgreSQL's
        estimate (`pg_class.reltuples`, kept by autovacuum and ANALYZE) beyond EXACT_COUNT_LIMIT.

        Every metrics scrape and `/readyz` reads these counts. At a few hundred webhooks per
        second the seven days they keep are hundreds of millions of rows, and `count(*)` would scan
        them all on every scrape, on the database every instance shares; the outbox's own states
        (pending, in flight, dead) stay exact, they are what alerts watch."""
        estimate = _scalar(conn, "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,))
        if estimate is not None and estimate >= self.EXACT_COUNT_LIMIT:
            return int(estimate)
        return int(_scalar(conn, f"SELECT count(*) FROM {table}"))  # noqa: S608 - a fixed table name

    # the reads below are one statement each: one round trip on an autocommit connection

    def has_undelivered(self) -> bool:
        return bool(self._one(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE state = 'pending' AND hold IS NULL)"
            " OR EXISTS (SELECT 1 FROM outbox WHERE state = 'in_flight')", None)[0][0])

    def oldest_pending_age(self) -> float | None:
        """Age of the oldest call not yet delivered (pending or in flight, not held), on the database's clock."""
        age = self._one(
            f"SELECT {_ep(_NOW + ' - min(created_at)')} FROM outbox WHERE state IN ('pending', 'in_flight')"
            " AND hold IS NULL",
            self._p(),
        )[0][0]
        return None if age is None else max(0.0, age)

    def next_attempt_at(self) -> float | None:
        """When the next pending row is due, on the caller's clock (the database decides how far away it is)."""
        due_in = self._one(
            f"SELECT {_ep('min(available_at) - ' + _NOW)} FROM outbox WHERE state = 'pending' AND hold IS NULL",
            self._p(),
        )[0][0]
        return None if due_in is None else self._host_clock() + due_in

    def status(self) -> OutboxStatus:
        with self._tx() as conn:
            quarantined = _scalar(conn, "SELECT count(*) FROM quarantine WHERE status = 'open'")
            inbox = self._retained_rows(conn, "inbox")
        return OutboxStatus(
            counts=self.counts(),
            oldest_pending_age=self.oldest_pending_age(),
            paused=self.paused(),
            quarantined_open=quarantined,
            inbox=inbox,
            next_attempt_at=self.next_attempt_at(),
            last_error=self.last_delivery_error(),
            held=self.held_counts(),
        )

    # --- held calls (dry run, `segmap send` samples): never claimed until released ---

    def held_counts(self) -> dict[str, int]:
        with self._tx() as conn:
            return {hold: n for hold, n in conn.execute(
                "SELECT hold, count(*) FROM outbox WHERE hold IS NOT NULL AND state = 'pending' GROUP BY hold ORDER BY hold")}

    def list_held(self, *, hold: str | None = None, limit: int | None = None) -> list[OutboxRow]:
        _check_hold(hold)
        sql = (f"SELECT {_ROW_COLUMNS}, hold FROM outbox WHERE hold IS NOT NULL AND state = 'pending'"
               " AND (%(hold)s::text IS NULL OR hold = %(hold)s) ORDER BY id")
        params: dict[str, Any] = {"hold": hold}
        if limit is not None:
            sql += " LIMIT %(limit)s"
            params["limit"] = int(limit)
        with self._tx() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [dataclasses.replace(_row(r[:-1]), hold=r[-1]) for r in rows]

    @staticmethod
    def _held_where(hold: str | None, webhook_ids: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
        _check_hold(hold)
        where = "hold IS NOT NULL AND (%(hold)s::text IS NULL OR hold = %(hold)s)"
        params: dict[str, Any] = {"hold": hold}
        if webhook_ids is not None:
            where += " AND webhook_id = ANY(%(wids)s::text[])"
            params["wids"] = list(webhook_ids)
        return where, params

    def release_held(self, *, hold: str | None = None, webhook_ids: Sequence[str] | None = None) -> int:
        where, params = self._held_where(hold, webhook_ids)
        with self._tx() as conn:
            n = conn.execute(f"UPDATE outbox SET hold = NULL, available_at = {_NOW} WHERE state = 'pending' AND {where}",
                             self._p(**params)).rowcount
            # open quarantined envelopes of the same webhooks: released too, so a later fix sends them
            conn.execute(f"UPDATE quarantine SET hold = NULL WHERE status = 'open' AND {where}", params)
        return n

    def discard_held(self, *, hold: str | None = None, webhook_ids: Sequence[str] | None = None) -> int:
        where, params = self._held_where(hold, webhook_ids)
        with self._tx() as conn:
            return conn.execute(f"DELETE FROM outbox WHERE state = 'pending' AND {where}", params).rowcount

    def peek(self, limit: int, after_id: int = 0) -> list[OutboxRow]:
        """Pending rows in id order, read only (dry runs)."""
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {_ROW_COLUMNS} FROM outbox WHERE state = 'pending' AND id > %(after)s ORDER BY id LIMIT %(limit)s",
                {"after": int(after_id), "limit": int(limit)},
            ).fetchall()
        return [_row(r) for r in rows]

    @staticmethod
    def _dead_filter(event_type: str | None, reason: str | None, since: float | None) -> tuple[str, dict]:
        where: list[str] = ["state = 'dead'"]
        params: dict[str, Any] = {}
        if event_type is not None:
            where.append("event_type = %(event_type)s")
            params["event_type"] = event_type
        if reason is not None:
            where.append("strpos(lower(dead_reason), lower(%(reason)s)) > 0")
            params["reason"] = reason
        if since is not None:
            where.append("finished_at >= to_timestamp(%(since)s::float8)")
            params["since"] = float(since)
        return " AND ".join(where), params

    def list_dead(self, *, event_type: str | None = None, reason: str | None = None, since: float | None = None,
                  limit: int | None = None) -> list[DeadLetter]:
        where, params = self._dead_filter(event_type, reason, since)
        sql = ("SELECT id, webhook_id, idx, event_type, call, message_id, dead_reason, attempts,"
               f" {_ep('finished_at')}, {_ep('created_at')}, sendable, origin FROM outbox WHERE {where}"
               " ORDER BY finished_at, id")
        if limit is not None:
            sql += " LIMIT %(limit)s"
            params["limit"] = int(limit)
        with self._tx() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [DeadLetter(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or "", r[7], r[8], r[9], bool(r[10]), r[11])
                for r in rows]

    def replay_dead(self, *, event_type: str | None = None, reason: str | None = None, since: float | None = None) -> int:
        """Re-queue matching dead letters with a fresh time budget (their attempt count is kept);
        invalid items stay dead."""
        where, params = self._dead_filter(event_type, reason, since)
        with self._tx() as conn:
            return conn.execute(
                f"UPDATE outbox SET state = 'pending', available_at = {_NOW}, first_attempt_at = NULL,"
                " claimed_at = NULL, last_error = dead_reason, dead_reason = NULL, finished_at = NULL"
                f" WHERE {where} AND sendable",
                self._p(**params),
            ).rowcount

    def list_quarantine(self, *, open_only: bool = True, event_type: str | None = None) -> list[QuarantinedEnvelope]:
        where, params = [], {}
        if open_only:
            where.append("status = 'open'")
        if event_type is not None:
            where.append("event_type = %(event_type)s")
            params["event_type"] = event_type
        sql = (f"SELECT id, webhook_id, event_type, raw_body, error, location, {_ep('created_at')}, attempts, status,"
               " hold FROM quarantine" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
        with self._tx() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [QuarantinedEnvelope(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows]

    def resolve_quarantine(self, quarantine_id: int, calls: Sequence[Call]) -> AcceptResult:
        """Queue the calls a fixed mapping produced for a quarantined envelope and close it, in one transaction."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT webhook_id, event_type, status, hold FROM quarantine WHERE id = %s FOR UPDATE", (int(quarantine_id),)
            ).fetchone()
            if row is None:
                raise KeyError(f"no quarantined envelope {quarantine_id}")
            webhook_id, event_type, status, hold = row
            if status != "open":
                return AcceptResult(webhook_id, new=False, quarantined=True)
            encoded = encode_calls(webhook_id, list(calls))
            conn.execute(
                f"UPDATE quarantine SET status = 'resolved', attempts = attempts + 1, updated_at = {_NOW} WHERE id = %(id)s",
                self._p(id=int(quarantine_id)),
            )
            queued, dead = self._insert_rows(conn, [(webhook_id, event_type, encoded, hold)])[webhook_id]
            conn.execute("UPDATE inbox SET status = 'accepted', calls = %s WHERE webhook_id = %s",
                         (len(encoded), webhook_id))
        return AcceptResult(webhook_id, new=True, queued=queued, dead=dead)

    def record_quarantine_failure(self, quarantine_id: int, error: str, location: str = "") -> None:
        with self._tx() as conn:
            conn.execute(
                "UPDATE quarantine SET attempts = attempts + 1, error = %(err)s, location = CASE WHEN %(loc)s = ''"
                f" THEN location ELSE %(loc)s END, updated_at = {_NOW} WHERE id = %(id)s",
                self._p(err=_cap(error), loc=_cap(location), id=int(quarantine_id)),
            )

    def prune(self, *, inbox_older_than: float = INBOX_MIN_RETENTION,
              delivered_older_than: float = INBOX_MIN_RETENTION) -> PruneResult:
        """Drop delivered rows and old inbox entries; never pending, in-flight, dead or open-quarantine ones."""
        if inbox_older_than < INBOX_MIN_RETENTION:
            raise ValueError("the inbox is kept for at least 7 days (Dodo may redeliver that late)")
        if delivered_older_than < 0:
            raise ValueError("delivered_older_than must be >= 0")
        with self._tx() as conn:
            delivered = conn.execute(
                f"DELETE FROM delivered_calls WHERE finished_at < {_NOW} - make_interval(secs => %(d)s)",
                self._p(d=float(delivered_older_than)),
            ).rowcount
            delivered += conn.execute(
                f"DELETE FROM outbox WHERE state = 'delivered' AND finished_at < {_NOW} - make_interval(secs => %(d)s)",
                self._p(d=float(delivered_older_than)),
            ).rowcount
            inbox = conn.execute(
                f"DELETE FROM inbox i WHERE received_at < {_NOW} - make_interval(secs => %(d)s)"
                " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.webhook_id = i.webhook_id AND o.state <> 'delivered')"
                " AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.webhook_id = i.webhook_id AND q.status = 'open')",
                self._p(d=float(inbox_older_than)),
            ).rowcount
        return PruneResult(inbox=inbox, delivered=delivered)

    def check_health(self, *, integrity: bool = False) -> str:
        """"ok", or why this store cannot be trusted with a webhook now (readiness): with
        `integrity`, the row invariants of `integrity_check`; then a real committed write (a row
        in delivery_state), which also fails on a read-only standby (after a failover the URL
        may still point at the old primary). An unreachable server raises (the caller reports it)."""
        if integrity:
            result = self.integrity_check()
            if result != "ok":
                return "integrity check failed: " + result
        with self._tx(timeout=2.0) as conn:  # a readiness probe must answer within the prober's timeout
            if _scalar(conn, "SELECT pg_is_in_recovery()"):
                return "database is a read-only standby"
            conn.execute(
                f"INSERT INTO delivery_state (key, value, updated_at) VALUES ('health_probe', %(v)s, {_NOW})"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                self._p(v=orjson.dumps({"at": self._host_clock()})),
            )
        return "ok"

    def integrity_check(self) -> str:
        """"ok", or the invariants the rows break (PostgreSQL guards its pages itself; this checks ours)."""
        checks = {
            "in-flight rows without a lease": "state = 'in_flight' AND (lease_token IS NULL OR lease_until IS NULL)",
            "leases on rows not in flight": "state <> 'in_flight' AND lease_token IS NOT NULL",
            "dead rows without a reason": "state = 'dead' AND dead_reason IS NULL",
            "undelivered rows without an inbox entry":
                "state <> 'delivered' AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.webhook_id = outbox.webhook_id)",
        }
        problems = []
        with self._tx() as conn:
            for what, cond in checks.items():
                n = _scalar(conn, f"SELECT count(*) FROM outbox WHERE {cond}")
                if n:
                    problems.append(f"{n} {what}")
        return "ok" if not problems else "; ".join(problems)

