//! The HTTP front end: thin handlers that validate, ask an actor or a reader,
//! and turn the answer into JSON. Errors are [`ApiError`]s.

mod admin;
mod api_keys;
pub mod auth;
mod backup;
pub(crate) mod checkout;
pub mod create_request;
pub mod error;
mod events;
mod guard;
mod invoices;
mod notify;
mod query;
mod rates;
pub mod routes;
mod strict_json;
pub mod wallet;

use std::sync::Arc;

use actix::Addr;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub use auth::Authenticated;
pub use error::ApiError;

use crate::allocator::AddressAllocator;
use crate::config::Settings;
use crate::confirmer::ConfirmerHandle;
use crate::electron_cash::WalletLink;
use crate::rates::RatesHandle;
use crate::store::{Health, InvoiceStore, Ping, StoreReader};
use crate::webhook::{WebhookDispatcher, WebhookStats};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The configuration (API keys, public URL, defaults).
    pub settings: Arc<Settings>,
    /// The wallet link, for its status and inline addresses.
    pub wallet: WalletLink,
    /// The single writer.
    pub store: Addr<InvoiceStore>,
    /// Reads without a round trip through the writer.
    pub reader: StoreReader,
    /// Whether the writer can write (and the test fault hook).
    pub store_health: Arc<Health>,
    /// The pool keeper, nudged after each creation.
    pub allocator: Addr<AddressAllocator>,
    /// The confirmer, for the chain tip.
    pub confirmer: ConfirmerHandle,
    /// The webhook dispatcher.
    pub webhooks: Addr<WebhookDispatcher>,
    /// Its counters.
    pub webhook_stats: Arc<WebhookStats>,
    /// The book of fiat rates (read, never waited on).
    pub rates: RatesHandle,
    /// The merchant dashboard's sessions, sign-in throttle and key operations.
    pub dashboard: crate::dashboard::Dashboard,
}

impl AppState {
    /// The chain tip, when known (for confirmations).
    pub fn tip(&self) -> Option<u64> {
        self.confirmer.tip.get()
    }
}

/// Mounts every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/wallet/notify/{token}", web::post().to(notify::push))
        // The route table under routes::PREFIX (written out for tests/openapi.rs's
        // scan of this function), every request checked once by the guard.
        .service(
            web::scope("/api/v1")
                .wrap(actix_web::middleware::from_fn(guard::guard))
                .configure(routes::mount),
        )
        .route("/i/{id}/status", web::get().to(checkout::status))
        .route("/i/{id}", web::get().to(checkout::page))
        // BTCPay's modal checkout (frameable; the dashboard's routes are mounted the same way).
        .configure(crate::greenfield::modal::routes)
        .configure(crate::dashboard::routes)
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route"))
}

/// Prometheus text; no key, no secret in it.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render(&state))
}

/// `200` while the process serves.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// How long `/readyz` waits for the store writer to answer a ping.
pub const STORE_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// `200` when the store and the wallet link are up, `503` with the reason
/// otherwise. Never waits on the wallet (it reads the link's shared status),
/// and on the store writer at most [`STORE_PING_TIMEOUT`]: a writer that
/// cannot write, or does not answer, is `"store": "down"` with `store_error`.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let link = state.wallet.status();
    let store_error = match tokio::time::timeout(STORE_PING_TIMEOUT, state.store.send(Ping)).await {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(e))) => Some(e.to_string()),
        Ok(Err(e)) => Some(format!("the store writer is not running: {e}")),
        Err(_) => Some(format!(
            "the store writer did not answer within {} s",
            STORE_PING_TIMEOUT.as_secs()
        )),
    };
    let ready = link.state.is_up() && store_error.is_none();
    let mut body = json!({
        "status": if ready { "ready" } else { "degraded" },
        "wallet": link.state.to_json(),
        "store": if store_error.is_none() { "ok" } else { "down" },
        "address_pool": {"available": state.reader.pool_len()},
    });
    if let Some(error) = store_error {
        body["store_error"] = json!(error);
    }
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
