"""ruff's lint rules ([tool.ruff] in pyproject.toml) and mypy hold on the tree; CI runs these tests.

Both tools are dev dependencies (pyproject.toml, requirements/lock.txt), run
as modules of the interpreter running the tests, so the pinned versions are
the ones that judge.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_lint_rules_hold():
    out = run("ruff", "check", "--no-cache", "segmap", "tests", "bench", "tools")
    assert out.returncode == 0, out.stdout + out.stderr
