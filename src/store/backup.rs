//! Backups of the store: a consistent snapshot of every tree taken while the
//! engine serves ([`online`]) or from a stopped store ([`offline`]), written
//! in the format of [`format`], and [`restore`] into a new directory.
//!
//! # One instant, without stopping the writer
//! sled has no snapshot across trees. The dump reads every tree with a
//! plain iterator while writes go on, and [`changes::Changes`] records, from
//! before the first read, the latest value of every key written meanwhile.
//! At the end the writer runs the cut between two writes
//! ([`super::BetweenWrites`]): the changes left are taken, and the dump
//! followed by the changes replays to the store as of that instant. The
//! writer pauses only for that cut (the events of the last millisecond), not
//! for the dump.
//!
//! Generic by design: trees are dumped by name as raw key/value pairs, so a
//! tree or a value format added by a later schema is backed up without a
//! change here; the header carries the store's `SCHEMA_VERSION` and a
//! restore migrates an older one (`store/migrate.rs`) or refuses a newer one.

mod changes;
pub mod format;
mod restore;
mod snapshot;

pub use format::{FormatError, Header, FORMAT_VERSION};
pub use restore::{restore, Restored};
pub use snapshot::{offline, online, Summary};

use super::error::StoreError;

/// Why a backup or a restore did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The backup file is not one this bchpay can restore.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// Writing the backup out failed (a full disk, a closed connection).
    #[error("writing the backup failed: {0}")]
    Output(String),
    /// A restore goes into a new store only.
    #[error("{0} is not empty: a restore builds a new store; give it a new or empty directory")]
    NotEmpty(String),
    /// The backup was taken by a newer bchpay.
    #[error("the backup holds store schema version {found}; this bchpay reads version {supported}: restore it with the bchpay that took it, or a newer one")]
    NewerSchema {
        /// The schema in the backup.
        found: u32,
        /// The schema this build reads.
        supported: u32,
    },
    /// The restored store breaks its invariants (it was removed).
    #[error("the restored store breaks its invariants: {}", .0.join("; "))]
    Broken(Vec<String>),
}

#[cfg(test)]
#[path = "backup/tests.rs"]
mod tests;
