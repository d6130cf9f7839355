//! The sled store: every byte of it ([`layout`]), opening and migrating it
//! ([`Store`]), the single writer ([`InvoiceStore`], supervised, group
//! commit), reads ([`StoreReader`]), the bulk loader of the benchmarks
//! ([`bulk`]) and the invariant check ([`check_invariants`]).
//!
//! # Where things are
//! - `layout.rs` (+ `layout/`): the tree list, typed keys, values, chunked
//!   logs, the invariants and the rule that a format change bumps
//!   [`SCHEMA_VERSION`]. Start there.
//! - `open.rs`: [`Store::open`] (lock, version, migration); `migrate.rs`.
//! - `actor.rs`: the writer, thin: group commit, supervision, the handlers;
//!   `messages.rs`: what it receives; `commit.rs`: the parked replies.
//! - `write/`: one file per thing written (`create_batch`, `transition`,
//!   `event_record`, `pool`), plain functions over the trees.
//! - `reader.rs` (+ `reader/listing.rs`), `lookup.rs`: reads.
//! - `health.rs`: whether writes succeed (`/readyz`), the test fault hook;
//!   `shared.rs`: the tree handles, swapped when the writer reopens sled
//!   (`reopen.rs`, after a full disk).
//! - `backup.rs` (+ `backup/`): online and offline backups, their file
//!   format, restore.
//! - `counts.rs`, `error.rs`, `bulk.rs`, `invariants.rs`.
//!
//! Imports inside the store go one way: layout ← lookup ← write ← actor,
//! layout ← reader, and nothing imports `actor`.

mod actor;
pub mod backup;
pub mod bulk;
mod commit;
mod counts;
mod error;
mod greenfield_messages;
mod health;
mod invariants;
pub mod layout;
mod lookup;
mod messages;
mod migrate;
mod open;
mod reader;
mod reopen;
mod shared;
mod write;

pub use actor::{start, InvoiceStore};
pub use error::StoreError;
pub use greenfield_messages::{DeleteWebhook, MarkInvoice, SaveWebhook};
pub use health::{Faults, Health};
pub use invariants::check_invariants;
pub use layout::SCHEMA_VERSION;
pub use messages::{
    AddToPool, Applied, ApplyObservation, BetweenWrites, CreateApiKey, CreateInvoice, Created, EventsPending, Flush,
    OrderRule, Outcome, Ping, RecordAttempt, Redeliver, RevokeApiKey, Subscribe, SubscribeEvents, TouchApiKey, Watch,
};
pub use open::{Store, CACHE_BYTES};
pub use reader::StoreReader;

#[cfg(test)]
mod tests;
