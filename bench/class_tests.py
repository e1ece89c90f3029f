"""Machine instructions of the forms tried for a fast function's one test of the values it passes as they are.

    python bench/class_tests.py        # needs valgrind; about a minute

A generated fast function tests every envelope value it passes into a body as it is, all in one
condition (docs/performance.md, "What the generated code looks like"). This counts, with callgrind,
the instructions one such condition over seven text values costs in each form tried, per execution:
each form runs 1,000 and then 11,000 times in a fresh interpreter and the difference is divided by
10,000, so start-up and compilation cancel out. The forms accepting ``str`` subclasses (``isinstance``,
``join``, ``startswith``) would also have needed their own reasoning; they are here for their cost.
Not a test: it prints what it measured.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

VALUES = ("'2024-01-01T00:00:00Z'", "'sub_0123456789abcdef'", "'pdt_0123456789abcdef'", "'Month'",
          "'2024-02-01T00:00:00Z'", "'someone@example.com'", "'cus_0123456789abcdef'")
NAMES = ("a", "b", "c", "d", "e", "f", "g")

FORMS = {
    "nothing (the loop alone, subtracted from the others)": "pass",
    "x.__class__ is str, each (the generated code)":
        "if not (" + " and ".join(f"{n}.__class__ is str" for n in NAMES) + "): raise ValueError",
    "x.__class__ is _str, each, _str=str a default parameter (tried, not kept)":
        "if not (" + " and ".join(f"{n}.__class__ is _str" for n in NAMES) + "): raise ValueError",
    "type(x) is str, each": "if not (" + " and ".join(f"type({n}) is str" for n in NAMES) + "): raise ValueError",
    "isinstance(x, str), each": "if not (" + " and ".join(f"isinstance({n}, str)" for n in NAMES) + "): raise ValueError",
    "'\\x00'.startswith((a, b, ...)), TypeError for a non-text value":
        "if '\\x00'.startswith((" + ", ".join(NAMES) + ")): raise ValueError",
    "''.join((a, b, ...)), TypeError for a non-text value": "''.join((" + ", ".join(NAMES) + "))",
}


def child(body: str, n: int) -> None:
    """Run ``body`` n times in a function whose locals are the seven values."""
    code = (f"def f({', '.join(NAMES)}, _str=str):\n    for _ in range({n}):\n        {body}\n"
            f"f({', '.join(VALUES)})\n")
    exec(compile(code, "<form>", "exec"), {})  # noqa: S102 - our own text


def instructions(body: str, n: int) -> int:
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                          __file__, "--child", str(n), body], capture_output=True, text=True, check=True)
    m = re.search(r"Collected : (\d+)", out.stderr)
    assert m is not None, out.stderr
    return int(m.group(1))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[3], int(sys.argv[2]))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: nothing measured")
        return 1
    print(f"Python {sys.version.split()[0]}: machine instructions per execution of the test of 7 text values")
    base = None
    for label, body in FORMS.items():
        per = (instructions(body, 11_000) - instructions(body, 1_000)) / 10_000
        if base is None:
            base = per
            print(f"{per:8.0f}  {label}")
        else:
            print(f"{per - base:8.0f}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
