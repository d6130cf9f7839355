//! `bchpay bench scale` (issue 7, item 4): the engine over a store of a
//! million invoices, as an operator would run it.
//!
//! The store is built in this process by [`super::fill::fill_bulk`]: fresh
//! simulator addresses, invoices and events made by the engine's own code,
//! written in bulk to the store's layout and read back through the store's
//! reader: about 74 % confirmed (3 events each), 25 % expired past their
//! monitoring window (1 event), 1 % new and watched. Then the real binary (`bchpay serve`, `current_exe()`) is
//! started on it as a child process, its wallet being the simulator that
//! made the addresses (in this process, `getaddresshistory` slowed to the
//! daemon's measured latency). Measured: the store's size on disk; the time
//! from spawning the child to `/readyz` answering 200; reads of random
//! invoices (`GET /api/v1/invoices/{id}` over the whole store) at 64
//! connections with the closed-loop load generator, beside a bare handler
//! answering the same bytes; then creations (`POST /api/v1/invoices`) at the
//! same connections; the child's VmRSS and VmHWM (`/proc/<pid>/status`) at
//! ready and after each load; then a restart (SIGTERM, spawn again on the same
//! store) to `/readyz` 200, and its VmRSS at ready.

use std::fs::File;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};

use super::fill::{self, disk_usage, http_once, spread, Kind, KEY};
use super::load::{self, ms, Load, Report, Request};
use super::{serve, ScratchDir, Started};

/// Load before each measured window, not recorded.
const WARM_UP: Duration = Duration::from_secs(1);
/// How long the child may take to answer `/readyz` 200.
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// HTTP workers of the bare handler (as `Application::build` has).
const WORKERS: usize = 2;
/// The bar on the engine's peak RSS.
const RSS_BAR_MB: f64 = 150.0;
/// The bar on the time to ready.
const READY_BAR: Duration = Duration::from_secs(1);

/// `bchpay bench scale` options.
#[derive(Debug, Clone, clap::Args)]
pub struct Opts {
    /// Invoices in the store (1 % watched, the rest final).
    #[arg(long, default_value_t = 1_000_000)]
    pub invoices: usize,
    /// Seconds each read window lasts (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent connections of the read load.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// The simulator's `getaddresshistory` latency in ms.
    #[arg(long, default_value_t = 1000)]
    pub delay_ms: u64,
    /// Leave the store (and the engine's log) on disk afterwards, to inspect or profile it.
    #[arg(long)]
    pub keep: bool,
}

/// What invoice `i` of the store becomes: 1 % watched, a quarter expired, the rest confirmed.
fn mix(i: usize) -> Kind {
    if i.is_multiple_of(100) {
        Kind::Watched
    } else if i % 4 == 1 {
        Kind::Expired
    } else {
        Kind::Confirmed
    }
}

/// The child engine; asked to stop (SIGTERM) and reaped on drop.
pub(super) struct Engine {
    child: Child,
}

impl Engine {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS and VmHWM in MiB, from `/proc/<pid>/status`.
    fn memory(&self) -> io::Result<(f64, f64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
                .ok_or_else(|| io::Error::other(format!("no {name} in /proc/{}/status", self.pid())))
        };
        Ok((field("VmRSS:")?, field("VmHWM:")?))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let pid = self.child.id().to_string();
        let asked = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while asked && Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the whole measurement and prints it.
pub fn run(opts: Opts) -> io::Result<()> {
    log::set_max_level(log::LevelFilter::Warn);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let n = opts.invoices.max(100);
    let dir = ScratchDir::new("scale")?.keep(opts.keep);
    let store = dir.path().join("store");
    let (sim_served, sim) = fill::start_sim()?;
    sim.set_method_delay("getaddresshistory", Duration::from_millis(opts.delay_ms));

    eprintln!("bench: building a store of {n} invoices ...");
    let filled = fill::fill_bulk(&store, &sim, n, mix)?;
    let on_disk = disk_usage(&store)?;
    eprintln!(
        "bench: {n} invoices stored in {:.1} s, {:.0} MiB on disk; starting bchpay serve",
        filled.took.as_secs_f64(),
        mib(on_disk)
    );

    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let config = dir.path().join("config.toml");
    std::fs::write(&config, fill::engine_config(port, &store, &sim.url(), None))?;
    let (engine, ready) = start_engine(dir.path(), &config, addr)?;
    let (rss_ready, _) = engine.memory()?;
    eprintln!("bench: ready in {} ms; reads ...", ready.as_millis());

    let ids: Arc<Vec<String>> = Arc::new(filled.ids.iter().map(|id| id.as_str().to_owned()).collect());
    let sample = ids.get(ids.len() / 2).cloned().unwrap_or_default();
    let (status, body) = http_once(
        addr,
        "GET",
        &format!("/api/v1/invoices/{sample}"),
        &[("Authorization", &format!("Bearer {KEY}"))],
        b"",
        Duration::from_secs(5),
    )?;
    if status != 200 {
        return Err(io::Error::other(format!(
            "GET invoice: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    let body_len = body.len();
    let load = |addr| Load {
        addr,
        connections: opts.connections.max(1),
        warm_up: WARM_UP,
        duration: Duration::from_secs(opts.seconds.max(1)),
    };
    let bare = {
        let body = Arc::new(body);
        let (served, ()) = serve("bare", move || bare_server(body))?;
        load::run(load(served.addr), read_request(ids.clone()))?
    };
    let reads = load::run(load(addr), read_request(ids.clone()))?;
    let (rss_after, _) = engine.memory()?;
    eprintln!("bench: creations ...");
    let creates = load::run(load(addr), super::create::create_request)?;
    let (rss_created, hwm) = engine.memory()?;
    let pid = engine.pid();
    drop(engine); // SIGTERM: stops as an operator's restart would
    let on_disk_after = disk_usage(&store)?;
    eprintln!("bench: restarting ...");
    let (again, restart) = start_engine(dir.path(), &config, addr)?;
    let (rss_restart, _) = again.memory()?;
    drop(again);
    drop(sim_served);
    drop(dir);

    let figures = Figures {
        n,
        watched: filled.watched.len(),
        confirmed: filled.confirmed,
        expired: filled.expired,
        fill: filled.took,
        on_disk,
        pid,
        ready,
        rss_ready,
        rss_after,
        rss_created,
        hwm,
        on_disk_after,
        restart,
        rss_restart,
        body_len,
        bare,
        reads,
        creates,
    };
    print(&opts, cores, &figures);
    Ok(())
}

/// A port free a moment ago, for the child to bind.
pub(super) fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// How long the bench waits for sled, in this process, to let go of the
/// store's lock after the fill (its threads drop their handles on their own).
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Spawns `bchpay serve` and waits for `/readyz` to answer 200: the engine and
/// the time it took. A child that found the store still locked by the fill is
/// started again; the time counts from the start that got the store.
pub(super) fn start_engine(dir: &Path, config: &Path, addr: SocketAddr) -> io::Result<(Engine, Duration)> {
    let log_path = dir.join("serve.log");
    let first = Instant::now();
    loop {
        let log = File::create(&log_path)?;
        let started = Instant::now();
        let child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut engine = Engine { child };
        let exited = loop {
            if let Ok((200, _)) = http_once(addr, "GET", "/readyz", &[], b"", Duration::from_secs(1)) {
                return Ok((engine, started.elapsed()));
            }
            let exited = engine.child.try_wait()?;
            if exited.is_some() || started.elapsed() > READY_TIMEOUT {
                break exited;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if exited.is_some() && log.contains("in use by another process") && first.elapsed() < LOCK_TIMEOUT {
            std::thread::sleep(Duration::from_millis(100));
            continue;
        }
        return Err(io::Error::other(format!(
            "bchpay serve was not ready ({}): {log}",
            exited.map_or("timed out".into(), |s| s.to_string())
        )));
    }
}

/// Answers every invoice read with the same bytes, on as many workers as the engine.
async fn bare_server(body: Arc<Vec<u8>>) -> io::Result<Started<()>> {
    let server = HttpServer::new(move || {
        let body = body.clone();
        App::new().route(
            "/api/v1/invoices/{id}",
            web::get().to(move || {
                let body = body.clone();
                async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body.as_ref().clone())
                }
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

/// A read of a random invoice of the store.
fn read_request(ids: Arc<Vec<String>>) -> impl Fn(u64) -> Request + Send + Sync + 'static {
    move |seq| Request {
        method: "GET",
        path: format!("/api/v1/invoices/{}", ids[spread(seq, ids.len())]),
        headers: vec![("Authorization", format!("Bearer {KEY}"))],
        body: Vec::new(),
    }
}

/// Everything measured.
struct Figures {
    n: usize,
    watched: usize,
    confirmed: usize,
    expired: usize,
    fill: Duration,
    on_disk: u64,
    pid: u32,
    ready: Duration,
    rss_ready: f64,
    rss_after: f64,
    /// VmRSS after the creation window.
    rss_created: f64,
    hwm: f64,
    /// The store on disk after the creations and the stop.
    on_disk_after: u64,
    /// From spawning the engine again on the same store to `/readyz` 200.
    restart: Duration,
    /// VmRSS of the restarted engine at ready.
    rss_restart: f64,
    body_len: usize,
    bare: Report,
    reads: Report,
    /// Invoice creations at the same connections, after the reads.
    creates: Report,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn print(opts: &Opts, cores: usize, f: &Figures) {
    println!(
        "bchpay bench scale: {} invoices ({} confirmed, {} expired past monitoring, {} new and watched), {cores} cores",
        f.n, f.confirmed, f.expired, f.watched
    );
    println!(
        "store built in {:.1} s ({:.0} invoices/s): fresh simulator addresses, invoices and events made by the \
         engine's code, written in bulk to the store's layout, read back through StoreReader",
        f.fill.as_secs_f64(),
        f.n as f64 / f.fill.as_secs_f64()
    );
    println!(
        "engine: bchpay serve in a child process (pid {}), simulator in the bench process, getaddresshistory {} ms",
        f.pid, opts.delay_ms
    );
    println!();
    println!(
        "{:<40} {:>14}",
        "store on disk (allocated)",
        format!("{:.0} MiB", mib(f.on_disk))
    );
    println!(
        "{:<40} {:>14}",
        "on disk per invoice",
        format!("{:.0} B", f.on_disk as f64 / f.n as f64)
    );
    println!("{:<40} {:>14}", "spawn -> /readyz 200", ms(f.ready));
    println!("{:<40} {:>14}", "VmRSS at ready", format!("{:.1} MiB", f.rss_ready));
    println!(
        "{:<40} {:>14}",
        "VmRSS after the read load",
        format!("{:.1} MiB", f.rss_after)
    );
    println!(
        "{:<40} {:>14}",
        "VmRSS after the creation load",
        format!("{:.1} MiB", f.rss_created)
    );
    println!(
        "{:<40} {:>14}",
        "VmHWM (peak RSS, reads + creations)",
        format!("{:.1} MiB", f.hwm)
    );
    println!(
        "{:<40} {:>14}",
        "store on disk after the creations",
        format!("{:.0} MiB", mib(f.on_disk_after))
    );
    println!(
        "{:<40} {:>14}",
        "restart (SIGTERM, spawn) -> /readyz 200",
        ms(f.restart)
    );
    println!(
        "{:<40} {:>14}",
        "VmRSS at ready after the restart",
        format!("{:.1} MiB", f.rss_restart)
    );
    println!();
    println!(
        "reads: GET /api/v1/invoices/{{id}}, random ids over the whole store, {} connections, {} s after a {} s warm-up; \
         the bare handler answers the same {} bytes",
        opts.connections,
        opts.seconds.max(1),
        WARM_UP.as_secs(),
        f.body_len
    );
    load::print_table(
        "server",
        &[
            ("bare actix-web handler", &f.bare),
            ("engine, read invoice", &f.reads),
            ("engine, create invoice", &f.creates),
        ],
    );
    println!(
        "  creations: POST /api/v1/invoices as `bench create` sends it, after the reads (pool: the default, refilled)"
    );
    let ratio = if f.bare.per_second() > 0.0 {
        f.reads.per_second() / f.bare.per_second()
    } else {
        0.0
    };
    println!();
    let verdict = |met: bool| if met { "ok" } else { "MISSED" };
    println!("{:<36} {:>12}  {:<22} result", "bar", "measured", "wanted");
    println!(
        "{:<36} {:>12}  {:<22} {}",
        format!("peak RSS (VmHWM) at {} invoices", f.n),
        format!("{:.1} MiB", f.hwm),
        format!("<= {RSS_BAR_MB:.0} MB"),
        verdict(f.hwm * 1.048_576 <= RSS_BAR_MB)
    );
    println!(
        "{:<36} {:>12}  {:<22} {}",
        "VmRSS at ready",
        format!("{:.1} MiB", f.rss_ready),
        format!("<= {RSS_BAR_MB:.0} MB"),
        verdict(f.rss_ready * 1.048_576 <= RSS_BAR_MB)
    );
    let per_invoice = f.on_disk as f64 / f.n as f64;
    println!(
        "{:<36} {:>12}  {:<22} {}",
        "on disk per invoice",
        format!("{per_invoice:.0} B"),
        "<= 2 KB (2000 B)",
        verdict(per_invoice <= 2000.0)
    );
    println!(
        "{:<36} {:>12}  {:<22} {}",
        "spawn -> /readyz 200",
        ms(f.ready),
        "<= 1 s",
        verdict(f.ready <= READY_BAR)
    );
    println!(
        "{:<36} {:>12}  {:<22} {}",
        "restart -> /readyz 200",
        ms(f.restart),
        "<= 1 s",
        verdict(f.restart <= READY_BAR)
    );
    println!(
        "{:<36} {:>12}  {:<22} -",
        "reads/s, engine / bare handler",
        format!("{ratio:.2}"),
        "(reported, no bar)",
    );
}
