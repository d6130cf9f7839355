//! Coming back after the disk failed: sled stops writing for good after an
//! I/O error (a full disk), until it is opened again. While writes fail the
//! writer probes with a small write; once the disk takes a write again
//! (space returned), it closes sled, opens it again and hands the readers
//! the new handles, without a restart of the engine.

use std::path::Path;

use super::counts::Counts;
use super::error::StoreError;
use super::layout::keys::MetaKey;
use super::layout::trees::Trees;
use super::layout::{values, SCHEMA_VERSION};
use super::open::{open_db, when_unlocked};
use super::shared::SharedTrees;

/// The open database and its trees.
pub struct Opened {
    /// The database (flushes go through it).
    pub db: sled::Db,
    /// Its trees.
    pub trees: Trees,
}

/// How long a reopen waits for sled to let go of its lock.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A small write (the schema version, again) and its flush.
pub fn probe(opened: &Opened) -> Result<(), StoreError> {
    let key = MetaKey::SchemaVersion.encode();
    opened
        .trees
        .meta
        .insert(key, values::encode_schema_version(SCHEMA_VERSION))?;
    opened.db.flush()?;
    Ok(())
}

/// Whether the file system of `dir` takes 256 KiB now.
fn space_returned(dir: &Path) -> bool {
    let path = dir.join("space-probe");
    let written = std::fs::write(&path, vec![0u8; 256 * 1024]).and_then(|()| std::fs::File::open(&path)?.sync_all());
    let _ = std::fs::remove_file(&path);
    written.is_ok()
}

/// Probes; when the probe fails but the disk takes writes again, reopens
/// the database at `path` into `slot` (readers' handles swapped through
/// `shared`, kept sizes counted again) and probes again.
pub fn recover(
    slot: &mut Option<Opened>,
    path: &Path,
    shared: &SharedTrees,
    counts: &Counts,
) -> Result<(), StoreError> {
    let failed = match slot {
        Some(opened) => match probe(opened) {
            Ok(()) => return Ok(()),
            Err(e) => e,
        },
        None => StoreError::WriterFailed("the store is closed".into()),
    };
    if !space_returned(path) {
        return Err(failed);
    }
    log::warn!("store: the disk takes writes again; reopening the store ({failed})");
    shared.take();
    drop(slot.take());
    let db = when_unlocked(LOCK_WAIT, || open_db(path, sled::Config::new()))?;
    let trees = Trees::open(&db)?;
    counts.recount(&trees);
    shared.set(trees.clone());
    let opened = slot.insert(Opened { db, trees });
    probe(opened)?;
    log::info!("store: reopened, writes succeed again");
    Ok(())
}
