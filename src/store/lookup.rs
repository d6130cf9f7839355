//! Point reads over the trees, shared by the reader and the writes (which
//! read what they are about to change): one key or one chunk each, never a scan.

use super::error::StoreError;
use super::layout::keys::{decode_counter, MetaKey};
use super::layout::trees::Trees;
use super::layout::values::{self, StoredInvoice};
use crate::event::Event;
use crate::invoice::{Invoice, InvoiceId};

/// The stored invoice with this id (bytes of the id).
pub fn stored_invoice(trees: &Trees, id: &[u8]) -> Result<Option<StoredInvoice>, StoreError> {
    trees.invoices.get(id)?.map(|v| values::decode_invoice(&v)).transpose()
}

/// An invoice through an index: the index must point at a stored invoice.
pub fn indexed_invoice(trees: &Trees, id: &[u8]) -> Result<Invoice, StoreError> {
    match stored_invoice(trees, id)? {
        Some(stored) => Ok(stored.invoice),
        None => Err(StoreError::Corrupt(format!(
            "an index points at invoice {} which is not stored",
            String::from_utf8_lossy(id)
        ))),
    }
}

/// The invoice of the shop's order.
pub fn invoice_by_order(trees: &Trees, order_id: &str) -> Result<Option<Invoice>, StoreError> {
    match trees.by_order.get(order_id)? {
        Some(id) => indexed_invoice(trees, &id).map(Some),
        None => Ok(None),
    }
}

/// A `meta` counter (absent = 0).
pub fn counter(trees: &Trees, key: MetaKey) -> Result<u64, StoreError> {
    decode_counter(trees.meta.get(key.encode())?.as_deref())
}

/// The events of an invoice, in their order (none for an unknown invoice).
pub fn invoice_events(trees: &Trees, id: &InvoiceId) -> Result<Vec<Event>, StoreError> {
    match trees.events.get(id.as_str())? {
        Some(events) => values::decode_events(&events),
        None => Ok(Vec::new()),
    }
}

/// Where event `seq` lives: its invoice and its index among the invoice's events.
pub fn event_ref(trees: &Trees, seq: u64) -> Result<Option<(InvoiceId, usize)>, StoreError> {
    let Some(n) = seq.checked_sub(1) else { return Ok(None) };
    trees
        .event_log()
        .get(n)?
        .map(|line| values::parse_event_ref(&line))
        .transpose()
}

/// The event with global sequence `seq`.
pub fn event_by_seq(trees: &Trees, seq: u64) -> Result<Option<Event>, StoreError> {
    let Some((invoice, index)) = event_ref(trees, seq)? else {
        return Ok(None);
    };
    match invoice_events(trees, &invoice)?.into_iter().nth(index) {
        Some(e) if e.seq == seq => Ok(Some(e)),
        _ => Err(StoreError::Corrupt(format!(
            "event {seq} is not where the event log points"
        ))),
    }
}

/// The event with id `evt_…` (its id names its invoice).
pub fn event(trees: &Trees, id: &str) -> Result<Option<Event>, StoreError> {
    let Some(invoice) = crate::event::invoice_of_event_id(id) else {
        return Ok(None);
    };
    Ok(invoice_events(trees, &invoice)?.into_iter().find(|e| e.id == id))
}

/// The schema version written in the store.
pub fn schema_version(trees: &Trees) -> Result<Option<u32>, StoreError> {
    trees
        .meta
        .get(MetaKey::SchemaVersion.encode())?
        .map(|v| values::decode_schema_version(&v))
        .transpose()
}
