"""Hypothesis strategies for the differential tests: the awkward inputs."""
from __future__ import annotations

import string

from hypothesis import strategies as st

from segmap.runtime.currency import DODO_CURRENCIES
from segmap.runtime.values import MISSING

TWO53 = 2**53

SPECIAL_FLOATS = [
    0.0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 1.005, 1.45, 0.125, 0.375, 1e-7, 1e-6, 1e-5, 123e-20,
    5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.7976931348623157e308,
    1e21, -1e21, 999999999999999900000.0, 1e21 * (1 - 2**-53), 1e20, 1e16, 1e15 + 0.5,
    float(TWO53), float(TWO53) * 2, float(TWO53 - 1), 4.35, 8.345, 1.0000000000000002,
    0.1, 0.2, 0.30000000000000004, 1234.5678, 19.99, 0.045, 100.0,
]

ties = st.integers(-(10**7), 10**7).map(lambda k: k + 0.5)
decimals_ = st.tuples(st.integers(-(10**12), 10**12), st.integers(0, 12)).map(lambda t: t[0] / 10 ** t[1])
binary_ties = st.tuples(st.integers(-(10**6), 10**6), st.integers(1, 30)).map(lambda t: t[0] / 2 ** t[1])
near_2_53 = st.integers(-4, 4).flatmap(
    lambda d: st.sampled_from([TWO53 + d, -(TWO53 + d), float(TWO53 + d), float(-(TWO53 + d))])
)

floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=True, min_value=-1e-300, max_value=1e-300),
    ties,
    decimals_,
    binary_ties,
    st.sampled_from(SPECIAL_FLOATS),
)
ints = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(2**60), 2**60),
    near_2_53,
)
numbers = st.one_of(floats, ints)
nonzero_numbers = numbers.filter(lambda x: x != 0)

# Characters that make string helpers interesting.
TRICKY = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u0085\u180e\u200b\x1c\x1f"
    "ΣσςΑΒΓΟΔİıIißŉǰΐΰﬀﬁﬃ\u0345\u0307\u0130ǅǈǋ"
    "\U0001F600\U00010400\U00010428\U0001E900\ue000\uffff\ufb00"
    "Ꞌꞌ\u1c89\u1c8a\ua7cb\ua7dc\U00010d50\U00010d70\U00016ea0\U00016ebb"
    "\u0295\U0001171e\u0897\u1acf\U0001e030\U0001df25\U00010d4e\u00ad\u02b0"
    "aZ09.-+eE"
)
chars = st.one_of(
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(TRICKY),
)
texts = st.one_of(
    st.text(alphabet=chars, max_size=12),
    st.text(alphabet=st.sampled_from(TRICKY), max_size=8),
    st.text(max_size=6),
)

missing = st.just(MISSING)
scalars = st.one_of(numbers, texts, st.booleans(), st.none(), missing)
json_values = st.recursive(
    st.one_of(st.integers(-3, 3), st.sampled_from([1.0, 0.5, -0.0, 2.0]), st.sampled_from(["", "a", "b"]),
              st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(st.one_of(inner, missing), max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(inner, missing), max_size=3),
    ),
    max_leaves=6,
)
anything = st.one_of(scalars, json_values)

currencies = st.one_of(
    st.sampled_from(DODO_CURRENCIES),
    st.sampled_from(["usd", "XYZ", "", "constructor", "toString", "__proto__", "hasOwnProperty", "US D"]),
    st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3),
    st.none(),
    missing,
    st.integers(0, 3),
)

# Decimal strings for number(): valid ones, near misses and junk.
ws = st.text(alphabet=st.sampled_from(" \t\n\u00a0\u2028\ufeff\u3000\u0085\u180e\x1c\x1f"), max_size=2)
number_literals = st.from_regex(r"\A[+-]?([0-9]{1,25}\.?[0-9]{0,25}|\.[0-9]{1,20})([eE][+-]?[0-9]{1,3})?\Z")
number_strings = st.one_of(
    st.tuples(ws, number_literals, ws).map("".join),
    st.tuples(ws, number_literals, ws, st.sampled_from(["x", ".", "e", "_1", "\u0661", "0x1", "-", "++"])).map(
        lambda t: t[0] + t[1] + t[3] + t[2]),
    st.sampled_from(["", " ", ".", "e5", "-", "+", "0x10", "Infinity", "-Infinity", "NaN", "1_000", "١٢",
                     "1e400", "-1e400", "1e-400", "00012", "5.", ".5", "+.5e-3", "-0", "0.0e0", "1 2",
                     "\u20281\u2028", "\u00851", "1\u180e", "９"]),
    texts,
)

# Timestamps for iso_time(): mostly well-formed, with every part pushed past
# its range, and some junk.
def _timestamp(parts: tuple) -> str:
    y, mo, d, sep, h, mi, s, frac, zone, shape = parts
    date = f"{y:04d}-{mo:02d}-{d:02d}"
    if shape == 0:
        return date
    t = f"{date}{sep}{h:02d}:{mi:02d}"
    if shape >= 2:
        t += f":{s:02d}"
        if shape == 3:
            t += "." + frac
    return t + zone


zones = st.one_of(
    st.sampled_from(["", "Z", "z", "+00:00", "-00:00", "+0000", "+05:30", "-0230", "+23:59", "-23:59",
                     "+24:00", "+01", "+1:00", "+01:60", " Z", "UTC", "+01:00:00", "Z+01:00"]),
    st.tuples(st.sampled_from("+-"), st.integers(0, 25), st.integers(0, 61), st.booleans()).map(
        lambda t: f"{t[0]}{t[1]:02d}{':' if t[3] else ''}{t[2]:02d}"),
)
timestamp_strings = st.one_of(
    st.tuples(
        st.one_of(st.integers(1900, 2100), st.integers(0, 9999),
                  st.sampled_from([0, 1, 99, 100, 1600, 1900, 2000, 2024, 9999])),
        st.integers(0, 13), st.integers(0, 32),
        st.sampled_from(["T", "T", " ", "t", "_"]),
        st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
        st.text(alphabet="0123456789", min_size=0, max_size=10),
        zones,
        st.integers(0, 3),
    ).map(_timestamp),
    st.sampled_from([
        "0000-01-01T00:00:00Z", "0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59.999Z",
        "9999-12-31T23:59:59-00:01", "2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29",
        "2025-01-01T00:48:46.533095Z", "2025-1-01", "20250101", "2025-01-01T", "2025-01-01T00Z",
        "2025-01-01T00:00:00.Z", "2025-01-01T00:00:00,5Z", "2025-01-01T00:00:60Z", "2025-01-01T24:00Z",
        "\uff12025-01-01", "2025-01-01\n", " 2025-01-01", "+002025-01-01", "2025-01-01T00:00:00.000000000000001Z",
    ]),
    texts,
)
epoch_seconds = st.one_of(
    st.integers(-62167219200, 253402300799),
    st.integers(-62167219201 - 5, -62167219201 + 5),
    st.integers(253402300799 - 5, 253402300799 + 5),
    st.floats(min_value=-6.3e10, max_value=2.6e11, allow_nan=False),
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    st.sampled_from([-62167219200.0005, -62167219200.0, 253402300799.999, 253402300799.9995, -0.0, -0.0005,
                     1.001, 0.0015, 1e300, -1e300]),
    numbers,
)
