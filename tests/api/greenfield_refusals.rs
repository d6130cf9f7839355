//! BTCPay Greenfield compatibility (issue 14): refusals in Greenfield's
//! shapes (401 `unauthenticated`, 403 `missing-permission`, 404 codes, 415,
//! 400 `invalid-json`, 422 arrays with JSON paths) on every Greenfield row of
//! the table, nothing stored by any of them; the requests the three clients
//! really send taken; bchpay's own routes unchanged.

use awc::http::Method;
use serde_json::{json, Value};

use crate::helpers::greenfield::*;
use crate::helpers::*;

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
