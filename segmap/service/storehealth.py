"""Is the outbox fit to take webhooks? Start-up checks and run-time faults, for /readyz.

Three kinds of trouble, three lifetimes:

* **At start-up** the store must pass SQLite's `PRAGMA quick_check` and commit a real
  transaction. A file that fails the integrity check stays not-ready until a restart:
  corruption does not heal, and webhooks are refused (503, Dodo retries) rather than
  written into a damaged file.
* **At run time** an I/O error or a corruption error from *any* store operation (the
  group commit, the delivery worker's claims and acks, pruning) flips readiness: the
  fault is recorded with its message. It clears only when a re-check passes (integrity
  check and a real commit), at most once per `recheck_seconds`; a corruption error
  found at run time is treated like one found at start-up.
* Everything else (a locked database, a full disk) is transient and is judged by the
  readiness probe itself on every call.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Any, Callable

log = logging.getLogger("segmap.service")

# SQLite primary result codes (the low byte of an extended code)
_IOERR, _CORRUPT, _CANTOPEN, _NOTADB = 10, 11, 14, 26
_FATAL_TEXT = ("disk i/o error", "database disk image is malformed", "file is not a database")


def fault_kind(exc: BaseException) -> str | None:
    """"corrupt", "io" or None (not a fault of the storage itself)."""
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        primary = code & 0xFF
        if primary in (_CORRUPT, _NOTADB):
            return "corrupt"
        if primary in (_IOERR, _CANTOPEN):
            return "io"
    text = str(exc).lower()
    if "malformed" in text or "not a database" in text:
        return "corrupt"
    if any(t in text for t in _FATAL_TEXT):
        return "io"
    return None


class StoreHealth:
    """The storage faults readiness must report; thread-safe."""

    def __init__(self, *, recheck_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.recheck_seconds = recheck_seconds
        self.clock = clock
        self._lock = threading.Lock()
        self.corrupt: str | None = None  # sticky: integrity check failed (start-up or run time)
        self.fault: str | None = None  # an I/O error at run time, until a re-check passes
        self._fault_at = 0.0
        self.faults = 0  # run-time faults seen (metrics)

    def note(self, exc: BaseException, where: str) -> None:
        kind = fault_kind(exc)
        if kind is None:
            return
        message = f"{'database corrupt' if kind == 'corrupt' else 'I/O error'} in {where}: {exc}"
        with self._lock:
            first = self.fault is None and self.corrupt is None
            self.faults += 1
            self._fault_at = self.clock()
            if kind == "corrupt":
                self.corrupt = message
            else:
                self.fault = message
        if first:
            log.error("outbox storage fault: %s; /readyz fails until a re-check passes", message)

    def set_corrupt(self, message: str) -> None:
        with self._lock:
            self.corrupt = message

    def problem(self) -> str | None:
        with self._lock:
            return self.corrupt or self.fault

    def due_for_recheck(self) -> bool:
        with self._lock:
            return self.fault is not None and self.corrupt is None and \
                self.clock() - self._fault_at >= self.recheck_seconds

    def recheck(self, check: Callable[[], str]) -> None:
        """Run `check` (integrity + commit: "ok" or why not) and clear the I/O fault if it passes."""
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - the re-check failing is an answer too
            result = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._fault_at = self.clock()
            if result == "ok":
                cleared, self.fault = self.fault, None
            else:
                cleared = None
                if result.startswith("integrity check failed"):
                    self.corrupt = result
        if cleared:
            log.warning("outbox storage re-check passed; the earlier fault is cleared", extra={"fault": cleared})


class FaultWatch:
    """A store proxy that reports storage faults from every call to `StoreHealth`."""

    def __init__(self, store: Any, health: StoreHealth, where: str):
        self._store = store
        self._health = health
        self._where = where

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr
        health, where = self._health, self._where

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except sqlite3.Error as exc:
                health.note(exc, f"{where} ({name})")
                raise

        return call
