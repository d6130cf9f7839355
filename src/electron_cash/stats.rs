//! Counters of the wallet link for `/metrics`: calls and errors by method,
//! and a latency histogram of the calls that went on the wire.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use super::rpc::RpcError;

/// Upper bounds of the latency histogram's buckets, in seconds.
pub const LATENCY_BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// One method's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MethodStats {
    /// Calls that went on the wire.
    pub calls: u64,
    /// Errors by kind (`unavailable`, `unauthorized`, `no_wallet`, `daemon`, `protocol`).
    pub errors: BTreeMap<&'static str, u64>,
    /// Calls per latency bucket (the last slot counts those over every bound).
    pub buckets: [u64; LATENCY_BUCKETS.len() + 1],
    /// Sum of latencies, seconds.
    pub seconds: f64,
}

/// The link's figures, shared between the link's actor and `/metrics`.
#[derive(Debug, Default)]
pub struct RpcStats {
    /// By method name.
    methods: Mutex<BTreeMap<String, MethodStats>>,
}

/// The metric label of an error kind.
pub fn error_kind(error: &RpcError) -> &'static str {
    match error {
        RpcError::Unavailable(_) => "unavailable",
        RpcError::Unauthorized => "unauthorized",
        RpcError::NoWallet => "no_wallet",
        RpcError::Daemon { .. } => "daemon",
        RpcError::Protocol(_) => "protocol",
    }
}

impl RpcStats {
    /// Records one call on the wire.
    pub fn record<T>(&self, method: &str, took: Duration, result: &Result<T, RpcError>) {
        let Ok(mut methods) = self.methods.lock() else { return };
        let m = methods.entry(method.to_owned()).or_default();
        m.calls += 1;
        if let Err(e) = result {
            *m.errors.entry(error_kind(e)).or_default() += 1;
        }
        let secs = took.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        m.buckets[bucket] += 1;
        m.seconds += secs;
    }

    /// A copy of every method's figures.
    pub fn snapshot(&self) -> BTreeMap<String, MethodStats> {
        self.methods.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_errors_and_latencies_are_counted_by_method() {
        let stats = RpcStats::default();
        stats.record::<()>("getinfo", Duration::from_micros(300), &Ok(()));
        stats.record::<()>(
            "getinfo",
            Duration::from_millis(30),
            &Err(RpcError::Unavailable("x".into())),
        );
        stats.record::<()>("history", Duration::from_secs(9), &Err(RpcError::Protocol("x".into())));
        let s = stats.snapshot();
        assert_eq!(s["getinfo"].calls, 2);
        assert_eq!(s["getinfo"].errors["unavailable"], 1);
        assert_eq!(s["getinfo"].buckets[0], 1);
        assert_eq!(s["getinfo"].buckets[5], 1);
        assert_eq!(s["history"].buckets[LATENCY_BUCKETS.len()], 1);
    }
}
