//! `bchpay demo`: the real binary prints its walk-through, serves, and the
//! walk-through works when followed to the letter by a program.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::*;
use serde_json::{json, Value};

/// A running `bchpay demo`, its output captured; killed on drop.
struct Demo {
    child: Child,
    /// Every line it printed (stdout and stderr), in arrival order per stream.
    output: Arc<Mutex<Vec<String>>>,
}

impl Demo {
    fn spawn(bind: &str) -> Demo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bchpay"))
            .args(["demo", "--bind", bind])
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn bchpay demo");
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(line);
                }
            });
        }
        Demo { child, output }
    }

    fn text(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Waits until a printed line contains every one of `needles`; that line.
    /// Panics at the deadline with everything printed.
    async fn wait_line(&self, what: &str, deadline: Duration, needles: &[&str]) -> String {
        let found = || {
            let lines = self.output.lock().unwrap();
            let line = lines.iter().find(|l| needles.iter().all(|n| l.contains(n))).cloned();
            line.ok_or_else(|| format!("the demo printed:\n{}", lines.join("\n")))
        };
        eventually(what, deadline, || async { found() }).await
    }

    /// The value after `label` on the line that starts with it (first word).
    fn field(&self, label: &str) -> String {
        let text = self.text();
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{text}"));
        line.trim_start()[label.len()..]
            .split_whitespace()
            .next()
            .expect("a value")
            .to_owned()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs JSON; the status and the JSON answer.
async fn post(url: &str, auth: Option<&str>, body: Value) -> Reply {
    send(
        &client(),
        awc::http::Method::POST,
        url,
        auth,
        Some(body.to_string().into_bytes()),
    )
    .await
}

#[actix_rt::test]
async fn the_demo_prints_its_walkthrough_and_following_it_ends_in_a_confirmed_webhook() {
    let bind = format!("127.0.0.1:{}", free_port());
    let mut demo = Demo::spawn(&bind);
    demo.wait_line(
        "the walk-through",
        Duration::from_secs(15),
        &["Ctrl-C stops everything"],
    )
    .await;
    let text = demo.text();

    // The numbered steps, in order, and what they name.
    let mut at = 0;
    for step in 1..=5 {
        let marker = format!("\n{step}. ");
        let found = text[at..]
            .find(&marker)
            .unwrap_or_else(|| panic!("step {step} after {at} in:\n{text}"));
        at += found + marker.len();
    }
    for needle in [
        "/sim/pay",
        "/sim/mine",
        "/sim/exchange",
        "bchpay inspect",
        "/api/v1/invoices",
        "Authorization: Bearer ",
    ] {
        assert!(text.contains(needle), "the walk-through names {needle}:\n{text}");
    }

    // Its endpoints, as printed.
    let base = demo.field("engine");
    assert_eq!(base, format!("http://{bind}"), "the engine listens where --bind said");
    let sim = demo.field("simulated wallet");
    let store = std::path::PathBuf::from(demo.field("store"));
    let key = text
        .split("Authorization: Bearer ")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the key in the curl command")
        .to_owned();
    assert!(store.is_dir(), "the printed store {} exists", store.display());
    let (status, _) = get_json(&format!("{base}/healthz")).await.expect("healthz");
    assert_eq!(status, 200);
    // The walk-through is printed before the wallet link is up and the pool
    // filled: a program (faster than a human pasting) waits for /readyz.
    eventually("/readyz 200", Duration::from_secs(10), || async {
        let (status, _) = readyz(&base).await?;
        (status == 200).then_some(())
    })
    .await;

    // Step 1: create an invoice with the printed key.
    let made = post(
        &format!("{base}/api/v1/invoices"),
        Some(&bearer(&key)),
        json!({"price": "15000", "currency": "KRW", "order_id": "demo-1", "description": "Demo order"}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = made.body["id"].as_str().unwrap().to_owned();
    let address = made.body["address"].as_str().unwrap().to_owned();
    // Priced in won at the simulated Upbit's 612,000 KRW/BCH, with no internet.
    assert_eq!(
        (
            &made.body["currency"],
            &made.body["price"],
            &made.body["rate"],
            &made.body["rate_sources"]
        ),
        (&json!("KRW"), &json!("15000"), &json!("612000"), &json!(["upbit"])),
        "{}",
        made.body
    );
    let sats = made.body["amount_sats"].as_u64().unwrap();
    assert_eq!(sats, 2_450_981, "ceil(15000 x 1e8 / 612000)");
    assert_eq!(made.body["checkout_url"], format!("{base}/i/{id}"));

    // Step 2: the checkout page answers.
    let page = client()
        .get(format!("{base}/i/{id}"))
        .send()
        .await
        .expect("checkout page");
    assert_eq!(page.status().as_u16(), 200);

    // Steps 3 and 4: pay from the simulated wallet, mine a block.
    let paid = post(
        &format!("{sim}/sim/pay"),
        None,
        json!({"address": address, "amount_sats": sats}),
    )
    .await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    let mined = post(&format!("{sim}/sim/mine"), None, json!({"blocks": 1})).await;
    assert_eq!(mined.status, 200, "{}", mined.body);

    // Step 5: the demo's receiver prints the signed confirmation.
    let line = demo
        .wait_line(
            "the confirmed webhook printed",
            Duration::from_secs(10),
            &["webhook received: invoice.confirmed", &id],
        )
        .await;
    assert!(line.contains("signature ok"), "{line}");
    let (status, body) = get_json(&format!("{base}/i/{id}/status")).await.expect("status");
    assert_eq!((status, body["status"].as_str()), (200, Some("confirmed")), "{body}");

    // The dashboard, as printed: its URL and the key that signs in there.
    let dashboard = demo.field("dashboard");
    assert_eq!(dashboard, format!("{base}/dashboard"));
    let sign_in_key = text
        .split("(sign in with the key: ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the dashboard's sign-in key")
        .to_owned();
    let no_redirects = awc::Client::builder().disable_redirects().finish();
    let signed = no_redirects
        .post(format!("{base}/dashboard/login"))
        .send_form(&[("api_key", sign_in_key.as_str())])
        .await
        .expect("sign in");
    assert_eq!(signed.status().as_u16(), 303);
    assert_eq!(
        signed.headers().get("location").and_then(|v| v.to_str().ok()),
        Some("/dashboard")
    );
    let cookie = signed
        .headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("bchpay_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session")
        .to_owned();
    let mut overview = no_redirects
        .get(format!("{base}/dashboard/invoices?q=demo-1"))
        .insert_header(("Cookie", format!("bchpay_session={cookie}")))
        .send()
        .await
        .expect("the dashboard");
    assert_eq!(overview.status().as_u16(), 200);
    let page = overview.body().await.expect("page");
    assert!(
        String::from_utf8_lossy(&page).contains(&id),
        "the demo's invoice on the dashboard"
    );

    // Killed (not a clean exit): the temporary store is left; tidy it here.
    demo.child.kill().expect("kill the demo");
    demo.child.wait().expect("wait for the demo");
    if store
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("bchpay-demo-"))
    {
        let _ = std::fs::remove_dir_all(&store);
    }
}

#[actix_rt::test]
async fn the_demo_refuses_a_port_already_taken() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    let demo = Demo::spawn(&bind);
    let mut demo = demo;
    let status = eventually("the demo to exit", Duration::from_secs(10), || {
        let exited = demo.child.try_wait().expect("try_wait");
        async move { exited }
    })
    .await;
    assert!(!status.success(), "the demo ran on a taken port:\n{}", demo.text());
}
