//! Addresses made in advance go into the `pool` tree.

use std::collections::HashSet;

use super::super::counts::Counts;
use super::super::error::StoreError;
use super::super::layout::trees::Trees;
use crate::cashaddr::Address;

/// Pools `addresses`, skipping repeats, pooled ones and (with a warning)
/// ledger ones; returns how many were added.
pub fn add_to_pool(trees: &Trees, counts: &Counts, addresses: Vec<Address>) -> Result<usize, StoreError> {
    let mut batch = sled::Batch::default();
    let mut seen = HashSet::new();
    let mut added = 0;
    for address in addresses {
        if !seen.insert(address.clone()) {
            continue;
        }
        if trees.by_address.contains_key(address.as_str())? {
            log::warn!(
                "not pooling {address}: it was already handed to an invoice (a wallet restored from an old backup?)"
            );
            continue;
        }
        if trees.pool.contains_key(address.as_str())? {
            continue;
        }
        batch.insert(address.as_str(), &[]);
        added += 1;
    }
    trees.pool.apply_batch(batch)?;
    Counts::adjust(&counts.pool, added as isize);
    Ok(added)
}
