//! Greenfield registered webhooks (issue 14, `docs/greenfield.md` §4.9, §6):
//! a webhook registered exactly as the WooCommerce plugin registers it gets
//! Greenfield event bodies signed `BTCPay-Sig`, checked here exactly as the
//! plugin's PHP client checks them (`'sha256=' . hash_hmac('sha256', $raw,
//! $secret)`, compared with `hash_equals`, header found in any case), in
//! order per invoice; through the same durable outbox as bchpay's own
//! webhooks (retries, a redelivery by hand, a SIGKILL of the real binary),
//! filtered by `authorizedEvents`, stopped by disabling or deleting.

use std::time::Duration;

use crate::helpers::receiver::{Delivery, Receiver};
use crate::helpers::*;
use bchpay::config::Secret;
use bchpay::sim::{Sim, SimConfig};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The Greenfield store id of every engine here.
const STORE: &str = "teststore";

/// bchpay's own webhook secret (its own destination is configured in one test).
const OWN_SECRET: &str = "whsec_own_1d2c";

/// The six events the plugin asks for (`GreenfieldApiWebhook::registerWebhook`).
const PLUGIN_EVENTS: [&str; 6] = [
    "InvoiceReceivedPayment",
    "InvoicePaymentSettled",
    "InvoiceProcessing",
    "InvoiceExpired",
    "InvoiceSettled",
    "InvoiceInvalid",
];

/// How long a Greenfield event may take to arrive (two confirmer ticks of
/// 100 ms plus a dispatcher pump, on two shared cores in a debug build).
const ARRIVES: Duration = Duration::from_secs(10);

/// An engine polling every 100 ms with the Greenfield store [`STORE`],
/// retrying after 1 s twice.
async fn app(own_url: Option<&str>) -> TestApp {
    TestApp::spawn_with(|s| {
        s.payments.poll_interval_ms = 100;
        s.greenfield.store_id = STORE.into();
        s.webhooks.secret = Secret::new(OWN_SECRET);
        s.webhooks.url = own_url.unwrap_or_default().to_owned();
        s.webhooks.timeout_secs = 2;
        s.webhooks.retry_schedule_secs = vec![1, 1];
    })
    .await
}

/// A Greenfield request with `token KEY`, as the PHP client sends it
/// (`Content-Type: application/json` on every request, GETs included).
async fn gf(base: &str, method: awc::http::Method, path: &str, key: &str, body: Option<Value>) -> Reply {
    let url = format!("{base}/api/v1/stores/{STORE}{path}");
    let body = Some(body.map_or_else(Vec::new, |b| b.to_string().into_bytes()));
    send(&client(), method, &url, Some(&format!("token {key}")), body).await
}

/// The plugin's create body (`docs/greenfield.md` §4.9), no secret.
fn plugin_body(url: &str) -> Value {
    json!({"enabled": true, "automaticRedelivery": true, "url": url,
           "authorizedEvents": {"everything": false, "specificEvents": PLUGIN_EVENTS}})
}

/// Registers a webhook with `body`, which must be answered 200; (id, secret).
async fn register(base: &str, body: Value) -> (String, String) {
    let reply = gf(base, awc::http::Method::POST, "/webhooks", API_KEY, Some(body.clone())).await;
    assert_eq!(reply.status, 200, "create {body}: {}", reply.body);
    let id = reply.body["id"].as_str().expect("an id").to_owned();
    let secret = reply.body["secret"].as_str().expect("a secret").to_owned();
    (id, secret)
}

/// `'sha256=' . hash_hmac('sha256', $raw, $secret)`: lowercase hex.
fn php_hash_hmac(secret: &str, raw: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(raw);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The plugin's check (php `Webhook::isIncomingWebhookRequestValid`): a
/// non-empty body, the `BTCPay-Sig` header found whatever its case, equal to
/// the expected text byte for byte.
fn php_accepts(d: &Delivery, secret: &str) -> bool {
    let header = d
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("btcpay-sig"))
        .map(|(_, v)| v.as_str());
    !d.body.is_empty() && header == Some(php_hash_hmac(secret, &d.body).as_str())
}

/// The Greenfield `type`s the receiver got for `invoice`, in arrival order.
fn types_of(deliveries: &[Delivery], invoice: &str) -> Vec<String> {
    deliveries
        .iter()
        .filter(|d| d.json()["invoiceId"] == invoice)
        .map(|d| d.json()["type"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Creates an invoice through bchpay's own API; (id, address).
async fn invoice(app: &TestApp, sats: u64, confirmations: u32) -> (String, String) {
    let inv = app
        .create_ok(&json!({"amount_sats": sats, "required_confirmations": confirmations,
                           "order_id": format!("order-{sats}"), "metadata": {"orderId": "42"}}))
        .await;
    (
        inv["id"].as_str().expect("an id").to_owned(),
        inv["address"].as_str().expect("an address").to_owned(),
    )
}

/// The stored events of `invoice` (bchpay's `GET /api/v1/events`) made for
/// the webhook at `url`.
async fn events_to(app: &TestApp, invoice: &str, url: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/events?invoice_id={invoice}&limit=100")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let all = reply.body["events"].as_array().expect("events").clone();
    all.into_iter().filter(|e| e["url"] == url).collect()
}

#[actix_rt::test]
async fn a_webhook_registered_as_the_plugin_does_gets_the_four_events_of_a_payment_signed_and_in_order() {
    let own = Receiver::up();
    let shop = Receiver::up();
    let app = app(Some(&own.url())).await;
    let (id, secret) = register(&app.base, plugin_body(&shop.url())).await;
    let read = gf(
        &app.base,
        awc::http::Method::GET,
        &format!("/webhooks/{id}"),
        API_KEY,
        None,
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.body["url"], shop.url());
    assert!(
        read.body.get("secret").is_none(),
        "get never shows the secret: {}",
        read.body
    );

    let (inv, address) = invoice(&app, 50_000, 1).await;
    let txid = app.sim.pay(&address, 50_000).expect("pay");
    shop.wait("received and processing", ARRIVES, |d| types_of(d, &inv).len() >= 2)
        .await;
    app.sim.mine(1);
    let got = shop
        .wait("the four events", ARRIVES, |d| types_of(d, &inv).len() >= 4)
        .await;

    assert_eq!(
        types_of(&got, &inv),
        [
            "InvoiceReceivedPayment",
            "InvoiceProcessing",
            "InvoicePaymentSettled",
            "InvoiceSettled"
        ]
    );
    for d in &got {
        assert!(php_accepts(d, &secret), "BTCPay-Sig as php checks it: {:?}", d.headers);
        assert!(!php_accepts(d, "another secret"));
        assert_eq!(d.header("content-type"), Some("application/json"));
        let body = d.json();
        assert_eq!(body["webhookId"], id.as_str());
        assert_eq!(body["storeId"], STORE);
        assert_eq!(body["metadata"]["orderId"], "42");
        assert_eq!(body["isRedelivery"], false);
        assert_eq!(body["originalDeliveryId"], body["deliveryId"]);
        assert!(body["timestamp"].is_i64(), "{body}");
    }
    let received = got[0].json();
    assert_eq!(received["afterExpiration"], false);
    assert_eq!(received["paymentMethodId"], "BCH-CHAIN");
    let payment = &received["payment"];
    let vout = payment["id"]
        .as_str()
        .and_then(|p| p.strip_prefix(&format!("{txid}-")))
        .unwrap_or_else(|| panic!("payment id txid-vout: {payment}"));
    assert!(vout.parse::<u32>().is_ok(), "{payment}");
    assert_eq!(payment["value"], "0.00050000");
    assert_eq!(payment["fee"], "0.00000000");
    assert_eq!(payment["status"], "Processing");
    assert_eq!(payment["destination"], address.as_str());
    assert!(payment["receivedDate"].is_i64(), "{payment}");
    assert_eq!(got[1].json()["overPaid"], false);
    assert_eq!(got[2].json()["payment"]["status"], "Settled");
    assert_eq!(got[2].json()["payment"]["id"], payment["id"]);
    assert_eq!(got[3].json()["manuallyMarked"], false);

    // bchpay's own destination keeps api.md's types: no payment_settled.
    let own_got = own
        .wait("own events", ARRIVES, |d| {
            d.iter().filter(|x| x.invoice_id() == inv).count() >= 3
        })
        .await;
    let kinds: Vec<String> = own_got
        .iter()
        .filter(|d| d.invoice_id() == inv)
        .map(Delivery::kind)
        .collect();
    assert_eq!(kinds, ["invoice.payment_received", "invoice.paid", "invoice.confirmed"]);
}

#[actix_rt::test]
async fn a_failing_receiver_is_retried_with_new_delivery_ids_and_a_delivery_can_be_redelivered() {
    let shop = Receiver::up();
    shop.answer(&[500]);
    let app = app(None).await;
    let body = json!({"url": shop.url(), "authorizedEvents": {"everything": false,
                      "specificEvents": ["InvoiceReceivedPayment"]}});
    let (id, secret) = register(&app.base, body).await;
    let (inv, address) = invoice(&app, 30_000, 1).await;
    app.sim.pay(&address, 10_000).expect("pay");

    let got = shop.wait("a failure then a retry", ARRIVES, |d| d.len() >= 2).await;
    let (first, retry) = (got[0].json(), got[1].json());
    assert_eq!((got[0].answered, got[1].answered), (500, 200));
    assert_eq!(first["invoiceId"], inv.as_str());
    assert_ne!(retry["deliveryId"], first["deliveryId"], "a retry is a new delivery");
    assert_eq!(retry["originalDeliveryId"], first["deliveryId"]);
    assert_eq!(retry["isRedelivery"], true);
    assert!(got.iter().all(|d| php_accepts(d, &secret)));

    let listed = gf(
        &app.base,
        awc::http::Method::GET,
        &format!("/webhooks/{id}/deliveries"),
        API_KEY,
        None,
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let list = listed.body.as_array().expect("a list").clone();
    assert_eq!(list.len(), 2, "{}", listed.body);
    assert_eq!(list[0]["id"], retry["deliveryId"], "newest first");
    assert_eq!(
        (list[0]["status"].clone(), list[0]["httpCode"].clone()),
        (json!("HttpSuccess"), json!(200))
    );
    assert_eq!(
        (list[1]["status"].clone(), list[1]["httpCode"].clone()),
        (json!("HttpError"), json!(500))
    );
    assert_eq!(list[1]["errorMessage"], "HTTP 500");

    let first_id = first["deliveryId"].as_str().unwrap().to_owned();
    let path = format!("/webhooks/{id}/deliveries/{first_id}/redeliver");
    let redone = gf(&app.base, awc::http::Method::POST, &path, API_KEY, Some(json!({}))).await;
    assert_eq!(redone.status, 200, "{}", redone.body);
    let new_id = redone
        .body
        .as_str()
        .expect("the new delivery id, a JSON string")
        .to_owned();
    let got = shop.wait("the redelivery", ARRIVES, |d| d.len() >= 3).await;
    let third = got[2].json();
    assert_eq!(third["deliveryId"], new_id.as_str());
    assert_eq!(third["originalDeliveryId"], first_id.as_str());
    assert_eq!(third["isRedelivery"], true);
    assert_eq!(third["payment"], first["payment"]);
    assert!(php_accepts(&got[2], &secret));

    let missing = format!("/webhooks/{id}/deliveries/{first_id}9/redeliver");
    let reply = gf(&app.base, awc::http::Method::POST, &missing, API_KEY, None).await;
    assert_eq!(
        (reply.status, reply.body["code"].clone()),
        (404, json!("webhookdelivery-not-found"))
    );
}

#[actix_rt::test]
async fn a_4xx_answer_is_not_retried_and_without_automatic_redelivery_a_5xx_is_not_either() {
    let shop = Receiver::up();
    shop.answer_always(400);
    let lazy = Receiver::up();
    lazy.answer_always(503);
    let app = app(None).await;
    let only_received = json!({"everything": false, "specificEvents": ["InvoiceReceivedPayment"]});
    let (id, _) = register(&app.base, json!({"url": shop.url(), "authorizedEvents": only_received})).await;
    let (lazy_id, _) = register(
        &app.base,
        json!({"url": lazy.url(), "automaticRedelivery": false, "authorizedEvents": only_received}),
    )
    .await;
    let (inv, address) = invoice(&app, 30_000, 1).await;
    app.sim.pay(&address, 10_000).expect("pay");

    for (hook, receiver, code) in [(&id, &shop, 400), (&lazy_id, &lazy, 503)] {
        // Failed after one attempt: no retry is planned (a retry would come 1 s later).
        let url = receiver.url();
        let failed = eventually("the event failed", ARRIVES, || async {
            let events = events_to(&app, &inv, &url).await;
            let done = events.len() == 1 && events[0]["state"] == "failed";
            if done {
                Ok(events)
            } else {
                Err(format!("{events:#?}"))
            }
        })
        .await;
        assert_eq!(failed[0]["attempts"], 1, "HTTP {code} is not retried");
        assert_eq!(failed[0]["next_attempt_at"], Value::Null);
        assert_eq!(receiver.count(), 1);
        let path = format!("/webhooks/{hook}/deliveries");
        let list = gf(&app.base, awc::http::Method::GET, &path, API_KEY, None).await.body;
        assert_eq!(list[0]["httpCode"], code);
        assert_eq!(list[0]["status"], "HttpError");
    }
}

#[actix_rt::test]
async fn authorized_events_choose_what_each_webhook_gets_and_disabled_or_deleted_ones_get_nothing() {
    let (processing, all, disabled, deleted) = (Receiver::up(), Receiver::up(), Receiver::up(), Receiver::down());
    let app = app(None).await;
    let only = |t: &str| json!({"everything": false, "specificEvents": [t]});
    register(
        &app.base,
        json!({"url": processing.url(), "authorizedEvents": only("InvoiceProcessing")}),
    )
    .await;
    register(&app.base, json!({"url": all.url()})).await;
    register(&app.base, json!({"url": disabled.url(), "enabled": false})).await;
    let (gone, _) = register(&app.base, json!({"url": deleted.url()})).await;

    let (inv, address) = invoice(&app, 20_000, 1).await;
    app.sim.pay(&address, 20_000).expect("pay");
    let got = all.wait("everything", ARRIVES, |d| types_of(d, &inv).len() >= 3).await;
    assert_eq!(
        types_of(&got, &inv),
        ["InvoiceCreated", "InvoiceReceivedPayment", "InvoiceProcessing"],
        "everything: InvoiceCreated too"
    );
    let created = got[0].json();
    let mut keys: Vec<&str> = created
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "deliveryId",
            "invoiceId",
            "isRedelivery",
            "metadata",
            "originalDeliveryId",
            "storeId",
            "timestamp",
            "type",
            "webhookId"
        ],
        "InvoiceCreated carries the common fields only"
    );
    let got = processing.wait("processing", ARRIVES, |d| !d.is_empty()).await;
    assert_eq!(types_of(&got, &inv), ["InvoiceProcessing"]);

    // The deleted webhook's pending events stop; the receiver, up now, gets none.
    let reply = gf(
        &app.base,
        awc::http::Method::DELETE,
        &format!("/webhooks/{gone}"),
        API_KEY,
        Some(json!({"storeId": STORE, "webhookId": gone})),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, Value::Null, "an empty body");
    app.sim.mine(1);
    all.wait("settled", ARRIVES, |d| types_of(d, &inv).len() >= 5).await;
    // What was made for each webhook, once the invoice is settled.
    assert_eq!(
        events_to(&app, &inv, &processing.url()).await.len(),
        1,
        "only InvoiceProcessing"
    );
    assert_eq!(processing.count(), 1);
    assert!(
        events_to(&app, &inv, &disabled.url()).await.is_empty(),
        "a disabled webhook gets nothing"
    );
    assert_eq!(disabled.count(), 0);
    let stopped = eventually("the deleted webhook's events failed", ARRIVES, || async {
        let events = events_to(&app, &inv, &deleted.url()).await;
        let done = !events.is_empty() && events.iter().all(|e| e["state"] == "failed");
        if done {
            Ok(events)
        } else {
            Err(format!("{events:#?}"))
        }
    })
    .await;
    assert_eq!(
        stopped.len(),
        3,
        "only the events made before the delete (created, received, processing): {stopped:#?}"
    );
    assert!(
        stopped.iter().any(|e| e["last_error"] == "the webhook was deleted"),
        "{stopped:#?}"
    );
    deleted.start();
    assert_eq!(deleted.count(), 0, "a deleted webhook gets nothing");
    let reply = gf(
        &app.base,
        awc::http::Method::GET,
        &format!("/webhooks/{gone}"),
        API_KEY,
        None,
    )
    .await;
    assert_eq!(
        (reply.status, reply.body["code"].clone()),
        (404, json!("webhook-not-found"))
    );
}

#[actix_rt::test]
async fn the_webhook_routes_keep_the_secret_hidden_check_their_input_and_permission() {
    let app = app(None).await;
    let (id, secret) = register(&app.base, plugin_body("https://shop.example/?wc-api=btcpaygf_default")).await;
    assert_eq!(secret.len(), 48, "a made secret");
    let (_, given) = register(&app.base, json!({"url": "http://x.example/", "secret": "mine"})).await;
    assert_eq!(given, "mine");

    let list = gf(&app.base, awc::http::Method::GET, "/webhooks", API_KEY, None).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().map(Vec::len), Some(2));
    assert!(!list.body.to_string().contains(&secret) && !list.body.to_string().contains("mine"));

    // PUT without a secret keeps it; the answer has none.
    let mut changed = plugin_body("https://shop.example/new");
    changed["secret"] = Value::Null;
    changed["enabled"] = json!(false);
    let put = gf(
        &app.base,
        awc::http::Method::PUT,
        &format!("/webhooks/{id}"),
        API_KEY,
        Some(changed),
    )
    .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(
        (put.body["url"].clone(), put.body["enabled"].clone()),
        (json!("https://shop.example/new"), json!(false))
    );
    assert!(put.body.get("secret").is_none());
    let kept = app.reader.webhook(&id).unwrap().unwrap();
    assert_eq!(kept.secret, secret);
    assert!(!format!("{kept:?}").contains(&secret), "Debug hides it");

    let bad = gf(
        &app.base,
        awc::http::Method::POST,
        "/webhooks",
        API_KEY,
        Some(json!({"url": "shop/hook"})),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body.clone()),
        (422, json!([{"path": "Url", "message": "Invalid Url"}]))
    );
    let other_store = send(
        &client(),
        awc::http::Method::GET,
        &format!("{}/api/v1/stores/elsewhere/webhooks", app.base),
        Some(&format!("token {API_KEY}")),
        None,
    )
    .await;
    assert_eq!(other_store.status, 404);

    let made = send(
        &client(),
        awc::http::Method::POST,
        &format!("{}/api/v1/api-keys", app.base),
        Some(&bearer(API_KEY)),
        Some(
            json!({"label": "shop", "permissions": ["btcpay.store.canviewinvoices"]})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    let weak = made.body["key"].as_str().expect("a key").to_owned();
    let refused = gf(&app.base, awc::http::Method::GET, "/webhooks", &weak, None).await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        refused.body["missingPermission"],
        "btcpay.store.webhooks.canmodifywebhooks"
    );
    let nobody = gf(&app.base, awc::http::Method::GET, "/webhooks", "nope", None).await;
    assert_eq!(
        (nobody.status, nobody.body["code"].clone()),
        (401, json!("unauthenticated"))
    );
}

/// The real binary's configuration: Greenfield store [`STORE`], retries every second.
fn engine_config(sim: &Sim) -> String {
    format!(
        "[api]\nkeys = [\"{API_KEY}\"]\n[addresses]\npool_low = 5\npool_high = 10\n\
         [payments]\npoll_interval_ms = 100\n[greenfield]\nstore_id = \"{STORE}\"\n\
         [webhooks]\nsecret = \"{OWN_SECRET}\"\ntimeout_secs = 2\nretry_schedule_secs = {:?}\n{}",
        [1u64; 30],
        wallet_config(&sim.url(), "", 5)
    )
}

#[actix_rt::test]
async fn pending_greenfield_deliveries_survive_a_restart_and_a_sigkill_of_the_real_binary_and_arrive_in_order() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let shop = Receiver::down();
    let config = engine_config(&sim);
    let engine = Engine::spawn(&config, &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    let (id, secret) = register(&engine.base, plugin_body(&shop.url())).await;
    let c = client();
    let mut invoices = Vec::new();
    for i in 0..3u64 {
        let reply = send(
            &c,
            awc::http::Method::POST,
            &format!("{}/api/v1/invoices", engine.base),
            Some(&bearer(API_KEY)),
            Some(
                json!({"amount_sats": 10_000 + i, "required_confirmations": 0})
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        sim.pay(reply.body["address"].as_str().unwrap(), 10_000 + i).unwrap();
        invoices.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    // Each invoice: received, payment settled, processing, settled; each
    // tried against the down receiver at least once before the kill.
    let path = format!("/webhooks/{id}/deliveries?count=100");
    eventually("every invoice's first delivery tried", ARRIVES, || async {
        let list = gf(&engine.base, awc::http::Method::GET, &path, API_KEY, None)
            .await
            .body;
        (list.as_array().map_or(0, Vec::len) >= 3).then_some(())
    })
    .await;

    // A clean restart (SIGTERM) with the receiver still down: the pending
    // deliveries are tried again by the new process.
    let tried = |list: &Value| {
        list.as_array()
            .map_or(0, |l| l.iter().filter(|d| d["status"] == "Failed").count())
    };
    let before = tried(
        &gf(&engine.base, awc::http::Method::GET, &path, API_KEY, None)
            .await
            .body,
    );
    let mut engine = engine;
    assert_eq!(engine.terminate(Duration::from_secs(10)), Some(0), "a clean stop");
    let engine = Engine::spawn_in(engine.into_dir(), &config, &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    eventually("more attempts after the clean restart", ARRIVES, || async {
        let list = gf(&engine.base, awc::http::Method::GET, &path, API_KEY, None)
            .await
            .body;
        (tried(&list) > before).then_some(())
    })
    .await;
    assert_eq!(shop.count(), 0);

    // Then SIGKILL, a restart on the same store, and the receiver comes up.
    let dir = engine.into_dir();
    let engine = Engine::spawn_in(dir, &config, &[]);
    shop.start();
    let got = shop
        .wait("4 events of each invoice", Duration::from_secs(20), |d| {
            invoices.iter().all(|inv| types_of(d, inv).len() >= 4)
        })
        .await;
    for inv in &invoices {
        assert_eq!(
            types_of(&got, inv),
            [
                "InvoiceReceivedPayment",
                "InvoicePaymentSettled",
                "InvoiceProcessing",
                "InvoiceSettled"
            ],
            "{inv}: once each, in order"
        );
    }
    assert!(got.iter().all(|d| php_accepts(d, &secret)));
    drop(engine);
}
