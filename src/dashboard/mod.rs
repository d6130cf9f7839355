//! The merchant dashboard (issue 15; api.md, "Merchant dashboard"):
//! server-rendered pages, no script and nothing from elsewhere, Korean and
//! English, usable on a phone.
//!
//! # Layout
//! - [`session`]: server-side sessions in an `HttpOnly; SameSite=Strict`
//!   cookie with an idle timeout, the CSRF token, the `Signed` extractor.
//! - [`throttle`]: failed sign-ins from one address slowed down.
//! - [`keys_port`]: THE seam to API keys (issue 13): sign-in check, create,
//!   list, revoke; an in-memory stand-in until then.
//! - [`queries`]: THE seam to the store's reads (issue 10): one function per
//!   query, off the HTTP workers.
//! - [`pricing`]: THE spot for fiat prices (issue 12).
//! - [`page`]: the frame, the style, the CSP, error pages; [`i18n`]: the texts.
//! - One file per page: [`login`], [`overview`], [`invoices`], [`invoice`],
//!   [`webhooks`], [`keys`], [`export`] (with [`csv`]), [`authorize`].
//!
//! Writes go through the same actors as the API: redelivery is the store's
//! `Redeliver` message, keys go through the keys port.

pub mod authorize;
pub mod csv;
pub mod export;
pub mod i18n;
pub mod invoice;
pub mod invoices;
pub mod keys;
pub mod keys_port;
pub mod login;
pub mod overview;
pub mod page;
pub mod pricing;
pub mod queries;
pub mod session;
pub mod throttle;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::config::Settings;
use crate::store::{InvoiceStore, StoreReader};
use actix::Addr;

/// What the dashboard keeps between requests, shared by every HTTP worker.
#[derive(Clone)]
pub struct Dashboard {
    /// Live sessions.
    pub sessions: Arc<session::Sessions>,
    /// Failed sign-ins by address.
    pub throttle: Arc<throttle::Throttle>,
    /// API keys.
    pub keys: keys_port::KeysPort,
    /// Whether cookies get `Secure` (`server.public_url` is https).
    pub secure_cookies: bool,
}

impl Dashboard {
    /// The dashboard of an engine configured by `settings`.
    pub fn new(settings: &Settings, store: Addr<InvoiceStore>, reader: StoreReader) -> Dashboard {
        Dashboard {
            sessions: Arc::new(session::Sessions::new(Duration::from_secs(
                settings.dashboard.session_idle_secs,
            ))),
            throttle: Arc::default(),
            keys: keys_port::KeysPort::new(settings, store, reader),
            secure_cookies: settings.server.public_url.starts_with("https://"),
        }
    }
}

/// Mounts the dashboard's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/dashboard", web::get().to(overview::page))
        .route("/dashboard/login", web::get().to(login::form))
        .route("/dashboard/login", web::post().to(login::sign_in))
        .route("/dashboard/logout", web::post().to(login::sign_out))
        .route("/dashboard/lang/{lang}", web::get().to(login::switch_language))
        .route("/dashboard/invoices", web::get().to(invoices::page))
        .route("/dashboard/invoices/{id}", web::get().to(invoice::page))
        .route("/dashboard/events/{id}/redeliver", web::post().to(invoice::redeliver))
        .route("/dashboard/webhooks", web::get().to(webhooks::page))
        .route("/dashboard/keys", web::get().to(keys::page))
        .route("/dashboard/keys", web::post().to(keys::create))
        .route("/dashboard/keys/{id}/revoke", web::post().to(keys::revoke))
        .route("/dashboard/export.csv", web::get().to(export::csv))
        .route("/api-keys/authorize", web::get().to(authorize::consent))
        .route("/api-keys/authorize", web::post().to(authorize::grant));
}
