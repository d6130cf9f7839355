//! The wallet's balance: `getbalance` as a typed call on the wallet link
//! against the simulated daemon, and `GET /api/v1/wallet` (api.md,
//! "Merchant dashboard") as the balance moves, while the link is down, and
//! without a key.

use std::time::Duration;

use crate::helpers::*;
use serde_json::{json, Value};

/// `GET /api/v1/wallet` once its balance is `want`.
async fn wallet_once(app: &TestApp, want: Value) -> Value {
    eventually(
        &format!("the wallet's balance {want}"),
        Duration::from_secs(5),
        || async {
            let reply = app.get("/api/v1/wallet").await;
            if reply.status == 200 && reply.body["balance"] == want {
                Ok(reply.body)
            } else {
                Err(format!("{} {}", reply.status, reply.body))
            }
        },
    )
    .await
}

#[actix_rt::test]
async fn getbalance_through_the_wallet_link_reads_the_simulators_balance_exactly() {
    let sim = bchpay::sim::Sim::start(bchpay::sim::SimConfig::default())
        .await
        .expect("simulator");
    let link = bchpay::electron_cash::WalletLink::start(bchpay::config::ElectronCashSettings {
        url: sim.url(),
        timeout_secs: 5,
        ..Default::default()
    });
    eventually("the link up", Duration::from_secs(5), || async {
        link.status().state.is_up()
    })
    .await;
    let empty = link.balance().await.expect("getbalance");
    assert_eq!((empty.confirmed, empty.unconfirmed, empty.unmatured), (0, 0, 0));
    let address = link.create_new_address().await.expect("an address");
    sim.pay(address.as_str(), 1).expect("pay 1 sat");
    sim.pay(address.as_str(), 12_345).expect("pay");
    let b = link.balance().await.expect("getbalance");
    assert_eq!(
        (b.confirmed, b.unconfirmed),
        (0, 12_346),
        "1E-8 and 0.00012345 read exactly"
    );
    sim.mine(1);
    let b = link.balance().await.expect("getbalance");
    assert_eq!((b.confirmed, b.unconfirmed), (12_346, 0));
}

#[actix_rt::test]
async fn get_wallet_shows_the_link_the_network_and_the_balance_as_it_moves() {
    let app = TestApp::spawn().await;
    let body = wallet_once(&app, json!({"confirmed_sats": 0, "unconfirmed_sats": 0})).await;
    assert_eq!(
        body,
        json!({"state": "up", "network": "bchreg", "balance": {"confirmed_sats": 0, "unconfirmed_sats": 0}})
    );

    let invoice = app.create_ok(&json!({"amount": "0.0007"})).await;
    let address = invoice["address"].as_str().unwrap();
    app.sim.pay(address, 70_000).expect("pay");
    wallet_once(&app, json!({"confirmed_sats": 0, "unconfirmed_sats": 70_000})).await;
    app.sim.mine(1);
    wallet_once(&app, json!({"confirmed_sats": 70_000, "unconfirmed_sats": 0})).await;
    // The merchant spends the coins: unconfirmed goes negative until mined.
    app.sim.spend_address(address).expect("spend");
    let spent = app.get("/api/v1/wallet").await.body;
    assert_eq!(spent["balance"]["confirmed_sats"], 70_000, "{spent}");
    assert_eq!(spent["balance"]["unconfirmed_sats"], -70_000, "{spent}");
}

#[actix_rt::test]
async fn get_wallet_while_the_daemon_is_down_says_down_with_no_balance() {
    let app = TestApp::spawn().await;
    app.sim.stop_listening().await;
    wait_wallet_state(&app.base, "down", Duration::from_secs(10)).await;
    let reply = app.get("/api/v1/wallet").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({"state": "down", "network": "bchreg", "balance": null})
    );
}

#[actix_rt::test]
async fn get_wallet_without_a_key_is_401() {
    let app = TestApp::spawn().await;
    let reply = app.get_with("/api/v1/wallet", None).await;
    assert_error(&reply, 401, "unauthorized", None);
    let reply = app.get_with("/api/v1/wallet", Some("Bearer wrong-key")).await;
    assert_error(&reply, 401, "unauthorized", None);
}
