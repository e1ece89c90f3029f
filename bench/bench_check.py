"""Benchmark: cold `segmap check` against `tsc --noEmit` on the same mapping.

Workload: bench/all_events.yaml maps all 48 Dodo Payments webhook event types
to Segment calls; bench/ts/handler.ts is the same mapping as one TypeScript
handler typed with the Dodo Node SDK (`UnwrapWebhookEvent`) and Segment's
`TrackParams`/`IdentifyParams`, compiled with `strict`.

Every run is a fresh process (what a pre-commit hook or CI step pays). The
tools run round-robin, so load changes on the machine hit all of them alike,
after one discarded warm-up run each (OS file cache; Python writes its .pyc
files then, as `pip install` would have, and `segmap check` its parse-tree
cache, in a directory of this run: segmap/dsl/tree_cache.py). `segmap check
(no parse cache)` is a check whose expressions were never seen: it parses them
with Lark. Reported: median/min/max wall time, median CPU time (user + system:
less sensitive than wall time to other work on the machine), peak RSS, and each
tool's median relative to segmap's, all from this run.

Setup once (the TypeScript side; node_modules is git-ignored)::

    npm --prefix bench/ts ci        # typescript 7 (Go), @typescript/native-preview (tsgo), typescript 5.9, SDKs

Run::

    python bench/bench_check.py [--runs 9] [--json] [--instructions] [--steps] [--baseline DIR]

``--baseline DIR`` adds another checkout of segmap (``git worktree add /tmp/old REV``) as a row
of the same rounds, for a ratio between two versions that the machine's load hits alike;
``--steps`` counts the instructions of each step of a cold check (interpreter, imports, the
check) for this checkout and the baseline.

This is a benchmark, not a test: nothing here is asserted except that every
tool accepts the workload (a failing check would make the timing meaningless).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TS = HERE / "ts"
MAPPING = HERE / "all_events.yaml"
TARGET_MS = 100.0


# segmap check's parse-tree cache for this run (created and filled by the warm-up run, removed at the end)
CACHE_DIR = os.path.join(tempfile.gettempdir(), f"segmap-bench-cache-{os.getpid()}")


def _python_env(parse_cache: bool = True, checkout: Path = ROOT) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    env.pop("SEGMAP_NO_CACHE", None)
    env["NO_COLOR"] = "1"
    env["SEGMAP_CACHE_DIR"] = CACHE_DIR
    env["PYTHONPATH"] = str(checkout)  # this checkout's segmap, whatever the venv's editable install points at
    if not parse_cache:
        env["SEGMAP_NO_CACHE"] = "1"
    return env


Tool = tuple[str, list[str], "dict | None", Path]  # name, command, environment, working directory


def tools(skip_lib_check: bool, baseline: Path | None = None) -> list[Tool]:
    check = [sys.executable, "-m", "segmap", "check", str(MAPPING)]
    out: list[Tool] = [
        ("segmap check", check, _python_env(), ROOT),
        ("segmap check (no parse cache)", check, _python_env(parse_cache=False), ROOT),
    ]
    if baseline is not None:
        out.append((f"segmap check ({baseline})", check, _python_env(checkout=baseline), baseline))
    bins = TS / "node_modules" / ".bin"
    node = shutil.which("node")
    cfg = ["-p", str(TS / "tsconfig.json")]
    variants = [("", [])] + ([(" --skipLibCheck", ["--skipLibCheck"])] if skip_lib_check else [])
    for suffix, extra in variants:
        if (bins / "tsc").exists():
            out.append((f"tsc 7 (Go, npm `typescript`){suffix}", [str(bins / "tsc"), *cfg, *extra], None, ROOT))
        if (bins / "tsgo").exists():
            out.append((f"tsgo (@typescript/native-preview){suffix}", [str(bins / "tsgo"), *cfg, *extra], None, ROOT))
        ts5 = TS / "node_modules" / "typescript5" / "bin" / "tsc"
        if ts5.exists() and node:
            out.append((f"tsc 5.9 (JavaScript){suffix}", [node, str(ts5), *cfg, *extra], None, ROOT))
    return out


def run_once(cmd: list[str], env: dict | None, cwd: Path = ROOT) -> tuple[float, float, int, int, str]:
    """(wall seconds, CPU seconds, peak RSS KiB, exit status, output) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode, out.decode("utf-8", "replace")


def segmap_breakdown(env: dict) -> dict:
    """Where segmap's time goes inside one process: interpreter start, imports, the check itself."""
    code = (  # as `segmap check` runs, its parse-tree cache on (filled by the warm-up runs)
        "import time; t0 = time.perf_counter()\n"
        "from segmap.cli.main import build_parser; import segmap.compiler.api as api\n"
        "import segmap.dsl.loader, segmap.compiler.checker, segmap.compiler.functions, segmap.dsl.expressions as e\n"
        "import segmap.dsl.tree_cache as c; e.use_tree_cache(c.open_default())\n"
        "t1 = time.perf_counter()\n"
        f"text = open({str(MAPPING)!r}).read(); r = api.check_source(text, 'all_events.yaml')\n"
        "t2 = time.perf_counter()\n"
        "r = api.check_source(text, 'all_events.yaml'); t3 = time.perf_counter()\n"
        "print((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, len(r.plan.calls))\n"
    )
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    total = (time.perf_counter() - start) * 1e3
    imports, first, warm, events = out.stdout.split()
    bare = min(run_once([sys.executable, "-c", "pass"], env)[0] for _ in range(5)) * 1e3
    return {"interpreter_start_ms": bare, "imports_ms": float(imports), "check_first_ms": float(first),
            "check_warm_ms": float(warm), "events": int(events), "process_ms": total}


def instruction_counts(env: dict) -> dict | None:
    """Instructions executed by one cold `segmap check` and by `python -c pass`, under valgrind.

    Unlike wall or CPU time these do not move with the load of a shared machine, so
    they compare two versions of segmap exactly (valgrind's cachegrind, no cache
    simulation). None when valgrind is not installed."""
    if not shutil.which("valgrind"):
        return None
    check = [sys.executable, "-m", "segmap", "check", str(MAPPING)]
    return {name: instructions(cmd, run_env) for name, cmd, run_env in (
        ("segmap check", check, env), ("no parse cache", check, _python_env(parse_cache=False)),
        ("python -c pass", [sys.executable, "-c", "pass"], env))}


def instructions(cmd: list[str], env: dict | None, cwd: Path = ROOT) -> int | None:
    """Instructions one run of ``cmd`` executes (valgrind's cachegrind, no cache simulation)."""
    proc = subprocess.run([shutil.which("valgrind") or "valgrind", "--tool=cachegrind", "--cache-sim=no",
                           "--cachegrind-out-file=/dev/null", *cmd], capture_output=True, text=True, env=env, cwd=cwd)
    refs = [line for line in proc.stderr.splitlines() if "I" in line and "refs:" in line]
    return int(refs[-1].split("refs:")[1].replace(",", "").strip()) if refs else None


def _steps(checkout: Path) -> list[tuple[str, str]]:
    """(step, code that stops after it) for a cold check of ``checkout``'s segmap."""
    steps = [("interpreter start (python -c pass)", "pass"),
             ("import segmap", "import segmap"),
             ("argparse and the check command", "from segmap.cli.main import build_parser; build_parser(['check'])"),
             ("PyYAML and yaml_source", "import segmap.dsl.yaml_source"),
             ("the rest of the check's modules", "import segmap.dsl.loader, segmap.dsl.expressions, "
              "segmap.compiler.checker, segmap.compiler.api, segmap.diagnostics.render, segmap.diagnostics.acknowledge")]
    if (checkout / "segmap" / "dsl" / "tree_cache.py").exists():
        steps.append(("the parser: the parse-tree cache, or Lark's tables", "import segmap.dsl.tree_cache as c; c.open_default()"))
    else:
        steps.append(("the parser: the parse-tree cache, or Lark's tables", "import segmap.dsl.expressions as e; e.parser()"))
    out, code = [], []
    for name, line in steps:
        code.append(line)
        out.append((name, "; ".join(code)))
    return out


def step_counts(checkout: Path) -> list[tuple[str, int]]:
    """Instructions each step of a cold `segmap check` adds, in ``checkout`` (after one warm-up run)."""
    env = _python_env(checkout=checkout)
    check = [sys.executable, "-m", "segmap", "check", str(MAPPING)]
    subprocess.run(check, capture_output=True, env=env, cwd=checkout)  # .pyc files and the parse cache
    totals = [(name, instructions([sys.executable, "-c", code], env, checkout) or 0) for name, code in _steps(checkout)]
    totals.append(("the check itself (YAML, ASTs, checker, output, exit)", instructions(check, env, checkout) or 0))
    return [(name, total - (totals[i - 1][1] if i else 0)) for i, (name, total) in enumerate(totals)] + \
        [("a cold `segmap check`", totals[-1][1])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=9, help="timed runs per tool (default 9)")
    ap.add_argument("--no-skip-lib-check", action="store_true", help="do not also time tsc --skipLibCheck")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    ap.add_argument("--instructions", action="store_true",
                    help="also count instructions under valgrind (load-independent; about 20 s)")
    ap.add_argument("--steps", action="store_true",
                    help="count the instructions of each step of a cold check under valgrind (about 1 min)")
    ap.add_argument("--baseline", type=Path, metavar="DIR",
                    help="another checkout of segmap to run in the same rounds (git worktree add DIR REV)")
    args = ap.parse_args()
    baseline = args.baseline.resolve() if args.baseline else None

    todo = tools(not args.no_skip_lib_check, baseline)
    if not any(name.startswith("tsc") for name, *_ in todo):
        print("note: no TypeScript compilers found; run `npm --prefix bench/ts ci` for the comparison\n")
    # warm-up (discarded) and sanity: every tool must accept the workload
    for name, cmd, env, cwd in todo:
        _, _, _, code, out = run_once(cmd, env, cwd)
        if code != 0:
            print(f"{name} failed on the workload (exit {code}):\n{out}")
            return 1
    samples: dict[str, list[tuple[float, float, int]]] = {name: [] for name, *_ in todo}
    for _ in range(args.runs):
        for name, cmd, env, cwd in todo:
            wall, cpu, rss, _, _ = run_once(cmd, env, cwd)
            samples[name].append((wall * 1e3, cpu * 1e3, rss))

    base = statistics.median(w for w, _, _ in samples["segmap check"])
    rows = []
    for name, *_ in todo:
        walls = [w for w, _, _ in samples[name]]
        med = statistics.median(walls)
        rows.append({"tool": name, "median_ms": med, "min_ms": min(walls), "max_ms": max(walls),
                     "cpu_ms": statistics.median(c for _, c, _ in samples[name]),
                     "rss_mb": max(r for _, _, r in samples[name]) / 1024, "vs_segmap": med / base})
    breakdown = segmap_breakdown(_python_env())

    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        load = "?"
    print(f"workload: {MAPPING.relative_to(ROOT)} ({breakdown['events']} event types) vs "
          f"{(TS / 'handler.ts').relative_to(ROOT)}, {args.runs} cold runs each after a warm-up")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, load average {load}; "
          f"Python {platform.python_version()}, node {_node_version()}\n")
    width = max(len(r["tool"]) for r in rows)
    print(f"| {'tool':<{width}} | {'median':>7} | {'min':>7} | {'max':>7} | {'CPU':>7} | {'peak RSS':>8} "
          f"| {'vs segmap':>9} |")
    print(f"|{'-' * (width + 2)}|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|{'-' * 9}:|{'-' * 10}:|")
    for r in rows:
        print(f"| {r['tool']:<{width}} | {r['median_ms']:>5.0f}ms | {r['min_ms']:>5.0f}ms | {r['max_ms']:>5.0f}ms "
              f"| {r['cpu_ms']:>5.0f}ms | {r['rss_mb']:>6.0f}MB | {r['vs_segmap']:>8.1f}x |")
    print()
    print(f"segmap in one process: interpreter start {breakdown['interpreter_start_ms']:.0f} ms (python -c pass), "
          f"imports {breakdown['imports_ms']:.0f} ms, first check {breakdown['check_first_ms']:.0f} ms, "
          f"warm check {breakdown['check_warm_ms']:.0f} ms")
    if args.instructions:
        counts = instruction_counts(_python_env())
        if counts:
            print("instructions (valgrind, load-independent): "
                  + ", ".join(f"{k} {v / 1e6:.0f} M" for k, v in counts.items() if v))
    if args.steps and shutil.which("valgrind"):
        columns = [("this checkout", step_counts(ROOT))] + ([(str(baseline), step_counts(baseline))] if baseline else [])
        print("\ninstructions per step of a cold check (valgrind):\n")
        print("| step | " + " | ".join(name for name, _ in columns) + " |")
        print("|---|" + "---:|" * len(columns))
        for i, (step, _) in enumerate(columns[0][1]):
            print(f"| {step} | " + " | ".join(f"{counts[i][1] / 1e6:.0f} M" if i < len(counts) else "" for _, counts in columns)
                  + " |")
    verdict = "meets" if base < TARGET_MS else "MISSES"
    print(f"segmap check median {base:.0f} ms {verdict} the {TARGET_MS:.0f} ms target (wall time at load average "
          f"{load}: meaningful on a quiet machine only; median CPU {rows[0]['cpu_ms']:.0f} ms)")
    if args.json:
        print(json.dumps({"rows": rows, "segmap_breakdown": breakdown, "target_ms": TARGET_MS, "load": load}, indent=2))
    return 0


def _node_version() -> str:
    node = shutil.which("node")
    if not node:
        return "-"
    return subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(CACHE_DIR, ignore_errors=True)
