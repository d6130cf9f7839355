//! Unit tests of the chain: pay, mine, reorg, drop, spend, status, views.

use super::*;

const NOW: i64 = 1_795_600_000;

fn chain() -> Chain {
    Chain::new("bchreg", 1, NOW)
}

#[test]
fn a_payment_sits_in_the_mempool_then_confirms_in_the_next_block() {
    let mut c = chain();
    let a = c.create_address();
    let txid = c.pay(&[(a, 12_345)], false).expect("pays");
    let h = c.address_history(&a);
    assert_eq!(h.len(), 1);
    assert_eq!((h[0].0.as_str(), h[0].1), (txid.as_str(), 0));
    assert!(h[0].2.is_some(), "unconfirmed entries carry a fee");
    assert_eq!(c.address_balance(&a), (0, 12_345));
    assert_eq!(c.mine(1, false, NOW), START_HEIGHT + 1);
    let h = c.address_history(&a);
    assert_eq!((h[0].1, h[0].2), ((START_HEIGHT + 1) as i64, None));
    assert_eq!(c.address_balance(&a), (12_345, 0));
    assert_eq!(c.wallet_balance(), (12_345, 0));
}

#[test]
fn the_transaction_hex_hashes_to_its_txid_and_pays_the_address() {
    let mut c = chain();
    let a = c.create_address();
    let txid = c.pay(&[(a, 70_000)], false).expect("pays");
    let tx = Transaction::from_hex(&c.txs[&txid].hex).expect("parses");
    assert_eq!(tx.txid(), txid);
    assert_eq!(tx.version, 2);
    assert!(tx.outputs.iter().any(|o| o.value == 70_000 && o.script == a.script()));
}

#[test]
fn a_child_of_an_unconfirmed_parent_reads_height_minus_one() {
    let mut c = chain();
    let a = c.create_address();
    c.pay(&[(a, 1_000)], true).expect("pays");
    assert_eq!(c.address_history(&a)[0].1, -1);
    c.mine(1, false, NOW);
    assert_eq!(c.address_history(&a)[0].1, (START_HEIGHT + 1) as i64);
}

#[test]
fn getunusedaddress_stays_until_paid_and_comes_back_when_the_payment_is_dropped() {
    let mut c = chain();
    let first = c.first_unused().expect("a fresh wallet has unused addresses");
    assert_eq!(c.first_unused(), Some(first));
    let txid = c.pay(&[(first, 5)], false).expect("pays");
    assert_ne!(c.first_unused(), Some(first));
    c.drop_tx(&txid).expect("drops");
    assert_eq!(c.first_unused(), Some(first));
    assert!(c.address_history(&first).is_empty());
    assert_eq!(c.wallet_balance(), (0, 0));
}

#[test]
fn dropping_a_parent_drops_its_child_and_a_confirmed_tx_cannot_be_dropped() {
    let mut c = chain();
    let a = c.create_address();
    let child = c.pay(&[(a, 1_000)], true).expect("pays");
    let parent = c.txs[&child].spends[0].0.clone();
    c.drop_tx(&parent).expect("drops");
    assert!(!c.txs.contains_key(&child));
    assert!(c.mempool.is_empty());
    let t = c.pay(&[(a, 1)], false).expect("pays");
    c.mine(1, false, NOW);
    assert!(matches!(c.drop_tx(&t), Err(SimError::BadInput(_))));
    assert!(matches!(c.drop_tx("00"), Err(SimError::NotFound(_))));
}

#[test]
fn a_reorg_puts_txs_back_in_the_mempool_and_the_wallet_stays_stale_until_reloaded() {
    let mut c = chain();
    let a = c.create_address();
    let txid = c.pay(&[(a, 700)], false).expect("pays");
    c.mine(1, false, NOW);
    c.reorg(1).expect("reorgs");
    assert_eq!(c.tip(), START_HEIGHT);
    assert_eq!(c.address_history(&a)[0].1, 0);
    c.mine(1, false, NOW);
    assert_eq!(
        c.address_history(&a)[0].1,
        (START_HEIGHT + 1) as i64,
        "the server sees the truth"
    );
    assert_eq!(c.wallet_height(&txid), 0, "the wallet's view stays unconfirmed");
    assert_eq!(c.wallet_balance(), (0, 700));
    c.reload_wallet();
    assert_eq!(c.wallet_height(&txid), (START_HEIGHT + 1) as i64);
    assert!(c.reorg(0).is_err());
    assert!(c.reorg(10_000).is_err());
}

#[test]
fn spending_an_address_lowers_its_balance_but_history_keeps_both() {
    let mut c = chain();
    let a = c.create_address();
    c.pay(&[(a, 10_000)], false).expect("pays");
    c.mine(1, false, NOW);
    let spend = c.spend(a).expect("spends");
    assert_eq!(c.address_balance(&a), (10_000, -10_000));
    assert!(c.address_unspent(&a).is_empty());
    assert!(c.wallet_unspent().is_empty());
    assert_eq!(c.address_history(&a).len(), 2);
    let rows = c.wallet_history();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[1].txid.as_str(), rows[1].value, rows[1].balance),
        (spend.as_str(), -10_000, 0)
    );
    assert!(c.spend(a).is_err(), "nothing left to spend");
}

#[test]
fn the_status_hash_is_sha256_of_txid_height_pairs_and_null_when_empty() {
    let mut c = chain();
    let a = c.create_address();
    assert_eq!(c.status(&a), None);
    let txid = c.pay(&[(a, 1)], false).expect("pays");
    let expected = hex::encode(Sha256::digest(format!("{txid}:0:").as_bytes()));
    assert_eq!(c.status(&a), Some(expected));
}

#[test]
fn subscribers_are_told_on_arrival_confirmation_and_reorg_only() {
    let mut c = chain();
    let a = c.create_address();
    let first = c.subscribe(a, "bchreg:x", "http://h/n");
    assert_eq!(first.status, None);
    assert!(c.take_notifications().is_empty());
    c.pay(&[(a, 1)], false).expect("pays");
    let posts = c.take_notifications();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].address, "bchreg:x");
    assert!(posts[0].status.is_some());
    c.mine(1, false, NOW);
    assert_eq!(c.take_notifications().len(), 1);
    c.mine_unrelated();
    assert!(c.take_notifications().is_empty());
    c.reorg(2).expect("reorgs");
    assert_eq!(c.take_notifications().len(), 1);
    c.forget_subscriptions();
    c.mine(1, false, NOW);
    assert!(c.take_notifications().is_empty());
}

#[test]
fn creating_many_addresses_and_paying_some_stays_fast() {
    let mut c = chain();
    let addrs: Vec<Dest> = (0..20_000).map(|_| c.create_address()).collect();
    for a in addrs.iter().step_by(100) {
        c.pay(&[(*a, 1_000)], false).expect("pays");
    }
    c.mine(1, false, NOW);
    assert_eq!(c.wallet_history().len(), 200);
    assert_eq!(c.wallet_unspent().len(), 200);
    assert_eq!(c.wallet_balance(), (200_000, 0));
}

impl Chain {
    fn mine_unrelated(&mut self) {
        let x = self.external();
        self.pay(&[(x, 1)], false).expect("pays");
        self.mine(1, false, NOW);
    }
}
