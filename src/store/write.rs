//! The writes: plain functions over the trees, each in a file named after
//! what it writes, each returning what to reply. Only the writer actor calls
//! them (a single writer: what they read before their transaction does not
//! change before it).

mod address_picker;
pub mod api_keys;
pub mod create_batch;
pub mod created_events;
pub mod event_record;
pub mod greenfield_id;
pub mod mark;
pub mod pool;
pub mod transition;
pub mod webhooks;

use sled::transaction::ConflictableTransactionError;

use super::counts::Counts;
use super::error::StoreError;
use super::layout::trees::Trees;
use crate::event::route::Routes;

/// What the writes are given: the trees, the kept sizes, where events go.
pub struct Writes<'a> {
    /// The trees of the layout.
    pub trees: &'a Trees,
    /// Sizes kept by the writer.
    pub counts: &'a Counts,
    /// Where events go (policy from outside the store).
    pub routes: &'a Routes,
}

/// Gives up a transaction with `error` (a check that failed inside it).
fn abort<T>(error: StoreError) -> Result<T, ConflictableTransactionError<StoreError>> {
    Err(ConflictableTransactionError::Abort(error))
}
