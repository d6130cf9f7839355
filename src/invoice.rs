//! Invoices: the id, the stored record, the draft a shop gives, and the API view. Pure, no I/O.
//!
//! The state machine (status as a function of payments, tip, clock and policy)
//! is in [`lifecycle`], so that it can be tested without a store or a wallet.

use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use rust_decimal::Decimal;

use crate::cashaddr::Address;
use crate::fiat::Currency;
use crate::money::Sats;

pub mod lifecycle;

/// The digits of base62, in the order of their value.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Every id starts with this, so that an id is recognisable in logs and URLs.
const ID_PREFIX: &str = "inv_";
/// Base62 digits needed for 128 bits (62^22 > 2^128); ids are zero-padded to it.
const ID_DIGITS: usize = 22;

/// An invoice id: `inv_` + 22 base62 digits of 128 random bits from the OS.
///
/// Unguessable, because it opens the public checkout page.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InvoiceId(String);

/// Why a text is not an invoice id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an invoice id is \"inv_\" followed by 22 letters and digits")]
pub struct InvalidInvoiceId;

impl InvoiceId {
    /// A new id from 16 bytes of the operating system's randomness.
    pub fn generate() -> InvoiceId {
        let mut bytes = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        InvoiceId::from_bytes(bytes)
    }

    /// The id of these 16 bytes (tests use fixed bytes; production uses [`InvoiceId::generate`]).
    pub fn from_bytes(bytes: [u8; 16]) -> InvoiceId {
        let mut value = u128::from_be_bytes(bytes);
        let mut digits = [b'0'; ID_DIGITS];
        for digit in digits.iter_mut().rev() {
            *digit = BASE62[(value % 62) as usize];
            value /= 62;
        }
        let mut text = String::with_capacity(ID_PREFIX.len() + ID_DIGITS);
        text.push_str(ID_PREFIX);
        text.extend(digits.iter().map(|&b| b as char));
        InvoiceId(text)
    }

    /// Checks the format: the prefix, exactly 22 base62 digits, at most 128 bits.
    pub fn parse(text: &str) -> Result<InvoiceId, InvalidInvoiceId> {
        let digits = text.strip_prefix(ID_PREFIX).ok_or(InvalidInvoiceId)?;
        if digits.len() != ID_DIGITS {
            return Err(InvalidInvoiceId);
        }
        let mut value: u128 = 0;
        for b in digits.bytes() {
            let d = BASE62.iter().position(|&c| c == b).ok_or(InvalidInvoiceId)?;
            value = value
                .checked_mul(62)
                .and_then(|v| v.checked_add(d as u128))
                .ok_or(InvalidInvoiceId)?;
        }
        Ok(InvoiceId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InvoiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for InvoiceId {
    type Error = InvalidInvoiceId;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        InvoiceId::parse(&value)
    }
}

impl From<InvoiceId> for String {
    fn from(value: InvoiceId) -> Self {
        value.0
    }
}

/// Where an invoice is in its lifecycle (design.md, "Invoice lifecycle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Waiting for payment; may hold part of it.
    New,
    /// The full amount seen, fewer than the required confirmations.
    Paid,
    /// Final: settled.
    Confirmed,
    /// Not fully paid in time.
    Expired,
    /// A payment vanished before it confirmed, and the invoice had expired.
    Invalid,
}

impl InvoiceStatus {
    /// The API word for the status (`"new"`, `"paid"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::New => "new",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Confirmed => "confirmed",
            InvoiceStatus::Expired => "expired",
            InvoiceStatus::Invalid => "invalid",
        }
    }

    /// Reads an API word back (`status=` filters).
    pub fn parse(text: &str) -> Option<InvoiceStatus> {
        [
            InvoiceStatus::New,
            InvoiceStatus::Paid,
            InvoiceStatus::Confirmed,
            InvoiceStatus::Expired,
            InvoiceStatus::Invalid,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something out of the ordinary about how an invoice was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceException {
    /// Less than the amount arrived.
    PaidPartial,
    /// More than the amount arrived.
    PaidOver,
    /// The full amount arrived after expiry.
    PaidLate,
}

/// One output of a payment's transaction to the invoice's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOutput {
    /// Its index in the transaction (`n` of the daemon's `deserialize`).
    pub vout: u32,
    /// What it pays.
    pub amount_sats: Sats,
}

/// One transaction paying to an invoice's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The transaction id, hex, as the daemon gives it.
    pub txid: String,
    /// What this transaction pays to the invoice's address (the sum of `outputs`).
    pub amount_sats: Sats,
    /// The block height it was mined at; 0 or below while in the mempool.
    pub height: i64,
    /// The transaction's outputs to the address, by index. Empty only for a
    /// payment stored before schema 4 whose transaction was not read since
    /// (the confirmer fills it in when it looks at the address again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<PaymentOutput>,
    /// When bchpay first saw the transaction (for payments stored before
    /// schema 4: the invoice's `paid_at`, else its `created_at`).
    pub seen_at: DateTime<Utc>,
    /// Whether it has had the invoice's required confirmations (its
    /// `PaymentSettled` was emitted; it stays settled).
    #[serde(default, skip_serializing_if = "is_false")]
    pub settled: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Payment {
    /// A payment made of `outputs` of `txid` (its amount is their sum), first seen at `seen_at`.
    pub fn from_outputs(txid: String, height: i64, outputs: Vec<PaymentOutput>, seen_at: DateTime<Utc>) -> Payment {
        let amount_sats = Sats(outputs.iter().fold(0u64, |sum, o| sum.saturating_add(o.amount_sats.0)));
        Payment {
            txid,
            amount_sats,
            height,
            outputs,
            seen_at,
            settled: false,
        }
    }

    /// Greenfield's view of the payment: one `(id, value)` per output, the id
    /// `txid-vout`; a payment whose outputs are unknown (migrated, never read
    /// again) is one item with the bare `txid` as id and its whole amount
    /// (no output index is guessed).
    pub fn per_output(&self) -> Vec<(String, Sats)> {
        if self.outputs.is_empty() {
            return vec![(self.txid.clone(), self.amount_sats)];
        }
        self.outputs
            .iter()
            .map(|o| (format!("{}-{}", self.txid, o.vout), o.amount_sats))
            .collect()
    }

    /// Blocks on top of and including its own: `tip − height + 1` once mined, else 0.
    pub fn confirmations(&self, tip: Option<u64>) -> u64 {
        match (tip, u64::try_from(self.height)) {
            (Some(tip), Ok(height)) if height > 0 && tip >= height => tip - height + 1,
            _ => 0,
        }
    }
}

/// A fiat price and the rate locked for it at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiatPrice {
    /// The shop's currency.
    pub currency: Currency,
    /// The price in it, as the shop gave it.
    pub price: Decimal,
    /// Fiat per 1 BCH, from which `amount_sats` was worked out.
    pub rate: Decimal,
    /// The names of the quotes the rate came from.
    pub rate_sources: Vec<String>,
    /// When the newest of them was fetched.
    pub rate_at: DateTime<Utc>,
}

/// The currency of an invoice priced in BCH.
const BCH: &str = "BCH";

fn bch() -> String {
    BCH.to_owned()
}

fn is_bch(currency: &str) -> bool {
    currency == BCH
}

/// What a shop asks for, with the configuration's defaults already filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInvoice {
    /// The amount to pay (for a fiat price: worked out from it at the locked rate).
    pub amount_sats: Sats,
    /// The fiat price, if the shop priced in fiat (`None`: in BCH).
    pub fiat: Option<FiatPrice>,
    /// The shop's order, the key of idempotent creation.
    pub order_id: Option<String>,
    /// Shown on the checkout page.
    pub description: Option<String>,
    /// A JSON object echoed back in the invoice and every event.
    pub metadata: Value,
    /// Where this invoice's events go (`None`: nowhere).
    pub webhook_url: Option<String>,
    /// The checkout page's way back to the shop.
    pub redirect_url: Option<String>,
    /// How long the customer has to pay, from creation.
    pub expires_in_secs: u64,
    /// Confirmations after which a paid invoice is confirmed (0: on first sight).
    pub required_confirmations: u32,
}

/// An invoice as stored (as JSON, in the `invoices` tree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    /// The unguessable id.
    pub id: InvoiceId,
    /// Where it is in its lifecycle.
    pub status: InvoiceStatus,
    /// Under, over or late payment, if any.
    pub exception: Option<InvoiceException>,
    /// The amount to pay.
    pub amount_sats: Sats,
    /// `"BCH"`, or the ISO 4217 code of a fiat price. Stored only for fiat:
    /// an invoice stored without it is a BCH one.
    #[serde(default = "bch", skip_serializing_if = "is_bch")]
    pub currency: String,
    /// The fiat price (`None` for BCH: the price is the amount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Decimal>,
    /// Fiat per 1 BCH, locked at creation (`None` for BCH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Decimal>,
    /// The quotes the rate came from (empty for BCH).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_sources: Vec<String>,
    /// When the newest of them was fetched (`None` for BCH).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_at: Option<DateTime<Utc>>,
    /// The address handed to this invoice alone, ever.
    pub address: Address,
    /// The shop's order.
    pub order_id: Option<String>,
    /// Shown on the checkout page.
    pub description: Option<String>,
    /// The shop's JSON object, echoed back.
    pub metadata: Value,
    /// Where this invoice's events go.
    pub webhook_url: Option<String>,
    /// The checkout page's way back to the shop.
    pub redirect_url: Option<String>,
    /// Confirmations after which a paid invoice is confirmed.
    pub required_confirmations: u32,
    /// The transactions seen paying to the address.
    pub payments: Vec<Payment>,
    /// When it was created (millisecond precision, as in the `by_time` index).
    pub created_at: DateTime<Utc>,
    /// When an unpaid invoice expires.
    pub expires_at: DateTime<Utc>,
    /// When the full amount was first seen.
    pub paid_at: Option<DateTime<Utc>>,
    /// When it reached the required confirmations (or was marked settled).
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Whether its status was set by hand (Greenfield's `additionalStatus:
    /// "Marked"`, `POST …/invoices/{id}/status`): the lifecycle then keeps
    /// its payments up to date but never changes its status again by itself.
    #[serde(default, skip_serializing_if = "is_false")]
    pub marked: bool,
}

impl Invoice {
    /// A new invoice for `draft` at `address`, created at `now`.
    pub fn create(id: InvoiceId, draft: NewInvoice, address: Address, now: DateTime<Utc>) -> Invoice {
        let created_at = now.trunc_subsecs(3);
        let expires_at = i64::try_from(draft.expires_in_secs)
            .ok()
            .and_then(Duration::try_seconds)
            .and_then(|d| created_at.checked_add_signed(d))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let fiat = draft.fiat;
        Invoice {
            id,
            status: InvoiceStatus::New,
            exception: None,
            amount_sats: draft.amount_sats,
            currency: fiat.as_ref().map_or_else(bch, |f| f.currency.code().to_owned()),
            price: fiat.as_ref().map(|f| f.price),
            rate: fiat.as_ref().map(|f| f.rate),
            rate_sources: fiat.as_ref().map(|f| f.rate_sources.clone()).unwrap_or_default(),
            rate_at: fiat.as_ref().map(|f| f.rate_at),
            address,
            order_id: draft.order_id,
            description: draft.description,
            metadata: draft.metadata,
            webhook_url: draft.webhook_url,
            redirect_url: draft.redirect_url,
            required_confirmations: draft.required_confirmations,
            payments: Vec::new(),
            created_at,
            expires_at,
            paid_at: None,
            confirmed_at: None,
            marked: false,
        }
    }

    /// Whether `draft` asks for what this invoice already is (the order-id
    /// rule): the same BCH amount, or the same fiat price and currency
    /// whatever the rate is now.
    pub fn same_terms(&self, draft: &NewInvoice) -> bool {
        match &draft.fiat {
            None => is_bch(&self.currency) && self.amount_sats == draft.amount_sats,
            Some(f) => self.currency == f.currency.code() && self.price == Some(f.price),
        }
    }

    /// The price as the API shows it: the fiat price, or the BCH amount.
    pub fn price_text(&self) -> String {
        match self.price {
            Some(price) => price.to_string(),
            None => self.amount_sats.to_bch_string(),
        }
    }

    /// The sum of all payments seen (saturating; it cannot exceed the coin supply in practice).
    pub fn received_sats(&self) -> Sats {
        Sats(
            self.payments
                .iter()
                .fold(0u64, |sum, p| sum.saturating_add(p.amount_sats.0)),
        )
    }

    /// Confirmations of the least-confirmed payment; 0 with no payment or no known tip.
    pub fn confirmations(&self, tip: Option<u64>) -> u64 {
        self.payments.iter().map(|p| p.confirmations(tip)).min().unwrap_or(0)
    }

    /// The `bitcoincash:…?amount=…` URI a wallet opens.
    pub fn payment_uri(&self) -> String {
        format!("{}?amount={}", self.address, self.amount_sats.to_bch_string())
    }

    /// The public checkout page under `public_url`.
    pub fn checkout_url(&self, public_url: &str) -> String {
        format!("{}/i/{}", public_url.trim_end_matches('/'), self.id)
    }

    /// The invoice JSON of api.md, with confirmations counted from `tip`.
    pub fn to_api(&self, public_url: &str, tip: Option<u64>) -> Value {
        let received = self.received_sats();
        let payments: Vec<Value> = self
            .payments
            .iter()
            .map(|p| {
                json!({
                    "txid": p.txid,
                    "amount_sats": p.amount_sats.0,
                    "height": p.height,
                    "confirmations": p.confirmations(tip),
                })
            })
            .collect();
        json!({
            "id": self.id.as_str(),
            "status": self.status,
            "exception": self.exception,
            "amount": self.amount_sats.to_bch_string(),
            "amount_sats": self.amount_sats.0,
            "price": self.price_text(),
            "currency": self.currency,
            "rate": self.rate.map(|r| r.to_string()),
            "rate_sources": self.rate_sources,
            "rate_at": self.rate_at.map(api_time),
            "received": received.to_bch_string(),
            "received_sats": received.0,
            "address": self.address.as_str(),
            "payment_uri": self.payment_uri(),
            "checkout_url": self.checkout_url(public_url),
            "order_id": self.order_id,
            "description": self.description,
            "metadata": self.metadata,
            "required_confirmations": self.required_confirmations,
            "confirmations": self.confirmations(tip),
            "payments": payments,
            "created_at": api_time(self.created_at),
            "expires_at": api_time(self.expires_at),
            "paid_at": self.paid_at.map(api_time),
            "confirmed_at": self.confirmed_at.map(api_time),
        })
    }
}

/// RFC 3339 in UTC with a `Z`, to the second: `2026-11-25T15:25:38Z`.
pub fn api_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests;
