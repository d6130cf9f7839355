//! [`check_invariants`]: the invariants written in `layout.rs`, checked over
//! a whole store (it reads everything: for tests, the drill and
//! `bchpay inspect stats --check`, not for a request path).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::error::StoreError;
use super::layout::keys::{EventStateKey, MetaKey, Seq, StatusKey, STATUSES};
use super::layout::trees::Trees;
use super::lookup;
use super::reader::StoreReader;
use crate::event::DeliveryState;
use crate::invoice::InvoiceStatus;

/// Every invariant broken in the store read by `reader`, in words (empty: all hold).
pub fn check_invariants(reader: &StoreReader) -> Result<Vec<String>, StoreError> {
    let trees = &reader.trees()?;
    let mut broken = Vec::new();
    logs_match_counters(trees, &mut broken)?;
    invoices_are_indexed(trees, &mut broken)?;
    events_are_indexed(trees, &mut broken)?;
    let counts = reader.counts();
    let (pool, outbox) = (
        counts.pool.load(Ordering::Relaxed),
        counts.outbox.load(Ordering::Relaxed),
    );
    if pool != trees.pool.len() || outbox != trees.outbox.len() {
        broken.push(format!(
            "kept sizes pool {pool} / outbox {outbox}, trees hold {} / {}",
            trees.pool.len(),
            trees.outbox.len()
        ));
    }
    addresses_point_home(trees, &mut broken)?;
    Ok(broken)
}

/// 1. A log's length equals its counter.
fn logs_match_counters(trees: &Trees, broken: &mut Vec<String>) -> Result<(), StoreError> {
    for (what, log, key) in [
        ("by_time", trees.created_log(), MetaKey::InvoiceCount),
        ("event_log", trees.event_log(), MetaKey::EventSeq),
    ] {
        let (len, counter) = (log.len()?, lookup::counter(trees, key)?);
        if len != counter {
            broken.push(format!("{what} holds {len} entries, its counter says {counter}"));
        }
    }
    Ok(())
}

/// 2 and 4. Every invoice at its position, indexed under its status once;
/// the status counters equal the invoices.
fn invoices_are_indexed(trees: &Trees, broken: &mut Vec<String>) -> Result<(), StoreError> {
    let mut statuses: HashMap<InvoiceStatus, u64> = HashMap::new();
    let log = trees.created_log();
    let len = log.len()?;
    for entry in log.forward(0, len.saturating_sub(1)) {
        let (position, id) = entry?;
        let Some(stored) = lookup::stored_invoice(trees, id.as_bytes())? else {
            broken.push(format!("by_time names invoice {id} at {position}, which is not stored"));
            continue;
        };
        let status = stored.invoice.status;
        *statuses.entry(status).or_insert(0) += 1;
        if stored.position != position {
            broken.push(format!(
                "invoice {id} says position {}, by_time {position}",
                stored.position
            ));
        }
        let key = StatusKey { status, position }.encode();
        if trees.by_status.get(key)?.as_deref() != Some(id.as_bytes()) {
            broken.push(format!("invoice {id} ({status}) is not in by_status"));
        }
    }
    if trees.by_status.len() as u64 != len {
        broken.push(format!(
            "by_status holds {} entries for {len} invoices",
            trees.by_status.len()
        ));
    }
    if trees.invoices.len() as u64 != len {
        broken.push(format!("{} invoices stored, {len} in by_time", trees.invoices.len()));
    }
    for status in STATUSES {
        let (counted, kept) = (
            statuses.get(&status).copied().unwrap_or(0),
            lookup::counter(trees, MetaKey::Status(status))?,
        );
        if counted != kept {
            broken.push(format!("{counted} invoices are {status}, the counter says {kept}"));
        }
    }
    Ok(())
}

/// 3 and 6. An event is in the outbox exactly when pending, in the
/// event-state index exactly when not; the event log points at every event.
fn events_are_indexed(trees: &Trees, broken: &mut Vec<String>) -> Result<(), StoreError> {
    let (mut pending, mut settled) = (0usize, 0usize);
    for entry in trees.events.iter() {
        let (id, events) = entry?;
        for event in super::layout::values::decode_events(&events)? {
            let in_outbox = trees.outbox.contains_key(Seq(event.seq).encode())?;
            let indexed = match (EventStateKey {
                state: event.state,
                seq: event.seq,
            })
            .encode()
            {
                Some(key) => trees.by_event_state.contains_key(key)?,
                None => false,
            };
            let is_pending = event.state == DeliveryState::Pending;
            if in_outbox != is_pending || indexed == is_pending {
                broken.push(format!(
                    "event {} of invoice {} is {} but outbox: {in_outbox}, state index: {indexed}",
                    event.id,
                    String::from_utf8_lossy(&id),
                    event.state.as_str()
                ));
            }
            if lookup::event_by_seq(trees, event.seq).ok().flatten().as_ref() != Some(&event) {
                broken.push(format!("the event log does not point at event {}", event.seq));
            }
            if is_pending {
                pending += 1;
            } else {
                settled += 1;
            }
        }
    }
    if trees.outbox.len() != pending || trees.by_event_state.len() != settled {
        broken.push(format!(
            "{pending} pending and {settled} other events; outbox {}, state index {}",
            trees.outbox.len(),
            trees.by_event_state.len()
        ));
    }
    Ok(())
}

/// 5. Every address of the ledger and every order points at its invoice, and
///    no pooled address is in the ledger.
fn addresses_point_home(trees: &Trees, broken: &mut Vec<String>) -> Result<(), StoreError> {
    for entry in trees.by_address.iter() {
        let (address, id) = entry?;
        let owner = lookup::stored_invoice(trees, &id)?;
        if owner.as_ref().map(|s| s.invoice.address.as_str().as_bytes()) != Some(&address[..]) {
            broken.push(format!(
                "address {} points at an invoice without it",
                String::from_utf8_lossy(&address)
            ));
        }
        if trees.pool.contains_key(&address)? {
            broken.push(format!(
                "address {} is pooled and in the ledger",
                String::from_utf8_lossy(&address)
            ));
        }
    }
    for entry in trees.by_order.iter() {
        let (order, id) = entry?;
        let owner = lookup::stored_invoice(trees, &id)?;
        if owner
            .as_ref()
            .and_then(|s| s.invoice.order_id.as_deref())
            .map(str::as_bytes)
            != Some(&order[..])
        {
            broken.push(format!(
                "order {} points at an invoice without it",
                String::from_utf8_lossy(&order)
            ));
        }
    }
    Ok(())
}
