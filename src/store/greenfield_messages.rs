//! The messages of Greenfield's writes the store's writer receives
//! (registered webhooks, marks by hand), and their replies; the handlers are
//! in `actor/greenfield.rs`. A reply to a write means the write is on disk.

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::error::StoreError;
use super::messages::Applied;
use crate::event::registered::RegisteredWebhook;
use crate::invoice::lifecycle::{Mark, MarkRefused};
use crate::invoice::InvoiceId;

/// Register a webhook, or replace the one with its id (`PUT`).
#[derive(Debug, Message)]
#[rtype(result = "Result<RegisteredWebhook, StoreError>")]
pub struct SaveWebhook(pub RegisteredWebhook);

/// Delete a registered webhook; [`StoreError::NotFound`] if there is none.
#[derive(Debug, Message)]
#[rtype(result = "Result<RegisteredWebhook, StoreError>")]
pub struct DeleteWebhook(pub String);

/// Mark an invoice settled or invalid by hand (`POST …/invoices/{id}/status`).
/// Replies `Ok(Err(MarkRefused))` when its status does not allow it (a 422),
/// [`StoreError::NotFound`] for an unknown invoice.
#[derive(Debug, Message)]
#[rtype(result = "Result<Result<Applied, MarkRefused>, StoreError>")]
pub struct MarkInvoice {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// Settled or Invalid.
    pub mark: Mark,
    /// The chain tip (for the invoice snapshot of its event).
    pub tip: u64,
    /// Now.
    pub now: DateTime<Utc>,
}
