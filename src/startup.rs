//! `Application::build`: opens the store, starts the actors and binds the
//! HTTP server. The binary and the tests run the same code; tests bind port 0.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix::Actor;
use actix_web::{web, App, HttpServer};

use crate::allocator::AddressAllocator;
use crate::config::Settings;
use crate::confirmer::{ConfirmerHandle, PaymentConfirmer};
use crate::electron_cash::WalletLink;
use crate::event::route::Routes;
use crate::http::{self, AppState};
use crate::invoice::lifecycle::Policy;
use crate::rates::{RateSource, RatesConfig, RatesHandle};
use crate::store::{self, Flush, Store, StoreReader};
use crate::webhook::WebhookDispatcher;

/// A started engine: actors running, HTTP server bound.
pub struct Application {
    /// The port the HTTP server listens on.
    port: u16,
    /// The HTTP server, until it stops.
    server: actix_web::dev::Server,
    /// What the handlers share.
    state: AppState,
}

impl Application {
    /// Starts everything. Never waits on the wallet: the link connects in the
    /// background and `/readyz` tells when it is up. Call inside an actix `System`.
    pub async fn build(mut settings: Settings) -> std::io::Result<Application> {
        let store = Store::open(&settings.store.path)
            .map_err(|e| std::io::Error::other(format!("store {}: {e}", settings.store.path.display())))?
            .with_routes(Routes::new(
                &settings.server.public_url,
                Some(settings.webhooks.url.clone()),
                !settings.webhooks.secret.is_empty(),
            ));
        if settings.greenfield.store_id.is_empty() {
            settings.greenfield.store_id = store
                .greenfield_store_id()
                .map_err(|e| std::io::Error::other(format!("store {}: {e}", settings.store.path.display())))?;
        }
        let store_health = store.health();
        let listener = TcpListener::bind(&settings.server.bind)?;
        let port = listener.local_addr()?.port();
        let (store, reader) = store::start(store);
        let wallet = WalletLink::start(settings.electron_cash.clone());
        let allocator = AddressAllocator::new(
            store.clone(),
            reader.clone(),
            wallet.clone(),
            settings.addresses.pool_low,
            settings.addresses.pool_high,
        )
        .start();
        let policy = Policy {
            tolerance_percent: settings.payments.payment_tolerance_percent,
            monitoring_secs: settings.payments.monitoring_secs,
        };
        let confirmer = PaymentConfirmer::start(
            wallet.clone(),
            store.clone(),
            reader.clone(),
            policy,
            Duration::from_millis(settings.payments.poll_interval_ms),
            Some(settings.electron_cash.notify_url.clone()),
        );
        let (webhooks, webhook_stats) =
            WebhookDispatcher::start(store.clone(), reader.clone(), settings.webhooks.clone());
        let rates = RatesHandle::new(
            RatesConfig::from_settings(&settings.rates)
                .map_err(|(key, why)| std::io::Error::other(format!("{key}: {why}")))?,
        );
        RateSource::start(rates.clone());
        let dashboard = crate::dashboard::Dashboard::new(&settings, store.clone(), reader.clone());
        let state = AppState {
            settings: Arc::new(settings.clone()),
            wallet,
            store,
            reader,
            store_health,
            allocator,
            confirmer,
            webhooks,
            webhook_stats,
            rates,
            dashboard,
        };
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(app_state.clone()))
                .configure(http::routes)
        })
        .workers(2)
        .shutdown_timeout(5)
        .disable_signals()
        .listen(listener)?
        .run();
        log::info!(
            "bchpay listening on http://{}:{port}",
            listener_host(&settings.server.bind)
        );
        Ok(Application { port, server, state })
    }

    /// The port the HTTP server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The wallet link.
    pub fn wallet(&self) -> &WalletLink {
        &self.state.wallet
    }

    /// The confirmer.
    pub fn confirmer(&self) -> &ConfirmerHandle {
        &self.state.confirmer
    }

    /// The book of fiat rates.
    pub fn rates(&self) -> &RatesHandle {
        &self.state.rates
    }

    /// Whether the store can write, and the fault hook tests use.
    pub fn store_health(&self) -> std::sync::Arc<crate::store::Health> {
        self.state.store_health.clone()
    }

    /// A reader of the store.
    pub fn reader(&self) -> StoreReader {
        self.state.reader.clone()
    }

    /// Serves until SIGTERM or Ctrl-C: then stops taking requests, lets the
    /// requests in flight finish (at most 5 s), and flushes the store.
    /// Deliveries in flight are given up: they stay pending in the outbox.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        // Our own signal handling: actix's would stop the whole System, and
        // with it the store's arbiter, before the final flush.
        let handle = self.server.handle();
        actix_web::rt::spawn(async move {
            wait_for_stop_signal().await;
            log::info!("stop signal received; finishing requests in flight");
            handle.stop(true).await;
        });
        let served = self.server.await;
        match self.state.store.send(Flush).await {
            Ok(Ok(())) => log::info!("bchpay stopped; store flushed"),
            Ok(Err(e)) => log::error!("final store flush failed: {e}"),
            Err(e) => log::error!("store unavailable for the final flush: {e}"),
        }
        served
    }
}

/// SIGTERM or Ctrl-C.
async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(e) => {
            log::warn!("cannot listen for SIGTERM ({e}); Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn listener_host(bind: &str) -> &str {
    bind.rsplit_once(':').map_or(bind, |(host, _)| host)
}
