//! Security review of the HTTP surface (issues 7 and 13), one test per
//! finding or guard: every `/api/v1` route of the route table called without
//! a key, with wrong and revoked keys, with a key lacking only the permission
//! it needs, and with the right one; the key compare; unguessable ids and no
//! sequential id on a public route; escaping on the checkout page; request
//! and header size limits; the wallet-push route refusing before it reads;
//! and no secret in the logs of a full run of the real binary at
//! `RUST_LOG=trace`. No test here reads a source file: the routes come from
//! the table the server itself mounts (`bchpay::http::routes::API_V1`).

#[path = "api/helpers/mod.rs"]
mod helpers;

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bchpay::api_key::Permission;
use bchpay::config::Secret;
use bchpay::http::auth::authenticate;
use bchpay::http::routes::{ApiRoute, Body, ErrorShape};

/// bchpay's own rows of the table (Greenfield's answer in Greenfield's
/// shapes: tests/api/greenfield.rs walks those).
fn own_rows() -> impl Iterator<Item = &'static ApiRoute> {
    bchpay::http::routes::API_V1
        .iter()
        .filter(|r| r.errors == ErrorShape::Bchpay)
}
use bchpay::invoice::InvoiceId;
use bchpay::sim::{Fault, Sim, SimConfig};
use helpers::raw_http::{exchange, request, RawReply};
use helpers::receiver::Receiver;
use helpers::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// How long a request may take before it counts as a hang.
const DEADLINE: Duration = Duration::from_secs(5);

/// Runs the blocking raw client off the actix runtime that runs the engine.
async fn raw(base: &str, bytes: Vec<u8>) -> std::io::Result<RawReply> {
    let base = base.to_owned();
    actix_rt::task::spawn_blocking(move || exchange(&base, &bytes, DEADLINE))
        .await
        .expect("the raw client's thread")
}

/// An engine whose confirmer polls every 100 ms.
async fn fast_app() -> TestApp {
    TestApp::spawn_with(|s| s.payments.poll_interval_ms = 100).await
}

// ------------------------------------------------------------------ keys and permissions

/// The `Authorization` headers that must not open the API.
fn bad_auths() -> Vec<Option<String>> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{API_KEY}:"));
    vec![
        None,
        Some(bearer("wrong-key-0001")),
        Some(bearer(&format!("{API_KEY}x"))),
        Some(bearer(&API_KEY[..API_KEY.len() - 1])),
        Some(bearer(&API_KEY.to_uppercase())),
        Some(bearer("")),
        Some("Bearer".to_owned()),
        Some(API_KEY.to_owned()),
        Some(format!("Bearer:{API_KEY}")),
        Some(format!("Basic {basic}")),
        Some(format!("Basic {API_KEY}")),
        Some(bearer(&format!("{API_KEY} {API_KEY}"))),
        Some(bearer(&format!("{API_KEY},{API_KEY}"))),
    ]
}

/// `POST /api/v1/api-keys` with the configured key: (id, key).
async fn make_key(app: &TestApp, label: &str, permissions: &[&str]) -> (String, String) {
    let reply = send(
        &app.client,
        awc::http::Method::POST,
        &format!("{}/api/v1/api-keys", app.base),
        Some(&bearer(API_KEY)),
        Some(
            json!({"label": label, "permissions": permissions})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let key = reply.body["key"].as_str().expect("the key").to_owned();
    assert!(
        key.len() == 40 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{key}"
    );
    (reply.body["id"].as_str().expect("an id").to_owned(), key)
}

/// `DELETE /api/v1/api-keys/{id}` with the configured key.
async fn revoke_key(app: &TestApp, id: &str) {
    let reply = send(
        &app.client,
        awc::http::Method::DELETE,
        &format!("{}/api/v1/api-keys/{id}", app.base),
        Some(&bearer(API_KEY)),
        None,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// What the matrix calls a route with.
struct Targets {
    /// An invoice with an event.
    invoice: String,
    /// One of its events.
    event: String,
    /// A key that `DELETE /api-keys/{id}` may take.
    victim: String,
}

/// The URL of `route` with its parameters filled, and the body it is sent.
fn call_of(app: &TestApp, route: &ApiRoute, t: &Targets) -> (String, Option<Vec<u8>>) {
    let path = route.full_path();
    let filled = match route.path {
        "/invoices/{id}" | "/admin/invoices/{id}" => path.replace("{id}", &t.invoice),
        "/events/{id}/redeliver" => path.replace("{id}", &t.event),
        "/api-keys/{id}" => path.replace("{id}", &t.victim),
        _ => path,
    };
    assert!(
        !filled.contains('{'),
        "{filled}: a path parameter this test does not fill"
    );
    let body = match (route.body, route.path) {
        (Body::Json, "/invoices") => Some(json!({"amount_sats": 5000})),
        (Body::Json, "/api-keys") => Some(json!({"label": "made in the matrix", "permissions": ["unrestricted"]})),
        (Body::Json, other) => panic!("{other}: a JSON body this test does not know"),
        (Body::None, _) => None,
    };
    (
        format!("{}{filled}", app.base),
        body.map(|b| b.to_string().into_bytes()),
    )
}

/// Sends `route` with this `Authorization` header.
async fn call(app: &TestApp, route: &ApiRoute, t: &Targets, auth: Option<&str>) -> Reply {
    let (url, body) = call_of(app, route, t);
    let method = awc::http::Method::from_bytes(route.verb.as_str().as_bytes()).unwrap();
    send(&app.client, method, &url, auth, body).await
}

/// What the refused calls must leave alone: invoices, pool, events, keys.
async fn everything(app: &TestApp) -> (StoreSnapshot, Value, Value) {
    (
        app.snapshot(),
        app.get("/api/v1/events").await.body,
        app.get("/api/v1/api-keys").await.body,
    )
}

#[actix_rt::test]
async fn every_route_of_the_table_answers_401_403_or_opens_as_its_permission_says() {
    let app = TestApp::spawn_with(|s| {
        s.payments.poll_interval_ms = 100;
        // Somewhere to redeliver to (nothing listens: the attempts fail, the route answers).
        s.webhooks.url = format!("http://127.0.0.1:{}/hook", free_port());
        s.webhooks.secret = Secret::new("whsec-matrix");
    })
    .await;
    let invoice = app
        .create_ok(&json!({"amount_sats": 100_000, "order_id": "sec-1"}))
        .await;
    let id = invoice["id"].as_str().unwrap().to_owned();
    app.sim.pay(invoice["address"].as_str().unwrap(), 40_000).unwrap();
    let event = eventually("an event", Duration::from_secs(5), || async {
        let reply = app.get(&format!("/api/v1/events?invoice_id={id}")).await;
        reply.body["events"][0]["id"].as_str().map(str::to_owned)
    })
    .await;
    let (victim, _) = make_key(&app, "victim", &["btcpay.store.canviewinvoices"]).await;
    let (revoked_id, revoked) = make_key(&app, "revoked", &["unrestricted"]).await;
    // The revoked key worked a moment before.
    assert_eq!(
        app.get_with("/api/v1/admin/stats", Some(&bearer(&revoked)))
            .await
            .status,
        200
    );
    revoke_key(&app, &revoked_id).await;
    let targets = Targets {
        invoice: id.clone(),
        event,
        victim,
    };
    let mut auths = bad_auths();
    auths.push(Some(bearer(&revoked)));
    auths.push(Some(format!("token {revoked}")));

    // Refused: 401, the same bytes everywhere; 403 naming the permission.
    let mut lacking_keys = Vec::new();
    for route in own_rows() {
        // A row that needs only a key has no key lacking anything.
        let Some(needed) = route.permission else {
            lacking_keys.push(None);
            continue;
        };
        let others: Vec<&str> = Permission::ALL
            .iter()
            .filter(|p| **p != needed && **p != Permission::Unrestricted)
            .map(|p| p.as_str())
            .collect();
        let (_, key) = make_key(&app, "all but one", &others).await;
        lacking_keys.push(Some((needed, key)));
    }
    let before = everything(&app).await;
    let mut first_401: Option<Value> = None;
    for (route, lacking) in own_rows().zip(&lacking_keys) {
        let shown = |auth: &Option<String>| format!("{} {} with {auth:?}", route.verb.as_str(), route.path);
        for auth in &auths {
            let reply = call(&app, route, &targets, auth.as_deref()).await;
            let shown = shown(auth);
            assert_eq!(reply.status, 401, "{shown}: {}", reply.body);
            let error = reply.body["error"]
                .as_object()
                .unwrap_or_else(|| panic!("{shown}: {}", reply.body));
            assert_eq!(reply.body.as_object().unwrap().len(), 1, "{shown}: {}", reply.body);
            assert_eq!(error["code"], "unauthorized", "{shown}");
            let mut keys: Vec<&str> = error.keys().map(String::as_str).collect();
            keys.sort();
            assert_eq!(keys, ["code", "message"], "{shown}: {}", reply.body);
            assert!(!reply.body.to_string().contains(API_KEY), "{shown}: the key is echoed");
            // The same words whatever the route, the resource or the key: no oracle.
            match &first_401 {
                None => first_401 = Some(reply.body.clone()),
                Some(first) => assert_eq!(&reply.body, first, "{shown}"),
            }
        }
        let Some((needed, lacking)) = lacking else { continue };
        for auth in [bearer(lacking), format!("TOKEN {lacking}")] {
            let reply = call(&app, route, &targets, Some(&auth)).await;
            assert_error(&reply, 403, "missing_permission", Some(needed.as_str()));
        }
    }
    // Nothing moved: no invoice created, no redelivery queued, no key made or revoked.
    assert_eq!(everything(&app).await, before);

    // Opened: by a key with that permission alone, and by the configured (unrestricted) key.
    for route in own_rows() {
        let only_one = route.permission.unwrap_or(Permission::CanViewInvoices);
        let (_, only) = make_key(&app, "only the one", &[only_one.as_str()]).await;
        for auth in [bearer(&only), format!("token {only}"), bearer(API_KEY)] {
            let (victim, _) = make_key(&app, "victim", &["btcpay.store.canviewinvoices"]).await;
            let targets = Targets {
                victim,
                ..targets_ref(&targets)
            };
            let reply = call(&app, route, &targets, Some(&auth)).await;
            assert!(
                (200..300).contains(&reply.status),
                "{} {} with a key holding {}: {} {}",
                route.verb.as_str(),
                route.path,
                only_one,
                reply.status,
                reply.body
            );
        }
    }
}

/// A copy of `t` (its strings).
fn targets_ref(t: &Targets) -> Targets {
    Targets {
        invoice: t.invoice.clone(),
        event: t.event.clone(),
        victim: t.victim.clone(),
    }
}

#[actix_rt::test]
async fn a_path_under_api_v1_that_no_route_has_needs_a_key_and_is_404_with_one() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/v1/no-such-route",
        "/api/v1/invoices/x/y",
        "/api/v1/",
        "/api/v1/api-keys/key_0123456789abcdef/x",
    ] {
        let reply = app.get_with(path, None).await;
        assert_error(&reply, 401, "unauthorized", None);
        let reply = app.get(path).await;
        assert_error(&reply, 404, "not_found", None);
    }
    // A known path with a method it does not take.
    let reply = send(
        &app.client,
        awc::http::Method::PUT,
        &format!("{}/api/v1/invoices", app.base),
        Some(&bearer(API_KEY)),
        None,
    )
    .await;
    assert_eq!(reply.status, 405, "{}", reply.body);
}

#[actix_rt::test]
async fn a_key_made_through_the_api_is_shown_once_and_marked_used() {
    let app = TestApp::spawn().await;
    let (id, key) = make_key(
        &app,
        "web shop",
        &["btcpay.store.cancreateinvoice", "btcpay.store.canviewinvoices"],
    )
    .await;
    let listed = app.get("/api/v1/api-keys").await;
    assert_eq!(listed.status, 200);
    assert!(
        !listed.body.to_string().contains(&key),
        "the key is listed: {}",
        listed.body
    );
    let shown = &listed.body["api_keys"][0];
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["last_used_at"], Value::Null);
    assert_eq!(
        shown["permissions"],
        json!(["btcpay.store.canviewinvoices", "btcpay.store.cancreateinvoice"])
    );
    // The shop's key creates and reads, and nothing else.
    let created = app
        .post_raw(
            json!({"amount_sats": 1000}).to_string().into_bytes(),
            Some(&bearer(&key)),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let denied = app.get_with("/api/v1/admin/stats", Some(&bearer(&key))).await;
    assert_error(&denied, 403, "missing_permission", Some("unrestricted"));
    // Its use is written down off the request's path: wait for it.
    eventually("last_used_at", Duration::from_secs(5), || async {
        let listed = app.get("/api/v1/api-keys").await;
        listed.body["api_keys"][0]["last_used_at"].as_str().map(str::to_owned)
    })
    .await;
}

#[actix_rt::test]
async fn the_key_is_checked_before_the_body_is_read() {
    let app = TestApp::spawn().await;
    let (_, viewer) = make_key(&app, "viewer", &["btcpay.store.canviewinvoices"]).await;
    let before = app.snapshot();
    let invalid = app.post_raw(b"{not json".to_vec(), None).await;
    assert_error(&invalid, 401, "unauthorized", None);
    let invalid = app.post_raw(b"{not json".to_vec(), Some(&bearer(&viewer))).await;
    assert_error(
        &invalid,
        403,
        "missing_permission",
        Some("btcpay.store.cancreateinvoice"),
    );
    // A body announced as 200 KiB that never comes: answered at once, not read.
    for (auth, status) in [
        (String::new(), 401),
        (format!("Authorization: Bearer {viewer}\r\n"), 403),
    ] {
        let head = format!(
            "POST /api/v1/invoices HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
             {auth}Content-Length: {}\r\n\r\n{{",
            200 * 1024
        );
        let reply = raw(&app.base, head.into_bytes())
            .await
            .expect("an answer without the body");
        assert_eq!(reply.status, status, "{}", reply.text());
    }
    assert_eq!(app.snapshot(), before);
}

// ------------------------------------------------------------------ the key compare

/// A store with no key, for [`authenticate`] (opened once for all cases).
fn empty_store() -> &'static bchpay::store::StoreReader {
    static STORE: OnceLock<(tempfile::TempDir, bchpay::store::StoreReader)> = OnceLock::new();
    &STORE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = bchpay::store::Store::open(dir.path().join("store")).expect("a store");
            (dir, store.reader())
        })
        .1
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// The compare is exact: a key matches wherever it sits in the list, and
    /// nothing else does (prefixes, extensions, other keys).
    #[test]
    fn the_key_compare_is_exact(
        keys in prop::collection::vec("[!-~]{1,40}", 1..6),
        at in any::<prop::sample::Index>(),
        other in "[!-~]{0,41}",
    ) {
        let secrets: Vec<Secret> = keys.iter().map(Secret::new).collect();
        let matches = |k: &str| authenticate(k, &secrets, empty_store()).expect("a read").is_some();
        let key = &keys[at.index(keys.len())];
        prop_assert!(matches(key));
        prop_assert_eq!(matches(&other), keys.contains(&other));
        let longer = format!("{key}x");
        prop_assert_eq!(matches(&longer), keys.contains(&longer));
        let shorter = &key[..key.len() - 1];
        prop_assert_eq!(matches(shorter), keys.iter().any(|k| k == shorter));
    }
}

// ------------------------------------------------------------------ ids

/// The 128-bit value of an invoice id, checking its form: `inv_` + 22 base62 digits.
fn invoice_id_value(id: &str) -> u128 {
    const BASE62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let digits = id
        .strip_prefix("inv_")
        .unwrap_or_else(|| panic!("{id}: no inv_ prefix"));
    assert_eq!(digits.len(), 22, "{id}: 22 base62 digits");
    digits.chars().fold(0u128, |v, c| {
        let d = BASE62.find(c).unwrap_or_else(|| panic!("{id}: {c:?} is not base62"));
        v.checked_mul(62)
            .and_then(|v| v.checked_add(d as u128))
            .unwrap_or_else(|| panic!("{id}: more than 128 bits"))
    })
}

/// Values of `bits` random bits: each bit set in about half of them, and no
/// order (about half the neighbours go up). A counter, a timestamp or a
/// narrower random part fails one or the other; for a thousand fair values
/// both bounds are more than 6 standard deviations away.
fn assert_random(values: &[u128], bits: u32, what: &str) {
    let n = values.len();
    assert_eq!(values.iter().collect::<HashSet<_>>().len(), n, "{what}: repeated");
    for bit in 0..bits {
        let ones = values.iter().filter(|v| (*v >> bit) & 1 == 1).count();
        assert!(
            ones * 100 >= n * 35 && ones * 100 <= n * 65,
            "{what}: bit {bit} set in {ones} of {n}"
        );
    }
    let ups = values.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        ups * 100 >= (n - 1) * 40 && ups * 100 <= (n - 1) * 60,
        "{what}: {ups} of {} neighbours increase: a sequence",
        n - 1
    );
}

#[test]
fn invoice_ids_carry_128_random_bits() {
    let values: Vec<u128> = (0..1000)
        .map(|_| {
            let id = InvoiceId::generate();
            assert_eq!(InvoiceId::parse(id.as_str()), Ok(id.clone()));
            invoice_id_value(id.as_str())
        })
        .collect();
    assert_random(&values, 128, "invoice ids");
}

#[test]
fn event_ids_carry_their_invoices_128_random_bits_and_64_of_their_own() {
    let invoice = InvoiceId::generate();
    let digits = invoice.as_str().strip_prefix("inv_").unwrap();
    let values: Vec<u128> = (0..1000u64)
        .map(|seq| {
            let e = bchpay::event::Event::new(
                seq,
                bchpay::invoice::lifecycle::EventKind::Paid,
                invoice.clone(),
                seq,
                json!({}),
                None,
                chrono::Utc::now(),
            );
            let rest = e.id.strip_prefix("evt_").unwrap_or_else(|| panic!("{}: no evt_", e.id));
            let (named, tag) = rest.split_once('_').unwrap_or_else(|| panic!("{}: no tag", e.id));
            assert_eq!(named, digits, "{}: names another invoice", e.id);
            assert_eq!(tag.len(), 16, "{}", e.id);
            u128::from_str_radix(tag, 16).unwrap_or_else(|_| panic!("{}: not hex", e.id))
        })
        .collect();
    assert_random(&values, 64, "event id tags");
}

#[actix_rt::test]
async fn public_routes_take_only_the_random_id() {
    let app = fast_app().await;
    let mut ids = Vec::new();
    let mut last = None;
    for i in 0..20 {
        let inv = app
            .create_ok(&json!({"amount_sats": 10_000 + i, "order_id": format!("ord-{i}")}))
            .await;
        ids.push(inv["id"].as_str().unwrap().to_owned());
        last = Some(inv);
    }
    let values: Vec<u128> = ids.iter().map(|id| invoice_id_value(id)).collect();
    assert_eq!(values.iter().collect::<HashSet<_>>().len(), 20);
    let mut sorted = values.clone();
    sorted.sort();
    assert_ne!(sorted, values, "ids come out in creation order");

    let last = last.unwrap();
    let real = last["id"].as_str().unwrap();
    app.sim.pay(last["address"].as_str().unwrap(), 1000).unwrap();
    let event = eventually("an event", Duration::from_secs(5), || async {
        let reply = app.get(&format!("/api/v1/events?invoice_id={real}")).await;
        reply.body["events"].as_array().and_then(|e| e.first().cloned())
    })
    .await;
    assert!(event["id"]
        .as_str()
        .is_some_and(|e| e.starts_with(&format!("evt_{}_", &real[4..])) && e.len() == 43));
    assert_eq!(app.get_with(&format!("/i/{real}/status"), None).await.status, 200);

    // Whatever else names an invoice opens nothing on the public routes.
    let zero_id = bchpay::invoice::InvoiceId::from_bytes([0; 16]);
    let one_id = bchpay::invoice::InvoiceId::from_bytes(1u128.to_be_bytes());
    let mut next = invoice_id_value(real).wrapping_add(1).to_be_bytes();
    next[0] &= 0x7f;
    let next_id = bchpay::invoice::InvoiceId::from_bytes(next);
    for other in [
        "0",
        "1",
        "19",
        "20",
        "00000000000000000000001",
        "ord-19",
        last["address"].as_str().unwrap(),
        event["id"].as_str().unwrap(),
        &real.to_lowercase(),
        &real["inv_".len()..],
        &format!("{real}0"),
        zero_id.as_str(),
        one_id.as_str(),
        next_id.as_str(),
    ] {
        for path in [format!("/i/{other}"), format!("/i/{other}/status")] {
            let reply = app.get_with(&path, None).await;
            assert_eq!(reply.status, 404, "{path}");
        }
    }
}

// ------------------------------------------------------------------ the checkout page

#[actix_rt::test]
async fn shop_strings_are_escaped_or_absent_on_the_checkout_page() {
    let app = TestApp::spawn().await;
    let description = "<script>alert(\"d\")</script><img src=x onerror='alert(2)'>&amp;";
    let order_id = "<script>alert('o')</script>";
    let metadata = json!({"note": "</script><script>alert(3)</script>", "email": "buyer@example.com"});
    let webhook_url = "https://hooks.internal.example/secret-path-7f3a";
    // A redirect URL with a quote and markup where the URI grammar allows them.
    let redirect_url = "https://shop.example/back?a=1&b='x'&c=</a><script>alert(4)</script>";
    let created = app
        .create(&json!({
            "amount": "0.0007", "description": description, "order_id": order_id, "metadata": metadata,
            "webhook_url": webhook_url, "redirect_url": redirect_url, "required_confirmations": 0,
        }))
        .await;
    let redirect_kept = match created.status {
        201 => true,
        400 if created.body["error"]["field"] == "redirect_url" => false,
        _ => panic!("{}: {}", created.status, created.body),
    };
    let invoice = if redirect_kept {
        created.body
    } else {
        // The URI grammar refused `<` and `"`: keep the single quote, which it allows.
        app.create_ok(&json!({
            "amount": "0.0007", "description": description, "order_id": order_id, "metadata": metadata,
            "webhook_url": webhook_url, "redirect_url": "https://shop.example/back?a=1&b='x'", "required_confirmations": 0,
        }))
        .await
    };
    let id = invoice["id"].as_str().unwrap();
    let plain = app.create_ok(&json!({"amount": "0.0007"})).await;
    // Paid and confirmed, so that the way back is on the page.
    app.sim.pay(invoice["address"].as_str().unwrap(), 70_000).unwrap();

    let page = |id: String| {
        let base = app.base.clone();
        async move {
            let reply = raw(&base, request("GET", &format!("/i/{id}"), &[], None))
                .await
                .unwrap();
            assert_eq!(reply.status, 200);
            (reply.text(), reply.header("content-security-policy").map(str::to_owned))
        }
    };
    let html = eventually("the confirmed page", Duration::from_secs(15), || async {
        let (html, _) = page(id.to_owned()).await;
        html.contains("id=\"back\"").then_some(html)
    })
    .await;
    let (plain_html, csp) = page(plain["id"].as_str().unwrap().to_owned()).await;

    // No element, attribute or script the shop wrote: as many <script and
    // on…= as the page of an invoice without shop strings.
    for markup in ["<script", "<img", "onerror='", "</a><"] {
        assert_eq!(
            html.matches(markup).count(),
            plain_html.matches(markup).count(),
            "{markup} injected:\n{html}"
        );
    }
    assert!(
        html.contains(
            "&lt;script&gt;alert(&quot;d&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;alert(2)&#39;&gt;&amp;amp;"
        ),
        "the description, escaped:\n{html}"
    );
    let href = html
        .split("id=\"back\"")
        .nth(1)
        .and_then(|rest| rest.split("href=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("the way back's href");
    assert!(href.starts_with("https://shop.example/back?"), "{href}");
    assert!(!href.contains('\'') && !href.contains('<'), "{href}");
    assert!(href.contains("&#39;x&#39;"), "the quote, escaped: {href}");
    // The shop's own words stay off the customer's page.
    for private in [
        "alert('o')",
        "alert(&#39;o&#39;)",
        "alert(3)",
        "buyer@example.com",
        "hooks.internal.example",
    ] {
        assert!(!html.contains(private), "{private} is on the public page");
    }
    let status = app.get_with(&format!("/i/{id}/status"), None).await.body;
    for private in ["order_id", "metadata", "webhook_url", "description"] {
        assert!(
            status.get(private).is_none(),
            "{private} in the public status: {status}"
        );
    }
    let csp = csp.expect("a Content-Security-Policy");
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

// ------------------------------------------------------------------ sizes

#[actix_rt::test]
async fn a_body_over_64_kib_is_413_before_it_is_read_and_64_kib_is_read() {
    let app = TestApp::spawn().await;
    let auth = bearer(API_KEY);
    let before = app.snapshot();
    // 70 KiB announced, 1 KiB sent: the answer comes without the rest.
    let mut head = format!(
        "POST /api/v1/invoices HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        70 * 1024
    )
    .into_bytes();
    head.extend_from_slice(&[b' '; 1024]);
    let started = Instant::now();
    let reply = raw(&app.base, head).await.expect("an answer before the body is sent");
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(reply.json()["error"]["code"], "payload_too_large");
    assert!(started.elapsed() < DEADLINE);

    // Chunked, no length given: counted as it comes, refused past 64 KiB.
    let mut chunked = format!(
        "POST /api/v1/invoices HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..9 {
        chunked.extend_from_slice(format!("{:x}\r\n", 8 * 1024).as_bytes());
        chunked.extend_from_slice(&[b' '; 8 * 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let reply = raw(&app.base, chunked).await.expect("an answer to a chunked body");
    assert_eq!(reply.status, 413, "{}", reply.text());
    assert_eq!(app.snapshot(), before);

    // Exactly 64 KiB is read and served.
    let json = br#"{"amount": "0.0007"}"#;
    let mut body = vec![b' '; 64 * 1024 - json.len()];
    body.extend_from_slice(json);
    let reply = raw(
        &app.base,
        request(
            "POST",
            "/api/v1/invoices",
            &[("Authorization", &auth), ("Content-Type", "application/json")],
            Some(&body),
        ),
    )
    .await
    .unwrap();
    assert_eq!(reply.status, 201, "{}", reply.text());
}

#[actix_rt::test]
async fn huge_headers_and_urls_get_a_4xx_not_a_hang_or_a_5xx() {
    let app = TestApp::spawn().await;
    let auth = bearer(API_KEY);
    let big = |kib: usize| "a".repeat(kib * 1024);
    let many: Vec<(String, String)> = (0..200).map(|i| (format!("X-H{i}"), "v".to_owned())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        (
            "a 200 KiB header",
            request("GET", "/healthz", &[("X-Big", &big(200))], None),
            &[431, 400],
        ),
        (
            "a 200 KiB Authorization header",
            request("GET", "/api/v1/invoices", &[("Authorization", &big(200))], None),
            &[431, 400],
        ),
        ("200 headers", request("GET", "/healthz", &many, None), &[431, 400]),
        (
            "a 100 KiB key",
            request(
                "GET",
                "/api/v1/invoices",
                &[("Authorization", &bearer(&big(100)))],
                None,
            ),
            &[401],
        ),
        (
            "a 100 KiB path",
            request("GET", &format!("/i/{}", big(100)), &[], None),
            &[404, 414, 400],
        ),
        (
            "a 100 KiB query",
            request(
                "GET",
                &format!("/api/v1/invoices?status={}", big(100)),
                &[("Authorization", &auth)],
                None,
            ),
            &[400, 414],
        ),
        (
            "a 100 KiB cursor",
            request(
                "GET",
                &format!("/api/v1/events?cursor={}", big(100)),
                &[("Authorization", &auth)],
                None,
            ),
            &[400, 414],
        ),
        (
            "a 200 KiB URL",
            request("GET", &format!("/i/{}", big(200)), &[], None),
            &[414, 431, 400],
        ),
    ];
    for (what, bytes, allowed) in cases {
        let reply = raw(&app.base, bytes)
            .await
            .unwrap_or_else(|e| panic!("{what}: no answer: {e}"));
        assert!(
            allowed.contains(&reply.status),
            "{what}: {} {}",
            reply.status,
            reply.text()
        );
        let health = raw(&app.base, request("GET", "/healthz", &[], None)).await.unwrap();
        assert_eq!(health.status, 200, "after {what}");
    }
}

#[actix_rt::test]
async fn a_request_head_that_never_ends_is_dropped() {
    let app = TestApp::spawn().await;
    let base = app.base.clone();
    let reply = actix_rt::task::spawn_blocking(move || {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(raw_http::authority(&base)).unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        raw_http::read_reply(&mut stream, Instant::now(), Duration::from_secs(15))
    })
    .await
    .unwrap();
    // actix-web's client request timeout (5 s): 408, or the connection closed.
    match reply {
        Ok(r) => assert_eq!(r.status, 408, "{}", r.text()),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof, "{e}"),
    }
}

// ------------------------------------------------------------------ wallet pushes

#[actix_rt::test]
async fn the_wallet_push_route_refuses_a_wrong_token_before_reading_the_body() {
    let token = "pushtoken0123456789abcdef";
    let app = TestApp::spawn_with(|s| {
        s.electron_cash.notify_url = format!("http://127.0.0.1:9/wallet/notify/{token}");
    })
    .await;
    // A wrong token with a body announced but never sent: a 404 at once.
    for path in ["/wallet/notify/wrong-token-0000000000", "/wallet/notify/x"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n\
             Content-Length: 200000\r\n\r\n{{"
        );
        let reply = raw(&app.base, head.into_bytes())
            .await
            .unwrap_or_else(|e| panic!("{path}: no answer without the body: {e}"));
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
    }
    // The right token: a push is small; a big one is refused.
    let path = format!("/wallet/notify/{token}");
    let push = json!({"address": app.sim.new_address(), "status": "x"}).to_string();
    let reply = raw(&app.base, request("POST", &path, &[], Some(push.as_bytes())))
        .await
        .unwrap();
    assert_eq!(reply.status, 200, "{}", reply.text());
    let padded = format!("{push:<8192}");
    let reply = raw(&app.base, request("POST", &path, &[], Some(padded.as_bytes())))
        .await
        .unwrap();
    assert_eq!(reply.status, 413, "{}", reply.text());
}

// ------------------------------------------------------------------ secrets in logs

/// Distinct values, so that a match in the logs can only be the secret.
const LOG_API_KEY: &str = "apikey-SECRET-5b1e0c7d9a";
const LOG_WRONG_KEY: &str = "wrongkey-SECRET-2f8a61c4";
const LOG_RPC_PASSWORD: &str = "rpcpass-SECRET-9c3d7e21";
const LOG_WEBHOOK_SECRET: &str = "whsec-SECRET-4a6b8c0d2e";
const LOG_NOTIFY_TOKEN: &str = "notifytoken-SECRET-7d5c3b1a";

#[actix_rt::test]
async fn no_secret_is_logged_at_trace_during_a_full_run() {
    let sim = Sim::start(SimConfig {
        rpc_password: LOG_RPC_PASSWORD.into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let receiver = Receiver::up();
    let config = format!(
        "[api]\nkeys = [\"{LOG_API_KEY}\"]\n[addresses]\npool_low = 2\npool_high = 5\n\
         [payments]\npoll_interval_ms = 100\n\
         [webhooks]\nurl = \"{}\"\ntimeout_secs = 2\nretry_schedule_secs = [1]\n\
         [electron_cash]\nurl = \"{}\"\nrpc_user = \"bchrpc\"\ntimeout_secs = 2\n\
         notify_url = \"http://127.0.0.1:9/wallet/notify/{LOG_NOTIFY_TOKEN}\"\n",
        receiver.url(),
        sim.url()
    );
    let mut engine = Engine::spawn(
        &config,
        &[
            ("RUST_LOG", "trace"),
            ("BCHPAY_RPC_PASSWORD", LOG_RPC_PASSWORD),
            ("BCHPAY_WEBHOOK_SECRET", LOG_WEBHOOK_SECRET),
        ],
    );
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    let client = client();
    let url = |path: &str| format!("{}{path}", engine.base);

    // Create, pay, mine: the webhook goes out signed.
    let created = send(
        &client,
        awc::http::Method::POST,
        &url("/api/v1/invoices"),
        Some(&bearer(LOG_API_KEY)),
        Some(json!({"amount_sats": 50_000}).to_string().into_bytes()),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    // A key made through the API, and used.
    let made = send(
        &client,
        awc::http::Method::POST,
        &url("/api/v1/api-keys"),
        Some(&format!("token {LOG_API_KEY}")),
        Some(
            json!({"label": "logged?", "permissions": ["btcpay.store.canviewinvoices"]})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let made_key = made.body["key"].as_str().unwrap().to_owned();
    let read = send(
        &client,
        awc::http::Method::GET,
        &url(&format!("/api/v1/invoices/{id}")),
        Some(&bearer(&made_key)),
        None,
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.body);
    sim.pay(created.body["address"].as_str().unwrap(), 50_000).unwrap();
    sim.mine(1);
    receiver
        .wait("a signed invoice.confirmed", Duration::from_secs(15), |got| {
            got.iter()
                .any(|d| d.kind() == "invoice.confirmed" && d.header("Bchpay-Signature").is_some())
        })
        .await;
    // A wallet push with the right token.
    let push = send(
        &client,
        awc::http::Method::POST,
        &url(&format!("/wallet/notify/{LOG_NOTIFY_TOKEN}")),
        None,
        Some(
            json!({"address": created.body["address"], "status": "x"})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(push.status, 200, "{}", push.body);
    // What an operator and an attacker read.
    for path in ["/metrics", "/readyz", &format!("/i/{id}"), &format!("/i/{id}/status")] {
        let reply = client.get(url(path)).send().await.unwrap();
        assert!(reply.status().is_success(), "{path}");
    }
    let bad = send(
        &client,
        awc::http::Method::GET,
        &url("/api/v1/invoices"),
        Some(&bearer(LOG_WRONG_KEY)),
        None,
    )
    .await;
    assert_eq!(bad.status, 401);
    // The daemon rejects the credentials.
    sim.set_fault(Fault::Unauthorized);
    wait_wallet_state(&engine.base, "unauthorized", Duration::from_secs(10)).await;

    // Stop it, and wait for its last words, so that the whole log is read.
    assert_eq!(engine.terminate(Duration::from_secs(10)), Some(0));
    let output = eventually("the engine's last log line", Duration::from_secs(5), || async {
        let out = engine.output();
        out.contains("bchpay stopped").then_some(out)
    })
    .await;

    // The log is the trace log of that run (else finding nothing proves nothing).
    assert!(output.contains("TRACE"), "not a trace log:\n{output}");
    assert!(output.contains(&id), "the run is not in the log:\n{output}");
    assert!(
        output.to_lowercase().contains("unauthorized"),
        "the daemon's 401 is not in the log"
    );
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("bchrpc:{LOG_RPC_PASSWORD}"));
    for (what, secret) in [
        ("the API key", LOG_API_KEY),
        ("the key made through the API", made_key.as_str()),
        ("a wrong API key", LOG_WRONG_KEY),
        ("the RPC password", LOG_RPC_PASSWORD),
        ("the RPC Basic credentials", basic.as_str()),
        ("the webhook secret", LOG_WEBHOOK_SECRET),
        ("the notify token", LOG_NOTIFY_TOKEN),
        ("any secret", "SECRET"),
    ] {
        let lines: Vec<&str> = output.lines().filter(|l| l.contains(secret)).take(5).collect();
        assert!(lines.is_empty(), "{what} is in the log:\n{}", lines.join("\n"));
    }
}
