//! Simulated exchanges for the demo and the tests: Upbit- and Kraken-shaped
//! tickers (and any reply a test scripts, byte for byte) under
//! `/<exchange>/…` on one loopback port, with `/sim/exchange` controls to
//! make one fail, go stale (answer nothing in time), answer 0, answer HTML or
//! rate-limit. Point `rates.endpoints.<name>` at [`ExchangeSim::base`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde::Deserialize;
use serde_json::json;

/// How a simulated exchange answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Its ticker at its prices.
    #[default]
    Ok,
    /// Its own "service unavailable" (Upbit: HTTP 500 in its error envelope;
    /// Kraken: `EService:Unavailable` inside an HTTP 200).
    Down,
    /// No answer in time (held a minute): its last quote ages until stale.
    Stale,
    /// A ticker with a price of 0.
    Zero,
    /// A CDN's HTML error page (HTTP 502).
    Html,
    /// Rate-limited: Upbit 429 then 418 (banned), Kraken `EAPI:Rate limit exceeded`.
    RateLimited,
}

/// A reply a test fixes, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripted {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After` seconds, if any.
    pub retry_after: Option<u64>,
    /// The body.
    pub body: Vec<u8>,
}

/// One simulated exchange.
#[derive(Debug, Clone, Default)]
struct Exchange {
    /// Fiat per BCH by currency code.
    prices: BTreeMap<String, String>,
    /// How it answers.
    mode: Mode,
    /// A fixed reply, if a test set one (wins over the mode).
    script: Option<Scripted>,
    /// Requests received.
    requests: u64,
}

/// State shared by the handle and the routes.
struct Inner {
    /// Where it listens.
    addr: SocketAddr,
    /// The exchanges by name.
    exchanges: Mutex<BTreeMap<String, Exchange>>,
    /// The running server.
    server: Mutex<Option<ServerHandle>>,
}

/// A handle on the running simulated exchanges; cheap to clone.
#[derive(Clone)]
pub struct ExchangeSim {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ExchangeSim {
    /// Serves on a free loopback port with `upbit` (612,000 KRW), `bithumb`
    /// (613,000 KRW) and `kraken` (412.40 USD, 380 EUR); returns once listening.
    pub async fn start() -> std::io::Result<ExchangeSim> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let prices = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(c, p)| ((*c).to_owned(), (*p).to_owned()))
                .collect::<BTreeMap<_, _>>()
        };
        let exchanges = [
            ("upbit", prices(&[("KRW", "612000")])),
            ("bithumb", prices(&[("KRW", "613000")])),
            ("kraken", prices(&[("USD", "412.40000"), ("EUR", "380.00000")])),
        ]
        .into_iter()
        .map(|(name, prices)| {
            (
                name.to_owned(),
                Exchange {
                    prices,
                    ..Exchange::default()
                },
            )
        })
        .collect();
        let sim = ExchangeSim {
            inner: Arc::new(Inner {
                addr,
                exchanges: Mutex::new(exchanges),
                server: Mutex::new(None),
            }),
        };
        let data = web::Data::new(sim.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/sim/exchange", web::get().to(state))
                .route("/sim/exchange/{name}", web::post().to(control))
                .route("/{name}/{tail:.*}", web::get().to(answer))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .listen(listener)?
        .run();
        *lock(&sim.inner.server) = Some(server.handle());
        actix_rt::spawn(server);
        log::info!("simulated exchanges listening on {}", sim.url());
        Ok(sim)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The base URL of exchange `name` (for `rates.endpoints.<name>`).
    pub fn base(&self, name: &str) -> String {
        format!("{}/{name}", self.url())
    }

    fn with<T>(&self, name: &str, f: impl FnOnce(&mut Exchange) -> T) -> T {
        f(lock(&self.inner.exchanges).entry(name.to_owned()).or_default())
    }

    /// Sets exchange `name`'s price in `currency`.
    pub fn set_price(&self, name: &str, currency: &str, price: &str) {
        self.with(name, |e| e.prices.insert(currency.to_owned(), price.to_owned()));
    }

    /// Sets how exchange `name` answers.
    pub fn set_mode(&self, name: &str, mode: Mode) {
        log::info!("sim: exchange {name} now {mode:?}");
        self.with(name, |e| e.mode = mode);
    }

    /// Makes exchange `name` answer every request with these bytes.
    pub fn script(&self, name: &str, status: u16, retry_after: Option<u64>, body: &[u8]) {
        self.with(name, |e| {
            e.script = Some(Scripted {
                status,
                retry_after,
                body: body.to_vec(),
            })
        });
    }

    /// Requests exchange `name` received.
    pub fn requests(&self, name: &str) -> u64 {
        self.with(name, |e| e.requests)
    }

    /// Stops serving.
    pub async fn stop(&self) {
        let handle = lock(&self.inner.server).take();
        if let Some(handle) = handle {
            handle.stop(false).await;
        }
    }
}

/// `GET /<name>/<path>`: the exchange's answer.
async fn answer(sim: web::Data<ExchangeSim>, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (name, tail) = path.into_inner();
    let Some(exchange) = lock(&sim.inner.exchanges).get_mut(&name).map(|e| {
        e.requests += 1;
        e.clone()
    }) else {
        return HttpResponse::NotFound().json(json!({"error": format!("no simulated exchange {name:?}")}));
    };
    if let Some(s) = exchange.script {
        let status = actix_web::http::StatusCode::from_u16(s.status).unwrap_or(actix_web::http::StatusCode::OK);
        let mut reply = HttpResponse::build(status);
        reply.content_type("application/json");
        if let Some(after) = s.retry_after {
            reply.insert_header(("Retry-After", after.to_string()));
        }
        return reply.body(s.body);
    }
    let kraken = name == "kraken";
    match exchange.mode {
        Mode::Stale => {
            actix_rt::time::sleep(Duration::from_secs(60)).await;
            HttpResponse::GatewayTimeout().finish()
        }
        Mode::Html => HttpResponse::BadGateway()
            .content_type("text/html; charset=UTF-8")
            .body("<!DOCTYPE html>\n<html><head><title>502: Bad gateway</title></head><body><h1>Error 502</h1></body></html>\n"),
        Mode::Down if kraken => HttpResponse::Ok().json(json!({"error": ["EService:Unavailable"]})),
        Mode::Down => HttpResponse::InternalServerError()
            .json(json!({"error": {"name": "500", "message": "Internal Server Error"}})),
        Mode::RateLimited if kraken => HttpResponse::Ok().json(json!({"error": ["EAPI:Rate limit exceeded"]})),
        Mode::RateLimited if exchange.requests % 2 == 0 => HttpResponse::build(actix_web::http::StatusCode::IM_A_TEAPOT)
            .insert_header(("Retry-After", "2"))
            .json(json!({"error": {"name": "ip_blocked", "message": "Too many API requests. You are blocked for 2 seconds."}})),
        Mode::RateLimited => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", "1"))
            .json(json!({"error": {"name": "too_many_requests", "message": "Too many API requests."}})),
        Mode::Ok | Mode::Zero => {
            let zero = exchange.mode == Mode::Zero;
            let price = |code: &str| {
                let p = exchange.prices.get(code).cloned();
                if zero {
                    p.map(|_| "0".to_owned())
                } else {
                    p
                }
            };
            if kraken {
                let pair = req
                    .query_string()
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("pair="))
                    .unwrap_or("")
                    .to_owned();
                match pair.strip_prefix("BCH").and_then(price) {
                    Some(last) => HttpResponse::Ok().json(json!({"error": [], "result": {pair: {
                        "a": [last, "1", "1.000"], "b": [last, "1", "1.000"], "c": [last, "0.10000000"],
                        "v": ["100.0", "200.0"], "p": [last, last], "t": [10, 20],
                        "l": [last, last], "h": [last, last], "o": last,
                    }}})),
                    None => HttpResponse::Ok().json(json!({"error": ["EQuery:Unknown asset pair"]})),
                }
            } else if tail == "v1/ticker" && req.query_string() == "markets=KRW-BCH" {
                match price("KRW") {
                    // Upbit writes JSON numbers: put the decimal text in as a number token.
                    Some(p) => HttpResponse::Ok().content_type("application/json").body(format!(
                        "[{{\"market\":\"KRW-BCH\",\"trade_date\":\"{d}\",\"trade_time\":\"{t}\",\"trade_timestamp\":{ms},\"trade_price\":{p},\"change\":\"EVEN\",\"timestamp\":{ms}}}]",
                        d = chrono::Utc::now().format("%Y%m%d"),
                        t = chrono::Utc::now().format("%H%M%S"),
                        ms = chrono::Utc::now().timestamp_millis(),
                    )),
                    None => HttpResponse::NotFound().json(json!({"error": {"name": "404", "message": "Code not found"}})),
                }
            } else {
                HttpResponse::NotFound().json(json!({"error": {"name": "404", "message": "Code not found"}}))
            }
        }
    }
}

/// `POST /sim/exchange/{name}`: `{"mode"?: "ok" | "down" | "stale" | "zero" | "html" | "rate_limited", "prices"?: {"KRW": "612000"}}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Control {
    /// The new mode.
    mode: Option<Mode>,
    /// New prices by currency (decimal strings).
    #[serde(default)]
    prices: BTreeMap<String, String>,
}

async fn control(sim: web::Data<ExchangeSim>, name: web::Path<String>, body: web::Json<Control>) -> HttpResponse {
    let Control { mode, prices } = body.into_inner();
    if let Some(bad) = prices.values().find(|p| crate::fiat::parse_rate(p).is_none()) {
        return HttpResponse::BadRequest()
            .json(json!({"error": {"code": "bad_input", "message": format!("{bad:?} is not a decimal price")}}));
    }
    if let Some(mode) = mode {
        sim.set_mode(&name, mode);
    }
    for (currency, price) in prices {
        sim.set_price(&name, &currency, &price);
    }
    state(sim).await
}

/// `GET /sim/exchange`: every exchange's mode, prices and request count.
async fn state(sim: web::Data<ExchangeSim>) -> HttpResponse {
    let exchanges: serde_json::Map<String, serde_json::Value> = lock(&sim.inner.exchanges)
        .iter()
        .map(|(name, e)| {
            (
                name.clone(),
                json!({"mode": format!("{:?}", e.mode), "prices": e.prices, "scripted": e.script.is_some(), "requests": e.requests}),
            )
        })
        .collect();
    HttpResponse::Ok().json(exchanges)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(url: &str) -> (u16, Vec<u8>) {
        let client = awc::Client::builder().timeout(Duration::from_secs(5)).finish();
        let mut response = client.get(url).send().await.unwrap();
        (response.status().as_u16(), response.body().await.unwrap().to_vec())
    }

    async fn control(sim: &ExchangeSim, name: &str, body: serde_json::Value) -> u16 {
        let client = awc::Client::default();
        let url = format!("{}/sim/exchange/{name}", sim.url());
        client.post(url).send_json(&body).await.unwrap().status().as_u16()
    }

    #[actix_rt::test]
    async fn tickers_follow_the_controls() {
        let sim = ExchangeSim::start().await.unwrap();
        let upbit = format!("{}/v1/ticker?markets=KRW-BCH", sim.base("upbit"));
        let (status, body) = get(&upbit).await;
        let text = String::from_utf8(body).unwrap();
        assert!(status == 200 && text.contains("\"trade_price\":612000,"), "{text}");

        assert_eq!(
            control(&sim, "upbit", json!({"prices": {"KRW": "650000.5"}})).await,
            200
        );
        let (_, body) = get(&upbit).await;
        assert!(String::from_utf8(body).unwrap().contains("\"trade_price\":650000.5,"));
        assert_eq!(control(&sim, "upbit", json!({"mode": "zero"})).await, 200);
        let (_, body) = get(&upbit).await;
        assert!(String::from_utf8(body).unwrap().contains("\"trade_price\":0,"));
        assert_eq!(control(&sim, "upbit", json!({"mode": "html"})).await, 200);
        let (status, body) = get(&upbit).await;
        assert!(status == 502 && body.starts_with(b"<!DOCTYPE html>"));
        assert_eq!(control(&sim, "upbit", json!({"mode": "rate_limited"})).await, 200);
        assert_eq!(get(&upbit).await.0, 429);
        assert_eq!(get(&upbit).await.0, 418);
        assert_eq!(control(&sim, "upbit", json!({"prices": {"KRW": "lots"}})).await, 400);
        assert_eq!(control(&sim, "upbit", json!({"mode": "sideways"})).await, 400);

        let kraken = format!("{}/0/public/Ticker?pair=BCHUSD", sim.base("kraken"));
        let (status, body) = get(&kraken).await;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, &v["result"]["BCHUSD"]["c"][0]), (200, &json!("412.40000")));
        assert_eq!(control(&sim, "kraken", json!({"mode": "down"})).await, 200);
        let (status, body) = get(&kraken).await;
        assert_eq!(
            (status, serde_json::from_slice::<serde_json::Value>(&body).unwrap()),
            (200, json!({"error": ["EService:Unavailable"]}))
        );
        assert_eq!(sim.requests("kraken"), 2);
    }
}
