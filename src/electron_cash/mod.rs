//! The `ElectronCash` actor: the only part of bchpay that talks to the wallet
//! daemon.
//!
//! - One call on the wire at a time (the daemon serves one at a time): calls
//!   wait in a queue that the actor pumps.
//! - HTTP Basic sent up front, a timeout on every call.
//! - Link state `up` / `down` / `unauthorized`, shared with `/readyz` through
//!   [`SharedStatus`]. While the link is not up, callers get an error at once
//!   and a probe reconnects on a capped exponential backoff with jitter.
//! - "Wallet not loaded": the configured wallet is loaded and the call retried once.
//! - Runs under an actix `Supervisor` on its own arbiter (awc's client is
//!   `!Send`): a link failure stops it, and the restart drops the client and
//!   fails every waiter, like actix-redis.

mod link;
pub mod rpc;
pub mod stats;
mod wire;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::Utc;
use serde_json::Value;
use tokio::sync::oneshot;

pub use link::{Backoff, LinkState, LinkStatus, SharedStatus};
pub use rpc::{Balance, Method, RpcError};
pub use stats::RpcStats;

use crate::cashaddr::Address;
use crate::config::ElectronCashSettings;
use wire::Wire;

/// First reconnect delay.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Longest reconnect delay, also the probe interval while the credentials are refused.
const BACKOFF_CAP: Duration = Duration::from_secs(10);
/// An idle link is checked after this long without an answer from the daemon.
const HEARTBEAT_IDLE: Duration = Duration::from_secs(2);

/// What a queued job does on the wire.
enum Work {
    /// A caller's call.
    Call { method: &'static str, params: Value },
    /// A reconnect or heartbeat probe (also loads the wallet if none is loaded).
    Probe,
}

/// One piece of work waiting for the wire.
struct Job {
    /// What to send.
    work: Work,
    /// Where the answer goes; `None` for probes.
    reply: Option<oneshot::Sender<Result<Value, RpcError>>>,
}

/// A call by method name with JSON params; [`WalletLink::call`] wraps it with types.
#[derive(Message)]
#[rtype(result = "Result<Value, RpcError>")]
pub struct RawCall {
    /// The daemon's method name.
    pub method: &'static str,
    /// Positional parameters.
    pub params: Value,
}

/// The wallet link actor.
pub struct ElectronCash {
    /// Where and how to reach the daemon.
    settings: ElectronCashSettings,
    /// The HTTP side; built in `started`, dropped on restart.
    wire: Option<Wire>,
    /// Work waiting for the wire, in order.
    queue: VecDeque<Job>,
    /// Whether something is on the wire now.
    busy: bool,
    /// The link state, shared with `/readyz` and the rest of the engine.
    status: SharedStatus,
    /// The reconnect schedule.
    backoff: Backoff,
    /// The timer of the next probe, if one is planned.
    probe_timer: Option<SpawnHandle>,
    /// When the daemon last answered anything.
    last_answer: Instant,
    /// Whether the actor has started before (a restart probes after a backoff delay).
    restarted: bool,
    /// Calls, errors and latencies by method.
    stats: Arc<RpcStats>,
}

impl ElectronCash {
    /// A link that will connect to the daemon of `settings`.
    pub fn new(settings: ElectronCashSettings, status: SharedStatus, stats: Arc<RpcStats>) -> ElectronCash {
        ElectronCash {
            settings,
            wire: None,
            queue: VecDeque::new(),
            busy: false,
            status,
            backoff: Backoff::new(BACKOFF_BASE, BACKOFF_CAP),
            probe_timer: None,
            last_answer: Instant::now(),
            restarted: false,
            stats,
        }
    }

    /// Sends the next queued job if the wire is free.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        let Some(job) = self.queue.pop_front() else { return };
        let Some(wire) = self.wire.clone() else {
            if let Some(reply) = job.reply {
                let _ = reply.send(Err(RpcError::Unavailable("wallet link restarting".into())));
            }
            return;
        };
        self.busy = true;
        let Job { work, reply } = job;
        let probe = matches!(work, Work::Probe);
        let fut = async move {
            match work {
                Work::Call { method, params } => wire.call_with_wallet(method, params).await,
                Work::Probe => wire.probe().await,
            }
        };
        ctx.spawn(fut.into_actor(self).map(move |result, act, ctx| {
            act.busy = false;
            act.settle(&result, probe, ctx);
            if let Some(reply) = reply {
                let _ = reply.send(result);
            }
            act.pump(ctx);
        }));
    }

    /// Updates the link state from the outcome of one exchange.
    fn settle(&mut self, result: &Result<Value, RpcError>, probe: bool, ctx: &mut Context<Self>) {
        match result {
            Err(e) if e.is_link_failure() => {
                let was_up = self.status.get().state.is_up();
                self.mark_failed(e);
                if was_up {
                    // A fresh client and failed waiters: let the supervisor restart us.
                    ctx.stop();
                } else if probe {
                    self.schedule_probe(ctx);
                }
            }
            other => {
                self.last_answer = Instant::now();
                if !self.status.get().state.is_up() {
                    self.backoff.reset();
                    let version = match other {
                        Ok(Value::String(v)) if probe => Some(v.clone()),
                        _ => None,
                    };
                    log::info!(
                        "wallet link up: {} (Electron Cash {})",
                        self.settings.url,
                        version.as_deref().unwrap_or("?")
                    );
                    self.status.update(|s| {
                        s.state = LinkState::Up { since: Utc::now() };
                        s.epoch += 1;
                        if version.is_some() {
                            s.version = version;
                        }
                    });
                }
            }
        }
    }

    /// Records a link failure and fails every queued call.
    fn mark_failed(&mut self, error: &RpcError) {
        let now = Utc::now();
        let previous = self.status.get().state;
        let state = match error {
            RpcError::Unauthorized => LinkState::Unauthorized {
                since: match previous {
                    LinkState::Unauthorized { since } => since,
                    _ => now,
                },
            },
            other => LinkState::Down {
                since: match previous {
                    LinkState::Down { since, .. } => since,
                    _ => now,
                },
                last_error: other.to_string(),
            },
        };
        if state.name() != previous.name() {
            match &state {
                LinkState::Unauthorized { .. } => log::error!(
                    "wallet link unauthorized: the daemon at {} rejects the RPC credentials; \
                     fix electron_cash.rpc_user / rpc_password (checking again every {}s)",
                    self.settings.url,
                    BACKOFF_CAP.as_secs()
                ),
                _ => log::warn!("wallet link down: {error}; reconnecting in the background"),
            }
        } else {
            log::debug!("wallet link still {}: {error}", state.name());
        }
        self.status.update(|s| s.state = state);
        self.fail_queue(error);
    }

    /// Answers every waiting call with the link's error.
    fn fail_queue(&mut self, error: &RpcError) {
        let error = match error {
            RpcError::Unauthorized => RpcError::Unauthorized,
            other => RpcError::Unavailable(other.to_string()),
        };
        for job in self.queue.drain(..) {
            if let Some(reply) = job.reply {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }

    /// Plans the next reconnect probe on the backoff schedule.
    fn schedule_probe(&mut self, ctx: &mut Context<Self>) {
        let delay = match self.status.get().state {
            LinkState::Unauthorized { .. } => self.backoff.cap(),
            _ => self.backoff.next_delay(),
        };
        self.probe_after(delay, ctx);
    }

    fn probe_after(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        if let Some(timer) = self.probe_timer.take() {
            ctx.cancel_future(timer);
        }
        log::trace!("wallet link probe in {delay:?}");
        self.probe_timer = Some(ctx.run_later(delay, |act, ctx| {
            act.probe_timer = None;
            act.queue.push_front(Job {
                work: Work::Probe,
                reply: None,
            });
            act.pump(ctx);
        }));
    }

    /// Checks an idle link, so that a daemon that went away shows on `/readyz`
    /// and a daemon that restarted gets its wallet back before the next call.
    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let idle = !self.busy && self.queue.is_empty() && self.probe_timer.is_none();
        if idle && self.status.get().state.is_up() && self.last_answer.elapsed() >= HEARTBEAT_IDLE {
            self.queue.push_back(Job {
                work: Work::Probe,
                reply: None,
            });
            self.pump(ctx);
        }
    }
}

impl Actor for ElectronCash {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.wire = Some(Wire::new(&self.settings, self.stats.clone(), self.status.clone()));
        self.busy = false;
        ctx.run_interval(HEARTBEAT_IDLE / 2, |act, ctx| act.heartbeat(ctx));
        if self.restarted {
            self.schedule_probe(ctx);
        } else {
            self.probe_after(Duration::ZERO, ctx);
        }
        self.restarted = true;
    }
}

impl Supervised for ElectronCash {
    fn restarting(&mut self, _ctx: &mut Context<Self>) {
        log::debug!("wallet link actor restarting with a fresh client");
        self.wire = None;
        self.busy = false;
        self.probe_timer = None;
        self.fail_queue(&RpcError::Unavailable("wallet link restarted".into()));
        if self.status.get().state.is_up() {
            self.status.update(|s| {
                s.state = LinkState::Down {
                    since: Utc::now(),
                    last_error: "wallet link restarted".into(),
                }
            });
        }
    }
}

impl Handler<RawCall> for ElectronCash {
    type Result = ResponseFuture<Result<Value, RpcError>>;

    fn handle(&mut self, msg: RawCall, ctx: &mut Context<Self>) -> Self::Result {
        match self.status.get().state {
            LinkState::Up { .. } => {}
            LinkState::Down { last_error, .. } => {
                return Box::pin(std::future::ready(Err(RpcError::Unavailable(last_error))));
            }
            LinkState::Unauthorized { .. } => return Box::pin(std::future::ready(Err(RpcError::Unauthorized))),
        }
        let (tx, rx) = oneshot::channel();
        self.queue.push_back(Job {
            work: Work::Call {
                method: msg.method,
                params: msg.params,
            },
            reply: Some(tx),
        });
        self.pump(ctx);
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err(RpcError::Unavailable("wallet link restarted".into())))
        })
    }
}

/// A cheap, `Send` handle on the wallet link: typed calls and the link status.
#[derive(Clone)]
pub struct WalletLink {
    /// The supervised actor.
    addr: Addr<ElectronCash>,
    /// Its status, readable without a message.
    status: SharedStatus,
    /// Calls made through this link (every clone), for tick costs and metrics.
    calls: Arc<AtomicU64>,
    /// Calls on the wire by method, for metrics.
    stats: Arc<RpcStats>,
}

impl WalletLink {
    /// Starts the link on an arbiter of its own. Call inside an actix `System`.
    pub fn start(settings: ElectronCashSettings) -> WalletLink {
        let status = SharedStatus::new();
        let shared = status.clone();
        let stats = Arc::new(RpcStats::default());
        let s = stats.clone();
        let arbiter = Arbiter::new();
        let addr = Supervisor::start_in_arbiter(&arbiter.handle(), move |_| ElectronCash::new(settings, shared, s));
        WalletLink {
            addr,
            status,
            calls: Arc::default(),
            stats,
        }
    }

    /// Calls on the wire by method.
    pub fn rpc_stats(&self) -> &RpcStats {
        &self.stats
    }

    /// Calls made through this link so far.
    pub fn calls_made(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls `method` on the daemon.
    pub async fn call<M: Method>(&self, method: M) -> Result<M::Output, RpcError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let raw = self
            .addr
            .send(RawCall {
                method: M::NAME,
                params: method.params(),
            })
            .await
            .map_err(|_| RpcError::Unavailable("wallet link actor is not running".into()))??;
        M::parse(raw)
    }

    /// `createnewaddress`, remembering the wallet's network from the address.
    pub async fn create_new_address(&self) -> Result<Address, RpcError> {
        let address = self.call(rpc::CreateNewAddress).await?;
        if self.status.get().network.as_deref() != Some(address.prefix()) {
            let prefix = address.prefix().to_owned();
            log::info!("wallet network: {prefix}");
            self.status.update(|s| s.network = Some(prefix));
        }
        Ok(address)
    }

    /// `getbalance`: the wallet's balance in satoshis.
    pub async fn balance(&self) -> Result<Balance, RpcError> {
        self.call(rpc::GetBalance).await
    }

    /// The link status now.
    pub fn status(&self) -> LinkStatus {
        self.status.get()
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::electron_cash::rpc::{GetInfo, Version};

    fn settings(url: String) -> ElectronCashSettings {
        ElectronCashSettings {
            url,
            timeout_secs: 2,
            ..ElectronCashSettings::default()
        }
    }

    /// A daemon stand-in that answers `version` after 30 ms and records how
    /// many connections it served at once.
    fn counting_daemon() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (open, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let max_seen = max.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (open, max) = (open.clone(), max.clone());
                std::thread::spawn(move || {
                    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
                    max.fetch_max(now, Ordering::SeqCst);
                    let mut stream = stream;
                    let mut buf = vec![0u8; 4096];
                    let n = stream.read(&mut buf).unwrap_or(0);
                    let text = String::from_utf8_lossy(&buf[..n]);
                    let id = text
                        .split("\"id\":")
                        .nth(1)
                        .and_then(|r| r.trim_start().split(|c: char| !c.is_ascii_digit()).next())
                        .unwrap_or("0")
                        .to_owned();
                    std::thread::sleep(Duration::from_millis(30));
                    let result = if text.contains("list_wallets") {
                        r#"[{"path": "/w", "synchronized": true}]"#
                    } else {
                        r#""4.4.5""#
                    };
                    let body = format!("{{\"result\": {result}, \"id\": {id}, \"error\": null}}");
                    let reply = format!(
                        "HTTP/1.0 200 OK\r\nContent-Type: application/json-rpc\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    open.fetch_sub(1, Ordering::SeqCst);
                    let _ = stream.write_all(reply.as_bytes());
                });
            }
        });
        (url, max_seen)
    }

    async fn wait_up(link: &WalletLink) {
        let deadline = Instant::now() + Duration::from_secs(3);
        while !link.status().state.is_up() {
            assert!(
                Instant::now() < deadline,
                "link did not come up: {:?}",
                link.status().state
            );
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[actix_rt::test]
    async fn calls_fail_at_once_while_nothing_listens() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let link = WalletLink::start(settings(format!("http://127.0.0.1:{port}")));
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            if let LinkState::Down { last_error, .. } = link.status().state {
                if last_error.contains("connect") {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "{:?}", link.status().state);
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        let t = Instant::now();
        assert!(matches!(link.call(GetInfo).await, Err(RpcError::Unavailable(_))));
        assert!(t.elapsed() < Duration::from_millis(50));
    }

    #[actix_rt::test]
    async fn only_one_call_is_on_the_wire_at_a_time() {
        let (url, max_open) = counting_daemon();
        let link = WalletLink::start(settings(url));
        wait_up(&link).await;
        let calls: Vec<_> = (0..8).map(|_| link.call(Version)).collect();
        for result in futures_util::future::join_all(calls).await {
            assert_eq!(result.unwrap(), "4.4.5");
        }
        assert_eq!(max_open.load(Ordering::SeqCst), 1);
    }
}
