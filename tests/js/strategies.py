"""Envelope inputs for the differential tests.

Besides SDK-valid envelopes (``segmap.testing.strategies.envelopes``) the
handlers must agree on what a broken or hostile sender could post: required
keys deleted, values nulled or replaced by any JSON value, and the
``metadata`` keys the conformance cases read through ``ANY(...)`` filled
with arbitrary values, so that every run-time check fires on both targets.
"""
from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from segmap.samples import sample_envelope
from segmap.testing.strategies import envelopes, tricky_text

HOSTILE_KEYS = ("__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "0", "-1", "length", "")
ANY_KEYS = ("a", "x", "props", "lst", "flag", "obj", "name", "currency", "uid", "a0", "a1", "a2")

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-(2**64), 2**64), st.sampled_from([0, -1, 2**53, 2**53 + 1, 10**21]),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([0.5, -0.0, 1e21, 1e-7, 1e300]),
    tricky_text(), st.sampled_from(["USD", "JPY", "KWD", "usd", "2025-01-01T00:00:00Z", "12.5", " 7 "]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.one_of(st.sampled_from(HOSTILE_KEYS), tricky_text(6)), inner, max_size=3)),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append(prefix + (k,))
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append(prefix + (i,))
            out.extend(_paths(v, prefix + (i,)))
    return out


def mutate(envelope: dict, ops: list[tuple[int, str, Any]]) -> dict:
    """Apply (path choice, "delete" | "null" | "set", value) operations anywhere but ``type``."""
    env = copy.deepcopy(envelope)
    for choice, action, value in ops:
        paths = [p for p in _paths(env) if p[0] != "type"]
        if not paths:
            break
        path = paths[choice % len(paths)]
        parent = env
        for k in path[:-1]:
            parent = parent[k]
        last = path[-1]
        if action == "delete" and isinstance(parent, dict):
            del parent[last]
        else:
            parent[last] = None if action == "null" else value
    return env


def _with_any(envelope: dict, extra: dict) -> dict:
    env = copy.deepcopy(envelope)
    if isinstance(env.get("data"), dict):
        env["data"]["metadata"] = extra
    return env


ops = st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(["delete", "null", "set"]), json_values), max_size=3)
any_metadata = st.dictionaries(st.sampled_from(ANY_KEYS), json_values, max_size=5)


def hostile_envelopes(event_types=None) -> st.SearchStrategy[dict]:
    """SDK-valid envelopes, then mutated and/or given arbitrary ``metadata``."""
    base = st.one_of(envelopes(event_types),
                     st.builds(lambda t, v: sample_envelope(t, variant=v),
                               st.sampled_from(sorted(event_types) if event_types else _all_types()), st.integers(0, 50)))
    return st.builds(lambda e, o, m, use_m: mutate(_with_any(e, m) if use_m else e, o), base, ops, any_metadata, st.booleans())


def _all_types() -> list[str]:
    from segmap.compiler.snapshot import event_types

    return event_types()
