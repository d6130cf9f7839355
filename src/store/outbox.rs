//! The outbox side of the store: delivery attempts recorded with the event,
//! an event leaving the outbox once delivered or failed, redelivery by hand,
//! and telling the dispatcher about events that become pending.

use actix::prelude::*;
use chrono::{DateTime, Utc};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use super::actor::InvoiceStore;
use super::observe::seq_key;
use super::{layout, StoreError};
use crate::event::{Attempt, DeliveryState, Event};
use crate::invoice::InvoiceId;

/// Tell `recipient` about every event that becomes pending from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SubscribeEvents(pub Recipient<EventsPending>);

/// Events that became pending: (invoice, event sequence), in order.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct EventsPending(pub Vec<(InvoiceId, u64)>);

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx: out of the outbox.
    Delivered,
    /// Try again at this time.
    Retry(DateTime<Utc>),
    /// The schedule is spent: out of the outbox, redeliverable by hand.
    Failed,
}

/// Record one delivery attempt of event `seq` and its outcome.
#[derive(Debug, Message)]
#[rtype(result = "Result<Event, StoreError>")]
pub struct RecordAttempt {
    /// The event.
    pub seq: u64,
    /// What happened.
    pub attempt: Attempt,
    /// What follows.
    pub outcome: Outcome,
}

/// Queue an event for delivery again, now (by hand).
#[derive(Debug, Message)]
#[rtype(result = "Result<Event, StoreError>")]
pub struct Redeliver {
    /// The event's id (`evt_…`).
    pub event_id: String,
    /// Now.
    pub now: DateTime<Utc>,
}

impl InvoiceStore {
    /// Writes `event` among its invoice's events and puts it in or takes it
    /// out of the outbox, in one transaction.
    fn write_event(&mut self, event: &Event) -> Result<(), StoreError> {
        let id = event.invoice_id.as_str();
        let mut events = self.reader.invoice_events(&event.invoice_id)?;
        let slot = events
            .iter_mut()
            .find(|e| e.seq == event.seq)
            .ok_or_else(|| StoreError::Corrupt(format!("event {} is not among its invoice's events", event.id)))?;
        *slot = event.clone();
        let stored = layout::encode_events(&events)?;
        let key = seq_key(event.seq);
        let pending = event.state == DeliveryState::Pending;
        let t = &self.trees;
        let delta = std::cell::Cell::new(0isize);
        (&t.events, &t.outbox)
            .transaction(|(events_tree, outbox)| {
                events_tree.insert(id.as_bytes(), stored.as_slice())?;
                if pending {
                    delta.set(if outbox.insert(&key, &[])?.is_none() { 1 } else { 0 });
                } else {
                    delta.set(if outbox.remove(&key)?.is_some() { -1 } else { 0 });
                }
                Ok::<_, ConflictableTransactionError<()>>(())
            })
            .map(|()| super::Trees::adjust(&t.counts.outbox, delta.get()))
            .map_err(|e| match e {
                TransactionError::Storage(e) => StoreError::from(e),
                TransactionError::Abort(()) => StoreError::Corrupt("event write aborted".into()),
            })
    }

    fn record(&mut self, msg: RecordAttempt) -> Result<Event, StoreError> {
        let mut event = self.reader.event_by_seq(msg.seq)?.ok_or(StoreError::NotFound)?;
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
        self.write_event(&event)?;
        Ok(event)
    }

    fn redeliver(&mut self, msg: Redeliver) -> Result<Event, StoreError> {
        let mut event = self.reader.event(&msg.event_id)?.ok_or(StoreError::NotFound)?;
        if event.url.is_none() {
            let invoice = self.reader.invoice(&event.invoice_id)?;
            event.url = invoice
                .and_then(|i| i.webhook_url)
                .or_else(|| self.default_webhook_url.clone());
        }
        if event.url.is_none() || self.webhook_secret_missing {
            return Err(StoreError::NoEndpoint);
        }
        event.state = DeliveryState::Pending;
        event.next_attempt_at = Some(msg.now);
        event.round_start = event.attempts.len();
        self.write_event(&event)?;
        log::info!(
            "event {} of invoice {} queued again by hand",
            event.id,
            event.invoice_id
        );
        Ok(event)
    }

    /// What tells the dispatcher about events that became pending; call it
    /// once they are on disk, never before (nothing is sent for a change that
    /// was not stored).
    pub(super) fn announcer(&self) -> impl FnOnce(Vec<(InvoiceId, u64)>) + 'static {
        let subscribers = self.event_subscribers.clone();
        move |pending| {
            if pending.is_empty() {
                return;
            }
            for subscriber in &subscribers {
                subscriber.do_send(EventsPending(pending.clone()));
            }
        }
    }
}

impl Handler<RecordAttempt> for InvoiceStore {
    type Result = ResponseFuture<Result<Event, StoreError>>;

    fn handle(&mut self, msg: RecordAttempt, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.record(msg);
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<Redeliver> for InvoiceStore {
    type Result = ResponseFuture<Result<Event, StoreError>>;

    fn handle(&mut self, msg: Redeliver, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.redeliver(msg);
        let announce = self.announcer();
        let durable = self.reply_when_durable(result, ctx);
        Box::pin(async move {
            let event = durable.await?;
            announce(vec![(event.invoice_id.clone(), event.seq)]);
            Ok(event)
        })
    }
}

impl Handler<SubscribeEvents> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, msg: SubscribeEvents, _: &mut Context<Self>) {
        self.event_subscribers.push(msg.0);
    }
}
