"""README.md shows real output: every ```console block is re-run and compared, as docs/ are.

A block is one `$ segmap ...` command (optionally `| head -N`) and the output it prints; a line
that is only `...` stands for any number of lines left out. Files a block's command reads that
README does not show in full are given here (TYPO_YAML, whose line 9 README does show).
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

TYPO_YAML = """version: 1
events:
  payment.succeeded:
    - track: Order Completed
      userId: data.customer.customer_id
      properties:
        order_id: data.payment_id
        currency: data.currency
        status_ok: data.status == "succeded"
"""


def _blocks() -> list[tuple[str, str]]:
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        first, _, rest = block.partition("\n")
        assert first.startswith("$ ") and "\n$ " not in "\n" + rest, f"one `$ ` command per console block:\n{block}"
        blocks.append((first[2:], rest))
    return blocks


BLOCKS = _blocks()


def matches(expected: str, actual: str) -> bool:
    """``expected`` with each `...` line standing for zero or more lines, against the whole of ``actual``."""
    pattern = "".join(r"(?:.*\n)*?" if line.strip() == "..." else re.escape(line) + r"\n"
                      for line in expected.splitlines())
    return re.fullmatch(pattern, actual) is not None


def run(command: str, cwd: Path) -> str:
    head = None
    if m := re.fullmatch(r"(.*?)\s*\|\s*head -(\d+)", command):
        command, head = m.group(1), int(m.group(2))
    argv = shlex.split(command)
    assert argv[0] == "segmap", command
    done = subprocess.run([sys.executable, "-m", "segmap", *argv[1:]], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT)})
    out = done.stdout
    if head is not None:
        out = "".join(out.splitlines(keepends=True)[:head])
    return out


def test_readme_has_checked_examples():
    commands = [c.split()[1] for c, _ in BLOCKS]
    assert {"sample", "preview", "test", "plan", "check"} <= set(commands)


def test_the_matcher_can_fail():
    assert matches("a\n...\nd\n", "a\nb\nc\nd\n") and matches("a\n...\n", "a\n")
    assert not matches("a\n...\nd\n", "a\nb\nc\n") and not matches("b\n", "a\nb\n")


@pytest.mark.parametrize("command, expected", BLOCKS, ids=[c for c, _ in BLOCKS])
def test_readme_output_is_real(command, expected, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "typo.yaml").write_text(TYPO_YAML, encoding="utf-8")
    actual = run(command, tmp_path)
    assert matches(expected, actual), f"README.md shows for `{command}`:\n{expected}\nbut it prints:\n{actual}"
