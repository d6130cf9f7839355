//! Fiat prices against the real HTTP server, with every exchange faked on
//! loopback (the simulated exchanges, serving the real reply shapes of
//! tests/fixtures/rates/ byte for byte where a test scripts them).

use std::time::Duration;

use crate::helpers::*;
use bchpay::config::Settings;
use bchpay::sim::exchange::{ExchangeSim, Mode};
use serde_json::{json, Value};

/// The bytes of a fixture reply.
fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rates")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rates in `currencies`, each from its sources, all at `exchanges`.
fn rates(
    s: &mut Settings,
    exchanges: &ExchangeSim,
    currencies: &[(&str, &[&str])],
    refresh_secs: u64,
    max_age_secs: u64,
) {
    s.rates.currencies = currencies.iter().map(|(c, _)| (*c).to_owned()).collect();
    s.rates.sources = currencies
        .iter()
        .map(|(c, l)| ((*c).to_owned(), l.iter().map(|n| (*n).to_owned()).collect()))
        .collect();
    s.rates.refresh_secs = refresh_secs;
    s.rates.max_age_secs = max_age_secs;
    let e = &mut s.rates.endpoints;
    e.upbit = exchanges.base("upbit");
    e.bithumb = exchanges.base("bithumb");
    e.kraken = exchanges.base("kraken");
    e.bitstamp = exchanges.base("bitstamp");
    e.coinbase = exchanges.base("coinbase");
    e.bitbank = exchanges.base("bitbank");
    e.coingecko = exchanges.base("coingecko");
}

/// Waits until `GET /api/v1/rates` satisfies `check` for `currency`; that entry.
async fn wait_rates(app: &TestApp, what: &str, currency: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(what, Duration::from_secs(10), || async {
        let reply = app.get("/api/v1/rates").await;
        let entry = reply.body["rates"]
            .as_array()?
            .iter()
            .find(|r| r["currency"] == currency)?
            .clone();
        check(&entry).then_some(entry)
    })
    .await
}

fn ceil_sats(price_units: u128, price_scale: u32, rate_units: u128, rate_scale: u32) -> u64 {
    // ceil(price × 1e8 / rate), in integers.
    let n = price_units * 100_000_000 * 10u128.pow(rate_scale);
    let d = rate_units * 10u128.pow(price_scale);
    n.div_ceil(d) as u64
}

/// `POST /api/v1/invoices` on the engine at `base`.
async fn post_to(base: &str, body: Value) -> Reply {
    let url = format!("{base}/api/v1/invoices");
    send(
        &client(),
        awc::http::Method::POST,
        &url,
        Some(&bearer(API_KEY)),
        Some(body.to_string().into_bytes()),
    )
    .await
}

/// `GET path` on the engine at `base`.
async fn get_from(base: &str, path: &str) -> Reply {
    send(
        &client(),
        awc::http::Method::GET,
        &format!("{base}{path}"),
        Some(&bearer(API_KEY)),
        None,
    )
    .await
}

async fn metrics_text(app: &TestApp) -> String {
    let mut response = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("metrics");
    String::from_utf8(response.body().await.expect("body").to_vec()).expect("utf-8")
}

#[actix_rt::test]
async fn krw_and_usd_invoices_are_priced_at_the_median_of_two_and_three_sources() {
    let ex = ExchangeSim::start().await.unwrap();
    ex.script("upbit", 200, None, &fixture("upbit_ticker_krw_bch.json"));
    ex.script("bithumb", 200, None, &fixture("bithumb_ticker_krw_bch.json"));
    ex.script("kraken", 200, None, &fixture("kraken_ticker_bchusd.json"));
    ex.script("bitstamp", 200, None, &fixture("bitstamp_ticker_bchusd.json"));
    ex.script("coinbase", 200, None, &fixture("coinbase_exchange_rates_bch.json"));
    let app = TestApp::spawn_with(|s| {
        rates(
            s,
            &ex,
            &[
                ("KRW", &["upbit", "bithumb"]),
                ("USD", &["kraken", "bitstamp", "coinbase"]),
            ],
            60,
            300,
        );
        s.payments.poll_interval_ms = 200;
    })
    .await;
    wait_rates(&app, "the KRW rate", "KRW", |r| r["rate"] == "612500").await;
    let usd = wait_rates(&app, "the USD rate", "USD", |r| r["rate"] == "412.505").await;
    assert_eq!(usd["sources"][0]["name"], "kraken");
    assert_eq!(usd["sources"][0]["state"], "ok");
    assert_eq!(usd["sources"][0]["rate"], "412.4");
    assert_eq!(usd["sources"][0]["last_error"], Value::Null);

    // 15,000 won at the median of 612,000 and 613,000.
    let krw = app
        .create_ok(&json!({"price": "15000", "currency": "KRW", "order_id": "K-1"}))
        .await;
    assert_eq!(krw["currency"], "KRW");
    assert_eq!(krw["price"], "15000");
    assert_eq!(krw["rate"], "612500");
    assert_eq!(krw["rate_sources"], json!(["upbit", "bithumb"]));
    assert!(krw["rate_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{krw}");
    assert_eq!(krw["amount_sats"], ceil_sats(15000, 0, 612500, 0));
    assert_eq!(krw["amount_sats"], 2_448_980);
    assert_eq!(krw["amount"], "0.0244898");
    // $12.34 at the median of 412.40, 412.60 and 412.505.
    let usd = app.create_ok(&json!({"price": "12.34", "currency": "USD"})).await;
    assert_eq!(
        (&usd["rate"], &usd["rate_sources"]),
        (&json!("412.505"), &json!(["kraken", "bitstamp", "coinbase"]))
    );
    assert_eq!(usd["amount_sats"], ceil_sats(1234, 2, 412505, 3));
    // The stored invoice reads back the same.
    let id = krw["id"].as_str().unwrap();
    let read = app.get(&format!("/api/v1/invoices/{id}")).await;
    assert_eq!(
        (&read.body["rate"], &read.body["amount_sats"]),
        (&krw["rate"], &krw["amount_sats"])
    );

    // Paid in satoshis against amount_sats; the event carries the locked rate.
    let address = krw["address"].as_str().unwrap();
    app.sim.pay(address, 2_448_980).expect("pay");
    let event = eventually("the payment event", Duration::from_secs(10), || async {
        let reply = app.get(&format!("/api/v1/events?invoice_id={id}")).await;
        reply.body["events"]
            .as_array()?
            .iter()
            .find(|e| e["type"] == "invoice.paid")
            .cloned()
    })
    .await;
    let sent = &event["payload"]["invoice"];
    assert_eq!(
        (&sent["price"], &sent["currency"], &sent["rate"], &sent["rate_sources"]),
        (
            &json!("15000"),
            &json!("KRW"),
            &json!("612500"),
            &json!(["upbit", "bithumb"])
        ),
        "{event}"
    );

    let text = metrics_text(&app).await;
    assert!(
        text.contains("bchpay_rate_fetches_total{source=\"upbit\",outcome=\"ok\"} "),
        "{text}"
    );
    assert!(text.contains("bchpay_rate_age_seconds{currency=\"KRW\"} "), "{text}");
    // The checkout page shows the price beside the BCH amount, in the customer's language.
    let mut page = app
        .client
        .get(format!("{}/i/{id}", app.base))
        .insert_header(("Accept-Language", "ko-KR"))
        .send()
        .await
        .expect("page");
    let html = String::from_utf8(page.body().await.unwrap().to_vec()).unwrap();
    assert!(html.contains("15,000원") && html.contains("0.0244898"), "{html}");
    let usd_id = usd["id"].as_str().unwrap();
    let mut page = app
        .client
        .get(format!("{}/i/{usd_id}", app.base))
        .insert_header(("Accept-Language", "en"))
        .send()
        .await
        .expect("page");
    let html = String::from_utf8(page.body().await.unwrap().to_vec()).unwrap();
    assert!(html.contains("$12.34"), "{html}");
}

#[actix_rt::test]
async fn a_source_down_answering_zero_or_far_off_is_left_out_of_the_median() {
    let ex = ExchangeSim::start().await.unwrap();
    ex.script("kraken", 200, None, &fixture("kraken_error_service_unavailable.json"));
    ex.script("bitstamp", 200, None, &fixture("bitstamp_ticker_bchusd.json"));
    ex.script("coinbase", 200, None, &fixture("coinbase_exchange_rates_bch.json"));
    ex.script("upbit", 200, None, &fixture("upbit_ticker_krw_bch.json"));
    // Bithumb ten times off: an outlier.
    let far = String::from_utf8(fixture("bithumb_ticker_krw_bch.json"))
        .unwrap()
        .replace("\"trade_price\":613000", "\"trade_price\":6130000");
    ex.script("bithumb", 200, None, far.as_bytes());
    ex.script("coingecko", 200, None, &fixture("coingecko_simple_price.json"));
    let app = TestApp::spawn_with(|s| {
        rates(
            s,
            &ex,
            &[
                ("KRW", &["upbit", "bithumb", "coingecko"]),
                ("USD", &["kraken", "bitstamp", "coinbase"]),
            ],
            60,
            300,
        )
    })
    .await;
    // Kraken down: the median of the other two.
    let usd = wait_rates(&app, "USD from two", "USD", |r| r["rate"] == "412.5525").await;
    assert_eq!(usd["sources"][0]["state"], "error");
    assert!(
        usd["sources"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("EService:Unavailable")),
        "{usd}"
    );
    let made = app.create_ok(&json!({"price": "10.00", "currency": "USD"})).await;
    assert_eq!(made["rate_sources"], json!(["bitstamp", "coinbase"]));
    // The outlier is dropped: the median of Upbit and CoinGecko.
    wait_rates(&app, "KRW without the outlier", "KRW", |r| r["rate"] == "612350.5").await;
    let made = app.create_ok(&json!({"price": "15000", "currency": "KRW"})).await;
    assert_eq!(made["rate_sources"], json!(["upbit", "coingecko"]));
    assert_eq!(made["amount_sats"], ceil_sats(15000, 0, 6_123_505, 1));
}

#[actix_rt::test]
async fn a_source_answering_zero_is_not_a_rate() {
    let ex = ExchangeSim::start().await.unwrap();
    ex.set_mode("upbit", Mode::Zero);
    let app = TestApp::spawn_with(|s| rates(s, &ex, &[("KRW", &["upbit", "bithumb"])], 60, 300)).await;
    let krw = wait_rates(&app, "KRW from bithumb alone", "KRW", |r| r["rate"] == "613000").await;
    assert!(
        krw["sources"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("rate of 0")),
        "{krw}"
    );
    // Bithumb gone too: no rate at all, never 0 and never 1.
    ex.set_mode("bithumb", Mode::Zero);
    let before = app.snapshot();
    let app2 = TestApp::spawn_with(|s| rates(s, &ex, &[("KRW", &["upbit", "bithumb"])], 60, 300)).await;
    wait_rates(&app2, "both erring", "KRW", |r| {
        r["sources"]
            .as_array()
            .is_some_and(|s| s.iter().all(|s| s["state"] == "error"))
    })
    .await;
    let reply = app2.create(&json!({"price": "15000", "currency": "KRW"})).await;
    assert_error(&reply, 503, "rate_unavailable", Some("currency"));
    assert_eq!(app.snapshot(), before);
}

#[actix_rt::test]
async fn all_sources_stale_is_503_with_nothing_stored_until_a_source_returns_within_one_refresh() {
    let ex = ExchangeSim::start().await.unwrap();
    let refresh = 2;
    let app = TestApp::spawn_with(|s| rates(s, &ex, &[("KRW", &["upbit", "bithumb"])], refresh, 3)).await;
    wait_rates(&app, "a KRW rate", "KRW", |r| r["rate"] == "612500").await;
    ex.set_mode("upbit", Mode::Down);
    ex.set_mode("bithumb", Mode::Html);
    // Their last quotes age past max_age_secs: no rate, never a kept stale one.
    wait_rates(&app, "the KRW rate gone", "KRW", |r| r["rate"].is_null()).await;
    let before = app.snapshot();
    let reply = app
        .create(&json!({"price": "15000", "currency": "KRW", "order_id": "S-1"}))
        .await;
    assert_error(&reply, 503, "rate_unavailable", Some("currency"));
    assert!(
        reply.header("Retry-After").is_some_and(|s| s.parse::<u64>().is_ok()),
        "{:?}",
        reply.headers
    );
    assert_eq!(app.snapshot(), before, "nothing stored");
    let listed = app.get("/api/v1/invoices?order_id=S-1").await;
    assert_eq!(listed.body["invoices"], json!([]));
    // BCH invoices do not care.
    app.create_ok(&json!({"amount": "0.001"})).await;
    // Upbit returns: a rate within one refresh (the backoff is capped at it;
    // one more second for the request itself and this test's polling).
    ex.set_mode("upbit", Mode::Ok);
    let deadline = Duration::from_secs(refresh + 1);
    eventually("a KRW invoice again", deadline, || async {
        let reply = app
            .create(&json!({"price": "15000", "currency": "KRW", "order_id": "S-1"}))
            .await;
        (reply.status == 201).then_some(reply.body)
    })
    .await;
}

/// A source, the status, `Retry-After`, the fixture it answers, and what its error then says.
type ScriptedError = (&'static str, u16, Option<u64>, &'static str, &'static str);

/// Each source's real error replies, one after the other: each shows as that
/// source's error on `/api/v1/rates` and in the metrics, never as the engine's.
#[actix_rt::test]
async fn each_real_error_shape_of_each_source_is_an_error_of_that_source() {
    let ex = ExchangeSim::start().await.unwrap();
    let rounds: [[ScriptedError; 7]; 2] = [
        [
            (
                "upbit",
                429,
                None,
                "upbit_429_too_many_requests.json",
                "rate limited (HTTP 429)",
            ),
            ("bithumb", 404, None, "upbit_404_code_not_found.json", "Code not found"),
            (
                "coingecko",
                429,
                Some(1),
                "coingecko_429_rate_limit.json",
                "retry after 1 s",
            ),
            (
                "kraken",
                200,
                None,
                "kraken_error_unknown_pair.json",
                "EQuery:Unknown asset pair",
            ),
            (
                "bitstamp",
                404,
                None,
                "bitstamp_error_invalid_pair.json",
                "Invalid currency pair.",
            ),
            (
                "coinbase",
                400,
                None,
                "coinbase_error_invalid_currency.json",
                "Currency is invalid",
            ),
            ("bitbank", 200, None, "bitbank_error_10000.json", "error code 10000"),
        ],
        [
            ("upbit", 418, None, "upbit_418_blocked.json", "rate limited (HTTP 418)"),
            ("bithumb", 502, None, "cloudflare_502.html", "HTML"),
            ("coingecko", 200, None, "coingecko_unknown_id.json", "no bitcoin-cash"),
            (
                "kraken",
                200,
                None,
                "kraken_error_rate_limit.json",
                "rate limited (HTTP 200)",
            ),
            ("bitstamp", 200, None, "cloudflare_502.html", "HTML"),
            ("coinbase", 502, None, "cloudflare_502.html", "HTML"),
            ("bitbank", 200, None, "coingecko_unknown_id.json", "unexpected answer"),
        ],
    ];
    for (name, status, after, file, _) in rounds[0] {
        ex.script(name, status, after, &fixture(file));
    }
    let app = TestApp::spawn_with(|s| {
        rates(
            s,
            &ex,
            &[
                ("KRW", &["upbit", "bithumb", "coingecko"]),
                ("USD", &["kraken", "bitstamp", "coinbase"]),
                ("JPY", &["bitbank"]),
            ],
            1,
            5,
        )
    })
    .await;
    for (i, round) in rounds.iter().enumerate() {
        if i > 0 {
            for (name, status, after, file, _) in round {
                ex.script(name, *status, *after, &fixture(file));
            }
        }
        for (name, _, _, file, said) in round {
            let currency = match *name {
                "upbit" | "bithumb" | "coingecko" => "KRW",
                "bitbank" => "JPY",
                _ => "USD",
            };
            wait_rates(&app, &format!("{name}'s error for {file}"), currency, |r| {
                r["sources"].as_array().is_some_and(|s| {
                    s.iter().any(|s| {
                        s["name"] == *name
                            && s["state"] == "error"
                            && s["last_error"].as_str().is_some_and(|e| e.contains(said))
                    })
                })
            })
            .await;
        }
    }
    let text = metrics_text(&app).await;
    for needle in [
        "bchpay_rate_fetches_total{source=\"upbit\",outcome=\"rate_limited\"}",
        "bchpay_rate_fetches_total{source=\"kraken\",outcome=\"error\"}",
        "bchpay_rate_age_seconds{currency=\"JPY\"} +Inf",
    ] {
        assert!(text.contains(needle), "{needle} in {text}");
    }
    // The engine itself is fine: BCH invoices as before, fiat ones refused cleanly.
    app.create_ok(&json!({"amount": "0.0007"})).await;
    let reply = app.create(&json!({"price": "1500", "currency": "JPY"})).await;
    assert_error(&reply, 503, "rate_unavailable", Some("currency"));
    let (status, _) = readyz(&app.base).await.expect("readyz");
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn zero_decimal_currencies_refuse_a_fraction_and_bad_fiat_fields_change_nothing() {
    let ex = ExchangeSim::start().await.unwrap();
    ex.script("bitbank", 200, None, &fixture("bitbank_ticker_bcc_jpy.json"));
    let app = TestApp::spawn_with(|s| rates(s, &ex, &[("KRW", &["upbit"]), ("JPY", &["bitbank"])], 60, 300)).await;
    wait_rates(&app, "a JPY rate", "JPY", |r| r["rate"] == "62080").await;
    let before = app.snapshot();
    for (body, code, field) in [
        (
            json!({"price": "15000.5", "currency": "KRW"}),
            "invalid_price",
            Some("price"),
        ),
        (
            json!({"price": "1500.5", "currency": "JPY"}),
            "invalid_price",
            Some("price"),
        ),
        (
            json!({"price": "15000.0", "currency": "KRW"}),
            "invalid_price",
            Some("price"),
        ),
        (
            json!({"price": "15", "currency": "USD"}),
            "unsupported_currency",
            Some("currency"),
        ),
        (
            json!({"price": "15", "currency": "krw"}),
            "invalid_currency",
            Some("currency"),
        ),
        (
            json!({"amount": "0.1", "currency": "KRW"}),
            "invalid_currency",
            Some("currency"),
        ),
        (
            json!({"price": "15000", "currency": "KRW", "amount": "1"}),
            "ambiguous_amount",
            None,
        ),
    ] {
        let reply = app.create(&body).await;
        assert_error(&reply, 400, code, field);
    }
    assert_eq!(app.snapshot(), before, "nothing stored");
    let yen = app.create_ok(&json!({"price": "1500", "currency": "JPY"})).await;
    assert_eq!(yen["amount_sats"], ceil_sats(1500, 0, 62080, 0));
}

#[actix_rt::test]
async fn the_same_order_and_price_is_the_same_invoice_even_after_the_rate_moved() {
    let ex = ExchangeSim::start().await.unwrap();
    let app = TestApp::spawn_with(|s| rates(s, &ex, &[("KRW", &["upbit"])], 1, 3)).await;
    wait_rates(&app, "a KRW rate", "KRW", |r| r["rate"] == "612000").await;
    let first = app
        .create_ok(&json!({"price": "15000", "currency": "KRW", "order_id": "O-1"}))
        .await;
    ex.set_price("upbit", "KRW", "700000");
    wait_rates(&app, "the moved rate", "KRW", |r| r["rate"] == "700000").await;
    let again = app
        .create(&json!({"price": "15000", "currency": "KRW", "order_id": "O-1"}))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        (&again.body["id"], &again.body["rate"], &again.body["amount_sats"]),
        (&first["id"], &json!("612000"), &first["amount_sats"])
    );
    for other in [
        json!({"price": "15001", "currency": "KRW", "order_id": "O-1"}),
        json!({"amount_sats": first["amount_sats"], "order_id": "O-1"}),
    ] {
        let reply = app.create(&other).await;
        assert_error(&reply, 409, "order_conflict", None);
    }
    // With no rate at all, the order already priced still answers.
    ex.set_mode("upbit", Mode::Down);
    wait_rates(&app, "no KRW rate", "KRW", |r| r["rate"].is_null()).await;
    let again = app
        .create(&json!({"price": "15000", "currency": "KRW", "order_id": "O-1"}))
        .await;
    assert_eq!((again.status, &again.body["id"]), (200, &first["id"]));
}

#[actix_rt::test]
async fn a_restart_keeps_the_rate_on_existing_invoices() {
    let ex = ExchangeSim::start().await.unwrap();
    let sim = bchpay::sim::Sim::start(bchpay::sim::SimConfig::default())
        .await
        .unwrap();
    let config = format!(
        "{}[api]\nkeys = [\"{API_KEY}\"]\n[rates]\ncurrencies = [\"KRW\"]\nrefresh_secs = 1\nmax_age_secs = 5\n[rates.sources]\nKRW = [\"upbit\"]\n[rates.endpoints]\nupbit = \"{}\"\n",
        wallet_config(&sim.url(), "", 5),
        ex.base("upbit")
    );
    let engine = Engine::spawn(&config, &[]);
    let base = engine.base.clone();
    wait_pool_available(&base, 1, Duration::from_secs(10)).await;
    let made = eventually("a KRW invoice", Duration::from_secs(10), || async {
        let reply = post_to(&base, json!({"price": "15000", "currency": "KRW", "order_id": "R-1"})).await;
        (reply.status == 201).then_some(reply.body)
    })
    .await;
    let id = made["id"].as_str().unwrap().to_owned();
    let dir = engine.into_dir();
    // `bchpay inspect` on the stopped store shows the price and currency.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bchpay"))
        .args(["inspect", "--store"])
        .arg(dir.path().join("store"))
        .args(["invoice", &id])
        .output()
        .expect("run bchpay inspect");
    let table = String::from_utf8_lossy(&out.stdout);
    for (field, value) in [("price", "15000"), ("currency", "KRW"), ("rate", "612000")] {
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == [field, value]),
            "{field} {value} in:\n{table}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    ex.set_price("upbit", "KRW", "650000");
    let engine = Engine::spawn_in(dir, &config, &[]);
    let base = engine.base.clone();
    let read = eventually("the invoice after the restart", Duration::from_secs(10), || async {
        let reply = get_from(&base, &format!("/api/v1/invoices/{id}")).await;
        (reply.status == 200).then_some(reply.body)
    })
    .await;
    for key in [
        "price",
        "currency",
        "rate",
        "rate_sources",
        "rate_at",
        "amount_sats",
        "amount",
    ] {
        assert_eq!(read[key], made[key], "{key} after the restart");
    }
    assert_eq!(read["rate"], "612000");
    // A new invoice takes the new rate.
    let fresh = eventually("the new rate", Duration::from_secs(10), || async {
        let reply = post_to(&base, json!({"price": "15000", "currency": "KRW"})).await;
        (reply.status == 201 && reply.body["rate"] == "650000").then_some(reply.body)
    })
    .await;
    assert_ne!(fresh["amount_sats"], made["amount_sats"]);
}

#[actix_rt::test]
async fn the_default_configuration_starts_with_no_exchange_reachable() {
    // Every default currency, every source's endpoint a closed loopback port:
    // a machine without internet.
    let closed = format!("http://127.0.0.1:{}", free_port());
    let sim = bchpay::sim::Sim::start(bchpay::sim::SimConfig::default())
        .await
        .unwrap();
    let endpoints: String = [
        "upbit",
        "bithumb",
        "kraken",
        "bitstamp",
        "coinbase",
        "bitbank",
        "coingecko",
    ]
    .iter()
    .map(|n| format!("{n} = \"{closed}\"\n"))
    .collect();
    let config = format!(
        "{}[api]\nkeys = [\"{API_KEY}\"]\n[rates]\n[rates.endpoints]\n{endpoints}",
        wallet_config(&sim.url(), "", 5)
    );
    let engine = Engine::spawn(&config, &[]);
    wait_pool_available(&engine.base, 1, Duration::from_secs(10)).await;
    let bch = post_to(&engine.base, json!({"amount": "0.0007"})).await;
    assert_eq!(bch.status, 201, "{}", bch.body);
    assert_eq!(bch.body["currency"], "BCH");
    for currency in ["KRW", "USD", "EUR", "JPY"] {
        let reply = post_to(&engine.base, json!({"price": "1000", "currency": currency})).await;
        assert_error(&reply, 503, "rate_unavailable", Some("currency"));
    }
}
