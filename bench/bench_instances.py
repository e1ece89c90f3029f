"""Several `segmap serve` instances on one PostgreSQL database, beside one on SQLite, in one run.

Not a test: it prints numbers. For each setup (SQLite with 1 instance; PostgreSQL with 1, 2
and 3 instances on one database), an open-loop load generator in its own process sends
signed webhooks round-robin over the instances at each offered rate, measuring every
latency from the moment the request was due (queueing counts). Every run ends with a
ledger check by ids: the webhooks answered 2xx are exactly this run's webhooks in the
inbox, and the fake Segment received exactly their messageIds. A mismatch prints MISMATCH
and the script exits 1.

    python bench/bench_instances.py [--rates 500,1000] [--duration 4] [--instances 1,2,3]
    python bench/bench_instances.py --kill-run 6000 [--rate 400]   # 3 instances, one kill -9'd and restarted

The PostgreSQL database is created for the run on $SEGMAP_BENCH_PG (default
postgresql://postgres@127.0.0.1:5432/postgres) and dropped after. Everything (instances,
PostgreSQL, the fake Segment, the load generator) shares this machine's cores, so the
numbers say how the pieces compete for CPU here, not how N hosts would scale
(docs/delivery.md, "How far N instances go", reasons about that).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_delivery import pg_database  # noqa: E402
from bench.bench_serve import SECRET, WRITE_KEY, build_requests, compare_ledgers, start_fake, stop  # noqa: E402

SERVICE = r"""
import sys
from pathlib import Path
from segmap.delivery.outbox import db_target
from segmap.service.config import ServiceConfig
from segmap.service.lifecycle import Service
from segmap.service.server import bind, serve
from segmap.service import logs
mapping, db, seg_host = sys.argv[1:4]
logs.configure("warning")
cfg = ServiceConfig(mapping_path=Path(mapping), secrets=(%r,), db_path=db_target(db), write_key=%r,
                    segment_host=seg_host, delivery_workers=1)
svc = Service(cfg)
svc.open()
sock = bind("127.0.0.1", 0)
admin = bind("127.0.0.1", 0)
print("PORT", sock.getsockname()[1], flush=True)
sys.exit(serve(svc, sock, admin))
""" % (SECRET, WRITE_KEY)


def start_service(workdir: Path, db: str, fake_url: str) -> tuple[subprocess.Popen, int]:
    mapping = workdir / "segmap.yaml"
    if not mapping.exists():
        from segmap.cli.cmd_init import starter_text

        mapping.write_text(starter_text())
    proc = subprocess.Popen([sys.executable, "-c", SERVICE, str(mapping), db, fake_url], cwd=workdir,
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = proc.stdout.readline().strip()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"service did not start: {line!r}")
    return proc, int(line.split()[1])


# --- load generator: webhook i goes to instance i mod N (strict round-robin) ---

async def _load(ports: list[int], rate: float, duration: float, connections: int, prefix: str,
                retry: bool) -> dict:
    n = int(rate * duration)
    reqs = build_requests(n, prefix)
    queues = [asyncio.Queue() for _ in ports]
    lat: list[float] = []
    ok: list[str] = []
    errors: dict[str, int] = {}
    ports_now = list(ports)  # a restarted instance's new port is read from a file (kill run)

    async def send_one(k: int, raw: bytes, conn: list) -> object:
        for _attempt in range(2):
            try:
                if conn[0] is None:
                    conn[0] = await asyncio.open_connection("127.0.0.1", ports_now[k])
                r, w = conn[0]
                w.write(raw)
                head = await r.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await r.readexactly(length)
                if b"connection: close" in head.lower():
                    w.close()
                    conn[0] = None
                return int(head[9:12])
            except (OSError, asyncio.IncompleteReadError) as exc:
                if conn[0] is not None:
                    conn[0][1].close()
                conn[0] = None
                status = type(exc).__name__
        return status

    async def worker(k: int) -> None:
        conn: list = [None]
        while True:
            item = await queues[k].get()
            if item is None:
                break
            due, i, wid, raw = item
            target = k
            while True:
                status = await send_one(target, raw, conn)
                if status == 200 or not retry:
                    break
                errors[str(status)] = errors.get(str(status), 0) + 1
                conn[0] = None
                target = (target + 1) % len(ports_now)  # fail over to the next instance
                await asyncio.sleep(0.05)
                if time.perf_counter() - due > 60:
                    break
            lat.append(time.perf_counter() - due)
            if status == 200:
                ok.append(wid)
            elif not retry:
                errors[str(status)] = errors.get(str(status), 0) + 1
        if conn[0] is not None:
            conn[0][1].close()

    async def follow_ports() -> None:
        path = os.environ.get("BENCH_PORTS_FILE")
        while path:
            try:
                ports_now[:] = json.loads(Path(path).read_text())
            except (OSError, ValueError):
                pass
            await asyncio.sleep(0.05)

    per = max(1, connections // len(ports))
    workers = [asyncio.create_task(worker(k)) for k in range(len(ports)) for _ in range(per)]
    follower = asyncio.create_task(follow_ports())
    t0 = time.perf_counter() + 0.05
    for i, (wid, raw) in enumerate(reqs):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queues[i % len(ports)].put_nowait((due, i, wid, raw))
    for k in range(len(ports)):
        for _ in range(per):
            queues[k].put_nowait(None)
    await asyncio.gather(*workers)
    follower.cancel()
    elapsed = time.perf_counter() - t0
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")

    return {"sent": n, "ok": len(ok), "errors": errors, "elapsed": elapsed, "achieved": len(ok) / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "ok_ids": ok}


def run_load(ports: list[int], rate: float, duration: float, connections: int, prefix: str, *,
             retry: bool = False, ports_file: str = "") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--loadgen", json.dumps(ports), str(rate), str(duration),
                             str(connections), prefix, "1" if retry else "0"], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT), "BENCH_PORTS_FILE": ports_file})


def result(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("load generator failed")
    return json.loads(out.strip().splitlines()[-1])


# --- databases and the ledger ---

def drain(db: str, timeout: float = 120.0) -> None:
    from segmap.delivery.outbox import open_store

    store = open_store(db, create=False)
    try:
        end = time.monotonic() + timeout
        while store.has_undelivered() and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        store.close()


def ledger(db: str, fake_url: str, prefix: str, acked: list[str]) -> tuple[bool, str]:
    import httpx

    from segmap.delivery.outbox import open_store

    drain(db)
    store = open_store(db, create=False)
    try:
        if db.startswith("postgresql://"):
            with store._tx() as conn:
                inbox = {w for (w,) in conn.execute("SELECT webhook_id FROM inbox WHERE starts_with(webhook_id, %s)",
                                                    (prefix,))}
        else:
            inbox = {w for (w,) in store._conn().execute("SELECT webhook_id FROM inbox WHERE webhook_id LIKE ?",
                                                         (prefix + "%",))}
    finally:
        store.close()
    delivered = set(httpx.get(f"{fake_url}/_ids").json())
    return compare_ledgers(set(acked), inbox, delivered)


def throughput(rates: list[float], duration: float, connections: int, counts: list[int]) -> int:
    import httpx

    fake, fake_url = start_fake()
    work = Path(tempfile.mkdtemp(prefix="segmap-bench-instances-"))
    status = 0
    setups = [("sqlite", 1)] + [("postgresql", n) for n in counts]
    try:
        for backend, n in setups:
            drop = None
            if backend == "postgresql":
                db, drop = pg_database()
            else:
                db = str(work / f"bench-{time.monotonic_ns()}.db")
            procs = []
            try:
                procs = [start_service(work, db, fake_url) for _ in range(n)]
                ports = [p for _, p in procs]
                result(run_load(ports, 200, 1.5, connections, f"warm{n}{backend[0]}_"))
                for rate in rates:
                    drain(db)  # the previous run's calls reach the fake before it is reset
                    httpx.post(f"{fake_url}/_reset")
                    prefix = f"{backend[0]}{n}r{int(rate)}_{time.monotonic_ns()}_"
                    res = result(run_load(ports, rate, duration, connections, prefix))
                    ok, text = ledger(db, fake_url, "msg_" + prefix, res.pop("ok_ids"))
                    status |= 0 if ok else 1
                    print(f"{backend:>10} x{n} | offered {rate:6.0f}/s | accepted {res['achieved']:7.0f}/s"
                          f" | p50 {res['p50_ms']:7.1f} ms | p99 {res['p99_ms']:7.1f} ms | errors {res['errors'] or 0}"
                          f" | load {os.getloadavg()[0]:.2f} | ledger {text}", flush=True)
            finally:
                for proc, _ in procs:
                    stop(proc)
                if drop is not None:
                    drop()
    finally:
        fake.stdin.close()
        fake.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return status


def kill_run(total: int, rate: float, connections: int) -> int:
    """Three instances; the middle one is killed with SIGKILL a third of the way in and
    restarted; the sender fails over like a load balancer. Ledger by ids at the end."""
    import httpx

    fake, fake_url = start_fake()
    work = Path(tempfile.mkdtemp(prefix="segmap-bench-kill-"))
    db, drop = pg_database()
    procs = []
    try:
        procs = [start_service(work, db, fake_url) for _ in range(3)]
        ports_file = work / "ports.json"
        ports_file.write_text(json.dumps([p for _, p in procs]))
        httpx.post(f"{fake_url}/_reset")
        prefix = f"kill_{time.monotonic_ns()}_"
        duration = total / rate
        load = run_load([p for _, p in procs], rate, duration, connections, prefix, retry=True,
                        ports_file=str(ports_file))
        time.sleep(duration / 3)
        procs[1][0].send_signal(signal.SIGKILL)
        procs[1][0].wait(10)
        killed_at = time.monotonic()
        procs[1] = start_service(work, db, fake_url)
        ports_file.write_text(json.dumps([p for _, p in procs]))
        print(f"killed instance 2 with SIGKILL and restarted it ({time.monotonic() - killed_at:.1f} s)", flush=True)
        res = result(load)
        ok, text = ledger(db, fake_url, "msg_" + prefix, res.pop("ok_ids"))
        print(f"3 instances, one kill -9'd | {res['sent']} webhooks at {rate:.0f}/s | acked {res['ok']}"
              f" | p99 {res['p99_ms']:.1f} ms | retried after errors {res['errors'] or 0}"
              f" | load {os.getloadavg()[0]:.2f} | ledger {text}", flush=True)
        return 0 if ok and res["ok"] == res["sent"] else 1
    finally:
        for proc, _ in procs:
            stop(proc)
        drop()
        fake.stdin.close()
        fake.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--loadgen":
        ports, rate, duration, conns, prefix, retry = argv[1:7]
        res = asyncio.run(_load(json.loads(ports), float(rate), float(duration), int(conns), prefix, retry == "1"))
        print(json.dumps(res), flush=True)
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", default="500,1000")
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--connections", type=int, default=48)
    p.add_argument("--instances", default="1,2,3", help="PostgreSQL setups to run (instances each)")
    p.add_argument("--kill-run", type=int, default=0, metavar="N", help="instead: N webhooks, 3 instances, one kill -9")
    p.add_argument("--rate", type=float, default=400.0, help="offered rate of the kill run")
    args = p.parse_args(argv)
    print(f"bench_instances: {os.cpu_count()} CPUs shared by the instances, PostgreSQL, the fake Segment and the "
          f"load generator; load average {os.getloadavg()[0]:.2f}", flush=True)
    if args.kill_run:
        status = kill_run(args.kill_run, args.rate, args.connections)
    else:
        status = throughput([float(r) for r in args.rates.split(",")], args.duration, args.connections,
                            [int(n) for n in args.instances.split(",")])
    if status:
        print("LEDGER MISMATCH: webhooks or messages were lost or invented; these numbers do not count", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
