//! Invoice creation: what `POST /api/v1/invoices` does once the request is
//! checked. The address comes from the pool, taken in the invoice's own store
//! transaction; with the pool empty, from one inline `createnewaddress`.

use actix::Addr;

use crate::electron_cash::{RpcError, WalletLink};
use crate::invoice::NewInvoice;
use crate::store::{CreateInvoice, Created, InvoiceStore, OrderRule, StoreError};

/// Why an invoice could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The order id has an invoice for another amount.
    #[error("order already has an invoice for another amount")]
    OrderConflict,
    /// The pool is empty and the wallet cannot make an address now.
    #[error("no address can be had now: the address pool is empty and the wallet is unavailable ({0})")]
    WalletUnavailable(RpcError),
    /// The store failed (a full disk, an I/O error, a writer restarting: see
    /// [`StoreError::is_unavailable`]).
    #[error("store error: {0}")]
    Store(StoreError),
}

/// Creates an invoice: an address from the pool in the invoice's own
/// transaction; with the pool empty, one inline `createnewaddress`. Send the
/// allocator a [`crate::allocator::CheckPool`] afterwards.
pub async fn create_invoice(
    store: &Addr<InvoiceStore>,
    wallet: &WalletLink,
    draft: NewInvoice,
) -> Result<Created, CreateError> {
    create_invoice_with(store, wallet, draft, OrderRule::default()).await
}

/// [`create_invoice`] with the rule for an order id that has an invoice
/// already (Greenfield's create uses [`OrderRule::NewUnlessLiveAndSame`]).
pub async fn create_invoice_with(
    store: &Addr<InvoiceStore>,
    wallet: &WalletLink,
    draft: NewInvoice,
    order_rule: OrderRule,
) -> Result<Created, CreateError> {
    let first = store
        .send(CreateInvoice {
            draft: draft.clone(),
            fresh_address: None,
            order_rule,
        })
        .await;
    let result = match first {
        Ok(Err(StoreError::PoolEmpty)) => {
            let address = wallet
                .create_new_address()
                .await
                .map_err(CreateError::WalletUnavailable)?;
            store
                .send(CreateInvoice {
                    draft,
                    fresh_address: Some(address),
                    order_rule,
                })
                .await
        }
        other => other,
    };
    match result {
        Ok(Ok(created)) => Ok(created),
        Ok(Err(StoreError::OrderConflict)) => Err(CreateError::OrderConflict),
        Ok(Err(e)) => Err(CreateError::Store(e)),
        Err(e) => Err(CreateError::Store(StoreError::WriterFailed(format!(
            "the store writer is not answering: {e}"
        )))),
    }
}
