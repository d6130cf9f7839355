//! Greenfield webhook event bodies, built from plain inputs, and their
//! `BTCPay-Sig` signature (`docs/greenfield.md` §6; BTCPay v2.4.1
//! `BTCPayServer.Client/Models/WebhookEvent.cs`, `WebhookInvoiceEvent.cs`,
//! `Plugins/Webhooks/WebhookSender.cs`). Every field of a type is always
//! present: the WooCommerce plugin reads `afterExpiration`, `manuallyMarked`
//! and `partiallyPaid` without checking they exist. Pure: no I/O.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use super::types::{GreenfieldPayment, BCH_CHAIN};

/// The invoice event types bchpay sends (swagger `WebhookEvent.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// An invoice was made.
    InvoiceCreated,
    /// A payment was seen.
    InvoiceReceivedPayment,
    /// A payment reached the required confirmations.
    InvoicePaymentSettled,
    /// Paid in full, waiting for confirmations.
    InvoiceProcessing,
    /// Settled (by confirmations or by hand).
    InvoiceSettled,
    /// Not paid in time.
    InvoiceExpired,
    /// Invalid (payment gone after expiry, or marked by hand).
    InvoiceInvalid,
}

impl EventType {
    /// Every type, in the order of the swagger's list.
    pub const ALL: [EventType; 7] = [
        EventType::InvoiceCreated,
        EventType::InvoiceReceivedPayment,
        EventType::InvoicePaymentSettled,
        EventType::InvoiceProcessing,
        EventType::InvoiceSettled,
        EventType::InvoiceExpired,
        EventType::InvoiceInvalid,
    ];

    /// The `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::InvoiceCreated => "InvoiceCreated",
            EventType::InvoiceReceivedPayment => "InvoiceReceivedPayment",
            EventType::InvoicePaymentSettled => "InvoicePaymentSettled",
            EventType::InvoiceProcessing => "InvoiceProcessing",
            EventType::InvoiceSettled => "InvoiceSettled",
            EventType::InvoiceExpired => "InvoiceExpired",
            EventType::InvoiceInvalid => "InvoiceInvalid",
        }
    }

    /// Reads a `type` string (exact, as BTCPay compares them).
    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// What happened, with the fields of its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceFacts {
    /// `InvoiceCreated`: no fields of its own.
    Created,
    /// `InvoiceReceivedPayment`.
    ReceivedPayment {
        /// The invoice was Expired or Invalid (Greenfield status) when it came.
        after_expiration: bool,
        /// The payment.
        payment: GreenfieldPayment,
    },
    /// `InvoicePaymentSettled`.
    PaymentSettled {
        /// As for `ReceivedPayment`.
        after_expiration: bool,
        /// The payment, now `Settled`.
        payment: GreenfieldPayment,
    },
    /// `InvoiceProcessing`.
    Processing {
        /// More than the amount arrived.
        over_paid: bool,
    },
    /// `InvoiceSettled`.
    Settled {
        /// More than the amount arrived.
        over_paid: bool,
        /// Marked settled by hand.
        manually_marked: bool,
    },
    /// `InvoiceExpired`.
    Expired {
        /// Some, not all, of the amount arrived.
        partially_paid: bool,
    },
    /// `InvoiceInvalid`.
    Invalid {
        /// Marked invalid by hand.
        manually_marked: bool,
    },
}

impl InvoiceFacts {
    /// Its event type.
    pub fn event_type(&self) -> EventType {
        match self {
            InvoiceFacts::Created => EventType::InvoiceCreated,
            InvoiceFacts::ReceivedPayment { .. } => EventType::InvoiceReceivedPayment,
            InvoiceFacts::PaymentSettled { .. } => EventType::InvoicePaymentSettled,
            InvoiceFacts::Processing { .. } => EventType::InvoiceProcessing,
            InvoiceFacts::Settled { .. } => EventType::InvoiceSettled,
            InvoiceFacts::Expired { .. } => EventType::InvoiceExpired,
            InvoiceFacts::Invalid { .. } => EventType::InvoiceInvalid,
        }
    }
}

/// Which delivery a body is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryIds {
    /// This delivery's id.
    pub delivery_id: String,
    /// The registered webhook's id.
    pub webhook_id: String,
    /// The first delivery of this event (its own id on the first one).
    pub original_delivery_id: String,
    /// Whether this is a retry or a redelivery.
    pub is_redelivery: bool,
}

impl DeliveryIds {
    /// The first delivery of an event.
    pub fn first(delivery_id: &str, webhook_id: &str) -> DeliveryIds {
        DeliveryIds {
            delivery_id: delivery_id.to_owned(),
            webhook_id: webhook_id.to_owned(),
            original_delivery_id: delivery_id.to_owned(),
            is_redelivery: false,
        }
    }

    /// A later delivery (retry or by hand) of the event first sent as `self`.
    pub fn redelivery(&self, delivery_id: &str) -> DeliveryIds {
        DeliveryIds {
            delivery_id: delivery_id.to_owned(),
            webhook_id: self.webhook_id.clone(),
            original_delivery_id: self.original_delivery_id.clone(),
            is_redelivery: true,
        }
    }
}

/// The invoice an event is about.
#[derive(Debug, Clone, Copy)]
pub struct InvoiceRef<'a> {
    /// `greenfield.store_id`.
    pub store_id: &'a str,
    /// The invoice id.
    pub invoice_id: &'a str,
    /// The invoice's metadata (a non-object is sent as `{}`).
    pub metadata: &'a Value,
}

/// The event body: the common fields, the invoice's, then its type's.
/// `created_at` (when the event was made) becomes `timestamp` in unix seconds.
pub fn body(ids: &DeliveryIds, invoice: InvoiceRef<'_>, created_at: DateTime<Utc>, facts: &InvoiceFacts) -> Value {
    let mut m = Map::new();
    m.insert("deliveryId".into(), json!(ids.delivery_id));
    m.insert("webhookId".into(), json!(ids.webhook_id));
    m.insert("originalDeliveryId".into(), json!(ids.original_delivery_id));
    m.insert("isRedelivery".into(), json!(ids.is_redelivery));
    m.insert("type".into(), json!(facts.event_type().as_str()));
    m.insert("timestamp".into(), json!(created_at.timestamp()));
    m.insert("storeId".into(), json!(invoice.store_id));
    m.insert("invoiceId".into(), json!(invoice.invoice_id));
    let metadata = if invoice.metadata.is_object() {
        invoice.metadata.clone()
    } else {
        json!({})
    };
    m.insert("metadata".into(), metadata);
    match facts {
        InvoiceFacts::Created => {}
        InvoiceFacts::ReceivedPayment {
            after_expiration,
            payment,
        }
        | InvoiceFacts::PaymentSettled {
            after_expiration,
            payment,
        } => {
            m.insert("afterExpiration".into(), json!(after_expiration));
            m.insert("paymentMethodId".into(), json!(BCH_CHAIN));
            m.insert("payment".into(), json!(payment));
        }
        InvoiceFacts::Processing { over_paid } => {
            m.insert("overPaid".into(), json!(over_paid));
        }
        InvoiceFacts::Settled {
            over_paid,
            manually_marked,
        } => {
            m.insert("manuallyMarked".into(), json!(manually_marked));
            m.insert("overPaid".into(), json!(over_paid));
        }
        InvoiceFacts::Expired { partially_paid } => {
            m.insert("partiallyPaid".into(), json!(partially_paid));
        }
        InvoiceFacts::Invalid { manually_marked } => {
            m.insert("manuallyMarked".into(), json!(manually_marked));
        }
    }
    Value::Object(m)
}

/// The bytes to send (and sign): the body as compact JSON.
pub fn to_bytes(body: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail (its map keys are strings).
    serde_json::to_vec(body).unwrap_or_default()
}

type HmacSha256 = Hmac<Sha256>;

/// The `BTCPay-Sig` header value: `sha256=` and the lowercase hex
/// HMAC-SHA256 of the exact body bytes, keyed by the UTF-8 secret.
pub fn btcpay_sig(secret: &str, body: &[u8]) -> String {
    // HMAC takes a key of any length (`KeyInit` for Hmac never fails).
    let mut mac = <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a `BTCPay-Sig` header the way the plugin's PHP client does
/// (`hash_equals('sha256=' . hash_hmac('sha256', $body, $secret), $header)`):
/// exact text, non-empty body and header, constant-time comparison.
pub fn verify_btcpay_sig(secret: &str, header: &str, body: &[u8]) -> bool {
    if body.is_empty() || header.is_empty() {
        return false;
    }
    let expected = btcpay_sig(secret, body);
    expected.len() == header.len()
        && expected
            .bytes()
            .zip(header.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
#[path = "webhook_body_tests.rs"]
mod tests;
