//! `bchpay backup` and `bchpay restore`: the operator's side of
//! [`crate::store::backup`].
//!
//! `backup` takes the file from a running engine (`GET /api/v1/admin/backup`,
//! an `unrestricted` key) or from a stopped engine's store directory, writes
//! it beside `--out` as `<out>.partial`, checks it whole (format, checksum)
//! and only then renames it to `--out`: a file named `--out` is always a
//! complete backup. `restore` builds a new store from one. Messages name the
//! flag at fault; neither ever prints a key.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::inspect::Source;
use crate::store::backup::{self, BackupError, FormatError, Restored, Summary};
use crate::store::StoreError;

/// `bchpay backup`: the file at `out`; the text to print, or a message naming the flag at fault.
pub async fn backup(source: &Source, out: &Path) -> Result<String, String> {
    if out.exists() {
        return Err(format!(
            "--out: {} exists; a backup never replaces a file: give a new name",
            out.display()
        ));
    }
    let partial = partial_path(out);
    let file = std::fs::File::create(&partial).map_err(|e| format!("--out: {}: {e}", partial.display()))?;
    let started = Instant::now();
    let taken = match source {
        Source::Store(dir) => from_store(dir, file),
        Source::Api { url, key } => from_api(url, key.expose(), file).await,
    };
    let checked = taken.and_then(|detail| {
        let mut file = std::fs::File::open(&partial).map_err(|e| format!("--out: {}: {e}", partial.display()))?;
        let header = backup::format::verify(&mut file).map_err(|e| match e {
            FormatError::Io(e) => format!("--out: {}: {e}", partial.display()),
            other => format!("the backup received does not check out ({other}); nothing was kept"),
        })?;
        std::fs::rename(&partial, out).map_err(|e| format!("--out: {}: {e}", out.display()))?;
        Ok((header, detail))
    });
    let (header, detail) = match checked {
        Ok(done) => done,
        Err(message) => {
            let _ = std::fs::remove_file(&partial);
            return Err(message);
        }
    };
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    Ok(format!(
        "backup written to {}: {bytes} bytes in {:.1} s (store schema {}, backup format {}), checksum verified\n{detail}",
        out.display(),
        started.elapsed().as_secs_f64(),
        header.schema,
        header.format,
    ))
}

/// `<out>.partial`, in the same directory (so that the rename is atomic).
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

/// A stopped engine's store, read here.
fn from_store(dir: &Path, file: std::fs::File) -> Result<String, String> {
    let summary = backup::offline(dir, std::io::BufWriter::new(file)).map_err(|e| match e {
        BackupError::Store(e @ StoreError::Locked(_)) => format!(
            "--store: {e}\n(a running engine holds it: use `bchpay backup --url http://HOST:PORT --api-key KEY --out FILE`)"
        ),
        BackupError::Store(e) => format!("--store: {}: {e}", dir.display()),
        BackupError::Output(e) => format!("--out: {e}"),
        other => other.to_string(),
    })?;
    Ok(entries(&summary))
}

/// Entries per tree, one line.
fn entries(summary: &Summary) -> String {
    let trees: Vec<String> = summary.entries.iter().map(|(t, n)| format!("{t} {n}")).collect();
    format!("entries per tree: {}\n", trees.join(", "))
}

/// A running engine's `GET /api/v1/admin/backup`, streamed into `file`.
async fn from_api(url: &str, key: &str, file: std::fs::File) -> Result<String, String> {
    use futures_util::StreamExt;
    let client = awc::Client::builder().disable_timeout().finish();
    let target = format!("{}/api/v1/admin/backup", url.trim_end_matches('/'));
    let mut response = client
        .get(&target)
        .bearer_auth(key)
        .send()
        .await
        .map_err(|e| format!("--url: cannot reach {url}: {e}"))?;
    let status = response.status().as_u16();
    if status != 200 {
        let body = response.body().limit(64 * 1024).await.unwrap_or_default();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let message = value["error"]["message"].as_str().unwrap_or("no message").to_owned();
        return Err(match status {
            401 => format!("--api-key: the engine at {url} does not know this key ({message})"),
            403 => format!("--api-key: {message}; a backup needs an `unrestricted` key"),
            404 => format!("--url: {url} has no backup route (an older bchpay?): {message}"),
            _ => format!("the engine answered {status}: {message}"),
        });
    }
    let mut out = std::io::BufWriter::new(file);
    while let Some(chunk) = response.next().await {
        let chunk = chunk.map_err(|e| format!("the engine's backup was cut short: {e}; nothing was kept"))?;
        out.write_all(&chunk).map_err(|e| format!("--out: {e}"))?;
    }
    out.flush().map_err(|e| format!("--out: {e}"))?;
    out.into_inner()
        .map_err(|e| format!("--out: {e}"))?
        .sync_all()
        .map_err(|e| format!("--out: {e}"))?;
    Ok(String::new())
}

/// `bchpay restore`: the text to print, or a message naming the flag at fault.
pub fn restore(input: &Path, store: &Path) -> Result<String, String> {
    let restored = backup::restore(input, store).map_err(|e| match e {
        BackupError::Format(FormatError::Io(e)) => format!("--in: {e}"),
        BackupError::Format(e) => format!("--in: {}: {e}", input.display()),
        e @ BackupError::NewerSchema { .. } => format!("--in: {}: {e}", input.display()),
        e @ BackupError::NotEmpty(_) => format!("--store: {e}"),
        BackupError::Store(e) => format!("--store: {}: {e}", store.display()),
        other => other.to_string(),
    })?;
    Ok(report(&restored, store))
}

/// What a restore prints.
fn report(r: &Restored, store: &Path) -> String {
    let taken = chrono::DateTime::from_timestamp(r.header.taken_at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "an unknown time".into());
    let statuses: Vec<String> = r.statuses.iter().map(|(s, n)| format!("{} {n}", s.as_str())).collect();
    let events: Vec<String> = r.events.iter().map(|(s, n)| format!("{} {n}", s.as_str())).collect();
    let trees: Vec<String> = r.entries.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let migrated = if r.header.schema < crate::store::SCHEMA_VERSION {
        format!(" (migrated from schema {})", r.header.schema)
    } else {
        String::new()
    };
    format!(
        "restored into {}{migrated}: the store as of {taken}; invariants hold\n\
         invoices: {}\nwebhook events: {}\nentries per tree: {}\n\
         address pool: {} addresses dropped; `bchpay serve` refills it from the wallet\n",
        store.display(),
        statuses.join(", "),
        events.join(", "),
        trees.join(", "),
        r.pool_dropped,
    )
}
