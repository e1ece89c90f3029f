"""Run the same helper calls in Python and in node, and compare.

One node process per test session (``NodeRuntime``) evaluates whole
batches of calls per request, so a Hypothesis example costs one round trip
instead of one node start.
"""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from segmap.compiler.functions import ALL_SPECS, FunctionSpec, js_runtime_source
from segmap.runtime.values import MISSING, MappingRuntimeError

HARNESS = Path(__file__).with_name("node_harness.js")
SPECS_BY_PY: dict[str, FunctionSpec] = {s.py: s for s in ALL_SPECS}

Outcome = tuple[str, Any]  # ("ok", value) | ("err", message)


def encode(v: Any) -> Any:
    """A Python value as harness JSON (MISSING and non-finite floats tagged)."""
    if v is MISSING:
        return {"$sm": "missing"}
    t = type(v)
    if t is float and not math.isfinite(v):
        return {"$sm": "nan" if v != v else "inf" if v > 0 else "-inf"}
    if t is list or t is tuple:
        return [encode(x) for x in v]
    if t is dict:
        return {k: encode(x) for k, x in v.items()}
    return v


def decode(v: Any) -> Any:
    if type(v) is list:
        return [decode(x) for x in v]
    if type(v) is dict:
        if "$sm" in v:
            return {"missing": MISSING, "inf": math.inf, "-inf": -math.inf, "nan": math.nan}[v["$sm"]]
        return {k: decode(x) for k, x in v.items()}
    return v


def _js_int(text: str) -> int | float:
    """JSON integers as JavaScript reads them: doubles beyond 2**53."""
    i = int(text)
    return i if -(2**53) < i < 2**53 else float(text)


def same(a: Any, b: Any) -> bool:
    """JSON-equivalence that tells bool from number but not 1 from 1.0."""
    ta, tb = type(a), type(b)
    if a is MISSING or b is MISSING:
        return a is b
    if ta is bool or tb is bool:
        return ta is tb and a == b
    if ta in (int, float):
        # Compare as the doubles a JSON reader in JavaScript would see: a
        # helper may pass an input int beyond 2**53 through unchanged.
        return tb in (int, float) and float(a) == float(b)
    if a is None:
        return b is None
    if ta is str:
        return tb is str and a == b
    if ta is list:
        return tb is list and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict:
        return tb is dict and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    raise TypeError(f"not a JSON value: {a!r}")


def is_normalised(v: Any) -> bool:
    """Numbers as num() leaves them: no integral float below 2**53, no big int."""
    t = type(v)
    if t is int:
        return -(2**53) < v < 2**53
    if t is float:
        return math.isfinite(v) and not (abs(v) < 2**53 and v.is_integer())
    return True


def run_py(py: str, args: Sequence[Any]) -> Outcome:
    fn = SPECS_BY_PY[py].py_callable() if py in SPECS_BY_PY else None
    if fn is None:
        from segmap.runtime import functions

        fn = getattr(functions, py)
    try:
        return ("ok", fn(*args))
    except MappingRuntimeError as e:
        return ("err", e.message)


class NodeRuntime:
    """A node process running node_harness.js."""

    def __init__(self) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node not found")
        self.proc = subprocess.Popen(
            [node, str(HARNESS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1 << 20,
        )
        self.loaded: set[str] = set()
        self.load("full", js_runtime_source())

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def request(self, req: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req, ensure_ascii=True, allow_nan=False) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline(), parse_int=_js_int)
        if "error" in reply:
            raise RuntimeError("node harness: " + reply["error"])
        return reply["ok"]

    def load(self, name: str, source: str) -> None:
        self.request({"load": name, "source": source})
        self.loaded.add(name)

    def calls(self, calls: Iterable[tuple[str, Sequence[Any]]], ctx: str = "full") -> list[Outcome]:
        payload = [[fn, encode(list(args))] for fn, args in calls]
        out = self.request({"ctx": ctx, "calls": payload})
        return [self._outcome(o) for o in out]

    def grid(self, fn: str, xs: Sequence[Any], ys: Sequence[Any], ctx: str = "full") -> list[Outcome]:
        out = self.request({"ctx": ctx, "grid": fn, "xs": encode(list(xs)), "ys": encode(list(ys))})
        return [self._outcome(o) for o in out]

    @staticmethod
    def _outcome(o: list[Any]) -> Outcome:
        if o[0] == "crash":
            raise AssertionError("JS helper threw a non-mapping error: " + o[1])
        return (o[0], decode(o[1]) if o[0] == "ok" else o[1])


def agree(py_out: Outcome, js_out: Outcome) -> bool:
    if py_out[0] != js_out[0]:
        return False
    return py_out[0] == "err" or same(py_out[1], js_out[1])


def differential(node: NodeRuntime, py: str, batch: Sequence[Sequence[Any]], *, check_normalised: bool = False) -> None:
    """Assert Python and JS agree on every argument tuple of ``batch``."""
    spec = SPECS_BY_PY.get(py)
    js = spec.js if spec is not None else "__sm_" + py
    py_outs = [run_py(py, args) for args in batch]
    js_outs = node.calls((js, args) for args in batch)
    bad = [
        (args, p, j)
        for args, p, j in zip(batch, py_outs, js_outs, strict=True)
        if not agree(p, j)
    ]
    if bad:
        args, p, j = bad[0]
        raise AssertionError(
            f"Python and JS disagree on {len(bad)} of {len(batch)} calls to {py}, "
            f"first: {args!r} -> py {p!r}, js {j!r}"
        )
    if check_normalised:
        for args, (kind, value) in zip(batch, py_outs, strict=True):
            assert kind == "err" or is_normalised(value), f"{py}{tuple(args)!r} gave un-normalised {value!r}"
