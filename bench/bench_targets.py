"""segmap against hand-written Python, as ratios paired per round; and memory over recompiles.

    python bench/bench_targets.py [--rounds 31] [--quick] [--only speed|memory] [--recompiles 1000]

Not a test: it prints ratios measured in this run (no timing is asserted anywhere). Every row of
README's Performance table that compares segmap with hand-written Python comes from here.

1. The starter mapping (the seed's three transformations) against the same bodies built by hand
   in Python (below): returning plain ``(call, body)`` tuples, what a person would write, and
   returning segmap's ``Call`` objects (so the cost of the objects ``apply`` returns shows).
2. bench/all_events.yaml (all 48 event types) against bench/hand_all_events.py, the same
   mapping written by hand.
3. For both, ``apply`` with envelopes *in cache* (200 or 240 envelopes run again and again) and *cold*
   (each round every contender gets its own fresh parse of the round's 2,000 envelopes, made just
   before it is timed: more than the caches hold, so the envelope comes from memory, as one just
   received does); ``apply_json_bytes`` against hand-written Python + orjson (loads, the same
   dicts, dumps), in cache and cold (each round's 1,000 envelopes, fresh copies of the bytes).
4. Memory: the size of one compiled 48-event mapping (everything compile_source allocates that
   stays alive) and tracemalloc growth over 1,000 recompiles of it (a service reloading on SIGHUP).

Before anything is timed, every hand-written version is checked to give segmap's bodies byte for
byte (serialised), on every envelope used. Times are CPU time (``time.process_time``). Each round
times every contender once on the same items, the order alternating between rounds; a round's
ratio is segmap's time over the hand-written time *of that round*, and the table gives the median
ratio and the range over rounds, with the load average at start and end.
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
ALL_EVENTS = ROOT / "bench" / "all_events.yaml"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import orjson  # noqa: E402

import segmap  # noqa: E402
import hand_all_events  # noqa: E402
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


def as_bytes(hand_apply_fn):
    """Hand-written JSON in, JSON out: orjson.loads, the hand-written calls, the dicts, orjson.dumps."""
    def hand_bytes(raw, _loads=orjson.loads, _dumps=orjson.dumps, _apply=hand_apply_fn):
        return _dumps([{"call": c, "body": b} for c, b in _apply(_loads(raw))])
    return hand_bytes


plain_bytes = as_bytes(plain_apply)


# --------------------------------------------------------------------------- timing

def paired(contenders: dict, items_for, rounds: int) -> dict[str, list[float]]:
    """CPU seconds per contender per round; the order alternates, the same items for all in a round.

    ``items_for(round, name)`` gives the items a contender runs on in a round (the same ones for
    every contender, or fresh copies of them made just before it is timed)."""
    times: dict[str, list[float]] = {k: [] for k in contenders}
    names = list(contenders)
    clock = time.process_time
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            fn = contenders[name]
            items = items_for(r, name)
            t0 = clock()
            for x in items:
                fn(x)
            times[name].append(clock() - t0)
            del items
    return times


def ratio_row(times: dict[str, list[float]], name: str, base: str) -> str:
    ratios = [a / b for a, b in zip(times[name], times[base])]
    return (f"{statistics.median(ratios):.2f}x (rounds {min(ratios):.2f}-{max(ratios):.2f}, "
            f"{len(ratios)} rounds)")


def same_output(compiled, hand, hand_b, envs, raws) -> None:
    """The hand-written versions give segmap's calls and segmap's bytes on every envelope timed."""
    for e, raw in zip(envs, raws):
        want = compiled.apply_json_bytes(raw)
        assert orjson.dumps([{"call": c, "body": b} for c, b in hand(orjson.loads(raw))]) == want, e["type"]
        assert hand_b(raw) == want, e["type"]
        assert [(c.call, c.body) for c in compiled.apply(orjson.loads(raw))] == hand(orjson.loads(raw))


def speed_rows(label: str, compiled, hand, raws: list[bytes], *, rounds: int, warm: int, chunk: int,
               extra: dict | None = None) -> list[tuple[str, str]]:
    """In-cache and cold ratios of ``apply`` and ``apply_json_bytes`` against hand-written Python."""
    hand_b = as_bytes(hand)
    envs = [orjson.loads(r) for r in raws]
    same_output(compiled, hand, hand_b, envs, raws)
    rows = []
    warm_envs = envs[:warm] * (10_000 // warm)
    contenders = {"hand": hand, "segmap": compiled.apply, **(extra or {})}
    t = paired(contenders, lambda r, name: warm_envs, rounds)
    rows.append((f"{label} `apply`, envelopes in cache, vs hand-written (plain tuples)", ratio_row(t, "segmap", "hand")))
    for name in extra or {}:
        rows.append((f"{label} `apply`, envelopes in cache, vs hand-written ({name})", ratio_row(t, "segmap", name)))
        rows.append((f"{label} hand-written ({name}) vs hand-written (plain tuples), in cache",
                     ratio_row(t, name, "hand")))
    warm_envs.clear()  # the parsed envelopes are not kept for the cold rounds
    envs.clear()
    gc.collect()
    n = len(raws)

    def cold_round(r):
        start = (r * chunk) % n
        return raws[start:start + chunk] if start + chunk <= n else raws[start:] + raws[:start + chunk - n]

    t = paired({"hand": hand, "segmap": compiled.apply},
               lambda r, name: [orjson.loads(x) for x in cold_round(r)], rounds)
    rows.append((f"{label} `apply`, cold envelopes (a fresh parse each round), vs hand-written (plain tuples)",
                 ratio_row(t, "segmap", "hand")))
    warm_raws = raws[:warm] * (3_000 // warm)
    t = paired({"hand": hand_b, "segmap": compiled.apply_json_bytes}, lambda r, name: warm_raws, rounds)
    rows.append((f"{label} `apply_json_bytes`, in cache, vs hand-written + orjson", ratio_row(t, "segmap", "hand")))
    t = paired({"hand": hand_b, "segmap": compiled.apply_json_bytes},
               lambda r, name: [bytes(bytearray(x)) for x in cold_round(r)[:chunk // 2]], rounds)
    rows.append((f"{label} `apply_json_bytes`, cold (fresh bytes each round), vs hand-written + orjson",
                 ratio_row(t, "segmap", "hand")))
    return rows


def kept_alive(text: str, name: str) -> int:
    """Bytes that one compile of ``text`` allocates and keeps alive (its first compile, untimed,
    fills the process-wide caches so that they are not counted)."""
    segmap.compile_source(text, name)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    one = segmap.compile_source(text, name)
    gc.collect()
    size = tracemalloc.get_traced_memory()[0] - before
    del one
    tracemalloc.stop()
    return size


def memory_rows(n_re: int) -> list[tuple[str, str]]:
    """Memory kept alive by one compiled 48-event mapping, and growth over ``n_re`` recompiles."""
    large_text = large_mapping_text()
    size = kept_alive(large_text, "large.yaml")
    size_every = kept_alive(ALL_EVENTS.read_text(encoding="utf-8"), "all_events.yaml")
    tracemalloc.start()
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
    return [("compiled 48-event mapping (bench_mapping's, 114 calls), memory it keeps alive",
             f"{size / 1024:.0f} KiB (target < 500 KiB)"),
            ("compiled bench/all_events.yaml (48 events, 50 calls), memory it keeps alive",
             f"{size_every / 1024:.0f} KiB (target < 500 KiB)"),
            (f"memory growth over {n_re} recompiles of the 48-event mapping",
             f"{growth / 1024:.1f} KiB ({growth / n_re:.0f} B per recompile; {spent:.0f} s)")]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=31)
    ap.add_argument("--recompiles", type=int, default=1_000, help="recompiles of the 48-event mapping (default 1000)")
    ap.add_argument("--quick", action="store_true", help="fewer rounds and envelopes, for a smoke run")
    ap.add_argument("--only", choices=("speed", "memory"), help="run one half only")
    args = ap.parse_args(argv)
    rounds = 5 if args.quick else args.rounds
    chunk = 1_000 if args.quick else 2_000
    load0 = os.getloadavg()
    print(f"segmap targets benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {load0[0]:.2f} at start", flush=True)

    rows: list[tuple[str, str]] = []
    if args.only != "memory":
        from segmap.compiler import types as T

        n = 2 * chunk if args.quick else 6_000
        starter = segmap.compile_source(STARTER.read_text(encoding="utf-8"), "segmap.yaml")
        raws = [orjson.dumps(e) for e in corpus(STARTER_TYPES, n, seed=11)]
        rows += speed_rows("starter", starter, plain_apply, raws, rounds=rounds, warm=200, chunk=chunk,
                           extra={"Call objects": hand_apply})
        del raws
        every = segmap.compile_source(ALL_EVENTS.read_text(encoding="utf-8"), "all_events.yaml")
        raws = [orjson.dumps(e) for e in corpus(T.event_types(), n, seed=12)]
        rows += speed_rows("48 events", every, hand_all_events.apply, raws, rounds=rounds, warm=240, chunk=chunk)
        del raws
        gc.collect()

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
