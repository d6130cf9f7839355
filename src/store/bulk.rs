//! [`BulkLoader`]: writes many invoices and their events fast, in the
//! store's own formats, for the benchmarks (`bchpay bench scale`): one sled
//! batch per tree per thousand invoices instead of a transaction per write.
//! Not for a running engine: it holds the store's lock while it loads, and
//! the counters are written last.

use std::collections::HashMap;
use std::path::Path;

use super::error::StoreError;
use super::layout::keys::{encode_counter, EventStateKey, MetaKey, Seq, StatusKey};
use super::layout::log::Appender;
use super::layout::trees::Trees;
use super::layout::values;
use super::open::{open_db, Store};
use crate::event::{DeliveryState, Event};
use crate::invoice::{Invoice, InvoiceStatus};

/// Invoices per batch.
const BATCH: u64 = 1_000;
/// Invoices between two flushes (sled holds written pages in memory until then).
const FLUSH_EVERY: u64 = 50_000;

/// One batch per tree written to.
#[derive(Default)]
struct Batches {
    /// `invoices`.
    invoices: sled::Batch,
    /// `by_address`.
    by_address: sled::Batch,
    /// `by_order`.
    by_order: sled::Batch,
    /// `by_time`.
    by_time: sled::Batch,
    /// `by_status`.
    by_status: sled::Batch,
    /// `watch`.
    watch: sled::Batch,
    /// `events`.
    events: sled::Batch,
    /// `event_log`.
    event_log: sled::Batch,
    /// `outbox`.
    outbox: sled::Batch,
    /// `by_event_state`.
    by_event_state: sled::Batch,
}

/// Loads invoices in bulk into a new store.
pub struct BulkLoader {
    /// The database (high-throughput mode).
    db: sled::Db,
    /// Its trees.
    trees: Trees,
    /// The creation log's open chunk.
    created: Appender,
    /// The event log's open chunk.
    event_log: Appender,
    /// What the current thousand invoices write.
    batches: Batches,
    /// Invoices loaded.
    count: u64,
    /// The last event sequence handed out.
    seq: u64,
    /// Invoices per status.
    statuses: HashMap<InvoiceStatus, u64>,
}

impl BulkLoader {
    /// A loader into the new (or empty) store at `path`.
    pub fn create(path: &Path) -> Result<BulkLoader, StoreError> {
        // Creates the directory with its schema version, as the engine does.
        let store = Store::open(path)?;
        if store.reader().invoice_count()? != 0 {
            return Err(StoreError::Io(format!("{} already holds invoices", path.display())));
        }
        drop(store);
        let db = open_db(path, sled::Config::new().mode(sled::Mode::HighThroughput))?;
        let trees = Trees::open(&db)?;
        Ok(BulkLoader {
            db,
            trees,
            created: Appender::default(),
            event_log: Appender::default(),
            batches: Batches::default(),
            count: 0,
            seq: 0,
            statuses: HashMap::new(),
        })
    }

    /// The sequence the next event must carry.
    pub fn next_event_seq(&self) -> u64 {
        self.seq + 1
    }

    /// Loads one invoice with its events (numbered from [`Self::next_event_seq`]).
    pub fn push(&mut self, invoice: &Invoice, events: &[Event], watched: bool) -> Result<(), StoreError> {
        let position = self.count;
        let id = invoice.id.as_str().as_bytes();
        let b = &mut self.batches;
        b.invoices.insert(id, values::encode_invoice(position, invoice)?);
        b.by_address.insert(invoice.address.as_str().as_bytes(), id);
        if let Some(order) = &invoice.order_id {
            b.by_order.insert(order.as_bytes(), id);
        }
        let status = invoice.status;
        b.by_status.insert(&StatusKey { status, position }.encode(), id);
        if let Some((key, chunk)) = self.created.push(position, invoice.id.as_str()) {
            b.by_time.insert(&key, chunk);
        }
        if watched {
            b.watch.insert(id, &[]);
        }
        for (index, event) in events.iter().enumerate() {
            if event.seq != self.seq + 1 {
                return Err(StoreError::Corrupt(format!("bulk event {} out of sequence", event.seq)));
            }
            self.seq = event.seq;
            let line = values::event_ref(&invoice.id, index);
            if let Some((key, chunk)) = self.event_log.push(event.seq - 1, &line) {
                b.event_log.insert(&key, chunk);
            }
            match EventStateKey::of(event) {
                Some(key) => b.by_event_state.insert(&key, &[]),
                None if event.state == DeliveryState::Pending => b.outbox.insert(&Seq(event.seq).encode(), &[]),
                None => {}
            }
        }
        if !events.is_empty() {
            b.events.insert(id, values::encode_events(events)?);
        }
        *self.statuses.entry(status).or_insert(0) += 1;
        self.count += 1;
        if self.count.is_multiple_of(BATCH) {
            self.write()?;
        }
        if self.count.is_multiple_of(FLUSH_EVERY) {
            self.db.flush()?;
        }
        Ok(())
    }

    /// Applies the batches; the events tree, the largest values, beside the rest.
    fn write(&mut self) -> Result<(), StoreError> {
        let b = std::mem::take(&mut self.batches);
        let t = &self.trees;
        let rest = [
            (&t.invoices, b.invoices),
            (&t.by_address, b.by_address),
            (&t.by_order, b.by_order),
            (&t.by_time, b.by_time),
            (&t.by_status, b.by_status),
            (&t.watch, b.watch),
            (&t.event_log, b.event_log),
            (&t.outbox, b.outbox),
            (&t.by_event_state, b.by_event_state),
        ];
        let events = b.events;
        std::thread::scope(|scope| {
            let events_done = scope.spawn(|| t.events.apply_batch(events));
            for (tree, batch) in rest {
                tree.apply_batch(batch)?;
            }
            events_done
                .join()
                .map_err(|_| sled::Error::ReportableBug("the events writer panicked".into()))?
        })?;
        Ok(())
    }

    /// Writes what is left, the counters last, and flushes.
    pub fn finish(mut self) -> Result<(), StoreError> {
        if let Some((key, chunk)) = std::mem::take(&mut self.created).finish() {
            self.batches.by_time.insert(&key, chunk);
        }
        if let Some((key, chunk)) = std::mem::take(&mut self.event_log).finish() {
            self.batches.event_log.insert(&key, chunk);
        }
        self.write()?;
        let mut counters = sled::Batch::default();
        counters.insert(MetaKey::InvoiceCount.encode(), &encode_counter(self.count));
        counters.insert(MetaKey::EventSeq.encode(), &encode_counter(self.seq));
        for (status, n) in &self.statuses {
            counters.insert(MetaKey::Status(*status).encode(), &encode_counter(*n));
        }
        self.trees.meta.apply_batch(counters)?;
        self.db.flush()?;
        Ok(())
    }
}
