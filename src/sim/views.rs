//! What the daemon's read calls see of the chain: the server's view of one
//! address, and the wallet's own view (with its reorg quirk).

use super::address::Dest;
use super::chain::Chain;

/// One unspent output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coin {
    /// Its address.
    pub dest: Dest,
    /// The transaction holding it.
    pub txid: String,
    /// Its index in that transaction.
    pub n: u32,
    /// Satoshis.
    pub value: u64,
    /// Height in the view it was read from.
    pub height: i64,
}

/// One row of the wallet's `history`, oldest first before reversal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The transaction.
    pub txid: String,
    /// Height in the wallet's view (0 when unconfirmed).
    pub height: i64,
    /// Block time, `None` when unconfirmed.
    pub time: Option<i64>,
    /// Net effect on the wallet in satoshis.
    pub value: i64,
    /// The fee.
    pub fee: u64,
    /// The wallet's balance after this transaction.
    pub balance: i64,
    /// Addresses of the coins it spends that the chain knows.
    pub input_addresses: Vec<Dest>,
    /// Addresses it pays.
    pub output_addresses: Vec<Dest>,
}

impl Chain {
    /// The server's height for a transaction: its block, 0 in the mempool,
    /// −1 in the mempool with an unconfirmed parent.
    pub fn server_height(&self, txid: &str) -> i64 {
        let Some(e) = self.txs.get(txid) else { return 0 };
        match e.height {
            Some(h) => h as i64,
            None if e
                .spends
                .iter()
                .any(|(p, _)| self.txs.get(p).is_some_and(|p| p.height.is_none())) =>
            {
                -1
            }
            None => 0,
        }
    }

    /// `getaddresshistory`: (txid, height, fee for unconfirmed ones), confirmed
    /// by height and block order first, then the mempool in arrival order.
    pub fn address_history(&self, dest: &Dest) -> Vec<(String, i64, Option<u64>)> {
        let mut rows: Vec<(u64, u64, &String)> = self
            .by_dest
            .get(dest)
            .into_iter()
            .flatten()
            .filter_map(|t| self.txs.get(t).map(|e| (e.height.unwrap_or(u64::MAX), e.seq, t)))
            .collect();
        rows.sort();
        rows.into_iter()
            .map(|(_, _, t)| {
                let h = self.server_height(t);
                let fee = if h <= 0 { self.txs.get(t).map(|e| e.fee) } else { None };
                (t.clone(), h, fee)
            })
            .collect()
    }

    /// The wallet's height for a transaction: after a reorg, the transactions
    /// of the disconnected blocks read 0 until the wallet is loaded again.
    pub fn wallet_height(&self, txid: &str) -> i64 {
        if self.stale.contains(txid) {
            0
        } else {
            self.server_height(txid)
        }
    }

    /// Confirmed and unconfirmed balance of the given coins' history, as
    /// Electrum's `get_addr_balance`: a coin counts as confirmed or not by its
    /// own height, and a spent coin is taken off by the spender's height.
    fn balance_of<'a>(
        &self,
        txids: impl Iterator<Item = &'a String>,
        keep: impl Fn(&Dest) -> bool,
        wallet: bool,
    ) -> (i64, i64) {
        let height = |t: &str| {
            if wallet {
                self.wallet_height(t)
            } else {
                self.server_height(t)
            }
        };
        let (mut c, mut u) = (0i64, 0i64);
        for t in txids {
            let Some(e) = self.txs.get(t) else { continue };
            for (n, (d, v)) in e.outputs.iter().enumerate() {
                if !keep(d) {
                    continue;
                }
                let v = *v as i64;
                if height(t) > 0 {
                    c += v;
                } else {
                    u += v;
                }
                if let Some(spender) = self.spent_by.get(&(t.clone(), n as u32)) {
                    if height(spender) > 0 {
                        c -= v;
                    } else {
                        u -= v;
                    }
                }
            }
        }
        (c, u)
    }

    /// `getaddressbalance` in satoshis: (confirmed, unconfirmed).
    pub fn address_balance(&self, dest: &Dest) -> (i64, i64) {
        self.balance_of(self.by_dest.get(dest).into_iter().flatten(), |d| d == dest, false)
    }

    /// `getbalance` in satoshis: (confirmed, unconfirmed).
    pub fn wallet_balance(&self) -> (i64, i64) {
        self.balance_of(self.wallet_txs.iter(), |d| self.wallet_index.contains_key(d), true)
    }

    /// The wallet's balance of one of its addresses (confirmed + unconfirmed).
    pub fn wallet_address_balance(&self, dest: &Dest) -> i64 {
        let (c, u) = self.balance_of(self.by_dest.get(dest).into_iter().flatten(), |d| d == dest, true);
        c + u
    }

    /// Whether an address has any history.
    pub fn is_used(&self, dest: &Dest) -> bool {
        self.by_dest.contains_key(dest)
    }

    fn unspent<'a>(
        &self,
        txids: impl Iterator<Item = &'a String>,
        keep: impl Fn(&Dest) -> bool,
        wallet: bool,
    ) -> Vec<Coin> {
        let mut out = Vec::new();
        for t in txids {
            let Some(e) = self.txs.get(t) else { continue };
            for (n, (d, v)) in e.outputs.iter().enumerate() {
                if keep(d) && !self.spent_by.contains_key(&(t.clone(), n as u32)) {
                    let height = if wallet {
                        self.wallet_height(t)
                    } else {
                        self.server_height(t).max(0)
                    };
                    out.push(Coin {
                        dest: *d,
                        txid: t.clone(),
                        n: n as u32,
                        value: *v,
                        height,
                    });
                }
            }
        }
        out
    }

    /// `getaddressunspent`: confirmed coins by height, then mempool ones.
    pub fn address_unspent(&self, dest: &Dest) -> Vec<Coin> {
        let mut coins = self.unspent(self.by_dest.get(dest).into_iter().flatten(), |d| d == dest, false);
        coins.sort_by_key(|c| (if c.height > 0 { c.height } else { i64::MAX }, self.seq(&c.txid), c.n));
        coins
    }

    /// `listunspent`: the wallet's coins by address order, mempool included.
    pub fn wallet_unspent(&self) -> Vec<Coin> {
        let mut coins = self.unspent(self.wallet_txs.iter(), |d| self.wallet_index.contains_key(d), true);
        coins.sort_by_key(|c| (self.wallet_index.get(&c.dest).copied(), self.seq(&c.txid), c.n));
        coins
    }

    fn seq(&self, txid: &str) -> u64 {
        self.txs.get(txid).map_or(0, |e| e.seq)
    }

    /// The block time at a height.
    pub fn block_time(&self, height: i64) -> Option<i64> {
        usize::try_from(height)
            .ok()
            .filter(|&h| h > 0)
            .and_then(|h| self.blocks.get(h))
            .map(|b| b.time)
    }

    /// The wallet's `history`, oldest first (the caller reverses it).
    pub fn wallet_history(&self) -> Vec<HistoryRow> {
        let mut order: Vec<(i64, u64, &String)> = self
            .wallet_txs
            .iter()
            .map(|t| {
                let h = self.wallet_height(t);
                (if h > 0 { h } else { i64::MAX }, self.seq(t), t)
            })
            .collect();
        order.sort();
        let mut balance = 0i64;
        let mut rows = Vec::with_capacity(order.len());
        for (_, _, t) in order {
            let Some(e) = self.txs.get(t) else { continue };
            let received: i64 = e
                .outputs
                .iter()
                .filter(|(d, _)| self.wallet_index.contains_key(d))
                .map(|(_, v)| *v as i64)
                .sum();
            let mut sent = 0i64;
            let mut input_addresses = Vec::new();
            for (p, n) in &e.spends {
                if let Some(&(d, v)) = self.txs.get(p).and_then(|p| p.outputs.get(*n as usize)) {
                    input_addresses.push(d);
                    if self.wallet_index.contains_key(&d) {
                        sent += v as i64;
                    }
                }
            }
            let value = received - sent;
            balance += value;
            let height = self.wallet_height(t);
            rows.push(HistoryRow {
                txid: t.clone(),
                height,
                time: self.block_time(height),
                value,
                fee: e.fee,
                balance,
                input_addresses,
                output_addresses: e.outputs.iter().map(|(d, _)| *d).collect(),
            });
        }
        rows
    }
}
