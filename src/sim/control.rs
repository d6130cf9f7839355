//! The `/sim/` control routes: JSON in and out, no auth, for the demo and
//! scripts. They share the daemon's port.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use serde::Deserialize;
use serde_json::json;

use super::{lock, Command, Fault, Sim, SimError};

impl ResponseError for SimError {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
    fn error_response(&self) -> HttpResponse {
        let code = match self {
            SimError::BadInput(_) => "bad_input",
            SimError::NotFound(_) => "not_found",
        };
        HttpResponse::BadRequest().json(json!({"error": {"code": code, "message": self.to_string()}}))
    }
}

/// Registers the routes under `/sim`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let json_config =
        web::JsonConfig::default().error_handler(|err, _| SimError::BadInput(format!("bad JSON body: {err}")).into());
    cfg.service(
        web::scope("/sim")
            .app_data(json_config)
            .route("/pay", web::post().to(pay))
            .route("/mine", web::post().to(mine))
            .route("/drop", web::post().to(drop_tx))
            .route("/reorg", web::post().to(reorg))
            .route("/spend", web::post().to(spend))
            .route("/fault", web::post().to(fault))
            .route("/restart", web::post().to(restart))
            .route("/state", web::get().to(state))
            .default_service(web::to(|| async {
                SimError::NotFound("no such control route".into()).error_response()
            })),
    );
}

/// One output of `/sim/pay`.
#[derive(Deserialize)]
struct Output {
    /// Where to pay.
    address: String,
    /// How much.
    amount_sats: u64,
}

/// `/sim/pay`: one address, or several outputs.
#[derive(Deserialize)]
struct PayBody {
    /// Single-output form: the address.
    address: Option<String>,
    /// Single-output form: the amount.
    amount_sats: Option<u64>,
    /// Many-output form.
    outputs: Option<Vec<Output>>,
    /// Spend an unconfirmed parent (height −1).
    #[serde(default)]
    unconfirmed_parent: bool,
}

async fn pay(sim: web::Data<Sim>, body: web::Json<PayBody>) -> Result<HttpResponse, SimError> {
    let body = body.into_inner();
    let outputs: Vec<(String, u64)> = match (body.outputs, body.address, body.amount_sats) {
        (Some(outs), None, None) => outs.into_iter().map(|o| (o.address, o.amount_sats)).collect(),
        (None, Some(a), Some(v)) => vec![(a, v)],
        _ => {
            return Err(SimError::BadInput(
                "give either address and amount_sats, or outputs".into(),
            ))
        }
    };
    let txid = sim.pay_outputs(&outputs, body.unconfirmed_parent)?;
    Ok(HttpResponse::Ok().json(json!({"txid": txid})))
}

/// `/sim/mine`.
#[derive(Deserialize)]
struct MineBody {
    /// How many blocks (default 1).
    blocks: Option<u32>,
    /// Leave the mempool alone.
    #[serde(default)]
    empty: bool,
}

async fn mine(sim: web::Data<Sim>, body: web::Json<MineBody>) -> Result<HttpResponse, SimError> {
    let blocks = body.blocks.unwrap_or(1);
    if blocks > 10_000 {
        return Err(SimError::BadInput("at most 10000 blocks at once".into()));
    }
    let tip = if body.empty {
        sim.mine_empty(blocks)
    } else {
        sim.mine(blocks)
    };
    Ok(HttpResponse::Ok().json(json!({"tip": tip})))
}

/// `/sim/drop`.
#[derive(Deserialize)]
struct TxidBody {
    /// The transaction.
    txid: String,
}

async fn drop_tx(sim: web::Data<Sim>, body: web::Json<TxidBody>) -> Result<HttpResponse, SimError> {
    sim.drop_tx(&body.txid)?;
    Ok(HttpResponse::Ok().json(json!({"dropped": body.txid})))
}

/// `/sim/reorg`.
#[derive(Deserialize)]
struct ReorgBody {
    /// Blocks to disconnect.
    depth: u32,
}

async fn reorg(sim: web::Data<Sim>, body: web::Json<ReorgBody>) -> Result<HttpResponse, SimError> {
    sim.reorg(body.depth)?;
    Ok(HttpResponse::Ok().json(json!({"tip": sim.tip()})))
}

/// `/sim/spend`.
#[derive(Deserialize)]
struct SpendBody {
    /// The address whose coins the merchant spends.
    address: String,
}

async fn spend(sim: web::Data<Sim>, body: web::Json<SpendBody>) -> Result<HttpResponse, SimError> {
    let txid = sim.spend_address(&body.address)?;
    Ok(HttpResponse::Ok().json(json!({"txid": txid})))
}

/// `/sim/fault`.
#[derive(Deserialize)]
struct FaultBody {
    /// none, slow, http500, garbage, unauthorized or down.
    mode: String,
    /// The delay for `slow`.
    delay_ms: Option<u64>,
    /// How long `down` lasts (and, for the others, how long until `none`).
    for_ms: Option<u64>,
}

async fn fault(sim: web::Data<Sim>, body: web::Json<FaultBody>) -> Result<HttpResponse, SimError> {
    let fault = match body.mode.as_str() {
        "none" => Fault::None,
        "slow" => Fault::Slow(Duration::from_millis(body.delay_ms.unwrap_or(1000))),
        "http500" => Fault::Http500,
        "garbage" => Fault::Garbage,
        "unauthorized" => Fault::Unauthorized,
        "down" => {
            let for_ms = body.for_ms.unwrap_or(1000);
            log::info!("sim: going down for {for_ms} ms");
            let _ = sim.inner.commands.send(Command::Down(Duration::from_millis(for_ms)));
            return Ok(HttpResponse::Ok().json(json!({"mode": "down", "for_ms": for_ms})));
        }
        other => return Err(SimError::BadInput(format!("unknown fault mode {other:?}"))),
    };
    sim.set_fault(fault);
    if let Some(ms) = body.for_ms {
        let sim = sim.clone();
        actix_rt::spawn(async move {
            actix_rt::time::sleep(Duration::from_millis(ms)).await;
            sim.set_fault(Fault::None);
        });
    }
    Ok(HttpResponse::Ok().json(json!({"mode": body.mode})))
}

async fn restart(sim: web::Data<Sim>) -> HttpResponse {
    sim.restart_daemon();
    HttpResponse::Ok().json(json!({"loaded": false}))
}

async fn state(sim: web::Data<Sim>) -> HttpResponse {
    let (tip, mempool, addresses) = {
        let chain = sim.chain();
        (chain.tip(), chain.mempool.len(), chain.address_count())
    };
    let by_method = lock(&sim.inner.by_method).clone();
    let fault = format!("{:?}", *lock(&sim.inner.fault));
    HttpResponse::Ok().json(json!({
        "tip": tip,
        "mempool": mempool,
        "addresses": addresses,
        "loaded": sim.wallet_loaded(),
        "requests": sim.request_count(),
        "requests_by_method": by_method,
        "fault": fault,
        "url": sim.url(),
    }))
}
