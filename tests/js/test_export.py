"""`segmap export js` and segmap.compiler.jsgen: the shape of the handler,
what it does with webhooks, its limits and the CLI."""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import segmap
from segmap.cli import cmd_export
from segmap.compiler import jsgen
from segmap.compiler.api import MappingError
from segmap.compiler.functions import js_runtime_blocks
from segmap.runtime.values import MappingRuntimeError
from segmap.samples import sample_envelope
from tests.conftest import require_tool
from tests.js.bridge import ORIGINAL_URL, webhook_for
from tests.js.cases import CASES, STARTER

MAPPING = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        revenue: to_major(data.total_amount, data.currency)
        per_tax: data.total_amount / data.tax
    - identify:
      when: data.customer.phone_number != null
      traits: {email: data.customer.email}
  refund.succeeded:
    - track: Order Refunded
      when: data.is_partial
"""


def node_bin() -> str:
    """node's path; without node the test is skipped, and under CI the run fails (tests/conftest.py)."""
    require_tool("node")
    return shutil.which("node")


def node_check(path: Path) -> None:
    subprocess.run([node_bin(), "--check", str(path)], check=True, capture_output=True, timeout=30)


def cli(*argv: str) -> int:
    """Run the command through its own parser (main.py may list modules still in progress)."""
    parser = argparse.ArgumentParser(prog="segmap")
    sub = parser.add_subparsers()
    cmd_export.register(sub)
    args = parser.parse_args(list(argv))
    return args.handler(args)


def _code_only(source: str) -> str:
    """The script without comment lines and string and regex literals (where user text may be)."""
    no_comments = re.sub(r"^\s*//.*$", "", source, flags=re.M)
    no_regex = re.sub(r"= /.*/[a-z]*;$", "= RE;", no_comments, flags=re.M)
    return re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', no_regex)


def run_one(node_bridge, source: str, webhooks: list[dict]) -> list[dict]:
    return node_bridge.run([(source, webhooks)])[0]


# --- the script ----------------------------------------------------------------

def test_starter_is_one_plain_es2019_handler(tmp_path, node_bridge):
    src = jsgen.export_source(STARTER, "segmap.yaml").source
    path = tmp_path / "handler.js"
    path.write_text(src, encoding="ascii")
    node_check(path)
    assert src.isascii()
    assert src.count("\nfunction handler(webhook) {\n") == 1 and src.rstrip().endswith("}")
    code = _code_only(src)
    for banned in ("?.", "??", "=>", "`", "class ", "let ", "const ", "import", "require(", "eval(", "Function("):
        assert banned not in code, banned
    # one top-level declaration: only `handler` lands in the dashboard's global scope
    out = subprocess.run([node_bin(), "-e",
                          "const vm=require('vm');const c=vm.createContext({});"
                          "vm.runInContext(require('fs').readFileSync(process.argv[1],'utf8'),c);"
                          "console.log(JSON.stringify(Object.keys(c)))", str(path)],
                         check=True, capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout) == ["handler"]
    assert jsgen.MIN_CODE_CHARS <= len(src) <= jsgen.MAX_CODE_CHARS


@pytest.mark.parametrize("name", list(CASES))
def test_every_conformance_case_exports_plain_checked_js(tmp_path, name):
    src = jsgen.export_source(CASES[name], f"{name}.yaml").source
    path = tmp_path / f"{name}.js"
    path.write_text(src, encoding="ascii")
    node_check(path)
    code = _code_only(src)
    assert not any(banned in code for banned in ("?.", "??", "=>", "`", "class ", "let ", "const "))


def test_only_used_helpers_are_included():
    starter = jsgen.export_source(STARTER, "segmap.yaml")
    assert "__sm_fixed" in starter.helpers and "__sm_to_major" not in starter.helpers
    assert "__sm_CURRENCY_DECIMALS" not in starter.source
    money = jsgen.export_source(MAPPING, "m.yaml")
    assert "__sm_CURRENCY_DECIMALS" in money.helpers and "__sm_fixed" not in money.source
    for exported in (starter, money):
        declared = set(re.findall(r"^\s*(?:function|var) (__sm_\w+)", exported.source, flags=re.M))
        used = set(re.findall(r"__sm_\w+", _code_only(exported.source)))
        assert declared == used == set(exported.helpers)
        assert declared < set(js_runtime_blocks())


def test_the_handler_oracle_is_not_in_segmap():
    """svix_result predicts what the handler does; in segmap's own code it would grade itself."""
    import inspect

    assert "svix_result" not in inspect.getsource(jsgen)


def test_export_is_deterministic(tmp_path):
    """Processes with different hash seeds (so different set and dict orders) export the same bytes."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    code = ("import sys; from segmap.compiler import jsgen; "
            "sys.stdout.write(jsgen.export_source(open(sys.argv[1], encoding='utf-8').read(), 'm.yaml').source)")
    outputs = {subprocess.run([sys.executable, "-c", code, str(mapping)], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("0", "1")}
    assert outputs == {jsgen.export_source(MAPPING, "m.yaml").source}


# --- what the handler does with a webhook --------------------------------------------

def test_dispatch_single_call_batch_and_cancel(node_bridge):
    src = jsgen.export_source(STARTER, "segmap.yaml").source
    paid, active, refund = (sample_envelope(t) for t in ("payment.succeeded", "subscription.active", "refund.succeeded"))
    res = run_one(node_bridge, src, [webhook_for(paid), webhook_for(active), webhook_for(refund)])
    batch, single, cancelled = (r["ok"] for r in res)
    assert batch["url"] == "https://api.segment.io/v1/batch" and batch["method"] == "POST"
    items = batch["payload"]["batch"]
    assert [i["type"] for i in items] == ["track", "identify"] and all(next(iter(i)) == "type" for i in items)
    assert items[0]["event"] == "Payment Completed"
    assert single["url"] == "https://api.segment.io/v1/track" and single["payload"]["event"] == "Subscription Started"
    assert "type" not in single["payload"]
    assert cancelled["cancel"] is True and cancelled["url"] == ORIGINAL_URL  # not forwarded unchanged
    assert cancelled["payload"] == refund


@pytest.mark.parametrize("event_type", ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf",
                                        "", "payment.succeeded ", "PAYMENT.SUCCEEDED", "payment.*"])
def test_unknown_event_types_are_cancelled(node_bridge, event_type):
    src = jsgen.export_source(STARTER, "segmap.yaml").source
    [res] = run_one(node_bridge, src, [webhook_for(sample_envelope("payment.succeeded"), event_type)])
    assert res["ok"]["cancel"] is True


def test_all_calls_skipped_by_when_cancels(node_bridge):
    src = jsgen.export_source(MAPPING, "m.yaml").source
    env = sample_envelope("refund.succeeded")
    env["data"]["is_partial"] = False
    [res] = run_one(node_bridge, src, [webhook_for(env)])
    assert res["ok"]["cancel"] is True
    assert segmap.compile_source(MAPPING, "m.yaml").apply(env) == []


@pytest.mark.parametrize("region,host,base", [
    ("us", None, "https://api.segment.io/v1/"),
    ("eu", None, "https://events.eu1.segmentapis.com/v1/"),
    ("us", "https://proxy.example.com", "https://proxy.example.com/v1/"),
    ("us", "https://proxy.example.com/", "https://proxy.example.com/v1/"),
    ("us", "https://proxy.example.com/segment/v1", "https://proxy.example.com/segment/v1/"),
    ("us", "http://localhost:8080", "http://localhost:8080/v1/"),
])
def test_base_url(node_bridge, region, host, base):
    assert jsgen.base_url(region, host) == base
    src = jsgen.export_source(STARTER, "segmap.yaml", host=base).source
    [res] = run_one(node_bridge, src, [webhook_for(sample_envelope("subscription.active"))])
    assert res["ok"]["url"] == base + "track"


@pytest.mark.parametrize("host", ["ftp://x.com", "https://x.com/?q=1", "https://x.com/#f", "javascript:alert(1)",
                                  'https://x.com/"+alert(1)+"', "https://x.com/\u2028", "", "x.com"])
def test_bad_hosts_are_refused(host):
    with pytest.raises(ValueError):
        jsgen.base_url("us", host)


def test_run_time_failure_names_the_mapping_location(node_bridge):
    src = jsgen.export_source(MAPPING, "maps/billing.yaml").source
    env = sample_envelope("payment.succeeded")
    env["data"]["tax"] = 0
    [res] = run_one(node_bridge, src, [webhook_for(env)])
    with pytest.raises(MappingRuntimeError) as info:
        segmap.compile_source(MAPPING, "maps/billing.yaml").apply(env)
    err = res["err"]
    assert err["name"] == "MappingRuntimeError"
    assert err["location"] == info.value.location == "maps/billing.yaml:9:18"
    assert err["message"] == str(info.value) == "maps/billing.yaml:9:18: division by zero"


@pytest.mark.parametrize("payload", ["text", [1], None, 5, True])
def test_non_object_payload_fails_at_the_file(node_bridge, payload):
    src = jsgen.export_source(MAPPING, "m.yaml").source
    [res] = run_one(node_bridge, src, [{"method": "POST", "url": ORIGINAL_URL, "eventType": "payment.succeeded",
                               "payload": payload}])
    assert res["err"]["location"] == "m.yaml"
    assert res["err"]["message"].startswith("m.yaml: an envelope must be a JSON object")
    with pytest.raises(MappingRuntimeError) as info:
        segmap.compile_source(MAPPING, "m.yaml").apply(payload)
    assert info.value.location == "m.yaml"


# --- refusals --------------------------------------------------------------------------

def test_mapping_with_errors_is_refused():
    with pytest.raises(MappingError) as info:
        jsgen.export_source(MAPPING.replace("data.total_amount /", "data.totl_amount /"), "m.yaml")
    assert any(d.code == "E203" for d in info.value.diagnostics)


@pytest.mark.parametrize("literal,what", [("123456789012345678901", "exactly"), ("9007199254740993", "exactly")])
def test_numbers_javascript_would_change_are_refused(literal, what):
    # refused by the checker itself (E101), so the Python mapping cannot send a number the
    # exported handler would round
    text = MAPPING.replace("to_major(data.total_amount, data.currency)", literal)
    with pytest.raises(MappingError) as info:
        jsgen.export_source(text, "m.yaml")
    (d,) = info.value.diagnostics
    assert d.code == "E101" and what in d.message
    assert str(d.span).startswith("m.yaml:8:18")


def _many_events(fields: int) -> str:
    from segmap.compiler.snapshot import event_types

    lines = ["version: 1", "events:"]
    for et in event_types():
        lines += [f"  {et}:", "    - track: Event Seen", "      userId: business_id", "      properties:"]
        lines += [f"        field_{i}: 'f\"{{timestamp}} #{i}\"'" for i in range(fields)]
    return "\n".join(lines) + "\n"


def test_too_big_for_the_dashboard_is_refused():
    with pytest.raises(jsgen.JsExportError) as info:
        jsgen.export_source(_many_events(12), "big.yaml")
    assert "51,200" in str(info.value)


def test_big_mapping_is_compacted_and_still_agrees(node_bridge, tmp_path):
    for fields in range(1, 12):  # the first size whose readable form is over the limit
        text = _many_events(fields)
        exported = jsgen.export_source(text, "big.yaml")
        if "compacted" in exported.source.split("\n", 1)[0]:
            break
    assert "compacted" in exported.source.split("\n", 1)[0] and len(exported.source) <= jsgen.MAX_CODE_CHARS
    (tmp_path / "big.js").write_text(exported.source)
    node_check(tmp_path / "big.js")
    env = sample_envelope("dispute.won")
    [res] = run_one(node_bridge, exported.source, [webhook_for(env)])
    [call] = segmap.compile_source(text, "big.yaml").apply(env)
    assert res["ok"]["payload"] == call.body


# --- the command line -------------------------------------------------------------------

def test_command_is_registered():
    from segmap.cli.main import COMMAND_MODULES

    assert "segmap.cli.cmd_export" in COMMAND_MODULES


def test_cli_writes_the_handler(tmp_path, capsys):
    mapping = tmp_path / "segmap.yaml"
    mapping.write_text(re.sub(r" *# segmap: allow[^\n]*", "", STARTER))  # the starter's warnings, unacknowledged
    out = tmp_path / "handler.js"
    assert cli("export", "js", str(mapping), "-o", str(out), "--region", "eu") == 0
    err = capsys.readouterr().err
    assert "wrote" in err and "events.eu1.segmentapis.com" in err and "warning[" in err  # warnings are shown
    text = out.read_text(encoding="ascii")
    assert text == jsgen.export_file(mapping, host=jsgen.REGION_HOSTS["eu"]).source
    node_check(out)
    assert cli("export", "js", str(mapping)) == 0
    assert capsys.readouterr().out == jsgen.export_file(mapping).source


def test_cli_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MAPPING.replace("data.total_amount /", "data.totl_amount /"))
    assert cli("export", "js", str(bad)) == 1
    assert "E203" in capsys.readouterr().err
    big = tmp_path / "big.yaml"
    big.write_text(_many_events(12))
    assert cli("export", "js", str(big)) == 1
    assert "51,200" in capsys.readouterr().err
    assert cli("export", "js", str(tmp_path / "missing.yaml")) == 2
    good = tmp_path / "good.yaml"
    good.write_text(MAPPING)
    assert cli("export", "js", str(good), "--host", "ftp://nope") == 2
    with pytest.raises(SystemExit):
        cli("export", "js", str(good), "--region", "eu", "--host", "https://x.example")


# --- the gallery fits the dashboard ---------------------------------------------------------------

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_gallery_example_exports_under_the_limit(path, capsys):
    assert cli("export", "js", str(path)) == 0
    captured = capsys.readouterr()
    assert len(captured.out) <= jsgen.MAX_CODE_CHARS
    assert f"({len(captured.out):,} of {jsgen.MAX_CODE_CHARS:,} characters" in captured.err


def test_events_of_a_glob_rule_share_one_function_even_when_it_reads_type():
    text = ("version: 1\nevents:\n  'subscription.*':\n    - track: Subscription Changed\n"
            "      userId: data.customer.customer_id\n      properties:\n        kind: type\n"
            "        status: data.status\n")
    exported = jsgen.export_source(text, "subs.yaml")
    functions = exported.source.count("  function e")
    subscription_events = [e for e in exported.event_types if e.startswith("subscription.")]
    assert len(subscription_events) > 5 and functions == 1
