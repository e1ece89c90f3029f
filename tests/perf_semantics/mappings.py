"""Mappings that exercise every optimisation of the Python generator."""

# Every construct, with the shapes the generator treats specially: repeated
# sub-expressions (in and out of `when:` blocks), constants of every kind,
# fixed(n / 10**j, k), inlined helpers with constant and path arguments,
# lazy `??`/`and`/`or`/`if`, map() with a constant object in its body,
# a constant list index, identity alternatives, alias and group calls.
RICH = r"""
version: 1
defaults:
  userId: data.customer.customer_id
events:
  payment.succeeded:
    - track: Order Completed
      properties:
        revenue: fixed(data.total_amount / 100, 2)
        revenue3: fixed(data.total_amount / 1000, 3)
        revenue_tenths: fixed(data.total_amount / 10, 2)
        revenue_major: to_major(data.total_amount, data.currency)
        fixed_int: fixed(data.tax ?? 0, 2)
        fixed_zero: fixed(data.tax ?? 0, 0)
        tax_text: fixed(data.tax / 100, 2)
        not_fused: fixed(data.total_amount / 8, 2)
        folded: 1 + 2 * 3
        folded_text: f"{1 + 1} items"
        folded_fixed: fixed(1999 / 100, 2)
        folded_cond: 'if 1 < 2 then "yes" else data.payment_id'
        folded_null: 'null ?? data.payment_id'
        folded_and: 'false and data.tax > 1'
        cur: fallback(data.currency, "USD")
        method: fallback(data.payment_method, data.payment_method_type)
        const_fallback: fallback("", data.card_type)
        first: coalesce(data.payment_method, data.card_type, "none")
        coalesce_nulls: coalesce(null, data.card_network)
        coalesce_last: coalesce(data.card_network, data.card_type)
        label: f"{data.customer.name} <{data.customer.email}> paid {fixed(data.total_amount / 100, 2)}"
        status_text: string(data.status)
        amount_text: string(data.total_amount)
        n_products: length(data.product_cart)
        products: map(data.product_cart, p => p.product_id)
        products_obj: 'map(data.product_cart, p => {id: p.product_id, q: p.quantity, again: p.product_id, k: {c: 1}})'
        first_product: data.product_cart[0].product_id
        last_product: data.product_cart[-1].quantity
        big: data.total_amount > 100000
        is_usd: data.currency == "USD"
        usd_is: '"USD" == data.currency'
        not_usd: not (data.currency == "USD")
        has_method: data.payment_method != null
        no_method: null == data.payment_method
        same: data.tax == data.settlement_tax
        both: data.payment_method != null and data.total_amount > 0
        either: data.payment_method == null or data.tax == null
        chosen: 'if data.payment_method == "card" then data.card_last_four else data.payment_method'
        nested: '{a: data.payment_method, b: {c: data.tax, d: 1}, e: [data.card_type, null, 2]}'
        lower_name: lower(data.customer.name)
        trimmed: trim(data.customer.name)
        meta: data.metadata
        empty_text: f""
        only_part: f"{data.payment_id}"
        sum: data.total_amount + data.tax
        neg: -data.total_amount
        rem: data.total_amount % 7
      context:
        ip: data.customer.phone_number
      timestamp: iso_time(timestamp)
    - identify:
      traits:
        email: data.customer.email
        revenue_again: fixed(data.total_amount / 100, 2)
        label_again: f"{data.customer.name} <{data.customer.email}> paid {fixed(data.total_amount / 100, 2)}"
        const_obj: '{x: 1, y: "two", z: [1, {w: null}]}'
    - track: Big Payment
      when: data.total_amount > 5000
      properties:
        revenue: fixed(data.total_amount / 100, 2)
        tax: fixed(data.tax / 100, 2)
        settle: fixed(data.settlement_amount / 100, 2)
        const_obj: '{x: 1, y: "two", z: [1, {w: null}]}'
    - track: After Big
      when: data.payment_method == "card"
      properties:
        settle_again: fixed(data.settlement_amount / 100, 2)
    - track: Never
      when: 1 > 2
    - track: Always
      when: 2 > 1
      anonymousId: data.payment_id
  subscription.*:
    - track: f"Subscription {type}"
      properties:
        amount: to_major(data.recurring_pre_tax_amount, data.currency)
        interval: lower(data.payment_frequency_interval)
        next: data.next_billing_date
        addons: map(data.addons, a => a.addon_id)
        qty: data.quantity * 2
        odd: data.quantity % 2 == 1
        neg: -data.quantity
  refund.succeeded:
    - group:
      groupId: data.business_id
      traits:
        amount: to_major(data.amount, data.currency ?? "USD")
        reason: data.reason ?? "none"
        reason2: data.reason ?? data.refund_id
    - alias:
      previousId: data.payment_id
  dispute.opened:
    - page:
      name: data.dispute_stage
      userId: data.business_id
      properties:
        amount: number(data.amount)
        ratio: number(data.amount) / 3
        cents: fixed(number(data.amount) / 100, 2)
  payout.*:
    - track: Payout
      userId: business_id
      properties:
        constant_only: '{a: 1}'
"""

# Reads nothing from the envelope (one function, no fast path) and folds entirely.
CONSTANT = r"""
version: 1
events:
  license_key.created:
    - track: Key Created
      userId: '"system"'
      properties:
        n: 6 * 7
        s: f"{6 * 7} keys"
        o: '{a: [1, 2], b: {c: "d"}}'
"""
