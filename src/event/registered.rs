//! A webhook registered through Greenfield (`POST stores/{id}/webhooks`), as
//! kept in the store's `webhooks` tree, and the Greenfield event body of a
//! transition for it (`docs/greenfield.md` §6.2, §6.3). Pure.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::greenfield::types::{sats_fixed8, AuthorizedEvents, GreenfieldPayment, PaymentStatus, WebhookData};
use crate::greenfield::webhook_body::{self, DeliveryIds, EventType, InvoiceFacts, InvoiceRef};
use crate::invoice::lifecycle::EventKind;
use crate::invoice::{Invoice, InvoiceException};

/// The body keys that name one delivery, added at each attempt.
const DELIVERY_KEYS: [&str; 4] = ["deliveryId", "webhookId", "originalDeliveryId", "isRedelivery"];

/// A registered webhook. `Debug` hides the secret; the secret is never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredWebhook {
    /// Its id (16 random bytes, base58-like text: BTCPay's ids are opaque strings).
    pub id: String,
    /// The Greenfield store it belongs to.
    pub store_id: String,
    /// Where its events are POSTed.
    pub url: String,
    /// The key of its `BTCPay-Sig` HMAC.
    pub secret: String,
    /// Whether it receives events (checked again before each attempt).
    pub enabled: bool,
    /// Whether a failed delivery is retried on the schedule (else tried once).
    pub automatic_redelivery: bool,
    /// Which event types it receives.
    pub authorized_events: AuthorizedEvents,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

impl fmt::Debug for RegisteredWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredWebhook")
            .field("id", &self.id)
            .field("store_id", &self.store_id)
            .field("url", &self.url)
            .field("secret", &"<hidden>")
            .field("enabled", &self.enabled)
            .field("automatic_redelivery", &self.automatic_redelivery)
            .field("authorized_events", &self.authorized_events)
            .finish()
    }
}

/// 16 random bytes as lowercase hex, for webhook ids and made secrets.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

impl RegisteredWebhook {
    /// Its Greenfield view, without the secret.
    pub fn to_data(&self) -> WebhookData {
        WebhookData {
            id: self.id.clone(),
            enabled: self.enabled,
            automatic_redelivery: self.automatic_redelivery,
            url: self.url.clone(),
            authorized_events: self.authorized_events.clone(),
        }
    }

    /// Whether an event of `kind` goes to it now.
    pub fn wants(&self, kind: EventKind) -> bool {
        self.enabled && self.authorized_events.allows(greenfield_type(kind).as_str())
    }
}

/// The Greenfield type of an event kind (§6.2).
pub fn greenfield_type(kind: EventKind) -> EventType {
    match kind {
        EventKind::Created => EventType::InvoiceCreated,
        EventKind::PaymentReceived => EventType::InvoiceReceivedPayment,
        EventKind::PaymentSettled => EventType::InvoicePaymentSettled,
        EventKind::Paid => EventType::InvoiceProcessing,
        EventKind::Confirmed | EventKind::MarkedSettled => EventType::InvoiceSettled,
        EventKind::Expired => EventType::InvoiceExpired,
        EventKind::Invalid | EventKind::MarkedInvalid => EventType::InvoiceInvalid,
    }
}

/// The Greenfield payment items of `txid` in `invoice` (one per output; the
/// bare txid for a payment whose outputs are unknown), as they stand.
pub fn payment_items(invoice: &Invoice, txid: &str) -> Vec<GreenfieldPayment> {
    let Some(p) = invoice.payments.iter().find(|p| p.txid == txid) else {
        return Vec::new();
    };
    p.per_output()
        .into_iter()
        .map(|(id, sats)| GreenfieldPayment {
            id,
            received_date: p.seen_at.timestamp(),
            value: sats_fixed8(sats),
            fee: "0.00000000".into(),
            status: if p.settled {
                PaymentStatus::Settled
            } else {
                PaymentStatus::Processing
            },
            destination: invoice.address.as_str().to_owned(),
        })
        .collect()
}

/// The facts of an event of `kind` about `invoice` right after its
/// transition; `payment` for the per-payment kinds.
pub fn facts(kind: EventKind, invoice: &Invoice, payment: Option<GreenfieldPayment>) -> Option<InvoiceFacts> {
    let exception = invoice.exception;
    Some(match kind {
        EventKind::Created => InvoiceFacts::Created,
        EventKind::PaymentReceived | EventKind::PaymentSettled => {
            let payment = payment?;
            // Decision 1 (gf-decisions.md): the payment came after expires_at.
            let after_expiration = payment.received_date >= invoice.expires_at.timestamp();
            if kind == EventKind::PaymentReceived {
                InvoiceFacts::ReceivedPayment {
                    after_expiration,
                    payment,
                }
            } else {
                InvoiceFacts::PaymentSettled {
                    after_expiration,
                    payment,
                }
            }
        }
        EventKind::Paid => InvoiceFacts::Processing {
            over_paid: exception == Some(InvoiceException::PaidOver),
        },
        EventKind::Confirmed | EventKind::MarkedSettled => InvoiceFacts::Settled {
            over_paid: exception == Some(InvoiceException::PaidOver),
            manually_marked: kind == EventKind::MarkedSettled,
        },
        EventKind::Expired => InvoiceFacts::Expired {
            partially_paid: exception == Some(InvoiceException::PaidPartial),
        },
        EventKind::Invalid | EventKind::MarkedInvalid => InvoiceFacts::Invalid {
            manually_marked: kind == EventKind::MarkedInvalid,
        },
    })
}

/// The body kept with the event: every field but the four that name a
/// delivery ([`with_delivery`] adds them at each attempt).
pub fn stored_body(store_id: &str, invoice: &Invoice, created_at: DateTime<Utc>, facts: &InvoiceFacts) -> Value {
    let ids = DeliveryIds::first("", "");
    let invoice_ref = InvoiceRef {
        store_id,
        invoice_id: invoice.id.as_str(),
        metadata: &invoice.metadata,
    };
    let mut body = webhook_body::body(&ids, invoice_ref, created_at, facts);
    if let Some(map) = body.as_object_mut() {
        for key in DELIVERY_KEYS {
            map.remove(key);
        }
    }
    body
}

/// The body of one delivery: the kept body with its delivery's ids.
pub fn with_delivery(stored: &Value, ids: &DeliveryIds) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("deliveryId".into(), Value::from(ids.delivery_id.clone()));
    map.insert("webhookId".into(), Value::from(ids.webhook_id.clone()));
    map.insert(
        "originalDeliveryId".into(),
        Value::from(ids.original_delivery_id.clone()),
    );
    map.insert("isRedelivery".into(), Value::from(ids.is_redelivery));
    if let Some(fields) = stored.as_object() {
        for (k, v) in fields {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Value::Object(map)
}

/// The delivery id of attempt `n` (from 0) of event `event_id`: every
/// attempt, retry or redelivery has its own, as BTCPay's do, and names its
/// event (`<event id>-<n>`).
pub fn delivery_id(event_id: &str, n: usize) -> String {
    format!("{event_id}-{n}")
}

/// The event id and attempt number a delivery id names.
pub fn parse_delivery_id(delivery_id: &str) -> Option<(&str, usize)> {
    let (event, n) = delivery_id.rsplit_once('-')?;
    Some((event, n.parse().ok()?))
}

/// The ids of attempt `n` of event `event_id` to webhook `webhook_id`.
pub fn delivery_ids(event_id: &str, webhook_id: &str, n: usize) -> DeliveryIds {
    let first = DeliveryIds::first(&delivery_id(event_id, 0), webhook_id);
    if n == 0 {
        first
    } else {
        first.redelivery(&delivery_id(event_id, n))
    }
}

#[cfg(test)]
#[path = "registered_tests.rs"]
mod tests;
