"""Signed webhooks during a flood of unauthenticated traffic: the larger soak of issue 14.

Not a test: it prints numbers. The service (`segmap.service` under uvicorn, as
bench_serve.py starts it) delivers to the fake Segment; this process sends signed
webhooks at a steady rate over keep-alive connections and measures each one's
answer time, in three phases of the same length, in the same run:

* **baseline**: signed webhooks only;
* **headerless flood**: plus F connections that keep sending 1 MiB bodies with no
  webhook headers (each is refused with 401 before its body is read; the flooder
  reconnects and sends again);
* **forged flood**: plus F connections whose headers are well-formed and fresh but whose
  signature is wrong, each holding part of a 1 MiB body (these must be read to be found
  out; they compete for the large bodies' share of the body budget).

For each phase: how many signed webhooks got 2xx, and p50/p99 answer times with their
ratio to the baseline. Every signed webhook must be answered 2xx in every phase; if not,
the script says FAILED and exits 1.

    python bench/bench_flood.py [--rate 200] [--duration 8] [--flooders 32]
"""
from __future__ import annotations

import argparse
import base64
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_serve  # noqa: E402  (the service and fake Segment launchers)


def _flooder(port: int, head: bytes, stop: threading.Event, hold: bool, sent: list[int]) -> None:
    chunk = b"x" * 65536
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(head)
                for _ in range(16):  # up to 1 MiB
                    if stop.is_set():
                        break
                    s.sendall(chunk)
                    sent[0] += len(chunk)
                    if hold:
                        time.sleep(0.25)  # trickle: hold the budget as long as the body timeout allows
                s.recv(4096)
        except OSError:
            time.sleep(0.01)


def _signed_load(url: str, rate: float, duration: float, prefix: str) -> tuple[int, int, list[float]]:
    import httpx
    import orjson

    from segmap.samples import sample_envelope
    from segmap.service.verification import sign

    env = sample_envelope("payment.succeeded")
    ok = total = 0
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int, client: httpx.Client) -> None:
        nonlocal ok, total
        env["data"]["payment_id"] = f"pay_{prefix}{i}"
        body = orjson.dumps(env)
        wid = f"msg_{prefix}{i}"
        ts = int(time.time())
        headers = {"content-type": "application/json", "webhook-id": wid, "webhook-timestamp": str(ts),
                   "webhook-signature": sign(bench_serve.SECRET, wid, ts, body)}
        t = time.perf_counter()
        try:
            code = client.post(url, content=body, headers=headers).status_code
        except httpx.HTTPError:
            code = 0
        with lock:
            total += 1
            ok += 200 <= code < 300
            latencies.append(time.perf_counter() - t)

    n = int(rate * duration)
    threads = []
    with httpx.Client(timeout=15, limits=httpx.Limits(max_connections=64)) as client:
        t0 = time.monotonic()
        for i in range(n):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            th = threading.Thread(target=one, args=(i, client), daemon=True)
            th.start()
            threads.append(th)
        for th in threads:
            th.join(30)
    return ok, total, latencies


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=200.0, help="signed webhooks per second")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per phase")
    ap.add_argument("--flooders", type=int, default=32, help="flooding connections")
    args = ap.parse_args(argv)

    import tempfile

    fake, fake_url = bench_serve.start_fake()
    work = Path(tempfile.mkdtemp(prefix="segmap-flood-"))
    proc, port, _db = bench_serve.start_service(work, fake_url, 512)
    url = f"http://127.0.0.1:{port}/webhook"
    forged_sig = "v1," + base64.b64encode(b"\0" * 32).decode()
    rows = []
    failed = False
    try:
        for phase in ("baseline", "headerless flood", "forged flood"):
            stop = threading.Event()
            sent = [0]
            if phase != "baseline":
                extra = b""
                if phase == "forged flood":
                    extra = (f"webhook-id: msg_forged\r\nwebhook-timestamp: {int(time.time())}\r\n"
                             f"webhook-signature: {forged_sig}\r\n").encode()
                head = (b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 1048576\r\n" + extra + b"\r\n")
                for _ in range(args.flooders):
                    threading.Thread(target=_flooder, args=(port, head, stop, phase == "forged flood", sent),
                                     daemon=True).start()
                time.sleep(0.5)
            ok, total, lat = _signed_load(url, args.rate, args.duration, phase.split()[0][:4])
            stop.set()
            rows.append((phase, ok, total, _pct(lat, 0.5), _pct(lat, 0.99), sent[0]))
            failed |= ok != total
            time.sleep(1.0)
    finally:
        bench_serve.stop(proc)
        bench_serve.stop(fake)
    base99 = rows[0][4]
    print(f"signed webhooks at {args.rate:g}/s for {args.duration:g} s per phase; {args.flooders} flooding connections")
    print("| phase | signed 2xx | p50 | p99 | p99 vs baseline | flood bytes sent |")
    print("|---|---:|---:|---:|---:|---:|")
    for phase, ok, total, p50, p99, sent in rows:
        print(f"| {phase} | {ok}/{total} | {p50 * 1000:.1f} ms | {p99 * 1000:.1f} ms | {p99 / base99:.2f}x | "
              f"{sent / 1e6:.0f} MB |")
    if failed:
        print("FAILED: some signed webhooks were not answered 2xx")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
