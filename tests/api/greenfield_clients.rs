//! BTCPay Greenfield compatibility (issue 14) through two clients that no
//! one here wrote, installed by `.ci/run` from their registries: npm
//! `btcpay-greenfield-node-client` 1.7.0 and PyPI `pygreenfield` 1.0.0
//! (drivers in tests/greenfield_clients/). Each drives the real server, with
//! the simulated wallet and a simulated exchange for USD, as the BTCPay for
//! WooCommerce plugin does: setup with a key of exactly the plugin's
//! permissions, its webhook, a checkout in USD, a mark Invalid; then the test
//! pays with the simulator and mines, the plugin's four webhooks arrive at a
//! receiver here signed as the plugin checks (`BTCPay-Sig`, also by php-cli),
//! and the client reads the invoice `Settled` and its payment method paid.
//! Every answer the clients saw, and every webhook body, passes BTCPay's
//! swagger schemas (tests/fixtures/greenfield/). A client that is not
//! installed fails the test under `CI`.

mod driver;
mod paid;
mod schema;
mod setup;
mod signature;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::helpers::receiver::{Delivery, Receiver};
use crate::helpers::*;
use bchpay::sim::exchange::ExchangeSim;
use driver::Client;
use paid::Own;
use serde_json::{json, Value};
use setup::Shop;

/// What the plugin's settings page asks of a key (the four required
/// permissions, plus the webhook one so it registers its webhook itself).
pub const PLUGIN_PERMISSIONS: [&str; 5] = [
    "btcpay.store.canviewinvoices",
    "btcpay.store.cancreateinvoice",
    "btcpay.store.canviewstoresettings",
    "btcpay.store.canmodifyinvoices",
    "btcpay.store.webhooks.canmodifywebhooks",
];

/// The events the plugin registers its webhook for.
pub const PLUGIN_EVENTS: [&str; 6] = [
    "InvoiceReceivedPayment",
    "InvoicePaymentSettled",
    "InvoiceProcessing",
    "InvoiceExpired",
    "InvoiceSettled",
    "InvoiceInvalid",
];

/// How long an event may take from the wallet's news to the shop: a confirmer
/// tick ([`POLL_MS`]), the outbox, one delivery; generous for a debug build
/// on two shared cores, far below the plugin's patience (none: it waits).
const EVENT_BAR: Duration = Duration::from_secs(10);

/// The confirmer's interval.
const POLL_MS: u64 = 100;

/// Now, in unix seconds.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An engine with USD priced by a simulated Kraken (412.40), one confirmation.
async fn engine(exchanges: &ExchangeSim) -> TestApp {
    let kraken = exchanges.base("kraken");
    let app = TestApp::spawn_with(move |s| {
        s.payments.poll_interval_ms = POLL_MS;
        s.payments.required_confirmations = 1;
        s.rates.currencies = vec!["USD".into()];
        s.rates.sources = [("USD".to_owned(), vec!["kraken".to_owned()])].into_iter().collect();
        s.rates.endpoints.kraken = kraken;
    })
    .await;
    eventually("a USD rate", Duration::from_secs(10), || async {
        let reply = app.get("/api/v1/rates").await;
        reply.body["rates"]
            .as_array()?
            .iter()
            .find(|r| r["currency"] == "USD" && r["rate"].is_string())
            .cloned()
    })
    .await;
    app
}

/// The store id (`GET /api/v1/stores` with the engine's own key).
async fn store_id(app: &TestApp) -> String {
    let reply = app.get("/api/v1/stores").await;
    assert_eq!(reply.status, 200, "stores: {}", reply.body);
    reply.body[0]["id"].as_str().expect("a store id").to_owned()
}

/// A key with exactly `permissions`, made through the API.
async fn key_with(app: &TestApp, permissions: &[&str]) -> String {
    let body = json!({"label": "WooCommerce", "permissions": permissions});
    let url = format!("{}/api/v1/api-keys", app.base);
    let reply = send(
        &app.client,
        awc::http::Method::POST,
        &url,
        Some(&bearer(API_KEY)),
        Some(body.to_string().into_bytes()),
    )
    .await;
    assert_eq!(reply.status, 201, "create a key: {}", reply.body);
    reply.body["key"].as_str().expect("the key").to_owned()
}

/// `GET path` as the plugin sends it (greenfield-php: `Content-Type` on a GET too).
async fn plugin_get(app: &TestApp, key: &str, path: &str) -> Reply {
    let mut response = app
        .client
        .get(format!("{}{path}", app.base))
        .insert_header(("Accept", "application/json"))
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("Authorization", format!("token {key}")))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let body = response.body().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    }
}

/// bchpay's own view of invoice `id`.
async fn own(app: &TestApp, id: &str) -> Own {
    let reply = app.get(&format!("/api/v1/invoices/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let b = &reply.body;
    assert_eq!((&b["price"], &b["currency"]), (&json!("12.34"), &json!("USD")), "{b}");
    Own {
        id: id.to_owned(),
        address: b["address"].as_str().expect("an address").to_owned(),
        amount_sats: b["amount_sats"].as_u64().expect("amount_sats"),
        rate: b["rate"].as_str().expect("a rate").to_owned(),
    }
}

/// The plugin's settings page refuses what the README says never to give it:
/// an `unrestricted` key (listed as `["unrestricted"]`: not one store) and a
/// key with one permission more (`canmodifystoresettings`: not the exact set).
async fn wrong_keys_refused(
    client: Client,
    schemas: &schema::Schemas,
    app: &TestApp,
    base_env: &dyn Fn() -> Vec<(&'static str, String)>,
) {
    let mut wider = PLUGIN_PERMISSIONS.to_vec();
    wider.push("btcpay.store.canmodifystoresettings");
    let wider = key_with(app, &wider).await;
    for (key, single) in [(API_KEY.to_owned(), false), (wider, true)] {
        let mut env = base_env();
        env.retain(|(k, _)| *k != "API_KEY");
        env.extend([("API_KEY", key.clone()), ("PHASE", "key".to_owned())]);
        let out = client.run(env).await;
        setup::check_schemas(schemas, &out);
        let plugin = &out["plugin"];
        assert_eq!(plugin["storesNonEmpty"], true, "{out}");
        assert_eq!(plugin["hasSingleStore"], single, "{out}");
        assert_eq!(plugin["hasRequiredPermissions"], false, "{out}");
    }
}

/// The whole flow with `client`.
async fn flow(client: Client) {
    if let Err(why) = client.command() {
        skip_unless_ci(&format!("the {client:?} Greenfield client cannot run: {why}"));
        return;
    }
    let schemas = schema::Schemas::load();
    let exchanges = ExchangeSim::start().await.expect("simulated exchanges");
    let receiver = Receiver::up();
    let app = engine(&exchanges).await;
    let shop = Shop {
        store_id: store_id(&app).await,
        key: key_with(&app, &PLUGIN_PERMISSIONS).await,
        webhook_url: format!("{}?wc-api=btcpaygf_default", receiver.url()),
        order_id: "1001".into(),
    };
    let base_env = || {
        vec![
            ("BASE_URL", app.base.clone()),
            ("API_KEY", shop.key.clone()),
            ("STORE_ID", shop.store_id.clone()),
        ]
    };

    // Setup and checkout, as the plugin does them.
    let mut env = base_env();
    env.extend([
        ("PHASE", "setup".to_owned()),
        ("WEBHOOK_URL", shop.webhook_url.clone()),
        ("ORDER_ID", shop.order_id.clone()),
    ]);
    let out = client.run(env).await;
    setup::check_schemas(&schemas, &out);
    setup::check_setup(&out, &shop);
    let webhook = driver::ok(&out, "webhookCreate");
    let (webhook_id, secret) = (webhook["id"].as_str().unwrap(), webhook["secret"].as_str().unwrap());
    let invoice_id = driver::ok(&out, "invoiceCreate")["id"].as_str().unwrap().to_owned();
    let created_at = driver::ok(&out, "invoiceCreate")["createdTime"]
        .as_i64()
        .expect("an integer createdTime");
    let marked_id = driver::ok(&out, "invoiceMarkInvalid")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let own = own(&app, &invoice_id).await;
    paid::check_unpaid_method(&out, &own);
    wrong_keys_refused(client, &schemas, &app, &base_env).await;
    // The route the node package lacks, as the plugin sends it.
    let reply = plugin_get(
        &app,
        &shop.key,
        &format!("/api/v1/stores/{}/payment-methods", shop.store_id),
    )
    .await;
    assert_eq!(
        (reply.status, &reply.body),
        (200, &json!([{"enabled": true, "paymentMethodId": "BCH-CHAIN"}]))
    );
    schemas
        .check_answer("GET /api/v1/stores/{storeId}/payment-methods", 200, &reply.body)
        .unwrap_or_else(|e| panic!("{e}"));

    // The mark Invalid reaches the shop.
    let got = receiver
        .wait("InvoiceInvalid", EVENT_BAR, |d| {
            d.iter().any(|d| d.json()["invoiceId"] == marked_id.as_str())
        })
        .await;
    let invalid = got
        .iter()
        .find(|d| d.json()["invoiceId"] == marked_id.as_str())
        .unwrap();
    signature::assert_signed(invalid, secret);
    let body = invalid.json();
    schemas.check_event(&body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (&body["type"], &body["manuallyMarked"]),
        (&json!("InvoiceInvalid"), &json!(true)),
        "{body}"
    );

    // The customer pays; a block confirms it.
    let txid = app.sim.pay(&own.address, own.amount_sats).expect("pay");
    let of = |d: &[Delivery], kind: &str| {
        d.iter()
            .any(|d| d.json()["invoiceId"] == own.id.as_str() && d.kind() == kind)
    };
    receiver
        .wait("InvoiceProcessing", EVENT_BAR, |d| of(d, "InvoiceProcessing"))
        .await;
    app.sim.mine(1);
    let got = receiver
        .wait("InvoiceSettled", EVENT_BAR, |d| of(d, "InvoiceSettled"))
        .await;
    let ids = (shop.store_id.as_str(), webhook_id, shop.order_id.as_str());
    let payment_id = paid::check_payment_events(&schemas, &got, secret, ids, &own, &txid);
    assert!(
        got.iter().all(|d| d.kind() != "InvoiceCreated"),
        "InvoiceCreated is not among the plugin's events"
    );

    // php-cli, with the plugin's own expression, on the InvoiceSettled body.
    let settled = got.iter().find(|d| d.kind() == "InvoiceSettled").unwrap();
    if signature::php_available() {
        let header = settled.header("btcpay-sig").unwrap();
        assert!(
            signature::php_accepts(secret, header, &settled.body),
            "php refused a real delivery"
        );
        let mut changed = settled.body.clone();
        let at = changed.len() / 2;
        changed[at] ^= 0x01;
        assert!(
            !signature::php_accepts(secret, header, &changed),
            "php took a changed body"
        );
        assert!(
            !signature::php_accepts("another", header, &settled.body),
            "php took another secret"
        );
    } else {
        skip_unless_ci("`php` is not on PATH: BTCPay-Sig was not checked by php's hash_hmac");
    }

    // The deliveries are recorded as answered (the shop said 200 to each).
    let deliveries = format!("/api/v1/stores/{}/webhooks/{webhook_id}/deliveries", shop.store_id);
    eventually("five successful deliveries", EVENT_BAR, || async {
        let reply = plugin_get(&app, &shop.key, &deliveries).await;
        let list = reply.body.as_array()?.clone();
        (list.len() >= 5 && list.iter().all(|d| d["status"] == "HttpSuccess")).then_some(())
    })
    .await;

    // The plugin, after InvoiceSettled: the invoice and its payment methods.
    let mut env = base_env();
    env.extend([
        ("PHASE", "paid".to_owned()),
        ("INVOICE_ID", own.id.clone()),
        ("WEBHOOK_ID", webhook_id.to_owned()),
    ]);
    let out = client.run(env).await;
    setup::check_schemas(&schemas, &out);
    let (redelivery, original) = paid::check_paid(&out, &own, (&txid, &payment_id), created_at, unix_now());

    // The redelivery arrives: a new delivery id, marked, signed.
    let got = receiver
        .wait("the redelivery", EVENT_BAR, |d| {
            d.iter().any(|d| d.json()["deliveryId"] == redelivery.as_str())
        })
        .await;
    let again = got
        .iter()
        .find(|d| d.json()["deliveryId"] == redelivery.as_str())
        .unwrap();
    signature::assert_signed(again, secret);
    let body = again.json();
    schemas.check_event(&body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(body["isRedelivery"], true, "{body}");
    assert_eq!(body["originalDeliveryId"], original.as_str(), "{body}");
}

#[actix_rt::test]
async fn the_node_client_sets_up_checks_out_and_sees_the_invoice_paid() {
    flow(Client::Node).await;
}

#[actix_rt::test]
async fn the_python_client_sets_up_checks_out_and_sees_the_invoice_paid() {
    flow(Client::Python).await;
}
