//! The writer's handlers of Greenfield's messages (`greenfield_messages.rs`):
//! registered webhooks, marks by hand.

use actix::prelude::*;

use super::super::error::StoreError;
use super::super::greenfield_messages::{DeleteWebhook, MarkInvoice, SaveWebhook};
use super::super::messages::Applied;
use super::super::write::{mark, webhooks};
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
