//! `StoreReader`: reads straight from the trees, without a round trip
//! through the writer. sled serves concurrent readers itself; a reader sees
//! every write the writer has applied, including those whose flush still runs.
//!
//! Point reads (one key) are cheap and may run anywhere. The listings
//! ([`StoreReader::list`], [`StoreReader::events`]) cost O(limit) through the
//! indexes, but still read from disk: the HTTP handlers run them off their
//! workers (`web::block`).

mod api_keys;
mod listing;
mod webhooks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::counts::Counts;
use super::error::StoreError;
use super::layout::keys::{self, MetaKey, Seq, STATUSES};
use super::layout::trees::Trees;
use super::lookup;
use super::shared::SharedTrees;
use crate::cashaddr::Address;
use crate::event::{DeliveryState, Event};
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus};

/// Cheap to clone, `Send + Sync`: hand one to every HTTP worker.
#[derive(Clone)]
pub struct StoreReader {
    /// Handles on the store's trees (swapped when the writer reopens the database).
    shared: SharedTrees,
    /// Sizes kept by the writer.
    counts: Arc<Counts>,
    /// Flushes done by the writer so far (shared with it; for metrics and tests).
    flushes: Arc<AtomicU64>,
}

impl StoreReader {
    /// A reader over `trees`.
    pub(super) fn new(shared: SharedTrees, counts: Arc<Counts>, flushes: Arc<AtomicU64>) -> StoreReader {
        StoreReader {
            shared,
            counts,
            flushes,
        }
    }

    /// The current tree handles (for the listings, the invariant check and the tests).
    pub(super) fn trees(&self) -> Result<Trees, StoreError> {
        self.shared.get()
    }

    /// How many times the writer reopened the database (see [`SharedTrees::generation`]).
    pub(super) fn generation(&self) -> u64 {
        self.shared.generation()
    }

    /// The kept sizes (for the invariant check).
    pub(super) fn counts(&self) -> &Counts {
        &self.counts
    }

    /// The invoice with this id.
    pub fn invoice(&self, id: &InvoiceId) -> Result<Option<Invoice>, StoreError> {
        Ok(lookup::stored_invoice(&self.trees()?, id.as_str().as_bytes())?.map(|s| s.invoice))
    }

    /// The invoice of the shop's order.
    pub fn invoice_by_order(&self, order_id: &str) -> Result<Option<Invoice>, StoreError> {
        lookup::invoice_by_order(&self.trees()?, order_id)
    }

    /// The invoice that was handed this address.
    pub fn invoice_by_address(&self, address: &Address) -> Result<Option<Invoice>, StoreError> {
        let trees = self.trees()?;
        match trees.by_address.get(address.as_str())? {
            Some(id) => lookup::indexed_invoice(&trees, &id).map(Some),
            None => Ok(None),
        }
    }

    /// Addresses waiting in the pool.
    pub fn pool_len(&self) -> usize {
        self.counts.pool.load(Ordering::Relaxed)
    }

    /// The pool's addresses, in key order.
    pub fn pool_addresses(&self) -> Result<Vec<Address>, StoreError> {
        parse_keys(&self.trees()?.pool, |s| Address::parse(s).ok(), "pool address")
    }

    /// The ledger, in address order: at most `limit` (address, invoice id) pairs.
    pub fn ledger(&self, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        self.trees()?
            .by_address
            .iter()
            .take(limit)
            .map(|entry| {
                let (k, v) = entry?;
                Ok((
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                ))
            })
            .collect()
    }

    /// The schema version written in the store.
    pub fn schema_version(&self) -> Result<Option<u32>, StoreError> {
        lookup::schema_version(&self.trees()?)
    }

    /// Addresses ever handed to an invoice.
    pub fn ledger_len(&self) -> usize {
        self.trees().map_or(0, |t| t.by_address.len())
    }

    /// Invoices ever created (a counter in `meta`, kept in the creating transaction).
    pub fn invoice_count(&self) -> Result<u64, StoreError> {
        lookup::counter(&self.trees()?, MetaKey::InvoiceCount)
    }

    /// Ids of the invoices the confirmer still watches.
    pub fn watched_ids(&self) -> Result<Vec<InvoiceId>, StoreError> {
        parse_keys(&self.trees()?.watch, |s| InvoiceId::parse(s).ok(), "watched id")
    }

    /// The events of an invoice, in their order (none for an unknown invoice).
    pub fn invoice_events(&self, id: &InvoiceId) -> Result<Vec<Event>, StoreError> {
        lookup::invoice_events(&self.trees()?, id)
    }

    /// The event with global sequence `seq`.
    pub fn event_by_seq(&self, seq: u64) -> Result<Option<Event>, StoreError> {
        lookup::event_by_seq(&self.trees()?, seq)
    }

    /// The event with id `evt_…`.
    pub fn event(&self, id: &str) -> Result<Option<Event>, StoreError> {
        lookup::event(&self.trees()?, id)
    }

    /// How many events are in each delivery state (walks the keys of the
    /// event-state index; pending ones are the outbox's size).
    pub fn event_state_counts(&self) -> Result<Vec<(DeliveryState, u64)>, StoreError> {
        let mut counts = vec![
            (DeliveryState::Pending, self.outbox_len() as u64),
            (DeliveryState::Delivered, 0u64),
            (DeliveryState::Failed, 0),
            (DeliveryState::NoEndpoint, 0),
        ];
        for key in self.trees()?.by_event_state.iter().keys() {
            let state = keys::EventStateKey::decode(&key?)?.state;
            if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == state) {
                slot.1 += 1;
            }
        }
        Ok(counts)
    }

    /// Sequences of the events waiting for delivery, oldest first.
    pub fn outbox(&self) -> Result<Vec<u64>, StoreError> {
        self.trees()?
            .outbox
            .iter()
            .keys()
            .map(|k| Ok(Seq::decode(&k?)?.0))
            .collect()
    }

    /// How many invoices are in each status (kept as counters, not counted).
    pub fn status_counts(&self) -> Result<Vec<(InvoiceStatus, u64)>, StoreError> {
        STATUSES
            .into_iter()
            .map(|s| Ok((s, lookup::counter(&self.trees()?, MetaKey::Status(s))?)))
            .collect()
    }

    /// How many events wait for delivery.
    pub fn outbox_len(&self) -> usize {
        self.counts.outbox.load(Ordering::Relaxed)
    }

    /// Flushes the writer has completed since it started (each serves a whole group of writes).
    pub fn flush_count(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }
}

/// Every key of `tree`, read by `parse`; an unreadable one is corruption.
fn parse_keys<T>(tree: &sled::Tree, parse: impl Fn(&str) -> Option<T>, what: &str) -> Result<Vec<T>, StoreError> {
    tree.iter()
        .keys()
        .map(|k| {
            let k = k?;
            std::str::from_utf8(&k)
                .ok()
                .and_then(&parse)
                .ok_or_else(|| StoreError::Corrupt(format!("unreadable {what} {k:?}")))
        })
        .collect()
}
