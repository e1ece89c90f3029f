"""Inputs that make a checker's cost blow up, and the measurement of that cost.

Used by the CI fuzz test (tests/check/test_check_fuzz.py, a few dozen inputs)
and by the longer run in bench/fuzz_check.py. Random bytes rarely hit the
expensive paths; what does is *repetition*: 20,000 keys in one mapping, one
alias used 100,000 times, a 100 KB line, the same mistake in every event. So
inputs here are a small broken or valid fragment repeated hundreds or
thousands of times, in block or flow style, on one line or many, mixed with
random mutations.

``measure(text)`` runs what `segmap check` runs -- load, check, then render
every diagnostic as text, JSON and GitHub annotations -- and returns the
time taken and the bytes written, so a caller can bound both per input byte.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from hypothesis import strategies as st

__all__ = ["HEAD", "SHAPE_COUNT", "Cost", "measure", "random_mapping", "repetitive_mappings", "scaled"]

HEAD = "version: 1\nevents:\n  payment.succeeded:\n    - track: Order Completed\n      userId: data.customer.customer_id\n"

# (text before the repeated part, the part repeated with {i} numbered, separator, text after)
_SHAPES = [
    ("version: 1\nevents: {}\nx:\n", "  k{i}: 1\n", "", ""),                                   # many keys
    ("version: 1\nevents: {}\nx:\n", "  k{m}: 1\n", "", ""),                                   # duplicate keys
    ("version: 1\nevents: {}\nx: &a 1\ny: [", "*a", ",", "]\n"),                                # one alias, many uses
    ("version: 1\nevents: {}\nx: {", "k{m}: 1", ", ", "}\n"),                                  # a long flow line, duplicates
    (HEAD + "      properties:\n", "        p{i}: data.nope{i}\n", "", ""),                   # an error per line
    (HEAD + "      properties:\n", "        p{i}: data.total_amount / 100\n", "", ""),        # a warning per line
    (HEAD + "      properties: {", "p{i}: data.customer.customer_idd", ", ", "}\n"),          # errors on one long line
    (HEAD + "      properties:\n        x: '", "data.tax ?? ", "", "0'\n"),                     # a long expression
    ("version: 1\nevents:\n", '  "*.{m}":\n    - track: x_{i}\n      userId: data.nope\n', "", ""),  # glob rules
    ("version: 1\nevents:\n  payment.succeeded:\n", "    - track: Order {i}\n      userId: data.x{i}\n", "", ""),
    ("version: 1\nevents: {}\nx: ", "[", "", "1\n"),                                            # unclosed nesting
    (HEAD + "      properties:\n", "        p{i}: 'f\"{{data.payment_id'\n", "", ""),        # unclosed templates
]


def _expand(shape, count: int, modulo: int) -> str:
    before, part, sep, after = shape
    return before + sep.join(part.format(i=i, m=i % modulo) for i in range(count)) + after


@st.composite
def repetitive_mappings(draw, max_count: int = 4000) -> str:
    """A fragment repeated up to ``max_count`` times, possibly with a few characters changed."""
    shape = draw(st.sampled_from(_SHAPES))
    count = draw(st.integers(1, max_count))
    modulo = draw(st.integers(1, 50))
    text = _expand(shape, count, modulo)
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.sampled_from(["\t", "{", "'", '"', "\n", ": ", "*a", "&b ", "\\ud800", "é"])) + text[i:]
    return text


def random_mapping(rng, max_count: int = 20000) -> str:
    """The same inputs as ``repetitive_mappings`` from a ``random.Random``, for long runs without Hypothesis."""
    shape = rng.choice(_SHAPES)
    text = _expand(shape, rng.randint(1, max_count), rng.randint(1, 50))
    for _ in range(rng.randint(0, 3)):
        i = rng.randint(0, len(text))
        text = text[:i] + rng.choice(["\t", "{", "'", '"', "\n", ": ", "*a", "&b ", "\\ud800", "é"]) + text[i:]
    return text


def scaled(shape_index: int, count: int) -> str:
    """Shape ``shape_index`` repeated ``count`` times (for measuring how cost grows with size)."""
    return _expand(_SHAPES[shape_index], count, 7)


SHAPE_COUNT = len(_SHAPES)


@dataclass(frozen=True)
class Cost:
    seconds: float
    output_bytes: int
    diagnostics: int


def measure(text: str, name: str = "fuzz.yaml") -> Cost:
    """Check ``text`` and render every diagnostic in the three output formats, as `segmap check` does."""
    from segmap.compiler.api import check_source
    from segmap.diagnostics.render import render_github, render_json, render_text

    start = time.perf_counter()
    result = check_source(text, name)
    written = len(render_json(result.diagnostics).encode("utf-8"))
    written += sum(len(render_text(d, result.sources).encode("utf-8")) for d in result.diagnostics)
    written += sum(len(render_github(d).encode("utf-8")) for d in result.diagnostics)
    return Cost(time.perf_counter() - start, written, len(result.diagnostics))
