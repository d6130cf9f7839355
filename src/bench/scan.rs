//! `bchpay bench scan` (issue 10, item 5): filtered listings beside a
//! creation burst, over a big store.
//!
//! The store is loaded through `store::bulk` (as `bench scale` does) with
//! `--invoices` invoices of which only `--paid` are `paid` (each with two
//! `failed` webhook events); the rest are confirmed, expired or new. The real
//! binary is started on it (`bchpay serve`, a child process), its pool
//! filled. Then, each for `--seconds` after a warm-up:
//! 1. a creation burst alone (`POST /api/v1/invoices`, `--burst` connections);
//! 2. the same burst while `--readers` connections read
//!    `GET /api/v1/invoices?status=paid&limit=50` and as many read
//!    `GET /api/v1/events?state=failed` in a loop.
//!
//! Printed: each load's rate, p50, p99 and max; the burst's p99 alone and
//! beside the reads is the figure of issue 10.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::fill::{self, disk_usage, Kind, KEY};
use super::load::{self, Load, Report, Request};
use super::scale::{free_port, start_engine};
use super::ScratchDir;

/// Load before each measured window, not recorded.
const WARM_UP: Duration = Duration::from_secs(1);

/// `bchpay bench scan` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Opts {
    /// Invoices in the store.
    #[arg(long, default_value_t = 1_000_000)]
    pub invoices: usize,
    /// How many of them are `paid` (each with two `failed` events): few.
    #[arg(long, default_value_t = 100)]
    pub paid: usize,
    /// Seconds each measured window lasts (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Connections of the creation burst.
    #[arg(long, default_value_t = 16)]
    pub burst: usize,
    /// Connections reading each of the two filtered listings.
    #[arg(long, default_value_t = 4)]
    pub readers: usize,
    /// Addresses pooled before measuring: more than both bursts create.
    #[arg(long, default_value_t = 100_000)]
    pub pool: usize,
    /// Leave the store (and the engine's log) on disk afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// Runs the measurement and prints it.
pub fn run(opts: Opts) -> io::Result<()> {
    log::set_max_level(log::LevelFilter::Warn);
    let n = opts.invoices.max(100);
    let every = (n / opts.paid.max(1)).max(2);
    let mix = move |i: usize| -> Kind {
        match i {
            _ if i % every == every / 2 => Kind::Paid,
            _ if i.is_multiple_of(100) => Kind::Watched,
            _ if i % 4 == 1 => Kind::Expired,
            _ => Kind::Confirmed,
        }
    };
    let dir = ScratchDir::new("scan")?.keep(opts.keep);
    let store = dir.path().join("store");
    let (_sim_served, sim) = fill::start_sim()?;
    eprintln!("bench: building a store of {n} invoices ...");
    let filled = fill::fill_bulk_with(&store, &sim, n, &mix)?;
    eprintln!(
        "bench: stored in {:.1} s, {:.0} MiB on disk; starting bchpay serve",
        filled.took.as_secs_f64(),
        disk_usage(&store)? as f64 / (1024.0 * 1024.0)
    );
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fill::engine_config(port, &store, &sim.url(), Some(opts.pool)))?;
    let (engine, _) = start_engine(dir.path(), &config, addr)?;
    fill::wait_pool(addr, opts.pool)?;
    eprintln!("bench: pool of {} filled; the burst alone ...", opts.pool);
    let seconds = opts.seconds.max(1);
    let window = move |connections| Load {
        addr,
        connections,
        warm_up: WARM_UP,
        duration: Duration::from_secs(seconds),
    };
    let alone = load::run(window(opts.burst.max(1)), fill::create_requests("scan", 0))?;
    eprintln!("bench: the burst beside the filtered reads ...");
    let readers = opts.readers.max(1);
    let paid = std::thread::spawn(move || load::run(window(readers), get("/api/v1/invoices?status=paid&limit=50")));
    let failed = std::thread::spawn(move || load::run(window(readers), get("/api/v1/events?state=failed")));
    let beside = load::run(window(opts.burst.max(1)), fill::create_requests("scan", 1 << 40))?;
    let joined =
        |h: std::thread::JoinHandle<io::Result<Report>>| h.join().map_err(|_| io::Error::other("a reader panicked"))?;
    let (paid, failed) = (joined(paid)?, joined(failed)?);
    drop(engine);
    print(
        &opts,
        n,
        &[
            ("burst alone", &alone),
            ("burst beside reads", &beside),
            ("status=paid&limit=50", &paid),
            ("events?state=failed", &failed),
        ],
    );
    Ok(())
}

/// The same GET, over and over.
fn get(path: &'static str) -> impl Fn(u64) -> Request + Send + Sync + 'static {
    move |_| Request {
        method: "GET",
        path: path.into(),
        headers: vec![("Authorization", format!("Bearer {KEY}"))],
        body: Vec::new(),
    }
}

fn print(opts: &Opts, n: usize, rows: &[(&str, &Report)]) {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "bchpay bench scan: {n} invoices ({} paid, each with 2 failed events), {cores} cores; burst {} connections, \
         {} readers per listing, {} s windows after a {} s warm-up",
        opts.paid,
        opts.burst,
        opts.readers,
        opts.seconds.max(1),
        WARM_UP.as_secs()
    );
    load::print_table("load", rows);
}
