"""bench/blind_measure.py: its verdicts agree with `segmap check` run on each file alone.

The script checks all files in one process and attributes diagnostics back to pairs; these
tests re-derive the verdict of two pairs from separate per-file runs of the command, so a
mistake in grouping, in the ok-twin subtraction or in the line overlap shows up. They do not
assert what the checker catches (that is what the script measures).
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location("blind_measure", ROOT / "bench" / "blind_measure.py")
assert _spec is not None and _spec.loader is not None
blind_measure = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("blind_measure", blind_measure)  # its dataclasses look their module up
_spec.loader.exec_module(blind_measure)

PAIRS = ("01", "02")  # one of set A, one of set B


def _alone(name: str) -> list[dict[str, object]]:
    """Error and warning diagnostics of one file, from its own `segmap check` process."""
    proc = subprocess.run(
        [sys.executable, "-m", "segmap", "check", "--format", "json", f"bench/blind/{name}"],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [d for d in json.loads(proc.stdout)["diagnostics"] if d["severity"] in ("error", "warning")]


@pytest.fixture(scope="module")
def measured() -> dict[str, dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "blind_measure.py"), "--only", ",".join(PAIRS), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return {r["id"]: r for r in json.loads(proc.stdout)}


@pytest.mark.parametrize("ident", PAIRS)
def test_verdict_matches_separate_runs(measured: dict[str, dict[str, object]], ident: str) -> None:
    entry = next(p for p in blind_measure.load_manifest({ident}))
    result = measured[ident]
    assert result["half"] == ("A" if int(ident) % 2 else "B")

    ok_diags = _alone(str(entry["ok"]))
    assert [(d["code"], d["line"]) for d in result["false_alarms"]] == [(d["code"], d["line"]) for d in ok_diags]

    ok_keys = [(d["code"], d["message"]) for d in ok_diags]
    new = []
    for d in _alone(str(entry["bad"])):
        if (d["code"], d["message"]) in ok_keys:
            ok_keys.remove((d["code"], d["message"]))
        else:
            new.append(d)
    assert [(d["code"], d["line"]) for d in result["slip_diagnostics"]] == [(d["code"], d["line"]) for d in new]

    lo, hi = entry["lines"]
    on_slip = [d for d in new if d["line"] <= hi and d["end_line"] >= lo]
    expected = "located" if on_slip else "elsewhere" if new else "missed"
    assert result["outcome"] == expected


def test_every_pair_is_one_edit_at_its_line() -> None:
    """The manifest's line of each slip lies in the one region where bad differs from ok."""
    for entry in blind_measure.load_manifest(None):
        blind_measure.check_pair_shape(entry)
