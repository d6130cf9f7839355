//! `AddressAllocator`: keeps a pool of fresh addresses made in advance, so
//! that creating an invoice costs no wallet call.
//!
//! The pool lives in the store's `pool` tree. When it falls below
//! `pool_low` (or on start, below `pool_high`) the allocator asks the wallet
//! for `createnewaddress` one at a time (the daemon answers one call at a
//! time anyway) and adds them in batches, until `pool_high`. A wallet that is
//! down stops the refill; the next check, every second, resumes it.
//! Invoice creation ([`crate::creation`]) takes an address from the pool in
//! the invoice's own transaction.

use std::time::Duration;

use actix::prelude::*;

use crate::cashaddr::Address;
use crate::electron_cash::WalletLink;
use crate::store::{AddToPool, InvoiceStore, StoreReader};

/// How often the pool is checked.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// Addresses added to the store per write.
const BATCH: usize = 50;

/// The pool keeper.
pub struct AddressAllocator {
    /// The single writer, for adding addresses.
    store: Addr<InvoiceStore>,
    /// For the pool's size.
    reader: StoreReader,
    /// Where fresh addresses come from.
    wallet: WalletLink,
    /// Refill when the pool falls below this.
    low: usize,
    /// Refill up to this.
    high: usize,
    /// Whether a refill is running.
    refilling: bool,
    /// Whether the last refill stopped short because the wallet failed (logged once).
    stalled: bool,
}

/// Look at the pool now (sent after an invoice takes an address).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CheckPool;

impl AddressAllocator {
    /// A pool keeper between `low` and `high` addresses.
    pub fn new(
        store: Addr<InvoiceStore>,
        reader: StoreReader,
        wallet: WalletLink,
        low: usize,
        high: usize,
    ) -> AddressAllocator {
        AddressAllocator {
            store,
            reader,
            wallet,
            low,
            high,
            refilling: false,
            stalled: false,
        }
    }

    fn check(&mut self, start: bool, ctx: &mut Context<Self>) {
        let available = self.reader.pool_len();
        let wanted = if start || self.stalled { self.high } else { self.low };
        if self.high == 0 || self.refilling || available >= wanted || !self.wallet.status().state.is_up() {
            return;
        }
        self.refilling = true;
        let need = self.high - available;
        let (wallet, store) = (self.wallet.clone(), self.store.clone());
        let refill = async move { refill(wallet, store, need).await };
        ctx.spawn(refill.into_actor(self).map(move |(added, error), act, _| {
            act.refilling = false;
            match error {
                None => {
                    act.stalled = false;
                    log::info!("address pool refilled: +{added}, {} available", act.reader.pool_len());
                }
                Some(e) => {
                    if !act.stalled {
                        log::warn!("address pool refill stopped after +{added}: {e}");
                    }
                    act.stalled = true;
                }
            }
        }));
    }
}

/// Makes `need` addresses and pools them; returns how many were added and the
/// error that stopped it, if any.
async fn refill(wallet: WalletLink, store: Addr<InvoiceStore>, need: usize) -> (usize, Option<String>) {
    let mut added = 0;
    let mut batch: Vec<Address> = Vec::with_capacity(BATCH);
    let mut error = None;
    for _ in 0..need {
        match wallet.create_new_address().await {
            Ok(address) => batch.push(address),
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
        if batch.len() == BATCH {
            match pool(&store, std::mem::take(&mut batch)).await {
                Ok(n) => added += n,
                Err(e) => return (added, Some(e)),
            }
        }
    }
    if !batch.is_empty() {
        match pool(&store, batch).await {
            Ok(n) => added += n,
            Err(e) => return (added, Some(e)),
        }
    }
    (added, error)
}

async fn pool(store: &Addr<InvoiceStore>, addresses: Vec<Address>) -> Result<usize, String> {
    match store.send(AddToPool { addresses }).await {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("store unavailable: {e}")),
    }
}

impl Actor for AddressAllocator {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // On start, fill to the high watermark (a new store has no pool).
        self.stalled = true;
        ctx.run_interval(CHECK_EVERY, |act, ctx| act.check(false, ctx));
        self.check(true, ctx);
    }
}

impl Handler<CheckPool> for AddressAllocator {
    type Result = ();

    fn handle(&mut self, _: CheckPool, ctx: &mut Context<Self>) {
        self.check(false, ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::config::ElectronCashSettings;
    use crate::creation::{create_invoice, CreateError};
    use crate::invoice::NewInvoice;
    use crate::money::Sats;
    use crate::sim::{Sim, SimConfig};
    use crate::store::{self, Store};

    fn draft() -> NewInvoice {
        NewInvoice {
            amount_sats: Sats(70_000),
            fiat: None,
            order_id: None,
            description: None,
            metadata: serde_json::json!({}),
            webhook_url: None,
            redirect_url: None,
            expires_in_secs: 900,
            required_confirmations: 1,
        }
    }

    async fn setup() -> (Sim, Addr<InvoiceStore>, StoreReader, WalletLink, tempfile::TempDir) {
        let sim = Sim::start(SimConfig::default()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (store, reader) = store::start(Store::open(dir.path()).unwrap());
        let wallet = WalletLink::start(ElectronCashSettings {
            url: sim.url(),
            ..ElectronCashSettings::default()
        });
        (sim, store, reader, wallet, dir)
    }

    async fn wait(what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[actix_rt::test]
    async fn fills_the_pool_to_the_high_watermark_and_refills_below_the_low_one() {
        let (sim, store, reader, wallet, _dir) = setup().await;
        let allocator = AddressAllocator::new(store.clone(), reader.clone(), wallet.clone(), 3, 10).start();
        wait("pool of 10", || reader.pool_len() == 10).await;
        for _ in 0..8 {
            create_invoice(&store, &wallet, draft()).await.unwrap();
            allocator.do_send(CheckPool);
        }
        wait("refilled pool", || reader.pool_len() == 10).await;
        // Every address the wallet made is either in the pool or in the ledger, once.
        assert_eq!(
            reader.ledger_len() + reader.pool_len(),
            sim.requests_for("createnewaddress") as usize
        );
    }

    #[actix_rt::test]
    async fn an_empty_pool_with_the_wallet_up_costs_one_inline_address() {
        let (sim, store, reader, wallet, _dir) = setup().await;
        // No allocator running: the pool stays empty.
        wait("link up", || wallet.status().state.is_up()).await;
        let created = create_invoice(&store, &wallet, draft()).await.unwrap();
        assert!(created.created);
        assert_eq!(reader.ledger_len(), 1);
        assert_eq!(reader.pool_len(), 0);
        assert_eq!(sim.requests_for("createnewaddress"), 1);
    }

    #[actix_rt::test]
    async fn an_empty_pool_with_the_wallet_down_is_wallet_unavailable() {
        let (sim, store, reader, wallet, _dir) = setup().await;
        let _allocator = AddressAllocator::new(store.clone(), reader.clone(), wallet.clone(), 1, 2).start();
        wait("pool of 2", || reader.pool_len() == 2).await;
        sim.stop_listening().await;
        create_invoice(&store, &wallet, draft()).await.unwrap();
        create_invoice(&store, &wallet, draft()).await.unwrap();
        let third = create_invoice(&store, &wallet, draft()).await;
        assert!(matches!(third, Err(CreateError::WalletUnavailable(_))), "{third:?}");
        assert_eq!(reader.ledger_len(), 2);
    }
}
