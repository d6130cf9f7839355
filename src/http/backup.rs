//! `GET /api/v1/admin/backup` (`unrestricted`): a backup of the store as of
//! one instant, streamed while the engine goes on serving
//! (`store::backup::online`, format in `docs/backup.md`).
//!
//! The snapshot runs on a thread of its own and hands the response 64 KiB
//! chunks through a small channel: a slow client slows the dump, not the
//! engine, and memory stays flat. A failure after the first byte cuts the
//! response short; the file's checksum then fails (`bchpay backup --url`
//! checks it before it keeps the file).

use std::io::{self, Write};

use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use tokio::sync::mpsc;

use super::error::ApiError;
use super::AppState;
use crate::store::backup;
use crate::store::StoreError;

/// Bytes sent per chunk.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the dump and the socket.
const IN_FLIGHT: usize = 8;

/// A `Write` that hands full chunks to the response.
struct ToResponse {
    /// Where chunks go.
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    /// The chunk being filled.
    buf: Vec<u8>,
}

impl ToResponse {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ToResponse {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// `GET /api/v1/admin/backup`: `application/octet-stream`, the whole file.
pub async fn backup(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some((_, why)) = state.store_health.down() {
        return Err(ApiError::store("backup", &StoreError::Io(why)));
    }
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let (writer, reader) = (state.store.clone(), state.reader.clone());
    let failed = tx.clone();
    std::thread::Builder::new()
        .name("backup".into())
        .spawn(move || {
            let out = ToResponse {
                tx,
                buf: Vec::with_capacity(CHUNK),
            };
            match backup::online(&writer, &reader, out) {
                Ok(s) => log::info!(
                    "backup taken: {} bytes, {} records, {} writes during it, writer paused {:?} for the cut, {:?} in all",
                    s.written.bytes,
                    s.written.records,
                    s.changes,
                    s.cut,
                    s.took
                ),
                Err(e) => {
                    log::error!("backup failed: {e}");
                    let _ = failed.blocking_send(Err(io::Error::other("the backup failed; see the engine's log")));
                }
            }
        })
        .map_err(|e| {
            log::error!("backup: no thread for it: {e}");
            ApiError::internal()
        })?;
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let name = format!("bchpay-{}.backup", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"));
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(body))
}
