//! [`AddressPicker`]: hands out the addresses of one batch of creations.

use std::collections::HashSet;

use super::super::error::StoreError;
use super::super::layout::trees::Trees;
use crate::cashaddr::Address;

/// Hands out the addresses of one batch of creations: a given fresh address if
/// it was never handed out, else the next of the pool. Addresses found in the
/// ledger are skipped (and dropped from the pool): a wallet restored from an
/// old backup hands out old addresses again.
#[derive(Default)]
pub struct AddressPicker {
    /// The pool, walked once per batch (its removals are written with the batch).
    pool: Option<sled::Iter>,
    /// Addresses already picked in this batch.
    picked: HashSet<Address>,
    /// Ledger addresses dropped from the pool.
    pub dropped: usize,
}

impl AddressPicker {
    /// The address of the next invoice of the batch.
    pub fn pick(&mut self, trees: &Trees, fresh: Option<Address>) -> Result<Address, StoreError> {
        if let Some(fresh) = fresh {
            if !self.picked.contains(&fresh) && !trees.by_address.contains_key(fresh.as_str())? {
                self.picked.insert(fresh.clone());
                return Ok(fresh);
            }
            log::warn!(
                "fresh address {fresh} was already handed to an invoice; not reusing it, taking one from the pool"
            );
        }
        let pool = self.pool.get_or_insert_with(|| trees.pool.iter());
        loop {
            let Some((key, _)) = pool.next().transpose()? else {
                return Err(StoreError::PoolEmpty);
            };
            match std::str::from_utf8(&key).ok().and_then(|s| Address::parse(s).ok()) {
                Some(address) if self.picked.contains(&address) => continue,
                Some(address) if !trees.by_address.contains_key(address.as_str())? => {
                    self.picked.insert(address.clone());
                    return Ok(address);
                }
                Some(address) => log::warn!(
                    "pool address {address} was already handed to an invoice (a wallet restored from an \
                     old backup?); dropping it from the pool"
                ),
                None => log::warn!("unreadable pool entry {key:?}; dropping it from the pool"),
            }
            if trees.pool.remove(key)?.is_some() {
                self.dropped += 1;
            }
        }
    }
}
