//! `/api/v1/admin/…`: what `bchpay inspect --url` reads from a running engine
//! (same key as the rest of the API; read only).

use std::collections::HashMap;

use actix_web::{web, HttpResponse};

use super::error::ApiError;
use super::query;
use super::AppState;
use crate::event::DeliveryState;
use crate::inspect::{self, InspectError, Query};
use crate::invoice::{InvoiceId, InvoiceStatus};

fn limit(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    query::limit(q, 100, 100_000)
}

async fn answer(state: &AppState, q: Query) -> Result<HttpResponse, ApiError> {
    let reader = state.reader.clone();
    let dir = state.settings.store.path.clone();
    let result = web::block(move || inspect::query(&reader, &dir, &q))
        .await
        .map_err(|_| ApiError::internal())?;
    match result {
        Ok(v) => Ok(HttpResponse::Ok().json(v)),
        Err(InspectError::NotFound(_)) => Err(ApiError::not_found("invoice")),
        Err(e) => {
            log::error!("admin query failed: {e}");
            Err(ApiError::internal())
        }
    }
}

/// `GET /api/v1/admin/stats?check=true|false`
pub async fn stats(
    q: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let check = query::parsed(&q, "check", |v| v.parse::<bool>().ok(), "check must be true or false")?;
    answer(
        &state,
        Query::Stats {
            check: check.unwrap_or(false),
        },
    )
    .await
}

/// `GET /api/v1/admin/invoices?status=&limit=`
pub async fn invoices(
    q: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let status = query::parsed(&q, "status", InvoiceStatus::parse, "unknown status")?;
    answer(
        &state,
        Query::Invoices {
            status,
            limit: limit(&q)?,
        },
    )
    .await
}

/// `GET /api/v1/admin/invoices/{id}`: with payments and events.
pub async fn invoice(path: web::Path<String>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let id = InvoiceId::parse(&path).map_err(|_| ApiError::not_found("invoice"))?;
    answer(&state, Query::Invoice(id)).await
}

/// `GET /api/v1/admin/addresses?limit=`: the ledger.
pub async fn addresses(
    q: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, Query::Addresses { limit: limit(&q)? }).await
}

/// `GET /api/v1/admin/pool?limit=`
pub async fn pool(
    q: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, Query::Pool { limit: limit(&q)? }).await
}

/// `GET /api/v1/admin/events?state=&limit=`
pub async fn events(
    q: web::Query<HashMap<String, String>>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let delivery = query::parsed(&q, "state", DeliveryState::parse, "unknown state")?;
    answer(
        &state,
        Query::Events {
            state: delivery,
            limit: limit(&q)?,
        },
    )
    .await
}
