//! The simulated daemon against the recorded exchanges of the real one
//! (tests/fixtures/electron-cash-replies.json): same HTTP status, content
//! type, envelope and JSON shape, replayed in a state that makes sense.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use bchpay::money::parse_daemon_bch;
use bchpay::sim::{Fault, Sim, SimConfig};
use serde_json::{json, Value};

use crate::helpers::eventually;

const USER: &str = "bchrpc";
const PASSWORD: &str = "s3cret";
const FIXTURES: &str = include_str!("../fixtures/electron-cash-replies.json");
/// The address and transaction of the recording, replaced by the sim's own.
const RECORDED_ADDRESS: &str = "qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen";
const RECORDED_TXID: &str = "ff871cee7410db32ccd8d9c5cacd83de6e94d7da9fdd0322c8272ccb4efbd243";

/// One HTTP exchange as the client saw it.
struct Reply {
    status: u16,
    connection: String,
    content_type: String,
    body: String,
}

enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
}

async fn post(url: &str, body: &str, auth: Auth<'_>) -> Reply {
    let client = awc::Client::builder().timeout(Duration::from_secs(10)).finish();
    let mut req = client.post(url).insert_header(("Content-Type", "application/json"));
    if let Auth::Basic(user, password) = auth {
        req = req.basic_auth(user, password);
    }
    let mut resp = req.send_body(body.to_owned()).await.expect("the sim answers");
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let connection = resp
        .headers()
        .get("connection")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = resp.body().limit(16 * 1024 * 1024).await.expect("a body");
    Reply {
        status: resp.status().as_u16(),
        connection,
        content_type,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn start() -> Sim {
    let config = SimConfig {
        rpc_password: PASSWORD.into(),
        ..SimConfig::default()
    };
    Sim::start(config).await.expect("the sim starts")
}

async fn call(sim: &Sim, method: &str, params: Value) -> Value {
    let body = json!({"id": 1, "method": method, "params": params}).to_string();
    let reply = post(&sim.url(), &body, Auth::Basic(USER, PASSWORD)).await;
    serde_json::from_str(&reply.body).expect("JSON")
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Keys the real daemon leaves out when their amount is zero.
const OPTIONAL_KEYS: &[&str] = &["unmatured"];

/// Recursive shape comparison; `path` names the place in failures.
fn same_shape(recorded: &Value, sim: &Value, path: &str) -> Result<(), String> {
    if json_type(recorded) != json_type(sim) {
        return Err(format!("{path}: recorded {recorded} but the sim gave {sim}"));
    }
    match (recorded, sim) {
        // A map keyed by wallet paths (getinfo's "wallets"): compare the values.
        (Value::Object(r), Value::Object(s)) if r.keys().all(|k| k.starts_with('/')) => match r.values().next() {
            Some(first) => s
                .values()
                .try_for_each(|v| same_shape(first, v, &format!("{path}.<path>"))),
            None => Ok(()),
        },
        (Value::Object(r), Value::Object(s)) => {
            for key in r.keys() {
                if !s.contains_key(key) && !OPTIONAL_KEYS.contains(&key.as_str()) {
                    return Err(format!("{path}: the sim lacks key {key:?}"));
                }
            }
            for (key, value) in s {
                let Some(rv) = r.get(key) else {
                    return Err(format!("{path}: the sim has an extra key {key:?}"));
                };
                same_shape(rv, value, &format!("{path}.{key}"))?;
            }
            Ok(())
        }
        (Value::Array(r), Value::Array(s)) => match r.first() {
            None if s.is_empty() => Ok(()),
            None => Err(format!("{path}: recorded [] but the sim gave {sim}")),
            Some(_) if s.is_empty() => Err(format!("{path}: recorded a non-empty array, the sim gave []")),
            Some(first) => s
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| same_shape(first, v, &format!("{path}[{i}]"))),
        },
        (Value::String(r), Value::String(s)) => match (parse_daemon_bch(r), parse_daemon_bch(s)) {
            (Ok(_), Err(e)) => Err(format!(
                "{path}: recorded amount {r:?}, the sim's {s:?} does not parse: {e}"
            )),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Brings the sim into the state the recording was in before exchange `id`.
async fn prepare(sim: &Sim, id: i64, address: &mut String, txid: &mut String) {
    match id {
        1 => {
            // A confirmed coin and an unconfirmed one, as the recorded wallet had.
            let a = sim.new_address();
            sim.pay(&a, 65_070_711).expect("pays");
            sim.mine(1);
            let b = sim.new_address();
            sim.pay(&b, 70_000).expect("pays");
        }
        10 => *address = sim.new_address(),
        16 => *txid = sim.pay(address, 12_345).expect("pays"),
        24 => {
            sim.mine(1);
        }
        132 => sim.restart_daemon(),
        _ => {}
    }
}

#[actix_rt::test]
async fn every_recorded_exchange_gets_a_reply_of_the_same_status_type_and_shape() {
    let sim = start().await;
    let fixtures: Vec<Value> = serde_json::from_str(FIXTURES).expect("fixtures parse");
    assert_eq!(fixtures.len(), 37);
    let (mut address, mut txid) = (String::new(), String::new());
    for (n, fx) in fixtures.iter().enumerate() {
        let request = fx["request"].as_str().expect("request text");
        let note = fx["note"].as_str().unwrap_or_default();
        let id = serde_json::from_str::<Value>(request)
            .ok()
            .and_then(|r| r["id"].as_i64())
            .unwrap_or(-1);
        prepare(&sim, id, &mut address, &mut txid).await;
        let body = if address.is_empty() {
            request.to_owned()
        } else {
            request.replace(RECORDED_ADDRESS, &address)
        };
        let body = if txid.is_empty() {
            body
        } else {
            body.replace(RECORDED_TXID, &txid)
        };
        let status = fx["http_status"].as_u64().expect("status");
        let auth = match note {
            "bad credentials" => Auth::Basic(USER, "wrong"),
            "missing credentials" => Auth::None,
            _ => Auth::Basic(USER, PASSWORD),
        };
        let reply = post(&sim.url(), &body, auth).await;
        let what = format!("exchange {n} (id {id}, {note:?}): {body}");
        assert_eq!(u64::from(reply.status), status, "{what}: {}", reply.body);
        assert_eq!(reply.content_type, fx["content_type"].as_str().expect("ct"), "{what}");
        assert_eq!(
            reply.connection, "close",
            "{what}: the daemon closes the connection after each reply"
        );
        if status == 401 {
            assert_eq!(reply.body, fx["response"].as_str().expect("page"), "{what}");
            continue;
        }
        let got: Value = serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"));
        let recorded = &fx["response"];
        let keys = |v: &Value| {
            v.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        };
        assert_eq!(keys(&got), keys(recorded), "{what}: envelope keys");
        assert_eq!(got["id"], recorded["id"], "{what}: id");
        if recorded["error"].is_object() {
            assert_eq!(
                got["error"], recorded["error"],
                "{what}: the daemon's error, to the letter"
            );
        }
        if let Err(e) = same_shape(recorded, &got, "response") {
            panic!("{what}: {e}\nsim: {got}");
        }
    }
    assert!(sim.request_count() >= 37);
    assert_eq!(sim.requests_for("getaddresshistory"), 4);
}

/// Collects the bodies POSTed to a local receiver.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let data = web::Data::new(seen.clone());
    let server = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/hook",
            web::post().to(
                |seen: web::Data<Arc<Mutex<Vec<Value>>>>, body: web::Json<Value>| async move {
                    seen.lock().expect("lock").push(body.into_inner());
                    HttpResponse::Ok().finish()
                },
            ),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("binds");
    let addr = server.addrs()[0];
    actix_rt::spawn(server.run());
    (format!("http://{addr}/hook"), seen)
}

async fn wait_until(what: &str, deadline: Duration, mut cond: impl FnMut() -> bool) {
    eventually(what, deadline, || std::future::ready(cond())).await
}

#[actix_rt::test]
async fn notify_posts_at_once_then_on_arrival_and_confirmation() {
    let sim = start().await;
    let (url, seen) = receiver().await;
    let address = format!("bchreg:{}", sim.new_address());
    let reply = call(&sim, "notify", json!([address, url])).await;
    assert_eq!(reply["result"], json!(true));
    wait_until("the first post", Duration::from_secs(5), || {
        seen.lock().expect("lock").len() == 1
    })
    .await;
    assert_eq!(
        seen.lock().expect("lock")[0],
        json!({"address": address, "status": null})
    );
    sim.pay(&address, 1_000).expect("pays");
    wait_until("the arrival post", Duration::from_secs(5), || {
        seen.lock().expect("lock").len() == 2
    })
    .await;
    sim.mine(1);
    wait_until("the confirmation post", Duration::from_secs(5), || {
        seen.lock().expect("lock").len() == 3
    })
    .await;
    let posts = seen.lock().expect("lock").clone();
    assert!(posts[1]["status"].is_string() && posts[2]["status"].is_string());
    assert_ne!(posts[1]["status"], posts[2]["status"]);
}

#[actix_rt::test]
async fn a_stopped_listener_refuses_connections_and_listens_again_on_the_same_port() {
    let sim = start().await;
    sim.stop_listening().await;
    let client = awc::Client::default();
    assert!(
        client.post(sim.url()).send_body("{}").await.is_err(),
        "connection refused while down"
    );
    sim.start_listening().await.expect("listens again");
    assert_eq!(call(&sim, "version", json!([])).await["result"], json!("4.4.5"));
}

#[actix_rt::test]
async fn faults_show_as_500_garbage_and_401() {
    let sim = start().await;
    let body = r#"{"id": 1, "method": "version", "params": []}"#;
    sim.set_fault(Fault::Http500);
    assert_eq!(post(&sim.url(), body, Auth::Basic(USER, PASSWORD)).await.status, 500);
    sim.set_fault(Fault::Garbage);
    let reply = post(&sim.url(), body, Auth::Basic(USER, PASSWORD)).await;
    assert!(serde_json::from_str::<Value>(&reply.body).is_err());
    sim.set_fault(Fault::Unauthorized);
    assert_eq!(post(&sim.url(), body, Auth::Basic(USER, PASSWORD)).await.status, 401);
    sim.set_fault(Fault::None);
    assert_eq!(post(&sim.url(), body, Auth::Basic(USER, PASSWORD)).await.status, 200);
}

#[actix_rt::test]
async fn a_slow_method_delays_the_next_request_because_the_daemon_serves_one_at_a_time() {
    let sim = start().await;
    sim.set_method_delay("getaddresshistory", Duration::from_millis(300));
    let address = sim.new_address();
    let (url, history_sim) = (sim.url(), sim.clone());
    let slow = actix_rt::spawn(async move { call(&history_sim, "getaddresshistory", json!([address])).await });
    wait_until("the slow call to arrive", Duration::from_secs(5), || {
        sim.requests_for("getaddresshistory") == 1
    })
    .await;
    let started = Instant::now();
    let reply = post(&url, r#"{"id": 2, "method": "version"}"#, Auth::Basic(USER, PASSWORD)).await;
    let waited = started.elapsed();
    slow.await.expect("joins");
    assert_eq!(reply.status, 200);
    assert!(
        waited >= Duration::from_millis(200),
        "version answered after {waited:?}, not after the slow call"
    );
}

#[actix_rt::test]
async fn control_routes_drive_the_chain_and_refuse_bad_input_with_400() {
    let sim = start().await;
    let client = awc::Client::default();
    let address = sim.new_address();
    let mut resp = client
        .post(format!("{}/sim/pay", sim.url()))
        .send_json(&json!({"address": address, "amount_sats": 5000}))
        .await
        .expect("answers");
    assert_eq!(resp.status(), 200);
    let paid: Value = resp.json().await.expect("json");
    assert_eq!(paid["txid"].as_str().map(str::len), Some(64));
    let mut resp = client
        .post(format!("{}/sim/mine", sim.url()))
        .send_json(&json!({"blocks": 2}))
        .await
        .expect("answers");
    let mined: Value = resp.json().await.expect("json");
    assert_eq!(mined["tip"], json!(102));
    let mut resp = client
        .post(format!("{}/sim/pay", sim.url()))
        .send_json(&json!({"address": "nonsense", "amount_sats": 1}))
        .await
        .expect("answers");
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.expect("json");
    assert!(err["error"]["code"].is_string() && err["error"]["message"].is_string());
    let mut resp = client
        .get(format!("{}/sim/state", sim.url()))
        .send()
        .await
        .expect("answers");
    let state: Value = resp.json().await.expect("json");
    assert_eq!((state["tip"].clone(), state["mempool"].clone()), (json!(102), json!(0)));
}

#[actix_rt::test]
async fn the_daemon_subcommand_loads_only_the_configured_wallet_but_always_says_true() {
    let sim = start().await;
    sim.restart_daemon();
    let wrong = json!([{"subcommand": "load_wallet", "wallet_path": "/nope"}]);
    assert_eq!(call(&sim, "daemon", wrong).await["result"], json!(true));
    assert!(!sim.wallet_loaded());
    let right = json!([{"subcommand": "load_wallet", "wallet_path": "/sim/wallets/default_wallet"}]);
    assert_eq!(call(&sim, "daemon", right).await["result"], json!(true));
    assert!(sim.wallet_loaded());
}

#[actix_rt::test]
async fn the_down_fault_refuses_connections_for_a_while_then_listens_again() {
    let sim = start().await;
    let client = awc::Client::default();
    let resp = client
        .post(format!("{}/sim/fault", sim.url()))
        .send_json(&json!({"mode": "down", "for_ms": 400}))
        .await
        .expect("answers");
    assert_eq!(resp.status(), 200);
    let state = format!("{}/sim/state", sim.url());
    eventually("the simulator to go down", Duration::from_secs(5), || async {
        client.get(&state).send().await.is_err()
    })
    .await;
    eventually("the simulator to come back", Duration::from_secs(5), || async {
        client.get(&state).send().await.is_ok()
    })
    .await;
    assert_eq!(call(&sim, "version", json!([])).await["result"], json!("4.4.5"));
}

#[actix_rt::test]
async fn wrong_params_unknown_addresses_and_bad_hex_get_the_daemons_errors() {
    let sim = start().await;
    let reply = call(&sim, "getaddresshistory", json!({"addr": "x"})).await;
    assert_eq!(reply["error"]["code"], json!(-32602));
    let reply = call(
        &sim,
        "getaddresshistory",
        json!(["bitcoincash:qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen"]),
    )
    .await;
    assert_eq!(reply["error"]["code"], json!(-32603));
    let reply = call(&sim, "deserialize", json!(["zz"])).await;
    assert_eq!(reply["error"]["code"], json!(-32603));
    let reply = call(&sim, "validateaddress", json!(["nonsense"])).await;
    assert_eq!(reply["result"], json!(false));
    let body = r#"{"id": 7, "params": []}"#;
    let reply: Value =
        serde_json::from_str(&post(&sim.url(), body, Auth::Basic(USER, PASSWORD)).await.body).expect("json");
    assert_eq!(reply["error"]["code"], json!(-32600));
}
