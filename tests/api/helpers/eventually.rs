//! Waiting on a condition with a deadline: the one way the tests wait.
//!
//! A check gives a value when the condition holds, or what it saw instead
//! (an `Err` with a description, `None`, or `false`); the last thing seen is
//! in the panic message at the deadline. [`eventually`] is for async tests,
//! [`eventually_blocking`] for plain threads; [`poll`] and [`poll_blocking`]
//! give the last sighting back instead of panicking.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often a condition is checked again.
const EVERY: Duration = Duration::from_millis(20);

/// What a check gives: `Ok(value)` when the condition holds, else what was seen.
pub trait Sighting<T> {
    /// The value, or a description of what was seen instead.
    fn sighting(self) -> Result<T, String>;
}

impl<T> Sighting<T> for Option<T> {
    fn sighting(self) -> Result<T, String> {
        self.ok_or_else(|| "nothing yet".to_owned())
    }
}

impl<T, E: std::fmt::Display> Sighting<T> for Result<T, E> {
    fn sighting(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

impl Sighting<()> for bool {
    fn sighting(self) -> Result<(), String> {
        if self {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    }
}

/// Checks every 20 ms until the check holds; at the deadline, `Err` with the last sighting.
pub async fn poll<T, S, F, Fut>(deadline: Duration, check: F) -> Result<T, String>
where
    S: Sighting<T>,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    poll_every(EVERY, deadline, check).await
}

/// [`poll`] with another pause between checks (a check that loads the engine).
pub async fn poll_every<T, S, F, Fut>(every: Duration, deadline: Duration, mut check: F) -> Result<T, String>
where
    S: Sighting<T>,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    let start = Instant::now();
    loop {
        match check().await.sighting() {
            Ok(value) => return Ok(value),
            Err(seen) if start.elapsed() > deadline => return Err(seen),
            Err(_) => actix_rt::time::sleep(every).await,
        }
    }
}

/// Checks every 20 ms until the check holds, or panics at the deadline naming
/// `what` and the last sighting.
pub async fn eventually<T, S, F, Fut>(what: &str, deadline: Duration, check: F) -> T
where
    S: Sighting<T>,
    F: FnMut() -> Fut,
    Fut: Future<Output = S>,
{
    poll(deadline, check)
        .await
        .unwrap_or_else(|seen| panic!("timed out after {deadline:?} waiting for {what}; last seen: {seen}"))
}

/// [`poll`] for a plain thread (no runtime): sleeps the thread between checks.
pub fn poll_blocking<T, S: Sighting<T>>(deadline: Duration, mut check: impl FnMut() -> S) -> Result<T, String> {
    let start = Instant::now();
    loop {
        match check().sighting() {
            Ok(value) => return Ok(value),
            Err(seen) if start.elapsed() > deadline => return Err(seen),
            Err(_) => std::thread::sleep(EVERY),
        }
    }
}

/// [`eventually`] for a plain thread (no runtime).
pub fn eventually_blocking<T, S: Sighting<T>>(what: &str, deadline: Duration, check: impl FnMut() -> S) -> T {
    poll_blocking(deadline, check)
        .unwrap_or_else(|seen| panic!("timed out after {deadline:?} waiting for {what}; last seen: {seen}"))
}
