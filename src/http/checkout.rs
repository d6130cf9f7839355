//! The public checkout routes under `/i/` (no key: the id is unguessable):
//! the page a customer pays on and the status it polls.

pub(crate) mod i18n;
pub(crate) mod page;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::invoice::{api_time, Invoice, InvoiceId};
use i18n::Lang;

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
        .json(status_json(&invoice, state.tip())))
}

/// The body of `GET /i/{id}/status`, which the page also starts from.
pub(crate) fn status_json(invoice: &Invoice, tip: Option<u64>) -> Value {
    json!({
        "status": invoice.status,
        "exception": invoice.exception,
        "received_sats": invoice.received_sats().0,
        "amount_sats": invoice.amount_sats.0,
        "confirmations": invoice.confirmations(tip),
        "expires_at": api_time(invoice.expires_at),
    })
}

/// `GET /i/{id}`: the checkout page, in the language of `Accept-Language`;
/// an HTML 404 page for an id that names no invoice.
pub async fn page(request: HttpRequest, path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let lang = Lang::negotiate(request.headers().get("Accept-Language").and_then(|v| v.to_str().ok()));
    let Ok(id) = InvoiceId::parse(&path) else {
        return html(StatusCode::NOT_FOUND, page::render_missing(lang, false));
    };
    match state.reader.invoice(&id) {
        Ok(Some(invoice)) => {
            let tip = state.tip();
            let body = page::render(
                &invoice,
                &status_json(&invoice, tip),
                invoice.confirmations(tip),
                Utc::now(),
                lang,
            );
            html(StatusCode::OK, body)
        }
        Ok(None) => html(StatusCode::NOT_FOUND, page::render_missing(lang, false)),
        Err(e) => {
            log::error!("reading invoice {id} for its checkout page failed: {e}");
            html(StatusCode::INTERNAL_SERVER_ERROR, page::render_missing(lang, true))
        }
    }
}

/// An HTML answer with the checkout page's headers.
fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Content-Type", "text/html; charset=utf-8"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", page::content_security_policy()))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("X-Frame-Options", "DENY"))
        .insert_header(("Vary", "Accept-Language"))
        .body(body)
}
