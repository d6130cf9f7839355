//! One confirmer tick (see the module docs of `confirmer`).

use std::cell::RefCell;
use std::collections::BTreeMap;

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::Addr;
use chrono::Utc;

use super::state::State;
use crate::cashaddr::Address;
use crate::electron_cash::rpc::{
    Deserialize_, GetAddressHistory, GetInfo, GetTransaction, HistoryWithAddresses, Notify,
};
use crate::electron_cash::{RpcError, WalletLink};
use crate::invoice::lifecycle::Policy;
use crate::invoice::{Payment, PaymentOutput};
use crate::store::{ApplyObservation, InvoiceStore};

/// One address of the slow sweep every this many ticks (`getaddresshistory`
/// costs about a second on a real daemon).
pub const SWEEP_EVERY: u64 = 6;

/// Between two server looks of a tick, the wallet's history is read again
/// once it is this old (on a real daemon a look takes about a second, a
/// history a few milliseconds).
const HISTORY_FRESH: Duration = Duration::from_millis(100);

/// ... and once the looks since the last read took this many times as long
/// as that read: a long wallet history (thousands of transactions, parsed and
/// diffed at each read) then costs at most about a fifth of a long tick,
/// instead of being read again after every few looks. Without this, the
/// first tick after a restart (which looks at every watched address holding
/// payments) grew with the number of looks times the size of the history,
/// and ran for minutes on a store of a few thousand invoices.
const HISTORY_SHARE: u32 = 4;

/// Whether the wallet's history is read again before the next server look:
/// `since` the last read ended, which took `cost`.
pub(crate) fn history_due(since: Duration, cost: Duration) -> bool {
    since >= HISTORY_FRESH.max(cost.saturating_mul(HISTORY_SHARE))
}

/// What a tick did, for metrics and benchmarks.
#[derive(Debug, Clone, Default)]
pub struct TickReport {
    /// Wallet round trips it made.
    pub round_trips: u64,
    /// Addresses whose server view it read.
    pub addresses_checked: usize,
    /// Transitions the store applied.
    pub transitions: usize,
    /// How long it took.
    pub duration: Duration,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
}

/// Everything a tick needs.
pub struct Tick {
    /// Where payments are seen.
    pub wallet: WalletLink,
    /// Where transitions go.
    pub store: Addr<InvoiceStore>,
    /// The confirmer's memory (borrowed only between awaits).
    pub state: Rc<RefCell<State>>,
    /// Tolerance and monitoring window.
    pub policy: Policy,
    /// Whether this tick sweeps one address.
    pub sweep: bool,
    /// Where the daemon posts `notify` pushes, when they are wired.
    pub notify_url: Option<String>,
    /// The tip the HTTP handlers read.
    pub shared_tip: super::SharedTip,
}

impl Tick {
    /// Runs the tick; a wallet failure stops it, leaving what was not checked pending.
    pub async fn run(self) -> TickReport {
        let started = Instant::now();
        let calls = self.wallet.calls_made();
        let mut report = TickReport::default();
        if let Err(e) = self.steps(&mut report).await {
            report.error = Some(e.to_string());
        }
        report.round_trips = self.wallet.calls_made() - calls;
        report.duration = started.elapsed();
        report
    }

    async fn steps(&self, report: &mut TickReport) -> Result<(), RpcError> {
        if let Some(url) = &self.notify_url {
            self.subscribe(url).await?;
        }
        let tip = self.wallet.call(GetInfo).await?.blockchain_height;
        self.state.borrow_mut().tip = Some(tip);
        // Published before any transition of this tick is stored, so that an
        // invoice read over HTTP never pairs a new height with an old tip.
        self.shared_tip.set(tip);
        let mut read_cost = self.timed_read_history(tip, report).await?;
        let mut read_at = Instant::now();
        let to_check: Vec<Address> = {
            let mut state = self.state.borrow_mut();
            let waiting = state.waiting_for_confirmations(tip);
            state.pending.extend(waiting);
            let mut to_check: Vec<Address> = state.pending.iter().cloned().collect();
            if self.sweep {
                // The sweep goes last: on a real daemon each look costs about a
                // second, and a payment that was found changed must not wait on it.
                for swept in state.sweep(1) {
                    if state.pending.insert(swept.clone()) {
                        to_check.push(swept);
                    }
                }
            }
            to_check
        };
        for address in to_check {
            // A server look can take a second: a payment made meanwhile is
            // taken from a fresh history before the next look, not a tick later.
            if history_due(read_at.elapsed(), read_cost) {
                read_cost = self.timed_read_history(tip, report).await?;
                read_at = Instant::now();
            }
            self.check(&address, tip, report).await?;
            self.state.borrow_mut().pending.remove(&address);
        }
        Ok(())
    }

    /// [`Tick::read_history`]; how long it took.
    async fn timed_read_history(&self, tip: u64, report: &mut TickReport) -> Result<Duration, RpcError> {
        let started = Instant::now();
        self.read_history(tip, report).await?;
        Ok(started.elapsed())
    }

    /// Reads the wallet's history and diffs it with the last one: the watched
    /// addresses that changed become pending (transactions the wallet lists
    /// without addresses are read first), and the payments new in it are
    /// applied at once ([`Tick::apply_unstored`]).
    async fn read_history(&self, tip: u64, report: &mut TickReport) -> Result<(), RpcError> {
        let history = self.wallet.call(HistoryWithAddresses).await?;
        {
            let mut state = self.state.borrow_mut();
            let (changed, unknown) = state.diff_history(history);
            state.pending.extend(changed);
            state.pending_txs.extend(unknown);
        }
        let unknown: Vec<String> = self.state.borrow().pending_txs.iter().cloned().collect();
        for txid in unknown {
            let outputs = self.outputs_of(&txid).await?;
            let mut state = self.state.borrow_mut();
            let touched: Vec<Address> = outputs
                .iter()
                .map(|(a, _)| a)
                .filter(|a| state.watched.contains_key(*a))
                .cloned()
                .collect();
            state.pending.extend(touched);
            state.pending_txs.remove(&txid);
        }
        self.apply_unstored(tip, report).await
    }

    /// Subscribes new addresses with `notify`; all of them again after the
    /// daemon forgot its subscriptions (it restarted).
    async fn subscribe(&self, url: &str) -> Result<(), RpcError> {
        let epoch = self.wallet.status().epoch;
        let todo: Vec<Address> = {
            let mut state = self.state.borrow_mut();
            if state.epoch != epoch {
                state.epoch = epoch;
                let all: Vec<Address> = state.watched.keys().cloned().collect();
                state.to_subscribe.extend(all);
            }
            state.to_subscribe.iter().cloned().collect()
        };
        for address in todo {
            self.wallet
                .call(Notify {
                    address: address.clone(),
                    url: url.to_owned(),
                })
                .await?;
            self.state.borrow_mut().to_subscribe.remove(&address);
        }
        Ok(())
    }

    /// Hands the store, before any server look, the payments that appeared in
    /// the wallet's history and that their invoices have not stored, as
    /// unconfirmed: a payment shows within a tick even when the server's view
    /// costs a second an address. Their amounts are read (and cached) as the
    /// server's look would read them, so this adds no round trip; the changed
    /// addresses stay pending for that look, which settles the heights.
    async fn apply_unstored(&self, tip: u64, report: &mut TickReport) -> Result<(), RpcError> {
        let unstored = self.state.borrow_mut().unstored_payments();
        let mut seen: BTreeMap<Address, Vec<Payment>> = BTreeMap::new();
        let now = Utc::now();
        for (address, txid, height) in unstored {
            let outputs = self.outputs_to(&txid, &address).await?;
            if !outputs.is_empty() {
                seen.entry(address)
                    .or_default()
                    .push(Payment::from_outputs(txid, height, outputs, now));
            }
        }
        for (address, new) in seen {
            let Some(mut payments) = self.state.borrow().watched.get(&address).map(|w| w.payments.clone()) else {
                continue;
            };
            payments.extend(new);
            self.apply(&address, payments, tip, false, report).await;
        }
        Ok(())
    }

    /// Reads the server's view of one watched address and hands it to the store.
    async fn check(&self, address: &Address, tip: u64, report: &mut TickReport) -> Result<(), RpcError> {
        if !self.state.borrow().watched.contains_key(address) {
            return Ok(());
        }
        let server = self.wallet.call(GetAddressHistory(address.clone())).await?;
        report.addresses_checked += 1;
        let mut payments = Vec::new();
        let now = Utc::now();
        for item in server {
            let outputs = self.outputs_to(&item.tx_hash, address).await?;
            if !outputs.is_empty() {
                // A payment already stored keeps its first-seen time (the lifecycle keeps it).
                payments.push(Payment::from_outputs(item.tx_hash, item.height, outputs, now));
            }
        }
        self.apply(address, payments, tip, true, report).await;
        Ok(())
    }

    /// Hands the payments seen for a watched address to the store and watches
    /// the invoice as it comes back; `server_view`: they are the server's, so
    /// its confirmations are known at this tip.
    async fn apply(
        &self,
        address: &Address,
        payments: Vec<Payment>,
        tip: u64,
        server_view: bool,
        report: &mut TickReport,
    ) {
        let Some(id) = self.state.borrow().watched.get(address).map(|w| w.id.clone()) else {
            return;
        };
        let msg = ApplyObservation {
            invoice_id: id.clone(),
            payments: Some(payments),
            tip,
            now: Utc::now(),
            policy: self.policy,
        };
        match self.store.send(msg).await {
            Ok(Ok(applied)) => {
                if !applied.events.is_empty() {
                    report.transitions += 1;
                }
                let mut state = self.state.borrow_mut();
                state.watch(&applied.invoice, applied.watched, &self.policy);
                if let Some(w) = state.watched.get_mut(address).filter(|_| server_view) {
                    w.checked_tip = Some(tip);
                }
            }
            Ok(Err(e)) => log::error!("invoice {id}: observation not applied: {e}"),
            Err(e) => log::error!("invoice {id}: store unavailable: {e}"),
        }
    }

    /// What `txid` pays to `address`, output by output: from the invoice's
    /// stored payments (a transaction never changes), or read from the
    /// transaction (cached). Outputs of zero are left out.
    async fn outputs_to(&self, txid: &str, address: &Address) -> Result<Vec<PaymentOutput>, RpcError> {
        if let Some(known) = self.state.borrow().watched.get(address).and_then(|w| {
            w.payments
                .iter()
                .find(|p| p.txid == txid && !p.outputs.is_empty())
                .map(|p| p.outputs.clone())
        }) {
            return Ok(known);
        }
        let outputs = self.outputs_of(txid).await?;
        Ok(outputs
            .iter()
            .filter(|(a, o)| a == address && o.amount_sats.0 > 0)
            .map(|(_, o)| *o)
            .collect())
    }

    /// The outputs of `txid`, read once and cached forever.
    async fn outputs_of(&self, txid: &str) -> Result<Arc<Vec<(Address, PaymentOutput)>>, RpcError> {
        if let Some(cached) = self.state.borrow().outputs.get(txid) {
            return Ok(cached.clone());
        }
        let raw = self.wallet.call(GetTransaction(txid.to_owned())).await?;
        let decoded = self.wallet.call(Deserialize_(raw.hex)).await?;
        let outputs: Arc<Vec<(Address, PaymentOutput)>> = Arc::new(
            decoded
                .outputs
                .into_iter()
                .filter_map(|o| {
                    let output = PaymentOutput {
                        vout: o.n,
                        amount_sats: o.value,
                    };
                    o.address.map(|a| (a, output))
                })
                .collect(),
        );
        self.state.borrow_mut().outputs.insert(txid.to_owned(), outputs.clone());
        Ok(outputs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cheap_history_is_read_again_once_it_is_100_ms_old() {
        let cheap = Duration::from_millis(3);
        assert!(!history_due(Duration::from_millis(99), cheap));
        assert!(history_due(Duration::from_millis(100), cheap));
    }

    #[test]
    fn a_costly_history_is_not_read_again_after_every_few_looks() {
        // A 300 ms read (thousands of transactions on a loaded machine) is
        // followed by at least 1.2 s of looks, not 100 ms.
        let costly = Duration::from_millis(300);
        assert!(!history_due(Duration::from_millis(100), costly));
        assert!(!history_due(Duration::from_millis(1_199), costly));
        assert!(history_due(Duration::from_millis(1_200), costly));
    }
}
