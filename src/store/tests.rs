//! Tests of the writer and the reader over a real sled store in a temp
//! directory; every test that writes ends by checking the invariants.

mod api_keys;
mod creation;
mod events;
mod faults;
mod greenfield;
mod greenfield_id;
mod listing;
pub(in crate::store) mod migration;
mod open;
mod order_rule;
mod packed;
mod payment_times;

use actix::Addr;
use serde_json::json;

use super::*;
use crate::cashaddr::{encode, Address};
use crate::invoice::NewInvoice;
use crate::money::Sats;

/// A valid regtest address, distinct for each `n`.
pub fn address(n: u32) -> Address {
    let mut hash = [0u8; 20];
    hash[..4].copy_from_slice(&n.to_be_bytes());
    Address::parse(&encode("bchreg", 0, &hash)).unwrap()
}

pub fn draft(order_id: Option<&str>, sats: u64) -> NewInvoice {
    NewInvoice {
        amount_sats: Sats(sats),
        fiat: None,
        order_id: order_id.map(str::to_owned),
        description: Some("Gold membership".into()),
        metadata: json!({"k": "v"}),
        webhook_url: None,
        redirect_url: Some("https://shop.example/back".into()),
        expires_in_secs: 900,
        required_confirmations: 1,
    }
}

pub fn create(order_id: Option<&str>, sats: u64) -> CreateInvoice {
    CreateInvoice {
        draft: draft(order_id, sats),
        fresh_address: None,
        order_rule: Default::default(),
    }
}

/// A started store over a temp directory with `pool` addresses `0..pool` pooled.
pub async fn started(pool: u32) -> (tempfile::TempDir, Addr<InvoiceStore>, StoreReader) {
    let dir = tempfile::tempdir().unwrap();
    let (store, reader) = start(Store::open(dir.path()).unwrap());
    let added = store
        .send(AddToPool {
            addresses: (0..pool).map(address).collect(),
        })
        .await
        .unwrap();
    assert_eq!(added.unwrap(), pool as usize);
    (dir, store, reader)
}

/// Opens the store at `path` again once the actor that had it let go of
/// sled's lock (it drops its handles on its own thread).
pub async fn reopen(path: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(path) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                actix_rt::time::sleep(std::time::Duration::from_millis(20)).await
            }
            other => return other.unwrap(),
        }
    }
}

/// Panics with every invariant the store breaks.
pub fn assert_invariants(reader: &StoreReader) {
    let broken = check_invariants(reader).unwrap();
    assert!(broken.is_empty(), "invariants broken: {broken:#?}");
}
