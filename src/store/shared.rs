//! [`SharedTrees`]: the tree handles every reader uses, swapped by the writer
//! when it reopens the database (sled stops writing for good after an I/O
//! error such as a full disk, until it is opened again).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::error::StoreError;
use super::layout::trees::Trees;

/// The current tree handles, shared by the writer and every reader.
#[derive(Clone)]
pub struct SharedTrees(Arc<RwLock<Option<Trees>>>, Arc<AtomicU64>);

impl SharedTrees {
    /// Shares `trees`.
    pub fn new(trees: Trees) -> SharedTrees {
        SharedTrees(Arc::new(RwLock::new(Some(trees))), Arc::default())
    }

    /// How many times the handles were let go (a backup that spans a reopen
    /// watched the old trees and must be taken again).
    pub fn generation(&self) -> u64 {
        self.1.load(Ordering::SeqCst)
    }

    /// The current handles (cheap clones); an error while the store reopens.
    pub fn get(&self) -> Result<Trees, StoreError> {
        self.0
            .read()
            .ok()
            .and_then(|t| t.clone())
            .ok_or_else(|| StoreError::WriterFailed("the store is being reopened".into()))
    }

    /// Lets go of the handles, so that the database can close.
    pub fn take(&self) {
        self.1.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut t) = self.0.write() {
            *t = None;
        }
    }

    /// Hands out new handles.
    pub fn set(&self, trees: Trees) {
        if let Ok(mut t) = self.0.write() {
            *t = Some(trees);
        }
    }
}
