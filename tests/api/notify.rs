//! Wallet pushes (api.md, "Wallet pushes"): with `electron_cash.notify_url`
//! set, the engine subscribes each watched address with `notify`, a push makes
//! it look at once (long before the next poll), and it subscribes again after
//! the daemon restarted and forgot.

use std::time::Duration;

use crate::helpers::*;
use serde_json::json;

const TOKEN: &str = "push-token-0123456789abcdef";

async fn app_with_pushes() -> TestApp {
    let port = free_port();
    TestApp::spawn_with(move |s| {
        s.server.bind = format!("127.0.0.1:{port}");
        s.electron_cash.notify_url = format!("http://127.0.0.1:{port}/wallet/notify/{TOKEN}");
        // Polling alone would take a minute: only a push can be this fast.
        s.payments.poll_interval_ms = 60_000;
    })
    .await
}

async fn status_of(app: &TestApp, id: &str) -> String {
    app.get(&format!("/api/v1/invoices/{id}")).await.body["status"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[actix_rt::test]
async fn a_push_makes_the_engine_see_a_payment_long_before_the_next_poll() {
    let app = app_with_pushes().await;
    let invoice = app.create_ok(&json!({"amount": "0.0005"})).await;
    let id = invoice["id"].as_str().unwrap().to_owned();
    eventually("the notify subscription", Duration::from_secs(3), || async {
        (app.sim.requests_for("notify") >= 1).then_some(())
    })
    .await;

    app.sim.pay(invoice["address"].as_str().unwrap(), 50_000).unwrap();
    eventually("paid through a push", Duration::from_secs(3), || async {
        (status_of(&app, &id).await == "paid").then_some(())
    })
    .await;
}

#[actix_rt::test]
async fn a_daemon_that_restarted_is_subscribed_again() {
    let app = app_with_pushes().await;
    let invoice = app.create_ok(&json!({"amount": "0.0005"})).await;
    let id = invoice["id"].as_str().unwrap().to_owned();
    eventually("the first subscription", Duration::from_secs(3), || async {
        (app.sim.requests_for("notify") >= 1).then_some(())
    })
    .await;

    app.sim.restart_daemon();
    eventually(
        "a second subscription after the restart",
        Duration::from_secs(8),
        || async { (app.sim.requests_for("notify") >= 2).then_some(()) },
    )
    .await;
    app.sim.pay(invoice["address"].as_str().unwrap(), 50_000).unwrap();
    eventually("paid through a push", Duration::from_secs(3), || async {
        (status_of(&app, &id).await == "paid").then_some(())
    })
    .await;
}

#[actix_rt::test]
async fn a_push_with_a_wrong_token_or_body_is_refused_and_changes_nothing() {
    let app = app_with_pushes().await;
    let post = |path: String, body: &'static str| {
        let client = app.client.clone();
        let url = format!("{}{path}", app.base);
        async move {
            send(
                &client,
                awc::http::Method::POST,
                &url,
                None,
                Some(body.as_bytes().to_vec()),
            )
            .await
        }
    };
    let wrong = post(
        "/wallet/notify/not-the-token-0123456789".into(),
        r#"{"address": "x", "status": null}"#,
    )
    .await;
    assert_eq!(wrong.status, 404);
    let garbage = post(format!("/wallet/notify/{TOKEN}"), "not json").await;
    assert_eq!(garbage.status, 400);
    let bad_address = post(
        format!("/wallet/notify/{TOKEN}"),
        r#"{"address": "nope", "status": null}"#,
    )
    .await;
    assert_eq!(bad_address.status, 400);
}
