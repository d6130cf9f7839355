//! `/api/v1/invoices`: create, read, list.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde_json::json;

use super::create_request::{self, MAX_BODY};
use super::error::ApiError;
use super::query;
use super::AppState;
use crate::allocator::CheckPool;
use crate::creation::{self, CreateError};
use crate::invoice::{InvoiceId, InvoiceStatus};

/// Seconds a shop should wait before retrying when no address can be had.
const RETRY_AFTER_SECS: u64 = 5;
/// The most invoices one page lists.
const MAX_LIMIT: usize = 500;

/// Reads a body of at most [`MAX_BODY`] bytes, refusing a larger one before reading it whole.
async fn read_body(req: &HttpRequest, mut payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    let declared = req
        .headers()
        .get("Content-Length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY) {
        return Err(ApiError::too_large(MAX_BODY));
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::new(400, "invalid_body", "the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ApiError::too_large(MAX_BODY));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `POST /api/v1/invoices`
pub async fn create(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload).await?;
    let parsed = create_request::parse(&body, &state.settings)?;
    let (order_id, asked) = (parsed.draft.order_id.clone(), parsed.fiat);
    let now = chrono::Utc::now();
    let draft = match parsed.price_with(|c| state.rates.rate(c, now), state.rates.retry_after_secs()) {
        Ok(draft) => draft,
        Err(e) if e.code == "rate_unavailable" => {
            // A repeated order needs no rate: its invoice has one locked.
            if let (Some(order_id), Some((currency, price))) = (order_id, asked) {
                if let Ok(Some(existing)) = state.reader.invoice_by_order(&order_id) {
                    if existing.currency == currency.code() && existing.price == Some(price) {
                        let body = existing.to_api(&state.settings.server.public_url, state.tip());
                        return Ok(HttpResponse::Ok().json(body));
                    }
                    return Err(order_conflict());
                }
            }
            log::warn!("invoice refused: {}", e.message);
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let result = creation::create_invoice(&state.store, &state.wallet, draft).await;
    state.allocator.do_send(CheckPool);
    let created = result.map_err(|e| match e {
        CreateError::OrderConflict => order_conflict(),
        CreateError::WalletUnavailable(why) => {
            log::warn!("invoice refused: address pool empty and wallet unavailable ({why})");
            ApiError {
                retry_after: Some(RETRY_AFTER_SECS),
                ..ApiError::new(
                    503,
                    "wallet_unavailable",
                    "no payment address can be had now: the address pool is empty and the wallet is unavailable",
                )
            }
        }
        CreateError::Store(e) => ApiError::store("invoice creation", &e),
    })?;
    let invoice = &created.invoice;
    let body = invoice.to_api(&state.settings.server.public_url, state.tip());
    if created.created {
        let priced = match (&invoice.price, &invoice.rate) {
            (Some(price), Some(rate)) => format!(
                " for {price} {} at {rate} ({})",
                invoice.currency,
                invoice.rate_sources.join(", ")
            ),
            _ => String::new(),
        };
        log::info!(
            "invoice {} created: {} at {}{priced}",
            invoice.id,
            invoice.amount_sats,
            invoice.address
        );
        Ok(HttpResponse::Created().json(body))
    } else {
        Ok(HttpResponse::Ok().json(body))
    }
}

fn order_conflict() -> ApiError {
    ApiError::new(
        409,
        "order_conflict",
        "this order_id already has an invoice for another amount, price or currency",
    )
}

/// `GET /api/v1/invoices/{id}`
pub async fn read(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let id = InvoiceId::parse(&path).map_err(|_| ApiError::not_found("invoice"))?;
    let invoice = state
        .reader
        .invoice(&id)
        .map_err(|e| ApiError::store(&format!("reading invoice {id}"), &e))?;
    let invoice = invoice.ok_or_else(|| ApiError::not_found("invoice"))?;
    Ok(HttpResponse::Ok().json(invoice.to_api(&state.settings.server.public_url, state.tip())))
}

/// `GET /api/v1/invoices?status=&order_id=&limit=&cursor=`
pub async fn list(
    query: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    query::only(&query, &["status", "order_id", "limit", "cursor"])?;
    let status = query::parsed(
        &query,
        "status",
        InvoiceStatus::parse,
        "status must be one of new, paid, confirmed, expired, invalid",
    )?;
    let limit = query::limit(&query, 50, MAX_LIMIT)?;
    // A page reads from disk: off the HTTP workers.
    let reader = state.reader.clone();
    let order_id = query.get("order_id").cloned();
    let cursor = query.get("cursor").cloned();
    let listed = web::block(move || reader.list(status, order_id.as_deref(), limit, cursor.as_deref()))
        .await
        .map_err(|_| ApiError::internal())?;
    let (invoices, next) = listed.map_err(|e| match e {
        crate::store::StoreError::InvalidCursor => query::bad("cursor", "cursor was not given out by this engine"),
        other => ApiError::store("listing invoices", &other),
    })?;
    let tip = state.tip();
    let public_url = &state.settings.server.public_url;
    let invoices: Vec<_> = invoices.iter().map(|i| i.to_api(public_url, tip)).collect();
    Ok(HttpResponse::Ok().json(json!({"invoices": invoices, "next_cursor": next})))
}
