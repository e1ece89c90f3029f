"""Sample envelopes: SDK-valid, deterministic, and plausible for their event."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from segmap.compiler.snapshot import event_types, load_snapshot
from segmap.samples import UnknownEventType, all_samples, sample_envelope
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = [0, 1, 2, 3, 5, 8, 13]
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture(scope="module")
def classes() -> dict[str, type]:
    require_tool("dodopayments")
    from segmap.compiler.snapshot_gen import event_classes

    return event_classes()


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("event_type", event_types())
def test_sample_validates_with_sdk_model(classes, event_type, variant):
    envelope = sample_envelope(event_type, variant=variant)
    model = classes[event_type].model_validate(envelope)
    assert model.type == event_type
    assert set(envelope) == {"business_id", "type", "timestamp", "data"}
    assert json.loads(json.dumps(envelope)) == envelope  # plain JSON data, nothing Python-only


@pytest.mark.parametrize("event_type", event_types())
def test_variant_zero_has_every_field(event_type):
    snap = load_snapshot()
    data = sample_envelope(event_type)["data"]
    fields = snap["models"][snap["events"][event_type]["data"]]["fields"]
    assert set(data) == set(fields)
    for name, field in fields.items():
        if field["required"] or not field["nullable"]:
            assert data[name] is not None, name


def test_each_call_returns_a_fresh_envelope():
    # (that samples are the same from run to run is test_samples_do_not_depend_on_hash_seed, across processes)
    first = sample_envelope("payment.succeeded")
    first["data"]["total_amount"] = -1
    assert sample_envelope("payment.succeeded")["data"]["total_amount"] != -1


def test_samples_do_not_depend_on_hash_seed():
    code = "import json, segmap.samples as s; print(json.dumps([s.all_samples(variant=v) for v in (0, 3)], sort_keys=True))"
    digests = set()
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        digests.add(hashlib.sha256(out.encode()).hexdigest())
    assert len(digests) == 1


def test_variants_differ():
    assert sample_envelope("payment.succeeded", variant=0) != sample_envelope("payment.succeeded", variant=1)


def test_all_samples_keys():
    samples = all_samples()
    assert list(samples) == sorted(load_snapshot()["events"])
    assert all(env["type"] == et for et, env in samples.items())


def test_status_follows_event_name():
    assert sample_envelope("payment.succeeded")["data"]["status"] == "succeeded"
    assert sample_envelope("payment.failed")["data"]["status"] == "failed"
    assert sample_envelope("subscription.active")["data"]["status"] == "active"
    assert sample_envelope("subscription.on_hold")["data"]["status"] == "on_hold"
    assert sample_envelope("refund.succeeded")["data"]["status"] == "succeeded"
    assert sample_envelope("dispute.won")["data"]["dispute_status"] == "dispute_won"
    assert sample_envelope("payout.created")["data"]["status"] == "not_initiated"
    assert sample_envelope("credit.deducted")["data"]["transaction_type"] == "credit_deducted"
    assert sample_envelope("entitlement_grant.revoked")["data"]["status"] == "Revoked"


@pytest.mark.parametrize("variant", [0, 1, 2])
def test_status_matches_verb_whenever_the_enum_has_it(variant):
    snap = load_snapshot()
    for event_type, event in snap["events"].items():
        status = snap["models"][event["data"]]["fields"].get("status")
        if not status or status["type"]["t"] != "enum":
            continue
        verb = event_type.partition(".")[2]
        by_lower = {str(v).lower(): v for v in status["type"]["values"]}
        if verb in by_lower:
            assert sample_envelope(event_type, variant=variant)["data"]["status"] == by_lower[verb], event_type


def test_ids_dates_and_identity_are_plausible():
    env = sample_envelope("payment.succeeded")
    data = env["data"]
    assert env["business_id"].startswith("bus_") and data["business_id"] == env["business_id"]
    assert data["payment_id"].startswith("pay_")
    assert data["customer"]["customer_id"].startswith("cus_")
    assert data["subscription_id"].startswith("sub_") and data["subscription_ids"] == [data["subscription_id"]]
    assert data["refunds"][0]["refund_id"].startswith("ref_")
    assert data["refunds"][0]["payment_id"] == data["payment_id"]
    assert data["disputes"][0]["dispute_id"].startswith("dis_")
    assert re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", data["customer"]["email"])
    assert ISO_UTC.match(env["timestamp"]) and ISO_UTC.match(data["created_at"])
    assert data["created_at"] < env["timestamp"]
    assert sample_envelope("license_key.created")["data"]["id"].startswith("lic_")
    assert sample_envelope("subscription.active")["data"]["subscription_id"].startswith("sub_")


@pytest.mark.parametrize(("variant", "currency", "exponent"), [(0, "USD", 2), (1, "JPY", 0), (2, "KWD", 3)])
def test_amounts_are_minor_units_of_the_currency(variant, currency, exponent):
    data = sample_envelope("payment.succeeded", variant=variant)["data"]
    assert data["currency"] == currency
    assert isinstance(data["total_amount"], int) and data["total_amount"] > 0
    if data.get("tax") is not None:
        assert data["total_amount"] > data["tax"] >= 0
    # a typical price is tens of major units: 10^exponent scales it
    assert 10 ** (exponent + 1) <= data["total_amount"] < 10 ** (exponent + 6)


def test_lifecycle_fields_only_where_they_belong():
    assert sample_envelope("payment.succeeded")["data"]["error_message"] is None
    assert sample_envelope("payment.failed")["data"]["error_message"]
    assert sample_envelope("subscription.active")["data"]["cancelled_at"] is None
    assert sample_envelope("subscription.cancelled")["data"]["cancelled_at"]


def test_unknown_event_type_suggests_names():
    with pytest.raises(KeyError) as info:
        sample_envelope("payment.succeded")
    assert isinstance(info.value, UnknownEventType)
    assert "payment.succeeded" in info.value.suggestions
    assert "did you mean" in str(info.value) and "payment.succeeded" in str(info.value)


# --------------------------------------------------------------------------- CLI


def _run_cli(argv: list[str]) -> int:
    from segmap.cli import cmd_sample

    parser = argparse.ArgumentParser(prog="segmap")
    cmd_sample.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.handler(args)


def test_cli_registered():
    from segmap.cli.main import COMMAND_MODULES

    assert "segmap.cli.cmd_sample" in COMMAND_MODULES
    assert "segmap.cli.cmd_schema_refresh" in COMMAND_MODULES


def test_cli_one_sample(capsys):
    assert _run_cli(["sample", "refund.failed", "--variant", "2"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == sample_envelope("refund.failed", variant=2)
    assert out.startswith("{\n")


def test_cli_all_is_json_lines(capsys):
    assert _run_cli(["sample", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(load_snapshot()["events"])
    assert [json.loads(line) for line in lines] == list(all_samples().values())


def test_cli_unknown_type(capsys):
    assert _run_cli(["sample", "subscription.activ"]) == 2
    err = capsys.readouterr().err
    assert "did you mean" in err and "subscription.active" in err


def test_cli_needs_a_type(capsys):
    with pytest.raises(SystemExit) as info:
        _run_cli(["sample"])
    assert info.value.code == 2
