//! [`Store`]: an open store directory (lock, schema version, migration), not
//! yet handed to its writer.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use super::counts::Counts;
use super::error::StoreError;
use super::health::Health;
use super::layout::keys::MetaKey;
use super::layout::trees::Trees;
use super::layout::{values, SCHEMA_VERSION};
use super::lookup;
use super::migrate;
use super::reader::StoreReader;
use super::shared::SharedTrees;
use super::write::api_keys;
use crate::api_key::{ApiKeyRecord, KeyId};
use crate::event::route::Routes;

/// Page cache for sled: its default (1 GiB) would let the store alone grow
/// past the engine's memory bar; the hot set of a payment engine is small.
pub const CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// An open store directory.
pub struct Store {
    /// The database; the writer flushes it.
    db: sled::Db,
    /// The directory, for reopening it.
    path: PathBuf,
    /// The trees of the layout.
    pub(super) trees: Trees,
    /// The handles readers use (swapped when the writer reopens sled).
    shared: SharedTrees,
    /// Sizes kept by the writer, read by every reader.
    counts: Arc<Counts>,
    /// Flushes completed by the writer, shared with every reader.
    flushes: Arc<AtomicU64>,
    /// Whether writes succeed, shared with `/readyz`; the test fault hook.
    health: Arc<Health>,
    /// Where events go (set by the engine from its configuration).
    routes: Routes,
}

/// A [`Store`] taken apart by its writer.
pub struct Parts {
    /// See [`Store`].
    pub db: sled::Db,
    /// See [`Store`].
    pub path: PathBuf,
    /// See [`Store`].
    pub trees: Trees,
    /// See [`Store`].
    pub shared: SharedTrees,
    /// See [`Store`].
    pub counts: Arc<Counts>,
    /// See [`Store`].
    pub flushes: Arc<AtomicU64>,
    /// See [`Store`].
    pub health: Arc<Health>,
    /// See [`Store`].
    pub routes: Routes,
}

/// Opens sled at `path`, telling a held lock apart.
pub(super) fn open_db(path: &Path, config: sled::Config) -> Result<sled::Db, StoreError> {
    config
        .path(path)
        .cache_capacity(CACHE_BYTES)
        .open()
        .map_err(|e| match e {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                StoreError::Locked(path.display().to_string())
            }
            other => StoreError::from(other),
        })
}

/// Runs `open` again every 20 ms while it finds the directory locked, until
/// `wait` has passed: sled lets go of its lock file from a background
/// thread, so a store just closed in this process may still be held a moment.
pub(super) fn when_unlocked<T>(
    wait: std::time::Duration,
    mut open: impl FnMut() -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        match open() {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other,
        }
    }
}

impl Store {
    /// Opens the store at `path`, creating it if needed, and migrating one
    /// written by an earlier layout in place (see `store/migrate.rs`).
    ///
    /// Refuses a directory held by another process ([`StoreError::Locked`]) and
    /// one written with a layout it cannot migrate ([`StoreError::SchemaMismatch`]).
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let db = open_db(path.as_ref(), sled::Config::new())?;
        let trees = Trees::open(&db)?;
        match lookup::schema_version(&trees)? {
            Some(SCHEMA_VERSION) => {}
            Some(found) if migrate::can_migrate(found) => migrate::migrate(&db, &trees, found)?,
            Some(found) => {
                return Err(StoreError::SchemaMismatch {
                    found,
                    expected: SCHEMA_VERSION,
                })
            }
            None if trees.is_empty() => {
                trees.meta.insert(
                    MetaKey::SchemaVersion.encode(),
                    values::encode_schema_version(SCHEMA_VERSION),
                )?;
                db.flush()?;
            }
            None => return Err(StoreError::Corrupt("the store holds data but no schema version".into())),
        }
        Ok(Store::over(path.as_ref(), db, trees))
    }

    /// Opens an existing store to read it (`bchpay inspect`): refuses a
    /// directory that holds no store instead of creating one, and never writes
    /// (a store of an earlier layout is migrated by the engine's next start).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        if !path.join("conf").is_file() && !path.join("db").is_file() {
            return Err(StoreError::Io(format!("no bchpay store at {}", path.display())));
        }
        let db = open_db(path, sled::Config::new())?;
        let trees = Trees::open(&db)?;
        match lookup::schema_version(&trees)? {
            Some(SCHEMA_VERSION) => Ok(Store::over(path, db, trees)),
            Some(found) => Err(StoreError::SchemaMismatch {
                found,
                expected: SCHEMA_VERSION,
            }),
            None => Err(StoreError::Corrupt("the store holds no schema version".into())),
        }
    }

    /// A store over opened trees, its sizes counted.
    fn over(path: &Path, db: sled::Db, trees: Trees) -> Store {
        let counts = Arc::new(Counts::default());
        counts.recount(&trees);
        Store {
            db,
            path: path.to_owned(),
            shared: SharedTrees::new(trees.clone()),
            trees,
            counts,
            flushes: Arc::default(),
            health: Health::new(),
            routes: Routes::default(),
        }
    }

    /// Sets where events go (the rule lives outside the store: [`Routes`]).
    pub fn with_routes(mut self, routes: Routes) -> Store {
        self.routes = routes;
        self
    }

    /// A reader over this store's trees.
    pub fn reader(&self) -> StoreReader {
        StoreReader::new(self.shared.clone(), self.counts.clone(), self.flushes.clone())
    }

    /// `bchpay keys create` on a stopped engine's store: written and flushed.
    pub fn create_api_key(&self, record: &ApiKeyRecord) -> Result<ApiKeyRecord, StoreError> {
        let created = api_keys::create(&self.trees, record)?;
        self.db.flush()?;
        Ok(created)
    }

    /// `bchpay keys revoke` on a stopped engine's store: removed and flushed.
    pub fn revoke_api_key(&self, id: &KeyId) -> Result<ApiKeyRecord, StoreError> {
        let revoked = api_keys::revoke(&self.trees, id)?;
        self.db.flush()?;
        Ok(revoked)
    }

    /// The Greenfield store id kept in the store, made (and flushed) on the
    /// first call that finds none. Call before the writer starts.
    pub fn greenfield_store_id(&self) -> Result<String, StoreError> {
        super::write::greenfield_id::get_or_make(&self.db, &self.trees)
    }

    /// Whether writes succeed (for `/readyz`), and the test fault hook.
    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    /// Taken apart by the writer.
    pub(super) fn into_parts(self) -> Parts {
        Parts {
            db: self.db,
            path: self.path,
            trees: self.trees,
            shared: self.shared,
            counts: self.counts,
            flushes: self.flushes,
            health: self.health,
            routes: self.routes,
        }
    }
}
