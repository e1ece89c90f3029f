"""The longer fuzz run of `segmap check` for cost (the CI-sized one is tests/check/test_check_fuzz.py).

    python bench/fuzz_check.py [--seconds 120] [--max-count 20000] [--seed N]

Part 1, growth: each input shape of segmap/testing/check_fuzz.py at n and 8n
repetitions; a linear checker takes about the same time per KB at both sizes
(ratio ~1), a quadratic one 8 times as long. Part 2, random: repetitive
inputs up to ``--max-count`` repetitions (up to about 1 MiB) until the time
is up; prints the worst time per KB and output per input byte seen, and
stops with exit 1 on any exception. Nothing is asserted on timings: read the
ratios (the machine may be shared; the load average is printed).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from segmap.testing.check_fuzz import SHAPE_COUNT, measure, random_mapping, scaled  # noqa: E402


def growth(small: int = 500, factor: int = 8) -> None:
    print(f"growth: time per KB at {small * factor} vs {small} repetitions (1.0 = linear, {factor}.0 = quadratic)")
    print(f"{'shape':>5} {'KB':>8} {'ms/KB small':>12} {'ms/KB large':>12} {'ratio':>6} {'out/in':>7}")
    for k in range(SHAPE_COUNT):
        a, b = scaled(k, small), scaled(k, small * factor)
        ca = min((measure(a) for _ in range(3)), key=lambda c: c.seconds)
        cb = measure(b)
        pa = ca.seconds * 1000 / (len(a) / 1024)
        pb = cb.seconds * 1000 / (len(b) / 1024)
        print(f"{k:>5} {len(b) / 1024:>8.0f} {pa:>12.2f} {pb:>12.2f} {pb / pa:>6.2f} {cb.output_bytes / len(b):>7.2f}")


def fuzz(seconds: float, max_count: int, seed: int) -> int:
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    n = 0
    worst_ms_kb = worst_out = 0.0
    total_bytes = 0
    while time.monotonic() < deadline:
        text = random_mapping(rng, max_count)
        size = len(text.encode("utf-8", "surrogatepass"))
        try:
            cost = measure(text)
        except Exception:  # noqa: BLE001 - the point of the run
            traceback.print_exc()
            print(f"input {n} (seed {seed}) raised; first 200 characters: {text[:200]!r}", file=sys.stderr)
            return 1
        n += 1
        total_bytes += size
        if size >= 10 * 1024:  # per-KB figures of tiny inputs are start-up noise
            worst_ms_kb = max(worst_ms_kb, cost.seconds * 1000 / (size / 1024))
        worst_out = max(worst_out, cost.output_bytes / size)
    print(f"random: {n} inputs, {total_bytes / 2**20:.1f} MiB in {seconds:.0f} s, no exception; "
          f"worst {worst_ms_kb:.1f} ms per KB (inputs >= 10 KB), worst output {worst_out:.1f} bytes per input byte")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--max-count", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    measure("version: 1\nevents: {}\n")  # imports and the snapshot, outside the measurements
    growth()
    rc = fuzz(args.seconds, args.max_count, args.seed)
    print(f"load average {os.getloadavg()[0]:.2f}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
