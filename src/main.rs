//! The `bchpay` command: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use bchpay::config::Settings;
use bchpay::sim::{self, SimConfig};
use bchpay::startup::Application;

/// Self-hosted Bitcoin Cash payments over an Electron Cash wallet daemon.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Read a store: a stopped engine's directory, or a running engine through its admin API.
    Inspect(InspectArgs),
    /// Make, list and revoke API keys: on a stopped engine's store, or a running engine through its API.
    Keys(KeysArgs),
    /// Back up the store, as of one instant: from a running engine (it goes on serving) or a stopped engine's store.
    Backup(BackupArgs),
    /// Build a new store from a backup (into an absent or empty directory); the address pool is refilled by `serve`.
    Restore {
        /// The backup file.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// The new store's directory: absent or empty.
        #[arg(long, value_name = "DIR")]
        store: PathBuf,
    },
    /// Run the engine against the configured Electron Cash daemon.
    Serve {
        /// The configuration file.
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// Run the engine with a built-in simulated wallet and webhook receiver on loopback, and print what to try.
    Demo {
        /// Where the engine listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// Keep the demo's store in this directory (default: a temporary one).
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Run the simulated Electron Cash daemon alone.
    Sim {
        /// Where it listens.
        #[arg(long, default_value = "127.0.0.1:7777")]
        listen: std::net::SocketAddr,
        /// rpcuser.
        #[arg(long, default_value = "bchrpc")]
        rpc_user: String,
        /// rpcpassword (empty: no auth). Also BCHPAY_SIM_RPC_PASSWORD.
        #[arg(long, env = "BCHPAY_SIM_RPC_PASSWORD", default_value = "", hide_env_values = true)]
        rpc_password: String,
        /// Network prefix of its addresses: bitcoincash, bchtest or bchreg.
        #[arg(long, default_value = "bchreg")]
        network: String,
    },
    /// Load generators that print figures (not tests).
    Bench {
        #[command(subcommand)]
        which: BenchWhich,
    },
}

#[derive(Subcommand)]
enum BenchWhich {
    /// Invoice creations per second and their latency, beside a bare handler and the pool-less engine.
    Create(bchpay::bench::create::Opts),
    /// Confirmer round trips and tick time with 1,000 to 100,000 watched invoices, and payment latency.
    Confirm(bchpay::bench::confirm::Opts),
    /// `bchpay serve` over a store of a million invoices: size on disk, RSS, time to ready, reads.
    Scale(bchpay::bench::scale::Opts),
    /// Filtered listings (status=paid, state=failed) beside a creation burst, over a big store.
    Scan(bchpay::bench::scan::Opts),
    /// An online backup of a big store: its size and time, and the creation p99 during it beside the p99 without.
    Backup(bchpay::bench::backup::Opts),
}

/// `bchpay backup`.
#[derive(clap::Args)]
struct BackupArgs {
    #[command(flatten)]
    target: Target,
    /// Where to write the backup (a new file; written as FILE.partial, checked, then renamed).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn backup(args: BackupArgs) -> ExitCode {
    let source = args.target.source();
    let answer = actix_web::rt::System::new().block_on(bchpay::backup::backup(&source, &args.out));
    done("backup", answer)
}

/// Prints an answer, or the message of a failure (exit 2).
fn done(command: &str, answer: Result<String, String>) -> ExitCode {
    match answer {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("bchpay {command}: {message}");
            ExitCode::from(2)
        }
    }
}

/// Where `inspect`, `keys` and `backup` look: a stopped engine's store, or a running
/// engine through its API.
#[derive(clap::Args)]
struct Target {
    /// The store directory of a stopped engine (default: data/bchpay.db, the default store.path).
    #[arg(long, conflicts_with = "url")]
    store: Option<PathBuf>,
    /// The base URL of a running engine.
    #[arg(long, requires = "api_key")]
    url: Option<String>,
    /// An API key of the running engine (or BCHPAY_API_KEY); `keys` needs an `unrestricted` one.
    #[arg(long, env = "BCHPAY_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

impl Target {
    /// The source it names.
    fn source(self) -> bchpay::inspect::Source {
        use bchpay::inspect::Source;
        match (self.url, self.store) {
            (Some(url), _) => Source::Api {
                url,
                key: bchpay::config::Secret::new(self.api_key.unwrap_or_default()),
            },
            (None, Some(dir)) => Source::Store(dir),
            (None, None) => Source::Store(Settings::default().store.path),
        }
    }
}

/// `bchpay inspect`.
#[derive(clap::Args)]
struct InspectArgs {
    #[command(flatten)]
    target: Target,
    /// JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    what: InspectWhat,
}

#[derive(Subcommand)]
enum InspectWhat {
    /// Invoices by status, pool, ledger, outbox by state, size on disk, schema version.
    Stats {
        /// Also check the store's invariants (reads the whole store); exits 1 if one is broken.
        #[arg(long)]
        check: bool,
    },
    /// Invoices, newest first.
    Invoices {
        /// Only this status: new, paid, confirmed, expired, invalid.
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// One invoice with its payments and events.
    Invoice {
        /// Its id (inv_…).
        id: String,
    },
    /// The ledger: every address handed out, and to which invoice.
    Addresses {
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Addresses made in advance.
    Pool {
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// Webhook deliveries with their attempts.
    Events {
        /// Only this state: pending, delivered, failed, no_endpoint.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

/// `bchpay keys`.
#[derive(clap::Args)]
struct KeysArgs {
    #[command(flatten)]
    target: Target,
    /// JSON instead of text (list and revoke; create prints the key alone on its last line).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    what: KeysWhat,
}

#[derive(Subcommand)]
enum KeysWhat {
    /// Make a key; it is printed once, alone on the last line.
    Create {
        /// What the key is for ("web shop").
        #[arg(long)]
        label: String,
        /// Comma-separated: btcpay.store.canviewinvoices, btcpay.store.cancreateinvoice,
        /// btcpay.store.canmodifyinvoices, btcpay.store.canviewstoresettings,
        /// btcpay.store.canmodifystoresettings, btcpay.store.webhooks.canmodifywebhooks, unrestricted.
        #[arg(long)]
        permissions: String,
    },
    /// The keys, with their permissions and last use (never the keys themselves).
    List,
    /// Revoke a key: it opens nothing from then on.
    Revoke {
        /// Its id (key_…).
        id: String,
    },
}

fn keys(args: KeysArgs) -> ExitCode {
    use bchpay::keys::KeysCommand;
    let fail = |message: String| {
        eprintln!("bchpay keys: {message}");
        ExitCode::from(2)
    };
    let command = match args.what {
        KeysWhat::Create { label, permissions } => match bchpay::api_key::Permissions::parse_list(&permissions) {
            Ok(permissions) => KeysCommand::Create { label, permissions },
            Err(e) => return fail(format!("--permissions: {e}")),
        },
        KeysWhat::List => KeysCommand::List,
        KeysWhat::Revoke { id } => match bchpay::api_key::KeyId::parse(&id) {
            Ok(id) => KeysCommand::Revoke(id),
            Err(e) => return fail(format!("ID: {e}")),
        },
    };
    let source = args.target.source();
    let answer = actix_web::rt::System::new().block_on(bchpay::keys::run(&source, &command, args.json));
    match answer {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => fail(message),
    }
}

fn inspect(args: InspectArgs) -> ExitCode {
    use bchpay::inspect::Query;
    let query = match args.what {
        InspectWhat::Stats { check } => Query::Stats { check },
        InspectWhat::Invoices { status, limit } => {
            let status = match status.as_deref().map(bchpay::invoice::InvoiceStatus::parse) {
                None => None,
                Some(Some(s)) => Some(s),
                Some(None) => return usage("--status: one of new, paid, confirmed, expired, invalid"),
            };
            Query::Invoices { status, limit }
        }
        InspectWhat::Invoice { id } => match bchpay::invoice::InvoiceId::parse(&id) {
            Ok(id) => Query::Invoice(id),
            Err(_) => return usage("ID: not an invoice id (inv_…)"),
        },
        InspectWhat::Addresses { limit } => Query::Addresses { limit },
        InspectWhat::Pool { limit } => Query::Pool { limit },
        InspectWhat::Events { state, limit } => {
            let state = match state.as_deref().map(bchpay::event::DeliveryState::parse) {
                None => None,
                Some(Some(s)) => Some(s),
                Some(None) => return usage("--state: one of pending, delivered, failed, no_endpoint"),
            };
            Query::Events { state, limit }
        }
    };
    let source = args.target.source();
    let answer = actix_web::rt::System::new().block_on(bchpay::inspect::fetch(&source, &query));
    let broken = answer
        .as_ref()
        .ok()
        .and_then(|v| v["invariants_broken"].as_array())
        .is_some_and(|b| !b.is_empty());
    match answer {
        Ok(value) if broken => {
            match args.json {
                true => println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default()),
                false => print!("{}", bchpay::inspect::render(&query, &value)),
            }
            ExitCode::from(1)
        }
        Ok(value) if args.json => {
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Ok(value) => {
            print!("{}", bchpay::inspect::render(&query, &value));
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("bchpay inspect: {message}");
            ExitCode::from(2)
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("bchpay inspect: {message}");
    ExitCode::from(2)
}

/// Caps glibc's malloc at two arenas unless `MALLOC_ARENA_MAX` says otherwise.
/// glibc gives each busy thread an arena of its own (up to 8 per core), and
/// the memory sled's page cache churns through stays spread over them:
/// `bench scale` at a million invoices measured a peak RSS of 396 MiB by
/// default and 258 MiB with two arenas, reads no slower.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called
        // first thing in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => return inspect(args),
        Command::Keys(args) => return keys(args),
        Command::Backup(args) => return backup(args),
        Command::Restore { input, store } => return done("restore", bchpay::backup::restore(&input, &store)),
        Command::Serve { config } => match Settings::load(&config) {
            Ok(settings) => run(serve(settings)),
            Err(e) => {
                eprintln!("bchpay: configuration error: {e}");
                return ExitCode::from(2);
            }
        },
        Command::Demo { bind, store } => run(bchpay::demo::run(bchpay::demo::DemoOptions { bind, store })),
        Command::Sim {
            listen,
            rpc_user,
            rpc_password,
            network,
        } => {
            let config = SimConfig {
                listen,
                rpc_user,
                rpc_password,
                network,
                ..SimConfig::default()
            };
            run(sim::run(config))
        }
        Command::Bench { which } => match which {
            BenchWhich::Create(opts) => bchpay::bench::create::run(opts),
            BenchWhich::Confirm(opts) => bchpay::bench::confirm::run(opts),
            BenchWhich::Scale(opts) => bchpay::bench::scale::run(opts),
            BenchWhich::Scan(opts) => bchpay::bench::scan::run(opts),
            BenchWhich::Backup(opts) => bchpay::bench::backup::run(opts),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bchpay: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(fut: impl std::future::Future<Output = std::io::Result<()>>) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(fut)
}

async fn serve(settings: Settings) -> std::io::Result<()> {
    if let Some(warning) = settings.weak_key_warning() {
        log::warn!("{warning}");
    }
    if settings.api.keys.is_empty() {
        log::info!("api.keys is empty: only keys made with `bchpay keys create` open the API");
    }
    Application::build(settings).await?.run_until_stopped().await
}
