"""Mapping speed: segmap's compiled mappings against hand-written Python, jmespath, glom,
jsonata-python and node, all measured in the same run. Not a test: it prints a table of ratios.

    python bench/run_all.py               # installs the extras, then runs this
    python bench/bench_mapping.py [--events 10000] [--repeats 7] [--quick] [--json out.json]

What is measured (µs per envelope, the minimum over interleaved repeats, gc on, results kept):

1. the starter mapping's three transformations (the Dodo seed's) over N realistic envelopes:
   segmap's compiled ``apply`` vs the same dict building written by hand in Python (the practical
   CPython limit), vs jmespath, glom and jsonata-python doing the same, and vs node running the
   same handlers in JavaScript in a hot loop (timed inside node);
2. end to end, JSON bytes in -> JSON bytes out: ``apply_json_bytes`` vs node's
   ``JSON.parse`` -> handler -> ``JSON.stringify``; plus what decoding only the paths a mapping
   reads (msgspec Structs) would save, and why segmap does not do it;
3. a generated 48-event mapping (2-3 calls per event): per-event cost against a mapping of one
   event, so dispatch cost is visible (a dict lookup: it does not grow);
4. compile time of that mapping (in process, and first compile in a fresh process) and the wall
   time of a cold ``segmap check`` subprocess.

Every engine's output is compared with segmap's, envelope by envelope; the table says how many differ.
"""
from __future__ import annotations

import argparse
import gc
from collections import deque
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JS_DIR = Path(__file__).resolve().parent / "js"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

import segmap  # noqa: E402
from segmap.runtime.calls import Call, tuple_new  # noqa: E402
from segmap.runtime.values import MappingRuntimeError  # noqa: E402

STARTER = ROOT / "segmap" / "cli" / "starter.yaml"

# --------------------------------------------------------------------------- inputs

STARTER_TYPES = ("payment.succeeded", "subscription.active", "subscription.cancelled")
CURRENCIES = ("USD", "EUR", "GBP", "INR", "BRL", "JPY", "KRW", "KWD", "BHD", "AED")
_MONEY = ("total_amount", "recurring_pre_tax_amount", "tax", "settlement_amount", "settlement_tax", "amount", "fee")


def _model_fields(event: str) -> dict:
    from segmap.compiler import types as T

    data = dict(T.envelope_type(event).args)["data"]
    return T.model_fields(data.name)


def corpus(types, n: int, *, seed: int = 2025, variants: int = 24) -> list[dict]:
    """``n`` envelopes cycling through ``types``; a pure function of its arguments."""
    from segmap.samples import sample_envelope

    rng = random.Random(seed)
    bases = {t: [orjson.dumps(sample_envelope(t, variant=v)) for v in range(variants)] for t in types}
    fields = {t: _model_fields(t) for t in types}
    out = []
    for i in range(n):
        t = types[i % len(types)]
        env = orjson.loads(rng.choice(bases[t]))
        data = env["data"]
        f = fields[t]
        if "currency" in data and data["currency"] is not None:
            data["currency"] = rng.choice(CURRENCIES)
        for name in _MONEY:
            if type(data.get(name)) is int:
                scale = rng.choice((10**2, 10**3, 10**4, 10**5, 10**6))
                data[name] = rng.randrange(scale) // (100 if rng.random() < 0.25 else 1) * (100 if rng.random() < 0.25 else 1)
        for name, ty in f.items():
            if name not in data or name in ("customer", "currency") or name in _MONEY:
                continue
            roll = rng.random()
            if ty.nullable and roll < 0.12:
                data[name] = None
            elif ty.optional and roll < 0.2:
                del data[name]
        out.append(env)
    return out


def large_mapping_text(only=None) -> str:
    """All 48 event types, 2-3 calls each, a mix of paths, money, defaults, templates and constants."""
    from segmap.compiler import types as T

    lines = ["version: 1", "events:"]
    for event in (only or T.event_types()):
        f = _model_fields(event)
        family, _, verb = event.partition(".")
        title = " ".join(w.capitalize() for w in family.split("_") + verb.split("_"))
        has_customer = "customer" in f
        cur = f.get("currency")
        user = "data.customer.customer_id" if has_customer else "business_id"
        lines += [f"  {event}:", f"    - track: {title}", f"      userId: {user}", "      properties:"]
        props = 0
        for name, ty in sorted(f.items()):
            base = ty.required()
            if props >= 9:
                break
            if base.kind in ("str", "enum", "datetime", "date", "bool"):
                value = f'fallback(data.{name}, "unknown")' if ty.maybe_empty and base.kind != "bool" else f"data.{name}"
            elif base.kind == "int" and name in _MONEY and cur is not None:
                currency = "data.currency" if not cur.maybe_empty else 'data.currency ?? "USD"'
                value = f"to_major(data.{name}, {currency})"
            elif base.kind in ("int", "float"):
                value = f"data.{name}"
            else:
                continue
            lines.append(f"        {name}: '{value}'")
            props += 1
        if has_customer:
            lines.append('        summary: \'f"{type} for {data.customer.email}"\'')
        lines += ["        source: '\"dodo\"'", "        schema_version: 2 * 3 - 4", "      timestamp: timestamp"]
        if has_customer:
            lines += ["    - identify:", f"      userId: {user}", "      traits:", "        email: data.customer.email",
                      "        name: data.customer.name", "        last_event: type", "        last_seen: timestamp"]
        lines += ["    - group:", f"      userId: {user}", "      groupId: business_id", "      traits:",
                  f"        family: '\"{family}\"'", "        tier: '{name: \"pro\", seats: 5}'"]
    return "\n".join(lines) + "\n"




# --------------------------------------------------------------------------- hand-written Python

# The origins segmap gives the starter's four calls when compiled as "segmap.yaml".
_O_PAY_TRACK, _O_PAY_IDENTIFY, _O_SUB_ACTIVE, _O_SUB_CANCELLED = (
    "segmap.yaml:21:7", "segmap.yaml:30:7", "segmap.yaml:40:7", "segmap.yaml:51:7")


def _no_user(call: str):
    raise MappingRuntimeError(f"{call} call has no userId or anonymousId: data.customer.customer_id was null or absent")


def _hand_payment_succeeded(env):
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
    return [
        tuple_new(Call, ("track", {
            "userId": user_id, "event": "Payment Completed",
            "properties": {"amount": amount, "currency": p["currency"] or "USD", "payment_method": method,
                           "payment_id": p["payment_id"], "customer_email": email, "customer_name": name},
            "timestamp": ts}, _O_PAY_TRACK)),
        tuple_new(Call, ("identify", {
            "userId": user_id, "traits": {"email": email, "name": name, "total_spent": amount, "payment_method": method,
                       "last_payment_date": ts, "customer_since": ts}}, _O_PAY_IDENTIFY)),
    ]


def _hand_subscription_active(env):
    s = env["data"]
    c = s["customer"]
    user_id = c["customer_id"]
    if user_id is None:
        _no_user("track")
    return [tuple_new(Call, ("track", {
        "userId": user_id, "event": "Subscription Started",
        "properties": {"subscription_id": s["subscription_id"], "product_id": s["product_id"],
                       "amount": "%.2f" % (s["recurring_pre_tax_amount"] / 100),
                       "frequency": s["payment_frequency_interval"], "next_billing": s["next_billing_date"],
                       "customer_email": c["email"]},
        "timestamp": env["timestamp"]}, _O_SUB_ACTIVE))]


def _hand_subscription_cancelled(env):
    s = env["data"]
    c = s["customer"]
    user_id = c["customer_id"]
    if user_id is None:
        _no_user("track")
    props = {"subscription_id": s["subscription_id"], "product_id": s["product_id"]}
    if "cancelled_at" in s:  # optional in the schema: absent stays absent
        props["cancelled_at"] = s["cancelled_at"]
    props["cancel_at_next_billing"] = s["cancel_at_next_billing_date"]
    props["customer_email"] = c["email"]
    return [tuple_new(Call, ("track", {
        "userId": user_id, "event": "Subscription Cancelled", "properties": props, "timestamp": env["timestamp"]},
        _O_SUB_CANCELLED))]


_HAND = {"payment.succeeded": _hand_payment_succeeded, "subscription.active": _hand_subscription_active,
         "subscription.cancelled": _hand_subscription_cancelled}


def hand_apply(env, _get=_HAND.get):
    """Hand-written Python: dict building with a dict dispatch, Calls built as segmap's are."""
    fn = _get(env["type"])
    return fn(env) if fn is not None else []


# --------------------------------------------------------------------------- other engines

def _make_engines() -> dict:
    """name -> (version, apply(env) -> list[Call]) for the engines that are installed."""
    engines = {}
    try:
        import jmespath
        from jmespath import functions as jf

        class Fns(jf.Functions):
            @jf.signature({"types": ["number"]})
            def _func_fixed2(self, n):
                return "%.2f" % (n / 100)

        opts = jmespath.Options(custom_functions=Fns())
        jm = {
            "payment.succeeded": [
                ("track", jmespath.compile(
                    "{event: 'Payment Completed', properties: {amount: fixed2(data.total_amount), "
                    "currency: data.currency || 'USD', payment_method: data.payment_method || 'unknown', "
                    "payment_id: data.payment_id, customer_email: data.customer.email, customer_name: data.customer.name}, "
                    "timestamp: timestamp, userId: data.customer.customer_id}"), _O_PAY_TRACK),
                ("identify", jmespath.compile(
                    "{traits: {email: data.customer.email, name: data.customer.name, total_spent: fixed2(data.total_amount), "
                    "payment_method: data.payment_method || 'unknown', last_payment_date: timestamp, customer_since: timestamp}, "
                    "userId: data.customer.customer_id}"), _O_PAY_IDENTIFY)],
            "subscription.active": [("track", jmespath.compile(
                "{event: 'Subscription Started', properties: {subscription_id: data.subscription_id, product_id: data.product_id, "
                "amount: fixed2(data.recurring_pre_tax_amount), frequency: data.payment_frequency_interval, "
                "next_billing: data.next_billing_date, customer_email: data.customer.email}, timestamp: timestamp, "
                "userId: data.customer.customer_id}"), _O_SUB_ACTIVE)],
            "subscription.cancelled": [("track", jmespath.compile(
                "{event: 'Subscription Cancelled', properties: {subscription_id: data.subscription_id, product_id: data.product_id, "
                "cancelled_at: data.cancelled_at, cancel_at_next_billing: data.cancel_at_next_billing_date, "
                "customer_email: data.customer.email}, timestamp: timestamp, userId: data.customer.customer_id}"), _O_SUB_CANCELLED)],
        }

        def jm_apply(env, _get=jm.get):
            return [tuple_new(Call, (call, expr.search(env, opts), origin)) for call, expr, origin in _get(env["type"], ())]

        engines["jmespath"] = (jmespath.__version__, jm_apply)
    except ImportError:
        pass
    try:
        import glom
        from glom import SKIP, Coalesce, Val

        def opt(path):
            return Coalesce(path, default=SKIP)

        def fixed2(path):
            return (path, lambda n: "%.2f" % (n / 100))

        method = Coalesce("data.payment_method", skip=(None, ""), default="unknown")
        gl = {
            "payment.succeeded": [
                ("track", {"event": Val("Payment Completed"), "properties": {
                    "amount": fixed2("data.total_amount"), "currency": Coalesce("data.currency", skip=(None, ""), default="USD"),
                    "payment_method": method, "payment_id": opt("data.payment_id"),
                    "customer_email": opt("data.customer.email"), "customer_name": opt("data.customer.name")},
                    "timestamp": opt("timestamp"), "userId": "data.customer.customer_id"}, _O_PAY_TRACK),
                ("identify", {"traits": {
                    "email": opt("data.customer.email"), "name": opt("data.customer.name"),
                    "total_spent": fixed2("data.total_amount"), "payment_method": method,
                    "last_payment_date": opt("timestamp"), "customer_since": opt("timestamp")},
                    "userId": "data.customer.customer_id"}, _O_PAY_IDENTIFY)],
            "subscription.active": [("track", {"event": Val("Subscription Started"), "properties": {
                "subscription_id": opt("data.subscription_id"), "product_id": opt("data.product_id"),
                "amount": fixed2("data.recurring_pre_tax_amount"), "frequency": opt("data.payment_frequency_interval"),
                "next_billing": opt("data.next_billing_date"), "customer_email": opt("data.customer.email")},
                "timestamp": opt("timestamp"), "userId": "data.customer.customer_id"}, _O_SUB_ACTIVE)],
            "subscription.cancelled": [("track", {"event": Val("Subscription Cancelled"), "properties": {
                "subscription_id": opt("data.subscription_id"), "product_id": opt("data.product_id"),
                "cancelled_at": opt("data.cancelled_at"), "cancel_at_next_billing": opt("data.cancel_at_next_billing_date"),
                "customer_email": opt("data.customer.email")},
                "timestamp": opt("timestamp"), "userId": "data.customer.customer_id"}, _O_SUB_CANCELLED)],
        }
        run = glom.glom

        def gl_apply(env, _get=gl.get):
            return [tuple_new(Call, (call, run(env, spec), origin)) for call, spec, origin in _get(env["type"], ())]

        from importlib.metadata import version

        engines["glom"] = (version("glom"), gl_apply)
    except ImportError:
        pass
    try:
        import jsonata

        def ja(text):
            return jsonata.Jsonata(text)

        js = {
            "payment.succeeded": [
                ("track", ja('{"event": "Payment Completed", "properties": {"amount": $formatNumber(data.total_amount / 100, "0.00"), '
                             '"currency": data.currency ? data.currency : "USD", "payment_method": data.payment_method ? data.payment_method : "unknown", '
                             '"payment_id": data.payment_id, "customer_email": data.customer.email, "customer_name": data.customer.name}, '
                             '"timestamp": timestamp, "userId": data.customer.customer_id}'), _O_PAY_TRACK),
                ("identify", ja('{"traits": {"email": data.customer.email, "name": data.customer.name, '
                                '"total_spent": $formatNumber(data.total_amount / 100, "0.00"), '
                                '"payment_method": data.payment_method ? data.payment_method : "unknown", '
                                '"last_payment_date": timestamp, "customer_since": timestamp}, "userId": data.customer.customer_id}'),
                 _O_PAY_IDENTIFY)],
            "subscription.active": [("track", ja(
                '{"event": "Subscription Started", "properties": {"subscription_id": data.subscription_id, "product_id": data.product_id, '
                '"amount": $formatNumber(data.recurring_pre_tax_amount / 100, "0.00"), "frequency": data.payment_frequency_interval, '
                '"next_billing": data.next_billing_date, "customer_email": data.customer.email}, "timestamp": timestamp, '
                '"userId": data.customer.customer_id}'), _O_SUB_ACTIVE)],
            "subscription.cancelled": [("track", ja(
                '{"event": "Subscription Cancelled", "properties": {"subscription_id": data.subscription_id, "product_id": data.product_id, '
                '"cancelled_at": data.cancelled_at, "cancel_at_next_billing": data.cancel_at_next_billing_date, '
                '"customer_email": data.customer.email}, "timestamp": timestamp, "userId": data.customer.customer_id}'), _O_SUB_CANCELLED)],
        }

        def js_apply(env, _get=js.get):
            return [tuple_new(Call, (call, expr.evaluate(env), origin)) for call, expr, origin in _get(env["type"], ())]

        from importlib.metadata import version

        engines["jsonata-python"] = (version("jsonata-python"), js_apply)
    except ImportError:
        pass
    return engines


# --------------------------------------------------------------------------- partial decoding (experiment)

def partial_decode_experiment(raws: list[bytes], repeats: int) -> dict | None:
    """Decode only the paths the starter reads (msgspec Structs, tagged by `type`) vs orjson.loads.

    Returns timings plus the inputs on which the two disagree; segmap keeps orjson because of them.
    """
    try:
        import msgspec
    except ImportError:
        return None
    from typing import Any, Optional, Union

    U = msgspec.UNSET

    def struct(name, fields, **kw):  # defstruct: no annotations to resolve (this module defers them)
        return msgspec.defstruct(name, [(f, t, U) for f, t in fields], **kw)

    customer = struct("Customer", [("customer_id", Any), ("email", Any), ("name", Any)])
    pay_data = struct("PayData", [("total_amount", Any), ("currency", Any), ("payment_method", Any),
                                  ("payment_id", Any), ("customer", Optional[customer])])
    sub_data = struct("SubData", [(f, Any) for f in ("subscription_id", "product_id", "recurring_pre_tax_amount",
                                                     "payment_frequency_interval", "next_billing_date", "cancelled_at",
                                                     "cancel_at_next_billing_date")] + [("customer", Optional[customer])])
    Pay = struct("Pay", [("timestamp", Any), ("data", Optional[pay_data])], tag_field="type", tag="payment.succeeded")
    SubA = struct("SubA", [("timestamp", Any), ("data", Optional[sub_data])], tag_field="type", tag="subscription.active")
    SubC = struct("SubC", [("timestamp", Any), ("data", Optional[sub_data])], tag_field="type",
                  tag="subscription.cancelled")

    decoder = msgspec.json.Decoder(Union[Pay, SubA, SubC])
    loads = orjson.loads

    def each(fn):  # nothing kept, as in the end-to-end rows: no garbage collector work either
        return lambda items: deque(map(fn, items), maxlen=0)

    # What making the Structs exact would add: finding a number that overflows a double anywhere,
    # i.e. an exponent of 3+ digits or a run of 309+ digits (digits -> 1, e/E -> 0, then two finds).
    table = bytearray(range(256))
    for c in b"0123456789":
        table[c] = 1
    for c in b"eE":
        table[c] = 0
    table = bytes(table)

    def overflow_scan(raw, _t=table, _e=b"\x00\x01\x01\x01", _d=b"\x01" * 309):
        t = raw.translate(_t)
        return t.find(_e) >= 0 or t.find(_d) >= 0

    runs = interleaved({"orjson.loads (whole envelope)": each(loads),
                        "msgspec Structs (read paths only)": each(decoder.decode),
                        "msgspec, untyped (whole envelope)": each(msgspec.json.decode),
                        "scan for out-of-range numbers (bytes.translate + find)": each(overflow_scan)},
                       raws, repeats)
    probes = {
        "a number out of range (1e400) in a field the mapping does not read":
            b'{"type":"payment.succeeded","timestamp":"t","data":{"unused":1e400}}',
        "invalid UTF-8 in a string the mapping does not read":
            b'{"type":"payment.succeeded","timestamp":"t","data":{"unused":"\xff"}}',
        "an integer beyond 64 bits in a field it reads (orjson: float, msgspec: int)":
            b'{"type":"payment.succeeded","timestamp":"t","data":{"total_amount":18446744073709551616}}',
    }
    disagreements = []
    for what, raw in probes.items():
        def res(fn, raw=raw):
            try:
                v = fn(raw)
                return ("ok", type(v.data.total_amount if hasattr(v, "data") else v["data"].get("total_amount")).__name__)
            except Exception as exc:  # noqa: BLE001 - any failure counts
                return ("fails", type(exc).__name__)
        a, b = res(loads), res(decoder.decode)
        if a != b:
            disagreements.append(f"{what}: orjson {a[0]} ({a[1]}), msgspec {b[0]} ({b[1]})")
    import importlib.metadata as md

    return {"runs": runs, "msgspec": md.version("msgspec"), "disagreements": disagreements}


# --------------------------------------------------------------------------- measuring

def interleaved(fns: dict, items: list, repeats: int, chunk: int = 500) -> dict[str, list[float]]:
    """µs per item for each ``fn(items) -> list``, robust to a machine shared with other work.

    The items are cut in chunks; every repeat times every fn on every chunk, the fns taking
    turns chunk by chunk so that a burst of outside load hits them alike. A fn's time for one
    repeat is the sum over chunks of its time on that chunk; its best time sums, chunk by chunk,
    the fastest of the repeats (reported as the last entry, ``min()`` of the list picks it).
    A value that is ``NodeServer.timed_pass`` times the chunk inside node instead.
    """
    bounds = [(i, min(i + chunk, len(items))) for i in range(0, len(items), chunk)]
    per: dict[str, list[list[float]]] = {name: [[] for _ in bounds] for name in fns}
    order = list(fns.items())
    local = [fn for _, fn in order if getattr(fn, "__self__", None).__class__ is not NodeServer]
    for r in range(repeats):
        turn = order[r % len(order):] + order[: r % len(order)]  # each fn goes first as often
        for c, (a, b) in enumerate(bounds):
            part = items[a:b]
            if local:
                local[0](part)  # untimed: the chunk is in the caches for every fn, as a fresh envelope would be
            for name, fn in turn:
                if getattr(fn, "__self__", None).__class__ is NodeServer:
                    per[name][c].append(fn(a, b) * (b - a))
                    continue
                t0 = time.perf_counter()
                out = fn(part)
                t1 = time.perf_counter()
                per[name][c].append((t1 - t0) * 1e6)
                del out
    runs: dict[str, list[float]] = {}
    for name, chunks in per.items():
        totals = [sum(ch[r] for ch in chunks) / len(items) for r in range(repeats)]
        totals.append(sum(min(ch) for ch in chunks) / len(items))
        runs[name] = totals
    return runs


class NodeServer:
    """``node bench.js serve-<what>``: one warmed-up node process timing one pass per request."""

    def __init__(self, corpus_file: Path, what: str):
        self.proc = subprocess.Popen([node_path(), str(JS_DIR / "bench.js"), f"serve-{what}", str(corpus_file)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.version = ""

    def timed_pass(self, start: int, end: int) -> float:
        """µs per item over items[start:end], timed inside node."""
        self.proc.stdin.write(f"{start} {end}\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        self.version = answer["node"]
        return answer["us"]

    def close(self) -> None:
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def mapper(apply):
    return lambda items: [apply(e) for e in items]


def strict(value):
    """JSON value with bools and numbers kept apart (True != 1) and 1 == 1.0."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("num", float(value))
    if isinstance(value, dict):
        return ("obj", tuple((k, strict(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(strict(v) for v in value))
    return (type(value).__name__, value)


def same_calls(a: list, b: list) -> bool:
    return [(c.call, strict(c.body), c.origin) for c in a] == [(c.call, strict(c.body), c.origin) for c in b]


def node_path() -> str | None:
    return shutil.which("node")


def wall(cmd: list[str], runs: int, env=None) -> list[float]:
    """Wall times (ms) of a command, after one untimed run."""
    subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=120)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=120)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


# --------------------------------------------------------------------------- the benchmark

class Table:
    def __init__(self):
        self.rows: list[tuple] = []
        self.notes: list[str] = []

    def section(self, title: str, unit: str, ratio: str):
        self.rows.append(("section", title, unit, ratio))

    def row(self, name: str, value: float | None, ratio: float | None, extra: str = ""):
        self.rows.append(("row", name, value, ratio, extra))

    def render(self) -> str:
        lines = []
        for r in self.rows:
            if r[0] == "section":
                lines.append("")
                lines.append(f"| {r[1]} | {r[2]} | {r[3]} | |")
                lines.append("|---|---:|---:|---|")
            else:
                _, name, value, ratio, extra = r
                v = "-" if value is None else (f"{value:.2f}" if value < 100 else f"{value:.0f}")
                q = "-" if ratio is None else f"{ratio:.2f}×"
                lines.append(f"| {name} | {v} | {q} | {extra} |")
        return "\n".join(lines).strip("\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=10_000, help="envelopes in the starter corpus (default 10000)")
    ap.add_argument("--repeats", type=int, default=7, help="timed passes per implementation (default 7)")
    ap.add_argument("--slow-events", type=int, default=1_000,
                    help="envelopes for the slow engines (glom, jsonata-python), default 1000")
    ap.add_argument("--quick", action="store_true", help="fewer envelopes and repeats, for a smoke run")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.events, args.repeats, args.slow_events = 1_500, 3, 300
    results: dict = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    table = Table()
    say = lambda *a: print(*a, file=sys.stderr, flush=True)  # noqa: E731 - progress goes to stderr

    # ---- 1. the starter mapping's transformations
    say(f"building {args.events} envelopes ...")
    envs = corpus(STARTER_TYPES, args.events)
    raws = [orjson.dumps(e) for e in envs]
    starter = segmap.compile_source(STARTER.read_text(encoding="utf-8"), "segmap.yaml")
    engines = _make_engines()
    mismatches = {}
    for e in envs:
        want = starter.apply(e)
        if not same_calls(hand_apply(e), want):
            mismatches["hand"] = mismatches.get("hand", 0) + 1
    for name, (_, fn) in engines.items():
        n = 0
        for e in envs[: args.slow_events]:
            try:
                if not same_calls(fn(e), starter.apply(e)):
                    n += 1
            except Exception:  # noqa: BLE001 - a failure is a difference
                n += 1
        mismatches[name] = n
    gc.collect()
    gc.freeze()
    say("timing the starter mapping ...")
    slow = envs[: args.slow_events]
    node = None
    with tempfile.TemporaryDirectory() as tmp:
        corpus_file = Path(tmp) / "corpus.jsonl"
        corpus_file.write_bytes(b"\n".join(raws) + b"\n")
        if node_path():
            say("starting node ...")
            node = NodeServer(corpus_file, "handlers")
            dumped = subprocess.run([node_path(), str(JS_DIR / "bench.js"), "dump", str(corpus_file)],
                                    capture_output=True, check=True, timeout=600).stdout.split(b"\n")[: len(raws)]
        fast = {"hand": mapper(hand_apply), "segmap": mapper(starter.apply)}
        if node:
            fast["node"] = node.timed_pass
        runs = interleaved(fast, envs, args.repeats)
        for name, (_, fn) in engines.items():
            say(f"timing {name} on {len(slow)} envelopes ...")
            runs.update(interleaved({name: mapper(fn)}, slow, max(2, args.repeats // 2)))
        say("end to end ...")
        e2e_fns = {
            "segmap": lambda items: [starter.apply_json_bytes(b) for b in items],
            "hand": lambda items: [orjson.dumps([{"call": c[0], "body": c[1]} for c in hand_apply(orjson.loads(b))])
                                   for b in items],
        }
        if node:
            node.close()
            node = NodeServer(corpus_file, "e2e")
            e2e_fns["node"] = node.timed_pass
        e2e = interleaved(e2e_fns, raws, args.repeats)
        if node:
            node.close()
        ours = [starter.apply_json_bytes(b) for b in raws]
        if node:
            node_diff = sum(strict(orjson.loads(a)) != strict(orjson.loads(b)) for a, b in zip(ours, dumped))
            node_bytes = sum(a == b for a, b in zip(ours, dumped))
    hand = min(runs["hand"])
    seg = min(runs["segmap"])
    results["starter"] = {k: {"min_us": min(v), "median_us": statistics.median(v[:-1])} for k, v in runs.items()}
    results["mismatches"] = mismatches
    table.section(f"Starter mapping, {args.events} envelopes (3 event types): the compiled callable",
                  "µs/event", "× hand-written")
    table.row("hand-written Python (same dicts, dict dispatch; the CPython limit)", hand, 1.0,
              "identical output" if not mismatches.get("hand") else f"{mismatches['hand']} outputs differ")
    table.row("**segmap compiled `apply`**", seg, seg / hand, "")
    for name, (version, _) in engines.items():
        v = min(runs[name])
        diff = mismatches[name]
        table.row(f"{name} {version}", v, v / hand,
                  f"{args.slow_events} envelopes; " + ("identical output" if not diff else f"{diff} outputs differ"))
    if node:
        v = min(runs["node"])
        table.row(f"node {node.version} (same handlers in JS, hot loop timed in node)", v, v / hand, "")
    # ---- 2. end to end
    results["e2e"] = {k: {"min_us": min(v), "median_us": statistics.median(v[:-1])} for k, v in e2e.items()}
    if node:
        n_e2e = min(e2e["node"])
        table.section("End to end: JSON bytes in → JSON bytes out", "µs/event", "× node")
        table.row("node: `JSON.parse` → handler → `JSON.stringify` (Buffer in, Buffer out)", n_e2e, 1.0, "")
        table.row("**segmap `apply_json_bytes`** (orjson in and out)", min(e2e["segmap"]), min(e2e["segmap"]) / n_e2e,
                  ("identical JSON" if not node_diff else f"{node_diff} outputs differ from node's")
                  + f"; {node_bytes}/{len(raws)} byte-identical")
        table.row("hand-written Python with orjson", min(e2e["hand"]), min(e2e["hand"]) / n_e2e, "")
    else:
        table.notes.append("node not found: the node rows are missing")
    say("partial decoding experiment ...")
    pd = partial_decode_experiment(raws, args.repeats)
    if pd:
        results["partial_decode"] = pd
        base = min(pd["runs"]["orjson.loads (whole envelope)"])
        table.section("Decoding only what the mapping reads (experiment, not shipped)", "µs/event", "× orjson.loads")
        for name, r in pd["runs"].items():
            extra = f"{len(pd['disagreements'])} kinds of input decode differently" if "Structs" in name else ""
            table.row(name if "msgspec" not in name else f"{name}, msgspec {pd['msgspec']}", min(r), min(r) / base,
                      extra)
        table.notes += ["partial decoding differs from orjson on: " + d for d in pd["disagreements"]]
    # ---- 3. a large mapping
    say("large mapping ...")
    from segmap.compiler import api, pygen
    from segmap.compiler.function_types import python_name

    large_text = large_mapping_text()
    one_text = large_mapping_text(only=["payment.succeeded"])
    m48 = segmap.compile_source(large_text, "large.yaml")
    m1 = segmap.compile_source(one_text, "one.yaml")
    n_calls = sum(len(c) for c in m48.check.plan.calls.values())
    from segmap.compiler.types import event_types

    all_types = event_types()
    big = corpus(all_types, max(len(all_types) * 20, args.events // 2), seed=7)
    pay = [e for e in big if e["type"] == "payment.succeeded"] * 10
    gc.collect()
    gc.freeze()
    lr = interleaved({"one": mapper(m1.apply), "all": mapper(m48.apply)}, pay, args.repeats)
    l48 = interleaved({"mix": mapper(m48.apply)}, big, args.repeats)
    results["large"] = {"events": len(m48.event_types), "calls": n_calls, "yaml_lines": large_text.count("\n"),
                        "generated_lines": m48.source.count("\n"),
                        "payment_one_us": min(lr["one"]), "payment_all_us": min(lr["all"]), "mix_us": min(l48["mix"])}
    table.section(f"A generated mapping of all {len(m48.event_types)} event types ({n_calls} calls, "
                  f"{large_text.count(chr(10))} lines of YAML)", "µs/event", "× 1-event mapping")
    table.row("payment.succeeded envelopes, mapping of that one event", min(lr["one"]), 1.0, "")
    table.row("payment.succeeded envelopes, 48-event mapping", min(lr["all"]), min(lr["all"]) / min(lr["one"]),
              "dispatch is one dict lookup")
    table.row(f"{len(big)} envelopes of all 48 types, 48-event mapping", min(l48["mix"]), None, "")
    # ---- 4. compile and check
    say("compile times ...")
    comp = {"total": [], "check": [], "generate": [], "compile": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        kept = segmap.compile_source(large_text, "large.yaml")  # kept: freeing it is not compiling it
        t1 = time.perf_counter()
        r = api.check_source(large_text, "large.yaml")
        t2 = time.perf_counter()
        g = pygen.generate(r.plan, "large.yaml", segmap.__version__, python_name)
        t3 = time.perf_counter()
        code = compile(g.exec_source, "<bench>", "exec")
        t4 = time.perf_counter()
        for k, v in zip(comp, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            comp[k].append(v * 1e3)
        del kept, r, g, code
    with tempfile.TemporaryDirectory() as tmp:
        large_file = Path(tmp) / "large.yaml"
        large_file.write_text(large_text, encoding="utf-8")
        # as installed: bytecode cached (one untimed run writes it), segmap importable from this tree
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "segmap")], env=env, capture_output=True)
        probe = ("import sys, time; t = time.perf_counter(); import segmap; segmap.compile_file(sys.argv[1]); "
                 "print((time.perf_counter() - t) * 1e3)")
        fresh = []
        for _ in range(max(3, args.repeats // 2)):
            out = subprocess.run([sys.executable, "-c", probe, str(large_file)], capture_output=True, text=True,
                                 check=True, env=env, timeout=120)
            fresh.append(float(out.stdout))
        n = max(3, args.repeats // 2)
        startup = wall([sys.executable, "-c", "pass"], n, env)
        check_starter = wall([sys.executable, "-m", "segmap", "check", str(STARTER)], n, env)
        check_large = wall([sys.executable, "-m", "segmap", "check", str(large_file)], n, env)
    results["compile"] = {k: min(v) for k, v in comp.items()} | {"fresh_process": min(fresh)}
    results["check_wall_ms"] = {"python_startup": min(startup), "starter": min(check_starter), "large": min(check_large)}
    table.section("Compile and check (48-event mapping)", "ms", "× target")
    table.row("`compile_source`, in process (load + check + generate + compile)", min(comp["total"]),
              min(comp["total"]) / 100, "target < 100 ms")
    table.row("… of which load + check (YAML, expressions, types)", min(comp["check"]), None, "")
    table.row("… of which generate Python (pygen)", min(comp["generate"]), None, "")
    table.row("… of which `compile()` (fast paths; general paths compile on first use)", min(comp["compile"]), None, "")
    table.row("first `compile_file` in a fresh process (imports included)", min(fresh), None, "")
    table.row("cold `python -m segmap check starter.yaml` (wall)", min(check_starter), None,
              f"`python -c pass` takes {min(startup):.0f} ms")
    table.row("cold `python -m segmap check` of the 48-event mapping (wall)", min(check_large), None, "")
    results["table"] = table.render()
    print(f"segmap mapping benchmark: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{args.events} envelopes, min of {args.repeats} interleaved passes")
    print(table.render())
    for note in table.notes:
        print(f"- {note}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
