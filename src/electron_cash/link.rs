//! The state of the wallet link and the reconnect schedule (pure).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use serde_json::{json, Value};

/// Where the link to the daemon stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Calls go through.
    Up {
        /// When it came up.
        since: DateTime<Utc>,
    },
    /// The daemon cannot be reached; callers get `Unavailable` at once.
    Down {
        /// When it went down.
        since: DateTime<Utc>,
        /// The failure that took it down, or the latest one.
        last_error: String,
    },
    /// The daemon refuses the credentials: a configuration error.
    Unauthorized {
        /// When it was first refused.
        since: DateTime<Utc>,
    },
}

impl LinkState {
    /// The word `/readyz` shows.
    pub fn name(&self) -> &'static str {
        match self {
            LinkState::Up { .. } => "up",
            LinkState::Down { .. } => "down",
            LinkState::Unauthorized { .. } => "unauthorized",
        }
    }

    /// Whether calls go through.
    pub fn is_up(&self) -> bool {
        matches!(self, LinkState::Up { .. })
    }

    /// The JSON of `/readyz`'s `wallet` member.
    pub fn to_json(&self) -> Value {
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
        match self {
            LinkState::Up { since } => json!({"state": "up", "since": time(since)}),
            LinkState::Down { since, last_error } => {
                json!({"state": "down", "since": time(since), "last_error": last_error})
            }
            LinkState::Unauthorized { since } => json!({
                "state": "unauthorized",
                "since": time(since),
                "last_error": "the wallet daemon rejected the RPC credentials: a configuration error \
                               (check electron_cash.rpc_user and electron_cash.rpc_password against the \
                               daemon's rpcuser and rpcpassword)",
            }),
        }
    }
}

/// What the rest of the engine can read about the link without a message.
#[derive(Debug, Clone)]
pub struct LinkStatus {
    /// The state.
    pub state: LinkState,
    /// The wallet's network prefix, once an address has shown it.
    pub network: Option<String>,
    /// The daemon's version, once it answered.
    pub version: Option<String>,
    /// Bumped whenever the daemon may have forgotten what it was told (its
    /// `notify` subscriptions): the link came up, or the wallet had to be loaded again.
    pub epoch: u64,
}

/// A shared, cheaply cloned view of the link status.
#[derive(Debug, Clone)]
pub struct SharedStatus(Arc<RwLock<LinkStatus>>);

impl SharedStatus {
    /// A link that has not connected yet.
    pub fn new() -> SharedStatus {
        SharedStatus(Arc::new(RwLock::new(LinkStatus {
            state: LinkState::Down {
                since: Utc::now(),
                last_error: "not connected yet".into(),
            },
            network: None,
            version: None,
            epoch: 0,
        })))
    }

    /// A copy of the current status.
    pub fn get(&self) -> LinkStatus {
        match self.0.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Changes the status in place.
    pub fn update(&self, f: impl FnOnce(&mut LinkStatus)) {
        match self.0.write() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

impl Default for SharedStatus {
    fn default() -> Self {
        SharedStatus::new()
    }
}

/// Capped exponential backoff with jitter.
///
/// The factor is 1.25 rather than 2: a wallet that comes back after a few
/// seconds is noticed within about a second, while a long outage still
/// settles at one probe every `cap`.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// The first delay.
    base: Duration,
    /// The longest delay.
    cap: Duration,
    /// Failures since the last success.
    attempt: u32,
}

impl Backoff {
    /// A schedule from `base` growing to `cap`.
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff { base, cap, attempt: 0 }
    }

    /// The delay before the next probe, ±20 % jitter, and one more failure counted.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        nominal.mul_f64(rand::thread_rng().gen_range(0.8..1.2)).min(self.cap)
    }

    /// The delay before attempt `n`, without jitter.
    pub fn nominal(&self, n: u32) -> Duration {
        self.base.mul_f64(1.25f64.powi(n.min(64) as i32)).min(self.cap)
    }

    /// The longest delay.
    pub fn cap(&self) -> Duration {
        self.cap
    }

    /// Back to the first delay after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        let delays: Vec<Duration> = (0..40).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(160) && delays[0] <= Duration::from_millis(240));
        assert!(delays.windows(2).take(10).all(|w| w[1] > w[0].mul_f64(0.6)));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(10)));
        assert!(delays[39] >= Duration::from_secs(8));
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(240));
    }

    #[test]
    fn a_wallet_back_after_three_seconds_is_probed_within_a_second_and_a_half() {
        // The seed's incident: the daemon's port opens 3 s after the engine starts.
        for jitter in [0.8, 1.0, 1.2] {
            let b = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
            let (mut t, mut n) = (Duration::ZERO, 0);
            while t < Duration::from_secs(3) {
                t += b.nominal(n).mul_f64(jitter);
                n += 1;
            }
            assert!(
                t - Duration::from_secs(3) < Duration::from_millis(1_300),
                "first probe after 3 s at {t:?}"
            );
        }
    }

    #[test]
    fn readyz_json_names_the_state() {
        let down = LinkState::Down {
            since: Utc::now(),
            last_error: "connection refused".into(),
        };
        assert_eq!(down.to_json()["state"], "down");
        assert_eq!(down.to_json()["last_error"], "connection refused");
        let unauthorized = LinkState::Unauthorized { since: Utc::now() };
        assert!(unauthorized.to_json()["last_error"]
            .as_str()
            .unwrap()
            .contains("configuration error"));
        assert_eq!(LinkState::Up { since: Utc::now() }.name(), "up");
    }
}
