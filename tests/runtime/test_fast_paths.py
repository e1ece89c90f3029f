"""The run-time helpers' fast paths give exactly what their general code gives.

``number()`` of a plain decimal string skips the regular expression, and ``js_value`` of a float in
the usual range skips ``js_number``; both are checked here against the general code on inputs made
of the characters where the two could part ways (signs, points, exponents, whitespace, digits of
other scripts, underscores Python's ``float`` would accept).
"""
from __future__ import annotations

import math

from hypothesis import given, settings, strategies as st

from segmap.runtime import functions as F
from segmap.runtime.jsjson import js_number, js_value
from segmap.runtime.values import MappingRuntimeError


def number_by_the_expression(x: str) -> object:
    """``number()`` of a string as it was before the fast path: strip, the expression, float."""
    s = x.strip(F.JS_WHITESPACE)
    if F._NUMBER_RE.fullmatch(s) is not None:
        v = float(s)
        if v - v == 0.0:
            return F.num(v)
        return ("error", f"number out of range: {x!r}")
    return ("error", f"not a number: {x!r}")


def outcome(x: str) -> object:
    try:
        return F.number(x)
    except MappingRuntimeError as exc:
        return ("error", exc.message)


NUMBERISH = st.text(alphabet="0123456789.+-eE _\u00a0\t\u0663x", max_size=12)


@settings(max_examples=3000, deadline=None)
@given(NUMBERISH)
def test_number_of_a_string_is_what_the_expression_says(x):
    got, want = outcome(x), number_by_the_expression(x)
    assert got == want and type(got) is type(want), x


def test_number_of_plain_decimals():
    for x, want in [("12.50", 12.5), ("-3", -3), ("+.5", 0.5), ("5.", 5), (".", None), ("1.2.3", None),
                    ("9" * 400, None), ("0", 0), ("-0", 0), ("", None), ("-", None)]:
        got = outcome(x)
        assert got == number_by_the_expression(x), x
        if want is not None:
            assert got == want and type(got) is type(want), x


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e-5, -1e-5, 1e-6, 2.0**53, -(2.0**53),
                                                                         2.0**53 - 1, 0.0, -0.0, 1e21]))
def test_js_value_of_a_float_is_js_number(x):
    got, want = js_value(x), js_number(x)
    if isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want and type(got) is type(want), x
