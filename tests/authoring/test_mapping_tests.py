"""The tests: section: its format, its located diagnostics, and `segmap test`."""
import pytest

from segmap.authoring.cases import parse_tests, run_case
from segmap.compiler.api import check_source, compile_source

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
        coupon: data.discounts[0].code
    - identify:
      when: data.customer.phone_number != null
      traits:
        phone: data.customer.phone_number
  refund.succeeded:
    - track: Order Refunded
      properties:
        order_id: data.payment_id
"""


def cases_of(tests_yaml: str, mapping: str = MAPPING, name: str = "m.yaml"):
    result = check_source(mapping + tests_yaml, name)
    assert result.ok, result.diagnostics
    cases, diags = parse_tests(result.mapping)
    return cases, diags, result


def run(tests_yaml: str, mapping: str = MAPPING):
    cases, diags, _ = cases_of(tests_yaml, mapping)
    assert not diags, diags
    compiled = compile_source(mapping + tests_yaml, "m.yaml")
    return [run_case(compiled, c) for c in cases]


def test_a_case_runs_on_a_sample_with_overrides():
    (res,) = run("""
tests:
  - name: yen
    event: payment.succeeded
    variant: 2
    set:
      data.currency: JPY
      data.total_amount: 1500
    unset: [data.customer.phone_number]
    expect:
      - track: Order Completed
        properties: {revenue: 1500, currency: JPY}
    expect_calls: 1
""")
    assert res.passed, res.problems


def test_partial_finds_expected_calls_in_order_among_the_calls_made():
    results = run("""
tests:
  - name: only the identify
    event: payment.succeeded
    expect: [{identify: {traits: {phone: "+14155550132"}}}]
  - name: wrong order
    event: payment.succeeded
    expect: [{identify: {}}, {track: Order Completed}]
  - name: wrong name
    event: payment.succeeded
    expect: [{track: Order Refunded}]
""")
    assert [r.passed for r in results] == [True, False, False]
    assert "was not made" in results[1].problems[0] and "after the earlier" in results[1].problems[0]
    assert 'track "Order Refunded", was not made; calls made: track "Order Completed", identify' in results[2].problems[0]


def test_full_needs_every_call_and_key():
    (ok, extra_key, fewer_calls) = run("""
tests:
  - name: exact
    event: refund.succeeded
    set: {data.payment_id: pay_1, data.customer.customer_id: cus_1}
    match: full
    expect:
      - track: Order Refunded
        userId: cus_1
        properties: {order_id: pay_1}
  - name: missing a key
    event: refund.succeeded
    match: full
    expect: [{track: Order Refunded, properties: {}}]
  - name: missing a call
    event: payment.succeeded
    match: full
    expect: [{track: Order Completed}]
""")
    assert ok.passed, ok.problems
    assert not extra_key.passed
    assert any("userId: not expected" in p for p in extra_key.problems)
    assert any("properties.order_id: not expected" in p for p in extra_key.problems)
    assert extra_key.diff[0] == "--- expected" and extra_key.diff[1] == "+++ actual"
    assert not fewer_calls.passed and "expected 1 call" in fewer_calls.problems[0]


def test_absent_keys_only_match_in_full_mode():
    partial, full = run("""
tests:
  - name: partial cannot see absence
    event: payment.succeeded
    set: {data.discounts: []}
    expect: [{track: Order Completed, properties: {coupon: null}}]
  - name: absent coupon
    event: payment.succeeded
    set: {data.discounts: [], data.customer.phone_number: null, data.currency: EUR, data.total_amount: 100}
    match: full
    expect:
      - track: Order Completed
        userId: cus_iMed5wztEqWZeSs4mB8LA
        properties: {revenue: 1, currency: EUR}
""")
    assert not partial.passed and "coupon: expected null, but it is absent" in partial.problems[0]
    assert full.passed, full.problems


def test_expect_nothing_counts_and_errors():
    results = run("""
tests:
  - name: unmapped
    event: payment.failed
    expect: []
  - name: not empty
    event: payment.succeeded
    expect: []
  - name: count
    event: payment.succeeded
    expect_calls: 1
  - name: error
    event: payment.succeeded
    set: {data.currency: XXX}
    expect_error: unknown currency
  - name: error text differs
    event: payment.succeeded
    set: {data.currency: XXX}
    expect_error: division by zero
  - name: no error
    event: payment.succeeded
    expect_error: anything
  - name: unexpected error
    event: payment.succeeded
    set: {data.currency: XXX}
    expect_calls: 2
""")
    assert [r.passed for r in results] == [True, False, False, True, False, False, False]
    assert results[1].problems == ['expected 0 calls, got 2: track "Order Completed", identify']
    assert results[2].problems[0].startswith("expected 1 call, got 2")
    assert "got: " in results[4].problems[0] and "m.yaml:8" in results[4].problems[0]
    assert "but the mapping made 2 calls" in results[5].problems[0]
    assert results[6].problems[0].startswith("the mapping failed at m.yaml:8:")


def test_an_input_envelope_instead_of_a_sample(tmp_path):
    (res, from_file) = run("""
tests:
  - name: hand-written
    input:
      business_id: bus_1
      type: refund.succeeded
      timestamp: "2025-01-01T00:00:00Z"
      data: {payment_id: pay_9, customer: {customer_id: cus_9}}
    expect: [{track: Order Refunded, userId: cus_9, properties: {order_id: pay_9}}]
  - name: overrides on an input
    input: {type: refund.succeeded, data: {payment_id: p, customer: {customer_id: c}}}
    set: {data.payment_id: pay_10}
    expect: [{track: Order Refunded, properties: {order_id: pay_10}}]
""")
    assert res.passed, res.problems
    assert from_file.passed, from_file.problems


def test_input_file_is_relative_to_the_mapping(mapping_file, tmp_path, cli):
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "refund.json").write_text(
        '{"business_id": "b", "type": "refund.succeeded", "timestamp": "2025-01-01T00:00:00Z",'
        ' "data": {"payment_id": "pay_file", "customer": {"customer_id": "c"}}}')
    path = mapping_file(MAPPING + """
tests:
  - name: from a file
    input_file: fixtures/refund.json
    expect: [{track: Order Refunded, properties: {order_id: pay_file}}]
  - name: missing file
    input_file: fixtures/nope.json
    expect_calls: 0
""")
    code, out, _ = cli("test", path)
    assert code == 1
    assert f"PASSED {path}::from a file" in out
    assert "error[E601]: cannot read `fixtures/nope.json`" in out
    assert f"FAILED {path}::missing file - the test case is invalid (see above)" in out


BAD_TESTS = """
tests:
  - name: dup
    event: payment.succeeded
    expect_calls: 1
  - name: dup
    event: payment.succeded
    expect_calls: 1
  - name: paths
    event: payment.succeeded
    set: {data.totl_amount: 5, nope.x: 1}
    unset: [data.customer.emial]
    expect_calls: -1
  - name: shapes
    event: payment.succeeded
    input: {type: refund.succeeded}
    variant: x
    match: exact
    expect_error: boom
    expect_calls: 1
    expected: []
  - name: calls
    event: payment.succeeded
    expect:
      - trak: Order Completed
      - track: A
        identify: {}
      - identify: Someone
      - track: A
        messageId: x
        traits: {}
      - track: A
        properties: {x: .inf}
  - name: checks nothing
    event: payment.succeeded
  - just text
"""


def test_bad_tests_sections_get_located_diagnostics():
    _, diags, _ = cases_of(BAD_TESTS)
    base = MAPPING.count("\n")
    got = [(d.code, d.span.line - base, d.message) for d in diags]
    text = "\n".join(f"{c} {ln} {m}" for c, ln, m in got)
    expected = [
        ("E602", 7, "unknown Dodo event type `payment.succeded`"),
        ("E601", 6, "two tests are named `dup`"),
        ("E603", 11, "`data.totl_amount` does not exist on payment.succeeded: `data` has no field `totl_amount`"),
        ("E603", 11, "`nope` is not an envelope field"),
        ("E603", 12, "`data.customer.emial` does not exist on payment.succeeded: `data.customer` has no field `emial`"),
        ("E601", 13, "`expect_calls:` must be a whole number >= 0, found `-1`"),
        ("E601", 21, "unknown test key `expected`"),
        ("E601", 16, "give one of `event:`, `input:`, `input_file:`; found event and input"),
        ("E601", 17, "`variant:` must be a whole number >= 0, found `x`"),
        ("E601", 18, "`match:` is `partial` or `full`, found `exact`"),
        ("E601", 19, "`expect_error:` cannot be combined with `expect_calls:`"),
        ("E604", 25, "an expected call needs exactly one of track, identify, group, page, screen, alias"),
        ("E604", 27, "an expected call has one call key, found track, identify"),
        ("E604", 28, "`identify:` takes no name; put its fields below it"),
        ("E604", 30, "`messageId` is not made by the mapping (segmap or Segment sets it at delivery)"),
        ("E604", 31, "`traits` is not a field of track calls"),
        ("E601", 33, "`.inf` in `properties` is not a JSON value"),
        ("E601", 34, "test `checks nothing` checks nothing: add `expect:`, `expect_calls:` or `expect_error:`"),
        ("E601", 36, "a test case must be a mapping with `name:`, `event:` and `expect:`, found text"),
    ]
    for item in expected:
        assert item in got, f"{item} not in\n{text}"
    suggestions = {d.message: d.suggestion for d in diags}
    assert suggestions["unknown Dodo event type `payment.succeded`"] == "payment.succeeded"
    assert suggestions["unknown test key `expected`"] == "expect"
    assert suggestions["an expected call needs exactly one of track, identify, group, page, screen, alias"] == "track"


@pytest.mark.parametrize("section, message", [
    ("tests: {a: 1}", "`tests:` must be a list of test cases, found a mapping"),
    ("tests:\n  - name: x\n    event: payment.succeeded\n    expect:\n", '`expect:` is empty; write `expect: []` for "no calls"'),
    ("tests:\n  - name: x\n    event: payment.succeeded\n    expect: {track: A}\n", "`expect:` must be a list of calls, found a mapping"),
    ("tests:\n  - event: payment.succeeded\n    expect: []\n", "a test case needs a `name:`"),
    ("tests:\n  - name: x\n    expect: []\n", "a test case needs `event:` (a sample envelope) or `input:` (a whole envelope)"),
    ("tests:\n  - name: x\n    input: {data: {}}\n    expect: []\n", "the input envelope has no `type` (the Dodo event type)"),
    ("tests:\n  - name: x\n    input: {type: refund.succeeded}\n    variant: 1\n    expect: []\n",
     "`variant:` picks a sample, so it needs `event:`"),
])
def test_more_bad_shapes(section, message):
    _, diags, _ = cases_of(section)
    assert message in [d.message for d in diags]


def test_an_absent_or_empty_tests_section_is_no_tests():
    for section in ("", "tests:\n"):
        cases, diags, _ = cases_of(section)
        assert cases == [] and diags == []


# --- the command -------------------------------------------------------------------


def test_segmap_test_output_and_exit_status(mapping_file, cli):
    path = mapping_file(MAPPING + """
tests:
  - name: revenue in dollars
    event: payment.succeeded
    set: {data.total_amount: 1999, data.currency: USD}
    expect:
      - track: Order Completed
        properties: {revenue: 19.99}
  - name: revenue in yen (wrong on purpose)
    event: payment.succeeded
    set: {data.total_amount: 1500, data.currency: JPY}
    expect:
      - track: Order Completed
        properties: {revenue: 15, currency: JPY}
""")
    code, out, err = cli("test", path, "--color", "never")
    assert code == 1
    lines = out.splitlines()
    assert lines[-1] == "1 passed, 1 failed"
    assert f"PASSED {path}::revenue in dollars" in lines
    i = lines.index(f"FAILED {path}::revenue in yen (wrong on purpose)")
    assert lines[i + 1] == f"    test at {path}:27"
    assert lines[i + 2] == '    call 1 (track "Order Completed"): properties.revenue: expected 15, got 1500'
    assert "    -    \"revenue\": 15," in lines and "    +    \"revenue\": 1500," in lines
    assert f"warning: {path}: no test for mapped event: refund.succeeded" in lines
    assert "\x1b[" not in out

    code, out, _ = cli("test", path, "-k", "dollars")
    assert code == 0 and out.splitlines()[-1] == "1 passed, 0 failed"
    assert "warning" not in out  # coverage is not judged on a filtered run


def test_segmap_test_colour_and_io_errors(mapping_file, cli, tmp_path):
    path = mapping_file(MAPPING + "tests:\n  - name: n\n    event: refund.succeeded\n    expect_calls: 1\n")
    code, out, _ = cli("test", path, "--color", "always")
    assert code == 0 and "\x1b[1;32mPASSED\x1b[0m" in out
    assert out.splitlines()[-1] == "1 passed, 0 failed"
    code, out, err = cli("test", path, tmp_path / "missing.yaml")
    assert code == 2 and "cannot read" in err and out.splitlines()[-1] == "1 passed, 0 failed"


def test_segmap_test_with_mapping_errors_or_no_tests(mapping_file, cli):
    broken = mapping_file("""
version: 1
events:
  payment.succeeded:
    - track: X
      userId: data.customer.nope
tests:
  - name: t
    event: payment.succeeded
    expect_calls: 1
""", "broken.yaml")
    code, out, _ = cli("test", broken)
    assert code == 1
    assert "error[E203]" in out and f"FAILED {broken}::t - the mapping has errors" in out
    assert out.splitlines()[-1] == "0 passed, 1 failed"
    untested = mapping_file(MAPPING, "untested.yaml")
    code, out, _ = cli("test", untested)
    assert code == 0 and f"warning: {untested}: no tests" in out and out.splitlines()[-1] == "0 passed, 0 failed"
