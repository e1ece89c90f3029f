"""Durable storage between the webhook receiver and Segment.

`OutboxStore` is the interface; `SqliteOutbox` the embedded default;
`PostgresOutbox` the shared store for several instances; `AsyncOutbox` lets an
asyncio service call any store without blocking its loop. `open_store` is the
one place that picks the backend from what `--db` / `SEGMAP_DB` holds.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from segmap.delivery.outbox.aio import AsyncOutbox
from segmap.delivery.outbox.migrations import LATEST as SCHEMA_LATEST
from segmap.delivery.outbox.migrations import SchemaError, SchemaOutdated, SchemaTooNew
from segmap.delivery.outbox.sqlite import SqliteOutbox
from segmap.delivery.outbox.store import (
    HOLDS,
    INBOX_MIN_RETENTION,
    STATES,
    AcceptResult,
    DeadLetter,
    DeliveryError,
    OutboxRow,
    OutboxStatus,
    OutboxStore,
    PauseState,
    PruneResult,
    QuarantinedEnvelope,
)

_PG_SCHEMES = ("postgresql://", "postgres://")
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")
_PASSWORD_PARAM = re.compile(r"([?&]password=)[^&]*", re.IGNORECASE)


def is_postgres_url(target: str | os.PathLike) -> bool:
    return isinstance(target, str) and target.startswith(_PG_SCHEMES)


def backend_for(target: str | os.PathLike) -> str:
    """"postgresql" for a postgresql:// (or postgres://) URL, else "sqlite" (a file path)."""
    return "postgresql" if is_postgres_url(target) else "sqlite"


def describe(target: str | os.PathLike) -> str:
    """The target as it may be printed or logged: a URL's password is masked."""
    if not is_postgres_url(target):
        return str(target)
    return _PASSWORD_PARAM.sub(r"\1***", _PASSWORD.sub(r"\1***@", str(target)))


def db_target(text: str | os.PathLike) -> str | Path:
    """What `--db` / `SEGMAP_DB` names: a PostgreSQL URL (kept as text) or a SQLite file path."""
    return str(text) if is_postgres_url(str(text)) else Path(text)


def open_store(target: str | os.PathLike, *, create: bool = True, upgrade: bool = True,
               synchronous: str = "FULL", **kwargs) -> OutboxStore:
    """Open the outbox `--db` / `SEGMAP_DB` names: a `postgresql://…` URL opens the
    PostgreSQL store, anything else is a SQLite file path. `create` makes a missing
    SQLite file (a PostgreSQL database must exist; its tables are created either way);
    `upgrade` applies missing schema migrations, else an older schema is refused.
    `synchronous` is SQLite's pragma; PostgreSQL always commits with synchronous_commit=on."""
    if is_postgres_url(target):
        try:
            from segmap.delivery.outbox.postgres import PostgresOutbox
        except ImportError as exc:  # the optional dependency is missing
            raise RuntimeError(f"{describe(target)}: the PostgreSQL outbox needs psycopg 3 and psycopg-pool: "
                               f"pip install 'segmap[postgresql]' ({exc})") from None

        return PostgresOutbox(str(target), upgrade=upgrade, **kwargs)
    return SqliteOutbox(Path(target), create=create, upgrade=upgrade, synchronous=synchronous, **kwargs)


__all__ = [
    "HOLDS", "INBOX_MIN_RETENTION", "SCHEMA_LATEST", "STATES", "AcceptResult", "AsyncOutbox", "DeadLetter", "DeliveryError",
    "OutboxRow", "OutboxStatus", "OutboxStore", "PauseState", "PruneResult", "QuarantinedEnvelope", "SchemaError",
    "SchemaOutdated", "SchemaTooNew", "SqliteOutbox", "backend_for", "db_target", "describe", "is_postgres_url", "open_store",
]
