//! Request bodies two JSON parsers could read differently are refused, on
//! every route of the `/api/v1` table: a body not sent as `application/json`
//! is `415 unsupported_media_type`; a key repeated anywhere in the JSON is
//! `400 invalid_json`; and nothing is stored.

use std::time::Duration;

use crate::helpers::raw_http::{exchange, request, RawReply};
use crate::helpers::*;
use bchpay::http::routes::{ApiRoute, Body, ErrorShape};

/// bchpay's own rows of the table (Greenfield's refuse in Greenfield's
/// shapes: tests/api/greenfield.rs checks those).
fn own_rows() -> impl Iterator<Item = &'static ApiRoute> {
    bchpay::http::routes::API_V1
        .iter()
        .filter(|r| r.errors == ErrorShape::Bchpay)
}
use serde_json::Value;

/// Sends `method path` with these headers and body, off the runtime.
async fn raw(app: &TestApp, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> RawReply {
    let auth = bearer(API_KEY);
    let mut headers = vec![("Authorization", auth.as_str())];
    if let Some(ct) = content_type {
        headers.push(("Content-Type", ct));
    }
    let bytes = request(method, path, &headers, Some(body));
    let base = app.base.clone();
    actix_rt::task::spawn_blocking(move || exchange(&base, &bytes, Duration::from_secs(5)))
        .await
        .expect("the raw client's thread")
        .expect("an answer")
}

/// A body the route takes.
fn valid_body(route: &ApiRoute) -> &'static str {
    match route.path {
        "/invoices" => r#"{"amount_sats":5000}"#,
        "/api-keys" => r#"{"label":"shop","permissions":["btcpay.store.canviewinvoices"]}"#,
        other => panic!("{other}: a JSON route this test does not know"),
    }
}

/// A route's path with its parameters filled with something (the body is refused first).
fn some_path(route: &ApiRoute) -> String {
    route.full_path().replace("{id}", "inv_0000000000000000000001")
}

/// What must not move: invoices, pool, ledger, keys.
async fn stored(app: &TestApp) -> (StoreSnapshot, Value) {
    (app.snapshot(), app.get("/api/v1/api-keys").await.body)
}

#[track_caller]
fn assert_code(reply: &RawReply, status: u16, code: &str, what: &str) {
    assert_eq!(
        (reply.status, reply.json()["error"]["code"].as_str()),
        (status, Some(code)),
        "{what}: {}",
        reply.text()
    );
}

#[actix_rt::test]
async fn a_body_not_sent_as_json_is_415_on_every_route() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    for route in own_rows() {
        let method = route.verb.as_str();
        let path = some_path(route);
        let body = match route.body {
            Body::Json => valid_body(route),
            Body::None => "{}",
        };
        let mut types = vec![
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/jsonx"),
            Some("text/json"),
        ];
        if route.body == Body::Json {
            types.push(None);
        }
        for ct in types {
            let reply = raw(&app, method, &path, ct, body.as_bytes()).await;
            assert_code(
                &reply,
                415,
                "unsupported_media_type",
                &format!("{method} {path} as {ct:?}"),
            );
        }
    }
    assert_eq!(stored(&app).await, before);
    // The right type, with a parameter or in capitals, is taken.
    for ct in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ] {
        for route in own_rows().filter(|r| r.body == Body::Json) {
            let reply = raw(
                &app,
                route.verb.as_str(),
                &some_path(route),
                Some(ct),
                valid_body(route).as_bytes(),
            )
            .await;
            assert_eq!(reply.status, 201, "{} as {ct}: {}", route.path, reply.text());
        }
    }
}

#[actix_rt::test]
async fn a_repeated_key_anywhere_in_the_json_is_400_invalid_json_on_every_json_route() {
    let app = TestApp::spawn().await;
    let before = stored(&app).await;
    let json_routes: Vec<&ApiRoute> = own_rows().filter(|r| r.body == Body::Json).collect();
    assert!(!json_routes.is_empty());
    for route in json_routes {
        let valid = valid_body(route);
        let first_field = &valid[1..valid.find(',').unwrap_or(valid.len() - 1)];
        let repeated = [
            // The route's own first field, twice (the same value, even).
            format!("{{{first_field},{}", &valid[1..]),
            // Deep inside.
            format!(
                "{},\"metadata\":{{\"a\":{{\"k\":1,\"k\":2}}}}}}",
                &valid[..valid.len() - 1]
            ),
            // In an array's object.
            format!(
                "{},\"metadata\":{{\"list\":[{{\"k\":1}},{{\"k\":1,\"k\":1}}]}}}}",
                &valid[..valid.len() - 1]
            ),
            // The same key, escaped differently.
            r#"{"k":1,"\u006b":2}"#.to_owned(),
        ];
        for body in repeated {
            let reply = raw(
                &app,
                route.verb.as_str(),
                &some_path(route),
                Some("application/json"),
                body.as_bytes(),
            )
            .await;
            assert_code(&reply, 400, "invalid_json", &format!("{} with {body}", route.path));
            assert!(
                reply.json()["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("repeated")),
                "{}",
                reply.text()
            );
        }
    }
    // The issue's own example.
    let reply = raw(
        &app,
        "POST",
        "/api/v1/invoices",
        Some("application/json"),
        br#"{"amount_sats":1000,"amount_sats":2000}"#,
    )
    .await;
    assert_code(&reply, 400, "invalid_json", "amount_sats twice");
    assert_eq!(stored(&app).await, before);
}
