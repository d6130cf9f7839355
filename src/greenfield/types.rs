//! Greenfield request and response bodies, mirroring the swagger of BTCPay
//! v2.4.1 (`BTCPayServer/wwwroot/swagger/v1/`) and what the WooCommerce
//! plugin's PHP client reads (`docs/greenfield.md` §3-§5): decimals are JSON
//! strings, times integer unix seconds, flags booleans, every field present
//! (`null` where empty). Pure: no I/O, no mapping from bchpay's invoice yet.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::money::{Sats, COIN};

/// The only payment method bchpay has, as Greenfield names it.
pub const BCH_CHAIN: &str = "BCH-CHAIN";

/// Whether `id` names BCH on-chain: `BCH`, `BCH-CHAIN`, `BCH_CHAIN`,
/// `BCH_OnChain`, `BCH-OnChain`… (case-insensitive, `-` or `_`), as BTCPay's
/// `PaymentMethodId.TryParse` reads legacy ids.
pub fn is_bch_chain(id: &str) -> bool {
    let lower = id.trim().to_ascii_lowercase();
    let mut parts = lower.split(['-', '_']).filter(|p| !p.is_empty());
    match (parts.next(), parts.next(), parts.next()) {
        (Some("bch"), None, None) => true,
        (Some("bch"), Some(kind), None) => {
            matches!(kind, "chain" | "onchain" | "on-chain" | "btclike" | "bitcoinlike")
        }
        _ => false,
    }
}

/// Satoshis as a BCH decimal string with all eight decimals (`"0.04113333"`,
/// `"0.00000000"`, `"-0.00010000"`), the form of Greenfield's BCH amounts.
pub fn bch_fixed8(sats: i64) -> String {
    let sign = if sats < 0 { "-" } else { "" };
    let abs = sats.unsigned_abs();
    format!("{sign}{}.{:08}", abs / COIN, abs % COIN)
}

/// [`bch_fixed8`] of an unsigned amount.
pub fn sats_fixed8(sats: Sats) -> String {
    let abs = sats.0;
    format!("{}.{:08}", abs / COIN, abs % COIN)
}

/// How many confirmations settle a payment (swagger `SpeedPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpeedPolicy {
    /// 0 confirmations.
    HighSpeed,
    /// 1 confirmation.
    MediumSpeed,
    /// 2 confirmations.
    LowMediumSpeed,
    /// 6 confirmations.
    LowSpeed,
}

impl SpeedPolicy {
    /// The confirmations it stands for.
    pub fn confirmations(self) -> u32 {
        match self {
            SpeedPolicy::HighSpeed => 0,
            SpeedPolicy::MediumSpeed => 1,
            SpeedPolicy::LowMediumSpeed => 2,
            SpeedPolicy::LowSpeed => 6,
        }
    }

    /// The policy of exactly `confirmations`, if Greenfield has a name for it.
    pub fn from_confirmations(confirmations: u32) -> Option<SpeedPolicy> {
        match confirmations {
            0 => Some(SpeedPolicy::HighSpeed),
            1 => Some(SpeedPolicy::MediumSpeed),
            2 => Some(SpeedPolicy::LowMediumSpeed),
            6 => Some(SpeedPolicy::LowSpeed),
            _ => None,
        }
    }
}

/// An invoice's status in Greenfield's words (swagger `InvoiceStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceStatus {
    /// Waiting for payment.
    New,
    /// Paid in full, not yet settled.
    Processing,
    /// Not paid in time.
    Expired,
    /// Failed or marked invalid.
    Invalid,
    /// Settled.
    Settled,
}

/// Why an invoice is in its status (swagger `InvoiceAdditionalStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdditionalStatus {
    /// Nothing special.
    None,
    /// Paid in full after expiry.
    PaidLate,
    /// Less than the amount arrived.
    PaidPartial,
    /// Marked by hand.
    Marked,
    /// Marked invalid (BTCPay sets it for BitPay-API marks).
    Invalid,
    /// More than the amount arrived.
    PaidOver,
}

/// The statuses an invoice can be marked with (swagger `InvoiceStatusMark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusMark {
    /// Mark it invalid.
    Invalid,
    /// Mark it settled.
    Settled,
}

/// `POST …/invoices/{id}/status` (swagger `MarkInvoiceStatusRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkStatusRequest {
    /// The status to mark.
    pub status: StatusMark,
}

/// A payment's state (swagger `PaymentStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentStatus {
    /// Not counted (BTCPay: replaced or double-spent).
    Invalid,
    /// Seen, fewer confirmations than the invoice asks.
    Processing,
    /// Enough confirmations.
    Settled,
}

/// A Greenfield error (`ProblemDetails`): 400, 401, 404, 409, 503.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code, e.g. `invoice-not-found`, `unauthenticated`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
}

/// The 403 of a key without the route's permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionError {
    /// Always `missing-permission`.
    pub code: String,
    /// Human-readable message naming the permission.
    pub message: String,
    /// The permission the route needs (no store suffix).
    pub missing_permission: String,
}

impl PermissionError {
    /// BTCPay's wording (`GreenfieldPermissionAPIError`).
    pub fn new(permission: &str) -> PermissionError {
        PermissionError {
            code: "missing-permission".to_owned(),
            message: format!("Insufficient API Permissions. Please use an API key with permission \"{permission}\"."),
            missing_permission: permission.to_owned(),
        }
    }
}

/// One item of a 422 answer (`ValidationProblemDetails` is an array of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `amount`, `checkout.paymentMethods[0]`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    /// An error at `path`.
    pub fn new(path: &str, message: &str) -> FieldError {
        FieldError {
            path: path.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// `GET stores`, `GET stores/{id}` (swagger `StoreData`; only the fields
/// bchpay can fill honestly).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreData {
    /// `greenfield.store_id`.
    pub id: String,
    /// `greenfield.store_name`.
    pub name: String,
    /// `greenfield.default_currency`.
    pub default_currency: String,
    /// The default confirmations, named (`None` only for counts without a name).
    pub speed_policy: Option<SpeedPolicy>,
    /// Default time to pay, seconds.
    pub invoice_expiration: u64,
    /// How long after expiry payments are still watched, seconds.
    pub monitoring_expiration: u64,
    /// Default payment tolerance, percent.
    pub payment_tolerance: u32,
    /// Always `false`.
    pub archived: bool,
}

/// `GET server/info` (swagger `ApplicationServerInfoData`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// The Greenfield level followed (`"2.4.1"`); the plugin compares ≥ 1.7.6.
    pub version: String,
    /// No Tor address: `""`.
    pub onion: String,
    /// `["BCH-CHAIN"]`.
    pub supported_payment_methods: Vec<String>,
    /// Whether the wallet link is up.
    pub fully_synched: bool,
    /// One entry once a tip is known.
    pub sync_status: Vec<SyncStatus>,
}

/// One `syncStatus` entry (swagger `ApplicationServerInfoSyncStatusData`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `BCH-CHAIN`.
    pub payment_method_id: String,
    /// No full node of bchpay's own: `null`.
    pub node_information: Option<Value>,
    /// The last tip read from the wallet.
    pub chain_height: u64,
    /// The same tip (the wallet's server indexes it).
    pub sync_height: Option<u64>,
    /// Whether the wallet link is up.
    pub available: bool,
}

/// `GET api-keys/current` (swagger `ApiKeyData`). `Debug` hides the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyData {
    /// The key the caller presented (bchpay keeps only its hash).
    pub api_key: String,
    /// The key's label, `""` if none.
    pub label: String,
    /// `NAME:STOREID` for each permission; `unrestricted` alone for such keys.
    pub permissions: Vec<String>,
}

impl fmt::Debug for ApiKeyData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyData")
            .field("api_key", &"<hidden>")
            .field("label", &self.label)
            .field("permissions", &self.permissions)
            .finish()
    }
}

/// One item of `GET stores/{id}/payment-methods` (swagger
/// `GenericPaymentMethodData`, without `config`). No `paymentMethod` key: the
/// PHP client would read it instead of `paymentMethodId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorePaymentMethod {
    /// Always `true`.
    pub enabled: bool,
    /// `BCH-CHAIN`.
    pub payment_method_id: String,
}

#[path = "types_invoice.rs"]
mod invoice;
#[path = "types_webhook.rs"]
mod webhook;

pub use invoice::*;
pub use webhook::*;

#[cfg(test)]
#[path = "types_tests.rs"]
mod tests;
