//! The checked `[rates]` configuration and the book of quotes the
//! `RateSource` actor writes and every reader (invoice creation, `GET
//! /api/v1/rates`, `/metrics`) reads, through a cheap, cloneable handle.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::clients::Answer;
use super::rule::{self, NoRate, Rate, RuleSettings};
use super::source::{FetchError, Quote, SourceName, SourceState};
use crate::config::RatesSettings;
use crate::fiat::{parse_rate, Currency};
use crate::invoice::api_time;

/// `[rates]`, checked and typed.
#[derive(Debug, Clone)]
pub struct RatesConfig {
    /// What invoices may be priced in, in the configuration's order.
    pub currencies: Vec<Currency>,
    /// Per currency, its sources in the configuration's order.
    pub sources: BTreeMap<Currency, Vec<SourceName>>,
    /// The `fixed` source's rates.
    pub fixed: BTreeMap<Currency, Decimal>,
    /// The rule's settings.
    pub rule: RuleSettings,
    /// Seconds between two fetches of a source.
    pub refresh: Duration,
    /// Base URL per source.
    pub endpoints: BTreeMap<SourceName, String>,
    /// CoinGecko's demo key (empty: none), sent only in its header.
    pub coingecko_key: crate::config::Secret,
}

/// Checks `[rates]`; the key at fault and why.
pub fn validate(settings: &RatesSettings) -> Result<(), (String, String)> {
    RatesConfig::from_settings(settings).map(drop)
}

impl RatesConfig {
    /// Reads and checks `[rates]`.
    pub fn from_settings(s: &RatesSettings) -> Result<RatesConfig, (String, String)> {
        let err = |key: &str, why: String| Err((key.to_owned(), why));
        if !(1..=86_400).contains(&s.refresh_secs) {
            return err("rates.refresh_secs", "must be between 1 and 86400".into());
        }
        if s.max_age_secs < s.refresh_secs || s.max_age_secs > 86_400 {
            return err(
                "rates.max_age_secs",
                "must be at least rates.refresh_secs (or every quote goes stale between two fetches) and at most 86400"
                    .into(),
            );
        }
        if s.max_deviation_percent > 100 {
            return err("rates.max_deviation_percent", "must be between 0 and 100".into());
        }
        if s.min_sources == 0 || s.min_sources > 8 {
            return err("rates.min_sources", "must be between 1 and 8".into());
        }
        let mut currencies = Vec::new();
        let mut sources = BTreeMap::new();
        for code in &s.currencies {
            let currency = Currency::parse(code).map_err(|e| ("rates.currencies".to_owned(), e.to_string()))?;
            if currencies.contains(&currency) {
                return err("rates.currencies", format!("{code} is listed twice"));
            }
            let key = format!("rates.sources.{code}");
            let names = s.sources.get(code).cloned().unwrap_or_default();
            if names.is_empty() {
                return err(&key, format!("{code} is in rates.currencies but has no source"));
            }
            if names.len() < s.min_sources {
                return err(
                    &key,
                    format!("fewer sources than rates.min_sources ({})", s.min_sources),
                );
            }
            let mut list = Vec::new();
            for name in &names {
                let source = SourceName::parse(name).ok_or_else(|| {
                    (key.clone(), format!("unknown source {name:?} (upbit, bithumb, kraken, bitstamp, coinbase, bitbank, coingecko, fixed)"))
                })?;
                if !source.quotes(currency) {
                    return err(&key, format!("{name} has no BCH market in {code}"));
                }
                if list.contains(&source) {
                    return err(&key, format!("{name} is listed twice"));
                }
                list.push(source);
            }
            currencies.push(currency);
            sources.insert(currency, list);
        }
        let mut fixed = BTreeMap::new();
        for (code, text) in &s.fixed {
            let key = format!("rates.fixed.{code}");
            let currency = Currency::parse(code).map_err(|e| (key.clone(), e.to_string()))?;
            match parse_rate(text) {
                Some(rate) if rate > Decimal::ZERO => {
                    fixed.insert(currency, rate);
                }
                _ => {
                    return err(
                        &key,
                        format!("{text:?} is not a positive decimal rate such as \"650000\""),
                    )
                }
            }
        }
        for (currency, list) in &sources {
            if list.contains(&SourceName::Fixed) && !fixed.contains_key(currency) {
                return err(
                    &format!("rates.fixed.{currency}"),
                    format!("rates.sources.{currency} names fixed: set its rate here"),
                );
            }
        }
        let mut endpoints = BTreeMap::new();
        for source in SourceName::ALL {
            if let Some(url) = s.endpoints.get(source.as_str()) {
                if !crate::http::create_request::is_http_url(url) {
                    return err(
                        &format!("rates.endpoints.{source}"),
                        "not an http:// or https:// URL".into(),
                    );
                }
                endpoints.insert(source, url.trim_end_matches('/').to_owned());
            }
        }
        Ok(RatesConfig {
            currencies,
            sources,
            fixed,
            rule: RuleSettings {
                max_age: chrono::Duration::seconds(s.max_age_secs as i64),
                max_deviation_percent: s.max_deviation_percent,
                min_sources: s.min_sources,
            },
            refresh: Duration::from_secs(s.refresh_secs),
            endpoints,
            coingecko_key: s.coingecko_api_key.clone(),
        })
    }

    /// The sources that must be fetched, each with the currencies it quotes.
    pub fn fetched(&self) -> BTreeMap<SourceName, Vec<Currency>> {
        let mut out: BTreeMap<SourceName, Vec<Currency>> = BTreeMap::new();
        for currency in &self.currencies {
            for source in self.sources.get(currency).into_iter().flatten() {
                if *source != SourceName::Fixed {
                    out.entry(*source).or_default().push(*currency);
                }
            }
        }
        out
    }
}

/// What the actor writes and the readers read.
#[derive(Debug)]
struct Shared {
    /// The configuration.
    config: RatesConfig,
    /// Per fetched source, what is held.
    book: Mutex<BTreeMap<SourceName, SourceState>>,
    /// `bchpay_rate_fetches_total`: per (source, outcome).
    fetches: Mutex<BTreeMap<(SourceName, &'static str), u64>>,
}

/// A cheap handle on the book of quotes; clone it freely.
#[derive(Debug, Clone)]
pub struct RatesHandle {
    inner: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RatesHandle {
    /// An empty book for `config`.
    pub fn new(config: RatesConfig) -> RatesHandle {
        let book = config
            .fetched()
            .into_keys()
            .map(|s| (s, SourceState::default()))
            .collect();
        RatesHandle {
            inner: Arc::new(Shared {
                config,
                book: Mutex::new(book),
                fetches: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RatesConfig {
        &self.inner.config
    }

    /// Whether invoices may be priced in `currency`.
    pub fn supports(&self, currency: Currency) -> bool {
        self.inner.config.currencies.contains(&currency)
    }

    /// Seconds a shop should wait after `503 rate_unavailable`.
    pub fn retry_after_secs(&self) -> u64 {
        self.inner.config.refresh.as_secs().clamp(1, 60)
    }

    /// The quotes of `currency`'s sources at `now`, named, in the configuration's order.
    fn quotes(&self, currency: Currency, now: DateTime<Utc>) -> Vec<(SourceName, Option<Quote>, Option<String>)> {
        let book = lock(&self.inner.book);
        let config = &self.inner.config;
        config
            .sources
            .get(&currency)
            .into_iter()
            .flatten()
            .map(|source| match source {
                SourceName::Fixed => (
                    *source,
                    config.fixed.get(&currency).map(|rate| Quote {
                        rate: *rate,
                        fetched_at: now,
                    }),
                    None,
                ),
                _ => {
                    let state = book.get(source);
                    (
                        *source,
                        state.and_then(|s| s.quotes.get(&currency).copied()),
                        state.and_then(|s| s.last_error.clone()),
                    )
                }
            })
            .collect()
    }

    /// The rate of `currency` at `now` by the rule, from what is held: never waits.
    pub fn rate(&self, currency: Currency, now: DateTime<Utc>) -> Result<Rate, NoRate> {
        let quotes: Vec<(String, Option<Quote>)> = self
            .quotes(currency, now)
            .into_iter()
            .map(|(s, q, _)| (s.as_str().to_owned(), q))
            .collect();
        rule::rate(&quotes, now, self.inner.config.rule)
    }

    /// `GET /api/v1/rates`'s body.
    pub fn to_api(&self, now: DateTime<Utc>) -> Value {
        let rule = self.inner.config.rule;
        let rates: Vec<Value> = self
            .inner
            .config
            .currencies
            .iter()
            .map(|currency| {
                let rate = self.rate(*currency, now).ok();
                let sources: Vec<Value> = self
                    .quotes(*currency, now)
                    .into_iter()
                    .map(|(source, quote, last_error)| {
                        let fresh = quote.as_ref().is_some_and(|q| rule::is_fresh(q, now, rule.max_age));
                        let state = match (fresh, &last_error) {
                            (true, _) => "ok",
                            (false, Some(_)) => "error",
                            (false, None) => "stale",
                        };
                        json!({
                            "name": source.as_str(),
                            "state": state,
                            "rate": quote.map(|q| q.rate.to_string()),
                            "fetched_at": quote.map(|q| api_time(q.fetched_at)),
                            "last_error": last_error,
                        })
                    })
                    .collect();
                json!({
                    "currency": currency.code(),
                    "rate": rate.as_ref().map(|r| r.rate.to_string()),
                    "at": rate.as_ref().map(|r| api_time(r.at)),
                    "sources": sources,
                })
            })
            .collect();
        json!({ "rates": rates })
    }

    /// Records one fetch round of `source`: its answers (or the error of each
    /// request). Returns the error that should set the backoff, if any.
    pub fn record(
        &self,
        source: SourceName,
        results: Vec<Result<Answer, FetchError>>,
        now: DateTime<Utc>,
    ) -> Option<FetchError> {
        let mut errors: Vec<String> = Vec::new();
        let mut worst: Option<FetchError> = None;
        let mut outcomes: Vec<&'static str> = Vec::new();
        let mut book = lock(&self.inner.book);
        let state = book.entry(source).or_default();
        for result in results {
            match result {
                Ok(answer) => {
                    let mut ok = true;
                    for (currency, rate) in answer {
                        match rate {
                            Ok(rate) if rate > Decimal::ZERO => {
                                state.quotes.insert(currency, Quote { rate, fetched_at: now });
                            }
                            Ok(rate) => {
                                ok = false;
                                errors.push(format!("{currency}: answered a rate of {rate}, not used"));
                            }
                            Err(why) => {
                                ok = false;
                                errors.push(format!("{currency}: {why}"));
                            }
                        }
                    }
                    outcomes.push(if ok { "ok" } else { "error" });
                    if !ok && worst.is_none() {
                        worst = Some(FetchError::failed(errors.join("; ")));
                    }
                }
                Err(e) => {
                    outcomes.push(e.outcome());
                    errors.push(e.to_string());
                    if !matches!(worst, Some(FetchError::RateLimited { .. })) {
                        worst = Some(e);
                    }
                }
            }
        }
        let was_failing = state.last_error.is_some();
        if errors.is_empty() {
            state.last_error = None;
            state.failures = 0;
            if was_failing {
                log::info!("rate source {source} answers again");
            }
        } else {
            let why = errors.join("; ");
            if !was_failing || state.last_error.as_deref() != Some(why.as_str()) {
                log::warn!("rate source {source} failed: {why}");
            }
            state.last_error = Some(why);
            state.failures = state.failures.saturating_add(1);
        }
        drop(book);
        let mut fetches = lock(&self.inner.fetches);
        for outcome in outcomes {
            *fetches.entry((source, outcome)).or_insert(0) += 1;
        }
        worst
    }

    /// Failures in a row of `source`.
    pub fn failures(&self, source: SourceName) -> u32 {
        lock(&self.inner.book).get(&source).map_or(0, |s| s.failures)
    }

    /// `bchpay_rate_fetches_total` lines: (source, outcome, count).
    pub fn fetch_counts(&self) -> Vec<(&'static str, &'static str, u64)> {
        lock(&self.inner.fetches)
            .iter()
            .map(|((s, o), n)| (s.as_str(), *o, *n))
            .collect()
    }

    /// `bchpay_rate_age_seconds`: per currency, seconds since the rate's
    /// newest quote; `None` while there is no rate.
    pub fn ages(&self, now: DateTime<Utc>) -> Vec<(&'static str, Option<f64>)> {
        self.inner
            .config
            .currencies
            .iter()
            .map(|c| {
                let age = self.rate(*c, now).ok().map(|r| {
                    let ms = now.signed_duration_since(r.at).num_milliseconds().max(0);
                    ms as f64 / 1000.0
                });
                (c.code(), age)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
