//! bchpay: a self-hosted Bitcoin Cash payment engine over an Electron Cash
//! wallet daemon.
//!
//! # Layout
//! - [`money`]: `Sats` and the exact amount parsers and formatters.
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
//!   migration, the bulk loader, `check_invariants`.
//! - [`event`]: webhook events and their delivery record, and where they go
//!   (`event::route`, the rule the store is handed) (pure).
//! - [`sim`]: a simulated Electron Cash daemon for the demo and the tests.
//! - [`http`]: the HTTP API: auth, request checks, handlers, `ApiError`.
//! - [`bench`]: `bchpay bench`: load generators that print figures (not tests).
//! - [`webhook`]: the `WebhookDispatcher` actor and the signatures.
//! - [`inspect`]: `bchpay inspect`: the store as tables or JSON.
//! - [`metrics`]: `/metrics` in the Prometheus text format.
//! - [`startup`]: `Application::build`, which starts the actors and binds the
//!   HTTP server; the binary and the tests both use it.
#![forbid(unsafe_code)]

pub mod allocator;
pub mod bench;
pub mod cashaddr;
pub mod config;
pub mod confirmer;
pub mod creation;
pub mod demo;
pub mod electron_cash;
pub mod event;
pub mod http;
pub mod inspect;
pub mod invoice;
pub mod metrics;
pub mod money;
pub mod sim;
pub mod startup;
pub mod store;
pub mod webhook;
