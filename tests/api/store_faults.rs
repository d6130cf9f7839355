//! A store that cannot write: creations answer `503 store_unavailable` with
//! `Retry-After` (never 500), nothing unacknowledged is claimed, `/readyz`
//! says `"store": "down"` with the error, and all of it comes back by itself
//! when the fault goes, without a restart (api.md, "Store faults").

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helpers::{self, eventually, readyz, TestApp};
use serde_json::json;

/// Waits until `/readyz` shows the store `state` ("ok" or "down"); its body.
async fn wait_store(app: &TestApp, state: &str, deadline: Duration) -> serde_json::Value {
    eventually(&format!("store {state} on /readyz"), deadline, || async {
        let (status, body) = readyz(&app.base).await?;
        let expected = if state == "ok" { 200 } else { 503 };
        (body["store"] == state && status == expected).then_some(body)
    })
    .await
}

/// Asserts a refused creation is the contract's store fault.
fn assert_store_unavailable(reply: &helpers::Reply) {
    helpers::assert_error(reply, 503, "store_unavailable", None);
    let retry: u64 = reply
        .header("Retry-After")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After on {:?}", reply.body));
    assert!(retry > 0);
}

#[actix_rt::test]
async fn writes_that_fail_answer_503_store_unavailable_and_readyz_recovers_by_itself() {
    let app = TestApp::spawn().await;
    let before = app.create_ok(&json!({"amount_sats": 1000, "order_id": "before"})).await;
    wait_store(&app, "ok", Duration::from_secs(2)).await;
    let snapshot = app.snapshot();

    app.store_health.faults.fail_writes(true);
    let refused = app.create(&json!({"amount_sats": 1000, "order_id": "during"})).await;
    let down = wait_store(&app, "down", Duration::from_secs(3)).await;

    assert_store_unavailable(&refused);
    assert!(
        down["store_error"]
            .as_str()
            .is_some_and(|e| e.contains("injected fault")),
        "{down}"
    );
    assert_eq!(app.snapshot(), snapshot, "a refused write changes nothing");

    app.store_health.faults.fail_writes(false);
    wait_store(&app, "ok", Duration::from_secs(3)).await;
    let after = app.create(&json!({"amount_sats": 1000, "order_id": "during"})).await;
    assert_eq!(after.status, 201, "{}", after.body);
    let read = app
        .get(&format!("/api/v1/invoices/{}", before["id"].as_str().unwrap()))
        .await;
    assert_eq!(read.body["id"], before["id"]);
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    /// Where it is mounted.
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. "16m"); `None` where mounting is not
    /// permitted, which fails the test under `CI` (CI runs as root).
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().expect("temp dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status();
        match status {
            Ok(s) if s.success() => Some(Tmpfs { dir }),
            other => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "cannot mount a tmpfs ({other:?}): the store-full test needs root, as on CI"
                );
                eprintln!("SKIPPED: cannot mount a tmpfs ({other:?}); run as root to test a full disk");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Fills the file system of `dir` with one file until a write fails.
fn fill_up(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("ballast");
    let mut file = std::fs::File::create(&path).expect("ballast file");
    let block = vec![0xA5u8; 64 * 1024];
    while file.write_all(&block).and_then(|()| file.sync_data()).is_ok() {}
    path
}

#[actix_rt::test]
async fn a_full_disk_answers_503_keeps_every_acknowledged_invoice_and_comes_back_when_space_returns() {
    let Some(tmpfs) = Tmpfs::mount("24m") else { return };
    let store = tmpfs.path().join("store");
    let app = TestApp::spawn_with(|s| s.store.path = store.clone()).await;
    wait_store(&app, "ok", Duration::from_secs(2)).await;
    let ballast = fill_up(tmpfs.path());

    let mut acknowledged = Vec::new();
    let mut refused = None;
    for n in 0..5_000 {
        let reply = app
            .create(&json!({"amount_sats": 1000 + n, "order_id": format!("full-{n}")}))
            .await;
        match reply.status {
            201 => acknowledged.push(reply.body["id"].as_str().unwrap_or_default().to_owned()),
            _ => {
                refused = Some(reply);
                break;
            }
        }
    }
    let refused = refused.expect("a full disk refuses a creation");
    assert_store_unavailable(&refused);
    let down = wait_store(&app, "down", Duration::from_secs(5)).await;
    assert!(down["store_error"].as_str().is_some_and(|e| !e.is_empty()), "{down}");

    std::fs::remove_file(&ballast).expect("remove the ballast");
    wait_store(&app, "ok", Duration::from_secs(10)).await;
    let after = app
        .create(&json!({"amount_sats": 999, "order_id": "after-space"}))
        .await;

    assert_eq!(after.status, 201, "{}", after.body);
    for id in &acknowledged {
        let read = app.get(&format!("/api/v1/invoices/{id}")).await;
        assert_eq!(read.status, 200, "acknowledged invoice {id} is gone");
    }
    let broken = bchpay::store::check_invariants(&app.reader).expect("check the store");
    assert!(broken.is_empty(), "{broken:#?}");
}
