//! `bchpay keys` and the key rules of `bchpay serve`, on the real binary: keys
//! made on a stopped store open a restarted engine with exactly their
//! permissions; keys made, listed and revoked through a running engine; a
//! revoked key is `401` at once; the placeholder key refused off loopback.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::cli::{bchpay, Run};
use crate::helpers::*;
use bchpay::sim::{Sim, SimConfig};
use serde_json::{json, Value};

impl Run {
    /// The stdout of a run that succeeded.
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "bchpay failed:\n{}\n{}", self.stdout, self.stderr);
        &self.stdout
    }

    /// The key `create` printed: its last line.
    #[track_caller]
    fn key(&self) -> String {
        let key = self.ok().lines().last().unwrap_or_default().to_owned();
        assert!(
            key.len() == 40 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "the last line is not a key: {key:?}\n{}",
            self.stdout
        );
        key
    }
}

/// `bchpay keys --store DIR ARGS`.
async fn keys_on(store: &Path, args: &[&str]) -> Run {
    let store = store.display().to_string();
    let mut all = vec!["keys", "--store", store.as_str()];
    all.extend_from_slice(args);
    bchpay(&all).await
}

/// `bchpay keys --url BASE --api-key KEY ARGS`.
async fn keys_at(base: &str, key: &str, args: &[&str]) -> Run {
    let mut all = vec!["keys", "--url", base, "--api-key", key];
    all.extend_from_slice(args);
    bchpay(&all).await
}

/// An engine configuration against `sim`, with these configured keys.
fn config(sim: &Sim, keys: &[&str]) -> String {
    format!(
        "[api]\nkeys = {keys:?}\n[addresses]\npool_low = 2\npool_high = 5\n{}",
        wallet_config(&sim.url(), "", 5)
    )
}

/// A GET with this key: the status.
async fn status_with(base: &str, path: &str, key: &str) -> u16 {
    send(
        &client(),
        awc::http::Method::GET,
        &format!("{base}{path}"),
        Some(&bearer(key)),
        None,
    )
    .await
    .status
}

/// A create with this key: the reply.
async fn create_with(base: &str, key: &str) -> Reply {
    send(
        &client(),
        awc::http::Method::POST,
        &format!("{base}/api/v1/invoices"),
        Some(&bearer(key)),
        Some(json!({"amount_sats": 1000}).to_string().into_bytes()),
    )
    .await
}

#[actix_rt::test]
async fn keys_made_on_a_stopped_store_open_the_engine_with_their_permissions_only() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // Before the engine ever ran: the store is made.
    let shop = keys_on(
        &store,
        &[
            "create",
            "--label",
            "web shop",
            "--permissions",
            "btcpay.store.cancreateinvoice,btcpay.store.canviewinvoices",
        ],
    )
    .await;
    let shop_key = shop.key();
    assert!(shop.ok().contains("btcpay.store.cancreateinvoice"), "{}", shop.stdout);
    let admin = keys_on(&store, &["create", "--label", "admin", "--permissions", "unrestricted"]).await;
    let admin_key = admin.key();
    let list = keys_on(&store, &["list", "--json"]).await;
    let listed: Value = serde_json::from_str(list.ok()).unwrap();
    assert_eq!(listed["api_keys"].as_array().map(Vec::len), Some(2), "{listed}");
    let table = keys_on(&store, &["list"]).await;
    for shown in [&list.stdout, &table.stdout] {
        assert!(
            !shown.contains(&shop_key) && !shown.contains(&admin_key),
            "a key is listed:\n{shown}"
        );
    }
    assert!(table.ok().contains("web shop"), "{}", table.stdout);
    // A bad request says which flag, and stores nothing.
    let bad = keys_on(
        &store,
        &["create", "--label", "x", "--permissions", "btcpay.store.canfly"],
    )
    .await;
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("--permissions") && bad.stderr.contains("btcpay.store.canfly"),
        "{}",
        bad.stderr
    );
    let bad = keys_on(&store, &["revoke", "key_0000000000000000"]).await;
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);

    // No configured key at all: only the stored ones open the engine.
    let engine = Engine::spawn_in(dir, &config(&sim, &[]), &[]);
    assert_eq!(create_with(&engine.base, &shop_key).await.status, 201);
    assert_eq!(status_with(&engine.base, "/api/v1/invoices", &shop_key).await, 200);
    let denied = send(
        &client(),
        awc::http::Method::GET,
        &format!("{}/api/v1/admin/stats", engine.base),
        Some(&bearer(&shop_key)),
        None,
    )
    .await;
    assert_error(&denied, 403, "missing_permission", Some("unrestricted"));
    assert_eq!(status_with(&engine.base, "/api/v1/admin/stats", &admin_key).await, 200);

    // The running engine holds the store: --store is refused with the way round it.
    let locked = keys_on(&engine.store_path(), &["list"]).await;
    assert_eq!(locked.code, Some(2));
    assert!(locked.stderr.contains("--url"), "{}", locked.stderr);
}

#[actix_rt::test]
async fn keys_made_listed_and_revoked_through_a_running_engine() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let engine = Engine::spawn(&config(&sim, &[API_KEY]), &[]);
    let base = engine.base.as_str();
    let made = keys_at(
        base,
        API_KEY,
        &[
            "create",
            "--label",
            "shop",
            "--permissions",
            "btcpay.store.canviewinvoices",
        ],
    )
    .await;
    let key = made.key();
    assert_eq!(status_with(base, "/api/v1/invoices", &key).await, 200);
    assert_error(
        &create_with(base, &key).await,
        403,
        "missing_permission",
        Some("btcpay.store.cancreateinvoice"),
    );
    // A key without `unrestricted` cannot manage keys.
    let refused = keys_at(base, &key, &["list"]).await;
    assert_eq!(refused.code, Some(2));
    assert!(refused.stderr.contains("403"), "{}", refused.stderr);

    let listed: Value = serde_json::from_str(keys_at(base, API_KEY, &["list", "--json"]).await.ok()).unwrap();
    assert!(!listed.to_string().contains(&key), "{listed}");
    let id = listed["api_keys"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(listed["api_keys"][0]["label"], "shop");
    let revoked = keys_at(base, API_KEY, &["revoke", &id]).await;
    assert!(revoked.ok().contains(&id), "{}", revoked.stdout);
    // At once: the next request is refused.
    let reply = send(
        &client(),
        awc::http::Method::GET,
        &format!("{base}/api/v1/invoices"),
        Some(&bearer(&key)),
        None,
    )
    .await;
    assert_error(&reply, 401, "unauthorized", None);
    let again = keys_at(base, API_KEY, &["revoke", &id]).await;
    assert_eq!(again.code, Some(2));
    assert!(again.stderr.contains("404"), "{}", again.stderr);
    let listed: Value = serde_json::from_str(keys_at(base, API_KEY, &["list", "--json"]).await.ok()).unwrap();
    assert_eq!(listed["api_keys"], json!([]));
}

/// Runs `bchpay serve` on `config` (a whole file) until it exits, at most 20 s.
fn serve_until_exit(config: &str, env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_bchpay"));
    command
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .env_remove("BCHPAY_API_KEYS")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    if poll_blocking(Duration::from_secs(20), || !matches!(child.try_wait(), Ok(None))).is_err() {
        let _ = child.kill();
        panic!("bchpay serve did not stop: it accepted the configuration");
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn serve_refuses_the_placeholder_or_a_short_key_on_a_public_bind() {
    for (keys, env) in [
        ("[\"change-me\"]", vec![]),
        ("[\"0123456789abcdef0123456789abcde\"]", vec![]),
        (
            "[\"0123456789abcdef0123456789abcdef0123\"]",
            vec![("BCHPAY_API_KEYS", "change-me")],
        ),
    ] {
        let config = format!("[server]\nbind = \"0.0.0.0:0\"\n[api]\nkeys = {keys}\n");
        let run = serve_until_exit(&config, &env);
        assert_eq!(run.code, Some(2), "{keys}: {}", run.stderr);
        assert!(run.stderr.contains("api.keys"), "{keys}: {}", run.stderr);
        assert!(run.stderr.contains("0.0.0.0:0"), "{keys}: {}", run.stderr);
        assert!(
            !run.stderr.contains("0123456789abcdef"),
            "the key is printed: {}",
            run.stderr
        );
    }
}

#[actix_rt::test]
async fn serve_takes_the_placeholder_on_loopback_with_a_warning() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let mut engine = Engine::spawn(&config(&sim, &["change-me"]), &[]);
    assert_eq!(status_with(&engine.base, "/api/v1/invoices", "change-me").await, 200);
    let warned = eventually("the warning", Duration::from_secs(5), || async {
        let out = engine.output();
        out.lines()
            .find(|l| l.contains("WARN") && l.contains("api.keys") && l.contains("loopback"))
            .map(str::to_owned)
    })
    .await;
    assert!(warned.contains("placeholder"), "{warned}");
    assert_eq!(engine.terminate(Duration::from_secs(10)), Some(0));
}
