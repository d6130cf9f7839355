//! Sizes read on every `/readyz`, scrape and allocator check: sled's `len()`
//! walks a whole tree, so they are counted once at open and then kept by the
//! writer. Also the `meta` counters' update inside a transaction.

use std::sync::atomic::{AtomicUsize, Ordering};

use sled::transaction::{TransactionalTree, UnabortableTransactionError};

use super::layout::keys::{decode_counter, encode_counter, MetaKey};
use super::layout::trees::Trees;

/// Tree sizes kept up to date by the single writer.
#[derive(Debug, Default)]
pub struct Counts {
    /// Entries of `pool`.
    pub pool: AtomicUsize,
    /// Entries of `outbox`.
    pub outbox: AtomicUsize,
}

impl Counts {
    /// Counts the trees whose sizes are kept (at open, and after a writer restart).
    pub fn recount(&self, trees: &Trees) {
        self.pool.store(trees.pool.len(), Ordering::Relaxed);
        self.outbox.store(trees.outbox.len(), Ordering::Relaxed);
    }

    /// Adds `delta` to a kept size.
    pub fn adjust(counter: &AtomicUsize, delta: isize) {
        if delta >= 0 {
            counter.fetch_add(delta as usize, Ordering::Relaxed);
        } else {
            let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(delta.unsigned_abs()))
            });
        }
    }
}

/// Adds `delta` to a `meta` counter inside a transaction (an unreadable
/// counter counts as 0: `check_invariants` reports it).
pub fn bump(meta: &TransactionalTree, key: MetaKey, delta: i64) -> Result<(), UnabortableTransactionError> {
    let key = key.encode();
    let now = decode_counter(meta.get(&key)?.as_deref()).unwrap_or(0);
    let next = if delta >= 0 {
        now.saturating_add(delta as u64)
    } else {
        now.saturating_sub(delta.unsigned_abs())
    };
    meta.insert(key, &encode_counter(next))?;
    Ok(())
}
