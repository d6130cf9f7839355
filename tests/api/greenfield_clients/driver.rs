//! Runs a driver script of tests/greenfield_clients/ (the npm or the PyPI
//! client, as `.ci/run` installs them) and reads the JSON line it prints.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::helpers::poll_blocking;
use serde_json::Value;

/// How long one driver run may take: about twenty requests to a loopback
/// server, and the interpreter's start.
const RUN_BAR: Duration = Duration::from_secs(60);

/// One of the two independent clients.
#[derive(Debug, Clone, Copy)]
pub enum Client {
    /// npm `btcpay-greenfield-node-client` 1.7.0, `node/drive.js`.
    Node,
    /// PyPI `pygreenfield` 1.0.0 in `python/.venv`, `python/drive.py`.
    Python,
}

/// tests/greenfield_clients.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/greenfield_clients")
}

/// Whether `program ARGS` runs and exits 0.
fn runs(program: &Path, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Client {
    /// The command that runs the driver, or why it cannot run here.
    pub fn command(self) -> Result<Command, String> {
        match self {
            Client::Node => {
                let package = root().join("node/node_modules/btcpay-greenfield-node-client/package.json");
                if !runs(Path::new("node"), &["--version"]) {
                    return Err("`node` is not on PATH".into());
                }
                if !package.exists() {
                    return Err(format!("{} is missing: run .ci/run", package.display()));
                }
                let mut command = Command::new("node");
                command.arg(root().join("node/drive.js"));
                Ok(command)
            }
            Client::Python => {
                let python = root().join("python/.venv/bin/python");
                if !runs(&python, &["-c", "import pygreenfield"]) {
                    return Err(format!("{} cannot import pygreenfield: run .ci/run", python.display()));
                }
                let mut command = Command::new(python);
                command.arg(root().join("python/drive.py"));
                Ok(command)
            }
        }
    }

    /// Runs the driver with `env` (off the runtime: the engine keeps
    /// answering meanwhile); the JSON line it printed.
    pub async fn run(self, env: Vec<(&'static str, String)>) -> Value {
        let command = self.command().unwrap_or_else(|why| panic!("{self:?}: {why}"));
        actix_rt::task::spawn_blocking(move || run_blocking(self, command, &env))
            .await
            .expect("the driver thread")
    }
}

/// Runs `command` to its end (killed at [`RUN_BAR`]); its last stdout line as JSON.
fn run_blocking(client: Client, mut command: Command, env: &[(&'static str, String)]) -> Value {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let out = File::create(&out_path).expect("stdout file");
    let err = File::create(&err_path).expect("stderr file");
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("{client:?}: start the driver: {e}"));
    let status = poll_blocking(RUN_BAR, || child.try_wait().ok().flatten());
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    let Ok(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "{client:?}: the driver ran past {RUN_BAR:?}\n{}\n{}",
            read(&out_path),
            read(&err_path)
        );
    };
    let (stdout, stderr) = (read(&out_path), read(&err_path));
    assert!(
        status.success(),
        "{client:?}: the driver failed ({status}):\n{stdout}\n{stderr}"
    );
    let line = stdout.lines().last().unwrap_or_default();
    let value: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{client:?}: not one JSON line ({e}):\n{stdout}\n{stderr}"));
    assert!(
        value["fatal"].is_null(),
        "{client:?}: the driver broke: {}\n{stderr}",
        value["fatal"]
    );
    value
}

/// Step `name` of a driver's output (panics with the whole output when absent).
pub fn step<'a>(out: &'a Value, name: &str) -> &'a Value {
    let step = &out["steps"][name];
    assert!(step.is_object(), "no step {name:?} in {out}");
    step
}

/// The body of step `name`, which must have succeeded.
pub fn ok<'a>(out: &'a Value, name: &str) -> &'a Value {
    let s = step(out, name);
    assert_eq!(s["ok"], true, "{} {name} failed: {s}", out["client"]);
    &s["body"]
}
