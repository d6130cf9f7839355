//! Webhooks (issue 5): the engine delivers its events to a real HTTP receiver
//! on loopback (`helpers/receiver.rs`) whose answers each test scripts:
//! signed over the raw body, retried on the configured schedule, in order per
//! invoice, resumed after SIGKILL of the real binary, and verified by the
//! receiver snippets of `tests/receivers/`. Retry schedules are set small
//! here (whole seconds); "at the configured delays" means the gaps measured at
//! the receiver match them within [`EARLY`] / [`LATE`].

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::helpers::receiver::{Delivery, Receiver};
use crate::helpers::*;
use bchpay::config::Secret;
use bchpay::sim::{Sim, SimConfig};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

/// The webhook secret of every engine here.
const SECRET: &str = "whsec_test_5f2b9c0e";

/// The confirmer's interval: a payment shows within a tick or two.
const POLL_MS: u64 = 100;

/// How much earlier than its configured delay a retry may arrive: the delay
/// runs from the start of the previous attempt, whose request takes a few ms
/// to arrive.
const EARLY: Duration = Duration::from_millis(100);

/// How much later: the dispatcher looks for due deliveries every 100 ms, plus
/// a margin for two engines sharing two cores in a debug build. Below 1 s, so
/// that delays of 1 and 2 s cannot be mistaken for each other.
const LATE: Duration = Duration::from_millis(800);

/// An engine polling every [`POLL_MS`], signing with [`SECRET`], retrying on
/// `schedule`, sending invoices without `webhook_url` to `default_url`.
async fn app(schedule: &[u64], default_url: Option<&str>) -> TestApp {
    TestApp::spawn_with(|s| {
        s.payments.poll_interval_ms = POLL_MS;
        s.webhooks.secret = Secret::new(SECRET);
        s.webhooks.url = default_url.unwrap_or_default().to_owned();
        s.webhooks.timeout_secs = 2;
        s.webhooks.retry_schedule_secs = schedule.to_vec();
    })
    .await
}

/// Creates an invoice of `sats` (with `webhook_url` if given); its id and address.
async fn create(app: &TestApp, webhook_url: Option<&str>, sats: u64) -> (String, String) {
    let mut body = json!({ "amount_sats": sats });
    if let Some(url) = webhook_url {
        body["webhook_url"] = json!(url);
    }
    let inv = app.create_ok(&body).await;
    (
        inv["id"].as_str().expect("an id").to_owned(),
        inv["address"].as_str().expect("an address").to_owned(),
    )
}

/// An invoice of 100 000 sats paid 40 000: exactly one event, `invoice.payment_received`.
async fn partly_paid(app: &TestApp) -> String {
    let (id, address) = create(app, None, 100_000).await;
    app.sim.pay(&address, 40_000).expect("pay");
    id
}

/// `GET /api/v1/events` with `query`, which must answer 200; the events.
async fn list_events(app: &TestApp, query: &str) -> Vec<Value> {
    let reply = app.get(&format!("/api/v1/events?{query}")).await;
    assert_eq!(reply.status, 200, "events?{query}: {}", reply.body);
    reply.body["events"].as_array().expect("an events array").clone()
}

/// Waits until the invoice's event of type `kind` satisfies `check`; panics
/// at the deadline with the invoice's events as last seen.
async fn wait_event(
    app: &TestApp,
    invoice: &str,
    kind: &str,
    what: &str,
    deadline: Duration,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let check = &check;
    eventually(&format!("{kind} of {invoice} {what}"), deadline, || async move {
        let events = list_events(app, &format!("invoice_id={invoice}")).await;
        let found = events.iter().find(|e| e["type"] == kind && check(e)).cloned();
        found.ok_or_else(|| format!("events: {events:#?}"))
    })
    .await
}

/// The statuses of an event's attempts, as its `attempt_log` shows them.
fn attempt_statuses(event: &Value) -> Vec<Value> {
    event["attempt_log"]
        .as_array()
        .expect("an attempt log")
        .iter()
        .map(|a| a["status"].clone())
        .collect()
}

/// `(t, v1)` of a `Bchpay-Signature` header.
fn signature_parts(header: &str) -> (String, String) {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => panic!("unexpected part {part:?} in {header:?}"),
        }
    }
    (
        t.unwrap_or_else(|| panic!("no t in {header:?}")),
        v1.unwrap_or_else(|| panic!("no v1 in {header:?}")),
    )
}

/// Hex HMAC-SHA256(`secret`, "`t`." + `body`), computed here with the hmac
/// crate, independently of bchpay's `signature` module.
fn hmac_hex(secret: &str, t: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Unix seconds of `at`.
fn unix(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).expect("after 1970").as_secs() as i64
}

/// Asserts that consecutive `deliveries` arrived `schedule[i]` seconds apart,
/// within [`EARLY`] / [`LATE`].
#[track_caller]
fn assert_gaps(deliveries: &[Delivery], schedule: &[u64]) {
    for (i, pair) in deliveries.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let want = Duration::from_secs(schedule[i]);
        assert!(
            gap + EARLY >= want && gap <= want + LATE,
            "gap {} between attempts {} and {}: {gap:?}, configured {want:?}",
            i + 1,
            i + 1,
            i + 2
        );
    }
}

/// `(type, sequence, status answered)` of each delivery, for compact asserts.
fn trace(deliveries: &[Delivery]) -> Vec<(String, u64, u16)> {
    deliveries
        .iter()
        .map(|d| (d.kind(), d.sequence(), d.answered))
        .collect()
}

#[actix_rt::test]
async fn a_delivery_is_signed_over_its_raw_body_and_carries_the_contract_headers_and_shape() {
    let receiver = Receiver::up();
    let app = app(&[1], Some(&receiver.url())).await;
    let id = partly_paid(&app).await;

    let got = receiver
        .wait("the payment_received delivery", Duration::from_secs(5), |d| {
            !d.is_empty()
        })
        .await;
    let d = &got[0];
    assert_eq!(d.path, "/hooks/bchpay");
    assert_eq!(d.header("content-type"), Some("application/json"), "{:?}", d.headers);

    // Body: exactly the five fields of api.md, the event id also in the header.
    let body = d.json();
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "id", "invoice", "sequence", "type"], "{body}");
    let event_id = body["id"].as_str().expect("an id");
    assert!(event_id.starts_with("evt_"), "{body}");
    assert_eq!(d.header("bchpay-event-id"), Some(event_id));
    assert_eq!(
        (
            &body["type"],
            &body["sequence"],
            &body["invoice"]["id"],
            &body["invoice"]["received_sats"]
        ),
        (
            &json!("invoice.payment_received"),
            &json!(1),
            &json!(id),
            &json!(40_000)
        ),
        "{body}"
    );
    let created = chrono::DateTime::parse_from_rfc3339(body["created_at"].as_str().expect("created_at"))
        .expect("created_at in RFC 3339");
    assert!(
        (unix(d.wall) - created.timestamp()).abs() <= 5,
        "created_at {created} is not recent"
    );

    // Signature: HMAC over "t." + the raw bytes received, t close to the arrival.
    let header = d.header("bchpay-signature").expect("a Bchpay-Signature header");
    let (t, v1) = signature_parts(header);
    assert_eq!(
        v1,
        hmac_hex(SECRET, &t, &d.body),
        "signature {header:?} does not match the body"
    );
    let t: i64 = t.parse().expect("t in unix seconds");
    assert!((unix(d.wall) - t).abs() <= 2, "t={t}, arrived at {}", unix(d.wall));

    // The same signature refuses a body changed by one byte anywhere, and another secret.
    for at in [0, d.body.len() / 2, d.body.len() - 1] {
        let mut changed = d.body.clone();
        changed[at] ^= 0x01;
        assert_ne!(
            v1,
            hmac_hex(SECRET, &t.to_string(), &changed),
            "byte {at} changed, still valid"
        );
    }
    assert_ne!(v1, hmac_hex("another-secret", &t.to_string(), &d.body));

    // The API shows it delivered in one attempt.
    let event = wait_event(
        &app,
        &id,
        "invoice.payment_received",
        "delivered",
        Duration::from_secs(2),
        |e| e["state"] == "delivered",
    )
    .await;
    assert_eq!(
        (&event["id"], &event["attempts"]),
        (&json!(event_id), &json!(1)),
        "{event}"
    );
}

#[actix_rt::test]
async fn a_receiver_answering_500_500_200_gets_three_attempts_at_the_configured_delays_then_it_is_delivered() {
    let schedule = [1, 2, 4];
    let receiver = Receiver::up();
    receiver.answer(&[500, 500]);
    let app = app(&schedule, Some(&receiver.url())).await;
    let id = partly_paid(&app).await;

    let event = wait_event(
        &app,
        &id,
        "invoice.payment_received",
        "delivered",
        Duration::from_secs(8),
        |e| e["state"] == "delivered",
    )
    .await;
    assert_eq!(event["attempts"], 3, "{event}");
    assert_eq!(
        attempt_statuses(&event),
        [json!(500), json!(500), json!(200)],
        "{event}"
    );
    assert_eq!(event["last_error"], Value::Null, "{event}");

    let got = receiver.deliveries();
    assert_eq!(got.iter().map(|d| d.answered).collect::<Vec<_>>(), [500, 500, 200]);
    for d in &got {
        assert_eq!(
            d.event_id(),
            event["id"].as_str().unwrap(),
            "one event id in every attempt"
        );
        assert_eq!(d.header("bchpay-event-id"), event["id"].as_str());
        assert_eq!(d.json(), got[0].json(), "the same body in every attempt");
    }
    assert_gaps(&got, &schedule);
}

#[actix_rt::test]
async fn a_receiver_down_when_the_event_is_made_and_up_5_s_later_gets_it() {
    let receiver = Receiver::down();
    let app = app(&[1; 12], Some(&receiver.url())).await;
    let id = partly_paid(&app).await;
    let made = Instant::now();

    // The first attempt finds nobody listening.
    let failing = wait_event(
        &app,
        &id,
        "invoice.payment_received",
        "refused",
        Duration::from_secs(3),
        |e| e["state"] == "pending" && e["attempts"].as_u64() >= Some(1),
    )
    .await;
    assert!(failing["last_error"].is_string(), "{failing}");
    assert_eq!(
        attempt_statuses(&failing)[0],
        Value::Null,
        "no status from a refused connection"
    );

    // The outage lasts 5 s (the scenario's length, not a wait for a result).
    actix_rt::time::sleep_until((made + Duration::from_secs(5)).into()).await;
    receiver.start();

    // Due again within the schedule's 1 s.
    let event = wait_event(
        &app,
        &id,
        "invoice.payment_received",
        "delivered",
        Duration::from_secs(3),
        |e| e["state"] == "delivered",
    )
    .await;
    let statuses = attempt_statuses(&event);
    assert!(statuses.len() >= 4, "retried through the outage: {event}");
    assert!(statuses[..statuses.len() - 1].iter().all(Value::is_null), "{event}");
    assert_eq!(statuses.last(), Some(&json!(200)), "{event}");
    let got = receiver.deliveries();
    assert_eq!(trace(&got), [("invoice.payment_received".to_owned(), 1, 200)]);
    assert_eq!(got[0].event_id(), event["id"].as_str().unwrap());
}

#[actix_rt::test]
async fn a_receiver_answering_410_forever_fails_the_event_after_the_schedule_and_a_redelivery_delivers_it() {
    let schedule = [1, 1, 2];
    let receiver = Receiver::up();
    receiver.answer_always(410);
    let app = app(&schedule, Some(&receiver.url())).await;
    let id = partly_paid(&app).await;

    let failed = wait_event(
        &app,
        &id,
        "invoice.payment_received",
        "failed",
        Duration::from_secs(9),
        |e| e["state"] == "failed",
    )
    .await;
    let event_id = failed["id"].as_str().unwrap().to_owned();
    assert_eq!(failed["attempts"], schedule.len() + 1, "{failed}");
    assert_eq!(
        attempt_statuses(&failed),
        vec![json!(410); schedule.len() + 1],
        "{failed}"
    );
    assert_eq!(failed["next_attempt_at"], Value::Null, "{failed}");
    assert_eq!(failed["last_error"], "HTTP 410", "{failed}");
    let listed = list_events(&app, "state=failed").await;
    assert!(listed.iter().any(|e| e["id"] == event_id.as_str()), "{listed:#?}");
    let got = receiver.of_event(&event_id);
    assert_eq!(got.len(), schedule.len() + 1, "no attempt after the schedule is spent");
    assert_gaps(&got, &schedule);

    // By hand: queued again at once, delivered once the receiver takes it.
    receiver.answer_always(200);
    let reply = send(
        &app.client,
        awc::http::Method::POST,
        &format!("{}/api/v1/events/{event_id}/redeliver", app.base),
        Some(&bearer(API_KEY)),
        None,
    )
    .await;
    assert_eq!(reply.status, 202, "{}", reply.body);
    assert_eq!(reply.body["id"], event_id.as_str(), "{}", reply.body);
    let delivered = wait_event(
        &app,
        &id,
        "invoice.payment_received",
        "delivered",
        Duration::from_secs(3),
        |e| e["state"] == "delivered",
    )
    .await;
    assert_eq!(delivered["attempts"], schedule.len() + 2, "{delivered}");
    let got = receiver.of_event(&event_id);
    assert_eq!(got.len(), schedule.len() + 2);
    assert_eq!(got.last().map(|d| d.answered), Some(200));

    // An unknown event is 404.
    let reply = send(
        &app.client,
        awc::http::Method::POST,
        &format!(
            "{}/api/v1/events/evt_00000000000000000000000000000000/redeliver",
            app.base
        ),
        Some(&bearer(API_KEY)),
        None,
    )
    .await;
    assert_error(&reply, 404, "not_found", None);
}

#[actix_rt::test]
async fn events_of_an_invoice_arrive_in_order_through_a_failure_and_a_failing_invoice_holds_up_no_other() {
    let schedule = [2; 6];
    let shop = Receiver::up();
    // payment_received is taken, the first attempt of paid fails.
    shop.answer(&[200, 500]);
    let broken = Receiver::up();
    broken.answer_always(500);
    let app = app(&schedule, None).await;
    let (b, b_address) = create(&app, Some(&broken.url()), 50_000).await;
    let (a, a_address) = create(&app, Some(&shop.url()), 70_000).await;

    // B's events are older and fail forever.
    app.sim.pay(&b_address, 50_000).unwrap();
    broken
        .wait("B's first attempt", Duration::from_secs(3), |d| !d.is_empty())
        .await;
    app.sim.pay(&a_address, 70_000).unwrap();
    shop.wait("A's paid answered 500", Duration::from_secs(3), |d| d.len() >= 2)
        .await;
    app.sim.mine(1);
    let confirmed = wait_event(&app, &a, "invoice.confirmed", "made", Duration::from_secs(2), |_| true).await;
    let paid = wait_event(&app, &a, "invoice.paid", "listed", Duration::from_secs(1), |_| true).await;
    assert_eq!(
        (&paid["state"], &confirmed["attempts"]),
        (&json!("pending"), &json!(0)),
        "confirmed must exist while paid waits for its retry, else this test shows nothing: paid {paid}"
    );

    let got = shop
        .wait("A's three events delivered", Duration::from_secs(6), |d| {
            d.iter().any(|d| d.kind() == "invoice.confirmed")
        })
        .await;
    let s = |k: &str| k.to_owned();
    assert_eq!(
        trace(&got),
        [
            (s("invoice.payment_received"), 1, 200),
            (s("invoice.paid"), 2, 500),
            (s("invoice.paid"), 2, 200),
            (s("invoice.confirmed"), 3, 200),
        ]
    );
    assert_eq!(got[1].event_id(), got[2].event_id());
    assert!(got.iter().all(|d| d.invoice_id() == a));

    // Meanwhile B's first event is still retrying, and its later ones wait behind it.
    let b_first = wait_event(
        &app,
        &b,
        "invoice.payment_received",
        "listed",
        Duration::from_secs(1),
        |_| true,
    )
    .await;
    assert_eq!(b_first["state"], "pending", "{b_first}");
    let b_got = broken.deliveries();
    assert!(
        b_got
            .iter()
            .all(|d| d.invoice_id() == b && d.kind() == "invoice.payment_received"),
        "{:?}",
        trace(&b_got)
    );
}

/// The real engine's configuration: its API key, polling every [`POLL_MS`],
/// webhooks to `url` retried every second for long enough to outlast the test.
fn engine_config(sim: &Sim, url: &str) -> String {
    format!(
        "[api]\nkeys = [\"{API_KEY}\"]\n[addresses]\npool_low = 10\npool_high = 30\n\
         [payments]\npoll_interval_ms = {POLL_MS}\n\
         [webhooks]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\ntimeout_secs = 2\nretry_schedule_secs = {:?}\n{}",
        [1u64; 30],
        wallet_config(&sim.url(), "", 5)
    )
}

/// `GET /api/v1/events?{query}` on the real engine at `base`; the events.
async fn engine_events(client: &awc::Client, base: &str, query: &str) -> Vec<Value> {
    let reply = send(
        client,
        awc::http::Method::GET,
        &format!("{base}/api/v1/events?{query}"),
        Some(&bearer(API_KEY)),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "events?{query}: {}", reply.body);
    reply.body["events"].as_array().expect("an events array").clone()
}

#[actix_rt::test]
async fn fifty_pending_events_survive_sigkill_and_are_each_delivered_once_in_order_after_the_restart() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let receiver = Receiver::down();
    let config = engine_config(&sim, &receiver.url());
    let engine = Engine::spawn(&config, &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(3)).await;
    let client = client();

    // 25 invoices paid in full: payment_received and paid each, 50 events.
    let mut invoices = HashSet::new();
    for i in 0..25u64 {
        let reply = send(
            &client,
            awc::http::Method::POST,
            &format!("{}/api/v1/invoices", engine.base),
            Some(&bearer(API_KEY)),
            Some(json!({ "amount_sats": 10_000 + i }).to_string().into_bytes()),
        )
        .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        sim.pay(reply.body["address"].as_str().unwrap(), 10_000 + i).unwrap();
        invoices.insert(reply.body["id"].as_str().unwrap().to_owned());
    }
    let pending = eventually("50 pending events", Duration::from_secs(8), || async {
        let events = engine_events(&client, &engine.base, "state=pending&limit=500").await;
        (events.len() == 50).then_some(events)
    })
    .await;
    let ids: HashSet<String> = pending.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 50);
    assert_eq!(
        pending
            .iter()
            .map(|e| e["invoice_id"].as_str().unwrap().to_owned())
            .collect::<HashSet<_>>(),
        invoices
    );
    assert!(
        pending.iter().any(|e| e["attempts"].as_u64() >= Some(1)),
        "deliveries were tried against the down receiver"
    );

    // SIGKILL, restart on the same store, then the receiver comes up.
    let dir = engine.into_dir();
    let engine = Engine::spawn_in(dir, &config, &[]);
    receiver.start();

    eventually("all 50 delivered", Duration::from_secs(10), || async {
        let delivered = engine_events(&client, &engine.base, "state=delivered&limit=500").await;
        (delivered.len() == 50).then_some(())
    })
    .await;
    assert_eq!(engine_events(&client, &engine.base, "state=pending").await.len(), 0);
    let got = receiver.deliveries();
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for d in &got {
        assert_eq!(d.answered, 200);
        *per_event.entry(d.event_id()).or_default() += 1;
    }
    assert_eq!(per_event.keys().cloned().collect::<HashSet<_>>(), ids);
    let twice: Vec<_> = per_event.iter().filter(|(_, n)| **n != 1).collect();
    assert!(twice.is_empty(), "delivered more than once after a 2xx: {twice:?}");
    for invoice in &invoices {
        let order: Vec<(String, u64)> = receiver
            .of_invoice(invoice)
            .iter()
            .map(|d| (d.kind(), d.sequence()))
            .collect();
        assert_eq!(
            order,
            [
                ("invoice.payment_received".to_owned(), 1),
                ("invoice.paid".to_owned(), 2)
            ],
            "{invoice}"
        );
    }
}

#[actix_rt::test]
async fn an_invoice_created_paid_and_mined_sends_payment_received_paid_and_confirmed_in_order() {
    let receiver = Receiver::up();
    let app = app(&[1], Some(&receiver.url())).await;
    let (id, address) = create(&app, None, 70_000).await;

    app.sim.pay(&address, 70_000).unwrap();
    receiver
        .wait("payment_received and paid", Duration::from_secs(5), |d| d.len() >= 2)
        .await;
    app.sim.mine(1);
    let got = receiver
        .wait("confirmed", Duration::from_secs(5), |d| d.len() >= 3)
        .await;

    let s = |k: &str| k.to_owned();
    assert_eq!(
        trace(&got),
        [
            (s("invoice.payment_received"), 1, 200),
            (s("invoice.paid"), 2, 200),
            (s("invoice.confirmed"), 3, 200),
        ]
    );
    assert!(got.iter().all(|d| d.invoice_id() == id));
    assert_eq!(got.iter().map(Delivery::event_id).collect::<HashSet<_>>().len(), 3);
    assert_eq!(got[1].json()["invoice"]["status"], "paid");
    assert_eq!(got[2].json()["invoice"]["status"], "confirmed");
    assert_eq!(got[2].json()["invoice"]["confirmations"], 1);
    for d in &got {
        let (t, v1) = signature_parts(d.header("bchpay-signature").unwrap());
        assert_eq!(v1, hmac_hex(SECRET, &t, &d.body));
    }
    let events = list_events(&app, &format!("invoice_id={id}")).await;
    assert!(
        events.iter().all(|e| e["state"] == "delivered" && e["attempts"] == 1),
        "{events:#?}"
    );
}

#[actix_rt::test]
async fn events_of_an_invoice_with_no_endpoint_are_listed_as_no_endpoint_never_sent_and_not_redeliverable() {
    let receiver = Receiver::up();
    let app = app(&[1], None).await;
    let (quiet, quiet_address) = create(&app, None, 20_000).await;
    let (loud, loud_address) = create(&app, Some(&receiver.url()), 30_000).await;

    app.sim.pay(&quiet_address, 20_000).unwrap();
    app.sim.pay(&loud_address, 30_000).unwrap();
    receiver
        .wait("loud's payment_received and paid", Duration::from_secs(5), |d| {
            d.len() >= 2
        })
        .await;
    app.sim.mine(1);
    receiver
        .wait("loud's confirmed", Duration::from_secs(5), |d| d.len() >= 3)
        .await;
    let events = eventually("quiet's three events", Duration::from_secs(2), || async {
        let events = list_events(&app, &format!("invoice_id={quiet}")).await;
        (events.len() == 3).then_some(events)
    })
    .await;

    // The dispatcher delivered loud's events after quiet's were made; none of quiet's went anywhere.
    for e in &events {
        assert_eq!(
            (&e["state"], &e["attempts"], &e["url"], &e["next_attempt_at"]),
            (&json!("no_endpoint"), &json!(0), &Value::Null, &Value::Null),
            "{e}"
        );
    }
    assert!(receiver.deliveries().iter().all(|d| d.invoice_id() == loud));
    let listed = list_events(&app, "state=no_endpoint").await;
    assert_eq!(listed.len(), 3, "{listed:#?}");

    let event_id = events[0]["id"].as_str().unwrap();
    let reply = send(
        &app.client,
        awc::http::Method::POST,
        &format!("{}/api/v1/events/{event_id}/redeliver", app.base),
        Some(&bearer(API_KEY)),
        None,
    )
    .await;
    assert_error(&reply, 409, "no_endpoint", None);
    let after = list_events(&app, &format!("invoice_id={quiet}")).await;
    assert_eq!(after[0]["state"], "no_endpoint", "{}", after[0]);
}

/// Runs `bchpay serve` on `config` (with `[server]` and `[store]` added) and
/// the environment cleared of the webhook secret; waits up to `deadline` for
/// it to exit. Its exit status and everything it printed, or `None` if it
/// still ran (it is then killed).
fn serve_until_exit(dir: &Path, config: &str, deadline: Duration) -> Option<(std::process::ExitStatus, String)> {
    let path = dir.join("config.toml");
    let text = format!(
        "[server]\nbind = \"127.0.0.1:0\"\n[store]\npath = {:?}\n{config}",
        dir.join("store").display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bchpay"))
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .env_remove("BCHPAY_WEBHOOK_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn bchpay");
    if poll_blocking(deadline, || child.try_wait().expect("try_wait")).is_err() {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    let output = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status, text))
}

#[test]
fn serve_refuses_a_webhook_url_without_a_secret_naming_webhooks_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[webhooks]\nurl = \"http://127.0.0.1:9/hooks/bchpay\"\n";
    let (status, output) = serve_until_exit(dir.path(), config, Duration::from_secs(5))
        .expect("bchpay serve with a webhook url and no secret still ran after 5 s");
    assert!(!status.success(), "exited {status}: {output}");
    assert!(
        output.contains("webhooks.secret"),
        "the message does not name the key: {output}"
    );

    // Control: the same file with the secret from the environment starts.
    let engine = Engine::spawn(config, &[("BCHPAY_WEBHOOK_SECRET", SECRET)]);
    assert!(!engine.output().contains("webhooks.secret"), "{}", engine.output());
}

/// Whether `program` runs (`program --version` exits 0).
fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Says loudly that a snippet was not run, or fails under `CI`.
fn skipped(program: &str, snippet: &str) {
    skip_unless_ci(&format!(
        "`{program}` is not on PATH, tests/receivers/{snippet} was not run"
    ));
}

/// A real signed delivery: the raw body and its `Bchpay-Signature` header.
async fn signed_delivery() -> (Vec<u8>, String) {
    let receiver = Receiver::up();
    let app = app(&[1], Some(&receiver.url())).await;
    partly_paid(&app).await;
    let got = receiver
        .wait("a delivery", Duration::from_secs(5), |d| !d.is_empty())
        .await;
    let header = got[0].header("bchpay-signature").expect("a signature").to_owned();
    (got[0].body.clone(), header)
}

/// Runs the receiver snippet `snippet` with `program` on a real delivery:
/// valid as received; refused with a body changed by one byte, another
/// secret, or a valid signature an hour old (a replay).
async fn check_snippet(program: &str, snippet: &str) {
    if !available(program) {
        skipped(program, snippet);
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/receivers")
        .join(snippet);
    let (body, header) = signed_delivery().await;
    let dir = tempfile::tempdir().unwrap();
    let run = |secret: &str, header: &str, body: &[u8]| {
        let body_file = dir.path().join("body.json");
        std::fs::write(&body_file, body).unwrap();
        let out = Command::new(program)
            .arg(&script)
            .arg(secret)
            .arg(header)
            .arg(&body_file)
            .output()
            .unwrap_or_else(|e| panic!("run {program} {}: {e}", script.display()));
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };

    let (code, out) = run(SECRET, &header, &body);
    assert_eq!(code, Some(0), "{snippet} refused a real delivery: {out}");

    let mut changed = body.clone();
    let at = changed.len() / 2;
    changed[at] ^= 0x01;
    let (code, out) = run(SECRET, &header, &changed);
    assert!(code.is_some_and(|c| c != 0), "{snippet} accepted a changed body: {out}");

    let (code, out) = run("another-secret", &header, &body);
    assert!(code.is_some_and(|c| c != 0), "{snippet} accepted another secret: {out}");

    let now = unix(SystemTime::now());
    let fresh = format!("t={now},v1={}", hmac_hex(SECRET, &now.to_string(), &body));
    let (code, out) = run(SECRET, &fresh, &body);
    assert_eq!(code, Some(0), "{snippet} refused a fresh signature made here: {out}");
    let old = now - 3600;
    let replay = format!("t={old},v1={}", hmac_hex(SECRET, &old.to_string(), &body));
    let (code, out) = run(SECRET, &replay, &body);
    assert!(
        code.is_some_and(|c| c != 0),
        "{snippet} accepted an hour-old signature: {out}"
    );
}

#[actix_rt::test]
async fn the_python_receiver_snippet_verifies_a_real_delivery() {
    check_snippet("python3", "verify.py").await;
}

#[actix_rt::test]
async fn the_node_receiver_snippet_verifies_a_real_delivery() {
    check_snippet("node", "verify.js").await;
}

#[actix_rt::test]
async fn the_php_receiver_snippet_verifies_a_real_delivery() {
    check_snippet("php", "verify.php").await;
}

#[test]
fn the_readme_shows_the_receiver_snippets_as_they_are_tested() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for snippet in ["verify.py", "verify.php", "verify.js"] {
        let text = std::fs::read_to_string(root.join("tests/receivers").join(snippet)).unwrap();
        assert!(
            readme.contains(text.trim_end()),
            "README.md does not show tests/receivers/{snippet} as it is"
        );
    }
}
