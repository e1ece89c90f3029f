"""A stand-in for Dodo's REST API (the list and retrieve endpoints a backfill reads), over real HTTP.

It behaves as Dodo's docs and SDK describe, including the parts that trip
clients up: pages count from **0** (`page_number` default 0), the answer is
`{"items": [...]}` with no total and no "has more" flag, `page_size` defaults
to 10 and may not exceed 100, deep pages are capped, and a listed object
carries only the fields of the SDK's list model (a retrieved one those of its
detail model). Objects are built from `segmap.samples` (the SDK's webhook
models), so the webhook payload each object stands for is known exactly:
`History.webhook_envelope(obj)` is what Dodo would have sent.

Use it in-process::

    history = History.generate(count=300, since=..., until=...)
    with FakeDodo(history, api_key="k") as dodo:
        env DODO_PAYMENTS_BASE_URL=dodo.url, DODO_PAYMENTS_API_KEY=k

or as a process (benchmarks): ``python -m tests.fakes.fake_dodo --count 100000`` prints
``LISTENING <url>`` and serves until stdin closes.
"""
from __future__ import annotations

import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterable
from urllib.parse import parse_qs, urlsplit

import orjson

from segmap.backfill.resources import RESOURCES, Resource
from segmap.samples import sample_envelope

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 10

# states an object can be in that no webhook ends in (the backfill skips them)
IDLE_STATES = {"payments": "requires_payment_method", "refunds": "pending", "subscriptions": "pending"}


def _fields(model_name: str | None) -> frozenset[str]:
    if model_name is None:
        return frozenset()
    import dodopayments.types as types

    model = getattr(types, model_name)
    return frozenset((info.alias or name) for name, info in model.model_fields.items())


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@dataclass
class StoredObject:
    resource: str
    object_id: str
    created_at: datetime
    event_type: str | None  # the webhook its state stands for (None: an idle state)
    webhook: dict  # the webhook payload (`data`) as Dodo would send it
    listed: dict  # what a listing returns
    detail: dict | None  # what a retrieve returns


@dataclass
class History:
    business_id: str
    objects: dict[str, list[StoredObject]] = field(default_factory=dict)  # resource -> newest first

    @classmethod
    def generate(cls, count: int, since: datetime, until: datetime, *, seed: int = 7,
                 resources: Iterable[str] | None = None, idle_share: float = 0.1) -> "History":
        """`count` objects spread over [since, until), cycling over resources and their states."""
        rng = random.Random(seed)
        names = list(resources or RESOURCES)
        templates: dict[str, dict] = {}
        business_id = "bus_fakeDodoBackfill0001"
        hist = cls(business_id, {n: [] for n in names})
        span = (until - since).total_seconds()
        list_fields = {n: _fields(RESOURCES[n].list_model) for n in names}
        detail_fields = {n: _fields(RESOURCES[n].detail_model) for n in names}
        for i in range(count):
            res = RESOURCES[names[i % len(names)]]
            states = list(res.events.items())
            idle = res.name in IDLE_STATES and rng.random() < idle_share
            state, event_type = (IDLE_STATES[res.name], None) if idle else states[(i // len(names)) % len(states)]
            template_event = event_type or states[0][1]
            key = f"{template_event}/{i % 3}"
            if key not in templates:
                templates[key] = sample_envelope(template_event, variant=i % 3)["data"]
            data = orjson.loads(orjson.dumps(templates[key]))  # a deep copy, cheaply
            created = since + timedelta(seconds=rng.uniform(0, span))
            object_id = f"{res.id_field[:3]}_{i:08d}"
            data[res.id_field] = object_id
            data["created_at"] = _iso(created)
            if "business_id" in data:
                data["business_id"] = business_id
            if res.state_field and state != "*":
                data[res.state_field] = state
            later = _iso(created + timedelta(hours=1 + i % 5))
            if "updated_at" in data:
                data["updated_at"] = later
            for name, ev in (("cancelled_at", "subscription.cancelled"), ("expires_at", "subscription.expired"),
                             ("paused_at", "subscription.paused")):
                if name in data:
                    data[name] = later if event_type == ev else None
            listed = {k: v for k, v in data.items() if k in list_fields[res.name]}
            detail = None
            if res.detail_model:
                detail = {k: v for k, v in data.items() if k in detail_fields[res.name]}
            hist.objects[res.name].append(
                StoredObject(res.name, object_id, created, event_type, data, listed, detail))
        for objs in hist.objects.values():
            objs.sort(key=lambda o: (o.created_at, o.object_id), reverse=True)  # newest first, like Dodo
        return hist

    def all(self) -> list[StoredObject]:
        return [o for objs in self.objects.values() for o in objs]

    def webhook_envelope(self, obj: StoredObject) -> dict:
        """The envelope of the webhook this object's state stands for, as Dodo would have sent it."""
        res = RESOURCES[obj.resource]
        timestamp = next(obj.webhook[n] for n in res.time_candidates(obj.event_type) if obj.webhook.get(n))
        return {"business_id": self.business_id, "type": obj.event_type, "timestamp": timestamp, "data": obj.webhook}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # clients hanging up are not our problem
        pass


class FakeDodo:
    def __init__(self, history: History, *, api_key: str = "test-dodo-key", host: str = "127.0.0.1", port: int = 0,
                 rate_limit_every: int = 0, retry_after_ms: int = 20, max_page_number: int = 10_000,
                 delay: float = 0.0):
        self.history = history
        self.api_key = api_key
        self.rate_limit_every = rate_limit_every
        self.retry_after_ms = retry_after_ms
        self.max_page_number = max_page_number
        self.delay = delay
        self.requests: Counter = Counter()  # "list payments" / "retrieve payments" / "429" ...
        self.pages: list[tuple[str, int]] = []  # (resource, page_number) of every list answered
        self.violations: list[str] = []
        self._n = 0
        self._lock = threading.Lock()
        self._server = _Server((host, port), self._handler_class())
        self._thread: threading.Thread | None = None
        self._index = {(o.resource, o.object_id): o for o in history.all()}

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeDodo":
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-dodo", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "FakeDodo":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- request handling ---

    def _answer(self, method: str, path: str, query: dict, auth: str | None) -> tuple[int, dict, dict]:
        if auth != f"Bearer {self.api_key}":
            return 401, {}, {"code": "UNAUTHORIZED", "message": "invalid api key"}
        with self._lock:
            self._n += 1
            n = self._n
        if self.rate_limit_every and n % self.rate_limit_every == 0:
            self.requests["429"] += 1
            return 429, {"retry-after-ms": str(self.retry_after_ms)}, {"code": "TOO_MANY_REQUESTS"}
        if self.delay:
            time.sleep(self.delay)
        parts = [p for p in path.split("/") if p]
        if method != "GET" or not parts or parts[0] not in RESOURCES:
            return 404, {}, {"code": "NOT_FOUND"}
        res = RESOURCES[parts[0]]
        if len(parts) == 2:
            self.requests[f"retrieve {res.name}"] += 1
            obj = self._index.get((res.name, parts[1]))
            if obj is None or obj.detail is None:
                return 404, {}, {"code": "NOT_FOUND", "message": f"no {res.name} {parts[1]}"}
            return 200, {}, obj.detail
        if len(parts) != 1:
            return 404, {}, {"code": "NOT_FOUND"}
        return self._list(res, query)

    def _list(self, res: Resource, query: dict) -> tuple[int, dict, dict]:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        try:
            page = int(one("page_number") or 0)
            size = int(one("page_size") or DEFAULT_PAGE_SIZE)
            gte = _parse(one("created_at_gte")) if one("created_at_gte") else None
            lte = _parse(one("created_at_lte")) if one("created_at_lte") else None
        except ValueError as exc:
            return 422, {}, {"code": "INVALID_REQUEST", "message": str(exc)}
        if not 1 <= size <= MAX_PAGE_SIZE or page < 0:
            self.violations.append(f"page_size {size} / page_number {page}")
            return 422, {}, {"code": "INVALID_REQUEST", "message": "page_size must be 1..100"}
        if page > self.max_page_number:
            self.violations.append(f"page_number {page} above the cap")
            return 422, {}, {"code": "INVALID_REQUEST", "message": "page_number too large"}
        self.requests[f"list {res.name}"] += 1
        with self._lock:
            self.pages.append((res.name, page))
        objs = [o for o in self.history.objects.get(res.name, [])
                if (gte is None or o.created_at >= gte) and (lte is None or o.created_at <= lte)]
        chunk = objs[page * size:(page + 1) * size]
        return 200, {}, {"items": [o.listed for o in chunk]}

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                status, headers, body = fake._answer("GET", parts.path, parse_qs(parts.query),
                                                     self.headers.get("authorization"))
                raw = orjson.dumps(body)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

        return Handler


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="serve a generated Dodo history over HTTP on 127.0.0.1")
    p.add_argument("--count", type=int, default=10_000)
    p.add_argument("--days", type=float, default=365.0)
    p.add_argument("--api-key", default="test-dodo-key")
    p.add_argument("--resources", default=None, help="comma-separated subset")
    p.add_argument("--until", default="2026-01-01T00:00:00Z")
    args = p.parse_args(argv)
    until = _parse(args.until)
    history = History.generate(args.count, until - timedelta(days=args.days), until,
                               resources=args.resources.split(",") if args.resources else None)
    with FakeDodo(history, api_key=args.api_key) as dodo:
        print(f"LISTENING {dodo.url}", flush=True)
        sys.stdin.read()
        print(orjson.dumps(dict(dodo.requests)).decode(), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
