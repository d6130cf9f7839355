//! An invoice transition and its events in ONE transaction: the new invoice,
//! its status index entry, its events (with the invoice's earlier ones),
//! their event-log references, the outbox or event-state index entry of each,
//! the watch list change and the counters. A crash can never lose the
//! notification of a change, nor send one for a change that was not stored.

use sled::transaction::{ConflictableTransactionError, Transactional, TransactionalTree, UnabortableTransactionError};

use super::super::counts::{bump, Counts};
use super::super::error::StoreError;
use super::super::layout::keys::{encode_counter, EventStateKey, MetaKey, Seq, StatusKey};
use super::super::layout::log::{ChunkWrites, ChunkedLog};
use super::super::layout::trees::Trees;
use super::super::layout::values;
use super::super::lookup;
use super::super::messages::{Applied, ApplyObservation};
use crate::event::route::Routes;
use crate::event::{DeliveryState, Event};
use crate::invoice::lifecycle::{self, EventKind, Observation};
use crate::invoice::{Invoice, InvoiceStatus};

/// Everything a transition writes, worked out before its transaction.
struct Planned {
    /// The invoice's status before.
    before: InvoiceStatus,
    /// The invoice after.
    invoice: Invoice,
    /// Its position in the creation log.
    position: u64,
    /// Its stored form.
    record: Vec<u8>,
    /// The events this transition makes.
    new_events: Vec<Event>,
    /// Every event of the invoice, stored form.
    all_events: Vec<u8>,
    /// The event-log chunks to write.
    chunks: ChunkWrites,
    /// Whether the confirmer keeps watching it.
    watched: bool,
}

/// Applies an observation; `changed` is false when nothing was written.
pub fn apply_transition(
    trees: &Trees,
    counts: &Counts,
    routes: &Routes,
    msg: ApplyObservation,
) -> Result<(Applied, bool), StoreError> {
    let stored = lookup::stored_invoice(trees, msg.invoice_id.as_str().as_bytes())?
        .ok_or_else(|| StoreError::Corrupt(format!("observation for unknown invoice {}", msg.invoice_id)))?;
    let (position, before) = (stored.position, stored.invoice);
    let seen = Observation {
        payments: msg.payments.unwrap_or_else(|| before.payments.clone()),
        tip: msg.tip,
        now: msg.now,
    };
    let transition = lifecycle::apply(&before, &seen, &msg.policy);
    let watched = lifecycle::still_watched(&transition.invoice, msg.now, &msg.policy);
    if !transition.changed(&before) && watched {
        let unchanged = Applied {
            invoice: before,
            events: Vec::new(),
            watched,
            pending: Vec::new(),
        };
        return Ok((unchanged, false));
    }
    Ok((
        commit(
            trees, counts, routes, before, position, transition, msg.tip, msg.now, watched,
        )?,
        true,
    ))
}

/// Writes a transition of `before` (stored at `position`) and its events,
/// routed by `routes` to bchpay's own destination and the registered
/// webhooks; what to reply. The observation's and the mark's one path.
#[allow(clippy::too_many_arguments)]
pub fn commit(
    trees: &Trees,
    counts: &Counts,
    routes: &Routes,
    before: Invoice,
    position: u64,
    transition: lifecycle::Transition,
    tip: u64,
    now: chrono::DateTime<chrono::Utc>,
    watched: bool,
) -> Result<Applied, StoreError> {
    let registered = super::webhooks::all(trees)?;
    let events = routes.events(
        &transition.invoice,
        &transition.events,
        &registered,
        lookup::counter(trees, MetaKey::EventSeq)? + 1,
        lookup::invoice_events(trees, &before.id)?.len() as u64,
        tip,
        now,
    );
    let kinds = transition.kinds();
    let planned = plan(trees, &before, transition.invoice, position, events, watched)?;
    let queued = write(trees, &planned)?;
    Counts::adjust(&counts.outbox, queued);
    log_transition(&before, &planned.invoice, &kinds, watched);
    let id = &planned.invoice.id;
    let pending = planned
        .new_events
        .iter()
        .filter(|e| e.state == DeliveryState::Pending)
        .map(|e| (id.clone(), e.seq))
        .collect();
    Ok(Applied {
        invoice: planned.invoice,
        // api.md's kinds, as before Greenfield's joined them.
        events: kinds.into_iter().filter(|k| k.is_own()).collect(),
        watched,
        pending,
    })
}

/// Works out the bytes of a transition.
fn plan(
    trees: &Trees,
    before: &Invoice,
    invoice: Invoice,
    position: u64,
    new_events: Vec<Event>,
    watched: bool,
) -> Result<Planned, StoreError> {
    let mut all_events = lookup::invoice_events(trees, &invoice.id)?;
    let earlier = all_events.len();
    let first = new_events.first().map_or(0, |e| e.seq.saturating_sub(1));
    let refs = (0..new_events.len()).map(|i| values::event_ref(&invoice.id, earlier + i));
    let chunks = trees.event_log().plan_append(first, refs)?;
    all_events.extend(new_events.iter().cloned());
    Ok(Planned {
        before: before.status,
        record: values::encode_invoice(position, &invoice)?,
        invoice,
        position,
        all_events: values::encode_events(&all_events)?,
        new_events,
        chunks,
        watched,
    })
}

/// The one transaction; returns how many events entered the outbox.
fn write(trees: &Trees, p: &Planned) -> Result<isize, StoreError> {
    let t = trees;
    let trees = (
        &t.invoices,
        &t.by_status,
        &t.watch,
        &t.events,
        &t.event_log,
        &t.outbox,
        &t.by_event_state,
        &t.meta,
    );
    let queued = trees.transaction(
        |(invoices, by_status, watch, events, event_log, outbox, by_state, meta)| {
            write_invoice(p, invoices, by_status, watch, meta)?;
            let queued = write_events(p, events, event_log, outbox, by_state, meta)?;
            Ok::<_, ConflictableTransactionError<StoreError>>(queued)
        },
    )?;
    Ok(queued)
}

/// The invoice, its status index entry and counters, its watch entry.
fn write_invoice(
    p: &Planned,
    invoices: &TransactionalTree,
    by_status: &TransactionalTree,
    watch: &TransactionalTree,
    meta: &TransactionalTree,
) -> Result<(), UnabortableTransactionError> {
    let key = p.invoice.id.as_str().as_bytes();
    let status_key = |status| {
        StatusKey {
            status,
            position: p.position,
        }
        .encode()
    };
    invoices.insert(key, p.record.as_slice())?;
    if p.before != p.invoice.status {
        by_status.remove(&status_key(p.before))?;
        by_status.insert(&status_key(p.invoice.status), key)?;
        bump(meta, MetaKey::Status(p.before), -1)?;
        bump(meta, MetaKey::Status(p.invoice.status), 1)?;
    }
    if !p.watched {
        watch.remove(key)?;
    }
    Ok(())
}

/// The events, their log references, the outbox or the event-state index;
/// returns how many entered the outbox.
fn write_events(
    p: &Planned,
    events: &TransactionalTree,
    event_log: &TransactionalTree,
    outbox: &TransactionalTree,
    by_state: &TransactionalTree,
    meta: &TransactionalTree,
) -> Result<isize, UnabortableTransactionError> {
    let Some(last) = p.new_events.last() else { return Ok(0) };
    events.insert(p.invoice.id.as_str().as_bytes(), p.all_events.as_slice())?;
    ChunkedLog::write_in(event_log, &p.chunks)?;
    meta.insert(MetaKey::EventSeq.encode(), &encode_counter(last.seq))?;
    let mut queued = 0;
    for event in &p.new_events {
        if event.state == DeliveryState::Pending {
            outbox.insert(&Seq(event.seq).encode(), &[])?;
            queued += 1;
        } else if let Some(k) = EventStateKey::of(event) {
            by_state.insert(&k, &[])?;
        }
    }
    Ok(queued)
}

/// One line per change worth knowing.
fn log_transition(before: &Invoice, after: &Invoice, kinds: &[EventKind], watched: bool) {
    let id = &after.id;
    if after.status != before.status {
        log::info!("invoice {id} {} -> {}", before.status.as_str(), after.status.as_str());
    }
    for kind in kinds {
        log::debug!("invoice {id} event {}", kind.type_name());
    }
    if !watched {
        log::info!("invoice {id} no longer watched ({})", after.status.as_str());
    }
}
