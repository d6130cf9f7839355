//! The book: what a fetch round leaves, and what readers see of it.

use chrono::Duration as Age;

use super::*;

fn settings(toml_rates: &str) -> RatesConfig {
    let s: crate::config::Settings = toml::from_str(toml_rates).unwrap();
    RatesConfig::from_settings(&s.rates).unwrap()
}

fn cur(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn answer(code: &str, rate: &str) -> Result<Answer, FetchError> {
    Ok(vec![(cur(code), Ok(rate.parse().unwrap()))])
}

const KRW: &str =
    "[rates]\ncurrencies = [\"KRW\"]\nmax_age_secs = 300\n[rates.sources]\nKRW = [\"upbit\", \"bithumb\"]\n";

#[test]
fn a_good_round_is_a_quote_and_a_bad_one_keeps_the_last_good_quote() {
    let handle = RatesHandle::new(settings(KRW));
    let t0 = Utc::now();
    assert!(handle.rate(cur("KRW"), t0).is_err());
    assert!(handle
        .record(SourceName::Upbit, vec![answer("KRW", "612000")], t0)
        .is_none());
    assert!(handle
        .record(SourceName::Bithumb, vec![answer("KRW", "614000")], t0)
        .is_none());
    assert_eq!(
        handle.rate(cur("KRW"), t0).unwrap().rate,
        "613000".parse::<Decimal>().unwrap()
    );
    // Bithumb answers 0: an error, and its last good quote stays.
    let worst = handle.record(SourceName::Bithumb, vec![answer("KRW", "0")], t0);
    assert!(matches!(worst, Some(FetchError::Failed(_))));
    assert_eq!(handle.failures(SourceName::Bithumb), 1);
    assert_eq!(
        handle.rate(cur("KRW"), t0).unwrap().rate,
        "613000".parse::<Decimal>().unwrap()
    );
    let api = handle.to_api(t0);
    let sources = &api["rates"][0]["sources"];
    assert_eq!(sources[1]["name"], "bithumb");
    assert_eq!(sources[1]["state"], "ok", "still fresh: {api}");
    assert!(sources[1]["last_error"].as_str().unwrap().contains("rate of 0"));
    // Five minutes on, both are stale: no rate, and the sources say why.
    let later = t0 + Age::seconds(300);
    assert!(handle.rate(cur("KRW"), later).is_err());
    let api = handle.to_api(later);
    assert_eq!(api["rates"][0]["rate"], Value::Null);
    assert_eq!(api["rates"][0]["sources"][0]["state"], "stale");
    assert_eq!(api["rates"][0]["sources"][1]["state"], "error");
    let counts = handle.fetch_counts();
    assert!(
        counts.contains(&("bithumb", "error", 1)) && counts.contains(&("upbit", "ok", 1)),
        "{counts:?}"
    );
}

#[test]
fn rate_limits_win_the_backoff_and_count_apart() {
    let handle = RatesHandle::new(settings(KRW));
    let limited = FetchError::RateLimited {
        status: 418,
        retry_after: None,
    };
    let worst = handle.record(SourceName::Upbit, vec![Err(limited.clone())], Utc::now());
    assert_eq!(worst, Some(limited));
    assert_eq!(handle.fetch_counts(), [("upbit", "rate_limited", 1)]);
}

#[test]
fn the_fixed_source_is_always_fresh_and_never_fetched() {
    let config = settings(
        "[rates]\ncurrencies = [\"USD\"]\n[rates.sources]\nUSD = [\"fixed\"]\n[rates.fixed]\nUSD = \"400.5\"\n",
    );
    assert!(config.fetched().is_empty());
    let handle = RatesHandle::new(config);
    let r = handle.rate(cur("USD"), Utc::now()).unwrap();
    assert_eq!(
        (r.rate.to_string(), r.sources),
        ("400.5".to_owned(), vec!["fixed".to_owned()])
    );
}

#[test]
fn bad_rates_settings_name_their_key() {
    for (text, key) in [
        (
            "[rates]\ncurrencies = [\"KRW\"]\n[rates.sources]\nKRW = [\"kraken2\"]",
            "rates.sources.KRW",
        ),
        (
            "[rates]\ncurrencies = [\"USD\"]\n[rates.sources]\nUSD = [\"upbit\"]",
            "rates.sources.USD",
        ),
        ("[rates]\ncurrencies = [\"CHF\"]", "rates.sources.CHF"),
        ("[rates]\ncurrencies = [\"usd\"]", "rates.currencies"),
        ("[rates]\ncurrencies = [\"BCH\"]", "rates.currencies"),
        ("[rates]\nrefresh_secs = 0", "rates.refresh_secs"),
        ("[rates]\nrefresh_secs = 600\nmax_age_secs = 300", "rates.max_age_secs"),
        ("[rates]\nmax_deviation_percent = 101", "rates.max_deviation_percent"),
        ("[rates]\nmin_sources = 3", "rates.sources.KRW"),
        (
            "[rates]\ncurrencies = [\"USD\"]\n[rates.sources]\nUSD = [\"fixed\"]",
            "rates.fixed.USD",
        ),
        ("[rates]\n[rates.fixed]\nUSD = \"-1\"", "rates.fixed.USD"),
        ("[rates.endpoints]\nupbit = \"api.upbit.com\"", "rates.endpoints.upbit"),
    ] {
        let s: crate::config::Settings = toml::from_str(text).unwrap();
        let (got, why) = validate(&s.rates).unwrap_err();
        assert_eq!(got, key, "{text}: {why}");
    }
    let s = crate::config::Settings::default();
    validate(&s.rates).unwrap();
}
