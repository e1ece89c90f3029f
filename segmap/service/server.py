"""Run the service under uvicorn with segmap's own signal handling.

* SIGTERM / SIGINT: graceful shutdown. uvicorn stops listening, closes idle
  connections and lets requests in flight finish (up to half the shutdown
  budget); then the service commits, stops delivery and releases its leases.
  A watchdog ends the process if all that takes longer than the budget
  (`--shutdown-timeout`, 10 s), so SIGTERM always means "gone within 10 s".
  A second SIGINT forces the exit at once. The exit status is 0.
* SIGHUP: recompile the mapping; swap it in only if it compiles. A broken
  mapping is refused (logged with its diagnostics) and the old one keeps serving.

uvicorn's own handler would re-raise the signal after shutting down (the
process would then die "killed by SIGTERM"); ours exits normally instead.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from typing import Iterator

import uvicorn

import orjson

from segmap.service.app import HEAD_BYTES_KEY, MAX_HEAD_BYTES, build_app
from segmap.service.lifecycle import Service
from segmap.errors import SegmapError

log = logging.getLogger("segmap.service")


class ListenError(OSError, SegmapError):
    pass


class _HeadTooLarge(Exception):
    """Raised from a parser callback: httptools stops parsing and reports a parser error."""


class _DropUvicornParseWarning(logging.Filter):
    """uvicorn logs every parse error as a bare "Invalid HTTP request received." warning; segmap
    logs its own line (with the parser's reason and the client) and answers in JSON instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Invalid HTTP request received."


def _refusal_bytes(status: int, reason: str, message: str) -> bytes:
    body = orjson.dumps({"error": message, "reason": reason})
    phrase = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large",
              503: b"Service Unavailable"}[status]
    retry = b"retry-after: 1\r\n" if status == 503 else b""
    return (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n%sconnection: close\r\ncontent-length: %d\r\n\r\n%s"
            % (status, phrase, retry, len(body), body))


def connection_limit(wanted: int) -> int:
    """At most ``wanted`` open connections, and never so many that the process runs out of file
    descriptors: past that limit ``accept()`` fails with EMFILE, uvicorn logs it and the client is
    left waiting, where a refused connection gets a 503 that Dodo retries. 64 descriptors stay
    for the database, the connections to Segment and the logs."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return wanted
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - 64))


def http_protocol(service: Service | None = None, *, head_timeout: float = 10.0, max_connections: int = 0):
    """uvicorn's httptools protocol, bounded and speaking JSON (h11 when httptools is missing).

    * The request line and headers may hold at most MAX_HEAD_BYTES, counted exactly as the
      parser hands them over: past that the connection gets a JSON 431 and is closed, before
      the head is even complete (httptools itself keeps every header byte it is sent).
    * A head must arrive within `head_timeout` seconds of the connection (or of the first
      byte of the next request on a kept-alive one): a JSON 408 and close otherwise, so that
      a client trickling headers cannot hold a connection for long.
    * Malformed HTTP gets the JSON error every other answer uses (`reason: malformed_http`)
      instead of uvicorn's plain text, is counted in `segmap_http_rejected_total` and logged.
    * At most `max_connections` (0: no cap) are open on the webhook port at once; one more gets
      a JSON 503 with Retry-After and is closed at once, so idle or slow clients cannot use up
      the process's file descriptors. The admin listener is not counted, so probes and metrics
      still answer while the webhook port is full.
    """
    try:
        import httptools
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "h11"  # h11_max_incomplete_event_size bounds an incomplete head; the app bounds a complete one
    logging.getLogger("uvicorn.error").addFilter(_DropUvicornParseWarning())
    metrics = service.metrics if service is not None else None
    open_connections = 0  # on the webhook port(s), shared by every connection of this server

    base_on_url, base_on_header = HttpToolsProtocol.on_url, HttpToolsProtocol.on_header

    class SegmapHttpToolsProtocol(HttpToolsProtocol):
        # These callbacks run for every request (on_header for every header line), so they are
        # kept small: no super() lookups, and one timer per connection instead of one per request.
        _head_bytes = 0
        _head_started: float | None = None  # loop time the head in progress began; None: none in progress
        _head_timer = None
        _refusal: tuple[int, str, str] | None = None

        _counted = False  # whether this connection holds one of the webhook port's places

        def connection_made(self, transport) -> None:  # type: ignore[override]
            nonlocal open_connections
            super().connection_made(transport)
            if max_connections > 0 and not self._on_admin_port(transport):
                if open_connections >= max_connections:
                    self._refuse(503, "too_many_connections",
                                 f"more than {max_connections} connections are open; retry shortly")
                    return
                open_connections += 1
                self._counted = True
            self._head_started = self.loop.time()  # the first head must arrive within the limit of connecting
            if head_timeout > 0:
                self._head_timer = self.loop.call_later(head_timeout, self._check_head)

        def _on_admin_port(self, transport) -> bool:
            if service is None or not service.admin_ports:
                return False
            sockname = transport.get_extra_info("sockname")
            return isinstance(sockname, tuple) and len(sockname) > 1 and sockname[1] in service.admin_ports

        def connection_lost(self, exc) -> None:
            nonlocal open_connections
            if self._counted:
                self._counted = False
                open_connections -= 1
            self._disarm()
            super().connection_lost(exc)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _check_head(self) -> None:
            """The connection's timer: refuses a head that has been arriving for too long, else
            looks again when the head in progress (or the next one) could be late."""
            self._head_timer = None
            if self.transport is None or self.transport.is_closing():
                return
            started = self._head_started
            left = head_timeout if started is None else started + head_timeout - self.loop.time()
            if left > 0:  # no head in progress (keep-alive idleness is uvicorn's timeout), or not late yet
                self._head_timer = self.loop.call_later(left, self._check_head)
                return
            self._refuse(408, "head_timeout", f"request line and headers not received within {head_timeout:g}s")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0
            if self._head_started is None:  # (the first request's head counts from the connection)
                self._head_started = self.loop.time()

        def on_url(self, url: bytes) -> None:
            n = self._head_bytes = self._head_bytes + len(url) + 16  # the method, the version and the line end
            if n > MAX_HEAD_BYTES:
                self._too_large()
            base_on_url(self, url)

        def on_header(self, name: bytes, value: bytes) -> None:
            n = self._head_bytes = self._head_bytes + len(name) + len(value) + 4
            if n > MAX_HEAD_BYTES:
                self._too_large()
            base_on_header(self, name, value)

        def _too_large(self) -> None:
            self._refusal = (431, "headers_too_large", f"request headers over {MAX_HEAD_BYTES} bytes")
            raise _HeadTooLarge()

        def on_headers_complete(self) -> None:
            self._head_started = None
            self.scope[HEAD_BYTES_KEY] = self._head_bytes  # type: ignore[literal-required]  # counted: the app need not
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            # called by uvicorn inside its `except httptools.HttpParserError` block
            refusal, self._refusal = self._refusal, None
            if refusal is None:
                exc = sys.exc_info()[1]
                cause = getattr(exc, "__cause__", None) or exc
                detail = str(cause) if isinstance(cause, httptools.HttpParserError) and str(cause) else "unparsable"
                refusal = (400, "malformed_http", f"malformed HTTP request: {detail}")
            self._refuse(*refusal)

        def _refuse(self, status: int, reason: str, message: str) -> None:
            self._disarm()
            if metrics is not None:
                metrics.http_rejected.inc(1, reason)
            client = self.client[0] if self.client else None
            log.info("request refused", extra={"status": status, "reason": reason, "detail": message,
                                               "client": client})
            self.transport.write(_refusal_bytes(status, reason, message))
            self.transport.close()

    return SegmapHttpToolsProtocol


def bind(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """Bind before serving, so a busy port is a clean start-up error (and --port 0 works)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(f"cannot resolve {host!r}: {exc.strerror or exc}") from None
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, service: Service, shutdown_timeout: float):
        super().__init__(config)
        self.service = service
        self.shutdown_timeout = shutdown_timeout
        self._watchdog: threading.Timer | None = None
        self.watchdog_fired = False

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()

        def on_exit(sig: int, frame) -> None:
            if self.should_exit:
                if sig == signal.SIGINT:
                    self.force_exit = True
                return
            log.info("shutting down", extra={"signal": signal.Signals(sig).name})
            self.should_exit = True
            self.service.stopping = True  # new webhooks get 503 while in-flight ones finish
            self._start_watchdog()

        def on_hup(sig: int, frame) -> None:
            loop.call_soon_threadsafe(self.service.request_reload)

        handled = {signal.SIGTERM: on_exit, signal.SIGINT: on_exit}
        if hasattr(signal, "SIGHUP"):
            handled[signal.SIGHUP] = on_hup
        original = {sig: signal.signal(sig, h) for sig, h in handled.items()}
        try:
            yield
        finally:
            for sig, h in original.items():
                signal.signal(sig, h)

    def _start_watchdog(self) -> None:
        def fire() -> None:
            self.watchdog_fired = True
            log.error("shutdown took longer than %.3gs; exiting now (accepted webhooks are committed; "
                      "unsent calls come back when their lease expires)", self.shutdown_timeout)
            for h in logging.getLogger().handlers:
                with contextlib.suppress(Exception):
                    h.flush()
            os._exit(70)

        self._watchdog = threading.Timer(self.shutdown_timeout, fire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def cancel_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()


def uvicorn_config(service: Service, **overrides) -> uvicorn.Config:
    """uvicorn as segmap runs it (the tests' in-process server uses the same)."""
    cfg = service.config
    options = dict(
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        http=http_protocol(service, head_timeout=cfg.head_timeout,
                           max_connections=connection_limit(cfg.max_connections)),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=5,
        # in-flight requests get about half the budget; the service's own shutdown the rest
        timeout_graceful_shutdown=max(1, int(cfg.shutdown_timeout * 0.45)),
    )
    options.update(overrides)
    return uvicorn.Config(build_app(service), **options)


def serve(service: Service, sock: socket.socket, admin_sock: socket.socket | None = None) -> int:
    """Serve the webhook socket (and the admin socket) until a signal stops it; returns the exit status."""
    cfg = service.config
    server = _Server(uvicorn_config(service), service, cfg.shutdown_timeout)
    service.listen_url = url_of(sock)
    sockets = [sock]
    if admin_sock is not None:
        service.admin_url = url_of(admin_sock)
        service.admin_ports = frozenset({admin_sock.getsockname()[1]})
        sockets.append(admin_sock)
    try:
        server.run(sockets=sockets)
    finally:
        server.cancel_watchdog()
        for sk in sockets:
            sk.close()
    if not server.started:
        return 1
    return 0


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
