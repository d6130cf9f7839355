//! `bchpay inspect`: the real binary on a stopped engine's store (every
//! subcommand, as a table and as JSON), on a store a running engine holds
//! (refused at once, store untouched), and through the admin API.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::helpers::*;
use bchpay::sim::{Sim, SimConfig};
use serde_json::{json, Value};

/// The engine's configuration against `sim`: fast polling, a small pool, and
/// a webhook endpoint where nothing listens (events stay `pending` with an
/// error, and are not retried within the test).
fn config(sim: &Sim) -> String {
    format!(
        "[api]\nkeys = [\"{API_KEY}\"]\n[addresses]\npool_low = 2\npool_high = 5\n\
         [payments]\npoll_interval_ms = 200\nrequired_confirmations = 1\n\
         [webhooks]\nurl = \"http://127.0.0.1:{}/hook\"\nsecret = \"whsec-inspect\"\nretry_schedule_secs = [3600]\n{}",
        free_port(),
        wallet_config(&sim.url(), "", 5)
    )
}

/// What `bchpay inspect` did.
struct Run {
    /// Its exit code (`None`: killed by a signal).
    code: Option<i32>,
    /// What it printed on stdout.
    stdout: String,
    /// What it printed on stderr.
    stderr: String,
    /// How long it took.
    took: Duration,
}

impl Run {
    /// The stdout as JSON; panics with the output if it is not.
    #[track_caller]
    fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "inspect failed: {}", self.stderr);
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }

    /// The stdout of a successful run.
    #[track_caller]
    fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "inspect failed: {}", self.stderr);
        &self.stdout
    }
}

/// Runs `bchpay inspect ARGS` on a blocking thread (the simulated daemon
/// lives on this test's runtime and must keep answering meanwhile).
async fn inspect(args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    actix_rt::task::spawn_blocking(move || {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_bchpay"))
            .arg("inspect")
            .args(&args)
            .env_remove("BCHPAY_API_KEY")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run bchpay inspect");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: start.elapsed(),
        }
    })
    .await
    .expect("the inspect thread")
}

/// `inspect --store DIR ARGS…`.
async fn inspect_store(dir: &Path, args: &[&str]) -> Run {
    let dir = dir.display().to_string();
    let mut all = vec!["--store", dir.as_str()];
    all.extend_from_slice(args);
    inspect(&all).await
}

/// `inspect --url BASE --api-key KEY ARGS…`.
async fn inspect_url(base: &str, key: &str, args: &[&str]) -> Run {
    let mut all = vec!["--url", base, "--api-key", key];
    all.extend_from_slice(args);
    inspect(&all).await
}

/// A table as `inspect` prints it: the header cells and the rows' cells.
#[derive(Debug)]
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// The cells of column `name`, top to bottom.
    fn column(&self, name: &str) -> Vec<String> {
        let i = self
            .headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        self.rows.iter().map(|r| r[i].clone()).collect()
    }

    /// The rows as maps from header to cell.
    fn records(&self) -> Vec<BTreeMap<String, String>> {
        self.rows
            .iter()
            .map(|r| self.headers.iter().cloned().zip(r.iter().cloned()).collect())
            .collect()
    }
}

/// Parses an aligned table: a header line, a line of dash runs two spaces
/// apart (one per column, as wide as the column), then rows whose cells all
/// start where their column's dashes start and fit in the column's width.
#[track_caller]
fn parse_table(lines: &[&str]) -> Table {
    assert!(lines.len() >= 2, "a table has a header and a dashes line: {lines:?}");
    let dashes: Vec<char> = lines[1].chars().collect();
    assert!(
        dashes.iter().all(|c| *c == '-' || *c == ' '),
        "second line is not dashes: {:?}",
        lines[1]
    );
    // (start, width) of each run of dashes.
    let mut columns = Vec::new();
    let mut i = 0;
    while i < dashes.len() {
        if dashes[i] == '-' {
            let start = i;
            while i < dashes.len() && dashes[i] == '-' {
                i += 1;
            }
            columns.push((start, i - start));
        } else {
            i += 1;
        }
    }
    for pair in columns.windows(2) {
        assert_eq!(
            pair[1].0,
            pair[0].0 + pair[0].1 + 2,
            "columns are two spaces apart: {:?}",
            lines[1]
        );
    }
    let cells = |line: &str| -> Vec<String> {
        let chars: Vec<char> = line.chars().collect();
        columns
            .iter()
            .enumerate()
            .map(|(n, &(start, width))| {
                let last = n + 1 == columns.len();
                let end = if last {
                    chars.len()
                } else {
                    (start + width).min(chars.len())
                };
                if start > 0 && start <= chars.len() {
                    assert!(
                        chars[start - 1] == ' ',
                        "column {n} does not start at {start} in {line:?}"
                    );
                }
                if !last {
                    let gap: String = chars.iter().skip(start + width).take(2).collect();
                    assert!(gap.trim().is_empty(), "cell {n} overflows its column in {line:?}");
                }
                let cell: String = chars
                    .get(start..end.max(start))
                    .map(|s| s.iter().collect())
                    .unwrap_or_default();
                assert!(
                    !cell.starts_with(' '),
                    "cell {n} is not left-aligned at {start} in {line:?}"
                );
                assert!(
                    last || cell.trim_end().chars().count() <= width,
                    "cell {n} wider than its dashes in {line:?}"
                );
                cell.trim_end().to_owned()
            })
            .collect()
    };
    let headers = cells(lines[0]);
    for (h, (_, width)) in headers.iter().zip(&columns) {
        assert!(h.chars().count() <= *width, "header {h} wider than its dashes");
    }
    let rows = lines[2..].iter().map(|l| cells(l)).collect();
    Table { headers, rows }
}

/// A whole output that is one table.
#[track_caller]
fn one_table(text: &str) -> Table {
    let lines: Vec<&str> = text.lines().collect();
    parse_table(&lines)
}

/// What a JSON value prints as in a table cell.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A stopped engine's store with three invoices: `paid` confirmed by a
/// payment from the simulated wallet (its webhook events pending, the
/// first one attempted once), two more still `new`.
struct Fixture {
    /// Holds the store until the test ends.
    _engine: Engine,
    /// The store directory.
    store: std::path::PathBuf,
    /// The invoices as created, oldest first; the first is the paid one.
    created: Vec<Value>,
    /// The payment's txid.
    txid: String,
    /// The paid invoice's events, as the API showed them before the stop.
    events: Vec<Value>,
}

/// Creates an invoice on the engine at `base`.
async fn create(client: &awc::Client, base: &str, body: Value) -> Value {
    let url = format!("{base}/api/v1/invoices");
    let reply = send(
        client,
        awc::http::Method::POST,
        &url,
        Some(&bearer(API_KEY)),
        Some(body.to_string().into_bytes()),
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.body
}

/// GET with the key, must be 200.
async fn get_ok(client: &awc::Client, url: &str) -> Value {
    let reply = send(client, awc::http::Method::GET, url, Some(&bearer(API_KEY)), None).await;
    assert_eq!(reply.status, 200, "{url}: {}", reply.body);
    reply.body
}

/// Waits until `/readyz` shows `n` addresses in the pool.
async fn wait_pool(base: &str, n: u64) {
    eventually(
        &format!("{n} addresses in the pool"),
        Duration::from_secs(10),
        || async {
            let (_, body) = readyz(base).await.ok_or("no /readyz answer")?;
            if body["address_pool"]["available"] == n {
                Ok(())
            } else {
                Err(body.to_string())
            }
        },
    )
    .await;
}

/// A running engine with three invoices, the oldest paid and confirmed.
async fn running_fixture(sim: &Sim) -> (Engine, Vec<Value>, String, Vec<Value>) {
    let engine = Engine::spawn(&config(sim), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    wait_pool(&engine.base, 5).await;
    let client = client();
    let base = engine.base.clone();
    let mut created = Vec::new();
    created.push(create(&client, &base, json!({"amount_sats": 70_000, "order_id": "ord-a"})).await);
    created.push(
        create(
            &client,
            &base,
            json!({"amount": "0.0012", "order_id": "ord-b", "description": "B"}),
        )
        .await,
    );
    created.push(create(&client, &base, json!({"amount_sats": 5_000})).await);
    let paid_id = created[0]["id"].as_str().unwrap().to_owned();
    let txid = sim.pay(created[0]["address"].as_str().unwrap(), 70_000).expect("pay");
    sim.mine(1);
    let url = format!("{base}/api/v1/invoices/{paid_id}");
    eventually("the paid invoice confirmed", Duration::from_secs(10), || async {
        let inv = get_ok(&client, &url).await;
        (inv["status"] == "confirmed").then_some(())
    })
    .await;
    // The first event has had its (failed) first attempt; the others wait
    // behind it (one invoice's events go in order): nothing moves in the
    // store any more until the retry an hour later.
    let events_url = format!("{base}/api/v1/events?invoice_id={paid_id}");
    let events = eventually("one attempt at each event", Duration::from_secs(10), || async {
        let body = get_ok(&client, &events_url).await;
        let events = body["events"].as_array().cloned().unwrap_or_default();
        let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
        let first_tried = events
            .iter()
            .any(|e| e["sequence"] == 1 && e["attempts"].as_u64().unwrap_or(0) >= 1);
        if types.contains(&"invoice.confirmed") && first_tried {
            Ok(events)
        } else {
            Err(body.to_string())
        }
    })
    .await;
    (engine, created, txid, events)
}

/// [`running_fixture`], then SIGKILL: the store is left as a crash leaves it.
async fn stopped_fixture(sim: &Sim) -> Fixture {
    let (mut engine, created, txid, events) = running_fixture(sim).await;
    engine.kill();
    let store = engine.store_path();
    Fixture {
        _engine: engine,
        store,
        created,
        txid,
        events,
    }
}

#[actix_rt::test]
async fn inspect_stats_and_invoices_read_a_stopped_store_as_tables_and_json() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let f = stopped_fixture(&sim).await;
    let ids: Vec<&str> = f.created.iter().map(|i| i["id"].as_str().unwrap()).collect();

    // stats
    let stats = inspect_store(&f.store, &["stats", "--json"]).await.json();
    assert_eq!(stats["invoices"], 3, "{stats}");
    assert_eq!(stats["invoices_by_status"]["new"], 2, "{stats}");
    assert_eq!(stats["invoices_by_status"]["confirmed"], 1, "{stats}");
    assert_eq!(stats["ledger"], 3, "{stats}");
    let pool = stats["pool"].as_u64().unwrap();
    assert!(
        (2..=5).contains(&pool),
        "three of five handed out, maybe refilled: {stats}"
    );
    assert!(stats["watched"].as_u64().is_some(), "{stats}");
    assert_eq!(stats["events_by_state"]["pending"], f.events.len(), "{stats}");
    assert_eq!(stats["outbox_depth"], f.events.len(), "{stats}");
    assert!(stats["store_bytes"].as_u64().unwrap() > 0, "{stats}");
    assert!(stats["schema_version"].as_u64().is_some(), "{stats}");
    let table = one_table(inspect_store(&f.store, &["stats"]).await.ok());
    assert_eq!(table.headers, ["what", "count"]);
    let counts: BTreeMap<String, String> = table.rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    for (key, want) in [
        ("invoices", "3"),
        ("ledger", "3"),
        ("invoices_by_status.new", "2"),
        ("invoices_by_status.confirmed", "1"),
    ] {
        assert_eq!(counts.get(key).map(String::as_str), Some(want), "{key} in {counts:?}");
    }
    assert_eq!(counts["schema_version"], stats["schema_version"].to_string());
    assert_eq!(counts["pool"], pool.to_string());

    // invoices: newest first, as created.
    let list = inspect_store(&f.store, &["invoices", "--json"]).await.json();
    let listed = list["invoices"].as_array().unwrap();
    let listed_ids: Vec<&str> = listed.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, [ids[2], ids[1], ids[0]]);
    for (inv, made) in listed.iter().zip(f.created.iter().rev()) {
        for key in ["address", "amount", "amount_sats", "order_id", "created_at"] {
            assert_eq!(inv[key], made[key], "{key} of {}", made["id"]);
        }
    }
    assert_eq!(listed[2]["status"], "confirmed");
    assert_eq!(listed[2]["received_sats"], 70_000);
    assert_eq!(
        (listed[0]["status"].as_str(), listed[1]["status"].as_str()),
        (Some("new"), Some("new"))
    );
    let table = one_table(inspect_store(&f.store, &["invoices"]).await.ok());
    assert_eq!(
        table.headers,
        [
            "id",
            "status",
            "amount",
            "price",
            "currency",
            "received",
            "address",
            "order_id",
            "created_at"
        ]
    );
    assert_eq!(table.rows.len(), 3);
    for (record, inv) in table.records().iter().zip(listed) {
        for (column, value) in record {
            assert_eq!(value, &cell(&inv[column.as_str()]), "column {column} of {}", inv["id"]);
        }
    }

    // The filters.
    let confirmed = inspect_store(&f.store, &["invoices", "--status", "confirmed", "--json"])
        .await
        .json();
    let only: Vec<&Value> = confirmed["invoices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(only, [&f.created[0]["id"]]);
    let new = one_table(inspect_store(&f.store, &["invoices", "--status", "new"]).await.ok());
    assert_eq!(new.column("id"), [ids[2], ids[1]]);
    let limited = inspect_store(&f.store, &["invoices", "--limit", "1", "--json"])
        .await
        .json();
    assert_eq!(limited["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(limited["invoices"][0]["id"], ids[2]);
    let bad = inspect_store(&f.store, &["invoices", "--status", "nonsense"]).await;
    assert_ne!(bad.code, Some(0));
    assert!(bad.stderr.contains("--status"), "{}", bad.stderr);
}

#[actix_rt::test]
async fn inspect_invoice_shows_its_payments_and_events() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let f = stopped_fixture(&sim).await;
    let id = f.created[0]["id"].as_str().unwrap();

    let answer = inspect_store(&f.store, &["invoice", id, "--json"]).await.json();
    let inv = &answer["invoice"];
    assert_eq!(
        (inv["id"].as_str(), inv["status"].as_str()),
        (Some(id), Some("confirmed"))
    );
    assert_eq!(inv["address"], f.created[0]["address"]);
    let payments = inv["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1, "{inv}");
    assert_eq!(payments[0]["txid"], f.txid.as_str());
    assert_eq!(payments[0]["amount_sats"], 70_000);
    assert!(payments[0]["height"].as_u64().unwrap() > 0, "mined: {inv}");
    let events = answer["events"].as_array().unwrap();
    let event_ids: Vec<&Value> = events.iter().map(|e| &e["id"]).collect();
    let api_ids: Vec<&Value> = f.events.iter().map(|e| &e["id"]).collect();
    let mut sorted = (event_ids.clone(), api_ids.clone());
    sorted.0.sort_by_key(|v| v.to_string());
    sorted.1.sort_by_key(|v| v.to_string());
    assert_eq!(sorted.0, sorted.1, "the events the API showed");
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(
        types.contains(&"invoice.paid") && types.contains(&"invoice.confirmed"),
        "{types:?}"
    );
    for e in events {
        assert_eq!(e["invoice_id"], id);
        assert_eq!(e["state"], "pending", "nothing listens at the webhook URL: {e}");
        assert_eq!(
            e["last_error"].is_string(),
            e["sequence"] == 1,
            "only the first was tried: {e}"
        );
    }

    // The table: fields, then "payments" and "events" tables.
    let text = inspect_store(&f.store, &["invoice", id]).await.ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    let at = |title: &str| {
        lines
            .iter()
            .position(|l| *l == title)
            .unwrap_or_else(|| panic!("no {title}:\n{text}"))
    };
    let (p, e) = (at("payments"), at("events"));
    assert!(p < e);
    let fields = parse_table(&lines[..p - 1]);
    assert_eq!(fields.headers, ["field", "value"]);
    let fields: BTreeMap<String, String> = fields.rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(fields["id"], id);
    assert_eq!(fields["status"], "confirmed");
    assert_eq!(fields["order_id"], "ord-a");
    assert_eq!(fields["address"], cell(&f.created[0]["address"]));
    let paid = parse_table(&lines[p + 1..e - 1]);
    assert_eq!(paid.headers, ["txid", "amount_sats", "height"]);
    assert_eq!(paid.column("txid"), [f.txid.as_str()]);
    assert_eq!(paid.column("amount_sats"), ["70000"]);
    let shown = parse_table(&lines[e + 1..]);
    assert_eq!(
        shown.headers,
        ["sequence", "type", "state", "attempts", "last_error", "id"]
    );
    assert_eq!(shown.rows.len(), events.len());
    for (record, event) in shown.records().iter().zip(events) {
        for column in ["sequence", "type", "state", "attempts", "id"] {
            assert_eq!(record[column], cell(&event[column]), "{column}");
        }
    }

    // An unknown invoice is an error, not an empty answer.
    let unknown = inspect_store(&f.store, &["invoice", "inv_AAAAAAAAAAAAAAAAAAAAAA"]).await;
    assert_ne!(unknown.code, Some(0), "{}", unknown.stdout);
    assert!(!unknown.stderr.trim().is_empty());
}

#[actix_rt::test]
async fn inspect_addresses_pool_and_events_read_a_stopped_store() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let f = stopped_fixture(&sim).await;
    let handed: BTreeMap<String, String> = f
        .created
        .iter()
        .map(|i| {
            (
                i["address"].as_str().unwrap().to_owned(),
                i["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();

    // addresses: the ledger, address → invoice.
    let answer = inspect_store(&f.store, &["addresses", "--json"]).await.json();
    let ledger: BTreeMap<String, String> = answer["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (cell(&r["address"]), cell(&r["invoice_id"])))
        .collect();
    assert_eq!(ledger, handed);
    let table = one_table(inspect_store(&f.store, &["addresses"]).await.ok());
    assert_eq!(table.headers, ["address", "invoice_id"]);
    let shown: BTreeMap<String, String> = table.rows.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    assert_eq!(shown, handed);

    // pool: the fresh addresses the stats count, none handed out.
    let stats = inspect_store(&f.store, &["stats", "--json"]).await.json();
    let answer = inspect_store(&f.store, &["pool", "--json"]).await.json();
    let pool: Vec<String> = answer["pool"].as_array().unwrap().iter().map(cell).collect();
    assert_eq!(Some(pool.len() as u64), stats["pool"].as_u64(), "{answer}");
    assert!(pool.len() >= 2, "{answer}");
    assert!(
        pool.iter().all(|a| a.starts_with("bchreg:") && !handed.contains_key(a)),
        "{pool:?}"
    );
    let mut distinct = pool.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), pool.len());
    let table = one_table(inspect_store(&f.store, &["pool"]).await.ok());
    assert_eq!(table.headers, ["address"]);
    assert_eq!(table.column("address"), pool);
    let limited = inspect_store(&f.store, &["pool", "--limit", "2", "--json"])
        .await
        .json();
    assert_eq!(limited["pool"].as_array().unwrap().len(), 2);

    // events: every event, with its delivery state; the state filter.
    let answer = inspect_store(&f.store, &["events", "--json"]).await.json();
    let events = answer["events"].as_array().unwrap();
    assert_eq!(events.len(), f.events.len(), "{answer}");
    for e in events {
        assert_eq!(e["invoice_id"], f.created[0]["id"]);
        let tried = if e["sequence"] == 1 { 1 } else { 0 };
        assert_eq!(
            (e["state"].as_str(), e["attempts"].as_u64()),
            (Some("pending"), Some(tried)),
            "{e}"
        );
    }
    let table = one_table(inspect_store(&f.store, &["events"]).await.ok());
    assert_eq!(
        table.headers,
        [
            "id",
            "invoice_id",
            "sequence",
            "type",
            "state",
            "attempts",
            "last_error",
            "next_attempt_at"
        ]
    );
    assert_eq!(table.rows.len(), events.len());
    for (record, event) in table.records().iter().zip(events) {
        for (column, value) in record {
            assert_eq!(value, &cell(&event[column.as_str()]), "column {column}");
        }
    }
    let pending = inspect_store(&f.store, &["events", "--state", "pending", "--json"])
        .await
        .json();
    assert_eq!(pending["events"].as_array().unwrap().len(), events.len());
    let delivered = inspect_store(&f.store, &["events", "--state", "delivered", "--json"])
        .await
        .json();
    assert_eq!(delivered["events"], json!([]), "nothing was delivered");
    let table = one_table(inspect_store(&f.store, &["events", "--state", "delivered"]).await.ok());
    assert!(table.rows.is_empty());
}

/// Every file under `dir` with its size.
fn listing(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                todo.push(entry.path());
            } else {
                out.insert(
                    entry.path().strip_prefix(dir).unwrap().display().to_string(),
                    meta.len(),
                );
            }
        }
    }
    out
}

#[actix_rt::test]
async fn inspect_on_a_store_a_running_engine_holds_says_so_at_once_and_touches_nothing() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let engine = Engine::spawn(&config(&sim), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    wait_pool(&engine.base, 5).await;
    let client = client();
    create(&client, &engine.base, json!({"amount_sats": 1_234})).await;
    wait_pool(&engine.base, 4).await;
    let store = engine.store_path();
    let before_files = listing(&store);
    let before = inspect_url(&engine.base, API_KEY, &["invoices", "--json"]).await.json();

    for what in [&["stats"][..], &["invoices", "--json"], &["pool"]] {
        let run = inspect_store(&store, what).await;
        assert_ne!(run.code, Some(0), "{what:?} on a held store succeeded: {}", run.stdout);
        assert!(run.took < Duration::from_secs(5), "{what:?} took {:?}", run.took);
        assert!(run.stdout.is_empty(), "{what:?} printed: {}", run.stdout);
        let message = run.stderr.to_lowercase();
        assert!(
            message.contains("lock") || message.contains("in use"),
            "names the lock: {}",
            run.stderr
        );
        assert!(run.stderr.contains("--url"), "suggests --url: {}", run.stderr);
    }

    assert_eq!(listing(&store), before_files, "the store's files changed");
    let after = inspect_url(&engine.base, API_KEY, &["invoices", "--json"]).await.json();
    assert_eq!(after, before);
    let (status, _) = get_json(&format!("{}/healthz", engine.base)).await.unwrap();
    assert_eq!(status, 200, "the engine still serves");
}

#[actix_rt::test]
async fn inspect_through_the_admin_api_gives_the_same_invoices_as_the_store() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let (mut engine, created, _, _) = running_fixture(&sim).await;
    let client = client();
    let over_api = inspect_url(&engine.base, API_KEY, &["invoices", "--json"]).await.json();
    let public = get_ok(&client, &format!("{}/api/v1/invoices", engine.base)).await;
    let one = inspect_url(
        &engine.base,
        API_KEY,
        &["invoice", created[0]["id"].as_str().unwrap(), "--json"],
    )
    .await
    .json();
    let stats = inspect_url(&engine.base, API_KEY, &["stats", "--json"]).await.json();
    let table = one_table(inspect_url(&engine.base, API_KEY, &["invoices"]).await.ok());
    engine.kill();
    let from_store = inspect_store(&engine.store_path(), &["invoices", "--json"])
        .await
        .json();

    let key = |v: &Value| -> Vec<(String, String, String, String)> {
        v["invoices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    cell(&i["id"]),
                    cell(&i["status"]),
                    cell(&i["address"]),
                    cell(&i["amount_sats"]),
                )
            })
            .collect()
    };
    assert_eq!(key(&over_api).len(), 3);
    assert_eq!(key(&over_api), key(&from_store), "admin API and store disagree");
    assert_eq!(key(&over_api), key(&public), "admin API and the invoice API disagree");
    assert_eq!(
        table.column("id"),
        key(&over_api).into_iter().map(|k| k.0).collect::<Vec<_>>()
    );
    assert_eq!(one["invoice"]["payments"].as_array().map(Vec::len), Some(1), "{one}");
    assert!(one["events"].as_array().is_some_and(|e| !e.is_empty()), "{one}");
    assert_eq!(stats["invoices"], 3, "{stats}");
}

#[actix_rt::test]
async fn inspect_with_a_wrong_key_fails_with_a_message() {
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let engine = Engine::spawn(&config(&sim), &[]);
    wait_wallet_state(&engine.base, "up", Duration::from_secs(5)).await;
    for what in [&["stats"][..], &["invoices", "--json"], &["events"]] {
        let run = inspect_url(&engine.base, "not-the-key", what).await;
        assert_ne!(run.code, Some(0), "{what:?}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{what:?} printed: {}", run.stdout);
        assert!(run.stderr.contains("401"), "{what:?}: {}", run.stderr);
        assert!(!run.stderr.contains("not-the-key"), "the key is echoed: {}", run.stderr);
    }
    // Nothing listening: a message too, not a hang.
    let run = inspect_url(&format!("http://127.0.0.1:{}", free_port()), API_KEY, &["stats"]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("cannot reach"), "{}", run.stderr);
    assert!(run.took < Duration::from_secs(10), "{:?}", run.took);
}

#[actix_rt::test]
async fn admin_routes_answer_401_without_the_key() {
    let app = TestApp::spawn().await;
    let made = app.create_ok(&json!({"amount_sats": 1_000})).await;
    let id = made["id"].as_str().unwrap();
    let invoice = format!("/api/v1/admin/invoices/{id}");
    let paths = [
        "/api/v1/admin/stats",
        "/api/v1/admin/invoices",
        invoice.as_str(),
        "/api/v1/admin/addresses",
        "/api/v1/admin/pool",
        "/api/v1/admin/events",
    ];
    for path in paths {
        for auth in [None, Some(bearer("wrong-key")), Some(format!("Basic {API_KEY}"))] {
            let reply = app.get_with(path, auth.as_deref()).await;
            assert_error(&reply, 401, "unauthorized", None);
            assert!(!reply.body.to_string().contains(id), "{path} leaks: {}", reply.body);
        }
        let reply = app.get(path).await;
        assert_eq!(reply.status, 200, "{path} with the key: {}", reply.body);
    }
    assert_eq!(app.get(&invoice).await.body["invoice"]["id"], id);
}
