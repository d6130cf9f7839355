//! `bchpay bench confirm` (issue 4): what a confirmer tick costs as the
//! number of watched invoices grows, and how soon a payment shows.
//!
//! For each count N: a store of N watched invoices is built through the store
//! actor with fresh simulator addresses ([`super::fill`], no HTTP), then the
//! engine (`Application::build`, as `bchpay serve` runs it, no pool) opens it
//! over the simulator, with `getaddresshistory` slowed to the daemon's
//! measured latency. The confirmer ticks on its own interval; the bench reads
//! each tick's [`TickReport`] as it is written (it parks a marker in the
//! handle's slot and waits for the tick to replace it). Measured:
//! - nothing changed: round trips and wall time per tick, over several ticks
//!   (a sweep of one address every 6 ticks included);
//! - 1 % of the watched addresses paid between two ticks: the ticks until all
//!   show `paid`, their round trips and `getaddresshistory` calls;
//! - one payment at a time: from the simulator taking it (`pay` returned) to
//!   the store showing the invoice `paid`, at random phases of the interval;
//! - for contrast, the naive confirmer: N × `getaddresshistory` per tick.

use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use super::fill::{self, http_once, spread, AMOUNT};
use super::{serve, ScratchDir, Started};
use crate::config::{Secret, Settings};
use crate::confirmer::{ConfirmerHandle, TickReport};
use crate::electron_cash::WalletLink;
use crate::invoice::{InvoiceId, InvoiceStatus};
use crate::sim::Sim;
use crate::startup::Application;
use crate::store::StoreReader;

/// The marker parked in the confirmer's report slot until a tick replaces it.
const MARKER: &str = "bench: waiting for the next tick";
/// How long a tick, the wallet link or a payment may take before the run gives up.
const PATIENCE: Duration = Duration::from_secs(120);
/// The sweep checks one address every this many ticks (`confirmer::tick::SWEEP_EVERY`).
const SWEEP_EVERY: usize = 6;

/// `bchpay bench confirm` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Opts {
    /// Watched invoice counts, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000, 100_000])]
    pub watched: Vec<usize>,
    /// The simulator's `getaddresshistory` latency in ms (≈ 1000 measured on a real daemon).
    #[arg(long, default_value_t = 1000)]
    pub delay_ms: u64,
    /// The confirmer's `payments.poll_interval_ms`.
    #[arg(long, default_value_t = 1000)]
    pub poll_interval_ms: u64,
    /// Ticks measured with nothing changed (a multiple of 6 holds whole sweep cycles).
    #[arg(long, default_value_t = 12)]
    pub ticks: usize,
    /// Payments timed one at a time, at each count and delay.
    #[arg(long, default_value_t = 20)]
    pub payments: usize,
    /// The 1 %-changed tick runs at the full delay only up to this count (it
    /// costs 1 % × N × delay); above it, only without delay.
    #[arg(long, default_value_t = 1_000)]
    pub slow_changed_max: usize,
}

/// Ticks with nothing changed.
struct Quiet {
    /// Every tick report, in order.
    ticks: Vec<TickReport>,
}

impl Quiet {
    fn plain(&self) -> impl Iterator<Item = &TickReport> {
        self.ticks.iter().filter(|t| t.addresses_checked == 0)
    }
    fn swept(&self) -> impl Iterator<Item = &TickReport> {
        self.ticks.iter().filter(|t| t.addresses_checked > 0)
    }
    fn mean_round_trips(&self) -> f64 {
        mean(self.ticks.iter().map(|t| t.round_trips as f64))
    }
    fn mean_duration(&self) -> Duration {
        Duration::from_secs_f64(mean(self.ticks.iter().map(|t| t.duration.as_secs_f64())))
    }
}

/// One 1 %-changed run.
struct Changed {
    /// The `getaddresshistory` delay it ran with.
    delay: Duration,
    /// Addresses paid between two ticks.
    paid: usize,
    /// The ticks until every one of them showed `paid`.
    ticks: Vec<TickReport>,
    /// `getaddresshistory` calls the simulator answered meanwhile.
    history_calls: u64,
    /// From the last payment to the last invoice showing `paid`.
    until_all_paid: Duration,
}

/// Payments timed one at a time.
struct Latency {
    /// The `getaddresshistory` delay it ran with.
    delay: Duration,
    /// From `pay` returning to the status changing, sorted.
    samples: Vec<Duration>,
}

/// Everything measured at one count.
struct AtCount {
    watched: usize,
    fill: Duration,
    load: Duration,
    quiet: Quiet,
    changed: Vec<Changed>,
    latency: Vec<Latency>,
}

/// Runs every count and prints the tables.
pub fn run(opts: Opts) -> io::Result<()> {
    log::set_max_level(log::LevelFilter::Warn);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let delay = Duration::from_millis(opts.delay_ms);
    let mut results = Vec::new();
    let mut wire = (Duration::ZERO, Duration::ZERO);
    for &n in &opts.watched {
        let (at, measured) = at_count(&opts, n.max(100), delay)?;
        wire = measured;
        results.push(at);
    }
    print(&opts, cores, wire, &results);
    Ok(())
}

/// Builds the store, starts the engine on it and measures.
fn at_count(opts: &Opts, n: usize, delay: Duration) -> io::Result<(AtCount, (Duration, Duration))> {
    eprintln!("bench: {n} watched invoices: filling the store ...");
    let dir = ScratchDir::new(&format!("confirm-{n}"))?;
    let store = dir.path().join("store");
    let (sim_served, sim) = fill::start_sim()?;
    let filled = fill::fill(&store, &sim, n)?;
    eprintln!(
        "bench: {n} invoices stored in {:.1} s; starting the engine",
        filled.took.as_secs_f64()
    );

    let (url, poll) = (sim.url(), opts.poll_interval_ms);
    let loading = Instant::now();
    let (engine_served, probe) = serve("engine", move || engine(store, url, poll))?;
    let first = next_tick(&probe.confirmer)?;
    let load = loading.elapsed();
    if let Some(e) = first.error {
        return Err(io::Error::other(format!("the first tick failed: {e}")));
    }
    let wire = (rpc_latency(&sim, delay, 3)?, rpc_latency(&sim, Duration::ZERO, 20)?);
    let mut unpaid = filled.watched.iter();

    sim.set_method_delay("getaddresshistory", delay);
    eprintln!("bench: {n}: {} ticks with nothing changed ...", opts.ticks);
    let quiet = quiet_ticks(&probe.confirmer, opts.ticks.max(1))?;

    let mut changed = Vec::new();
    let mut delays = vec![Duration::ZERO];
    if n <= opts.slow_changed_max && !delay.is_zero() {
        delays.insert(0, delay);
    }
    for d in delays {
        eprintln!(
            "bench: {n}: 1 % paid between two ticks, getaddresshistory {} ms ...",
            d.as_millis()
        );
        sim.set_method_delay("getaddresshistory", d);
        let batch: Vec<_> = unpaid.by_ref().take(n / 100).cloned().collect();
        changed.push(one_percent(&probe, &sim, &batch, d)?);
    }

    let mut latency = Vec::new();
    for d in [delay, Duration::ZERO] {
        eprintln!(
            "bench: {n}: {} payments one at a time, getaddresshistory {} ms ...",
            opts.payments,
            d.as_millis()
        );
        sim.set_method_delay("getaddresshistory", d);
        let batch: Vec<_> = unpaid.by_ref().take(opts.payments).cloned().collect();
        latency.push(payments(&probe.reader, &sim, &batch, d, opts.poll_interval_ms)?);
        if delay.is_zero() {
            break;
        }
    }
    drop(probe);
    drop(engine_served);
    drop(sim_served);
    drop(dir);
    let at = AtCount {
        watched: n,
        fill: filled.took,
        load,
        quiet,
        changed,
        latency,
    };
    Ok((at, wire))
}

/// What the bench keeps of the engine.
struct Probe {
    confirmer: ConfirmerHandle,
    reader: StoreReader,
    #[allow(dead_code)]
    wallet: WalletLink,
}

/// The engine as `bchpay serve` runs it on the filled store, without a pool.
async fn engine(store: PathBuf, sim_url: String, poll_interval_ms: u64) -> io::Result<Started<Probe>> {
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".into();
    settings.rates.currencies = Vec::new(); // a bench reaches no exchange
    settings.api.keys = vec![Secret::new("bench-key-0001")];
    settings.electron_cash.url = sim_url;
    settings.store.path = store;
    settings.addresses.pool_high = 0;
    settings.addresses.pool_low = 0;
    settings.payments.poll_interval_ms = poll_interval_ms;
    let app = Application::build(settings).await?;
    let probe = Probe {
        confirmer: app.confirmer().clone(),
        reader: app.reader(),
        wallet: app.wallet().clone(),
    };
    arm(&probe.confirmer);
    let port = app.port();
    Ok((port, Box::pin(app.run_until_stopped()) as _, probe))
}

/// Parks the marker: the next tick to finish replaces it.
fn arm(confirmer: &ConfirmerHandle) {
    if let Ok(mut slot) = confirmer.report.lock() {
        *slot = TickReport {
            error: Some(MARKER.into()),
            ..TickReport::default()
        };
    }
}

/// The report of a tick that finished since the marker was parked (and parks it again).
fn take(confirmer: &ConfirmerHandle) -> Option<TickReport> {
    let mut slot = confirmer.report.lock().ok()?;
    if slot.error.as_deref() == Some(MARKER) {
        return None;
    }
    let report = slot.clone();
    *slot = TickReport {
        error: Some(MARKER.into()),
        ..TickReport::default()
    };
    Some(report)
}

/// Waits for the next tick to finish (one already running counts).
fn next_tick(confirmer: &ConfirmerHandle) -> io::Result<TickReport> {
    arm(confirmer);
    wait_tick(confirmer)
}

/// Waits for a tick to replace the marker, without parking it first.
fn wait_tick(confirmer: &ConfirmerHandle) -> io::Result<TickReport> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(report) = take(confirmer) {
            return Ok(report);
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(
                "no confirmer tick finished in time (is the wallet link up?)",
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `count` consecutive ticks with nothing changed.
fn quiet_ticks(confirmer: &ConfirmerHandle, count: usize) -> io::Result<Quiet> {
    // Start right after a tick, so that every tick measured starts after the delay was set.
    next_tick(confirmer)?;
    let mut ticks = Vec::with_capacity(count);
    while ticks.len() < count {
        ticks.push(wait_tick(confirmer)?);
    }
    Ok(Quiet { ticks })
}

/// Pays every address of `batch` right after a tick, then follows the ticks
/// until every invoice shows `paid`.
fn one_percent(probe: &Probe, sim: &Sim, batch: &[(InvoiceId, String)], delay: Duration) -> io::Result<Changed> {
    // A short tick just ended: the next starts about an interval after it began.
    loop {
        let tick = next_tick(&probe.confirmer)?;
        if tick.duration < Duration::from_millis(100) && tick.addresses_checked == 0 {
            break;
        }
    }
    let calls = sim.requests_for("getaddresshistory");
    for (_, address) in batch {
        sim.pay(address, AMOUNT.0).map_err(io::Error::other)?;
    }
    let paid_at = Instant::now();
    let mut ticks = Vec::new();
    let mut waiting: Vec<&InvoiceId> = batch.iter().map(|(id, _)| id).collect();
    let deadline = paid_at + PATIENCE + delay * batch.len() as u32 * 2;
    let mut until_all_paid = Duration::ZERO;
    while !waiting.is_empty() || until_all_paid.is_zero() {
        if let Some(tick) = take(&probe.confirmer) {
            ticks.push(tick);
        }
        if !waiting.is_empty() {
            let mut still = Vec::with_capacity(waiting.len());
            for id in waiting {
                if status(&probe.reader, id)? == InvoiceStatus::New {
                    still.push(id);
                }
            }
            waiting = still;
            if waiting.is_empty() {
                until_all_paid = paid_at.elapsed();
            }
        }
        if Instant::now() > deadline {
            return Err(io::Error::other(format!("{} invoices still unpaid", waiting.len())));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // The tick that showed the last one is still finishing its reply.
    ticks.push(wait_tick(&probe.confirmer)?);
    Ok(Changed {
        delay,
        paid: batch.len(),
        ticks,
        history_calls: sim.requests_for("getaddresshistory") - calls,
        until_all_paid,
    })
}

/// Pays the invoices of `batch` one at a time, at random phases of the poll
/// interval, timing each from `pay` returning to the status changing.
fn payments(
    reader: &StoreReader,
    sim: &Sim,
    batch: &[(InvoiceId, String)],
    delay: Duration,
    poll_interval_ms: u64,
) -> io::Result<Latency> {
    let mut samples = Vec::with_capacity(batch.len());
    for (i, (id, address)) in batch.iter().enumerate() {
        let pause = spread(
            i as u64 + delay.as_millis() as u64 * 7919,
            poll_interval_ms.max(1) as usize,
        );
        std::thread::sleep(Duration::from_millis(pause as u64));
        sim.pay(address, AMOUNT.0).map_err(io::Error::other)?;
        let seen = Instant::now();
        while status(reader, id)? == InvoiceStatus::New {
            if seen.elapsed() > PATIENCE {
                return Err(io::Error::other(format!("invoice {id} never showed the payment")));
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        samples.push(seen.elapsed());
    }
    samples.sort_unstable();
    Ok(Latency { delay, samples })
}

fn status(reader: &StoreReader, id: &InvoiceId) -> io::Result<InvoiceStatus> {
    reader
        .invoice(id)
        .map_err(io::Error::other)?
        .map(|inv| inv.status)
        .ok_or_else(|| io::Error::other(format!("invoice {id} is not stored")))
}

/// The median wall time of `getaddresshistory` on the wire, `samples` calls
/// with the simulator's delay set to `delay`.
fn rpc_latency(sim: &Sim, delay: Duration, samples: usize) -> io::Result<Duration> {
    sim.set_method_delay("getaddresshistory", delay);
    let address = sim.new_address();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "getaddresshistory", "params": [address]}).to_string();
    let mut took = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        let (status, answer) = http_once(
            sim.addr(),
            "POST",
            "/",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
            delay + Duration::from_secs(10),
        )?;
        if status != 200 {
            return Err(io::Error::other(format!(
                "getaddresshistory: HTTP {status}: {}",
                String::from_utf8_lossy(&answer)
            )));
        }
        took.push(started.elapsed());
    }
    took.sort_unstable();
    Ok(took[took.len() / 2])
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// The quantile `q` of sorted samples (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print(opts: &Opts, cores: usize, wire: (Duration, Duration), results: &[AtCount]) {
    let (slow, fast) = wire;
    println!(
        "bchpay bench confirm: poll_interval_ms {}, getaddresshistory delay {} ms in the simulator \
         (on the wire: {} with it, {} without), {cores} cores",
        opts.poll_interval_ms,
        opts.delay_ms,
        ms(slow),
        ms(fast)
    );
    println!("invoices built through the store actor with fresh simulator addresses; engine in-process, no pool");
    println!();
    println!(
        "nothing changed ({} ticks each; a sweep of one address every {SWEEP_EVERY} ticks):",
        opts.ticks
    );
    println!(
        "{:>8} {:>8} {:>8} | {:>9} {:>14} {:>14} | {:>8} {:>10} | {:>9} {:>10} | {:>10} {:>10}",
        "watched",
        "fill",
        "load",
        "rt/tick",
        "plain rt",
        "plain mean/max",
        "sweep rt",
        "sweep",
        "mean tick",
        "max tick",
        "naive rt",
        "naive tick"
    );
    for r in results {
        let q = &r.quiet;
        let plain_rt: Vec<u64> = q.plain().map(|t| t.round_trips).collect();
        let sweep_rt: Vec<u64> = q.swept().map(|t| t.round_trips).collect();
        let plain_mean = Duration::from_secs_f64(mean(q.plain().map(|t| t.duration.as_secs_f64())));
        let plain_max = q.plain().map(|t| t.duration).max().unwrap_or_default();
        let sweep_mean = Duration::from_secs_f64(mean(q.swept().map(|t| t.duration.as_secs_f64())));
        let max_tick = q.ticks.iter().map(|t| t.duration).max().unwrap_or_default();
        println!(
            "{:>8} {:>8} {:>8} | {:>9.2} {:>14} {:>14} | {:>8} {:>10} | {:>9} {:>10} | {:>10} {:>10}",
            r.watched,
            secs(r.fill),
            secs(r.load),
            q.mean_round_trips(),
            range(&plain_rt),
            format!(
                "{:.1}/{:.1} ms",
                plain_mean.as_secs_f64() * 1e3,
                plain_max.as_secs_f64() * 1e3
            ),
            range(&sweep_rt),
            if sweep_rt.is_empty() {
                "-".into()
            } else {
                ms(sweep_mean)
            },
            ms(q.mean_duration()),
            ms(max_tick),
            r.watched,
            secs(slow * r.watched as u32),
        );
    }
    println!("  rt: wallet round trips; plain: ticks without a sweep; naive: getaddresshistory for every watched address, one by one, at the measured latency");
    println!();
    println!("1 % of the watched addresses paid between two ticks:");
    println!(
        "{:>8} {:>7} {:>6} | {:>5} {:>11} {:>17} {:>12} {:>15}  ticks (round trips/addresses checked/time)",
        "watched", "delay", "paid", "ticks", "round trips", "getaddresshistory", "longest tick", "until all paid"
    );
    for r in results {
        for c in &r.changed {
            let each: Vec<String> = c
                .ticks
                .iter()
                .map(|t| format!("{}/{}/{}", t.round_trips, t.addresses_checked, ms(t.duration)))
                .collect();
            println!(
                "{:>8} {:>7} {:>6} | {:>5} {:>11} {:>17} {:>12} {:>15}  {}",
                r.watched,
                format!("{} ms", c.delay.as_millis()),
                c.paid,
                c.ticks.len(),
                c.ticks.iter().map(|t| t.round_trips).sum::<u64>(),
                c.history_calls,
                secs(c.ticks.iter().map(|t| t.duration).max().unwrap_or_default()),
                secs(c.until_all_paid),
                each.join(", "),
            );
        }
    }
    println!(
        "  at {} ms a call, each changed address costs one getaddresshistory: 1 % of 100,000 is {} of them",
        opts.delay_ms,
        secs(slow * 1000)
    );
    println!();
    println!("one payment at a time, from the simulator taking it to the invoice showing paid:");
    println!(
        "{:>8} {:>7} {:>8} | {:>10} {:>10}",
        "watched", "delay", "payments", "p50", "max"
    );
    for r in results {
        for l in &r.latency {
            println!(
                "{:>8} {:>7} {:>8} | {:>10} {:>10}",
                r.watched,
                format!("{} ms", l.delay.as_millis()),
                l.samples.len(),
                ms(quantile(&l.samples, 0.5)),
                ms(l.samples.last().copied().unwrap_or_default()),
            );
        }
    }
    println!();
    print_bars(opts, results);
}

fn range(values: &[u64]) -> String {
    match (values.iter().min(), values.iter().max()) {
        (Some(lo), Some(hi)) if lo == hi => lo.to_string(),
        (Some(lo), Some(hi)) => format!("{lo}-{hi}"),
        _ => "-".into(),
    }
}

fn print_bars(opts: &Opts, results: &[AtCount]) {
    println!("{:<46} {:>24}  {:<30} result", "bar", "measured", "wanted");
    let verdict = |met: bool| if met { "ok" } else { "MISSED" };
    let per_count: Vec<String> = results
        .iter()
        .map(|r| format!("{:.2}", r.quiet.mean_round_trips()))
        .collect();
    let plain: Vec<u64> = results
        .iter()
        .flat_map(|r| r.quiet.plain().map(|t| t.round_trips))
        .collect();
    let sweep: Vec<u64> = results
        .iter()
        .flat_map(|r| r.quiet.swept().map(|t| t.round_trips))
        .collect();
    let flat =
        plain.iter().min() == plain.iter().max() && sweep.iter().max() <= plain.iter().max().map(|p| p + 1).as_ref();
    println!(
        "{:<46} {:>24}  {:<30} {}",
        "round trips/tick, nothing changed",
        per_count.join(" / "),
        "flat in N (O(1) + bounded sweep)",
        verdict(flat)
    );
    if let Some(top) = results.iter().max_by_key(|r| r.watched) {
        let mean_tick = top.quiet.mean_duration();
        println!(
            "{:<46} {:>24}  {:<30} {}",
            format!("mean tick at {}, nothing changed", top.watched),
            ms(mean_tick),
            "< 1 s",
            verdict(mean_tick < Duration::from_secs(1))
        );
        let plain_max = top.quiet.plain().map(|t| t.duration).max().unwrap_or_default();
        println!(
            "{:<46} {:>24}  {:<30} {}",
            format!("longest tick without a sweep at {}", top.watched),
            ms(plain_max),
            "< 1 s",
            verdict(plain_max < Duration::from_secs(1))
        );
    }
    let within = Duration::from_millis(opts.poll_interval_ms + 100);
    for r in results {
        for l in &r.latency {
            let max = l.samples.last().copied().unwrap_or_default();
            println!(
                "{:<46} {:>24}  {:<30} {}",
                format!(
                    "payment -> status, max, N={}, delay {} ms",
                    r.watched,
                    l.delay.as_millis()
                ),
                ms(max),
                format!("<= {}", ms(within)),
                verdict(max <= within)
            );
        }
    }
}
