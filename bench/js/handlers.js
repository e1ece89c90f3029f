'use strict';
// The starter mapping's three transformations written by hand in JavaScript, the way Dodo's
// seed handlers are (tests/seed), plus the identity check segmap makes: one `apply(envelope)`
// returning [{call, body}, ...] for the three mapped event types and [] for every other one.
// Same output as segmap's compiled mapping (bench_mapping.py checks it, envelope by envelope).

function noUser(call) {
  throw new Error(call + ' call has no userId or anonymousId: data.customer.customer_id was null or absent');
}

function paymentSucceeded(env) {
  const p = env.data;
  const c = p.customer;
  const userId = c.customer_id;
  if (userId == null) noUser('track');
  const amount = (p.total_amount / 100).toFixed(2);
  const method = p.payment_method || 'unknown';
  return [
    {call: 'track', body: {
      userId: userId,
      event: 'Payment Completed',
      properties: {
        amount: amount,
        currency: p.currency || 'USD',
        payment_method: method,
        payment_id: p.payment_id,
        customer_email: c.email,
        customer_name: c.name,
      },
      timestamp: env.timestamp,
    }},
    {call: 'identify', body: {
      userId: userId,
      traits: {
        email: c.email,
        name: c.name,
        total_spent: amount,
        payment_method: method,
        last_payment_date: env.timestamp,
        customer_since: env.timestamp,
      },
    }},
  ];
}

function subscriptionActive(env) {
  const s = env.data;
  const userId = s.customer.customer_id;
  if (userId == null) noUser('track');
  return [{call: 'track', body: {
    userId: userId,
    event: 'Subscription Started',
    properties: {
      subscription_id: s.subscription_id,
      product_id: s.product_id,
      amount: (s.recurring_pre_tax_amount / 100).toFixed(2),
      frequency: s.payment_frequency_interval,
      next_billing: s.next_billing_date,
      customer_email: s.customer.email,
    },
    timestamp: env.timestamp,
  }}];
}

function subscriptionCancelled(env) {
  const s = env.data;
  const userId = s.customer.customer_id;
  if (userId == null) noUser('track');
  return [{call: 'track', body: {
    userId: userId,
    event: 'Subscription Cancelled',
    properties: {
      subscription_id: s.subscription_id,
      product_id: s.product_id,
      cancelled_at: s.cancelled_at,
      cancel_at_next_billing: s.cancel_at_next_billing_date,
      customer_email: s.customer.email,
    },
    timestamp: env.timestamp,
  }}];
}

function apply(env) {
  switch (env.type) {
    case 'payment.succeeded': return paymentSucceeded(env);
    case 'subscription.active': return subscriptionActive(env);
    case 'subscription.cancelled': return subscriptionCancelled(env);
    default: return [];
  }
}

module.exports = {apply};
