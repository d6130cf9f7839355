//! `bchpay bench create`: invoice creations per second with durable
//! acknowledgement, and their latency, against the real engine
//! (`Application::build`, a scratch store, the simulator on loopback, the pool
//! filled before measuring), beside the same load on a bare actix-web handler
//! (the ceiling of this machine) and on the engine without a pool, its wallet
//! answering `createnewaddress` after 20 ms (how the old service worked).
//! Prints the figures and the bars of design.md's Performance section.

use std::io;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::json;

use super::load::{self, ms, Load, Report, Request};
use super::{serve, ScratchDir, Served};
use crate::config::{Secret, Settings};
use crate::sim::{Sim, SimConfig};
use crate::startup::Application;
use crate::store::StoreReader;

/// The API key of the engines under load.
const KEY: &str = "bench-key-0001";
/// Load before each measured window, not recorded.
const WARM_UP: Duration = Duration::from_secs(1);
/// The measured window of the pool-less engine (≈ 50 creations/s: a few seconds suffice).
const POOL_LESS_WINDOW: Duration = Duration::from_secs(3);
/// The wallet's `createnewaddress` latency in the pool-less run.
const POOL_LESS_DELAY: Duration = Duration::from_millis(20);
/// HTTP workers of every server (as `Application::build` has).
const WORKERS: usize = 2;
/// How long the pool may take to fill, or the wallet link to come up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// `bchpay bench create` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Opts {
    /// Seconds each measured window lasts (after a 1 s warm-up); the pool-less run lasts 3.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent connections, each with one request in flight.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Addresses pooled before the engine is measured: more than the run creates.
    #[arg(long, default_value_t = 40_000)]
    pub pool: usize,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// One measured server.
struct Figures {
    /// What the load saw.
    report: Report,
    /// Store flushes during the window (engine runs only).
    flushes: Option<u64>,
    /// Addresses left in the pool after the run (pooled engine only).
    pool_left: Option<usize>,
}

/// Runs the three loads one after the other and prints the figures.
pub fn run(opts: Opts) -> io::Result<()> {
    // One line per created invoice would be the loudest thing in the run.
    log::set_max_level(log::LevelFilter::Warn);
    let window = Duration::from_secs(opts.seconds.max(1));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let load = |addr, duration| Load {
        addr,
        connections: opts.connections.max(1),
        warm_up: WARM_UP,
        duration,
    };

    eprintln!("bench: bare actix-web handler, {} s ...", window.as_secs());
    let bare = {
        let (served, ()) = serve("bare", bare_server)?;
        Figures {
            report: load::run(load(served.addr, window), create_request)?,
            flushes: None,
            pool_left: None,
        }
    };

    eprintln!("bench: engine, filling a pool of {} addresses ...", opts.pool);
    let filling = Instant::now();
    let pooled = measure_engine(opts.pool, None, |addr| load(addr, window))?;
    eprintln!(
        "bench: engine with its pool measured ({:.1} s with the fill)",
        filling.elapsed().as_secs_f64()
    );

    eprintln!(
        "bench: engine without a pool, createnewaddress after {} ms, {} s ...",
        POOL_LESS_DELAY.as_millis(),
        POOL_LESS_WINDOW.as_secs()
    );
    let pool_less = measure_engine(0, Some(POOL_LESS_DELAY), |addr| load(addr, POOL_LESS_WINDOW))?;

    let figures = [
        ("bare actix-web handler", &bare),
        ("create, pool", &pooled),
        ("create, no pool", &pool_less),
    ];
    if opts.json {
        println!("{:#}", to_json(&opts, cores, &figures));
    } else {
        print_table(&opts, cores, &figures);
    }
    Ok(())
}

/// Starts an engine with `pool` addresses pooled (0: no pool) and its
/// wallet's `createnewaddress` slowed by `delay`, waits until it is ready,
/// loads it and stops it.
fn measure_engine(
    pool: usize,
    delay: Option<Duration>,
    load: impl Fn(std::net::SocketAddr) -> Load,
) -> io::Result<Figures> {
    let dir = ScratchDir::new(if pool == 0 { "pool-less" } else { "pooled" })?;
    let store = dir.path().join("store");
    let (served, reader): (Served, StoreReader) = serve("engine", move || engine(store, pool, delay))?;
    let before = reader.flush_count();
    let report = load::run(load(served.addr), create_request)?;
    let flushes = reader.flush_count() - before;
    let pool_left = (pool > 0).then(|| reader.pool_len());
    drop(served);
    drop(dir);
    Ok(Figures {
        report,
        flushes: Some(flushes),
        pool_left,
    })
}

/// The engine as `bchpay serve` runs it, over a simulator on loopback; ready
/// once the wallet link is up and `pool` addresses are pooled.
async fn engine(
    store: std::path::PathBuf,
    pool: usize,
    delay: Option<Duration>,
) -> io::Result<super::Started<StoreReader>> {
    let sim = Sim::start(SimConfig::default()).await?;
    if let Some(delay) = delay {
        sim.set_method_delay("createnewaddress", delay);
    }
    let mut settings = Settings::default();
    settings.server.bind = "127.0.0.1:0".into();
    settings.rates.currencies = Vec::new(); // a bench reaches no exchange
    settings.api.keys = vec![Secret::new(KEY)];
    settings.electron_cash.url = sim.url();
    settings.store.path = store;
    settings.addresses.pool_high = pool;
    settings.addresses.pool_low = pool.min(20);
    let app = Application::build(settings).await?;
    let reader = app.reader();
    let deadline = Instant::now() + READY_TIMEOUT;
    // `pool_len` scans the pool tree (sled's `len` is O(n)): poll the
    // simulator's counter until the addresses are made, then the pool.
    let made = |sim: &Sim| sim.requests_for("createnewaddress") >= pool as u64;
    while !(app.wallet().status().state.is_up() && made(&sim) && reader.pool_len() >= pool) {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "the engine was not ready after {} s ({} of {pool} addresses pooled)",
                READY_TIMEOUT.as_secs(),
                reader.pool_len()
            )));
        }
        actix_rt::time::sleep(Duration::from_millis(if made(&sim) { 200 } else { 20 })).await;
    }
    let port = app.port();
    let serving = async move {
        let _sim = sim;
        app.run_until_stopped().await
    };
    Ok((port, Box::pin(serving) as _, reader))
}

/// A handler that answers a small fixed JSON `201`, on as many workers as the engine.
async fn bare_server() -> io::Result<super::Started<()>> {
    let server = HttpServer::new(|| {
        App::new().route(
            "/api/v1/invoices",
            web::post().to(|| async { HttpResponse::Created().json(json!({"id": "inv_bench", "status": "new"})) }),
        )
    })
    .workers(WORKERS)
    .bind("127.0.0.1:0")?;
    let port = server
        .addrs()
        .first()
        .map(|a| a.port())
        .ok_or_else(|| io::Error::other("the bare server bound no address"))?;
    Ok((port, Box::pin(server.run()) as _, ()))
}

/// A shop's create request, with an order id of its own.
fn create_request(seq: u64) -> Request {
    Request {
        method: "POST",
        path: "/api/v1/invoices".into(),
        headers: vec![
            ("Authorization", format!("Bearer {KEY}")),
            ("Content-Type", "application/json".into()),
        ],
        body: format!(r#"{{"amount_sats":70000,"order_id":"bench-{seq}","description":"bench"}}"#).into_bytes(),
    }
}

/// One bar of design.md: what was measured, the bar, and whether it holds.
struct Bar {
    /// What is compared.
    what: &'static str,
    /// The measured value, formatted.
    measured: String,
    /// The bar, formatted.
    bar: String,
    /// Whether it holds.
    met: bool,
}

fn bars(cores: usize, figures: &[(&str, &Figures); 3]) -> Vec<Bar> {
    let (bare, pooled, pool_less) = (&figures[0].1.report, &figures[1].1.report, &figures[2].1.report);
    let rate = pooled.per_second();
    let ratio = |other: &Report| {
        if other.per_second() > 0.0 {
            rate / other.per_second()
        } else {
            f64::INFINITY
        }
    };
    let p99 = pooled.p99();
    vec![
        Bar {
            what: "creations/s",
            measured: format!("{rate:.0}"),
            bar: format!(">= 10000 on 2 cores (this machine: {cores})"),
            met: rate >= 10_000.0,
        },
        Bar {
            what: "creations/s / bare handler",
            measured: format!("{:.2}", ratio(bare)),
            bar: ">= 0.30".into(),
            met: ratio(bare) >= 0.3,
        },
        Bar {
            what: "p99 of a creation",
            measured: ms(p99),
            bar: "< 20 ms".into(),
            met: p99 < Duration::from_millis(20) && pooled.requests() > 0,
        },
        Bar {
            what: "creations/s / pool-less",
            measured: format!("{:.0}", ratio(pool_less)),
            bar: ">= 50".into(),
            met: ratio(pool_less) >= 50.0,
        },
    ]
}

fn print_table(opts: &Opts, cores: usize, figures: &[(&str, &Figures); 3]) {
    println!(
        "bchpay bench create: {} connections, closed loop, {} s windows after a {} s warm-up ({} s without a pool), {cores} cores",
        opts.connections,
        opts.seconds.max(1),
        WARM_UP.as_secs(),
        POOL_LESS_WINDOW.as_secs()
    );
    println!();
    println!(
        "{:<24} {:>9} {:>10} {:>10} {:>10} {:>10} {:>7} {:>9}",
        "server", "req/s", "requests", "p50", "p99", "max", "errors", "flushes"
    );
    for (name, f) in figures {
        let r = &f.report;
        println!(
            "{:<24} {:>9.0} {:>10} {:>10} {:>10} {:>10} {:>7} {:>9}",
            name,
            r.per_second(),
            r.requests(),
            ms(r.p50()),
            ms(r.p99()),
            ms(r.max()),
            r.errors,
            f.flushes.map_or("-".into(), |n| n.to_string()),
        );
    }
    for (name, f) in figures {
        if let Some(e) = &f.report.first_error {
            println!("  {name}: first error: {e}");
        }
        if f.pool_left == Some(0) {
            println!("  {name}: the pool ran dry: some creations waited on createnewaddress (raise --pool)");
        }
    }
    println!();
    println!("{:<28} {:>10}  {:<40} result", "bar", "measured", "wanted");
    for bar in bars(cores, figures) {
        println!(
            "{:<28} {:>10}  {:<40} {}",
            bar.what,
            bar.measured,
            bar.bar,
            if bar.met { "ok" } else { "MISSED" }
        );
    }
}

fn to_json(opts: &Opts, cores: usize, figures: &[(&str, &Figures); 3]) -> serde_json::Value {
    let runs: Vec<_> = figures
        .iter()
        .map(|(name, f)| {
            let r = &f.report;
            json!({
                "server": name,
                "requests_per_sec": r.per_second(),
                "requests": r.requests(),
                "window_secs": r.window.as_secs_f64(),
                "p50_ms": r.p50().as_secs_f64() * 1000.0,
                "p99_ms": r.p99().as_secs_f64() * 1000.0,
                "max_ms": r.max().as_secs_f64() * 1000.0,
                "errors": r.errors,
                "first_error": r.first_error,
                "flushes": f.flushes,
                "pool_left": f.pool_left,
            })
        })
        .collect();
    let bars: Vec<_> = bars(cores, figures)
        .into_iter()
        .map(|b| json!({"bar": b.what, "measured": b.measured, "wanted": b.bar, "met": b.met}))
        .collect();
    json!({
        "connections": opts.connections,
        "cores": cores,
        "runs": runs,
        "bars": bars,
    })
}
