//! The public checkout routes under `/i/` (no key: the id is unguessable).

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::error::ApiError;
use super::AppState;
use crate::invoice::{api_time, InvoiceId};

/// `GET /i/{id}/status`: what the checkout page polls.
pub async fn status(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let id = InvoiceId::parse(&path).map_err(|_| ApiError::not_found("invoice"))?;
    let invoice = state
        .reader
        .invoice(&id)
        .map_err(|e| {
            log::error!("reading invoice {id} failed: {e}");
            ApiError::internal()
        })?
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "status": invoice.status,
            "exception": invoice.exception,
            "received_sats": invoice.received_sats().0,
            "amount_sats": invoice.amount_sats.0,
            "confirmations": invoice.confirmations(state.tip()),
            "expires_at": api_time(invoice.expires_at),
        })))
}
