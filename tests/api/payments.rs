//! Payments end to end (issue 4): the engine in this process with its real
//! HTTP server against the simulated daemon, driven through the API as a shop
//! and the checkout page would see it. Each test waits on conditions with the
//! issue's bars as deadlines: a status change shows within one poll interval
//! plus a margin, an expiry within 1 s of `expires_at`.

use std::collections::HashMap;
use std::time::Duration;

use crate::helpers::*;
use bchpay::invoice::InvoiceId;
use bchpay::sim::Sim;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// The confirmer's interval in these tests.
const POLL_MS: u64 = 100;

/// A status change must show within one poll interval and this margin (a
/// tick is a handful of loopback round trips and one store flush; the margin
/// covers two engines sharing two cores in a debug build).
const MARGIN: Duration = Duration::from_millis(900);

/// The bar for an expiry: within 1 s of `expires_at`.
const EXPIRY_BAR: Duration = Duration::from_secs(1);

/// Where the invoice of the outbox test sends its events: nothing listens
/// there, so every attempt fails and the events stay in the outbox (the first
/// retry is 10 s away, longer than the test).
const DEAD_WEBHOOK: &str = "http://127.0.0.1:9/hooks/bchpay";

/// One poll interval plus the margin.
fn bar() -> Duration {
    Duration::from_millis(POLL_MS) + MARGIN
}

/// Unpaid invoices every engine of these tests also watches. The confirmer's
/// slow sweep visits one watched address every few ticks; with this many, it
/// comes back to an address only long after the bars, so a change must be
/// found by the way the confirmer is meant to find it, not by the safety net.
const BYSTANDERS: usize = 30;

/// An engine polling every [`POLL_MS`], changed further by `configure`,
/// watching [`BYSTANDERS`] unpaid invoices.
async fn app_with(configure: impl FnOnce(&mut bchpay::config::Settings)) -> TestApp {
    let app = TestApp::spawn_with(|s| {
        s.payments.poll_interval_ms = POLL_MS;
        configure(s);
    })
    .await;
    for i in 0..BYSTANDERS {
        app.create_ok(&json!({"amount_sats": 1_000 + i as u64, "description": "bystander"}))
            .await;
    }
    app
}

/// The id and address of a created invoice.
fn id_and_address(invoice: &Value) -> (String, String) {
    (
        invoice["id"].as_str().expect("an id").to_owned(),
        invoice["address"].as_str().expect("an address").to_owned(),
    )
}

/// `GET /api/v1/invoices/{id}`, which must answer 200.
async fn invoice(app: &TestApp, id: &str) -> Value {
    let reply = app.get(&format!("/api/v1/invoices/{id}")).await;
    assert_eq!(reply.status, 200, "read {id}: {}", reply.body);
    reply.body
}

/// `GET /i/{id}/status` without a key, which must answer 200.
async fn status_page(app: &TestApp, id: &str) -> Value {
    let reply = app.get_with(&format!("/i/{id}/status"), None).await;
    assert_eq!(reply.status, 200, "status page of {id}: {}", reply.body);
    reply.body
}

/// Waits until the invoice satisfies `check`, or panics with the last one seen.
async fn wait_invoice(
    app: &TestApp,
    id: &str,
    what: &str,
    deadline: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let check = &check;
    eventually(&format!("{id} {what}"), deadline, || async move {
        let inv = invoice(app, id).await;
        if check(&inv) {
            Ok(inv)
        } else {
            Err(inv.to_string())
        }
    })
    .await
}

/// `status`, `exception`, `received_sats` of an invoice, for compact asserts.
fn summary(inv: &Value) -> (String, Value, u64) {
    (
        inv["status"].as_str().unwrap_or("?").to_owned(),
        inv["exception"].clone(),
        inv["received_sats"].as_u64().unwrap_or(u64::MAX),
    )
}

fn is(status: &str, exception: Value, received: u64) -> impl Fn(&Value) -> bool {
    let want = (status.to_owned(), exception, received);
    move |inv| summary(inv) == want
}

/// The events of one invoice as `GET /api/v1/events?invoice_id=` lists them: (type, sequence).
async fn events(app: &TestApp, id: &str) -> Vec<(String, u64)> {
    let reply = app.get(&format!("/api/v1/events?invoice_id={id}&limit=500")).await;
    assert_eq!(reply.status, 200, "events of {id}: {}", reply.body);
    assert!(
        reply.body["next_cursor"].is_null(),
        "more than one page: {}",
        reply.body
    );
    reply.body["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events array: {}", reply.body))
        .iter()
        .map(|e| {
            assert_eq!(e["invoice_id"], id, "an event of another invoice: {e}");
            (
                e["type"].as_str().unwrap_or("?").to_owned(),
                e["sequence"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// The event list an invoice must have: these types, numbered 1, 2, 3… in order.
fn numbered(types: &[&str]) -> Vec<(String, u64)> {
    types
        .iter()
        .enumerate()
        .map(|(i, t)| ((*t).to_owned(), i as u64 + 1))
        .collect()
}

/// The payload of the event of `kind` in the events list of `id` (the invoice as the event carries it).
async fn event_invoice(app: &TestApp, id: &str, kind: &str) -> Value {
    let reply = app.get(&format!("/api/v1/events?invoice_id={id}&limit=500")).await;
    let all = reply.body["events"].as_array().cloned().unwrap_or_default();
    let mut matching = all.into_iter().filter(|e| e["type"] == kind);
    let event = matching
        .next()
        .unwrap_or_else(|| panic!("no {kind} event for {id}: {}", reply.body));
    event["payload"]["invoice"].clone()
}

/// A JSON-RPC call of our own to the simulator. The daemon answers one request
/// at a time, so when this returns, every request that reached it before has
/// been answered: a barrier between the confirmer's calls and the test's moves.
async fn sim_barrier(sim: &Sim) {
    let reply = client()
        .post(sim.url())
        .send_json(&json!({"id": 1, "method": "version", "params": []}))
        .await
        .expect("a barrier call to the simulator");
    assert!(reply.status().is_success(), "barrier: {}", reply.status());
}

/// Waits until one whole confirmer tick has run after this call: a tick
/// starts with `getinfo`, and ticks never overlap, so the tick whose
/// `getinfo` arrives after now has finished once the next one arrives.
async fn wait_full_tick(app: &TestApp) {
    let start = app.sim.requests_for("getinfo");
    eventually(
        "a whole confirmer tick",
        Duration::from_millis(POLL_MS * 2) + MARGIN * 2,
        || async { (app.sim.requests_for("getinfo") >= start + 2).then_some(()) },
    )
    .await;
}

/// Waits for the start of a tick (its `getinfo`) and then for the answer to its
/// `history`, so that the next tick is a whole interval away.
async fn wait_tick_started(app: &TestApp, deadline: Duration) {
    let (info, history) = (app.sim.requests_for("getinfo"), app.sim.requests_for("history"));
    eventually("a confirmer tick to read the wallet history", deadline, || async {
        (app.sim.requests_for("getinfo") > info && app.sim.requests_for("history") > history).then_some(())
    })
    .await;
    sim_barrier(&app.sim).await;
}

#[actix_rt::test]
async fn a_full_payment_is_paid_then_confirmed_with_one_event_per_transition() {
    // A secret, so that the events have somewhere to go (unsigned, they would be kept as no_endpoint).
    let app = app_with(|s| s.webhooks.secret = bchpay::config::Secret::new("whsec-payments-test")).await;
    let inv = app
        .create_ok(&json!({"amount_sats": 70_000, "webhook_url": DEAD_WEBHOOK}))
        .await;
    let (id, address) = id_and_address(&inv);
    assert_eq!(inv["required_confirmations"], 1, "the configured default");
    let page = status_page(&app, &id).await;
    assert_eq!(
        (
            &page["status"],
            &page["received_sats"],
            &page["amount_sats"],
            &page["confirmations"]
        ),
        (&json!("new"), &json!(0), &json!(70_000), &json!(0)),
        "{page}"
    );

    let txid = app.sim.pay(&address, 70_000).unwrap();
    let paid = wait_invoice(&app, &id, "paid", bar(), is("paid", Value::Null, 70_000)).await;
    assert_eq!(paid["confirmations"], 0, "{paid}");
    assert_eq!(
        paid["payments"],
        json!([{"txid": txid, "amount_sats": 70_000, "height": 0, "confirmations": 0}]),
        "{paid}"
    );
    assert!(paid["paid_at"].is_string() && paid["confirmed_at"].is_null(), "{paid}");
    let page = status_page(&app, &id).await;
    assert_eq!(
        (
            &page["status"],
            &page["exception"],
            &page["received_sats"],
            &page["confirmations"]
        ),
        (&json!("paid"), &Value::Null, &json!(70_000), &json!(0)),
        "{page}"
    );

    let tip = app.sim.mine(1);
    let confirmed = wait_invoice(&app, &id, "confirmed", bar(), is("confirmed", Value::Null, 70_000)).await;
    assert_eq!(confirmed["confirmations"], 1, "{confirmed}");
    assert_eq!(confirmed["payments"][0]["height"], tip, "{confirmed}");
    assert!(confirmed["confirmed_at"].is_string(), "{confirmed}");
    let page = eventually("the status page to show 1 confirmation", bar(), || async {
        let page = status_page(&app, &id).await;
        (page["confirmations"] == 1).then_some(page)
    })
    .await;
    assert_eq!(
        (&page["status"], &page["received_sats"]),
        (&json!("confirmed"), &json!(70_000)),
        "{page}"
    );

    // More blocks and ticks change nothing final and emit nothing more.
    app.sim.mine(1);
    wait_full_tick(&app).await;
    wait_full_tick(&app).await;
    assert_eq!(
        events(&app, &id).await,
        numbered(&["invoice.payment_received", "invoice.paid", "invoice.confirmed"])
    );
    // Each event is in the outbox exactly once, and nothing else is.
    let invoice_id = InvoiceId::parse(&id).unwrap();
    let (stored, _) = app.reader.events(Some(&invoice_id), None, 500, None).unwrap();
    let mut seqs: Vec<u64> = stored.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(
        app.reader.outbox().unwrap(),
        seqs,
        "the outbox holds exactly the three events"
    );
    // The paid event carries the invoice as it was paid.
    let at_paid = event_invoice(&app, &id, "invoice.paid").await;
    assert_eq!(
        (&at_paid["status"], &at_paid["received_sats"]),
        (&json!("paid"), &json!(70_000)),
        "{at_paid}"
    );
}

#[actix_rt::test]
async fn a_payment_shows_within_a_tick_while_the_server_view_is_slow() {
    // The real daemon's getaddresshistory takes about a second and holds the
    // daemon meanwhile; here it takes longer, so that one look more shows.
    const SLOW: Duration = Duration::from_secs(2);
    let app = app_with(|_| {}).await;
    let inv = app.create_ok(&json!({"amount_sats": 30_000})).await;
    let (id, address) = id_and_address(&inv);
    wait_full_tick(&app).await;
    app.sim.set_method_delay("getaddresshistory", SLOW);

    // Pay just as a server look (the sweep's) begins: the daemon is busy for SLOW.
    let looks = app.sim.requests_for("getaddresshistory");
    eventually(
        "a server look to begin",
        Duration::from_millis(POLL_MS * bchpay::confirmer::SWEEP_EVERY) + SLOW + MARGIN,
        || async { (app.sim.requests_for("getaddresshistory") > looks).then_some(()) },
    )
    .await;
    let txid = app.sim.pay(&address, 30_000).unwrap();
    // The look in progress, then one tick; reading this address's server view
    // first would cost one look more.
    let paid = wait_invoice(&app, &id, "paid", SLOW + bar(), is("paid", Value::Null, 30_000)).await;
    assert_eq!(
        paid["payments"],
        json!([{"txid": txid, "amount_sats": 30_000, "height": 0, "confirmations": 0}]),
        "{paid}"
    );

    // The server's view then settles the heights: mined, it confirms.
    let tip = app.sim.mine(1);
    let confirmed = wait_invoice(
        &app,
        &id,
        "confirmed",
        SLOW * 3 + bar(),
        is("confirmed", Value::Null, 30_000),
    )
    .await;
    assert_eq!(confirmed["payments"][0]["height"], tip, "{confirmed}");
    assert_eq!(
        events(&app, &id).await,
        numbered(&["invoice.payment_received", "invoice.paid", "invoice.confirmed"])
    );
}

#[actix_rt::test]
async fn a_payment_made_during_a_ticks_slow_server_looks_shows_after_the_look_in_progress() {
    const SLOW: Duration = Duration::from_secs(2);
    let app = app_with(|_| {}).await;
    let mut invoices = Vec::new();
    for _ in 0..3 {
        invoices.push(id_and_address(&app.create_ok(&json!({"amount_sats": 20_000})).await));
    }
    wait_full_tick(&app).await;
    app.sim.set_method_delay("getaddresshistory", SLOW);

    // Two payments seen in one tick: that tick then looks at both addresses,
    // one slow look after the other.
    for (_, address) in &invoices[..2] {
        app.sim.pay(address, 20_000).unwrap();
    }
    for (id, _) in &invoices[..2] {
        wait_invoice(&app, id, "paid", SLOW + bar(), is("paid", Value::Null, 20_000)).await;
    }
    // Paid during the first of those looks: it shows once that look is over,
    // not after the second.
    let (id, address) = &invoices[2];
    app.sim.pay(address, 20_000).unwrap();
    wait_invoice(&app, id, "paid", SLOW + bar(), is("paid", Value::Null, 20_000)).await;
}

#[actix_rt::test]
async fn with_zero_confirmations_required_a_payment_is_confirmed_on_first_sight() {
    let app = app_with(|_| {}).await;
    let (id, address) = id_and_address(
        &app.create_ok(&json!({"amount": "0.0005", "required_confirmations": 0}))
            .await,
    );

    app.sim.pay(&address, 50_000).unwrap();

    let inv = wait_invoice(&app, &id, "confirmed at 0-conf", bar(), |inv| inv["status"] != "new").await;
    assert_eq!(summary(&inv), ("confirmed".into(), Value::Null, 50_000), "{inv}");
    assert_eq!(inv["confirmations"], 0, "{inv}");
    assert!(inv["paid_at"].is_string() && inv["confirmed_at"].is_string(), "{inv}");
    let page = status_page(&app, &id).await;
    assert_eq!(page["status"], "confirmed", "{page}");
    assert_eq!(
        events(&app, &id).await,
        numbered(&["invoice.payment_received", "invoice.paid", "invoice.confirmed"])
    );
}

#[actix_rt::test]
async fn two_partial_payments_that_add_up_pay_the_invoice() {
    let app = app_with(|_| {}).await;
    let (id, address) = id_and_address(&app.create_ok(&json!({"amount_sats": 100_000})).await);

    let first = app.sim.pay(&address, 40_000).unwrap();
    let partial = wait_invoice(
        &app,
        &id,
        "a partial payment",
        bar(),
        is("new", json!("paid_partial"), 40_000),
    )
    .await;
    assert_eq!(partial["received"], "0.0004", "{partial}");
    assert!(partial["paid_at"].is_null(), "{partial}");
    let page = status_page(&app, &id).await;
    assert_eq!(
        (&page["status"], &page["exception"], &page["received_sats"]),
        (&json!("new"), &json!("paid_partial"), &json!(40_000)),
        "{page}"
    );

    let second = app.sim.pay(&address, 60_000).unwrap();
    let paid = wait_invoice(&app, &id, "paid in two parts", bar(), is("paid", Value::Null, 100_000)).await;
    let mut txids: Vec<&str> = paid["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["txid"].as_str().unwrap())
        .collect();
    txids.sort_unstable();
    let mut want = vec![first.as_str(), second.as_str()];
    want.sort_unstable();
    assert_eq!(txids, want, "{paid}");

    app.sim.mine(1);
    wait_invoice(&app, &id, "confirmed", bar(), is("confirmed", Value::Null, 100_000)).await;
    assert_eq!(
        events(&app, &id).await,
        numbered(&[
            "invoice.payment_received",
            "invoice.payment_received",
            "invoice.paid",
            "invoice.confirmed"
        ])
    );
}

#[actix_rt::test]
async fn an_over_payment_is_paid_over() {
    let app = app_with(|_| {}).await;
    let (id, address) = id_and_address(&app.create_ok(&json!({"amount_sats": 100_000})).await);

    app.sim.pay(&address, 150_000).unwrap();

    let inv = wait_invoice(&app, &id, "paid over", bar(), |inv| inv["status"] != "new").await;
    assert_eq!(summary(&inv), ("paid".into(), json!("paid_over"), 150_000), "{inv}");
    app.sim.mine(1);
    wait_invoice(
        &app,
        &id,
        "confirmed, still over",
        bar(),
        is("confirmed", json!("paid_over"), 150_000),
    )
    .await;
    let page = status_page(&app, &id).await;
    assert_eq!(page["exception"], "paid_over", "{page}");
}

#[actix_rt::test]
async fn an_under_payment_within_the_tolerance_is_paid_and_one_beyond_it_is_partial() {
    let app = app_with(|s| s.payments.payment_tolerance_percent = 5).await;
    let (within, within_address) = id_and_address(&app.create_ok(&json!({"amount_sats": 100_000})).await);
    let (beyond, beyond_address) = id_and_address(&app.create_ok(&json!({"amount_sats": 100_000})).await);

    // 95 % is the least that counts; 94.999 % does not.
    app.sim.pay(&within_address, 95_000).unwrap();
    app.sim.pay(&beyond_address, 94_999).unwrap();

    wait_invoice(
        &app,
        &within,
        "paid within the tolerance",
        bar(),
        is("paid", Value::Null, 95_000),
    )
    .await;
    wait_invoice(
        &app,
        &beyond,
        "partial beyond the tolerance",
        bar(),
        is("new", json!("paid_partial"), 94_999),
    )
    .await;
    app.sim.mine(1);
    wait_invoice(
        &app,
        &within,
        "confirmed within the tolerance",
        bar(),
        is("confirmed", Value::Null, 95_000),
    )
    .await;
    wait_full_tick(&app).await;
    assert_eq!(
        summary(&invoice(&app, &beyond).await),
        ("new".into(), json!("paid_partial"), 94_999)
    );
}

/// One minute paid once: invoices created together expire together, and the
/// late payment, the payment dropped after expiry and the partly paid invoice
/// ride on the same expiry.
#[actix_rt::test]
async fn at_expiry_unpaid_invoices_expire_late_payments_are_paid_late_and_dropped_ones_invalid() {
    let app = app_with(|_| {}).await;
    let body = json!({"amount_sats": 100_000, "expires_in_secs": 60});
    let (unpaid, _) = id_and_address(&app.create_ok(&body).await);
    let (late, late_address) = id_and_address(&app.create_ok(&body).await);
    let (dropped, dropped_address) = id_and_address(&app.create_ok(&body).await);
    let (partial, partial_address) = id_and_address(&app.create_ok(&body).await);
    let expires_at = |id: &str| -> DateTime<Utc> {
        app.reader
            .invoice(&InvoiceId::parse(id).unwrap())
            .unwrap()
            .expect("stored")
            .expires_at
    };
    let expiry: HashMap<&str, DateTime<Utc>> = [&unpaid, &late, &dropped, &partial]
        .into_iter()
        .map(|id| (id.as_str(), expires_at(id)))
        .collect();

    // Before expiry: one invoice paid (unconfirmed), one partly paid.
    let dropped_tx = app.sim.pay(&dropped_address, 100_000).unwrap();
    app.sim.pay(&partial_address, 40_000).unwrap();
    wait_invoice(
        &app,
        &dropped,
        "paid before expiry",
        bar(),
        is("paid", Value::Null, 100_000),
    )
    .await;
    wait_invoice(
        &app,
        &partial,
        "partly paid",
        bar(),
        is("new", json!("paid_partial"), 40_000),
    )
    .await;

    // Nothing expires early.
    let first = expiry.values().min().copied().unwrap();
    let until = (first - Utc::now()).to_std().unwrap_or_default();
    actix_rt::time::sleep(until.saturating_sub(Duration::from_millis(1500))).await;
    for id in [&unpaid, &late, &partial] {
        let page = status_page(&app, id).await;
        assert_eq!(page["status"], "new", "{id} 1.5 s before its expiry: {page}");
    }

    // Each unpaid one expires within 1 s of its expires_at, as the checkout page sees it.
    for id in [&unpaid, &late, &partial] {
        let at = expiry[id.as_str()];
        let deadline = (at - Utc::now()).to_std().unwrap_or_default() + EXPIRY_BAR;
        eventually(
            &format!("{id} expired within {EXPIRY_BAR:?} of {at}"),
            deadline,
            || async {
                let page = status_page(&app, id).await;
                let seen = Utc::now();
                if page["status"] == "expired" {
                    assert!(seen >= at, "{id} expired before {at}: seen at {seen}");
                    return Ok(());
                }
                assert_eq!(page["status"], "new", "{id}: {page}");
                Err(page.to_string())
            },
        )
        .await;
    }
    assert_eq!(
        summary(&invoice(&app, &unpaid).await),
        ("expired".into(), Value::Null, 0)
    );
    assert_eq!(
        summary(&invoice(&app, &partial).await),
        ("expired".into(), json!("paid_partial"), 40_000)
    );
    // A paid invoice does not expire.
    assert_eq!(
        summary(&invoice(&app, &dropped).await),
        ("paid".into(), Value::Null, 100_000)
    );

    // A payment in full after expiry, inside the monitoring window: paid, late.
    app.sim.pay(&late_address, 100_000).unwrap();
    wait_invoice(&app, &late, "paid late", bar(), is("paid", json!("paid_late"), 100_000)).await;

    // A payment that vanishes after expiry: invalid.
    app.sim.drop_tx(&dropped_tx).unwrap();
    let invalid = wait_invoice(&app, &dropped, "invalid", bar(), |inv| inv["status"] != "paid").await;
    assert_eq!(summary(&invalid), ("invalid".into(), Value::Null, 0), "{invalid}");
    assert_eq!(invalid["payments"], json!([]), "{invalid}");

    // The late payment confirms and keeps its mark; the partly paid one stays expired.
    app.sim.mine(1);
    wait_invoice(
        &app,
        &late,
        "confirmed late",
        bar(),
        is("confirmed", json!("paid_late"), 100_000),
    )
    .await;
    wait_full_tick(&app).await;
    assert_eq!(
        summary(&invoice(&app, &partial).await),
        ("expired".into(), json!("paid_partial"), 40_000)
    );
    assert_eq!(status_page(&app, &late).await["exception"], "paid_late");

    // Every transition emitted its event once; the 250 ms clock kept running all along.
    assert_eq!(events(&app, &unpaid).await, numbered(&["invoice.expired"]));
    assert_eq!(
        events(&app, &partial).await,
        numbered(&["invoice.payment_received", "invoice.expired"])
    );
    assert_eq!(
        events(&app, &late).await,
        numbered(&[
            "invoice.expired",
            "invoice.payment_received",
            "invoice.paid",
            "invoice.confirmed"
        ])
    );
    assert_eq!(
        events(&app, &dropped).await,
        numbered(&["invoice.payment_received", "invoice.paid", "invoice.invalid"])
    );
    let at_paid = event_invoice(&app, &late, "invoice.paid").await;
    assert_eq!(
        at_paid["exception"], "paid_late",
        "the late invoice.paid event: {at_paid}"
    );
}

#[actix_rt::test]
async fn a_payment_dropped_before_confirmation_and_before_expiry_puts_the_invoice_back_to_new() {
    let app = app_with(|_| {}).await;
    let (id, address) = id_and_address(&app.create_ok(&json!({"amount_sats": 80_000})).await);

    let txid = app.sim.pay(&address, 80_000).unwrap();
    wait_invoice(&app, &id, "paid", bar(), is("paid", Value::Null, 80_000)).await;

    app.sim.drop_tx(&txid).unwrap();
    let back = wait_invoice(&app, &id, "back to new", bar(), |inv| inv["status"] != "paid").await;
    assert_eq!(summary(&back), ("new".into(), Value::Null, 0), "{back}");
    assert_eq!(back["payments"], json!([]), "{back}");
    assert!(back["paid_at"].is_null(), "{back}");
    assert_eq!(status_page(&app, &id).await["status"], "new");

    // The customer can pay again.
    let again = app.sim.pay(&address, 80_000).unwrap();
    let paid = wait_invoice(&app, &id, "paid again", bar(), is("paid", Value::Null, 80_000)).await;
    assert_eq!(paid["payments"][0]["txid"], again, "{paid}");
    assert_eq!(
        events(&app, &id).await,
        numbered(&[
            "invoice.payment_received",
            "invoice.paid",
            "invoice.payment_received",
            "invoice.paid"
        ])
    );
}

#[actix_rt::test]
async fn a_reorg_that_moves_a_payment_to_another_height_is_followed() {
    let app = app_with(|_| {}).await;
    let (id, address) = id_and_address(
        &app.create_ok(&json!({"amount_sats": 60_000, "required_confirmations": 2}))
            .await,
    );
    let base = app.sim.tip();

    let txid = app.sim.pay(&address, 60_000).unwrap();
    wait_invoice(&app, &id, "paid", bar(), is("paid", Value::Null, 60_000)).await;

    let first_height = app.sim.mine(1);
    assert_eq!(first_height, base + 1);
    let mined = wait_invoice(&app, &id, "1 confirmation at the first height", bar(), |inv| {
        inv["payments"][0]["height"] == first_height && inv["confirmations"] == 1
    })
    .await;
    assert_eq!(mined["status"], "paid", "{mined}");

    // The block goes away: the payment is back in the mempool.
    app.sim.reorg(1).unwrap();
    let unmined = wait_invoice(&app, &id, "back to 0 confirmations", bar(), |inv| {
        inv["payments"][0]["height"] == 0
    })
    .await;
    assert_eq!(
        (&unmined["status"], &unmined["confirmations"]),
        (&json!("paid"), &json!(0)),
        "{unmined}"
    );

    // Another block without it, then one with it: a new height.
    app.sim.mine_empty(1);
    wait_full_tick(&app).await;
    let still = invoice(&app, &id).await;
    assert_eq!(
        (&still["status"], &still["payments"][0]["height"]),
        (&json!("paid"), &json!(0)),
        "{still}"
    );
    let new_height = app.sim.mine(1);
    assert_eq!(new_height, base + 2);
    let moved = wait_invoice(&app, &id, "the payment at its new height", bar(), |inv| {
        inv["payments"][0]["height"] == new_height
    })
    .await;
    assert_eq!(
        (&moved["status"], &moved["confirmations"], &moved["payments"][0]["txid"]),
        (&json!("paid"), &json!(1), &json!(txid)),
        "{moved}"
    );

    app.sim.mine(1);
    let confirmed = wait_invoice(&app, &id, "confirmed", bar(), is("confirmed", Value::Null, 60_000)).await;
    assert_eq!(
        (&confirmed["confirmations"], &confirmed["payments"][0]["height"]),
        (&json!(2), &json!(new_height)),
        "{confirmed}"
    );
    assert_eq!(
        events(&app, &id).await,
        numbered(&["invoice.payment_received", "invoice.paid", "invoice.confirmed"])
    );
}

#[actix_rt::test]
async fn one_transaction_paying_two_invoices_pays_each_its_own_amount() {
    let app = app_with(|_| {}).await;
    let (small, small_address) = id_and_address(&app.create_ok(&json!({"amount_sats": 30_000})).await);
    let (large, large_address) = id_and_address(&app.create_ok(&json!({"amount_sats": 70_000})).await);

    let txid = app
        .sim
        .pay_outputs(&[(small_address, 30_000), (large_address, 70_000)], false)
        .unwrap();

    for (id, sats) in [(&small, 30_000u64), (&large, 70_000)] {
        let inv = wait_invoice(
            &app,
            id,
            "paid by the shared transaction",
            bar(),
            is("paid", Value::Null, sats),
        )
        .await;
        assert_eq!(
            inv["payments"],
            json!([{"txid": txid, "amount_sats": sats, "height": 0, "confirmations": 0}]),
            "{inv}"
        );
    }
}

#[actix_rt::test]
async fn a_payment_made_while_the_wallet_was_down_is_found_when_it_returns() {
    let app = app_with(|_| {}).await;
    let (id, address) = id_and_address(&app.create_ok(&json!({"amount_sats": 25_000})).await);
    // The confirmer has seen the wallet before the outage.
    wait_full_tick(&app).await;

    app.sim.stop_listening().await;
    wait_wallet_state(&app.base, "down", bar()).await;
    app.sim.pay(&address, 25_000).unwrap();
    assert_eq!(summary(&invoice(&app, &id).await), ("new".into(), Value::Null, 0));

    app.sim.start_listening().await.unwrap();
    // The reconnect waits on the backoff (≤ 1.6 s after a short outage), then one tick.
    wait_wallet_state(&app.base, "up", Duration::from_secs(3)).await;
    wait_invoice(
        &app,
        &id,
        "paid after the wallet returned",
        bar(),
        is("paid", Value::Null, 25_000),
    )
    .await;
}

#[actix_rt::test]
async fn a_payment_spent_by_the_merchant_before_the_next_tick_is_still_found() {
    const SLOW_POLL_MS: u64 = 2000;
    let app = TestApp::spawn_with(|s| s.payments.poll_interval_ms = SLOW_POLL_MS).await;
    let (id, address) = id_and_address(&app.create_ok(&json!({"amount_sats": 90_000})).await);

    // Right after a tick has read the wallet, pay and spend the coins at once:
    // the next tick sees the payment only as already spent.
    wait_tick_started(&app, Duration::from_millis(SLOW_POLL_MS) + MARGIN).await;
    let history_before = app.sim.requests_for("history");
    let txid = app.sim.pay(&address, 90_000).unwrap();
    app.sim.spend_address(&address).unwrap();
    assert_eq!(
        app.sim.requests_for("history"),
        history_before,
        "a tick read the wallet between the payment and the spend; the test proves nothing"
    );

    let inv = wait_invoice(
        &app,
        &id,
        "paid though spent",
        Duration::from_millis(SLOW_POLL_MS) + MARGIN,
        is("paid", Value::Null, 90_000),
    )
    .await;
    assert_eq!(inv["payments"][0]["txid"], txid, "{inv}");
}

/// The cost of a tick grows with the changes, not with the watched invoices
/// (here 50 and the bystanders).
#[actix_rt::test]
async fn ticks_over_fifty_quiet_invoices_cost_a_bounded_number_of_round_trips() {
    const WATCHED: usize = 50;
    const TICKS: u64 = 10;
    const PER_TICK: u64 = 4;
    let app = app_with(|s| {
        // Enough addresses in advance that creating 50 invoices refills nothing.
        s.addresses.pool_low = 2;
        s.addresses.pool_high = WATCHED + BYSTANDERS + 10;
    })
    .await;
    let mut ids = Vec::new();
    for i in 0..WATCHED {
        let inv = app.create_ok(&json!({"amount_sats": 10_000 + i as u64})).await;
        ids.push(id_and_address(&inv).0);
    }
    assert_eq!(app.reader.watched_ids().unwrap().len(), WATCHED + BYSTANDERS);
    // Let the confirmer take the new invoices in.
    wait_full_tick(&app).await;
    wait_full_tick(&app).await;

    wait_tick_started(&app, bar()).await;
    let (requests, ticks) = (app.sim.request_count(), app.sim.requests_for("getinfo"));
    eventually(
        &format!("{TICKS} ticks"),
        Duration::from_millis(POLL_MS * TICKS) + MARGIN * 3,
        || async { (app.sim.requests_for("getinfo") > ticks + TICKS).then_some(()) },
    )
    .await;
    wait_tick_started(&app, bar()).await;
    // The second barrier call is ours, not the engine's (the first came before `requests`).
    let spent = app.sim.request_count() - requests - 1;
    let ran = app.sim.requests_for("getinfo") - ticks;
    assert!(ran > TICKS, "{ran} ticks");
    assert!(
        spent <= PER_TICK * ran,
        "{spent} wallet round trips over {ran} ticks with {} quiet invoices (> {PER_TICK} a tick); \
         getaddresshistory: {}",
        WATCHED + BYSTANDERS,
        app.sim.requests_for("getaddresshistory")
    );
    for id in &ids[..3] {
        assert_eq!(summary(&invoice(&app, id).await), ("new".into(), Value::Null, 0));
    }
}
