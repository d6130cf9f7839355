//! The simulated Electron Cash daemon: a real HTTP JSON-RPC server on a
//! loopback port that answers like the daemon of `electron-cash-rpc.md`, with
//! a deterministic wallet and a chain that tests drive from Rust or over
//! HTTP under `/sim/`.
//!
//! - [`address`]: cashaddr/legacy parsing and the output scripts.
//! - [`tx`]: real serialized transactions, txids, `deserialize`.
//! - [`chain`] and [`views`]: wallet, blocks, mempool, indexes, notify.
//! - `params`: python-style parameter binding and its errors.
//! - `rpc`: the JSON-RPC endpoint (auth, envelope, methods).
//! - `control`: the `/sim/` routes.
//! - [`exchange`]: simulated exchanges (Upbit- and Kraken-shaped tickers) for fiat rates.

pub mod address;
pub mod chain;
mod control;
pub mod exchange;
mod methods;
pub mod notify;
mod params;
mod rpc;
pub mod tx;
pub mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::KeepAlive;
use actix_web::{web, App, HttpServer};
use tokio::sync::mpsc;

use chain::Chain;
use notify::Notification;

/// How the simulated daemon is set up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// The daemon's `rpcuser`.
    pub rpc_user: String,
    /// The daemon's `rpcpassword`; empty turns auth off.
    pub rpc_password: String,
    /// `bchreg`, `bchtest` or `bitcoincash`: the cashaddr prefix.
    pub network: String,
    /// The wallet the daemon was started with (`-w`).
    pub wallet_path: String,
    /// Seed of the deterministic wallet.
    pub seed: u64,
    /// Whether the wallet is loaded at start.
    pub wallet_loaded: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rpc_user: "bchrpc".into(),
            rpc_password: String::new(),
            network: "bchreg".into(),
            wallet_path: "/sim/wallets/default_wallet".into(),
            seed: 1,
            wallet_loaded: true,
        }
    }
}

/// Why a control call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The request makes no sense in this state or is malformed.
    #[error("{0}")]
    BadInput(String),
    /// The transaction or address named is unknown.
    #[error("{0}")]
    NotFound(String),
}

/// A fault the RPC endpoint shows until told otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Answer normally.
    #[default]
    None,
    /// Answer after this delay (holding the daemon's one-at-a-time lock).
    Slow(Duration),
    /// Answer HTTP 500.
    Http500,
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 401 whatever the credentials.
    Unauthorized,
}

/// Work for the task on the System's arbiter that owns awc and the listener.
enum Command {
    /// POST a notify status.
    Post(Notification),
    /// Stop listening for a while, then listen again.
    Down(Duration),
}

/// State shared by the handle, the RPC and control routes.
struct Inner {
    /// The configuration given at start.
    config: SimConfig,
    /// The bound address (fixed once listening).
    addr: SocketAddr,
    /// Wallet, chain and subscriptions.
    chain: Mutex<Chain>,
    /// Whether the daemon has a wallet loaded.
    loaded: AtomicBool,
    /// The daemon answers one request at a time.
    rpc_lock: tokio::sync::Mutex<()>,
    /// The current fault.
    fault: Mutex<Fault>,
    /// Extra latency per method.
    delays: Mutex<HashMap<String, Duration>>,
    /// Requests that reached the RPC endpoint.
    total: AtomicU64,
    /// Requests per method name.
    by_method: Mutex<HashMap<String, u64>>,
    /// The running server, `None` while not listening.
    server: tokio::sync::Mutex<Option<ServerHandle>>,
    /// To the arbiter task (notify posts, timed outages).
    commands: mpsc::UnboundedSender<Command>,
}

/// A handle on a running simulated daemon; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Sim {
    /// Binds and serves on the current actix System (one worker); returns once listening.
    pub async fn start(config: SimConfig) -> std::io::Result<Sim> {
        let (tx, rx) = mpsc::unbounded_channel();
        let chain = Chain::new(&config.network, config.seed, now_unix());
        let loaded = config.wallet_loaded;
        // Bind first to learn the port, then keep the socket for the server.
        let probe = std::net::TcpListener::bind(config.listen)?;
        let addr = probe.local_addr()?;
        drop(probe);
        let inner = Arc::new(Inner {
            config,
            addr,
            chain: Mutex::new(chain),
            loaded: AtomicBool::new(loaded),
            rpc_lock: tokio::sync::Mutex::new(()),
            fault: Mutex::new(Fault::None),
            delays: Mutex::new(HashMap::new()),
            total: AtomicU64::new(0),
            by_method: Mutex::new(HashMap::new()),
            server: tokio::sync::Mutex::new(None),
            commands: tx,
        });
        let sim = Sim { inner };
        actix_rt::spawn(arbiter_task(Arc::downgrade(&sim.inner), rx));
        sim.start_listening().await?;
        log::info!("simulated Electron Cash daemon listening on {}", sim.url());
        Ok(sim)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    fn chain(&self) -> MutexGuard<'_, Chain> {
        lock(&self.inner.chain)
    }

    /// Runs a chain mutation, then sends the notify POSTs it made due.
    fn mutate<T>(&self, f: impl FnOnce(&mut Chain) -> T) -> T {
        let (out, posts) = {
            let mut chain = self.chain();
            let out = f(&mut chain);
            (out, chain.take_notifications())
        };
        self.send_posts(posts);
        out
    }

    fn send_posts(&self, posts: Vec<Notification>) {
        for p in posts {
            let _ = self.inner.commands.send(Command::Post(p));
        }
    }

    /// Like `createnewaddress`: a new wallet address, without prefix.
    pub fn new_address(&self) -> String {
        let mut chain = self.chain();
        let dest = chain.create_address();
        dest.short(&chain.prefix)
    }

    /// A new address that is not in the wallet, without prefix.
    pub fn external_address(&self) -> String {
        let mut chain = self.chain();
        let dest = chain.external();
        dest.short(&chain.prefix)
    }

    fn parse_address(&self, text: &str) -> Result<address::Dest, SimError> {
        address::parse(text, &self.inner.config.network)
            .ok_or_else(|| SimError::BadInput(format!("invalid address {text:?}")))
    }

    /// Pays `sats` to `address` from outside the wallet; the txid, in the mempool.
    pub fn pay(&self, address: &str, sats: u64) -> Result<String, SimError> {
        self.pay_outputs(&[(address.to_owned(), sats)], false)
    }

    /// Pays several outputs in one transaction, optionally spending an
    /// unconfirmed parent (height −1 in the server's view).
    pub fn pay_outputs(&self, outputs: &[(String, u64)], unconfirmed_parent: bool) -> Result<String, SimError> {
        let outs = outputs
            .iter()
            .map(|(a, v)| Ok((self.parse_address(a)?, *v)))
            .collect::<Result<Vec<_>, SimError>>()?;
        let txid = self.mutate(|c| c.pay(&outs, unconfirmed_parent))?;
        log::info!("sim: paid {outputs:?} in {txid}");
        Ok(txid)
    }

    /// Mines `blocks` blocks, the first with the whole mempool; returns the tip.
    pub fn mine(&self, blocks: u32) -> u64 {
        let tip = self.mutate(|c| c.mine(blocks, false, now_unix()));
        log::info!("sim: mined {blocks} block(s), tip {tip}");
        tip
    }

    /// Mines `blocks` empty blocks; returns the tip.
    pub fn mine_empty(&self, blocks: u32) -> u64 {
        let tip = self.mutate(|c| c.mine(blocks, true, now_unix()));
        log::info!("sim: mined {blocks} empty block(s), tip {tip}");
        tip
    }

    /// A double spend: an unconfirmed transaction (and its children) vanishes.
    pub fn drop_tx(&self, txid: &str) -> Result<(), SimError> {
        self.mutate(|c| c.drop_tx(txid))?;
        log::info!("sim: dropped {txid}");
        Ok(())
    }

    /// Disconnects the last `depth` blocks; their transactions go back to the mempool.
    pub fn reorg(&self, depth: u32) -> Result<(), SimError> {
        self.mutate(|c| c.reorg(depth))?;
        log::info!("sim: reorg of {depth} block(s), tip {}", self.tip());
        Ok(())
    }

    /// The merchant spends that address's coins to an outside address.
    pub fn spend_address(&self, address: &str) -> Result<String, SimError> {
        let dest = self.parse_address(address)?;
        let txid = self.mutate(|c| c.spend(dest))?;
        log::info!("sim: spent the coins of {address} in {txid}");
        Ok(txid)
    }

    /// The chain tip's height.
    pub fn tip(&self) -> u64 {
        self.chain().tip()
    }

    /// Sets the fault the RPC endpoint shows.
    pub fn set_fault(&self, fault: Fault) {
        log::info!("sim: fault {fault:?}");
        *lock(&self.inner.fault) = fault;
    }

    /// Adds latency to one method (e.g. `getaddresshistory` ≈ 1 s as measured).
    pub fn set_method_delay(&self, method: &str, delay: Duration) {
        lock(&self.inner.delays).insert(method.to_owned(), delay);
    }

    /// Stops listening: connections are refused from now on.
    pub async fn stop_listening(&self) {
        let handle = self.inner.server.lock().await.take();
        if let Some(handle) = handle {
            handle.stop(false).await;
            log::info!("sim: stopped listening on {}", self.inner.addr);
        }
    }

    /// Listens again on the same port.
    pub async fn start_listening(&self) -> std::io::Result<()> {
        let mut slot = self.inner.server.lock().await;
        if slot.is_some() {
            return Ok(());
        }
        let data = web::Data::new(self.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .configure(control::routes)
                .default_service(web::to(rpc::endpoint))
        })
        .workers(1)
        .keep_alive(KeepAlive::Disabled)
        .disable_signals()
        .shutdown_timeout(0)
        .bind(self.inner.addr)?
        .run();
        *slot = Some(server.handle());
        actix_rt::spawn(server);
        Ok(())
    }

    /// A daemon restart: forgets the loaded wallet and the notify subscriptions.
    pub fn restart_daemon(&self) {
        self.inner.loaded.store(false, Ordering::SeqCst);
        self.chain().forget_subscriptions();
        log::info!("sim: daemon restarted, no wallet loaded");
    }

    /// Whether a wallet is loaded.
    pub fn wallet_loaded(&self) -> bool {
        self.inner.loaded.load(Ordering::SeqCst)
    }

    /// Every request that reached the RPC endpoint, 401s included.
    pub fn request_count(&self) -> u64 {
        self.inner.total.load(Ordering::SeqCst)
    }

    /// Requests for one method.
    pub fn requests_for(&self, method: &str) -> u64 {
        lock(&self.inner.by_method).get(method).copied().unwrap_or(0)
    }

    /// Loads the configured wallet; `true` if it was not loaded before.
    fn load_wallet(&self) -> bool {
        let fresh = !self.inner.loaded.swap(true, Ordering::SeqCst);
        if fresh {
            self.chain().reload_wallet();
            log::info!("sim: wallet {} loaded", self.inner.config.wallet_path);
        }
        fresh
    }
}

/// Owns awc and the listener restarts on the System's arbiter.
async fn arbiter_task(inner: Weak<Inner>, mut rx: mpsc::UnboundedReceiver<Command>) {
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::Post(n) => {
                actix_rt::spawn(post_status(n));
            }
            Command::Down(d) => {
                let Some(inner) = inner.upgrade() else { return };
                let sim = Sim { inner };
                // Let the control reply that asked for this go out first.
                actix_rt::time::sleep(Duration::from_millis(50)).await;
                sim.stop_listening().await;
                actix_rt::time::sleep(d).await;
                if let Err(e) = sim.start_listening().await {
                    log::error!("sim: could not listen again on {}: {e}", sim.addr());
                }
            }
        }
    }
}

/// One notify POST: 5 s timeout, no retry.
async fn post_status(n: Notification) {
    let client = awc::Client::builder().timeout(Duration::from_secs(5)).finish();
    let body = serde_json::json!({"address": n.address, "status": n.status});
    match client.post(&n.url).send_json(&body).await {
        Ok(resp) => log::debug!("sim: notify {} -> {}: {}", n.address, n.url, resp.status()),
        Err(e) => log::warn!("sim: notify {} -> {} failed: {e}", n.address, n.url),
    }
}

/// Serves a simulated daemon until Ctrl-C (`bchpay sim --listen ADDR`).
pub async fn run(config: SimConfig) -> std::io::Result<()> {
    let sim = Sim::start(config).await?;
    log::info!("bchpay sim: JSON-RPC at {}/ , control at {}/sim/", sim.url(), sim.url());
    actix_rt::signal::ctrl_c().await?;
    sim.stop_listening().await;
    Ok(())
}
