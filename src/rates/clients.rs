//! One typed client per source: the request below its base URL, and the
//! reading of its answer exactly as the real service writes it, errors
//! included. Pure: the bytes in, quotes or a [`FetchError`] out (the actor
//! does the I/O). JSON numbers are read from their token, never through `f64`.

use std::collections::HashMap;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::source::{FetchError, SourceName};
use crate::fiat::{parse_rate, Currency};

/// One HTTP GET a source needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Path and query below the source's base URL.
    pub path: String,
    /// Extra headers (CoinGecko's key).
    pub headers: Vec<(&'static str, String)>,
    /// The currencies this answer quotes.
    pub currencies: Vec<Currency>,
}

/// What one answer gave: per currency asked, a rate or why not.
pub type Answer = Vec<(Currency, Result<Decimal, String>)>;

/// The requests that quote `currencies` at `source` (none for `fixed`).
pub fn requests(source: SourceName, currencies: &[Currency], coingecko_key: &str) -> Vec<Request> {
    let one = |path: String, currencies: Vec<Currency>| Request {
        path,
        headers: Vec::new(),
        currencies,
    };
    match source {
        SourceName::Upbit | SourceName::Bithumb => {
            vec![one("/v1/ticker?markets=KRW-BCH".into(), currencies.to_vec())]
        }
        SourceName::Kraken => currencies
            .iter()
            .map(|c| one(format!("/0/public/Ticker?pair=BCH{}", c.code()), vec![*c]))
            .collect(),
        SourceName::Bitstamp => currencies
            .iter()
            .map(|c| {
                one(
                    format!("/api/v2/ticker/bch{}/", c.code().to_ascii_lowercase()),
                    vec![*c],
                )
            })
            .collect(),
        SourceName::Coinbase => vec![one("/v2/exchange-rates?currency=BCH".into(), currencies.to_vec())],
        SourceName::Bitbank => vec![one("/bcc_jpy/ticker".into(), currencies.to_vec())],
        SourceName::Coingecko => {
            let vs: Vec<String> = currencies.iter().map(|c| c.code().to_ascii_lowercase()).collect();
            let mut request = one(
                format!("/api/v3/simple/price?ids=bitcoin-cash&vs_currencies={}", vs.join(",")),
                currencies.to_vec(),
            );
            if !coingecko_key.is_empty() {
                request.headers.push(("x-cg-demo-api-key", coingecko_key.to_owned()));
            }
            vec![request]
        }
        SourceName::Fixed => Vec::new(),
    }
}

/// Reads one answer of `source` to `request`: its HTTP status, its
/// `Retry-After` (seconds), and its body.
pub fn read(
    source: SourceName,
    request: &Request,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<Answer, FetchError> {
    if status == 429 || status == 418 {
        return Err(FetchError::RateLimited { status, retry_after });
    }
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first == Some(b'<') {
        return Err(FetchError::failed(format!(
            "HTTP {status}: an HTML page where JSON was expected"
        )));
    }
    if !(200..300).contains(&status) {
        let said = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| error_message(source, &v))
            .unwrap_or_else(|| snippet(body));
        return Err(FetchError::failed(format!("HTTP {status}: {said}")));
    }
    let wrong = |e: serde_json::Error| FetchError::failed(format!("unexpected answer: {e}"));
    match source {
        SourceName::Upbit | SourceName::Bithumb => {
            #[derive(Deserialize)]
            struct Ticker {
                market: String,
                trade_price: Box<RawValue>,
            }
            let tickers: Vec<Ticker> = serde_json::from_slice(body).map_err(wrong)?;
            let ticker = tickers
                .iter()
                .find(|t| t.market == "KRW-BCH")
                .ok_or_else(|| FetchError::failed("no KRW-BCH ticker in the answer"))?;
            Ok(each(request, |_| number(&ticker.trade_price)))
        }
        SourceName::Kraken => {
            #[derive(Deserialize)]
            struct Pair {
                c: Vec<Box<RawValue>>,
            }
            #[derive(Deserialize)]
            struct Envelope {
                error: Vec<String>,
                #[serde(default)]
                result: Option<serde_json::Map<String, Value>>,
            }
            let envelope: Envelope = serde_json::from_slice(body).map_err(wrong)?;
            if !envelope.error.is_empty() {
                if envelope.error.iter().any(|e| e.starts_with("EAPI:Rate limit")) {
                    return Err(FetchError::RateLimited { status, retry_after });
                }
                return Err(FetchError::failed(envelope.error.join("; ")));
            }
            // Kraken keys the result by its own pair name: the first (only) key.
            let first = envelope
                .result
                .and_then(|r| r.into_iter().next())
                .ok_or_else(|| FetchError::failed("no pair in the result"))?;
            let pair: Pair = serde_json::from_value(first.1).map_err(wrong)?;
            let last = pair.c.first().ok_or_else(|| FetchError::failed("no last trade (c)"))?;
            Ok(each(request, |_| string(last)))
        }
        SourceName::Bitstamp => {
            #[derive(Deserialize)]
            struct Ticker {
                last: Box<RawValue>,
            }
            let ticker: Ticker = serde_json::from_slice(body).map_err(wrong)?;
            Ok(each(request, |_| string(&ticker.last)))
        }
        SourceName::Coinbase => {
            #[derive(Deserialize)]
            struct Data {
                rates: HashMap<String, Box<RawValue>>,
            }
            #[derive(Deserialize)]
            struct Envelope {
                data: Data,
            }
            let envelope: Envelope = serde_json::from_slice(body).map_err(wrong)?;
            Ok(each(request, |c| match envelope.data.rates.get(c.code()) {
                Some(raw) => string(raw),
                None => Err(format!("no {} rate in the answer", c.code())),
            }))
        }
        SourceName::Bitbank => {
            #[derive(Deserialize)]
            struct Envelope {
                success: i64,
                data: Value,
            }
            #[derive(Deserialize)]
            struct Ticker {
                last: Box<RawValue>,
            }
            let envelope: Envelope = serde_json::from_slice(body).map_err(wrong)?;
            if envelope.success != 1 {
                let code = envelope.data.get("code").map(Value::to_string).unwrap_or_default();
                return Err(FetchError::failed(format!(
                    "success {}, error code {code}",
                    envelope.success
                )));
            }
            let ticker: Ticker = serde_json::from_value(envelope.data).map_err(wrong)?;
            Ok(each(request, |_| string(&ticker.last)))
        }
        SourceName::Coingecko => {
            let prices: HashMap<String, HashMap<String, Box<RawValue>>> =
                serde_json::from_slice(body).map_err(wrong)?;
            let coin = prices
                .get("bitcoin-cash")
                .ok_or_else(|| FetchError::failed("no bitcoin-cash in the answer ({} for an unknown id)"))?;
            Ok(each(request, |c| match coin.get(&c.code().to_ascii_lowercase()) {
                Some(raw) => number(raw),
                None => Err(format!("no {} price in the answer", c.code())),
            }))
        }
        SourceName::Fixed => Err(FetchError::failed("the fixed source is not fetched")),
    }
}

fn each(request: &Request, mut rate: impl FnMut(Currency) -> Result<Decimal, String>) -> Answer {
    request.currencies.iter().map(|c| (*c, rate(*c))).collect()
}

/// A JSON number token read exactly (`612000.0`, `6.1E+5`).
fn number(raw: &RawValue) -> Result<Decimal, String> {
    let text = raw.get();
    if text.starts_with('"') {
        return Err(format!("a string {text} where a number was expected"));
    }
    parse_rate(text).ok_or_else(|| format!("unusable number {text}"))
}

/// A JSON string holding a decimal (`"465.30000"`).
fn string(raw: &RawValue) -> Result<Decimal, String> {
    let text: String = serde_json::from_str(raw.get()).map_err(|_| format!("{} is not a string", raw.get()))?;
    parse_rate(&text).ok_or_else(|| format!("unusable rate {text:?}"))
}

/// What a source's error body says, in its own shape.
fn error_message(source: SourceName, v: &Value) -> Option<String> {
    let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    match source {
        SourceName::Upbit | SourceName::Bithumb => {
            let e = v.get("error")?;
            Some(format!("{}: {}", text(e.get("name")?), text(e.get("message")?)))
        }
        SourceName::Kraken => Some(
            v.get("error")?
                .as_array()?
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        SourceName::Coinbase => {
            let e = v.get("errors")?.get(0)?;
            Some(format!("{}: {}", text(e.get("id")?), text(e.get("message")?)))
        }
        SourceName::Bitbank => Some(format!("error code {}", v.get("data")?.get("code")?)),
        SourceName::Coingecko => v
            .get("status")
            .and_then(|s| s.get("error_message"))
            .or_else(|| v.get("error"))
            .map(text),
        SourceName::Bitstamp => v.get("reason").or_else(|| v.get("message")).map(text),
        SourceName::Fixed => None,
    }
}

/// The start of a body, printable, for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    let text: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if text.trim().is_empty() {
        "an empty body".into()
    } else {
        format!("{:?}", text.trim())
    }
}

#[cfg(test)]
mod tests;
