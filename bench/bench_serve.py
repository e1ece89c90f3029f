"""Webhook service throughput and latency: signed webhooks accepted per second, p50/p99.

Not a test: it prints numbers. Three processes on loopback:

* the service (`segmap.service` under uvicorn, durable commits: WAL + synchronous=FULL),
  delivering to
* the fake Segment (tests/fakes/fake_segment.py) in its own process, and
* an open-loop load generator (raw asyncio sockets, keep-alive connections,
  requests signed beforehand) that sends at a steady rate and measures each
  latency from the moment the request was *due*, so queueing counts
  (no coordinated omission).

With `taskset` available the service is pinned to CPU 0 and the load
generator and the fake to CPU 1.

Each run ends with a ledger check, by ids, not counts: the webhooks answered 2xx
are exactly the run's webhooks in the inbox, and the fake Segment received exactly
their messageIds. A mismatch is printed as MISMATCH and the script exits 1.
`--baseline` also runs the same rates with group commit off (one transaction, one
fsync per webhook: `max_group=1`).

    python bench/bench_serve.py [--rates 500,1000,2000,2500,3000] [--duration 8] [--connections 64]
                                [--repeat N] [--normal] [--baseline] [--no-floor] [--quick]

The floor: a bare uvicorn + httptools ASGI app that reads the body and answers 200,
running beside the service; each round takes one rate against the service and then
against the floor (`--no-floor` skips it). Every row reports the process's CPU time per
accepted request (user + system, from /proc), counted until the outbox drained; for the
service it is split by thread: the receiver's own (the event loop: HTTP, verification,
mapping; and the group-commit writer: encoding, the SQLite transaction) and delivery
(claims, batches, gzip, HTTP to the fake Segment, acks). The summary gives, per round, the
receiver's CPU and the whole process's as multiples of the floor's. With BENCH_PROFILE=FILE
the service's event-loop thread runs under cProfile and the stats are dumped to FILE
(`python -m pstats FILE`) when it stops.

Environment knobs for experiments: BENCH_EXTRA_PATH (prepended to the service's
PYTHONPATH, e.g. a `pip install --target` dir holding httptools and uvloop, which
uvicorn then uses), BENCH_SWITCH_INTERVAL (sys.setswitchinterval in the service),
BENCH_WORKERS (delivery threads, default 2).
"""
from __future__ import annotations

import argparse
import asyncio
import base64
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

WRITE_KEY = "bench-write-key"
SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdefghi").decode()


# --- the service process ---

SERVICE = r"""
import sys, logging
from pathlib import Path
from segmap.service.config import ServiceConfig
from segmap.service.lifecycle import Service
from segmap.service.server import bind, serve
from segmap.service import logs
import os
mapping, db, seg_host, max_group, sync = sys.argv[1:6]
if os.environ.get("BENCH_SWITCH_INTERVAL"):
    sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
logs.configure("warning")
cfg = ServiceConfig(mapping_path=Path(mapping), secrets=(%r,), db_path=Path(db), write_key=%r,
                    segment_host=seg_host, max_group=int(max_group), synchronous=sync,
                    delivery_workers=int(os.environ.get("BENCH_WORKERS", "2")))
svc = Service(cfg)
svc.open()
sock = bind("127.0.0.1", 0)
admin = bind("127.0.0.1", 0)  # /metrics lives on the admin listener
print("PORT", sock.getsockname()[1], admin.getsockname()[1], flush=True)
if os.environ.get("BENCH_THREAD_IDS"):
    # native thread id -> thread name, once the service's threads run: the benchmark reads each
    # thread's CPU time from /proc itself, so measuring costs the service nothing
    import json, threading, time as _t
    def _publish_thread_ids():
        want = {"segmap-group-commit"} | {f"segmap-delivery-{i}" for i in range(int(os.environ.get("BENCH_WORKERS", "2")))}
        while True:
            ids = {th.native_id: th.name for th in threading.enumerate()}
            if want <= set(ids.values()):
                break
            _t.sleep(0.05)
        with open(os.environ["BENCH_THREAD_IDS"] + ".tmp", "w") as fh:
            json.dump(ids, fh)
        os.replace(os.environ["BENCH_THREAD_IDS"] + ".tmp", os.environ["BENCH_THREAD_IDS"])
    threading.Thread(target=_publish_thread_ids, name="bench-thread-ids", daemon=True).start()
if os.environ.get("BENCH_PROFILE"):
    import cProfile
    prof = cProfile.Profile()
    try:
        status = prof.runcall(serve, svc, sock, admin)
    finally:
        prof.dump_stats(os.environ["BENCH_PROFILE"])
    sys.exit(status)
sys.exit(serve(svc, sock, admin))
""" % (SECRET, WRITE_KEY)

# The floor: the least any Python ASGI server on this stack can do per webhook request.
FLOOR = r"""
import sys
import uvicorn
from segmap.service.server import bind

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:  # read the whole body, as the service must
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"21")]})
    await send({"type": "http.response.body", "body": b'{"status":"accepted"}'})

sock = bind("127.0.0.1", 0)
print("PORT", sock.getsockname()[1], 0, flush=True)
uvicorn.Server(uvicorn.Config(app, http="httptools", log_config=None, access_log=False, lifespan="on",
                              server_header=False)).run(sockets=[sock])
"""


# The floor again, on segmap's own HTTP protocol (server.py: head bytes counted, head timer, JSON
# refusals) instead of uvicorn's: what that protocol costs per request (`--protocol-floor`).
FLOOR_SEGMAP_PROTOCOL = FLOOR.replace(
    'uvicorn.Config(app, http="httptools",',
    'uvicorn.Config(app, http=__import__("segmap.service.server", fromlist=["http_protocol"]).http_protocol(None),')
assert FLOOR_SEGMAP_PROTOCOL != FLOOR


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far, from /proc; 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _taskset(cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu)] if shutil.which("taskset") and (os.cpu_count() or 1) >= 2 else []


def start_fake() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [*_taskset(1), sys.executable, "-m", "tests.fakes.fake_segment", "--write-key", WRITE_KEY, "--no-record-messages"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    line = proc.stdout.readline().strip()
    if not line.startswith("LISTENING "):
        proc.kill()
        raise RuntimeError(f"fake Segment did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


_ADMIN_PORT: dict[int, int] = {}  # webhook port -> admin port of the same service
_THREADS: dict[int, dict[int, str]] = {}  # service pid -> {native thread id: thread name}

# which of the service's threads are the receiver's own (see thread_cpu)
RECEIVER_THREADS = {"MainThread": "loop", "segmap-group-commit": "writer"}


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of a process, split by role, read from /proc by this process (so measuring
    costs the service nothing): ``loop`` (the event loop: HTTP, verification, mapping), ``writer``
    (group commits), ``delivery`` (the delivery threads: claim, gzip, HTTP to Segment, ack),
    ``other`` (the rest: threads answering /metrics scrapes) and ``total`` (the whole process).
    For a process with no thread map (the floor) everything is under ``total`` and ``other``."""
    out = {"loop": 0.0, "writer": 0.0, "delivery": 0.0}
    tick = os.sysconf("SC_CLK_TCK")
    for tid, name in _THREADS.get(pid, {}).items():
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a thread that ended: its time stays in the process total, under "other"
            continue
        role = RECEIVER_THREADS.get(name) or ("delivery" if name.startswith("segmap-delivery-") else None)
        if role is not None:
            out[role] += (int(fields[11]) + int(fields[12])) / tick
    out["total"] = cpu_seconds(pid)
    out["other"] = out["total"] - out["loop"] - out["writer"] - out["delivery"]
    return out


def start_service(workdir: Path, fake_url: str, max_group: int, sync: str = "FULL") -> tuple[subprocess.Popen, int, Path]:
    if max_group < 0:  # the floor (-1), or the floor on segmap's HTTP protocol (-2)
        script = FLOOR if max_group == -1 else FLOOR_SEGMAP_PROTOCOL
        proc = subprocess.Popen([*_taskset(0), sys.executable, "-c", script], cwd=workdir, stdout=subprocess.PIPE,
                                text=True, env={**os.environ, "PYTHONPATH": os.environ.get("BENCH_EXTRA_PATH", "") + ":"
                                                + str(ROOT)})
        line = proc.stdout.readline().strip()
        if not line.startswith("PORT "):
            proc.kill()
            raise RuntimeError(f"floor app did not start: {line!r}")
        time.sleep(0.3)
        return proc, int(line.split()[1]), None
    mapping = workdir / "segmap.yaml"
    if not mapping.exists():
        from segmap.cli.cmd_init import starter_text

        mapping.write_text(starter_text())
    db = workdir / f"bench-{max_group}-{sync}-{time.monotonic_ns()}.db"
    ids_file = db.with_suffix(".threads.json")
    proc = subprocess.Popen([*_taskset(0), sys.executable, "-c", SERVICE, str(mapping), str(db), fake_url,
                             str(max_group), sync], cwd=workdir, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.environ.get("BENCH_EXTRA_PATH", "") + ":" + str(ROOT),
                                 "BENCH_THREAD_IDS": str(ids_file)})
    line = proc.stdout.readline().strip()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"service did not start: {line!r}")
    port = int(line.split()[1])
    _ADMIN_PORT[port] = int(line.split()[2])
    time.sleep(0.3)
    end = time.monotonic() + 10
    while not ids_file.exists() and time.monotonic() < end:
        time.sleep(0.05)
    _THREADS[proc.pid] = {int(k): v for k, v in json.loads(ids_file.read_text()).items()}
    return proc, port, db


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- the load generator (its own process) ---

def build_requests(n: int, prefix: str) -> list[tuple[str, bytes]]:
    import orjson

    from segmap.samples import sample_envelope
    from segmap.service.verification import sign

    base = sample_envelope("payment.succeeded")
    ts = int(time.time()) + 60  # stays inside the 5-minute window for the whole run
    out = []
    for i in range(n):
        base["data"]["payment_id"] = f"pay_{prefix}{i}"
        base["data"]["customer"]["customer_id"] = f"cus_{prefix}{i}"
        body = orjson.dumps(base)
        wid = f"msg_{prefix}{i}"
        head = (f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nwebhook-id: {wid}\r\nwebhook-timestamp: {ts}\r\n"
                f"webhook-signature: {sign(SECRET, wid, ts, body)}\r\n\r\n").encode()
        out.append((wid, head + body))
    return out


async def _run_load(port: int, rate: float, duration: float, connections: int, prefix: str) -> dict:
    n = int(rate * duration)
    reqs = build_requests(n, prefix)
    queue: asyncio.Queue = asyncio.Queue()
    lat: list[float] = []
    ok: list[str] = []
    errors: dict[str, int] = {}

    async def conn() -> None:
        r = w = None
        while True:
            item = await queue.get()
            if item is None:
                break
            due, wid, raw = item
            for _attempt in range(2):
                try:
                    if w is None:
                        r, w = await asyncio.open_connection("127.0.0.1", port)
                    w.write(raw)
                    head = await r.readuntil(b"\r\n\r\n")
                    status = int(head[9:12])
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line[:15].lower() == b"content-length:":
                            length = int(line[15:])
                    await r.readexactly(length)
                    if b"connection: close" in head.lower():
                        w.close()
                        r = w = None
                    break
                except (OSError, asyncio.IncompleteReadError) as exc:
                    if w is not None:
                        w.close()
                    r = w = None
                    status = type(exc).__name__
            lat.append(time.perf_counter() - due)
            if status == 200:
                ok.append(wid)
            else:
                errors[str(status)] = errors.get(str(status), 0) + 1
        if w is not None:
            w.close()

    workers = [asyncio.create_task(conn()) for _ in range(connections)]
    t0 = time.perf_counter() + 0.05
    for i, (wid, raw) in enumerate(reqs):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((due, wid, raw))
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    elapsed = time.perf_counter() - t0
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000 if lat else float("nan")

    return {"sent": n, "ok": len(ok), "errors": errors, "elapsed": elapsed, "achieved": len(ok) / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": lat[-1] * 1000 if lat else float("nan"),
            "ok_ids": ok}


def loadgen_main(argv: list[str]) -> int:
    port, rate, duration, connections, prefix = int(argv[0]), float(argv[1]), float(argv[2]), int(argv[3]), argv[4]
    res = asyncio.run(_run_load(port, rate, duration, connections, prefix))
    print(json.dumps(res), flush=True)
    return 0


def run_load(port: int, rate: float, duration: float, connections: int, prefix: str) -> dict:
    out = subprocess.run([*_taskset(1), sys.executable, __file__, "--loadgen", str(port), str(rate), str(duration),
                          str(connections), prefix], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.environ.get("BENCH_EXTRA_PATH", "") + ":" + str(ROOT)})
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the ledger check ---

CALLS_PER_WEBHOOK = 2  # the starter mapping's payment.succeeded rule: a track and an identify


def compare_ledgers(acked: set[str], inbox: set[str], delivered: set[str]) -> tuple[bool, str]:
    """Sets of ids, not counts: one lost webhook and one stray one cancel out in a count.

    ``acked``: webhook ids answered 2xx; ``inbox``: this run's webhook ids in the inbox;
    ``delivered``: this run's messageIds Segment accepted."""
    from segmap.delivery.message import message_id_for

    expected = {message_id_for(w, i) for w in acked for i in range(CALLS_PER_WEBHOOK)}
    problems = []
    for what, ids in (("acked but not in the inbox", acked - inbox), ("in the inbox but not acked", inbox - acked),
                      ("messageIds never delivered", expected - delivered),
                      ("messageIds delivered but not expected", delivered - expected)):
        if ids:
            problems.append(f"{len(ids)} {what} (e.g. {sorted(ids)[0]})")
    if problems:
        return False, "MISMATCH: " + "; ".join(problems)
    return True, f"ok ({len(acked)} webhooks, {len(delivered)} messageIds, as sets)"


def check_ledger(db: Path, fake_url: str, prefix: str, acked: list[str]) -> tuple[bool, str]:
    """After the outbox drained: compare_ledgers on this run's webhook ids (they start with ``prefix``)
    and every messageId the fake Segment accepted since it was reset before the run."""
    import sqlite3

    import httpx

    _drain(db)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        inbox = {w for (w,) in con.execute("SELECT webhook_id FROM inbox WHERE webhook_id LIKE ?", (prefix + "%",))}
    finally:
        con.close()
    delivered = set(httpx.get(f"{fake_url}/_ids").json())  # the fake was reset before this run
    return compare_ledgers(set(acked), inbox, delivered)


def exit_status(rows: list[dict]) -> int:
    """1 when any run's ledger did not match: a benchmark that lost webhooks has no result."""
    return 0 if all(row["ledger_ok"] for row in rows) else 1


def bench(rates: list[float], duration: float, connections: int, configs: list[tuple[str, int, str]],
          repeat: int = 1) -> list[dict]:
    """Every configuration is started once and kept running; each round runs one rate against each
    of them in turn (the floor right after the service), so that a ratio to the floor pairs two
    measurements taken seconds apart, under the same conditions."""
    rows = []
    fake, fake_url = start_fake()
    work = Path(tempfile.mkdtemp(prefix="segmap-bench-serve-"))
    running: list[tuple[str, int, str, subprocess.Popen, int, Path | None]] = []
    saturated: set[str] = set()
    try:
        for label, max_group, sync in configs:
            proc, port, db = start_service(work, fake_url, max_group, sync)
            running.append((label, max_group, sync, proc, port, db))
            run_load(port, 300, 2, connections, f"w{max_group}_")  # warm-up (imports, page cache, WAL)
            if db is not None:
                _drain(db)
                _commit_stats(port)
                _server_p99(port)
        for rate in [r for r in rates for _ in range(repeat)]:
            for label, max_group, sync, proc, port, db in running:
                if label in saturated:
                    continue
                res = run_one(label, max_group, sync, proc, port, db, rate, duration, connections, fake_url)
                rows.append(res)
                if res["p99_ms"] > 2000:
                    saturated.add(label)  # higher rates only queue
    finally:
        for *_, proc, _port, _db in running:
            stop(proc)
        fake.stdin.close()
        fake.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return rows


def run_one(label: str, max_group: int, sync: str, proc: subprocess.Popen, port: int, db: Path | None, rate: float,
            duration: float, connections: int, fake_url: str) -> dict:
    """One rate against one running process; CPU is counted until the outbox drained (delivery included)."""
    import httpx

    floor = db is None
    if db is not None:
        _drain(db)
    httpx.post(f"{fake_url}/_reset")
    seg_before = httpx.get(f"{fake_url}/_stats").json()["requests"]
    prefix = f"g{max_group}{sync}r{int(rate)}_{time.monotonic_ns()}_"
    cpu_before = thread_cpu(proc.pid)
    res = run_load(port, rate, duration, connections, prefix)
    if db is None:
        commits, server_p99, seg = "-", "-", 0
        ledger_ok, ledger = True, "n/a (the floor stores nothing)"
        res.pop("ok_ids")
    else:
        commits = _commit_stats(port)
        server_p99 = _server_p99(port)
        ledger_ok, ledger = check_ledger(db, fake_url, "msg_" + prefix, res.pop("ok_ids"))  # waits for the drain
        seg = httpx.get(f"{fake_url}/_stats").json()["requests"] - seg_before
    cpu_after = thread_cpu(proc.pid)
    ok = res["ok"]
    per = {k: (cpu_after[k] - cpu_before[k]) / ok * 1e6 if ok else float("nan") for k in cpu_after}
    res.update(label=label, rate=rate, ledger=ledger, ledger_ok=ledger_ok, commits=commits, server_p99=server_p99,
               segment_requests=seg, load=os.getloadavg()[0], cpu_us_per_request=per["total"],
               receiver_us_per_request=per["loop"] + per["writer"], cpu_us_by_role=per)
    split = "" if floor else (f" (receiver {per['loop'] + per['writer']:.0f}: loop {per['loop']:.0f} + writer "
                              f"{per['writer']:.0f}; delivery {per['delivery']:.0f}; other {per['other']:.0f})")
    print(f"{label:>22} | {rate:6.0f}/s | achieved {res['achieved']:7.0f}/s | p50 {res['p50_ms']:6.1f} ms"
          f" | p99 {res['p99_ms']:6.1f} ms | max {res['max_ms']:6.1f} ms | CPU {per['total']:5.0f} us/request{split}"
          f" | server p99 <= {server_p99}"
          f" | errors {res['errors'] or 0} | {commits} | {seg} Segment requests"
          f" | load {res['load']:.2f} | ledger {ledger}", flush=True)
    return res


def summary(rows: list[dict]) -> list[str]:
    """Per round, the service's CPU per accepted webhook against the floor's at the same rate: the
    receiver's own (event loop + group-commit writer, the issue's target: at most 2x) and the whole
    process (delivery included)."""
    lines = []
    floors = [r for r in rows if r["label"].startswith("floor")]
    services = [r for r in rows if r["label"] == "group commit, FULL"]
    for rate in dict.fromkeys(r["rate"] for r in services):
        pairs = zip([r for r in services if r["rate"] == rate], [f for f in floors if f["rate"] == rate])
        for r, f in pairs:
            fl = f["cpu_us_per_request"]
            if not fl or fl != fl:  # nothing accepted, or NaN
                continue
            rec, tot = r["receiver_us_per_request"], r["cpu_us_per_request"]
            lines.append(f"at {rate:.0f}/s: receiver {rec:.0f} us = {rec / fl:.2f}x the floor's {fl:.0f} us; "
                         f"whole process (delivery included) {tot:.0f} us = {tot / fl:.2f}x; achieved "
                         f"{r['achieved']:.0f}/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms (floor p99 "
                         f"{f['p99_ms']:.1f} ms); load {r['load']:.2f}")
    return lines


def _drain(db: Path, timeout: float = 60.0) -> None:
    from segmap.delivery.outbox import SqliteOutbox

    store = SqliteOutbox(db, create=False)
    try:
        end = time.monotonic() + timeout
        while time.monotonic() < end and store.has_undelivered():
            time.sleep(0.1)
    finally:
        store.close()


_last_commit: dict[int, tuple[float, float, float]] = {}
_last_hist: dict[int, dict[str, float]] = {}


def _server_p99(port: int) -> str:
    """Upper bucket bound holding the 99th percentile of the service's own request durations
    (first byte in to answer out) since the previous call."""
    import httpx

    text = httpx.get(f"http://127.0.0.1:{_ADMIN_PORT.get(port, port)}/metrics").text
    cur = {}
    for line in text.splitlines():
        if line.startswith("segmap_webhook_request_duration_seconds_bucket"):
            cur[line.split('le="')[1].split('"')[0]] = float(line.split()[-1])
    prev = _last_hist.get(port, {})
    _last_hist[port] = cur
    total = cur.get("+Inf", 0) - prev.get("+Inf", 0)
    if total <= 0:
        return "-"
    for le, v in cur.items():
        if (v - prev.get(le, 0)) / total >= 0.99:
            return "+Inf" if le == "+Inf" else f"{float(le) * 1000:g} ms"
    return "+Inf"


def _commit_stats(port: int) -> str:
    """Mean webhooks per transaction since the previous call, from /metrics."""
    import httpx

    text = httpx.get(f"http://127.0.0.1:{_ADMIN_PORT.get(port, port)}/metrics").text
    vals = {}
    for line in text.splitlines():
        for name in ("segmap_group_commit_webhooks_sum", "segmap_group_commit_webhooks_count",
                     "segmap_group_commit_duration_seconds_sum"):
            if line.startswith(name + " "):
                vals[name] = float(line.split()[1])
    s, c = vals.get("segmap_group_commit_webhooks_sum", 0), vals.get("segmap_group_commit_webhooks_count", 0)
    d = vals.get("segmap_group_commit_duration_seconds_sum", 0)
    ps, pc, pd = _last_commit.get(port, (0, 0, 0))
    _last_commit[port] = (s, c, d)
    n = c - pc
    if n <= 0:
        return "no commits"
    return f"{(s - ps) / n:.1f} webhooks/commit, {(d - pd) / n * 1000:.1f} ms/commit"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--loadgen":
        return loadgen_main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rates", default="500,1000,2000,2500,3000")
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--baseline", action="store_true", help="also run without group commit (one fsync per webhook)")
    p.add_argument("--no-baseline", action="store_true", help=argparse.SUPPRESS)  # the default now; kept for old commands
    p.add_argument("--normal", action="store_true", help="also run group commit with synchronous=NORMAL (not durable)")
    p.add_argument("--repeat", type=int, default=1, help="run each rate N times")
    p.add_argument("--quick", action="store_true", help="rates 1000,2000 for 4 s")
    p.add_argument("--no-floor", action="store_true", help="skip the bare uvicorn + httptools app")
    p.add_argument("--protocol-floor", action="store_true",
                   help="also run the bare app on segmap's HTTP protocol (what that protocol costs per request)")
    p.add_argument("--threads", action="store_true", help=argparse.SUPPRESS)  # always on now; kept for old commands
    args = p.parse_args(argv)
    rates = [1000.0, 2000.0] if args.quick else [float(x) for x in args.rates.split(",")]
    duration = 4.0 if args.quick else args.duration
    probe = subprocess.run([sys.executable, "-c", "import importlib.util as u; print(('httptools' if u.find_spec('httptools') "
                            "else 'h11') + ' + ' + ('uvloop' if u.find_spec('uvloop') else 'asyncio'))"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.environ.get("BENCH_EXTRA_PATH", "")})
    print(f"service HTTP stack: uvicorn {probe.stdout.strip()}", flush=True)
    print(f"segmap serve benchmark: {os.cpu_count()} CPUs, taskset {'on' if _taskset(0) else 'off'}, "
          f"{args.connections} connections, {duration:g} s per rate, load average {os.getloadavg()[0]:.2f}", flush=True)
    configs = [("group commit, FULL", 512, "FULL")]
    if not args.no_floor:
        configs.append(("floor: bare uvicorn", -1, "-"))
    if args.protocol_floor:
        configs.append(("bare app, segmap's HTTP", -2, "-"))
    if args.baseline:
        configs.append(("no group commit, FULL", 1, "FULL"))
    if args.normal:
        configs.append(("group commit, NORMAL", 512, "NORMAL"))
    rows = bench(rates, duration, args.connections, configs, args.repeat)
    lines = summary(rows)
    if lines:
        print("CPU per accepted webhook against the floor (target: receiver at most 2x; the whole process is "
              "reported beside it):", flush=True)
        for line in lines:
            print("  " + line, flush=True)
    floors = [r for r in rows if r["label"].startswith("floor")]
    for r, f in zip([r for r in rows if r["label"] == "bare app, segmap's HTTP"], floors):
        print(f"  segmap's HTTP protocol at {r['rate']:.0f}/s: {r['cpu_us_per_request']:.1f} us per request against "
              f"uvicorn's {f['cpu_us_per_request']:.1f} us ({r['cpu_us_per_request'] / f['cpu_us_per_request']:.3f}x)",
              flush=True)
    status = exit_status(rows)
    if status:
        print("LEDGER MISMATCH: webhooks or messages were lost or invented; these numbers do not count", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
