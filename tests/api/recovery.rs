//! Crash recovery (issue 3): what the engine acknowledged survives SIGKILL of
//! the real process, with the same addresses, and no handed-out address is
//! ever back in the pool.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::helpers::*;
use bchpay::cashaddr::Address;
use bchpay::sim::{Sim, SimConfig};
use bchpay::store::Store;
use futures_util::StreamExt;
use serde_json::json;

/// The real engine's configuration against `sim`: one API key, a small pool.
fn config(sim: &Sim) -> String {
    format!(
        "[api]\nkeys = [\"{API_KEY}\"]\n[addresses]\npool_low = 10\npool_high = 50\n{}",
        wallet_config(&sim.url(), "", 5)
    )
}

/// `POST /api/v1/invoices` on the engine at `base`.
async fn create(client: &awc::Client, base: &str, sats: u64) -> Reply {
    send(
        client,
        awc::http::Method::POST,
        &format!("{base}/api/v1/invoices"),
        Some(&bearer(API_KEY)),
        Some(json!({ "amount_sats": sats }).to_string().into_bytes()),
    )
    .await
}

#[actix_rt::test]
async fn three_hundred_acknowledged_invoices_survive_sigkill_with_their_addresses() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let engine = Engine::spawn(&config(&sim), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(3)).await;
    let client = client();

    // 300 creations, 16 in flight, each answered 201; then SIGKILL at once.
    let replies: Vec<Reply> = futures_util::stream::iter(0..300u64)
        .map(|i| create(&client, &engine.base, 1_000 + i))
        .buffer_unordered(16)
        .collect()
        .await;
    let dir = engine.into_dir();
    let mut acknowledged = HashMap::new();
    for reply in &replies {
        assert_eq!(reply.status, 201, "{}", reply.body);
        acknowledged.insert(reply.body["id"].as_str().unwrap().to_owned(), reply.body.clone());
    }
    assert_eq!(acknowledged.len(), 300);

    // Restarted on the same store: every one is there, as it was.
    let engine = Engine::spawn_in(dir, &config(&sim), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(3)).await;
    for (id, created) in &acknowledged {
        let (status, body) = get_with_key(&client, &format!("{}/api/v1/invoices/{id}", engine.base)).await;
        assert_eq!(status, 200, "{id} after the restart: {body}");
        assert_eq!(body["address"], created["address"], "{id} changed address");
        assert_eq!(body["amount_sats"], created["amount_sats"]);
        assert_eq!(body["created_at"], created["created_at"]);
    }
    let addresses: HashSet<String> = acknowledged
        .values()
        .map(|inv| inv["address"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(addresses.len(), 300, "an address handed out twice before the crash");
    // The pool resumed after the restart must not hand out one of them again.
    let mut later = Vec::new();
    for i in 0..60 {
        let reply = create(&client, &engine.base, 5_000 + i).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        let address = reply.body["address"].as_str().unwrap().to_owned();
        assert!(
            !addresses.contains(&address),
            "{address} handed out again after the restart"
        );
        later.push((reply.body["id"].as_str().unwrap().to_owned(), address));
    }

    // Stopped again, the store read directly: each address in the ledger once, none in the pool.
    let store_path = engine.store_path();
    let _dir = engine.into_dir();
    let reader = Store::open(&store_path)
        .expect("open the stopped engine's store")
        .reader();
    let pool: HashSet<String> = reader
        .pool_addresses()
        .unwrap()
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    let all = acknowledged
        .iter()
        .map(|(id, inv)| (id.clone(), inv["address"].as_str().unwrap().to_owned()))
        .chain(later);
    for (id, address) in all {
        assert!(!pool.contains(&address), "{address} of {id} is back in the pool");
        let owner = reader
            .invoice_by_address(&Address::parse(&address).unwrap())
            .unwrap()
            .unwrap_or_else(|| panic!("{address} of {id} is not in the ledger"));
        assert_eq!(owner.id.as_str(), id);
    }
    assert_eq!(reader.ledger_len(), 360);
    assert_eq!(reader.invoice_count().unwrap(), 360);
}

/// GET with the key: the status and the JSON body.
async fn get_with_key(client: &awc::Client, url: &str) -> (u16, serde_json::Value) {
    let reply = send(client, awc::http::Method::GET, url, Some(&bearer(API_KEY)), None).await;
    (reply.status, reply.body)
}
