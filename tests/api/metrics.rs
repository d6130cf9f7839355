//! `GET /metrics`: well-formed Prometheus text with the series api.md lists,
//! moving with what happens (an invoice created, a failed RPC), and no secret.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::helpers::*;
use bchpay::config::Secret;
use bchpay::sim::{Sim, SimConfig};
use serde_json::json;

/// The daemon's password, an API key and the webhook secret: none may show.
const RPC_PASSWORD: &str = "rpc-pass-S3CRET-7f3a";
const SECRET_KEY: &str = "api-key-S3CRET-9a1c";
const WEBHOOK_SECRET: &str = "whsec-S3CRET-42bd";

/// One sample: `name{labels} value`.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition.
#[derive(Debug)]
struct Exposition {
    /// Metric family → type (`counter`, `gauge`, `histogram`, …).
    types: HashMap<String, String>,
    /// Metric family → help text.
    helps: HashMap<String, String>,
    /// Every sample, in order.
    samples: Vec<Sample>,
}

impl Exposition {
    /// The samples named `name` whose labels include `with`.
    fn find(&self, name: &str, with: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && with
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The one sample `name` with exactly these labels; 0 if absent.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self
            .find(name, labels)
            .into_iter()
            .filter(|s| s.labels.len() == labels.len())
            .collect();
        assert!(found.len() <= 1, "{name}{labels:?} appears {} times", found.len());
        found.first().map_or(0.0, |s| s.value)
    }

    /// The sum of every sample named `name`.
    fn sum(&self, name: &str) -> f64 {
        self.find(name, &[]).iter().map(|s| s.value).sum()
    }
}

/// Parses a label set `k="v",k2="v2"` (escapes `\\`, `\"`, `\n`).
fn parse_labels(text: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek() == Some(&',') || chars.peek() == Some(&' ') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "bad label name {key:?} in {line}"
        );
        assert_eq!(chars.next(), Some('='), "label without = in {line}");
        assert_eq!(chars.next(), Some('"'), "label value not quoted in {line}");
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some(c @ ('\\' | '"')) => value.push(c),
                    other => panic!("bad escape {other:?} in {line}"),
                },
                Some('"') => break,
                Some(c) => value.push(c),
                None => panic!("unterminated label value in {line}"),
            }
        }
        assert!(
            labels.insert(key.clone(), value).is_none(),
            "label {key} twice in {line}"
        );
    }
    labels
}

/// Parses the Prometheus text format (0.0.4), asserting it is well formed.
fn parse(text: &str) -> Exposition {
    let mut types = HashMap::new();
    let mut helps = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kind, name, tail) = (
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            match kind {
                "HELP" => assert!(
                    helps.insert(name.to_owned(), tail.to_owned()).is_none(),
                    "HELP {name} twice"
                ),
                "TYPE" => {
                    assert!(
                        ["counter", "gauge", "histogram", "summary", "untyped"].contains(&tail),
                        "bad type in {line}"
                    );
                    assert!(
                        types.insert(name.to_owned(), tail.to_owned()).is_none(),
                        "TYPE {name} twice"
                    );
                }
                _ => {}
            }
            continue;
        }
        assert!(!line.starts_with('#'), "a comment line must be '# …': {line}");
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value {v:?} in {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                (name, parse_labels(inner, line))
            }
            None => (series, BTreeMap::new()),
        };
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name {name:?}"
        );
        // The sample's family must be typed before it.
        let family = family_of(name, &types);
        assert!(family.is_some(), "sample {name} has no TYPE before it");
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Exposition { types, helps, samples }
}

/// The family a sample belongs to: itself, or a histogram/summary's base name.
fn family_of(name: &str, types: &HashMap<String, String>) -> Option<String> {
    if types.contains_key(name) {
        return Some(name.to_owned());
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if matches!(types.get(base).map(String::as_str), Some("histogram" | "summary")) {
                return Some(base.to_owned());
            }
        }
    }
    None
}

/// A label set without `le`, sorted.
type Labels = Vec<(String, String)>;

/// The conventions: `bchpay_` names, `_total` counters, histograms whose
/// buckets are cumulative, sorted, end at `+Inf` and equal `_count`.
fn check_conventions(e: &Exposition) {
    for (name, kind) in &e.types {
        assert!(name.starts_with("bchpay_"), "{name} lacks the bchpay_ prefix");
        assert!(e.helps.contains_key(name), "{name} has no HELP");
        if kind == "counter" {
            assert!(name.ends_with("_total"), "counter {name} does not end with _total");
        }
    }
    for s in &e.samples {
        assert!(s.name.starts_with("bchpay_"), "{} lacks the bchpay_ prefix", s.name);
    }
    for (name, _) in e.types.iter().filter(|(_, k)| *k == "histogram") {
        // Bucket series grouped by their labels other than `le`.
        let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        for s in e.find(&format!("{name}_bucket"), &[]) {
            let le = s.labels.get("le").unwrap_or_else(|| panic!("bucket without le: {s:?}"));
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("numeric le")
            };
            let rest: Labels = s
                .labels
                .iter()
                .filter(|(k, _)| *k != "le")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            series.entry(rest).or_default().push((bound, s.value));
        }
        for (labels, buckets) in &series {
            let with: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            assert!(
                buckets.windows(2).all(|w| w[0].0 < w[1].0),
                "{name}{with:?}: le not ascending"
            );
            assert!(
                buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                "{name}{with:?}: buckets not cumulative"
            );
            assert_eq!(
                buckets.last().map(|b| b.0),
                Some(f64::INFINITY),
                "{name}{with:?}: no +Inf bucket"
            );
            let count = e.value(&format!("{name}_count"), &with);
            assert_eq!(
                buckets.last().unwrap().1,
                count,
                "{name}{with:?}: +Inf bucket != _count"
            );
            assert_eq!(
                e.find(&format!("{name}_sum"), &with).len(),
                1,
                "{name}{with:?}: no _sum"
            );
        }
    }
}

/// An engine whose daemon, API and webhooks all have secrets, polling fast.
async fn spawn() -> TestApp {
    let sim = Sim::start(SimConfig {
        rpc_password: RPC_PASSWORD.into(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let app = TestApp::spawn_against(sim, |s| {
        s.electron_cash.rpc_password = Secret::new(RPC_PASSWORD);
        s.electron_cash.timeout_secs = 2;
        s.api.keys = vec![Secret::new(API_KEY), Secret::new(SECRET_KEY)];
        s.webhooks.secret = Secret::new(WEBHOOK_SECRET);
        s.webhooks.url = format!("http://127.0.0.1:{}/hook", free_port());
        s.payments.poll_interval_ms = 200;
    })
    .await;
    app.wait_pool_full().await;
    app
}

/// `GET /metrics` without a key: 200, the Prometheus content type, parsed and checked.
async fn scrape(app: &TestApp) -> (String, Exposition) {
    let mut response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"),
        "{content_type}"
    );
    let body = response.body().limit(4 * 1024 * 1024).await.expect("metrics body");
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    let parsed = parse(&text);
    check_conventions(&parsed);
    (text, parsed)
}

#[actix_rt::test]
async fn metrics_have_every_series_api_md_lists_and_follow_the_conventions() {
    let app = spawn().await;
    let (text, e) = scrape(&app).await;
    for (name, kind) in [
        ("bchpay_invoices", "gauge"),
        ("bchpay_invoices_created_total", "counter"),
        ("bchpay_rpc_calls_total", "counter"),
        ("bchpay_rpc_errors_total", "counter"),
        ("bchpay_rpc_latency_seconds", "histogram"),
        ("bchpay_wallet_link_up", "gauge"),
        ("bchpay_address_pool_available", "gauge"),
        ("bchpay_outbox_depth", "gauge"),
        ("bchpay_webhook_deliveries_total", "counter"),
        ("bchpay_confirmer_tick_duration_seconds", "gauge"),
    ] {
        assert_eq!(
            e.types.get(name).map(String::as_str),
            Some(kind),
            "{name} as a {kind} in:\n{text}"
        );
    }
    // By method: the pool was filled with createnewaddress, so that one is counted and timed.
    let calls = e.value("bchpay_rpc_calls_total", &[("method", "createnewaddress")]);
    assert!(calls >= 5.0, "createnewaddress calls: {calls}\n{text}");
    assert_eq!(
        e.value("bchpay_rpc_latency_seconds_count", &[("method", "createnewaddress")]),
        calls
    );
    assert!(
        e.find("bchpay_rpc_latency_seconds_bucket", &[("method", "createnewaddress")])
            .len()
            >= 2
    );
    for s in e.find("bchpay_rpc_calls_total", &[]) {
        assert!(s.labels.contains_key("method"), "{s:?}");
    }
    // The link is up, the pool is full, no webhook was due.
    assert_eq!(e.value("bchpay_wallet_link_up", &[]), 1.0, "{text}");
    assert_eq!(
        e.value("bchpay_address_pool_available", &[]),
        app.settings.addresses.pool_high as f64
    );
    assert_eq!(e.value("bchpay_outbox_depth", &[]), 0.0);
    for outcome in ["delivered", "retried", "failed"] {
        assert_eq!(
            e.find("bchpay_webhook_deliveries_total", &[("outcome", outcome)]).len(),
            1,
            "{outcome}"
        );
    }
    assert!(e.value("bchpay_confirmer_tick_duration_seconds", &[]) >= 0.0);
}

#[actix_rt::test]
async fn metrics_count_a_created_invoice() {
    let app = spawn().await;
    let (_, before) = scrape(&app).await;
    app.create_ok(&json!({"amount_sats": 10_000})).await;
    let (text, after) = scrape(&app).await;
    let new = |e: &Exposition| e.value("bchpay_invoices", &[("status", "new")]);
    let created = |e: &Exposition| e.value("bchpay_invoices_created_total", &[]);
    assert_eq!(new(&after), new(&before) + 1.0, "{text}");
    assert_eq!(created(&after), created(&before) + 1.0, "{text}");
    assert_eq!(after.sum("bchpay_invoices"), before.sum("bchpay_invoices") + 1.0);
}

#[actix_rt::test]
async fn metrics_count_a_failed_rpc_and_show_the_link_down() {
    let app = spawn().await;
    let (_, before) = scrape(&app).await;
    assert_eq!(before.sum("bchpay_rpc_errors_total"), 0.0, "no failure yet");
    app.sim.stop_listening().await;

    let after = eventually("an RPC error counted", Duration::from_secs(10), || async {
        let (_, e) = scrape(&app).await;
        (e.sum("bchpay_rpc_errors_total") > 0.0).then_some(e)
    })
    .await;
    for s in after.find("bchpay_rpc_errors_total", &[]) {
        assert!(s.labels.contains_key("method"), "errors are by method: {s:?}");
    }
    let down = eventually("the link down in /metrics", Duration::from_secs(10), || async {
        let (_, e) = scrape(&app).await;
        (e.value("bchpay_wallet_link_up", &[]) == 0.0).then_some(e)
    })
    .await;
    assert_eq!(down.value("bchpay_wallet_link_state", &[("state", "down")]), 1.0);
    assert_eq!(down.value("bchpay_wallet_link_state", &[("state", "up")]), 0.0);
}

#[actix_rt::test]
async fn metrics_reveal_no_secret() {
    let app = spawn().await;
    app.create_ok(&json!({"amount_sats": 10_000})).await;
    // Once with the link up, once after the daemon refused the credentials.
    let (up, _) = scrape(&app).await;
    app.sim.set_fault(bchpay::sim::Fault::Unauthorized);
    wait_wallet_state(&app.base, "unauthorized", Duration::from_secs(10)).await;
    let (refused, _) = scrape(&app).await;
    for text in [&up, &refused] {
        for secret in [RPC_PASSWORD, SECRET_KEY, API_KEY, WEBHOOK_SECRET, "S3CRET"] {
            assert!(!text.contains(secret), "/metrics shows {secret}:\n{text}");
        }
    }
}
