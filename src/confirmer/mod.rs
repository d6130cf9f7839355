//! `PaymentConfirmer`: turns what the wallet sees into invoice states, cheaply.
//!
//! Every `poll_interval_ms` (never overlapping) a tick:
//! 1. `getinfo` for the tip and one wallet-wide `history` (with the addresses
//!    each transaction pays) — two round trips whatever the number of
//!    watched invoices;
//! 2. diffs that history with the last one: transactions that appeared,
//!    vanished or moved name the few watched addresses that changed (a
//!    transaction the wallet lists without addresses is read once);
//! 3. hands the store at once, as unconfirmed, the payments of transactions
//!    new in that history that their invoices have not stored: a payment
//!    shows within a tick even where the server's view costs a second;
//! 4. asks the server's view (`getaddresshistory`) only for the changed addresses, for paid
//!    invoices when the tip moved (confirmations), and for one address every
//!    few ticks in a slow round-robin sweep (the safety net);
//! 5. takes each payment's amount from the transaction itself
//!    (`gettransaction` + `deserialize`, cached forever), never from balances,
//!    and hands the result to the store, which applies the lifecycle.
//!
//! Heights come from the server's view only: the wallet's own heights go stale
//! after a reorg. A clock every 250 ms expires unpaid invoices at their
//! `expires_at` and ends the monitoring windows, without wallet calls.
//! Addresses found changed but not yet checked (the wallet went down mid-tick)
//! stay pending for the next tick, so nothing is missed across outages.

mod state;
mod tick;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;

pub use state::State;
pub use tick::{TickReport, SWEEP_EVERY};

use crate::cashaddr::Address;
use crate::electron_cash::WalletLink;
use crate::invoice::lifecycle::Policy;
use crate::store::{ApplyObservation, InvoiceStore, StoreReader, Subscribe, Watch};

/// How often the clock looks for expiries.
const CLOCK_EVERY: Duration = Duration::from_millis(250);

/// The chain tip as last seen, shared with the HTTP handlers (0: unknown).
#[derive(Debug, Clone, Default)]
pub struct SharedTip(Arc<AtomicU64>);

impl SharedTip {
    /// The tip, once known.
    pub fn get(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }

    pub(crate) fn set(&self, tip: u64) {
        self.0.store(tip, Ordering::Relaxed);
    }
}

/// The confirmer actor.
pub struct PaymentConfirmer {
    /// Where payments are seen.
    wallet: WalletLink,
    /// Where transitions are applied.
    store: Addr<InvoiceStore>,
    /// To load the watch list at start.
    reader: StoreReader,
    /// Tolerance and monitoring window.
    policy: Policy,
    /// Time between ticks.
    interval: Duration,
    /// Watched invoices, history, caches; shared with the running tick on this thread.
    state: Rc<RefCell<State>>,
    /// Whether a tick is running (ticks never overlap).
    ticking: bool,
    /// Ticks started, for the sweep's pace.
    ticks: u64,
    /// The tip, for the API.
    tip: SharedTip,
    /// The last tick's figures.
    report: Arc<Mutex<TickReport>>,
    /// Where the daemon posts `notify` pushes, when they are wired.
    notify_url: Option<String>,
    /// A push arrived during a tick: tick again right after it.
    again: bool,
}

/// The daemon pushed a change of this address (`notify`): look at it now.
/// Only a hint: what the address holds is read from the server as usual.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Pushed(pub Address);

/// Look at the wallet now (a wallet push, or a test).
#[derive(Message)]
#[rtype(result = "()")]
pub struct TickNow;

/// What the rest of the engine keeps of a started confirmer.
#[derive(Clone)]
pub struct ConfirmerHandle {
    /// The actor.
    pub addr: Addr<PaymentConfirmer>,
    /// The chain tip it last saw.
    pub tip: SharedTip,
    /// Its last tick's figures.
    pub report: Arc<Mutex<TickReport>>,
}

impl ConfirmerHandle {
    /// The last tick's figures.
    pub fn last_tick(&self) -> TickReport {
        self.report.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl PaymentConfirmer {
    /// Starts the confirmer on an arbiter of its own. Call inside an actix `System`.
    pub fn start(
        wallet: WalletLink,
        store: Addr<InvoiceStore>,
        reader: StoreReader,
        policy: Policy,
        interval: Duration,
        notify_url: Option<String>,
    ) -> ConfirmerHandle {
        let tip = SharedTip::default();
        let report = Arc::new(Mutex::new(TickReport::default()));
        let (t, r) = (tip.clone(), report.clone());
        let addr = PaymentConfirmer::start_in_arbiter(&Arbiter::new().handle(), move |_| PaymentConfirmer {
            wallet,
            store,
            reader,
            policy,
            interval,
            state: Rc::new(RefCell::new(State::default())),
            ticking: false,
            ticks: 0,
            tip: t,
            report: r,
            notify_url: notify_url.filter(|u| !u.is_empty()),
            again: false,
        });
        ConfirmerHandle { addr, tip, report }
    }

    fn load_watch_list(&mut self) {
        let ids = match self.reader.watched_ids() {
            Ok(ids) => ids,
            Err(e) => {
                log::error!("confirmer cannot read the watch list: {e}");
                return;
            }
        };
        let mut state = self.state.borrow_mut();
        for id in ids {
            match self.reader.invoice(&id) {
                Ok(Some(invoice)) => {
                    state.watch(&invoice, true, &self.policy);
                    if self.notify_url.is_some() {
                        state.to_subscribe.insert(invoice.address.clone());
                    }
                }
                Ok(None) => log::warn!("watched invoice {id} is not stored"),
                Err(e) => log::error!("confirmer cannot read invoice {id}: {e}"),
            }
        }
        log::info!("confirmer watching {} invoices", state.watched.len());
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if self.ticking {
            self.again = true;
            return;
        }
        if !self.wallet.status().state.is_up() {
            return;
        }
        self.again = false;
        self.ticking = true;
        self.ticks += 1;
        let run = tick::Tick {
            wallet: self.wallet.clone(),
            store: self.store.clone(),
            state: self.state.clone(),
            policy: self.policy,
            sweep: self.ticks.is_multiple_of(tick::SWEEP_EVERY),
            notify_url: self.notify_url.clone(),
            shared_tip: self.tip.clone(),
        };
        ctx.spawn(run.run().into_actor(self).map(|report, act, ctx| {
            act.ticking = false;
            if act.again {
                ctx.run_later(Duration::ZERO, |act, ctx| act.tick(ctx));
            }
            if let Some(tip) = act.state.borrow().tip {
                act.tip.set(tip);
            }
            if let Some(e) = &report.error {
                log::debug!("confirmer tick stopped early: {e}");
            }
            if let Ok(mut last) = act.report.lock() {
                *last = report;
            }
        }));
    }

    /// Expires unpaid invoices at their time and ends monitoring windows;
    /// re-subscribes at once after the daemon forgot its subscriptions.
    fn clock(&mut self, ctx: &mut Context<Self>) {
        if self.notify_url.is_some() && self.wallet.status().epoch != self.state.borrow().epoch {
            self.tick(ctx);
        }
        let now = Utc::now();
        let due = {
            let mut state = self.state.borrow_mut();
            let due = state.due(now);
            for id in &due {
                // Taken off the clock while its answer is awaited; the answer sets the next deadline.
                if let Some(address) = state.address_of.get(id).cloned() {
                    if let Some(w) = state.watched.get_mut(&address) {
                        if let Some(at) = w.deadline.take() {
                            state.deadlines.remove(&(at, id.clone()));
                        }
                    }
                }
            }
            due
        };
        let tip = self.state.borrow().tip.unwrap_or(0);
        for id in due {
            let msg = ApplyObservation {
                invoice_id: id.clone(),
                payments: None,
                tip,
                now,
                policy: self.policy,
            };
            let (store, state, policy) = (self.store.clone(), self.state.clone(), self.policy);
            ctx.spawn(
                async move {
                    match store.send(msg).await {
                        Ok(Ok(applied)) => state.borrow_mut().watch(&applied.invoice, applied.watched, &policy),
                        Ok(Err(e)) => log::error!("invoice {id}: expiry not applied: {e}"),
                        Err(e) => log::error!("invoice {id}: store unavailable for expiry: {e}"),
                    }
                }
                .into_actor(self),
            );
        }
    }
}

impl Actor for PaymentConfirmer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Subscribe first and read the watch list once the store has taken the
        // subscription: an invoice created in between is then in one or the
        // other (or both: watching is idempotent), never in neither.
        let subscribe = self.store.send(Subscribe(ctx.address().recipient()));
        ctx.wait(subscribe.into_actor(self).map(|sent, act, ctx| {
            if sent.is_err() {
                log::error!("confirmer cannot subscribe to new invoices: the store is not running");
            }
            act.load_watch_list();
            ctx.run_interval(act.interval, |act, ctx| act.tick(ctx));
            ctx.run_interval(CLOCK_EVERY, |act, ctx| act.clock(ctx));
            act.clock(ctx);
        }));
    }
}

impl Handler<Watch> for PaymentConfirmer {
    type Result = ();

    fn handle(&mut self, msg: Watch, ctx: &mut Context<Self>) {
        let mut state = self.state.borrow_mut();
        state.watch(&msg.0, true, &self.policy);
        if self.notify_url.is_some() {
            // Subscribed by the next tick, now rather than at the next interval.
            state.to_subscribe.insert(msg.0.address.clone());
            drop(state);
            self.tick(ctx);
        }
    }
}

impl Handler<Pushed> for PaymentConfirmer {
    type Result = ();

    fn handle(&mut self, msg: Pushed, ctx: &mut Context<Self>) {
        let watched = {
            let mut state = self.state.borrow_mut();
            let watched = state.watched.contains_key(&msg.0);
            if watched {
                state.pending.insert(msg.0.clone());
            }
            watched
        };
        if watched {
            log::debug!("wallet push for {}: looking now", msg.0);
            self.tick(ctx);
        }
    }
}

impl Handler<TickNow> for PaymentConfirmer {
    type Result = ();

    fn handle(&mut self, _: TickNow, ctx: &mut Context<Self>) {
        self.tick(ctx);
    }
}
