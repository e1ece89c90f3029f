"""Hypothesis strategies: always SDK-valid, and actually reaching the awkward corners."""
from __future__ import annotations

import pytest

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from segmap.compiler.snapshot import event_types
from segmap.testing.strategies import envelopes, model_values
from tests.conftest import require_tool

_CLASSES: dict[str, type] = {}


def _validate(envelope: dict) -> None:
    if not _CLASSES:
        require_tool("dodopayments")
        from segmap.compiler.snapshot_gen import event_classes

        _CLASSES.update(event_classes())
    _CLASSES[envelope["type"]].model_validate(envelope)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes())
def test_generated_envelopes_validate_with_sdk(envelope):
    _validate(envelope)


@settings(max_examples=25, deadline=None, database=None)
@given(st.sampled_from(event_types()).flatmap(lambda et: envelopes([et])))
def test_restricted_to_event_types(envelope):
    _validate(envelope)


# Coverage is checked by observing a derandomized run rather than with hypothesis.find,
# whose shrinking of whole envelopes takes minutes.
_OBSERVE = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                    phases=[Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("event_type", event_types())
def test_every_event_type_validates(event_type):
    @settings(max_examples=4, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(envelopes([event_type]))
    def check(envelope):
        assert envelope["type"] == event_type
        _validate(envelope)

    check()


def test_reaches_the_corners():
    seen: set[str] = set()

    @_OBSERVE
    @given(envelopes(["payment.succeeded"]), model_values("CustomerLimitedDetails"))
    def observe(envelope, customer):
        data = envelope["data"]
        checks = {
            "optional absent": "tax" not in data,
            "optional null": "tax" in data and data["tax"] is None,
            "JPY": data["currency"] == "JPY",
            "KWD": data["currency"] == "KWD",
            "USD": data["currency"] == "USD",
            "zero amount": data["total_amount"] == 0,
            "negative amount": data["total_amount"] < 0,
            "amount beyond 2**53": data["total_amount"] > 2**53,
            "no refunds": data["refunds"] == [],
            "three refunds": len(data["refunds"]) == 3,
            "non-Z timestamp": not envelope["timestamp"].endswith("Z"),
            "U+2028": "\u2028" in customer["name"] or "\u2029" in customer["name"],
            "quote or backslash": '"' in customer["name"] or "\\" in customer["name"],
            "emoji": any(ord(c) > 0xFFFF for c in customer["name"]),
            "empty email": customer["email"] == "",
        }
        seen.update(name for name, hit in checks.items() if hit)

    observe()
    expected = {"optional absent", "optional null", "JPY", "KWD", "USD", "zero amount", "negative amount",
                "amount beyond 2**53", "no refunds", "three refunds", "non-Z timestamp", "U+2028",
                "quote or backslash", "emoji", "empty email"}
    assert expected - seen == set()


def test_unknown_names_rejected():
    with pytest.raises(KeyError):
        envelopes(["payment.nope"])
    with pytest.raises(KeyError):
        model_values("Nope")
