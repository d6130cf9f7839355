//! Headless Chromium driven over WebDriver (W3C, HTTP+JSON) by `chromedriver`,
//! with awc: for the tests that look at pages in a real browser
//! (`checkout_browser`, `dashboard_browser`).
//!
//! Without Chromium a test fails under CI (`.ci/run` installs it) and is
//! skipped, loudly, elsewhere: [`Browser::start`] gives `None`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use super::{eventually, free_port, get_json, skip_unless_ci};

/// Debian's Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's `chromium-driver`.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

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

/// One browser session.
pub struct Browser {
    /// The driver, kept alive as long as the session.
    driver: Driver,
    /// The session id.
    session: String,
    /// The HTTP client.
    client: awc::Client,
    /// Where screenshots go (under `target/`).
    shots: PathBuf,
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium session with a window of
    /// `window` (width, height) and the preferences `prefs` (e.g. the download
    /// directory); screenshots go to `target/{shots}/`. `None` (after saying
    /// why, loudly) when Chromium is not installed and CI is not set.
    pub async fn start(what: &str, window: (u32, u32), shots: &str, prefs: Value) -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        if !missing.is_empty() {
            let msg = format!(
                "{} missing: apt-get install -y chromium chromium-driver",
                missing.join(" and ")
            );
            skip_unless_ci(&format!("{what}: {msg}"));
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
            format!("--window-size={},{}", window.0, window.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args, "prefs": prefs},
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
            shots: Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join(shots),
        })
    }

    /// A WebDriver command on this session; its `value`.
    pub async fn command(&self, method: awc::http::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.driver.base, self.session);
        call(&self.client, method, &url, body).await
    }

    /// Opens `url` (returns once it has loaded).
    pub async fn goto(&self, url: &str) {
        self.command(awc::http::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// Runs `script` (a function body) in the page; what it returns.
    pub async fn eval(&self, script: &str) -> Value {
        self.command(
            awc::http::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Runs `script` (a function body whose last argument is the callback) in
    /// the page; what it passes to the callback.
    pub async fn eval_async(&self, script: &str) -> Value {
        self.command(
            awc::http::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Sets the window's size (CSS pixels).
    pub async fn resize(&self, width: u32, height: u32) {
        self.command(
            awc::http::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// The WebDriver element id of the first element matching `css`.
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                awc::http::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_owned()
    }

    /// Clicks the first element matching `css` (a real click, as a user's).
    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.command(
            awc::http::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Types `text` into the first element matching `css`, after clearing it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.command(
            awc::http::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.command(
            awc::http::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// The page's URL now.
    pub async fn url(&self) -> String {
        self.command(awc::http::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    /// A PNG of the window, written to `target/{shots}/{name}.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.command(awc::http::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 PNG"))
            .expect("valid base64");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::create_dir_all(&self.shots).expect("screenshot dir");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("write screenshot");
        path
    }

    /// A PNG of the whole page, beyond the window (Chromium's DevTools
    /// `Page.captureScreenshot`), written to `target/{shots}/{name}.png`.
    pub async fn screenshot_page(&self, name: &str) -> PathBuf {
        let size = self
            .eval("return [document.documentElement.scrollWidth, document.documentElement.scrollHeight];")
            .await;
        let (width, height) = (size[0].as_u64().unwrap_or(800), size[1].as_u64().unwrap_or(600));
        let shot = self
            .command(
                awc::http::Method::POST,
                "/goog/cdp/execute",
                Some(json!({"cmd": "Page.captureScreenshot", "params": {
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                }})),
            )
            .await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("base64 PNG"))
            .expect("valid base64");
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
        std::fs::create_dir_all(&self.shots).expect("screenshot dir");
        let path = self.shots.join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("write screenshot");
        path
    }

    /// Ends the session (the browser quits).
    pub async fn quit(self) {
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
