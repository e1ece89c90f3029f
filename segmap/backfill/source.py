"""Reading Dodo's history through the official SDK: windows, pages from 0, polite retries.

Three facts about Dodo's list API shape this module (see docs/backfill.md):
pages count from 0 and the answer is `{"items": [...]}` with no total or
"has more" flag, so we page by hand until an empty (or short) page instead of
using the SDK's auto-pagination, which asks for page 2 after page 0; deep
pages are capped, so a history is read in `created_at` windows, and a window
that still reaches `max_pages` is split in half; the SDK retries 408/409/429/5xx
twice by itself, and past that we back off (honouring Retry-After) before
giving up with the cursor saved.

We take each answer's JSON as Dodo sent it (the SDK's raw-response API) rather
than the SDK's parsed models: the envelope must carry exactly the values a
webhook would have carried, and the SDK does not validate shapes anyway.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

from segmap.backfill.resources import Resource
from segmap.errors import SegmapError

MAX_PAGE_SIZE = 100


class SourceError(SegmapError):
    """Dodo's API kept failing (or refused us): the backfill stops with its cursor saved."""


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive
    end: datetime  # exclusive

    def halves(self) -> tuple["Window", "Window"]:
        mid = self.start + (self.end - self.start) / 2
        return Window(self.start, mid), Window(mid, self.end)

    @property
    def splittable(self) -> bool:
        return self.end - self.start > timedelta(seconds=2)


class RateLimiter:
    """At most `rate` requests per second across threads (0: unlimited)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            self._next = at + self.interval
        if at > now:
            self._sleep(at - now)


class DodoSource:
    """Pages and objects from Dodo's API, as JSON dicts."""

    def __init__(self, client: Any, *, page_size: int = MAX_PAGE_SIZE, max_rps: float = 20.0, max_attempts: int = 8,
                 backoff_base: float = 1.0, backoff_cap: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 on_wait: Callable[[str, float], None] | None = None):
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size must be 1..{MAX_PAGE_SIZE}")
        self.client = client
        self.page_size = page_size
        self.limiter = RateLimiter(max_rps, sleep=sleep)
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self._sleep = sleep
        self._on_wait = on_wait
        self.requests = 0
        self.waited = 0.0  # seconds slept on rate limits and failures
        self.api_seconds = 0.0  # seconds spent in requests (summed over threads)

    # --- one request, with our own patience on top of the SDK's two retries ---

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        import dodopayments

        retryable = (dodopayments.RateLimitError, dodopayments.InternalServerError,
                     dodopayments.APIConnectionError, dodopayments.APITimeoutError)
        for attempt in range(1, self.max_attempts + 1):
            self.limiter.wait()
            self.requests += 1
            started = time.perf_counter()
            try:
                raw = fn()
                return raw.http_response.json()
            except dodopayments.AuthenticationError as exc:
                raise SourceError(f"Dodo refused the API key ({exc.status_code}): set DODO_PAYMENTS_API_KEY to a key "
                                  "of this mode (--mode test|live)") from None
            except dodopayments.APIStatusError as exc:
                if not isinstance(exc, retryable):
                    raise SourceError(f"{what}: Dodo answered {exc.status_code}: {_short(exc.response.text)}") from None
                delay = self._delay(attempt, exc.response.headers)
                err = f"{exc.status_code}"
            except retryable as exc:
                delay = self._delay(attempt, None)
                err = type(exc).__name__
            finally:
                self.api_seconds += time.perf_counter() - started
            if attempt == self.max_attempts:
                raise SourceError(f"{what}: still failing after {attempt} attempts ({err}); run the same command "
                                  "again to resume") from None
            if self._on_wait:
                self._on_wait(f"{what}: {err}, retrying in {delay:.3g}s", delay)
            self.waited += delay
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, headers: Any) -> float:
        if headers is not None:
            for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
                value = headers.get(name)
                if value:
                    try:
                        return min(self.backoff_cap, max(0.0, float(value) * scale))
                    except ValueError:
                        pass
        return random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))

    # --- listing ---

    def page(self, resource: Resource, window: Window, number: int) -> list[dict[str, Any]]:
        endpoint = getattr(self.client, resource.name).with_raw_response
        params = dict(page_number=number, page_size=self.page_size, created_at_gte=iso(window.start),
                      created_at_lte=iso(window.end - timedelta(microseconds=1)))
        body = self._call(f"listing {resource.name} page {number}", lambda: endpoint.list(**params))
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise SourceError(f"listing {resource.name}: the answer has no `items` list")
        return [i for i in items if isinstance(i, dict)]

    def retrieve(self, resource: Resource, object_id: str) -> dict[str, Any]:
        endpoint = getattr(self.client, resource.name).with_raw_response
        body = self._call(f"retrieving {resource.name} {object_id}", lambda: endpoint.retrieve(object_id))
        if not isinstance(body, dict):
            raise SourceError(f"retrieving {resource.name} {object_id}: the answer is not an object")
        return body


def windows(since: datetime, until: datetime, size: timedelta) -> Iterator[Window]:
    start = since
    while start < until:
        end = min(until, start + size)
        yield Window(start, end)
        start = end


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
