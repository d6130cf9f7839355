//! The wallet link: bchpay degrades and recovers by itself whatever the
//! daemon does (issue 2). The simulator runs on an OS-chosen loopback port.

use std::time::{Duration, Instant};

use crate::helpers::*;
use bchpay::electron_cash::rpc::{CreateNewAddress, GetInfo, Version};
use bchpay::electron_cash::{RpcError, WalletLink};
use bchpay::sim::{Fault, Sim, SimConfig};
use bchpay::startup::Application;

/// An engine in this process against `sim`, with a per-call timeout.
async fn engine_against(sim: &Sim, timeout_secs: u64) -> (String, WalletLink, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&sim.url(), &dir.path().join("store"));
    s.electron_cash.timeout_secs = timeout_secs;
    let app = Application::build(s).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let wallet = app.wallet().clone();
    actix_rt::spawn(app.run_until_stopped());
    (base, wallet, dir)
}

async fn started_sim() -> Sim {
    Sim::start(SimConfig::default()).await.unwrap()
}

#[actix_rt::test]
async fn an_engine_started_before_its_wallet_is_ready_within_1_5_s_of_the_wallet_starting() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let mut engine = Engine::spawn(&wallet_config(&url, "", 10), &[]);
    let pid = engine.pid();

    let healthz = format!("{}/healthz", engine.base);
    let (health, _) = eventually("healthz", Duration::from_secs(5), || get_json(&healthz)).await;
    assert_eq!(health, 200);
    let (status, body) = readyz(&engine.base).await.unwrap();
    assert_eq!(status, 503);
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["wallet"]["state"], "down");
    assert!(
        !body["wallet"]["last_error"].as_str().unwrap_or("").is_empty(),
        "{body}"
    );
    assert!(body["wallet"]["since"].is_string(), "{body}");

    // The incident: the daemon's port opens three seconds after the engine started.
    actix_rt::time::sleep(Duration::from_secs(3).saturating_sub(started.elapsed())).await;
    let sim = Sim::start(SimConfig {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let wallet_up = Instant::now();
    eventually("readyz 200", Duration::from_millis(1_500), || async {
        readyz(&engine.base).await.filter(|(status, _)| *status == 200)
    })
    .await;
    println!("ready {:?} after the wallet started", wallet_up.elapsed());
    assert!(engine.is_running());
    assert_eq!(engine.pid(), pid);
    assert!(sim.request_count() > 0);
}

#[actix_rt::test]
async fn a_wallet_that_stops_mid_run_goes_down_and_comes_back_by_itself_and_calls_fail_fast_meanwhile() {
    let sim = started_sim().await;
    let (base, wallet, _dir) = engine_against(&sim, 10).await;
    wait_wallet_state(&base, "up", Duration::from_secs(3)).await;
    assert_eq!(wallet.call(Version).await.unwrap(), "4.4.5");

    sim.stop_listening().await;
    let body = wait_wallet_state(&base, "down", Duration::from_secs(5)).await;
    assert!(
        body["wallet"]["last_error"].as_str().unwrap().contains("connect"),
        "{body}"
    );
    for _ in 0..20 {
        let t = Instant::now();
        let result = wallet.call(GetInfo).await;
        assert!(matches!(result, Err(RpcError::Unavailable(_))), "{result:?}");
        assert!(
            t.elapsed() < Duration::from_millis(50),
            "a call while down took {:?}",
            t.elapsed()
        );
    }

    sim.start_listening().await.unwrap();
    wait_wallet_state(&base, "up", Duration::from_secs(5)).await;
    assert!(wallet.call(GetInfo).await.is_ok());
}

#[actix_rt::test]
async fn a_wrong_password_shows_as_unauthorized_without_a_retry_storm_and_never_reaches_the_log() {
    let sim = Sim::start(SimConfig {
        rpc_password: "the-right-one".into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let password = "wrong-pass-7731";
    let mut engine = Engine::spawn(
        &wallet_config(&sim.url(), "from-the-file-is-overridden", 10),
        &[("BCHPAY_RPC_PASSWORD", password), ("RUST_LOG", "trace")],
    );
    let body = wait_wallet_state(&engine.base, "unauthorized", Duration::from_secs(5)).await;
    assert!(
        body["wallet"]["last_error"]
            .as_str()
            .unwrap()
            .contains("configuration error"),
        "{body}"
    );
    assert_eq!(readyz(&engine.base).await.unwrap().0, 503);

    // Watch the daemon for five seconds: at most one probe reaches it.
    let before = sim.request_count();
    actix_rt::time::sleep(Duration::from_secs(5)).await;
    let during = sim.request_count() - before;
    assert!(during <= 1, "{during} requests in 5 s while unauthorized");
    assert!(engine.is_running());

    let output = engine.output();
    assert!(output.contains("unauthorized"), "the log says nothing of it:\n{output}");
    let basic = base64_basic("bchrpc", password);
    for secret in [password, basic.as_str(), "from-the-file-is-overridden"] {
        assert!(!output.contains(secret), "{secret} leaked into the log");
        assert!(!body.to_string().contains(secret));
    }
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[actix_rt::test]
async fn a_slow_daemon_fails_a_call_at_the_configured_timeout_not_later() {
    let sim = started_sim().await;
    let (base, wallet, _dir) = engine_against(&sim, 1).await;
    wait_wallet_state(&base, "up", Duration::from_secs(3)).await;

    sim.set_fault(Fault::Slow(Duration::from_secs(4)));
    let t = Instant::now();
    let result = wallet.call(GetInfo).await;
    let took = t.elapsed();
    assert!(
        matches!(result, Err(RpcError::Unavailable(ref m)) if m.contains("within 1s")),
        "{result:?}"
    );
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_millis(1_500),
        "failed after {took:?}"
    );

    sim.set_fault(Fault::None);
    wait_wallet_state(&base, "up", Duration::from_secs(8)).await;
}

#[actix_rt::test]
async fn http_500_and_garbage_give_typed_errors_and_the_link_recovers() {
    let sim = started_sim().await;
    let (base, wallet, _dir) = engine_against(&sim, 5).await;
    wait_wallet_state(&base, "up", Duration::from_secs(3)).await;

    sim.set_fault(Fault::Http500);
    let result = wallet.call(GetInfo).await;
    assert!(
        matches!(result, Err(RpcError::Unavailable(ref m)) if m.contains("500")),
        "{result:?}"
    );
    wait_wallet_state(&base, "down", Duration::from_secs(2)).await;
    sim.set_fault(Fault::None);
    wait_wallet_state(&base, "up", Duration::from_secs(5)).await;

    sim.set_fault(Fault::Garbage);
    let result = wallet.call(CreateNewAddress).await;
    assert!(matches!(result, Err(RpcError::Protocol(_))), "{result:?}");
    sim.set_fault(Fault::None);
    wait_wallet_state(&base, "up", Duration::from_secs(5)).await;
    assert!(wallet.call(CreateNewAddress).await.is_ok());
}

#[actix_rt::test]
async fn a_daemon_restarted_without_its_wallet_gets_it_loaded_and_the_next_call_succeeds() {
    let sim = started_sim().await;
    let (base, wallet, _dir) = engine_against(&sim, 5).await;
    wait_wallet_state(&base, "up", Duration::from_secs(3)).await;

    sim.restart_daemon();
    assert!(!sim.wallet_loaded());
    let address = wallet.create_new_address().await.unwrap();
    assert_eq!(address.prefix(), "bchreg");
    assert!(sim.wallet_loaded());
    assert_eq!(wallet.status().network.as_deref(), Some("bchreg"));
}

#[actix_rt::test]
async fn a_configured_wallet_path_is_loaded_with_the_daemon_subcommand() {
    let sim = started_sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&sim.url(), &dir.path().join("store"));
    s.electron_cash.wallet = SimConfig::default().wallet_path;
    let app = Application::build(s).await.unwrap();
    let wallet = app.wallet().clone();
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_rt::spawn(app.run_until_stopped());
    wait_wallet_state(&base, "up", Duration::from_secs(3)).await;

    sim.restart_daemon();
    assert!(wallet.create_new_address().await.is_ok());
    assert!(sim.requests_for("daemon") >= 1);
    assert!(sim.wallet_loaded());
}
