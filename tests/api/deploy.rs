//! `deploy/`: the Prometheus alert rules and the Grafana dashboard an operator
//! installs. The rules pass `promtool check rules` and their own unit tests
//! (`promtool test rules`), every alert points at a runbook section that the
//! README has, the dashboard is a Grafana model with valid PromQL, and every
//! metric name either of them uses is one that `/metrics` exports.
//!
//! promtool comes with Debian's `prometheus` package (`.ci/run` installs it).
//! Without it the promtool tests fail under `CI` and say SKIPPED elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::helpers::*;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

/// The alert rules.
const ALERTS: &str = "deploy/prometheus/alerts.yml";
/// Their promtool unit tests.
const ALERTS_TEST: &str = "deploy/prometheus/alerts_test.yml";
/// The Grafana dashboard.
const DASHBOARD: &str = "deploy/grafana/bchpay.json";
/// Where the runbook lives.
const README: &str = "README.md";

/// A file of the repository, by its path from the crate root.
fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// `promtool` when it runs; `None` (after [`skip_unless_ci`]) when it does not.
fn promtool() -> Option<&'static str> {
    let runs = Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return Some("promtool");
    }
    skip_unless_ci("promtool is not on PATH: apt-get install -y --no-install-recommends prometheus");
    None
}

/// Runs `promtool ARGS` in the crate root; its output, asserted successful.
fn run_promtool(promtool: &str, args: &[&str]) -> String {
    let Output { status, stdout, stderr } = Command::new(promtool)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    assert!(status.success(), "promtool {args:?} failed:\n{text}");
    text
}

/// One alerting rule of alerts.yml.
struct Alert {
    name: String,
    expr: String,
    annotations: BTreeMap<String, String>,
}

/// The alerting rules of `alerts.yml`, in order.
fn alerts() -> Vec<Alert> {
    let doc: Yaml = serde_norway::from_str(&read(ALERTS)).expect("alerts.yml is YAML");
    let groups = doc["groups"].as_sequence().expect("groups");
    let mut alerts = Vec::new();
    for rule in groups.iter().flat_map(|g| g["rules"].as_sequence().expect("rules")) {
        let name = rule["alert"].as_str().expect("only alerting rules").to_owned();
        let expr = rule["expr"].as_str().expect("expr").to_owned();
        let annotations = rule["annotations"]
            .as_mapping()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.as_str().unwrap_or("").to_owned(), v.as_str().unwrap_or("").to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        alerts.push(Alert {
            name,
            expr,
            annotations,
        });
    }
    alerts
}

/// The dashboard's JSON model.
fn dashboard() -> Json {
    serde_json::from_str(&read(DASHBOARD)).expect("the dashboard is JSON")
}

/// Every `expr` string anywhere in `value` (the panels' PromQL queries).
fn exprs(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("expr", Json::String(s)) => out.push(s.clone()),
                    _ => exprs(v, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| exprs(v, out)),
        _ => {}
    }
}

/// The dashboard's queries: the panels' PromQL and the template variables' queries.
fn dashboard_queries(d: &Json) -> Vec<String> {
    let mut out = Vec::new();
    exprs(&d["panels"], &mut out);
    for var in d["templating"]["list"].as_array().into_iter().flatten() {
        match &var["query"] {
            Json::String(s) => out.push(s.clone()),
            q => out.extend(q["query"].as_str().map(str::to_owned)),
        }
    }
    out
}

/// The `bchpay_…` identifiers a PromQL text names.
fn metric_names(promql: &str) -> BTreeSet<String> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = BTreeSet::new();
    let mut rest = promql;
    while let Some(at) = rest.find("bchpay_") {
        let starts_ident = rest[..at].chars().next_back().is_none_or(|c| !is_ident(c));
        let tail = &rest[at..];
        let len = tail.find(|c: char| !is_ident(c)).unwrap_or(tail.len());
        if starts_ident {
            names.insert(tail[..len].to_owned());
        }
        rest = &tail[len..];
    }
    names
}

/// GitHub's anchor of a Markdown heading: lower case, spaces to `-`, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of the README's headings.
fn readme_anchors() -> BTreeSet<String> {
    read(README)
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn alert_rules_pass_promtool_check_rules() {
    let Some(promtool) = promtool() else { return };
    let out = run_promtool(promtool, &["check", "rules", ALERTS]);
    let expected = format!("SUCCESS: {} rules found", alerts().len());
    assert!(out.contains(&expected), "expected {expected:?} in:\n{out}");
}

#[test]
fn alert_rules_pass_their_promtool_unit_tests() {
    let Some(promtool) = promtool() else { return };
    let out = run_promtool(promtool, &["test", "rules", ALERTS_TEST]);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn every_alert_is_unit_tested_both_firing_and_silent() {
    let doc: Yaml = serde_norway::from_str(&read(ALERTS_TEST)).expect("alerts_test.yml is YAML");
    let mut fires = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for test in doc["tests"].as_sequence().expect("tests") {
        for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
            let name = case["alertname"].as_str().expect("alertname").to_owned();
            let expected = case["exp_alerts"].as_sequence().map_or(0, Vec::len);
            if expected > 0 { &mut fires } else { &mut silent }.insert(name);
        }
    }
    for alert in alerts() {
        assert!(fires.contains(&alert.name), "no test where {} fires", alert.name);
        assert!(
            silent.contains(&alert.name),
            "no test where {} stays silent",
            alert.name
        );
    }
}

#[test]
fn every_alert_has_a_summary_and_a_runbook_section_in_the_readme() {
    let anchors = readme_anchors();
    let alerts = alerts();
    assert!(alerts.len() >= 9, "{} alerts", alerts.len());
    for alert in &alerts {
        let summary = alert.annotations.get("summary").map_or("", String::as_str);
        assert!(!summary.trim().is_empty(), "{} has no summary", alert.name);
        let runbook = alert.annotations.get("runbook").map_or("", String::as_str);
        let target = runbook
            .strip_prefix("README.md#")
            .unwrap_or_else(|| panic!("{}: runbook {runbook:?} is not README.md#…", alert.name));
        assert!(
            anchors.contains(target),
            "{}: README.md has no heading with the anchor #{target}",
            alert.name
        );
        assert_eq!(
            target,
            alert.name.to_lowercase(),
            "one section per alert, named after it"
        );
    }
}

#[test]
fn dashboard_is_a_grafana_model_with_a_prometheus_input() {
    let d = dashboard();
    let input = d["__inputs"]
        .as_array()
        .and_then(|i| i.iter().find(|i| i["name"] == "DS_PROMETHEUS"))
        .expect("an input DS_PROMETHEUS");
    assert_eq!(input["type"], "datasource");
    assert_eq!(input["pluginId"], "prometheus");
    assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(d["uid"].as_str().is_some_and(|u| !u.is_empty() && u.len() <= 40));
    assert!(d["schemaVersion"].as_u64().is_some());
    let panels = d["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut queried = 0;
    for p in panels {
        let id = p["id"].as_u64().expect("panel id");
        assert!(ids.insert(id), "panel id {id} twice");
        let grid = &p["gridPos"];
        let (x, w) = (grid["x"].as_u64().expect("x"), grid["w"].as_u64().expect("w"));
        assert!(
            x + w <= 24 && grid["h"].as_u64().is_some() && grid["y"].as_u64().is_some(),
            "{p}"
        );
        if p["type"] == "row" {
            continue;
        }
        assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}", "{}", p["title"]);
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{} has no query", p["title"]);
        for t in targets {
            assert!(t["expr"].as_str().is_some_and(|e| !e.is_empty()), "{t}");
            assert!(t["refId"].as_str().is_some(), "{t}");
        }
        queried += 1;
    }
    assert!(queried >= 12, "{queried} panels with queries");
    // What the issue lists, each in some query.
    let all = dashboard_queries(&d).join("\n");
    for needle in [
        "bchpay_invoices{",
        "bchpay_invoices_created_total",
        "bchpay_wallet_link_state",
        "histogram_quantile",
        "bchpay_address_pool_available",
        "bchpay_confirmer_tick_duration_seconds",
        "bchpay_confirmer_poll_interval_seconds",
        "bchpay_webhook_deliveries_total",
        "bchpay_outbox_depth",
        "bchpay_rate_age_seconds",
    ] {
        assert!(all.contains(needle), "no panel queries {needle}");
    }
}

#[test]
fn dashboard_queries_are_valid_promql() {
    let Some(promtool) = promtool() else { return };
    let mut queries = Vec::new();
    exprs(&dashboard()["panels"], &mut queries);
    // Grafana's variables, as Grafana would fill them in.
    let rules: Vec<String> = queries
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let q = q.replace("$__rate_interval", "1m").replace("$instance", ".*");
            format!(
                "      - record: dashboard:query_{i}\n        expr: {}\n",
                serde_json::to_string(&q).unwrap()
            )
        })
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("dashboard_queries.yml");
    let yaml = format!("groups:\n  - name: dashboard\n    rules:\n{}", rules.concat());
    std::fs::write(&file, yaml).expect("write the rule file");
    let out = run_promtool(promtool, &["check", "rules", file.to_str().expect("UTF-8 path")]);
    let expected = format!("SUCCESS: {} rules found", queries.len());
    assert!(out.contains(&expected), "expected {expected:?} in:\n{out}");
}

/// The metric families `/metrics` of a running engine declares (`# TYPE`), with their types.
async fn exported() -> BTreeMap<String, String> {
    let app = TestApp::spawn().await;
    let mut response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status().as_u16(), 200);
    let body = response.body().limit(4 * 1024 * 1024).await.expect("metrics body");
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_owned(), kind.trim().to_owned()))
        .collect()
}

/// The metric families a name used in a query belongs to: a histogram's
/// `_bucket`, `_sum` and `_count` series are its own.
fn family(name: &str, exported: &BTreeMap<String, String>) -> String {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if exported.get(base).is_some_and(|k| k == "histogram" || k == "summary") {
                return base.to_owned();
            }
        }
    }
    name.to_owned()
}

#[actix_rt::test]
async fn every_metric_the_dashboard_and_the_alerts_use_is_exported() {
    let exported = exported().await;
    let mut used: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let alerts = alerts();
    for alert in &alerts {
        for name in metric_names(&alert.expr) {
            used.entry(family(&name, &exported)).or_default().insert(ALERTS);
        }
    }
    for query in dashboard_queries(&dashboard()) {
        for name in metric_names(&query) {
            used.entry(family(&name, &exported)).or_default().insert(DASHBOARD);
        }
    }
    assert!(used.len() >= 15, "{used:?}");
    let missing: Vec<String> = used
        .iter()
        .filter(|(name, _)| !exported.contains_key(*name))
        .map(|(name, files)| format!("{name} (used by {files:?})"))
        .collect();
    assert!(
        missing.is_empty(),
        "not exported by /metrics:\n  {}\nexported: {:?}",
        missing.join("\n  "),
        exported.keys().collect::<Vec<_>>()
    );
}

#[actix_rt::test]
async fn the_series_the_alerts_compare_against_carry_the_configuration() {
    let app = TestApp::spawn_with(|s| {
        s.payments.poll_interval_ms = 2500;
        s.addresses.pool_low = 3;
        s.addresses.pool_high = 7;
    })
    .await;
    let mut response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("GET /metrics");
    let body = response.body().await.expect("metrics body");
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    let sample = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no sample {name} in:\n{text}"))
            .parse()
            .unwrap_or_else(|_| panic!("{name} is not a number in:\n{text}"))
    };
    assert_eq!(sample("bchpay_confirmer_poll_interval_seconds"), 2.5);
    assert_eq!(sample("bchpay_address_pool_low_watermark"), 3.0);
    assert_eq!(sample("bchpay_address_pool_available"), 7.0);
    for name in [
        "bchpay_confirmer_poll_interval_seconds",
        "bchpay_address_pool_low_watermark",
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} gauge\n")),
            "{name} as a gauge in:\n{text}"
        );
    }
}

#[test]
fn metric_names_are_read_from_promql_as_whole_identifiers() {
    let names = metric_names(
        r#"histogram_quantile(0.9, sum by (le) (rate(bchpay_rpc_latency_seconds_bucket{job="bchpay"}[5m])))
           / on(x) my_bchpay_other + bchpay_outbox_depth"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["bchpay_outbox_depth", "bchpay_rpc_latency_seconds_bucket"]
    );
    let exported = BTreeMap::from([("bchpay_rpc_latency_seconds".to_owned(), "histogram".to_owned())]);
    assert_eq!(
        family("bchpay_rpc_latency_seconds_bucket", &exported),
        "bchpay_rpc_latency_seconds"
    );
    assert_eq!(family("bchpay_outbox_count", &exported), "bchpay_outbox_count");
    assert_eq!(anchor(" BchpayWalletLinkDown"), "bchpaywalletlinkdown");
    assert_eq!(anchor("Alerts and what to do"), "alerts-and-what-to-do");
}
