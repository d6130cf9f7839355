//! The overview, the invoices, one invoice and its redelivery, the keys.

use std::time::Duration;

use super::Dash;
use crate::helpers::receiver::Receiver;
use crate::helpers::*;
use serde_json::{json, Value};

#[actix_rt::test]
async fn the_overview_shows_the_wallet_balance_the_pool_and_invoices_by_status() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let inv = dash.app.create_ok(&json!({"amount": "0.0007"})).await;
    dash.app.sim.pay(inv["address"].as_str().unwrap(), 70_000).unwrap();
    dash.app.sim.mine(1);
    let page = eventually("the overview to show the balance", Duration::from_secs(5), || async {
        let page = dash.get("/dashboard", Some(&session)).await;
        page.text
            .contains(r#"<div class="big" id="balance-confirmed">0.0007 BCH</div>"#)
            .then_some(page)
    })
    .await;
    assert!(page.text.contains(r#"id="wallet-state">up</span>"#), "{}", page.text);
    assert!(page.text.contains("bchreg"));
    assert!(page.text.contains(r#"id="rates""#), "the rates panel");
    let confirmed = eventually("the invoice confirmed", Duration::from_secs(5), || async {
        let page = dash.get("/dashboard", Some(&session)).await;
        page.text.contains(r#"id="count-confirmed">1</td>"#).then_some(page)
    })
    .await;
    assert!(
        confirmed.text.contains(r#"id="count-new">0</td>"#),
        "{}",
        confirmed.text
    );
}

#[actix_rt::test]
async fn invoices_filter_by_status_find_by_id_order_address_and_txid_and_page() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let mut made = Vec::new();
    for n in 0..27 {
        made.push(
            dash.app
                .create_ok(&json!({"amount_sats": 1000 + n, "order_id": format!("A-{n}")}))
                .await,
        );
    }
    let paid = &made[3];
    let txid = dash.app.sim.pay(paid["address"].as_str().unwrap(), 1003).unwrap();
    let id = |i: &Value| i["id"].as_str().unwrap().to_owned();
    eventually("invoice A-3 paid", Duration::from_secs(5), || async {
        dash.app.get(&format!("/api/v1/invoices/{}", id(paid))).await.body["status"] == "paid"
    })
    .await;

    let first = dash.get("/dashboard/invoices", Some(&session)).await;
    assert_eq!(first.text.matches("class=\"mono invoice-link\"").count(), 25);
    assert!(
        first.text.contains(&id(&made[26])) && !first.text.contains(&id(&made[0])),
        "newest first"
    );
    let at = first.text.find(r#"id="next-page" href=""#).expect("a next page") + r#"id="next-page" href=""#.len();
    let next = first.text[at..].split('"').next().unwrap().replace("&amp;", "&");
    let second = dash.get(&next, Some(&session)).await;
    assert_eq!(second.text.matches("class=\"mono invoice-link\"").count(), 2, "{next}");
    assert!(second.text.contains(&id(&made[0])));

    let only_paid = dash.get("/dashboard/invoices?status=paid", Some(&session)).await;
    assert_eq!(only_paid.text.matches("class=\"mono invoice-link\"").count(), 1);
    assert!(only_paid.text.contains(&id(paid)));

    let address = paid["address"].as_str().unwrap();
    let bare = address.split(':').nth(1).unwrap();
    for q in [
        id(paid),
        "A-3".to_owned(),
        address.to_owned(),
        bare.to_owned(),
        txid.clone(),
    ] {
        let page = dash
            .get(&format!("/dashboard/invoices?q={}", urlencode(&q)), Some(&session))
            .await;
        assert_eq!(page.status, 200);
        assert_eq!(page.text.matches("class=\"mono invoice-link\"").count(), 1, "q={q}");
        assert!(page.text.contains(&id(paid)), "q={q}");
    }
    let none = dash
        .get("/dashboard/invoices?q=nothing-like-this", Some(&session))
        .await;
    assert!(none.text.contains(r#"id="no-invoices""#));
    assert_eq!(
        dash.get("/dashboard/invoices?status=bogus", Some(&session))
            .await
            .status,
        400
    );
    assert_eq!(
        dash.get("/dashboard/invoices?cursor=x", Some(&session)).await.status,
        400
    );
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[actix_rt::test]
async fn the_invoice_page_shows_payments_and_every_attempt_and_redelivers_a_failed_event() {
    let receiver = Receiver::up();
    receiver.answer(&[500]);
    receiver.answer_always(200);
    let dash = Dash::spawn_with(|s| {
        s.webhooks.url = receiver.url();
        s.webhooks.secret = bchpay::config::Secret::new("whsec");
        s.webhooks.retry_schedule_secs = vec![];
        s.payments.poll_interval_ms = 100;
    })
    .await;
    let session = dash.sign_in().await;
    let inv = dash.app.create_ok(&json!({"amount": "0.001", "order_id": "B-1"})).await;
    let id = inv["id"].as_str().unwrap();
    let txid = dash.app.sim.pay(inv["address"].as_str().unwrap(), 100_000).unwrap();
    let page = eventually("a failed event on the page", Duration::from_secs(10), || async {
        let page = dash.get(&format!("/dashboard/invoices/{id}"), Some(&session)).await;
        page.text.contains(r#"data-state="failed""#).then_some(page)
    })
    .await;
    assert!(page.text.contains(&txid), "the payment's txid");
    assert!(
        page.text.contains(r#"<td class="num confirmations">0</td>"#),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("HTTP 500"),
        "the failed attempt and its error: {}",
        page.text
    );
    assert!(page.text.contains("B-1"));
    let event = page
        .text
        .split(r#"<article class="card event" id=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let csrf = page.csrf();
    let back = format!("/dashboard/invoices/{id}");
    let redelivered = dash
        .post(
            &format!("/dashboard/events/{event}/redeliver"),
            Some(&session),
            &[("csrf", &csrf), ("back", &back)],
        )
        .await;
    redelivered.assert_redirect(&format!("{back}?redelivered=1#{event}"));
    receiver
        .wait("the event delivered again", Duration::from_secs(10), |d| {
            d.iter().any(|x| x.event_id() == event && x.answered == 200)
        })
        .await;
    let after = eventually("the event delivered on the page", Duration::from_secs(5), || async {
        let page = dash.get(&format!("{back}?redelivered=1"), Some(&session)).await;
        page.text.contains(r#"data-state="delivered""#).then_some(page)
    })
    .await;
    assert!(after.text.contains(r#"id="notice""#));
    assert!(after.text.contains("HTTP 500"), "the old attempt stays in the log");
    // The webhooks page lists failing deliveries first.
    dash.app.sim.mine(1);
    let hooks = dash.get("/dashboard/webhooks", Some(&session)).await;
    assert!(hooks.text.contains(&receiver.url()), "the configured default");
    assert!(hooks.text.contains(r#"id="registered-webhooks""#));
    // An unknown invoice or event.
    assert_eq!(
        dash.get("/dashboard/invoices/inv_nope", Some(&session)).await.status,
        404
    );
    let unknown = dash
        .post(
            "/dashboard/events/evt_nope/redeliver",
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(unknown.status, 404);
}

#[actix_rt::test]
async fn keys_are_made_with_chosen_permissions_shown_once_and_revoked() {
    let dash = Dash::spawn().await;
    let session = dash.sign_in().await;
    let csrf = dash.csrf(&session).await;
    let made = dash
        .post(
            "/dashboard/keys",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("label", "back office"),
                ("permissions", "unrestricted"),
            ],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    let at = made.text.find(r#"id="new-key-value">"#).expect("the key shown") + r#"id="new-key-value">"#.len();
    let key = made.text[at..at + 40].to_owned();
    assert!(
        key.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
        "{key}"
    );
    let listed = dash.get("/dashboard/keys", Some(&session)).await;
    assert!(listed.text.contains("back office"));
    assert!(!listed.text.contains(&key), "shown once only");
    // The new unrestricted key signs in.
    let page = dash.post("/dashboard/login", None, &[("api_key", &key)]).await;
    page.assert_redirect("/dashboard");
    let opened_with_it = page.session().unwrap();

    let narrow = dash
        .post(
            "/dashboard/keys",
            Some(&session),
            &[
                ("csrf", &csrf),
                ("label", "shop"),
                ("permissions", "btcpay.store.canviewinvoices"),
                ("permissions", "btcpay.store.cancreateinvoice"),
            ],
        )
        .await;
    assert!(narrow.text.contains("btcpay.store.cancreateinvoice"));
    let at = narrow.text.find(r#"id="new-key-value">"#).unwrap() + r#"id="new-key-value">"#.len();
    let narrow_key = narrow.text[at..at + 40].to_owned();
    assert_eq!(
        dash.post("/dashboard/login", None, &[("api_key", &narrow_key)])
            .await
            .status,
        401,
        "a key without unrestricted does not sign in"
    );

    let key_id = listed
        .text
        .split(r#"<tr class="key" data-id=""#)
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let revoked = dash
        .post(
            &format!("/dashboard/keys/{key_id}/revoke"),
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    revoked.assert_redirect("/dashboard/keys?revoked=1");
    let after = dash.get("/dashboard/keys?revoked=1", Some(&session)).await;
    assert!(!after.text.contains("back office"), "{}", after.text);
    assert_eq!(
        dash.post("/dashboard/login", None, &[("api_key", &key)]).await.status,
        401
    );
    // The sessions it opened end with it; others go on.
    dash.get("/dashboard", Some(&opened_with_it))
        .await
        .assert_redirect("/dashboard/login");
    assert_eq!(dash.get("/dashboard", Some(&session)).await.status, 200);

    for bad in [
        vec![("csrf", csrf.as_str()), ("label", ""), ("permissions", "unrestricted")],
        vec![("csrf", csrf.as_str()), ("label", "no permissions")],
    ] {
        assert_eq!(
            dash.post("/dashboard/keys", Some(&session), &bad).await.status,
            400,
            "{bad:?}"
        );
    }
    let unknown = dash
        .post(
            "/dashboard/keys",
            Some(&session),
            &[("csrf", &csrf), ("label", "x"), ("permissions", "root")],
        )
        .await;
    assert_eq!(unknown.status, 400);
    let again = dash
        .post(
            &format!("/dashboard/keys/{key_id}/revoke"),
            Some(&session),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(again.status, 404);
}
