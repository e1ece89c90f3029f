"""The optimised generated code means exactly what the naive reading of the mapping means.

Every optimisation of the Python generator (fast path with a general
fallback, constant folding, shared sub-expressions, inlined helpers, the
``fixed(n / 10**j, k)`` shortcut, Calls built with ``tuple.__new__``, lazily
compiled cold paths) is checked here against ``reference.py``, a naive
interpreter that calls the run-time helpers for every node, on SDK-valid
envelopes and on envelopes broken on purpose (keys removed, values replaced
by null or by values of the wrong type, exactly where the mapping reads).
Same calls (type-exact, key order included), or the same failure at the same
location. Timings live in bench/, never here.
"""
import copy
import pickle
import re
import warnings

import orjson

from segmap.runtime import jsjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import segmap
from segmap.compiler import paths
from segmap.compiler.wording import path_text
from segmap.dsl import ast
from segmap.runtime import functions as F
from segmap.runtime.calls import Call, tuple_new
from segmap.runtime.values import MISSING, MappingRuntimeError
from segmap.samples import sample_envelope
from segmap.testing.strategies import envelopes

from .mappings import CONSTANT, RICH
from .reference import reference_for

RICH_TYPES = ["payment.succeeded", "subscription.active", "subscription.cancelled", "refund.succeeded",
              "dispute.opened", "payout.created"]

# Replacement values: wrong types, nulls, numbers at the edges of the fast paths.
ODD_VALUES = [
    MISSING, None, True, False, 0, -1, 7, 12.5, -0.0, 1e21, 2**53, 2**53 + 1, -(2**53), 2**63 - 1,
    45035996273703, 45035996273704, -45035996273703, -45035996273704, 4503599627370, 4503599627369,
    "", "abc", "USD", "JPY", "KWD", "XXX", "1999", "  x  ", "card", [], [1, "x"], [{"product_id": "p", "quantity": 2}],
    {}, {"product_id": "p"}, {"customer_id": None},
]


@pytest.fixture(scope="module")
def rich():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the generated source compiles without SyntaxWarnings
        return segmap.compile_source(RICH, "rich.yaml")


def _paths(compiled, event):
    """Every envelope path (and prefix) the mapping reads for ``event``."""
    out = set()
    for pc in compiled.check.plan.calls.get(event, ()):
        exprs = [f.value for f in pc.fields] + ([pc.spec.when] if pc.spec.when else [])
        for e in exprs:
            for node in ast.walk(e):
                sp = paths.static_path(node)
                if sp is not None and sp[0] in paths.ENVELOPE_ROOTS:
                    keys = (sp[0],) + sp[1]
                    for i in range(1, len(keys) + 1):
                        out.add(keys[:i])
    return sorted(out, key=lambda k: (len(k), repr(k)))


def _set(env, path, value):
    cur = env
    for k in path[:-1]:
        if type(cur) is dict and type(k) is str:
            cur = cur.get(k)
        elif type(cur) is list and type(k) is int and -len(cur) <= k < len(cur):
            cur = cur[k]
        else:
            return
    k = path[-1]
    if type(cur) is dict and type(k) is str:
        if value is MISSING:
            cur.pop(k, None)
        else:
            cur[k] = copy.deepcopy(value)
    elif type(cur) is list and type(k) is int and -len(cur) <= k < len(cur):
        cur[k] = None if value is MISSING else copy.deepcopy(value)


def outcome(fn, env):
    try:
        calls = fn(copy.deepcopy(env))
    except MappingRuntimeError as exc:
        return ("error", exc.message, exc.location)
    return ("ok", [(type(c).__name__, c.call, repr(c.body), c.origin) for c in calls])


def assert_same(compiled, env):
    ref = reference_for(compiled)
    got = outcome(compiled.apply, env)
    want = outcome(ref.apply, env)
    assert got == want, env
    if got[0] == "ok":
        for c in compiled.apply(copy.deepcopy(env)):
            jsjson.dumps(c.body, normalized=True)  # no MISSING left anywhere, all JSON, numbers in their JS form
            assert jsjson.dumps(c.body, normalized=True) == jsjson.dumps(c.body)  # normalized: nothing left to do
    try:
        raw = orjson.dumps(env)
    except TypeError:  # an integer beyond 64 bits: not something JSON text reaches apply_json_bytes with
        return
    assert bytes_outcome(compiled, raw) == got_bytes(got, compiled, env), env


def bytes_outcome(compiled, raw):
    """apply_json_bytes on the envelope's JSON (its JSON twins build the dicts, not apply)."""
    try:
        return ("ok", compiled.apply_json_bytes(raw))
    except MappingRuntimeError as exc:
        return ("error", exc.message, exc.location)


def got_bytes(got, compiled, env):
    """What apply_json_bytes must give, from apply's outcome: its calls' to_json(), or the same failure."""
    if got[0] == "error":
        return got
    calls = [c.to_json() for c in compiled.apply(copy.deepcopy(env))]
    return ("ok", jsjson.dumps(calls, normalized=True))


@st.composite
def broken_envelopes(draw, compiled, types):
    env = draw(envelopes(types))
    paths = _paths(compiled, env["type"])
    for _ in range(draw(st.integers(0, 3))):
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if path == ("type",):
            continue
        _set(env, path, draw(st.sampled_from(ODD_VALUES)))
    return env


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_optimised_code_agrees_with_the_naive_reading(rich, data):
    env = data.draw(broken_envelopes(rich, RICH_TYPES))
    assert_same(rich, env)


def test_samples_agree_on_every_variant(rich):
    for t in RICH_TYPES:
        for v in range(6):
            assert_same(rich, sample_envelope(t, variant=v))


@pytest.mark.parametrize("path", [("data",), ("data", "customer"), ("data", "customer", "customer_id"),
                                  ("data", "total_amount"), ("data", "product_cart"), ("timestamp",)])
@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_every_odd_value_on_the_main_paths(rich, path, value):
    env = sample_envelope("payment.succeeded")
    _set(env, path, value)
    assert_same(rich, env)


def test_errors_are_located_on_the_fast_and_the_general_path(rich):
    env = sample_envelope("payment.succeeded")
    env["data"]["currency"] = "XXX"  # to_major fails; every path present: the fast path
    with pytest.raises(MappingRuntimeError) as fast:
        rich.apply(copy.deepcopy(env))
    del env["data"]["customer"]["email"]  # a required key absent: the general path
    with pytest.raises(MappingRuntimeError) as general:
        rich.apply(env)
    assert fast.value.location == general.value.location == "rich.yaml:12:24"
    assert "XXX" in fast.value.message


def test_unusual_envelopes_take_the_general_path_and_it_is_compiled_on_first_use():
    m = segmap.compile_source(RICH, "rich.yaml")
    fast = m._dispatch["payment.succeeded"]
    ns = fast.__globals__
    (general,) = [n for n in fast.__code__.co_names if re.fullmatch(r"_g\d+", n)]
    assert "_lazy" in ns[general].__code__.co_names  # a stub until an envelope needs it
    env = sample_envelope("payment.succeeded")
    m.apply(copy.deepcopy(env))
    assert "_lazy" in ns[general].__code__.co_names  # a usual envelope stays on the fast path
    env["data"]["customer"]["email"] = None
    del env["data"]["payment_id"]  # required: the general path
    calls = m.apply(copy.deepcopy(env))
    assert "_lazy" not in ns[general].__code__.co_names
    assert calls[1].body["traits"]["email"] is None and "folded_null" not in calls[0].body["properties"]
    assert_same(m, env)


def test_the_whole_source_compiles_cleanly_general_paths_included(rich):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(rich.source, "rich", "exec")
        compile(segmap.compile_source(CONSTANT).source, "constant", "exec")


def test_constant_objects_are_fresh_per_call_and_per_envelope(rich):
    env = sample_envelope("payment.succeeded")
    env["data"]["total_amount"] = 999999
    calls = rich.apply(copy.deepcopy(env))
    identify, big = calls[1], calls[2]
    assert big.body["event"] == "Big Payment"
    assert identify.body["traits"]["const_obj"] == big.body["properties"]["const_obj"]
    assert identify.body["traits"]["const_obj"] is not big.body["properties"]["const_obj"]
    identify.body["traits"]["const_obj"]["z"][1]["w"] = "changed"
    again = rich.apply(copy.deepcopy(env))
    assert again[1].body["traits"]["const_obj"] == {"x": 1, "y": "two", "z": [1, {"w": None}]}
    products = again[0].body["properties"]["products_obj"]
    if len(products) > 1:
        assert products[0]["k"] is not products[1]["k"]


def test_constant_mapping_is_folded_and_has_no_fast_path():
    m = segmap.compile_source(CONSTANT, "c.yaml")
    assert "6 * 7" not in m.source and "42 keys" in m.source and "try:" not in m.source
    (call,) = m.apply(sample_envelope("license_key.created"))
    assert call.body == {"event": "Key Created", "userId": "system",
                         "properties": {"n": 42, "s": "42 keys", "o": {"a": [1, 2], "b": {"c": "d"}}}}
    call.body["properties"]["o"]["a"].append(3)
    assert m.apply(sample_envelope("license_key.created"))[0].body["properties"]["o"]["a"] == [1, 2]


def test_repeated_expressions_are_computed_once(rich):
    payment = [fn for fn in rich.source.split("\n\n\n") if "'Order Completed'" in fn and "try:" in fn][0]
    total = re.search(r"(_p\d+) = _p1\['total_amount'\]", payment).group(1)
    # fixed(data.total_amount / 100, 2) is written five times in payment.succeeded's calls, two of them
    # inside templates and one inside a `when:` block: computed once, before any of them
    assert payment.count(f"'%.2f' % ({total} / 100)") == 1
    # settlement_amount's is first computed inside a `when:` block, so the next block computes it again
    assert payment.count("/ 100)") == 4


# --- the fixed(n / 10**j, k) shortcut ---------------------------------------

@pytest.mark.parametrize("j,k", [(0, 0), (0, 2), (1, 2), (2, 2), (2, 3), (3, 3), (2, 6)])
@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_printf_agrees_with_tofixed_below_the_bound(j, k, data):
    bound = 2**52 // 10**k
    n = data.draw(st.one_of(st.integers(-bound + 1, bound - 1), st.sampled_from([0, 1, -1, bound - 1, -bound + 1]),
                            st.integers(-10**6, 10**6).map(lambda x: x * 5)))
    assert f"%.{k}f" % (n / 10**j) == F.fixed(F.div(n, 10**j), k)


def test_halfway_quotients_are_left_to_the_helper():
    # 1/8 is exactly halfway at two decimals: printf rounds to even, toFixed up; never on the shortcut
    assert "%.2f" % 0.125 == "0.12" and F.fixed(0.125, 2) == "0.13"
    m = segmap.compile_source(RICH, "rich.yaml")
    env = sample_envelope("payment.succeeded")
    env["data"]["total_amount"] = 1  # not_fused: fixed(1 / 8, 2)
    assert m.apply(env)[0].body["properties"]["not_fused"] == "0.13"


# --- Call ------------------------------------------------------------------------

def test_call_keeps_its_interface():
    c = Call("track", {"event": "E"}, "m.yaml:1:1")
    d = Call("track", {"event": "E"})
    k = Call("track", {"event": "E"}, origin="m.yaml:9:9")
    assert (c.call, c.body, c.origin, d.origin) == ("track", {"event": "E"}, "m.yaml:1:1", "")
    assert c == d == k and not (c != d) and c != Call("identify", {"event": "E"})
    assert c != ("track", {"event": "E"}, "m.yaml:1:1")  # a Call equals Calls only
    assert c.to_json() == {"call": "track", "body": {"event": "E"}}
    assert repr(c) == "Call(call='track', body={'event': 'E'}, origin='m.yaml:1:1')"
    for attr in ("call", "body", "origin", "other"):
        with pytest.raises(AttributeError):
            setattr(c, attr, "x")
    with pytest.raises(TypeError):
        hash(c)  # the body is a dict
    assert hash(Call("track", "frozen")) == hash(Call("track", "frozen", "o"))
    with pytest.raises(TypeError):
        c < d  # noqa: B015 - calls have no order
    back = pickle.loads(pickle.dumps(c))
    assert back == c and back.origin == c.origin and type(back) is Call
    assert copy.deepcopy(c) == c == copy.copy(c) and copy.copy(c).origin == c.origin
    fast = tuple_new(Call, ("track", {"event": "E"}, "m.yaml:1:1"))
    assert type(fast) is Call and fast == c and fast.origin == c.origin


# --- bytes in, bytes out ---------------------------------------------------------

def test_apply_json_is_apply_of_the_parsed_envelope(rich):
    for t in RICH_TYPES + ["license_key.created"]:
        env = sample_envelope(t, variant=3)
        raw = orjson.dumps(env)
        assert rich.apply_json(raw) == rich.apply(env)
        assert [c.origin for c in rich.apply_json(raw)] == [c.origin for c in rich.apply(env)]
        assert orjson.loads(rich.apply_json_bytes(raw)) == [c.to_json() for c in rich.apply(env)]
        assert rich.apply_json(raw.decode()) == rich.apply(env)
    assert rich.apply_json_bytes(orjson.dumps(sample_envelope("license_key.created"))) == b"[]"


@pytest.mark.parametrize("raw", [b"", b"{", b"nope", b'{"type": "payment.succeeded", "x": 1e400}',
                                 b'{"type": "payment.succeeded", "x": "\xff"}'])
def test_apply_json_rejects_what_is_not_json(rich, raw):
    with pytest.raises(MappingRuntimeError, match="not valid JSON"):
        rich.apply_json(raw)
    with pytest.raises(MappingRuntimeError, match="not valid JSON"):
        rich.apply_json_bytes(raw)


def test_apply_json_fails_like_apply(rich):
    for raw in (b"[]", b'"x"', b"{}", b'{"type": "payment.succeeded", "data": null}'):
        with pytest.raises(MappingRuntimeError) as a:
            rich.apply_json(raw)
        with pytest.raises(MappingRuntimeError) as b:
            rich.apply(orjson.loads(raw))
        assert (a.value.message, a.value.location) == (b.value.message, b.value.location)


def test_json_twins_are_compiled_on_first_use_and_stay_compiled(rich):
    m = segmap.compile_source(RICH, "rich.yaml")
    twin = m._entry.json_dispatch["payment.succeeded"]
    assert "_lazy" in twin.__code__.co_names  # a stub until apply_json_bytes needs it
    raw = orjson.dumps(sample_envelope("payment.succeeded"))
    first = m.apply_json_bytes(raw)
    assert "_lazy" not in twin.__code__.co_names  # the dispatch table's entry now runs the compiled twin
    assert m.apply_json_bytes(raw) == first == jsjson.dumps([c.to_json() for c in m.apply(orjson.loads(raw))])
    # the twins of events sharing a rule are one function, as apply's are
    shared = {e: f for e, f in m._entry.json_dispatch.items() if e.startswith("subscription.")}
    assert len(set(map(id, shared.values()))) == len({id(m._dispatch[e]) for e in shared})


def test_apply_json_bytes_of_a_module_without_json_twins():
    """A module exported by a segmap from before the JSON twins still gets apply_json_bytes (from apply)."""
    from segmap.runtime.entry import bind

    from segmap.compiler.api import export_python

    source = export_python(RICH, "rich.yaml")
    head, _, tail = source.partition("\nJSON_DISPATCH = {")
    assert tail
    source = head + "\n" + tail.split("}\n", 1)[1]
    ns: dict = {"__name__": "old_export"}
    exec(compile(source.replace("apply, apply_json, apply_json_bytes = _bind(globals())", ""), "old", "exec"), ns)
    assert "JSON_DISPATCH" not in ns
    apply, _, apply_json_bytes = bind(ns)
    for t in RICH_TYPES + ["license_key.created"]:
        env = sample_envelope(t, variant=2)
        assert apply_json_bytes(orjson.dumps(env)) == jsjson.dumps([c.to_json() for c in apply(env)])
    with pytest.raises(MappingRuntimeError, match="must be a string"):
        apply_json_bytes(b'{"type": 7}')


def test_identity_path_text_helper_is_what_messages_use():
    assert path_text(ast.Name("data", None)) == "data"


def test_apply_is_a_closure_but_behaves_as_the_method(rich):
    env = sample_envelope("payment.succeeded")
    assert type(rich).apply(rich, copy.deepcopy(env)) == rich.apply(copy.deepcopy(env))
    assert rich.apply.__doc__ == type(rich).apply.__doc__
    assert rich.apply(sample_envelope("license_key.created")) == []
    a, b = rich.apply(sample_envelope("license_key.created")), rich.apply(sample_envelope("license_key.created"))
    assert a is not b  # a fresh list for every unmapped envelope
    with pytest.raises(MappingRuntimeError, match="JSON object"):
        rich.apply([])
    with pytest.raises(MappingRuntimeError, match="no `type`"):
        rich.apply({})


@pytest.fixture(scope="module")
def large():
    """The benchmark's generated mapping of all 48 event types."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "bench_mapping.py"
    spec = importlib.util.spec_from_file_location("bench_mapping_for_tests", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return segmap.compile_source(bench.large_mapping_text(), "large.yaml")




@pytest.mark.parametrize("inner", ["coalesce(0, data.activations_limit)", "coalesce(1.5, data.activations_limit)",
                                   'coalesce("x", data.activations_limit)', "coalesce(true, data.activations_limit)",
                                   "coalesce(null, 7, data.activations_limit)"])
def test_string_of_a_constant_inside_what_does_not_fold(inner):
    """string() of a value that is constant although its expression reads the envelope (found by
    tests/js/test_random_mappings.py: the inlined form once wrote `0.__class__`, which does not parse)."""
    text = ("version: 1\nevents:\n  license_key.created:\n    - track: E\n      userId: business_id\n"
            f"      properties:\n        f0: '{inner}'\n        f1: 'string({inner})'\n")
    m = segmap.compile_source(text, "c.yaml")
    for v in range(3):
        assert_same(m, sample_envelope("license_key.created", variant=v))


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize("path", [("data", "subscription_id"), ("data", "product_id"), ("data", "customer", "email"),
                                  ("data", "customer", "customer_id"), ("timestamp",)])
def test_one_odd_value_beside_a_boolean_leaves_the_fast_path(path, flag):
    """The fast version tests every value it passes through at once (`x is True or x is False` among
    them, parenthesised: found by the large mapping's broken envelopes); a whole float where text was
    expected must still come out as JavaScript prints it."""
    from segmap.cli.cmd_init import starter_text

    m = segmap.compile_source(starter_text(), "segmap.yaml")
    env = sample_envelope("subscription.cancelled")
    env["data"]["cancel_at_next_billing_date"] = flag
    _set(env, path, 5.0)
    assert_same(m, env)


@pytest.fixture(scope="module")
def every():
    """bench/all_events.yaml: every event type, number() and to_major() of values that are also passed as
    they are (the currency), so the fast version's inlined helpers know them to be text."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "bench" / "all_events.yaml").read_text(encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return segmap.compile_source(text, "all_events.yaml")


@pytest.fixture(params=["large", "every"])
def big(request):
    """Both 48-event mappings: bench_mapping's generated one and bench/all_events.yaml."""
    return request.getfixturevalue(request.param)


def test_48_event_mappings_agree_on_every_event_type(big):
    from segmap.compiler.types import event_types

    for t in event_types():
        for v in (0, 1, 5):
            assert_same(big, sample_envelope(t, variant=v))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_48_event_mappings_agree_on_broken_envelopes(big, data):
    assert_same(big, data.draw(broken_envelopes(big, None)))


# number() of text: ASCII digits (at most 15) are int() on the fast path, everything else the helper
NUMBER_TEXTS = ["0", "7", "007", "000000000000000", "999999999999999", "9999999999999999", "9007199254740993",
                "1" * 400, "", " 12", "12 ", "+5", "-5", "12.5", "12.", ".5", "1e3", "1_0", "\u0663", "\uff11\uff12",
                "\u00b2", "0x10", "Infinity", "nan", 12, 12.5, None, MISSING, True, [], {}]


@pytest.mark.parametrize("text", NUMBER_TEXTS, ids=repr)
def test_number_of_text_on_the_fast_path(rich, every, text):
    for compiled, event in ((rich, "dispute.opened"), (every, "dispute.opened"), (every, "credit.added"),
                            (every, "credit.balance_low")):
        env = sample_envelope(event)
        for key in ("amount", "balance_after", "available_balance"):
            if key in env["data"]:
                _set(env, ("data", key), text)
        assert_same(compiled, env)


# to_major() of whole amounts at the edges of the inlined form (|n| < 2**53), in every exponent's currency
# and in codes that are not currencies, with the currency passed as it is (all_events.yaml) or not (RICH)
MAJOR_AMOUNTS = [0, 1, -1, 5, 99, 100, 101, 999, 1000, 1001, -1999, 2**53 - 1, -(2**53 - 1), 2**53 - 999,
                 2**53 - 1000, 2**53, -(2**53), 2**53 + 1, 2**63, 12.0, 12.5, "100", None, True]


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "XXX", "usd", None, 5, [], MISSING], ids=repr)
def test_to_major_at_the_edges_of_the_fast_path(rich, every, currency):
    for amount in MAJOR_AMOUNTS:
        for compiled, event, key in ((rich, "subscription.active", "recurring_pre_tax_amount"),
                                     (every, "subscription.active", "recurring_pre_tax_amount"),
                                     (every, "payout.created", "amount"), (rich, "refund.succeeded", "amount")):
            env = sample_envelope(event)
            _set(env, ("data", key), amount)
            _set(env, ("data", "currency"), currency)
            assert_same(compiled, env)


@pytest.mark.parametrize("amount, currency", [(None, "USD"), (500, None), (500, MISSING), (None, None), (500, "KWD")],
                         ids=repr)
def test_a_when_that_rules_out_null_keeps_null_envelopes_on_the_fast_path(amount, currency):
    """refund.*'s call has `when: data.amount != null and data.currency != null` and passes the currency
    as it is: inside the call the checker knows it is text, but the test of passed values comes before
    the `when`, so it lets null and absence through (as the schema does) and an envelope the `when`
    skips stays on the fast path. Same result as the naive reading either way."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "bench" / "all_events.yaml").read_text(encoding="utf-8")
    m = segmap.compile_source(text, "all_events.yaml")
    fast = m._dispatch["refund.succeeded"]
    (general,) = [n for n in fast.__code__.co_names if re.fullmatch(r"_g\d+", n)]
    env = sample_envelope("refund.succeeded")
    _set(env, ("data", "amount"), amount)
    _set(env, ("data", "currency"), currency)
    assert_same(m, env)
    assert "_lazy" in fast.__globals__[general].__code__.co_names  # never needed the general function
    assert (m.apply(env) == []) == (amount is None or currency in (None, MISSING))


# integer +, - and * inlined for operands below 2**53: results at and beyond 2**53 become the nearest double
ARITH_PAIRS = [(2**53 - 1, 1), (2**53 - 1, -1), (-(2**53 - 1), 1), (-(2**53 - 1), -1), (2**53 - 1, 2**53 - 1),
               (2**30 - 1, 1), (-(2**30 - 1), -1), (2**30, 2**30), (2**53, 0), (0, 2**53), (5, None), (5, 2.5),
               (5, True), ("5", 1), (1999, 2**52 + 1)]


@pytest.mark.parametrize("a, b", ARITH_PAIRS, ids=repr)
def test_integer_arithmetic_at_the_edges_of_the_fast_path(rich, every, a, b):
    for compiled in (rich, every):
        env = sample_envelope("payment.succeeded")
        _set(env, ("data", "total_amount"), a)
        _set(env, ("data", "tax"), b)
        assert_same(compiled, env)
    env = sample_envelope("subscription.active")
    _set(env, ("data", "quantity"), a)
    assert_same(rich, env)  # data.quantity * 2, -data.quantity, data.quantity % 2 == 1


def test_mapping_text_that_looks_like_generated_code_is_left_alone():
    """The mapping's own text that looks like a class test of the generated code, in string
    literals and templates, reaches the body as written."""
    text = ("version: 1\nevents:\n  subscription.active:\n    - track: Started\n"
            "      userId: data.customer.customer_id\n      properties:\n"
            "        note: '\"x.__class__ is str\"'\n"
            "        label: f\"{data.status} it's .__class__ is int\"\n"
            "        quoted: f\"{data.status} say 'y.__class__ is str'\"\n")
    m = segmap.compile_source(text, "c.yaml")
    env = sample_envelope("subscription.active")
    (call,) = m.apply(copy.deepcopy(env))
    status = env["data"]["status"]
    assert call.body["properties"] == {"note": "x.__class__ is str", "label": f"{status} it's .__class__ is int",
                                       "quoted": f"{status} say 'y.__class__ is str'"}
    assert_same(m, env)
