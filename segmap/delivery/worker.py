"""The worker that moves calls from the outbox to a sink (Segment, or a dry-run file).

Threads rather than asyncio: the store and httpx's sync client both release
the GIL while they wait, the CLI needs no event loop, and an asyncio service
can still drive it (`start()` at startup, `await asyncio.to_thread(d.stop)` at
shutdown, `notify()` after each accepted webhook).

What the worker promises: a row is acked only after a 2xx for a request that
contained it; a retryable failure puts the row back with a due time; a row is
dead-lettered only for its own content (isolated by bisecting a 400) or when
its time budget is spent. An answer that says the configuration is wrong (a
refused key, or a wrong host, path or proxy: 401/403, 404, 405, 3xx ...)
pauses delivery and changes no row; while paused, one row at a time probes,
with a wait that starts at seconds and grows to minutes.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Sequence

from segmap.delivery.message import MAX_MESSAGE_BYTES, plan_batches, stamped_size
from segmap.delivery.outbox.store import OutboxRow, OutboxStore, PauseState
from segmap.delivery.retry import PAUSING, Outcome, RetryPolicy
from segmap.delivery.sinks import SendResult, Sink

log = logging.getLogger("segmap.delivery")


@dataclass(frozen=True)
class DeliveryConfig:
    workers: int = 2
    claim_limit: int = 2500
    lease_seconds: float = 120.0
    poll_interval: float = 1.0  # idle re-check when nothing is due and nobody calls notify()
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], float] = time.time  # wall clock stored in rows (budgets, due times)


@dataclass
class DeliveryStats:
    requests: int = 0
    delivered: int = 0
    dead: int = 0
    retried: int = 0  # rows put back after a retryable failure
    released: int = 0
    auth_failures: int = 0
    pauses: int = 0  # answers that paused delivery or kept it paused (401/403, 404, 3xx ...)
    probes: int = 0  # one-row probes sent while paused
    consecutive_failures: int = 0
    paused: PauseState | None = None
    pause_kind: str = ""  # "auth" (the write key) or "endpoint" (host, path, proxy) while paused
    backoff_remaining: float = 0.0
    next_probe_in: float | None = None  # seconds until the next probe while paused
    last_error: str = ""
    last_error_at: float | None = None  # wall clock of the last failed attempt
    failing_since: float | None = None  # first failure of the current run of failures; None once one succeeds


def _fmt_seconds(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:g}h"
    if s >= 60:
        return f"{s / 60:g}m"
    return f"{s:g}s"


class Delivery:
    def __init__(self, store: OutboxStore, sink: Sink, config: DeliveryConfig | None = None):
        self.store = store
        self.sink = sink
        self.config = config or DeliveryConfig()
        self._policy = self.config.policy
        self._clock = self.config.clock
        self._cv = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._active: dict[str, list[int]] = {}  # claim token -> row ids not yet settled
        self._wake_gen = 0
        self._control_gen = 0
        self._progress_gen = 0
        self._backoff_until = 0.0  # monotonic
        self._failures = 0
        self._paused: PauseState | None = None
        self._pause_kind = ""
        self._pause_recorded = False  # the store shows our pause (so a cleared one was cleared by someone else)
        self._next_probe = 0.0  # monotonic
        self._probes = 0  # probes taken during this pause: the next wait is policy.probe_delay(_probes)
        self._store_checked = 0.0  # monotonic: last look at the stored pause while paused
        self._seen_success = False
        self._stats = DeliveryStats()

    # --- control, callable from any thread ---

    def start(self) -> None:
        if self._threads:
            raise RuntimeError("delivery already started")
        self._stopping.clear()
        for i in range(max(1, self.config.workers)):
            t = threading.Thread(target=self._loop, name=f"segmap-delivery-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def stop(self, timeout: float = 10.0) -> bool:
        """Let requests under way finish (truthful status), give back every unsent row,
        and return True if all workers ended within `timeout`."""
        self._stopping.set()
        with self._cv:
            self._control_gen += 1
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self._threads if t.is_alive()]
        with self._cv:
            leftovers = list(self._active.items())
        for token, ids in leftovers:  # a worker stuck in a request: its late ack will match nothing
            try:
                n = self.store.release(ids, token=token)
                self._count(released=n)
            except Exception:  # noqa: BLE001 - the lease will expire anyway
                log.exception("could not release rows at shutdown; they come back when their lease expires")
        self._threads = alive
        return not alive

    def notify(self) -> None:
        """New rows were accepted: wake an idle worker now instead of at the next poll."""
        with self._cv:
            self._wake_gen += 1
            self._cv.notify_all()

    def resume(self, write_key: str | None = None) -> None:
        """End an auth pause (optionally with a new key) and retry at once."""
        if write_key is not None:
            setter = getattr(self.sink, "set_write_key", None)
            if setter is None:
                raise TypeError("this sink takes no write key")
            setter(write_key)
        with self._cv:
            self._paused = None
            self._pause_kind = ""
            self._pause_recorded = False
            self._next_probe = 0.0
            self._probes = 0
            self._backoff_until = 0.0
            self._control_gen += 1
            self._cv.notify_all()
        self.store.set_paused(None)
        log.warning("delivery resumed")

    def probe_now(self) -> None:
        """While paused, let the next cycle send one probe at once instead of waiting out the
        probe backoff (what `segmap outbox resume` asks a running service for)."""
        with self._cv:
            if self._paused is None:
                return
            self._next_probe = 0.0
            self._probes = 0
            self._control_gen += 1
            self._cv.notify_all()

    @property
    def paused(self) -> PauseState | None:
        return self._paused

    def stats(self) -> DeliveryStats:
        with self._cv:
            s = DeliveryStats(**{k: getattr(self._stats, k) for k in DeliveryStats.__dataclass_fields__})
            s.paused = self._paused
            s.pause_kind = self._pause_kind
            s.consecutive_failures = self._failures
            now = time.monotonic()
            s.backoff_remaining = max(0.0, self._backoff_until - now)
            s.next_probe_in = None if self._paused is None else max(0.0, self._next_probe - now)
        return s

    # --- running in the caller's thread (CLI --once, tests) ---

    def probe_once(self, paused: PauseState | None = None) -> bool | None:
        """Send one probe now, in this thread, whatever the probe schedule says (`segmap outbox
        resume` with a key). True: it got through and the pause is cleared; False: still refused
        (the pause is kept, with the new answer); None: no call is due to probe with."""
        with self._cv:
            if self._paused is None:
                self._paused = paused or self.store.paused() or PauseState("probe requested", self._clock())
                self._pause_recorded = True
            self._next_probe = 0.0
        rows = self.store.claim(1, self.config.lease_seconds)
        if not rows:
            return None
        with self._cv:
            self._stats.probes += 1
        self._process(rows, True)
        return self._paused is None

    def run_once(self) -> int:
        """One claim-and-send cycle; returns the number of rows handled (0: nothing due)."""
        probe = self._take_probe_turn()
        if not probe and self._must_yield(False):
            return 0  # backing off or paused: claiming now would only churn leases
        rows = self.store.claim(1 if probe else self.config.claim_limit, self.config.lease_seconds)
        if not rows:
            return 0
        self._process(rows, probe)
        return len(rows)

    def blocked_for(self) -> float:
        """Seconds until the next request may go out (backoff, Retry-After, auth probe)."""
        now = time.monotonic()
        with self._cv:
            if self._paused is not None:
                return max(0.0, self._next_probe - now)
            return max(0.0, self._backoff_until - now)

    def deliver_due(self) -> int:
        """Send everything due now; stop at the first backoff or pause. For `--once`."""
        total = 0
        while not self._stopping.is_set() and self._paused is None and self.blocked_for() == 0.0:
            n = self.run_once()
            if n == 0:
                break
            total += n
        return total

    def drain(self, timeout: float | None = 30.0, *, stop_on_pause: bool = True) -> bool:
        """Wait until no row is pending or in flight; False on timeout, or at an auth
        pause unless `stop_on_pause` is False (then the probes may resume delivery).

        With workers running it only waits (woken by their progress); otherwise it
        runs the loop in the calling thread, waiting out backoffs and due times.
        """
        deadline = None if timeout is None else time.monotonic() + timeout

        def remaining() -> float | None:
            return None if deadline is None else deadline - time.monotonic()

        if self.running:
            while True:
                with self._cv:
                    gen = self._progress_gen
                if self._paused is not None and stop_on_pause:
                    # let the workers give back what they hold, so the store shows the pause
                    with self._cv:
                        self._cv.wait_for(lambda: not self._active, timeout=remaining())
                    return False
                if not self.store.has_undelivered():
                    return True
                left = remaining()
                if left is not None and left <= 0:
                    return False
                with self._cv:
                    self._cv.wait_for(lambda: self._progress_gen != gen, timeout=left)  # noqa: B023 - called within this iteration
        while True:
            if self._paused is not None and stop_on_pause:
                return False
            left = remaining()
            if left is not None and left <= 0:
                return not self.store.has_undelivered()
            wait = self.blocked_for()
            if wait > 0:
                self._stopping.wait(wait if left is None else min(wait, left))
                continue
            if self.run_once() == 0:
                if not self.store.has_undelivered():
                    return True
                self._stopping.wait(self._idle_delay() if left is None else min(self._idle_delay(), left))

    # --- internals ---

    def _count(self, **deltas: int) -> None:
        with self._cv:
            for k, v in deltas.items():
                setattr(self._stats, k, getattr(self._stats, k) + v)

    def _idle_delay(self) -> float:
        nxt = self.store.next_attempt_at()
        if nxt is None:
            return self.config.poll_interval
        return min(self.config.poll_interval, max(0.001, nxt - self._clock()))

    def _take_probe_turn(self) -> bool:
        """While paused, exactly one worker at a time gets to try one row; the wait until the
        next probe grows with every probe of this pause (seconds at first, minutes later)."""
        with self._cv:
            if self._paused is None:
                return False
            now = time.monotonic()
            if now < self._next_probe:
                return False
            self._probes += 1
            self._next_probe = now + self._policy.probe_delay(self._probes)
            self._stats.probes += 1
            return True

    def _store_hook(self, name: str, *args) -> None:
        """Operational records (last error) are optional for a store: a backend without
        them still delivers, and a failure to record never stops delivery."""
        fn = getattr(self.store, name, None)
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - the record is for operators; the delivery goes on
            log.warning("could not record the delivery state (%s)", name, exc_info=True)

    def _check_external_resume(self) -> None:
        """While paused, look at the stored pause now and then: when someone else cleared it
        (`segmap outbox resume`, another process that got through), probe at once."""
        with self._cv:
            if self._paused is None or not self._pause_recorded:
                return
            now = time.monotonic()
            if now - self._store_checked < self.config.poll_interval:
                return
            self._store_checked = now
        try:
            cleared = self.store.paused() is None
        except Exception:  # noqa: BLE001 - looked at again next time
            return
        if cleared:
            with self._cv:
                if self._paused is None or not self._pause_recorded:
                    return
                self._pause_recorded = False
                self._next_probe = 0.0
                self._probes = 0
            log.warning("the delivery pause was cleared from outside (segmap outbox resume); probing now")

    def _loop(self) -> None:
        stopping = self._stopping.is_set
        while not stopping():
            try:
                # read the generations first: a notify()/stop() landing while we work is not lost
                with self._cv:
                    wake, ctrl = self._wake_gen, self._control_gen
                self._check_external_resume()
                wait = self.blocked_for()
                if wait > 0:
                    if self._paused is not None:  # wake up now and then to look at the stored pause
                        wait = min(wait, max(self.config.poll_interval, 0.01))
                    with self._cv:
                        self._cv.wait_for(lambda: stopping() or self._control_gen != ctrl, timeout=wait)  # noqa: B023
                    continue
                n = self.run_once()
                with self._cv:
                    self._progress_gen += 1
                    self._cv.notify_all()
                if n < self.config.claim_limit:
                    # a short claim took everything due (or nothing was): ask when the next row is
                    # due (one read) instead of claiming again at once, which took nothing but cost a
                    # write transaction per group commit on PostgreSQL
                    delay = self._idle_delay()
                    with self._cv:
                        self._cv.wait_for(lambda: stopping() or self._wake_gen != wake or self._control_gen != ctrl,  # noqa: B023
                                          timeout=delay)
            except Exception:  # noqa: BLE001 - a worker must survive a bad moment of its store
                log.exception("delivery cycle failed; retrying after a pause")
                with self._cv:
                    self._failures += 1
                    self._backoff_until = time.monotonic() + self._policy.backoff(self._failures)
                    self._progress_gen += 1
                    self._cv.notify_all()

    def _process(self, rows: list[OutboxRow], probe: bool = False) -> None:
        token = rows[0].token
        with self._cv:
            self._active[token] = [r.id for r in rows]
        try:
            self._send_all(rows, token, probe)
        finally:
            with self._cv:
                self._active.pop(token, None)
                self._cv.notify_all()

    def _settled(self, token: str, ids: Sequence[int]) -> None:
        with self._cv:
            left = self._active.get(token)
            if left is not None:
                done = set(ids)
                self._active[token] = [i for i in left if i not in done]

    def _must_yield(self, probe: bool) -> bool:
        """Another worker hit a backoff or an auth pause while this one held a claim."""
        with self._cv:
            return self._backoff_until > time.monotonic() or (self._paused is not None and not probe)

    def _send_all(self, rows: list[OutboxRow], token: str, probe: bool) -> None:
        store = self.store
        unsendable = [r for r in rows if not r.payload or stamped_size(r.payload) > MAX_MESSAGE_BYTES]
        if unsendable:
            store.dead([r.id for r in unsendable], f"message over {MAX_MESSAGE_BYTES} bytes or empty; not sent", token=token)
            self._settled(token, [r.id for r in unsendable])
            self._count(dead=len(unsendable))
            gone = {r.id for r in unsendable}
            rows = [r for r in rows if r.id not in gone]
        payloads = [r.payload for r in rows]
        queue = deque(rows[rng.start:rng.stop] for rng in plan_batches(payloads, self.sink.max_batch_bytes, self.sink.max_batch_items))
        lease_mark = time.monotonic()
        while queue:
            if self._stopping.is_set() or self._must_yield(probe):
                # shutting down, or another worker just learnt Segment wants us to back
                # off (Retry-After, outage): give the rest back untouched
                rest = [r.id for batch in queue for r in batch]
                self._count(released=store.release(rest, token=token))
                self._settled(token, rest)
                return
            if time.monotonic() - lease_mark > self.config.lease_seconds / 3:
                store.renew(token, self.config.lease_seconds)
                lease_mark = time.monotonic()
            batch = queue.popleft()
            ids = [r.id for r in batch]
            try:
                res = self.sink.send([r.payload for r in batch])
            except Exception as exc:  # noqa: BLE001 - a broken sink is a transient failure, not data loss
                log.exception("sink raised; treating as a retryable failure")
                res = SendResult(Outcome.RETRY, None, None, f"sink error: {type(exc).__name__}")
            self._count(requests=1)
            outcome = res.outcome
            if outcome is Outcome.OK:
                store.ack(ids, token=token)
                self._settled(token, ids)
                self._count(delivered=len(ids))
                self._on_success()
            elif outcome is Outcome.REJECTED and len(batch) > 1:
                mid = len(batch) // 2  # bisect: only the guilty message ends up dead
                queue.appendleft(batch[mid:])
                queue.appendleft(batch[:mid])
            elif outcome in (Outcome.REJECTED, Outcome.FAILED):
                what = "rejected by Segment" if outcome is Outcome.REJECTED else "permanent error, not retried"
                self._note_error(res.detail)
                store.dead(ids, f"{what}: {res.detail}", token=token)
                self._settled(token, ids)
                self._count(dead=len(ids))
                log.error("dead-lettered %d message(s): %s: %s", len(ids), what, res.detail)
            elif outcome in PAUSING:
                self._enter_pause(res)  # first, so that other workers stop at once
                rest = ids + [r.id for b in queue for r in b]
                self._count(released=store.release(rest, token=token), pauses=1,
                            auth_failures=1 if outcome is Outcome.AUTH else 0)
                self._settled(token, rest)
                return
            else:  # RETRY: the host is unwell; put this and everything after it back
                self._on_retry(list(batch) + [r for b in queue for r in b], res, token)
                return

    def _note_error(self, detail: str) -> None:
        """Remember the last failed attempt, here and in the store (for `outbox status`)."""
        now = self._clock()
        with self._cv:
            self._stats.last_error = detail
            self._stats.last_error_at = now
            if self._stats.failing_since is None:
                self._stats.failing_since = now
        self._store_hook("record_delivery_error", detail)

    def _on_success(self) -> None:
        with self._cv:
            was_paused = self._paused
            # the first success of this process also clears a pause (and a failing streak) that another,
            # earlier process recorded
            first_success = not self._seen_success
            clear_stored = was_paused is not None or first_success
            was_failing = self._stats.failing_since is not None or first_success
            self._seen_success = True
            self._failures = 0
            self._backoff_until = 0.0
            self._paused = None
            self._pause_kind = ""
            self._pause_recorded = False
            self._probes = 0
            self._stats.failing_since = None
            if was_paused is not None:
                self._control_gen += 1
                self._cv.notify_all()
        if was_failing:
            self._store_hook("record_delivery_ok")
        if clear_stored and (was_paused is not None or self.store.paused() is not None):
            self.store.set_paused(None)
            log.warning("Segment accepts the requests again; delivery resumed")

    def _on_retry(self, rows: list[OutboxRow], res: SendResult, token: str) -> None:
        with self._cv:  # close the gate before any slow (fsync) work, so no other worker slips through
            self._failures += 1
            failures = self._failures
            delay = self._policy.delay(failures, res.retry_after)
            self._backoff_until = max(self._backoff_until, time.monotonic() + delay)
        self._note_error(res.detail)
        now = self._clock()
        budget = self._policy.budget_seconds
        expired = [r for r in rows if now - (r.first_attempt_at or r.claimed_at or now) >= budget]
        if expired:
            ids = [r.id for r in expired]
            self.store.dead(ids, f"retry budget of {_fmt_seconds(budget)} spent; last error: {res.detail}", token=token)
            self._settled(token, ids)
            self._count(dead=len(ids))
            log.error("dead-lettered %d message(s) after the retry budget: %s", len(ids), res.detail)
        expired_ids = {r.id for r in expired}
        keep = [r.id for r in rows if r.id not in expired_ids]
        if keep:
            self.store.nack(keep, res.detail, now + delay, token=token)
            self._settled(token, keep)
            self._count(retried=len(keep))
        log.warning("Segment attempt failed (%s); %d message(s) retry in %.3gs (failure %d in a row)",
                    res.detail, len(keep), delay, failures)

    def pause_reason(self, res: SendResult) -> tuple[str, str]:
        """(kind, reason) for an answer that pauses delivery."""
        answer = res.detail or f"HTTP {res.status}"
        if res.outcome is Outcome.AUTH:
            return "auth", f"Segment refused the write key ({answer})"
        endpoint = getattr(self.sink, "endpoint", None)
        where = f" at {endpoint}" if endpoint else ""
        return "endpoint", (f"the Segment endpoint{where} looks wrong ({answer}); check the host, region, "
                            "path and any proxy in between")

    def _enter_pause(self, res: SendResult) -> None:
        kind, reason = self.pause_reason(res)
        with self._cv:
            current = self._paused
            first = current is None
            if current is None:
                self._paused = PauseState(reason, self._clock())
                self._probes = 0
                self._next_probe = time.monotonic() + self._policy.probe_delay(0)
            elif current.reason != reason:
                self._paused = PauseState(reason, current.since)
            self._pause_kind = kind
            self._control_gen += 1
            self._cv.notify_all()
        self._note_error(res.detail or f"HTTP {res.status}")
        self.store.set_paused(reason)
        with self._cv:
            if self._paused is not None:
                self._pause_recorded = True
        if first:
            what = "the write key" if kind == "auth" else "the Segment host, region, path or proxy"
            log.error("DELIVERY PAUSED: %s. Nothing is dead-lettered; fix %s, then restart or run "
                      "`segmap outbox resume`. Probing with one message in %s, then less and less often (at "
                      "most every %s).", reason, what, _fmt_seconds(self._policy.probe_delay(0)),
                      _fmt_seconds(self._policy.auth_probe_interval))
        else:
            log.info("still paused: %s", reason)


def preview(store: OutboxStore, sink: Sink, *, page: int = 2500) -> int:
    """Dry run: hand every pending row to `sink`, batched exactly as for Segment,
    without claiming or changing anything. Returns the number of items written."""
    after, total = 0, 0
    while True:
        rows = store.peek(page, after)
        if not rows:
            return total
        payloads = [r.payload for r in rows if r.payload and stamped_size(r.payload) <= MAX_MESSAGE_BYTES]
        for rng in plan_batches(payloads, sink.max_batch_bytes, sink.max_batch_items):
            sink.send(payloads[rng.start:rng.stop])
            total += len(rng)
        after = rows[-1].id
