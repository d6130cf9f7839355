//! One exchange with the daemon over HTTP: Basic auth up front, a timeout,
//! the reply read by [`rpc::parse_reply`], and the "Wallet not loaded" dance.

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use awc::http::header::CONTENT_TYPE;
use serde_json::{json, Value};

use super::rpc::{self, Method, RpcError};
use super::stats::RpcStats;
use super::SharedStatus;
use crate::config::ElectronCashSettings;

/// Largest reply read (a wallet-wide `history` of a big wallet is a few MB).
const MAX_REPLY: usize = 256 * 1024 * 1024;

/// The HTTP client and what it needs to reach the daemon. `!Send`: it lives on
/// the link's arbiter.
#[derive(Clone)]
pub(super) struct Wire {
    /// awc's client (connections are closed after each reply, as the daemon does).
    client: awc::Client,
    /// Daemon settings: URL, credentials, wallet, timeout.
    settings: Rc<ElectronCashSettings>,
    /// JSON-RPC ids.
    next_id: Arc<AtomicU64>,
    /// Calls, errors and latencies by method.
    stats: Arc<RpcStats>,
    /// The link status, to bump its epoch when the wallet is loaded again.
    status: SharedStatus,
}

impl Wire {
    pub(super) fn new(settings: &ElectronCashSettings, stats: Arc<RpcStats>, status: SharedStatus) -> Wire {
        let client = awc::Client::builder()
            .disable_redirects()
            .timeout(settings.timeout())
            .finish();
        Wire {
            client,
            settings: Rc::new(settings.clone()),
            next_id: Arc::new(AtomicU64::new(1)),
            stats,
            status,
        }
    }

    /// One call, no retry.
    pub(super) async fn call(&self, method: &str, params: &Value) -> Result<Value, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let timeout = self.settings.timeout();
        let started = std::time::Instant::now();
        let exchange = async {
            let mut response = self
                .client
                .post(&self.settings.url)
                .force_close()
                .basic_auth(&self.settings.rpc_user, self.settings.rpc_password.expose())
                .insert_header((CONTENT_TYPE, "application/json"))
                .send_body(rpc::request_body(id, method, params))
                .await
                .map_err(|e| RpcError::Unavailable(describe_send_error(&e, timeout)))?;
            let status = response.status().as_u16();
            let body = response
                .body()
                .limit(MAX_REPLY)
                .await
                .map_err(|e| RpcError::Unavailable(format!("reading the reply failed: {e}")))?;
            rpc::parse_reply(status, &body, id)
        };
        let result = match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(RpcError::Unavailable(format!(
                "no answer within {}s",
                timeout.as_secs()
            ))),
        };
        self.stats.record(method, started.elapsed(), &result);
        log::trace!("rpc {method} -> {}", if result.is_ok() { "ok" } else { "error" });
        result
    }

    /// A call; if the daemon has no wallet loaded, load the configured one and retry once.
    pub(super) async fn call_with_wallet(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        match self.call(method, &params).await {
            Err(RpcError::NoWallet) => {
                self.load_wallet().await?;
                self.call(method, &params).await
            }
            other => other,
        }
    }

    /// Is the daemon there? Answers its version; loads the wallet if none is
    /// loaded (a daemon that restarted forgot it). A wallet that cannot be
    /// loaded is logged, not a link failure: the daemon itself answers.
    pub(super) async fn probe(&self) -> Result<Value, RpcError> {
        let version = self.call(rpc::Version::NAME, &json!([])).await?;
        let wallets = self
            .call(rpc::ListWallets::NAME, &json!([]))
            .await
            .and_then(rpc::ListWallets::parse)?;
        if wallets.is_empty() {
            if let Err(e) = self.load_wallet().await {
                log::warn!("wallet daemon has no wallet loaded and loading one failed: {e}");
            }
        }
        Ok(version)
    }

    /// Loads the configured wallet (or the daemon's `-w` one) and checks it is loaded.
    async fn load_wallet(&self) -> Result<(), RpcError> {
        let wallet = self.settings.wallet.as_str();
        let (method, params) = if wallet.is_empty() {
            (rpc::LoadWallet::NAME, json!([]))
        } else {
            (
                rpc::LoadWalletPath::NAME,
                rpc::LoadWalletPath(wallet.to_owned()).params(),
            )
        };
        let loaded = self.call(method, &params).await?;
        let wallets = self
            .call(rpc::ListWallets::NAME, &json!([]))
            .await
            .and_then(rpc::ListWallets::parse)?;
        let ok = loaded == Value::Bool(true)
            && if wallet.is_empty() {
                !wallets.is_empty()
            } else {
                wallets.iter().any(|w| w.path == wallet)
            };
        if ok {
            let names: Vec<&str> = wallets.iter().map(|w| w.path.as_str()).collect();
            log::info!("wallet daemon had no wallet loaded; loaded {}", names.join(", "));
            self.status.update(|s| s.epoch += 1);
            Ok(())
        } else {
            let which = if wallet.is_empty() {
                "the daemon's default wallet (-w)".to_owned()
            } else {
                wallet.to_owned()
            };
            log::warn!("wallet daemon could not load {which}");
            Err(RpcError::NoWallet)
        }
    }
}

fn describe_send_error(error: &awc::error::SendRequestError, timeout: Duration) -> String {
    use awc::error::SendRequestError as E;
    match error {
        E::Timeout => format!("no answer within {}s", timeout.as_secs()),
        E::Connect(e) => format!("cannot connect: {e}"),
        other => other.to_string(),
    }
}
