"""The shipped schema snapshot must say exactly what the installed SDK says."""
from __future__ import annotations

import ast
import inspect
import json
import subprocess
import os
import sys
import typing
from pathlib import Path

import pytest

from tests.conftest import require_tool

require_tool("dodopayments")

from dodopayments.types import webhook_event_type  # noqa: E402

from segmap.compiler import snapshot_gen  # noqa: E402
from segmap.compiler.snapshot import event_types, load_snapshot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fresh() -> dict:
    return snapshot_gen.build_snapshot()


@pytest.fixture(scope="module")
def classes() -> dict[str, type]:
    return snapshot_gen.event_classes()


def _accepts_none(annotation) -> bool:
    return type(None) in typing.get_args(annotation) or annotation is type(None)


def _data_class(classes: dict[str, type], event_type: str) -> type:
    return classes[event_type].model_fields["data"].annotation


def test_shipped_snapshot_describes_the_installed_sdk_models(fresh):
    """The models, not the SDK's version string: a release that changes no model passes."""
    shipped = json.loads(snapshot_gen.SNAPSHOT_PATH.read_text(encoding="utf-8"))
    changes = snapshot_gen.model_changes(shipped, fresh)
    assert not changes, (f"the installed dodopayments {fresh['sdk']['version']} differs from the snapshot "
                         f"(made with {shipped['sdk']['version']}); run `segmap schema-refresh`:\n"
                         + "\n".join(changes))


def test_model_changes_name_event_types_and_fields(fresh):
    changed = json.loads(snapshot_gen.render(fresh))
    changed["sdk"]["version"] = "999.0.0"  # a version bump alone is no change
    assert snapshot_gen.model_changes(fresh, changed) == []
    del changed["events"]["dispute.opened"]
    changed["events"]["payment.teleported"] = {"class": "X", "data": "Payment"}
    del changed["models"]["Dispute"]["fields"]["remarks"]
    changed["models"]["Payment"]["fields"]["tip"] = {"type": {"t": "int"}, "required": False, "nullable": True,
                                                     "doc": None}
    lines = snapshot_gen.model_changes(fresh, changed)
    assert "new event types: payment.teleported" in lines
    assert "removed event types: dispute.opened" in lines
    assert "+ models.Payment.fields.tip" in lines and "- models.Dispute.fields.remarks" in lines


def test_loader_returns_the_shipped_file():
    assert load_snapshot() == json.loads(snapshot_gen.SNAPSHOT_PATH.read_text(encoding="utf-8"))
    assert load_snapshot() is load_snapshot()  # cached


def test_generation_is_deterministic(fresh):
    """Another interpreter, with another hash seed (so another set/dict order), writes the same bytes."""
    code = "import sys; from segmap.compiler import snapshot_gen as g; sys.stdout.write(g.render(g.build_snapshot()))"
    for seed in ("1", "2"):
        other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        assert other == snapshot_gen.render(fresh)


def test_sdk_version_recorded(fresh):
    from importlib.metadata import version

    assert fresh["sdk"] == {"package": "dodopayments", "version": version("dodopayments")}


def test_all_event_types_present(classes):
    declared = set(typing.get_args(webhook_event_type.WebhookEventType))
    shipped = set(event_types())
    assert shipped == declared, (f"new event types: {sorted(declared - shipped)}, "
                                 f"removed event types: {sorted(shipped - declared)}; run `segmap schema-refresh`")
    assert declared == set(classes)
    for et, cls in classes.items():
        entry = load_snapshot()["events"][et]
        assert entry["class"] == cls.__name__
        assert entry["data"].rsplit(".", 1)[-1] == _data_class(classes, et).__name__


def test_envelope_fields(classes):
    env = load_snapshot()["envelope"]
    assert set(env) == {"business_id", "timestamp"}
    for cls in classes.values():
        assert set(cls.model_fields) == {"business_id", "timestamp", "type", "data"}
    assert env["business_id"]["type"] == {"t": "str"}
    assert env["timestamp"]["type"] == {"t": "datetime"}
    assert env["business_id"]["required"] and not env["business_id"]["nullable"]


def _check_model_flags(model_cls: type, entry: dict) -> None:
    assert set(entry["fields"]) == set(model_cls.model_fields)
    for name, finfo in model_cls.model_fields.items():
        field = entry["fields"][name]
        assert field["required"] == finfo.is_required(), name
        assert field["nullable"] == _accepts_none(finfo.annotation), name


@pytest.mark.parametrize("event_type", sorted(typing.get_args(webhook_event_type.WebhookEventType)))
def test_every_data_field_has_sdk_flags(classes, event_type):
    cls = _data_class(classes, event_type)
    _check_model_flags(cls, load_snapshot()["models"][load_snapshot()["events"][event_type]["data"]])


def test_payment_fields_match_sdk():
    from dodopayments.types import Payment

    models = load_snapshot()["models"]
    _check_model_flags(Payment, models["Payment"])
    assert models["Payment"]["fields"]["customer"]["type"] == {"t": "model", "name": "CustomerLimitedDetails"}
    assert models["Payment"]["fields"]["disputes"]["type"] == {"t": "list", "items": {"t": "model", "name": "Dispute"}}


def test_dispute_amount_is_a_string():
    from dodopayments.types import Dispute

    assert Dispute.model_fields["amount"].annotation is str
    assert load_snapshot()["models"]["Dispute"]["fields"]["amount"]["type"] == {"t": "str"}


def test_named_literal_aliases():
    from dodopayments.types import Currency, IntentStatus

    fields = load_snapshot()["models"]["Payment"]["fields"]
    assert fields["currency"]["type"] == {"t": "enum", "name": "Currency", "values": sorted(typing.get_args(Currency))}
    assert fields["status"]["type"]["name"] == "IntentStatus"
    assert fields["status"]["type"]["values"] == sorted(typing.get_args(IntentStatus))
    # an inline Literal has no alias to borrow
    assert fields["payment_provider"]["type"]["name"] is None


def test_metadata_dict_of_union():
    t = load_snapshot()["models"]["Payment"]["fields"]["metadata"]["type"]
    assert t == {"t": "dict", "values": {"t": "union", "of": [{"t": "str"}, {"t": "float"}, {"t": "bool"}]}}


def test_colliding_model_names_are_qualified(classes):
    models = load_snapshot()["models"]
    assert "Data" not in models
    cls = _data_class(classes, "payout.created")
    assert f"{cls.__module__.rsplit('.', 1)[-1]}.Data" in models


def test_every_model_ref_resolves():
    snap = load_snapshot()

    def refs(t: dict):
        if t["t"] == "model":
            yield t["name"]
        for key in ("items", "values"):
            if isinstance(t.get(key), dict):
                yield from refs(t[key])
        for member in t.get("of", []):
            yield from refs(member)

    for model in snap["models"].values():
        for field in model["fields"].values():
            for name in refs(field["type"]):
                assert name in snap["models"]
    assert {e["data"] for e in snap["events"].values()} <= set(snap["models"])


def test_field_docs_come_from_attribute_docstrings():
    from dodopayments.types import Payment

    doc = load_snapshot()["models"]["Payment"]["fields"]["total_amount"]["doc"]
    assert doc and doc.split()[0] in inspect.getsource(Payment)
    assert "\n" not in doc


def test_type_reader_shapes():
    reader = snapshot_gen._TypeReader({}, {}, "test")
    assert reader.field(typing.Optional[typing.List[str]]) == ({"t": "list", "items": {"t": "str"}}, True)
    assert reader.field(typing.Union[int, None, int]) == ({"t": "int"}, True)
    assert reader.field(typing.Literal["b", "a", None]) == ({"t": "enum", "values": ["a", "b"], "name": None}, True)
    assert reader.field(typing.Any) == ({"t": "any"}, False)
    assert reader.field(typing.Annotated[str, "x"]) == ({"t": "str"}, False)
    with pytest.raises(snapshot_gen.UnsupportedAnnotation):
        reader.field(typing.List[typing.Optional[str]])
    with pytest.raises(snapshot_gen.UnsupportedAnnotation):
        reader.field(complex)


def test_self_referencing_model():
    import pydantic

    class Node(pydantic.BaseModel):
        children: typing.List["Node"] = []
        parent: typing.Optional["Node"] = None

    Node.model_rebuild()
    models = snapshot_gen._reachable_models([Node])
    names = snapshot_gen._assign_names(models)
    entry = snapshot_gen._model_entry(Node, names)
    assert entry["fields"]["parent"]["type"] == {"t": "model", "name": "Node"}
    assert entry["fields"]["children"]["type"] == {"t": "list", "items": {"t": "model", "name": "Node"}}


def test_check_mode_reports_stale_file(tmp_path, fresh, capsys):
    path = tmp_path / "dodo_events.json"
    stale = json.loads(snapshot_gen.render(fresh))
    del stale["models"]["Dispute"]["fields"]["remarks"]
    stale["sdk"]["version"] = "0.0.1"
    path.write_text(snapshot_gen.render(stale), encoding="utf-8")
    assert snapshot_gen.refresh(check=True, path=path) == 1
    out = capsys.readouterr().out
    assert "+ models.Dispute.fields.remarks" in out and "0.0.1" in out
    assert snapshot_gen.refresh(check=False, path=path) == 0
    assert snapshot_gen.refresh(check=True, path=path) == 0


def test_check_mode_accepts_an_sdk_version_bump_that_changes_no_model(tmp_path, fresh, capsys):
    path = tmp_path / "dodo_events.json"
    bumped = json.loads(snapshot_gen.render(fresh))
    bumped["sdk"]["version"] = "0.0.1"
    path.write_text(snapshot_gen.render(bumped), encoding="utf-8")
    assert snapshot_gen.refresh(check=True, path=path) == 0
    assert "models unchanged" in capsys.readouterr().out


def test_schema_refresh_cli_check(capsys):
    import argparse

    from segmap.cli import cmd_schema_refresh

    parser = argparse.ArgumentParser(prog="segmap")
    cmd_schema_refresh.register(parser.add_subparsers())
    args = parser.parse_args(["schema-refresh", "--check"])
    assert args.handler(args) == 0
    assert "up to date" in capsys.readouterr().out


def test_schema_refresh_without_sdk(monkeypatch, capsys):
    import argparse

    from segmap.cli import cmd_schema_refresh

    monkeypatch.setitem(sys.modules, "dodopayments.types.unwrap_webhook_event", None)  # makes the import fail
    parser = argparse.ArgumentParser(prog="segmap")
    cmd_schema_refresh.register(parser.add_subparsers())
    args = parser.parse_args(["schema-refresh", "--check"])
    assert args.handler(args) == 2
    assert "pip install" in capsys.readouterr().err


def test_only_the_generator_imports_the_sdk():
    """Checking, compiling, sampling and serving never need the SDK; two places use it on purpose:
    the snapshot generator (dev time) and `segmap backfill`, which reads Dodo's API through it."""
    allowed = {"segmap/compiler/snapshot_gen.py", "segmap/cli/cmd_backfill.py"}
    offenders = []
    for path in (ROOT / "segmap").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed or rel.startswith("segmap/backfill/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            if any(n == "dodopayments" or n.startswith("dodopayments.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_loading_snapshot_and_samples_never_imports_sdk():
    code = (
        "import sys; from segmap.compiler.snapshot import load_snapshot; load_snapshot();"
        "import segmap.samples as s; s.all_samples();"
        "bad = [m for m in ('dodopayments', 'hypothesis') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# --- what the docstrings say a field means (snapshot_gen.field_facts) ---------------------------

def _facts(model: str, field: str) -> dict:
    return load_snapshot()["models"][model]["fields"][field].get("facts", {})


def test_field_facts_are_read_from_the_sdk_docstrings():
    from dodopayments.types.payment import Payment

    assert "smallest unit" in inspect.getsource(Payment)  # the text the unit comes from
    assert _facts("Payment", "total_amount") == {"unit": "minor", "currency": "currency"}
    assert _facts("Payment", "settlement_amount") == {"unit": "minor", "currency": "settlement_currency"}
    assert _facts("DiscountDetail", "amount") == {"unit": "basis_points"}
    assert _facts("Payment", "discount_id")["deprecated"] == "Use discounts instead"
    assert {"avoid": "length", "of": "subscription_ids"} in _facts("Payment", "is_multi_subscription")["advice"]
    assert _facts("Payment", "charge_type")["null_when"] == "this payment charges no subscription"
    renewed = load_snapshot()["events"]["subscription.renewed"]["data"]
    assert _facts(renewed, "next_billing_date")["role"] == "period_end"
    assert _facts(renewed, "previous_billing_date")["role"] == "period_start"
    assert _facts("Dispute", "amount") == {}  # text: no unit is claimed for it


def test_field_facts_rules():
    facts = snapshot_gen.field_facts
    money = {"t": "int"}
    assert facts("amount", "The refunded amount.", money, {"currency"}) == {"unit": "minor", "currency": "currency"}
    assert facts("amount", "The refunded amount.", money, set()) == {}  # no currency beside it: unknown unit
    assert facts("quantity", "Number of units", money, {"currency"}) == {}
    assert facts("amount", "Discount in **basis points** (540 => 5.4%)", money, {"currency"}) == {"unit": "basis_points"}
    assert facts("x_id", "DEPRECATED: Use y instead. More.", {"t": "str"}, set()) == {"deprecated": "Use y instead"}
    assert facts("d", "Indicates the end of current billing period", {"t": "datetime"}, set()) == {"role": "period_end"}
    assert facts("d", "Indicates the end of current billing period", {"t": "str"}, set()) == {}
    assert facts("f", "Read this field first. Do not read `a` for null.", {"t": "bool"}, set()) == {
        "advice": [{"avoid": "null", "of": "a"}], "advice_said": "Read this field first. Do not read `a` for null."}
