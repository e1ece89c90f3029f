"""The checks of the core issue: every problem, located, in one run."""


def found(diags):
    return [(d.code, d.span.line, d.span.col) for d in diags if d.is_error]


HEADER = "version: 1\nevents:\n"


def test_all_errors_reported_in_one_run(check_text):
    diags = check_text("""
        version: 1
        events:
          payment.succeded:
            - track: Payment Completed
              userId: data.customer.customer_id
          payment.failed:
            - track: Payment Failed
              user_id: data.customer.customer_id
              properties:
                amount: data.total_amont
                x: tofixed(data.total_amount, 2)
          refund.*:
            - identify:
              traits: {a: data.amount}
    """)
    assert found(diags) == [
        ("E201", 3, 3),   # payment.succeded
        ("E021", 8, 7),   # user_id (did you mean userId?): no second error saying the call has no userId
        ("E203", 10, 22),  # total_amont
        ("E204", 11, 12),  # tofixed
        ("E401", 13, 7),  # identify without userId
    ] or sorted(found(diags)) == sorted([
        ("E201", 3, 3), ("E021", 8, 7), ("E203", 10, 22), ("E204", 11, 12), ("E401", 13, 7)])


def test_unknown_event_did_you_mean(check_text):
    (d,) = check_text(HEADER + "  payment.succeded:\n    - track: X\n      userId: business_id\n")
    assert d.code == "E201" and d.suggestion == "payment.succeeded"


def test_glob_matching_nothing(check_text):
    (d,) = check_text(HEADER + "  subscriptions.*:\n    - track: X\n      userId: business_id\n")
    assert d.code == "E202" and d.suggestion == "subscription.*"


def test_unknown_field_with_suggestion_and_other_events(check_text):
    diags = check_text(HEADER + "  dispute.opened:\n    - track: X\n      userId: business_id\n"
                       "      properties: {c: data.customer}\n")
    (d,) = diags
    assert d.code == "E203" and (d.span.line, d.span.col) == (6, 28)
    assert any("payment.succeeded" in n for n in d.notes)


def test_path_typo_gets_did_you_mean(check_text):
    (d,) = check_text(HEADER + "  payment.succeeded:\n    - track: X\n      userId: data.customer.customer_idd\n")
    assert d.code == "E203" and d.suggestion == "customer_id"


def test_glob_rule_reports_which_events_lack_a_field(check_text):
    diags = check_text(HEADER + "  refund.*:\n    - track: X\n      userId: business_id\n      properties: {p: data.payment_id}\n"
                       "  payment.*:\n    - track: Y\n      userId: business_id\n      properties: {r: data.refund_id}\n")
    (d,) = diags
    assert d.code == "E203" and d.span.line == 10


def test_unknown_name_hints_at_quoting(check_text):
    (d,) = check_text(HEADER + "  payment.succeeded:\n    - track: X\n      userId: business_id\n      properties: {plan: pro}\n")
    assert d.code == "E206" and '"pro"' in d.hint


def test_unknown_function_and_arity(check_text):
    diags = check_text(HEADER + "  payment.succeeded:\n    - track: X\n      userId: business_id\n"
                       "      properties:\n        a: tofixed(1, 2)\n        b: fixed(1)\n        c: lower('a', 'b')\n")
    assert [(d.code, d.span.line) for d in diags] == [("E204", 7), ("E205", 8), ("E205", 9)]
    assert diags[0].suggestion == "fixed"


def test_track_without_event_name_and_group_without_group_id(check_text):
    diags = check_text(HEADER + "  payment.succeeded:\n    - track:\n      userId: business_id\n"
                       "    - group:\n      userId: business_id\n    - alias:\n      userId: business_id\n")
    assert [d.code for d in diags] == ["E402", "E403", "E403"]


def test_unknown_segment_field_did_you_mean(check_text):
    diags = check_text(HEADER + "  payment.succeeded:\n    - identify:\n      userId: business_id\n      trait: {}\n")
    (d,) = diags
    assert d.code == "E021" and d.suggestion == "traits"


def test_reserved_fields_cannot_be_mapped(check_text):
    (d,) = check_text(HEADER + "  payment.succeeded:\n    - track: X\n      userId: business_id\n      messageId: business_id\n")
    assert d.code == "E021" and "set by segmap" in d.message


def test_defaults_apply_to_every_call_and_are_checked_per_event(check_text):
    diags = check_text("""
        version: 1
        defaults:
          userId: data.customer.customer_id
        events:
          payment.succeeded:
            - track: Paid
          dispute.opened:
            - track: Disputed
    """)
    (d,) = diags
    assert d.code == "E203" and d.span.line == 3
    assert any("dispute.opened" in n for n in d.notes)


def test_unknown_top_level_key_and_missing_version(check_text):
    diags = check_text("event:\n  payment.succeeded: []\n")
    assert sorted(d.code for d in diags) == ["E010", "E011", "E012"]


def test_call_shape_errors(check_text):
    diags = check_text(HEADER + "  payment.succeeded:\n    - trak: X\n    - track: A\n      identify:\n  payment.failed: Payment Failed\n")
    assert [d.code for d in diags] == ["E020", "E020", "E010"]


def test_valid_mapping_has_no_diagnostics(check_text):
    diags = check_text("""
        version: 1
        defaults:
          userId: data.customer.customer_id
          timestamp: timestamp
        events:
          payment.succeeded:
            - track: Order Completed
              properties:
                order_id: data.payment_id
                revenue: to_major(data.total_amount, data.currency)
                currency: data.currency
                products: >-
                  map(data.product_cart ?? [], p => {product_id: p.product_id, quantity: p.quantity})
            - identify:
              traits: {email: data.customer.email, name: data.customer.name}
    """)
    assert [d for d in diags if d.is_error] == []
