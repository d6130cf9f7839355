//! The invoice API of api.md (issue 3): what a shop sends is accepted and
//! echoed, the invoice has the documented shape, invoices are read back one by
//! one and listed page by page, an order id makes creation idempotent, and
//! every `/api/v1` route wants the key.

use std::collections::HashSet;
use std::time::Duration;

use crate::helpers::*;
use bchpay::invoice::InvoiceId;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// A time of the API: RFC 3339 in UTC with a `Z`.
#[track_caller]
fn api_time(invoice: &Value, key: &str) -> DateTime<Utc> {
    let text = invoice[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string: {invoice}"));
    assert!(text.ends_with('Z'), "{key} = {text} is not in UTC with a Z");
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{key} = {text} is not RFC 3339: {e}"))
        .with_timezone(&Utc)
}

/// Seconds from `created_at` to `expires_at`.
fn lifetime_secs(invoice: &Value) -> i64 {
    (api_time(invoice, "expires_at") - api_time(invoice, "created_at")).num_seconds()
}

/// Creates `n` invoices one after the other, each in a later millisecond than
/// the one before (so that "newest first" has one right answer); their ids in
/// creation order.
async fn create_in_order(app: &TestApp, n: usize, body: impl Fn(usize) -> Value) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let invoice = app.create_ok(&body(i)).await;
        let id = invoice["id"].as_str().unwrap().to_owned();
        let stored = app
            .reader
            .invoice(&InvoiceId::parse(&id).unwrap())
            .unwrap()
            .expect("a created invoice is stored");
        eventually(
            "the clock to pass the last creation",
            Duration::from_secs(1),
            || async { (Utc::now().timestamp_millis() > stored.created_at.timestamp_millis()).then_some(()) },
        )
        .await;
        ids.push(id);
    }
    ids
}

/// The ids of a list answer.
fn ids_of(list: &Value) -> Vec<String> {
    list["invoices"]
        .as_array()
        .unwrap_or_else(|| panic!("no invoices array: {list}"))
        .iter()
        .map(|inv| inv["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_rt::test]
async fn a_bch_amount_gets_a_new_invoice_of_the_shape_of_api_md() {
    let app = TestApp::spawn().await;

    let reply = app.create(&json!({"amount": "0.0007"})).await;

    assert_eq!(reply.status, 201, "{}", reply.body);
    let inv = &reply.body;
    let id = inv["id"].as_str().unwrap();
    let digits = id.strip_prefix("inv_").expect("id starts with inv_");
    assert!(
        digits.len() >= 22 && digits.chars().all(|c| c.is_ascii_alphanumeric()),
        "id {id} is not inv_ + at least 22 base62 digits"
    );
    assert_eq!(inv["status"], "new");
    assert_eq!(inv["exception"], Value::Null);
    assert_eq!(inv["amount"], "0.0007");
    assert_eq!(inv["amount_sats"], 70_000);
    assert_eq!(inv["received"], "0");
    assert_eq!(inv["received_sats"], 0);
    let address = inv["address"].as_str().unwrap();
    assert!(address.starts_with("bchreg:q"), "address {address}");
    let parsed = bchpay::cashaddr::Address::parse(address).expect("a valid cashaddr");
    assert_eq!(parsed.prefix(), "bchreg");
    assert_eq!(inv["payment_uri"], format!("{address}?amount=0.0007"));
    assert_eq!(inv["checkout_url"], format!("{PUBLIC_URL}/i/{id}"));
    assert_eq!(inv["order_id"], Value::Null);
    assert_eq!(inv["description"], Value::Null);
    assert_eq!(inv["required_confirmations"], 1, "the configuration's default");
    assert_eq!(inv["confirmations"], 0);
    assert_eq!(inv["payments"], json!([]));
    let created = api_time(inv, "created_at");
    assert!(
        (Utc::now() - created).num_seconds().abs() <= 5,
        "created_at {created} is not now"
    );
    assert_eq!(lifetime_secs(inv), 900, "the configuration's default expiry");
    assert_eq!(inv["paid_at"], Value::Null);
    assert_eq!(inv["confirmed_at"], Value::Null);
    for key in [
        "metadata",
        "paid_at",
        "confirmed_at",
        "exception",
        "order_id",
        "description",
    ] {
        assert!(inv.get(key).is_some(), "{key} is missing: {inv}");
    }
}

#[actix_rt::test]
async fn an_amount_in_satoshis_is_echoed_with_its_bch_string() {
    let app = TestApp::spawn().await;
    for (sats, bch) in [
        (70_000u64, "0.0007"),
        (1, "0.00000001"),
        (100_000_000, "1"),
        (123_456_789, "1.23456789"),
        (2_100_000_000_000_000, "21000000"),
    ] {
        let inv = app.create_ok(&json!({ "amount_sats": sats })).await;

        assert_eq!((&inv["amount"], &inv["amount_sats"]), (&json!(bch), &json!(sats)));
        assert_eq!(
            inv["payment_uri"],
            format!("{}?amount={bch}", inv["address"].as_str().unwrap())
        );
    }
}

#[actix_rt::test]
async fn a_bch_amount_is_echoed_with_its_satoshis() {
    let app = TestApp::spawn().await;
    for (bch, sats) in [
        ("0.00000001", 1u64),
        ("1.23456789", 123_456_789),
        ("21000000", 2_100_000_000_000_000),
    ] {
        let inv = app.create_ok(&json!({ "amount": bch })).await;

        assert_eq!((&inv["amount"], &inv["amount_sats"]), (&json!(bch), &json!(sats)));
    }
}

#[actix_rt::test]
async fn every_optional_field_is_accepted_and_echoed() {
    let app = TestApp::spawn().await;
    let metadata = json!({"cart": [{"sku": "G-1", "qty": 2}], "note": "짧은 메모", "n": 1.5, "ok": true, "none": null});

    let inv = app
        .create_ok(&json!({
            "amount": "0.5",
            "order_id": "A-1001",
            "description": "Gold membership",
            "webhook_url": "https://shop.example/hooks/bchpay",
            "redirect_url": "http://shop.example/thanks?order=A-1001",
            "expires_in_secs": 3600,
            "required_confirmations": 0,
            "metadata": metadata,
        }))
        .await;

    assert_eq!(inv["order_id"], "A-1001");
    assert_eq!(inv["description"], "Gold membership");
    assert_eq!(lifetime_secs(&inv), 3600);
    assert_eq!(inv["required_confirmations"], 0);
    assert_eq!(inv["metadata"], metadata);
    // The invoice JSON of api.md does not carry the URLs: they are kept for
    // the webhooks and the checkout page.
    let stored = app
        .reader
        .invoice(&InvoiceId::parse(inv["id"].as_str().unwrap()).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(stored.webhook_url.as_deref(), Some("https://shop.example/hooks/bchpay"));
    assert_eq!(
        stored.redirect_url.as_deref(),
        Some("http://shop.example/thanks?order=A-1001")
    );
    let inv = app
        .create_ok(&json!({"amount_sats": 1000, "required_confirmations": 6, "expires_in_secs": 60}))
        .await;
    assert_eq!(inv["required_confirmations"], 6);
    assert_eq!(lifetime_secs(&inv), 60);
}

#[actix_rt::test]
async fn expiry_and_confirmations_not_given_come_from_the_configuration() {
    let app = TestApp::spawn_with(|s| {
        s.payments.expiry_secs = 1234;
        s.payments.required_confirmations = 3;
    })
    .await;

    let inv = app.create_ok(&json!({"amount": "0.01"})).await;

    assert_eq!(lifetime_secs(&inv), 1234);
    assert_eq!(inv["required_confirmations"], 3);
}

#[actix_rt::test]
async fn an_invoice_is_read_back_by_its_id_as_it_was_created() {
    let app = TestApp::spawn().await;
    let created = app
        .create_ok(&json!({"amount": "0.0007", "order_id": "R-1", "metadata": {"k": "v"}}))
        .await;
    app.create_ok(&json!({"amount": "0.0008"})).await;

    let reply = app
        .get(&format!("/api/v1/invoices/{}", created["id"].as_str().unwrap()))
        .await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, created);
}

#[actix_rt::test]
async fn an_unknown_id_is_404_not_found() {
    let app = TestApp::spawn().await;
    app.create_ok(&json!({"amount": "0.0007"})).await;
    let unknown = InvoiceId::generate();

    let reply = app.get(&format!("/api/v1/invoices/{unknown}")).await;

    assert_error(&reply, 404, "not_found", None);
}

#[actix_rt::test]
async fn a_garbage_id_is_404_not_found() {
    let app = TestApp::spawn().await;
    let real = app.create_ok(&json!({"amount": "0.0007"})).await;
    let real = real["id"].as_str().unwrap();

    for garbage in [
        "nope".to_owned(),
        "inv_".to_owned(),
        "inv_short".to_owned(),
        format!("{real}0"),
        real.to_uppercase(),
        real.trim_start_matches("inv_").to_owned(),
        format!("inv_{}", "z".repeat(300)),
        "inv_%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21%21".to_owned(),
        "%00".to_owned(),
    ] {
        let reply = app.get(&format!("/api/v1/invoices/{garbage}")).await;

        assert_error(&reply, 404, "not_found", None);
    }
}

#[actix_rt::test]
async fn the_list_is_newest_first() {
    let app = TestApp::spawn().await;
    let ids = create_in_order(&app, 6, |i| json!({"amount_sats": 1000 + i})).await;

    let reply = app.get("/api/v1/invoices").await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    let newest_first: Vec<String> = ids.into_iter().rev().collect();
    assert_eq!(ids_of(&reply.body), newest_first);
    assert_eq!(reply.body["next_cursor"], Value::Null);
    assert_eq!(reply.body["invoices"][0]["amount_sats"], 1005);
}

#[actix_rt::test]
async fn the_list_filters_by_status() {
    let app = TestApp::spawn().await;
    let ids = create_in_order(&app, 4, |i| json!({"amount_sats": 1000 + i})).await;

    let new = app.get("/api/v1/invoices?status=new").await;
    let paid = app.get("/api/v1/invoices?status=paid").await;
    let expired = app.get("/api/v1/invoices?status=expired").await;

    assert_eq!(new.status, 200, "{}", new.body);
    assert_eq!(ids_of(&new.body), ids.into_iter().rev().collect::<Vec<_>>());
    assert_eq!((paid.status, ids_of(&paid.body)), (200, vec![]));
    assert_eq!((expired.status, ids_of(&expired.body)), (200, vec![]));
}

#[actix_rt::test]
async fn the_list_filters_by_order_id() {
    let app = TestApp::spawn().await;
    let ids = create_in_order(&app, 3, |i| json!({"amount": "0.1", "order_id": format!("ORD-{i}")})).await;
    app.create_ok(&json!({"amount": "0.1"})).await;

    let one = app.get("/api/v1/invoices?order_id=ORD-1").await;
    let none = app.get("/api/v1/invoices?order_id=ORD-9").await;
    let with_status = app.get("/api/v1/invoices?order_id=ORD-2&status=new").await;

    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(ids_of(&one.body), vec![ids[1].clone()]);
    assert_eq!(one.body["invoices"][0]["order_id"], "ORD-1");
    assert_eq!((none.status, ids_of(&none.body)), (200, vec![]));
    assert_eq!(ids_of(&with_status.body), vec![ids[2].clone()]);
}

#[actix_rt::test]
async fn limit_caps_a_page_and_next_cursor_says_there_is_more() {
    let app = TestApp::spawn().await;
    let ids = create_in_order(&app, 5, |i| json!({"amount_sats": 1000 + i})).await;

    let reply = app.get("/api/v1/invoices?limit=2").await;
    let all = app.get("/api/v1/invoices?limit=5").await;

    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(ids_of(&reply.body), vec![ids[4].clone(), ids[3].clone()]);
    assert!(
        reply.body["next_cursor"].as_str().is_some_and(|c| !c.is_empty()),
        "{}",
        reply.body
    );
    assert_eq!(ids_of(&all.body).len(), 5);
    assert_eq!(all.body["next_cursor"], Value::Null, "nothing after the last one");
}

#[actix_rt::test]
async fn following_next_cursor_visits_every_invoice_once_newest_first_and_ends_with_null() {
    let app = TestApp::spawn().await;
    let ids = create_in_order(&app, 23, |i| json!({"amount_sats": 1000 + i})).await;

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut path = "/api/v1/invoices?limit=5".to_owned();
    loop {
        let reply = app.get(&path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        let page = ids_of(&reply.body);
        assert!(page.len() <= 5, "a page of {}", page.len());
        seen.extend(page);
        pages += 1;
        assert!(pages <= 5, "more than 5 pages for 23 invoices at 5 a page");
        match &reply.body["next_cursor"] {
            Value::Null => break,
            Value::String(cursor) => path = format!("/api/v1/invoices?limit=5&cursor={cursor}"),
            other => panic!("next_cursor {other}"),
        }
    }

    assert_eq!(pages, 5);
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(distinct.len(), seen.len(), "an invoice shown twice");
    assert_eq!(seen, ids.into_iter().rev().collect::<Vec<_>>());
}

#[actix_rt::test]
async fn creating_again_with_the_same_order_id_and_amount_returns_the_same_invoice_with_200() {
    let app = TestApp::spawn().await;
    let body = json!({"amount": "0.0007", "order_id": "A-1001", "description": "Gold"});
    let first = app.create(&body).await;
    let before = app.snapshot();

    let again = app.create(&body).await;

    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(app.snapshot(), before, "a repeat stores nothing");
}

#[actix_rt::test]
async fn the_same_amount_given_in_satoshis_is_the_same_order() {
    let app = TestApp::spawn().await;
    let first = app.create_ok(&json!({"amount": "0.0007", "order_id": "A-7"})).await;

    let again = app.create(&json!({"amount_sats": 70_000, "order_id": "A-7"})).await;

    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["id"], first["id"]);
}

#[actix_rt::test]
async fn creating_again_with_the_same_order_id_and_another_amount_is_409_order_conflict() {
    let app = TestApp::spawn().await;
    let first = app.create_ok(&json!({"amount": "0.0007", "order_id": "A-1001"})).await;
    let before = app.snapshot();

    let other = app.create(&json!({"amount": "0.0008", "order_id": "A-1001"})).await;

    assert_error(&other, 409, "order_conflict", None);
    assert_eq!(app.snapshot(), before, "a conflict stores nothing");
    let listed = app.get("/api/v1/invoices?order_id=A-1001").await;
    assert_eq!(ids_of(&listed.body), vec![first["id"].as_str().unwrap().to_owned()]);
    assert_eq!(listed.body["invoices"][0]["amount"], "0.0007");
}

#[actix_rt::test]
async fn two_concurrent_creations_for_one_new_order_id_make_one_invoice_one_201_and_one_200() {
    let app = TestApp::spawn().await;
    let before = app.snapshot();
    let orders = 25;

    // 25 new order ids, each created twice at the same moment.
    let replies = futures_util::future::join_all((0..orders * 2).map(|i| {
        let body = json!({"amount": "0.01", "order_id": format!("RACE-{}", i / 2)});
        let app = &app;
        async move { (i / 2, app.create(&body).await) }
    }))
    .await;

    for order in 0..orders {
        let pair: Vec<&Reply> = replies.iter().filter(|(o, _)| *o == order).map(|(_, r)| r).collect();
        let mut statuses: Vec<u16> = pair.iter().map(|r| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            vec![200, 201],
            "RACE-{order}: {} / {}",
            pair[0].body,
            pair[1].body
        );
        assert_eq!(pair[0].body["id"], pair[1].body["id"], "RACE-{order}: two invoices");
        assert_eq!(pair[0].body["address"], pair[1].body["address"]);
    }
    let after = app.snapshot();
    assert_eq!(after.invoice_count, before.invoice_count + orders as u64);
    assert_eq!(after.ledger_len, before.ledger_len + orders);
}

#[actix_rt::test]
async fn a_request_without_a_key_is_401_on_every_api_route() {
    let app = TestApp::spawn().await;
    let inv = app
        .create_ok(&json!({"amount": "0.0007", "order_id": "SECRET-1"}))
        .await;
    let id = inv["id"].as_str().unwrap();

    let create = app.post_raw(br#"{"amount": "0.0007"}"#.to_vec(), None).await;
    let read = app.get_with(&format!("/api/v1/invoices/{id}"), None).await;
    let list = app.get_with("/api/v1/invoices", None).await;

    for reply in [&create, &read, &list] {
        assert_error(reply, 401, "unauthorized", None);
        assert!(!reply.body.to_string().contains("SECRET-1"), "{}", reply.body);
    }
}

#[actix_rt::test]
async fn a_wrong_key_is_401() {
    let app = TestApp::spawn().await;
    let inv = app.create_ok(&json!({"amount": "0.0007"})).await;
    let id = inv["id"].as_str().unwrap();

    for auth in [
        "Bearer wrong-key".to_owned(),
        "Bearer ".to_owned(),
        "Bearer".to_owned(),
        bearer(&API_KEY[..API_KEY.len() - 1]),
        bearer(&format!("{API_KEY}1")),
        bearer(&API_KEY.to_uppercase()),
        format!("Bearer  {API_KEY}x"),
        API_KEY.to_owned(),
    ] {
        let create = app.post_raw(br#"{"amount": "0.0007"}"#.to_vec(), Some(&auth)).await;
        let read = app.get_with(&format!("/api/v1/invoices/{id}"), Some(&auth)).await;
        let list = app.get_with("/api/v1/invoices", Some(&auth)).await;

        for reply in [&create, &read, &list] {
            assert!(reply.status == 401, "{auth:?} got {} {}", reply.status, reply.body);
            assert_error(reply, 401, "unauthorized", None);
        }
    }
}

#[actix_rt::test]
async fn the_basic_scheme_is_401_even_with_the_right_key() {
    use base64::Engine as _;
    let app = TestApp::spawn().await;
    let b64 = base64::engine::general_purpose::STANDARD;

    for auth in [
        format!("Basic {API_KEY}"),
        format!("Basic {}", b64.encode(format!("{API_KEY}:"))),
        format!("Basic {}", b64.encode(format!(":{API_KEY}"))),
    ] {
        let reply = app.post_raw(br#"{"amount": "0.0007"}"#.to_vec(), Some(&auth)).await;

        assert_error(&reply, 401, "unauthorized", None);
    }
    assert_eq!(app.snapshot().invoice_count, 0);
}

#[actix_rt::test]
async fn keys_from_bchpay_api_keys_win_over_those_of_the_file() {
    let sim = bchpay::sim::Sim::start(bchpay::sim::SimConfig::default())
        .await
        .unwrap();
    let config = format!(
        "[api]\nkeys = [\"key-from-the-file\"]\n{}",
        wallet_config(&sim.url(), "", 5)
    );
    let engine = Engine::spawn(&config, &[("BCHPAY_API_KEYS", "env-key-one, env-key-two")]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(3)).await;
    let client = client();
    let url = format!("{}/api/v1/invoices", engine.base);
    let post = |key: &str| {
        let auth = bearer(key);
        let (client, url) = (&client, &url);
        async move {
            send(
                client,
                awc::http::Method::POST,
                url,
                Some(&auth),
                Some(br#"{"amount": "0.0007"}"#.to_vec()),
            )
            .await
        }
    };

    let one = post("env-key-one").await;
    let two = post("env-key-two").await;
    let file = post("key-from-the-file").await;

    assert_eq!(one.status, 201, "{}", one.body);
    assert_eq!(two.status, 201, "{}", two.body);
    assert_error(&file, 401, "unauthorized", None);
    let output = engine.output();
    for key in ["env-key-one", "env-key-two", "key-from-the-file"] {
        assert!(!output.contains(key), "{key} reached the log");
    }
}
