"""A scriptable stand-in for Segment's `/v1/batch`, served over real HTTP on 127.0.0.1.

Use it in-process::

    with FakeSegment(write_keys={"k"}) as seg:
        seg.script(Status(503, times=3), Status(429, retry_after=1), Reset(), Hang(2.0))
        ... point a SegmentClient at seg.url ...
        seg.wait_for_ids(expected, timeout=10)
        assert seg.received_ids == expected

or as a process (benchmarks): ``python -m tests.fakes.fake_segment --write-key k``
prints ``LISTENING <url>`` and serves until stdin closes; ``GET /_stats`` returns counts.

It checks what real Segment would check (limits, JSON, auth) and records
every violation, so a test can assert the client never produced one. Only
items of requests answered 2xx count as received.
"""
from __future__ import annotations

import base64
import gzip
import socket
import struct
import sys
import threading
import time
import zlib
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable

import orjson

CALL_TYPES = {"track", "identify", "group", "page", "screen", "alias"}
MAX_MESSAGE = 32 * 1024
MAX_BODY = 500_000
MAX_ITEMS = 2_500


# --- scripted behaviours, consumed one per request in order ---

@dataclass
class Status:
    """Answer with `code` (and an optional Retry-After) instead of processing."""
    code: int
    retry_after: str | float | None = None
    times: int = 1
    body: bytes = b'{"code":"server_error","message":"scripted failure"}'


@dataclass
class Reset:
    """Drop the TCP connection with an RST after reading the request."""
    times: int = 1


@dataclass
class Hang:
    """Hold the request for `seconds` without answering, then drop it."""
    seconds: float = 5.0
    times: int = 1


@dataclass
class Slow:
    """Wait `seconds`, then process the request normally."""
    seconds: float = 1.0
    times: int = 1


@dataclass
class Ok:
    """Process normally (useful to interleave)."""
    times: int = 1


@dataclass
class RecordedRequest:
    at: float  # time.monotonic()
    path: str
    action: str  # "ok", "status:503", "reset", "hang", "401", "400:bad-message", ...
    status: int | None
    message_ids: list[str]
    sent_at: str | None
    body_bytes: int  # decompressed size
    gzip: bool
    headers: dict[str, str] = field(repr=False)
    answered: float = 0.0  # time.monotonic() when the answer (or drop) was decided


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # resets and hangs are on purpose
        pass


class FakeSegment:
    def __init__(self, *, write_keys: Iterable[str] = ("test-write-key",), host: str = "127.0.0.1", port: int = 0,
                 record_messages: bool = True):
        self._lock = threading.Condition()
        self.write_keys = set(write_keys)
        self.poison_ids: set[str] = set()  # a batch holding one of these gets a 400
        self.on_request: Callable[[dict], object | None] | None = None  # may return an action
        self.record_messages = record_messages
        self._script: deque = deque()
        self.requests: list[RecordedRequest] = []
        self.received: Counter[str] = Counter()  # messageId -> times accepted (2xx)
        self.messages: dict[str, dict] = {}  # messageId -> last accepted item
        self.attempted: Counter[str] = Counter()  # messageId -> times seen in any request
        self.violations: list[str] = []
        self.arrivals = 0  # POSTs that reached the handler, counted before any scripted delay
        self._stop = threading.Event()
        self._httpd = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeSegment":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-segment", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(5)

    def __enter__(self) -> "FakeSegment":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- scripting ---

    def script(self, *actions) -> None:
        with self._lock:
            self._script.extend(actions)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    def set_write_keys(self, *keys: str) -> None:
        with self._lock:
            self.write_keys = set(keys)

    def _next_action(self):
        with self._lock:
            if not self._script:
                return None
            head = self._script[0]
            head.times -= 1
            if head.times <= 0:
                self._script.popleft()
            return head

    # --- observations ---

    @property
    def received_ids(self) -> set[str]:
        with self._lock:
            return set(self.received)

    def duplicates(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in self.received.items() if v > 1}

    def wait_for(self, predicate: Callable[["FakeSegment"], bool], timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: predicate(self), timeout=timeout)

    def wait_for_ids(self, ids: Iterable[str], timeout: float = 10.0) -> bool:
        want = set(ids)
        return self.wait_for(lambda s: want <= s.received.keys(), timeout)

    def wait_requests(self, n: int, timeout: float = 10.0) -> bool:
        return self.wait_for(lambda s: len(s.requests) >= n, timeout)

    def reset(self) -> None:
        """Forget everything received (between benchmark phases)."""
        with self._lock:
            self.requests.clear()
            self.received.clear()
            self.messages.clear()
            self.attempted.clear()
            self.violations.clear()
            self.arrivals = 0

    def stats(self) -> dict:
        with self._lock:
            return {"requests": len(self.requests), "received": sum(self.received.values()),
                    "unique": len(self.received), "violations": len(self.violations)}

    # --- request handling ---

    def _record(self, rec: RecordedRequest, accepted: list[dict] | None) -> None:
        with self._lock:
            self.requests.append(rec)
            for mid in rec.message_ids:
                self.attempted[mid] += 1
            if accepted is not None:
                for item in accepted:
                    mid = item.get("messageId")
                    if isinstance(mid, str):
                        self.received[mid] += 1
                        if self.record_messages:
                            self.messages[mid] = item
            self._lock.notify_all()

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def _check_auth(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        if not decoded.endswith(":"):
            self._violation("Basic auth without the trailing colon")
            return False
        with self._lock:
            return decoded[:-1] in self.write_keys

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def finish(self):
                try:
                    super().finish()
                except OSError:
                    pass

            def _reply(self, code: int, body: bytes = b'{"success":true}', headers: dict | None = None):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path == "/_stats":
                    self._reply(200, orjson.dumps(fake.stats()))
                elif self.path == "/_ids":  # every messageId accepted, for ledgers compared as sets
                    self._reply(200, orjson.dumps(sorted(fake.received_ids)))
                else:
                    self._reply(404, b'{"message":"not found"}')

            def do_POST(self):
                if self.path == "/_reset":
                    fake.reset()
                    self._reply(200)
                    return
                started = time.monotonic()
                with fake._lock:
                    fake.arrivals += 1
                    fake._lock.notify_all()
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                is_gzip = headers.get("content-encoding", "").lower() == "gzip"
                try:
                    data = gzip.decompress(raw) if is_gzip else raw
                except (OSError, EOFError, zlib.error):
                    data = None
                parsed, items, ids, sent_at = None, [], [], None
                if data is not None:
                    try:
                        parsed = orjson.loads(data)
                    except orjson.JSONDecodeError:
                        parsed = None
                if isinstance(parsed, dict) and isinstance(parsed.get("batch"), list):
                    items = [i for i in parsed["batch"] if isinstance(i, dict)]
                    ids = [i.get("messageId") for i in items if isinstance(i.get("messageId"), str)]
                    sent_at = parsed.get("sentAt")

                def record(action: str, status: int | None, accepted: list[dict] | None = None):
                    fake._record(RecordedRequest(started, self.path, action, status, ids, sent_at,
                                                 len(data or b""), is_gzip, headers, time.monotonic()), accepted)

                action = fake._next_action()
                if action is None and fake.on_request is not None:
                    action = fake.on_request({"ids": ids, "items": items, "headers": headers})
                if isinstance(action, Reset):
                    record("reset", None)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(action, Hang):
                    record("hang", None)
                    fake._stop.wait(action.seconds)
                    self.close_connection = True
                    self.connection.close()
                    return
                if isinstance(action, Slow):
                    fake._stop.wait(action.seconds)
                if isinstance(action, Status):
                    extra = {} if action.retry_after is None else {"Retry-After": str(action.retry_after)}
                    record(f"status:{action.code}", action.code)
                    self._reply(action.code, action.body, extra)
                    return

                if self.path != "/v1/batch":
                    record("404", 404)
                    self._reply(404, b'{"message":"not found"}')
                    return
                if not fake._check_auth(headers.get("authorization")):
                    record("401", 401)
                    self._reply(401, b'{"code":"unauthorized","message":"invalid write key"}')
                    return
                if headers.get("content-type", "").split(";")[0].strip() != "application/json":
                    fake._violation("Content-Type is not application/json")
                if data is None or parsed is None or not isinstance(parsed, dict) or "batch" not in parsed:
                    fake._violation("request body is not a JSON batch")
                    record("400:invalid-json", 400)
                    self._reply(400, b'{"code":"invalid_request","message":"Invalid JSON"}')
                    return
                if len(data) > MAX_BODY:
                    fake._violation(f"batch body of {len(data)} bytes")
                    record("400:too-large", 400)
                    self._reply(400, b'{"code":"invalid_request","message":"Exceeded payload limit"}')
                    return
                for item in items:
                    size = len(orjson.dumps(item))
                    if size > MAX_MESSAGE:
                        fake._violation(f"message {item.get('messageId')} of {size} bytes")
                        record("400:message-too-large", 400)
                        self._reply(400, b'{"code":"invalid_request","message":"Exceeded payload limit"}')
                        return
                    mid = item.get("messageId")
                    if not isinstance(mid, str) or not mid or len(mid) > 100:
                        fake._violation(f"bad messageId {mid!r}")
                    if item.get("type") not in CALL_TYPES:
                        fake._violation(f"item {mid} without a valid type")
                    if not isinstance(item.get("sentAt"), str):
                        fake._violation(f"item {mid} without sentAt")
                with fake._lock:
                    poisoned = bool(fake.poison_ids.intersection(ids))
                if poisoned:
                    record("400:bad-message", 400)
                    self._reply(400, b'{"code":"invalid_request","message":"scripted bad message"}')
                    return
                if len(items) > MAX_ITEMS:  # Segment says 200 and drops them
                    fake._violation(f"batch of {len(items)} items")
                    record("200:dropped-too-many", 200)
                    self._reply(200)
                    return
                record("ok", 200, items)
                self._reply(200)

        return Handler


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="Serve a fake Segment /v1/batch on 127.0.0.1 until stdin closes.")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--write-key", action="append", default=[])
    p.add_argument("--no-record-messages", action="store_true")
    args = p.parse_args(argv)
    fake = FakeSegment(write_keys=args.write_key or ["test-write-key"], port=args.port,
                       record_messages=not args.no_record_messages)
    fake.start()
    print(f"LISTENING {fake.url}", flush=True)
    try:
        sys.stdin.read()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
