"""``StoreFence``: the side jobs that use the store from worker threads, and closing it under them.

The prune, the readiness probe and the metrics scrape each run in a thread of their own
(``asyncio.to_thread``), and cancelling the task that started one does not stop the thread. If
shutdown closed the store while one of them was inside a SQLite transaction, the process could
crash (a segfault was seen once). The fence counts the threads inside; ``close`` refuses new
ones at once and waits (within the shutdown budget) for those inside to leave. Users do not
exclude one another: a long prune does not hold up a readiness probe.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator


class StoreFence:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._inside = 0
        self._closing = False

    @contextlib.contextmanager
    def use(self) -> Iterator[bool]:
        """Yields True while the store may be used, False once it is closing (do not touch it)."""
        with self._cond:
            if self._closing:
                allowed = False
            else:
                self._inside += 1
                allowed = True
        try:
            yield allowed
        finally:
            if allowed:
                with self._cond:
                    self._inside -= 1
                    if self._inside == 0:
                        self._cond.notify_all()

    def close(self, timeout: float) -> bool:
        """Refuse new users and wait for those inside; False if some are still inside after ``timeout``."""
        with self._cond:
            self._closing = True
            return self._cond.wait_for(lambda: self._inside == 0, timeout)
