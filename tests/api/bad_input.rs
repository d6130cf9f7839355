//! Bad input to `POST /api/v1/invoices` (issue 3): one test per rule of
//! api.md, each checking the status, the stable code, the field at fault, and
//! that the store is exactly as it was (invoices, pool, address ledger).

use crate::helpers::*;
use serde_json::{json, Value};

/// A settled engine: wallet up, pool full, so nothing moves unless a request moves it.
async fn settled() -> TestApp {
    TestApp::spawn().await
}

/// Sends `body` (raw bytes) with `auth`; asserts the error and an unchanged store.
async fn assert_rejected_raw(
    app: &TestApp,
    body: Vec<u8>,
    auth: Option<&str>,
    status: u16,
    code: &str,
    field: Option<&str>,
) {
    let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    let before = app.snapshot();

    let reply = app.post_raw(body, auth).await;

    assert!(
        reply.status == status && reply.body["error"]["code"] == code,
        "{shown}: expected {status} {code}, got {} {}",
        reply.status,
        reply.body
    );
    assert_error(&reply, status, code, field);
    assert_eq!(app.snapshot(), before, "{shown} changed the store");
}

/// Sends `body` with the right key; asserts a 400 with `code` (and `field`) and an unchanged store.
async fn assert_rejected(app: &TestApp, body: Value, code: &str, field: Option<&str>) {
    assert_rejected_raw(
        app,
        body.to_string().into_bytes(),
        Some(&bearer(API_KEY)),
        400,
        code,
        field,
    )
    .await;
}

/// Sends raw bytes with the right key; asserts a 400 with `code` and an unchanged store.
async fn assert_rejected_bytes(app: &TestApp, body: &[u8], code: &str) {
    assert_rejected_raw(app, body.to_vec(), Some(&bearer(API_KEY)), 400, code, None).await;
}

#[actix_rt::test]
async fn malformed_json_is_invalid_json() {
    let app = settled().await;
    for body in [
        &br#"{"amount": "0.1""#[..],
        br#"{"amount": "0.1",}"#,
        br#"{amount: "0.1"}"#,
        br#"{'amount': '0.1'}"#,
        b"",
        b"amount=0.1",
        b"\xff\xfe{}",
        br#"{"amount": "0.1"} {"amount": "0.2"}"#,
    ] {
        assert_rejected_bytes(&app, body, "invalid_json").await;
    }
}

#[actix_rt::test]
async fn json_that_is_not_an_object_is_invalid_json() {
    let app = settled().await;
    for body in [&br#"["amount", "0.1"]"#[..], br#""0.1""#, b"0.1", b"null", b"true"] {
        assert_rejected_bytes(&app, body, "invalid_json").await;
    }
}

#[actix_rt::test]
async fn an_amount_of_the_wrong_type_is_invalid_amount() {
    let app = settled().await;
    for amount in [
        json!(0.0007),
        json!(1),
        json!(true),
        json!(["0.1"]),
        json!({"bch": "0.1"}),
    ] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
    for sats in [json!("70000"), json!(1.5), json!(70000.0), json!(true), json!([1])] {
        assert_rejected(
            &app,
            json!({ "amount_sats": sats }),
            "invalid_amount",
            Some("amount_sats"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn both_amounts_are_ambiguous_amount() {
    let app = settled().await;
    assert_rejected(
        &app,
        json!({"amount": "0.0007", "amount_sats": 70000}),
        "ambiguous_amount",
        None,
    )
    .await;
}

#[actix_rt::test]
async fn neither_amount_is_missing_amount() {
    let app = settled().await;
    assert_rejected(&app, json!({}), "missing_amount", None).await;
    assert_rejected(
        &app,
        json!({"order_id": "A-1", "description": "no amount"}),
        "missing_amount",
        None,
    )
    .await;
}

#[actix_rt::test]
async fn a_zero_amount_is_invalid_amount() {
    let app = settled().await;
    for amount in ["0", "0.0", "0.00000000", "00"] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
    assert_rejected(&app, json!({"amount_sats": 0}), "invalid_amount", Some("amount_sats")).await;
}

#[actix_rt::test]
async fn a_negative_amount_is_invalid_amount() {
    let app = settled().await;
    for amount in ["-1", "-0.0007"] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
    assert_rejected(&app, json!({"amount_sats": -1}), "invalid_amount", Some("amount_sats")).await;
}

#[actix_rt::test]
async fn an_amount_with_an_exponent_is_invalid_amount() {
    let app = settled().await;
    for amount in ["1e-3", "1E3", "7e4", "0.7e-3"] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
}

#[actix_rt::test]
async fn an_amount_with_more_than_8_decimals_is_invalid_amount() {
    let app = settled().await;
    for amount in ["0.000000001", "1.123456789", "0.000700000"] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
}

#[actix_rt::test]
async fn an_amount_with_whitespace_is_invalid_amount() {
    let app = settled().await;
    for amount in [" 1", "1 ", "0. 1", "\t1", "1\n"] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
}

#[actix_rt::test]
async fn an_amount_that_is_not_a_plain_decimal_is_invalid_amount() {
    let app = settled().await;
    for amount in ["1.", "+1", "", "0x10", "1,5", "1.2.3", "NaN", "inf", "one", "１"] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
}

#[actix_rt::test]
async fn an_amount_over_21_million_bch_is_invalid_amount() {
    let app = settled().await;
    for amount in ["21000001", "21000000.00000001", "99999999999999999999999"] {
        assert_rejected(&app, json!({ "amount": amount }), "invalid_amount", Some("amount")).await;
    }
}

#[actix_rt::test]
async fn an_amount_in_satoshis_over_the_coin_supply_is_invalid_amount() {
    let app = settled().await;
    for sats in [json!(2_100_000_000_000_001u64), json!(u64::MAX), json!(1e30)] {
        assert_rejected(
            &app,
            json!({ "amount_sats": sats }),
            "invalid_amount",
            Some("amount_sats"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn a_bad_order_id_is_invalid_order_id() {
    let app = settled().await;
    for order_id in [
        json!("x".repeat(129)),
        json!(""),
        json!(1001),
        json!(["A-1"]),
        json!({"id": 1}),
    ] {
        assert_rejected(
            &app,
            json!({"amount": "0.1", "order_id": order_id}),
            "invalid_order_id",
            Some("order_id"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn a_bad_description_is_invalid_description() {
    let app = settled().await;
    for description in [
        json!("d".repeat(1001)),
        json!("한".repeat(1001)),
        json!(42),
        json!(["d"]),
    ] {
        assert_rejected(
            &app,
            json!({"amount": "0.1", "description": description}),
            "invalid_description",
            Some("description"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn a_webhook_url_that_is_not_http_is_invalid_url() {
    let app = settled().await;
    for url in [
        json!("ftp://shop.example/hook"),
        json!("javascript:alert(1)"),
        json!("file:///etc/passwd"),
        json!("not a url"),
        json!("http://"),
        json!("shop.example/hook"),
        json!(""),
        json!(80),
    ] {
        assert_rejected(
            &app,
            json!({"amount": "0.1", "webhook_url": url}),
            "invalid_url",
            Some("webhook_url"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn a_redirect_url_that_is_not_http_is_invalid_url() {
    let app = settled().await;
    for url in [
        json!("javascript:alert(document.cookie)"),
        json!("data:text/html,<script>alert(1)</script>"),
        json!("mailto:shop@example.com"),
        json!("//shop.example/thanks"),
        json!(""),
        json!(true),
    ] {
        assert_rejected(
            &app,
            json!({"amount": "0.1", "redirect_url": url}),
            "invalid_url",
            Some("redirect_url"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn an_expiry_outside_60_to_604800_seconds_or_not_an_integer_is_invalid_expiry() {
    let app = settled().await;
    for secs in [
        json!(59),
        json!(0),
        json!(-60),
        json!(604_801),
        json!(3600.5),
        json!("3600"),
        json!(1e20),
    ] {
        assert_rejected(
            &app,
            json!({"amount": "0.1", "expires_in_secs": secs}),
            "invalid_expiry",
            Some("expires_in_secs"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn confirmations_outside_0_to_100_are_invalid_confirmations() {
    let app = settled().await;
    for n in [json!(101), json!(-1), json!(4_294_967_297u64), json!(1.5), json!("1")] {
        assert_rejected(
            &app,
            json!({"amount": "0.1", "required_confirmations": n}),
            "invalid_confirmations",
            Some("required_confirmations"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn metadata_that_is_not_an_object_is_invalid_metadata() {
    let app = settled().await;
    for metadata in [json!([1, 2]), json!("order A-1"), json!(5), json!(true)] {
        assert_rejected(
            &app,
            json!({"amount": "0.1", "metadata": metadata}),
            "invalid_metadata",
            Some("metadata"),
        )
        .await;
    }
}

#[actix_rt::test]
async fn metadata_over_16_kib_is_invalid_metadata() {
    let app = settled().await;
    // {"k":"…"} serialized is 16 KiB + 1 byte; the whole body stays far under 64 KiB.
    let metadata = json!({ "k": "m".repeat(16 * 1024 - 7) });
    assert_eq!(metadata.to_string().len(), 16 * 1024 + 1);

    assert_rejected(
        &app,
        json!({"amount": "0.1", "metadata": metadata}),
        "invalid_metadata",
        Some("metadata"),
    )
    .await;
}

#[actix_rt::test]
async fn an_unknown_field_is_unknown_field_naming_it() {
    let app = settled().await;
    assert_rejected(
        &app,
        json!({"amount": "0.1", "amout_sats": 5}),
        "unknown_field",
        Some("amout_sats"),
    )
    .await;
    assert_rejected(
        &app,
        json!({"amount": "0.1", "webhookUrl": "https://shop.example/hook"}),
        "unknown_field",
        Some("webhookUrl"),
    )
    .await;
}

#[actix_rt::test]
async fn a_body_over_64_kib_is_413_payload_too_large() {
    let app = settled().await;
    // Valid JSON padded with whitespace to one byte over 64 KiB.
    let mut body = br#"{"amount": "0.1"}"#.to_vec();
    body.resize(64 * 1024 + 1, b' ');

    assert_rejected_raw(&app, body, Some(&bearer(API_KEY)), 413, "payload_too_large", None).await;

    let mut big = br#"{"amount": "0.1", "description": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'd', 1024 * 1024));
    big.extend(br#""}"#);
    assert_rejected_raw(&app, big, Some(&bearer(API_KEY)), 413, "payload_too_large", None).await;
}

#[actix_rt::test]
async fn no_api_key_is_401_unauthorized() {
    let app = settled().await;
    assert_rejected_raw(&app, br#"{"amount": "0.1"}"#.to_vec(), None, 401, "unauthorized", None).await;
}

#[actix_rt::test]
async fn a_wrong_api_key_is_401_unauthorized() {
    let app = settled().await;
    for auth in [bearer("not-the-key"), format!("Basic {API_KEY}")] {
        assert_rejected_raw(
            &app,
            br#"{"amount": "0.1"}"#.to_vec(),
            Some(&auth),
            401,
            "unauthorized",
            None,
        )
        .await;
    }
}

#[actix_rt::test]
async fn a_bad_list_query_is_invalid_query_naming_the_parameter() {
    let app = settled().await;
    app.create_ok(&json!({"amount": "0.1"})).await;
    for (query, field) in [
        ("status=bogus", "status"),
        ("status=NEW", "status"),
        ("limit=501", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=00", "cursor"),
        ("colour=blue", "colour"),
    ] {
        let reply = app.get(&format!("/api/v1/invoices?{query}")).await;

        assert!(reply.status == 400, "{query}: got {} {}", reply.status, reply.body);
        assert_error(&reply, 400, "invalid_query", Some(field));
    }
}

#[actix_rt::test]
async fn the_limits_themselves_are_accepted() {
    let app = settled().await;
    let mut exactly_64_kib = br#"{"amount": "0.1"}"#.to_vec();
    exactly_64_kib.resize(64 * 1024, b' ');
    let metadata = json!({ "k": "m".repeat(16 * 1024 - 8) });
    assert_eq!(metadata.to_string().len(), 16 * 1024);

    for body in [
        json!({"amount": "21000000"}),
        json!({"amount": "0.00000001"}),
        json!({"amount_sats": 2_100_000_000_000_000u64}),
        json!({"amount_sats": 1}),
        json!({"amount": "0.1", "order_id": "o".repeat(128)}),
        json!({"amount": "0.1", "description": "d".repeat(1000)}),
        json!({"amount": "0.1", "expires_in_secs": 60}),
        json!({"amount": "0.1", "expires_in_secs": 604_800}),
        json!({"amount": "0.1", "required_confirmations": 0}),
        json!({"amount": "0.1", "required_confirmations": 100}),
        json!({"amount": "0.1", "metadata": metadata}),
        json!({"amount": "0.1", "metadata": {}}),
        json!({"amount": "0.1", "webhook_url": "http://shop.example:8080/hook", "redirect_url": "https://shop.example"}),
    ] {
        let reply = app.create(&body).await;
        let shown: String = body.to_string().chars().take(120).collect();
        assert_eq!(reply.status, 201, "{shown}: {}", reply.body);
    }
    let reply = app.post_raw(exactly_64_kib, Some(&bearer(API_KEY))).await;
    assert_eq!(reply.status, 201, "a body of exactly 64 KiB: {}", reply.body);
}

#[actix_rt::test]
async fn the_length_limits_count_characters_not_bytes() {
    let app = settled().await;
    // The checkout page is Korean and English: a Korean description of 1000
    // characters (3000 bytes of UTF-8) is within "string ≤ 1000".
    for body in [
        json!({"amount": "0.1", "order_id": "주문".repeat(64)}),
        json!({"amount": "0.1", "description": "한".repeat(1000)}),
    ] {
        let reply = app.create(&body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
}
