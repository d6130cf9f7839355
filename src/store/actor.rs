//! `InvoiceStore`: the single writer, a thin actor over the writes of
//! [`super::write`]. Group commit and the handlers live here; the messages
//! beside it in [`super::messages`].
//!
//! It runs supervised on its own `Arbiter` (a thread with its own runtime):
//! its sled transactions block only that thread, never the HTTP workers, and
//! it can await a flush (`flush_async`) while it applies the next writes.
//!
//! Group commit: a write is applied at once and its reply parked; when no
//! flush runs, one starts and takes every parked reply with it. A reply
//! therefore means "on disk". Creations are batched one step further: a
//! `CreateInvoice` is queued, and an apply step that runs once the mailbox is
//! drained writes every queued creation in one transaction.
//!
//! Watched: every write runs through [`InvoiceStore::run`], which applies the
//! test fault hook, catches a panic (the writes of that step are answered
//! with an error, the actor stops and its `Supervisor` restarts it: what was
//! applied before is flushed and answered, nothing acknowledged is lost) and
//! records I/O errors in the shared [`Health`] that `/readyz` reports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::commit::{durable, stopped, CreateReply, GroupCommit, Parked};
use super::counts::Counts;
use super::error::StoreError;
use super::health::Health;
use super::messages::*;
use super::open::Store;
use super::reader::StoreReader;
use super::reopen::Opened;
use super::shared::SharedTrees;
use super::write::{create_batch, event_record, pool, transition, Writes};

mod api_keys;
mod greenfield;
mod lifecycle;
use crate::event::route::Routes;

/// The single writer of the sled database.
pub struct InvoiceStore {
    /// The database and its trees; `None` only while it reopens.
    opened: Option<Opened>,
    /// The directory, to reopen it.
    path: std::path::PathBuf,
    /// The handles readers use, swapped on a reopen.
    shared: SharedTrees,
    /// Sizes kept by the writer.
    counts: Arc<Counts>,
    /// Where events go (policy from outside the store).
    routes: Routes,
    /// Whether writes succeed (shared with `/readyz`), and the fault hook.
    health: Arc<Health>,
    /// Told about every new invoice (the confirmer).
    subscribers: Vec<Recipient<Watch>>,
    /// Told about events that become pending (the webhook dispatcher).
    event_subscribers: Vec<Recipient<EventsPending>>,
    /// Replies parked until their flush.
    commit: GroupCommit,
    /// Creations received, not yet applied (see [`ApplyCreates`]).
    creates: Vec<(CreateInvoice, CreateReply)>,
    /// Whether an [`ApplyCreates`] is scheduled.
    apply_scheduled: bool,
    /// Flushes completed, shared with the readers.
    flushes: Arc<AtomicU64>,
    /// Whether a recovery attempt is scheduled (writes fail).
    recovering: bool,
}

/// Starts the writer, supervised, on its own arbiter; returns its address and
/// a reader. Must be called inside a running actix `System`.
pub fn start(store: Store) -> (Addr<InvoiceStore>, StoreReader) {
    let reader = store.reader();
    let arbiter = Arbiter::new();
    let addr = Supervisor::start_in_arbiter(&arbiter.handle(), move |_| InvoiceStore::new(store));
    (addr, reader)
}

impl InvoiceStore {
    /// The writer of `store`; see [`start`] to run it supervised, off the HTTP threads.
    pub fn new(store: Store) -> InvoiceStore {
        let parts = store.into_parts();
        InvoiceStore {
            opened: Some(Opened {
                db: parts.db,
                trees: parts.trees,
            }),
            path: parts.path,
            shared: parts.shared,
            counts: parts.counts,
            routes: parts.routes,
            health: parts.health,
            subscribers: Vec::new(),
            event_subscribers: Vec::new(),
            commit: GroupCommit::default(),
            creates: Vec::new(),
            apply_scheduled: false,
            flushes: parts.flushes,
            recovering: false,
        }
    }

    /// Runs one write step: the fault hook, then `f`; a panic is caught, the
    /// step answered with [`StoreError::WriterFailed`] and the actor stopped
    /// (its supervisor restarts it). I/O errors mark the store down.
    fn run<T>(
        &mut self,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&Writes<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.health.down().is_some() {
            // Writes failed before: a write is the moment to try again.
            let _ = self.recover();
        }
        let Some(opened) = &self.opened else {
            return Err(StoreError::WriterFailed("the store is being reopened".into()));
        };
        let w = Writes {
            trees: &opened.trees,
            counts: &self.counts,
            routes: &self.routes,
        };
        match self.health.guarded(|| f(&w)) {
            Ok(Err(e)) if e.is_unavailable() => {
                self.health.set_down(&e.to_string());
                self.watch_recovery(ctx);
                Err(e)
            }
            Ok(result) => result,
            Err(why) => {
                log::error!("the store writer panicked ({why}); restarting it");
                ctx.stop();
                Err(StoreError::WriterFailed(why))
            }
        }
    }

    /// Turns the result of an applied write into a reply sent once it is flushed.
    /// Errors are replied at once: nothing was written.
    fn reply_when_durable<T: 'static>(
        &mut self,
        result: Result<T, StoreError>,
        ctx: &mut Context<Self>,
    ) -> ResponseFuture<Result<T, StoreError>> {
        let value = match result {
            Ok(value) => value,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let (tx, rx) = oneshot::channel();
        self.commit.park(Parked::Flush(tx));
        if self.commit.should_flush() {
            self.start_flush(ctx);
        }
        Box::pin(durable(value, rx))
    }

    /// Starts one flush for every write applied so far.
    fn start_flush(&mut self, ctx: &mut Context<Self>) {
        self.commit.begin();
        let db = self.opened.as_ref().map(|o| o.db.clone());
        let flush = async move {
            match db {
                Some(db) => db.flush_async().await.map(drop).map_err(StoreError::from),
                None => Err(StoreError::WriterFailed("the store is being reopened".into())),
            }
        };
        ctx.spawn(flush.into_actor(self).map(|result, act, ctx| {
            act.flushes.fetch_add(1, Ordering::Relaxed);
            match &result {
                Ok(()) => act.health.set_up(),
                Err(e) => {
                    act.health.set_down(&format!("flush failed: {e}"));
                    act.watch_recovery(ctx);
                }
            }
            act.commit.end(&result);
            if act.commit.should_flush() {
                act.start_flush(ctx);
            }
        }));
    }

    /// Flushes now, blocking, and answers every parked reply (stop, restart).
    fn flush_parked(&mut self) {
        let db = self.opened.as_ref().map(|o| &o.db);
        self.commit.answer_all(|| match db {
            Some(db) => db.flush().map(drop).map_err(StoreError::from),
            None => Err(StoreError::WriterFailed("the store is being reopened".into())),
        });
    }

    /// Applies up to one batch of queued creations in one transaction: their
    /// successful replies are parked for the next flush, errors answered at once.
    fn apply_creates(&mut self, ctx: &mut Context<Self>) {
        let n = self.creates.len().min(create_batch::MAX_BATCH);
        let (requests, replies): (Vec<_>, Vec<_>) = self.creates.drain(..n).unzip();
        match self.run(ctx, |w| Ok(create_batch::create_batch(w.trees, w.counts, requests))) {
            Ok(answers) => {
                self.invoice_created_events(ctx, &answers);
                for (reply, answer) in replies.into_iter().zip(answers) {
                    self.park_created(reply, answer);
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
        self.watch_recovery(ctx);
    }

    /// Parks a creation's reply (and tells the watchers of a new invoice).
    fn park_created(&mut self, reply: CreateReply, answer: Result<Created, StoreError>) {
        match answer {
            Ok(created) => {
                if created.created {
                    for subscriber in &self.subscribers {
                        subscriber.do_send(Watch(created.invoice.clone()));
                    }
                }
                self.commit.park(Parked::Created(reply, Box::new(created)));
            }
            Err(e) => {
                if e.is_unavailable() {
                    self.health.set_down(&e.to_string());
                }
                let _ = reply.send(Err(e));
            }
        }
    }

    /// What tells the dispatcher about events that became pending; call it
    /// once they are on disk, never before.
    fn announcer(&self) -> impl FnOnce(Vec<(crate::invoice::InvoiceId, u64)>) + 'static {
        let subscribers = self.event_subscribers.clone();
        move |pending| {
            if !pending.is_empty() {
                for subscriber in &subscribers {
                    subscriber.do_send(EventsPending(pending.clone()));
                }
            }
        }
    }
}

/// Apply the queued creations. Sent by the store to itself: it runs after the
/// messages already in the mailbox, so every creation that arrived meanwhile
/// shares its transaction.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct ApplyCreates;

impl Handler<ApplyCreates> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, _: ApplyCreates, ctx: &mut Context<Self>) {
        self.apply_scheduled = false;
        self.apply_creates(ctx);
        if !self.creates.is_empty() {
            self.apply_scheduled = true;
            ctx.notify(ApplyCreates);
        }
        if self.commit.should_flush() {
            self.start_flush(ctx);
        }
    }
}

impl Handler<CreateInvoice> for InvoiceStore {
    type Result = ResponseFuture<Result<Created, StoreError>>;

    fn handle(&mut self, msg: CreateInvoice, ctx: &mut Context<Self>) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.creates.push((msg, tx));
        if !self.apply_scheduled {
            self.apply_scheduled = true;
            ctx.notify(ApplyCreates);
        }
        Box::pin(async move { rx.await.unwrap_or_else(|_| Err(stopped())) })
    }
}

impl Handler<ApplyObservation> for InvoiceStore {
    type Result = ResponseFuture<Result<Applied, StoreError>>;

    fn handle(&mut self, msg: ApplyObservation, ctx: &mut Context<Self>) -> Self::Result {
        let id = msg.invoice_id.clone();
        match self.run(ctx, |w| transition::apply_transition(w.trees, w.counts, w.routes, msg)) {
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
                log::error!("applying an observation to invoice {id} failed: {e}");
                Box::pin(async move { Err(e) })
            }
        }
    }
}

impl Handler<RecordAttempt> for InvoiceStore {
    type Result = ResponseFuture<Result<crate::event::Event, StoreError>>;

    fn handle(&mut self, msg: RecordAttempt, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.run(ctx, |w| event_record::record_attempt(w.trees, w.counts, msg));
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<Redeliver> for InvoiceStore {
    type Result = ResponseFuture<Result<crate::event::Event, StoreError>>;

    fn handle(&mut self, msg: Redeliver, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.run(ctx, |w| {
            event_record::redeliver(w.trees, w.counts, w.routes, &msg.event_id, msg.now)
        });
        let announce = self.announcer();
        let durable = self.reply_when_durable(result, ctx);
        Box::pin(async move {
            let event = durable.await?;
            announce(vec![(event.invoice_id.clone(), event.seq)]);
            Ok(event)
        })
    }
}

impl Handler<AddToPool> for InvoiceStore {
    type Result = ResponseFuture<Result<usize, StoreError>>;

    fn handle(&mut self, msg: AddToPool, ctx: &mut Context<Self>) -> Self::Result {
        match self.run(ctx, |w| pool::add_to_pool(w.trees, w.counts, msg.addresses)) {
            Ok(0) => Box::pin(async { Ok(0) }),
            result => self.reply_when_durable(result, ctx),
        }
    }
}

impl Handler<Flush> for InvoiceStore {
    type Result = ResponseFuture<Result<(), StoreError>>;

    fn handle(&mut self, _: Flush, ctx: &mut Context<Self>) -> Self::Result {
        // Creations received before the flush are part of what it makes durable.
        while !self.creates.is_empty() {
            self.apply_creates(ctx);
        }
        self.reply_when_durable(Ok(()), ctx)
    }
}

impl Handler<Ping> for InvoiceStore {
    type Result = Result<(), StoreError>;

    fn handle(&mut self, _: Ping, _: &mut Context<Self>) -> Self::Result {
        match self.health.down() {
            None => Ok(()),
            Some(_) => self.recover(),
        }
    }
}

impl Handler<Subscribe> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) {
        self.subscribers.push(msg.0);
    }
}

impl Handler<SubscribeEvents> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, msg: SubscribeEvents, _: &mut Context<Self>) {
        self.event_subscribers.push(msg.0);
    }
}

impl Handler<BetweenWrites> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, msg: BetweenWrites, _: &mut Context<Self>) {
        (msg.0)();
    }
}
