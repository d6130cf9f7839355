//! Stopping: SIGTERM stops the engine cleanly within a few seconds, and what
//! was acknowledged is there after a restart (design.md, Stopping and starting).

use std::time::{Duration, Instant};

use crate::helpers::*;
use bchpay::sim::{Sim, SimConfig};
use serde_json::json;

#[actix_rt::test]
async fn sigterm_stops_the_engine_with_exit_code_0_within_a_few_seconds_and_keeps_its_invoices() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let config = format!("{}[api]\nkeys = [\"{API_KEY}\"]\n", wallet_config(&sim.url(), "", 5));
    let mut engine = Engine::spawn(&config, &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    let client = client();
    let created = send(
        &client,
        awc::http::Method::POST,
        &format!("{}/api/v1/invoices", engine.base),
        Some(&bearer(API_KEY)),
        Some(json!({"amount": "0.001"}).to_string().into_bytes()),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();

    let started = Instant::now();
    let code = engine.terminate(Duration::from_secs(8));
    assert_eq!(code, Some(0), "exit after SIGTERM:\n{}", engine.output());
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert!(engine.output().contains("store flushed"), "{}", engine.output());

    let mut again = Engine::spawn_in(engine.into_dir(), &config, &[]);
    let read = send(
        &client,
        awc::http::Method::GET,
        &format!("{}/api/v1/invoices/{id}", again.base),
        Some(&bearer(API_KEY)),
        None,
    )
    .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["address"], created.body["address"]);
    assert!(again.is_running());
}
