//! What `bench confirm` and `bench scale` share: building a store of many
//! invoices fast, a simulator on a thread of its own, and a blocking HTTP/1.1
//! exchange for probes (`/readyz`, one JSON-RPC call).
//!
//! The store is built the way the engine writes it, only without HTTP: the
//! store actor ([`InvoiceStore`]) on a System of its own, fed `CreateInvoice`
//! with a fresh address from the simulator's wallet (`sim.new_address()`,
//! i.e. `createnewaddress` without the round trip): new, watched invoices,
//! group committed, a few hundred in flight. The actor and the database
//! are dropped before [`fill`] returns, so that an engine may open the store.
//!
//! Final invoices would cost one more sled transaction each through the actor
//! (`ApplyObservation`: about a thousand a second here, the log growing by
//! ~12 KB an invoice): too slow for a million. [`fill_bulk`] writes them in
//! bulk instead, as old invoices (created days ago, their monitoring window
//! over): each invoice and its events are made by the engine's own code
//! (`Invoice::create`, `lifecycle::apply`, `Routes::events`) and loaded
//! through the store's own bulk loader ([`BulkLoader`]: the store's formats,
//! one sled batch per tree per thousand invoices, counters last); the result
//! is then opened with `Store::open_existing` and checked through
//! `StoreReader` (counts by status,
//! watch list, lookups by id, address and order, events of an invoice).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actix::{Actor, Addr};
use chrono::Utc;
use futures_util::StreamExt;
use serde_json::json;

use super::{serve, Served};
use crate::cashaddr::Address;
use crate::event::route::Routes;
use crate::event::DeliveryState;
use crate::invoice::lifecycle::{self, Emitted, Observation, Policy};
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus, NewInvoice, Payment};
use crate::money::Sats;
use crate::sim::{Sim, SimConfig};
use crate::store::bulk::BulkLoader;
use crate::store::{CreateInvoice, Flush, InvoiceStore, Store};

/// Writes kept in flight while filling.
const IN_FLIGHT: usize = 256;
/// The amount of every bench invoice.
pub const AMOUNT: Sats = Sats(70_000);
/// The lifetime of watched invoices: none expires during a run.
const WATCHED_EXPIRY_SECS: u64 = 86_400;
/// The lifetime of the final invoices of [`fill_bulk`] (the default `expiry_secs`).
const FINAL_EXPIRY_SECS: u64 = 900;
/// The monitoring window after expiry (the default `monitoring_secs`).
const MONITORING_SECS: u64 = 86_400;
/// Where the failed events of [`Kind::Paid`] invoices were to go.
const FAILED_WEBHOOK_URL: &str = "http://127.0.0.1:9/unreachable";
/// The tip at which the payments of confirmed invoices are mined.
const FILL_TIP: u64 = 100;

/// What one invoice of the fill becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `new`, unpaid, watched by the confirmer.
    Watched,
    /// Paid by one mined transaction: `confirmed`, final.
    Confirmed,
    /// Unpaid past its expiry and its monitoring window: `expired`, final.
    Expired,
    /// Paid in full, not yet mined: `paid`, watched; its webhook events
    /// `failed` (their retry schedule spent).
    Paid,
}

/// What [`fill`] built.
pub struct Filled {
    /// Every invoice id, in creation order.
    pub ids: Vec<InvoiceId>,
    /// The watched invoices and their addresses (as the simulator spells them).
    pub watched: Vec<(InvoiceId, String)>,
    /// How many became confirmed and expired.
    pub confirmed: usize,
    /// See `confirmed`.
    pub expired: usize,
    /// How long the fill took, the final flush included.
    pub took: Duration,
}

/// Builds a store of `count` new, watched invoices at `path` through the
/// store actor; addresses come from `sim`'s wallet. Blocks; runs on a thread of its own.
pub fn fill(path: &Path, sim: &Sim, count: usize) -> io::Result<Filled> {
    let (path, sim) = (path.to_owned(), sim.clone());
    std::thread::Builder::new()
        .name("bench-fill".into())
        .spawn(move || actix_rt::System::new().block_on(fill_in(path, sim, count)))?
        .join()
        .map_err(|_| io::Error::other("the fill thread panicked"))?
}

async fn fill_in(path: PathBuf, sim: Sim, count: usize) -> io::Result<Filled> {
    let started = Instant::now();
    let store = Store::open(&path).map_err(|e| io::Error::other(format!("store {}: {e}", path.display())))?;
    let writer = InvoiceStore::new(store).start();
    let mut filled = Filled {
        ids: Vec::with_capacity(count),
        watched: Vec::new(),
        confirmed: 0,
        expired: 0,
        took: Duration::ZERO,
    };
    let every = (count / 10).max(1);
    let mut writes = futures_util::stream::iter(0..count)
        .map(|i| {
            let short = sim.new_address();
            create(writer.clone(), i, short)
        })
        .buffered(IN_FLIGHT);
    while let Some(done) = writes.next().await {
        let (id, short) = done?;
        filled.watched.push((id.clone(), short));
        filled.ids.push(id);
        if filled.ids.len().is_multiple_of(every) && count >= 100_000 {
            eprintln!(
                "bench: {} of {count} invoices stored ({:.0} s)",
                filled.ids.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    drop(writes);
    writer
        .send(Flush)
        .await
        .map_err(io::Error::other)?
        .map_err(io::Error::other)?;
    drop(writer);
    filled.took = started.elapsed();
    Ok(filled)
}

/// The draft of bench invoice `i`.
fn draft(i: usize, expires_in_secs: u64) -> NewInvoice {
    NewInvoice {
        amount_sats: AMOUNT,
        fiat: None,
        order_id: Some(format!("bench-{i}")),
        description: Some("bench".into()),
        metadata: json!({}),
        webhook_url: None,
        redirect_url: None,
        expires_in_secs,
        required_confirmations: 1,
    }
}

/// Creates invoice `i` at the wallet address `short`.
async fn create(writer: Addr<InvoiceStore>, i: usize, short: String) -> io::Result<(InvoiceId, String)> {
    let address = Address::parse(&short).map_err(|e| io::Error::other(format!("sim address {short}: {e}")))?;
    let created = writer
        .send(CreateInvoice {
            draft: draft(i, WATCHED_EXPIRY_SECS),
            fresh_address: Some(address),
            order_rule: Default::default(),
        })
        .await
        .map_err(io::Error::other)?
        .map_err(io::Error::other)?;
    Ok((created.invoice.id, short))
}

/// Like [`fill`], but loaded in bulk through [`crate::store::bulk`] (see the
/// module docs); the store is checked through the reader before it returns.
pub fn fill_bulk(path: &Path, sim: &Sim, count: usize, kind: fn(usize) -> Kind) -> io::Result<Filled> {
    fill_bulk_with(path, sim, count, &kind)
}

/// [`fill_bulk`] with any mix.
pub fn fill_bulk_with(path: &Path, sim: &Sim, count: usize, kind: &dyn Fn(usize) -> Kind) -> io::Result<Filled> {
    let started = Instant::now();
    let mut loader = BulkLoader::create(path).map_err(io::Error::other)?;
    let mut filled = Filled {
        ids: Vec::with_capacity(count),
        watched: Vec::new(),
        confirmed: 0,
        expired: 0,
        took: Duration::ZERO,
    };
    let mut by_status: std::collections::HashMap<InvoiceStatus, u64> = Default::default();
    // Bench events have nowhere to go: kept as `no_endpoint`, as without a webhook URL.
    let routes = Routes::default();
    for i in 0..count {
        let k = kind(i);
        let short = sim.new_address();
        let address = Address::parse(&short).map_err(|e| io::Error::other(format!("sim address {short}: {e}")))?;
        let (invoice, kinds) = bulk_invoice(i, count, k, address)?;
        let mut events = routes.events(&invoice, &kinds, &[], loader.next_event_seq(), 0, FILL_TIP, Utc::now());
        if k == Kind::Paid {
            for e in &mut events {
                e.url = Some(FAILED_WEBHOOK_URL.into());
                e.state = DeliveryState::Failed;
                e.next_attempt_at = None;
            }
        }
        loader
            .push(&invoice, &events, matches!(k, Kind::Watched | Kind::Paid))
            .map_err(io::Error::other)?;
        *by_status.entry(invoice.status).or_default() += 1;
        match k {
            Kind::Watched | Kind::Paid => filled.watched.push((invoice.id.clone(), short)),
            Kind::Confirmed => filled.confirmed += 1,
            Kind::Expired => filled.expired += 1,
        }
        filled.ids.push(invoice.id);
        if count >= 100_000 && (i + 1) % (count / 10).max(1) == 0 {
            eprintln!(
                "bench: {} of {count} invoices written ({:.0} s)",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    loader.finish().map_err(io::Error::other)?;
    check(path, &filled, &by_status)?;
    filled.took = started.elapsed();
    Ok(filled)
}

/// Bench invoice `i` of `count` as `kind` makes it, with the events of its
/// transitions: final invoices are old (created days ago, one a second,
/// their monitoring window over), made by the engine's own lifecycle.
fn bulk_invoice(i: usize, count: usize, kind: Kind, address: Address) -> io::Result<(Invoice, Vec<Emitted>)> {
    let now = Utc::now();
    if kind == Kind::Watched {
        let draft = draft(i, WATCHED_EXPIRY_SECS);
        return Ok((Invoice::create(InvoiceId::generate(), draft, address, now), Vec::new()));
    }
    if kind == Kind::Paid {
        let created = Invoice::create(InvoiceId::generate(), draft(i, WATCHED_EXPIRY_SECS), address, now);
        let seen = Observation {
            payments: vec![Payment {
                txid: format!("{:064x}", i as u128 + 1),
                amount_sats: AMOUNT,
                height: 0,
                outputs: Vec::new(),
                seen_at: now,
                settled: false,
            }],
            tip: FILL_TIP,
            now,
        };
        let policy = Policy {
            tolerance_percent: 0,
            monitoring_secs: MONITORING_SECS,
        };
        let t = lifecycle::apply(&created, &seen, &policy);
        return Ok((t.invoice, t.events));
    }
    let created_at = now - chrono::Duration::days(2) - chrono::Duration::seconds((count - i) as i64);
    let created = Invoice::create(InvoiceId::generate(), draft(i, FINAL_EXPIRY_SECS), address, created_at);
    let seen = Observation {
        payments: if kind == Kind::Confirmed {
            vec![Payment {
                txid: format!("{:064x}", i as u128 + 1),
                amount_sats: AMOUNT,
                height: FILL_TIP as i64,
                outputs: Vec::new(),
                seen_at: created_at + chrono::Duration::seconds(60),
                settled: false,
            }]
        } else {
            Vec::new()
        },
        tip: FILL_TIP,
        // Paid a minute after creation; expired when looked at now.
        now: if kind == Kind::Confirmed {
            created_at + chrono::Duration::seconds(60)
        } else {
            now
        },
    };
    let policy = Policy {
        tolerance_percent: 0,
        monitoring_secs: MONITORING_SECS,
    };
    let t = lifecycle::apply(&created, &seen, &policy);
    if lifecycle::still_watched(&t.invoice, now, &policy) {
        return Err(io::Error::other(format!("invoice {i} would still be watched")));
    }
    Ok((t.invoice, t.events))
}

/// Reads a bulk-written store back through the store's own reader.
fn check(path: &Path, filled: &Filled, by_status: &std::collections::HashMap<InvoiceStatus, u64>) -> io::Result<()> {
    let store = Store::open_existing(path).map_err(io::Error::other)?;
    let reader = store.reader();
    let wrong = |what: String| io::Error::other(format!("the bulk-written store reads back wrong: {what}"));
    let count = reader.invoice_count().map_err(io::Error::other)?;
    if count != filled.ids.len() as u64 {
        return Err(wrong(format!("invoice_count {count}")));
    }
    for (status, n) in reader.status_counts().map_err(io::Error::other)? {
        if by_status.get(&status).copied().unwrap_or(0) != n {
            return Err(wrong(format!("{n} {status}")));
        }
    }
    let watched = reader.watched_ids().map_err(io::Error::other)?;
    if watched.len() != filled.watched.len() {
        return Err(wrong(format!("{} watched", watched.len())));
    }
    for id in filled.ids.iter().step_by((filled.ids.len() / 100).max(1)) {
        let invoice = reader
            .invoice(id)
            .map_err(io::Error::other)?
            .ok_or_else(|| wrong(format!("no invoice {id}")))?;
        let by_address = reader.invoice_by_address(&invoice.address).map_err(io::Error::other)?;
        let by_order = reader
            .invoice_by_order(invoice.order_id.as_deref().unwrap_or_default())
            .map_err(io::Error::other)?;
        if by_address.map(|i| i.id) != Some(id.clone()) || by_order.map(|i| i.id) != Some(id.clone()) {
            return Err(wrong(format!("indexes of {id}")));
        }
        let (events, _) = reader.events(Some(id), None, 10, None).map_err(io::Error::other)?;
        let expected = match invoice.status {
            crate::invoice::InvoiceStatus::Confirmed => 3,
            crate::invoice::InvoiceStatus::Expired => 1,
            crate::invoice::InvoiceStatus::Paid => 2,
            _ => 0,
        };
        if events.len() != expected {
            return Err(wrong(format!("{} events of {id}", events.len())));
        }
    }
    Ok(())
}

/// Starts a simulated daemon on a thread of its own (stopped when the
/// [`Served`] is dropped); returns it with its handle.
pub fn start_sim() -> io::Result<(Served, Sim)> {
    serve("sim", || async {
        let sim = Sim::start(SimConfig::default()).await?;
        let port = sim.addr().port();
        let handle = sim.clone();
        let serving = async move {
            std::future::pending::<()>().await;
            drop(handle);
            Ok(())
        };
        Ok((port, Box::pin(serving) as _, sim))
    })
}

/// Bytes a directory holds on disk (allocated blocks), recursively.
pub fn disk_usage(dir: &Path) -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            disk_usage(&entry.path())?
        } else {
            meta.blocks() * 512
        };
    }
    Ok(total)
}

/// One blocking HTTP/1.1 exchange with `Connection: close`: the status and body.
pub fn http_once(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.set_nodelay(true)?;
    let mut wire = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        wire.push_str(&format!("{name}: {value}\r\n"));
    }
    wire.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut wire = wire.into_bytes();
    wire.extend_from_slice(body);
    stream.write_all(&wire)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("no end of the response header"))?;
    let status = std::str::from_utf8(&answer[..head_end])
        .ok()
        .and_then(|head| head.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| io::Error::other("malformed status line"))?;
    Ok((status, answer.split_off(head_end + 4)))
}

/// A well-spread index in `0..len` for request `seq` (splitmix64).
pub fn spread(seq: u64, len: usize) -> usize {
    let mut z = seq.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z % len.max(1) as u64) as usize
}

/// The API key of every engine a bench starts.
pub const KEY: &str = "bench-key-0001";

/// How long a bench waits for the engine's address pool to fill.
const POOL_TIMEOUT: Duration = Duration::from_secs(300);

/// The config of an engine a bench starts on `port` over `store` and the
/// simulated wallet at `sim_url`: no fiat currencies, one confirmer tick a
/// second, and with `pool`, a pool of that many addresses (refilled below half).
pub fn engine_config(port: u16, store: &Path, sim_url: &str, pool: Option<usize>) -> String {
    let addresses = pool.map_or(String::new(), |pool| {
        format!("[addresses]\npool_low = {}\npool_high = {pool}\n\n", pool / 2)
    });
    format!(
        "[server]\nbind = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n\n\
         [api]\nkeys = [\"{KEY}\"]\n\n\
         [store]\npath = {store:?}\n\n\
         [electron_cash]\nurl = \"{sim_url}\"\n\n\
         {addresses}\
         [payments]\npoll_interval_ms = 1000\n\n\
         [rates]\ncurrencies = []\n",
        store = store.display().to_string(),
    )
}

/// Waits until the engine at `addr` shows `n` pooled addresses on `/readyz`.
pub fn wait_pool(addr: SocketAddr, n: usize) -> io::Result<()> {
    let started = Instant::now();
    loop {
        let (_, body) = http_once(addr, "GET", "/readyz", &[], b"", Duration::from_secs(5))?;
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if body["address_pool"]["available"].as_u64().unwrap_or(0) >= n as u64 {
            return Ok(());
        }
        if started.elapsed() > POOL_TIMEOUT {
            return Err(io::Error::other(format!("the pool did not reach {n}: {body}")));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Creation requests numbered from `base` (so that two bursts use distinct
/// orders), their order ids starting with `prefix`.
pub fn create_requests(
    prefix: &'static str,
    base: u64,
) -> impl Fn(u64) -> super::load::Request + Send + Sync + 'static {
    move |seq| super::load::Request {
        method: "POST",
        path: "/api/v1/invoices".into(),
        headers: vec![
            ("Authorization", format!("Bearer {KEY}")),
            ("Content-Type", "application/json".into()),
        ],
        body: format!(r#"{{"amount_sats":70000,"order_id":"{prefix}-{}"}}"#, base + seq).into_bytes(),
    }
}
