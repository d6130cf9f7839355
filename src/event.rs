//! Webhook events: one per invoice transition, written in the same store
//! transaction as the transition (a transactional outbox), with their
//! delivery record. Pure: no I/O.

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::invoice::lifecycle::EventKind;
use crate::invoice::{api_time, InvoiceId};

pub mod registered;
pub mod route;

/// What an invoice id starts with (an event id carries the rest).
const INVOICE_PREFIX: &str = "inv_";

/// The invoice an event id names, if `id` has the form of one.
pub fn invoice_of_event_id(id: &str) -> Option<InvoiceId> {
    let (digits, tag) = id.strip_prefix("evt_")?.split_once('_')?;
    if tag.len() != 16 || !tag.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    InvoiceId::parse(&format!("{INVOICE_PREFIX}{digits}")).ok()
}

/// Where an event's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its first or next attempt.
    Pending,
    /// A receiver answered 2xx.
    Delivered,
    /// Every attempt of the schedule failed; redeliverable by hand.
    Failed,
    /// No webhook URL for its invoice and none configured: kept, not sent.
    NoEndpoint,
}

impl DeliveryState {
    /// The word of the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::NoEndpoint => "no_endpoint",
        }
    }

    /// Reads the word of the API.
    pub fn parse(text: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::NoEndpoint,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// The HTTP status the receiver answered, if it answered.
    pub status: Option<u16>,
    /// What went wrong, if it did.
    pub error: Option<String>,
}

/// A webhook event and its delivery record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Stable id receivers drop duplicates by: `evt_`, the invoice id's 128
    /// random bits (base62), `_`, 64 random bits of its own (hex). The store
    /// finds an event through its invoice ([`invoice_of_event_id`]).
    pub id: String,
    /// Global order of events (the outbox key).
    pub seq: u64,
    /// What happened.
    pub kind: EventKind,
    /// The invoice it is about.
    pub invoice_id: InvoiceId,
    /// Counts this invoice's events from 1; delivered in this order.
    pub sequence: u64,
    /// When the transition happened.
    pub created_at: DateTime<Utc>,
    /// The invoice as the API showed it right after the transition.
    pub invoice: Value,
    /// Where it goes; `None`: nowhere (`no_endpoint`).
    pub url: Option<String>,
    /// Where its delivery stands.
    pub state: DeliveryState,
    /// Every attempt so far, oldest first.
    pub attempts: Vec<Attempt>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Attempts made before the last redelivery by hand (the retry schedule
    /// starts again from there).
    #[serde(default)]
    pub round_start: usize,
    /// The registered (Greenfield) webhook it goes to, instead of bchpay's own
    /// destination: `url` is then that webhook's URL when the event was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// For a registered webhook: the Greenfield body without its delivery
    /// ids (`event::registered::with_delivery` adds them at each attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub greenfield: Option<Value>,
}

impl Event {
    /// A new event, pending if it has somewhere to go.
    pub fn new(
        seq: u64,
        kind: EventKind,
        invoice_id: InvoiceId,
        sequence: u64,
        invoice: Value,
        url: Option<String>,
        now: DateTime<Utc>,
    ) -> Event {
        let mut bytes = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let state = if url.is_some() {
            DeliveryState::Pending
        } else {
            DeliveryState::NoEndpoint
        };
        Event {
            id: format!(
                "evt_{}_{}",
                invoice_id.as_str().trim_start_matches(INVOICE_PREFIX),
                hex::encode(bytes)
            ),
            seq,
            kind,
            invoice_id,
            sequence,
            created_at: now,
            invoice,
            url,
            state,
            attempts: Vec::new(),
            next_attempt_at: (state == DeliveryState::Pending).then_some(now),
            round_start: 0,
            webhook: None,
            greenfield: None,
        }
    }

    /// The same event for registered webhook `webhook_id`, with its
    /// Greenfield body (without delivery ids).
    pub fn for_webhook(mut self, webhook_id: &str, greenfield: Value) -> Event {
        self.webhook = Some(webhook_id.to_owned());
        self.greenfield = Some(greenfield);
        self
    }

    /// The body POSTed to the receiver (api.md, Webhooks).
    pub fn payload(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.kind.type_name(),
            "created_at": api_time(self.created_at),
            "sequence": self.sequence,
            "invoice": self.invoice,
        })
    }

    /// After a failed attempt: when to try again under `schedule` (delays in
    /// seconds between attempts), or `None` when the schedule is spent.
    pub fn retry_delay(&self, schedule: &[u64]) -> Option<u64> {
        let failed_in_round = self.attempts.len().saturating_sub(self.round_start);
        failed_in_round.checked_sub(1).and_then(|i| schedule.get(i).copied())
    }

    /// The API's view: the payload plus the delivery record.
    pub fn to_api(&self) -> Value {
        let attempts: Vec<Value> = self
            .attempts
            .iter()
            .map(|a| json!({"at": api_time(a.at), "status": a.status, "error": a.error}))
            .collect();
        json!({
            "id": self.id,
            "type": self.kind.type_name(),
            "invoice_id": self.invoice_id.as_str(),
            "sequence": self.sequence,
            "created_at": api_time(self.created_at),
            "state": self.state.as_str(),
            "url": self.url,
            "attempts": attempts.len(),
            "attempt_log": attempts,
            "last_error": self.attempts.last().and_then(|a| a.error.clone()),
            "next_attempt_at": self.next_attempt_at.map(api_time),
            "payload": self.payload(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_without_an_endpoint_is_kept_but_not_pending() {
        let now = Utc::now();
        let id = InvoiceId::from_bytes([1; 16]);
        let e = Event::new(1, EventKind::Paid, id.clone(), 1, json!({"id": id.as_str()}), None, now);
        assert_eq!(e.state, DeliveryState::NoEndpoint);
        assert_eq!(e.next_attempt_at, None);
        let e = Event::new(2, EventKind::Paid, id, 2, json!({}), Some("http://x/".into()), now);
        assert_eq!(e.state, DeliveryState::Pending);
        assert!(e.id.starts_with("evt_") && e.id.len() == 43, "{}", e.id);
        assert_eq!(invoice_of_event_id(&e.id), Some(InvoiceId::from_bytes([1; 16])));
    }

    #[test]
    fn an_id_that_is_not_an_event_id_names_no_invoice() {
        let id = InvoiceId::from_bytes([1; 16]);
        let digits = id.as_str().trim_start_matches("inv_");
        for bad in [
            String::new(),
            "evt_".into(),
            format!("evt_{digits}"),
            format!("evt_{digits}_0123"),
            format!("evt_{digits}_0123456789abcdeg"),
            format!("evt_x{digits}_0123456789abcdef"),
            format!("inv_{digits}_0123456789abcdef"),
            "evt_00000000000000000000000000000000".into(),
        ] {
            assert_eq!(invoice_of_event_id(&bad), None, "{bad}");
        }
        assert_eq!(invoice_of_event_id(&format!("evt_{digits}_0123456789abcdef")), Some(id));
    }

    #[test]
    fn the_retry_schedule_is_followed_then_spent_and_restarts_after_a_redelivery() {
        let mut e = Event::new(
            1,
            EventKind::Paid,
            InvoiceId::from_bytes([3; 16]),
            1,
            json!({}),
            Some("http://x".into()),
            Utc::now(),
        );
        let schedule = [10, 60, 300];
        let fail = Attempt {
            at: Utc::now(),
            status: Some(500),
            error: Some("HTTP 500".into()),
        };
        let mut delays = Vec::new();
        for _ in 0..4 {
            e.attempts.push(fail.clone());
            delays.push(e.retry_delay(&schedule));
        }
        assert_eq!(delays, [Some(10), Some(60), Some(300), None]);
        e.round_start = e.attempts.len();
        e.attempts.push(fail);
        assert_eq!(e.retry_delay(&schedule), Some(10));
    }

    #[test]
    fn the_payload_is_the_contract_shape() {
        let e = Event::new(
            5,
            EventKind::Confirmed,
            InvoiceId::from_bytes([2; 16]),
            3,
            json!({"status": "confirmed"}),
            None,
            Utc::now(),
        );
        let p = e.payload();
        assert_eq!(p["type"], "invoice.confirmed");
        assert_eq!(p["sequence"], 3);
        assert_eq!(p["invoice"]["status"], "confirmed");
        assert_eq!(p.as_object().unwrap().len(), 5);
        assert_eq!(DeliveryState::parse("no_endpoint"), Some(DeliveryState::NoEndpoint));
    }
}
