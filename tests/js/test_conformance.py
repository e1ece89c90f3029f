"""Differential conformance: every case of cases.py gives the same result on
the Python target and the exported JS handler (real node), over envelopes
of all 48 event types.

Same result means: the same Segment request (URL, and a JSON-equal body,
batch items in the same order) or ``cancel``, or a failure at the same
mapping location. Each Hypothesis example runs every case in one node
round trip.
"""
from __future__ import annotations

import functools
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmap.compiler.snapshot import event_types
from segmap.dsl import ast
from segmap.samples import sample_envelope
from segmap.testing.strategies import envelopes
from tests.js.bridge import assert_agree, compare
from tests.js.cases import CASES, all_cases
from tests.js.strategies import hostile_envelopes

# SEGMAP_JS_EXAMPLES=500 for a deeper (slower) hunt.
SETTINGS = settings(max_examples=int(os.environ.get("SEGMAP_JS_EXAMPLES", "25")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


@functools.cache
def _cases():
    return {c.name: c.build() for c in all_cases()}


@functools.cache
def _samples_for(mapped: tuple[str, ...]) -> list[dict]:
    """Every event type in variants 0-2, the mapped ones in 16 more variants."""
    envs = [sample_envelope(t, variant=v) for t in event_types() for v in range(3)]
    envs += [sample_envelope(t, variant=v) for t in mapped for v in range(3, 19)]
    return envs


def _mapped(case) -> tuple[str, ...]:
    return case.compiled.event_types


@pytest.mark.parametrize("name", list(CASES))
def test_case_agrees_on_samples(node_bridge, name):
    case = _cases()[name]
    stats = assert_agree(node_bridge, [case], lambda c: _samples_for(_mapped(c)))
    assert stats["ok"] > 0, f"{name}: no envelope produced calls; the case tests nothing"
    if len(_mapped(case)) < len(event_types()):
        assert stats["cancel"] > 0, f"{name}: unmapped events were not cancelled"


def test_failures_case_fails_somewhere(node_bridge):
    """The failure case must really fail (and so compare locations), not pass vacuously."""
    case = _cases()["failures"]
    stats = assert_agree(node_bridge, [case], lambda c: _samples_for(_mapped(c)))
    assert stats["err"] >= 5


@SETTINGS
@given(batch=st.lists(envelopes(), min_size=1, max_size=12))
def test_cases_agree_on_generated_envelopes(node_bridge, batch):
    assert_agree(node_bridge, list(_cases().values()), lambda c: batch)


@SETTINGS
@given(batch=st.lists(hostile_envelopes(), min_size=1, max_size=12))
def test_cases_agree_on_broken_envelopes(node_bridge, batch):
    """Deleted and nulled required keys, wrong types, arbitrary metadata."""
    assert_agree(node_bridge, list(_cases().values()), lambda c: batch)


@SETTINGS
@given(batch=st.lists(hostile_envelopes(["payment.succeeded", "payment.failed", "payment.processing",
                                         "payment.cancelled", "refund.succeeded", "refund.failed",
                                         "dispute.opened", "subscription.active", "subscription.on_hold"]),
                      min_size=4, max_size=16))
def test_failure_paths_agree(node_bridge, batch):
    """Focus on the events the failure case maps, so the run-time checks fire often."""
    assert_agree(node_bridge, [_cases()["failures"], _cases()["call_kinds"], _cases()["functions"]], lambda c: batch)


# --- the suite covers the language -------------------------------------------------

def _nodes(case):
    out = []
    for rule in case.compiled.check.mapping.rules:
        for spec in rule.calls:
            exprs = [f.value for f in spec.fields] + ([spec.when] if spec.when else [])
            for e in exprs:
                out.extend(ast.walk(e))
    for d in case.compiled.check.mapping.defaults:
        out.extend(ast.walk(d.value))
    return out


def test_suite_covers_every_construct_function_and_call_kind():
    from segmap.compiler.functions import FUNCTIONS, OPERATORS, UNARY_OPERATORS
    from segmap.dsl.segment_fields import CALL_TYPES

    nodes = [n for c in _cases().values() for n in _nodes(c)]
    node_types = {type(n).__name__ for n in nodes}
    expr_types = {t.__name__ for t in ast.Expr.__args__}
    assert expr_types <= node_types, f"no case uses {sorted(expr_types - node_types)}"
    called = {n.func for n in nodes if isinstance(n, ast.Call)}
    assert set(FUNCTIONS) | {"map", "filter"} <= called, f"no case calls {sorted(set(FUNCTIONS) | {'filter'} - called)}"
    binary = {n.op for n in nodes if isinstance(n, ast.Binary)}
    assert set(OPERATORS) | {"and", "or", "??"} <= binary, sorted(set(OPERATORS) - binary)
    unary = {n.op for n in nodes if isinstance(n, ast.Unary)}
    assert set(UNARY_OPERATORS) | {"not"} <= unary
    kinds = {spec.kind for c in _cases().values() for r in c.compiled.check.mapping.rules for spec in r.calls}
    assert set(CALL_TYPES) <= kinds
    assert any(r.is_glob for c in _cases().values() for r in c.compiled.check.mapping.rules)
    assert any(spec.when for c in _cases().values() for r in c.compiled.check.mapping.rules for spec in r.calls)


def test_mismatches_are_detected(node_bridge):
    """The comparison itself is not vacuous: a handler for another mapping disagrees."""
    a, b = _cases()["starter"], _cases()["functions"]
    swapped = type(a)(a.name, a.text, a.filename, a.compiled, b.js)
    bad, _ = compare(node_bridge, [swapped], lambda c: [sample_envelope("payment.succeeded")])
    assert bad
