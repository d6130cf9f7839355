//! `StoreReader`: reads straight from the trees, without a round trip through the actor.
//!
//! sled serves concurrent readers itself; the reader sees every write the
//! actor has applied, including those whose flush is still running.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cashaddr::Address;
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus};

use super::observe::by_invoice_key;
use super::{decode_counter, decode_event, decode_invoice, time_key, StoreError, Trees, META_INVOICE_COUNT};
use crate::event::{DeliveryState, Event};

/// Cheap to clone, `Send + Sync`: hand one to every HTTP worker.
#[derive(Clone)]
pub struct StoreReader {
    /// Handles on the store's trees.
    pub(super) trees: Trees,
    /// Flushes done by the actor so far (shared with it; for metrics and tests).
    flushes: Arc<AtomicU64>,
}

impl StoreReader {
    pub(super) fn new(trees: Trees, flushes: Arc<AtomicU64>) -> StoreReader {
        StoreReader { trees, flushes }
    }

    /// The invoice with this id.
    pub fn invoice(&self, id: &InvoiceId) -> Result<Option<Invoice>, StoreError> {
        self.trees
            .invoices
            .get(id.as_str())?
            .map(|v| decode_invoice(&v))
            .transpose()
    }

    /// The invoice of the shop's order.
    pub fn invoice_by_order(&self, order_id: &str) -> Result<Option<Invoice>, StoreError> {
        match self.trees.by_order.get(order_id)? {
            Some(id) => self.invoice_by_id_bytes(&id),
            None => Ok(None),
        }
    }

    /// The invoice that was handed this address.
    pub fn invoice_by_address(&self, address: &Address) -> Result<Option<Invoice>, StoreError> {
        match self.trees.by_address.get(address.as_str())? {
            Some(id) => self.invoice_by_id_bytes(&id),
            None => Ok(None),
        }
    }

    /// An invoice through an index: the index must point at a stored invoice.
    fn invoice_by_id_bytes(&self, id: &[u8]) -> Result<Option<Invoice>, StoreError> {
        match self.trees.invoices.get(id)? {
            Some(v) => decode_invoice(&v).map(Some),
            None => Err(StoreError::Corrupt(format!(
                "an index points at invoice {} which is not stored",
                String::from_utf8_lossy(id)
            ))),
        }
    }

    /// Invoices newest first, at most `limit`, after `cursor` (a `next_cursor`
    /// from a previous page), filtered by status and order id.
    ///
    /// `next_cursor` is `Some` only when at least one more invoice matches.
    pub fn list(
        &self,
        status: Option<InvoiceStatus>,
        order_id: Option<&str>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<Invoice>, Option<String>), StoreError> {
        let before = cursor.map(decode_cursor).transpose()?;
        let keep = |inv: &Invoice| status.is_none_or(|s| inv.status == s);
        if limit == 0 {
            return Ok((Vec::new(), None));
        }
        if let Some(order_id) = order_id {
            // An order has at most one invoice: no scan needed.
            let found = self
                .invoice_by_order(order_id)?
                .filter(|inv| keep(inv) && before.as_deref().is_none_or(|b| time_key(inv).as_slice() < b));
            return Ok((found.into_iter().collect(), None));
        }
        let range = match &before {
            Some(b) => self.trees.by_time.range(..b.as_slice()),
            None => self.trees.by_time.iter(),
        };
        let mut page = Vec::new();
        let mut last_key = None;
        for entry in range.rev() {
            let (key, id) = entry?;
            let inv = self
                .invoice_by_id_bytes(&id)?
                .ok_or_else(|| StoreError::Corrupt("by_time points at nothing".into()))?;
            if !keep(&inv) {
                continue;
            }
            if page.len() == limit {
                // One more matches: there is a next page, starting after the last one shown.
                return Ok((page, last_key.map(|k: sled::IVec| hex::encode(k))));
            }
            page.push(inv);
            last_key = Some(key);
        }
        Ok((page, None))
    }

    /// Addresses waiting in the pool.
    pub fn pool_len(&self) -> usize {
        self.trees.counts.pool.load(Ordering::Relaxed)
    }

    /// The pool's addresses, in key order.
    pub fn pool_addresses(&self) -> Result<Vec<Address>, StoreError> {
        parse_keys(&self.trees.pool, |s| Address::parse(s).ok(), "pool address")
    }

    /// The ledger, in address order: at most `limit` (address, invoice id) pairs.
    pub fn ledger(&self, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        self.trees
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
        Ok(self
            .trees
            .meta
            .get(super::META_SCHEMA_VERSION)?
            .and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok()))
    }

    /// Addresses ever handed to an invoice.
    pub fn ledger_len(&self) -> usize {
        self.trees.by_address.len()
    }

    /// Invoices ever created (a counter in `meta`, kept in the creating transaction).
    pub fn invoice_count(&self) -> Result<u64, StoreError> {
        decode_counter(self.trees.meta.get(META_INVOICE_COUNT)?.as_deref())
    }

    /// Ids of the invoices the confirmer still watches.
    pub fn watched_ids(&self) -> Result<Vec<InvoiceId>, StoreError> {
        parse_keys(&self.trees.watch, |s| InvoiceId::parse(s).ok(), "watched id")
    }

    /// The event with global sequence `seq`.
    pub fn event_by_seq(&self, seq: u64) -> Result<Option<Event>, StoreError> {
        self.trees
            .events
            .get(seq.to_be_bytes())?
            .map(|v| decode_event(&v))
            .transpose()
    }

    /// The event with id `evt_…`.
    pub fn event(&self, id: &str) -> Result<Option<Event>, StoreError> {
        match self.trees.event_ids.get(id.as_bytes())? {
            Some(seq) => {
                let seq = decode_counter(Some(&seq))?;
                self.event_by_seq(seq)
            }
            None => Ok(None),
        }
    }

    /// Events in the order they were made, at most `limit`, after `cursor`,
    /// of one invoice or all, in one delivery state or any.
    pub fn events(
        &self,
        invoice: Option<&InvoiceId>,
        state: Option<DeliveryState>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<(Vec<Event>, Option<String>), StoreError> {
        let after = match cursor {
            Some(c) => Some(c.parse::<u64>().map_err(|_| StoreError::InvalidCursor)?),
            None => None,
        };
        let seqs: Box<dyn Iterator<Item = Result<u64, StoreError>>> = match invoice {
            Some(id) => {
                let start = by_invoice_key(id, after.map_or(0, |a| a.saturating_add(1)));
                let prefix = id.as_str().as_bytes().to_vec();
                Box::new(
                    self.trees
                        .events_by_invoice
                        .range(start..)
                        .keys()
                        .take_while(move |k| k.as_ref().map_or(true, |k| k.starts_with(&prefix)))
                        .map(move |k| {
                            let k = k?;
                            decode_counter(k.get(k.len().saturating_sub(8)..))
                        }),
                )
            }
            None => {
                let start = after.map_or(0, |a| a.saturating_add(1)).to_be_bytes();
                Box::new(
                    self.trees
                        .events
                        .range(start..)
                        .keys()
                        .map(|k| decode_counter(Some(&k?))),
                )
            }
        };
        let mut page = Vec::new();
        for seq in seqs {
            let seq = seq?;
            let Some(event) = self.event_by_seq(seq)? else { continue };
            if state.is_some_and(|s| event.state != s) {
                continue;
            }
            if page.len() == limit {
                let next = page.last().map(|e: &Event| e.seq.to_string());
                return Ok((page, next));
            }
            page.push(event);
        }
        Ok((page, None))
    }

    /// Sequences of the events waiting for delivery, oldest first.
    pub fn outbox(&self) -> Result<Vec<u64>, StoreError> {
        self.trees
            .outbox
            .iter()
            .keys()
            .map(|k| decode_counter(Some(&k?)))
            .collect()
    }

    /// How many invoices are in each status (kept as counters, not counted).
    pub fn status_counts(&self) -> Result<Vec<(InvoiceStatus, u64)>, StoreError> {
        [
            InvoiceStatus::New,
            InvoiceStatus::Paid,
            InvoiceStatus::Confirmed,
            InvoiceStatus::Expired,
            InvoiceStatus::Invalid,
        ]
        .into_iter()
        .map(|s| {
            Ok((
                s,
                decode_counter(self.trees.meta.get(super::status_key(s))?.as_deref())?,
            ))
        })
        .collect()
    }

    /// How many events wait for delivery.
    pub fn outbox_len(&self) -> usize {
        self.trees.counts.outbox.load(Ordering::Relaxed)
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

/// A cursor back into a `by_time` key; only hex of a well-formed key is accepted.
fn decode_cursor(cursor: &str) -> Result<Vec<u8>, StoreError> {
    let key = hex::decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let id_ok = key
        .get(8..)
        .and_then(|id| std::str::from_utf8(id).ok())
        .is_some_and(|id| InvoiceId::parse(id).is_ok());
    if id_ok {
        Ok(key)
    } else {
        Err(StoreError::InvalidCursor)
    }
}
