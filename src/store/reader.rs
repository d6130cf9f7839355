//! `StoreReader`: reads straight from the trees, without a round trip through the actor.
//!
//! sled serves concurrent readers itself; the reader sees every write the
//! actor has applied, including those whose flush is still running.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cashaddr::Address;
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus};

use super::layout::{self, decode_invoice};
use super::{decode_counter, StoreError, Trees, META_EVENT_SEQ, META_INVOICE_COUNT};
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
        // A cursor is the position (in the creation log) of the last invoice
        // shown, in the form handed out: an older invoice exists, so it is > 0.
        let before = match cursor {
            Some(c) => match c.parse::<u64>() {
                Ok(p) if p > 0 && p.to_string() == c => Some(p),
                _ => return Err(StoreError::InvalidCursor),
            },
            None => None,
        };
        let keep = |inv: &Invoice| status.is_none_or(|s| inv.status == s);
        if limit == 0 {
            return Ok((Vec::new(), None));
        }
        if let Some(order_id) = order_id {
            // An order has at most one invoice: no scan needed, and no next page.
            let found = self.invoice_by_order(order_id)?.filter(keep);
            return Ok((found.into_iter().collect(), None));
        }
        let count = self.invoice_count()?;
        let Some(newest) = before.unwrap_or(count).min(count).checked_sub(1) else {
            return Ok((Vec::new(), None));
        };
        let mut page = Vec::new();
        let mut last_shown = None;
        let (newest_chunk, _) = layout::chunk_of(newest);
        for entry in self.trees.by_time.range(..=newest_chunk).rev() {
            let (key, chunk) = entry?;
            let first = decode_counter(Some(&key))? * layout::CHUNK;
            let text =
                std::str::from_utf8(&chunk).map_err(|_| StoreError::Corrupt("unreadable by_time chunk".into()))?;
            let lines: Vec<&str> = text.split_terminator('\n').collect();
            for (offset, id) in lines.iter().enumerate().rev() {
                let position = first + offset as u64;
                if position > newest {
                    continue;
                }
                let inv = self
                    .invoice_by_id_bytes(id.as_bytes())?
                    .ok_or_else(|| StoreError::Corrupt("by_time points at nothing".into()))?;
                if !keep(&inv) {
                    continue;
                }
                if page.len() == limit {
                    // One more matches: there is a next page, starting after the last one shown.
                    return Ok((page, last_shown.map(|p: u64| p.to_string())));
                }
                page.push(inv);
                last_shown = Some(position);
            }
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

    /// The events of an invoice, in their order (none for an unknown invoice).
    pub fn invoice_events(&self, id: &InvoiceId) -> Result<Vec<Event>, StoreError> {
        match self.trees.events.get(id.as_str())? {
            Some(events) => layout::decode_events(&events),
            None => Ok(Vec::new()),
        }
    }

    /// Where event `seq` lives: its invoice and its index among the invoice's events.
    fn event_ref(&self, seq: u64) -> Result<Option<(InvoiceId, usize)>, StoreError> {
        let Some(n) = seq.checked_sub(1) else { return Ok(None) };
        let (key, line) = layout::chunk_of(n);
        match self.trees.event_log.get(key)? {
            Some(chunk) => layout::chunk_line(&chunk, line)
                .map(layout::parse_event_ref)
                .transpose(),
            None => Ok(None),
        }
    }

    /// The event with global sequence `seq`.
    pub fn event_by_seq(&self, seq: u64) -> Result<Option<Event>, StoreError> {
        let Some((invoice, index)) = self.event_ref(seq)? else {
            return Ok(None);
        };
        let event = self.invoice_events(&invoice)?.into_iter().nth(index);
        match event {
            Some(e) if e.seq == seq => Ok(Some(e)),
            _ => Err(StoreError::Corrupt(format!(
                "event {seq} is not where the event log points"
            ))),
        }
    }

    /// The event with id `evt_…`.
    pub fn event(&self, id: &str) -> Result<Option<Event>, StoreError> {
        let Some(invoice) = crate::event::invoice_of_event_id(id) else {
            return Ok(None);
        };
        Ok(self.invoice_events(&invoice)?.into_iter().find(|e| e.id == id))
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
            Some(c) => c.parse::<u64>().map_err(|_| StoreError::InvalidCursor)?,
            None => 0,
        };
        let keep = |e: &Event| e.seq > after && state.is_none_or(|s| e.state == s);
        let mut page = Vec::new();
        let mut more = false;
        match invoice {
            Some(id) => {
                for event in self.invoice_events(id)?.into_iter().filter(keep) {
                    if page.len() == limit {
                        more = true;
                        break;
                    }
                    page.push(event);
                }
            }
            None => {
                let last = decode_counter(self.trees.meta.get(META_EVENT_SEQ)?.as_deref())?;
                // The events of one invoice are read once for a run of references to it.
                let mut current: Option<(InvoiceId, Vec<Event>)> = None;
                let (first_chunk, _) = layout::chunk_of(after);
                'chunks: for entry in self.trees.event_log.range(first_chunk..) {
                    let (key, chunk) = entry?;
                    let chunk_no = decode_counter(Some(&key))?;
                    let text = std::str::from_utf8(&chunk)
                        .map_err(|_| StoreError::Corrupt("unreadable event log chunk".into()))?;
                    for (line_no, line) in text.split_terminator('\n').enumerate() {
                        let seq = chunk_no * layout::CHUNK + line_no as u64 + 1;
                        if seq <= after {
                            continue;
                        }
                        if seq > last {
                            break 'chunks;
                        }
                        let (id, index) = layout::parse_event_ref(line)?;
                        if current.as_ref().is_none_or(|(c, _)| *c != id) {
                            let events = self.invoice_events(&id)?;
                            current = Some((id, events));
                        }
                        let Some(event) = current.as_ref().and_then(|(_, events)| events.get(index)) else {
                            return Err(StoreError::Corrupt(format!(
                                "the event log points at a missing event {line}"
                            )));
                        };
                        if !keep(event) {
                            continue;
                        }
                        if page.len() == limit {
                            more = true;
                            break 'chunks;
                        }
                        page.push(event.clone());
                    }
                }
            }
        }
        let next = more.then(|| page.last().map(|e: &Event| e.seq.to_string())).flatten();
        Ok((page, next))
    }

    /// How many events are in each delivery state (every invoice's events are read).
    pub fn event_state_counts(&self) -> Result<Vec<(DeliveryState, u64)>, StoreError> {
        let mut counts = [
            (DeliveryState::Pending, 0u64),
            (DeliveryState::Delivered, 0),
            (DeliveryState::Failed, 0),
            (DeliveryState::NoEndpoint, 0),
        ];
        for events in self.trees.events.iter().values() {
            for state in layout::decode_event_states(&events?)? {
                if let Some(slot) = counts.iter_mut().find(|(s, _)| *s == state) {
                    slot.1 += 1;
                }
            }
        }
        Ok(counts.to_vec())
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
