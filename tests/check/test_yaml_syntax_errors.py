"""YAML syntax errors are reported at the mistake (never past the last line, never on the line
after a missing `:`) with a hint that says how to fix it; the catalogue's y* files pin the
positions, this file the words and the fixes."""
from __future__ import annotations

from pathlib import Path

import pytest

from segmap.compiler.api import check_source

CATALOGUE = Path(__file__).parent / "catalogue"


def only_e001(name: str):
    text = (CATALOGUE / name).read_text(encoding="utf-8")
    diags = check_source(text, name).diagnostics
    assert [d.code for d in diags] == ["E001"]
    return text, diags[0]


@pytest.mark.parametrize("name, hint_has, suggestion", [
    ("y01_missing_colon_after_key.yaml", "ends with `:`", "events:"),
    ("y02_missing_colon_before_value.yaml", "ends with `:`", "userId: data.customer.customer_id"),
    ("y03_missing_colon_last_line.yaml", "ends with `:`", "userId: data.customer.customer_id"),
    ("y04_unclosed_bracket_at_end.yaml", "close the list with `]`", None),
    ("y05_unclosed_brace.yaml", "close the mapping with `}`", None),
    ("y06_unmatched_closing_bracket.yaml", "remove it", None),
    ("y07_text_after_closing_quote.yaml", """quote all of it: `'"USD" ?? data.currency'`""", None),
    ("y08_unclosed_quote_at_end.yaml", "close it with '", None),
    ("y09_missing_comma_in_flow_list.yaml", "separate the items", None),
    ("m22_tab_indentation.yaml", "indent with spaces", None),
])
def test_each_syntax_mistake_has_a_hint(name, hint_has, suggestion):
    text, d = only_e001(name)
    assert d.hint and hint_has in d.hint, d.hint
    assert d.suggestion == suggestion
    lines = text.split("\n")
    assert 1 <= d.span.line <= len(text.rstrip("\n").split("\n")), "never past the last line"
    if suggestion:  # the suggestion replaces the underlined text and makes the file parse
        line = lines[d.span.line - 1]
        fixed_line = line[:d.span.col - 1] + suggestion + line[d.span.end_col - 1:]
        fixed = "\n".join(lines[:d.span.line - 1] + [fixed_line] + lines[d.span.line:])
        assert not [x for x in check_source(fixed, name).diagnostics if x.code == "E001"]


@pytest.mark.parametrize("text, at, suggestion", [
    ("version: 1\nevents:\n  payment.succeeded\n    - track: X\n", (3, 3), "payment.succeeded:"),
    ("version: 1\nevents:\n  payment.succeeded\n\n  # refunds\n  refund.succeeded:\n    - track: X\n", (3, 3),
     "payment.succeeded:"),
    ("version: 1\nevents:\n  payment.succeeded:\n    - track X\n      userId: data.customer.customer_id\n", (4, 7),
     "track: X"),
    ("version: 1\nevents\n  payment.succeeded:\n    - track: X\n", (2, 1), "events:"),
])
def test_missing_colon_is_on_the_key_line_whatever_follows(text, at, suggestion):
    d = [x for x in check_source(text, "m.yaml").diagnostics if x.code == "E001"]
    assert d and (d[0].span.line, d[0].span.col) == at, [f"{x.span} {x.message}" for x in d]
    assert d[0].suggestion == suggestion and "`:`" in d[0].hint


def test_errors_at_the_end_of_the_file_stay_on_its_last_line():
    for text in ("version: 1\nevents: [\n", "version: 1\nevents: {a: b\n\n\n", "version: 1\nevents: '\n"):
        d = [x for x in check_source(text, "m.yaml").diagnostics if x.code == "E001"]
        assert d and d[0].span.line <= len(text.rstrip("\n").split("\n")), (text, str(d[0].span))


def test_no_syntax_error_is_placed_past_the_last_line_of_a_mutated_file():
    import random

    rng = random.Random(15)
    texts = [p.read_text(encoding="utf-8") for p in sorted(CATALOGUE.glob("*.yaml"))]
    seen = 0
    for _ in range(400):
        t = rng.choice(texts)
        k = rng.randrange(len(t))
        t = t[:k] + t[k + 1:] if rng.random() < 0.4 else t[:k] + rng.choice(":[]{}\"'\t #-,") + t[k:]
        for d in check_source(t, "f.yaml").diagnostics:
            if d.code == "E001":
                seen += 1
                assert 1 <= d.span.line <= max(1, len(t.rstrip("\n").split("\n"))), (t, d)
    assert seen > 50
