//! `GET /api/v1/rates`: each currency's rate now and the state of its sources,
//! from the book the `RateSource` actor keeps (never waits on an exchange).

use actix_web::{web, HttpResponse};

use super::AppState;

/// `GET /api/v1/rates`
pub async fn list(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.rates.to_api(chrono::Utc::now()))
}
