//! What the confirmer must get right across a restart of the real binary
//! (found by the fault drill): invoices created in the first moments after a
//! start are watched, and a payment that vanished while the engine was down
//! is noticed.

use std::time::Duration;

use crate::helpers::*;
use awc::http::Method;
use bchpay::sim::{Sim, SimConfig};
use serde_json::{json, Value};

fn config(sim: &Sim) -> String {
    format!(
        "{}[api]\nkeys = [\"{API_KEY}\"]\n[payments]\npoll_interval_ms = 200\n[addresses]\npool_low = 50\npool_high = 200\n",
        wallet_config(&sim.url(), "", 5)
    )
}

async fn create(client: &awc::Client, base: &str, sats: u64) -> Value {
    let reply = send(
        client,
        Method::POST,
        &format!("{base}/api/v1/invoices"),
        Some(&bearer(API_KEY)),
        Some(json!({"amount_sats": sats}).to_string().into_bytes()),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

async fn invoice(client: &awc::Client, base: &str, id: &str) -> Value {
    send(
        client,
        Method::GET,
        &format!("{base}/api/v1/invoices/{id}"),
        Some(&bearer(API_KEY)),
        None,
    )
    .await
    .body
}

#[actix_rt::test]
async fn invoices_created_right_after_a_restart_are_watched() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let client = client();
    let mut engine = Engine::spawn(&config(&sim), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    // The race is narrow (the first moments of a start): five restarts, each
    // followed at once by a burst of creations. The sweep (one address every
    // six ticks) cannot find 40 payments within the deadline: only watching can.
    for round in 0..5 {
        // The creations right after the restart must not wait on the wallet
        // link, which is still connecting: the pool the store kept serves them.
        wait_pool_available(&engine.base, 40, Duration::from_secs(5)).await;
        engine.kill();
        engine = Engine::spawn_in(engine.into_dir(), &config(&sim), &[]);
        let creations: Vec<_> = (0..40).map(|_| create(&client, &engine.base, 10_000)).collect();
        let invoices = futures_util::future::join_all(creations).await;
        for inv in &invoices {
            sim.pay(inv["address"].as_str().unwrap(), 10_000).unwrap();
        }
        for inv in &invoices {
            let id = inv["id"].as_str().unwrap();
            eventually(&format!("round {round}: {id} paid"), Duration::from_secs(3), || async {
                (invoice(&client, &engine.base, id).await["status"] == "paid").then_some(())
            })
            .await;
        }
    }
}

#[actix_rt::test]
async fn a_partial_payment_that_vanished_while_the_engine_was_down_is_noticed_after_the_restart() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let client = client();
    let mut engine = Engine::spawn(&config(&sim), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    // Bystanders, so that the slow sweep cannot stumble on the invoice in time.
    for chunk in 0..10 {
        let burst: Vec<_> = (0..16).map(|_| create(&client, &engine.base, 5_000)).collect();
        assert_eq!(futures_util::future::join_all(burst).await.len(), 16, "chunk {chunk}");
    }
    let inv = create(&client, &engine.base, 100_000).await;
    let id = inv["id"].as_str().unwrap().to_owned();
    let txid = sim.pay(inv["address"].as_str().unwrap(), 40_000).unwrap();
    eventually("the partial payment seen", Duration::from_secs(5), || async {
        (invoice(&client, &engine.base, &id).await["received_sats"] == 40_000).then_some(())
    })
    .await;

    engine.kill();
    sim.drop_tx(&txid).unwrap();
    let engine = Engine::spawn_in(engine.into_dir(), &config(&sim), &[]);
    let seen = eventually("the vanished payment noticed", Duration::from_secs(5), || async {
        let inv = invoice(&client, &engine.base, &id).await;
        (inv["received_sats"] == 0).then_some(inv)
    })
    .await;
    assert_eq!(seen["status"], "new");
    assert_eq!(seen["payments"], json!([]));
}
