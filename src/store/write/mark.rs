//! An invoice marked settled or invalid by hand, written as any transition
//! (`transition::commit`: the invoice, its status index, its events in one
//! transaction). The rule is the lifecycle's (`lifecycle::mark`).

use super::super::counts::Counts;
use super::super::error::StoreError;
use super::super::greenfield_messages::MarkInvoice;
use super::super::layout::trees::Trees;
use super::super::lookup;
use super::super::messages::Applied;
use super::transition;
use crate::event::route::Routes;
use crate::invoice::lifecycle::{self, MarkRefused};

/// Marks the invoice; `Ok(Err(MarkRefused))` when its status does not allow
/// it (nothing written), [`StoreError::NotFound`] for an unknown invoice.
pub fn mark_invoice(
    trees: &Trees,
    counts: &Counts,
    routes: &Routes,
    msg: MarkInvoice,
) -> Result<Result<Applied, MarkRefused>, StoreError> {
    let stored = lookup::stored_invoice(trees, msg.invoice_id.as_str().as_bytes())?.ok_or(StoreError::NotFound)?;
    let (position, before) = (stored.position, stored.invoice);
    let transition = match lifecycle::mark(&before, msg.mark, msg.now) {
        Ok(t) => t,
        Err(refused) => return Ok(Err(refused)),
    };
    // The confirmer decides when to stop watching, as for any invoice.
    let watched = trees.watch.contains_key(before.id.as_str().as_bytes())?;
    log::info!(
        "invoice {} marked {:?} by hand (was {})",
        before.id,
        msg.mark,
        before.status.as_str()
    );
    transition::commit(
        trees, counts, routes, before, position, transition, msg.tip, msg.now, watched,
    )
    .map(Ok)
}
