//! The writer's life: supervision (a restart after a panic), recovery while
//! writes fail (a probe every second, a reopen once the disk takes writes
//! again), and the last flush when it stops.

use actix::prelude::*;

use super::super::error::StoreError;
use super::super::reopen;
use super::super::write::create_batch;
use super::{ApplyCreates, InvoiceStore};

impl InvoiceStore {
    /// While writes fail: a small write and its flush, and a reopen of the
    /// database once the disk takes writes again (see `reopen.rs`).
    pub(super) fn recover(&mut self) -> Result<(), StoreError> {
        self.health.faults.check()?;
        reopen::recover(&mut self.opened, &self.path, &self.shared, &self.counts)?;
        self.health.set_up();
        Ok(())
    }
}

impl Actor for InvoiceStore {
    type Context = Context<Self>;
}

/// How often a writer whose writes fail tries again by itself.
const RECOVER_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl InvoiceStore {
    /// While writes fail, tries to recover every second, pinged or not (a
    /// timer only while down: an idle writer with no address left stops).
    pub(super) fn watch_recovery(&mut self, ctx: &mut Context<Self>) {
        if self.recovering || self.health.down().is_none() {
            return;
        }
        self.recovering = true;
        ctx.run_later(RECOVER_EVERY, |act, ctx| {
            act.recovering = false;
            if act.recover().is_err() {
                act.watch_recovery(ctx);
            }
        });
    }
}

impl Supervised for InvoiceStore {
    /// After a panic: what was applied before it is flushed and answered, the
    /// kept sizes are counted again, queued creations are applied.
    fn restarting(&mut self, ctx: &mut Context<Self>) {
        log::warn!("store writer restarting");
        self.flush_parked();
        if let Some(opened) = &self.opened {
            self.counts.recount(&opened.trees);
        }
        self.apply_scheduled = !self.creates.is_empty();
        if self.apply_scheduled {
            ctx.notify(ApplyCreates);
        }
    }
}

impl Drop for InvoiceStore {
    /// Stopping (or the arbiter going away) mid-flush: apply what is queued,
    /// flush here and answer the parked replies instead of failing them.
    fn drop(&mut self) {
        while let (false, Some(opened)) = (self.creates.is_empty(), &self.opened) {
            let n = self.creates.len().min(create_batch::MAX_BATCH);
            let (requests, replies): (Vec<_>, Vec<_>) = self.creates.drain(..n).unzip();
            let answers = create_batch::create_batch(&opened.trees, &self.counts, requests);
            for (reply, answer) in replies.into_iter().zip(answers) {
                self.park_created(reply, answer);
            }
        }
        self.flush_parked();
    }
}
