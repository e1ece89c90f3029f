// Handlers with the same observable behaviour as the three transformation
// examples on Dodo Payments' Segment integration page (track payments,
// track subscription lifecycle, identify customer). Written for the parity
// test: each takes the Svix-style `webhook` object and returns it, having
// set url/payload when it handles the event.
"use strict";

function majorString(minor) {
  return (minor / 100).toFixed(2);
}

function trackPayments(webhook) {
  if (webhook.eventType !== "payment.succeeded") return webhook;
  var envelope = webhook.payload;
  var pay = envelope.data;
  webhook.url = "https://api.segment.io/v1/track";
  webhook.payload = {
    userId: pay.customer.customer_id,
    event: "Payment Completed",
    properties: {
      amount: majorString(pay.total_amount),
      currency: pay.currency || "USD",
      payment_method: pay.payment_method || "unknown",
      payment_id: pay.payment_id,
      customer_email: pay.customer.email,
      customer_name: pay.customer.name
    },
    timestamp: envelope.timestamp
  };
  return webhook;
}

function trackSubscriptions(webhook) {
  var envelope = webhook.payload;
  var sub = envelope.data;
  if (webhook.eventType === "subscription.active") {
    webhook.url = "https://api.segment.io/v1/track";
    webhook.payload = {
      userId: sub.customer.customer_id,
      event: "Subscription Started",
      properties: {
        subscription_id: sub.subscription_id,
        product_id: sub.product_id,
        amount: majorString(sub.recurring_pre_tax_amount),
        frequency: sub.payment_frequency_interval,
        next_billing: sub.next_billing_date,
        customer_email: sub.customer.email
      },
      timestamp: envelope.timestamp
    };
  } else if (webhook.eventType === "subscription.cancelled") {
    webhook.url = "https://api.segment.io/v1/track";
    webhook.payload = {
      userId: sub.customer.customer_id,
      event: "Subscription Cancelled",
      properties: {
        subscription_id: sub.subscription_id,
        product_id: sub.product_id,
        cancelled_at: sub.cancelled_at,
        cancel_at_next_billing: sub.cancel_at_next_billing_date,
        customer_email: sub.customer.email
      },
      timestamp: envelope.timestamp
    };
  }
  return webhook;
}

function identifyCustomer(webhook) {
  if (webhook.eventType !== "payment.succeeded") return webhook;
  var envelope = webhook.payload;
  var pay = envelope.data;
  webhook.url = "https://api.segment.io/v1/identify";
  webhook.payload = {
    userId: pay.customer.customer_id,
    traits: {
      email: pay.customer.email,
      name: pay.customer.name,
      total_spent: majorString(pay.total_amount),
      payment_method: pay.payment_method || "unknown",
      last_payment_date: envelope.timestamp,
      customer_since: envelope.timestamp
    }
  };
  return webhook;
}

var HANDLERS = [trackPayments, trackSubscriptions, identifyCustomer];
var ORIGINAL_URL = "https://example.invalid/dodo-endpoint";

// stdin: one envelope per line; stdout: one JSON array of {call, body} per line.
var input = require("fs").readFileSync(0, "utf8").split("\n");
var out = [];
for (var i = 0; i < input.length; i++) {
  if (!input[i].trim()) continue;
  var envelope = JSON.parse(input[i]);
  var calls = [];
  for (var h = 0; h < HANDLERS.length; h++) {
    var webhook = {method: "POST", url: ORIGINAL_URL, eventType: envelope.type,
                   payload: JSON.parse(JSON.stringify(envelope))};
    var result = HANDLERS[h](webhook);
    if (result.url !== ORIGINAL_URL) {
      var call = result.url.slice(result.url.lastIndexOf("/") + 1);
      calls.push({call: call, body: JSON.parse(JSON.stringify(result.payload))});
    }
  }
  out.push(JSON.stringify(calls));
}
process.stdout.write(out.join("\n") + "\n");
