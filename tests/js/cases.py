"""The conformance suite: mappings that together use every language construct,
every call kind and every function of the registry, on real snapshot paths.

Each case must pass ``segmap check``; tests/js/test_conformance.py runs each
on both targets over envelopes of all 48 event types. ``ANY(x)`` reads
``data.metadata.x`` through a dynamic index, which the checker types as
"any", so a case can feed a function values its static type would refuse
(the run-time checks are then what is being compared).
"""
from __future__ import annotations

from tests.js.bridge import Case
from tests.support.mappings import STARTER

HEAD = "version: 1\n"
DEFAULT_USER = "defaults:\n  userId: data.customer.customer_id\n"


def ANY(name: str) -> str:
    return f'data[lower("METADATA")].{name}'


LITERALS = HEAD + DEFAULT_USER + r"""
events:
  payment.succeeded:
    - track: 'Literal "quotes" \ back </script> */ ${x} 😀'
      properties:
        s1: '"double \"q\" \\ back"'
        s2: "'single \\' q'"
        s3: '"\u2028\u2029 \u0000 \ud83d\ude00 <!-- -->"'
        "key \"quoted\" </script> */": 1
        "\u2028": '"sep"'
        i: 42
        neg: -7
        f: 1.5
        nf: -0.25
        e: 1e21
        small: 1e-7
        big: 9007199254740992
        t: true
        fa: false
        nul: null
        empty: '""'
        obj: '{a: 1, "b c": [1, "x", null, true], __proto__: {constructor: 1}, toString: 2, hasOwnProperty: 3}'
        list: '[1, 2.5, "s", null, false, [], {}]'
"""

PATHS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Paths
      properties:
        first_refund: data.refunds[0]
        last_refund_id: data.refunds[-1].refund_id
        far: data.refunds[5]
        far_neg: data.refunds[-9]
        sub0: data.subscription_ids[0]
        dyn: data.subscription_ids[data.retry_attempt]
        dyn_last: data.subscription_ids[length(data.subscription_ids) - 1]
        float_idx: data.subscription_ids[1.0]
        half: data.subscription_ids[0.5]
        meta_a: data.metadata.a
        meta_dyn: data.metadata[data.payment_id]
        cust: data.customer
        env_type: type
        biz: business_id
        city: data.billing.city
        whole: data.disputes
        first_dispute_amount: data.disputes[0].amount
        cart_first_product: data.product_cart[0].product_id
        any_deep: data[lower("CUSTOMER")].metadata.x
        str_index: data[lower("PAYMENT_ID")][0]
  refund.succeeded:
    - track: Refund Paths
      properties:
        amount: data.amount
        currency: data.currency
        reason: data.reason
        meta: data.metadata
"""

OPERATORS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Operators
      properties:
        sum: data.total_amount + data.tax
        diff: data.total_amount - data.settlement_amount
        prod: data.total_amount * 3
        quot: data.total_amount / 7
        rem: data.total_amount % 7
        negrem: -data.total_amount % 7
        neg: -data.tax
        concat: data.payment_id + "-" + data.business_id
        lt: data.total_amount < 1000
        le: data.tax <= 0
        gt: data.payment_id > "pay_m"
        ge: data.customer.name >= "M"
        eq_str: data.currency == "USD"
        ne_str: '"EUR" != data.currency'
        eq_null: data.tax == null
        ne_null: null != data.tax
        eq_gen: data.total_amount == data.settlement_amount
        ne_gen: data.customer != data.billing
        eq_list: data.subscription_ids == []
        eq_obj: 'data.metadata == {}'
        and_: data.tax != null and data.tax > 0
        or_: data.tax == null or data.tax < 10
        not_: not (data.total_amount > 5)
        not_null: not data.card_type == null
        coalesce_op: data.tax ?? data.settlement_tax ?? 0
        chain: data.customer.phone_number ?? "none"
        precedence: 1 + 2 * 3 - 4 / 2 % 3
        lt_same: data.total_amount < data.total_amount
        le_same: data.total_amount <= data.total_amount
        gt_same: data.customer.name > data.customer.name
        ge_same: data.customer.name >= data.customer.name
        lt_mixed: '[data.tax < 1, data.tax <= 1, data.tax > 1, data.tax >= 1]'
        float_math: 0.1 + 0.2
  subscription.renewed:
    - track: Renewed
      properties:
        per_day: data.recurring_pre_tax_amount / data.trial_period_days
        mod_q: data.quantity % data.payment_frequency_count
        later: data.next_billing_date > data.previous_billing_date
        discount_left: data.discount_cycles_remaining ?? -1
"""

CONDITIONALS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Conditionals
      properties:
        c1: if data.tax == null then "no tax" else data.tax
        c2: if data.status == "succeeded" then 1 else if data.status == "failed" then 2 else 3
        c3: if data.customer.metadata == null then null else data.customer.metadata
        c4: if data.refund_status != null and data.refund_status == "full" then data.refunds[0] else data.refunds[9]
        field_of_cond: (if data.tax == null then data.customer else data.billing).name
        c5: if data.digital_products_delivered then "yes" else "no"
  payment.failed:
    - track: Failed
      properties:
        code: data.error_code ?? "unknown"
        msg: if data.error_message == null then data.error_code else data.error_message
"""

TEMPLATES = HEAD + DEFAULT_USER + r"""
events:
  payment.succeeded:
    - track: 'f"Paid {data.currency}"'
      properties:
        t1: 'f"{data.customer.name} <{data.customer.email}> paid {data.total_amount} {data.currency}"'
        t2: 'f"tax={data.tax} phone={data.customer.phone_number} flag={data.digital_products_delivered} big={data.total_amount * 1e20}"'
        t3: 'f"{{literal}} \"q\" \u2028 {data.payment_id}"'
        t4: 'f"{data.tax}"'
        t5: 'f"{to_major(data.total_amount, data.currency)} / {data.total_amount / 3}"'
"""

OBJECTS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Objects
      properties:
        nested:
          a: data.tax
          b:
            c: data.customer.phone_number
            d: [data.tax, data.customer.phone_number, 1]
        expr_obj: '{x: data.tax, y: data.customer.phone_number, "__proto__": data.payment_id, constructor: data.tax, toString: 1}'
        expr_list: '[data.tax, data.customer.phone_number, data.refunds[9]]'
        empty_obj: '{}'
        empty_list: '[]'
        __proto__: data.payment_id
        "0": data.tax
        "10": 1
        "2": data.card_type
      context:
        ip: data.billing.zipcode
        traits: {email: data.customer.email}
      integrations: '{All: true, "Google Analytics": data.digital_products_delivered}'
      timestamp: iso_time(data.created_at)
    - identify:
      traits: data.customer.metadata
      context: '{"__proto__": {polluted: true}}'
"""

MAPS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Maps
      properties:
        refund_ids: map(data.refunds, r => r.refund_id)
        refund_amounts: map(data.refunds, r => r.amount)
        refund_pairs: 'map(data.refunds, r => {id: r.refund_id, amount: r.amount, absent: r.amount ?? data.tax})'
        nested_map: map(data.disputes, d => [d.dispute_id, map(data.subscription_ids, s => s + d.dispute_id)])
        join_ids: join(map(data.refunds, r => r.refund_id), ",")
        discounts: map(data.discounts, d => d.discount_id)
        cart: map(data.product_cart, p => p.quantity * 2)
        first_of_map: map(data.refunds, r => r.refund_id)[0]
        outer_in_lambda: map(data.subscription_ids, s => data.payment_id)
        lambda_index: map(map(data.refunds, r => [r.refund_id, r.amount]), p => p[1])
        count: length(map(data.refunds, r => r.refund_id))
"""

TEXT_AND_LISTS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Text And Lists
      properties:
        email_domain: slice(data.customer.email, 1)
        first_refund: first(data.refunds)
        last_refund_id: last(map(data.refunds, r => r.refund_id))
        big_items: filter(data.product_cart ?? [], p => p.quantity > 1)
        units: sum(map(data.product_cart ?? [], p => p.quantity))
        cart_ids: map(filter(data.product_cart ?? [], p => contains(p.product_id, "a")), p => slice(p.product_id, 0, 6))
        has_sub: contains(data.refunds, null)
        middle: slice(data.product_cart ?? [], 1, -1)
        name_parts: split(data.customer.name, " ")
  "subscription.*":
    - track: Subscription Text
      properties:
        family: slice(type, 0, -length(last(split(type, ".")) ?? "") - 1)
        action: last(split(type, "."))
        tail: slice(type, -3)
        words: replace(replace(type, ".", " "), "_", " ")
        is_sub: starts_with(type, "subscription.")
        is_done: ends_with(type, "ed")
        has_dot: contains(type, ".")
        first_word: first(split(type, "."))
"""

CALL_KINDS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Paid Big
      when: data.total_amount > 5000
    - identify:
      when: data.customer.phone_number != null
      traits: {phone: data.customer.phone_number}
    - group:
      groupId: data.business_id
      traits: {city: data.billing.city}
    - page: Receipt
      category: '"payments"'
      properties: {url: data.invoice_url}
    - screen: Receipt Screen
      properties: {one: 1}
    - alias:
      previousId: data.customer.email
      userId: data.customer.customer_id
  payment.failed:
    - track: Failed Rarely
      when: data.total_amount > 100000000000 or data.tax == -12345
  payment.processing:
    - track: Never
      when: 'false'
    - identify:
      when: null
  payment.cancelled:
    - track: Sometimes
      when: data.error_code == null and data.tax != null
      anonymousId: data.payment_id
"""

GLOBS = HEAD + """
events:
  payment.succeeded:
    - track: Exact
      userId: data.customer.customer_id
  "payment.*":
    - track:
      event: 'f"Payment {data.status ?? ''unknown''}"'
      userId: data.customer.customer_id
  "subscription.*":
    - track: Subscription
      userId: data.customer.customer_id
      properties: {status: data.status, id: data.subscription_id}
  "dispute.*":
    - track: Dispute
      userId: data.payment_id
      properties:
        amount: number(data.amount)
        currency: data.currency
        stage: data.dispute_stage
  "*":
    - identify:
      userId: business_id
      traits: {event_type: type, at: timestamp}
"""

FUNCTIONS = HEAD + DEFAULT_USER + """
events:
  payment.succeeded:
    - track: Functions
      properties:
        major: to_major(data.total_amount, data.currency)
        major_tax: to_major(data.tax, data.currency)
        dec: decimals(data.currency)
        fixed: fixed(to_major(data.total_amount, data.currency), decimals(data.currency))
        rounded: round(data.total_amount / 3, 2)
        lower: lower(data.customer.name)
        upper: upper(data.customer.name)
        trim: trim(data.customer.email)
        iso: iso_time(timestamp)
        iso_created: iso_time(data.created_at)
        iso_updated: iso_time(data.updated_at)
        coalesce: coalesce(data.customer.phone_number, data.card_holder_name, "anon")
        coalesce1: coalesce(data.tax)
        fallback: fallback(data.payment_method, "unknown")
        string: string(data.total_amount)
        string_bool: string(data.digital_products_delivered)
        string_null: string(data.tax)
        string_float: string(data.total_amount / 7)
        length_list: length(data.refunds)
        length_str: length(data.customer.name)
        join: join(data.subscription_ids, "|")
  dispute.opened:
    - track: Dispute Functions
      userId: data.payment_id
      properties:
        amount: number(data.amount)
        cents: round(number(data.amount) * 100, 0)
        fixed3: fixed(number(data.amount), 3)
        len: length(data.remarks)
        dec: decimals(data.currency)
  subscription.active:
    - track: Sub Functions
      properties:
        major: to_major(data.recurring_pre_tax_amount, data.currency)
        next: iso_time(data.next_billing_date)
        trial: string(data.trial_period_days) + " days"
        upper_interval: upper(data.payment_frequency_interval)
"""

FAILURES = HEAD + DEFAULT_USER + f"""
events:
  payment.succeeded:
    - track: Failing
      properties:
        ok: data.payment_id
        div: data.total_amount / data.tax
        overflow: data.total_amount * 1e300 * 1e10
        mod: data.total_amount % data.tax
    - identify:
      traits: {{name: data.customer.name}}
  payment.failed:
    - track: Not An Object
      properties: '{ANY("props")}'
      context: data.customer.metadata
      integrations: 'data[lower("SUBSCRIPTION_IDS")]'
  payment.processing:
    - track: Map Of Non List
      properties:
        m: 'map({ANY("lst")}, v => v)'
  payment.cancelled:
    - track: Bad Truth
      when: '{ANY("flag")}'
  refund.succeeded:
    - track: Refund
      properties:
        major: 'to_major(data.amount, {ANY("currency")})'
        when_and: '{ANY("flag")} and data.is_partial'
        tmpl: 'f"{{data.reason}} {{{ANY("obj")}}}"'
  refund.failed:
    - track:
      event: data.refund_id
  subscription.active:
    - group:
      groupId: data.brand_id
  subscription.on_hold:
    - alias:
      previousId: data.customer.email
      userId: data.customer.customer_id
  dispute.opened:
    - track: Dispute
      userId: data.payment_id
      properties:
        amount: number(data.amount)
        iso: iso_time(data.remarks)
"""

CASES = {
    "starter": STARTER,
    "literals": LITERALS,
    "paths": PATHS,
    "operators": OPERATORS,
    "conditionals": CONDITIONALS,
    "templates": TEMPLATES,
    "objects": OBJECTS,
    "maps": MAPS,
    "text_and_lists": TEXT_AND_LISTS,
    "call_kinds": CALL_KINDS,
    "globs": GLOBS,
    "functions": FUNCTIONS,
    "failures": FAILURES,
}


def all_cases() -> list[Case]:
    return [Case(name, text, f"{name}.yaml") for name, text in CASES.items()]
