"""What a running backfill shows: a status line on a terminal, plain lines otherwise.

Dodo's listings have no totals, so the ETA is extrapolated from the share of
the time range (per resource) already read, which is what the cursor measures.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO


def _fmt_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class Progress:
    def __init__(self, stream: TextIO = sys.stderr, *, tty: bool | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = interval if interval is not None else (0.2 if self.tty else 10.0)
        self._last = float("-inf")
        self._clock = clock
        self._drawn = False

    def line(self, backfill: Any) -> str:
        t = backfill.tally
        elapsed = max(backfill.elapsed, 1e-9)
        done = backfill.fraction_done()
        rate = t.objects / elapsed
        eta = "?" if done <= 0 else _fmt_duration(elapsed * (1 - done) / done)
        return (f"{backfill.current or '-'}: {done * 100:5.1f}% · {t.objects:,} objects read · {t.mapped:,} mapped · "
                f"{t.calls_queued:,} calls {'counted' if backfill.plan.dry_run else 'queued'} · {rate:,.0f}/s · ETA {eta}")

    def __call__(self, backfill: Any) -> None:
        now = self._clock()
        if now - self._last < self.interval and backfill.fraction_done() < 1.0:
            return
        self._last = now
        text = self.line(backfill)
        if self.tty:
            self.stream.write("\r\x1b[2K" + text)
            self._drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def wait(self, message: str, _delay: float) -> None:
        self.finish()
        self.stream.write(f"segmap backfill: {message}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
