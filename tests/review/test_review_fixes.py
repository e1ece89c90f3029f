"""Regression tests for the review fixes: spans in quoted scalars, integer literals beyond
2^53, deep `==` on envelopes, and errors reported once per mistake."""
from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmap.compiler.api import check_source, compile_source
from segmap.runtime import functions as F
from segmap.runtime.values import MISSING, MappingRuntimeError
from segmap.samples import sample_envelope

HEAD = "version: 1\nevents:\n  payment.succeeded:\n    - track: Order Completed\n"


def errors(text):
    return [(d.code, d.span.line, d.span.col, d.span.end_line, d.span.end_col)
            for d in check_source(text, "m.yaml").diagnostics if d.is_error]


# --- spans inside quoted scalars ------------------------------------------------------------

@pytest.mark.parametrize("value, start, end", [
    ('"\\"x\\" + 1"', 16, 21),          # "\"x\" + 1": the literal is \"x\", not the YAML quote
    ("'''x'' + 1'", 16, 21),            # '''x'' + 1': the literal is ''x''
    ('"\\"\\u00e9\\" + 1"', 16, 26),    # "\"\u00e9\" + 1": the escape counts for its 6 characters
    ('"\\t\\"x\\" + 1"', 18, 23),       # a leading escaped tab
    ("'\"x\" + 1'", 16, 19),
])
def test_a_literal_in_a_quoted_scalar_is_located_exactly(value, start, end):
    line = f"      userId: {value}"
    text = HEAD + line + "\n"
    (err,) = [e for e in errors(text) if e[0] == "E301"]
    assert err[1:] == (5, start, 5, end), (line, line[start - 1:end - 1])


# --- integer literals follow JavaScript numbers -----------------------------------------------

def test_an_integer_literal_that_a_double_cannot_hold_is_an_error():
    # JavaScript (and the exported handler) would send 9007199254740992
    text = HEAD + "      userId: business_id\n      properties:\n        n: 9007199254740993\n"
    assert [e[0] for e in errors(text)] == ["E101"]


def test_a_large_exact_integer_literal_is_the_double_javascript_holds():
    text = HEAD + "      userId: business_id\n      properties:\n        n: 18446744073709551616\n        m: '-(-9223372036854775808)'\n"
    m = compile_source(text, "m.yaml")
    (call,) = m.apply(sample_envelope("payment.succeeded"))
    assert call.body["properties"] == {"n": 2.0**64, "m": 2.0**63}
    assert isinstance(call.body["properties"]["n"], float)  # as num() makes run-time numbers of this size
    # and the call is encoded as JSON.stringify prints those doubles
    out = m.apply_json_bytes(orjson.dumps(sample_envelope("payment.succeeded")))
    assert b'"n":18446744073709552000,"m":9223372036854776000}' in out


# --- == on deeply nested envelope values --------------------------------------------------------

def _deep(depth, leaf="x"):
    v = leaf
    for i in range(depth):
        v = [v] if i % 2 else {"k": v}
    return v


def test_deep_equality_does_not_depend_on_python_recursion_limit():
    text = HEAD + "      userId: business_id\n      when: data.metadata.a == data.metadata.b\n"
    m = compile_source(text, "m.yaml")
    env = sample_envelope("payment.succeeded")
    env["data"]["metadata"] = {"a": _deep(3000), "b": _deep(3000)}
    assert len(m.apply(env)) == 1  # JavaScript compares them; so must Python
    env["data"]["metadata"]["b"] = _deep(3000, "y")
    assert m.apply(env) == []


def _eq_recursive(a, b):
    """The recursive definition eq() had before it used an explicit stack."""
    a = None if a is MISSING else a
    b = None if b is MISSING else b
    if type(a) is list:
        return type(b) is list and len(a) == len(b) and all(_eq_recursive(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        if type(b) is not dict:
            return False
        ka = {k for k, v in a.items() if v is not MISSING}
        kb = {k for k, v in b.items() if v is not MISSING}
        return ka == kb and all(_eq_recursive(a[k], b[k]) for k in ka)
    return F.eq(a, b) if type(b) not in (list, dict) else False


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, 1.0, -0.0, 2**53, 2**53 + 1, "", "a", MISSING])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abc"), inner, max_size=3)),
    max_leaves=8)


@settings(max_examples=300, deadline=None, database=None)
@given(a=json_values, b=json_values)
def test_iterative_eq_is_the_recursive_definition(a, b):
    assert F.eq(a, b) == _eq_recursive(a, b)
    assert F.eq(a, a) is True


def test_eq_still_refuses_values_that_are_not_json():
    with pytest.raises(MappingRuntimeError):
        F.eq([{1, 2}], [{1, 2}])


# --- one mistake, one error -------------------------------------------------------------------

def test_when_given_below_and_beside_the_call_key_is_an_error():
    text = ("version: 1\nevents:\n  payment.succeeded:\n    - identify:\n        userId: business_id\n"
            "        when: data.total_amount > 0\n      when: 'false'\n")
    assert [e[:3] for e in errors(text)] == [("E022", 7, 7)]


def test_a_broken_default_is_reported_once_not_once_per_call():
    text = ("version: 1\ndefaults:\n  userId: data.customer.\nevents:\n  payment.succeeded:\n"
            "    - track: Order Completed\n  refund.succeeded:\n    - track: Order Refunded\n")
    assert [e[0] for e in errors(text)] == ["E101"]


@pytest.mark.parametrize("kind, typo, extra", [
    ("track: Order Completed", "userid: business_id", ""),
    ("alias:", "previousid: business_id", "      userId: business_id\n"),
    ("group:", "groupid: business_id", "      userId: business_id\n"),
])
def test_a_misspelt_required_field_is_one_error(kind, typo, extra):
    text = f"version: 1\nevents:\n  payment.succeeded:\n    - {kind}\n{extra}      {typo}\n"
    diags = [d for d in check_source(text, "m.yaml").diagnostics if d.is_error]
    assert [d.code for d in diags] == ["E021"]
    assert " a alias" not in diags[0].message


def test_an_unhashable_type_is_named_as_such():
    m = compile_source(HEAD + "      userId: business_id\n", "m.yaml")
    with pytest.raises(MappingRuntimeError, match="`type` must be a string, got list"):
        m.apply({"type": ["payment.succeeded"], "data": {}})
    with pytest.raises(MappingRuntimeError, match="has no `type`"):
        m.apply({"data": {}})
