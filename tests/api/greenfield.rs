//! BTCPay Greenfield compatibility (issue 14), over raw HTTP with the headers
//! greenfield-php v2.9.0 sends (`Accept` and `Content-Type:
//! application/json` on every request, GETs included; `Authorization: token
//! KEY`), the WooCommerce plugin v2.8.0's exact bodies, and every answer
//! validated against BTCPay v2.4.1's swagger schemas
//! (`tests/fixtures/greenfield/`: `routes.json` by route and status,
//! `schemas.json` for the definitions).

use std::collections::BTreeSet;
use std::time::Duration;

use awc::http::Method;
use serde_json::{json, Value};

use crate::helpers::*;

/// The four permissions the plugin requires, and the optional webhook one.
const PLUGIN_PERMISSIONS: [&str; 5] = [
    "btcpay.store.canviewinvoices",
    "btcpay.store.cancreateinvoice",
    "btcpay.store.canviewstoresettings",
    "btcpay.store.canmodifyinvoices",
    "btcpay.store.webhooks.canmodifywebhooks",
];

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/greenfield/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Validates `instance` against `schemas.json#/$defs/{def}`; panics with every error.
fn assert_schema(def: &str, instance: &Value, context: &str) {
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
fn assert_route(route: &str, reply: &Reply, fallback: Option<&str>) {
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
fn token(key: &str) -> String {
    format!("token {key}")
}

/// The engine, its store id and a key with the plugin's permissions.
struct Shop {
    app: TestApp,
    store_id: String,
    key: String,
}

impl Shop {
    /// An engine pricing USD at 300 and KRW at 500000 (the `fixed` source).
    async fn open() -> Shop {
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
    async fn php(&self, method: Method, path: &str, body: Option<&Value>) -> Reply {
        self.php_as(&self.key, method, path, body).await
    }

    async fn php_as(&self, key: &str, method: Method, path: &str, body: Option<&Value>) -> Reply {
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
    async fn create(&self, body: &Value) -> Value {
        let reply = self
            .php(Method::POST, "/api/v1/stores/{storeId}/invoices", Some(body))
            .await;
        assert_eq!(reply.status, 200, "create {body}: {}", reply.body);
        assert_route("POST /api/v1/stores/{storeId}/invoices", &reply, None);
        reply.body
    }
}

/// A stored key with exactly `permissions`, made with the configured unrestricted key.
async fn make_key(app: &TestApp, permissions: &[&str]) -> String {
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
fn plugin_create_body(amount: &str, currency: &str) -> Value {
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

#[actix_rt::test]
async fn setup_routes_answer_what_the_plugin_reads() {
    let shop = Shop::open().await;

    let stores = shop.php(Method::GET, "/api/v1/stores", None).await;
    assert_eq!(stores.status, 200, "{}", stores.body);
    assert_route("GET /api/v1/stores", &stores, None);
    assert_eq!(stores.body.as_array().map(Vec::len), Some(1));
    let store = shop.php(Method::GET, "/api/v1/stores/{storeId}", None).await;
    assert_route("GET /api/v1/stores/{storeId}", &store, None);
    assert_eq!(store.body, stores.body[0]);
    assert_eq!(
        (store.body["name"].clone(), store.body["defaultCurrency"].clone()),
        (json!("bchpay"), json!("USD"))
    );
    // BTCPay serves its paths with a trailing slash too.
    assert_eq!(shop.php(Method::GET, "/api/v1/stores/", None).await.body, stores.body);

    // api-keys/current: the plugin's hasSingleStore() and hasRequiredPermissions().
    let current = shop.php(Method::GET, "/api/v1/api-keys/current", None).await;
    assert_eq!(current.status, 200, "{}", current.body);
    assert_route("GET /api/v1/api-keys/current", &current, None);
    assert_eq!(current.body["apiKey"], shop.key.as_str());
    let permissions: Vec<&str> = current.body["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut names = BTreeSet::new();
    for p in &permissions {
        let parts: Vec<&str> = p.split(':').collect();
        assert_eq!(parts.len(), 2, "{p}: NAME:STOREID");
        assert_eq!(parts[1], shop.store_id, "{p}: one store, the one GET stores shows");
        names.insert(parts[0]);
    }
    names.remove("btcpay.store.cancreatenonapprovedpullpayments");
    names.remove("btcpay.store.webhooks.canmodifywebhooks");
    let required: BTreeSet<&str> = PLUGIN_PERMISSIONS[..4].iter().copied().collect();
    assert_eq!(names, required);
    // An unrestricted key says so, unscoped (the plugin calls it multi-store).
    let admin = shop
        .php_as(API_KEY, Method::GET, "/api/v1/api-keys/current", None)
        .await;
    assert_eq!(admin.body["permissions"], json!(["unrestricted"]));

    let info = shop.php(Method::GET, "/api/v1/server/info", None).await;
    assert_eq!(info.status, 200, "{}", info.body);
    assert_route("GET /api/v1/server/info", &info, None);
    assert_eq!(info.body["version"], "2.4.1");
    assert_eq!(info.body["fullySynched"], true, "the wallet link is up");
    assert_eq!(info.body["onion"], "");
    assert_eq!(info.body["supportedPaymentMethods"], json!(["BCH-CHAIN"]));
    assert!(info.body["bchpayVersion"].is_string());

    let methods = shop
        .php(Method::GET, "/api/v1/stores/{storeId}/payment-methods", None)
        .await;
    assert_eq!(methods.status, 200, "{}", methods.body);
    assert_eq!(methods.body, json!([{"enabled": true, "paymentMethodId": "BCH-CHAIN"}]));
    for item in methods.body.as_array().into_iter().flatten() {
        assert_schema("GenericPaymentMethodData", item, "store payment method");
    }
}

#[actix_rt::test]
async fn the_plugins_create_then_read_list_and_payment_methods_after_a_payment() {
    let shop = Shop::open().await;
    let body = plugin_create_body("12.34", "USD");
    let invoice = eventually("a USD rate", Duration::from_secs(10), || async {
        let reply = shop
            .php(Method::POST, "/api/v1/stores/{storeId}/invoices", Some(&body))
            .await;
        (reply.status == 200).then_some(reply.body)
    })
    .await;
    let id = invoice["id"].as_str().expect("id").to_owned();
    assert_eq!(invoice["checkoutLink"], format!("{PUBLIC_URL}/i/{id}"));
    assert_eq!(
        (
            invoice["amount"].clone(),
            invoice["currency"].clone(),
            invoice["status"].clone()
        ),
        (json!("12.34"), json!("USD"), json!("New"))
    );
    assert_eq!(invoice["storeId"], shop.store_id.as_str());
    assert_eq!(invoice["metadata"], body["metadata"], "metadata verbatim");
    assert_eq!(invoice["checkout"]["paymentMethods"], json!(["BCH-CHAIN"]));
    // The plugin retrying the same order while the invoice lives gets it back.
    assert_eq!(shop.create(&body).await["id"], id.as_str());

    let read = shop
        .php(Method::GET, &format!("/api/v1/stores/{{storeId}}/invoices/{id}"), None)
        .await;
    assert_eq!(read.status, 200);
    assert_route("GET /api/v1/stores/{storeId}/invoices/{invoiceId}", &read, None);
    assert_eq!(read.body, invoice);
    let listed = shop
        .php(
            Method::GET,
            "/api/v1/stores/{storeId}/invoices?orderId=42&status=New",
            None,
        )
        .await;
    assert_route("GET /api/v1/stores/{storeId}/invoices", &listed, None);
    assert_eq!(listed.body, json!([invoice]));
    let none = shop
        .php(Method::GET, "/api/v1/stores/{storeId}/invoices?status=Settled", None)
        .await;
    assert_eq!(none.body, json!([]));

    // 12.34 USD at 300 USD/BCH: ceil(4113333.3…) satoshis, paid in two outputs.
    let methods_path = format!("/api/v1/stores/{{storeId}}/invoices/{id}/payment-methods");
    let before = shop.php(Method::GET, &methods_path, None).await;
    assert_eq!(before.status, 200, "{}", before.body);
    let method = &before.body[0];
    assert_schema("InvoicePaymentMethodDataModel", method, "invoice payment method");
    assert_eq!(
        (method["amount"].clone(), method["due"].clone(), method["rate"].clone()),
        (json!("0.04113334"), json!("0.04113334"), json!("300"))
    );
    assert_eq!(method["payments"], json!([]));
    let address = method["destination"].as_str().expect("destination").to_owned();
    let txid = shop
        .app
        .sim
        .pay_outputs(&[(address.clone(), 4_000_000), (address.clone(), 113_334)], false)
        .expect("pay");
    let after = eventually("the payment in payment-methods", Duration::from_secs(10), || async {
        let reply = shop.php(Method::GET, &methods_path, None).await;
        (reply.body[0]["payments"].as_array().map(Vec::len) == Some(2)).then_some(reply)
    })
    .await;
    let method = &after.body[0];
    assert_schema("InvoicePaymentMethodDataModel", method, "invoice payment method, paid");
    assert_eq!(
        (
            method["paymentMethodPaid"].clone(),
            method["totalPaid"].clone(),
            method["due"].clone()
        ),
        (json!("0.04113334"), json!("0.04113334"), json!("0.00000000"))
    );
    let mut ids: Vec<String> = method["payments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            assert!(p["receivedDate"].is_i64(), "{p}");
            assert_eq!(
                (p["destination"].as_str(), p["fee"].as_str()),
                (Some(address.as_str()), Some("0.00000000"))
            );
            p["id"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    ids.sort();
    assert_eq!(ids.len(), 2);
    for id in &ids {
        let (tx, vout) = id.rsplit_once('-').expect("txid-vout");
        assert_eq!(tx, txid);
        assert!(vout.parse::<u32>().is_ok(), "{id}");
    }
    let paid = shop
        .php(Method::GET, &format!("/api/v1/stores/{{storeId}}/invoices/{id}"), None)
        .await;
    assert_route("GET /api/v1/stores/{storeId}/invoices/{invoiceId}", &paid, None);
    assert_eq!(
        (paid.body["status"].clone(), paid.body["paidAmount"].clone()),
        (json!("Processing"), json!("12.34"))
    );
}

#[actix_rt::test]
async fn refusals_are_in_greenfields_shapes_and_store_nothing() {
    let shop = Shop::open().await;
    let create_path = "/api/v1/stores/{storeId}/invoices";
    let route = "POST /api/v1/stores/{storeId}/invoices";
    let before = shop.app.snapshot();

    // 401: no key, a wrong key.
    for auth in [None, Some("token not-a-key-0000")] {
        let url = format!("{}/api/v1/stores", shop.app.base);
        let reply = send(&shop.app.client, Method::GET, &url, auth, None).await;
        assert_eq!(reply.status, 401, "{auth:?}");
        assert_eq!(
            reply.body,
            json!({"code": "unauthenticated", "message": "Authentication is required for accessing this endpoint"})
        );
        assert_route("GET /api/v1/stores", &reply, None);
    }
    // 403: a key without cancreateinvoice.
    let viewer = make_key(&shop.app, &["btcpay.store.canviewinvoices"]).await;
    let reply = shop
        .php_as(
            &viewer,
            Method::POST,
            create_path,
            Some(&plugin_create_body("1", "USD")),
        )
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert_eq!(reply.body["code"], "missing-permission");
    assert_eq!(reply.body["missingPermission"], "btcpay.store.cancreateinvoice");
    assert_schema("ProblemDetails", &reply.body, "403");

    // 404s.
    let reply = shop.php(Method::GET, "/api/v1/stores/not-this-store", None).await;
    assert_eq!(
        (reply.status, reply.body["code"].clone()),
        (404, json!("store-not-found"))
    );
    assert_schema("ProblemDetails", &reply.body, "404 store");
    for id in ["inv_00000000000000000000000000", "nonsense"] {
        let reply = shop
            .php(Method::GET, &format!("/api/v1/stores/{{storeId}}/invoices/{id}"), None)
            .await;
        assert_eq!(
            reply.body,
            json!({"code": "invoice-not-found", "message": "The invoice was not found"}),
            "{id}"
        );
        assert_eq!(reply.status, 404);
    }
    let reply = shop.php(Method::GET, "/api/v1/stores/{storeId}/nothing", None).await;
    assert_eq!(reply.status, 404);
    assert_schema("ProblemDetails", &reply.body, "404 route");

    // 422 arrays with JSON paths.
    for (body, paths) in [
        (json!({"currency": "USD"}), vec!["amount"]),
        (plugin_create_body("12.34", "BTC"), vec!["currency"]),
        (plugin_create_body("12.345", "USD"), vec!["amount"]),
        (
            json!({"amount": "1", "checkout": {"paymentMethods": ["BTC-CHAIN", "BCH"], "paymentTolerance": 101}}),
            vec!["checkout.paymentMethods[0]", "checkout.paymentTolerance"],
        ),
        (
            json!({"amount": "1", "checkout": {"speedPolicy": "Warp"}}),
            vec!["checkout.speedPolicy"],
        ),
    ] {
        let reply = shop.php(Method::POST, create_path, Some(&body)).await;
        assert_eq!(reply.status, 422, "{body}: {}", reply.body);
        assert_route(route, &reply, Some("ValidationProblemDetails"));
        let got: Vec<&str> = reply
            .body
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["path"].as_str())
            .collect();
        assert_eq!(got, paths, "{body}");
    }
    // Not JSON: 415 and 400, worded as Greenfield.
    let url = format!("{}/api/v1/stores/{}/invoices", shop.app.base, shop.store_id);
    let reply = shop
        .app
        .client
        .post(&url)
        .insert_header(("Authorization", token(&shop.key)))
        .insert_header(("Content-Type", "text/plain"))
        .send_body("amount=1")
        .await
        .expect("send");
    assert_eq!(reply.status().as_u16(), 415);
    let reply = send(
        &shop.app.client,
        Method::POST,
        &url,
        Some(&token(&shop.key)),
        Some(b"{".to_vec()),
    )
    .await;
    assert_eq!((reply.status, reply.body["code"].clone()), (400, json!("invalid-json")));

    assert_eq!(shop.app.snapshot(), before, "no refusal stored anything");
}

#[actix_rt::test]
async fn the_clients_requests_are_taken_and_bchpays_own_routes_are_unchanged() {
    let shop = Shop::open().await;
    // node: no Content-Type on a GET, gzip accepted.
    let url = format!("{}/api/v1/stores/{}", shop.app.base, shop.store_id);
    let mut node = shop
        .app
        .client
        .get(&url)
        .insert_header(("Accept", "application/json"))
        .insert_header(("Accept-Encoding", "gzip,deflate"))
        .insert_header(("Authorization", token(&shop.key)))
        .send()
        .await
        .expect("node-style GET");
    assert_eq!(node.status().as_u16(), 200);
    let ctype = node
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(ctype.is_some_and(|c| c.starts_with("application/json")));
    let body: Value = node.json().await.expect("json");
    assert_eq!(body["id"], shop.store_id.as_str());
    // libcurl's `Expect: 100-continue` on a larger POST.
    let created = shop
        .app
        .client
        .post(format!("{}/api/v1/stores/{}/invoices", shop.app.base, shop.store_id))
        .insert_header(("Authorization", token(&shop.key)))
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("Expect", "100-continue"))
        .send_body(json!({"amount": "0.001", "currency": "BCH"}).to_string())
        .await
        .expect("POST with Expect");
    assert_eq!(created.status().as_u16(), 200);

    // bchpay's own routes keep their words: 415, 404 with a trailing slash, 401.
    let reply = shop.app.post_raw(b"amount=1".to_vec(), Some(&bearer(API_KEY))).await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body["error"]["code"].is_string(), "{}", reply.body);
    let own = shop
        .app
        .client
        .post(format!("{}/api/v1/invoices", shop.app.base))
        .insert_header(("Authorization", bearer(API_KEY)))
        .insert_header(("Content-Type", "text/plain"))
        .send_body("{}")
        .await
        .expect("bchpay POST");
    assert_eq!(own.status().as_u16(), 415);
    let reply = shop.app.get("/api/v1/invoices/").await;
    assert_error(&reply, 404, "not_found", None);
    let reply = shop.app.get_with("/api/v1/invoices", None).await;
    assert_error(&reply, 401, "unauthorized", None);
}

/// A body a Greenfield JSON row takes.
fn valid_body(route: &bchpay::http::routes::ApiRoute) -> Value {
    match route.path {
        "/stores/{storeId}/invoices" => json!({"amount": "0.001", "currency": "BCH"}),
        "/stores/{storeId}/invoices/{invoiceId}/status" => json!({"status": "Invalid"}),
        p if p.contains("webhooks") => json!({"url": "https://shop.example/hook", "enabled": true}),
        _ => json!({}),
    }
}

#[actix_rt::test]
async fn every_greenfield_row_answers_401_403_415_400_in_greenfield_words_or_opens() {
    use bchpay::api_key::Permission;
    use bchpay::http::routes::{Body, ErrorShape, API_V1};

    let shop = Shop::open().await;
    let invoice = shop.create(&json!({"amount": "0.001", "currency": "BCH"})).await;
    let invoice_id = invoice["id"].as_str().expect("id").to_owned();
    let rows: Vec<_> = API_V1.iter().filter(|r| r.errors == ErrorShape::Greenfield).collect();
    assert!(rows.len() >= 9, "the Greenfield rows are in the table");
    let path_of = |route: &bchpay::http::routes::ApiRoute| {
        route
            .full_path()
            .replace("{storeId}", &shop.store_id)
            .replace("{invoiceId}", &invoice_id)
            .replace("{webhookId}", "wh_unknown")
            .replace("{deliveryId}", "del_unknown")
    };
    let call =
        |route: &'static bchpay::http::routes::ApiRoute, auth: Option<String>, ctype: &'static str, body: Vec<u8>| {
            let url = format!("{}{}", shop.app.base, path_of(route));
            let client = shop.app.client.clone();
            async move {
                let mut request = client
                    .request(route.verb.method(), &url)
                    .insert_header(("Content-Type", ctype));
                if let Some(auth) = auth {
                    request = request.insert_header(("Authorization", auth));
                }
                let mut response = request.send_body(body).await.unwrap_or_else(|e| panic!("{url}: {e}"));
                let bytes = response.body().await.unwrap_or_default();
                (
                    response.status().as_u16(),
                    serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
                )
            }
        };
    let unauthenticated =
        json!({"code": "unauthenticated", "message": "Authentication is required for accessing this endpoint"});
    let before = shop.app.snapshot();
    for route in &rows {
        let shown = format!("{} {}", route.verb.as_str(), route.path);
        let body = valid_body(route).to_string().into_bytes();
        for auth in [None, Some(token("wrong-key-000000")), Some(bearer("wrong-key-000000"))] {
            let got = call(route, auth.clone(), "application/json", body.clone()).await;
            assert_eq!(got, (401, unauthenticated.clone()), "{shown} with {auth:?}");
        }
        if let Some(needed) = route.permission {
            let others: Vec<&str> = Permission::ALL
                .iter()
                .filter(|p| **p != needed && **p != Permission::Unrestricted)
                .map(|p| p.as_str())
                .collect();
            let lacking = make_key(&shop.app, &others).await;
            let (status, answer) = call(route, Some(token(&lacking)), "application/json", body.clone()).await;
            assert_eq!(
                (status, &answer["code"]),
                (403, &json!("missing-permission")),
                "{shown}: {answer}"
            );
            assert_eq!(answer["missingPermission"], needed.as_str(), "{shown}");
        }
        if route.body == Body::Json {
            let got = call(route, Some(token(&shop.key)), "text/plain", body.clone()).await;
            assert_eq!(
                (got.0, &got.1["code"]),
                (415, &json!("unsupported-media-type")),
                "{shown}"
            );
            let repeated =
                br#"{"status":"Invalid","status":"Settled","amount":"1","url":"https://a.example/"}"#.to_vec();
            let got = call(route, Some(token(&shop.key)), "application/json", repeated).await;
            assert_eq!(
                (got.0, &got.1["code"]),
                (400, &json!("invalid-json")),
                "{shown}: {}",
                got.1
            );
        }
    }
    assert_eq!(shop.app.snapshot(), before, "no refusal stored anything");
    // Opened by a key holding that permission alone (any key for the two that need none).
    for route in &rows {
        let only = route.permission.unwrap_or(Permission::CanViewInvoices);
        let key = make_key(&shop.app, &[only.as_str()]).await;
        let (status, answer) = call(
            route,
            Some(token(&key)),
            "application/json",
            valid_body(route).to_string().into_bytes(),
        )
        .await;
        assert!(
            ![401, 403, 405, 415].contains(&status) && status < 500,
            "{} {} with {only}: {status} {answer}",
            route.verb.as_str(),
            route.path
        );
    }
}

#[actix_rt::test]
async fn marking_by_hand_and_the_plugins_retry_of_the_same_order() {
    let shop = Shop::open().await;
    let body = plugin_create_body("0.001", "BCH");
    let first = shop.create(&body).await;
    let id = first["id"].as_str().expect("id").to_owned();
    assert_eq!(
        first["availableStatusesForManualMarking"],
        json!(["Settled", "Invalid"])
    );
    let status_path = format!("/api/v1/stores/{{storeId}}/invoices/{id}/status");
    let route = "POST /api/v1/stores/{storeId}/invoices/{invoiceId}/status";

    // What the plugin sends when the customer picks another gateway.
    let marked = shop
        .php(Method::POST, &status_path, Some(&json!({"status": "Invalid"})))
        .await;
    assert_eq!(marked.status, 200, "{}", marked.body);
    assert_route(route, &marked, None);
    assert_eq!(
        (
            marked.body["id"].clone(),
            marked.body["status"].clone(),
            marked.body["additionalStatus"].clone()
        ),
        (json!(id), json!("Invalid"), json!("Marked"))
    );
    assert_eq!(marked.body["availableStatusesForManualMarking"], json!(["Settled"]));
    // Invalid again: BTCPay's rule refuses it, at `status`.
    let again = shop
        .php(Method::POST, &status_path, Some(&json!({"status": "Invalid"})))
        .await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert_route(route, &again, Some("ValidationProblemDetails"));
    assert_eq!(again.body[0]["path"], "status");
    for bad in [json!({"status": "Paid"}), json!({}), json!({"status": 1})] {
        let reply = shop.php(Method::POST, &status_path, Some(&bad)).await;
        assert_eq!(
            (reply.status, reply.body[0]["path"].clone()),
            (422, json!("status")),
            "{bad}"
        );
    }
    let unknown = shop
        .php(
            Method::POST,
            "/api/v1/stores/{storeId}/invoices/inv_00000000000000000000000000/status",
            Some(&json!({"status": "Settled"})),
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.body["code"].clone()),
        (404, json!("invoice-not-found"))
    );

    // The plugin creates again for the same order and amount: a new invoice
    // (decision 2), which the order id now points to.
    let second = shop.create(&body).await;
    let second_id = second["id"].as_str().expect("id").to_owned();
    assert_ne!(second_id, id);
    assert_eq!(second["status"], "New");
    assert_eq!(
        shop.create(&body).await["id"],
        second_id.as_str(),
        "a live invoice is handed back"
    );
    let listed = shop
        .php(Method::GET, "/api/v1/stores/{storeId}/invoices?orderId=42", None)
        .await;
    let mut ids: Vec<&str> = listed
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str())
        .collect();
    ids.sort();
    let mut both = vec![id.as_str(), second_id.as_str()];
    both.sort();
    assert_eq!(ids, both, "both invoices of the order are listed");

    // Settled by hand from Invalid; then nothing more can be marked Settled.
    let settled = shop
        .php(Method::POST, &status_path, Some(&json!({"status": "Settled"})))
        .await;
    assert_eq!(settled.status, 200, "{}", settled.body);
    assert_route(route, &settled, None);
    assert_eq!(
        (settled.body["status"].clone(), settled.body["additionalStatus"].clone()),
        (json!("Settled"), json!("Marked"))
    );
    assert_eq!(settled.body["availableStatusesForManualMarking"], json!(["Invalid"]));
}

#[actix_rt::test]
async fn the_store_id_is_made_once_and_kept_across_restarts_of_the_binary() {
    let sim = bchpay::sim::Sim::start(bchpay::sim::SimConfig::default())
        .await
        .expect("simulator");
    let config = |extra: &str| {
        format!(
            "{}[api]\nkeys = [\"{API_KEY}\"]\n{extra}",
            wallet_config(&sim.url(), "", 5)
        )
    };
    let client = client();
    let store_id = |base: String| {
        let client = client.clone();
        async move {
            let reply = send(
                &client,
                Method::GET,
                &format!("{base}/api/v1/stores"),
                Some(&token(API_KEY)),
                None,
            )
            .await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.body[0]["id"].as_str().expect("a store id").to_owned()
        }
    };
    let mut engine = Engine::spawn(&config(""), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    let first = store_id(engine.base.clone()).await;
    assert!(
        (1..=64).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{first}"
    );
    engine.terminate(Duration::from_secs(10));
    let mut engine = Engine::spawn_in(engine.into_dir(), &config(""), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    assert_eq!(store_id(engine.base.clone()).await, first, "kept in the store");
    // A configured id wins.
    engine.terminate(Duration::from_secs(10));
    let engine = Engine::spawn_in(engine.into_dir(), &config("[greenfield]\nstore_id = \"shop-1\"\n"), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    assert_eq!(store_id(engine.base.clone()).await, "shop-1");
}
