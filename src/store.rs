//! The sled store: its layout, opening it (lock, schema version), the single
//! writer ([`InvoiceStore`], with group commit) and lock-free reads ([`StoreReader`]).
//!
//! # Layout (sled trees)
//! | tree | key → value |
//! |---|---|
//! | `invoices` | invoice id → invoice JSON |
//! | `by_address` | address → invoice id: the ledger that no address is ever handed out twice |
//! | `by_order` | order id → invoice id (idempotent creation) |
//! | `by_time` | every invoice in the order created (newest-first listing): chunks of 64 invoice ids ([`layout`]) |
//! | `watch` | invoice id → () for invoices the confirmer still watches |
//! | `pool` | address → () made in advance, not yet handed out |
//! | `events` | invoice id → JSON array of the invoice's events with their delivery records, in order |
//! | `event_log` | every event in the order made (its global sequence): chunks of 64 references (invoice id, index) ([`layout`]) |
//! | `outbox` | event sequence (u64 big-endian) → () for events still to deliver |
//! | `api_keys` | SHA-256 of an API key (32 bytes) → its record ([`layout`]) |
//! | `meta` | `schema_version` (decimal text), `invoice_count`, `event_seq` (u64 big-endian), `status:<status>` counters |
//!
//! An event id (`evt_<invoice digits>_<16 hex>`) names its invoice, so that it
//! is found without an index of its own. Why an invoice costs so few entries:
//! [`layout`].

mod actor;
mod api_keys;
pub(crate) mod layout;
mod observe;
mod outbox;
mod reader;

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub use actor::{start, AddToPool, CreateInvoice, Created, Flush, InvoiceStore};
pub use api_keys::{CreateApiKey, RevokeApiKey, TouchApiKey};
pub use observe::{Applied, ApplyObservation, Subscribe, Watch};
pub use outbox::{EventsPending, Outcome, RecordAttempt, Redeliver, SubscribeEvents};
pub use reader::StoreReader;

/// The layout version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 2;

/// `meta` key of the schema version.
const META_SCHEMA_VERSION: &[u8] = b"schema_version";
/// `meta` key of the number of invoices ever created.
const META_INVOICE_COUNT: &[u8] = b"invoice_count";
/// `meta` key prefix of the number of invoices in each status (`status:new`, …).
const META_STATUS_PREFIX: &str = "status:";

/// The `meta` key counting invoices in `status`.
fn status_key(status: crate::invoice::InvoiceStatus) -> Vec<u8> {
    format!("{META_STATUS_PREFIX}{}", status.as_str()).into_bytes()
}

/// Adds `delta` to a `meta` counter inside a transaction.
fn bump(
    meta: &sled::transaction::TransactionalTree,
    key: &[u8],
    delta: i64,
) -> Result<(), sled::transaction::ConflictableTransactionError<()>> {
    let now = decode_counter(meta.get(key)?.as_deref()).unwrap_or(0);
    let next = if delta >= 0 {
        now.saturating_add(delta as u64)
    } else {
        now.saturating_sub(delta.unsigned_abs())
    };
    meta.insert(key, &next.to_be_bytes())?;
    Ok(())
}

/// `meta` key of the last event sequence handed out.
const META_EVENT_SEQ: &[u8] = b"event_seq";

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another process (a running engine) holds the store directory.
    #[error(
        "the store directory {0} is in use by another process (a running bchpay?); stop it, \
         or read through the running engine's API"
    )]
    Locked(String),
    /// The directory was written by a bchpay with another layout.
    #[error(
        "the store has schema version {found}, this bchpay reads version {expected}: run the bchpay \
         release that wrote it, or move the store directory aside to start a new one"
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
    /// The disk or sled failed.
    #[error("store I/O error: {0}")]
    Io(String),
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { .. } => StoreError::Corrupt(e.to_string()),
            other => StoreError::Io(other.to_string()),
        }
    }
}

/// The trees of the layout, cheap to clone (each is a handle).
#[derive(Clone)]
struct Trees {
    /// Invoice id → invoice JSON.
    invoices: sled::Tree,
    /// Address → invoice id: the ledger of handed-out addresses.
    by_address: sled::Tree,
    /// Order id → invoice id.
    by_order: sled::Tree,
    /// Chunks of invoice ids in the order created.
    by_time: sled::Tree,
    /// Invoice id → () while watched.
    watch: sled::Tree,
    /// Address → () not yet handed out.
    pool: sled::Tree,
    /// Invoice id → its events.
    events: sled::Tree,
    /// Chunks of event references, in the order of the events' sequences.
    event_log: sled::Tree,
    /// Event sequence → () while the event waits for delivery.
    outbox: sled::Tree,
    /// Schema version and counters.
    meta: sled::Tree,
    /// API key digest → its record.
    api_keys: sled::Tree,
    /// Sizes read on every `/readyz`, scrape and allocator check: sled's
    /// `len()` walks the whole tree, so they are counted once at open and then
    /// kept by the writer.
    counts: Arc<Counts>,
}

/// Tree sizes kept up to date by the single writer.
#[derive(Debug, Default)]
struct Counts {
    /// Entries of `pool`.
    pool: std::sync::atomic::AtomicUsize,
    /// Entries of `outbox`.
    outbox: std::sync::atomic::AtomicUsize,
}

impl Trees {
    fn open(db: &sled::Db) -> Result<Trees, StoreError> {
        Ok(Trees {
            invoices: db.open_tree("invoices")?,
            by_address: db.open_tree("by_address")?,
            by_order: db.open_tree("by_order")?,
            by_time: db.open_tree("by_time")?,
            watch: db.open_tree("watch")?,
            pool: db.open_tree("pool")?,
            events: db.open_tree("events")?,
            event_log: db.open_tree("event_log")?,
            outbox: db.open_tree("outbox")?,
            meta: db.open_tree("meta")?,
            api_keys: db.open_tree("api_keys")?,
            counts: Arc::default(),
        }
        .counted())
    }

    /// Counts the trees whose sizes are kept (once, at open).
    fn counted(self) -> Trees {
        use std::sync::atomic::Ordering;
        self.counts.pool.store(self.pool.len(), Ordering::Relaxed);
        self.counts.outbox.store(self.outbox.len(), Ordering::Relaxed);
        self
    }

    /// Adds `delta` to a kept size.
    fn adjust(counter: &std::sync::atomic::AtomicUsize, delta: isize) {
        use std::sync::atomic::Ordering;
        if delta >= 0 {
            counter.fetch_add(delta as usize, Ordering::Relaxed);
        } else {
            let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(delta.unsigned_abs()))
            });
        }
    }

    /// True when no tree but `meta` holds anything.
    fn is_empty(&self) -> bool {
        [
            &self.invoices,
            &self.by_address,
            &self.by_order,
            &self.by_time,
            &self.watch,
            &self.pool,
            &self.events,
            &self.event_log,
            &self.outbox,
        ]
        .iter()
        .all(|t| t.is_empty())
    }
}

/// An open store directory, not yet handed to its actor.
pub struct Store {
    /// The database; the actor flushes it.
    db: sled::Db,
    /// The trees of the layout.
    trees: Trees,
    /// Flushes completed by the writer, shared with every reader.
    flushes: Arc<AtomicU64>,
    /// Base of `checkout_url` in event snapshots.
    public_url: String,
    /// Where events of invoices without a `webhook_url` go.
    default_webhook_url: Option<String>,
    /// No secret to sign with: events are kept, not sent.
    webhook_secret_missing: bool,
}

impl Store {
    /// Opens the store at `path`, creating it if needed.
    ///
    /// Refuses a directory held by another process ([`StoreError::Locked`]) and
    /// one written with another layout ([`StoreError::SchemaMismatch`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        let db = sled_config(path).open().map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked(path.display().to_string())
            }
            other => StoreError::from(other),
        })?;
        let trees = Trees::open(&db)?;
        match trees.meta.get(META_SCHEMA_VERSION)? {
            Some(found) => {
                let found = std::str::from_utf8(&found)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .ok_or_else(|| StoreError::Corrupt(format!("unreadable schema version {found:?}")))?;
                if found != SCHEMA_VERSION {
                    return Err(StoreError::SchemaMismatch {
                        found,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            None if trees.is_empty() => {
                trees
                    .meta
                    .insert(META_SCHEMA_VERSION, SCHEMA_VERSION.to_string().as_bytes())?;
                db.flush()?;
            }
            None => return Err(StoreError::Corrupt("the store holds data but no schema version".into())),
        }
        Ok(Store {
            db,
            trees,
            flushes: Arc::default(),
            public_url: String::new(),
            default_webhook_url: None,
            webhook_secret_missing: false,
        })
    }

    /// Sets what event snapshots and deliveries need from the configuration.
    ///
    /// Without a webhook secret no event is sent unsigned: events are kept as
    /// `no_endpoint`.
    pub fn with_event_settings(
        mut self,
        public_url: &str,
        default_webhook_url: Option<String>,
        webhook_secret_missing: bool,
    ) -> Store {
        self.public_url = public_url.to_owned();
        self.default_webhook_url = default_webhook_url.filter(|u| !u.is_empty());
        self.webhook_secret_missing = webhook_secret_missing;
        self
    }

    /// Opens an existing store to read it (`bchpay inspect`): refuses a
    /// directory that holds no store instead of creating one, and never writes.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        if !path.join("conf").is_file() && !path.join("db").is_file() {
            return Err(StoreError::Io(format!("no bchpay store at {}", path.display())));
        }
        let db = sled_config(path).open().map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked(path.display().to_string())
            }
            other => StoreError::from(other),
        })?;
        let trees = Trees::open(&db)?;
        let store = Store {
            db,
            trees,
            flushes: Arc::default(),
            public_url: String::new(),
            default_webhook_url: None,
            webhook_secret_missing: false,
        };
        match store.reader().schema_version()? {
            Some(SCHEMA_VERSION) => Ok(store),
            Some(found) => Err(StoreError::SchemaMismatch {
                found,
                expected: SCHEMA_VERSION,
            }),
            None => Err(StoreError::Corrupt("the store holds no schema version".into())),
        }
    }

    /// A reader over this store's trees.
    pub fn reader(&self) -> StoreReader {
        StoreReader::new(self.trees.clone(), self.flushes.clone())
    }
}

/// Page cache for sled: its default (1 GiB) would let the store alone grow
/// past the engine's memory bar; the hot set of a payment engine is small.
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;

fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new().path(path).cache_capacity(CACHE_BYTES)
}

/// Reads a `meta` counter (absent = 0).
fn decode_counter(bytes: Option<&[u8]>) -> Result<u64, StoreError> {
    match bytes {
        None => Ok(0),
        Some(b) => <[u8; 8]>::try_from(b)
            .map(u64::from_be_bytes)
            .map_err(|_| StoreError::Corrupt("unreadable counter".into())),
    }
}

#[cfg(test)]
mod tests;
