"""Checker soundness at run time: a mapping `segmap check` accepts never crashes on an envelope.

Random checked mappings (tests/js/random_mappings.py) meet SDK-valid envelopes, envelopes
broken exactly where the mapping reads (keys removed, nulls, wrong types) and hostile ones.
Each must give calls, or a MappingRuntimeError located at a `file:line:col` inside the
mapping -- never "internal error in generated code". The fast version of each event
function, its general version (forced) and the naive reference interpreter must agree:
same calls, key order included, or the same error at the same location.
"""
from __future__ import annotations

import copy

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from segmap.compiler.api import check_source, compile_source
from segmap.compiler.snapshot import event_types
from segmap.samples import sample_envelope
from tests.js.random_mappings import random_mappings
from tests.js.strategies import hostile_envelopes
from tests.perf_semantics.reference import reference_for
from tests.perf_semantics.test_generated_semantics import broken_envelopes, outcome


def general_apply(compiled):
    """``apply`` that skips each event's fast version and runs its general one."""
    def apply(env):
        fn = compiled._dispatch.get(env["type"])
        if fn is None:
            return []
        general = fn.__globals__.get("_g" + fn.__name__[2:], fn)
        try:
            return general(env)
        except Exception as exc:  # noqa: BLE001 - located exactly as apply() does
            return compiled._entry.failed(env, exc)
    return apply


@settings(max_examples=120, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(mapping=random_mappings(event_types()), data=st.data())
def test_checked_mappings_fail_only_with_located_mapping_errors(mapping, data):
    event, text = mapping
    result = check_source(text, "random.yaml")
    assume(result.ok)
    compiled = compile_source(text, "random.yaml")
    reference = reference_for(compiled)
    general = general_apply(compiled)
    batch = [sample_envelope(event, variant=v) for v in range(2)]
    batch += data.draw(st.lists(broken_envelopes(compiled, [event]), min_size=1, max_size=3), label="broken")
    batch += data.draw(st.lists(hostile_envelopes([event]), max_size=2), label="hostile")
    for env in batch:
        got = outcome(compiled.apply, copy.deepcopy(env))
        if got[0] == "error":
            _, message, location = got
            assert "internal error" not in message, (text, env, got)
            assert location.startswith("random.yaml:") and location.count(":") == 2, (text, env, got)
        assert got == outcome(general, env), (text, env)
        assert got == outcome(reference.apply, env), (text, env)
