//! The checkout page in a real browser (issue 6, item 4): headless Chromium,
//! driven over WebDriver by `chromedriver`, loads the page once; the
//! simulator pays and mines; the page's own polling must carry the status to
//! confirmed without a reload. Screenshots go to `target/checkout-screenshots/`.
//!
//! Without Chromium the test fails under CI (`.ci/run` installs it) and is
//! skipped, loudly, elsewhere.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::helpers::*;
use base64::Engine as _;
use serde_json::{json, Value};

/// Debian's Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver`.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A phone-sized window.
const WINDOW: (u32, u32) = (420, 900);
/// The page polls every 2 s; a status change must show within two polls and a margin.
const STATUS_BAR: Duration = Duration::from_secs(8);

/// `chromedriver` on a loopback port; killed on drop.
struct Driver {
    /// The process.
    child: Child,
    /// Its base URL.
    base: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser session over WebDriver's HTTP+JSON protocol (W3C), with awc.
struct Browser {
    /// The driver, kept alive as long as the session.
    driver: Driver,
    /// The session id.
    session: String,
    /// The HTTP client.
    client: awc::Client,
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium session; `None` (after
    /// saying why, loudly) when Chromium is not installed and CI is not set.
    async fn start() -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            let msg = format!(
                "{} missing: apt-get install -y chromium chromium-driver",
                missing.join(" and ")
            );
            skip_unless_ci(&format!("the checkout browser test: {msg}"));
            return None;
        }
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
        eventually("chromedriver to be ready", Duration::from_secs(20), || async {
            let (_, body) = get_json(&format!("{}/status", driver.base)).await?;
            (body["value"]["ready"] == true).then_some(())
        })
        .await;
        let profile = tempfile::tempdir().expect("profile dir");
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let reply = call(
            &client,
            awc::http::Method::POST,
            &format!("{}/session", driver.base),
            Some(caps),
        )
        .await;
        let session = reply["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {reply}"))
            .to_owned();
        // The profile directory must outlive the browser; it is small, leave it to the OS.
        std::mem::forget(profile);
        Some(Browser {
            driver,
            session,
            client,
        })
    }

    /// A WebDriver command on this session; its `value`.
    async fn command(&self, method: awc::http::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.driver.base, self.session);
        call(&self.client, method, &url, body).await
    }

    /// Opens `url` (returns once it has loaded).
    async fn goto(&self, url: &str) {
        self.command(awc::http::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Runs `script` (a function body) in the page; what it returns.
    async fn eval(&self, script: &str) -> Value {
        self.command(
            awc::http::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// A PNG of the window, written to `target/checkout-screenshots/{name}.png`.
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command(awc::http::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("valid base64");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/checkout-screenshots");
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("write screenshot");
        path
    }

    /// Ends the session (the browser quits).
    async fn quit(self) {
        let url = format!("{}/session/{}", self.driver.base, self.session);
        let _ = self.client.delete(url).send().await;
    }
}

/// One WebDriver HTTP call; panics on an error answer, else returns `value`.
async fn call(client: &awc::Client, method: awc::http::Method, url: &str, body: Option<Value>) -> Value {
    let request = client.request(method.clone(), url);
    let sent = match body {
        Some(body) => request.send_json(&body).await,
        None => request.send().await,
    };
    let mut response = sent.unwrap_or_else(|e| panic!("WebDriver {method} {url}: {e}"));
    let bytes = response
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .unwrap_or_else(|e| panic!("WebDriver {method} {url}: body: {e}"));
    let reply: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(
        response.status().is_success(),
        "WebDriver {method} {url}: {} {reply}",
        response.status()
    );
    reply["value"].clone()
}

/// What the test reads from the page: the status text, whether parts are shown.
const READ_PAGE: &str = r#"
const shown = (id) => { const e = document.getElementById(id); return !!e && !e.hidden && e.offsetParent !== null; };
return {
  status: document.getElementById("status").textContent,
  amount: document.getElementById("amount").textContent,
  timer: document.getElementById("timer").textContent,
  svg: document.querySelectorAll("svg.qr path").length,
  pay: shown("pay"),
  back: shown("back"),
  offline: shown("offline"),
  loaded_once: window.__loaded_once === true,
};"#;

/// Waits until the page's status text is `want`; the page as [`READ_PAGE`] reads it.
async fn wait_status(browser: &Browser, want: &str) -> Value {
    eventually(&format!("the page to show {want:?}"), STATUS_BAR, || async {
        let page = browser.eval(READ_PAGE).await;
        if page["status"] == want {
            Ok(page)
        } else {
            Err(format!("it shows {page}"))
        }
    })
    .await
}

#[actix_rt::test]
async fn the_page_in_a_browser_follows_the_payment_to_confirmed_by_itself() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let app = TestApp::spawn_with(|s| s.payments.poll_interval_ms = 100).await;
    let inv = app
        .create_ok(&json!({
            "amount": "0.0042",
            "description": "Two coffees & a <croissant>",
            "redirect_url": "https://shop.example/thanks",
            "required_confirmations": 1,
        }))
        .await;
    let id = inv["id"].as_str().unwrap();
    let address = inv["address"].as_str().unwrap();

    // Loaded once: a marker set now would be gone after any reload.
    browser.goto(&format!("{}/i/{id}", app.base)).await;
    browser.eval("window.__loaded_once = true; return null;").await;
    let waiting = wait_status(&browser, "Waiting for payment").await;
    assert_eq!(waiting["amount"], "0.0042 BCH", "{waiting}");
    assert!(
        waiting["svg"].as_u64().unwrap_or(0) > 0,
        "a QR code in the DOM: {waiting}"
    );
    assert_eq!(
        (waiting["pay"].as_bool(), waiting["back"].as_bool()),
        (Some(true), Some(false))
    );
    let description = browser
        .eval("return document.querySelector('.description').textContent;")
        .await;
    assert_eq!(description, "Two coffees & a <croissant>");
    // The countdown runs in the page.
    let first = waiting["timer"].as_str().unwrap().to_owned();
    let ticking = eventually("the countdown to tick", Duration::from_secs(4), || async {
        let now = browser.eval(READ_PAGE).await;
        (now["timer"] != first.as_str()).then_some(now)
    })
    .await;
    assert!(ticking["timer"].as_str().unwrap().starts_with("14:5"), "{ticking}");
    browser.screenshot("waiting").await;

    app.sim.pay(address, 420_000).expect("pay");
    let paid = wait_status(&browser, "Paid, waiting for confirmation (0 of 1)").await;
    assert_eq!(paid["pay"], false, "nothing left to pay: {paid}");
    assert_eq!(paid["loaded_once"], true, "no reload: {paid}");
    browser.screenshot("paid").await;

    app.sim.mine(1);
    let confirmed = wait_status(&browser, "Confirmed").await;
    assert_eq!(confirmed["back"], true, "the way back to the shop: {confirmed}");
    assert_eq!(confirmed["offline"], false, "{confirmed}");
    assert_eq!(confirmed["loaded_once"], true, "no reload: {confirmed}");
    let href = browser.eval("return document.getElementById('back').href;").await;
    assert_eq!(href, "https://shop.example/thanks");
    let shot = browser.screenshot("confirmed").await;
    eprintln!("screenshots in {}", shot.parent().unwrap().display());

    // The browser ran the page under its policy: nothing was refused.
    let log = browser
        .eval("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    for url in log.as_array().expect("resource entries") {
        let url = url.as_str().unwrap_or("");
        assert!(url.starts_with(&app.base), "the page loaded {url}");
    }
    browser.quit().await;
}
