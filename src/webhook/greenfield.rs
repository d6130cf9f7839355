//! One delivery attempt to a registered (Greenfield) webhook: the webhook is
//! read again (deleted, disabled or no longer authorized for the event: the
//! event is failed, nothing is sent), the body gets this attempt's delivery
//! ids (a new `deliveryId` per attempt, `isRedelivery` after the first,
//! `originalDeliveryId` the first's, as BTCPay's `WebhookSender`), and is
//! signed `BTCPay-Sig: sha256=<hex HMAC-SHA256(secret, exact body)>`.
//!
//! Retries follow BTCPay (`docs/greenfield.md` §6.3): only when there was no
//! answer, or a 5xx, 408 or 429, and only with `automaticRedelivery`; any
//! other answer ends the event (2xx delivered, the rest failed; redeliverable
//! by hand). The schedule is bchpay's (`webhooks.retry_schedule_secs`).

use std::sync::atomic::Ordering;

use actix::Addr;
use chrono::{TimeDelta, Utc};

use super::{record, redact, WebhookStats};
use crate::config::WebhookSettings;
use crate::event::registered::{delivery_ids, greenfield_type, with_delivery};
use crate::event::{Attempt, Event};
use crate::greenfield::webhook_body::{btcpay_sig, to_bytes};
use crate::store::{InvoiceStore, Outcome, StoreReader};

/// Whether an answer (`None`: none) is worth another try (BTCPay's rule).
pub fn retryable(status: Option<u16>) -> bool {
    match status {
        None => true,
        Some(code) => code >= 500 || code == 408 || code == 429,
    }
}

/// One attempt of `event` (which names a registered webhook); `None` if it
/// could not be recorded.
pub async fn attempt(
    client: &awc::Client,
    store: &Addr<InvoiceStore>,
    reader: &StoreReader,
    settings: &WebhookSettings,
    stats: &WebhookStats,
    mut event: Event,
) -> Option<Outcome> {
    let now = Utc::now();
    let webhook_id = event.webhook.clone().unwrap_or_default();
    let kind = greenfield_type(event.kind).as_str();
    let webhook = match reader.webhook(&webhook_id) {
        Ok(Some(w)) if w.wants(event.kind) => w,
        Ok(found) => {
            let why = match found {
                None => "the webhook was deleted",
                Some(_) => "the webhook is disabled or no longer takes this event",
            };
            log::info!(
                "webhook {webhook_id}: {kind} of invoice {} not sent ({why})",
                event.invoice_id
            );
            let attempt = Attempt {
                at: now,
                status: None,
                error: Some(why.into()),
            };
            return record(store, &event, attempt, Outcome::Failed).await;
        }
        Err(e) => {
            log::error!("webhook {webhook_id}: cannot read it: {e}");
            return None;
        }
    };
    let ids = delivery_ids(&event.id, &webhook.id, event.attempts.len());
    let body = to_bytes(&with_delivery(
        event.greenfield.as_ref().unwrap_or(&serde_json::Value::Null),
        &ids,
    ));
    let sig = btcpay_sig(&webhook.secret, &body);
    let (status, error) =
        super::post_json(client, &webhook.url, settings.timeout_secs, [("BTCPay-Sig", sig)], body).await;
    let attempt = Attempt {
        at: now,
        status,
        error: error.clone(),
    };
    event.attempts.push(attempt.clone());
    let target = redact(&webhook.url);
    let delivery = &ids.delivery_id;
    let outcome = match &error {
        None => {
            stats.delivered.fetch_add(1, Ordering::Relaxed);
            log::info!(
                "webhook {} delivery {delivery} {kind} of invoice {} delivered to {target}",
                webhook.id,
                event.invoice_id
            );
            Outcome::Delivered
        }
        Some(why) => {
            let delay = (webhook.automatic_redelivery && retryable(status))
                .then(|| event.retry_delay(&settings.retry_schedule_secs))
                .flatten();
            match delay {
                Some(delay) => {
                    stats.retried.fetch_add(1, Ordering::Relaxed);
                    log::warn!(
                        "webhook {} delivery {delivery} of invoice {} to {target} failed ({why}); retry in {delay}s",
                        webhook.id,
                        event.invoice_id
                    );
                    Outcome::Retry(now + TimeDelta::seconds(i64::try_from(delay).unwrap_or(i64::MAX / 2)))
                }
                None => {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                    log::error!(
                        "webhook {} delivery {delivery} of invoice {} to {target} failed ({why}); marked failed, redeliverable",
                        webhook.id,
                        event.invoice_id
                    );
                    Outcome::Failed
                }
            }
        }
    };
    record(store, &event, attempt, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_no_answer_5xx_408_and_429_are_retried() {
        for (status, retry) in [
            (None, true),
            (Some(500), true),
            (Some(503), true),
            (Some(408), true),
            (Some(429), true),
            (Some(400), false),
            (Some(404), false),
            (Some(301), false),
        ] {
            assert_eq!(retryable(status), retry, "{status:?}");
        }
    }
}
