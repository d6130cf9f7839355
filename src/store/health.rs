//! Whether the writer can write: the last write or flush error, shared
//! between the writer (which sets and clears it) and `/readyz` (which reads
//! it); and the fault hook the tests use to make writes fail or the writer
//! panic, without a full disk.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// The writer's health, shared.
#[derive(Debug, Default)]
pub struct Health {
    /// Since when and why writes fail; `None` while they succeed.
    down: Mutex<Option<(DateTime<Utc>, String)>>,
    /// Faults injected by tests.
    pub faults: Faults,
}

impl Health {
    /// A fresh, healthy state to share.
    pub fn new() -> Arc<Health> {
        Arc::default()
    }

    /// A write or flush failed with `error`.
    pub fn set_down(&self, error: &str) {
        if let Ok(mut down) = self.down.lock() {
            if down.is_none() {
                log::error!("store writes fail: {error}");
            }
            *down = Some((
                down.as_ref().map_or_else(Utc::now, |(since, _)| *since),
                error.to_owned(),
            ));
        }
    }

    /// A write and its flush succeeded.
    pub fn set_up(&self) {
        if let Ok(mut down) = self.down.lock() {
            if let Some((since, _)) = down.take() {
                log::info!("store writes succeed again (they failed since {since})");
            }
        }
    }

    /// Runs one write step behind the fault hook, catching a panic: the
    /// outer `Err` is what the panic said.
    pub fn guarded<T>(
        &self,
        f: impl FnOnce() -> Result<T, super::error::StoreError>,
    ) -> Result<Result<T, super::error::StoreError>, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.faults.check().and_then(|()| f()))).map_err(
            |panic| {
                panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into())
            },
        )
    }

    /// The last error while writes fail.
    pub fn down(&self) -> Option<(DateTime<Utc>, String)> {
        self.down.lock().ok().and_then(|d| d.clone())
    }
}

/// Faults a test can inject into the writer (nothing sets them in production).
#[derive(Debug, Default)]
pub struct Faults {
    /// Every write fails with an I/O error while set.
    fail_writes: AtomicBool,
    /// The next write panics (once).
    panic_next_write: AtomicBool,
}

impl Faults {
    /// Makes every write fail (`true`) or succeed again (`false`).
    pub fn fail_writes(&self, fail: bool) {
        self.fail_writes.store(fail, Ordering::SeqCst);
    }

    /// Makes the next write panic inside the writer.
    pub fn panic_next_write(&self) {
        self.panic_next_write.store(true, Ordering::SeqCst);
    }

    /// Checked before every write: the injected error, or a panic.
    pub fn check(&self) -> Result<(), super::error::StoreError> {
        if self.panic_next_write.swap(false, Ordering::SeqCst) {
            panic!("injected fault: the store writer panics");
        }
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(super::error::StoreError::Io("injected fault: writes fail".into()));
        }
        Ok(())
    }
}
