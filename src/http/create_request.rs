//! The create-invoice request: every field of api.md checked, with a stable
//! code and the field named, into a [`NewInvoice`] with the defaults filled in;
//! a fiat price is then converted at a rate by [`Parsed::price_with`].
//! Pure: no I/O.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::config::Settings;
use crate::fiat::{self, Currency, PriceError};
use crate::invoice::{FiatPrice, NewInvoice};
use crate::money::{parse_api_bch, Sats, MAX_SATS};
use crate::rates::{NoRate, Rate};

/// The largest request body.
pub const MAX_BODY: usize = 64 * 1024;
/// The largest `metadata`, serialized.
const MAX_METADATA: usize = 16 * 1024;
/// The fields a create request may have.
const FIELDS: [&str; 11] = [
    "amount",
    "amount_sats",
    "price",
    "currency",
    "order_id",
    "description",
    "webhook_url",
    "redirect_url",
    "expires_in_secs",
    "required_confirmations",
    "metadata",
];

/// A checked create request.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The invoice asked for; for a fiat price its `amount_sats` is 0 until
    /// [`Parsed::price_with`] works it out.
    pub draft: NewInvoice,
    /// The fiat price to convert, if the shop gave one.
    pub fiat: Option<(Currency, Decimal)>,
}

impl Parsed {
    /// The draft, its fiat price converted at `rate` (`ceil(price × 1e8 / rate)`);
    /// no rate is `503 rate_unavailable`.
    pub fn price_with(
        self,
        rate: impl FnOnce(Currency) -> Result<Rate, NoRate>,
        retry_after: u64,
    ) -> Result<NewInvoice, ApiError> {
        let Parsed { mut draft, fiat } = self;
        let Some((currency, price)) = fiat else {
            return Ok(draft);
        };
        let rate = rate(currency).map_err(|why| ApiError {
            status: 503,
            field: Some("currency".into()),
            retry_after: Some(retry_after),
            ..ApiError::new(
                503,
                "rate_unavailable",
                format!("no {currency} rate can be had now ({why}); nothing was created"),
            )
        })?;
        draft.amount_sats =
            fiat::sats_for(price, rate.rate).map_err(|e| ApiError::field("invalid_price", "price", e.to_string()))?;
        draft.fiat = Some(FiatPrice {
            currency,
            price,
            rate: rate.rate,
            rate_sources: rate.sources,
            rate_at: rate.at,
        });
        Ok(draft)
    }
}

/// Reads a create request body.
pub fn parse(body: &[u8], settings: &Settings) -> Result<Parsed, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(400, "invalid_json", format!("request body is not valid JSON: {e}")))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::new(400, "invalid_json", "request body must be a JSON object"));
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(ApiError::field(
            "unknown_field",
            unknown,
            format!("unknown field {unknown:?}"),
        ));
    }
    let (amount_sats, fiat) = amount(&fields, settings)?;
    let order_id = optional_string(&fields, "order_id", "invalid_order_id", 128)?;
    if order_id.as_deref() == Some("") {
        return Err(ApiError::field(
            "invalid_order_id",
            "order_id",
            "order_id must not be empty",
        ));
    }
    let description = optional_string(&fields, "description", "invalid_description", 1000)?;
    let webhook_url = optional_url(&fields, "webhook_url")?;
    let redirect_url = optional_url(&fields, "redirect_url")?;
    let expires_in_secs = optional_integer(&fields, "expires_in_secs", "invalid_expiry", 60, 604_800)?
        .unwrap_or(settings.payments.expiry_secs);
    let required_confirmations = optional_integer(&fields, "required_confirmations", "invalid_confirmations", 0, 100)?
        .map_or(settings.payments.required_confirmations, |n| n as u32);
    let metadata = match fields.get("metadata") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(m @ Value::Object(_)) => {
            if m.to_string().len() > MAX_METADATA {
                return Err(ApiError::field(
                    "invalid_metadata",
                    "metadata",
                    "metadata must be at most 16 KiB",
                ));
            }
            m.clone()
        }
        Some(_) => {
            return Err(ApiError::field(
                "invalid_metadata",
                "metadata",
                "metadata must be a JSON object",
            ))
        }
    };
    let draft = NewInvoice {
        amount_sats,
        fiat: None,
        order_id,
        description,
        metadata,
        webhook_url,
        redirect_url,
        expires_in_secs,
        required_confirmations,
    };
    Ok(Parsed { draft, fiat })
}

fn present<'a>(fields: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    fields.get(name).filter(|v| !v.is_null())
}

/// The amount: in BCH, or a fiat price still to convert (amount 0 until then).
fn amount(fields: &Map<String, Value>, settings: &Settings) -> Result<(Sats, Option<(Currency, Decimal)>), ApiError> {
    let price = present(fields, "price");
    let currency = present(fields, "currency");
    let given = [present(fields, "amount"), present(fields, "amount_sats"), price]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given > 1 {
        return Err(ApiError::new(
            400,
            "ambiguous_amount",
            "give exactly one of amount, amount_sats and price",
        ));
    }
    if currency.is_some() && price.is_none() {
        return Err(ApiError::field(
            "invalid_currency",
            "currency",
            "currency goes with price; give price, or amount without currency",
        ));
    }
    let Some(price) = price else {
        return bch_amount(fields).map(|sats| (sats, None));
    };
    let code = match currency {
        Some(Value::String(code)) => code.as_str(),
        Some(_) => {
            return Err(ApiError::field(
                "invalid_currency",
                "currency",
                "currency must be a string such as \"KRW\"",
            ))
        }
        None => {
            return Err(ApiError::field(
                "invalid_currency",
                "currency",
                "price needs its currency, an ISO 4217 code such as \"KRW\" or \"USD\"",
            ))
        }
    };
    let Value::String(text) = price else {
        return Err(ApiError::field(
            "invalid_price",
            "price",
            "price must be a decimal string such as \"15000\" or \"12.34\"",
        ));
    };
    if fiat::is_bch(code) {
        // `currency: "BCH"` with `price` is the same as `amount`.
        let sats = parse_api_bch(text).map_err(|e| ApiError::field("invalid_price", "price", e.to_string()))?;
        return Ok((sats, None));
    }
    let currency = Currency::parse(code).map_err(|e| ApiError::field("invalid_currency", "currency", e.to_string()))?;
    if !settings.rates.currencies.iter().any(|c| c == code) {
        let accepted = if settings.rates.currencies.is_empty() {
            "none: this engine takes BCH only".to_owned()
        } else {
            settings.rates.currencies.join(", ")
        };
        return Err(ApiError::field(
            "unsupported_currency",
            "currency",
            format!("invoices cannot be priced in {code} here (rates.currencies: {accepted})"),
        ));
    }
    let price = fiat::parse_price(text, currency)
        .map_err(|e: PriceError| ApiError::field("invalid_price", "price", e.to_string()))?;
    Ok((Sats(0), Some((currency, price))))
}

fn bch_amount(fields: &Map<String, Value>) -> Result<Sats, ApiError> {
    match (present(fields, "amount"), present(fields, "amount_sats")) {
        (Some(_), Some(_)) => Err(ApiError::new(
            400,
            "ambiguous_amount",
            "give exactly one of amount, amount_sats and price",
        )),
        (None, None) => Err(ApiError::new(
            400,
            "missing_amount",
            "give exactly one of amount, amount_sats and price",
        )),
        (Some(Value::String(text)), None) => {
            parse_api_bch(text).map_err(|e| ApiError::field("invalid_amount", "amount", e.to_string()))
        }
        (Some(_), None) => Err(ApiError::field(
            "invalid_amount",
            "amount",
            "amount must be a string of BCH such as \"0.0007\"",
        )),
        (None, Some(v)) => match v.as_u64() {
            Some(sats) if (1..=MAX_SATS).contains(&sats) => Ok(Sats(sats)),
            Some(0) => Err(ApiError::field(
                "invalid_amount",
                "amount_sats",
                "amount_sats must be greater than zero",
            )),
            Some(_) => Err(ApiError::field(
                "invalid_amount",
                "amount_sats",
                "amount_sats must be at most 2100000000000000",
            )),
            None => Err(ApiError::field(
                "invalid_amount",
                "amount_sats",
                "amount_sats must be a positive integer",
            )),
        },
    }
}

fn optional_string(
    fields: &Map<String, Value>,
    name: &str,
    code: &'static str,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    match present(fields, name) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max_chars => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(ApiError::field(
            code,
            name,
            format!("{name} must be at most {max_chars} characters"),
        )),
        Some(_) => Err(ApiError::field(code, name, format!("{name} must be a string"))),
    }
}

fn optional_integer(
    fields: &Map<String, Value>,
    name: &str,
    code: &'static str,
    min: u64,
    max: u64,
) -> Result<Option<u64>, ApiError> {
    match present(fields, name) {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::field(
                code,
                name,
                format!("{name} must be an integer from {min} to {max}"),
            )),
        },
    }
}

fn optional_url(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, ApiError> {
    let Some(url) = optional_string(fields, name, "invalid_url", 2048)? else {
        return Ok(None);
    };
    if is_http_url(&url) {
        Ok(Some(url))
    } else {
        Err(ApiError::field(
            "invalid_url",
            name,
            format!("{name} must be an http:// or https:// URL"),
        ))
    }
}

/// Whether `url` is an absolute http(s) URL with a host.
pub fn is_http_url(url: &str) -> bool {
    let Ok(uri) = url.parse::<awc::http::Uri>() else {
        return false;
    };
    matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some_and(|h| !h.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create(body: Value) -> Result<NewInvoice, ApiError> {
        parse(body.to_string().as_bytes(), &Settings::default()).map(|p| p.draft)
    }

    fn parsed(body: Value) -> Result<Parsed, ApiError> {
        parse(body.to_string().as_bytes(), &Settings::default())
    }

    fn rate(text: &str) -> impl FnOnce(Currency) -> Result<Rate, NoRate> + '_ {
        move |_| {
            Ok(Rate {
                rate: text.parse().unwrap(),
                sources: vec!["upbit".into()],
                at: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            })
        }
    }

    #[test]
    fn a_fiat_price_is_converted_at_the_rate_rounding_up() {
        let draft = parsed(json!({"price": "15000", "currency": "KRW"}))
            .unwrap()
            .price_with(rate("612345.5"), 60)
            .unwrap();
        assert_eq!(draft.amount_sats, Sats(2_449_598));
        let fiat = draft.fiat.unwrap();
        assert_eq!(
            (fiat.currency.code(), fiat.price.to_string()),
            ("KRW", "15000".to_owned())
        );
        assert_eq!(fiat.rate_sources, ["upbit"]);
    }

    #[test]
    fn bch_as_a_currency_is_the_same_as_amount() {
        let draft = create(json!({"price": "0.0007", "currency": "BCH"})).unwrap();
        assert_eq!((draft.amount_sats, draft.fiat), (Sats(70_000), None));
    }

    #[test]
    fn no_rate_is_503_rate_unavailable_with_retry_after() {
        let e = parsed(json!({"price": "12.34", "currency": "USD"}))
            .unwrap()
            .price_with(|_| Err(NoRate { usable: 0, needed: 1 }), 30)
            .unwrap_err();
        assert_eq!(
            (e.status, e.code, e.field.as_deref(), e.retry_after),
            (503, "rate_unavailable", Some("currency"), Some(30))
        );
    }

    #[test]
    fn fiat_fields_have_their_codes() {
        let f = |s: &str| Some(s.to_owned());
        for (body, expected) in [
            (
                json!({"currency": "KRW", "amount": "1"}),
                ("invalid_currency", f("currency")),
            ),
            (json!({"price": "15000"}), ("invalid_currency", f("currency"))),
            (
                json!({"price": "15000", "currency": "krw"}),
                ("invalid_currency", f("currency")),
            ),
            (
                json!({"price": "15000", "currency": "XYZ"}),
                ("invalid_currency", f("currency")),
            ),
            (
                json!({"price": "15000", "currency": 410}),
                ("invalid_currency", f("currency")),
            ),
            (
                json!({"price": "15", "currency": "CHF"}),
                ("unsupported_currency", f("currency")),
            ),
            (
                json!({"price": "15000.5", "currency": "KRW"}),
                ("invalid_price", f("price")),
            ),
            (
                json!({"price": "1500.5", "currency": "JPY"}),
                ("invalid_price", f("price")),
            ),
            (
                json!({"price": "12.345", "currency": "USD"}),
                ("invalid_price", f("price")),
            ),
            (json!({"price": "0", "currency": "USD"}), ("invalid_price", f("price"))),
            (json!({"price": "-1", "currency": "USD"}), ("invalid_price", f("price"))),
            (
                json!({"price": 12.34, "currency": "USD"}),
                ("invalid_price", f("price")),
            ),
            (
                json!({"price": "1e3", "currency": "USD"}),
                ("invalid_price", f("price")),
            ),
            (
                json!({"price": "0.000000001", "currency": "BCH"}),
                ("invalid_price", f("price")),
            ),
            (
                json!({"price": "1", "currency": "USD", "amount": "1"}),
                ("ambiguous_amount", None),
            ),
            (
                json!({"price": "1", "currency": "USD", "amount_sats": 1}),
                ("ambiguous_amount", None),
            ),
        ] {
            let e = parsed(body.clone()).unwrap_err();
            assert_eq!((e.code, e.field), (expected.0, expected.1), "{body}");
        }
    }

    fn code(body: Value) -> (&'static str, Option<String>) {
        let e = create(body).unwrap_err();
        (e.code, e.field)
    }

    #[test]
    fn a_minimal_request_gets_the_configured_defaults() {
        let draft = create(json!({"amount": "0.0007"})).unwrap();
        assert_eq!(draft.amount_sats, Sats(70_000));
        assert_eq!(draft.expires_in_secs, 900);
        assert_eq!(draft.required_confirmations, 1);
        assert_eq!(draft.metadata, json!({}));
    }

    #[test]
    fn every_field_is_read() {
        let draft = create(json!({
            "amount_sats": 1234, "order_id": "A-1", "description": "d", "webhook_url": "https://shop.example/hook",
            "redirect_url": "http://shop.example/back", "expires_in_secs": 60, "required_confirmations": 0,
            "metadata": {"k": [1]}
        }))
        .unwrap();
        assert_eq!(draft.amount_sats, Sats(1234));
        assert_eq!(draft.order_id.as_deref(), Some("A-1"));
        assert_eq!(draft.required_confirmations, 0);
        assert_eq!(draft.expires_in_secs, 60);
        assert_eq!(draft.metadata, json!({"k": [1]}));
    }

    #[test]
    fn each_rule_has_its_code_and_field() {
        let f = |s: &str| Some(s.to_owned());
        for (body, expected) in [
            (json!([1]), ("invalid_json", None)),
            (json!({"amount": "1", "colour": 1}), ("unknown_field", f("colour"))),
            (json!({}), ("missing_amount", None)),
            (json!({"amount": "1", "amount_sats": 1}), ("ambiguous_amount", None)),
            (json!({"amount": 1}), ("invalid_amount", f("amount"))),
            (json!({"amount": "0"}), ("invalid_amount", f("amount"))),
            (json!({"amount": "-1"}), ("invalid_amount", f("amount"))),
            (json!({"amount": "1e-3"}), ("invalid_amount", f("amount"))),
            (json!({"amount": "0.000000001"}), ("invalid_amount", f("amount"))),
            (json!({"amount": " 1"}), ("invalid_amount", f("amount"))),
            (json!({"amount": "1."}), ("invalid_amount", f("amount"))),
            (json!({"amount": "21000000.00000001"}), ("invalid_amount", f("amount"))),
            (json!({"amount_sats": 0}), ("invalid_amount", f("amount_sats"))),
            (json!({"amount_sats": -5}), ("invalid_amount", f("amount_sats"))),
            (json!({"amount_sats": 1.5}), ("invalid_amount", f("amount_sats"))),
            (json!({"amount_sats": "5"}), ("invalid_amount", f("amount_sats"))),
            (
                json!({"amount_sats": 2_100_000_000_000_001u64}),
                ("invalid_amount", f("amount_sats")),
            ),
            (
                json!({"amount": "1", "order_id": "x".repeat(129)}),
                ("invalid_order_id", f("order_id")),
            ),
            (
                json!({"amount": "1", "order_id": 5}),
                ("invalid_order_id", f("order_id")),
            ),
            (
                json!({"amount": "1", "order_id": ""}),
                ("invalid_order_id", f("order_id")),
            ),
            (
                json!({"amount": "1", "description": "x".repeat(1001)}),
                ("invalid_description", f("description")),
            ),
            (
                json!({"amount": "1", "webhook_url": "ftp://x/y"}),
                ("invalid_url", f("webhook_url")),
            ),
            (
                json!({"amount": "1", "redirect_url": "javascript:alert(1)"}),
                ("invalid_url", f("redirect_url")),
            ),
            (
                json!({"amount": "1", "redirect_url": "/relative"}),
                ("invalid_url", f("redirect_url")),
            ),
            (
                json!({"amount": "1", "expires_in_secs": 59}),
                ("invalid_expiry", f("expires_in_secs")),
            ),
            (
                json!({"amount": "1", "expires_in_secs": 604_801}),
                ("invalid_expiry", f("expires_in_secs")),
            ),
            (
                json!({"amount": "1", "required_confirmations": 101}),
                ("invalid_confirmations", f("required_confirmations")),
            ),
            (
                json!({"amount": "1", "metadata": [1]}),
                ("invalid_metadata", f("metadata")),
            ),
            (
                json!({"amount": "1", "metadata": {"k": "x".repeat(16 * 1024)}}),
                ("invalid_metadata", f("metadata")),
            ),
        ] {
            let (c, field) = code(body.clone());
            assert_eq!((c, field), (expected.0, expected.1), "{body}");
        }
        assert_eq!(
            parse(b"{not json", &Settings::default())
                .map(|p| p.draft)
                .unwrap_err()
                .code,
            "invalid_json"
        );
    }

    #[test]
    fn description_length_counts_characters_not_bytes() {
        assert!(create(json!({"amount": "1", "description": "가".repeat(1000)})).is_ok());
    }
}
