//! The invoice lifecycle, pure: the next state of an invoice from what it was,
//! the payments now seen for its address, the chain tip, the clock and the
//! policy; and the webhook events the change emits.
//!
//! ```text
//! new ──(full amount seen)──> paid ──(required confirmations)──> confirmed (final)
//!  │                            ├─(payment vanished, not expired)──> new
//!  │                            └─(payment vanished, expired)──────> invalid
//!  └──(expiry, not fully paid)──> expired ──(full amount arrives late)──> paid (paid_late)
//! ```

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Invoice, InvoiceException, InvoiceStatus, Payment};
use crate::money::Sats;

mod mark;
pub use mark::{available_marks, can_mark, mark, Mark, MarkRefused};

/// The configuration that decides statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How much short of the amount still counts as paid, in percent.
    pub tolerance_percent: u32,
    /// How long after expiry late payments are still watched for.
    pub monitoring_secs: u64,
}

/// What the confirmer saw for one invoice's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Every transaction now paying the address, with its amount to it and the
    /// server's height (0 mempool, −1 unconfirmed parent). Vanished ones are absent.
    pub payments: Vec<Payment>,
    /// The chain tip.
    pub tip: u64,
    /// Now.
    pub now: DateTime<Utc>,
}

/// A webhook event a transition emits.
///
/// The first five are api.md's v1 types, sent to bchpay's own destinations.
/// The others exist for BTCPay Greenfield's registered webhooks
/// (`docs/greenfield.md` §6.2): they are never sent to bchpay's own
/// destinations ([`EventKind::is_own`]), except the marks, which those see as
/// the status they lead to (`invoice.confirmed`, `invoice.invalid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A payment not seen before (partial ones included), one per transaction.
    #[serde(rename = "invoice.payment_received")]
    PaymentReceived,
    /// The full amount is seen (late ones carry `paid_late`).
    #[serde(rename = "invoice.paid")]
    Paid,
    /// The required confirmations are reached.
    #[serde(rename = "invoice.confirmed")]
    Confirmed,
    /// Not fully paid in time.
    #[serde(rename = "invoice.expired")]
    Expired,
    /// A payment vanished before it confirmed, after expiry.
    #[serde(rename = "invoice.invalid")]
    Invalid,
    /// One payment reached the required confirmations (Greenfield only).
    #[serde(rename = "invoice.payment_settled")]
    PaymentSettled,
    /// The invoice was made (Greenfield only).
    #[serde(rename = "invoice.created")]
    Created,
    /// Marked settled by hand.
    #[serde(rename = "invoice.marked_settled")]
    MarkedSettled,
    /// Marked invalid by hand.
    #[serde(rename = "invoice.marked_invalid")]
    MarkedInvalid,
}

impl EventKind {
    /// The `type` of the webhook event bchpay's own destinations receive.
    pub fn type_name(self) -> &'static str {
        match self {
            EventKind::PaymentReceived => "invoice.payment_received",
            EventKind::Paid => "invoice.paid",
            EventKind::Confirmed | EventKind::MarkedSettled => "invoice.confirmed",
            EventKind::Expired => "invoice.expired",
            EventKind::Invalid | EventKind::MarkedInvalid => "invoice.invalid",
            EventKind::PaymentSettled => "invoice.payment_settled",
            EventKind::Created => "invoice.created",
        }
    }

    /// Whether bchpay's own destinations (an invoice's `webhook_url`, the
    /// configured one) receive it: api.md's types only.
    pub fn is_own(self) -> bool {
        !matches!(self, EventKind::PaymentSettled | EventKind::Created)
    }
}

/// An event a transition emits, with the payment (txid) it is about, for
/// the per-payment kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitted {
    /// What happened.
    pub kind: EventKind,
    /// The transaction of a `PaymentReceived` or `PaymentSettled`.
    pub txid: Option<String>,
}

impl Emitted {
    /// An event about the invoice as a whole.
    pub fn invoice(kind: EventKind) -> Emitted {
        Emitted { kind, txid: None }
    }

    /// An event about the payment `txid`.
    pub fn payment(kind: EventKind, txid: &str) -> Emitted {
        Emitted {
            kind,
            txid: Some(txid.to_owned()),
        }
    }
}

impl PartialEq<EventKind> for Emitted {
    fn eq(&self, other: &EventKind) -> bool {
        self.kind == *other
    }
}

/// The outcome of applying an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The invoice after it.
    pub invoice: Invoice,
    /// The events it emits, in order.
    pub events: Vec<Emitted>,
}

impl Transition {
    /// Whether anything stored changed.
    pub fn changed(&self, before: &Invoice) -> bool {
        self.invoice != *before
    }

    /// The kinds of its events, in order.
    pub fn kinds(&self) -> Vec<EventKind> {
        self.events.iter().map(|e| e.kind).collect()
    }
}

/// Whether `received` counts as paying `amount` under `tolerance_percent`:
/// `received ≥ amount × (1 − tolerance)`, in integers.
pub fn counts_as_paid(received: Sats, amount: Sats, tolerance_percent: u32) -> bool {
    let tolerance = u128::from(tolerance_percent.min(100));
    u128::from(received.0) * 100 >= u128::from(amount.0) * (100 - tolerance)
}

/// The next state of `invoice` given what was seen.
pub fn apply(invoice: &Invoice, seen: &Observation, policy: &Policy) -> Transition {
    let mut payments = seen.payments.clone();
    payments.sort_by(|a, b| a.txid.cmp(&b.txid));
    payments.dedup_by(|a, b| a.txid == b.txid);
    for p in &mut payments {
        // A payment already stored keeps when it was first seen, whether it
        // settled, and its outputs when the observation does not know them.
        if let Some(stored) = invoice.payments.iter().find(|q| q.txid == p.txid) {
            p.seen_at = stored.seen_at;
            p.settled = stored.settled;
            if p.outputs.is_empty() {
                p.outputs.clone_from(&stored.outputs);
            }
        }
    }
    let mut next = invoice.clone();
    next.payments = payments;
    let mut events = Vec::new();
    for p in &next.payments {
        if !invoice.payments.iter().any(|q| q.txid == p.txid) {
            events.push(Emitted::payment(EventKind::PaymentReceived, &p.txid));
        }
    }
    // Each payment settles once, when it first has the required
    // confirmations (with 0 required: at first sight, after its receipt).
    let required = u64::from(invoice.required_confirmations);
    for p in &mut next.payments {
        if !p.settled && p.confirmations(Some(seen.tip)) >= required {
            p.settled = true;
            events.push(Emitted::payment(EventKind::PaymentSettled, &p.txid));
        }
    }
    if invoice.status == InvoiceStatus::Confirmed || invoice.marked {
        // Final (or marked by hand): the facts are kept up to date (an extra
        // payment shows as paid_over), the verdict is not reopened.
        if invoice.status == InvoiceStatus::Confirmed
            && next.received_sats() > invoice.amount_sats
            && next.exception.is_none()
        {
            next.exception = Some(InvoiceException::PaidOver);
        }
        return Transition { invoice: next, events };
    }

    let received = next.received_sats();
    let full = counts_as_paid(received, invoice.amount_sats, policy.tolerance_percent);
    let expired = seen.now >= invoice.expires_at;
    if full {
        let paid_at = invoice.paid_at.unwrap_or(seen.now);
        // Confirmed once the payments with enough confirmations pay the amount
        // on their own (an extra unconfirmed payment does not hold it back).
        let settled = next
            .payments
            .iter()
            .filter(|p| p.confirmations(Some(seen.tip)) >= required)
            .fold(0u64, |sum, p| sum.saturating_add(p.amount_sats.0));
        let confirmations_ok = counts_as_paid(Sats(settled), invoice.amount_sats, policy.tolerance_percent);
        next.paid_at = Some(paid_at);
        next.status = if confirmations_ok {
            InvoiceStatus::Confirmed
        } else {
            InvoiceStatus::Paid
        };
        next.exception = if paid_at >= invoice.expires_at {
            Some(InvoiceException::PaidLate)
        } else if received > invoice.amount_sats {
            Some(InvoiceException::PaidOver)
        } else {
            None
        };
        if next.status == InvoiceStatus::Confirmed {
            next.confirmed_at = Some(seen.now);
        }
    } else {
        next.paid_at = None;
        next.status = match (invoice.status, expired) {
            (InvoiceStatus::Paid | InvoiceStatus::Invalid, true) => InvoiceStatus::Invalid,
            (_, true) => InvoiceStatus::Expired,
            (_, false) => InvoiceStatus::New,
        };
        next.exception = (received > Sats::ZERO).then_some(InvoiceException::PaidPartial);
    }

    if next.status != invoice.status {
        let mut push = |kind| events.push(Emitted::invoice(kind));
        match next.status {
            InvoiceStatus::Paid => push(EventKind::Paid),
            InvoiceStatus::Confirmed => {
                if invoice.status != InvoiceStatus::Paid {
                    push(EventKind::Paid);
                }
                push(EventKind::Confirmed);
            }
            InvoiceStatus::Expired => push(EventKind::Expired),
            InvoiceStatus::Invalid => push(EventKind::Invalid),
            // Back to new after a payment vanished: no event type of api.md says it.
            InvoiceStatus::New => {}
        }
    }
    Transition { invoice: next, events }
}

/// Whether the confirmer must still watch `invoice` at `now`: until it is
/// confirmed, and an unpaid one until `monitoring_secs` after its expiry.
pub fn still_watched(invoice: &Invoice, now: DateTime<Utc>, policy: &Policy) -> bool {
    match invoice.status {
        InvoiceStatus::Paid | InvoiceStatus::New => true,
        // Final, but a payment made after it (an extra one) is still recorded
        // until the monitoring window passes (design.md: watching stops once an
        // invoice is final AND its window has passed).
        InvoiceStatus::Confirmed | InvoiceStatus::Expired | InvoiceStatus::Invalid => {
            now < watch_until(invoice, policy)
        }
    }
}

/// The end of an unpaid invoice's monitoring window.
pub fn watch_until(invoice: &Invoice, policy: &Policy) -> DateTime<Utc> {
    let window =
        Duration::try_seconds(i64::try_from(policy.monitoring_secs).unwrap_or(i64::MAX)).unwrap_or(Duration::MAX);
    invoice
        .expires_at
        .checked_add_signed(window)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;
