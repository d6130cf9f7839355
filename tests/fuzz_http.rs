//! Property tests of `POST /api/v1/invoices` against one in-process engine
//! (issue 7, item 2): valid bodies of api.md mutated field by field (dropped,
//! duplicated, renamed, retyped, huge numbers, unicode, deep nesting) and byte
//! by byte (truncated, flipped, spliced), random JSON and random bytes. Every
//! answer must be `201`, `200` (a repeated order id) or a 4xx carrying the
//! error object of api.md; never a 5xx, never a dropped connection. A 4xx
//! stores nothing (no invoice, no address taken from the pool or the ledger);
//! the engine keeps answering `/healthz`, and no thread of the process panics.
//!
//! The engine runs on its own thread in its own actix `System`; the property
//! runs on the test thread with a blocking client (`common/raw_http.rs`), so
//! that proptest's synchronous runner never blocks the engine's runtime.

#[path = "api/helpers/mod.rs"]
mod helpers;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use helpers::raw_http::{exchange, request};
use helpers::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

/// Cases of the property: enough to reach every mutation many times, few
/// enough to run in seconds (each is one request and one `/healthz`).
const CASES: u32 = 384;

/// Per-request deadline: a request that is not answered within it is a hang.
const DEADLINE: Duration = Duration::from_secs(10);

/// The engine on its own thread; stopped (and its store removed) on drop.
struct Background {
    base: String,
    reader: bchpay::store::StoreReader,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    fn start() -> Background {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            actix_rt::System::new().block_on(async move {
                let app = TestApp::spawn().await;
                ready_tx.send((app.base.clone(), app.reader.clone())).unwrap();
                let _ = stop_rx.await;
                drop(app);
            });
        });
        let (base, reader) = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the engine did not start");
        Background {
            base,
            reader,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------- generators

/// The field names of api.md's create request.
const FIELDS: [&str; 9] = [
    "amount",
    "amount_sats",
    "order_id",
    "description",
    "webhook_url",
    "redirect_url",
    "expires_in_secs",
    "required_confirmations",
    "metadata",
];

/// Valid create bodies of api.md, as (field, JSON text) pairs in order.
fn valid_bodies() -> Vec<Vec<(String, String)>> {
    let bodies = [
        json!({"amount": "0.0007"}),
        json!({"amount_sats": 70000}),
        json!({"amount": "0.0007", "order_id": "A-1001", "description": "Gold membership"}),
        json!({"amount_sats": 1234, "order_id": "A-1002", "description": "d",
               "webhook_url": "https://shop.example/hook", "redirect_url": "http://shop.example/back",
               "expires_in_secs": 60, "required_confirmations": 0, "metadata": {"k": [1], "cart": {"n": 2}}}),
        json!({"amount": "21000000"}),
        json!({"amount_sats": 2_100_000_000_000_000u64, "order_id": "A-1003"}),
        json!({"amount": "0.00000001", "expires_in_secs": 604800, "required_confirmations": 100}),
        json!({"amount": "12.5", "description": "가".repeat(1000), "metadata": null}),
    ];
    bodies
        .iter()
        .map(|b| {
            b.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Strings a shop (or an attacker) might send: random unicode, long, escapes, markup.
fn any_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[0-9.eE+-]{0,30}",
        any::<String>(),
        Just("x".repeat(129)),
        Just("가".repeat(1001)),
        Just("\u{0}\u{202e}\u{2028}\u{fffd}".to_owned()),
        Just("<script>alert(1)</script>\"'&".to_owned()),
        Just("javascript:alert(1)".to_owned()),
        Just("http://".to_owned()),
        Just("https://[::1]:99999/x".to_owned()),
        Just("A-1001".to_owned()),
        Just(String::new()),
    ]
}

/// JSON text that is unusual rather than random: numbers past every integer
/// type, non-JSON literals, bad escapes, deep nesting.
fn odd_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("1e400".to_owned()),
        Just("-0".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("2100000000000001".to_owned()),
        Just("99999999999999999999999999999999999999999999".to_owned()),
        Just("0.00000001".to_owned()),
        Just("1.0".to_owned()),
        Just("-1".to_owned()),
        Just("NaN".to_owned()),
        Just("Infinity".to_owned()),
        Just("0x10".to_owned()),
        Just("\"\\ud800\"".to_owned()),
        Just("\"\\u0000\"".to_owned()),
        Just("\"\\x41\"".to_owned()),
        Just("true".to_owned()),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
        (1usize..3000).prop_map(|d| format!("{}{}", "[".repeat(d), "]".repeat(d))),
        (1usize..600).prop_map(|d| format!("{}1{}", "{\"a\":".repeat(d), "}".repeat(d))),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
    ]
}

/// Random JSON values, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        any_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any_string(), inner, 0..8).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field value as JSON text.
fn any_value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any_json().prop_map(|v| v.to_string()),
        any_string().prop_map(|s| Value::String(s).to_string()),
        odd_literal(),
    ]
}

/// One change to a body's fields.
#[derive(Debug, Clone)]
enum FieldMutation {
    Drop(prop::sample::Index),
    Duplicate(prop::sample::Index, String),
    Rename(prop::sample::Index, String),
    Retype(prop::sample::Index, String),
    Add(String, String),
}

fn field_mutation() -> impl Strategy<Value = FieldMutation> {
    let name = prop_oneof![
        prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
        any_string(),
        Just("Amount".to_owned()),
        Just("amount ".to_owned()),
        Just("__proto__".to_owned()),
    ];
    prop_oneof![
        any::<prop::sample::Index>().prop_map(FieldMutation::Drop),
        (any::<prop::sample::Index>(), any_value_text()).prop_map(|(i, v)| FieldMutation::Duplicate(i, v)),
        (any::<prop::sample::Index>(), name.clone()).prop_map(|(i, n)| FieldMutation::Rename(i, n)),
        (any::<prop::sample::Index>(), any_value_text()).prop_map(|(i, v)| FieldMutation::Retype(i, v)),
        (name, any_value_text()).prop_map(|(n, v)| FieldMutation::Add(n, v)),
    ]
}

fn apply(fields: &mut Vec<(String, String)>, m: &FieldMutation) {
    match m {
        FieldMutation::Add(name, value) => fields.push((name.clone(), value.clone())),
        _ if fields.is_empty() => {}
        FieldMutation::Drop(i) => {
            fields.remove(i.index(fields.len()));
        }
        FieldMutation::Duplicate(i, value) => {
            let name = fields[i.index(fields.len())].0.clone();
            fields.push((name, value.clone()));
        }
        FieldMutation::Rename(i, name) => {
            let at = i.index(fields.len());
            fields[at].0 = name.clone();
        }
        FieldMutation::Retype(i, value) => {
            let at = i.index(fields.len());
            fields[at].1 = value.clone();
        }
    }
}

/// One change to the serialized bytes.
#[derive(Debug, Clone)]
enum ByteMutation {
    Truncate(prop::sample::Index),
    Flip(prop::sample::Index, u8),
    Splice(prop::sample::Index, Vec<u8>),
}

fn byte_mutation() -> impl Strategy<Value = ByteMutation> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(ByteMutation::Truncate),
        (any::<prop::sample::Index>(), 1u8..=255).prop_map(|(i, x)| ByteMutation::Flip(i, x)),
        (
            any::<prop::sample::Index>(),
            prop_oneof![
                prop::collection::vec(any::<u8>(), 1..8),
                Just(b"\xff\xfe".to_vec()),
                Just(b"\",\"".to_vec()),
                Just(b"}".to_vec()),
                Just(b"\x00".to_vec()),
            ]
        )
            .prop_map(|(i, b)| ByteMutation::Splice(i, b)),
    ]
}

fn apply_bytes(body: &mut Vec<u8>, m: &ByteMutation) {
    if body.is_empty() {
        return;
    }
    match m {
        ByteMutation::Truncate(i) => body.truncate(i.index(body.len())),
        ByteMutation::Flip(i, x) => {
            let at = i.index(body.len());
            body[at] ^= x;
        }
        ByteMutation::Splice(i, bytes) => {
            let at = i.index(body.len() + 1);
            body.splice(at..at, bytes.iter().copied());
        }
    }
}

fn serialize(fields: &[(String, String)]) -> Vec<u8> {
    let members: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
        .collect();
    format!("{{{}}}", members.join(",")).into_bytes()
}

/// A create body: a mutated valid one, random JSON, or random bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let mutated = (
        prop::sample::select(valid_bodies()),
        prop::collection::vec(field_mutation(), 0..4),
        prop_oneof![Just(Vec::new()), prop::collection::vec(byte_mutation(), 1..3)],
    )
        .prop_map(|(mut fields, fm, bm)| {
            for m in &fm {
                apply(&mut fields, m);
            }
            let mut bytes = serialize(&fields);
            for m in &bm {
                apply_bytes(&mut bytes, m);
            }
            bytes
        });
    prop_oneof![
        6 => mutated,
        1 => any_json().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..512),
    ]
}

// ---------------------------------------------------------------- the property

/// Counts the panics of every thread of this process (the engine's included).
fn count_panics() -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    count
}

/// How many answers of each kind the run saw.
#[derive(Default)]
struct Tally {
    created: AtomicUsize,
    repeated: AtomicUsize,
    refused: AtomicUsize,
}

/// Posts `body` and checks the answer and the store; `Err` says what went wrong.
fn check_one(engine: &Background, tally: &Tally, body: &[u8]) -> Result<(), TestCaseError> {
    let shown = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    let before = snapshot(&engine.reader);
    let auth = bearer(API_KEY);
    let bytes = request(
        "POST",
        "/api/v1/invoices",
        &[("Authorization", &auth), ("Content-Type", "application/json")],
        Some(body),
    );
    let reply = exchange(&engine.base, &bytes, DEADLINE)
        .map_err(|e| TestCaseError::fail(format!("{shown}: no answer: {e}")))?;
    let after = snapshot(&engine.reader);
    let json = reply.json();
    match reply.status {
        201 => {
            prop_assert!(
                json["id"].as_str().is_some_and(|id| id.starts_with("inv_")),
                "{shown}: 201 {json}"
            );
            prop_assert_eq!(
                after.invoice_count,
                before.invoice_count + 1,
                "{}: 201 but not stored",
                shown
            );
            tally.created.fetch_add(1, Ordering::SeqCst);
        }
        200 => {
            prop_assert!(json["order_id"].is_string(), "{shown}: 200 without an order id: {json}");
            prop_assert_eq!(
                after.invoice_count,
                before.invoice_count,
                "{}: a repeat stored again",
                shown
            );
            prop_assert_eq!(
                after.ledger_len,
                before.ledger_len,
                "{}: a repeat took an address",
                shown
            );
            tally.repeated.fetch_add(1, Ordering::SeqCst);
        }
        400..=499 => {
            prop_assert!(
                json["error"]["code"].as_str().is_some_and(|c| !c.is_empty())
                    && json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{shown}: {} without the error object of api.md: {}",
                reply.status,
                reply.text()
            );
            prop_assert_eq!(
                after.invoice_count,
                before.invoice_count,
                "{}: a {} stored an invoice",
                shown,
                reply.status
            );
            prop_assert_eq!(
                after.ledger_len,
                before.ledger_len,
                "{}: a {} took an address",
                shown,
                reply.status
            );
            // The allocator may add addresses in the background; none may leave the pool.
            let kept = before.pool.iter().all(|a| after.pool.contains(a));
            prop_assert!(kept, "{shown}: a {} took an address from the pool", reply.status);
            tally.refused.fetch_add(1, Ordering::SeqCst);
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "{shown}: answered {other}: {}",
                reply.text()
            )));
        }
    }
    let health = exchange(&engine.base, &request("GET", "/healthz", &[], None), DEADLINE)
        .map_err(|e| TestCaseError::fail(format!("{shown}: /healthz did not answer afterwards: {e}")))?;
    prop_assert_eq!(health.status, 200, "{}: /healthz afterwards", shown);
    Ok(())
}

/// Bodies worth sending every run, whatever the random ones are.
fn fixed_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = valid_bodies().iter().map(|f| serialize(f)).collect();
    for text in [
        "",
        "{",
        "null",
        "[]",
        "\"amount\"",
        "{\"amount\": \"0.0007\"}}",
        "{\"amount\": \"0.0007\", \"amount\": \"0.0008\"}",
        "{\"amount_sats\": 1e400}",
        "{\"amount_sats\": 18446744073709551616}",
        "{\"amount_sats\": -0}",
        "{\"amount\": \"\\ud800\"}",
        "{\"amount\": \"0.0007\", \"metadata\": {\"a\": \"\\u0000\"}}",
        "\u{feff}{\"amount\": \"0.0007\"}",
    ] {
        bodies.push(text.as_bytes().to_vec());
    }
    let deep = |d: usize| {
        format!(
            "{{\"amount\": \"1\", \"metadata\": {{\"x\": {}{}}}}}",
            "[".repeat(d),
            "]".repeat(d)
        )
    };
    bodies.push(deep(126).into_bytes());
    bodies.push(deep(10_000).into_bytes());
    // Just under the body limit: a metadata object too big for its own limit.
    let filler = "x".repeat(60 * 1024);
    bodies.push(format!("{{\"amount\": \"1\", \"metadata\": {{\"k\": \"{filler}\"}}}}").into_bytes());
    bodies
}

#[test]
fn create_requests_get_2xx_or_4xx_and_a_4xx_stores_nothing() {
    let panics = count_panics();
    let engine = Background::start();

    let tally = Tally::default();
    for body in fixed_bodies() {
        check_one(&engine, &tally, &body).unwrap_or_else(|e| panic!("{e}"));
    }

    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&body(), |body| check_one(&engine, &tally, &body)) {
        panic!("{e}");
    }
    drop(engine);
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "a thread panicked during the run (see above)"
    );
    // The mix must reach both sides of the parser, and the idempotent path.
    let (created, repeated, refused) = (
        tally.created.load(Ordering::SeqCst),
        tally.repeated.load(Ordering::SeqCst),
        tally.refused.load(Ordering::SeqCst),
    );
    eprintln!("answers: {created} created, {repeated} repeated, {refused} refused");
    assert!(
        created >= 10 && repeated >= 1 && refused >= 100,
        "a degenerate mix: {created} created, {repeated} repeated, {refused} refused"
    );
}
