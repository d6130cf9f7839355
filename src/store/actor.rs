//! `InvoiceStore`: the single writer of the store, with group commit.
//!
//! It runs on its own `Arbiter` (a thread with its own runtime), not a
//! `SyncArbiter`: its sled transactions block only that thread, never the HTTP
//! workers, and because it has a runtime it can await a flush running on sled's
//! I/O threads (`flush_async`) while it keeps applying the next writes. A
//! `SyncArbiter` actor could only block on each flush, one per request.
//!
//! Group commit: a write is applied at once and its reply parked in `waiting`.
//! When no flush is running, one starts and takes every parked reply with it;
//! replies parked while it runs are served by the next one. A reply therefore
//! means "on disk", and the number of flushes follows the disk's speed, not the
//! number of requests.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use chrono::Utc;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use tokio::sync::oneshot;

use crate::cashaddr::Address;
use crate::invoice::{Invoice, InvoiceId, NewInvoice};

use super::observe::Watch;
use super::{decode_counter, time_key, Store, StoreError, StoreReader, Trees, META_INVOICE_COUNT};

/// Replies to a flush: `Ok` once the writes before it are on disk.
type FlushReply = oneshot::Sender<Result<(), StoreError>>;

/// The single writer of the sled database.
pub struct InvoiceStore {
    /// The database, for flushing.
    db: sled::Db,
    /// The trees of the layout.
    pub(super) trees: Trees,
    /// Reads the writer needs before it writes (same trees).
    pub(super) reader: StoreReader,
    /// Base of `checkout_url` in event snapshots.
    pub(super) public_url: String,
    /// Where events of invoices without a `webhook_url` go.
    pub(super) default_webhook_url: Option<String>,
    /// Told about every new invoice (the confirmer).
    pub(super) subscribers: Vec<Recipient<Watch>>,
    /// Told about events that become pending (the webhook dispatcher).
    pub(super) event_subscribers: Vec<Recipient<super::outbox::EventsPending>>,
    /// No secret to sign webhooks with: events are kept as `no_endpoint`.
    pub(super) webhook_secret_missing: bool,
    /// Replies of applied writes waiting for the next flush to start.
    waiting: Vec<FlushReply>,
    /// Replies of the writes the running flush will make durable.
    in_flight: Vec<FlushReply>,
    /// Whether a flush is running (new writes then wait for the next one).
    flushing: bool,
    /// Flushes completed, shared with the readers.
    flushes: Arc<AtomicU64>,
}

/// Starts the writer on its own arbiter and returns its address and a reader.
///
/// Must be called inside a running actix `System`.
pub fn start(store: Store) -> (Addr<InvoiceStore>, StoreReader) {
    let reader = store.reader();
    let arbiter = Arbiter::new();
    let addr = InvoiceStore::start_in_arbiter(&arbiter.handle(), move |_| InvoiceStore::new(store));
    (addr, reader)
}

impl InvoiceStore {
    /// The writer of `store`; see [`start`] to run it off the HTTP threads.
    pub fn new(store: Store) -> InvoiceStore {
        let reader = store.reader();
        InvoiceStore {
            db: store.db,
            trees: store.trees,
            reader,
            public_url: store.public_url,
            default_webhook_url: store.default_webhook_url,
            subscribers: Vec::new(),
            event_subscribers: Vec::new(),
            webhook_secret_missing: store.webhook_secret_missing,
            waiting: Vec::new(),
            in_flight: Vec::new(),
            flushing: false,
            flushes: store.flushes,
        }
    }

    /// Turns the result of an applied write into a reply sent once it is flushed.
    /// Errors are replied at once: nothing was written.
    pub(super) fn reply_when_durable<T: 'static>(
        &mut self,
        result: Result<T, StoreError>,
        ctx: &mut Context<Self>,
    ) -> ResponseFuture<Result<T, StoreError>> {
        let value = match result {
            Ok(value) => value,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let (tx, rx) = oneshot::channel();
        self.waiting.push(tx);
        if !self.flushing {
            self.start_flush(ctx);
        }
        Box::pin(async move {
            match rx.await {
                Ok(Ok(())) => Ok(value),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(StoreError::Io("the store stopped before the write was flushed".into())),
            }
        })
    }

    /// Starts one flush for every write applied so far.
    fn start_flush(&mut self, ctx: &mut Context<Self>) {
        self.flushing = true;
        self.in_flight = std::mem::take(&mut self.waiting);
        let db = self.db.clone();
        let flush = async move { db.flush_async().await };
        ctx.spawn(flush.into_actor(self).map(|result, act, ctx| {
            act.flushes.fetch_add(1, Ordering::Relaxed);
            let result = result.map(drop).map_err(StoreError::from);
            if let Err(e) = &result {
                log::error!("store flush failed: {e}");
            }
            for tx in act.in_flight.drain(..) {
                let _ = tx.send(result.clone());
            }
            act.flushing = false;
            if !act.waiting.is_empty() {
                act.start_flush(ctx);
            }
        }));
    }

    /// Applies a `CreateInvoice` (without waiting for the flush).
    fn create(&mut self, msg: CreateInvoice) -> Result<Created, StoreError> {
        let CreateInvoice { draft, fresh_address } = msg;
        // An existing order needs no address: check before taking one, so that a
        // retried request neither empties the pool nor fails on an empty one.
        if let Some(order_id) = &draft.order_id {
            if let Some(existing) = self.reader.invoice_by_order(order_id)? {
                if let Some(fresh) = fresh_address {
                    self.add_to_pool(vec![fresh])?;
                }
                return same_order(existing, &draft);
            }
        }
        let address = self.pick_address(fresh_address)?;
        let invoice = Invoice::create(InvoiceId::generate(), draft, address, Utc::now());
        let id = invoice.id.as_str().as_bytes();
        let addr = invoice.address.as_str().as_bytes();
        let json = serde_json::to_vec(&invoice).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let by_time_key = time_key(&invoice);
        let t = &self.trees;
        let trees = (
            &t.invoices,
            &t.by_address,
            &t.by_order,
            &t.by_time,
            &t.watch,
            &t.pool,
            &t.meta,
        );
        let took_from_pool = std::cell::Cell::new(false);
        let outcome = trees.transaction(|(invoices, by_address, by_order, by_time, watch, pool, meta)| {
            if let Some(order_id) = &invoice.order_id {
                if by_order.get(order_id.as_bytes())?.is_some() {
                    return Err(ConflictableTransactionError::Abort(Abort::OrderExists));
                }
                by_order.insert(order_id.as_bytes(), id)?;
            }
            if by_address.get(addr)?.is_some() {
                return Err(ConflictableTransactionError::Abort(Abort::AddressUsed));
            }
            let count = decode_counter(meta.get(META_INVOICE_COUNT)?.as_deref())
                .map_err(|_| ConflictableTransactionError::Abort(Abort::BadCounter))?;
            invoices.insert(id, json.as_slice())?;
            by_address.insert(addr, id)?;
            by_time.insert(by_time_key.as_slice(), id)?;
            watch.insert(id, &[])?;
            took_from_pool.set(pool.remove(addr)?.is_some());
            meta.insert(META_INVOICE_COUNT, &count.saturating_add(1).to_be_bytes())?;
            super::bump(meta, &super::status_key(invoice.status), 1)
                .map_err(|_| ConflictableTransactionError::Abort(Abort::BadCounter))?;
            Ok(())
        });
        match outcome {
            Ok(()) => {
                if took_from_pool.get() {
                    Trees::adjust(&self.trees.counts.pool, -1);
                }
                for subscriber in &self.subscribers {
                    subscriber.do_send(Watch(invoice.clone()));
                }
                Ok(Created { invoice, created: true })
            }
            Err(TransactionError::Storage(e)) => Err(e.into()),
            // The single writer checked both before the transaction: only a bug gets here.
            Err(TransactionError::Abort(abort)) => Err(StoreError::Corrupt(format!(
                "invoice creation refused inside its transaction: {abort:?}"
            ))),
        }
    }

    /// The address for a new invoice: `fresh` if it was never handed out, else
    /// the first of the pool. Addresses found in the ledger are skipped (and
    /// dropped from the pool): a wallet restored from an old backup hands out
    /// old addresses again.
    fn pick_address(&mut self, fresh: Option<Address>) -> Result<Address, StoreError> {
        if let Some(fresh) = fresh {
            if !self.trees.by_address.contains_key(fresh.as_str())? {
                return Ok(fresh);
            }
            log::warn!(
                "fresh address {fresh} was already handed to an invoice; not reusing it, taking one from the pool"
            );
        }
        loop {
            let Some((key, _)) = self.trees.pool.first()? else {
                return Err(StoreError::PoolEmpty);
            };
            match std::str::from_utf8(&key).ok().and_then(|s| Address::parse(s).ok()) {
                Some(address) if !self.trees.by_address.contains_key(address.as_str())? => return Ok(address),
                Some(address) => log::warn!(
                    "pool address {address} was already handed to an invoice (a wallet restored from an \
                     old backup?); dropping it from the pool"
                ),
                None => log::warn!("unreadable pool entry {key:?}; dropping it from the pool"),
            }
            if self.trees.pool.remove(key)?.is_some() {
                Trees::adjust(&self.trees.counts.pool, -1);
            }
        }
    }

    /// Applies an `AddToPool` (without waiting for the flush).
    fn add_to_pool(&mut self, addresses: Vec<Address>) -> Result<usize, StoreError> {
        let mut batch = sled::Batch::default();
        let mut seen = HashSet::new();
        let mut added = 0;
        for address in addresses {
            if !seen.insert(address.clone()) {
                continue;
            }
            if self.trees.by_address.contains_key(address.as_str())? {
                log::warn!(
                    "not pooling {address}: it was already handed to an invoice (a wallet restored from an old backup?)"
                );
                continue;
            }
            if self.trees.pool.contains_key(address.as_str())? {
                continue;
            }
            batch.insert(address.as_str(), &[]);
            added += 1;
        }
        self.trees.pool.apply_batch(batch)?;
        Trees::adjust(&self.trees.counts.pool, added as isize);
        Ok(added)
    }
}

/// The reply to a repeated order: the same invoice if the amount matches.
fn same_order(existing: Invoice, draft: &NewInvoice) -> Result<Created, StoreError> {
    if existing.amount_sats == draft.amount_sats {
        Ok(Created {
            invoice: existing,
            created: false,
        })
    } else {
        Err(StoreError::OrderConflict)
    }
}

/// Why the creating transaction gave up (each is checked before it, so a bug).
#[derive(Debug)]
enum Abort {
    /// The order got an invoice.
    OrderExists,
    /// The address is in the ledger.
    AddressUsed,
    /// The invoice counter does not read.
    BadCounter,
}

impl Actor for InvoiceStore {
    type Context = Context<Self>;
}

impl Drop for InvoiceStore {
    /// Stopping (or the arbiter going away) mid-flush: flush here and answer
    /// the parked replies instead of failing them.
    fn drop(&mut self) {
        if self.waiting.is_empty() && self.in_flight.is_empty() {
            return;
        }
        let result = self.db.flush().map(drop).map_err(StoreError::from);
        for tx in self.in_flight.drain(..).chain(self.waiting.drain(..)) {
            let _ = tx.send(result.clone());
        }
    }
}

/// Create an invoice for `draft`, or return the existing one of its order.
///
/// The address is `fresh_address` (one the wallet just made) if given and
/// never handed out, else the first of the pool. If the order already has an
/// invoice, a given `fresh_address` goes to the pool instead of being lost.
#[derive(Debug, Message)]
#[rtype(result = "Result<Created, StoreError>")]
pub struct CreateInvoice {
    /// What the shop asked for.
    pub draft: NewInvoice,
    /// An address the wallet made for this request (when the pool was empty).
    pub fresh_address: Option<Address>,
}

/// The reply to [`CreateInvoice`].
#[derive(Debug, Clone)]
pub struct Created {
    /// The stored invoice.
    pub invoice: Invoice,
    /// `false` when the order already had it (HTTP `200` instead of `201`).
    pub created: bool,
}

impl Handler<CreateInvoice> for InvoiceStore {
    type Result = ResponseFuture<Result<Created, StoreError>>;

    fn handle(&mut self, msg: CreateInvoice, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.create(msg);
        self.reply_when_durable(result, ctx)
    }
}

/// Add addresses made in advance to the pool; replies how many were new.
///
/// Addresses already pooled are skipped; addresses in the ledger are skipped with a warning.
#[derive(Debug, Message)]
#[rtype(result = "Result<usize, StoreError>")]
pub struct AddToPool {
    /// Addresses fresh from the wallet.
    pub addresses: Vec<Address>,
}

impl Handler<AddToPool> for InvoiceStore {
    type Result = ResponseFuture<Result<usize, StoreError>>;

    fn handle(&mut self, msg: AddToPool, ctx: &mut Context<Self>) -> Self::Result {
        match self.add_to_pool(msg.addresses) {
            Ok(0) => Box::pin(async { Ok(0) }),
            result => self.reply_when_durable(result, ctx),
        }
    }
}

/// Flush everything applied so far; replies once it is on disk (used at shutdown).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), StoreError>")]
pub struct Flush;

impl Handler<Flush> for InvoiceStore {
    type Result = ResponseFuture<Result<(), StoreError>>;

    fn handle(&mut self, _: Flush, ctx: &mut Context<Self>) -> Self::Result {
        self.reply_when_durable(Ok(()), ctx)
    }
}
