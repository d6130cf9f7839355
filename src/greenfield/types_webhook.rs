//! Registered-webhook bodies (swagger `webhooks.json`): create/update
//! requests, the answers with and without the secret, deliveries.

use std::fmt;

use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// Which event types a webhook receives (`authorizedEvents`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizedEvents {
    /// Every type (default `true`).
    #[serde(default = "yes")]
    pub everything: bool,
    /// The types wanted when `everything` is false.
    #[serde(default)]
    pub specific_events: Vec<String>,
}

impl Default for AuthorizedEvents {
    fn default() -> Self {
        AuthorizedEvents {
            everything: true,
            specific_events: Vec::new(),
        }
    }
}

impl AuthorizedEvents {
    /// Whether an event of `event_type` goes to this webhook.
    pub fn allows(&self, event_type: &str) -> bool {
        self.everything || self.specific_events.iter().any(|t| t == event_type)
    }
}

/// `POST`/`PUT stores/{id}/webhooks[/{id}]` (swagger `WebhookDataCreate`,
/// `WebhookDataUpdate`). `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRequest {
    /// Default `true`.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Default `true`.
    #[serde(default = "yes")]
    pub automatic_redelivery: bool,
    /// An absolute http(s) URL (checked by the route: 422 at `Url`).
    #[serde(default)]
    pub url: Option<String>,
    /// Default: everything.
    #[serde(default)]
    pub authorized_events: AuthorizedEvents,
    /// Create: null or empty → made by bchpay. Update: null or empty → kept.
    #[serde(default)]
    pub secret: Option<String>,
}

impl fmt::Debug for WebhookRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookRequest")
            .field("enabled", &self.enabled)
            .field("automatic_redelivery", &self.automatic_redelivery)
            .field("url", &self.url)
            .field("authorized_events", &self.authorized_events)
            .field("secret", &self.secret.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// A webhook as listed and read (swagger `WebhookData`): no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookData {
    /// The webhook id.
    pub id: String,
    /// Whether it receives events.
    pub enabled: bool,
    /// Whether failed deliveries are retried.
    pub automatic_redelivery: bool,
    /// Where events are POSTed.
    pub url: String,
    /// Which events.
    pub authorized_events: AuthorizedEvents,
}

/// The answer of create, the only one carrying the secret (swagger
/// `WebhookDataCreateResult`). `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookCreated {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookData,
    /// The signing secret, shown this once.
    pub secret: String,
}

impl fmt::Debug for WebhookCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookCreated")
            .field("webhook", &self.webhook)
            .field("secret", &"<hidden>")
            .finish()
    }
}

/// How a delivery went (swagger `WebhookDeliveryData.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryStatus {
    /// No HTTP answer (connection refused, timeout).
    Failed,
    /// An HTTP answer other than 2xx.
    HttpError,
    /// A 2xx answer.
    HttpSuccess,
}

/// One delivery (swagger `WebhookDeliveryData`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// The delivery id (the body's `deliveryId`).
    pub id: String,
    /// Unix seconds when it was due.
    pub timestamp: i64,
    /// Unix seconds when it was sent.
    pub delivery_time: i64,
    /// The receiver's HTTP status, if it answered.
    pub http_code: Option<u16>,
    /// What went wrong, if anything.
    pub error_message: Option<String>,
    /// The outcome.
    pub status: DeliveryStatus,
}
