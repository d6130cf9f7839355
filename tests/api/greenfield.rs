//! BTCPay Greenfield compatibility (issue 14): the routes the WooCommerce
//! plugin v2.8.0 calls, over raw HTTP as greenfield-php sends them, every
//! answer validated against BTCPay v2.4.1's swagger schemas (the harness:
//! `helpers::greenfield`). Refusals: `greenfield_refusals`.

use std::collections::BTreeSet;
use std::time::Duration;

use awc::http::Method;
use serde_json::{json, Value};

use crate::helpers::greenfield::*;
use crate::helpers::*;

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
