"""What the PostgreSQL outbox's own statements cost: this release beside the previous one, per round.

Not a test: it prints numbers. The previous release's store is the one kept for the upgrade
tests (tests/delivery/legacy/outbox_postgres_3392d62.py, commit 3392d62); both run against a
database created for the round, each through a pool of one connection, so that the CPU time
of that connection's server process (/proc/<pid>/stat) is the database's work for the store.
Wall times on a shared machine mostly measure waiting (for the disk, for a core); the CPU
columns are the ones to compare. Three workloads:

* accept: webhooks (two calls each) in groups of --group through `accept_many`;
* drain: claim 2,500 due calls, ack them in two batches of 1,250 (what a worker does with a
  backlog), until the outbox is empty;
* small: claim 2 calls and ack them, one cycle per webhook (a worker keeping up with a trickle).

    python bench/bench_pg_outbox.py [--calls 40000] [--small 400] [--group 8] [--rounds 2]

The databases are created on $SEGMAP_BENCH_PG (default
postgresql://postgres@127.0.0.1:5432/postgres) and dropped after.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_delivery import pg_database, calls_for  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")


def _server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


class _Meter:
    """Wall, this process's CPU and the store's server process CPU over a block, per unit."""

    def __init__(self, pid: int):
        self.pid = pid

    def run(self, fn: Callable[[], Any], units: int) -> tuple[float, float, float]:
        w0, c0, s0 = time.perf_counter(), time.process_time(), _server_cpu(self.pid)
        fn()
        scale = 1e6 / max(1, units)
        return ((time.perf_counter() - w0) * scale, (time.process_time() - c0) * scale,
                (_server_cpu(self.pid) - s0) * scale)


def _stores() -> dict[str, type]:
    from segmap.delivery.outbox.postgres import PostgresOutbox
    from tests.delivery.legacy.outbox_postgres_3392d62 import PostgresOutbox as Previous

    return {"previous (3392d62)": Previous, "this release": PostgresOutbox}


def measure(store_cls: type, calls: int, small: int, group: int) -> dict[str, tuple[float, float, float]]:
    url, drop = pg_database()
    try:
        store = store_cls(url, min_size=1, max_size=1)
        try:
            with store._pool.connection() as conn:
                pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            meter = _Meter(pid)
            webhooks = [(f"msg_{i}", "payment.succeeded", b"{}", calls_for(i)) for i in range(calls // 2 + small)]
            out = {}

            def accept() -> None:
                for k in range(0, calls // 2, group):
                    store.accept_many(webhooks[k:k + group])

            out["accept, per webhook"] = meter.run(accept, calls // 2)

            def drain() -> None:
                while rows := store.claim(2500, 30):
                    for k in range(0, len(rows), 1250):
                        store.ack([r.id for r in rows[k:k + 1250]], token=rows[0].token)

            out["drain: claim + ack, per call"] = meter.run(drain, calls)
            store.accept_many(webhooks[calls // 2:])

            def trickle() -> None:
                for _ in range(small):
                    rows = store.claim(2, 30)
                    store.ack([r.id for r in rows], token=rows[0].token)

            out["small: claim(2) + ack, per cycle"] = meter.run(trickle, small)
            if store.counts()["delivered"] != calls + 2 * small:
                raise SystemExit(f"LEDGER MISMATCH: {store.counts()}")
            return out
        finally:
            store.close()
    finally:
        drop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=40_000)
    p.add_argument("--small", type=int, default=400)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--rounds", type=int, default=2)
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs; wall / client CPU / server CPU in µs", flush=True)
    for rnd in range(1, args.rounds + 1):
        for name, cls in _stores().items():
            res = measure(cls, args.calls, args.small, args.group)
            cells = " | ".join(f"{what} {w:7.0f} / {c:5.0f} / {s:5.0f}" for what, (w, c, s) in res.items())
            print(f"round {rnd} {name:18s} load {os.getloadavg()[0]:4.1f} | {cells}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
