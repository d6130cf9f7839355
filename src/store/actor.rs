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
//!
//! Creations are batched one step further, at the transaction: a
//! `CreateInvoice` is only queued, and an apply step that runs once the mailbox
//! is drained writes every queued creation in ONE multi-tree transaction. sled
//! 0.34 seals its I/O buffer on every transaction (`pin_log` rolls it, and its
//! own threads then `pwrite` and `sync_file_range` it), so a transaction per
//! request costs a buffer write per request; per batch, it costs one.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix::prelude::*;
use chrono::Utc;
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use tokio::sync::oneshot;

use crate::cashaddr::Address;
use crate::invoice::{Invoice, InvoiceId, NewInvoice};

use super::observe::Watch;
use super::{Store, StoreError, StoreReader, Trees, META_INVOICE_COUNT};

/// Replies to a flush: `Ok` once the writes before it are on disk.
type FlushReply = oneshot::Sender<Result<(), StoreError>>;

/// Replies to a `CreateInvoice`.
type CreateReply = oneshot::Sender<Result<Created, StoreError>>;

/// The most creations written in one transaction (a sled transaction must fit
/// in one of its I/O buffers, 8 MiB by default: a created invoice writes ~1 KiB).
const MAX_CREATE_BATCH: usize = 1024;

/// A creation to write: the invoice, its stored form, and the replies it answers
/// (its own request first, `created: true`, then repeats of its order in the batch).
type Planned = (Invoice, Vec<u8>, Vec<(CreateReply, bool)>);

/// A reply parked until the flush that makes its write durable.
enum Parked {
    /// A write whose replier waits for the flush result.
    Flush(FlushReply),
    /// A creation, answered with its invoice once flushed.
    Created(CreateReply, Box<Created>),
}

impl Parked {
    /// Answers with the result of the flush.
    fn send(self, result: &Result<(), StoreError>) {
        match self {
            Parked::Flush(tx) => {
                let _ = tx.send(result.clone());
            }
            Parked::Created(tx, created) => {
                let _ = tx.send(result.clone().map(|()| *created));
            }
        }
    }
}

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
    waiting: Vec<Parked>,
    /// Replies of the writes the running flush will make durable.
    in_flight: Vec<Parked>,
    /// Creations received, not yet applied (see [`ApplyCreates`]).
    creates: Vec<(CreateInvoice, CreateReply)>,
    /// Whether an [`ApplyCreates`] is scheduled.
    apply_scheduled: bool,
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
            creates: Vec::new(),
            apply_scheduled: false,
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
        self.waiting.push(Parked::Flush(tx));
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
            for parked in act.in_flight.drain(..) {
                parked.send(&result);
            }
            act.flushing = false;
            if !act.waiting.is_empty() {
                act.start_flush(ctx);
            }
        }));
    }

    /// Applies the queued creations in one transaction (without waiting for
    /// the flush): their successful replies are parked for the next flush,
    /// their errors answered at once.
    fn apply_creates(&mut self) {
        let n = self.creates.len().min(MAX_CREATE_BATCH);
        let batch: Vec<_> = self.creates.drain(..n).collect();
        // The invoices to write, each with the replies it answers: its own
        // request first, then the same order repeated within the batch.
        let mut planned: Vec<Planned> = Vec::with_capacity(batch.len());
        let mut batch_orders: HashMap<String, usize> = HashMap::new();
        let mut picker = AddressPicker::default();
        let mut to_pool = Vec::new();
        for (CreateInvoice { draft, fresh_address }, reply) in batch {
            // An existing order needs no address: check before taking one, so that a
            // retried request neither empties the pool nor fails on an empty one.
            if let Some(order_id) = &draft.order_id {
                let earlier = batch_orders.get(order_id.as_str()).copied();
                let existing = match earlier {
                    Some(_) => None,
                    None => match self.reader.invoice_by_order(order_id) {
                        Ok(existing) => existing,
                        Err(e) => {
                            let _ = reply.send(Err(e));
                            continue;
                        }
                    },
                };
                if earlier.is_some() || existing.is_some() {
                    to_pool.extend(fresh_address);
                    match (earlier, existing) {
                        (Some(i), _) if planned[i].0.same_terms(&draft) => planned[i].2.push((reply, false)),
                        (Some(_), _) => {
                            let _ = reply.send(Err(StoreError::OrderConflict));
                        }
                        (None, Some(existing)) => match same_order(existing, &draft) {
                            Ok(created) => self.waiting.push(Parked::Created(reply, Box::new(created))),
                            Err(e) => {
                                let _ = reply.send(Err(e));
                            }
                        },
                        (None, None) => unreachable!("an order found neither in the batch nor in the store"),
                    }
                    continue;
                }
            }
            let address = match picker.pick(&self.trees, fresh_address) {
                Ok(address) => address,
                Err(e) => {
                    let _ = reply.send(Err(e));
                    continue;
                }
            };
            let invoice = Invoice::create(InvoiceId::generate(), draft, address, Utc::now());
            let record = match super::layout::encode_invoice(&invoice) {
                Ok(record) => record,
                Err(e) => {
                    let _ = reply.send(Err(e));
                    continue;
                }
            };
            if let Some(order_id) = &invoice.order_id {
                batch_orders.insert(order_id.clone(), planned.len());
            }
            planned.push((invoice, record, vec![(reply, true)]));
        }
        if picker.dropped > 0 {
            Trees::adjust(&self.trees.counts.pool, -(picker.dropped as isize));
        }
        if !to_pool.is_empty() {
            if let Err(e) = self.add_to_pool(to_pool) {
                log::error!("could not pool the fresh addresses of repeated orders: {e}");
            }
        }
        if planned.is_empty() {
            return;
        }
        let outcome = self.write_created(&planned);
        match outcome {
            Ok(took_from_pool) => {
                Trees::adjust(&self.trees.counts.pool, -(took_from_pool as isize));
                for (invoice, _, replies) in planned {
                    for subscriber in &self.subscribers {
                        subscriber.do_send(Watch(invoice.clone()));
                    }
                    let mut replies = replies;
                    let last = replies.pop();
                    for (reply, created) in replies {
                        let invoice = invoice.clone();
                        self.waiting
                            .push(Parked::Created(reply, Box::new(Created { invoice, created })));
                    }
                    if let Some((reply, created)) = last {
                        self.waiting
                            .push(Parked::Created(reply, Box::new(Created { invoice, created })));
                    }
                }
            }
            Err(e) => {
                for (_, _, replies) in planned {
                    for (reply, _) in replies {
                        let _ = reply.send(Err(e.clone()));
                    }
                }
            }
        }
    }

    /// Writes new invoices, their address and order indexes, their watch
    /// entries, the pool removals and the counters in ONE transaction.
    /// Returns how many addresses left the pool.
    fn write_created(&self, planned: &[Planned]) -> Result<usize, StoreError> {
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
        let mut by_status: Vec<(crate::invoice::InvoiceStatus, i64)> = Vec::new();
        for (invoice, _, _) in planned {
            match by_status.iter_mut().find(|(s, _)| *s == invoice.status) {
                Some((_, n)) => *n += 1,
                None => by_status.push((invoice.status, 1)),
            }
        }
        // The creation log: entry n is the (n + 1)-th invoice created.
        let created_before = self.reader.invoice_count()?;
        let ids = planned.iter().map(|(invoice, _, _)| invoice.id.as_str().to_owned());
        let log_chunks = super::layout::append_lines(created_before, ids, |key| {
            Ok::<_, StoreError>(t.by_time.get(key)?.map(|c| c.to_vec()))
        })?;
        let outcome = trees.transaction(|(invoices, by_address, by_order, by_time, watch, pool, meta)| {
            let mut took_from_pool = 0;
            for (invoice, record, _) in planned {
                let id = invoice.id.as_str().as_bytes();
                let addr = invoice.address.as_str().as_bytes();
                if let Some(order_id) = &invoice.order_id {
                    if by_order.insert(order_id.as_bytes(), id)?.is_some() {
                        return Err(ConflictableTransactionError::Abort(Abort::OrderExists));
                    }
                }
                if by_address.insert(addr, id)?.is_some() {
                    return Err(ConflictableTransactionError::Abort(Abort::AddressUsed));
                }
                invoices.insert(id, record.as_slice())?;
                watch.insert(id, &[])?;
                if pool.remove(addr)?.is_some() {
                    took_from_pool += 1;
                }
            }
            for (key, chunk) in &log_chunks {
                by_time.insert(key, chunk.as_slice())?;
            }
            super::bump(meta, META_INVOICE_COUNT, planned.len() as i64)
                .map_err(|_| ConflictableTransactionError::Abort(Abort::BadCounter))?;
            for (status, n) in &by_status {
                super::bump(meta, &super::status_key(*status), *n)
                    .map_err(|_| ConflictableTransactionError::Abort(Abort::BadCounter))?;
            }
            Ok(took_from_pool)
        });
        match outcome {
            Ok(took_from_pool) => Ok(took_from_pool),
            Err(TransactionError::Storage(e)) => Err(e.into()),
            // The single writer checked both before the transaction: only a bug gets here.
            Err(TransactionError::Abort(abort)) => Err(StoreError::Corrupt(format!(
                "invoice creation refused inside its transaction: {abort:?}"
            ))),
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

/// Hands out the addresses of one batch of creations: a given fresh address if
/// it was never handed out, else the next of the pool. Addresses found in the
/// ledger are skipped (and dropped from the pool): a wallet restored from an
/// old backup hands out old addresses again.
#[derive(Default)]
struct AddressPicker {
    /// The pool, walked once per batch (its removals are written with the batch).
    pool: Option<sled::Iter>,
    /// Addresses already picked in this batch.
    picked: HashSet<Address>,
    /// Ledger addresses dropped from the pool.
    dropped: usize,
}

impl AddressPicker {
    fn pick(&mut self, trees: &Trees, fresh: Option<Address>) -> Result<Address, StoreError> {
        if let Some(fresh) = fresh {
            if !self.picked.contains(&fresh) && !trees.by_address.contains_key(fresh.as_str())? {
                self.picked.insert(fresh.clone());
                return Ok(fresh);
            }
            log::warn!(
                "fresh address {fresh} was already handed to an invoice; not reusing it, taking one from the pool"
            );
        }
        let pool = self.pool.get_or_insert_with(|| trees.pool.iter());
        loop {
            let Some((key, _)) = pool.next().transpose()? else {
                return Err(StoreError::PoolEmpty);
            };
            match std::str::from_utf8(&key).ok().and_then(|s| Address::parse(s).ok()) {
                Some(address) if self.picked.contains(&address) => continue,
                Some(address) if !trees.by_address.contains_key(address.as_str())? => {
                    self.picked.insert(address.clone());
                    return Ok(address);
                }
                Some(address) => log::warn!(
                    "pool address {address} was already handed to an invoice (a wallet restored from an \
                     old backup?); dropping it from the pool"
                ),
                None => log::warn!("unreadable pool entry {key:?}; dropping it from the pool"),
            }
            if trees.pool.remove(key)?.is_some() {
                self.dropped += 1;
            }
        }
    }
}

/// The reply to a repeated order: the same invoice if it asks the same
/// (amount, or fiat price and currency: [`Invoice::same_terms`]).
fn same_order(existing: Invoice, draft: &NewInvoice) -> Result<Created, StoreError> {
    if existing.same_terms(draft) {
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
        while !self.creates.is_empty() {
            self.apply_creates();
        }
        if self.waiting.is_empty() && self.in_flight.is_empty() {
            return;
        }
        let result = self.db.flush().map(drop).map_err(StoreError::from);
        for parked in self.in_flight.drain(..).chain(self.waiting.drain(..)) {
            parked.send(&result);
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
        let (tx, rx) = oneshot::channel();
        self.creates.push((msg, tx));
        if !self.apply_scheduled {
            self.apply_scheduled = true;
            ctx.notify(ApplyCreates);
        }
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(StoreError::Io("the store stopped before the write was flushed".into())))
        })
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
        self.apply_creates();
        if !self.creates.is_empty() {
            self.apply_scheduled = true;
            ctx.notify(ApplyCreates);
        }
        if !self.flushing && !self.waiting.is_empty() {
            self.start_flush(ctx);
        }
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
        // Creations received before the flush are part of what it makes durable.
        while !self.creates.is_empty() {
            self.apply_creates();
        }
        self.reply_when_durable(Ok(()), ctx)
    }
}
