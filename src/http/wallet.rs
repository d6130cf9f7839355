//! `GET /api/v1/wallet`: the wallet link, its network and its balance from
//! the daemon's `getbalance` (what a merchant asks for first).
//!
//! Needs `btcpay.store.canviewstoresettings` once API keys carry permissions
//! (issue 13); until then any configured key, as every `/api/v1` route.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::AppState;
use crate::electron_cash::Balance;

/// What `GET /api/v1/wallet` answers, also shown on the dashboard's overview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletView {
    /// `up`, `down` or `unauthorized`.
    pub state: &'static str,
    /// The wallet's network prefix (`bitcoincash`, `bchtest`, `bchreg`), once known.
    pub network: Option<String>,
    /// The balance, `None` while the link is down or the daemon did not answer.
    pub balance: Option<Balance>,
}

impl WalletView {
    /// The contract's JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "state": self.state,
            "network": self.network,
            "balance": self.balance.map(|b| json!({
                "confirmed_sats": b.confirmed,
                "unconfirmed_sats": b.unconfirmed,
            })),
        })
    }
}

/// Asks the wallet for its balance (at once `None` while the link is not up).
pub(crate) async fn wallet_view(state: &AppState) -> WalletView {
    let status = state.wallet.status();
    let balance = if status.state.is_up() {
        match state.wallet.balance().await {
            Ok(b) => Some(b),
            Err(e) => {
                log::warn!("getbalance failed: {e}");
                None
            }
        }
    } else {
        None
    };
    // The network is learnt from the first address the wallet makes; a store
    // that already holds addresses tells it before the link is up.
    let from_store = || {
        let handed_out = state.reader.ledger(1).ok()?.into_iter().next().map(|(a, _)| a);
        let pooled = || {
            state
                .reader
                .pool_addresses()
                .ok()?
                .first()
                .map(|a| a.as_str().to_owned())
        };
        let address = handed_out.or_else(pooled)?;
        address.split_once(':').map(|(prefix, _)| prefix.to_owned())
    };
    let network = state.wallet.status().network.or_else(from_store);
    WalletView {
        state: state.wallet.status().state.name(),
        network,
        balance,
    }
}

/// `GET /api/v1/wallet`
pub async fn read(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(wallet_view(&state).await.to_json())
}
