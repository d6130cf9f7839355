//! Every byte the store writes: the tree list, the typed keys, the values,
//! and the chunked logs. The writer, the reader, the migration and the bulk
//! loader all go through here; nothing else spells a key or a value.
//!
//! # The rule
//! **A change to any format below (a tree, a key, a value, a meta key) bumps
//! [`SCHEMA_VERSION`]** and comes with a migration in `store/migrate/` (or a
//! refusal that says what to do) and a test on the old layout. The
//! golden-bytes tests (`layout/golden.rs`) fail on any such change: that is
//! their job. To add something: a tree goes in [`trees::TREES`] and
//! [`trees::Trees`] (one place), a value format gets a file here, a write gets
//! a file in `store/write/`.
//!
//! # Formats (schema 4)
//! | tree | key → value |
//! |---|---|
//! | `invoices` | invoice id → [`values::StoredInvoice`] JSON: `{"position": n, "invoice": {…}}` (schema 4: each payment has `seen_at` and, once read, `outputs`) |
//! | `by_address` | address → invoice id: the ledger, no address is ever handed out twice |
//! | `by_order` | order id → invoice id (idempotent creation) |
//! | `by_time` | [`log::ChunkedLog`] of invoice ids in the order created (position n = the (n+1)-th invoice) |
//! | `by_status` | [`keys::StatusKey`] (status tag ‖ position u64 BE) → invoice id |
//! | `watch` | invoice id → () while the confirmer watches it |
//! | `pool` | address → () made in advance, not yet handed out |
//! | `events` | invoice id → JSON array of the invoice's events with their delivery records (schema 4: an event for a registered webhook also has `webhook` and its `greenfield` body) |
//! | `event_log` | [`log::ChunkedLog`] of event references `"<invoice id> <index>"` by sequence (entry n = seq n+1) |
//! | `outbox` | [`keys::Seq`] (u64 BE) → () for every pending event |
//! | `by_event_state` | [`keys::EventStateKey`] (state tag ‖ seq u64 BE) → () for every event that is not pending |
//! | `webhooks` | registered webhook id → [`crate::event::registered::RegisteredWebhook`] JSON (secret included) |
//! | `meta` | [`keys::MetaKey`]: schema version (decimal text), counters (u64 BE), the Greenfield store id (text, made at first start when absent) |
//!
//! Why so few entries per invoice: sled 0.34 keeps ~260 bytes of state in
//! memory per page from the moment the store opens, and splits a leaf past
//! 16 entries, so memory at rest follows the number of entries. An invoice's
//! events share one entry, and both orders (creation, events) are dense logs
//! of 64 lines per entry. The two indexes by state cost one small entry per
//! invoice and per settled event: the price of O(limit) filtered pages.
//!
//! # Invariants (`check_invariants`, in `invariants.rs`, checks them)
//! 1. `by_time` holds `invoice_count` entries and `event_log` holds
//!    `event_seq` entries: a log's length equals its counter.
//! 2. Every invoice is in `by_time` at its `position`, and in `by_status`
//!    under its status and position, and nowhere else in `by_status`.
//! 3. An event is in `outbox` exactly when it is pending, and in
//!    `by_event_state` under its state exactly when it is not.
//! 4. The `status:<s>` counters equal the number of invoices in each status;
//!    the in-memory pool and outbox sizes equal those trees.
//! 5. Every address in `by_address` points at an invoice with that address;
//!    every order in `by_order` at an invoice with that order id; no address
//!    is both pooled and in the ledger.
//! 6. Every entry of `event_log` points at an event with that sequence.

pub mod keys;
pub mod log;
pub mod trees;
pub mod values;
pub mod webhooks;

#[cfg(test)]
mod golden;

/// The layout version this build reads and writes (see the rule above).
pub const SCHEMA_VERSION: u32 = 4;
