"""Versioned schema of the outbox, one ordered list of migrations for both backends.

Why one list: a change to the tables (a new column, an index) must reach the
SQLite file of a single instance and the PostgreSQL database of a fleet alike,
and a reviewer should see both statements side by side. Every entry carries the
SQL for each backend; a backend applies, in order, every migration above the
version its database records, each in one transaction together with the new
version number, so a crash mid-upgrade leaves the previous version whole.

Policy (see docs/delivery.md, "Schema versions"):

* **Upgraded on start.** Opening a store (``serve``, ``send``, every ``outbox``
  command) applies what is missing; ``segmap db upgrade`` does the same ahead of
  a deploy, ``segmap db version`` shows where a database stands.
* **A newer schema is refused.** An older segmap never writes to a database a
  newer one has upgraded: it stops with `SchemaTooNew`.
* **Additive only.** A migration adds (tables, nullable or defaulted columns,
  indexes); it never drops or renames in the same release, so instances of the
  previous release that are still running during a rolling deploy keep working.

Adding a migration: append ``Migration(N + 1, "what and why", sqlite=(...),
postgresql=(...))`` to `MIGRATIONS` and test it in
``tests/delivery/test_schema_migrations.py`` (both backends run it).
"""
from __future__ import annotations

from dataclasses import dataclass

from segmap.errors import SegmapError


class SchemaError(RuntimeError, SegmapError):
    """The database's schema version is not one this segmap can use as it is."""


class SchemaTooNew(SchemaError):
    """Written by a newer segmap: refusing, rather than corrupting what it stored."""


class SchemaOutdated(SchemaError):
    """Older than this segmap and opened without upgrading (``segmap db upgrade`` fixes it)."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]  # empty: this version changes nothing in a SQLite file
    postgresql: tuple[str, ...]  # empty: nothing in a PostgreSQL database

    def statements(self, backend: str) -> tuple[str, ...]:
        return self.sqlite if backend == "sqlite" else self.postgresql


# --- version 1: the schema as first released (SQLite text identical to commit c5b3eb0) ---

_SQLITE_V1 = (
    """CREATE TABLE IF NOT EXISTS inbox (
    webhook_id  TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    raw_body    BLOB NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('accepted', 'quarantined')),
    received_at REAL NOT NULL,
    calls       INTEGER NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS inbox_received ON inbox(received_at)",
    """CREATE TABLE IF NOT EXISTS outbox (
    id               INTEGER PRIMARY KEY,
    webhook_id       TEXT NOT NULL,
    idx              INTEGER NOT NULL,
    event_type       TEXT NOT NULL,
    call             TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    origin           TEXT NOT NULL DEFAULT '',
    payload          BLOB NOT NULL,
    sendable         INTEGER NOT NULL DEFAULT 1,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),
    available_at     REAL NOT NULL,
    lease_until      REAL,
    lease_token      TEXT,
    claimed_at       REAL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    first_attempt_at REAL,
    last_error       TEXT,
    dead_reason      TEXT,
    created_at       REAL NOT NULL,
    finished_at      REAL,
    UNIQUE (webhook_id, idx)
)""",
    "CREATE INDEX IF NOT EXISTS outbox_ready ON outbox(available_at, id) WHERE state = 'pending'",
    "CREATE INDEX IF NOT EXISTS outbox_leases ON outbox(lease_until) WHERE state = 'in_flight'",
    "CREATE INDEX IF NOT EXISTS outbox_tokens ON outbox(lease_token) WHERE state = 'in_flight'",
    "CREATE INDEX IF NOT EXISTS outbox_dead ON outbox(finished_at) WHERE state = 'dead'",
    "CREATE INDEX IF NOT EXISTS outbox_delivered ON outbox(finished_at) WHERE state = 'delivered'",
    """CREATE TABLE IF NOT EXISTS quarantine (
    id          INTEGER PRIMARY KEY,
    webhook_id  TEXT NOT NULL,
    event_type  TEXT NOT NULL,
    raw_body    BLOB NOT NULL,
    error       TEXT NOT NULL,
    location    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS quarantine_open ON quarantine(id) WHERE status = 'open'",
    """CREATE TABLE IF NOT EXISTS delivery_state (
    key        TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    updated_at REAL NOT NULL
)""",
)

# PostgreSQL keeps times as timestamptz (readable in psql, compared with the
# server's now()); the store converts to and from epoch seconds at its edge.
_POSTGRESQL_V1 = (
    """CREATE TABLE IF NOT EXISTS inbox (
    webhook_id  text PRIMARY KEY,
    event_type  text NOT NULL,
    raw_body    bytea NOT NULL,
    status      text NOT NULL CHECK (status IN ('accepted', 'quarantined')),
    received_at timestamptz NOT NULL,
    calls       integer NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS inbox_received ON inbox(received_at)",
    """CREATE TABLE IF NOT EXISTS outbox (
    id               bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    webhook_id       text NOT NULL,
    idx              integer NOT NULL,
    event_type       text NOT NULL,
    call             text NOT NULL,
    message_id       text NOT NULL,
    origin           text NOT NULL DEFAULT '',
    payload          bytea NOT NULL,
    sendable         boolean NOT NULL DEFAULT true,
    state            text NOT NULL CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),
    available_at     timestamptz NOT NULL,
    lease_until      timestamptz,
    lease_token      uuid,
    claimed_at       timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    first_attempt_at timestamptz,
    last_error       text,
    dead_reason      text,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    UNIQUE (webhook_id, idx)
)""",
    "CREATE INDEX IF NOT EXISTS outbox_ready ON outbox(available_at, id) WHERE state = 'pending'",
    "CREATE INDEX IF NOT EXISTS outbox_leases ON outbox(lease_until) WHERE state = 'in_flight'",
    "CREATE INDEX IF NOT EXISTS outbox_tokens ON outbox(lease_token) WHERE state = 'in_flight'",
    "CREATE INDEX IF NOT EXISTS outbox_dead ON outbox(finished_at) WHERE state = 'dead'",
    "CREATE INDEX IF NOT EXISTS outbox_delivered ON outbox(finished_at) WHERE state = 'delivered'",
    """CREATE TABLE IF NOT EXISTS quarantine (
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    webhook_id  text NOT NULL,
    event_type  text NOT NULL,
    raw_body    bytea NOT NULL,
    error       text NOT NULL,
    location    text NOT NULL,
    status      text NOT NULL CHECK (status IN ('open', 'resolved')),
    attempts    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS quarantine_open ON quarantine(id) WHERE status = 'open'",
    """CREATE TABLE IF NOT EXISTS delivery_state (
    key        text PRIMARY KEY,
    value      bytea NOT NULL,
    updated_at timestamptz NOT NULL
)""",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "inbox, outbox, quarantine and delivery_state", _SQLITE_V1, _POSTGRESQL_V1),
    Migration(
        2,
        "index quarantine by webhook id: prune looks up open quarantine rows per inbox entry",
        ("CREATE INDEX IF NOT EXISTS quarantine_webhook ON quarantine(webhook_id)",),
        ("CREATE INDEX IF NOT EXISTS quarantine_webhook ON quarantine(webhook_id)",),
    ),
    Migration(
        3,
        "hold: calls accepted in a dry run or sent by `segmap send` wait for an explicit release; "
        "pending rows of earlier `segmap send` samples (msg_send_ ids) are held on upgrade",
        (
            "ALTER TABLE outbox ADD COLUMN hold TEXT",
            "ALTER TABLE quarantine ADD COLUMN hold TEXT",
            "CREATE INDEX IF NOT EXISTS outbox_held ON outbox(hold, id) WHERE hold IS NOT NULL",
            "UPDATE outbox SET hold = 'test' WHERE state IN ('pending', 'in_flight')"
            " AND webhook_id LIKE 'msg!_send!_%' ESCAPE '!'",
            "UPDATE quarantine SET hold = 'test' WHERE status = 'open' AND webhook_id LIKE 'msg!_send!_%' ESCAPE '!'",
        ),
        (
            "ALTER TABLE outbox ADD COLUMN IF NOT EXISTS hold text CHECK (hold IN ('dry_run', 'test'))",
            "ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS hold text CHECK (hold IN ('dry_run', 'test'))",
            "CREATE INDEX IF NOT EXISTS outbox_held ON outbox(hold, id) WHERE hold IS NOT NULL",
            "UPDATE outbox SET hold = 'test' WHERE state IN ('pending', 'in_flight')"
            " AND webhook_id LIKE 'msg!_send!_%' ESCAPE '!'",
            "UPDATE quarantine SET hold = 'test' WHERE status = 'open' AND webhook_id LIKE 'msg!_send!_%' ESCAPE '!'",
        ),
    ),
    Migration(
        4,
        "PostgreSQL: delivered calls move out of `outbox` into `delivered_calls` at ack: a delete and an "
        "insert into a table with one index instead of a new row version with an entry in every index; "
        "delivered rows already in `outbox` stay there and are counted and pruned as before. SQLite: unchanged "
        "(it rewrites a row in place)",
        (),  # a SQLite file stays at version 3, so the previous release can still open it after a rollback
        (
            """CREATE TABLE IF NOT EXISTS delivered_calls (
    id               bigint PRIMARY KEY,
    webhook_id       text NOT NULL,
    idx              integer NOT NULL,
    event_type       text NOT NULL,
    call             text NOT NULL,
    message_id       text NOT NULL,
    origin           text NOT NULL,
    payload          bytea NOT NULL,
    attempts         integer NOT NULL,
    first_attempt_at timestamptz,
    created_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL
)""",
            # prune's range; rows arrive in finished_at order, so a block range index costs next to nothing
            "CREATE INDEX IF NOT EXISTS delivered_calls_finished ON delivered_calls USING brin (finished_at)",
        ),
    ),
)

LATEST = MIGRATIONS[-1].version


def _check_list() -> None:
    for i, m in enumerate(MIGRATIONS, start=1):
        if m.version != i:
            raise AssertionError(f"migration {m.version} is out of order (expected {i})")
        if not m.sqlite and not m.postgresql:
            raise AssertionError(f"migration {m.version} changes neither backend")


_check_list()


def latest(backend: str) -> int:
    """The version a database of this backend ends at: the newest migration that changes it.

    A version that changes only the other backend is not recorded, so a release whose only
    schema change is PostgreSQL's leaves SQLite files readable by the release before it."""
    return max((m.version for m in MIGRATIONS if m.statements(backend)), default=0)


def to_apply(current: int, *, where: str, backend: str, upgrade: bool = True) -> list[Migration]:
    """The migrations a database at `current` needs; refuses a newer schema, and an older
    one when upgrading is not allowed (a read-only look must not change the database)."""
    known = max((m.version for m in MIGRATIONS), default=0)
    if current > known:
        raise SchemaTooNew(
            f"{where} has schema version {current}, written by a newer segmap; this one knows up to "
            f"{known}: upgrade segmap (nothing was changed)"
        )
    missing = [m for m in MIGRATIONS if m.version > current and m.statements(backend)]
    if missing and not upgrade:
        raise SchemaOutdated(
            f"{where} has schema version {current}, this segmap needs {latest(backend)}: run `segmap db upgrade`"
        )
    return missing
