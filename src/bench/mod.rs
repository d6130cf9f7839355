//! `bchpay bench`: load generators that print figures (not tests).
//!
//! - [`load`]: a generic closed-loop HTTP load generator on a thread of its own.
//! - [`create`]: invoice creation against the engine, a bare actix-web handler
//!   and the engine without its pool (issue 3).
//! - [`confirm`]: confirmer ticks and payment latency with 1,000 to 100,000
//!   watched invoices (issue 4).
//! - [`scale`]: `bchpay serve` over a store of a million invoices: size, RSS,
//!   time to ready, reads (issue 7).
//! - [`scan`]: filtered listings (`status=paid`, `state=failed`) beside a
//!   creation burst over a big store (issue 10).
//! - [`wrk`]: `wrk` as an outside load generator, when it is on PATH.
//! - [`backup`]: an online backup of a big store, and the creation p99
//!   during it beside the p99 without (issue 16).
//! - [`fill`]: what the last three share (building a store fast, probes).
//!
//! Each server under load runs on a thread of its own with its own actix
//! `System` ([`serve`]), so that the load generator and the server share the
//! machine's cores the way two processes would, and a run can start and stop
//! several servers one after the other.

pub mod backup;
pub mod confirm;
pub mod create;
pub mod fill;
pub mod load;
pub mod scale;
pub mod scan;
pub mod wrk;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// What a server's start hands back: its port, the future that serves until
/// dropped, and a probe the bench may look at from its own thread.
pub type Started<P> = (u16, Pin<Box<dyn Future<Output = io::Result<()>>>>, P);

/// A server running on its own thread; stopped and joined on drop.
pub struct Served {
    /// Where it listens (loopback).
    pub addr: SocketAddr,
    /// Dropping or sending stops it.
    stop: Option<oneshot::Sender<()>>,
    /// Its thread, joined on drop.
    thread: Option<JoinHandle<()>>,
}

/// Starts a server on a new thread inside a new actix `System`: `start` runs
/// there, and the future it returns serves until the [`Served`] is dropped.
pub fn serve<P, F, Fut>(name: &str, start: F) -> io::Result<(Served, P)>
where
    P: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = io::Result<Started<P>>>,
{
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("bench-{name}"))
        .spawn(move || {
            actix_rt::System::new().block_on(async move {
                let (port, serving, probe) = match start().await {
                    Ok(started) => started,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok((port, probe)));
                tokio::select! {
                    result = serving => {
                        if let Err(e) = result {
                            eprintln!("bench: server stopped: {e}");
                        }
                    }
                    _ = stop_rx => {}
                }
                actix_rt::System::current().stop();
            });
        })?;
    let (port, probe) = ready_rx
        .recv()
        .map_err(|_| io::Error::other("the server thread ended before it listened"))??;
    let served = Served {
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        stop: Some(stop_tx),
        thread: Some(thread),
    };
    Ok((served, probe))
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A scratch directory under the system's temp dir, removed on drop.
pub struct ScratchDir {
    /// Its path.
    path: PathBuf,
    /// Left on disk when dropped (`--keep`).
    keep: bool,
}

impl ScratchDir {
    /// A new, empty directory named after the process and `name`.
    pub fn new(name: &str) -> io::Result<ScratchDir> {
        let path = std::env::temp_dir().join(format!("bchpay-bench-{}-{name}", std::process::id()));
        if path.exists() {
            std::fs::remove_dir_all(&path)?;
        }
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir { path, keep: false })
    }

    /// Leaves the directory on disk when dropped, to look at afterwards.
    pub fn keep(mut self, keep: bool) -> ScratchDir {
        self.keep = keep;
        self
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("bench: kept {}", self.path.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
