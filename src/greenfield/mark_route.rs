//! `POST stores/{storeId}/invoices/{invoiceId}/status` (`docs/greenfield.md`
//! §4.8): `{"status": "Invalid" | "Settled"}` marks the invoice by hand
//! through the store's writer (the lifecycle's rule, BTCPay's
//! `CanMarkInvalid`/`CanMarkComplete`); `200` with the invoice after it, `422`
//! at `status` when its status does not allow the mark.

use actix_web::{web, HttpResponse};

use super::invoice_routes::{find, view};
use super::mapping::invoice_data;
use super::reply::{check_store, ok, GreenfieldError};
use super::types::{MarkStatusRequest, StatusMark};
use crate::http::AppState;
use crate::invoice::lifecycle::Mark;
use crate::store::{MarkInvoice, StoreError};

/// BTCPay's words for a mark its rules refuse.
const REFUSED: &str = "Status can only be marked to invalid or settled within certain conditions.";

/// `POST stores/{storeId}/invoices/{invoiceId}/status`.
pub async fn mark(
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, invoice_id) = path.into_inner();
    check_store(&state, &store_id)?;
    let request: MarkStatusRequest = serde_json::from_slice(&body)
        .map_err(|_| GreenfieldError::field("status", "status must be \"Invalid\" or \"Settled\""))?;
    let invoice = find(&state, &invoice_id)?;
    let mark = match request.status {
        StatusMark::Invalid => Mark::Invalid,
        StatusMark::Settled => Mark::Settled,
    };
    let sent = state
        .store
        .send(MarkInvoice {
            invoice_id: invoice.id.clone(),
            mark,
            tip: state.tip().unwrap_or(0),
            now: chrono::Utc::now(),
        })
        .await;
    match sent {
        Ok(Ok(Ok(applied))) => Ok(ok(&invoice_data(&applied.invoice, &view(&state)))),
        Ok(Ok(Err(_refused))) => {
            log::info!(
                "invoice {}: mark {mark:?} refused in status {}",
                invoice.id,
                invoice.status.as_str()
            );
            Err(GreenfieldError::field("status", REFUSED))
        }
        Ok(Err(StoreError::NotFound)) => Err(GreenfieldError::invoice_not_found()),
        Ok(Err(e)) => Err(GreenfieldError::store(&format!("marking invoice {}", invoice.id), &e)),
        Err(e) => Err(GreenfieldError::store(
            &format!("marking invoice {}", invoice.id),
            &StoreError::WriterFailed(format!("the store writer is not answering: {e}")),
        )),
    }
}
