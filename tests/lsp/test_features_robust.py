"""The language features never raise, wherever the cursor is and whatever the text.

An editor asks for completion and hover at every keystroke, mostly in text
that is not a valid mapping yet; an exception there would surface as an
error popup. (The behaviours themselves are tested over stdio in
test_lsp_stdio.py; this is the robustness net, on the feature functions.)
"""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import require_tool

require_tool("pygls")

from segmap.compiler.api import check_source  # noqa: E402
from segmap.lsp import features  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(ROOT.glob("examples/*.yaml"))]
TEXTS.append((ROOT / "segmap/cli/starter.yaml").read_text(encoding="utf-8"))


def _positions(text: str):
    lines = text.split("\n")
    return st.integers(0, len(lines) + 1).flatmap(
        lambda i: st.tuples(st.just(i), st.integers(0, len(lines[i]) + 2 if i < len(lines) else 3)))


@st.composite
def edited(draw):
    text = draw(st.sampled_from(TEXTS))
    at = draw(st.integers(0, len(text)))
    cut = draw(st.integers(0, 40))
    insert = draw(st.sampled_from(["", ".", "data.", "(", '"', "'", "- ", ":", "\n", "  ", "map(", "=> ", "#",
                                   "# segmap: allow W430", "[0]", "😀", "\t"]))
    text = text[:at] + insert + text[at + cut:]
    line, col = draw(_positions(text))
    return text, line, col


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_completion_and_hover_never_raise(case):
    text, line, col = case
    result = features.completion(text, line, col)
    assert all(item.label for item in result.items)
    features.hover(text, line, col)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited())
def test_diagnostics_and_code_actions_never_raise(case):
    text, _, _ = case
    diags = features.to_lsp_diagnostics(text, check_source(text, "m.yaml").diagnostics)
    features.code_actions("file:///m.yaml", text, diags)
