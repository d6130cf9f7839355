//! Backup and restore (issue 16): an engine under load backed up mid-run
//! through its API, restored into a new store and served again against the
//! same simulated wallet; and every refusal of `bchpay restore` and
//! `bchpay backup`, each naming the flag at fault.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use crate::helpers::cli::{bchpay, Run};
use crate::helpers::receiver::Receiver;
use crate::helpers::*;
use awc::http::Method;
use bchpay::sim::{Sim, SimConfig};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn config(sim: &Sim, hooks: &str) -> String {
    format!(
        "{}[api]\nkeys = [\"{API_KEY}\"]\n[payments]\npoll_interval_ms = 200\n\
         [addresses]\npool_low = 10\npool_high = 30\n\
         [webhooks]\nurl = \"{hooks}\"\nsecret = \"backup-test-secret\"\ntimeout_secs = 2\n\
         retry_schedule_secs = [1, 1, 1, 1, 1, 1, 1, 1]\n",
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

async fn get(client: &awc::Client, base: &str, path: &str) -> Reply {
    send(
        client,
        Method::GET,
        &format!("{base}{path}"),
        Some(&bearer(API_KEY)),
        None,
    )
    .await
}

/// The ledger: address → invoice id.
async fn ledger(client: &awc::Client, base: &str) -> HashMap<String, String> {
    let reply = get(client, base, "/api/v1/admin/addresses?limit=100000").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_owned(),
                r["invoice_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[actix_rt::test]
async fn a_backup_taken_under_load_restores_every_acknowledged_invoice_and_catches_up_with_the_chain() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let hooks = Receiver::up();
    // Deliveries fail for a while: events wait in the outbox and are retried.
    hooks.answer(&[500; 40]);
    let client = client();
    let engine = Engine::spawn(&config(&sim, &hooks.url()), &[]);
    wait_pool_available(&engine.base, 30, Duration::from_secs(10)).await;

    // Before: 40 invoices, 15 of them paid.
    let mut before = Vec::new();
    for i in 0..40 {
        let inv = create(&client, &engine.base, 10_000 + i).await;
        if i % 3 == 0 {
            sim.pay(inv["address"].as_str().unwrap(), 10_000 + i).unwrap();
        }
        before.push(inv);
    }
    sim.mine(1);
    // Some deliveries have failed before the backup begins: the backup holds
    // events waiting for their retry. (Poll 200 ms: the first payment is seen
    // within a tick and its webhook sent at once.)
    eventually(
        "a delivery answered 500 before the backup",
        Duration::from_secs(10),
        || async {
            let answered: Vec<u16> = hooks.deliveries().iter().map(|d| d.answered).collect();
            answered.contains(&500).then_some(()).ok_or(format!("{answered:?}"))
        },
    )
    .await;

    // During: creations and payments go on while `bchpay backup --url` runs.
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("shop.backup");
    let file_arg = file.display().to_string();
    let base = engine.base.clone();
    let backup =
        actix_rt::spawn(
            async move { bchpay(&["backup", "--url", &base, "--api-key", API_KEY, "--out", &file_arg]).await },
        );
    let mut during = Vec::new();
    while !backup.is_finished() {
        let inv = create(&client, &engine.base, 20_000).await;
        sim.pay(inv["address"].as_str().unwrap(), 20_000).unwrap();
        during.push(inv);
    }
    let run = backup.await.unwrap();
    assert_eq!(run.code, Some(0), "backup: {}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("checksum verified"), "{}", run.stdout);
    assert!(!run.stdout.contains(API_KEY) && !run.stderr.contains(API_KEY));
    assert!(!during.is_empty(), "creations went on during the backup");
    assert!(
        hooks.deliveries().iter().any(|d| d.answered == 500),
        "deliveries failed and wait for their retry"
    );

    // After: more invoices on the old engine (from its pool), and payments to
    // invoices made before the backup, which only the chain knows of then.
    let mut after = Vec::new();
    for _ in 0..15 {
        after.push(create(&client, &engine.base, 30_000).await);
    }
    let paid_later: Vec<&Value> = before
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 3 == 1)
        .map(|(_, inv)| inv)
        .collect();
    for inv in &paid_later {
        let sats = inv["amount_sats"].as_u64().unwrap();
        sim.pay(inv["address"].as_str().unwrap(), sats).unwrap();
    }
    let old_ledger = ledger(&client, &engine.base).await;
    drop(engine);

    // Restore into a new store and serve it against the same wallet.
    let new_dir = tempfile::tempdir().unwrap();
    let store = new_dir.path().join("store");
    let run = bchpay(&[
        "restore",
        "--in",
        &file.display().to_string(),
        "--store",
        &store.display().to_string(),
    ])
    .await;
    assert_eq!(run.code, Some(0), "restore: {}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("invariants hold"), "{}", run.stdout);
    assert!(run.stdout.contains("addresses dropped"), "{}", run.stdout);
    hooks.answer_always(200);
    let restored = Engine::spawn_in(new_dir, &config(&sim, &hooks.url()), &[]);
    wait_wallet_state(&restored.base, "up", Duration::from_secs(10)).await;

    // Every invoice acknowledged before the backup began is there.
    for inv in &before {
        let id = inv["id"].as_str().unwrap();
        let reply = get(&client, &restored.base, &format!("/api/v1/invoices/{id}")).await;
        assert_eq!(reply.status, 200, "{id} lost: {}", reply.body);
        assert_eq!(reply.body["address"], inv["address"]);
    }
    // Statuses catch up with the chain: payments made after the backup are seen.
    for inv in &paid_later {
        let id = inv["id"].as_str().unwrap();
        eventually(
            &format!("{id} paid after the restore"),
            Duration::from_secs(10),
            || async {
                let now = get(&client, &restored.base, &format!("/api/v1/invoices/{id}"))
                    .await
                    .body;
                (now["status"] == "paid" || now["status"] == "confirmed").then_some(())
            },
        )
        .await;
    }
    // Pending webhooks resume: the outbox drains once the shop answers.
    eventually("the restored outbox drained", Duration::from_secs(20), || async {
        let reply = get(&client, &restored.base, "/api/v1/events?state=pending&limit=100").await;
        (reply.status == 200 && reply.body["events"].as_array().is_some_and(|e| e.is_empty())).then_some(())
    })
    .await;

    // No address is handed out twice across both stores: the pool of the
    // backup was dropped, the new one comes from the wallet.
    wait_pool_available(&restored.base, 30, Duration::from_secs(10)).await;
    let mut fresh = Vec::new();
    for _ in 0..40 {
        fresh.push(create(&client, &restored.base, 40_000).await);
    }
    let new_ledger = ledger(&client, &restored.base).await;
    for (address, id) in &new_ledger {
        if let Some(old_id) = old_ledger.get(address) {
            assert_eq!(
                old_id, id,
                "{address} went to {old_id} in the old store and {id} in the restored one"
            );
        }
    }
    let old_after: HashSet<&str> = after.iter().map(|i| i["address"].as_str().unwrap()).collect();
    for inv in &fresh {
        let address = inv["address"].as_str().unwrap();
        assert!(!old_ledger.contains_key(address), "{address} handed out again");
        assert!(!old_after.contains(address));
    }
}

/// A small engine's backup, taken through the API; the engine is stopped.
async fn small_backup(dir: &Path) -> std::path::PathBuf {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let client = client();
    let engine = Engine::spawn(&config(&sim, "http://127.0.0.1:9/hooks"), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(10)).await;
    for _ in 0..5 {
        create(&client, &engine.base, 5_000).await;
    }
    let file = dir.join("small.backup");
    let run = bchpay(&[
        "backup",
        "--url",
        &engine.base,
        "--api-key",
        API_KEY,
        "--out",
        &file.display().to_string(),
    ])
    .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    file
}

async fn restore(file: &Path, store: &Path) -> Run {
    bchpay(&[
        "restore",
        "--in",
        &file.display().to_string(),
        "--store",
        &store.display().to_string(),
    ])
    .await
}

#[actix_rt::test]
async fn restore_refuses_a_backup_with_one_byte_changed_a_newer_format_or_schema_and_a_used_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_backup(dir.path()).await;
    let good = std::fs::read(&file).unwrap();
    let target = dir.path().join("new-store");

    // One byte changed, anywhere past the header: the checksum refuses it.
    for at in [30, good.len() / 2, good.len() - 1] {
        let mut bad = good.clone();
        bad[at] ^= 0x01;
        std::fs::write(&file, &bad).unwrap();
        let run = restore(&file, &target).await;
        assert_eq!(run.code, Some(2), "byte {at}: {}", run.stdout);
        assert!(
            run.stderr.contains("--in") && run.stderr.contains("checksum"),
            "byte {at}: {}",
            run.stderr
        );
        assert!(!target.exists(), "a refused restore leaves nothing");
    }

    // A newer format (bytes 8..12).
    let mut newer = good.clone();
    newer[8..12].copy_from_slice(&2u32.to_be_bytes());
    std::fs::write(&file, &newer).unwrap();
    let run = restore(&file, &target).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--in") && run.stderr.contains("newer bchpay"),
        "{}",
        run.stderr
    );

    // A newer schema (bytes 12..16), checksum made good again.
    let mut newer = good.clone();
    newer[12..16].copy_from_slice(&(bchpay::store::SCHEMA_VERSION + 1).to_be_bytes());
    let body_end = newer.len() - 32;
    let digest = Sha256::digest(&newer[..body_end]);
    newer[body_end..].copy_from_slice(&digest);
    std::fs::write(&file, &newer).unwrap();
    let run = restore(&file, &target).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--in") && run.stderr.contains("schema version"),
        "{}",
        run.stderr
    );
    assert!(!target.exists());

    // Not a backup at all.
    std::fs::write(&file, b"[server]\nbind = \"127.0.0.1:8080\"\n").unwrap();
    let run = restore(&file, &target).await;
    assert!(
        run.stderr.contains("--in") && run.stderr.contains("not a bchpay backup"),
        "{}",
        run.stderr
    );

    // A directory that holds something.
    std::fs::write(&file, &good).unwrap();
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("keep.txt"), "mine").unwrap();
    let run = restore(&file, &target).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--store") && run.stderr.contains("not empty"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);

    // The good file restores, and says what it restored.
    let run = restore(&file, &dir.path().join("fresh")).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("invoices: new 5"), "{}", run.stdout);
}

#[actix_rt::test]
async fn backup_names_the_flag_at_fault() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let engine = Engine::spawn(&config(&sim, "http://127.0.0.1:9/hooks"), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(10)).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b.backup");
    let out_arg = out.display().to_string();

    let run = bchpay(&[
        "backup",
        "--url",
        &engine.base,
        "--api-key",
        "not-a-key",
        "--out",
        &out_arg,
    ])
    .await;
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--api-key"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("not-a-key"),
        "the key is never printed: {}",
        run.stderr
    );
    assert!(!out.exists() && std::fs::read_dir(dir.path()).unwrap().count() == 0);

    let run = bchpay(&[
        "backup",
        "--url",
        "http://127.0.0.1:9",
        "--api-key",
        API_KEY,
        "--out",
        &out_arg,
    ])
    .await;
    assert!(run.stderr.contains("--url"), "{}", run.stderr);

    // A running engine holds its store: the message says to go through the API.
    let store = engine.store_path().display().to_string();
    let run = bchpay(&["backup", "--store", &store, "--out", &out_arg]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--store") && run.stderr.contains("--url"),
        "{}",
        run.stderr
    );

    std::fs::write(&out, "an older backup").unwrap();
    let run = bchpay(&["backup", "--url", &engine.base, "--api-key", API_KEY, "--out", &out_arg]).await;
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("--out") && run.stderr.contains("exists"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "an older backup");
}

#[actix_rt::test]
async fn a_stopped_store_backs_up_through_the_cli_and_restores() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let client = client();
    let engine = Engine::spawn(&config(&sim, "http://127.0.0.1:9/hooks"), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(10)).await;
    let ids: Vec<String> = {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(
                create(&client, &engine.base, 7_000).await["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        ids
    };
    let dir = engine.into_dir();
    let store = dir.path().join("store").display().to_string();
    let out = dir.path().join("stopped.backup");
    // sled lets go of its lock a moment after the process is gone.
    let run = poll(Duration::from_secs(5), || async {
        let run = bchpay(&["backup", "--store", &store, "--out", &out.display().to_string()]).await;
        if run.code == Some(0) {
            Ok(run)
        } else {
            Err(run.stderr)
        }
    })
    .await
    .unwrap_or_else(|e| panic!("backup --store: {e}"));
    assert!(run.stdout.contains(" invoices 3,"), "{}", run.stdout);

    let target = tempfile::tempdir().unwrap();
    let run = restore(&out, &target.path().join("store")).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let restored = Engine::spawn_in(target, &config(&sim, "http://127.0.0.1:9/hooks"), &[]);
    for id in &ids {
        assert_eq!(
            get(&client, &restored.base, &format!("/api/v1/invoices/{id}"))
                .await
                .status,
            200
        );
    }
}
