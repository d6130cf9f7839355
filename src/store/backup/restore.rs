//! [`restore`]: a new store from a backup file.
//!
//! The file is checked whole first (magic, format, checksum, schema), so a
//! damaged or newer backup leaves nothing behind. The records are then
//! written raw, tree by tree; the address pool is dropped (see below); the
//! store is opened as the engine opens it (an older schema is migrated by
//! `store/migrate.rs`) and must pass [`check_invariants`]. On any failure
//! after the directory was touched, what was written is removed.
//!
//! # The pool is dropped
//! Pooled addresses were made by the wallet but not yet handed out when the
//! backup was taken; the engine may have handed some out after it. Kept,
//! they could go to a second invoice. Dropped, the engine refills the pool
//! from the wallet (`createnewaddress`, which never repeats an address) at
//! its next start. The ledger (`by_address`) is restored whole.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::super::error::StoreError;
use super::super::invariants::check_invariants;
use super::super::layout::SCHEMA_VERSION;
use super::super::open::{open_db, when_unlocked, Store};
use super::format::{self, Header, Reader, Record};
use super::BackupError;
use crate::event::DeliveryState;
use crate::invoice::InvoiceStatus;

/// Records written per batch.
const BATCH: usize = 10_000;
/// How long the store's open waits for sled to let go of the directory.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// What a restore built.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's header (its schema is the one restored from).
    pub header: Header,
    /// Entries per tree in the new store (after migration).
    pub entries: Vec<(String, u64)>,
    /// Invoices by status.
    pub statuses: Vec<(InvoiceStatus, u64)>,
    /// Webhook events by delivery state.
    pub events: Vec<(DeliveryState, u64)>,
    /// Pool addresses dropped.
    pub pool_dropped: u64,
}

/// Builds a new store in `dir` (absent or empty) from the backup `file`.
pub fn restore(file: &Path, dir: &Path) -> Result<Restored, BackupError> {
    let existed = dir.exists();
    if existed {
        let mut entries = std::fs::read_dir(dir).map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        if entries.next().is_some() {
            return Err(BackupError::NotEmpty(dir.display().to_string()));
        }
    }
    let open = || std::fs::File::open(file).map_err(|e| format::FormatError::Io(format!("{}: {e}", file.display())));
    let header = format::verify(&mut std::io::BufReader::new(open()?))?;
    if header.schema > SCHEMA_VERSION {
        return Err(BackupError::NewerSchema {
            found: header.schema,
            supported: SCHEMA_VERSION,
        });
    }
    let (_, reader) = Reader::open(std::io::BufReader::new(open()?))?;
    let built = build(reader, dir).and_then(|pool_dropped| finish(dir, header, pool_dropped));
    if built.is_err() {
        clean(dir, existed);
    }
    built
}

/// Writes every record raw, drops the pool; the number of addresses dropped.
fn build<R: std::io::Read>(mut reader: Reader<R>, dir: &Path) -> Result<u64, BackupError> {
    // Written once, in key order, flushed at the end: as the bulk loader does.
    let db = open_db(dir, sled::Config::new().mode(sled::Mode::HighThroughput))?;
    let mut trees: HashMap<String, sled::Tree> = HashMap::new();
    let mut current: Option<(sled::Tree, sled::Batch, usize)> = None;
    let apply = |current: &mut Option<(sled::Tree, sled::Batch, usize)>| -> Result<(), StoreError> {
        if let Some((tree, batch, _)) = current.take() {
            tree.apply_batch(batch)?;
        }
        Ok(())
    };
    while let Some(record) = reader.next_record()? {
        match record {
            Record::Tree(name) => {
                apply(&mut current)?;
                let tree = match trees.get(&name) {
                    Some(t) => t.clone(),
                    None => {
                        let t = db.open_tree(&name).map_err(StoreError::from)?;
                        trees.insert(name, t.clone());
                        t
                    }
                };
                current = Some((tree, sled::Batch::default(), 0));
            }
            Record::Put(key, value) => {
                let (_, batch, n) = current.as_mut().ok_or_else(no_tree)?;
                batch.insert(key, value);
                *n += 1;
            }
            Record::Del(key) => {
                let (_, batch, n) = current.as_mut().ok_or_else(no_tree)?;
                batch.remove(key);
                *n += 1;
            }
        }
        if current.as_ref().is_some_and(|(_, _, n)| *n >= BATCH) {
            let tree = current.as_ref().map(|(t, _, _)| t.clone());
            apply(&mut current)?;
            current = tree.map(|t| (t, sled::Batch::default(), 0));
        }
    }
    apply(&mut current)?;
    let pool = db.open_tree("pool").map_err(StoreError::from)?;
    let dropped = pool.len() as u64;
    pool.clear().map_err(StoreError::from)?;
    db.flush().map_err(StoreError::from)?;
    Ok(dropped)
}

fn no_tree() -> BackupError {
    format::FormatError::Corrupt("a record before any tree".into()).into()
}

/// Opens the new store as the engine does (migrating it), checks it, counts it.
fn finish(dir: &Path, header: Header, pool_dropped: u64) -> Result<Restored, BackupError> {
    let store = when_unlocked(LOCK_WAIT, || Store::open(dir))?;
    let reader = store.reader();
    let broken = check_invariants(&reader)?;
    if !broken.is_empty() {
        return Err(BackupError::Broken(broken));
    }
    let entries = reader
        .trees()?
        .all()
        .into_iter()
        .map(|(name, t)| (name.to_owned(), t.len() as u64))
        .collect();
    Ok(Restored {
        header,
        entries,
        statuses: reader.status_counts()?,
        events: reader.event_state_counts()?,
        pool_dropped,
    })
}

/// Removes what a failed restore wrote (the directory itself if it made it).
fn clean(dir: &Path, existed: bool) {
    if !existed {
        let _ = std::fs::remove_dir_all(dir);
        return;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}
