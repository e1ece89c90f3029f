"""Delivery throughput: calls/s from a filled outbox (SQLite, PostgreSQL) to a local fake Segment.

Not a test: it prints numbers. The fake Segment runs in its own process so
that, on a 2-core box, the worker and the receiver each get a core. The
baseline, measured in the same run against the same fake, is raw httpx
posting pre-built (stamped, gzipped) batch bodies with the same number of
threads: the gap between the two is what the outbox costs (claim, ack,
fsync, batching).

    python bench/bench_delivery.py [--calls 200000] [--workers 2] [--no-gzip] [--backend sqlite|postgresql|both]
                                   [--previous]

`--backend postgresql` fills a database created for the run on the server at
$SEGMAP_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres) and drops it after.
`--previous` runs the previous release's PostgreSQL store as well, right after this one's, in the
same run and on the same kind of database (the copy kept for the upgrade tests,
tests/delivery/legacy/outbox_postgres_3392d62.py): the pair shows what this release changed.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from segmap.runtime.calls import Call  # noqa: E402
from segmap.delivery.worker import Delivery, DeliveryConfig  # noqa: E402
from segmap.delivery.message import batch_body, format_sent_at, plan_batches  # noqa: E402
from segmap.delivery.outbox import SqliteOutbox  # noqa: E402
from segmap.delivery.segment_client import SegmentClient  # noqa: E402

WRITE_KEY = "bench-write-key"
PREVIOUS = "postgresql, previous release (3392d62)"


def calls_for(i: int) -> list[Call]:
    """Two calls per webhook, shaped like a real payment.succeeded mapping (~450 B each)."""
    user = f"cus_{i:010d}"
    return [
        Call("identify", {"userId": user, "traits": {"email": f"user{i}@example.com", "name": f"Customer {i}"},
                          "timestamp": "2025-01-01T00:48:46.533Z"}),
        Call("track", {"userId": user, "event": "Order Completed", "timestamp": "2025-01-01T00:48:46.533Z",
                       "properties": {"order_id": f"pay_{i:012d}", "revenue": Decimal("19.99"), "total": Decimal("21.99"),
                                      "tax": Decimal("2.00"), "currency": "USD", "payment_method": "card",
                                      "products": [{"product_id": "pdt_basic", "name": "Basic plan", "price": Decimal("19.99"),
                                                    "quantity": 1}]}}),
    ]


def start_fake() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.fake_segment", "--write-key", WRITE_KEY, "--no-record-messages"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        proc.kill()
        raise SystemExit(f"fake Segment did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


def fill(store: SqliteOutbox, calls: int) -> float:
    webhooks = calls // 2
    t0 = time.perf_counter()
    chunk = 5000
    for start in range(0, webhooks, chunk):
        store.accept_many((f"msg_bench_{i}", "payment.succeeded", b"{}", calls_for(i))
                          for i in range(start, min(webhooks, start + chunk)))
    return time.perf_counter() - t0


def baseline(url: str, store: SqliteOutbox, threads: int, gzip: bool) -> tuple[int, float]:
    """Raw httpx, bodies prepared before the clock starts."""
    payloads, after = [], 0
    while True:
        rows = store.peek(10_000, after)
        if not rows:
            break
        payloads.extend(r.payload for r in rows)
        after = rows[-1].id
    sent_at = format_sent_at()
    bodies = []
    for rng in plan_batches(payloads):
        body = batch_body(payloads[rng.start:rng.stop], sent_at)
        if gzip:
            c = zlib.compressobj(5, zlib.DEFLATED, 31)
            body = c.compress(body) + c.flush()
        bodies.append(body)
    auth = httpx.BasicAuth(WRITE_KEY, "")
    headers = {"Content-Type": "application/json", **({"Content-Encoding": "gzip"} if gzip else {})}
    lock = threading.Lock()
    it = iter(bodies)

    def worker() -> None:
        with httpx.Client(auth=auth, headers=headers, timeout=30) as client:
            while True:
                with lock:
                    body = next(it, None)
                if body is None:
                    return
                client.post(f"{url}/v1/batch", content=body).raise_for_status()

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return len(payloads), time.perf_counter() - t0


def pg_database():
    """A database of this run on the shared server: (url, drop)."""
    import uuid

    import psycopg

    admin = os.environ.get("SEGMAP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"segmap_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.rsplit("/", 1)[0] + "/" + name, drop


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=200_000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--no-gzip", action="store_true")
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    p.add_argument("--previous", action="store_true", help="also the previous release's PostgreSQL store (3392d62)")
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs", flush=True)
    status = 0
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if args.previous and "postgresql" in backends:
        backends.append(PREVIOUS)
    for backend in backends:
        status |= run(args, backend)
    return status


def run(args, backend: str) -> int:
    gzip = not args.no_gzip
    proc, url = start_fake()
    drop = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if backend in ("postgresql", PREVIOUS):
                from segmap.delivery.outbox.postgres import PostgresOutbox
                from tests.delivery.legacy.outbox_postgres_3392d62 import PostgresOutbox as PreviousPostgresOutbox

                db_url, drop = pg_database()
                store = (PostgresOutbox if backend == "postgresql" else PreviousPostgresOutbox)(db_url)
                durability = "synchronous_commit=on"
            else:
                store = SqliteOutbox(os.path.join(tmp, "bench.db"))
                durability = "WAL+FULL"
            print(f"--- {backend} outbox ---", flush=True)
            fill_s = fill(store, args.calls)
            n = store.counts()["pending"]
            print(f"outbox filled: {n} calls in {fill_s:.2f}s ({n / fill_s:,.0f} calls/s via accept_many, {durability})")

            base_n, base_s = baseline(url, store, args.workers, gzip)
            base_rate = base_n / base_s
            print(f"baseline  raw httpx, pre-built batches: {base_n} calls in {base_s:.2f}s = {base_rate:,.0f} calls/s")
            httpx.post(f"{url}/_reset")

            client = SegmentClient(WRITE_KEY, host=url, gzip=gzip)
            delivery = Delivery(store, client, DeliveryConfig(workers=args.workers, poll_interval=0.05))
            t0 = time.perf_counter()
            delivery.start()
            ok = delivery.drain(timeout=600)
            elapsed = time.perf_counter() - t0
            delivery.stop()
            client.close()
            stats = httpx.get(f"{url}/_stats").json()
            counts = store.counts()
            rate = n / elapsed
            print(f"pipeline  outbox -> Segment client -> fake: {n} calls in {elapsed:.2f}s = {rate:,.0f} calls/s "
                  f"({stats['requests']} requests, gzip={'on' if gzip else 'off'}, workers={args.workers})")
            print(f"ratio pipeline/baseline = {rate / base_rate:.2f}")
            print(f"ledger: drained={ok} delivered={counts['delivered']} unique received={stats['unique']} "
                  f"violations={stats['violations']}")
            store.close()
            if not ok or stats["unique"] != n or counts["delivered"] != n:
                print("LEDGER MISMATCH", file=sys.stderr)
                return 1
    finally:
        proc.stdin.close()
        proc.wait(10)
        if drop is not None:
            drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
