"""Random mappings (random_mappings.py) on random envelopes: both targets agree.

The hand-written cases pin known constructs; this finds the combinations
nobody wrote down (a template inside a map inside an `if`, `??` on a
missing list item ...). Each example is one mapping and a batch of
envelopes of its event (samples, SDK-valid, and broken ones) plus one
unmapped envelope, all in one node round trip.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from segmap.compiler.api import check_source
from segmap.compiler.snapshot import event_types
from segmap.samples import sample_envelope
from segmap.testing.strategies import envelopes
from tests.js.bridge import Case, assert_agree
from tests.js.random_mappings import random_mappings
from tests.js.strategies import hostile_envelopes

# SEGMAP_JS_EXAMPLES=2000 for a deeper (slower) hunt.
SETTINGS = settings(max_examples=int(os.environ.get("SEGMAP_JS_EXAMPLES", "120")), deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])


@SETTINGS
@given(mapping=random_mappings(event_types()), data=st.data())
def test_random_mappings_agree(node_bridge, mapping, data):
    event, text = mapping
    assume(check_source(text, "random.yaml").ok)
    other = next(t for t in event_types() if t.split(".")[0] != event.split(".")[0])
    batch = [sample_envelope(event, variant=v) for v in range(3)] + [sample_envelope(other)]
    batch += data.draw(st.lists(envelopes([event]), max_size=4), label="valid")
    batch += data.draw(st.lists(hostile_envelopes([event]), max_size=4), label="broken")
    assert_agree(node_bridge, [Case("random", text, "random.yaml")], lambda c: batch)
