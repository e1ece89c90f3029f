"""The delivery side of the service: the Segment worker, or the dry-run writer.

With a write key, `segmap.delivery.worker.Delivery` does all the work; this
module only measures it (a thin store wrapper records when each claimed call
was accepted, so an ack gives the accept-to-Segment latency; a sink wrapper
times each batch request).

Without a write key the service runs a *dry run*: every call accepted is
written to a JSON-lines file exactly as it would be sent, and **stays pending
in the outbox** (the same rule as `segmap outbox deliver` without a key).
Configuring a write key later delivers it for real; nothing accepted during a
dry run is ever marked delivered. Each restart in dry-run mode writes the
still-pending calls once more.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Sequence

from segmap.delivery.outbox.store import OutboxStore
from segmap.delivery.sinks import SendResult, Sink

log = logging.getLogger("segmap.service.delivery")


class TimedStore:
    """Delegates to a store; observes accept-to-ack latency for every acked row."""

    def __init__(self, store: OutboxStore, observe: Callable[[list[float]], None], clock: Callable[[], float] = time.time):
        self._store = store
        self._observe = observe
        self._clock = clock
        self._lock = threading.Lock()
        self._created: dict[int, float] = {}

    def claim(self, limit: int, lease_seconds: float):
        rows = self._store.claim(limit, lease_seconds)
        if rows:
            with self._lock:
                for r in rows:
                    self._created[r.id] = r.created_at
        return rows

    def _forget(self, ids: Sequence[int]) -> list[float]:
        with self._lock:
            return [c for c in (self._created.pop(i, None) for i in ids) if c is not None]

    def ack(self, ids: Sequence[int], *, token: str | None = None) -> int:
        n = self._store.ack(ids, token=token)
        created = self._forget(ids)
        if n and created:
            now = self._clock()
            self._observe([max(0.0, now - c) for c in created])
        return n

    def nack(self, ids, error, retry_at, *, token=None):
        self._forget(ids)
        return self._store.nack(ids, error, retry_at, token=token)

    def dead(self, ids, reason, *, token=None):
        self._forget(ids)
        return self._store.dead(ids, reason, token=token)

    def release(self, ids, *, token=None):
        self._forget(ids)
        return self._store.release(ids, token=token)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class TimedSink:
    def __init__(self, sink: Sink, observe: Callable[[float], None]):
        self._sink = sink
        self._observe = observe
        self.max_batch_bytes = sink.max_batch_bytes
        self.max_batch_items = sink.max_batch_items

    def send(self, payloads: Sequence[bytes]) -> SendResult:
        t = time.perf_counter()
        try:
            return self._sink.send(payloads)
        finally:
            self._observe(time.perf_counter() - t)

    def close(self) -> None:
        self._sink.close()

    def __getattr__(self, name: str) -> Any:  # set_write_key and friends
        return getattr(self._sink, name)


class DryRunPump:
    """Writes pending calls to the dry-run file as they are accepted; changes no row."""

    def __init__(self, store: OutboxStore, sink: Sink, *, page: int = 1000, poll_interval: float = 1.0,
                 on_written: Callable[[int], None] | None = None):
        self.store = store
        self.sink = sink
        self.page = page
        self.poll_interval = poll_interval
        self._on_written = on_written
        self._after = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="segmap-dry-run", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> bool:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def pump_once(self) -> int:
        from segmap.delivery.message import MAX_MESSAGE_BYTES, plan_batches, stamped_size

        total = 0
        while not self._stop.is_set():
            rows = self.store.peek(self.page, self._after)
            if not rows:
                break
            payloads = [r.payload for r in rows if r.payload and stamped_size(r.payload) <= MAX_MESSAGE_BYTES]
            for rng in plan_batches(payloads, self.sink.max_batch_bytes, self.sink.max_batch_items):
                self.sink.send(payloads[rng.start:rng.stop])
            self._after = rows[-1].id
            total += len(payloads)
        if total:
            self.written += total
            if self._on_written is not None:
                self._on_written(total)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            try:
                self.pump_once()
            except Exception:  # noqa: BLE001 - keep trying; the rows stay in the outbox anyway
                log.exception("dry-run write failed; retrying")
                self._stop.wait(1.0)
