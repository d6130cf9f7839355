//! An event's delivery record: an attempt and its outcome, or a redelivery
//! by hand, written among its invoice's events together with the event's
//! move between the outbox (pending) and the event-state index (the rest).

use chrono::{DateTime, Utc};
use sled::transaction::Transactional;

use super::super::counts::Counts;
use super::super::error::StoreError;
use super::super::layout::keys::{EventStateKey, Seq};
use super::super::layout::trees::Trees;
use super::super::layout::values;
use super::super::lookup;
use super::super::messages::{Outcome, RecordAttempt};
use crate::event::route::Routes;
use crate::event::{DeliveryState, Event};

/// Records one delivery attempt and what follows it.
pub fn record_attempt(trees: &Trees, counts: &Counts, msg: RecordAttempt) -> Result<Event, StoreError> {
    let before = lookup::event_by_seq(trees, msg.seq)?.ok_or(StoreError::NotFound)?;
    let mut event = before.clone();
    event.attempts.push(msg.attempt);
    match msg.outcome {
        Outcome::Delivered => {
            event.state = DeliveryState::Delivered;
            event.next_attempt_at = None;
        }
        Outcome::Retry(at) => {
            event.state = DeliveryState::Pending;
            event.next_attempt_at = Some(at);
        }
        Outcome::Failed => {
            event.state = DeliveryState::Failed;
            event.next_attempt_at = None;
        }
    }
    write_event(trees, counts, &before, &event)?;
    Ok(event)
}

/// Queues an event again, now; its destination is asked of `routes` again
/// when it had none.
pub fn redeliver(
    trees: &Trees,
    counts: &Counts,
    routes: &Routes,
    event_id: &str,
    now: DateTime<Utc>,
) -> Result<Event, StoreError> {
    let before = lookup::event(trees, event_id)?.ok_or(StoreError::NotFound)?;
    let mut event = before.clone();
    // A registered webhook's event keeps its webhook (signed with its own secret).
    if event.webhook.is_none() && (event.url.is_none() || !routes.can_sign) {
        let invoice = lookup::stored_invoice(trees, event.invoice_id.as_str().as_bytes())?
            .ok_or_else(|| StoreError::Corrupt(format!("event {} has no invoice", event.id)))?;
        event.url = routes.redelivery_url(&invoice.invoice, event.kind);
    }
    if event.url.is_none() {
        return Err(StoreError::NoEndpoint);
    }
    event.state = DeliveryState::Pending;
    event.next_attempt_at = Some(now);
    event.round_start = event.attempts.len();
    write_event(trees, counts, &before, &event)?;
    log::info!(
        "event {} of invoice {} queued again by hand",
        event.id,
        event.invoice_id
    );
    Ok(event)
}

/// Writes `after` over `before` among its invoice's events, and moves it
/// between the outbox and the event-state index, in one transaction.
fn write_event(trees: &Trees, counts: &Counts, before: &Event, after: &Event) -> Result<(), StoreError> {
    let id = after.invoice_id.as_str();
    let mut events = lookup::invoice_events(trees, &after.invoice_id)?;
    let slot = events
        .iter_mut()
        .find(|e| e.seq == after.seq)
        .ok_or_else(|| StoreError::Corrupt(format!("event {} is not among its invoice's events", after.id)))?;
    *slot = after.clone();
    let stored = values::encode_events(&events)?;
    let seq = Seq(after.seq).encode();
    let (old_state, new_state) = (EventStateKey::of(before), EventStateKey::of(after));
    let pending = after.state == DeliveryState::Pending;
    let delta =
        (&trees.events, &trees.outbox, &trees.by_event_state).transaction(|(events_tree, outbox, by_state)| {
            events_tree.insert(id.as_bytes(), stored.as_slice())?;
            if let Some(k) = &old_state {
                by_state.remove(k)?;
            }
            if let Some(k) = &new_state {
                by_state.insert(k, &[])?;
            }
            let delta: isize = match (pending, outbox.get(seq)?.is_some()) {
                (true, false) => {
                    outbox.insert(&seq, &[])?;
                    1
                }
                (false, true) => {
                    outbox.remove(&seq)?;
                    -1
                }
                _ => 0,
            };
            Ok::<_, sled::transaction::ConflictableTransactionError<StoreError>>(delta)
        })?;
    Counts::adjust(&counts.outbox, delta);
    Ok(())
}
