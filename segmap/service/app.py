"""The ASGI application: the public webhook port and the private admin port.

The **public** listener (it faces the internet: Dodo must reach it) answers
`POST /webhook` and a bare `GET /healthz` only; anything else is a JSON 404/405.
The **admin** listener (127.0.0.1 by default) serves `/metrics`, the detailed
`/readyz` and `/healthz`. One uvicorn server holds both sockets; a request is
routed by the local port it arrived on.

The webhook endpoint is a plain ASGI callable: it checks the webhook-* headers
(presence, format, timestamp window) *before* reading a body byte, streams the
body itself (to cap it before it is buffered) and answers without building
Request/Response objects, which matters at thousands of webhooks per second on
two cores.

Answers to `POST /webhook`:

| status | when |
|---|---|
| 200 `{"status": "accepted"}` | new webhook; its calls (maybe none) are committed |
| 200 `{"status": "duplicate"}` | the webhook id was already stored; nothing added |
| 200 `{"status": "quarantined"}` | the mapping failed on it; kept with the error for `segmap outbox replay --mapping` |
| 400 | not JSON, or JSON but not an envelope object with a string `type`, or a bad Content-Length |
| 401 | (before the body is read) missing or malformed webhook-* headers, a stale timestamp, no v1 signature |
| 401 | not signed, badly signed, malformed webhook-* headers, timestamp outside 5 minutes |
| 408 | the body did not arrive within the body timeout |
| 413 | body over the limit (checked on Content-Length, then while streaming) |
| 503 + Retry-After | the store failed or is too slow, too many webhooks wait, or shutting down |

An envelope is only ever stored after its signature verified, and a 2xx
only ever goes out after the transaction holding it committed.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from typing import Any, Sequence

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from segmap.runtime.values import MappingRuntimeError
from segmap.service.ingest import Overloaded, StoreUnavailable
from segmap.service.lifecycle import TEST_TRAFFIC_HEADER, Service
from segmap.service.metrics import CONTENT_TYPE
from segmap.service.verification import VerificationFailed

log = logging.getLogger("segmap.service.http")

MAX_EVENT_TYPE = 200
# The request line plus headers of one request (the documented limit). uvicorn's protocols bound a
# head that is still arriving (see server.py); this bounds a complete one, whatever the protocol.
MAX_HEAD_BYTES = 64 * 1024
# Set in the scope by segmap's own HTTP protocol (server.py), which counts the head exactly as it
# arrives and refuses it past MAX_HEAD_BYTES: the app then need not count it again.
HEAD_BYTES_KEY = "segmap.head_bytes"


class _Reject(Exception):
    def __init__(self, status: int, reason: str, message: str, headers: list[tuple[bytes, bytes]] | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.headers = headers or []


class _Disconnected(Exception):
    pass


class _Expiry:
    """A timer callback: cancel `task` and remember that the deadline did it."""

    __slots__ = ("task", "expired")

    def __init__(self, task: asyncio.Task):
        self.task = task
        self.expired = False

    def __call__(self) -> None:
        self.expired = True
        self.task.cancel()


# orjson reads an integer outside the 64-bit range as a float, silently losing digits
# (123456789012345678901234567890 becomes 1.2345678901234568e+29). Such a literal has at least
# 19 digits, and a JSON number inside a document follows `:`, `,` or `[` (then optional whitespace
# and a sign). `_may_hold_inexact_integer` looks for exactly that with bytes methods that run at C
# speed (a regex over the whole body cost 40 us per webhook); only a body where it finds one pays
# for the full token scan. Long digit runs inside strings (ids, network references) are common: one
# that happens to follow a `:` or `,` inside a string only costs the full scan, never a wrong answer.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_RUN = b"0" * 19
_ZEROS = re.compile(rb"0+")
# in a body orjson accepted, every number outside a string is matched whole by the second branch
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?')
_INT_MIN, _UINT_MAX = -(2 ** 63), 2 ** 64 - 1


def _may_hold_inexact_integer(body: bytes) -> bool:
    """True when a run of 19 or more digits stands where a JSON number can start: after `:`, `,`
    or `[`, then optional whitespace and a `-`. False means no integer in the body is out of range."""
    digits = body.translate(_DIGITS_AS_ZERO)  # every digit becomes "0": a run is found with find()
    at = digits.find(_RUN)
    while at >= 0:  # `at` is the start of a run: the previous search stopped at the end of the last one
        before = at - 1
        if before >= 0 and digits[before] == 45:  # "-"
            before -= 1
        while before >= 0 and digits[before] in b" \t\n\r":
            before -= 1
        if before >= 0 and digits[before] in b":,[":
            return True
        end = _ZEROS.match(digits, at)
        at = digits.find(_RUN, end.end() if end is not None else at + 19)
    return False


def _refuse_inexact_integers(body: bytes) -> None:
    for m in _TOKENS.finditer(body):
        tok = m.group()
        if len(tok) >= 19 and tok[0] != 34 and not any(c in tok for c in b".eE"):  # 34: '"'
            if not _INT_MIN <= int(tok) <= _UINT_MAX:
                raise _Reject(400, "malformed_json",
                              f"the body is not valid JSON for segmap: the integer at byte {m.start()} is out of "
                              "the 64-bit range and could only be read inexactly")


_CLOSE = [(b"connection", b"close")]


async def _send_json(send, status: int, payload: dict, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = orjson.dumps(payload)
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": body})


class WebhookEndpoint:
    """`POST /webhook` as a raw ASGI app."""

    def __init__(self, service: Service):
        self.service = service
        # Bytes of bodies being received right now. Every body is unverified until its last byte
        # (the HMAC covers it all), so these budgets bound what unauthenticated clients can make the
        # service hold: in total, and for large bodies apart, so that a flood of big bodies cannot
        # take the room that ordinary (small) webhooks need.
        self._buffered = 0
        self._buffered_large = 0

    async def __call__(self, scope, receive, send) -> None:
        m = self.service.metrics
        started = time.perf_counter()
        m.received.inc()
        headers: list[tuple[bytes, bytes]] = []
        try:
            status, payload = await self._handle(scope, receive)
        except _Reject as rej:
            m.rejected.inc(1, rej.reason)
            if log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info("webhook rejected", extra={"status": rej.status, "reason": rej.reason, "detail": rej.message,
                                                    "client": client[0] if client else None})
            status, payload, headers = rej.status, {"error": rej.message, "reason": rej.reason}, rej.headers
        except _Disconnected:
            return
        except asyncio.CancelledError:
            if not self.service.stopping:
                raise
            # uvicorn cancels the requests still running when the graceful-shutdown period is over
            # (a body still trickling in, a commit still waiting). Nothing was committed for them, or a
            # commit lands later and Dodo's retry becomes a duplicate: the truthful answer is 503, not
            # the 500 + traceback uvicorn would send for a cancelled app.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # handled: the answer below is this request's last act
            m.rejected.inc(1, "shutting_down")
            status, payload = 503, {"error": "shutting down; retry later", "reason": "shutting_down"}
            headers = [(b"retry-after", b"5"), *_CLOSE]
        except Exception:  # noqa: BLE001 - a bug: answer 500 (Dodo retries); never hang or drop silently
            m.rejected.inc(1, "internal_error")
            log.exception("webhook handling failed")
            status, payload = 500, {"error": "internal error; retry later", "reason": "internal_error"}
        await _send_json(send, status, payload, headers)
        m.request_seconds.observe(time.perf_counter() - started)


    def _scan_headers(self, headers) -> tuple[int | None, bool]:
        """The declared Content-Length (None: chunked) and whether `segmap send` marked the request
        as test traffic, in one pass over the headers."""
        declared = None
        test_traffic = False
        for name, value in headers:
            if name == b"content-length":
                if not value.isdigit() or len(value) > 18 or declared is not None:
                    raise _Reject(400, "bad_request", "invalid Content-Length", _CLOSE)
                declared = int(value)
                limit = self.service.config.max_body_bytes
                if declared > limit:
                    raise _Reject(413, "body_too_large", f"body over {limit} bytes", _CLOSE)
            elif name == TEST_TRAFFIC_HEADER:
                test_traffic = True
        return declared, test_traffic

    async def _read_body(self, receive, declared: int | None) -> bytes:
        cfg = self.service.config
        limit = cfg.max_body_bytes
        large = declared is None or declared > cfg.small_body_bytes  # chunked bodies count as large
        large_budget = max(0, cfg.body_budget_bytes - cfg.small_body_reserve_bytes)
        chunks: list[bytes] = []
        size = 0  # bytes received
        held = 0  # bytes of them counted in the budgets (a refused chunk is not)
        # One timer handle instead of `asyncio.timeout` (a third of the cost, paid by every request;
        # the 408 and the cancellation semantics are the same)
        task = asyncio.current_task()
        assert task is not None  # an ASGI app runs in a task
        expiry = _Expiry(task)
        timer = asyncio.get_running_loop().call_later(cfg.body_timeout, expiry)
        try:
            while True:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    raise _Disconnected()
                chunk = msg.get("body", b"")
                if chunk:
                    size += len(chunk)
                    if size > limit:
                        raise _Reject(413, "body_too_large", f"body over {limit} bytes", _CLOSE)
                    if self._buffered + len(chunk) > cfg.body_budget_bytes or \
                            (large and self._buffered_large + len(chunk) > large_budget):
                        raise _Reject(503, "overloaded", "too many large bodies in flight; retry later",
                                      [(b"retry-after", b"1"), *_CLOSE])
                    self._buffered += len(chunk)
                    if large:
                        self._buffered_large += len(chunk)
                    held += len(chunk)
                    chunks.append(chunk)
                if not msg.get("more_body", False):
                    break
        except asyncio.CancelledError:
            # ours (the deadline passed, nobody else cancelled): a 408; anyone else's goes on up
            if expiry.expired and task.uncancel() == 0:
                raise _Reject(408, "body_timeout", f"body not received within {cfg.body_timeout:g}s", _CLOSE) from None
            raise
        finally:
            timer.cancel()
            self._buffered -= held
            if large:
                self._buffered_large -= held
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _handle(self, scope, receive) -> tuple[int, dict]:
        svc = self.service
        m = svc.metrics
        if svc.stopping:
            raise _Reject(503, "shutting_down", "shutting down; retry later", [(b"retry-after", b"5"), *_CLOSE])
        headers = scope["headers"]
        declared, test_traffic = self._scan_headers(headers)
        try:
            # before a single body byte is read: a request that can never verify costs nothing more
            checked = svc.verifier.check_headers(headers)
        except VerificationFailed as exc:
            raise _Reject(401, exc.reason, exc.message, _CLOSE) from None
        if svc.health.corrupt is not None:
            raise _Reject(503, "store_unavailable", "not stored, retry later: the outbox database failed its "
                          "integrity check", [(b"retry-after", b"60"), *_CLOSE])
        body = await self._read_body(receive, declared)
        try:
            webhook_id = svc.verifier.verify_body(checked, body)
        except VerificationFailed as exc:
            raise _Reject(401, exc.reason, exc.message) from None
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _Reject(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
        if _may_hold_inexact_integer(body):  # rare: only then look for integers orjson turned into floats
            _refuse_inexact_integers(body)
        event_type = envelope.get("type") if isinstance(envelope, dict) else None
        if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_EVENT_TYPE:
            raise _Reject(400, "not_an_envelope",
                          "not a webhook envelope: expected a JSON object with a string `type`")
        mapping = svc.mapping.current.mapping
        handled = mapping.handles(event_type)
        committer = svc.committer
        assert committer is not None  # set by Service.open(), which runs before the server listens
        timeout = svc.config.accept_timeout
        hold = svc.hold_for(test_traffic)
        try:
            try:
                calls = mapping.apply(envelope) if handled else []
            except MappingRuntimeError as exc:
                res = await committer.quarantine(webhook_id, event_type, body, exc.message,
                                                 exc.location or str(svc.mapping.path), timeout, hold=hold)
                if res.new:
                    m.quarantined.inc()
                    log.warning("mapping failed; envelope quarantined",
                                extra={"webhook_id": webhook_id, "event_type": event_type, "error": exc.message,
                                       "location": exc.location})
                    return 200, {"status": "quarantined", "webhook_id": webhook_id}
                m.duplicates.inc()
                return 200, {"status": "duplicate", "webhook_id": webhook_id}
            res = await committer.accept(webhook_id, event_type, body, calls, timeout, hold=hold)
        except Overloaded as exc:
            raise _Reject(503, "overloaded", str(exc), [(b"retry-after", b"1")]) from None
        except StoreUnavailable as exc:
            raise _Reject(503, "store_unavailable", f"not stored, retry later: {exc}", [(b"retry-after", b"5")]) from None
        if not res.new:
            m.duplicates.inc()
            return 200, {"status": "duplicate", "webhook_id": webhook_id}
        if handled:
            m.mapped.inc()
        else:
            m.unmapped.inc()
        if res.queued:
            m.calls_queued.inc(res.queued)
        if res.dead:
            m.calls_refused.inc(res.dead)
            log.warning("call(s) refused at acceptance and dead-lettered (see `segmap outbox dead`)",
                        extra={"webhook_id": webhook_id, "event_type": event_type, "refused": res.dead})
        if log.isEnabledFor(logging.DEBUG):
            log.debug("webhook accepted", extra={"webhook_id": webhook_id, "event_type": event_type,
                                                 "calls": res.queued, "mapped": handled})
        answer = {"status": "accepted", "webhook_id": webhook_id, "calls": res.queued}
        if hold is not None and res.queued:
            answer["held"] = hold  # not sent to Segment until `segmap outbox release`
        return 200, answer


def head_size(scope) -> int:
    """Bytes of the request line and headers, as they were on the wire (give or take the spaces)."""
    size = len(scope.get("method", "")) + len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 12
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4
    return size


class _Dispatch:
    """Routes by listener. Public port: `POST /webhook` straight to its endpoint (no router, no
    middleware on the hot path) and a bare `GET /healthz`; everything else a JSON 404/405.
    Admin port (and the lifespan): the Starlette app with `/healthz`, `/readyz`, `/metrics`."""

    def __init__(self, app: Starlette, webhook: WebhookEndpoint, service: Service):
        self.app = app
        self.webhook = webhook
        self.service = service
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if HEAD_BYTES_KEY not in scope and head_size(scope) > MAX_HEAD_BYTES:
            await self._refuse(send, 431, "headers_too_large", f"request headers over {MAX_HEAD_BYTES} bytes")
            return
        server = scope.get("server")
        if server is not None and server[1] in self.service.admin_ports:
            await self.app(scope, receive, send)
            return
        if path == "/webhook":
            if method == "POST":
                await self.webhook(scope, receive, send)
            else:
                await self._refuse(send, 405, "method_not_allowed", "use POST /webhook", [(b"allow", b"POST")])
            return
        if path == "/healthz":
            if method in ("GET", "HEAD"):
                await _send_json(send, 200, {"status": "ok"})
            else:
                await self._refuse(send, 405, "method_not_allowed", "use GET /healthz", [(b"allow", b"GET, HEAD")])
            return
        # /metrics and /readyz live on the admin listener: say nothing about them here
        await self._refuse(send, 404, "not_found", "not found: this port serves POST /webhook and GET /healthz")

    async def _refuse(self, send, status: int, reason: str, message: str, headers=()) -> None:
        self.service.metrics.http_rejected.inc(1, reason)
        if reason != "not_found" and log.isEnabledFor(logging.INFO):
            log.info("request refused", extra={"status": status, "reason": reason})
        await _send_json(send, status, {"error": message, "reason": reason}, [*headers, *_CLOSE])


def build_app(service: Service, *, manage_lifespan: bool = True):
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        ready, body = await asyncio.to_thread(service.readiness)
        service.metrics.ready.set(1 if ready else 0)
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics(request: Request) -> Response:
        await asyncio.to_thread(service.collect)
        return Response(service.metrics.render(), media_type=CONTENT_TYPE)

    async def not_found(request: Request, exc) -> Response:
        return JSONResponse({"error": "not found: the admin port serves /healthz, /readyz and /metrics",
                             "reason": "not_found"}, status_code=404)

    async def not_allowed(request: Request, exc) -> Response:
        return JSONResponse({"error": "method not allowed", "reason": "method_not_allowed"}, status_code=405)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        await service.startup()
        try:
            yield
        finally:
            await service.shutdown()

    webhook = WebhookEndpoint(service)
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/readyz", readyz, methods=["GET", "HEAD"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        exception_handlers={404: not_found, 405: not_allowed},
        lifespan=lifespan if manage_lifespan else None,
    )
    return _Dispatch(app, webhook, service)
