//! Shared test helpers: the real binary in a temporary directory, the engine
//! in-process, the simulator, and waiting on conditions with deadlines.
#![allow(dead_code)]

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Waits until `check` returns `Some`, polling every 20 ms, or panics at the deadline.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
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
    wait_for(&format!("wallet state {state}"), deadline, || async {
        let (_, body) = readyz(base).await?;
        (body["wallet"]["state"] == state).then_some(body)
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
    /// Its directory (config and store), removed on drop.
    pub dir: tempfile::TempDir,
}

impl Engine {
    /// Starts `bchpay serve` with `config` (TOML, without `[server]` and `[store]`,
    /// which are set here) and extra environment variables; waits for its port.
    pub fn spawn(config: &str, env: &[(&str, &str)]) -> Engine {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = dir.path().join("store");
        let text = format!(
            "[server]\nbind = \"127.0.0.1:0\"\npublic_url = \"http://127.0.0.1:8080\"\n[store]\npath = {:?}\n{config}",
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
            dir,
        }
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
    s
}
