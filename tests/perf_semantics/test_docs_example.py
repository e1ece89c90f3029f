"""docs/performance.md shows generated code as the generator writes it today.

The ```python block under "What the generated code looks like" must be, line for line, the fast
function of ``subscription.active`` and its JSON twin in the starter mapping compiled as
``segmap.yaml``. When the generator changes, regenerate the block instead of editing it:

    python tests/perf_semantics/test_docs_example.py --write
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "performance.md"
STARTER = ROOT / "segmap" / "cli" / "starter.yaml"
BLOCK = re.compile(r"(## What the generated code looks like\n.*?```python\n)(.*?)(```)", re.S)


def example() -> str:
    """The generated functions of subscription.active that run on a usual envelope."""
    import segmap

    compiled = segmap.compile_source(STARTER.read_text(encoding="utf-8"), "segmap.yaml")
    source = compiled.source
    fast = compiled._dispatch["subscription.active"].__name__
    twin = compiled._entry.json_dispatch["subscription.active"].__name__
    functions = {chunk.split("(", 1)[0][4:]: chunk.rstrip("\n") + "\n"
                 for chunk in source.split("\n\n\n") if chunk.startswith("def ")}
    return functions[fast] + "\n\n" + functions[twin]


def test_the_documented_generated_code_is_what_the_generator_writes():
    match = BLOCK.search(DOC.read_text(encoding="utf-8"))
    assert match, "docs/performance.md lost its generated-code example"
    assert match.group(2) == example(), "stale: run python tests/perf_semantics/test_docs_example.py --write"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    sys.path.insert(0, str(ROOT))
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(BLOCK.sub(lambda m: m.group(1) + example() + m.group(3), text, count=1), encoding="utf-8")
