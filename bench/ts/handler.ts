// The TypeScript twin of bench/all_events.yaml: one Svix-style handler for all 48
// Dodo Payments webhook event types, typed with the Dodo Node SDK and Segment's
// TrackParams/IdentifyParams (the tsc anchor's best-case configuration C).
import type { UnwrapWebhookEvent } from "dodopayments/resources/webhooks";
import type { IdentifyParams, TrackParams } from "@segment/analytics-node";

type SegmentCall = { url: string; body: TrackParams | IdentifyParams };

const DECIMALS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

function toMajor(amount: number, currency: string): number {
  const d = DECIMALS[currency] ?? 2;
  return amount / 10 ** d;
}

function track(body: TrackParams): SegmentCall {
  return { url: "https://api.segment.io/v1/track", body };
}

function identify(body: IdentifyParams): SegmentCall {
  return { url: "https://api.segment.io/v1/identify", body };
}

export function handler(event: UnwrapWebhookEvent): SegmentCall[] {
  switch (event.type) {
    case "abandoned_checkout.detected": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Checkout Abandoned",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            payment_id: d.payment_id,
            abandonment_reason: d.abandonment_reason,
            checkout_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "abandoned_checkout.recovered": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Abandoned Checkout Recovered",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            payment_id: d.payment_id,
            abandonment_reason: d.abandonment_reason,
            checkout_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "credit.added": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Added",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "credit.balance_low": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Balance Low Reached",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            available_balance: Number(d.available_balance),
            threshold_percent: d.threshold_percent,
          },
        }),
      ];
      return calls;
    }
    case "credit.deducted": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Deducted",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "credit.expired": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Expired",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "credit.manual_adjustment": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Manually Adjusted",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "credit.overage_charged": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Overage Charged",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "credit.overage_reset": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Overage Reset",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "credit.rolled_over": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Rolled Over",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "credit.rollover_forfeited": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Credit Rollover Forfeited",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            entry_id: d.id,
            credits: Number(d.amount),
            balance_after: Number(d.balance_after),
            transaction_type: d.transaction_type,
          },
        }),
      ];
      return calls;
    }
    case "dispute.accepted": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dispute Accepted",
          anonymousId: d.payment_id,
          timestamp: event.timestamp,
          properties: {
            dispute_id: d.dispute_id,
            value: Number(d.amount),
            currency: d.currency,
            stage: d.dispute_stage,
            dispute_status: d.dispute_status,
          },
        }),
      ];
      return calls;
    }
    case "dispute.cancelled": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dispute Cancelled",
          anonymousId: d.payment_id,
          timestamp: event.timestamp,
          properties: {
            dispute_id: d.dispute_id,
            value: Number(d.amount),
            currency: d.currency,
            stage: d.dispute_stage,
            dispute_status: d.dispute_status,
          },
        }),
      ];
      return calls;
    }
    case "dispute.challenged": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dispute Challenged",
          anonymousId: d.payment_id,
          timestamp: event.timestamp,
          properties: {
            dispute_id: d.dispute_id,
            value: Number(d.amount),
            currency: d.currency,
            stage: d.dispute_stage,
            dispute_status: d.dispute_status,
          },
        }),
      ];
      return calls;
    }
    case "dispute.expired": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dispute Expired",
          anonymousId: d.payment_id,
          timestamp: event.timestamp,
          properties: {
            dispute_id: d.dispute_id,
            value: Number(d.amount),
            currency: d.currency,
            stage: d.dispute_stage,
            dispute_status: d.dispute_status,
          },
        }),
      ];
      return calls;
    }
    case "dispute.lost": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dispute Lost",
          anonymousId: d.payment_id,
          timestamp: event.timestamp,
          properties: {
            dispute_id: d.dispute_id,
            value: Number(d.amount),
            currency: d.currency,
            stage: d.dispute_stage,
            dispute_status: d.dispute_status,
          },
        }),
      ];
      return calls;
    }
    case "dispute.opened": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dispute Opened",
          anonymousId: d.payment_id,
          timestamp: event.timestamp,
          properties: {
            dispute_id: d.dispute_id,
            value: Number(d.amount),
            currency: d.currency,
            stage: d.dispute_stage,
            dispute_status: d.dispute_status,
          },
        }),
      ];
      return calls;
    }
    case "dispute.won": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dispute Won",
          anonymousId: d.payment_id,
          timestamp: event.timestamp,
          properties: {
            dispute_id: d.dispute_id,
            value: Number(d.amount),
            currency: d.currency,
            stage: d.dispute_stage,
            dispute_status: d.dispute_status,
          },
        }),
      ];
      return calls;
    }
    case "dunning.recovered": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dunning Recovered",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            trigger_state: d.trigger_state,
            dunning_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "dunning.started": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Dunning Started",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            trigger_state: d.trigger_state,
            dunning_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "entitlement_grant.created": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Entitlement Grant Created",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            grant_id: d.id,
            entitlement_id: d.entitlement_id,
            integration_type: d.integration_type,
            grant_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "entitlement_grant.delivered": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Entitlement Grant Delivered",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            grant_id: d.id,
            entitlement_id: d.entitlement_id,
            integration_type: d.integration_type,
            grant_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "entitlement_grant.failed": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Entitlement Grant Failed",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            grant_id: d.id,
            entitlement_id: d.entitlement_id,
            integration_type: d.integration_type,
            grant_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "entitlement_grant.revoked": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Entitlement Grant Revoked",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            grant_id: d.id,
            entitlement_id: d.entitlement_id,
            integration_type: d.integration_type,
            grant_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "license_key.created": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "License Key Created",
          userId: d.customer_id,
          timestamp: event.timestamp,
          properties: {
            license_key_id: d.id,
            product_id: d.product_id,
            activations_limit: d.activations_limit,
          },
        }),
      ];
      return calls;
    }
    case "payment.cancelled": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payment Cancelled",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            order_id: d.payment_id,
            revenue: toMajor(d.total_amount - (d.tax ?? 0), d.currency),
            total: toMajor(d.total_amount, d.currency),
            currency: d.currency,
            payment_method: d.payment_method ?? "unknown",
            status: d.status,
            products: (d.product_cart ?? []).map((p) => ({ product_id: p.product_id, quantity: p.quantity })),
          },
        }),
      ];
      return calls;
    }
    case "payment.failed": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payment Failed",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            order_id: d.payment_id,
            revenue: toMajor(d.total_amount - (d.tax ?? 0), d.currency),
            total: toMajor(d.total_amount, d.currency),
            currency: d.currency,
            payment_method: d.payment_method ?? "unknown",
            status: d.status,
            products: (d.product_cart ?? []).map((p) => ({ product_id: p.product_id, quantity: p.quantity })),
          },
        }),
      ];
      return calls;
    }
    case "payment.processing": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payment Processing Started",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            order_id: d.payment_id,
            revenue: toMajor(d.total_amount - (d.tax ?? 0), d.currency),
            total: toMajor(d.total_amount, d.currency),
            currency: d.currency,
            payment_method: d.payment_method ?? "unknown",
            status: d.status,
            products: (d.product_cart ?? []).map((p) => ({ product_id: p.product_id, quantity: p.quantity })),
          },
        }),
      ];
      return calls;
    }
    case "payment.succeeded": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Order Completed",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            order_id: d.payment_id,
            revenue: toMajor(d.total_amount - (d.tax ?? 0), d.currency),
            total: toMajor(d.total_amount, d.currency),
            currency: d.currency,
            payment_method: d.payment_method ?? "unknown",
            status: d.status,
            products: (d.product_cart ?? []).map((p) => ({ product_id: p.product_id, quantity: p.quantity })),
          },
        }),
        identify({ userId: d.customer.customer_id, timestamp: event.timestamp, traits: { email: d.customer.email, name: d.customer.name } }),
      ];
      return calls;
    }
    case "payout.created": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payout Created",
          anonymousId: event.business_id,
          timestamp: event.timestamp,
          properties: {
            payout_id: d.payout_id,
            value: toMajor(d.amount, d.currency),
            fee: toMajor(d.fee, d.currency),
            currency: d.currency,
            payout_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "payout.failed": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payout Failed",
          anonymousId: event.business_id,
          timestamp: event.timestamp,
          properties: {
            payout_id: d.payout_id,
            value: toMajor(d.amount, d.currency),
            fee: toMajor(d.fee, d.currency),
            currency: d.currency,
            payout_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "payout.in_progress": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payout Started",
          anonymousId: event.business_id,
          timestamp: event.timestamp,
          properties: {
            payout_id: d.payout_id,
            value: toMajor(d.amount, d.currency),
            fee: toMajor(d.fee, d.currency),
            currency: d.currency,
            payout_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "payout.on_hold": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payout Put On Hold",
          anonymousId: event.business_id,
          timestamp: event.timestamp,
          properties: {
            payout_id: d.payout_id,
            value: toMajor(d.amount, d.currency),
            fee: toMajor(d.fee, d.currency),
            currency: d.currency,
            payout_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "payout.success": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Payout Paid",
          anonymousId: event.business_id,
          timestamp: event.timestamp,
          properties: {
            payout_id: d.payout_id,
            value: toMajor(d.amount, d.currency),
            fee: toMajor(d.fee, d.currency),
            currency: d.currency,
            payout_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "refund.failed": {
      const d = event.data;
      if (!(d.amount != null && d.currency != null)) return [];
      const calls: SegmentCall[] = [
        track({
          event: "Refund Failed",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            order_id: d.payment_id,
            refund_id: d.refund_id,
            total: toMajor(d.amount, d.currency),
            currency: d.currency,
            reason: d.reason,
            is_partial: d.is_partial,
          },
        }),
      ];
      return calls;
    }
    case "refund.succeeded": {
      const d = event.data;
      if (!(d.amount != null && d.currency != null)) return [];
      const calls: SegmentCall[] = [
        track({
          event: "Order Refunded",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            order_id: d.payment_id,
            refund_id: d.refund_id,
            total: toMajor(d.amount, d.currency),
            currency: d.currency,
            reason: d.reason,
            is_partial: d.is_partial,
          },
        }),
      ];
      return calls;
    }
    case "subscription.active": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Activated",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
        identify({ userId: d.customer.customer_id, timestamp: event.timestamp, traits: { email: d.customer.email, name: d.customer.name } }),
      ];
      return calls;
    }
    case "subscription.cancelled": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Cancelled",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.expired": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Expired",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.failed": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Failed",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.on_hold": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Put On Hold",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.past_due": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Past Due Reached",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.paused": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Paused",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.plan_changed": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Plan Changed",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.renewed": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Renewed",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.unpaused": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Unpaused",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.update_payment_method": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Payment Method Updated",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    case "subscription.updated": {
      const d = event.data;
      const calls: SegmentCall[] = [
        track({
          event: "Subscription Updated",
          userId: d.customer.customer_id,
          timestamp: event.timestamp,
          properties: {
            subscription_id: d.subscription_id,
            product_id: d.product_id,
            value: toMajor(d.recurring_pre_tax_amount, d.currency),
            currency: d.currency,
            interval: d.payment_frequency_interval,
            next_billing_date: d.next_billing_date,
            subscription_status: d.status,
          },
        }),
      ];
      return calls;
    }
    default:
      return [];
  }
}
