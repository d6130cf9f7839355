//! The `webhooks` tree's value: a [`RegisteredWebhook`] as JSON, its secret
//! included (the store is the secret's only home, like the webhook secret of
//! the configuration; it never reaches a log line).

use super::super::error::StoreError;
use crate::event::registered::RegisteredWebhook;

/// A registered webhook's stored form.
pub fn encode_webhook(webhook: &RegisteredWebhook) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(webhook).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads a registered webhook's stored form.
pub fn decode_webhook(bytes: &[u8]) -> Result<RegisteredWebhook, StoreError> {
    // serde's message names a field, never a value: the secret cannot leak here.
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable webhook: {e}")))
}
