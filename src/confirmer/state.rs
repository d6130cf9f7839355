//! What the confirmer knows between ticks: the watched invoices, their
//! deadlines, the wallet history last seen, and the per-transaction outputs
//! (a transaction never changes, so they are cached forever). No I/O.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::cashaddr::Address;
use crate::electron_cash::rpc::WalletTxAddresses;
use crate::invoice::lifecycle::{self, Policy};
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus, Payment, PaymentOutput};

/// One watched invoice, as far as the confirmer needs it.
#[derive(Debug, Clone)]
pub struct Watched {
    /// The invoice.
    pub id: InvoiceId,
    /// Its status as last stored.
    pub status: InvoiceStatus,
    /// Its payments as last stored.
    pub payments: Vec<Payment>,
    /// The tip at which the server's view of its address was last read.
    pub checked_tip: Option<u64>,
    /// When the clock must look at it next (expiry, end of monitoring), if ever.
    pub deadline: Option<DateTime<Utc>>,
}

/// A wallet transaction as last seen in `history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenTx {
    /// The wallet's height for it.
    pub height: i64,
    /// The addresses it pays, if the wallet said.
    pub outputs: Option<Vec<Address>>,
}

/// The confirmer's memory.
#[derive(Debug, Default)]
pub struct State {
    /// Watched invoices by address.
    pub watched: HashMap<Address, Watched>,
    /// Address of each watched invoice.
    pub address_of: HashMap<InvoiceId, Address>,
    /// (deadline, invoice) for the clock, soonest first.
    pub deadlines: BTreeSet<(DateTime<Utc>, InvoiceId)>,
    /// The wallet history of the last tick; `None` before the first one.
    pub history: Option<HashMap<String, SeenTx>>,
    /// What each transaction pays to which address, output by output (cached forever).
    pub outputs: HashMap<String, Arc<Vec<(Address, PaymentOutput)>>>,
    /// The chain tip, once known.
    pub tip: Option<u64>,
    /// Round-robin position of the slow sweep.
    pub sweep: usize,
    /// Addresses found changed and not yet checked (kept across a failed tick).
    pub pending: HashSet<Address>,
    /// Transactions to read before their addresses are known (kept across a failed tick).
    pub pending_txs: HashSet<String>,
    /// Transactions new in the wallet's history, whose payments are applied
    /// before the server's view is read (see [`State::unstored_payments`]).
    pub appeared: HashSet<String>,
    /// Addresses to subscribe with `notify` (when pushes are wired).
    pub to_subscribe: HashSet<Address>,
    /// The link epoch the subscriptions were made in (a daemon restart forgets them).
    pub epoch: u64,
}

/// The clock's next look at an invoice: expiry while unpaid, the end of the
/// monitoring window once expired or invalid; none while paid.
pub fn deadline(
    invoice_status: InvoiceStatus,
    expires_at: DateTime<Utc>,
    watch_until: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match invoice_status {
        InvoiceStatus::New => Some(expires_at),
        InvoiceStatus::Expired | InvoiceStatus::Invalid => Some(watch_until),
        InvoiceStatus::Confirmed => Some(watch_until),
        InvoiceStatus::Paid => None,
    }
}

impl State {
    /// Starts (or updates) watching `invoice`; stops if it no longer needs it.
    pub fn watch(&mut self, invoice: &Invoice, watched: bool, policy: &Policy) {
        self.unwatch(&invoice.id);
        if !watched {
            return;
        }
        let deadline = deadline(
            invoice.status,
            invoice.expires_at,
            lifecycle::watch_until(invoice, policy),
        );
        if let Some(at) = deadline {
            self.deadlines.insert((at, invoice.id.clone()));
        }
        self.address_of.insert(invoice.id.clone(), invoice.address.clone());
        self.watched.insert(
            invoice.address.clone(),
            Watched {
                id: invoice.id.clone(),
                status: invoice.status,
                payments: invoice.payments.clone(),
                checked_tip: None,
                deadline,
            },
        );
    }

    /// Stops watching an invoice.
    pub fn unwatch(&mut self, id: &InvoiceId) {
        if let Some(address) = self.address_of.remove(id) {
            if let Some(w) = self.watched.remove(&address) {
                if let Some(at) = w.deadline {
                    self.deadlines.remove(&(at, w.id));
                }
            }
        }
    }

    /// Invoices whose deadline has come.
    pub fn due(&self, now: DateTime<Utc>) -> Vec<InvoiceId> {
        self.deadlines
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// Compares a fresh wallet history with the last one: the watched addresses
    /// whose transactions appeared, vanished or moved, and the new
    /// transactions whose outputs the wallet did not list (to be read).
    pub fn diff_history(&mut self, fresh: Vec<WalletTxAddresses>) -> (HashSet<Address>, Vec<String>) {
        let mut changed = HashSet::new();
        let mut unknown = Vec::new();
        let previous = match self.history.take() {
            Some(previous) => previous,
            None => {
                // The first look since start: a payment that vanished while the
                // engine was down is in no history to diff against, so every
                // watched invoice holding payments is checked once.
                changed.extend(
                    self.watched
                        .iter()
                        .filter(|(_, w)| !w.payments.is_empty())
                        .map(|(a, _)| a.clone()),
                );
                HashMap::new()
            }
        };
        let mut next = HashMap::with_capacity(fresh.len());
        for tx in fresh {
            let seen = SeenTx {
                height: tx.height,
                outputs: tx.output_addresses,
            };
            match previous.get(&tx.txid) {
                Some(old) if *old == seen => {}
                old => {
                    if old.is_none() {
                        self.appeared.insert(tx.txid.clone());
                    }
                    self.mark(&tx.txid, seen.outputs.as_deref(), &mut changed, &mut unknown);
                }
            }
            next.insert(tx.txid, seen);
        }
        for (txid, old) in &previous {
            if !next.contains_key(txid) {
                self.mark(txid, old.outputs.as_deref(), &mut changed, &mut unknown);
            }
        }
        self.history = Some(next);
        (changed, unknown)
    }

    fn mark(&self, txid: &str, outputs: Option<&[Address]>, changed: &mut HashSet<Address>, unknown: &mut Vec<String>) {
        let cached = self.outputs.get(txid);
        match (outputs, cached) {
            (_, Some(cached)) => changed.extend(
                cached
                    .iter()
                    .map(|(a, _)| a)
                    .filter(|a| self.watched.contains_key(*a))
                    .cloned(),
            ),
            (Some(list), None) => changed.extend(list.iter().filter(|a| self.watched.contains_key(*a)).cloned()),
            (None, None) => unknown.push(txid.to_owned()),
        }
    }

    /// The payments the wallet's history shows that a watched invoice has not
    /// stored: (address, txid, height) for each transaction that appeared
    /// since they were last taken, whose outputs are known (listed by the
    /// wallet or read). The wallet's view is enough to say that a payment
    /// arrived, not where it stands: the height is the wallet's only when it
    /// says unconfirmed (0, or −1 for an unconfirmed parent), else 0, and the
    /// server's view (a second a call on a real daemon) settles it afterwards.
    pub fn unstored_payments(&mut self) -> Vec<(Address, String, i64)> {
        let Some(history) = &self.history else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let mut unread = HashSet::new();
        for txid in std::mem::take(&mut self.appeared) {
            let Some(seen) = history.get(&txid) else {
                continue; // gone again
            };
            let mut addresses: Vec<&Address> = match (self.outputs.get(&txid), &seen.outputs) {
                (Some(cached), _) => cached.iter().map(|(a, _)| a).collect(),
                (None, Some(listed)) => listed.iter().collect(),
                (None, None) => {
                    unread.insert(txid);
                    continue;
                }
            };
            addresses.sort();
            addresses.dedup();
            for address in addresses {
                let unstored = self
                    .watched
                    .get(address)
                    .is_some_and(|w| w.payments.iter().all(|p| p.txid != txid));
                if unstored {
                    found.push((address.clone(), txid.clone(), seen.height.min(0)));
                }
            }
        }
        self.appeared = unread;
        found
    }

    /// Addresses of paid invoices whose server view was read at another tip:
    /// their confirmations may have changed.
    pub fn waiting_for_confirmations(&self, tip: u64) -> Vec<Address> {
        self.watched
            .iter()
            .filter(|(_, w)| w.status == InvoiceStatus::Paid && w.checked_tip != Some(tip))
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// The next `n` addresses of the slow sweep, round-robin.
    pub fn sweep(&mut self, n: usize) -> Vec<Address> {
        if self.watched.is_empty() || n == 0 {
            return Vec::new();
        }
        let len = self.watched.len();
        let start = self.sweep % len;
        self.sweep = (start + n) % len;
        self.watched
            .keys()
            .cycle()
            .skip(start)
            .take(n.min(len))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cashaddr::encode;
    use crate::money::Sats;

    fn address(n: u8) -> Address {
        Address::parse(&encode("bchreg", 0, &[n; 20])).unwrap()
    }

    fn tx(txid: &str, height: i64, outputs: Option<Vec<Address>>) -> WalletTxAddresses {
        WalletTxAddresses {
            txid: txid.into(),
            height,
            output_addresses: outputs,
        }
    }

    fn state_watching(addresses: &[Address]) -> State {
        let mut s = State::default();
        for (i, a) in addresses.iter().enumerate() {
            let id = InvoiceId::from_bytes([i as u8; 16]);
            s.address_of.insert(id.clone(), a.clone());
            s.watched.insert(
                a.clone(),
                Watched {
                    id,
                    status: InvoiceStatus::New,
                    payments: vec![],
                    checked_tip: None,
                    deadline: None,
                },
            );
        }
        s
    }

    #[test]
    fn the_history_diff_finds_new_moved_and_vanished_transactions_of_watched_addresses() {
        let (a, b, other) = (address(1), address(2), address(3));
        let mut s = state_watching(&[a.clone(), b.clone()]);
        let (changed, unknown) = s.diff_history(vec![tx("t1", 0, Some(vec![a.clone(), other.clone()]))]);
        assert_eq!(changed, HashSet::from([a.clone()]));
        assert!(unknown.is_empty());
        // Nothing new: nothing changed.
        let (changed, _) = s.diff_history(vec![tx("t1", 0, Some(vec![a.clone(), other.clone()]))]);
        assert!(changed.is_empty());
        // Mined, plus a payment to b of which the wallet lists no addresses.
        let (changed, unknown) = s.diff_history(vec![
            tx("t1", 101, Some(vec![a.clone(), other.clone()])),
            tx("t2", 0, None),
        ]);
        assert_eq!(changed, HashSet::from([a.clone()]));
        assert_eq!(unknown, vec!["t2".to_owned()]);
        // t2 is read and cached; then it vanishes.
        s.outputs.insert(
            "t2".into(),
            Arc::new(vec![(
                b.clone(),
                PaymentOutput {
                    vout: 1,
                    amount_sats: Sats(5),
                },
            )]),
        );
        let (changed, unknown) = s.diff_history(vec![tx("t1", 101, Some(vec![a.clone(), other]))]);
        assert_eq!(changed, HashSet::from([b]));
        assert!(unknown.is_empty());
    }

    #[test]
    fn the_first_diff_after_start_checks_every_watched_invoice_that_holds_payments() {
        let (a, b) = (address(1), address(2));
        let mut s = state_watching(&[a.clone(), b.clone()]);
        s.watched.get_mut(&a).unwrap().payments.push(Payment {
            txid: "gone".into(),
            amount_sats: Sats(5),
            height: 0,
            outputs: Vec::new(),
            seen_at: chrono::Utc::now(),
            settled: false,
        });
        // The payment to a vanished while the engine was down: the wallet no longer lists it.
        let (changed, _) = s.diff_history(vec![]);
        assert_eq!(changed, HashSet::from([a]));
        let (changed, _) = s.diff_history(vec![]);
        assert!(changed.is_empty());
    }

    #[test]
    fn payments_new_in_the_wallet_history_are_taken_once_as_unconfirmed_unless_stored() {
        let (a, b, c, other) = (address(1), address(2), address(3), address(4));
        let mut s = state_watching(&[a.clone(), b.clone(), c.clone()]);
        s.watched.get_mut(&c).unwrap().payments.push(Payment {
            txid: "t3".into(),
            amount_sats: Sats(5),
            height: 7,
            outputs: Vec::new(),
            seen_at: chrono::Utc::now(),
            settled: false,
        });
        s.diff_history(vec![
            // The wallet says mined: not trusted, taken as unconfirmed.
            tx("t1", 105, Some(vec![a.clone(), other.clone(), a.clone()])),
            // An unconfirmed parent stays −1.
            tx("t2", -1, None),
            // Already stored for c.
            tx("t3", 7, Some(vec![c.clone()])),
        ]);
        // t2's outputs are not known yet: it waits until they are read.
        let mut found = s.unstored_payments();
        found.sort();
        assert_eq!(found, vec![(a.clone(), "t1".to_owned(), 0)]);
        assert!(s.unstored_payments().is_empty(), "taken once");

        s.outputs.insert(
            "t2".into(),
            Arc::new(vec![(
                b.clone(),
                PaymentOutput {
                    vout: 1,
                    amount_sats: Sats(9),
                },
            )]),
        );
        assert_eq!(s.unstored_payments(), vec![(b.clone(), "t2".to_owned(), -1)]);
        // Seen again, and t4 appears paying nobody watched: nothing to take.
        s.diff_history(vec![
            tx("t1", 105, None),
            tx("t2", -1, None),
            tx("t3", 7, None),
            tx("t4", 0, Some(vec![other])),
        ]);
        assert!(s.unstored_payments().is_empty());
        // A transaction that appears and is gone again before it is taken is skipped.
        s.diff_history(vec![tx("t5", 0, Some(vec![b.clone()]))]);
        s.diff_history(vec![]);
        assert!(s.unstored_payments().is_empty());
    }

    #[test]
    fn paid_invoices_are_rechecked_once_per_tip() {
        let a = address(1);
        let mut s = state_watching(std::slice::from_ref(&a));
        s.watched.get_mut(&a).unwrap().status = InvoiceStatus::Paid;
        assert_eq!(s.waiting_for_confirmations(101), vec![a.clone()]);
        s.watched.get_mut(&a).unwrap().checked_tip = Some(101);
        assert!(s.waiting_for_confirmations(101).is_empty());
        assert_eq!(s.waiting_for_confirmations(102), vec![a]);
    }

    #[test]
    fn the_sweep_visits_every_address_in_turn() {
        let all: Vec<Address> = (1..=5).map(address).collect();
        let mut s = state_watching(&all);
        let mut seen = HashSet::new();
        for _ in 0..5 {
            seen.extend(s.sweep(1));
        }
        assert_eq!(seen.len(), 5);
        assert_eq!(State::default().sweep(3), Vec::<Address>::new());
    }
}
