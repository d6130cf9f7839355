//! Schema 4 → 5: invoices and events are stored packed (zstd,
//! `layout/packed.rs`).
//!
//! Nothing is rewritten: a plain JSON value (as schemas 2 to 4 wrote it) reads as
//! it is, and each value is packed the next time it is written (an invoice
//! at its next transition, its events with their next attempt). Rewriting a
//! million invoices at open would hold `/readyz` for minutes and double the
//! store on disk meanwhile. The step records the version, so that an older
//! build, which cannot read packed values, refuses the store.

use super::super::error::StoreError;
use super::super::layout::keys::MetaKey;
use super::super::layout::trees::Trees;
use super::super::layout::values;

/// The version this step starts from.
pub const FROM: u32 = 4;

/// Migrates a schema-4 store to schema 5 (see the module doc).
pub fn migrate(db: &sled::Db, trees: &Trees) -> Result<(), StoreError> {
    trees
        .meta
        .insert(MetaKey::SchemaVersion.encode(), values::encode_schema_version(5))?;
    db.flush()?;
    log::info!("store: schema 4 to 5: values are packed from their next write on (nothing rewritten now)");
    Ok(())
}
