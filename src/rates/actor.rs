//! The `RateSource` actor: one timer chain per fetched source, all running
//! at once (a slow or banned exchange holds up no other), each fetch written
//! to the shared book, the next one scheduled by the refresh interval or the
//! backoff. Readers never talk to it: they read the book.

use std::time::Duration;

use actix::prelude::*;
use rand::Rng;

use super::book::RatesHandle;
use super::clients::{self, Answer, Request};
use super::source::{backoff, FetchError, SourceName};
use crate::fiat::Currency;

/// The longest one request to an exchange may take.
const MAX_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read (Coinbase's every-currency answer is ~10 KiB).
const MAX_BODY: usize = 1024 * 1024;

/// Fetches the quotes of every source some currency uses.
pub struct RateSource {
    /// The book it writes.
    handle: RatesHandle,
    /// The HTTP client, made on this actor's arbiter (awc's is not `Send`).
    client: Option<awc::Client>,
}

/// Fetch this source now (sent by the actor to itself on its timers).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Fetch(pub SourceName);

impl RateSource {
    /// Starts the actor on the current arbiter; a no-op chain when no
    /// currency needs a fetched source.
    pub fn start(handle: RatesHandle) -> Addr<RateSource> {
        Actor::start(RateSource { handle, client: None })
    }

    fn timeout(&self) -> Duration {
        self.handle.config().refresh.clamp(Duration::from_secs(1), MAX_TIMEOUT)
    }
}

impl Actor for RateSource {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.client = Some(
            awc::Client::builder()
                .timeout(self.timeout())
                .add_default_header(("User-Agent", concat!("bchpay/", env!("CARGO_PKG_VERSION"))))
                .finish(),
        );
        let fetched = self.handle.config().fetched();
        if !fetched.is_empty() {
            let names: Vec<&str> = fetched.keys().map(|s| s.as_str()).collect();
            log::info!(
                "rates: fetching {} every {:?}",
                names.join(", "),
                self.handle.config().refresh
            );
        }
        for source in fetched.into_keys() {
            ctx.notify(Fetch(source));
        }
    }
}

impl Handler<Fetch> for RateSource {
    type Result = ();

    fn handle(&mut self, Fetch(source): Fetch, ctx: &mut Context<Self>) {
        let Some(client) = self.client.clone() else { return };
        let config = self.handle.config();
        let currencies: Vec<Currency> = config.fetched().remove(&source).unwrap_or_default();
        let Some(base) = config.endpoints.get(&source).cloned() else {
            return;
        };
        let requests = clients::requests(source, &currencies, config.coingecko_key.expose());
        let refresh = config.refresh;
        let round = async move {
            let mut results = Vec::with_capacity(requests.len());
            for request in &requests {
                results.push(fetch_one(&client, &base, source, request).await);
            }
            results
        };
        ctx.spawn(round.into_actor(self).map(move |results, act, ctx| {
            let worst = act.handle.record(source, results, chrono::Utc::now());
            let next = match worst {
                None => refresh,
                Some(error) => {
                    let failures = act.handle.failures(source).max(1);
                    backoff(&error, failures, refresh, rand::thread_rng().gen::<f64>())
                }
            };
            ctx.notify_later(Fetch(source), next);
        }));
    }
}

/// One GET: the answer read by the source's client, or why not.
async fn fetch_one(
    client: &awc::Client,
    base: &str,
    source: SourceName,
    request: &Request,
) -> Result<Answer, FetchError> {
    let url = format!("{base}{}", request.path);
    let mut builder = client.get(&url).insert_header(("Accept", "application/json"));
    for (name, value) in &request.headers {
        builder = builder.insert_header((*name, value.as_str()));
    }
    let mut response = builder
        .send()
        .await
        .map_err(|e| FetchError::failed(format!("GET {}: {e}", request.path)))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| FetchError::failed(format!("GET {}: reading the answer: {e}", request.path)))?;
    log::debug!("rate source {source}: GET {} -> {status}", request.path);
    clients::read(source, request, status, retry_after, &body)
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::rates::book::RatesConfig;
    use crate::sim::exchange::{ExchangeSim, Mode};

    async fn wait(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn handle(sim: &ExchangeSim) -> RatesHandle {
        let mut s = crate::config::Settings::default();
        s.rates.currencies = vec!["KRW".into(), "USD".into()];
        s.rates.sources = [("KRW", vec!["upbit", "bithumb"]), ("USD", vec!["kraken"])]
            .into_iter()
            .map(|(c, l)| (c.to_owned(), l.into_iter().map(str::to_owned).collect()))
            .collect();
        s.rates.refresh_secs = 1;
        s.rates.max_age_secs = 3;
        s.rates.endpoints.upbit = sim.base("upbit");
        s.rates.endpoints.bithumb = sim.base("bithumb");
        s.rates.endpoints.kraken = sim.base("kraken");
        RatesHandle::new(RatesConfig::from_settings(&s.rates).unwrap())
    }

    fn krw() -> Currency {
        Currency::parse("KRW").unwrap()
    }

    #[actix_rt::test]
    async fn https_endpoints_are_spoken_to_over_tls_and_a_failed_handshake_is_an_error_of_its_source() {
        // The real endpoints are https: the client has TLS (rustls, ring), and
        // a connection refused is that source's error, not a panic.
        // A server that is not TLS: the handshake fails (without TLS in the
        // client, awc would refuse before connecting: "SSL is not supported").
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            use std::io::Write;
            for mut stream in listener.incoming().flatten().take(1) {
                let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nnot tls");
            }
        });
        let client = awc::Client::builder().timeout(Duration::from_secs(2)).finish();
        let request = clients::requests(SourceName::Upbit, &[krw()], "").remove(0);
        let got = fetch_one(
            &client,
            &format!("https://127.0.0.1:{port}"),
            SourceName::Upbit,
            &request,
        )
        .await;
        let Err(FetchError::Failed(why)) = &got else {
            panic!("{got:?}")
        };
        assert!(
            why.starts_with("GET /v1/ticker") && !why.contains("SSL is not supported"),
            "{why}"
        );
    }

    #[actix_rt::test]
    async fn fetches_every_source_and_a_stale_one_holds_up_no_other() {
        let sim = ExchangeSim::start().await.unwrap();
        sim.set_mode("bithumb", Mode::Stale);
        let handle = handle(&sim);
        RateSource::start(handle.clone());
        let usd = Currency::parse("USD").unwrap();
        wait("KRW and USD rates", || {
            handle.rate(krw(), chrono::Utc::now()).is_ok() && handle.rate(usd, chrono::Utc::now()).is_ok()
        })
        .await;
        let krw_rate = handle.rate(krw(), chrono::Utc::now()).unwrap();
        assert_eq!(
            (krw_rate.rate.to_string(), krw_rate.sources),
            ("612000".into(), vec!["upbit".to_owned()])
        );
        assert_eq!(handle.rate(usd, chrono::Utc::now()).unwrap().rate.to_string(), "412.4");
        // Refreshed every second while bithumb hangs.
        let before = sim.requests("upbit");
        wait("two more upbit fetches", || sim.requests("upbit") >= before + 2).await;
        // Bithumb's hang is a timeout of bithumb's.
        wait("bithumb's timeout", || {
            let api = handle.to_api(chrono::Utc::now());
            api["rates"][0]["sources"][1]["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("imeout"))
        })
        .await;
    }

    #[actix_rt::test]
    async fn a_zero_or_a_ban_is_an_error_of_that_source_and_the_quote_ages_out() {
        let sim = ExchangeSim::start().await.unwrap();
        let handle = handle(&sim);
        RateSource::start(handle.clone());
        wait("a KRW rate from both", || {
            handle
                .rate(krw(), chrono::Utc::now())
                .is_ok_and(|r| r.sources.len() == 2)
        })
        .await;
        sim.set_mode("bithumb", Mode::Zero);
        sim.set_mode("upbit", Mode::RateLimited);
        wait("both failing", || {
            let api = handle.to_api(chrono::Utc::now());
            let s = &api["rates"][0]["sources"];
            s[0]["last_error"].as_str().is_some_and(|e| e.contains("rate limited"))
                && s[1]["last_error"].as_str().is_some_and(|e| e.contains("rate of 0"))
        })
        .await;
        wait("the KRW rate gone stale", || {
            handle.rate(krw(), chrono::Utc::now()).is_err()
        })
        .await;
        sim.set_mode("bithumb", Mode::Ok);
        wait("bithumb back", || handle.rate(krw(), chrono::Utc::now()).is_ok()).await;
        assert_eq!(handle.rate(krw(), chrono::Utc::now()).unwrap().sources, ["bithumb"]);
    }
}
