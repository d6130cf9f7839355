//! `/api/v1/events`: webhook events with their delivery record.

use std::collections::HashMap;

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::error::ApiError;
use super::query;
use super::AppState;
use crate::event::DeliveryState;
use crate::invoice::InvoiceId;
use crate::store::{Redeliver, StoreError};
use chrono::Utc;

/// `GET /api/v1/events?invoice_id=&state=&limit=&cursor=`: oldest first.
pub async fn list(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::only(&query, &["invoice_id", "state", "limit", "cursor"])?;
    let invoice = query::parsed(
        &query,
        "invoice_id",
        |id| InvoiceId::parse(id).ok(),
        "not an invoice id",
    )?;
    let delivery = query::parsed(
        &query,
        "state",
        DeliveryState::parse,
        "state must be one of pending, delivered, failed, no_endpoint",
    )?;
    let limit = query::limit(&query, 100, 500)?;
    // A page reads from disk: off the HTTP workers.
    let reader = state.reader.clone();
    let cursor = query.get("cursor").cloned();
    let listed = web::block(move || reader.events(invoice.as_ref(), delivery, limit, cursor.as_deref()))
        .await
        .map_err(|_| ApiError::internal())?;
    let (events, next) = listed.map_err(|e| match e {
        StoreError::InvalidCursor => query::bad("cursor", "cursor was not given out by this engine"),
        other => ApiError::store("listing events", &other),
    })?;
    let events: Vec<_> = events.iter().map(|e| e.to_api()).collect();
    Ok(HttpResponse::Ok().json(json!({"events": events, "next_cursor": next})))
}

/// `POST /api/v1/events/{id}/redeliver`: queues the event again, now (`202`).
pub async fn redeliver(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
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
        Ok(Err(e)) => Err(ApiError::store("a redelivery", &e)),
        Err(e) => Err(ApiError::store(
            "a redelivery",
            &StoreError::WriterFailed(format!("the store writer is not answering: {e}")),
        )),
    }
}
