//! The writer's handlers of Greenfield's messages (`greenfield_messages.rs`):
//! registered webhooks, marks by hand; and the `InvoiceCreated` events of
//! a creation batch.

use actix::prelude::*;

use super::super::error::StoreError;
use super::super::greenfield_messages::{DeleteWebhook, MarkInvoice, SaveWebhook};
use super::super::messages::{Applied, Created};
use super::super::write::{created_events, mark, webhooks};
use super::InvoiceStore;
use crate::event::registered::RegisteredWebhook;
use crate::invoice::lifecycle::MarkRefused;

impl Handler<SaveWebhook> for InvoiceStore {
    type Result = ResponseFuture<Result<RegisteredWebhook, StoreError>>;

    fn handle(&mut self, msg: SaveWebhook, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.run(ctx, |w| webhooks::save(w.trees, &msg.0));
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<DeleteWebhook> for InvoiceStore {
    type Result = ResponseFuture<Result<RegisteredWebhook, StoreError>>;

    fn handle(&mut self, msg: DeleteWebhook, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.run(ctx, |w| webhooks::delete(w.trees, &msg.0));
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<MarkInvoice> for InvoiceStore {
    type Result = ResponseFuture<Result<Result<Applied, MarkRefused>, StoreError>>;

    fn handle(&mut self, msg: MarkInvoice, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.run(ctx, |w| mark::mark_invoice(w.trees, w.counts, w.routes, msg));
        if let Ok(Err(refused)) = result {
            return Box::pin(async move { Ok(Err(refused)) });
        }
        let announce = self.announcer();
        let durable = self.reply_when_durable(result, ctx);
        Box::pin(async move {
            let marked = durable.await?;
            if let Ok(applied) = &marked {
                announce(applied.pending.clone());
            }
            Ok(marked)
        })
    }
}

impl InvoiceStore {
    /// Writes the `InvoiceCreated` events of the invoices a batch created
    /// (when a registered webhook wants them), announced once durable.
    pub(super) fn invoice_created_events(&mut self, ctx: &mut Context<Self>, answers: &[Result<Created, StoreError>]) {
        let created: Vec<_> = answers
            .iter()
            .filter_map(|a| a.as_ref().ok().filter(|c| c.created).map(|c| c.invoice.clone()))
            .collect();
        if created.is_empty() {
            return;
        }
        let now = chrono::Utc::now();
        match self.run(ctx, |w| {
            created_events::invoice_created(w.trees, w.counts, w.routes, &created, now)
        }) {
            Ok(pending) if !pending.is_empty() => {
                let announce = self.announcer();
                let durable = self.reply_when_durable(Ok(pending), ctx);
                ctx.spawn(
                    async move {
                        if let Ok(pending) = durable.await {
                            announce(pending);
                        }
                    }
                    .into_actor(self),
                );
            }
            Ok(_) => {}
            Err(e) => log::error!("InvoiceCreated events of {} invoices not written: {e}", created.len()),
        }
    }
}
