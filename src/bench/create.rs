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
use super::wrk::{self, WrkLoad, WrkReport};
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
const READY_TIMEOUT: Duration = Duration::from_secs(180);

/// `bchpay bench create` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Opts {
    /// Seconds each measured window lasts (after a 1 s warm-up); the pool-less run lasts 3.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Concurrent connections, each with one request in flight.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Addresses pooled before the engine is measured: more than the runs create
    /// (wrk's and ours, one after the other on the same engine).
    #[arg(long, default_value_t = 160_000)]
    pub pool: usize,
    /// wrk's threads (`-t`), when wrk is on PATH.
    #[arg(long, default_value_t = 2)]
    pub wrk_threads: usize,
    /// Do not run wrk even if it is on PATH (our generator only).
    #[arg(long)]
    pub no_wrk: bool,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// What one load generator saw on one server.
struct Figures {
    /// Which generator: "wrk" or "ours".
    generator: &'static str,
    /// Successful (2xx) requests per second.
    per_second: f64,
    /// Requests answered in the window (2xx for ours; any status for wrk).
    requests: u64,
    /// Median latency.
    p50: Duration,
    /// 99th percentile latency.
    p99: Duration,
    /// Slowest request.
    max: Duration,
    /// Non-2xx answers and failed requests.
    errors: u64,
    /// The first error seen (ours only).
    first_error: Option<String>,
    /// Store flushes during the window (engine runs only).
    flushes: Option<u64>,
    /// Invoices the store holds more after the run (engine runs only): every
    /// 201 is one, so this is at least `requests` (more: the warm-up's).
    stored: Option<u64>,
    /// Addresses left in the pool after the run (pooled engine only).
    pool_left: Option<usize>,
}

impl Figures {
    fn ours(report: &Report) -> Figures {
        Figures {
            generator: "ours",
            per_second: report.per_second(),
            requests: report.requests() as u64,
            p50: report.p50(),
            p99: report.p99(),
            max: report.max(),
            errors: report.errors,
            first_error: report.first_error.clone(),
            flushes: None,
            stored: None,
            pool_left: None,
        }
    }

    fn wrk(report: &WrkReport) -> Figures {
        Figures {
            generator: "wrk",
            per_second: report.per_second,
            requests: report.requests,
            p50: report.p50,
            p99: report.p99,
            max: report.max,
            errors: report.errors(),
            first_error: None,
            flushes: None,
            stored: None,
            pool_left: None,
        }
    }
}

/// The measured runs, by server.
struct Runs {
    /// The bare handler, by generator (wrk first when it ran).
    bare: Vec<Figures>,
    /// The engine with its pool, by generator (wrk first when it ran).
    pooled: Vec<Figures>,
    /// The engine without a pool (ours).
    pool_less: Figures,
    /// Whether wrk ran.
    wrk: bool,
}

/// Runs the loads one after the other and prints the figures.
pub fn run(opts: Opts) -> io::Result<()> {
    // One line per created invoice would be the loudest thing in the run.
    log::set_max_level(log::LevelFilter::Warn);
    let window = Duration::from_secs(opts.seconds.max(1));
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let use_wrk = !opts.no_wrk && wrk::available();
    if !use_wrk && !opts.no_wrk {
        eprintln!("bench: wrk is not on PATH (apt-get install wrk): our generator only");
    }
    let dir = ScratchDir::new("create")?;
    let load = |addr, duration| Load {
        addr,
        connections: opts.connections.max(1),
        warm_up: WARM_UP,
        duration,
    };
    let wrk_load = |addr, tag: &str, duration| wrk_load(&opts, addr, tag, duration);

    eprintln!("bench: bare actix-web handler, {} s ...", window.as_secs());
    let mut bare = Vec::new();
    {
        let (served, ()) = serve("bare", bare_server)?;
        if use_wrk {
            wrk::run(&wrk_load(served.addr, "bare-warm", WARM_UP), dir.path())?;
            bare.push(Figures::wrk(&wrk::run(
                &wrk_load(served.addr, "bare", window),
                dir.path(),
            )?));
        }
        bare.push(Figures::ours(&load::run(load(served.addr, window), create_request)?));
    }

    eprintln!("bench: engine, filling a pool of {} addresses ...", opts.pool);
    let filling = Instant::now();
    let pooled = {
        let store = dir.path().join("pooled");
        let pool = opts.pool;
        let (served, reader): (Served, StoreReader) = serve("engine", move || engine(store, pool, None))?;
        eprintln!(
            "bench: pool filled in {:.1} s; engine under load ...",
            filling.elapsed().as_secs_f64()
        );
        let mut runs = Vec::new();
        if use_wrk {
            wrk::run(&wrk_load(served.addr, "engine-warm", WARM_UP), dir.path())?;
            runs.push(measured(&reader, true, || {
                Ok(Figures::wrk(&wrk::run(
                    &wrk_load(served.addr, "engine", window),
                    dir.path(),
                )?))
            })?);
        }
        runs.push(measured(&reader, true, || {
            Ok(Figures::ours(&load::run(load(served.addr, window), create_request)?))
        })?);
        runs
    };

    eprintln!(
        "bench: engine without a pool, createnewaddress after {} ms, {} s ...",
        POOL_LESS_DELAY.as_millis(),
        POOL_LESS_WINDOW.as_secs()
    );
    let pool_less = {
        let store = dir.path().join("pool-less");
        let (served, reader): (Served, StoreReader) = serve("engine", move || engine(store, 0, Some(POOL_LESS_DELAY)))?;
        measured(&reader, false, || {
            Ok(Figures::ours(&load::run(
                load(served.addr, POOL_LESS_WINDOW),
                create_request,
            )?))
        })?
    };

    let runs = Runs {
        bare,
        pooled,
        pool_less,
        wrk: use_wrk,
    };
    if opts.json {
        println!("{:#}", to_json(&opts, cores, &runs));
    } else {
        print_table(&opts, cores, &runs);
    }
    Ok(())
}

/// wrk's load on `addr`: the create request, tagged `tag` so order ids stay unique.
fn wrk_load(opts: &Opts, addr: std::net::SocketAddr, tag: &str, duration: Duration) -> WrkLoad {
    let sample = create_request(0);
    WrkLoad {
        addr,
        threads: opts.wrk_threads.max(1),
        connections: opts.connections.max(1),
        duration,
        method: sample.method,
        path: sample.path,
        headers: sample.headers,
        body: create_body(wrk::SEQ),
        run_tag: tag.into(),
    }
}

/// Runs `f` on an engine and adds the store's figures: flushes and invoices
/// stored during the run, and the pool left (`pooled`).
fn measured(reader: &StoreReader, pooled: bool, f: impl FnOnce() -> io::Result<Figures>) -> io::Result<Figures> {
    let flushes = reader.flush_count();
    let count = reader.invoice_count().map_err(io::Error::other)?;
    let mut figures = f()?;
    figures.flushes = Some(reader.flush_count() - flushes);
    figures.stored = Some(reader.invoice_count().map_err(io::Error::other)? - count);
    figures.pool_left = pooled.then(|| reader.pool_len());
    Ok(figures)
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

/// What the bare handler parses: the fields of the bench's create body.
#[derive(serde::Deserialize)]
struct BareBody {
    /// The amount asked.
    amount_sats: u64,
    /// The shop's order id.
    order_id: String,
    /// A description.
    #[allow(dead_code)]
    description: String,
}

/// A handler that parses the same JSON body as the engine and answers a small
/// JSON `201` (no store), on as many workers as the engine.
async fn bare_server() -> io::Result<super::Started<()>> {
    let server = HttpServer::new(|| {
        App::new().route(
            "/api/v1/invoices",
            web::post().to(|body: web::Json<BareBody>| async move {
                HttpResponse::Created().json(json!({
                    "id": "inv_bench",
                    "status": "new",
                    "amount_sats": body.amount_sats,
                    "order_id": body.order_id,
                }))
            }),
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

/// The create body, `seq` in its order id.
fn create_body(seq: &str) -> String {
    format!(r#"{{"amount_sats":70000,"order_id":"bench-{seq}","description":"bench"}}"#)
}

/// A shop's create request, with an order id of its own.
pub(super) fn create_request(seq: u64) -> Request {
    Request {
        method: "POST",
        path: "/api/v1/invoices".into(),
        headers: vec![
            ("Authorization", format!("Bearer {KEY}")),
            ("Content-Type", "application/json".into()),
        ],
        body: create_body(&seq.to_string()).into_bytes(),
    }
}

/// One bar of design.md: what was measured, the bar, and whether it holds.
struct Bar {
    /// What is compared.
    what: String,
    /// The measured value, formatted.
    measured: String,
    /// The bar, formatted.
    bar: String,
    /// Whether it holds.
    met: bool,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        f64::INFINITY
    }
}

fn bars(cores: usize, runs: &Runs) -> Vec<Bar> {
    let mut out = Vec::new();
    // The bars are judged on the first generator: wrk when it ran.
    let pooled = &runs.pooled[0];
    let by = pooled.generator;
    let rate = pooled.per_second;
    out.push(Bar {
        what: format!("creations/s ({by})"),
        measured: format!("{rate:.0}"),
        bar: format!(">= 10000 on 2 cores (this machine: {cores})"),
        met: rate >= 10_000.0,
    });
    for (b, p) in runs.bare.iter().zip(&runs.pooled) {
        let r = ratio(p.per_second, b.per_second);
        out.push(Bar {
            what: format!("creations/s / bare ({})", p.generator),
            measured: format!("{r:.2}"),
            bar: ">= 0.30".into(),
            met: r >= 0.3,
        });
    }
    out.push(Bar {
        what: format!("p99 of a creation ({by})"),
        measured: ms(pooled.p99),
        bar: "< 20 ms".into(),
        met: pooled.p99 < Duration::from_millis(20) && pooled.requests > 0,
    });
    let errors: u64 = runs.pooled.iter().map(|f| f.errors).sum();
    out.push(Bar {
        what: "creations not 201".into(),
        measured: errors.to_string(),
        bar: "0".into(),
        met: errors == 0,
    });
    let r = ratio(rate, runs.pool_less.per_second);
    out.push(Bar {
        what: "creations/s / pool-less".into(),
        measured: format!("{r:.0}"),
        bar: ">= 50".into(),
        met: r >= 50.0,
    });
    if runs.wrk {
        if let (Some(ours), Some(wrk)) = (
            runs.bare.iter().find(|f| f.generator == "ours"),
            runs.bare.iter().find(|f| f.generator == "wrk"),
        ) {
            let r = ratio(ours.per_second, wrk.per_second);
            out.push(Bar {
                what: "bare: ours / wrk".into(),
                measured: format!("{r:.2}"),
                bar: ">= 0.90 (our generator not the bottleneck)".into(),
                met: r >= 0.9,
            });
        }
    }
    out
}

fn print_table(opts: &Opts, cores: usize, runs: &Runs) {
    println!(
        "bchpay bench create: {} connections, closed loop, {} s windows after a {} s warm-up ({} s without a pool), {cores} cores{}",
        opts.connections,
        opts.seconds.max(1),
        WARM_UP.as_secs(),
        POOL_LESS_WINDOW.as_secs(),
        if runs.wrk {
            format!("; wrk -t{} -c{} --latency beside our generator", opts.wrk_threads, opts.connections)
        } else {
            "; our generator only (wrk not on PATH)".into()
        }
    );
    println!();
    println!(
        "{:<24} {:>4} {:>9} {:>10} {:>10} {:>10} {:>10} {:>7} {:>9} {:>9}",
        "server", "gen", "req/s", "requests", "p50", "p99", "max", "errors", "flushes", "stored"
    );
    let rows = runs
        .bare
        .iter()
        .map(|f| ("bare actix-web handler", f))
        .chain(runs.pooled.iter().map(|f| ("create, pool", f)))
        .chain(std::iter::once(("create, no pool", &runs.pool_less)));
    let opt = |v: Option<u64>| v.map_or("-".into(), |n| n.to_string());
    for (name, f) in rows.clone() {
        println!(
            "{:<24} {:>4} {:>9.0} {:>10} {:>10} {:>10} {:>10} {:>7} {:>9} {:>9}",
            name,
            f.generator,
            f.per_second,
            f.requests,
            ms(f.p50),
            ms(f.p99),
            ms(f.max),
            f.errors,
            opt(f.flushes),
            opt(f.stored),
        );
    }
    for (name, f) in rows {
        if let Some(e) = &f.first_error {
            println!("  {name} ({}): first error: {e}", f.generator);
        }
        if f.pool_left == Some(0) {
            println!("  {name}: the pool ran dry: some creations waited on createnewaddress (raise --pool)");
        }
    }
    println!("  wrk counts every answer in `requests` and non-2xx in `errors`; ours counts 2xx in `requests`.");
    println!("  stored: invoices the store gained during the run (ours: its warm-up too); each is a 201.");
    println!();
    println!("{:<32} {:>10}  {:<44} result", "bar", "measured", "wanted");
    for bar in bars(cores, runs) {
        println!(
            "{:<32} {:>10}  {:<44} {}",
            bar.what,
            bar.measured,
            bar.bar,
            if bar.met { "ok" } else { "MISSED" }
        );
    }
}

fn to_json(opts: &Opts, cores: usize, runs: &Runs) -> serde_json::Value {
    let row = |server: &str, f: &Figures| {
        json!({
            "server": server,
            "generator": f.generator,
            "requests_per_sec": f.per_second,
            "requests": f.requests,
            "p50_ms": f.p50.as_secs_f64() * 1000.0,
            "p99_ms": f.p99.as_secs_f64() * 1000.0,
            "max_ms": f.max.as_secs_f64() * 1000.0,
            "errors": f.errors,
            "first_error": f.first_error,
            "flushes": f.flushes,
            "stored": f.stored,
            "pool_left": f.pool_left,
        })
    };
    let mut rows: Vec<_> = runs.bare.iter().map(|f| row("bare", f)).collect();
    rows.extend(runs.pooled.iter().map(|f| row("create, pool", f)));
    rows.push(row("create, no pool", &runs.pool_less));
    let bars: Vec<_> = bars(cores, runs)
        .into_iter()
        .map(|b| json!({"bar": b.what, "measured": b.measured, "wanted": b.bar, "met": b.met}))
        .collect();
    json!({
        "connections": opts.connections,
        "cores": cores,
        "wrk": runs.wrk,
        "runs": rows,
        "bars": bars,
    })
}
