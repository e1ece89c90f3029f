"""docs/backfill.md shows real output: re-create its dry run against the same stand-in history."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path


from tests.conftest import require_tool  # noqa: E402

require_tool("dodopayments")

from tests.fakes.fake_dodo import FakeDodo, History  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "backfill.md").read_text(encoding="utf-8")
VARIES = re.compile(r"(/s · ETA|\d+\.\d+s$|^time: )")  # rates, durations and the time split change per run


def _documented() -> tuple[str, list[str]]:
    block = re.search(r"```\n\$ (segmap backfill [^\n]*--dry-run[^\n]*)\n(.*?)```", DOC, re.S)
    return block.group(1), block.group(2).splitlines()


def _stable(lines: list[str]) -> list[str]:
    return [ln for ln in lines if ln.strip() and not VARIES.search(ln)]


def test_the_documented_dry_run_is_real_output(tmp_path):
    command, lines = _documented()
    until = datetime(2026, 1, 1, tzinfo=timezone.utc)
    history = History.generate(2000, until - timedelta(days=90), until)
    env = dict(os.environ, DODO_PAYMENTS_API_KEY="k", PYTHONPATH=str(ROOT))
    env.pop("SEGMAP_DB", None)
    subprocess.run([sys.executable, "-m", "segmap", "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    with FakeDodo(history, api_key="k") as dodo:
        env["DODO_PAYMENTS_BASE_URL"] = dodo.url
        argv = command.split()
        assert argv[0] == "segmap"
        proc = subprocess.run([sys.executable, "-m", "segmap", *argv[1:], "--max-rps", "0"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert _stable((proc.stderr + proc.stdout).splitlines()) == _stable(lines)
