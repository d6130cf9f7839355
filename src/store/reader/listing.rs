//! The listings, each O(limit): invoices newest first through the creation
//! log or the status index, events oldest first through the event log, the
//! outbox or the event-state index.

use super::super::error::StoreError;
use super::super::layout::keys::{EventStateKey, Seq, StatusKey};
use super::super::layout::values;
use super::super::lookup;
use super::StoreReader;
use crate::event::{DeliveryState, Event};
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus};

/// A page and the cursor of the next one.
type Page<T> = (Vec<T>, Option<String>);

/// Takes up to `limit` of `items` (position, item); the cursor of the next
/// page (the position of the last shown) only when one more item exists.
fn page_of<T>(items: impl Iterator<Item = Result<(u64, T), StoreError>>, limit: usize) -> Result<Page<T>, StoreError> {
    let mut page = Vec::new();
    let mut last = None;
    for item in items {
        let (position, item) = item?;
        if page.len() == limit {
            return Ok((page, last.map(|p: u64| p.to_string())));
        }
        page.push(item);
        last = Some(position);
    }
    Ok((page, None))
}

impl StoreReader {
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
    ) -> Result<Page<Invoice>, StoreError> {
        // A cursor is the position (in the creation log) of the last invoice
        // shown, in the form handed out: an older invoice exists, so it is > 0.
        let before = match cursor {
            Some(c) => match c.parse::<u64>() {
                Ok(p) if p > 0 && p.to_string() == c => Some(p),
                _ => return Err(StoreError::InvalidCursor),
            },
            None => None,
        };
        if limit == 0 {
            return Ok((Vec::new(), None));
        }
        if let Some(order_id) = order_id {
            // An order has at most one invoice: no scan needed, and no next page.
            let found = self
                .invoice_by_order(order_id)?
                .filter(|inv| status.is_none_or(|s| inv.status == s));
            return Ok((found.into_iter().collect(), None));
        }
        let count = self.invoice_count()?;
        let Some(newest) = before.unwrap_or(count).min(count).checked_sub(1) else {
            return Ok((Vec::new(), None));
        };
        let trees = self.trees()?;
        let trees = &trees;
        let invoice_at = |id: &[u8]| lookup::indexed_invoice(trees, id);
        match status {
            None => {
                let log = trees.created_log();
                let items = log
                    .backward(newest)
                    .map(|e| e.and_then(|(n, id)| Ok((n, invoice_at(id.as_bytes())?))));
                page_of(items, limit)
            }
            Some(status) => {
                let from = StatusKey { status, position: 0 }.encode();
                let to = StatusKey {
                    status,
                    position: newest,
                }
                .encode();
                let items = trees.by_status.range(from..=to).rev().map(|entry| {
                    let (key, id) = entry?;
                    Ok((StatusKey::decode(&key)?.position, invoice_at(&id)?))
                });
                page_of(items, limit)
            }
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
    ) -> Result<Page<Event>, StoreError> {
        let after = match cursor {
            Some(c) => c.parse::<u64>().map_err(|_| StoreError::InvalidCursor)?,
            None => 0,
        };
        if let Some(id) = invoice {
            let keep = |e: &Event| e.seq > after && state.is_none_or(|s| e.state == s);
            let mine = self.invoice_events(id)?.into_iter().filter(keep);
            return page_of(mine.map(|e| Ok((e.seq, e))), limit);
        }
        match state {
            None => self.events_in_order(after, limit),
            Some(DeliveryState::Pending) => {
                let trees = self.trees()?;
                let seqs = trees.outbox.range(Seq(after + 1).encode()..).keys();
                page_of(seqs.map(|k| self.indexed_event(Seq::decode(&k?)?.0)), limit)
            }
            Some(state) => {
                let (Some(from), Some(to)) = (
                    EventStateKey { state, seq: after + 1 }.encode(),
                    EventStateKey { state, seq: u64::MAX }.encode(),
                ) else {
                    return Ok((Vec::new(), None));
                };
                let trees = self.trees()?;
                let keys = trees.by_event_state.range(from..=to).keys();
                page_of(keys.map(|k| self.indexed_event(EventStateKey::decode(&k?)?.seq)), limit)
            }
        }
    }

    /// An event through an index: the index must point at a stored event.
    fn indexed_event(&self, seq: u64) -> Result<(u64, Event), StoreError> {
        match self.event_by_seq(seq)? {
            Some(event) => Ok((seq, event)),
            None => Err(StoreError::Corrupt(format!(
                "an index points at event {seq}, which is not stored"
            ))),
        }
    }

    /// Every event after sequence `after`, through the event log; the events
    /// of one invoice are read once for a run of references to it.
    fn events_in_order(&self, after: u64, limit: usize) -> Result<Page<Event>, StoreError> {
        let log = self.trees()?.event_log();
        let last = log.len()?;
        let mut current: Option<(InvoiceId, Vec<Event>)> = None;
        let items = log.forward(after, last.saturating_sub(1)).map(|entry| {
            let (n, line) = entry?;
            let (id, index) = values::parse_event_ref(&line)?;
            if current.as_ref().is_none_or(|(c, _)| *c != id) {
                let events = self.invoice_events(&id)?;
                current = Some((id, events));
            }
            match current.as_ref().and_then(|(_, events)| events.get(index)) {
                Some(event) => Ok((n + 1, event.clone())),
                None => Err(StoreError::Corrupt(format!(
                    "the event log points at a missing event {line}"
                ))),
            }
        });
        page_of(items, limit)
    }
}
