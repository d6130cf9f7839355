//! The registered-webhook routes (`docs/greenfield.md` §4.9), every one
//! under `btcpay.store.webhooks.canmodifywebhooks`:
//! `GET|POST stores/{storeId}/webhooks`, `GET|PUT|DELETE …/webhooks/{id}`,
//! `GET …/{id}/deliveries[?count=N]`, `GET …/deliveries/{deliveryId}[/request]`,
//! `POST …/deliveries/{deliveryId}/redeliver`.
//!
//! The secret is made when not given and shown by create only; list, get and
//! update never show it, and no log line carries it.

use actix_web::{web, HttpResponse};
use chrono::Utc;
use serde::Deserialize;

use super::reply::{check_store, ok, GreenfieldError};
use super::types::{DeliveryStatus, WebhookCreated, WebhookDelivery};
use super::webhook_request;
use crate::event::registered::{self, delivery_id, parse_delivery_id, RegisteredWebhook};
use crate::event::Event;
use crate::http::AppState;
use crate::store::{DeleteWebhook, Redeliver, SaveWebhook, StoreError};

/// Deliveries listed when `count` is not given.
const DEFAULT_COUNT: usize = 50;
/// The most deliveries one list answers.
const MAX_COUNT: usize = 1000;

/// `404 webhook-not-found`.
fn webhook_not_found() -> GreenfieldError {
    GreenfieldError::problem(404, "webhook-not-found", "The webhook was not found")
}

/// `404 webhookdelivery-not-found`.
fn delivery_not_found() -> GreenfieldError {
    GreenfieldError::problem(404, "webhookdelivery-not-found", "The webhook delivery was not found")
}

/// The webhook `id` of store `store_id`, or the 404 of the route.
fn find(state: &AppState, store_id: &str, id: &str) -> Result<RegisteredWebhook, GreenfieldError> {
    check_store(state, store_id)?;
    match state.reader.webhook(id) {
        Ok(Some(w)) if w.store_id == store_id => Ok(w),
        Ok(_) => Err(webhook_not_found()),
        Err(e) => Err(GreenfieldError::store(&format!("reading webhook {id}"), &e)),
    }
}

/// Sends a write to the store; its failure as the route's error.
async fn save(state: &AppState, webhook: RegisteredWebhook) -> Result<RegisteredWebhook, GreenfieldError> {
    let id = webhook.id.clone();
    match state.store.send(SaveWebhook(webhook)).await {
        Ok(Ok(saved)) => Ok(saved),
        Ok(Err(e)) => Err(GreenfieldError::store(&format!("saving webhook {id}"), &e)),
        Err(e) => Err(GreenfieldError::store(
            &format!("saving webhook {id}"),
            &StoreError::WriterFailed(e.to_string()),
        )),
    }
}

/// `GET stores/{storeId}/webhooks`: every webhook, without secrets.
pub async fn list(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, GreenfieldError> {
    check_store(&state, &path)?;
    let all = state
        .reader
        .webhooks()
        .map_err(|e| GreenfieldError::store("listing webhooks", &e))?;
    let data: Vec<_> = all
        .iter()
        .filter(|w| w.store_id == *path)
        .map(RegisteredWebhook::to_data)
        .collect();
    Ok(ok(&data))
}

/// `POST stores/{storeId}/webhooks`: registers it; the answer carries the
/// secret, this once.
pub async fn create(
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    check_store(&state, &path)?;
    let request = webhook_request::parse(&body).map_err(GreenfieldError::Validation)?;
    let webhook = RegisteredWebhook {
        id: registered::random_token(16),
        store_id: path.into_inner(),
        url: request.url.clone().unwrap_or_default(),
        secret: request
            .secret
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| registered::random_token(24)),
        enabled: request.enabled,
        automatic_redelivery: request.automatic_redelivery,
        authorized_events: request.authorized_events.clone(),
        created_at: Utc::now(),
    };
    let saved = save(&state, webhook).await?;
    Ok(ok(&WebhookCreated {
        webhook: saved.to_data(),
        secret: saved.secret.clone(),
    }))
}

/// `GET stores/{storeId}/webhooks/{webhookId}`.
pub async fn read(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, id) = path.into_inner();
    Ok(ok(&find(&state, &store_id, &id)?.to_data()))
}

/// `PUT stores/{storeId}/webhooks/{webhookId}`: every field replaced; a null
/// or empty secret keeps the one it has.
pub async fn update(
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, id) = path.into_inner();
    let before = find(&state, &store_id, &id)?;
    let request = webhook_request::parse(&body).map_err(GreenfieldError::Validation)?;
    let webhook = RegisteredWebhook {
        url: request.url.clone().unwrap_or_default(),
        secret: request
            .secret
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or(before.secret.clone()),
        enabled: request.enabled,
        automatic_redelivery: request.automatic_redelivery,
        authorized_events: request.authorized_events.clone(),
        ..before
    };
    Ok(ok(&save(&state, webhook).await?.to_data()))
}

/// `DELETE stores/{storeId}/webhooks/{webhookId}`: `200` with an empty body
/// (a body sent with it is ignored); its pending deliveries stop.
pub async fn delete(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, id) = path.into_inner();
    find(&state, &store_id, &id)?;
    match state.store.send(DeleteWebhook(id.clone())).await {
        Ok(Ok(_)) => Ok(HttpResponse::Ok().finish()),
        Ok(Err(StoreError::NotFound)) => Err(webhook_not_found()),
        Ok(Err(e)) => Err(GreenfieldError::store(&format!("deleting webhook {id}"), &e)),
        Err(e) => Err(GreenfieldError::store(
            &format!("deleting webhook {id}"),
            &StoreError::WriterFailed(e.to_string()),
        )),
    }
}

/// The deliveries of one event: one per attempt, newest first.
fn deliveries_of(event: &Event) -> Vec<WebhookDelivery> {
    event
        .attempts
        .iter()
        .enumerate()
        .rev()
        .map(|(n, a)| WebhookDelivery {
            id: delivery_id(&event.id, n),
            timestamp: a.at.timestamp(),
            delivery_time: a.at.timestamp(),
            http_code: a.status,
            error_message: a.error.clone(),
            status: match a.status {
                Some(code) if (200..300).contains(&code) => DeliveryStatus::HttpSuccess,
                Some(_) => DeliveryStatus::HttpError,
                None => DeliveryStatus::Failed,
            },
        })
        .collect()
}

/// `?count=N` of the deliveries list.
#[derive(Debug, Deserialize)]
pub struct DeliveriesQuery {
    /// How many, newest first.
    count: Option<usize>,
}

/// `GET stores/{storeId}/webhooks/{webhookId}/deliveries?count=N`: newest first.
pub async fn deliveries(
    path: web::Path<(String, String)>,
    query: web::Query<DeliveriesQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, id) = path.into_inner();
    find(&state, &store_id, &id)?;
    let count = query.count.unwrap_or(DEFAULT_COUNT).min(MAX_COUNT);
    let reader = state.reader.clone();
    let events = web::block(move || reader.webhook_events(&id, count))
        .await
        .map_err(|_| GreenfieldError::internal())?
        .map_err(|e| GreenfieldError::store("listing webhook deliveries", &e))?;
    let mut all: Vec<WebhookDelivery> = events.iter().flat_map(deliveries_of).collect();
    all.truncate(count);
    Ok(ok(&all))
}

/// The event a delivery id names, if it is one of webhook `id`'s attempts.
fn delivery_event(
    state: &AppState,
    store_id: &str,
    id: &str,
    delivery: &str,
) -> Result<(Event, usize), GreenfieldError> {
    find(state, store_id, id)?;
    let (event_id, n) = parse_delivery_id(delivery).ok_or_else(delivery_not_found)?;
    let event = state
        .reader
        .event(event_id)
        .map_err(|e| GreenfieldError::store(&format!("reading delivery {delivery}"), &e))?
        .filter(|e| e.webhook.as_deref() == Some(id) && n < e.attempts.len())
        .ok_or_else(delivery_not_found)?;
    Ok((event, n))
}

/// `GET …/webhooks/{webhookId}/deliveries/{deliveryId}`.
pub async fn delivery(
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, id, delivery) = path.into_inner();
    let (event, n) = delivery_event(&state, &store_id, &id, &delivery)?;
    let all = deliveries_of(&event);
    let one = all.into_iter().find(|d| d.id == delivery_id(&event.id, n));
    Ok(ok(&one.ok_or_else(delivery_not_found)?))
}

/// `GET …/deliveries/{deliveryId}/request`: the body that delivery sent.
pub async fn delivery_request(
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, id, delivery) = path.into_inner();
    let (event, n) = delivery_event(&state, &store_id, &id, &delivery)?;
    let ids = registered::delivery_ids(&event.id, &id, n);
    let stored = event.greenfield.unwrap_or_default();
    Ok(ok(&registered::with_delivery(&stored, &ids)))
}

/// `POST …/deliveries/{deliveryId}/redeliver`: the event is sent again now,
/// with a new delivery id (`isRedelivery`, `originalDeliveryId` the first);
/// answers that id as a JSON string.
pub async fn redeliver(
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, id, delivery) = path.into_inner();
    let (event, _) = delivery_event(&state, &store_id, &id, &delivery)?;
    let msg = Redeliver {
        event_id: event.id.clone(),
        now: Utc::now(),
    };
    let queued = match state.store.send(msg).await {
        Ok(Ok(queued)) => queued,
        Ok(Err(StoreError::NotFound)) => return Err(delivery_not_found()),
        Ok(Err(e)) => return Err(GreenfieldError::store(&format!("redelivering {delivery}"), &e)),
        Err(e) => {
            return Err(GreenfieldError::store(
                &format!("redelivering {delivery}"),
                &StoreError::WriterFailed(e.to_string()),
            ))
        }
    };
    let new_id = delivery_id(&queued.id, queued.attempts.len());
    log::info!("webhook {id}: delivery {delivery} redelivered by hand as {new_id}");
    Ok(ok(&new_id))
}
