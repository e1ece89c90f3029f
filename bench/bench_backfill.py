"""Backfill throughput and safety at scale: a local Dodo API holding N objects -> the outbox -> a fake Segment.

Not a test: it prints numbers, and exits non-zero if the ledger is wrong. The
stand-in for Dodo's API runs in its own process (tests/fakes/fake_dodo.py,
pages from 0, list/detail models from the SDK), the backfill is the real
`segmap backfill` command using the real SDK, and delivery is the real
`segmap outbox deliver` against the fake Segment. Phases:

1. backfill, killed with SIGKILL once about a third of the objects are in;
2. the same command again: it resumes from its cursor and finishes;
3. `segmap outbox deliver --once`: every expected messageId arrives once, none unexpected
   (expected = the mapping applied to each object's true webhook envelope);
4. the same backfill with --restart: reads everything again and queues nothing new.

The summary line of each run says where its time went (Dodo API, mapping,
outbox): the goal is that the API, not segmap, is the bottleneck.

    python bench/bench_backfill.py [--count 100000] [--page-size 100]
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import segmap  # noqa: E402
from segmap.backfill.runner import webhook_id_for  # noqa: E402
from segmap.delivery.message import message_id_for  # noqa: E402
from segmap.delivery.outbox import SqliteOutbox  # noqa: E402
from tests.fakes.fake_dodo import History  # noqa: E402
from tests.fakes.fake_segment import FakeSegment  # noqa: E402

API_KEY = "bench-dodo-key"
WRITE_KEY = "bench-write-key"
UNTIL = datetime(2026, 1, 1, tzinfo=timezone.utc)
DAYS = 365

# What a merchant backfills: orders, refunds and the subscription lifecycle, from listed fields only
# (a mapping reading the cart or `timestamp` of a payment needs one GET per payment: see --retrieve).
MAPPING = """\
version: 1
events:
  payment.succeeded:
    - track: Order Completed
      userId: data.customer.customer_id
      properties:
        order_id: data.payment_id
        revenue: to_major(data.total_amount, data.currency)
        currency: data.currency
  refund.succeeded:
    - track: Order Refunded
      userId: data.payment_id
      properties:
        refund_id: data.refund_id
        amount: to_major(data.amount, data.currency ?? "USD")
  subscription.*:
    - track: Subscription Changed
      userId: data.customer.customer_id
      properties:
        subscription_id: data.subscription_id
        status: data.status
    - group:
      groupId: data.subscription_id
      userId: data.customer.customer_id
      traits:
        plan: data.product_id
"""


def env_for(dodo_url: str) -> dict:
    env = dict(os.environ, DODO_PAYMENTS_API_KEY=API_KEY, DODO_PAYMENTS_BASE_URL=dodo_url,
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("SEGMAP_DB", None)
    return env


def inbox_count(db: Path) -> int:
    try:
        store = SqliteOutbox(db, create=False)
    except Exception:  # noqa: BLE001 - not created yet
        return 0
    try:
        return store.status().inbox
    except Exception:  # noqa: BLE001
        return 0
    finally:
        store.close()


def summary_of(text: str) -> str:
    return " | ".join(ln for ln in text.splitlines() if "objects read" in ln or ln.startswith("time:"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=100_000, help="objects in the local Dodo API (default 100000)")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--retrieve", action="store_true", help="map the payment cart too (one GET per payment)")
    args = ap.parse_args()

    mapping_text = MAPPING
    if args.retrieve:
        mapping_text = mapping_text.replace("        currency: data.currency\n",
                                            "        currency: data.currency\n        items: length(data.product_cart ?? [])\n")
    since = UNTIL - timedelta(days=DAYS)
    print(f"generating {args.count:,} objects (the same seed in the API process and here) ...", flush=True)
    dodo = subprocess.Popen([sys.executable, "-m", "tests.fakes.fake_dodo", "--count", str(args.count),
                             "--days", str(DAYS), "--until", UNTIL.isoformat(), "--api-key", API_KEY],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    history = History.generate(args.count, since, UNTIL)
    mapping = segmap.compile_source(mapping_text, "bench.yaml")
    expected: set[str] = set()
    for obj in history.all():
        if obj.event_type and mapping.handles(obj.event_type):
            wid = webhook_id_for(obj.event_type, obj.object_id)
            expected |= {message_id_for(wid, i) for i in range(len(mapping.apply(history.webhook_envelope(obj))))}
    line = dodo.stdout.readline().strip()
    assert line.startswith("LISTENING "), line
    url = line.split()[1]
    ok = True
    with tempfile.TemporaryDirectory() as tmp, FakeSegment(write_keys={WRITE_KEY}, record_messages=False) as seg:
        work = Path(tmp)
        (work / "m.yaml").write_text(mapping_text)
        db = work / "o.db"
        cmd = [sys.executable, "-m", "segmap", "backfill", str(work / "m.yaml"), "--db", str(db),
               "--since", since.isoformat(), "--until", UNTIL.isoformat(), "--max-rps", "0",
               "--page-size", str(args.page_size)]
        env = env_for(url)

        t0 = time.perf_counter()
        first = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        target = len(expected) // 6  # about a third of the facts (two calls each on average)
        while first.poll() is None and inbox_count(db) < target:
            time.sleep(0.2)
        killed = first.poll() is None
        if killed:
            os.kill(first.pid, signal.SIGKILL)
        first.wait()
        t_kill = time.perf_counter() - t0
        before = inbox_count(db)
        print(f"phase 1: {'killed with SIGKILL' if killed else 'finished before the kill'} after {t_kill:.1f}s "
              f"with {before:,} facts in the inbox")

        t1 = time.perf_counter()
        resumed = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        t_resume = time.perf_counter() - t1
        if resumed.returncode != 0:
            print(resumed.stderr)
            return 1
        print(f"phase 2: resumed and finished in {t_resume:.1f}s: {summary_of(resumed.stdout)}")
        m = re.search(r"([\d,]+) objects read", resumed.stdout)
        read_in_resume = int(m.group(1).replace(",", "")) if m else 0
        print(f"         {read_in_resume / t_resume:,.0f} objects/s from the API to the outbox "
              f"({args.count:,} objects in all, {t_kill + t_resume:.1f}s over both runs)")

        t2 = time.perf_counter()
        dv = subprocess.run([sys.executable, "-m", "segmap", "outbox", "deliver", "--db", str(db), "--host", seg.url,
                             "--once"], cwd=work, env=dict(env, SEGMENT_WRITE_KEY=WRITE_KEY), capture_output=True,
                            text=True)
        t_deliver = time.perf_counter() - t2
        got = seg.received_ids
        missing, unexpected, dups = expected - got, got - expected, seg.duplicates()
        print(f"phase 3: delivered in {t_deliver:.1f}s: expected {len(expected):,} messageIds, received "
              f"{len(got):,}: missing {len(missing)}, unexpected {len(unexpected)}, duplicates {len(dups)}")
        ok &= dv.returncode == 0 and not missing and not unexpected and not dups

        t3 = time.perf_counter()
        again = subprocess.run(cmd + ["--restart"], cwd=work, env=env, capture_output=True, text=True)
        t_again = time.perf_counter() - t3
        queued = re.search(r"([\d,]+) calls queued", again.stdout)
        new_calls = int(queued.group(1).replace(",", "")) if queued else -1
        print(f"phase 4: full re-run in {t_again:.1f}s queued {new_calls} new calls: {summary_of(again.stdout)}")
        ok &= again.returncode == 0 and new_calls == 0
    dodo.stdin.close()
    dodo.wait()
    print("LEDGER OK" if ok else "LEDGER MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
