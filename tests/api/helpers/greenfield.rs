//! The Greenfield tests' harness (`greenfield`, `greenfield_refusals`):
//! requests with the headers greenfield-php v2.9.0 sends (`Accept` and
//! `Content-Type: application/json` on every request, GETs included;
//! `Authorization: token KEY`), the WooCommerce plugin v2.8.0's create body,
//! and validation of answers against BTCPay v2.4.1's swagger schemas
//! (`tests/fixtures/greenfield/`: `routes.json` by route and status,
//! `schemas.json` for the definitions) with the `jsonschema` crate.

use awc::http::Method;
use serde_json::{json, Value};

use super::*;

/// The four permissions the plugin requires, and the optional webhook one.
pub const PLUGIN_PERMISSIONS: [&str; 5] = [
    "btcpay.store.canviewinvoices",
    "btcpay.store.cancreateinvoice",
    "btcpay.store.canviewstoresettings",
    "btcpay.store.canmodifyinvoices",
    "btcpay.store.webhooks.canmodifywebhooks",
];

/// A file of tests/fixtures/greenfield/, parsed.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/greenfield/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Validates `instance` against `schemas.json#/$defs/{def}`; panics with every error.
pub fn assert_schema(def: &str, instance: &Value, context: &str) {
    let mut schema = fixture("schemas.json");
    assert!(schema["$defs"][def].is_object(), "no schema {def}");
    schema["$ref"] = json!(format!("#/$defs/{def}"));
    let validator = jsonschema::options()
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema {def}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{context}: not a {def}: {errors:#?}\n{instance:#}");
}

/// Validates a reply with the schema `routes.json` gives its route and
/// status, or `fallback` where the swagger gives none (`null`, or a status it
/// does not list: 422 is BTCPay's real answer where the swagger says 400).
pub fn assert_route(route: &str, reply: &Reply, fallback: Option<&str>) {
    let routes = fixture("routes.json");
    let responses = &routes["routes"][route]["responses"];
    assert!(responses.is_object(), "{route} is not in routes.json");
    let documented = responses[reply.status.to_string()]["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("schemas.json#/$defs/"))
        .map(str::to_owned);
    let def = documented.or(fallback.map(str::to_owned)).unwrap_or_else(|| {
        panic!(
            "{route}: answered {} with no schema to check it: {}",
            reply.status, reply.body
        )
    });
    assert_schema(&def, &reply.body, &format!("{route} {}", reply.status));
}

/// Greenfield's `Authorization` header.
pub fn token(key: &str) -> String {
    format!("token {key}")
}

/// The engine, its store id and a key with the plugin's permissions.
pub struct Shop {
    /// The engine.
    pub app: TestApp,
    /// `greenfield.store_id` as `GET stores` shows it.
    pub store_id: String,
    /// A key with the plugin's permissions (and the webhook one).
    pub key: String,
}

impl Shop {
    /// An engine pricing USD at 300 and KRW at 500000 (the `fixed` source).
    pub async fn open() -> Shop {
        let app = TestApp::spawn_with(|s| {
            s.payments.poll_interval_ms = 200;
            s.rates.currencies = vec!["USD".into(), "KRW".into()];
            s.rates.sources = [("USD", "fixed"), ("KRW", "fixed")]
                .into_iter()
                .map(|(c, src)| (c.to_owned(), vec![src.to_owned()]))
                .collect();
            s.rates.fixed = [("USD", "300"), ("KRW", "500000")]
                .into_iter()
                .map(|(c, r)| (c.to_owned(), r.to_owned()))
                .collect();
        })
        .await;
        let stores = app.get("/api/v1/stores").await;
        assert_eq!(stores.status, 200, "{}", stores.body);
        let store_id = stores.body[0]["id"].as_str().expect("a store id").to_owned();
        let key = make_key(&app, &PLUGIN_PERMISSIONS).await;
        Shop { app, store_id, key }
    }

    /// A request as greenfield-php makes it: `Accept` and `Content-Type`
    /// json always, `Authorization: token KEY`.
    pub async fn php(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.php_as(&self.key, method, path, body).await
    }

    /// [`Shop::php`] with another key.
    pub async fn php_as(&self, key: &str, method: Method, path: &str, body: Option<&Value>) -> Reply {
        let url = format!("{}{}", self.app.base, path.replace("{storeId}", &self.store_id));
        let request = self
            .app
            .client
            .request(method.clone(), &url)
            .insert_header(("Accept", "application/json"))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Authorization", token(key)));
        let sent = match body {
            Some(body) => request.send_body(body.to_string()).await,
            None => request.send().await,
        };
        let mut response = sent.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let bytes = response.body().await.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// Creates an invoice with `body`; its answer, checked `200` and valid.
    pub async fn create(&self, body: &Value) -> Value {
        let reply = self
            .php(Method::POST, "/api/v1/stores/{storeId}/invoices", Some(body))
            .await;
        assert_eq!(reply.status, 200, "create {body}: {}", reply.body);
        assert_route("POST /api/v1/stores/{storeId}/invoices", &reply, None);
        reply.body
    }
}

/// A stored key with exactly `permissions`, made with the configured unrestricted key.
pub async fn make_key(app: &TestApp, permissions: &[&str]) -> String {
    let reply = send(
        &app.client,
        Method::POST,
        &format!("{}/api/v1/api-keys", app.base),
        Some(&bearer(API_KEY)),
        Some(
            json!({"label": "woocommerce", "permissions": permissions})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body["key"].as_str().expect("the new key").to_owned()
}

/// The body the plugin builds for order 42 (`AbstractGateway::createInvoice`).
pub fn plugin_create_body(amount: &str, currency: &str) -> Value {
    json!({
        "amount": amount, "currency": currency,
        "metadata": {"buyerEmail": "buyer@shop.example", "buyerName": "A Buyer", "buyerAddress1": "1 Main St",
                     "buyerAddress2": "", "buyerCity": "Seoul", "buyerState": "", "buyerZip": "04524",
                     "buyerCountry": "KR", "taxIncluded": "1.10",
                     "posData": "{\"WooCommerce\":{\"Order ID\":42,\"Order Number\":\"42\"}}",
                     "orderUrl": "https://shop.example/wp-admin/post.php?post=42&action=edit", "orderId": "42"},
        "checkout": {"speedPolicy": null, "paymentMethods": ["BCH_CHAIN"], "expirationMinutes": null,
                     "monitoringMinutes": null, "paymentTolerance": null,
                     "redirectURL": "https://shop.example/checkout/order-received/42/?key=wc_order_abc",
                     "redirectAutomatically": null, "defaultLanguage": null}
    })
}
