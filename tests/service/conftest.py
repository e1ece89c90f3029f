"""Harness for the webhook service: a signing sender, the service in-process
(uvicorn in a thread, real HTTP on 127.0.0.1) or as a real `segmap serve`
subprocess, and the fake Segment from tests/fakes.

Secrets and the write key are greppable canaries: tests assert they never
appear in logs.
"""
from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import httpx
import orjson
import pytest
import uvicorn

import segmap
from segmap.delivery.worker import DeliveryConfig
from segmap.delivery.message import message_id_for
from segmap.delivery.retry import RetryPolicy
from segmap.samples import sample_envelope
from segmap.service.config import ServiceConfig
from segmap.service.lifecycle import Service
from segmap.service.logs import JsonFormatter, Redactor
from segmap.service.server import bind, url_of, uvicorn_config
from segmap.service.verification import Verifier, sign
from tests.fakes.fake_segment import FakeSegment

ROOT = Path(__file__).resolve().parents[2]

SECRET = "whsec_" + base64.b64encode(b"svc-canary-secret-0123456789abcd").decode()
SECRET_NEW = "whsec_" + base64.b64encode(b"svc-canary-rotated-9876543210zyx").decode()
WRITE_KEY = "wk_service_canary_3b9f1e7a"
CANARIES = (SECRET, SECRET[len("whsec_"):], SECRET_NEW, SECRET_NEW[len("whsec_"):], WRITE_KEY,
            base64.b64encode(f"{WRITE_KEY}:".encode()).decode())

MAPPING = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        order_id: data.payment_id
        revenue: to_major(data.total_amount, data.currency)
        currency: data.currency
    - identify:
      traits:
        email: data.customer.email
  refund.succeeded:
    - track: Order Refunded
      properties:
        order_id: data.payment_id
"""

# the same, without the failing to_major: what an operator deploys after a quarantine
FIXED_MAPPING = MAPPING.replace("to_major(data.total_amount, data.currency)", "data.total_amount")
BROKEN_MAPPING = MAPPING.replace("to_major(", "no_such_function(")


def envelope(i: int, *, event_type: str = "payment.succeeded", currency: str | None = None, pad: int = 0) -> bytes:
    env = sample_envelope(event_type, variant=i % 5)
    data = env["data"]
    if "payment_id" in data:
        data["payment_id"] = f"pay_{i}"
    if isinstance(data.get("customer"), dict):
        data["customer"]["customer_id"] = f"cus_{i}"
    if currency is not None:
        data["currency"] = currency
    if pad:
        data["metadata"] = {"pad": "x" * pad}
    return orjson.dumps(env)


class Signer:
    """Signs like Dodo (Standard Webhooks) with the library, posts, optionally retries."""

    def __init__(self, secret: str = SECRET):
        self.secret = secret

    def headers(self, webhook_id: str, body: bytes, ts: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if ts is None else ts
        return {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(self.secret, webhook_id, ts, body),
        }


@dataclass
class Ledger:
    """Per webhook id: the first 2xx answer; and every attempt's outcome."""
    acked: dict[str, dict] = field(default_factory=dict)
    attempts: int = 0
    failures: list[str] = field(default_factory=list)


async def until_acked(ledger: "Ledger", n: int, sender: asyncio.Task, limit: float = 60.0) -> None:
    """Wait until the sender has seen ``n`` webhooks acknowledged (or finished): tests that act
    "under load" act after a count of acknowledgements, not after a time that a busy machine stretches."""
    end = time.monotonic() + limit
    while len(ledger.acked) < n and not sender.done() and time.monotonic() < end:
        await asyncio.sleep(0.01)


async def send_all(url: str, items: Iterable[tuple[str, bytes]], *, signer: Signer | None = None,
                   rate: float | None = None, concurrency: int = 32, retry: bool = True,
                   deadline: float = 60.0, ledger: Ledger | None = None,
                   schedule: tuple[float, ...] = (0.0, 0.1, 0.3, 0.5, 1.0, 1.0)) -> Ledger:
    """Send every (webhook_id, body), optionally at `rate`/s, retrying non-2xx and
    transport errors (fresh timestamp and signature each time, like Svix) until a
    2xx or the deadline."""
    signer = signer or Signer()
    ledger = ledger or Ledger()
    sem = asyncio.Semaphore(concurrency)
    end = time.monotonic() + deadline

    async with httpx.AsyncClient(timeout=httpx.Timeout(15.0), limits=httpx.Limits(max_connections=concurrency)) as client:
        async def one(wid: str, body: bytes) -> None:
            n = 0
            while True:
                ledger.attempts += 1
                try:
                    async with sem:
                        r = await client.post(url, content=body, headers=signer.headers(wid, body))
                    if 200 <= r.status_code < 300:
                        ledger.acked.setdefault(wid, r.json())
                        return
                    ledger.failures.append(f"{wid}: {r.status_code}")
                except httpx.HTTPError as exc:
                    ledger.failures.append(f"{wid}: {type(exc).__name__}")
                if not retry or time.monotonic() > end:
                    return
                await asyncio.sleep(schedule[min(n, len(schedule) - 1)])
                n += 1

        tasks = []
        t0 = time.monotonic()
        for i, (wid, body) in enumerate(items):
            if rate:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(wid, body)))
        await asyncio.gather(*tasks)
    return ledger


def expected_message_ids(mapping_path: Path, items: Iterable[tuple[str, bytes]]) -> set[str]:
    """The messageIds Segment must end up with: the mapping's calls, per webhook, by position."""
    mapping = segmap.compile_file(mapping_path)
    out: set[str] = set()
    for wid, body in items:
        calls = mapping.apply(orjson.loads(body))
        out |= {message_id_for(wid, i) for i in range(len(calls))}
    return out


def fast_delivery(**kw) -> DeliveryConfig:
    policy = RetryPolicy(base_delay=0.01, max_delay=0.2, max_retry_after=1.0, budget_seconds=3600.0,
                         auth_probe_interval=0.1, rng=random.Random(3))
    base = dict(workers=2, poll_interval=0.05, lease_seconds=5.0, policy=policy)
    base.update(kw)
    return DeliveryConfig(**base)


class LogCapture:
    """JSON log lines of the in-process service, scrubbed exactly as in production."""

    def __init__(self, level: int = logging.DEBUG):
        self.stream = io.StringIO()
        self.redactor = Redactor()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(JsonFormatter(self.redactor))
        self.handler.setLevel(level)
        self.logger = logging.getLogger("segmap")
        self._old_level = self.logger.level

    def __enter__(self) -> "LogCapture":
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self._old_level)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def records(self) -> list[dict]:
        return [orjson.loads(line) for line in self.text.splitlines() if line.strip()]


class LiveService:
    """The real ASGI app under uvicorn in a thread, on a free 127.0.0.1 port."""

    def __init__(self, config: ServiceConfig, *, verifier: Verifier | None = None, delivery_config=None,
                 sink=None):
        self.service = Service(config, verifier=verifier, delivery_config=delivery_config, sink=sink)
        self.config = config
        self._sock = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "LiveService":
        self.service.open()
        self._sock = bind("127.0.0.1", 0)
        self._admin_sock = bind("127.0.0.1", 0)
        self.url = url_of(self._sock)
        self.admin_url = url_of(self._admin_sock)
        self.service.listen_url, self.service.admin_url = self.url, self.admin_url
        self.service.admin_ports = frozenset({self._admin_sock.getsockname()[1]})
        cfg = uvicorn_config(self.service, timeout_graceful_shutdown=3)  # the production protocol and limits
        self._server = uvicorn.Server(cfg)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock, self._admin_sock]},
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("service did not start")
            time.sleep(0.01)
        return self

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    @property
    def store(self):
        return self.service.store

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(15)
            self._server = None
        if self._sock is not None:
            self._sock.close()
            self._admin_sock.close()
            self._sock = None

    def __enter__(self) -> "LiveService":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@pytest.fixture
def mapping_file(tmp_path) -> Path:
    p = tmp_path / "segmap.yaml"
    p.write_text(MAPPING)
    return p


@pytest.fixture
def fake():
    with FakeSegment(write_keys={WRITE_KEY}) as f:
        yield f


@pytest.fixture
def make_config(tmp_path, mapping_file):
    def make(**kw) -> ServiceConfig:
        kw.setdefault("secrets", (SECRET,))
        kw.setdefault("db_path", tmp_path / "segmap.db")
        kw.setdefault("dry_run_file", tmp_path / "dry-run.jsonl")
        kw.setdefault("mapping_path", mapping_file)
        return ServiceConfig(**kw)

    return make


@pytest.fixture
def live(make_config, fake):
    """A service delivering to the fake Segment, with millisecond retry timings."""
    started = []

    def start(**kw) -> LiveService:
        verifier = kw.pop("verifier", None)
        dconf = kw.pop("delivery_config", None) or fast_delivery()
        kw.setdefault("write_key", WRITE_KEY)
        kw.setdefault("segment_host", fake.url)
        svc = LiveService(make_config(**kw), verifier=verifier, delivery_config=dconf).start()
        started.append(svc)
        return svc

    yield start
    for s in started:
        s.stop()


def post(url: str, body: bytes, headers: dict, **kw) -> httpx.Response:
    return httpx.post(url, content=body, headers=headers, timeout=10, **kw)


def inbox_ids(store) -> set[str]:
    return {w for (w,) in store._conn().execute("SELECT webhook_id FROM inbox")}


def outbox_ids(store) -> list[str]:
    return [m for (m,) in store._conn().execute("SELECT message_id FROM outbox ORDER BY id")]


# --- the real `segmap serve` as a subprocess ---

_LISTENING = re.compile(r"listening on (http://[^\s\"/]+)/webhook")
_ADMIN = re.compile(r"admin listening on (http://[^\s\"/]+)")


class ServiceProcess:
    def __init__(self, mapping: Path, db: Path, *, env: dict | None = None, args: Iterable[str] = (), cwd: Path | None = None):
        self.cmd = [sys.executable, "-m", "segmap", "serve", str(mapping), "--port", "0", "--db", str(db), *args]
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.cwd = cwd or db.parent
        self.lines: list[str] = []
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None
        self._cv = threading.Condition()

    def start(self, timeout: float = 20.0) -> "ServiceProcess":
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.wait_for(lambda line: _LISTENING.search(line) is not None, timeout):
            self.kill()
            raise RuntimeError("segmap serve did not start:\n" + self.output)
        self.url = _LISTENING.search(self.find(lambda line: _LISTENING.search(line) is not None)).group(1)
        self.admin_url = None
        if self.wait_for(lambda line: _ADMIN.search(line) is not None, 5):
            self.admin_url = _ADMIN.search(self.find(lambda line: _ADMIN.search(line) is not None)).group(1)
        # the socket is bound before "listening" is logged, and uvicorn accepts right after startup
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise RuntimeError("segmap serve does not answer /healthz:\n" + self.output)

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cv:
                self.lines.append(line.rstrip("\n"))
                self._cv.notify_all()
        with self._cv:
            self._cv.notify_all()

    def find(self, pred):
        with self._cv:
            for line in self.lines:
                if pred(line):
                    return line
        return None

    def wait_for(self, pred, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        seen = 0
        with self._cv:
            while True:
                for line in self.lines[seen:]:
                    if pred(line):
                        return True
                seen = len(self.lines)
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and seen == len(self.lines)):
                    return False
                self._cv.wait(min(left, 0.1))

    def json_lines(self) -> list[dict]:
        out = []
        with self._cv:
            lines = list(self.lines)
        for line in lines:
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                pass
        return out

    @property
    def output(self) -> str:
        with self._cv:
            return "\n".join(self.lines)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhook"

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)


@pytest.fixture
def spawn():
    procs: list[ServiceProcess] = []

    def make(*a, **kw) -> ServiceProcess:
        p = ServiceProcess(*a, **kw)
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.kill()


def assert_no_canaries(text: str) -> None:
    for c in CANARIES:
        assert c not in text, f"a secret canary leaked into the logs: {c[:8]}..."
