//! The writer's handlers of the API-key messages, over `write::api_keys`.

use actix::prelude::*;

use super::super::error::StoreError;
use super::super::messages::{CreateApiKey, RevokeApiKey, TouchApiKey};
use super::super::write::api_keys;
use super::InvoiceStore;
use crate::api_key::ApiKeyRecord;

impl Handler<CreateApiKey> for InvoiceStore {
    type Result = ResponseFuture<Result<ApiKeyRecord, StoreError>>;

    fn handle(&mut self, msg: CreateApiKey, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.run(ctx, |w| api_keys::create(w.trees, &msg.0));
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<RevokeApiKey> for InvoiceStore {
    type Result = ResponseFuture<Result<ApiKeyRecord, StoreError>>;

    fn handle(&mut self, msg: RevokeApiKey, ctx: &mut Context<Self>) -> Self::Result {
        let result = self.run(ctx, |w| api_keys::revoke(w.trees, &msg.0));
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<TouchApiKey> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, msg: TouchApiKey, ctx: &mut Context<Self>) {
        if let Err(e) = self.run(ctx, |w| api_keys::touch(w.trees, &msg.digest, msg.at)) {
            log::warn!("could not mark API key {:?} used: {e}", msg.digest);
        }
    }
}
