//! `/api/v1/events`: webhook events with their delivery record.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::auth::ApiKey;
use super::error::ApiError;
use super::AppState;
use crate::event::DeliveryState;
use crate::invoice::InvoiceId;
use crate::store::{Redeliver, StoreError};
use chrono::Utc;

/// `GET /api/v1/events?invoice_id=&state=&limit=&cursor=`: oldest first.
pub async fn list(
    _: ApiKey,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bad = |field: &str, message: &str| ApiError::field("invalid_query", field, message);
    if let Some(unknown) = query
        .keys()
        .find(|k| !["invoice_id", "state", "limit", "cursor"].contains(&k.as_str()))
    {
        return Err(bad(unknown, "unknown query parameter"));
    }
    let invoice = match query.get("invoice_id") {
        None => None,
        Some(id) => Some(InvoiceId::parse(id).map_err(|_| bad("invoice_id", "not an invoice id"))?),
    };
    let delivery = match query.get("state") {
        None => None,
        Some(s) => Some(
            DeliveryState::parse(s)
                .ok_or_else(|| bad("state", "state must be one of pending, delivered, failed, no_endpoint"))?,
        ),
    };
    let limit = match query.get("limit") {
        None => 100,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => return Err(bad("limit", "limit must be an integer from 1 to 500")),
        },
    };
    let (events, next) = state
        .reader
        .events(
            invoice.as_ref(),
            delivery,
            limit,
            query.get("cursor").map(String::as_str),
        )
        .map_err(|e| match e {
            StoreError::InvalidCursor => bad("cursor", "cursor was not given out by this engine"),
            other => {
                log::error!("listing events failed: {other}");
                ApiError::internal()
            }
        })?;
    let events: Vec<_> = events.iter().map(|e| e.to_api()).collect();
    Ok(HttpResponse::Ok().json(json!({"events": events, "next_cursor": next})))
}

/// `POST /api/v1/events/{id}/redeliver`: queues the event again, now (`202`).
pub async fn redeliver(
    _: ApiKey,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let msg = Redeliver {
        event_id: path.into_inner(),
        now: Utc::now(),
    };
    match state.store.send(msg).await {
        Ok(Ok(event)) => Ok(HttpResponse::Accepted().json(event.to_api())),
        Ok(Err(StoreError::NotFound)) => Err(ApiError::not_found("event")),
        Ok(Err(StoreError::NoEndpoint)) => Err(ApiError::new(
            409,
            "no_endpoint",
            "this event has nowhere to go: set the invoice's webhook_url or webhooks.url, and webhooks.secret",
        )),
        Ok(Err(e)) => {
            log::error!("redelivery failed: {e}");
            Err(ApiError::internal())
        }
        Err(e) => {
            log::error!("store unavailable for a redelivery: {e}");
            Err(ApiError::internal())
        }
    }
}
