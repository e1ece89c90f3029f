"""How to react to one HTTP attempt against Segment, and how long to wait.

Kept apart from the client so the policy can be tested without a network and
tuned (tests use millisecond timings) without touching transport code.
"""
from __future__ import annotations

import enum
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime


class Outcome(enum.Enum):
    OK = "ok"
    RETRY = "retry"  # transient: same batch later (408/429/5xx, timeouts, resets)
    REJECTED = "rejected"  # content problem: bisect to find the bad message (400/413/422)
    AUTH = "auth"  # write key refused: pause everything, dead-letter nothing (401/403/407)
    ENDPOINT = "endpoint"  # the endpoint is wrong (404, 405, 3xx, other 4xx, 501, 505): pause, dead-letter nothing
    FAILED = "failed"  # permanent and not about one message; only a sink says so (no HTTP status maps here)


_REJECTED = frozenset({400, 413, 422})
_AUTH = frozenset({401, 403, 407})
_RETRY = frozenset({408, 429})
_NOT_RETRIED_5XX = frozenset({501, 505})
PAUSING = frozenset({Outcome.AUTH, Outcome.ENDPOINT})


def classify_status(status: int) -> Outcome:
    """Only 400/413/422 are about one message (bisect, dead-letter the guilty one). Every
    other refusal that is not transient says the configuration is wrong (the key, the host,
    the path, a proxy): retrying cannot help and dead-lettering would throw the whole
    stream away, so delivery pauses until a probe gets through."""
    if 200 <= status < 300:
        return Outcome.OK
    if status in _AUTH:
        return Outcome.AUTH
    if status in _RETRY or (500 <= status < 600 and status not in _NOT_RETRIED_5XX):
        return Outcome.RETRY
    if status in _REJECTED:
        return Outcome.REJECTED
    return Outcome.ENDPOINT  # 3xx, 404, 405, 410, other 4xx, 501, 505, and anything unexpected


def parse_retry_after(value: str | None, *, now: float | None = None, max_seconds: float = 300.0) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date),
    clamped to [0, max_seconds]; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    seconds: float
    if value.isdigit():
        seconds = float(int(value))
    else:
        try:
            seconds = float(value)  # lenient: some proxies send "1.5"
            if seconds != seconds:  # NaN
                return None
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                return None
            if when is None or when.tzinfo is None:
                return None
            seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), max_seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Defaults aim at production; tests shrink every timing.

    `budget_seconds` is a time budget measured from a message's first attempt:
    retries continue (however many) until it is spent, then the message is
    dead-lettered and kept for replay. A count limit would give up within
    minutes during an outage, which is exactly when we must not.
    """

    base_delay: float = 0.5
    max_delay: float = 60.0
    max_retry_after: float = 300.0
    budget_seconds: float = 24 * 3600.0
    auth_probe_interval: float = 300.0  # the longest wait between two probes while paused
    probe_first: float = 5.0  # the first probe after a pause; each failed probe doubles the wait
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, failures: int) -> float:
        """Full jitter: uniform in [0, min(cap, base*2^(n-1))] spreads retries of many
        workers instead of synchronising them."""
        if failures <= 0:
            return 0.0
        ceiling = min(self.max_delay, self.base_delay * (2 ** min(failures - 1, 62)))
        return self.rng.uniform(0.0, ceiling)

    def probe_delay(self, failed_probes: int) -> float:
        """Wait before the next probe of a paused delivery: `probe_first`, doubled after each
        failed probe, capped at `auth_probe_interval`. A key or route fixed soon after the pause
        is found within seconds; a long outage costs one request every few minutes."""
        first = min(self.probe_first, self.auth_probe_interval)
        return min(self.auth_probe_interval, first * (2 ** min(max(failed_probes, 0), 62)))

    def delay(self, failures: int, retry_after: float | None) -> float:
        """The server's Retry-After wins when given (it knows its own recovery time)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return self.backoff(failures)
