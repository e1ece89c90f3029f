"""How many of `segmap check`'s diagnostics carry a fix that applies cleanly.

    python bench/hint_share.py

Over the broken mappings of tests/check/catalogue/ (one mistake each): every
diagnostic is counted; those with a suggestion have it substituted for the
underlined text, and the file is checked again. A fix *applies* when that
diagnostic is gone and no new error appeared. The share is reported in
docs/check.md; tests/check/test_hint_audit.py requires every suggestion to
apply and, case by case, the fixed mapping to do what the message promised.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "check")]

from segmap.compiler.api import check_source  # noqa: E402
from test_hint_audit import applicable_share  # noqa: E402


def main() -> int:
    files = sorted((ROOT / "tests/check/catalogue").glob("*.yaml"))
    total, suggested, applicable = applicable_share(files)
    print(f"{len(files)} broken mappings, {total} diagnostics: {suggested} carry a suggestion "
          f"({100 * suggested / total:.0f}%), {applicable} of them apply cleanly; "
          f"{total - suggested} say how to fix it in words only (hint) or not at all")
    hints = Counter()
    for path in files:
        for d in check_source(path.read_text(encoding="utf-8"), path.name).diagnostics:
            hints["suggestion" if d.suggestion else "hint only" if d.hint else "neither"] += 1
    print("by kind:", ", ".join(f"{k} {v}" for k, v in hints.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
