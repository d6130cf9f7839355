//! `Application::build`: starts the actors and binds the HTTP server. The
//! binary and the tests run the same code; tests bind port 0.

use std::net::TcpListener;

use actix_web::{web, App, HttpServer};

use crate::config::Settings;
use crate::electron_cash::WalletLink;
use crate::http::{self, AppState};

/// A started engine: actors running, HTTP server bound.
pub struct Application {
    /// The port the HTTP server listens on.
    port: u16,
    /// The HTTP server, until it stops.
    server: actix_web::dev::Server,
    /// The wallet link.
    wallet: WalletLink,
}

impl Application {
    /// Starts everything. Never waits on the wallet: the link connects in the
    /// background and `/readyz` tells when it is up. Call inside an actix `System`.
    pub async fn build(settings: Settings) -> std::io::Result<Application> {
        let listener = TcpListener::bind(&settings.server.bind)?;
        let port = listener.local_addr()?.port();
        let wallet = WalletLink::start(settings.electron_cash.clone());
        let state = AppState { wallet: wallet.clone() };
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(state.clone()))
                .configure(http::routes)
        })
        .workers(2)
        .listen(listener)?
        .run();
        log::info!(
            "bchpay listening on http://{}:{port}",
            listener_host(&settings.server.bind)
        );
        Ok(Application { port, server, wallet })
    }

    /// The port the HTTP server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The wallet link.
    pub fn wallet(&self) -> &WalletLink {
        &self.wallet
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn listener_host(bind: &str) -> &str {
    bind.rsplit_once(':').map_or(bind, |(host, _)| host)
}
