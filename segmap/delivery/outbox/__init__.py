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


def is_postgres_url(target: str | os.PathLike) -> bool:
    return isinstance(target, str) and target.startswith(_PG_SCHEMES)


def backend_for(target: str | os.PathLike) -> str:
    """"postgresql" for a postgresql:// (or postgres://) URL, else "sqlite" (a file path)."""
    return "postgresql" if is_postgres_url(target) else "sqlite"


def describe(target: str | os.PathLike) -> str:
    """The target as it may be printed or logged: a URL's password is masked."""
    return _PASSWORD.sub(r"\1***@", str(target)) if is_postgres_url(target) else str(target)


def open_store(target: str | os.PathLike, *, create: bool = True, upgrade: bool = True,
               synchronous: str = "FULL", **kwargs) -> OutboxStore:
    """Open the outbox `--db` / `SEGMAP_DB` names: a `postgresql://…` URL opens the
    PostgreSQL store, anything else is a SQLite file path. `create` makes a missing
    SQLite file (a PostgreSQL database must exist; its tables are created either way);
    `upgrade` applies missing schema migrations, else an older schema is refused.
    `synchronous` is SQLite's pragma; PostgreSQL always commits with synchronous_commit=on."""
    if is_postgres_url(target):
        raise ValueError("the PostgreSQL outbox is not in this build yet (issue 13)")
    return SqliteOutbox(Path(target), create=create, upgrade=upgrade, synchronous=synchronous, **kwargs)


__all__ = [
    "HOLDS", "INBOX_MIN_RETENTION", "SCHEMA_LATEST", "STATES", "AcceptResult", "AsyncOutbox", "DeadLetter", "DeliveryError",
    "OutboxRow", "OutboxStatus", "OutboxStore", "PauseState", "PruneResult", "QuarantinedEnvelope", "SchemaError",
    "SchemaOutdated", "SchemaTooNew", "SqliteOutbox", "backend_for", "describe", "is_postgres_url", "open_store",
]
