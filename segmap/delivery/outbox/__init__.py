"""Durable storage between the webhook receiver and Segment.

`OutboxStore` is the interface; `SqliteOutbox` the embedded default;
`AsyncOutbox` lets an asyncio service call any store without blocking its loop.
"""
from segmap.delivery.outbox.aio import AsyncOutbox
from segmap.delivery.outbox.sqlite import SqliteOutbox
from segmap.delivery.outbox.store import (
    INBOX_MIN_RETENTION,
    STATES,
    AcceptResult,
    DeadLetter,
    OutboxRow,
    OutboxStatus,
    OutboxStore,
    PauseState,
    PruneResult,
    QuarantinedEnvelope,
)


def open_store(path, **kwargs) -> SqliteOutbox:
    """The default store for a path (a PostgreSQL URL will be dispatched here later)."""
    return SqliteOutbox(path, **kwargs)


__all__ = [
    "INBOX_MIN_RETENTION", "STATES", "AcceptResult", "AsyncOutbox", "DeadLetter", "OutboxRow", "OutboxStatus",
    "OutboxStore", "PauseState", "PruneResult", "QuarantinedEnvelope", "SqliteOutbox", "open_store",
]
