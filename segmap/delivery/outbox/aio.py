"""asyncio face of any `OutboxStore`.

Store calls block on disk (fsync) for milliseconds; running them in the
default thread pool keeps the event loop answering webhooks meanwhile. The
SQLite store opens one connection per pool thread, so calls may overlap.
"""
from __future__ import annotations

import asyncio
import functools
from typing import Any, Sequence

from segmap.runtime.calls import Call
from segmap.delivery.outbox.store import AcceptResult, OutboxStatus, OutboxStore


class AsyncOutbox:
    def __init__(self, store: OutboxStore):
        self.store = store

    async def accept(self, webhook_id: str, event_type: str, raw_body: bytes, calls: Sequence[Call]) -> AcceptResult:
        return await asyncio.to_thread(self.store.accept, webhook_id, event_type, raw_body, calls)

    async def quarantine(self, webhook_id: str, event_type: str, raw_body: bytes, error: str, location: str) -> AcceptResult:
        return await asyncio.to_thread(self.store.quarantine, webhook_id, event_type, raw_body, error, location)

    async def status(self) -> OutboxStatus:
        return await asyncio.to_thread(self.store.status)

    def __getattr__(self, name: str) -> Any:
        """Any other store method, as a coroutine function."""
        attr = getattr(self.store, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(attr, *args, **kwargs)

        return call
