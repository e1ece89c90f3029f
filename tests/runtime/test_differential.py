"""Python and JavaScript helpers agree on random awkward inputs.

Every Hypothesis example is a whole batch of calls, evaluated in Python and
in one round trip to a long-lived node process (see bridge.py).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.runtime import strategies as S
from tests.runtime.bridge import differential
from tests.support.node import NodeBridge

BATCH = 100
# SEGMAP_DIFF_EXAMPLES=2000 for a deeper (slower) hunt.
SETTINGS = settings(
    max_examples=int(os.environ.get("SEGMAP_DIFF_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    database=None,
)


def batch(*arg_strategies: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.tuples(*arg_strategies), min_size=1, max_size=BATCH)


digits = st.one_of(st.integers(0, 20), st.integers(0, 100), st.sampled_from([-1, 101, 1.5, 2.0, -0.0, True, None, "2"]))


@SETTINGS
@given(batch(st.one_of(S.numbers, S.scalars), digits))
def test_fixed(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "fixed", calls)


@SETTINGS
@given(batch(st.one_of(S.numbers, S.scalars), digits))
def test_round(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "round_", calls, check_normalised=True)


@SETTINGS
@given(batch(st.one_of(S.ints, S.floats, S.scalars), S.currencies))
def test_to_major(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "to_major", calls, check_normalised=True)


@SETTINGS
@given(batch(S.currencies))
def test_decimals(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "decimals", calls)


@SETTINGS
@given(batch(S.scalars))
def test_string(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "string", calls)


@SETTINGS
@given(batch(st.one_of(S.numbers, S.number_strings, S.scalars)))
def test_number(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "number", calls, check_normalised=True)


@SETTINGS
@given(batch(S.anything))
def test_template_part(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "template_part", calls)


@SETTINGS
@given(batch(st.one_of(S.texts, S.scalars)))
def test_lower_upper_trim_length(node_bridge: NodeBridge, calls: list) -> None:
    for fn in ("lower", "upper", "trim", "length"):
        differential(node_bridge, fn, calls)


@SETTINGS
@given(batch(st.one_of(st.lists(S.texts, max_size=4), st.lists(S.scalars, max_size=3), S.scalars),
             st.one_of(S.texts, S.scalars)))
def test_join(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "join", calls)


@SETTINGS
@given(batch(st.one_of(S.timestamp_strings, S.epoch_seconds, S.scalars)))
def test_iso_time(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "iso_time", calls)


@SETTINGS
@given(st.lists(st.lists(S.anything, min_size=1, max_size=4).map(tuple), min_size=1, max_size=BATCH))
def test_coalesce(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "coalesce", calls)


@SETTINGS
@given(batch(S.anything, S.anything))
def test_fallback(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "fallback", calls)


operand_pairs = st.one_of(
    st.tuples(S.numbers, S.numbers),
    st.tuples(S.numbers, S.nonzero_numbers),
    st.tuples(S.texts, S.texts),
    st.tuples(S.scalars, S.scalars),
    st.tuples(S.anything, S.anything),
)


@SETTINGS
@given(st.lists(operand_pairs, min_size=1, max_size=BATCH))
def test_arithmetic(node_bridge: NodeBridge, calls: list) -> None:
    for fn in ("add", "sub", "mul", "div", "mod"):
        differential(node_bridge, fn, calls, check_normalised=True)


@SETTINGS
@given(st.lists(st.tuples(S.anything), min_size=1, max_size=BATCH))
def test_neg_truth(node_bridge: NodeBridge, calls: list) -> None:
    for fn in ("neg", "truth"):
        differential(node_bridge, fn, calls)


@SETTINGS
@given(st.lists(operand_pairs, min_size=1, max_size=BATCH))
def test_comparisons(node_bridge: NodeBridge, calls: list) -> None:
    for fn in ("lt", "le", "gt", "ge", "eq", "ne"):
        differential(node_bridge, fn, calls)


# Strings whose order differs between UTF-16 code units and code points,
# including lone surrogates (never two that would pair up).
order_chars = st.sampled_from(["a", "\ud7ff", "\ue000", "\uffff", "\U00010000", "\U0001F600", "\U0010FFFF",
                               "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00"])
order_texts = st.lists(order_chars, max_size=4).map("".join).filter(
    lambda s: not any("\ud800" <= a <= "\udbff" and "\udc00" <= b <= "\udfff" for a, b in zip(s, s[1:], strict=False))
)


@SETTINGS
@given(st.lists(st.tuples(order_texts, order_texts), min_size=1, max_size=BATCH))
def test_code_point_order(node_bridge: NodeBridge, calls: list) -> None:
    for fn in ("lt", "le", "gt", "ge", "eq", "length"):
        differential(node_bridge, fn, calls if fn != "length" else [(a,) for a, _ in calls])


KEYS = ["a", "b", "0", "constructor", "__proto__", "toString", "", "length"]
index_pairs = st.one_of(
    st.tuples(st.lists(S.scalars, max_size=4),
              st.one_of(st.integers(-6, 6), st.sampled_from([0.0, -0.0, 1.0, 0.5, -1.0, 1e300, -1e300]))),
    st.tuples(st.dictionaries(st.sampled_from(KEYS), S.scalars, max_size=3), st.sampled_from(KEYS)),
    st.tuples(S.anything, S.anything),
)


@SETTINGS
@given(st.lists(index_pairs, min_size=1, max_size=BATCH))
def test_index(node_bridge: NodeBridge, calls: list) -> None:
    differential(node_bridge, "index", calls)
