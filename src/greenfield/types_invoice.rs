//! Invoice bodies: `InvoiceData`, its checkout options, the create request,
//! and the payment-methods answer (swagger `invoices.json`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{is_bch_chain, AdditionalStatus, FieldError, InvoiceStatus, PaymentStatus, SpeedPolicy};

/// `GET`/`POST …/invoices[/{id}]`, `POST …/status` (swagger `InvoiceData`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceData {
    /// The invoice id.
    pub id: String,
    /// `greenfield.store_id`.
    pub store_id: String,
    /// The price in `currency`, a decimal string at the currency's minor units.
    pub amount: String,
    /// What was received, in `currency` at the locked rate, a decimal string.
    pub paid_amount: String,
    /// ISO 4217 code, or `BCH`.
    pub currency: String,
    /// Always `Standard` (no top-up invoices).
    #[serde(rename = "type")]
    pub kind: String,
    /// `{public_url}/i/{id}`.
    pub checkout_link: String,
    /// Unix seconds.
    pub created_time: i64,
    /// Unix seconds.
    pub expiration_time: i64,
    /// Unix seconds: expiry plus the monitoring window.
    pub monitoring_expiration: i64,
    /// Greenfield status.
    pub status: InvoiceStatus,
    /// Greenfield additional status, never null.
    pub additional_status: AdditionalStatus,
    /// What `POST …/status` would accept now.
    pub available_statuses_for_manual_marking: Vec<InvoiceStatus>,
    /// Always `false`.
    pub archived: bool,
    /// The shop's metadata, verbatim (`{}` if none).
    pub metadata: Value,
    /// The checkout options in effect.
    pub checkout: CheckoutOptions,
    /// No receipt page: `enabled: false`.
    pub receipt: ReceiptOptions,
}

/// `InvoiceData.checkout` as answered: every key present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutOptions {
    /// The invoice's confirmations, named.
    pub speed_policy: Option<SpeedPolicy>,
    /// `["BCH-CHAIN"]`.
    pub payment_methods: Vec<String>,
    /// `BCH-CHAIN`.
    pub default_payment_method: Option<String>,
    /// Always `false`.
    pub lazy_payment_methods: Option<bool>,
    /// Whole minutes from creation to expiry.
    pub expiration_minutes: Option<u64>,
    /// Whole minutes of the monitoring window after expiry.
    pub monitoring_minutes: Option<u64>,
    /// Percent; an integer in bchpay.
    pub payment_tolerance: Option<u32>,
    /// Where the checkout page sends the customer back.
    #[serde(rename = "redirectURL")]
    pub redirect_url: Option<String>,
    /// Always `false`.
    pub redirect_automatically: Option<bool>,
    /// Always `null`.
    pub default_language: Option<String>,
}

/// `InvoiceData.receipt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptOptions {
    /// No public receipt page: `false`.
    pub enabled: Option<bool>,
    /// `null`.
    #[serde(rename = "showQR")]
    pub show_qr: Option<bool>,
    /// `null`.
    pub show_payments: Option<bool>,
}

/// `POST stores/{id}/invoices` (swagger `CreateInvoiceRequest`). Lenient on
/// unknown keys as BTCPay is; numbers are kept as JSON values until
/// [`CreateInvoiceRequest::amount_text`] and friends read them exactly.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInvoiceRequest {
    /// A decimal string (the PHP client) or a JSON integer; absent → 422.
    #[serde(default)]
    pub amount: Option<Value>,
    /// ISO 4217 code or `BCH`; absent or empty → the store's default.
    #[serde(default)]
    pub currency: Option<String>,
    /// Any JSON object; `orderId` is the order.
    #[serde(default)]
    pub metadata: Option<Value>,
    /// Checkout options; every key may be null.
    #[serde(default)]
    pub checkout: Option<CheckoutRequest>,
    /// Ignored.
    #[serde(default)]
    pub additional_search_terms: Option<Vec<String>>,
}

/// `CreateInvoiceRequest.checkout` as sent (the plugin sends every key).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutRequest {
    /// A policy name, or null for the default.
    #[serde(default)]
    pub speed_policy: Option<SpeedPolicy>,
    /// Payment method ids (`BCH_CHAIN` from the plugin).
    #[serde(default)]
    pub payment_methods: Option<Vec<String>>,
    /// A payment method id.
    #[serde(default)]
    pub default_payment_method: Option<String>,
    /// A JSON number of minutes.
    #[serde(default)]
    pub expiration_minutes: Option<Value>,
    /// A JSON number of minutes.
    #[serde(default)]
    pub monitoring_minutes: Option<Value>,
    /// A JSON number, percent.
    #[serde(default)]
    pub payment_tolerance: Option<Value>,
    /// Where to send the customer back.
    #[serde(default, rename = "redirectURL")]
    pub redirect_url: Option<String>,
    /// Ignored.
    #[serde(default)]
    pub redirect_automatically: Option<bool>,
    /// Ignored.
    #[serde(default)]
    pub default_language: Option<String>,
    /// Ignored.
    #[serde(default)]
    pub lazy_payment_methods: Option<bool>,
}

/// A whole number from a JSON value: a non-negative integer, or `null`.
/// Fractions are refused, never rounded (no float reaches a value).
fn whole(value: &Option<Value>, path: &str, what: &str) -> Result<Option<u64>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| FieldError::new(path, what)),
        Some(_) => Err(FieldError::new(path, what)),
    }
}

impl CreateInvoiceRequest {
    /// The amount as decimal text: a JSON string as sent, or a JSON integer's
    /// digits. A JSON fraction (`12.34` unquoted) is refused: it would have
    /// passed through a float.
    pub fn amount_text(&self) -> Result<String, FieldError> {
        const MSG: &str = "amount must be a decimal string such as \"12.34\"";
        match &self.amount {
            Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
            None | Some(Value::Null) => Err(FieldError::new("amount", "amount is required")),
            Some(_) => Err(FieldError::new("amount", MSG)),
        }
    }

    /// Every problem with the checkout options, as 422 items; empty if none.
    pub fn checkout_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let Some(checkout) = &self.checkout else {
            return errors;
        };
        for (i, id) in checkout.payment_methods.iter().flatten().enumerate() {
            if !is_bch_chain(id) {
                errors.push(FieldError::new(
                    &format!("checkout.paymentMethods[{i}]"),
                    "Invalid PaymentMethodId",
                ));
            }
        }
        if let Some(id) = &checkout.default_payment_method {
            if !is_bch_chain(id) {
                errors.push(FieldError::new(
                    "checkout.defaultPaymentMethod",
                    "Invalid PaymentMethodId",
                ));
            }
        }
        if let Err(e) = self.expiration_minutes() {
            errors.push(e);
        }
        if let Err(e) = self.monitoring_minutes() {
            errors.push(e);
        }
        if let Err(e) = self.tolerance_percent() {
            errors.push(e);
        }
        errors
    }

    /// `checkout.expirationMinutes`: whole minutes, at least 1.
    pub fn expiration_minutes(&self) -> Result<Option<u64>, FieldError> {
        const PATH: &str = "checkout.expirationMinutes";
        const MSG: &str = "expirationMinutes must be a whole number of minutes, at least 1";
        let value = self.checkout.as_ref().and_then(|c| c.expiration_minutes.clone());
        match whole(&value, PATH, MSG)? {
            Some(0) => Err(FieldError::new(PATH, MSG)),
            other => Ok(other),
        }
    }

    /// `checkout.monitoringMinutes`: whole minutes.
    pub fn monitoring_minutes(&self) -> Result<Option<u64>, FieldError> {
        let value = self.checkout.as_ref().and_then(|c| c.monitoring_minutes.clone());
        whole(
            &value,
            "checkout.monitoringMinutes",
            "monitoringMinutes must be a whole number of minutes",
        )
    }

    /// `checkout.paymentTolerance`: a whole percentage, 0 to 100.
    pub fn tolerance_percent(&self) -> Result<Option<u32>, FieldError> {
        const PATH: &str = "checkout.paymentTolerance";
        const MSG: &str = "PaymentTolerance can only be a whole number between 0 and 100 percent";
        let value = self.checkout.as_ref().and_then(|c| c.payment_tolerance.clone());
        match whole(&value, PATH, MSG)? {
            Some(p) if p <= 100 => Ok(Some(p as u32)),
            Some(_) => Err(FieldError::new(PATH, MSG)),
            None => Ok(None),
        }
    }

    /// `metadata.orderId` when it is a string (the plugin sends one).
    pub fn order_id(&self) -> Option<&str> {
        self.metadata.as_ref()?.get("orderId")?.as_str()
    }
}

/// One item of `GET …/invoices/{id}/payment-methods` (swagger
/// `InvoicePaymentMethodDataModel`; every field read by the PHP client is a
/// string there, `getRate(): string` included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoicePaymentMethod {
    /// `BCH-CHAIN`.
    pub payment_method_id: String,
    /// `BCH`.
    pub currency: String,
    /// The invoice's address.
    pub destination: String,
    /// The payment URI.
    pub payment_link: Option<String>,
    /// Invoice currency per 1 BCH; `"1"` for BCH invoices.
    pub rate: String,
    /// Received, BCH.
    pub payment_method_paid: String,
    /// Received by all methods, BCH (the same here).
    pub total_paid: String,
    /// Amount minus received, BCH; negative when overpaid.
    pub due: String,
    /// The invoice amount, BCH.
    pub amount: String,
    /// `"0.00000000"`: no fee is added.
    pub payment_method_fee: String,
    /// One per output paying the address.
    pub payments: Vec<GreenfieldPayment>,
    /// Always `true`.
    pub activated: bool,
    /// `{}`.
    pub additional_data: Value,
}

/// One payment (swagger `Payment`), also the `payment` of payment events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GreenfieldPayment {
    /// `txid-vout`.
    pub id: String,
    /// Unix seconds when first seen.
    pub received_date: i64,
    /// BCH, eight decimals.
    pub value: String,
    /// `"0.00000000"`.
    pub fee: String,
    /// Processing or Settled.
    pub status: PaymentStatus,
    /// The address paid.
    pub destination: String,
}
