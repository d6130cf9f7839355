//! The address pool (issue 3): creation does not wait on the wallet while the
//! pool lasts, says `503 wallet_unavailable` when it cannot get an address,
//! refills by itself, and never hands an address out twice.

use std::collections::HashSet;
use std::time::Duration;

use crate::helpers::*;
use bchpay::cashaddr::Address;
use bchpay::sim::{Sim, SimConfig};
use futures_util::StreamExt;
use serde_json::json;

/// `address_pool.available` of `/readyz`.
async fn pool_available(base: &str) -> Option<u64> {
    let (_, body) = readyz(base).await?;
    body["address_pool"]["available"].as_u64()
}

/// Waits until `/readyz` shows `n` addresses available.
async fn wait_pool_available(base: &str, n: u64, deadline: Duration) {
    eventually(&format!("address_pool.available = {n}"), deadline, || async {
        (pool_available(base).await == Some(n)).then_some(())
    })
    .await;
}

/// Asserts that the ledger hands each address to the invoice that shows it.
#[track_caller]
fn assert_in_ledger(app: &TestApp, address: &str, id: &str) {
    let owner = app
        .reader
        .invoice_by_address(&Address::parse(address).unwrap())
        .unwrap()
        .unwrap_or_else(|| panic!("{address} of {id} is not in the ledger"));
    assert_eq!(owner.id.as_str(), id, "{address} belongs to another invoice");
}

#[actix_rt::test]
async fn with_the_wallet_down_a_pool_of_20_serves_20_invoices_then_503_and_refills_by_itself() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let app = TestApp::spawn_against(sim, |s| {
        s.addresses.pool_low = 5;
        s.addresses.pool_high = 20;
    })
    .await;
    wait_pool_available(&app.base, 20, Duration::from_secs(10)).await;
    let pooled: HashSet<String> = app.snapshot().pool.into_iter().collect();

    app.sim.stop_listening().await;
    let mut addresses = HashSet::new();
    for i in 0..20 {
        let reply = app.create(&json!({"amount_sats": 10_000 + i})).await;
        assert_eq!(
            reply.status,
            201,
            "creation {} with the wallet down: {}",
            i + 1,
            reply.body
        );
        addresses.insert(reply.body["address"].as_str().unwrap().to_owned());
    }
    let before = app.snapshot();
    let refused = app.create(&json!({"amount": "0.1"})).await;

    assert_eq!(addresses, pooled, "the 20 invoices got the 20 pooled addresses");
    assert_error(&refused, 503, "wallet_unavailable", None);
    let retry_after = refused.header("Retry-After").expect("a Retry-After header");
    assert!(
        retry_after.parse::<u64>().is_ok_and(|secs| secs >= 1),
        "Retry-After: {retry_after}"
    );
    assert_eq!(app.snapshot(), before, "a refused creation stores nothing");
    assert_eq!(before.invoice_count, 20);

    app.sim.start_listening().await.unwrap();
    wait_pool_available(&app.base, 20, Duration::from_secs(10)).await;
    let again = app.create(&json!({"amount": "0.1"})).await;
    assert_eq!(again.status, 201, "{}", again.body);
    let address = again.body["address"].as_str().unwrap();
    assert!(!addresses.contains(address), "{address} handed out twice");
    assert_in_ledger(&app, address, again.body["id"].as_str().unwrap());
}

#[actix_rt::test]
async fn an_empty_pool_with_the_wallet_up_still_creates_with_a_fresh_address() {
    let app = TestApp::spawn_with(|s| {
        s.addresses.pool_low = 0;
        s.addresses.pool_high = 1;
    })
    .await;
    let pooled = app.snapshot().pool;
    assert_eq!(pooled.len(), 1);
    // Each createnewaddress now takes a second: the refill after the first
    // creation is still running when the second one asks.
    app.sim.set_method_delay("createnewaddress", Duration::from_secs(1));
    let made_before = app.sim.requests_for("createnewaddress");

    let first = app.create_ok(&json!({"amount": "0.1"})).await;
    assert_eq!(first["address"], pooled[0].as_str());
    assert_eq!(app.reader.pool_len(), 0, "the pool is empty, the refill not done");
    let second = app.create(&json!({"amount": "0.2"})).await;

    assert_eq!(second.status, 201, "{}", second.body);
    let address = second.body["address"].as_str().unwrap();
    assert_ne!(address, pooled[0], "an address handed out twice");
    assert_eq!(Address::parse(address).unwrap().prefix(), "bchreg");
    assert!(app.sim.requests_for("createnewaddress") > made_before);
    assert_in_ledger(&app, address, second.body["id"].as_str().unwrap());
    assert_eq!(app.reader.ledger_len(), 2);
}

#[actix_rt::test]
async fn a_thousand_concurrent_creations_get_a_thousand_distinct_addresses_each_in_the_ledger_once() {
    // A pool of at most 100: most of the 1,000 drain it and wait on its refill
    // or on an inline address.
    let app = TestApp::spawn_with(|s| {
        s.addresses.pool_low = 20;
        s.addresses.pool_high = 100;
    })
    .await;

    let replies: Vec<Reply> = futures_util::stream::iter(0..1_000u64)
        .map(|i| {
            let app = &app;
            async move { app.create(&json!({ "amount_sats": 1_000 + i })).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;

    let mut ids = HashSet::new();
    let mut addresses = HashSet::new();
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.body);
        let id = reply.body["id"].as_str().unwrap();
        let address = reply.body["address"].as_str().unwrap();
        assert!(ids.insert(id.to_owned()), "{id} twice");
        assert!(addresses.insert(address.to_owned()), "{address} handed out twice");
        assert_in_ledger(&app, address, id);
    }
    assert_eq!(addresses.len(), 1_000);
    let after = app.snapshot();
    assert_eq!(after.ledger_len, 1_000, "the ledger holds other addresses too");
    assert_eq!(after.invoice_count, 1_000);
    for pooled in &after.pool {
        assert!(!addresses.contains(pooled), "{pooled} is in the pool and on an invoice");
    }
}
