//! Invoice transitions and their events: the store applies the lifecycle to
//! what the confirmer saw and writes the new invoice, its events (with the
//! invoice's earlier ones in `events`, referenced from the `event_log` and,
//! when they have somewhere to go, queued in the `outbox`) and the watch list
//! change in ONE transaction. A crash can never lose the
//! notification of a change, nor send one for a change that was not stored.

use actix::prelude::*;
use chrono::{DateTime, Utc};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use super::actor::InvoiceStore;
use super::{decode_counter, layout, StoreError, META_EVENT_SEQ};
use crate::event::Event;
use crate::invoice::lifecycle::{self, EventKind, Observation, Policy};
use crate::invoice::{Invoice, InvoiceId, Payment};

/// Apply what the confirmer (or the expiry clock) saw for one invoice.
#[derive(Debug, Message)]
#[rtype(result = "Result<Applied, StoreError>")]
pub struct ApplyObservation {
    /// The invoice.
    pub invoice_id: InvoiceId,
    /// Payments now seen for its address; `None`: the stored ones (a clock tick).
    pub payments: Option<Vec<Payment>>,
    /// The chain tip.
    pub tip: u64,
    /// Now.
    pub now: DateTime<Utc>,
    /// Tolerance and monitoring window.
    pub policy: Policy,
}

/// The reply to [`ApplyObservation`].
#[derive(Debug, Clone)]
pub struct Applied {
    /// The invoice after the transition (unchanged if nothing changed).
    pub invoice: Invoice,
    /// The events written, in order.
    pub events: Vec<EventKind>,
    /// Whether the confirmer must keep watching it.
    pub watched: bool,
    /// Events written that wait for delivery (announced once on disk).
    pub pending: Vec<(InvoiceId, u64)>,
}

/// Tell `recipient` about every invoice created from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Subscribe(pub Recipient<Watch>);

/// A new invoice to watch.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Watch(pub Invoice);

/// The key of an event in the `outbox`: its global sequence, big-endian.
pub(super) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

impl InvoiceStore {
    /// Applies an observation (without waiting for the flush); `None` when nothing changed.
    pub(super) fn observe(&mut self, msg: ApplyObservation) -> Result<(Applied, bool), StoreError> {
        let before = self
            .reader
            .invoice(&msg.invoice_id)?
            .ok_or_else(|| StoreError::Corrupt(format!("observation for unknown invoice {}", msg.invoice_id)))?;
        let seen = Observation {
            payments: msg.payments.unwrap_or_else(|| before.payments.clone()),
            tip: msg.tip,
            now: msg.now,
        };
        let transition = lifecycle::apply(&before, &seen, &msg.policy);
        let watched = lifecycle::still_watched(&transition.invoice, msg.now, &msg.policy);
        if !transition.changed(&before) && watched {
            return Ok((
                Applied {
                    invoice: before,
                    events: Vec::new(),
                    watched,
                    pending: Vec::new(),
                },
                false,
            ));
        }
        let invoice = transition.invoice;
        let id = invoice.id.clone();
        let mut all_events = self.reader.invoice_events(&id)?;
        let earlier = all_events.len() as u64;
        let first_seq = decode_counter(self.trees.meta.get(META_EVENT_SEQ)?.as_deref())? + 1;
        let url = if self.webhook_secret_missing {
            None
        } else {
            invoice.webhook_url.clone().or_else(|| self.default_webhook_url.clone())
        };
        let snapshot = invoice.to_api(&self.public_url, Some(msg.tip));
        let events: Vec<Event> = transition
            .events
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let n = i as u64;
                Event::new(
                    first_seq + n,
                    *kind,
                    id.clone(),
                    earlier + n + 1,
                    snapshot.clone(),
                    url.clone(),
                    msg.now,
                )
            })
            .collect();
        let pending: Vec<u64> = events.iter().filter(|e| e.url.is_some()).map(|e| e.seq).collect();
        let last_seq = first_seq + events.len() as u64 - 1;
        let refs = (0..events.len()).map(|i| layout::event_ref(&id, earlier as usize + i));
        let chunks = layout::append_lines(first_seq - 1, refs, |key| {
            Ok::<_, StoreError>(self.trees.event_log.get(key)?.map(|c| c.to_vec()))
        })?;
        let has_events = !events.is_empty();
        all_events.extend(events);
        let json = layout::encode_invoice(&invoice)?;
        let events_value = layout::encode_events(&all_events)?;
        let t = &self.trees;
        let trees = (&t.invoices, &t.watch, &t.events, &t.event_log, &t.outbox, &t.meta);
        let queued = std::cell::Cell::new(0isize);
        let outcome = trees.transaction(|(invoices, watch, events_tree, event_log, outbox, meta)| {
            invoices.insert(id.as_str().as_bytes(), json.as_slice())?;
            if has_events {
                events_tree.insert(id.as_str().as_bytes(), events_value.as_slice())?;
            }
            if !watched {
                watch.remove(id.as_str().as_bytes())?;
            }
            for (key, chunk) in &chunks {
                event_log.insert(key, chunk.as_slice())?;
            }
            for seq in &pending {
                if outbox.insert(&seq_key(*seq), &[])?.is_none() {
                    queued.set(queued.get() + 1);
                }
            }
            if has_events {
                meta.insert(META_EVENT_SEQ, &last_seq.to_be_bytes())?;
            }
            if invoice.status != before.status {
                super::bump(meta, &super::status_key(before.status), -1)?;
                super::bump(meta, &super::status_key(invoice.status), 1)?;
            }
            Ok::<_, ConflictableTransactionError<()>>(())
        });
        match outcome {
            Ok(()) => super::Trees::adjust(&self.trees.counts.outbox, queued.get()),
            Err(TransactionError::Storage(e)) => return Err(e.into()),
            Err(TransactionError::Abort(())) => return Err(StoreError::Corrupt("transition aborted".into())),
        }
        let pending = pending.into_iter().map(|seq| (id.clone(), seq)).collect();
        let kinds = transition.events;
        if invoice.status != before.status {
            log::info!("invoice {id} {} -> {}", before.status.as_str(), invoice.status.as_str());
        }
        for kind in &kinds {
            log::debug!("invoice {id} event {}", kind.type_name());
        }
        if !watched {
            log::info!("invoice {id} no longer watched ({})", invoice.status.as_str());
        }
        Ok((
            Applied {
                invoice,
                events: kinds,
                watched,
                pending,
            },
            true,
        ))
    }
}

impl Handler<ApplyObservation> for InvoiceStore {
    type Result = ResponseFuture<Result<Applied, StoreError>>;

    fn handle(&mut self, msg: ApplyObservation, ctx: &mut Context<Self>) -> Self::Result {
        match self.observe(msg) {
            Ok((applied, false)) => Box::pin(async move { Ok(applied) }),
            Ok((applied, true)) => {
                let announce = self.announcer();
                let durable = self.reply_when_durable(Ok(applied), ctx);
                Box::pin(async move {
                    let applied = durable.await?;
                    announce(applied.pending.clone());
                    Ok(applied)
                })
            }
            Err(e) => {
                log::error!("applying an observation failed: {e}");
                Box::pin(async move { Err(e) })
            }
        }
    }
}

impl Handler<Subscribe> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) {
        self.subscribers.push(msg.0);
    }
}
