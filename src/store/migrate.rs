//! Migration in place from the earlier layouts this build can read, run by
//! [`super::Store::open`].
//!
//! Two layouts were written under `schema_version = 2` (the second changed
//! `by_time` without a bump, commit 660017b; that is why version 3 exists):
//! - **2a** (before 660017b): `by_time` key = created-at millis (u64 BE) ‖
//!   invoice id → invoice id; a key is longer than 8 bytes.
//! - **2b** (660017b up to version 3): `by_time` is a chunked log of invoice ids
//!   (8-byte keys, the format of [`super::layout::log`]).
//!
//! Schema 3 (the 2b log plus positions and the two state indexes) takes the
//! same path: its one change to schema 4, payments' first-seen time and
//! outputs, is the step in `migrate/payment_times.rs`, run first; the reindex
//! pass then rewrites the same bytes.
//!
//! In both schema-2 layouts, `invoices` holds the plain invoice JSON (no position), and there
//! is no `by_status` nor `by_event_state`. Version 1 (events keyed by
//! sequence, event ids that do not name their invoice) is refused.
//!
//! Crash-safe: every step can run again. `meta.migrating_from` records the
//! layout found before anything is changed (a half-migrated 2a store no
//! longer looks like one); 2a's creation log is rebuilt from the old keys,
//! made durable and marked (`2a-log`) before the old keys go; the reindex
//! pass rewrites each invoice with its position and inserts index entries,
//! which is the same the second time; the counters and the version are
//! written last. A kill at any point leaves a store the next start migrates again.

use std::collections::HashMap;

use super::error::StoreError;
use super::layout::keys::{encode_counter, EventStateKey, MetaKey, StatusKey};
use super::layout::log::Appender;
use super::layout::trees::Trees;
use super::layout::values::{self, StoredInvoice};
use super::layout::SCHEMA_VERSION;
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus};

/// Invoices per write batch (and between progress lines at most ten of them).
const BATCH: u64 = 10_000;

mod payment_times;

/// Whether a store of `version` can be migrated to this build's.
pub fn can_migrate(version: u32) -> bool {
    version == 2 || version == 3
}

/// Migrates the store in place to [`SCHEMA_VERSION`].
pub fn migrate(db: &sled::Db, trees: &Trees, found: u32) -> Result<(), StoreError> {
    let from = match trees.meta.get(MetaKey::MigratingFrom.encode())? {
        Some(from) => String::from_utf8_lossy(&from).into_owned(),
        None => {
            let from = detect(trees)?;
            trees.meta.insert(MetaKey::MigratingFrom.encode(), from.as_bytes())?;
            db.flush()?;
            from.to_owned()
        }
    };
    kill_point()?;
    log::info!("store: migrating schema {found} (layout {from}) to schema {SCHEMA_VERSION}, in place");
    match from.as_str() {
        "2a" => {
            rebuild_creation_log(trees)?;
            kill_point()?;
            trees
                .meta
                .insert(MetaKey::MigratingFrom.encode(), b"2a-log".as_slice())?;
            db.flush()?;
            kill_point()?;
            drop_timestamp_keys(trees)?;
            kill_point()?;
        }
        "2a-log" => drop_timestamp_keys(trees)?,
        "2b" => {}
        other => return Err(StoreError::Corrupt(format!("unknown migration in progress {other:?}"))),
    }
    payment_times::upgrade(db, trees)?; // 3 → 4 (also for schema 2), before anything decodes an invoice
    kill_point()?;
    let statuses = reindex(db, trees)?;
    let mut meta = sled::Batch::default();
    for (status, n) in super::layout::keys::STATUSES.map(|s| (s, statuses.get(&s).copied().unwrap_or(0))) {
        meta.insert(MetaKey::Status(status).encode(), &encode_counter(n));
    }
    meta.insert(
        MetaKey::SchemaVersion.encode(),
        values::encode_schema_version(SCHEMA_VERSION),
    );
    meta.remove(MetaKey::MigratingFrom.encode());
    trees.meta.apply_batch(meta)?;
    db.flush()?;
    #[cfg(test)]
    PASSED.with(|p| p.set(0));
    log::info!("store: migration to schema {SCHEMA_VERSION} done");
    Ok(())
}

#[cfg(test)]
thread_local! {
    /// Tests: the migration stops, as if killed, at this kill point (counted from 1).
    pub static KILL_AT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// Tests: kill points passed so far.
    static PASSED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Tests: invoices per reindex batch, when set (several batches in a small store).
    pub static BATCH_OVERRIDE: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// A point where a kill leaves a store the next start must migrate again;
/// tests stop there ([`KILL_AT`]). Nothing in production.
fn kill_point() -> Result<(), StoreError> {
    #[cfg(test)]
    {
        let passed = PASSED.with(|p| {
            p.set(p.get() + 1);
            p.get()
        });
        if KILL_AT.with(|k| k.get()) == Some(passed) {
            PASSED.with(|p| p.set(0));
            return Err(StoreError::Io(format!("test: killed at migration kill point {passed}")));
        }
    }
    Ok(())
}

/// Invoices per reindex batch.
fn batch() -> u64 {
    #[cfg(test)]
    if let Some(n) = BATCH_OVERRIDE.with(|b| b.get()) {
        return n;
    }
    BATCH
}

/// Which schema-2 layout the store holds.
fn detect(trees: &Trees) -> Result<&'static str, StoreError> {
    match trees.by_time.iter().keys().next().transpose()? {
        Some(key) if key.len() > 8 => Ok("2a"),
        _ => Ok("2b"),
    }
}

/// 2a: the creation log from the timestamp keys, in their order (the order
/// the old listing showed). Written whole each time: the old keys stay until
/// the log is durable.
fn rebuild_creation_log(trees: &Trees) -> Result<(), StoreError> {
    let mut appender = Appender::default();
    let mut batch = sled::Batch::default();
    let mut n = 0u64;
    for entry in trees.by_time.iter() {
        let (key, id) = entry?;
        if key.len() <= 8 {
            continue;
        }
        let id = std::str::from_utf8(&id).map_err(|_| StoreError::Corrupt("unreadable by_time id".into()))?;
        if let Some((key, chunk)) = appender.push(n, id) {
            batch.insert(&key, chunk);
        }
        n += 1;
    }
    if let Some((key, chunk)) = appender.finish() {
        batch.insert(&key, chunk);
    }
    trees.by_time.apply_batch(batch)?;
    log::info!("store migration: creation log rebuilt ({n} invoices)");
    Ok(())
}

/// 2a: removes the timestamp keys once the creation log is durable.
fn drop_timestamp_keys(trees: &Trees) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    for key in trees.by_time.iter().keys() {
        let key = key?;
        if key.len() > 8 {
            batch.remove(key);
        }
    }
    trees.by_time.apply_batch(batch)?;
    Ok(())
}

/// An invoice as schema 2 or (after an interrupted migration) 3 stored it.
fn decode_any(bytes: &[u8]) -> Result<Invoice, StoreError> {
    match values::decode_invoice(bytes) {
        Ok(stored) => Ok(stored.invoice),
        Err(_) => {
            serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable schema-2 invoice: {e}")))
        }
    }
}

/// The one pass: every invoice in creation order is rewritten with its
/// position and indexed by status; its events are indexed by state.
/// Returns how many invoices are in each status.
fn reindex(db: &sled::Db, trees: &Trees) -> Result<HashMap<InvoiceStatus, u64>, StoreError> {
    let log = trees.created_log();
    let total = log.len()?;
    let mut statuses = HashMap::new();
    let mut done = 0u64;
    let every = (total / 10).max(batch());
    while done < total {
        let end = (done + batch()).min(total);
        let (mut invoices, mut by_status, mut by_state) = Default::default();
        for entry in log.forward(done, end - 1) {
            let (position, id) = entry?;
            let invoice = reindex_one(trees, position, &id, (&mut invoices, &mut by_status, &mut by_state))?;
            *statuses.entry(invoice).or_insert(0) += 1;
        }
        trees.invoices.apply_batch(invoices)?;
        trees.by_status.apply_batch(by_status)?;
        trees.by_event_state.apply_batch(by_state)?;
        db.flush()?;
        kill_point()?;
        done = end;
        if done % every < batch() || done == total {
            log::info!("store migration: {done} of {total} invoices");
        }
    }
    Ok(statuses)
}

/// Reindexes the invoice at `position` into the batches; its status.
fn reindex_one(
    trees: &Trees,
    position: u64,
    id: &str,
    (invoices, by_status, by_state): (&mut sled::Batch, &mut sled::Batch, &mut sled::Batch),
) -> Result<InvoiceStatus, StoreError> {
    let bytes = trees
        .invoices
        .get(id)?
        .ok_or_else(|| StoreError::Corrupt(format!("the creation log names invoice {id}, which is not stored")))?;
    let invoice = decode_any(&bytes)?;
    let status = invoice.status;
    let stored = StoredInvoice { position, invoice };
    invoices.insert(id.as_bytes(), values::encode_invoice(position, &stored.invoice)?);
    by_status.insert(&StatusKey { status, position }.encode(), id.as_bytes());
    let invoice_id = InvoiceId::parse(id).map_err(|_| StoreError::Corrupt(format!("unreadable invoice id {id}")))?;
    for event in super::lookup::invoice_events(trees, &invoice_id)? {
        if let Some(key) = EventStateKey::of(&event) {
            by_state.insert(&key, &[]);
        }
    }
    Ok(status)
}
