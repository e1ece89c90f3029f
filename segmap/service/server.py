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
import threading
from typing import Iterator

import uvicorn

from segmap.service.app import build_app
from segmap.service.lifecycle import Service
from segmap.errors import SegmapError

log = logging.getLogger("segmap.service")


class ListenError(OSError, SegmapError):
    pass


# The request line plus headers of one request. h11 enforces its own limit (given the same value
# below); httptools, which uvicorn prefers when it is installed (a dependency of segmap), keeps every
# header byte it is sent: without this bound one unauthenticated connection could make the service
# buffer hundreds of megabytes before a single webhook check ran.
MAX_HEAD_BYTES = 64 * 1024
_431_BODY = b'{"error":"request headers over %d bytes","reason":"headers_too_large"}' % MAX_HEAD_BYTES
_431 = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
        b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_431_BODY), _431_BODY))


def http_protocol():
    """uvicorn's httptools protocol with the size of a request head bounded, or h11 without httptools."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return "h11"

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        _head_open = False
        _head_bytes = 0

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_open, self._head_bytes = True, 0

        def on_headers_complete(self) -> None:
            self._head_open = False
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            was_open = self._head_open
            super().data_received(data)
            if not self._head_open or self.transport is None or self.transport.is_closing():
                return
            # the chunk in which a head starts is let through whole (it may end a previous request);
            # every later chunk of a head that is still incomplete counts
            if was_open:
                self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_open = False
                self.logger.info("request head over %d bytes; answered 431 and closed", MAX_HEAD_BYTES)
                self.transport.write(_431)
                self.transport.close()

    return BoundedHttpToolsProtocol


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


def serve(service: Service, sock: socket.socket) -> int:
    """Serve until a signal stops it; returns the exit status."""
    cfg = service.config
    app = build_app(service)
    uv_config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        http=http_protocol(),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        timeout_keep_alive=5,
        # in-flight requests get about half the budget; the service's own shutdown the rest
        timeout_graceful_shutdown=max(1, int(cfg.shutdown_timeout * 0.45)),
    )
    server = _Server(uv_config, service, cfg.shutdown_timeout)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    service.listen_url = f"http://{shown}:{port}"
    try:
        server.run(sockets=[sock])
    finally:
        server.cancel_watchdog()
        sock.close()
    if not server.started:
        return 1
    return 0
