//! The feature tests: one binary, one module per feature, each driving the
//! real HTTP server (in-process through `startup::Application`, or the real
//! `bchpay` binary) against the simulated wallet on OS-chosen ports.
//!
//! # Layout
//! - [`helpers`]: the shared harness: `TestApp` (the engine in-process),
//!   `Engine` (the real binary), `eventually` (wait on a condition with a
//!   deadline), request helpers, a scripted webhook receiver
//!   (`helpers::receiver`), a raw HTTP/1.1 client (`helpers::raw_http`).
//! - One module per feature, named after it: run one with
//!   `cargo nextest run -E 'test(/^payments::/)'` (or just `cargo nextest run payments::`).
//!
//! The quality suites are targets of their own beside this one:
//! `tests/drill.rs` (crash drill), `tests/fuzz_http.rs` and
//! `tests/fuzz_rpc.rs` (property fuzzing), `tests/security.rs`.

mod helpers;

mod backup;
mod bad_input;
mod checkout;
mod checkout_browser;
mod dashboard;
mod dashboard_browser;
mod demo;
mod deploy;
mod greenfield;
mod greenfield_clients;
mod greenfield_modal;
mod greenfield_refusals;
mod greenfield_webhooks;
mod inspect;
mod invoices;
mod keys;
mod metrics;
mod notify;
mod openapi;
mod payments;
mod pool;
mod rates;
mod recovery;
mod request_bodies;
mod restart;
mod shutdown;
mod sim_conformance;
mod store_check;
mod store_faults;
mod wallet;
mod wallet_link;
mod webhooks;
