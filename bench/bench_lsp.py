"""Benchmark: how fast `segmap lsp` re-checks the 48-event mapping after an edit.

Workload: bench/all_events.yaml (all 48 Dodo event types) opened in `segmap
lsp`, driven over stdio by pygls's LanguageClient, as an editor would. Each
edit is one incremental change of one expression (alternating between two
texts, so every edit is a real change); the server re-checks the whole file
and publishes diagnostics. Measured per edit:

- **check**: the time of the check inside the server (load, type, Segment
  rules, acknowledgements), wall clock and CPU (the CPU time is what the
  check costs; the wall time also counts waiting for a core on a busy
  machine), read back with the `segmap.lastCheckMilliseconds` command;
- **round trip**: from sending `didChange` to receiving the diagnostics of
  that version (what the author waits for: check + JSON-RPC + pipes).

"Warm" means after a few discarded edits (the parse cache, the snapshot and
the imports are loaded). The baseline, measured in the same run, is a cold
`segmap check` of the same file (a fresh process: what the author paid per
edit before the language server). Target: warm re-check under 20 ms.

Run::

    python bench/bench_lsp.py [--edits 40]

A benchmark, not a test: timings are printed, never asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

HERE = Path(__file__).resolve().parent
MAPPING = HERE / "all_events.yaml"
A, B = "order_id: data.payment_id", "order_id: data.payment_id ?? data.business_id"


async def measure(edits: int, warmup: int) -> tuple[list[float], list[float], list[float]]:
    client = LanguageClient("bench", "1")
    await client.start_io(sys.executable, "-m", "segmap", "lsp")
    published: dict[int, float] = {}
    arrived = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _published(params: lsp.PublishDiagnosticsParams) -> None:
        published[params.version] = time.perf_counter()
        arrived.set()

    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), process_id=None))
    client.initialized(lsp.InitializedParams())
    text = MAPPING.read_text(encoding="utf-8")
    uri = MAPPING.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))

    async def wait(version: int) -> float:
        while version not in published:
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), 60)
        return published[version]

    await wait(1)
    checks, cpus, trips = [], [], []
    current = A
    for i in range(warmup + edits):
        at = text.index(current)
        line = text.count("\n", 0, at)
        col = at - (text.rfind("\n", 0, at) + 1)
        new = B if current == A else A
        version = i + 2
        sent = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(line, col),
                                                                  lsp.Position(line, col + len(current))),
                                                  text=new)]))
        done = await wait(version)
        text = text[:at] + new + text[at + len(current):]
        current = new
        ms = await client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command="segmap.lastCheckMilliseconds", arguments=[uri]))
        if i >= warmup:
            trips.append((done - sent) * 1000)
            checks.append(float(ms[0]))
            cpus.append(float(ms[1]))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return checks, cpus, trips


def cold_check(runs: int) -> list[float]:
    out = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "segmap", "check", str(MAPPING)], check=True, capture_output=True)
        out.append((time.perf_counter() - start) * 1000)
    return out[1:]  # the first run warms the OS cache


def _row(name: str, xs: list[float], base: float) -> str:
    xs = sorted(xs)
    p90 = xs[int(0.9 * (len(xs) - 1))]
    med = statistics.median(xs)
    return f"| {name} | {med:.1f} ms | {xs[0]:.1f} ms | {p90:.1f} ms | {med / base:.2f}x |"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edits", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--cold-runs", type=int, default=5)
    args = ap.parse_args()
    checks, cpus, trips = asyncio.run(measure(args.edits, args.warmup))
    cold = cold_check(args.cold_runs)
    base = statistics.median(cold)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bench_lsp: {args.edits} edits of {MAPPING.name} (48 event types) after {args.warmup} warm-up edits; "
          f"Python {platform.python_version()}, load average {load:.1f}")
    print("| measurement | median | min | p90 | vs cold `segmap check` |")
    print("|---|---:|---:|---:|---:|")
    print(_row("warm re-check inside `segmap lsp` (wall)", checks, base))
    print(_row("warm re-check inside `segmap lsp` (CPU)", cpus, base))
    print(_row("edit -> diagnostics round trip over stdio", trips, base))
    print(_row("cold `segmap check` (baseline, fresh process)", cold, base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
