//! The rate sources by name, what each can quote, and what the engine keeps
//! of each: its last good quote per currency with the time it was fetched,
//! its last error, and when to ask it again.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::fiat::Currency;

/// One of the sources of api.md's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceName {
    /// Upbit, KRW.
    Upbit,
    /// Bithumb, KRW (Upbit-compatible ticker).
    Bithumb,
    /// Kraken, pairs `BCH<CUR>`.
    Kraken,
    /// Bitstamp, pairs `bch<cur>`.
    Bitstamp,
    /// Coinbase, every currency in one answer.
    Coinbase,
    /// bitbank, JPY.
    Bitbank,
    /// CoinGecko, any `vs_currency`.
    Coingecko,
    /// The merchant's own `rates.fixed`.
    Fixed,
}

impl SourceName {
    /// Every source, in the table's order.
    pub const ALL: [SourceName; 8] = [
        SourceName::Upbit,
        SourceName::Bithumb,
        SourceName::Kraken,
        SourceName::Bitstamp,
        SourceName::Coinbase,
        SourceName::Bitbank,
        SourceName::Coingecko,
        SourceName::Fixed,
    ];

    /// The configuration's name, `"upbit"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceName::Upbit => "upbit",
            SourceName::Bithumb => "bithumb",
            SourceName::Kraken => "kraken",
            SourceName::Bitstamp => "bitstamp",
            SourceName::Coinbase => "coinbase",
            SourceName::Bitbank => "bitbank",
            SourceName::Coingecko => "coingecko",
            SourceName::Fixed => "fixed",
        }
    }

    /// Reads a configuration name.
    pub fn parse(name: &str) -> Option<SourceName> {
        SourceName::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether this source has a market for `currency` (Upbit and Bithumb
    /// trade BCH in KRW only, bitbank in JPY only; the others take any code
    /// and answer an error of their own for one they lack).
    pub fn quotes(self, currency: Currency) -> bool {
        match self {
            SourceName::Upbit | SourceName::Bithumb => currency.code() == "KRW",
            SourceName::Bitbank => currency.code() == "JPY",
            _ => true,
        }
    }
}

impl fmt::Display for SourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rate a source gave, and when it was fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Fiat per 1 BCH, exactly as the source wrote it.
    pub rate: Decimal,
    /// When the answer arrived.
    pub fetched_at: DateTime<Utc>,
}

/// What the engine holds about one source.
#[derive(Debug, Clone, Default)]
pub struct SourceState {
    /// The last good quote per currency.
    pub quotes: BTreeMap<Currency, Quote>,
    /// The last fetch's error, if the last fetch failed (cleared by a success).
    pub last_error: Option<String>,
    /// Fetches that failed in a row (backoff).
    pub failures: u32,
}

/// Why a fetch failed, as the backoff needs to know it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// 429 or 418 (or Kraken's `EAPI:Rate limit exceeded`): wait, at least `retry_after`.
    #[error("rate limited (HTTP {status}){}", retry_after.map(|d| format!(", retry after {} s", d.as_secs())).unwrap_or_default())]
    RateLimited {
        /// The HTTP status (Kraken's in-body limit: 200).
        status: u16,
        /// The `Retry-After` the source gave.
        retry_after: Option<Duration>,
    },
    /// Anything else: transport, timeout, HTTP error, HTML, wrong shape, the source's own error.
    #[error("{0}")]
    Failed(String),
}

impl FetchError {
    /// A plain failure.
    pub fn failed(why: impl Into<String>) -> FetchError {
        FetchError::Failed(why.into())
    }

    /// The `outcome` label of `bchpay_rate_fetches_total`.
    pub fn outcome(&self) -> &'static str {
        match self {
            FetchError::RateLimited { .. } => "rate_limited",
            FetchError::Failed(_) => "error",
        }
    }
}

/// The longest a rate-limited source is left alone without a `Retry-After`.
const MAX_LIMITED_BACKOFF: Duration = Duration::from_secs(3600);
/// The first retry of a plain failure.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// When to ask a source again after `failures` failures in a row (the last
/// one `error`), with `jitter` in [0, 1) drawn by the caller.
///
/// - A plain failure is retried after 1 s, 2 s, 4 s … capped at
///   `refresh`: a source that comes back is seen again within one refresh,
///   and a failing one is never asked more often than once a second.
/// - A rate limit waits its `Retry-After` if given, else `refresh` × 2ⁿ⁻¹
///   capped at an hour (Upbit's 418 ban grows with repeated offences).
/// - Jitter takes up to a quarter off a plain retry (never below 1 s) and
///   adds up to a quarter to a rate-limit wait (never before `Retry-After`).
pub fn backoff(error: &FetchError, failures: u32, refresh: Duration, jitter: f64) -> Duration {
    let jitter = jitter.clamp(0.0, 0.999);
    let doubling = |base: Duration, cap: Duration| {
        let factor = 1u32.checked_shl(failures.saturating_sub(1).min(20)).unwrap_or(u32::MAX);
        base.saturating_mul(factor).min(cap)
    };
    match error {
        FetchError::Failed(_) => {
            let d = doubling(FIRST_RETRY, refresh.max(FIRST_RETRY));
            d.mul_f64(1.0 - jitter / 4.0).max(FIRST_RETRY.min(d))
        }
        FetchError::RateLimited { retry_after, .. } => {
            let d = match retry_after {
                Some(after) => *after,
                None => doubling(refresh.max(FIRST_RETRY), MAX_LIMITED_BACKOFF),
            };
            d.mul_f64(1.0 + jitter / 4.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_failures_double_up_to_the_refresh_interval() {
        let refresh = Duration::from_secs(60);
        let e = FetchError::failed("down");
        let plain: Vec<u64> = (1..=9).map(|n| backoff(&e, n, refresh, 0.0).as_secs()).collect();
        assert_eq!(plain, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        for n in 1..=30 {
            for j in [0.0, 0.5, 0.999] {
                let d = backoff(&e, n, refresh, j);
                assert!(d <= refresh && d >= Duration::from_millis(750), "{n} {j} {d:?}");
            }
        }
    }

    #[test]
    fn rate_limits_honour_retry_after_and_otherwise_grow_to_an_hour() {
        let refresh = Duration::from_secs(60);
        let limited = |after| FetchError::RateLimited {
            status: 429,
            retry_after: after,
        };
        let d = backoff(&limited(Some(Duration::from_secs(120))), 1, refresh, 0.9);
        assert!(d >= Duration::from_secs(120) && d <= Duration::from_secs(150), "{d:?}");
        assert_eq!(backoff(&limited(None), 1, refresh, 0.0), Duration::from_secs(60));
        assert_eq!(backoff(&limited(None), 3, refresh, 0.0), Duration::from_secs(240));
        assert_eq!(backoff(&limited(None), 50, refresh, 0.0), Duration::from_secs(3600));
    }

    #[test]
    fn names_read_back() {
        for s in SourceName::ALL {
            assert_eq!(SourceName::parse(s.as_str()), Some(s));
        }
        assert_eq!(SourceName::parse("binance"), None);
    }
}
