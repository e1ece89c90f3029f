"""Where delivered batches go: the Segment client, or a dry-run file.

The worker only needs "send these items, tell me what happened", so both the
real client and the dry-run file share this tiny interface; tests can plug
in their own.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import IO, Protocol, Sequence, runtime_checkable

from segmap.delivery.message import MAX_BATCH_ITEMS, format_sent_at, stamp
from segmap.delivery.retry import Outcome


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    status: int | None = None  # HTTP status; None for network errors and local refusals
    retry_after: float | None = None  # seconds, already clamped
    detail: str = ""  # short, single line, never contains credentials

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@runtime_checkable
class Sink(Protocol):
    max_batch_bytes: int
    max_batch_items: int

    def send(self, payloads: Sequence[bytes]) -> SendResult:
        """One attempt for one batch of encoded items (see segmap.delivery.message)."""
        ...

    def close(self) -> None: ...


class DryRunSink:
    """Writes each item that would be sent, stamped as it would be, one JSON per line.

    Used when no write key is configured so that a mapping can be tried end to
    end without touching Segment.
    """

    def __init__(self, target: str | os.PathLike | IO[bytes], *, max_batch_bytes: int = 475_000,
                 max_batch_items: int = MAX_BATCH_ITEMS):
        self.max_batch_bytes = max_batch_bytes
        self.max_batch_items = max_batch_items
        self._lock = threading.Lock()
        self._fh: IO[bytes]
        if isinstance(target, (str, os.PathLike)):
            self._fh, self._owned = open(target, "ab"), True
        else:
            self._fh, self._owned = target, False
        self.items_written = 0

    def send(self, payloads: Sequence[bytes]) -> SendResult:
        sent_at = format_sent_at()
        data = b"".join(stamp(p, sent_at) + b"\n" for p in payloads)
        with self._lock:
            self._fh.write(data)
            self._fh.flush()
            self.items_written += len(payloads)
        return SendResult(Outcome.OK, None, None, "dry run")

    def close(self) -> None:
        with self._lock:
            if self._owned and not self._fh.closed:
                self._fh.close()
