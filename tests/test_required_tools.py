"""Required tools are required: under CI a missing one fails the run at once, with one message;
outside CI the tests that need it skip, naming it (tests/conftest.py: require_tool)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pytest(tmp_path: Path, ci: bool, *args: str) -> subprocess.CompletedProcess:
    empty = tmp_path / "bin"  # a PATH without node
    empty.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(PATH=str(empty), **({"CI": "true"} if ci else {}))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def test_under_ci_a_missing_node_fails_the_run_before_any_test(tmp_path):
    done = _pytest(tmp_path, True, "tests/test_environment.py")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "CI=true: required tools are missing: node is missing" in done.stdout + done.stderr
    assert " passed" not in done.stdout


def test_outside_ci_a_missing_node_skips_by_name_and_fails_nothing(tmp_path):
    done = _pytest(tmp_path, False, "tests/js/test_export.py", "-k", "conformance_case or plain_es2019")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "node is missing (install Node.js 20" in done.stdout and " failed" not in done.stdout
