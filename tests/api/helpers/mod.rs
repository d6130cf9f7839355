//! Shared test helpers: the real binary in a temporary directory, the engine
//! in-process, the simulator, and waiting on conditions with deadlines.
#![allow(dead_code)]

pub mod browser;
pub mod cli;
mod eventually;
pub mod greenfield;
pub mod raw_http;
pub mod receiver;

#[allow(unused_imports)] // each test binary uses its own part of them
pub use eventually::{eventually, eventually_blocking, poll, poll_blocking, poll_every, Sighting};

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// A test that cannot run here (a tool is missing): under `CI` that is a
/// failure (`.ci/run` installs every tool a test needs), elsewhere it says so
/// loudly and the test returns.
pub fn skip_unless_ci(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why} (under CI every test runs: .ci/run installs what it needs)");
    }
    eprintln!("\n!!!!!!!! SKIPPED: {why} !!!!!!!!\n");
}

/// A loopback port that was free a moment ago (for a daemon that starts later).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// GET `url`; the status and the body as JSON (`Null` if it is not JSON).
pub async fn get_json(url: &str) -> Option<(u16, Value)> {
    let client = awc::Client::builder().timeout(Duration::from_secs(5)).finish();
    let mut response = client.get(url).send().await.ok()?;
    let body = response.body().await.ok()?;
    Some((
        response.status().as_u16(),
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    ))
}

/// The `/readyz` answer of the engine at `base`.
pub async fn readyz(base: &str) -> Option<(u16, Value)> {
    get_json(&format!("{base}/readyz")).await
}

/// The wallet state `/readyz` shows.
pub async fn wallet_state(base: &str) -> Option<String> {
    let (_, body) = readyz(base).await?;
    body["wallet"]["state"].as_str().map(str::to_owned)
}

/// Waits until `/readyz` shows the wallet `state`.
pub async fn wait_wallet_state(base: &str, state: &str, deadline: Duration) -> Value {
    eventually(&format!("wallet state {state}"), deadline, || async {
        let (_, body) = readyz(base).await?;
        (body["wallet"]["state"] == state).then_some(body)
    })
    .await
}

/// Waits until `/readyz` shows at least `n` addresses in the pool, so that the
/// next `n` creations need no wallet call.
pub async fn wait_pool_available(base: &str, n: u64, deadline: Duration) -> Value {
    eventually(&format!("{n} addresses in the pool"), deadline, || async {
        let (_, body) = readyz(base).await?;
        (body["address_pool"]["available"].as_u64()? >= n).then_some(body)
    })
    .await
}

/// The real `bchpay serve` in a temporary directory, its output captured.
pub struct Engine {
    /// The process.
    child: Child,
    /// Base URL of its HTTP server.
    pub base: String,
    /// Every line it printed (stdout and stderr).
    output: Arc<Mutex<Vec<String>>>,
    /// Its directory (config and store), removed on drop; `None` once handed
    /// back by [`Engine::into_dir`].
    dir: Option<tempfile::TempDir>,
}

impl Engine {
    /// Starts `bchpay serve` with `config` (TOML, without `[server]` and `[store]`,
    /// which are set here) and extra environment variables; waits for its port.
    pub fn spawn(config: &str, env: &[(&str, &str)]) -> Engine {
        Engine::spawn_in(tempfile::tempdir().expect("temp dir"), config, env)
    }

    /// Like [`Engine::spawn`], in `dir` (a restart on the store of an engine
    /// given back by [`Engine::into_dir`]).
    pub fn spawn_in(dir: tempfile::TempDir, config: &str, env: &[(&str, &str)]) -> Engine {
        let store = dir.path().join("store");
        // No test reaches a real exchange: rates off unless the test configures them.
        let rates = if config.contains("[rates]") {
            ""
        } else {
            "[rates]\ncurrencies = []\n"
        };
        let text = format!(
            "[server]\nbind = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:8080\"\n[store]\npath = {:?}\n{rates}{config}",
            store.display().to_string()
        );
        let config_path: PathBuf = dir.path().join("config.toml");
        std::fs::write(&config_path, text).expect("write config");
        let mut command = Command::new(env!("CARGO_BIN_EXE_bchpay"));
        command
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command.env("RUST_LOG", "debug");
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("spawn bchpay");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let output = output.clone();
            let port_tx = port_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                        let _ = port_tx.send(rest.trim().parse::<u16>().unwrap_or(0));
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        let port = port_rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| {
            panic!(
                "bchpay did not say where it listens:\n{}",
                output.lock().unwrap().join("\n")
            )
        });
        Engine {
            child,
            base: format!("http://127.0.0.1:{port}"),
            output,
            dir: Some(dir),
        }
    }

    /// The store directory (`[store] path`).
    pub fn store_path(&self) -> PathBuf {
        self.dir.as_ref().expect("the engine's directory").path().join("store")
    }

    /// SIGKILL (`Child::kill`), then waits for the process to be gone.
    /// Sends SIGTERM and waits for the exit, at most `deadline`; the exit code.
    pub fn terminate(&mut self, deadline: Duration) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let child = &mut self.child;
        poll_blocking(deadline, || child.try_wait().ok().flatten())
            .ok()
            .and_then(|status| status.code())
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        self.child.wait().expect("wait for the killed engine");
    }

    /// Kills the engine and hands back its directory, to restart on the same store.
    pub fn into_dir(mut self) -> tempfile::TempDir {
        self.kill();
        self.dir.take().expect("the engine's directory")
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `[electron_cash]` section for a daemon at `url`.
pub fn wallet_config(url: &str, password: &str, timeout_secs: u64) -> String {
    format!("[electron_cash]\nurl = \"{url}\"\nrpc_user = \"bchrpc\"\nrpc_password = \"{password}\"\ntimeout_secs = {timeout_secs}\n")
}

/// Settings for an in-process engine on port 0 against the daemon at `url`.
pub fn settings(url: &str, store: &std::path::Path) -> bchpay::config::Settings {
    let mut s = bchpay::config::Settings::default();
    s.server.bind = "127.0.0.1:0".into();
    s.store.path = store.to_path_buf();
    s.electron_cash.url = url.into();
    // No test reaches a real exchange: rates off unless the test configures them.
    s.rates.currencies = Vec::new();
    s
}

/// The API key the in-process engines accept.
pub const API_KEY: &str = "test-key-0001";

/// The `public_url` of the in-process engines: not where they listen, so that
/// a `checkout_url` built from the bind address shows.
pub const PUBLIC_URL: &str = "https://pay.example.test";

/// An HTTP answer: status, headers and the body as JSON (`Null` if it is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: awc::http::header::HeaderMap,
    /// The body as JSON.
    pub body: Value,
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

/// Asserts an error answer of api.md: the status, `{"error": {"code", "message", "field"?}}`,
/// and the field at fault when one is named.
#[track_caller]
pub fn assert_error(reply: &Reply, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(
        (reply.status, reply.body["error"]["code"].as_str()),
        (status, Some(code)),
        "expected {status} {code}, got {} {}",
        reply.status,
        reply.body
    );
    assert!(
        reply.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message: {}",
        reply.body
    );
    if let Some(field) = field {
        assert_eq!(
            reply.body["error"]["field"].as_str(),
            Some(field),
            "field at fault: {}",
            reply.body
        );
    }
}

/// What a failed request must leave alone: invoices, the pool, the address ledger.
#[derive(Debug, PartialEq, Eq)]
pub struct StoreSnapshot {
    /// Invoices ever created.
    pub invoice_count: u64,
    /// The addresses waiting in the pool.
    pub pool: Vec<String>,
    /// Addresses ever handed to an invoice.
    pub ledger_len: usize,
}

/// Counts and pool of a store.
pub fn snapshot(reader: &bchpay::store::StoreReader) -> StoreSnapshot {
    StoreSnapshot {
        invoice_count: reader.invoice_count().expect("invoice count"),
        pool: reader
            .pool_addresses()
            .expect("pool addresses")
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        ledger_len: reader.ledger_len(),
    }
}

/// An HTTP client for the tests: every call fails after 10 s rather than hang.
pub fn client() -> awc::Client {
    awc::Client::builder().timeout(Duration::from_secs(10)).finish()
}

/// Sends a request; `auth` is the whole `Authorization` header, `body` raw bytes sent as JSON.
pub async fn send(
    client: &awc::Client,
    method: awc::http::Method,
    url: &str,
    auth: Option<&str>,
    body: Option<Vec<u8>>,
) -> Reply {
    let mut request = client.request(method.clone(), url);
    if let Some(auth) = auth {
        request = request.insert_header(("Authorization", auth));
    }
    let sent = match body {
        Some(body) => {
            request
                .insert_header(("Content-Type", "application/json"))
                .send_body(body)
                .await
        }
        None => request.send().await,
    };
    let mut response = sent.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let bytes = response
        .body()
        .limit(16 * 1024 * 1024)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: body: {e}"));
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

/// `Bearer <key>`.
pub fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// An engine in this process against its own simulated daemon, with its store
/// in a temporary directory.
pub struct TestApp {
    /// Base URL of its HTTP server.
    pub base: String,
    /// Reads its store while it runs.
    pub reader: bchpay::store::StoreReader,
    /// Whether its store can write, and the store's fault hook.
    pub store_health: std::sync::Arc<bchpay::store::Health>,
    /// Its simulated Electron Cash daemon.
    pub sim: bchpay::sim::Sim,
    /// The configuration it runs with.
    pub settings: bchpay::config::Settings,
    /// The client the request helpers use.
    pub client: awc::Client,
    /// Holds the store directory until the test ends.
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Starts a simulated daemon and an engine against it (key [`API_KEY`],
    /// `public_url` [`PUBLIC_URL`]), changed by `configure`; returns once the
    /// wallet is up and the pool is full, so that nothing moves in the store
    /// unless a request moves it.
    pub async fn spawn_with(configure: impl FnOnce(&mut bchpay::config::Settings)) -> TestApp {
        let sim = bchpay::sim::Sim::start(bchpay::sim::SimConfig::default())
            .await
            .expect("start the simulated daemon");
        let app = TestApp::spawn_against(sim, configure).await;
        app.wait_pool_full().await;
        app
    }

    /// [`TestApp::spawn_with`] the defaults otherwise.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// An engine against `sim`; returns once the wallet is up (the pool may still be filling).
    pub async fn spawn_against(
        sim: bchpay::sim::Sim,
        configure: impl FnOnce(&mut bchpay::config::Settings),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut s = settings(&sim.url(), &dir.path().join("store"));
        s.api.keys = vec![bchpay::config::Secret::new(API_KEY)];
        s.server.public_url = PUBLIC_URL.into();
        s.addresses.pool_low = 2;
        s.addresses.pool_high = 5;
        configure(&mut s);
        let app = bchpay::startup::Application::build(s.clone())
            .await
            .expect("build the engine");
        let base = format!("http://127.0.0.1:{}", app.port());
        let reader = app.reader();
        let store_health = app.store_health();
        actix_rt::spawn(app.run_until_stopped());
        wait_wallet_state(&base, "up", Duration::from_secs(3)).await;
        TestApp {
            base,
            reader,
            store_health,
            sim,
            settings: s,
            client: client(),
            _dir: dir,
        }
    }

    /// Waits until the pool holds `addresses.pool_high` addresses.
    pub async fn wait_pool_full(&self) {
        let high = self.settings.addresses.pool_high;
        eventually(&format!("a full pool of {high}"), Duration::from_secs(10), || async {
            (self.reader.pool_len() == high).then_some(())
        })
        .await;
    }

    /// The store's counts and pool now.
    pub fn snapshot(&self) -> StoreSnapshot {
        snapshot(&self.reader)
    }

    /// `POST /api/v1/invoices` with `body` and the right key.
    pub async fn create(&self, body: &Value) -> Reply {
        self.post_raw(body.to_string().into_bytes(), Some(&bearer(API_KEY)))
            .await
    }

    /// `POST /api/v1/invoices` with these bytes and this `Authorization` header.
    pub async fn post_raw(&self, body: Vec<u8>, auth: Option<&str>) -> Reply {
        send(
            &self.client,
            awc::http::Method::POST,
            &format!("{}/api/v1/invoices", self.base),
            auth,
            Some(body),
        )
        .await
    }

    /// `GET` of `path` (with its query) with the right key.
    pub async fn get(&self, path: &str) -> Reply {
        self.get_with(path, Some(&bearer(API_KEY))).await
    }

    /// `GET` of `path` with this `Authorization` header.
    pub async fn get_with(&self, path: &str, auth: Option<&str>) -> Reply {
        send(
            &self.client,
            awc::http::Method::GET,
            &format!("{}{path}", self.base),
            auth,
            None,
        )
        .await
    }

    /// Creates an invoice that must be answered `201`; its JSON.
    pub async fn create_ok(&self, body: &Value) -> Value {
        let reply = self.create(body).await;
        assert_eq!(reply.status, 201, "create {body}: {}", reply.body);
        reply.body
    }
}
