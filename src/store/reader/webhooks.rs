//! Reads of registered webhooks and of their events (the deliveries routes).

use super::super::error::StoreError;
use super::super::layout::{packed, values};
use super::super::write::webhooks;
use super::StoreReader;
use crate::event::registered::RegisteredWebhook;
use crate::event::Event;

impl StoreReader {
    /// Every registered webhook, by id.
    pub fn webhooks(&self) -> Result<Vec<RegisteredWebhook>, StoreError> {
        webhooks::all(&self.trees()?)
    }

    /// The registered webhook `id`.
    pub fn webhook(&self, id: &str) -> Result<Option<RegisteredWebhook>, StoreError> {
        webhooks::get(&self.trees()?, id)
    }

    /// The events made for webhook `id`, newest first, at most `limit`.
    ///
    /// A scan of every invoice's events (only those naming the webhook are
    /// decoded): fine for a shop's deliveries page, not for a hot path.
    pub fn webhook_events(&self, id: &str, limit: usize) -> Result<Vec<Event>, StoreError> {
        let needle = format!("\"webhook\":{}", serde_json::Value::from(id));
        let mut found = Vec::new();
        for entry in self.trees()?.events.iter().values() {
            let bytes = entry?;
            // Events are stored packed (`layout/packed.rs`): look for the
            // webhook in the JSON inside, decode only the lists naming it.
            let names_it = packed::with_json(&bytes, |json| Ok(contains(json, needle.as_bytes())))?;
            if !names_it {
                continue;
            }
            found.extend(
                values::decode_events(&bytes)?
                    .into_iter()
                    .filter(|e| e.webhook.as_deref() == Some(id)),
            );
        }
        found.sort_by_key(|e| std::cmp::Reverse(e.seq));
        found.truncate(limit);
        Ok(found)
    }
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
