//! Running the real `bchpay` binary as a command-line tool.

use std::process::Command;

/// What a `bchpay` run did.
pub struct Run {
    /// Its exit code.
    pub code: Option<i32>,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Runs `bchpay ARGS` off the runtime (the simulator keeps answering
/// meanwhile), without `BCHPAY_API_KEY` from the environment, logging warnings.
pub async fn bchpay(args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    actix_rt::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_bchpay"))
            .args(&args)
            .env_remove("BCHPAY_API_KEY")
            .env("RUST_LOG", "warn")
            .output()
            .expect("run bchpay");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .expect("the bchpay thread")
}
