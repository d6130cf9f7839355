//! `bchpay bench backup` (issue 16, item 1): an online backup of a big store
//! and what it costs the creations going on meanwhile.
//!
//! The store is loaded through `store::bulk` (as `bench scale` does:
//! `--invoices` invoices, 1 % watched, a quarter expired, the rest
//! confirmed); the real binary is started on it (`bchpay serve`, a child
//! process) and its pool filled. Then:
//! 1. one backup alone, through `bchpay backup --url` (this process's own
//!    code: `GET /api/v1/admin/backup`, streamed to a file, checksum checked):
//!    its size and time;
//! 2. a creation burst alone (`POST /api/v1/invoices`, `--burst`
//!    connections) for `--seconds`;
//! 3. the same burst while backups run back to back for the whole window;
//! 4. with `--restore`, `bchpay restore` of the last backup into a new
//!    directory (invariants checked): its time.
//!
//! Printed: the backup's size and times, and the burst's p99 alone beside
//! its p99 during backups: the figures of issue 16.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::fill::{self, disk_usage, Kind, KEY};
use super::load::{self, ms, Load};
use super::scale::{free_port, start_engine};
use super::ScratchDir;
use crate::config::Secret;
use crate::inspect::Source;

/// Load before each measured window, not recorded.
const WARM_UP: Duration = Duration::from_secs(1);

/// `bchpay bench backup` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Opts {
    /// Invoices in the store.
    #[arg(long, default_value_t = 1_000_000)]
    pub invoices: usize,
    /// Seconds each measured window lasts (after a 1 s warm-up).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Connections of the creation burst.
    #[arg(long, default_value_t = 16)]
    pub burst: usize,
    /// Addresses pooled before measuring: more than both bursts create.
    #[arg(long, default_value_t = 100_000)]
    pub pool: usize,
    /// Also restore the last backup (`bchpay restore`, invariants checked) and time it.
    #[arg(long)]
    pub restore: bool,
    /// Leave the store, the backups and the engine's log on disk afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// What invoice `i` of the store becomes (as in `bench scale`).
fn mix(i: usize) -> Kind {
    if i.is_multiple_of(100) {
        Kind::Watched
    } else if i % 4 == 1 {
        Kind::Expired
    } else {
        Kind::Confirmed
    }
}

/// One backup through `bchpay backup --url` into `out`: its size and time.
fn take_backup(addr: SocketAddr, out: &Path) -> io::Result<(u64, Duration)> {
    let _ = std::fs::remove_file(out);
    let source = Source::Api {
        url: format!("http://{addr}"),
        key: Secret::new(KEY),
    };
    let started = Instant::now();
    actix_rt::System::new()
        .block_on(crate::backup::backup(&source, out))
        .map_err(io::Error::other)?;
    Ok((std::fs::metadata(out)?.len(), started.elapsed()))
}

/// Runs the measurement and prints it.
pub fn run(opts: Opts) -> io::Result<()> {
    log::set_max_level(log::LevelFilter::Warn);
    let n = opts.invoices.max(100);
    let dir = ScratchDir::new("backup")?.keep(opts.keep);
    let store = dir.path().join("store");
    let (_sim_served, sim) = fill::start_sim()?;
    eprintln!("bench: building a store of {n} invoices ...");
    let filled = fill::fill_bulk(&store, &sim, n, mix)?;
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
    let on_disk = disk_usage(&store)?;

    eprintln!("bench: pool of {} filled; one backup alone ...", opts.pool);
    let file: PathBuf = dir.path().join("alone.backup");
    let (size, alone) = take_backup(addr, &file)?;

    let seconds = opts.seconds.max(1);
    let window = Load {
        addr,
        connections: opts.burst.max(1),
        warm_up: WARM_UP,
        duration: Duration::from_secs(seconds),
    };
    eprintln!("bench: the burst alone ...");
    let quiet = load::run(window.clone(), fill::create_requests("backup", 0))?;

    eprintln!("bench: the burst while backups run back to back ...");
    let stop = Arc::new(AtomicBool::new(false));
    let (stopped, during_file) = (stop.clone(), dir.path().join("during.backup"));
    let backups = std::thread::spawn(move || -> io::Result<Vec<(u64, Duration)>> {
        let mut taken = Vec::new();
        while !stopped.load(Ordering::Relaxed) {
            taken.push(take_backup(addr, &during_file)?);
        }
        Ok(taken)
    });
    let busy = load::run(window, fill::create_requests("backup", 1 << 40));
    stop.store(true, Ordering::Relaxed);
    let taken = backups
        .join()
        .map_err(|_| io::Error::other("the backup thread panicked"))??;
    let busy = busy?;
    drop(engine);

    let restored = if opts.restore {
        eprintln!("bench: restoring the last backup ...");
        let started = Instant::now();
        let restored = crate::store::backup::restore(&dir.path().join("during.backup"), &dir.path().join("restored"))
            .map_err(io::Error::other)?;
        Some((started.elapsed(), restored.pool_dropped))
    } else {
        None
    };

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "bchpay bench backup: {n} invoices ({:.0} MiB on disk), {cores} cores; burst {} connections, {seconds} s \
         windows after a {} s warm-up",
        on_disk as f64 / (1024.0 * 1024.0),
        opts.burst.max(1),
        WARM_UP.as_secs()
    );
    println!(
        "backup alone: {:.1} MiB in {:.1} s (bchpay backup --url: streamed, written, checksum checked)",
        size as f64 / (1024.0 * 1024.0),
        alone.as_secs_f64()
    );
    let times: Vec<String> = taken.iter().map(|(_, t)| format!("{:.1} s", t.as_secs_f64())).collect();
    println!(
        "backups during the second window: {} ({}), each {}",
        taken.len(),
        times.join(", "),
        taken
            .last()
            .map(|(b, _)| format!("{:.1} MiB", *b as f64 / (1024.0 * 1024.0)))
            .unwrap_or_default()
    );
    if let Some((took, dropped)) = restored {
        println!(
            "restore of the last one: {:.1} s (invariants checked, {dropped} pool addresses dropped)",
            took.as_secs_f64()
        );
    }
    load::print_table("creations", &[("without a backup", &quiet), ("during backups", &busy)]);
    println!(
        "creation p99: {} without a backup, {} during backups",
        ms(quiet.p99()),
        ms(busy.p99())
    );
    Ok(())
}
