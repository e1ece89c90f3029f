"""The data side of mapping tests: YAML scalars as JSON, strict comparison, envelope paths."""
import pytest

from segmap.authoring import paths as P
from segmap.authoring.values import align_like, compare, json_equal, prune_like, to_json
from segmap.dsl.yaml_source import load_yaml


def yaml_value(text):
    node, diags = load_yaml("v: " + text, "t.yaml")
    assert not diags
    return to_json(node.get("v"))


@pytest.mark.parametrize("text, value", [
    ("500", 500), ("-3", -3), ("54.98", 54.98), ("1e3", 1000.0), ("0x1F", 31), ("0o17", 15),
    ("true", True), ("False", False), ("null", None), ("~", None), ("", None),
    ("USD", "USD"), ('"500"', "500"), ("'true'", "true"), ("yes", "yes"), ("2025-01-01", "2025-01-01"),
    ("2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), ("[1, a, null]", [1, "a", None]),
    ("{a: 1, b: {c: x}}", {"a": 1, "b": {"c": "x"}}),
])
def test_yaml_data_reads_as_json_with_the_core_schema(text, value):
    got = yaml_value(text)
    assert json_equal(got, value) and type(got) is type(value)


def test_json_equality_keeps_bools_and_numbers_apart():
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal(0, False)
    assert not json_equal(None, "null")
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1.0, {"b": None}]})
    assert not json_equal({"a": 1}, {"a": 1, "b": 2})


def test_partial_compare_is_a_recursive_subset():
    actual = {"event": "X", "properties": {"a": 1, "b": [{"c": 1, "d": 2}], "e": None}}
    assert compare({"properties": {"b": [{"c": 1}]}}, actual, partial=True) == []
    assert compare({}, actual, partial=True) == []
    (m,) = compare({"properties": {"b": [{"c": 2}]}}, actual, partial=True)
    assert m.path == "properties.b[0].c" and m.expected == 2 and m.actual == 1
    (m,) = compare({"properties": {"zz": None}}, actual, partial=True)
    assert m.missing and "absent" in m.describe()
    # lists keep their length even in partial mode
    (m,) = compare({"properties": {"b": []}}, actual, partial=True)
    assert "length" in m.path


def test_full_compare_reports_extra_keys():
    out = compare({"a": 1}, {"a": 1, "b": 2}, partial=False)
    assert [m.path for m in out] == ["b"] and out[0].extra


def test_prune_and_align_keep_diffs_focused():
    actual = {"z": 1, "a": {"x": 1, "y": 2}, "b": 3}
    expected = {"a": {"y": 0}, "z": 0}
    assert prune_like(actual, expected) == {"a": {"y": 2}, "z": 1}
    assert list(align_like(actual, expected)) == ["a", "z", "b"]


@pytest.mark.parametrize("text, segs", [
    ("data.customer.email", ("data", "customer", "email")),
    ("data.product_cart[0].quantity", ("data", "product_cart", 0, "quantity")),
    ("data.product_cart.1.quantity", ("data", "product_cart", 1, "quantity")),
    ('data.metadata["a.b"]', ("data", "metadata", "a.b")),
    ("timestamp", ("timestamp",)),
])
def test_parse_path(text, segs):
    assert P.parse_path(text) == segs
    assert P.parse_path(P.format_path(segs)) == segs


@pytest.mark.parametrize("bad", ["", " data", "data..x", "data.", ".data", "data[0", "data[0]x"])
def test_parse_path_rejects(bad):
    with pytest.raises(P.PathError):
        P.parse_path(bad)


def test_check_path_against_the_event_model():
    assert P.check_path("payment.succeeded", P.parse_path("data.customer.email")) is None
    assert P.check_path("payment.succeeded", P.parse_path("data.product_cart[0].quantity")) is None
    assert P.check_path("payment.succeeded", P.parse_path("data.metadata.anything")) is None  # a dict
    msg, sug = P.check_path("payment.succeeded", P.parse_path("data.totl_amount"))
    assert "totl_amount" in msg and sug == "data.total_amount"
    msg, _ = P.check_path("payment.succeeded", P.parse_path("data.total_amount.x"))
    assert "has no fields" in msg
    msg, _ = P.check_path("payment.succeeded", P.parse_path("data.product_cart.quantity"))
    assert "[0]" in msg
    # a field of another event is not on this one
    assert P.check_path("dispute.opened", P.parse_path("data.customer")) is not None


def test_set_and_unset():
    env = {"data": {"a": None, "items": [{"q": 1}], "k": 1}}
    P.set_path(env, ("data", "a", "b"), 5)  # a null object on the way becomes {}
    P.set_path(env, ("data", "items", 0, "q"), 3)
    P.set_path(env, ("data", "new", "deep"), True)
    assert env["data"]["a"] == {"b": 5} and env["data"]["items"] == [{"q": 3}] and env["data"]["new"] == {"deep": True}
    with pytest.raises(P.PathError, match="1 item"):
        P.set_path(env, ("data", "items", 4, "q"), 1)
    with pytest.raises(P.PathError, match="not an object"):
        P.set_path(env, ("data", "k", "x"), 1)
    assert P.unset_path(env, ("data", "k")) and "k" not in env["data"]
    assert not P.unset_path(env, ("data", "nothing", "here"))
    assert P.unset_path(env, ("data", "items", 0)) and env["data"]["items"] == []
