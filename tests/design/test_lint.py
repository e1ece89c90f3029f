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


#: Where mypy (configured in pyproject.toml: default settings, --strict for dsl, grammar, compiler and
#: runtime) already reports nothing. A package joins this list once it is clean and never leaves it;
#: the goal is every package of segmap/.
MYPY_CLEAN = (
    "segmap/__init__.py", "segmap/__main__.py", "segmap/_version.py", "segmap/errors.py",
    "segmap/backfill/", "segmap/cli/cmd_backfill.py", "segmap/diagnostics/", "segmap/grammar/", "segmap/runtime/",
    "segmap/dsl/__init__.py", "segmap/dsl/ast.py", "segmap/dsl/loader.py", "segmap/dsl/segment_context.py",
    "segmap/dsl/segment_fields.py", "segmap/dsl/yaml_source.py",
    "segmap/compiler/__init__.py", "segmap/compiler/functions.py", "segmap/compiler/literals.py",
    "segmap/compiler/paths.py", "segmap/compiler/plan.py", "segmap/compiler/scope.py", "segmap/compiler/snapshot.py",
    "segmap/compiler/spec_checks.py", "segmap/compiler/types.py", "segmap/compiler/wording.py",
    "segmap/compiler/checker.py", "segmap/compiler/function_types.py", "segmap/compiler/segment_rules.py",
    "segmap/delivery/__init__.py", "segmap/delivery/outbox/aio.py", "segmap/delivery/outbox/migrations.py",
    "segmap/delivery/scrub.py", "segmap/service/verification.py",
)


def test_mypy_finds_nothing_in_the_clean_packages():
    out = run("mypy")
    assert "error: " in out.stdout or out.returncode == 0, out.stdout + out.stderr  # mypy ran
    errors = [line for line in out.stdout.splitlines() if ": error: " in line and line.startswith(MYPY_CLEAN)]
    assert not errors, "\n".join(errors)
