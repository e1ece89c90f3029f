"""Expression parsing: the AST shape, spans, and located syntax errors."""
import pytest

from segmap.diagnostics.model import Span
from segmap.dsl import ast
from segmap.dsl.expressions import parse_scalar
from segmap.dsl.yaml_source import YScalar


def parse(text: str):
    expr, diags = parse_scalar(YScalar(text, Span("f.yaml", 1, 1), None))
    return expr, diags


def ok(text: str):
    expr, diags = parse(text)
    assert diags == [], diags
    return expr


def test_path_with_quoted_key_and_index():
    e = ok('data["odd key"][0].x')
    assert isinstance(e, ast.Field) and e.name == "x"
    assert isinstance(e.obj, ast.Index) and e.obj.index.value == 0
    assert isinstance(e.obj.obj, ast.Field) and e.obj.obj.name == "odd key"


def test_precedence_coalesce_is_lowest_binary():
    e = ok("a ?? b + 1")
    assert isinstance(e, ast.Binary) and e.op == "??"
    assert isinstance(e.right, ast.Binary) and e.right.op == "+"


def test_arithmetic_precedence_and_negative_literal_folding():
    e = ok("-1 * 2 - 3")
    assert e.op == "-" and e.left.op == "*" and e.left.left.value == -1


def test_boolean_precedence():
    e = ok("not a and b or c")
    assert e.op == "or" and e.left.op == "and" and isinstance(e.left.left, ast.Unary)


def test_conditional_and_comparison():
    e = ok('if data.status == "succeeded" then 1 else 0')
    assert isinstance(e, ast.Cond) and e.test.op == "=="


def test_literals():
    assert ok('"a\\nb"').value == "a\nb"
    assert ok("'it\\'s'").value == "it's"
    assert ok("1.5").value == 1.5 and ok("2.0").value == 2 and ok("true").value is True and ok("null").value is None


def test_template_parts_and_spans():
    e = ok('f"Order {data.id} ({x ?? "n/a"}) {{literal}}"')
    assert isinstance(e, ast.Template)
    assert e.parts[0] == "Order " and isinstance(e.parts[1], ast.Field) and e.parts[-1] == ") {literal}"
    assert e.parts[1].span.col == 10  # data.id starts at column 10


def test_template_without_holes_is_a_literal():
    assert ok('f"plain"').value == "plain"


def test_map_with_lambda_and_object_literal():
    e = ok("map(data.product_cart, p => {product_id: p.product_id, 'q x': p.quantity})")
    assert isinstance(e, ast.Call) and e.func == "map"
    lam = e.args[1]
    assert isinstance(lam, ast.Lambda) and lam.param == "p"
    assert [en.key for en in lam.body.entries] == ["product_id", "q x"]


def test_keywords_allowed_as_field_names():
    e = ok("data.if.then")
    assert e.name == "then" and e.obj.name == "if"


def test_spans_point_at_sub_expressions():
    e = ok("fixed(data.total_amount / 100, 2)")
    div = e.args[0]
    assert (div.span.col, div.span.end_col) == (7, 30)
    assert (div.op_span.col, div.op_span.end_col) == (25, 26)


@pytest.mark.parametrize("text,col,needle", [
    ("Payment Completed", 9, "unexpected name `Completed`"),
    ("data.x ??", 9, "ends too early"),
    ("1 +* 2", 4, "unexpected `*`"),
    ("a # b", 3, "unexpected character `#`"),
    ("012", 2, "unexpected"),
])
def test_syntax_errors_are_located(text, col, needle):
    expr, diags = parse(text)
    assert expr is None and len(diags) == 1
    d = diags[0]
    assert d.code == "E101" and needle in d.message and d.span.col == col
    assert d.notes and d.notes[0].startswith("expected")


def test_unquoted_text_gets_the_quoting_hint():
    _, diags = parse("Payment Completed")
    assert "quoted" in diags[0].hint


def test_bad_escape_is_a_syntax_error():
    expr, diags = parse('"a\\q"')
    assert expr is None and diags[0].code == "E101"


@pytest.mark.parametrize("text", ["(" * 40 + "1" + ")" * 40, "1" + "+1" * 3000, "-" * 500 + "1", "not " * 300 + "true"])
def test_deep_or_long_expressions_are_bounded(text):
    expr, diags = parse(text)
    assert expr is None and [d.code for d in diags] == ["E005"]


def test_comma_in_yaml_flow_mapping_gets_a_hint(check_text):
    diags = check_text("version: 1\nevents:\n  payment.succeeded:\n    - track: X\n      userId: business_id\n"
                       "      properties: {revenue: to_major(data.total_amount, data.currency)}\n")
    assert diags[0].code == "E101" and "flow mapping" in diags[0].hint


def test_oversized_number_is_underlined_alone():
    expr, diags = parse("1 + 1e400")
    assert expr is None and [(d.code, d.span.col, d.span.end_col) for d in diags] == [("E101", 5, 10)]
