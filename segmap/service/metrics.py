"""A small Prometheus text exposition (format 0.0.4), no dependency.

Counters and histograms are updated on the request path, so they are plain
attribute updates under one lock per metric; gauges that describe the outbox
are computed when /metrics is scraped (see `ServiceMetrics.collect`).
"""
from __future__ import annotations

import math
import threading
from bisect import bisect_left
from typing import Callable, Iterable, Sequence, TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# from 0.5 ms to 60 s: covers a group commit on a fast disk up to a Segment outage
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
DELIVERY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 21600.0, 86400.0)
SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(str(v))}"' for n, v in zip(names, values)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _num(v: float) -> str:
    if isinstance(v, int):
        return str(v)
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def render(self) -> list[str]:
        """The metric's lines in the exposition format; each kind writes its own."""
        raise NotImplementedError


_M = TypeVar("_M", bound=_Metric)


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (), initial: Iterable[Sequence[str]] = ()):
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {tuple(v): 0 for v in initial}
        if not self.label_names:
            self._values[()] = 0

    def inc(self, amount: float = 1, *labels: str) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0) + amount

    def value(self, *labels: str) -> float:
        with self._lock:
            return self._values.get(labels, 0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [f"{self.name}{_labels(self.label_names, k)} {_num(v)}" for k, v in items]


class Gauge(_Metric):
    """Set at scrape time (or by the owner)."""
    kind = "gauge"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {}

    def set(self, value: float, *labels: str) -> None:
        with self._lock:
            self._values[labels] = value

    def value(self, *labels: str) -> float | None:
        with self._lock:
            return self._values.get(labels)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [f"{self.name}{_labels(self.label_names, k)} {_num(v)}" for k, v in items]


class CounterView(_Metric):
    """A counter whose value lives elsewhere (the delivery worker's own stats)."""
    kind = "counter"

    def __init__(self, name: str, help_text: str, read: Callable[[], float]):
        super().__init__(name, help_text)
        self._read = read

    def render(self) -> list[str]:
        return self.header() + [f"{self.name} {_num(self._read())}"]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float] = LATENCY_BUCKETS):
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._counts = [0] * (len(self.buckets) + 1)
        self._sum = 0.0
        self._count = 0

    def observe(self, value: float) -> None:
        i = bisect_left(self.buckets, value)  # first bucket with value <= bound ("le")
        with self._lock:
            self._counts[i] += 1
            self._sum += value
            self._count += 1

    def observe_many(self, values: Iterable[float]) -> None:
        for v in values:
            self.observe(v)

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def render(self) -> list[str]:
        with self._lock:
            counts, total, n = list(self._counts), self._sum, self._count
        lines = self.header()
        running = 0
        for bound, c in zip(self.buckets, counts):
            running += c
            lines.append(f'{self.name}_bucket{{le="{_num(bound)}"}} {running}')
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {n}')
        lines.append(f"{self.name}_sum {_num(total)}")
        lines.append(f"{self.name}_count {n}")
        return lines


class Registry:
    def __init__(self) -> None:
        self._metrics: list[_Metric] = []

    def add(self, metric: _M) -> _M:
        self._metrics.append(metric)
        return metric

    def render(self) -> bytes:
        lines: list[str] = []
        for m in self._metrics:
            lines.extend(m.render())
        return ("\n".join(lines) + "\n").encode("utf-8")


REJECT_REASONS = (
    "bad_request", "body_too_large", "body_timeout", "missing_headers", "malformed_headers", "timestamp_too_old",
    "timestamp_too_new", "bad_signature", "malformed_json", "not_an_envelope", "store_unavailable",
    "overloaded", "shutting_down", "internal_error",
)


HTTP_REJECT_REASONS = ("malformed_http", "headers_too_large", "head_timeout", "too_many_connections", "not_found",
                       "method_not_allowed")


class ServiceMetrics:
    """Every metric the service exposes, by name (see docs/serve.md for the list)."""

    def __init__(self) -> None:
        r = self.registry = Registry()
        self.received = r.add(Counter("segmap_webhooks_received_total", "POST /webhook requests received."))
        self.rejected = r.add(Counter("segmap_webhooks_rejected_total",
                                      "Webhook requests answered 4xx/5xx, by reason; nothing was stored for them.",
                                      ("reason",), [(x,) for x in REJECT_REASONS]))
        self.mapped = r.add(Counter("segmap_webhooks_mapped_total",
                                    "New webhooks whose event type has a mapping rule, committed with their calls."))
        self.unmapped = r.add(Counter("segmap_webhooks_unmapped_total",
                                      "New webhooks whose event type has no mapping rule (stored in the inbox, no call)."))
        self.quarantined = r.add(Counter("segmap_webhooks_quarantined_total",
                                         "New webhooks the mapping failed on, kept in quarantine for replay."))
        self.duplicates = r.add(Counter("segmap_webhooks_duplicate_total",
                                        "Webhooks whose id was already stored; nothing was added."))
        self.calls_queued = r.add(Counter("segmap_calls_queued_total", "Segment calls committed to the outbox."))
        self.calls_refused = r.add(Counter("segmap_calls_refused_total",
                                           "Calls dead-lettered when accepted (Segment would refuse them: NaN, oversize, no id)."))
        self.request_seconds = r.add(Histogram("segmap_webhook_request_duration_seconds",
                                               "Time from the start of a POST /webhook to its answer."))
        self.commit_seconds = r.add(Histogram("segmap_group_commit_duration_seconds",
                                              "Duration of one outbox transaction (group commit, fsync included)."))
        self.commit_size = r.add(Histogram("segmap_group_commit_webhooks", "Webhooks per outbox transaction.",
                                           SIZE_BUCKETS))
        self.delivery_latency = r.add(Histogram("segmap_delivery_latency_seconds",
                                                "Time from a call's acceptance to Segment's 2xx for it.",
                                                DELIVERY_BUCKETS))
        self.segment_request_seconds = r.add(Histogram("segmap_segment_request_duration_seconds",
                                                       "Duration of one batch request to Segment (or the dry-run file)."))
        self.reloads = r.add(Counter("segmap_mapping_reloads_total", "Mapping reloads (SIGHUP), by result.",
                                     ("result",), [("ok",), ("failed",)]))
        self.dry_run_written = r.add(Counter("segmap_dry_run_calls_written_total",
                                             "Calls written to the dry-run file (dry-run mode only)."))
        self.outbox = r.add(Gauge("segmap_outbox_calls", "Calls in the outbox by state (scrape time).", ("state",)))
        self.outbox_depth = r.add(Gauge("segmap_outbox_depth", "Calls not yet delivered: pending + in flight."))
        self.oldest_pending = r.add(Gauge("segmap_outbox_oldest_undelivered_age_seconds",
                                          "Age of the oldest undelivered call (0 when none)."))
        self.quarantine_open = r.add(Gauge("segmap_quarantine_open", "Quarantined envelopes not yet resolved."))
        self.held = r.add(Gauge("segmap_outbox_held", "Calls held back from Segment until `segmap outbox release` "
                                "(hold: dry_run, test).", ("hold",)))
        self.http_rejected = r.add(Counter("segmap_http_rejected_total",
                                           "Requests refused before reaching an endpoint, by reason: malformed HTTP, "
                                           "headers over the limit, a head that never completed, unknown paths.",
                                           ("reason",), [(x,) for x in HTTP_REJECT_REASONS]))
        self.paused = r.add(Gauge("segmap_delivery_paused",
                                  "1 while delivery is paused (a refused write key or a wrong endpoint)."))
        self.paused_by = r.add(Gauge("segmap_delivery_paused_by",
                                     "1 for the kind of the current pause: auth (the write key) or endpoint "
                                     "(host, path, proxy).", ("kind",)))
        self.paused_since = r.add(Gauge("segmap_delivery_paused_since_timestamp_seconds",
                                        "When the current delivery pause began (Unix time; 0 when not paused)."))
        self.last_error_at = r.add(Gauge("segmap_delivery_last_error_timestamp_seconds",
                                         "When the last delivery attempt failed (Unix time; 0 when none recorded)."))
        self.failing_since = r.add(Gauge("segmap_delivery_failing_since_timestamp_seconds",
                                         "Start of the current run of failed delivery attempts (Unix time; 0 when "
                                         "the last attempt succeeded)."))
        self.consecutive_failures = r.add(Gauge("segmap_delivery_consecutive_failures",
                                                "Retryable delivery failures in a row (this process)."))
        self.store_fault = r.add(Gauge("segmap_store_fault",
                                       "1 while the outbox has a storage fault (failed integrity check, I/O error)."))
        self.dry_run = r.add(Gauge("segmap_dry_run", "1 when no write key is configured (nothing is sent to Segment)."))
        self.dev_secret = r.add(Gauge("segmap_dev_secret",
                                      "1 when running on a generated development secret (real Dodo webhooks fail)."))
        self.mapping_loaded = r.add(Gauge("segmap_mapping_loaded_timestamp_seconds",
                                          "When the mapping now serving was compiled (Unix time)."))
        self.ready = r.add(Gauge("segmap_ready", "1 when /readyz answers 200."))

    def add_delivery_counters(self, stats: Callable[[], object]) -> None:
        """Delivery worker counters, read from `Delivery.stats()` at scrape time."""
        r = self.registry
        for attr, name, text in (
            ("delivered", "segmap_calls_delivered_total", "Calls Segment acknowledged (2xx)."),
            ("dead", "segmap_calls_dead_total", "Calls dead-lettered by the delivery worker."),
            ("retried", "segmap_calls_retried_total", "Calls put back after a retryable failure."),
            ("requests", "segmap_segment_requests_total", "Batch requests sent to Segment."),
            ("auth_failures", "segmap_segment_auth_failures_total", "Segment answers 401/403/407."),
            ("pauses", "segmap_delivery_pause_answers_total",
             "Answers that paused delivery or kept it paused (401/403/407, 404, 405, 3xx ...)."),
            ("probes", "segmap_delivery_probes_total", "One-message probes sent while delivery was paused."),
        ):
            r.add(CounterView(name, text, _stat_reader(stats, attr)))

    def render(self) -> bytes:
        return self.registry.render()


def _stat_reader(stats: Callable[[], object], attr: str) -> Callable[[], float]:
    """Reads one attribute of a fresh `stats()` snapshot each time it is called."""
    def read() -> float:
        value: float = getattr(stats(), attr)
        return value
    return read
