"""Where the receiver's CPU per webhook goes, step by step, on bench_serve.py's webhook.

    python bench/bench_serve_steps.py [--rounds 7] [--group 20]

Not a test: it prints numbers. bench_serve.py measures the running service by thread (event loop,
group-commit writer, WAL checkpointer, delivery) against a bare uvicorn app; this script splits
the event loop's and the writer's shares into their steps. Every step runs in this process on the
benchmark's own request (a signed 3.5 kB `payment.succeeded` with the starter mapping), many
times in a row, timed with `time.thread_time` (CPU, not wall); each figure is the median over
rounds. Then the whole webhook endpoint runs without HTTP (the ASGI callable driven directly, 64
requests at a time, a real SQLite outbox with synchronous=FULL and group commit, no delivery),
pinned to one CPU with taskset when there is one, with the CPU of its event loop and of its
writer per webhook, and once more with every webhook answered as committed at once (no writer):
the difference is the hand-off to the writer and sharing the core with it. Steps marked
"replaced" are what this round's changes replaced, timed on the same request for comparison.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_serve  # noqa: E402  (after the path set-up)


def _request() -> tuple[list[tuple[bytes, bytes]], bytes]:
    raw = bench_serve.build_requests(1, "steps_")[0][1]
    head, body = raw.split(b"\r\n\r\n", 1)
    headers = []
    for line in head.split(b"\r\n")[1:]:
        name, value = line.split(b": ", 1)
        headers.append((name.lower(), value))
    return headers, body


def _cpu_us(fn, n: int) -> float:
    t = time.thread_time()
    for _ in range(n):
        fn()
    return (time.thread_time() - t) / n * 1e6


def steps(rounds: int, group: int) -> list[tuple[str, str, float]]:
    import orjson

    import segmap
    from segmap.cli.cmd_init import starter_text
    from segmap.delivery.message import encode_calls
    from segmap.delivery.outbox import SqliteOutbox
    from segmap.service.app import _may_hold_inexact_integer
    from segmap.service.verification import Verifier

    work = Path(tempfile.mkdtemp(prefix="segmap-bench-steps-"))
    (work / "segmap.yaml").write_text(starter_text())
    mapping = segmap.compile_file(work / "segmap.yaml")
    headers, body = _request()
    verifier = Verifier([bench_serve.SECRET])
    checked = verifier.check_headers(headers)
    envelope = orjson.loads(body)
    calls = mapping.apply(envelope)
    answer = {"status": "accepted", "webhook_id": checked.msg_id, "calls": len(calls)}

    n_sql = 200 * group
    bodies = [(f"msg_steps_{i}", envelope["type"], body, calls) for i in range(n_sql * (rounds + 1))]
    store = SqliteOutbox(work / "outbox.db", synchronous="FULL")

    def commit_groups(lo: int) -> float:
        t = time.thread_time()
        for i in range(lo, lo + n_sql, group):
            store.accept_many(bodies[i:i + group])
        return (time.thread_time() - t) / n_sql * 1e6

    import re

    import standardwebhooks

    from segmap.service.verification import sign

    class _LibraryAtOurClock(standardwebhooks.Webhook):  # its own window check is segmap's, run before
        def _Webhook__verify_timestamp(self, timestamp_header: str):  # noqa: N802
            from datetime import datetime, timezone

            return datetime.fromtimestamp(int(timestamp_header), tz=timezone.utc)

    library = _LibraryAtOurClock(bench_serve.SECRET)
    lib_headers = {"webhook-id": checked.msg_id, "webhook-timestamp": checked.timestamp,
                   "webhook-signature": " ".join(checked.v1_tokens)}
    assert sign(bench_serve.SECRET, checked.msg_id, int(checked.timestamp), body) in checked.v1_tokens
    long_number = re.compile(rb"[:,\[]\s*-?[0-9]{19}")  # the regex the look for inexact integers replaced

    loop_steps = [
        ("event loop", "webhook-* header checks (presence, format, timestamp window, v1 tokens)",
         lambda: verifier.check_headers(headers), 20000),
        ("event loop", "Standard Webhooks HMAC-SHA256 over id.timestamp.body, constant-time compare",
         lambda: verifier.verify_body(checked, body), 20000),
        ("event loop", "orjson.loads of the envelope", lambda: orjson.loads(body), 20000),
        ("event loop", "the look for integers orjson would read inexactly (bytes.translate + find)",
         lambda: _may_hold_inexact_integer(body), 20000),
        ("event loop", "the compiled mapping's apply (2 calls)", lambda: mapping.apply(envelope), 20000),
        ("event loop", "the answer's JSON", lambda: orjson.dumps(answer), 20000),
        ("writer", "encode_calls: the 2 Segment items, checked and encoded once", lambda: encode_calls("msg_x", calls),
         20000),
        ("replaced", "(was) the signature by standardwebhooks' Webhook.verify on the decoded body",
         lambda: library.verify(body.decode("utf-8"), lib_headers, json_parse=False), 20000),
        ("replaced", "(was) the look for inexact integers as a regex over the whole body",
         lambda: long_number.search(body), 5000),
    ]
    results: dict[str, list[float]] = {label: [] for _, label, _, _ in loop_steps}
    sql_label = f"the SQLite transaction, per webhook in groups of {group} (inbox row, 2 outbox rows, COMMIT + fsync)"
    results[sql_label] = []
    encode_cost: list[float] = []
    for r in range(rounds):
        for _, label, fn, n in loop_steps:
            results[label].append(_cpu_us(fn, n))
        # accept_many encodes too: the SQL share is its time minus encode_calls measured just before
        encode = _cpu_us(lambda: encode_calls("msg_x", calls), 2000)
        encode_cost.append(encode)
        results[sql_label].append(commit_groups((r + 1) * n_sql) - encode)
    commit_groups(0)  # (warm-up rows, outside the rounds: ids are distinct anyway)
    store.close()
    out = [(where, label, statistics.median(results[label])) for where, label, _, _ in loop_steps]
    out.append(("writer", sql_label, statistics.median(results[sql_label])))
    return out


def timed_awaits(n: int = 30000) -> dict[str, float]:
    """CPU per await of a future another callback resolves: bare, under `asyncio.timeout` (what the
    body read and the commit wait used), and under one loop timer handle (what they use now)."""

    async def main() -> dict[str, float]:
        loop = asyncio.get_running_loop()

        def expire(fut) -> None:
            if not fut.done():
                fut.set_exception(TimeoutError())

        async def bare():
            fut = loop.create_future()
            loop.call_soon(fut.set_result, 1)
            return await fut

        async def with_timeout():
            fut = loop.create_future()
            loop.call_soon(fut.set_result, 1)
            async with asyncio.timeout(10):
                return await fut

        async def with_handle():
            fut = loop.create_future()
            loop.call_soon(fut.set_result, 1)
            timer = loop.call_later(10, expire, fut)
            try:
                return await fut
            finally:
                timer.cancel()

        out = {}
        for name, fn in (("bare", bare), ("asyncio.timeout", with_timeout), ("timer handle", with_handle)):
            t = time.thread_time()
            for _ in range(n):
                await fn()
            out[name] = (time.thread_time() - t) / n * 1e6
        return out

    return _run(main())


def _run(coro):
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


def endpoint(n: int = 6000, concurrency: int = 64, commit: bool = True) -> tuple[float, float]:
    """The webhook endpoint without HTTP: (event-loop CPU, writer CPU) per webhook, in microseconds.
    With `commit=False` each webhook is answered as if committed, at once, without the writer: the
    difference is the hand-off to the writer thread and the cost of sharing the core with it."""
    from segmap.cli.cmd_init import starter_text
    from segmap.service.app import build_app
    from segmap.service.config import ServiceConfig
    from segmap.service.lifecycle import Service

    work = Path(tempfile.mkdtemp(prefix="segmap-bench-endpoint-"))
    (work / "segmap.yaml").write_text(starter_text())
    cfg = ServiceConfig(mapping_path=work / "segmap.yaml", secrets=(bench_serve.SECRET,), db_path=work / "outbox.db",
                        write_key="bench", segment_host="http://127.0.0.1:9", synchronous="FULL", delivery_workers=1)
    svc = Service(cfg)
    svc.open()
    svc.delivery = None  # the receiver only: nothing is delivered
    if not commit:
        from segmap.delivery.outbox.store import AcceptResult

        async def accepted_at_once(webhook_id, event_type, raw_body, calls, timeout=None, *, hold=None):
            return AcceptResult(webhook_id, new=True, queued=len(calls))

        svc.committer.accept = accepted_at_once  # type: ignore[method-assign,union-attr]
    app = build_app(svc, manage_lifespan=False)
    reqs = []
    for _, raw in bench_serve.build_requests(n + 1000, f"ep{time.time_ns()}_"):
        head, body = raw.split(b"\r\n\r\n", 1)
        reqs.append(([(k.lower(), v) for k, v in (line.split(b": ", 1) for line in head.split(b"\r\n")[1:])], body))

    async def one(headers, body, statuses) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "server": ("127.0.0.1", 8000),
                 "client": ("127.0.0.1", 5555), "scheme": "http", "method": "POST", "root_path": "",
                 "path": "/webhook", "raw_path": b"/webhook", "query_string": b"", "headers": headers, "state": {}}
        given = False

        async def receive():
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)

        async def send(message):
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await app(scope, receive, send)

    async def run(items) -> list[int]:
        statuses: list[int] = []
        it = iter(items)

        async def worker() -> None:
            for headers, body in it:
                await one(headers, body, statuses)

        await asyncio.gather(*[worker() for _ in range(concurrency)])
        return statuses

    def thread_cpu(native_id: int) -> float:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def main() -> tuple[float, float]:
        await svc.startup()
        try:
            await run(reqs[:1000])  # warm-up
            writer = svc.committer._thread  # type: ignore[union-attr]
            w0, c0 = thread_cpu(writer.native_id), time.thread_time()
            statuses = await run(reqs[1000:])
            c1, w1 = time.thread_time(), thread_cpu(writer.native_id)
            if set(statuses) != {200}:
                raise RuntimeError(f"unexpected answers: {sorted(set(statuses))}")
            return (c1 - c0) / n * 1e6, (w1 - w0) / n * 1e6
        finally:
            await svc.shutdown()

    return _run(main())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--group", type=int, default=20, help="webhooks per group-commit transaction")
    args = p.parse_args(argv)
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {0})  # one core, as bench_serve.py gives the service
    import logging

    logging.disable(logging.WARNING)  # the endpoint's banner lines
    print(f"receiver steps, CPU per webhook (median of {args.rounds} rounds), load average {os.getloadavg()[0]:.2f}")
    for where, label, us in steps(args.rounds, args.group):
        print(f"  {where:10s} {us:7.1f} us  {label}")
    awaits = timed_awaits()
    print("an await of a future resolved by another callback: " + ", ".join(f"{k} {v:.1f} us" for k, v in awaits.items()))
    loop_us, writer_us = endpoint()
    print(f"the endpoint without HTTP (64 at a time, group commit, FULL): event loop {loop_us:.1f} us, "
          f"writer {writer_us:.1f} us per webhook; load average {os.getloadavg()[0]:.2f}")
    alone_us, _ = endpoint(commit=False)
    print(f"the same, each webhook answered as committed at once, without the writer: event loop {alone_us:.1f} us "
          f"per webhook (the hand-off and sharing the core with the writer: {loop_us - alone_us:.1f} us)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
