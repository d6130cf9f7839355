//! `POST stores/{storeId}/invoices` read into bchpay's create
//! (`docs/greenfield.md` §4.5): every problem as a `422` item with its JSON
//! path, the rest a [`Parsed`] for bchpay's own fiat pricing (issue 12). Pure.

use rust_decimal::Decimal;
use serde_json::Value;

use super::types::{CreateInvoiceRequest, FieldError, SpeedPolicy};
use crate::config::Settings;
use crate::fiat::{self, Currency};
use crate::http::create_request::{is_http_url, Parsed};
use crate::invoice::NewInvoice;
use crate::money::{parse_api_bch, Sats};

/// The largest `metadata`, serialized (as bchpay's own create).
const MAX_METADATA: usize = 16 * 1024;
/// The longest order id (as bchpay's own create).
const MAX_ORDER_ID: usize = 128;
/// The longest `metadata.itemDesc` taken as the checkout page's description.
const MAX_DESCRIPTION: usize = 1000;
/// `checkout.expirationMinutes` bchpay takes: 1 minute to 7 days.
const MAX_EXPIRATION_MINUTES: u64 = 7 * 24 * 60;

/// Reads the body: a JSON object of `CreateInvoiceRequest`'s types; a field
/// of the wrong type is a `422` at its path.
pub fn read(body: &[u8]) -> Result<CreateInvoiceRequest, Vec<FieldError>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        vec![FieldError::new(&path, &e.inner().to_string())]
    })
}

/// `text` with the zeros past `minor` decimals dropped (`"15000.00"` at 0 →
/// `"15000"`): the plugin sends the shop's price decimals, which may exceed
/// the currency's; a non-zero digit past them stays, to be refused.
fn without_extra_zeros(text: &str, minor: u32) -> String {
    let Some((integer, fraction)) = text.split_once('.') else {
        return text.to_owned();
    };
    let keep = fraction.len().min(minor as usize);
    let (kept, extra) = fraction.split_at(keep);
    let extra = extra.trim_end_matches('0');
    match (kept, extra) {
        ("", "") => integer.to_owned(),
        (kept, extra) => format!("{integer}.{kept}{extra}"),
    }
}

/// The amount and currency: a BCH amount in satoshis, or a fiat price to convert.
fn amount(
    request: &CreateInvoiceRequest,
    settings: &Settings,
) -> Result<(Sats, Option<(Currency, Decimal)>), FieldError> {
    let code = match request.currency.as_deref().map(str::trim) {
        None | Some("") => settings.greenfield.default_currency.clone(),
        Some(code) => code.to_ascii_uppercase(),
    };
    let text = request.amount_text()?;
    if fiat::is_bch(&code) {
        let sats =
            parse_api_bch(&without_extra_zeros(&text, 8)).map_err(|e| FieldError::new("amount", &e.to_string()))?;
        return Ok((sats, None));
    }
    let currency = Currency::parse(&code).map_err(|e| FieldError::new("currency", &e.to_string()))?;
    if !settings.rates.currencies.contains(&code) {
        let accepted = if settings.rates.currencies.is_empty() {
            "BCH only".to_owned()
        } else {
            format!("BCH, {}", settings.rates.currencies.join(", "))
        };
        return Err(FieldError::new(
            "currency",
            &format!("Invoices cannot be priced in {code} here (accepted: {accepted})"),
        ));
    }
    let price = fiat::parse_price(&without_extra_zeros(&text, currency.minor_units()), currency)
        .map_err(|e| FieldError::new("amount", &e.to_string()))?;
    Ok((Sats(0), Some((currency, price))))
}

/// A checkout option bchpay applies store-wide: only `null` or the store's
/// own value is taken (bchpay keeps no per-invoice value for it).
fn store_wide(given: Result<Option<u64>, FieldError>, store: u64, path: &str, what: &str) -> Option<FieldError> {
    match given {
        Err(e) => Some(e),
        Ok(Some(v)) if v != store => Some(FieldError::new(
            path,
            &format!("bchpay applies the store's {what} ({store}) to every invoice; send null or {store}"),
        )),
        Ok(_) => None,
    }
}

/// The whole request checked: a draft (its fiat price still to convert) or every problem found.
pub fn parse(request: &CreateInvoiceRequest, settings: &Settings) -> Result<Parsed, Vec<FieldError>> {
    let mut errors = Vec::new();
    let amount = amount(request, settings).map_err(|e| errors.push(e)).ok();
    errors.extend(request.checkout_errors().into_iter().filter(|e| {
        // Checked against the store's values below.
        e.path != "checkout.monitoringMinutes" && e.path != "checkout.paymentTolerance"
    }));
    let policy = &settings.payments;
    errors.extend(store_wide(
        request.monitoring_minutes(),
        policy.monitoring_secs / 60,
        "checkout.monitoringMinutes",
        "monitoring window in minutes",
    ));
    errors.extend(store_wide(
        request.tolerance_percent().map(|t| t.map(u64::from)),
        u64::from(policy.payment_tolerance_percent),
        "checkout.paymentTolerance",
        "payment tolerance in percent",
    ));
    let expires_in_secs = match request.expiration_minutes() {
        Ok(Some(m)) if m > MAX_EXPIRATION_MINUTES => {
            errors.push(FieldError::new(
                "checkout.expirationMinutes",
                "expirationMinutes must be at most 10080 (7 days)",
            ));
            policy.expiry_secs
        }
        Ok(Some(m)) => m * 60,
        _ => policy.expiry_secs,
    };
    let checkout = request.checkout.clone().unwrap_or_default();
    let required_confirmations = checkout
        .speed_policy
        .map_or(policy.required_confirmations, SpeedPolicy::confirmations);
    let redirect_url = checkout.redirect_url.filter(|u| !u.trim().is_empty());
    if redirect_url.as_deref().is_some_and(|u| !is_http_url(u)) {
        errors.push(FieldError::new(
            "checkout.redirectURL",
            "redirectURL must be an http(s) URL",
        ));
    }
    let metadata = match &request.metadata {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(m @ Value::Object(_)) if m.to_string().len() <= MAX_METADATA => m.clone(),
        Some(Value::Object(_)) => {
            errors.push(FieldError::new("metadata", "metadata must be at most 16 KiB"));
            Value::Null
        }
        Some(_) => {
            errors.push(FieldError::new("metadata", "metadata must be a JSON object"));
            Value::Null
        }
    };
    let order_id = match metadata.get("orderId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_ORDER_ID => Some(s.clone()),
        Some(_) => {
            errors.push(FieldError::new(
                "metadata.orderId",
                "orderId must be a non-empty string of at most 128 characters",
            ));
            None
        }
    };
    let description = metadata
        .get("itemDesc")
        .and_then(Value::as_str)
        .map(|d| d.chars().take(MAX_DESCRIPTION).collect());
    match amount {
        Some((amount_sats, fiat)) if errors.is_empty() => Ok(Parsed {
            draft: NewInvoice {
                amount_sats,
                fiat: None,
                order_id,
                description,
                metadata,
                webhook_url: None,
                redirect_url,
                expires_in_secs,
                required_confirmations,
            },
            fiat,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
#[path = "create_tests.rs"]
mod tests;
