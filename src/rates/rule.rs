//! The rate rule of api.md, as a pure function: the median of the fresh
//! quotes of a currency's sources, with quotes ≤ 0 and outliers dropped, and
//! no rate at all rather than a guess.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::source::Quote;

/// The rule's settings (`[rates]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSettings {
    /// A quote fetched this long ago or longer is stale.
    pub max_age: Duration,
    /// Quotes farther than this percentage from the median of the fresh ones are dropped.
    pub max_deviation_percent: u32,
    /// Fewer usable quotes than this: no rate.
    pub min_sources: usize,
}

/// A rate the rule gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    /// Fiat per 1 BCH.
    pub rate: Decimal,
    /// The names of the quotes used, in the configuration's order.
    pub sources: Vec<String>,
    /// When the newest of them was fetched.
    pub at: DateTime<Utc>,
}

/// Why there is no rate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{usable} usable quote(s) of the {needed} needed")]
pub struct NoRate {
    /// Quotes fresh, > 0 and within the deviation.
    pub usable: usize,
    /// `min_sources`.
    pub needed: usize,
}

/// Whether `quote` may be used at `now`: fetched less than `max_age` ago.
pub fn is_fresh(quote: &Quote, now: DateTime<Utc>, max_age: Duration) -> bool {
    now.signed_duration_since(quote.fetched_at) < max_age
}

/// The median: the middle value, or the mean of the two middle ones. `None` for none.
pub fn median(values: &[Decimal]) -> Option<Decimal> {
    let mut sorted = values.to_vec();
    sorted.sort();
    let n = sorted.len();
    match n {
        0 => None,
        _ if !n.is_multiple_of(2) => Some(sorted[n / 2]),
        _ => Some(((sorted[n / 2 - 1] + sorted[n / 2]) / Decimal::TWO).normalize()),
    }
}

/// The rate from the named quotes of one currency at `now`.
pub fn rate(quotes: &[(String, Option<Quote>)], now: DateTime<Utc>, settings: RuleSettings) -> Result<Rate, NoRate> {
    let no_rate = |usable| NoRate {
        usable,
        needed: settings.min_sources,
    };
    let fresh: Vec<(&String, &Quote)> = quotes
        .iter()
        .filter_map(|(name, q)| q.as_ref().map(|q| (name, q)))
        .filter(|(_, q)| q.rate > Decimal::ZERO && is_fresh(q, now, settings.max_age))
        .collect();
    let rates: Vec<Decimal> = fresh.iter().map(|(_, q)| q.rate).collect();
    let Some(center) = median(&rates) else {
        return Err(no_rate(0));
    };
    let bound = Decimal::from(settings.max_deviation_percent);
    let kept: Vec<(&String, &Quote)> = fresh
        .into_iter()
        .filter(|(_, q)| (q.rate - center).abs() * Decimal::ONE_HUNDRED <= bound * center)
        .collect();
    if kept.len() < settings.min_sources.max(1) {
        return Err(no_rate(kept.len()));
    }
    let kept_rates: Vec<Decimal> = kept.iter().map(|(_, q)| q.rate).collect();
    let rate = median(&kept_rates).ok_or_else(|| no_rate(0))?;
    let at = kept.iter().map(|(_, q)| q.fetched_at).max().ok_or_else(|| no_rate(0))?;
    Ok(Rate {
        rate,
        sources: kept.iter().map(|(name, _)| (*name).clone()).collect(),
        at,
    })
}

#[cfg(test)]
mod tests;
