"""One HTTP attempt at a time against Segment's `/v1/batch`.

The client never retries by itself and never raises for HTTP or network
trouble: it classifies each attempt (`SendResult`) and lets the delivery
worker, which owns the durable state, decide what to do. One pooled
`httpx.Client` is shared by all worker threads.
"""
from __future__ import annotations

import base64
import re
import threading
import time
import zlib
from typing import Sequence

import httpx

from segmap.delivery.message import (
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    MAX_MESSAGE_BYTES,
    batch_body,
    format_sent_at,
    library_version,
    stamped_size,
)
from segmap.delivery.retry import Outcome, classify_status, parse_retry_after
from segmap.delivery.scrub import TokenMasker
from segmap.delivery.sinks import SendResult

US_HOST = "https://api.segment.io"
EU_HOST = "https://events.eu1.segmentapis.com"
REGIONS = {"us": US_HOST, "eu": EU_HOST}

# Segment's own library waits 15 s; a hung connection must not hold a lease for long.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=15.0, write=15.0, pool=5.0)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def resolve_host(region: str = "us", host: str | None = None) -> str:
    """A custom host wins; otherwise the region picks it. Hosts are given without `/v1`."""
    if host:
        host = host.rstrip("/")
        if host.endswith("/v1"):
            host = host[:-3]
        if not host.startswith(("http://", "https://")):
            raise ValueError(f"host must start with http:// or https://: {host!r}")
        return host
    try:
        return REGIONS[region.lower()]
    except KeyError:
        raise ValueError(f"unknown region {region!r}; use one of {', '.join(REGIONS)}") from None


def basic_auth_header(write_key: str) -> str:
    token = base64.b64encode(f"{write_key}:".encode("utf-8")).decode("ascii")
    return f"Basic {token}"


def short_detail(text: str, limit: int = 300) -> str:
    """Upstream bodies go into the database and logs: one line, bounded."""
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SegmentClient:
    """Sink that POSTs batches to `<host>/v1/batch` with Basic auth."""

    def __init__(
        self,
        write_key: str,
        *,
        region: str = "us",
        host: str | None = None,
        gzip: bool = True,
        gzip_level: int = 5,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_batch_bytes: int = 475_000,
        max_batch_items: int = MAX_BATCH_ITEMS,
        max_connections: int = 8,
        max_retry_after: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self.host = resolve_host(region, host)
        self.endpoint = f"{self.host}/v1/batch"
        self.gzip = gzip
        self.gzip_level = gzip_level
        self.max_batch_bytes = min(max_batch_bytes, MAX_BATCH_BYTES)
        self.max_batch_items = max(1, min(max_batch_items, MAX_BATCH_ITEMS))
        self.max_retry_after = max_retry_after
        self._auth_lock = threading.Lock()
        self._auth = ""
        self._mask = TokenMasker()
        self.set_write_key(write_key)
        self._http = httpx.Client(
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": f"segmap/{library_version()}", "Content-Type": "application/json"},
            follow_redirects=False,
            transport=transport,
        )

    def __repr__(self) -> str:  # never show the key
        return f"SegmentClient(endpoint={self.endpoint!r}, gzip={self.gzip})"

    def set_write_key(self, write_key: str) -> None:
        """Swap the key without restarting (after a 401 pause, for instance)."""
        if not isinstance(write_key, str) or not write_key.strip():
            raise ValueError("write key must be a non-empty string")
        key = write_key.strip()
        auth = basic_auth_header(key)
        token = auth[len("Basic "):]
        # what an upstream (a proxy, a debugging endpoint) might echo back in an error body
        forms = {key, token, token.rstrip("="), token.replace("/", "\\/")}
        mask = TokenMasker(forms)
        with self._auth_lock:
            self._auth = auth
            self._mask = mask

    def _scrub(self, text: str) -> str:
        """Error details go to the database, logs, `outbox status` and /readyz: never with the key in
        them. Whole tokens only, so that a short key does not mangle words around it."""
        return self._mask(text)

    def send(self, payloads: Sequence[bytes]) -> SendResult:
        if not payloads:
            return SendResult(Outcome.OK, None, None, "empty batch")
        if len(payloads) > MAX_BATCH_ITEMS:
            return SendResult(Outcome.REJECTED, None, None, f"{len(payloads)} items exceed {MAX_BATCH_ITEMS} per batch")
        if len(payloads) == 1 and stamped_size(payloads[0]) > MAX_MESSAGE_BYTES:
            return SendResult(Outcome.REJECTED, None, None, f"message over {MAX_MESSAGE_BYTES} bytes (not sent)")
        body = batch_body(payloads, format_sent_at())
        if len(body) > MAX_BATCH_BYTES:
            return SendResult(Outcome.REJECTED, None, None, f"batch of {len(body)} bytes over {MAX_BATCH_BYTES} (not sent)")
        headers = {"Authorization": self._auth}
        if self.gzip:
            comp = zlib.compressobj(self.gzip_level, zlib.DEFLATED, 31)
            body = comp.compress(body) + comp.flush()
            headers["Content-Encoding"] = "gzip"
        try:
            resp = self._http.post(self.endpoint, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return SendResult(Outcome.RETRY, None, None, f"timeout: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return SendResult(Outcome.RETRY, None, None, short_detail(self._scrub(f"{type(exc).__name__}: {exc}")))
        outcome = classify_status(resp.status_code)
        if outcome is Outcome.OK:
            return SendResult(outcome, resp.status_code)
        retry_after = parse_retry_after(resp.headers.get("Retry-After"), now=time.time(), max_seconds=self.max_retry_after)
        try:
            text = resp.text
        except Exception:  # noqa: BLE001 - undecodable body: the status is enough
            text = ""
        # scrub before shortening, so that a cut can never leave part of the key behind
        return SendResult(outcome, resp.status_code, retry_after,
                          short_detail(self._scrub(_CONTROL.sub(" ", f"HTTP {resp.status_code}: {text}"))))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SegmentClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
