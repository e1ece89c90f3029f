"""No input makes the checker crash: every problem is a Diagnostic, inputs are bounded.

Hypothesis feeds `check_source` random bytes, YAML-ish text and mutations of
real mappings; whatever comes in, only diagnostics come out -- no
RecursionError, no YAML or Lark exception, no CPython SyntaxError from the
generated code (mappings that check clean are compiled too).
"""
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from segmap.compiler.api import MappingError, check_source, compile_source
from segmap.diagnostics.model import Diagnostic
from segmap.dsl.expressions import MAX_EXPR_CHARS, MAX_EXPR_DEPTH
from segmap.dsl.yaml_source import MAX_DEPTH, MAX_FILE_BYTES
from segmap.samples import sample_envelope
from tests.support.mappings import STARTER

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def only_diagnostics(text: str) -> list[Diagnostic]:
    result = check_source(text, "fuzz.yaml")
    assert all(isinstance(d, Diagnostic) and d.span is not None for d in result.diagnostics)
    if result.ok and result.plan is not None:
        try:
            compile_source(text, "fuzz.yaml")
        except MappingError as exc:  # pragma: no cover - ok means no errors
            raise AssertionError("a mapping that checked clean failed to compile") from exc
    return result.diagnostics


FRAGMENTS = st.sampled_from([
    "version: 1\n", "events:\n", "defaults:\n", "  payment.succeeded:\n", "  refund.*:\n", "  on:\n", "    - track: ",
    "    - identify:\n", "      userId: ", "      properties:\n", "        ", "revenue: ", "data.total_amount", " / 100",
    "to_major(", "data.currency", ")", "(", "[", "]", "{", "}", ",", ":", "- ", "&a ", "*a", "!!str ", "'", '"',
    "f\"{", "??", " and ", " not ", "yes", "~", "012", "\t", "\n", "#", "|\n", ">-\n", "\\", "\u2028", "é", "\x00",
    "if ", " then ", " else ", "p => ", "map(", "---\n", "...\n", "%YAML 1.2\n", "? ", "@", "`",
])


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data):
    only_diagnostics(data.decode("utf-8", "replace"))


@SETTINGS
@given(st.lists(FRAGMENTS, max_size=60).map("".join))
def test_yaml_ish_text(text):
    only_diagnostics(text)


@SETTINGS
@given(st.data())
def test_mutated_starter(data):
    text = STARTER
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        text = text[:i] + data.draw(st.one_of(FRAGMENTS, st.text(max_size=4))) + text[j:]
    only_diagnostics(text)


# --- the bounds ---------------------------------------------------------------------

BODY = "version: 1\nevents:\n  payment.succeeded:\n    - track: Order Completed\n      userId: data.customer.customer_id\n" \
       "      properties:\n        x: "


def test_file_size_is_bounded():
    diags = only_diagnostics("#" * (MAX_FILE_BYTES + 1))
    assert [d.code for d in diags] == ["E005"]


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_yaml_nesting_is_bounded(opener):
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    depth = MAX_DEPTH + 5
    text = "a: " + opener * depth + "1" + closer * depth + "\n" if opener != "- " else \
        "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "1\n"
    diags = only_diagnostics(text)
    assert "E005" in [d.code for d in diags]


@pytest.mark.parametrize("expr", [
    "(" * 30 + "1" + ")" * 30,                          # brackets
    "not " * 200 + "true",                              # prefix operators
    "-" * 500 + "1",                                    # unary minus
    ".".join(["data"] * 300),                           # a long path
    "f(" * 100 + "1" + ")" * 100,                       # nested calls
    " ?? ".join(["data.tax"] * 400),                    # a long chain
    "x" * (MAX_EXPR_CHARS + 1),                         # length
], ids=["brackets", "not", "minus", "path", "calls", "chain", "length"])
def test_expressions_are_bounded(expr):
    diags = only_diagnostics(BODY + repr(expr).replace("\\\\", "\\") + "\n")
    assert "E005" in [d.code for d in diags], [(d.code, d.message) for d in diags]


def test_deep_but_allowed_expressions_check_and_compile():
    depth = MAX_EXPR_DEPTH // 4
    text = BODY + "'" + "(" * depth + "data.total_amount" + " + 1)" * depth + "'\n"
    diags = only_diagnostics(text)
    assert diags == [], [(d.code, d.message) for d in diags]
    call = compile_source(text, "fuzz.yaml").apply(sample_envelope("payment.succeeded"))[0]
    assert call.body["properties"]["x"] == sample_envelope("payment.succeeded")["data"]["total_amount"] + depth


def test_the_deepest_accepted_input_needs_little_stack():
    """At the limits (YAML nesting, expression nesting) checking stays far from Python's recursion limit."""
    import sys

    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    yaml_nest = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH - 6))
    deep_object = "  " * (MAX_DEPTH - 6) + "x: '" + "(" * (MAX_EXPR_DEPTH // 2 - 1) + "data.tax ?? 1" + ")" * (MAX_EXPR_DEPTH // 2 - 1) + "'\n"
    text = BODY.replace("        x: ", "") + "\n".join("        " + line for line in (yaml_nest + deep_object).splitlines()) + "\n"
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 400)
    try:
        diags = only_diagnostics(text)
    finally:
        sys.setrecursionlimit(old)
    assert diags == [], [(d.code, d.message) for d in diags]
