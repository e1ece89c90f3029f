"""Group commit: one writer thread turns concurrent webhooks into few transactions.

A durable commit (WAL, synchronous=FULL) costs one fsync, a few milliseconds
on ordinary disks, so one transaction per webhook caps the service at a few
hundred webhooks per second. Here every request hands its webhook to a single
writer thread and awaits a future; the writer takes *everything* waiting
(up to `max_group`) and commits it with `store.accept_many` in one
transaction. Under light load a group is one webhook and nothing waits
longer than before; under heavy load the groups grow by themselves, because
webhooks pile up while the previous fsync runs.

On a fast disk they do not grow much: an fsync of a few hundred microseconds
leaves groups of one or two webhooks at 2,000/s, and each commit's fixed cost
(the fsync, the transaction, the wake-up of the event loop) is then most of
the service's CPU per webhook. So once webhooks are arriving concurrently (the
group just taken, or the one before it, held more than one), the writer
*lingers*: it keeps collecting until the group's first webhook has waited
`linger` seconds (`--commit-linger`, 2 ms by default), then commits, as
PostgreSQL's `commit_delay` does. A lone webhook on a quiet service never
waits for it, and on a slow disk the previous commit has usually outlasted
the linger already.

Each request is answered only after the transaction holding its webhook
committed, so the promise "a 2xx means the webhook and its calls are on disk"
is unchanged. If a group's transaction fails, its webhooks are retried one by
one so that one bad item cannot fail the others; whatever still fails is
answered 503 (Dodo retries).
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from typing import Any, Callable, Sequence

from segmap.runtime.calls import Call
from segmap.delivery.outbox.store import AcceptResult, OutboxStore
from segmap.errors import SegmapError

log = logging.getLogger("segmap.service.ingest")

_STOP = object()
_monotonic = time.monotonic


class Overloaded(SegmapError):
    """Too many webhooks are waiting for a commit; answer 503 with Retry-After."""


class StoreUnavailable(SegmapError):
    """The store refused the transaction (disk full, I/O error, closed ...)."""


class _Item:
    """One webhook handed to the writer, and what became of it. A plain slotted class: one is
    made per request, and a dataclass's generated __init__ with defaults costs more."""

    __slots__ = ("kind", "webhook_id", "event_type", "raw_body", "calls", "error", "location", "hold", "loop",
                 "future", "result", "exc", "handed_at")

    def __init__(self, kind: str, webhook_id: str, event_type: str, raw_body: bytes, calls: Sequence[Call] = (),
                 error: str = "", location: str = "", hold: str | None = None):
        self.kind = kind  # "accept" | "quarantine"
        self.webhook_id = webhook_id
        self.event_type = event_type
        self.raw_body = raw_body
        self.calls = calls
        self.error = error
        self.location = location
        self.hold = hold  # see segmap.delivery.outbox.HOLDS
        self.loop: Any = None
        self.future: Any = None
        self.result: AcceptResult | None = None
        self.exc: BaseException | None = None
        self.handed_at = 0.0  # time.monotonic() when the writer was handed it


def _expire(future: asyncio.Future, timeout: float) -> None:
    """The commit wait's timer: the request answers 503 now. The commit may still land later: then
    the webhook is stored and Dodo's retry of the 503 is a harmless duplicate."""
    if not future.done():
        future.set_exception(StoreUnavailable(f"no commit within {timeout:g}s"))


class GroupCommitter:
    def __init__(self, store: OutboxStore, *, max_group: int = 512, max_queue: int = 20_000,
                 linger: float = 0.002, on_committed: Callable[[int], None] | None = None,
                 observe: Callable[[float, int], None] | None = None):
        self.store = store
        self.max_group = max(1, int(max_group))
        self.max_queue = max(1, int(max_queue))
        self.linger = max(0.0, float(linger))
        self._on_committed = on_committed
        self._observe = observe
        self._q: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stopping = threading.Event()
        self.last_error: str = ""
        self.last_error_at: float | None = None
        self.last_success_at: float | None = None
        self.commits = 0

    # --- lifecycle ---

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="segmap-group-commit", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def healthy(self) -> bool:
        """Running, and the last transaction did not fail (or one succeeded since)."""
        if not self.alive:
            return False
        if self.last_error_at is None:
            return True
        return self.last_success_at is not None and self.last_success_at > self.last_error_at

    def pending(self) -> int:
        return self._q.qsize()

    def close(self, timeout: float = 5.0) -> bool:
        """Stop taking webhooks, commit those already handed over, end the thread."""
        self._closed = True
        if self._thread is None:
            return True
        self._q.put(_STOP)
        self._stopping.set()  # ends a linger at once
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- request side (event loop) ---

    async def accept(self, webhook_id: str, event_type: str, raw_body: bytes, calls: Sequence[Call],
                     timeout: float | None = None, *, hold: str | None = None) -> AcceptResult:
        return await self._submit(_Item("accept", webhook_id, event_type, raw_body, calls, hold=hold), timeout)

    async def quarantine(self, webhook_id: str, event_type: str, raw_body: bytes, error: str, location: str,
                         timeout: float | None = None, *, hold: str | None = None) -> AcceptResult:
        return await self._submit(_Item("quarantine", webhook_id, event_type, raw_body, (), error, location,
                                        hold=hold), timeout)

    async def _submit(self, item: _Item, timeout: float | None) -> AcceptResult:
        if self._closed or not self.alive:
            raise StoreUnavailable("the outbox writer is not running")
        if self._q.qsize() >= self.max_queue:
            raise Overloaded(f"{self.max_queue} webhooks already wait for a commit")
        loop = asyncio.get_running_loop()
        item.loop = loop
        future = item.future = loop.create_future()
        item.handed_at = _monotonic()
        self._q.put(item)
        if timeout is None:
            return await future
        # one timer handle rather than `asyncio.timeout` (which costs three times as much per request)
        timer = loop.call_later(timeout, _expire, future, timeout)
        try:
            return await future
        finally:
            timer.cancel()

    # --- writer thread ---

    def _run(self) -> None:
        q = self._q
        stop = False
        linger = self.linger
        last_size = 0
        while not stop:
            first = q.get()
            if first is _STOP:
                break
            batch = [first]
            stop = self._drain(batch)
            if linger > 0 and not stop and len(batch) < self.max_group and (len(batch) > 1 or last_size > 1):
                stop = self._linger(batch, linger)
            last_size = len(batch)
            try:
                self._commit(batch)
            except BaseException as exc:  # noqa: BLE001 - never leave a request waiting forever
                log.exception("group commit crashed")
                for it in batch:
                    if it.result is None and it.exc is None:
                        it.exc = StoreUnavailable(f"{type(exc).__name__}")
            self._resolve(batch)
        # anything handed over after the stop marker (a race with close()) is refused, never dropped silently
        leftovers = []
        while True:
            try:
                it = q.get_nowait()
            except queue.Empty:
                break
            if it is not _STOP:
                it.exc = StoreUnavailable("shutting down")
                leftovers.append(it)
        self._resolve(leftovers)

    def _linger(self, batch: list[_Item], linger: float) -> bool:
        """Wait until the group's first webhook has waited `linger` seconds (or until close()), then
        add what arrived meanwhile to `batch` (up to max_group); True if the stop marker came.

        Counted from the first hand-over, so a webhook that already waited through the previous
        commit is not held longer. The writer sleeps through the linger rather than waking for each
        webhook: a wake-up per hand-over would take the GIL from the event loop."""
        left = batch[0].handed_at + linger - _monotonic()
        if left > 0:
            self._stopping.wait(left)
        return self._drain(batch)

    def _drain(self, batch: list[_Item]) -> bool:
        """Add what waits in the queue to `batch` (up to max_group); True if the stop marker came."""
        q = self._q
        while len(batch) < self.max_group:
            try:
                nxt = q.get_nowait()
            except queue.Empty:
                return False
            if nxt is _STOP:
                return True
            batch.append(nxt)
        return False

    def _commit(self, batch: list[_Item]) -> None:
        store = self.store
        accepts = [it for it in batch if it.kind == "accept"]
        started = time.perf_counter()
        if accepts:
            try:
                results = store.accept_many([(it.webhook_id, it.event_type, it.raw_body, it.calls, it.hold)
                                             for it in accepts])
                for it, res in zip(accepts, results):
                    it.result = res
                self._ok()
            except Exception as exc:  # noqa: BLE001
                self._failed(exc, len(accepts))
                if len(accepts) > 1:
                    for it in accepts:  # isolate: one bad item must not cost the others
                        try:
                            it.result = store.accept(it.webhook_id, it.event_type, it.raw_body, it.calls, hold=it.hold)
                            self._ok()
                        except Exception as one:  # noqa: BLE001
                            it.exc = StoreUnavailable(f"{type(one).__name__}: {one}")
                else:
                    accepts[0].exc = StoreUnavailable(f"{type(exc).__name__}: {exc}")
        for it in batch:
            if it.kind != "quarantine":
                continue
            try:
                it.result = store.quarantine(it.webhook_id, it.event_type, it.raw_body, it.error, it.location,
                                             hold=it.hold)
                self._ok()
            except Exception as exc:  # noqa: BLE001
                self._failed(exc, 1)
                it.exc = StoreUnavailable(f"{type(exc).__name__}: {exc}")
        self.commits += 1
        if self._observe is not None:
            self._observe(time.perf_counter() - started, len(batch))
        queued = sum(it.result.queued for it in batch if it.result is not None)
        if queued and self._on_committed is not None:
            try:
                self._on_committed(queued)
            except Exception:  # noqa: BLE001
                log.exception("wake-up of the delivery worker failed")

    def _ok(self) -> None:
        self.last_success_at = time.monotonic()

    def _failed(self, exc: BaseException, n: int) -> None:
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.last_error_at = time.monotonic()
        log.error("outbox transaction failed for %d webhook(s): %s", n, self.last_error)

    @staticmethod
    def _resolve(items: list[_Item]) -> None:
        by_loop: dict[Any, list[_Item]] = {}
        for it in items:
            if it.loop is not None:
                by_loop.setdefault(it.loop, []).append(it)
        for loop, its in by_loop.items():
            try:
                loop.call_soon_threadsafe(_set_results, its)
            except RuntimeError:  # the loop is closed: nobody waits any more
                pass


def _set_results(items: list[_Item]) -> None:
    for it in items:
        fut = it.future
        if fut is None or fut.done():
            continue  # the request gave up (timeout, disconnect)
        if it.exc is not None:
            fut.set_exception(it.exc)
        elif it.result is not None:
            fut.set_result(it.result)
        else:  # pragma: no cover - defensive
            fut.set_exception(StoreUnavailable("no result"))
