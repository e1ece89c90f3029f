"""segmap against hand-written Python, as ratios paired per round; and memory over recompiles.

    python bench/bench_targets.py [--rounds 15] [--quick]

Not a test: it prints ratios measured in this run (no timing is asserted anywhere).

1. ``apply`` on the starter mapping (the seed's three transformations) against the same bodies
   built by hand in Python, two ways: returning plain ``(call, body)`` tuples (what a person would
   write) and returning segmap's ``Call`` objects. Envelopes *in cache*: one chunk of 200 envelopes
   run again and again; *cold*: every envelope of a 30,000-envelope corpus (about 100 MB of dicts)
   run once per round, so it comes from memory.
2. ``apply_json_bytes`` against hand-written Python + orjson (loads, the same dicts, dumps).
3. The same for the generated 48-event mapping (bench/bench_mapping.py's) against its own general
   reading: no hand-written version of 48 events exists, so only memory is reported for it.
4. Memory: tracemalloc growth over 1,000 recompiles of the 48-event mapping (a service reloading on
   SIGHUP), and the size of one compiled 48-event mapping (everything compile_source allocates
   that stays alive).

Each round times every contender once on the same items, the order alternating between rounds;
a round's ratio is segmap's time over the hand-written time *of that round*, and the table gives
the median ratio and the range over rounds, with the load average at start and end.
"""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402

import segmap  # noqa: E402
from bench_mapping import STARTER, STARTER_TYPES, corpus, hand_apply, large_mapping_text  # noqa: E402
from segmap.runtime.values import MappingRuntimeError  # noqa: E402


# --------------------------------------------------------------------------- hand-written, plain tuples

def _no_user(call: str):
    raise MappingRuntimeError(f"{call} call has no userId or anonymousId: data.customer.customer_id was null or absent")


def _pay(env):
    p = env["data"]
    c = p["customer"]
    user_id = c["customer_id"]
    if user_id is None:
        _no_user("track")
    ts = env["timestamp"]
    amount = "%.2f" % (p["total_amount"] / 100)
    method = p.get("payment_method") or "unknown"
    email = c["email"]
    name = c["name"]
    return [("track", {"userId": user_id, "event": "Payment Completed",
                       "properties": {"amount": amount, "currency": p["currency"] or "USD", "payment_method": method,
                                      "payment_id": p["payment_id"], "customer_email": email, "customer_name": name},
                       "timestamp": ts}),
            ("identify", {"userId": user_id,
                          "traits": {"email": email, "name": name, "total_spent": amount, "payment_method": method,
                                     "last_payment_date": ts, "customer_since": ts}})]


def _active(env):
    s = env["data"]
    c = s["customer"]
    user_id = c["customer_id"]
    if user_id is None:
        _no_user("track")
    return [("track", {"userId": user_id, "event": "Subscription Started",
                       "properties": {"subscription_id": s["subscription_id"], "product_id": s["product_id"],
                                      "amount": "%.2f" % (s["recurring_pre_tax_amount"] / 100),
                                      "frequency": s["payment_frequency_interval"],
                                      "next_billing": s["next_billing_date"], "customer_email": c["email"]},
                       "timestamp": env["timestamp"]})]


def _cancelled(env):
    s = env["data"]
    c = s["customer"]
    user_id = c["customer_id"]
    if user_id is None:
        _no_user("track")
    props = {"subscription_id": s["subscription_id"], "product_id": s["product_id"]}
    if "cancelled_at" in s:
        props["cancelled_at"] = s["cancelled_at"]
    props["cancel_at_next_billing"] = s["cancel_at_next_billing_date"]
    props["customer_email"] = c["email"]
    return [("track", {"userId": user_id, "event": "Subscription Cancelled", "properties": props,
                       "timestamp": env["timestamp"]})]


_PLAIN = {"payment.succeeded": _pay, "subscription.active": _active, "subscription.cancelled": _cancelled}


def plain_apply(env, _get=_PLAIN.get):
    fn = _get(env["type"])
    return fn(env) if fn is not None else []


def plain_bytes(raw, _loads=orjson.loads, _dumps=orjson.dumps):
    return _dumps([{"call": c, "body": b} for c, b in plain_apply(_loads(raw))])


# --------------------------------------------------------------------------- timing

def paired(contenders: dict, items_of_round, rounds: int) -> dict[str, list[float]]:
    """Seconds per contender per round; the order alternates, the same items for all in a round."""
    times: dict[str, list[float]] = {k: [] for k in contenders}
    names = list(contenders)
    for r in range(rounds):
        items = items_of_round(r)
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            fn = contenders[name]
            t0 = time.perf_counter()
            for x in items:
                fn(x)
            times[name].append(time.perf_counter() - t0)
    return times


def ratio_row(times: dict[str, list[float]], name: str, base: str) -> str:
    ratios = [a / b for a, b in zip(times[name], times[base])]
    return (f"{statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}, "
            f"{len(ratios)} rounds)")


def memory_rows(n_re: int) -> list[tuple[str, str]]:
    """Memory kept alive by one compiled 48-event mapping, and growth over ``n_re`` recompiles."""
    large_text = large_mapping_text()
    warmup = segmap.compile_source(large_text, "large.yaml")  # the first compile also fills process-wide caches
    del warmup
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    one = segmap.compile_source(large_text, "large.yaml")
    gc.collect()
    size = tracemalloc.get_traced_memory()[0] - before
    del one
    for _ in range(50):  # fill the bounded caches first
        m = segmap.compile_source(large_text, "large.yaml")
    del m
    gc.collect()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    for _ in range(n_re):
        m = segmap.compile_source(large_text, "large.yaml")
    del m
    gc.collect()
    growth = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    spent = time.perf_counter() - t0
    return [("compiled 48-event mapping, memory it keeps alive", f"{size / 1024:.0f} KiB (target < 500 KiB)"),
            (f"memory growth over {n_re} recompiles of the 48-event mapping",
             f"{growth / 1024:.1f} KiB ({growth / n_re:.0f} B per recompile; {spent:.0f} s)")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--recompiles", type=int, default=1_000, help="recompiles of the 48-event mapping (default 1000)")
    ap.add_argument("--quick", action="store_true", help="fewer rounds and envelopes, for a smoke run")
    ap.add_argument("--only", choices=("speed", "memory"), help="run one half only")
    args = ap.parse_args(argv)
    rounds = 5 if args.quick else args.rounds
    n_cold = 3_000 if args.quick else 30_000
    load0 = os.getloadavg()
    print(f"segmap targets benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {load0[0]:.2f} at start", flush=True)

    rows: list[tuple[str, str]] = []
    if args.only != "memory":
        starter = segmap.compile_source(STARTER.read_text(encoding="utf-8"), "segmap.yaml")
        envs = corpus(STARTER_TYPES, n_cold, seed=11)
        raws = [orjson.dumps(e) for e in envs]
        for e, raw in zip(envs[:2000], raws[:2000]):  # the same bodies and bytes, checked before timing
            assert [(c.call, c.body) for c in starter.apply(e)] == plain_apply(e)
            assert starter.apply_json_bytes(raw) == plain_bytes(raw)
        gc.collect()
        warm = envs[:200]
        warm_raw = raws[:200]
        chunk = 1_000 if args.quick else 2_000

        t = paired({"hand": plain_apply, "hand (Call)": hand_apply, "segmap": starter.apply},
                   lambda r: warm * 10, rounds)
        rows.append(("starter `apply`, envelopes in cache, vs hand-written (plain tuples)", ratio_row(t, "segmap", "hand")))
        rows.append(("starter `apply`, envelopes in cache, vs hand-written (Call objects)",
                     ratio_row(t, "segmap", "hand (Call)")))
        t = paired({"hand": plain_apply, "segmap": starter.apply},
                   lambda r: envs[(r * chunk) % n_cold:(r * chunk) % n_cold + chunk], rounds)
        rows.append(("starter `apply`, cold envelopes (each once), vs hand-written (plain tuples)",
                     ratio_row(t, "segmap", "hand")))
        t = paired({"hand": plain_bytes, "segmap": starter.apply_json_bytes}, lambda r: warm_raw * 5, rounds)
        rows.append(("starter `apply_json_bytes` vs hand-written + orjson", ratio_row(t, "segmap", "hand")))

    if args.only != "speed":
        rows += memory_rows(100 if args.quick else args.recompiles)
    load1 = os.getloadavg()
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{width}}  {b}")
    print(f"load average {load0[0]:.2f} at start, {load1[0]:.2f} at end (1 minute)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
