"""The one bridge from the tests to node: a long-lived process running ``harness.js``.

A test session starts one (the ``node_bridge`` fixture of tests/conftest.py)
and every test that runs JavaScript sends it batches: runtime helper calls
(``load``, ``calls``, ``grid``: tests/runtime) or exported handlers with
webhooks (``run``: tests/js). A Hypothesis example costs one round trip,
never one node start.
"""
from __future__ import annotations

import json
import math
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from segmap.runtime.values import MISSING

HARNESS = Path(__file__).with_name("harness.js")

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


class NodeBridge:
    """A node process running harness.js."""

    def __init__(self, node: str | None = None) -> None:
        node = node or shutil.which("node")
        if node is None:  # pragma: no cover - the fixture asks require_tool first
            raise RuntimeError("node not found")
        self.proc = subprocess.Popen([node, str(HARNESS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, encoding="utf-8", bufsize=1 << 20)
        self.loaded: set[str] = set()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def request(self, req: dict[str, Any], *, js_ints: bool = False) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req, ensure_ascii=True, allow_nan=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        reply = json.loads(line, parse_int=_js_int) if js_ints else json.loads(line)
        if "error" in reply:
            raise RuntimeError("node harness: " + reply["error"])
        return reply["ok"]

    # --- runtime helpers (tests/runtime) ----------------------------------------------
    def load(self, name: str, source: str) -> None:
        """Define the vm context ``name`` from ``source`` (the JS runtime, or part of it)."""
        self.request({"load": name, "source": source})
        self.loaded.add(name)

    def _context(self, ctx: str) -> str:
        if ctx == "full" and "full" not in self.loaded:
            from segmap.compiler.functions import js_runtime_source

            self.load("full", js_runtime_source())
        return ctx

    def calls(self, calls: Iterable[tuple[str, Sequence[Any]]], ctx: str = "full") -> list[Outcome]:
        payload = [[fn, encode(list(args))] for fn, args in calls]
        out = self.request({"ctx": self._context(ctx), "calls": payload}, js_ints=True)
        return [self._outcome(o) for o in out]

    def grid(self, fn: str, xs: Sequence[Any], ys: Sequence[Any], ctx: str = "full") -> list[Outcome]:
        out = self.request({"ctx": self._context(ctx), "grid": fn, "xs": encode(list(xs)), "ys": encode(list(ys))},
                           js_ints=True)
        return [self._outcome(o) for o in out]

    @staticmethod
    def _outcome(o: list[Any]) -> Outcome:
        if o[0] == "crash":
            raise AssertionError("JS helper threw a non-mapping error: " + o[1])
        if o[0] == "ok":  # the value, and node's JSON.stringify text of it
            return ("ok", decode(o[1]), o[2])  # type: ignore[return-value]
        return (o[0], o[1])

    # --- exported handlers (tests/js) ----------------------------------------------
    def run(self, jobs: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> list[list[dict[str, Any]]]:
        """Results of every webhook of every (handler source, webhooks) job."""
        # the same envelope text both targets parse (tests/js/bridge.envelope_text)
        req = {"jobs": [{"source": src, "webhooks": [json.dumps(w, ensure_ascii=True, allow_nan=False) for w in hooks]}
                        for src, hooks in jobs]}
        result: list[list[dict[str, Any]]] = self.request(req)
        return result
