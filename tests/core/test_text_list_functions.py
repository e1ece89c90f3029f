"""How the checker types the text and list functions (slice, split, filter, first, ...)."""


def _codes(diags):
    return [(d.code, d.span.line, d.span.col) for d in diags]


def _mapping(value: str, field: str = "properties:\n        r") -> str:
    quoted = "'" + value.replace("'", "''") + "'"
    return ("version: 1\nevents:\n  payment.succeeded:\n    - track: Order Completed\n"
            f"      userId: data.customer.customer_id\n      {field}: {quoted}\n")


def test_well_typed_calls_pass(check_text):
    for expr in ('slice(type, 8)', 'slice(data.product_cart ?? [], 0, -1)', 'split(data.customer.email, "@")',
                 'replace(type, ".", " ")', 'starts_with(type, "payment.")', 'ends_with(type, "ed")',
                 'contains(data.customer.email, "@")', 'contains(split(type, "."), "payment")',
                 'sum(map(data.product_cart ?? [], p => p.quantity))',
                 'filter(data.product_cart ?? [], p => p.quantity > 1)', 'first(split(type, ".")) ?? ""'):
        assert _codes(check_text(_mapping(expr))) == [], expr


def test_filter_condition_must_be_a_boolean(check_text):
    diags = check_text(_mapping("filter(data.product_cart ?? [], p => p.quantity)"))
    assert [(d.code, d.message) for d in diags] == [
        ("E301", "the condition of filter() must be true or false, but `p.quantity` is integer")]


def test_filter_needs_a_list_and_a_function(check_text):
    assert [d.code for d in check_text(_mapping("filter(type, x => true)"))] == ["E301"]
    (d,) = check_text(_mapping("filter(data.product_cart)"))
    assert d.code == "E205" and "filter(list, item => condition)" in d.message


def test_lambda_outside_map_or_filter(check_text):
    (d,) = check_text(_mapping("sum(x => 1)"))
    assert d.code == "E207" and "map() or filter()" in d.message


def test_first_of_a_list_may_be_absent(check_text):
    # an empty list has no first item: as userId that is an error, as a property a warning
    diags = check_text(_mapping("first(split(type, \".\"))", field="anonymousId"))
    assert [d.code for d in diags] == ["E303"]


def test_slice_of_a_number_is_refused(check_text):
    (d,) = check_text(_mapping("slice(data.total_amount, 1)"))
    assert d.code == "E301" and "text or a list" in d.message


def test_slice_keeps_the_list_type(check_text):
    # the slice of the cart is still a list of cart items: a field typo is found
    (d,) = check_text(_mapping("map(slice(data.product_cart ?? [], 1), p => p.quantiy)"))
    assert d.code == "E203" and d.suggestion == "quantity"


def test_unknown_function_suggests_the_new_ones(check_text):
    (d,) = check_text(_mapping("filtr(data.product_cart ?? [], p => true)"))
    assert d.code == "E204" and d.suggestion == "filter"
    (d,) = check_text(_mapping('startswith(type, "a")'))
    assert d.code == "E204" and d.suggestion == "starts_with"


def test_first_of_an_empty_list_drops_the_key():
    # first() can give missing for a list that is not missing: the generated code must know
    import segmap
    from segmap.samples import sample_envelope

    m = segmap.compile_source(_mapping("first(data.refunds)"))
    env = sample_envelope("payment.succeeded")
    env["data"]["refunds"] = []
    (call,) = m.apply(env)
    assert call.body["properties"] == {}
    env["data"]["refunds"] = [{"refund_id": "r1"}, {"refund_id": "r2"}]
    (call,) = m.apply(env)
    assert call.body["properties"] == {"r": {"refund_id": "r1"}}


def test_contains_of_text_needs_text(check_text):
    (d,) = check_text(_mapping("contains(data.customer.email, data.total_amount)"))
    assert d.code == "E301" and "looks for text in text" in d.message
    assert _codes(check_text(_mapping("contains(data.product_cart ?? [], data.total_amount)"))) == []
