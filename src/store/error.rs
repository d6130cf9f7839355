//! [`StoreError`]: why the store could not do what was asked.

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another process (a running engine) holds the store directory.
    #[error(
        "the store directory {0} is in use by another process (a running bchpay?); stop it, \
         or read through the running engine's API"
    )]
    Locked(String),
    /// The directory was written by a bchpay with a layout this one cannot read or migrate.
    #[error(
        "the store has schema version {found}, this bchpay reads version {expected} and migrates only \
         versions 2 and up: run the bchpay release that wrote it, or move the store directory aside to \
         start a new one"
    )]
    SchemaMismatch {
        /// The version in the store.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The order id already has an invoice for another amount.
    #[error("order already has an invoice for another amount")]
    OrderConflict,
    /// No fresh address was given and the pool is empty.
    #[error("no fresh address available: the address pool is empty")]
    PoolEmpty,
    /// No such record (an event id that was never written).
    #[error("not found")]
    NotFound,
    /// An event with nowhere to go: no webhook URL, or no webhook secret to sign with.
    #[error("no webhook endpoint: set the invoice's webhook_url or webhooks.url, and webhooks.secret")]
    NoEndpoint,
    /// A listing cursor that this store did not hand out.
    #[error("invalid cursor")]
    InvalidCursor,
    /// Data in the store that does not read back (a bug or a damaged store).
    #[error("store data is corrupt: {0}")]
    Corrupt(String),
    /// The disk or sled failed (a full disk, an I/O error): nothing was acknowledged.
    #[error("store I/O error: {0}")]
    Io(String),
    /// The writer failed while it held this write (it restarts by itself);
    /// the write may or may not have reached the disk, and was not acknowledged.
    #[error("the store writer failed: {0}")]
    WriterFailed(String),
}

impl StoreError {
    /// True when the store cannot write now but may again later (answer 503, not 500).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Io(_) | StoreError::WriterFailed(_))
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
            other => StoreError::Io(other.to_string()),
        }
    }
}

/// A transaction's failure: storage errors are I/O, aborts carry their own error.
impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(e: sled::transaction::TransactionError<StoreError>) -> Self {
        match e {
            sled::transaction::TransactionError::Storage(e) => e.into(),
            sled::transaction::TransactionError::Abort(e) => e,
        }
    }
}
