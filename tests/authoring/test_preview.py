"""`segmap preview`: calls for people, each value with the mapping line it came from."""
import io
import json

from segmap.samples import sample_envelope

MAPPING = """\
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        revenue: to_major(data.total_amount, data.currency)
        currency: data.currency
        products: 'map(data.product_cart ?? [], item => {product_id: item.product_id, quantity: item.quantity})'
    - identify:
      when: data.customer.phone_number != null
      traits:
        phone: data.customer.phone_number
"""


def origin(line: str) -> str | None:
    return line.split("← ", 1)[1] if "← " in line else None


def test_each_value_shows_where_it_came_from(mapping_file, cli):
    path = mapping_file(MAPPING)
    code, out, err = cli("preview", path, "--event", "payment.succeeded", "--color", "never")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"payment.succeeded · sample variant 0 · {path}"
    assert lines[1] == "2 calls"
    by_text = {line.split("←")[0].strip(): origin(line) for line in lines}
    assert by_text['[1] track "Order Completed"'] == f"{path}:6"
    assert by_text['"event": "Order Completed",'] == f"{path}:6"
    assert by_text['"revenue": 54.98,'] == f"{path}:8"
    assert by_text['"currency": "USD",'] == f"{path}:9"
    assert by_text['"products": ['] == f"{path}:10"
    assert by_text['"quantity": 1'] == f"{path}:10"  # items of map() point at the lambda body
    assert by_text['"userId": "cus_iMed5wztEqWZeSs4mB8LA",'] == f"{path}:3 (defaults)"  # defaults first, as {...defaults, ...call}
    assert by_text['"phone": "+14155550132"'] == f"{path}:14"
    assert "\x1b[" not in out
    # the JSON itself is intact once the annotations are cut off
    body = lines[lines.index('[1] track "Order Completed"  ← ' + f"{path}:6") + 1:]
    body = body[: body.index("}") + 1]
    parsed = json.loads("\n".join(line.split("  ←")[0] for line in body))
    assert parsed["properties"]["revenue"] == 54.98


def test_calls_skipped_by_when_are_listed(mapping_file, cli):
    path = mapping_file(MAPPING)
    code, out, _ = cli("preview", path, "-e", "payment.succeeded", "--set", "data.customer.phone_number=null")
    assert code == 0
    assert "1 call, 1 not sent" in out
    assert f"[2] identify not sent: when: data.customer.phone_number != null was false  ← {path}:11" in out
    assert "with set data.customer.phone_number" in out.splitlines()[0]


def test_set_and_unset_values(mapping_file, cli):
    path = mapping_file(MAPPING)
    code, out, _ = cli("preview", path, "-e", "payment.succeeded", "--set", "data.currency=JPY",
                       "--set", "data.total_amount=1500", "--unset", "data.product_cart")
    assert code == 0
    assert '"revenue": 1500,' in out and '"currency": "JPY",' in out
    assert '"products": []' in out


def test_runtime_errors_are_located(mapping_file, cli):
    path = mapping_file(MAPPING)
    code, out, _ = cli("preview", path, "-e", "payment.succeeded", "--set", "data.currency=XXX")
    assert code == 1
    assert "error[E501]: the mapping failed on this envelope: unknown currency code 'XXX'" in out
    assert f"--> {path}:8:18" in out
    caret = next(line for line in out.splitlines() if line.strip().startswith("|") and "^" in line)
    assert caret.count("^") == len("to_major(data.total_amount, data.currency)")


def test_colour_only_when_asked_or_on_a_terminal(mapping_file, cli):
    path = mapping_file(MAPPING)
    _, out, _ = cli("preview", path, "-e", "payment.succeeded", "--color", "always")
    assert "\x1b[36m\"revenue\"\x1b[0m: \x1b[33m54.98\x1b[0m" in out
    assert "\x1b[32m\"USD\"\x1b[0m" in out
    _, out, _ = cli("preview", path, "-e", "payment.succeeded")  # captured output is not a terminal
    assert "\x1b[" not in out


def test_input_envelopes_and_unmapped_events(mapping_file, cli, tmp_path, monkeypatch):
    path = mapping_file(MAPPING)
    env = sample_envelope("payment.succeeded", variant=1)
    f = tmp_path / "env.json"
    f.write_text(json.dumps(env))
    code, out, _ = cli("preview", path, "--input", f)
    assert code == 0 and f"payment.succeeded · {f} · {path}" in out and '"currency": "JPY",' in out
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(sample_envelope("refund.succeeded"))))
    code, out, _ = cli("preview", path, "--input", "-")
    assert code == 0
    assert f"no calls: {path} does not map `refund.succeeded`" in out
    assert "mapped events: payment.succeeded" in out


def test_usage_and_io_errors(mapping_file, cli, tmp_path):
    path = mapping_file(MAPPING)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{")
    cases = [
        (("-e", "payment.succeded"), "unknown Dodo event type 'payment.succeded'; did you mean payment.succeeded"),
        (("-e", "payment.succeeded", "--set", "data.totl_amount=1"), "did you mean `data.total_amount`?"),
        (("-e", "payment.succeeded", "--set", "data.total_amount"), "--set takes PATH=VALUE"),
        (("-e", "payment.succeeded", "--variant", "-1"), "--variant must be >= 0"),
        (("--input", tmp_path / "nope.json"), "cannot read"),
        (("--input", bad_json), "is not one JSON envelope"),
    ]
    for args, message in cases:
        code, _, err = cli("preview", path, *args)
        assert code == 2 and message in err, (args, err)
    code, _, err = cli("preview", tmp_path / "missing.yaml", "-e", "payment.succeeded")
    assert code == 2 and "cannot read" in err


def test_a_mapping_with_errors(mapping_file, cli):
    path = mapping_file("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: data.nope\n")
    code, out, err = cli("preview", path, "-e", "payment.succeeded")
    assert code == 1 and "error[E203]" in err and "the mapping has errors" in err
