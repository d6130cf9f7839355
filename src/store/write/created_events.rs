//! `InvoiceCreated` for the registered webhooks that want it (Greenfield
//! only: bchpay's own destinations have no such event, api.md). Written
//! right after the batch that created the invoices, each as a transition
//! of the new invoice (`transition::commit`), and only when some enabled
//! webhook asks for it, so that creation costs nothing more otherwise.
//!
//! It is a transaction of its own after the batch's: both are made durable
//! by the same flush before any creation is answered, but a crash between
//! the two writes can keep an invoice without its `InvoiceCreated` (never
//! the other way round).

use chrono::{DateTime, Utc};

use super::super::counts::Counts;
use super::super::error::StoreError;
use super::super::layout::trees::Trees;
use super::super::lookup;
use super::{transition, webhooks};
use crate::event::route::Routes;
use crate::invoice::lifecycle::{Emitted, EventKind, Transition};
use crate::invoice::{Invoice, InvoiceId};

/// Writes the `InvoiceCreated` events of `created`; the pending ones.
pub fn invoice_created(
    trees: &Trees,
    counts: &Counts,
    routes: &Routes,
    created: &[Invoice],
    now: DateTime<Utc>,
) -> Result<Vec<(InvoiceId, u64)>, StoreError> {
    if created.is_empty() || !webhooks::all(trees)?.iter().any(|h| h.wants(EventKind::Created)) {
        return Ok(Vec::new());
    }
    let mut pending = Vec::new();
    for invoice in created {
        let stored = lookup::stored_invoice(trees, invoice.id.as_str().as_bytes())?
            .ok_or_else(|| StoreError::Corrupt(format!("invoice {} was just created but is not stored", invoice.id)))?;
        let transition = Transition {
            invoice: stored.invoice.clone(),
            events: vec![Emitted::invoice(EventKind::Created)],
        };
        let applied = transition::commit(
            trees,
            counts,
            routes,
            stored.invoice,
            stored.position,
            transition,
            0,
            now,
            true,
        )?;
        pending.extend(applied.pending);
    }
    Ok(pending)
}
