//! The messages the store's writer (`InvoiceStore`, in `actor.rs`) receives,
//! and their replies. A reply to a write means the write is on disk.

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::error::StoreError;
use crate::api_key::{ApiKeyRecord, KeyDigest, KeyId};
use crate::cashaddr::Address;
use crate::event::{Attempt, Event};
use crate::invoice::lifecycle::{EventKind, Policy};
use crate::invoice::{Invoice, InvoiceId, NewInvoice, Payment};

/// Create an invoice for `draft`, or return the existing one of its order.
///
/// The address is `fresh_address` (one the wallet just made) if given and
/// never handed out, else the first of the pool. If the order already has an
/// invoice, a given `fresh_address` goes to the pool instead of being lost.
#[derive(Debug, Message)]
#[rtype(result = "Result<Created, StoreError>")]
pub struct CreateInvoice {
    /// What the shop asked for.
    pub draft: NewInvoice,
    /// An address the wallet made for this request (when the pool was empty).
    pub fresh_address: Option<Address>,
    /// What an order id that already has an invoice means.
    pub order_rule: OrderRule,
}

/// What a create with an order id that already has an invoice does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderRule {
    /// bchpay's own API (api.md): the same terms get the same invoice, other
    /// terms are an `OrderConflict`.
    #[default]
    SameTermsSameInvoice,
    /// Greenfield (decision 2 of issue 14): the invoice is returned only
    /// while it is new, paid or confirmed with the same terms; otherwise (expired,
    /// invalid, another price) a new invoice is made and the order id points
    /// to it from then on (the old one keeps its id and history). BTCPay
    /// never deduplicates, and the WooCommerce plugin re-creates an invoice
    /// for the same order once the first is expired or invalid.
    NewUnlessLiveAndSame,
}

/// The reply to [`CreateInvoice`].
#[derive(Debug, Clone)]
pub struct Created {
    /// The stored invoice.
    pub invoice: Invoice,
    /// `false` when the order already had it (HTTP `200` instead of `201`).
    pub created: bool,
}

/// Apply what the confirmer (or the expiry clock) saw for one invoice.
#[derive(Debug, Message)]
#[rtype(result = "Result<Applied, StoreError>")]
pub struct ApplyObservation {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// Payments now seen for its address; `None`: the stored ones (a clock tick).
    pub payments: Option<Vec<Payment>>,
    /// The chain tip.
    pub tip: u64,
    /// Now.
    pub now: DateTime<Utc>,
    /// Tolerance and monitoring window.
    pub policy: Policy,
}

/// The reply to [`ApplyObservation`].
#[derive(Debug, Clone)]
pub struct Applied {
    /// The invoice after the transition (unchanged if nothing changed).
    pub invoice: Invoice,
    /// The events written, in order.
    pub events: Vec<EventKind>,
    /// Whether the confirmer must keep watching it.
    pub watched: bool,
    /// Events written that wait for delivery (announced once on disk).
    pub pending: Vec<(InvoiceId, u64)>,
}

/// What a delivery attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx: out of the outbox.
    Delivered,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    /// The schedule is spent: out of the outbox, redeliverable by hand.
    Failed,
}

/// Record one delivery attempt of event `seq` and its outcome.
#[derive(Debug, Message)]
#[rtype(result = "Result<Event, StoreError>")]
pub struct RecordAttempt {
    /// The event.
    pub seq: u64,
    /// What happened.
    pub attempt: Attempt,
    /// What follows.
    pub outcome: Outcome,
}

/// Queue an event for delivery again, now (by hand).
#[derive(Debug, Message)]
#[rtype(result = "Result<Event, StoreError>")]
pub struct Redeliver {
    /// The event's id (`evt_…`).
    pub event_id: String,
    /// Now.
    pub now: DateTime<Utc>,
}

/// Add addresses made in advance to the pool; replies how many were new.
///
/// Addresses already pooled are skipped; addresses in the ledger are skipped with a warning.
#[derive(Debug, Message)]
#[rtype(result = "Result<usize, StoreError>")]
pub struct AddToPool {
    /// Addresses fresh from the wallet.
    pub addresses: Vec<Address>,
}

/// Flush everything applied so far; replies once it is on disk (used at shutdown).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct Flush;

/// Is the writer alive and able to write? (`/readyz`). While it is not, the
/// writer tries a small write again on each ping, so that it comes back by
/// itself when the fault goes.
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct Ping;

/// Tell `recipient` about every invoice created from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe(pub Recipient<Watch>);

/// A new invoice to watch.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Watch(pub Invoice);

/// Tell `recipient` about every event that becomes pending from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SubscribeEvents(pub Recipient<EventsPending>);

/// Events that became pending: (invoice, event sequence), in order.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct EventsPending(pub Vec<(InvoiceId, u64)>);

/// Keep a new API key (its record; the key itself never reaches the store).
#[derive(Debug, Message)]
#[rtype(result = "Result<ApiKeyRecord, StoreError>")]
pub struct CreateApiKey(pub ApiKeyRecord);

/// Forget an API key: from the moment it is applied, the key opens nothing.
#[derive(Debug, Message)]
#[rtype(result = "Result<ApiKeyRecord, StoreError>")]
pub struct RevokeApiKey(pub KeyId);

/// An API key opened a request at `at`: written down if the last mark is a
/// minute old. Fire and forget (`do_send`): nothing waits on it.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct TouchApiKey {
    /// The key's digest.
    pub digest: KeyDigest,
    /// When it was used.
    pub at: DateTime<Utc>,
}

/// Run this between two writes (a backup's cut, `store::backup`): no write
/// is half applied while it runs, and none starts until it returns.
#[derive(Message)]
#[rtype(result = "()")]
pub struct BetweenWrites(pub Box<dyn FnOnce() + Send>);
