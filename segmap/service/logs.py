"""Logs on stderr, with secrets scrubbed: JSON lines for programs, text on a terminal.

Nothing in the service logs a header, a secret or the write key on purpose;
the `Redactor` is the second line of defence: every formatted line is
searched for each secret value (the `whsec_` text, its base64 body, the write
key, and the Basic-auth value built from it) and any hit is replaced with
`[REDACTED]`, including in exception tracebacks from third-party code. Only
whole tokens are masked (see `segmap.delivery.scrub`): a one-letter key does
not turn "known" into "[REDACTED]nown".
"""
from __future__ import annotations

import base64
import logging
import sys
import threading
import time
from typing import IO

import orjson

from segmap.delivery.scrub import TokenMasker
_STD_ATTRS = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None)).keys()) | {
    "message", "asctime", "color_message", "taskName"}


class Redactor:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mask = TokenMasker()

    @property
    def _needles(self) -> tuple[str, ...]:
        return self._mask.needles

    def add(self, *values: str | None) -> None:
        new = set(self._mask.needles)
        new.update(v for v in values if v)
        mask = TokenMasker(new)
        with self._lock:
            self._mask = mask

    def add_secret(self, secret: str) -> None:
        """A webhook secret: the whole text, its base64 body (with and without padding)."""
        s = secret.strip()
        body = s[len("whsec_"):] if s.startswith("whsec_") else s
        self.add(s, body, body.rstrip("="))

    def add_write_key(self, key: str) -> None:
        k = key.strip()
        basic = base64.b64encode(f"{k}:".encode("utf-8")).decode("ascii")
        self.add(k, basic, basic.rstrip("="))

    def scrub(self, text: str) -> str:
        return self._mask(text)


class JsonFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None):
        super().__init__()
        self.redactor = redactor or Redactor()

    def format(self, record: logging.LogRecord) -> str:
        out: dict = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in _STD_ATTRS and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        line = orjson.dumps(out, default=str).decode("utf-8")
        return self.redactor.scrub(line)


class _ScrubbingTextFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.scrub(super().format(record))


def choose_format(fmt: str, stream: IO[str] | None = None) -> str:
    """`auto`: human-readable text when a person watches the stream (a terminal),
    JSON lines when a program reads it (a pipe, a file, a log collector)."""
    if fmt in ("json", "text"):
        return fmt
    stream = stream or sys.stderr
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):
        return "json"


def configure(level: str = "info", *, stream: IO[str] | None = None, redactor: Redactor | None = None,
              fmt: str = "json") -> Redactor:
    """Route every logger (segmap's, uvicorn's, httpx's, and the root for anything else)
    to one scrubbing handler on `stream`."""
    redactor = redactor or Redactor()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else _ScrubbingTextFormatter(redactor))
    lvl = getattr(logging, str(level).upper(), logging.INFO)
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name, at in (("segmap", lvl), ("uvicorn", lvl), ("httpx", max(lvl, logging.WARNING))):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)
        lg.setLevel(at)
        lg.propagate = True  # to the root's one handler
    for name in ("uvicorn.error", "uvicorn.asgi"):
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)
        lg.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # the service logs its own request outcomes
    return redactor
