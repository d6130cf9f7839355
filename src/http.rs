//! The HTTP front end: thin handlers that validate, ask an actor or a reader,
//! and turn the answer into JSON. So far: `/healthz` and `/readyz`.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::electron_cash::WalletLink;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The wallet link, for its status.
    pub wallet: WalletLink,
}

/// Mounts every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

/// `200` while the process serves.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `200` when the wallet link is up, `503` with the reason otherwise. Never
/// waits on the wallet: it reads the link's shared status.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let link = state.wallet.status();
    let ready = link.state.is_up();
    let body = json!({
        "status": if ready { "ready" } else { "degraded" },
        "wallet": link.state.to_json(),
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
