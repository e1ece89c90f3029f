"""Measures `segmap check` on the blind set (bench/blind/): false alarms and slips caught.

Why: the checker's own catalogue was written by its authors, who knew what it checks.
The blind set was written without reading the checker (bench/blind/README.md), so the
share of its slips that `segmap check` reports is a fairer estimate of what it catches
in real porting work, and its correct twins show whether it raises false alarms.

For every pair of bench/blind/manifest.json this runs the real command line,
`python -m segmap check --format json FILE...` (one process for all the files), and:

- ok file: every diagnostic of severity error or warning is a false alarm;
- bad file: the diagnostics (error or warning) that its ok twin does not also have, matched
  by code and message, are the ones the slip caused. The slip is *located* when one of them
  overlaps the manifest's `lines` (the slip's line, or for a deleted line the call that lost
  it), *elsewhere* when they all point at other lines, and *missed* when there are none.

It also checks that the pair is what the manifest says: the bad file is the ok file with
one edited region, and the manifest's line lies in it (for a deletion, next to it).

Usage: python bench/blind_measure.py [--only 01,02] [--json] [--markdown]
Exit status 0 whatever the counts (it measures); 2 if the set or the command is broken.
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLIND = ROOT / "bench" / "blind"
ALARM = ("error", "warning")
OUTCOMES = ("located", "elsewhere", "missed")


@dataclass
class PairResult:
    entry: dict[str, object]
    false_alarms: list[dict[str, object]] = field(default_factory=list)
    slip_diagnostics: list[dict[str, object]] = field(default_factory=list)
    outcome: str = "missed"

    @property
    def ident(self) -> str:
        return str(self.entry["id"])


def load_manifest(only: set[str] | None) -> list[dict[str, object]]:
    pairs = json.loads((BLIND / "manifest.json").read_text())["pairs"]
    return [p for p in pairs if only is None or p["id"] in only]


def check_pair_shape(entry: dict[str, object]) -> None:
    """The bad file is the ok file with one edited region holding the manifest's line."""
    ok = (BLIND / str(entry["ok"])).read_text().splitlines()
    bad = (BLIND / str(entry["bad"])).read_text().splitlines()
    regions = [op for op in difflib.SequenceMatcher(a=ok, b=bad, autojunk=False).get_opcodes()
               if op[0] != "equal"]
    if len(regions) != 1:
        raise SystemExit(f"{entry['bad']}: {len(regions)} edited regions, expected 1")
    _tag, _i1, _i2, j1, j2 = regions[0]
    lo, hi = entry["lines"]  # type: ignore[misc]
    changed = set(range(j1 + 1, j2 + 1)) or {j1, j1 + 1}  # a deletion sits between j1 and j1+1
    if not changed & set(range(int(lo), int(hi) + 2)):
        raise SystemExit(f"{entry['bad']}: manifest lines {lo}-{hi} miss the edit at {sorted(changed)}")


def run_check(files: list[Path]) -> dict[str, list[dict[str, object]]]:
    """Diagnostics per file from one `segmap check --format json` run."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_COLOR="1")
    cmd = [sys.executable, "-m", "segmap", "check", "--format", "json",
           *[str(f.relative_to(ROOT)) for f in files]]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"segmap check exited {proc.returncode}: {proc.stderr.strip()[:500]}")
    doc = json.loads(proc.stdout)
    if doc["summary"]["files"] != len(files):
        raise SystemExit(f"segmap check reported {doc['summary']['files']} files of {len(files)}")
    per_file: dict[str, list[dict[str, object]]] = {f.name: [] for f in files}
    for diag in doc["diagnostics"]:
        per_file[Path(str(diag["file"])).name].append(diag)
    return per_file


def alarms(diags: list[dict[str, object]]) -> list[dict[str, object]]:
    return [d for d in diags if d["severity"] in ALARM]


def measure(entries: list[dict[str, object]]) -> list[PairResult]:
    for entry in entries:
        check_pair_shape(entry)
    files = [BLIND / str(e[k]) for e in entries for k in ("ok", "bad")]
    per_file = run_check(files)
    results = []
    for entry in entries:
        result = PairResult(entry)
        ok_diags = alarms(per_file[str(entry["ok"])])
        result.false_alarms = ok_diags
        seen = Counter((d["code"], d["message"]) for d in ok_diags)
        for diag in alarms(per_file[str(entry["bad"])]):
            key = (diag["code"], diag["message"])
            if seen[key]:
                seen[key] -= 1
            else:
                result.slip_diagnostics.append(diag)
        lo, hi = entry["lines"]  # type: ignore[misc]
        if any(int(d["line"]) <= int(hi) and int(d.get("end_line") or d["line"]) >= int(lo)  # type: ignore[call-overload]
               for d in result.slip_diagnostics):
            result.outcome = "located"
        elif result.slip_diagnostics:
            result.outcome = "elsewhere"
        results.append(result)
    return results


def diag_text(d: dict[str, object]) -> str:
    return f"{d['code']}@{d['line']}"


def totals(results: list[PairResult], key: str) -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = {}
    for r in results:
        row = table.setdefault(str(r.entry[key]), Counter())
        row[r.outcome] += 1
        row["pairs"] += 1
        row["false_alarm_files"] += bool(r.false_alarms)
    return dict(sorted(table.items()))


def summary_rows(results: list[PairResult]) -> list[tuple[str, Counter[str]]]:
    all_row: Counter[str] = Counter()
    for r in results:
        all_row[r.outcome] += 1
        all_row["pairs"] += 1
        all_row["false_alarm_files"] += bool(r.false_alarms)
    rows = [(f"set {h}", c) for h, c in totals(results, "half").items()]
    rows += [(cat, c) for cat, c in totals(results, "category").items()]
    rows.append(("all", all_row))
    return rows


def render_markdown(results: list[PairResult]) -> str:
    out = ["| group | pairs | located | elsewhere | missed | caught | ok files with false alarms |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for name, c in summary_rows(results):
        caught = c["located"] + c["elsewhere"]
        out.append(f"| {name} | {c['pairs']} | {c['located']} | {c['elsewhere']} | {c['missed']} "
                   f"| {caught}/{c['pairs']} | {c['false_alarm_files']} |")
    out += ["", "| id | half | category | slip | line | outcome | slip diagnostics | ok-file alarms |",
            "|---|---|---|---|---:|---|---|---|"]
    for r in results:
        e = r.entry
        out.append(f"| {r.ident} | {e['half']} | {e['category']} | {e['name']} | {e['line']} "
                   f"| {r.outcome} | {', '.join(map(diag_text, r.slip_diagnostics)) or '-'} "
                   f"| {', '.join(map(diag_text, r.false_alarms)) or '-'} |")
    return "\n".join(out)


def render_text(results: list[PairResult]) -> str:
    out = []
    for r in results:
        e = r.entry
        out.append(f"{r.ident} {e['half']} {str(e['category']):18} {str(e['name']):38} "
                   f"{r.outcome:9} {' '.join(map(diag_text, r.slip_diagnostics))}")
    out.append("")
    for r in results:
        for d in r.false_alarms:
            out.append(f"FALSE ALARM {e_file(r)}:{d['line']}:{d['column']} "
                       f"{d['severity']}[{d['code']}] {d['message']}")
    out.append("")
    for name, c in summary_rows(results):
        out.append(f"{name:18} pairs {c['pairs']:2}  located {c['located']:2}  elsewhere "
                   f"{c['elsewhere']:2}  missed {c['missed']:2}  ok files with false alarms "
                   f"{c['false_alarm_files']}")
    return "\n".join(out)


def e_file(r: PairResult) -> str:
    return f"bench/blind/{r.entry['ok']}"


def as_json(results: list[PairResult]) -> str:
    return json.dumps([{"id": r.ident, "half": r.entry["half"], "category": r.entry["category"],
                        "name": r.entry["name"], "outcome": r.outcome,
                        "slip_diagnostics": r.slip_diagnostics, "false_alarms": r.false_alarms}
                       for r in results], indent=2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated pair ids, e.g. 01,02")
    parser.add_argument("--json", action="store_true", help="one JSON list of pair results")
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    entries = load_manifest(only)
    if not entries:
        print("no pairs selected", file=sys.stderr)
        return 2
    results = measure(entries)
    print(as_json(results) if args.json else render_markdown(results) if args.markdown
          else render_text(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
