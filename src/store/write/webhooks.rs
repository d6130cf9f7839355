//! The `webhooks` tree: registered webhooks saved and deleted. Plain
//! functions over the trees (the writer's handlers call them; readers use
//! [`all`] and [`get`]).

use super::super::error::StoreError;
use super::super::layout::trees::Trees;
use super::super::layout::webhooks::{decode_webhook, encode_webhook};
use crate::event::registered::RegisteredWebhook;

/// Writes `webhook` (new, or over the one with its id).
pub fn save(trees: &Trees, webhook: &RegisteredWebhook) -> Result<RegisteredWebhook, StoreError> {
    let existed = trees
        .webhooks
        .insert(webhook.id.as_bytes(), encode_webhook(webhook)?)?
        .is_some();
    log::info!(
        "webhook {} {} for {} (enabled: {})",
        webhook.id,
        if existed { "updated" } else { "registered" },
        redact(&webhook.url),
        webhook.enabled
    );
    Ok(webhook.clone())
}

/// Removes the webhook `id`; [`StoreError::NotFound`] if there is none. Its
/// pending deliveries stop at their next attempt (the dispatcher finds it gone).
pub fn delete(trees: &Trees, id: &str) -> Result<RegisteredWebhook, StoreError> {
    let removed = trees.webhooks.remove(id.as_bytes())?.ok_or(StoreError::NotFound)?;
    let webhook = decode_webhook(&removed)?;
    log::info!("webhook {} deleted", webhook.id);
    Ok(webhook)
}

/// The webhook `id`, if registered.
pub fn get(trees: &Trees, id: &str) -> Result<Option<RegisteredWebhook>, StoreError> {
    trees
        .webhooks
        .get(id.as_bytes())?
        .map(|v| decode_webhook(&v))
        .transpose()
}

/// Every registered webhook, by id.
pub fn all(trees: &Trees) -> Result<Vec<RegisteredWebhook>, StoreError> {
    trees.webhooks.iter().values().map(|v| decode_webhook(&v?)).collect()
}

/// A URL for the log: without a query or fragment that may carry a token.
fn redact(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or("")
}
