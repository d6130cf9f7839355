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
    /// Run the engine against the configured Electron Cash daemon.
    Serve {
        /// The configuration file.
        #[arg(long, default_value = "config.toml")]
        config: PathBuf,
    },
    /// Run the engine with a built-in simulated wallet on loopback, and print what to try.
    Demo {
        /// Where the engine listens.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
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
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { config } => match Settings::load(&config) {
            Ok(settings) => run(serve(settings)),
            Err(e) => {
                eprintln!("bchpay: configuration error: {e}");
                return ExitCode::from(2);
            }
        },
        Command::Demo { bind } => run(demo(bind)),
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
        Command::Bench {
            which: BenchWhich::Create(opts),
        } => bchpay::bench::create::run(opts),
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
    Application::build(settings).await?.run_until_stopped().await
}

async fn demo(bind: String) -> std::io::Result<()> {
    let sim = sim::Sim::start(SimConfig::default()).await?;
    let mut settings = Settings::default();
    settings.server.bind = bind;
    settings.electron_cash.url = sim.url();
    settings.store.path = std::env::temp_dir().join(format!("bchpay-demo-{}", std::process::id()));
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    println!(
        "bchpay demo: engine on {base}, simulated Electron Cash daemon on {}\n\n\
         Try:\n  1. curl {base}/readyz\n  2. curl -X POST {}/sim/mine -H 'Content-Type: application/json' -d '{{\"blocks\": 1}}'\n",
        sim.url(),
        sim.url()
    );
    app.run_until_stopped().await
}
