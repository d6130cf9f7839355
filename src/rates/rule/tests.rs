//! Table and property tests of the rate rule.

use proptest::prelude::*;

use super::*;

fn settings() -> RuleSettings {
    RuleSettings {
        max_age: Duration::seconds(300),
        max_deviation_percent: 5,
        min_sources: 1,
    }
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap()
}

fn q(name: &str, rate: &str, age_secs: i64) -> (String, Option<Quote>) {
    (
        name.to_owned(),
        Some(Quote {
            rate: rate.parse().unwrap(),
            fetched_at: now() - Duration::seconds(age_secs),
        }),
    )
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn the_table_of_cases() {
    let none = |name: &str| (name.to_owned(), None);
    for (quotes, expected) in [
        // Two sources: the mean of the middle two.
        (
            vec![q("upbit", "612000", 10), q("bithumb", "613000", 20)],
            Some(("612500", vec!["upbit", "bithumb"])),
        ),
        // Three: the middle one.
        (
            vec![
                q("kraken", "400.10", 5),
                q("bitstamp", "400.30", 5),
                q("coinbase", "400.20", 5),
            ],
            Some(("400.2", vec!["kraken", "bitstamp", "coinbase"])),
        ),
        // One down: the median of the rest.
        (
            vec![none("kraken"), q("bitstamp", "400", 5), q("coinbase", "402", 5)],
            Some(("401", vec!["bitstamp", "coinbase"])),
        ),
        // A zero is not used.
        (
            vec![q("upbit", "0", 1), q("bithumb", "612000", 1)],
            Some(("612000", vec!["bithumb"])),
        ),
        // A negative one neither.
        (
            vec![q("upbit", "-5", 1), q("bithumb", "612000", 1)],
            Some(("612000", vec!["bithumb"])),
        ),
        // An outlier (10× off) is dropped.
        (
            vec![q("kraken", "400", 1), q("bitstamp", "4000", 1), q("coinbase", "401", 1)],
            Some(("400.5", vec!["kraken", "coinbase"])),
        ),
        // Stale quotes are not used, even if they are all there is.
        (vec![q("upbit", "612000", 300), q("bithumb", "612000", 301)], None),
        (
            vec![q("upbit", "612000", 299), q("bithumb", "1", 301)],
            Some(("612000", vec!["upbit"])),
        ),
        (vec![none("upbit"), none("bithumb")], None),
        (vec![], None),
    ] {
        let got = rate(&quotes, now(), settings());
        match expected {
            None => assert!(got.is_err(), "{quotes:?}: {got:?}"),
            Some((r, names)) => {
                let got = got.unwrap_or_else(|e| panic!("{quotes:?}: {e}"));
                assert_eq!(got.rate, dec(r), "{quotes:?}");
                assert_eq!(got.sources, names, "{quotes:?}");
            }
        }
    }
}

#[test]
fn min_sources_counts_the_usable_quotes() {
    let s = RuleSettings {
        min_sources: 2,
        ..settings()
    };
    let quotes = vec![q("kraken", "400", 1), q("bitstamp", "0", 1), q("coinbase", "401", 400)];
    assert_eq!(rate(&quotes, now(), s), Err(NoRate { usable: 1, needed: 2 }));
    let quotes = vec![q("kraken", "400", 1), q("bitstamp", "402", 1)];
    assert_eq!(rate(&quotes, now(), s).unwrap().rate, dec("401"));
}

#[test]
fn rate_at_is_the_newest_quote_used() {
    let quotes = vec![
        q("kraken", "400", 100),
        q("bitstamp", "400", 10),
        q("coinbase", "9000", 1),
    ];
    let got = rate(&quotes, now(), settings()).unwrap();
    assert_eq!(got.at, now() - Duration::seconds(10));
}

fn quote_strategy() -> impl Strategy<Value = (String, Option<Quote>)> {
    (
        "[a-z]{3,8}",
        prop::option::weighted(0.9, (-10i64..2_000_000_000i64, 0u32..5, 0i64..600)),
    )
        .prop_map(|(name, q)| {
            (
                name,
                q.map(|(m, s, age)| Quote {
                    rate: Decimal::new(m, s),
                    fetched_at: now() - Duration::seconds(age),
                }),
            )
        })
}

proptest! {
    /// The rate lies within the range of the fresh positive quotes, is built
    /// from fresh quotes only, and never strays past the deviation bound from
    /// their median, whatever outliers are among them.
    #[test]
    fn the_rate_is_a_fresh_median_within_the_bound(
        quotes in prop::collection::vec(quote_strategy(), 0..8),
        deviation in 0u32..50,
    ) {
        let s = RuleSettings { max_deviation_percent: deviation, ..settings() };
        let fresh: Vec<Decimal> = quotes
            .iter()
            .filter_map(|(_, q)| q.as_ref())
            .filter(|q| q.rate > Decimal::ZERO && is_fresh(q, now(), s.max_age))
            .map(|q| q.rate)
            .collect();
        match rate(&quotes, now(), s) {
            Ok(r) => {
                let (lo, hi) = (fresh.iter().min().copied().unwrap(), fresh.iter().max().copied().unwrap());
                prop_assert!(r.rate >= lo && r.rate <= hi);
                let center = median(&fresh).unwrap();
                prop_assert!((r.rate - center).abs() * Decimal::ONE_HUNDRED <= Decimal::from(deviation) * center);
                // Every source named had a fresh positive quote.
                for name in &r.sources {
                    let used = quotes.iter().any(|(n, q)| n == name && q.as_ref().is_some_and(|q| q.rate > Decimal::ZERO && is_fresh(q, now(), s.max_age)));
                    prop_assert!(used, "{name} used without a fresh quote");
                }
                prop_assert!(now().signed_duration_since(r.at) < s.max_age);
            }
            // With min_sources 1, an odd count always keeps its median quote.
            Err(_) => prop_assert!(fresh.is_empty() || fresh.len().is_multiple_of(2)),
        }
    }

    /// A stale quote never changes the answer.
    #[test]
    fn a_stale_quote_is_never_used(
        quotes in prop::collection::vec(quote_strategy(), 0..6),
        stale_rate in 1i64..2_000_000_000,
        extra_age in 0i64..10_000,
    ) {
        let before = rate(&quotes, now(), settings());
        let mut with_stale = quotes.clone();
        with_stale.push(("stale".to_owned(), Some(Quote { rate: Decimal::new(stale_rate, 2), fetched_at: now() - Duration::seconds(300 + extra_age) })));
        prop_assert_eq!(before, rate(&with_stale, now(), settings()));
    }
}
