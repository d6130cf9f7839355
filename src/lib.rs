//! bchpay: a self-hosted Bitcoin Cash payment engine over an Electron Cash
//! wallet daemon.
//!
//! # Layout
//! - [`money`]: `Sats` and the exact amount parsers and formatters.
//! - [`api_key`]: API keys (kept as SHA-256 digests) and their permissions.
//! - [`keys`]: `bchpay keys create|list|revoke`, on a store or through the API.
//! - [`backup`]: `bchpay backup` (through the API or on a stopped store) and
//!   `bchpay restore`, over `store::backup`.
//! - [`fiat`]: ISO 4217 currencies, fiat prices and the exact conversion to satoshis.
//! - [`rates`]: the `RateSource` actor, the exchange clients and the rate rule.
//! - [`allocator`]: the `AddressAllocator` actor (the pool of fresh
//!   addresses).
//! - [`creation`]: invoice creation (a pool address, else one from the wallet).
//! - [`cashaddr`]: addresses, their checksum, their network prefix.
//! - [`config`]: `config.toml` and the environment, validated at start.
//! - [`confirmer`]: the `PaymentConfirmer` actor: wallet history diffs, the
//!   server's view of the few changed addresses, the expiry clock.
//! - [`demo`]: `bchpay demo`: engine, simulated wallet and webhook receiver.
//! - [`electron_cash`]: the `ElectronCash` actor, the only thing that talks to
//!   the wallet daemon (JSON-RPC over awc, supervised, with link state).
//! - [`invoice`]: the invoice record, its id, its API view and its lifecycle
//!   (`invoice::lifecycle`), all pure.
//! - [`store`]: the sled store: every byte of it (`store::layout`), the
//!   supervised `InvoiceStore` writer (group commit), `StoreReader`, the
//!   migration, the bulk loader, `check_invariants`, backups and restore
//!   (`store::backup`, format in `docs/backup.md`).
//! - [`event`]: webhook events and their delivery record, and where they go
//!   (`event::route`, the rule the store is handed) (pure).
//! - [`sim`]: a simulated Electron Cash daemon (and exchanges) for the demo and the tests.
//! - [`dashboard`]: the merchant dashboard: server-rendered pages, sessions,
//!   CSRF, the key-authorization consent page, the CSV export.
//! - [`http`]: the HTTP API: the `/api/v1` route table (`http::routes`, each
//!   route's permission), the guard that checks every request against it
//!   (`http::guard`: key, permission, JSON body), handlers, `ApiError`.
//! - [`greenfield`]: BTCPay Greenfield compatibility (`docs/greenfield.md`):
//!   its bodies, error shapes, the mapping of bchpay's invoice, the route
//!   handlers (rows of `http::routes` made with `greenfield(…)`), the modal
//!   checkout, webhook event bodies.
//! - [`bench`]: `bchpay bench`: load generators that print figures (not tests).
//! - [`webhook`]: the `WebhookDispatcher` actor and the signatures.
//! - [`inspect`]: `bchpay inspect`: the store as tables or JSON.
//! - [`metrics`]: `/metrics` in the Prometheus text format.
//! - [`startup`]: `Application::build`, which starts the actors and binds the
//!   HTTP server; the binary and the tests both use it.
#![forbid(unsafe_code)]

pub mod allocator;
pub mod api_key;
pub mod backup;
pub mod bench;
pub mod cashaddr;
pub mod config;
pub mod confirmer;
pub mod creation;
pub mod dashboard;
pub mod demo;
pub mod electron_cash;
pub mod event;
pub mod fiat;
pub mod greenfield;
pub mod http;
pub mod inspect;
pub mod invoice;
pub mod keys;
pub mod metrics;
pub mod money;
pub mod rates;
pub mod sim;
pub mod startup;
pub mod store;
pub mod webhook;
