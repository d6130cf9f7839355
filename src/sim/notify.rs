//! `notify`: subscriptions to an address's Electrum status, and the POSTs
//! owed when a change of the chain changes that status.

use sha2::{Digest, Sha256};

use super::address::Dest;
use super::chain::Chain;

/// A `notify` subscription.
#[derive(Debug, Clone)]
pub(super) struct Subscription {
    /// The address exactly as the subscriber passed it.
    pub(super) address: String,
    /// The URL to POST to.
    pub(super) url: String,
    /// The status last posted.
    pub(super) last: Option<String>,
}

/// A POST the daemon owes a `notify` subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Where to POST.
    pub url: String,
    /// The address as subscribed.
    pub address: String,
    /// The Electrum status hash, `None` for an empty history.
    pub status: Option<String>,
}

impl Chain {
    /// The Electrum status hash of a destination: sha256 hex over
    /// "txid:height:" for each history entry, `None` for no history.
    pub fn status(&self, dest: &Dest) -> Option<String> {
        let history = self.address_history(dest);
        if history.is_empty() {
            return None;
        }
        let mut h = Sha256::new();
        for (txid, height, _) in history {
            h.update(format!("{txid}:{height}:").as_bytes());
        }
        Some(hex::encode(h.finalize()))
    }

    /// `notify`: subscribes and returns the POST owed at once.
    pub fn subscribe(&mut self, dest: Dest, address: &str, url: &str) -> Notification {
        let status = self.status(&dest);
        let sub = Subscription {
            address: address.to_owned(),
            url: url.to_owned(),
            last: status.clone(),
        };
        self.subs.entry(dest).or_default().push(sub);
        Notification {
            url: url.to_owned(),
            address: address.to_owned(),
            status,
        }
    }

    /// Forgets every subscription (a daemon restart).
    pub fn forget_subscriptions(&mut self) {
        self.subs.clear();
    }

    /// The POSTs owed for subscribed addresses whose status changed since the
    /// last call.
    pub fn take_notifications(&mut self) -> Vec<Notification> {
        let touched: Vec<Dest> = self.touched.drain().collect();
        let mut out = Vec::new();
        for d in touched {
            if !self.subs.contains_key(&d) {
                continue;
            }
            let status = self.status(&d);
            for sub in self.subs.get_mut(&d).into_iter().flatten() {
                if sub.last != status {
                    sub.last = status.clone();
                    out.push(Notification {
                        url: sub.url.clone(),
                        address: sub.address.clone(),
                        status: status.clone(),
                    });
                }
            }
        }
        out
    }
}
