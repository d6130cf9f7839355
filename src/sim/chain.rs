//! The simulated world: a deterministic wallet, a chain of blocks, a mempool,
//! the indexes the daemon's calls need, and the `notify` subscriptions. Pure:
//! no I/O, no clock but the block times it is given.

use std::collections::{BTreeSet, HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::address::Dest;
use super::notify::Subscription;
use super::tx::{fake_script_sig, prev_hash_of, Transaction, TxIn, TxOut};
use super::SimError;

/// The height the simulated chain starts at.
pub const START_HEIGHT: u64 = 100;
/// Receiving addresses a fresh wallet has (Electron Cash's gap limit).
pub const GAP_LIMIT: usize = 20;

/// One transaction the chain knows.
#[derive(Debug, Clone)]
pub struct TxEntry {
    /// The serialized transaction in hex.
    pub hex: String,
    /// The fee in satoshis (inputs are made up, so it is kept beside).
    pub fee: u64,
    /// Each output's destination and value, by index.
    pub outputs: Vec<(Dest, u64)>,
    /// The outputs of transactions known to the chain that it spends.
    pub spends: Vec<(String, u32)>,
    /// The block height, `None` while in the mempool.
    pub height: Option<u64>,
    /// Arrival order; also the order within a block.
    pub seq: u64,
}

/// A block: its time and its transactions in order.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// Unix time of the block.
    pub time: i64,
    /// Its transactions.
    pub txids: Vec<String>,
}

/// The whole simulated state behind one lock.
#[derive(Debug)]
pub struct Chain {
    /// The network's cashaddr prefix.
    pub prefix: String,
    /// The wallet seed: addresses and made-up coins derive from it.
    seed: u64,
    /// Wallet receiving addresses by index.
    pub(super) wallet: Vec<Dest>,
    /// Wallet address → index.
    pub(super) wallet_index: HashMap<Dest, usize>,
    /// Indexes of wallet addresses without any history.
    unused: BTreeSet<usize>,
    /// Counter for addresses and coins outside the wallet.
    counter: u64,
    /// Blocks by height (0 up to the tip).
    pub(super) blocks: Vec<Block>,
    /// Every transaction confirmed or in the mempool.
    pub(super) txs: HashMap<String, TxEntry>,
    /// Mempool txids in arrival order.
    pub(super) mempool: Vec<String>,
    /// Destination → txids that pay it or spend from it.
    pub(super) by_dest: HashMap<Dest, Vec<String>>,
    /// Outpoint → the txid spending it.
    pub(super) spent_by: HashMap<(String, u32), String>,
    /// Transactions that touch the wallet.
    pub(super) wallet_txs: HashSet<String>,
    /// Transactions the wallet wrongly reads as unconfirmed since a reorg.
    pub(super) stale: HashSet<String>,
    /// Next arrival sequence number.
    next_seq: u64,
    /// notify subscriptions, by destination.
    pub(super) subs: HashMap<Dest, Vec<Subscription>>,
    /// Destinations whose history changed since notifications were taken.
    pub(super) touched: HashSet<Dest>,
}

impl Chain {
    /// A chain at [`START_HEIGHT`] with a wallet of [`GAP_LIMIT`] addresses;
    /// block times end at `now`, ten minutes apart.
    pub fn new(prefix: &str, seed: u64, now: i64) -> Chain {
        let blocks = (0..=START_HEIGHT)
            .map(|h| Block {
                time: now - (START_HEIGHT - h) as i64 * 600,
                txids: Vec::new(),
            })
            .collect();
        let mut chain = Chain {
            prefix: prefix.to_owned(),
            seed,
            wallet: Vec::new(),
            wallet_index: HashMap::new(),
            unused: BTreeSet::new(),
            counter: 0,
            blocks,
            txs: HashMap::new(),
            mempool: Vec::new(),
            by_dest: HashMap::new(),
            spent_by: HashMap::new(),
            wallet_txs: HashSet::new(),
            stale: HashSet::new(),
            next_seq: 0,
            subs: HashMap::new(),
            touched: HashSet::new(),
        };
        for _ in 0..GAP_LIMIT {
            chain.create_address();
        }
        chain
    }

    /// The chain tip's height.
    pub fn tip(&self) -> u64 {
        self.blocks.len() as u64 - 1
    }

    /// Wallet address `index`: P2PKH of the first 20 bytes of
    /// sha256(seed as 8 big-endian bytes ‖ index as 8 big-endian bytes).
    pub fn derive(seed: u64, index: u64) -> Dest {
        let mut h = Sha256::new();
        h.update(seed.to_be_bytes());
        h.update(index.to_be_bytes());
        let digest = h.finalize();
        let mut hash = [0u8; 20];
        hash.copy_from_slice(&digest[..20]);
        Dest::p2pkh(hash)
    }

    /// `createnewaddress`: a new wallet address.
    pub fn create_address(&mut self) -> Dest {
        let index = self.wallet.len();
        let dest = Chain::derive(self.seed, index as u64);
        self.wallet.push(dest);
        self.wallet_index.insert(dest, index);
        if !self.by_dest.contains_key(&dest) {
            self.unused.insert(index);
        }
        dest
    }

    /// `getunusedaddress`: the first wallet address without history.
    pub fn first_unused(&self) -> Option<Dest> {
        self.unused.iter().next().and_then(|&i| self.wallet.get(i)).copied()
    }

    /// How many wallet addresses exist.
    pub fn address_count(&self) -> usize {
        self.wallet.len()
    }

    /// An address outside the wallet, new on every call.
    pub fn external(&mut self) -> Dest {
        self.counter += 1;
        let mut h = Sha256::new();
        h.update(b"external");
        h.update(self.seed.to_be_bytes());
        h.update(self.counter.to_be_bytes());
        let digest = h.finalize();
        let mut hash = [0u8; 20];
        hash.copy_from_slice(&digest[..20]);
        Dest::p2pkh(hash)
    }

    /// A made-up input spending a coin the chain does not know.
    fn made_up_input(&mut self) -> TxIn {
        self.counter += 1;
        let mut data = b"coin".to_vec();
        data.extend_from_slice(&self.seed.to_be_bytes());
        data.extend_from_slice(&self.counter.to_be_bytes());
        let prev_hash: [u8; 32] = Sha256::digest(&data).into();
        TxIn {
            prev_hash,
            prev_n: 0,
            script_sig: fake_script_sig(&data),
            sequence: 0xffff_fffe,
        }
    }

    /// Pays `outputs` from outside the wallet; the transaction goes to the
    /// mempool. With `unconfirmed_parent`, it spends an output of a parent
    /// that is itself still in the mempool (height −1 in the server's view).
    pub fn pay(&mut self, outputs: &[(Dest, u64)], unconfirmed_parent: bool) -> Result<String, SimError> {
        if outputs.is_empty() {
            return Err(SimError::BadInput("no outputs to pay".into()));
        }
        let mut total: u64 = 0;
        for &(_, v) in outputs {
            if v == 0 {
                return Err(SimError::BadInput("an amount must be at least 1 satoshi".into()));
            }
            total = total
                .checked_add(v)
                .filter(|&t| t <= 2_100_000_000_000_000)
                .ok_or_else(|| SimError::BadInput("amounts add up to more than 21 million BCH".into()))?;
        }
        // A made-up change output first, so payments sit at index ≥ 1 as recorded.
        self.counter += 1;
        let change = 100_000_000 + (self.counter % 1000) * 1_000_003;
        let mut outs = vec![(self.external(), change)];
        outs.extend_from_slice(outputs);
        let (input, spends) = if unconfirmed_parent {
            let parent_value = total + change + 1_000;
            let parent_dest = self.external();
            let input = self.made_up_input();
            let parent = self.insert(vec![input], &[(parent_dest, parent_value)], Vec::new(), 500);
            let script_sig = fake_script_sig(parent.as_bytes());
            let input = TxIn {
                prev_hash: prev_hash_of(&parent),
                prev_n: 0,
                script_sig,
                sequence: 0xffff_fffe,
            };
            (input, vec![(parent, 0)])
        } else {
            (self.made_up_input(), Vec::new())
        };
        Ok(self.insert(vec![input], &outs, spends, 0))
    }

    /// Builds, indexes and puts a transaction in the mempool. A `fee` of 0
    /// means one satoshi per byte.
    fn insert(&mut self, inputs: Vec<TxIn>, outputs: &[(Dest, u64)], spends: Vec<(String, u32)>, fee: u64) -> String {
        let tx = Transaction {
            version: 2,
            inputs,
            outputs: outputs
                .iter()
                .map(|(d, v)| TxOut {
                    value: *v,
                    script: d.script(),
                })
                .collect(),
            locktime: self.tip() as u32,
        };
        let raw = tx.serialize();
        let txid = super::tx::txid_of(&raw);
        let fee = if fee == 0 { raw.len() as u64 } else { fee };
        let mut dests: Vec<Dest> = outputs.iter().map(|(d, _)| *d).collect();
        for (prev, n) in &spends {
            self.spent_by.insert((prev.clone(), *n), txid.clone());
            if let Some(d) = self.txs.get(prev).and_then(|p| p.outputs.get(*n as usize)) {
                dests.push(d.0);
            }
        }
        dests.sort();
        dests.dedup();
        let mut mine = false;
        for d in dests {
            self.by_dest.entry(d).or_default().push(txid.clone());
            if let Some(&i) = self.wallet_index.get(&d) {
                self.unused.remove(&i);
                mine = true;
            }
            self.touched.insert(d);
        }
        if mine {
            self.wallet_txs.insert(txid.clone());
        }
        let entry = TxEntry {
            hex: hex::encode(&raw),
            fee,
            outputs: outputs.to_vec(),
            spends,
            height: None,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.txs.insert(txid.clone(), entry);
        self.mempool.push(txid.clone());
        txid
    }

    /// Every destination a transaction touches (its outputs, the coins it spends).
    pub(super) fn dests_of(&self, txid: &str) -> Vec<Dest> {
        let Some(e) = self.txs.get(txid) else { return Vec::new() };
        let mut out: Vec<Dest> = e.outputs.iter().map(|(d, _)| *d).collect();
        for (prev, n) in &e.spends {
            if let Some(d) = self.txs.get(prev).and_then(|p| p.outputs.get(*n as usize)) {
                out.push(d.0);
            }
        }
        out
    }

    fn touch_tx(&mut self, txid: &str) {
        for d in self.dests_of(txid) {
            self.touched.insert(d);
        }
    }

    /// Mines `blocks` blocks at `now`; the first takes the whole mempool
    /// unless `empty`. Returns the new tip.
    pub fn mine(&mut self, blocks: u32, empty: bool, now: i64) -> u64 {
        for i in 0..blocks {
            let time = now.max(self.blocks.last().map_or(now, |b| b.time + 1));
            let txids = if i == 0 && !empty {
                std::mem::take(&mut self.mempool)
            } else {
                Vec::new()
            };
            let height = self.tip() + 1;
            for t in &txids {
                if let Some(e) = self.txs.get_mut(t) {
                    e.height = Some(height);
                }
                self.touch_tx(t);
            }
            self.blocks.push(Block { time, txids });
        }
        self.tip()
    }

    /// Disconnects the last `depth` blocks; their transactions go back to the
    /// mempool, and the wallet reads them as unconfirmed until reloaded.
    pub fn reorg(&mut self, depth: u32) -> Result<(), SimError> {
        if depth == 0 || u64::from(depth) > self.tip() {
            return Err(SimError::BadInput(format!(
                "cannot disconnect {depth} blocks of {}",
                self.tip()
            )));
        }
        let mut back = Vec::new();
        for _ in 0..depth {
            if let Some(block) = self.blocks.pop() {
                back.splice(0..0, block.txids);
            }
        }
        for t in &back {
            if let Some(e) = self.txs.get_mut(t) {
                e.height = None;
            }
            self.stale.insert(t.clone());
            self.touch_tx(t);
        }
        back.append(&mut self.mempool);
        self.mempool = back;
        Ok(())
    }

    /// Drops an unconfirmed transaction (a double spend won), with every
    /// mempool transaction that spends from it.
    pub fn drop_tx(&mut self, txid: &str) -> Result<(), SimError> {
        match self.txs.get(txid) {
            None => return Err(SimError::NotFound(format!("no transaction {txid}"))),
            Some(e) if e.height.is_some() => {
                return Err(SimError::BadInput(format!(
                    "transaction {txid} is confirmed; reorg first"
                )))
            }
            Some(_) => {}
        }
        let mut doomed = vec![txid.to_owned()];
        let mut i = 0;
        while i < doomed.len() {
            let t = doomed[i].clone();
            let n_out = self.txs.get(&t).map_or(0, |e| e.outputs.len());
            for n in 0..n_out as u32 {
                if let Some(child) = self.spent_by.get(&(t.clone(), n)) {
                    if !doomed.contains(child) {
                        doomed.push(child.clone());
                    }
                }
            }
            i += 1;
        }
        for t in doomed.iter().rev() {
            self.touch_tx(t);
            let dests = self.dests_of(t);
            let Some(e) = self.txs.remove(t) else { continue };
            for s in &e.spends {
                self.spent_by.remove(s);
            }
            for d in dests {
                if let Some(list) = self.by_dest.get_mut(&d) {
                    list.retain(|x| x != t);
                    if list.is_empty() {
                        self.by_dest.remove(&d);
                        if let Some(&idx) = self.wallet_index.get(&d) {
                            self.unused.insert(idx);
                        }
                    }
                }
            }
            self.wallet_txs.remove(t);
            self.stale.remove(t);
        }
        let gone: HashSet<&String> = doomed.iter().collect();
        self.mempool.retain(|t| !gone.contains(t));
        Ok(())
    }

    /// The merchant spends every coin of `dest` to an address outside the wallet.
    pub fn spend(&mut self, dest: Dest) -> Result<String, SimError> {
        let coins: Vec<(String, u32, u64)> = self
            .by_dest
            .get(&dest)
            .into_iter()
            .flatten()
            .filter_map(|t| self.txs.get(t).map(|e| (t, e)))
            .flat_map(|(t, e)| {
                e.outputs
                    .iter()
                    .enumerate()
                    .filter(move |(_, (d, _))| *d == dest)
                    .map(move |(n, (_, v))| (t.clone(), n as u32, *v))
            })
            .filter(|(t, n, _)| !self.spent_by.contains_key(&(t.clone(), *n)))
            .collect();
        if coins.is_empty() {
            return Err(SimError::BadInput("that address has no coins to spend".into()));
        }
        let total: u64 = coins.iter().map(|c| c.2).sum();
        let fee = (10 + 148 * coins.len() as u64 + 34).min(total);
        let inputs = coins
            .iter()
            .map(|(t, n, _)| TxIn {
                prev_hash: prev_hash_of(t),
                prev_n: *n,
                script_sig: fake_script_sig(format!("{t}:{n}").as_bytes()),
                sequence: 0xffff_fffe,
            })
            .collect();
        let spends = coins.iter().map(|(t, n, _)| (t.clone(), *n)).collect();
        let to = self.external();
        Ok(self.insert(inputs, &[(to, total - fee)], spends, fee))
    }

    /// The wallet was loaded again: it reads the chain's heights afresh.
    pub fn reload_wallet(&mut self) {
        self.stale.clear();
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
