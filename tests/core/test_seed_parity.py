"""The starter mapping sends exactly what Dodo's three seed transformations send.

Handlers with the seed's behaviour (tests/seed/seed_behaviour.js, our own
JS) run under real node over envelopes of all 48 event types: the shipped
samples in several variants plus Hypothesis-generated envelopes with
nulls, missing optional keys, empty and unicode strings, and currencies
with 0, 2 and 3 decimals. For every envelope both must produce the same
calls with the same bodies, byte for byte: segmap's ``apply_json_bytes`` output
equals the seed's ``JSON.stringify`` output, key order and number layout included.
"""
import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import segmap
from segmap.cli.cmd_init import starter_text
from segmap.compiler.types import event_types
from segmap.samples import sample_envelope

SEED_JS = Path(__file__).parent.parent / "seed" / "seed_behaviour.js"


@pytest.fixture(scope="module")
def starter():
    return segmap.compile_source(starter_text(), "segmap.yaml")


def run_seed(node, lines: list[bytes]) -> list[bytes]:
    """The seed handlers' ``JSON.stringify`` output, one line of bytes per envelope line."""
    data = b"\n".join(lines) + b"\n"
    out = subprocess.run([node, str(SEED_JS)], input=data, capture_output=True, check=True, timeout=60)
    # split on "\n" only: the output is UTF-8 and U+2028 inside strings is not a line break here
    return [line for line in out.stdout.split(b"\n") if line.strip()]


def assert_same(mapping, node, envelopes):
    """Byte for byte: segmap's ``apply_json_bytes`` output is the seed's ``JSON.stringify`` output."""
    lines = [json.dumps(e).encode() for e in envelopes]
    expected = run_seed(node, lines)
    assert len(expected) == len(envelopes)
    for envelope, line, want in zip(envelopes, lines, expected):
        got = mapping.apply_json_bytes(line)
        assert got == want, (envelope["type"], got, want)


def test_samples_of_all_event_types(starter, node):
    envelopes = [sample_envelope(t, variant=v) for t in event_types() for v in range(4)]
    assert len({e["type"] for e in envelopes}) == 48
    assert_same(starter, node, envelopes)


def test_calls_are_produced_only_for_the_seed_events(starter):
    mapped = {t for t in event_types() if starter.apply(sample_envelope(t))}
    assert mapped == {"payment.succeeded", "subscription.active", "subscription.cancelled"}


def _generated():
    from segmap.testing.strategies import envelopes

    focus = ["payment.succeeded", "subscription.active", "subscription.cancelled"]
    return st.lists(st.one_of(envelopes(focus), envelopes()), min_size=1, max_size=8)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=_generated())
def test_generated_envelopes(starter, node, batch):
    assert_same(starter, node, batch)


def test_edge_values_match(starter, node):
    base = sample_envelope("payment.succeeded")
    cases = []
    for currency, amount in (("JPY", 1005), ("KWD", 12345), ("USD", 0), ("USD", 105), ("EUR", 1)):
        e = json.loads(json.dumps(base))
        e["data"]["currency"], e["data"]["total_amount"] = currency, amount
        cases.append(e)
    for pm in ("", None, "ünïcødé ✓", "\u2028"):
        e = json.loads(json.dumps(base))
        e["data"]["payment_method"] = pm
        cases.append(e)
    e = json.loads(json.dumps(base))
    del e["data"]["payment_method"]
    cases.append(e)
    sub = sample_envelope("subscription.cancelled")
    for cancelled in (None, "MISSING"):
        s = json.loads(json.dumps(sub))
        if cancelled == "MISSING":
            del s["data"]["cancelled_at"]
        else:
            s["data"]["cancelled_at"] = cancelled
        cases.append(s)
    assert_same(starter, node, cases)
