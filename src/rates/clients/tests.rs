//! Each client against the fixture replies of tests/fixtures/rates/.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/rates/", $name)).as_slice()
    };
}

fn cur(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

fn one(source: SourceName, code: &str, status: u16, body: &[u8]) -> Result<Decimal, FetchError> {
    let request = requests(source, &[cur(code)], "k").remove(0);
    let answer = read(source, &request, status, None, body)?;
    assert_eq!(answer.len(), 1);
    answer[0].1.clone().map_err(FetchError::Failed)
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn requests_follow_each_real_api() {
    let paths = |s, codes: &[&str]| {
        let cs: Vec<Currency> = codes.iter().map(|c| cur(c)).collect();
        requests(s, &cs, "").into_iter().map(|r| r.path).collect::<Vec<_>>()
    };
    assert_eq!(paths(SourceName::Upbit, &["KRW"]), ["/v1/ticker?markets=KRW-BCH"]);
    assert_eq!(paths(SourceName::Bithumb, &["KRW"]), ["/v1/ticker?markets=KRW-BCH"]);
    assert_eq!(
        paths(SourceName::Kraken, &["USD", "EUR"]),
        ["/0/public/Ticker?pair=BCHUSD", "/0/public/Ticker?pair=BCHEUR"]
    );
    assert_eq!(paths(SourceName::Bitstamp, &["USD"]), ["/api/v2/ticker/bchusd/"]);
    assert_eq!(
        paths(SourceName::Coinbase, &["USD", "JPY"]),
        ["/v2/exchange-rates?currency=BCH"]
    );
    assert_eq!(paths(SourceName::Bitbank, &["JPY"]), ["/bcc_jpy/ticker"]);
    assert_eq!(
        paths(SourceName::Coingecko, &["KRW", "USD"]),
        ["/api/v3/simple/price?ids=bitcoin-cash&vs_currencies=krw,usd"]
    );
    let cg = requests(SourceName::Coingecko, &[cur("USD")], "demo-key");
    assert_eq!(cg[0].headers, [("x-cg-demo-api-key", "demo-key".to_owned())]);
    assert!(requests(SourceName::Fixed, &[cur("USD")], "").is_empty());
}

#[test]
fn each_source_reads_its_real_success_shape() {
    assert_eq!(
        one(SourceName::Upbit, "KRW", 200, fixture!("upbit_ticker_krw_bch.json")),
        Ok(dec("612000"))
    );
    assert_eq!(
        one(SourceName::Bithumb, "KRW", 200, fixture!("bithumb_ticker_krw_bch.json")),
        Ok(dec("613000"))
    );
    assert_eq!(
        one(SourceName::Kraken, "USD", 200, fixture!("kraken_ticker_bchusd.json")),
        Ok(dec("412.4"))
    );
    assert_eq!(
        one(SourceName::Kraken, "EUR", 200, fixture!("kraken_ticker_bcheur.json")),
        Ok(dec("380"))
    );
    assert_eq!(
        one(
            SourceName::Bitstamp,
            "USD",
            200,
            fixture!("bitstamp_ticker_bchusd.json")
        ),
        Ok(dec("412.6"))
    );
    assert_eq!(
        one(
            SourceName::Coinbase,
            "USD",
            200,
            fixture!("coinbase_exchange_rates_bch.json")
        ),
        Ok(dec("412.505"))
    );
    assert_eq!(
        one(
            SourceName::Coinbase,
            "KRW",
            200,
            fixture!("coinbase_exchange_rates_bch.json")
        ),
        Ok(dec("612480.3"))
    );
    assert_eq!(
        one(SourceName::Bitbank, "JPY", 200, fixture!("bitbank_ticker_bcc_jpy.json")),
        Ok(dec("62080"))
    );
    assert_eq!(
        one(
            SourceName::Coingecko,
            "USD",
            200,
            fixture!("coingecko_simple_price.json")
        ),
        Ok(dec("412.38"))
    );
    assert_eq!(
        one(
            SourceName::Coingecko,
            "KRW",
            200,
            fixture!("coingecko_simple_price.json")
        ),
        Ok(dec("612701"))
    );
}

fn failure(source: SourceName, code: &str, status: u16, body: &[u8]) -> String {
    match one(source, code, status, body) {
        Err(FetchError::Failed(why)) => why,
        other => panic!("{source} {status}: {other:?}"),
    }
}

#[test]
fn each_source_reads_its_real_error_shapes() {
    let why = failure(SourceName::Upbit, "KRW", 404, fixture!("upbit_404_code_not_found.json"));
    assert_eq!(why, "HTTP 404: 404: Code not found");
    // Kraken: an error inside an HTTP 200.
    let why = failure(
        SourceName::Kraken,
        "USD",
        200,
        fixture!("kraken_error_unknown_pair.json"),
    );
    assert_eq!(why, "EQuery:Unknown asset pair");
    let why = failure(
        SourceName::Kraken,
        "USD",
        200,
        fixture!("kraken_error_service_unavailable.json"),
    );
    assert_eq!(why, "EService:Unavailable");
    let why = failure(
        SourceName::Bitstamp,
        "USD",
        404,
        fixture!("bitstamp_error_invalid_pair.json"),
    );
    assert_eq!(why, "HTTP 404: Invalid currency pair.");
    let why = failure(
        SourceName::Coinbase,
        "USD",
        400,
        fixture!("coinbase_error_invalid_currency.json"),
    );
    assert_eq!(why, "HTTP 400: invalid_request: Currency is invalid");
    let why = failure(SourceName::Bitbank, "JPY", 200, fixture!("bitbank_error_10000.json"));
    assert_eq!(why, "success 0, error code 10000");
    let why = failure(SourceName::Coingecko, "USD", 200, fixture!("coingecko_unknown_id.json"));
    assert!(why.contains("no bitcoin-cash"), "{why}");
    for source in SourceName::ALL.into_iter().filter(|s| *s != SourceName::Fixed) {
        let code = if source == SourceName::Bitbank {
            "JPY"
        } else if source.quotes(cur("USD")) {
            "USD"
        } else {
            "KRW"
        };
        for status in [200, 502] {
            let why = failure(source, code, status, fixture!("cloudflare_502.html"));
            assert!(why.contains("HTML"), "{source}: {why}");
        }
        let why = failure(source, code, 200, b"");
        assert!(why.contains("unexpected answer"), "{source}: {why}");
        let why = failure(source, code, 200, b"{\"unexpected\": true}");
        assert!(
            why.contains("unexpected answer") || why.contains("no "),
            "{source}: {why}"
        );
    }
}

#[test]
fn rate_limits_are_told_apart_with_their_retry_after() {
    let request = requests(SourceName::Upbit, &[cur("KRW")], "").remove(0);
    for (status, body) in [
        (429, fixture!("upbit_429_too_many_requests.json")),
        (418, fixture!("upbit_418_blocked.json")),
    ] {
        assert_eq!(
            read(SourceName::Upbit, &request, status, None, body),
            Err(FetchError::RateLimited {
                status,
                retry_after: None
            })
        );
    }
    let request = requests(SourceName::Coingecko, &[cur("USD")], "").remove(0);
    let after = Some(Duration::from_secs(30));
    assert_eq!(
        read(
            SourceName::Coingecko,
            &request,
            429,
            after,
            fixture!("coingecko_429_rate_limit.json")
        ),
        Err(FetchError::RateLimited {
            status: 429,
            retry_after: after
        })
    );
    let request = requests(SourceName::Kraken, &[cur("USD")], "").remove(0);
    assert!(matches!(
        read(
            SourceName::Kraken,
            &request,
            200,
            None,
            fixture!("kraken_error_rate_limit.json")
        ),
        Err(FetchError::RateLimited { status: 200, .. })
    ));
}

#[test]
fn numbers_are_read_from_their_token_and_strings_must_be_strings() {
    let request = requests(SourceName::Upbit, &[cur("KRW")], "").remove(0);
    let body = br#"[{"market":"KRW-BCH","trade_price":612345.123456789012}]"#;
    let answer = read(SourceName::Upbit, &request, 200, None, body).unwrap();
    assert_eq!(answer[0].1, Ok(dec("612345.123456789012")));
    let body = br#"[{"market":"KRW-BCH","trade_price":"612000"}]"#;
    assert!(read(SourceName::Upbit, &request, 200, None, body).unwrap()[0]
        .1
        .is_err());
    let request = requests(SourceName::Kraken, &[cur("USD")], "").remove(0);
    let body = br#"{"error":[],"result":{"BCHUSD":{"c":[412.4,"1"]}}}"#;
    assert!(read(SourceName::Kraken, &request, 200, None, body).unwrap()[0]
        .1
        .is_err());
    // A number f64 would round is kept whole.
    let request = requests(SourceName::Coingecko, &[cur("USD")], "").remove(0);
    let body = br#"{"bitcoin-cash":{"usd":412.380000000001}}"#;
    assert_eq!(
        read(SourceName::Coingecko, &request, 200, None, body).unwrap()[0].1,
        Ok(dec("412.380000000001"))
    );
}

#[test]
fn a_currency_missing_from_a_many_currency_answer_fails_alone() {
    let request = requests(SourceName::Coinbase, &[cur("USD"), cur("CHF")], "").remove(0);
    let answer = read(
        SourceName::Coinbase,
        &request,
        200,
        None,
        fixture!("coinbase_exchange_rates_bch.json"),
    )
    .unwrap();
    assert_eq!(answer[0], (cur("USD"), Ok(dec("412.505"))));
    assert!(answer[1].1.is_err());
}
