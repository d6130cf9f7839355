//! The Greenfield invoice routes (`docs/greenfield.md` §4.5-§4.7): `POST|GET
//! stores/{storeId}/invoices`, `GET …/invoices/{invoiceId}`, `GET
//! …/invoices/{invoiceId}/payment-methods`. A thin front end: creation goes
//! through bchpay's own path (fiat pricing, the pool, the store's writer),
//! reads through the store's reader; [`super::mapping`] shows the result.

use actix_web::{web, HttpResponse};

use super::create;
use super::mapping::{self, View};
use super::reply::{check_store, ok, GreenfieldError, RETRY_AFTER_SECS};
use crate::allocator::CheckPool;
use crate::creation::{self, CreateError};
use crate::http::AppState;
use crate::invoice::lifecycle::Policy;
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus};
use crate::store::OrderRule;

/// What the mapping needs, from the engine's state.
pub fn view(state: &AppState) -> View<'_> {
    View {
        store_id: &state.settings.greenfield.store_id,
        public_url: &state.settings.server.public_url,
        tip: state.tip(),
        policy: Policy {
            tolerance_percent: state.settings.payments.payment_tolerance_percent,
            monitoring_secs: state.settings.payments.monitoring_secs,
        },
    }
}

/// The invoice `id` names, or `404 invoice-not-found`.
pub fn find(state: &AppState, id: &str) -> Result<Invoice, GreenfieldError> {
    let id = InvoiceId::parse(id).map_err(|_| GreenfieldError::invoice_not_found())?;
    state
        .reader
        .invoice(&id)
        .map_err(|e| GreenfieldError::store(&format!("reading invoice {id}"), &e))?
        .ok_or_else(GreenfieldError::invoice_not_found)
}

/// `POST stores/{storeId}/invoices`: `200` with the invoice (new, or the
/// order's live invoice of the same terms).
pub async fn create(
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    check_store(&state, &path)?;
    let request = create::read(&body).map_err(GreenfieldError::Validation)?;
    let parsed = create::parse(&request, &state.settings).map_err(GreenfieldError::Validation)?;
    let now = chrono::Utc::now();
    let asked = parsed.clone();
    let draft = match parsed.price_with(|c| state.rates.rate(c, now), state.rates.retry_after_secs()) {
        Ok(draft) => draft,
        Err(e) if e.code == "rate_unavailable" => {
            // A repeated order needs no rate: its live invoice has one locked.
            if let Some((order_id, (currency, price))) = asked.draft.order_id.as_deref().zip(asked.fiat) {
                if let Ok(Some(existing)) = state.reader.invoice_by_order(order_id) {
                    let same_price = existing.currency == currency.code() && existing.price == Some(price);
                    if same_price && live_and_same_status(&existing) {
                        return Ok(ok(&mapping::invoice_data(&existing, &view(&state))));
                    }
                }
            }
            log::warn!("greenfield invoice refused: {}", e.message);
            return Err(GreenfieldError::unavailable(
                "rate-unavailable",
                e.message,
                e.retry_after.unwrap_or(RETRY_AFTER_SECS),
            ));
        }
        Err(e) => return Err(GreenfieldError::field("amount", &e.message)),
    };
    let result =
        creation::create_invoice_with(&state.store, &state.wallet, draft, OrderRule::NewUnlessLiveAndSame).await;
    state.allocator.do_send(CheckPool);
    let created = result.map_err(|e| match e {
        CreateError::WalletUnavailable(why) => {
            log::warn!("greenfield invoice refused: address pool empty and wallet unavailable ({why})");
            GreenfieldError::unavailable(
                "wallet-unavailable",
                "No payment address can be had now: the address pool is empty and the wallet is unavailable",
                RETRY_AFTER_SECS,
            )
        }
        // Not under this rule; kept for completeness.
        CreateError::OrderConflict => GreenfieldError::problem(
            409,
            "order-conflict",
            "This orderId already has an invoice for another amount",
        ),
        CreateError::Store(e) => GreenfieldError::store("greenfield invoice creation", &e),
    })?;
    let invoice = &created.invoice;
    if created.created {
        log::info!(
            "invoice {} created through greenfield: {} at {} for {} {}{}",
            invoice.id,
            invoice.amount_sats,
            invoice.address,
            mapping::amount_text(invoice),
            invoice.currency,
            invoice
                .order_id
                .as_deref()
                .map(|o| format!(", order {o}"))
                .unwrap_or_default(),
        );
    }
    Ok(ok(&mapping::invoice_data(invoice, &view(&state))))
}

/// Whether an order's invoice in this status is handed back for the same
/// terms (decision 2 of issue 14: new, paid or confirmed).
fn live_and_same_status(invoice: &Invoice) -> bool {
    matches!(
        invoice.status,
        InvoiceStatus::New | InvoiceStatus::Paid | InvoiceStatus::Confirmed
    )
}

/// `GET stores/{storeId}/invoices/{invoiceId}`.
pub async fn read(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, invoice_id) = path.into_inner();
    check_store(&state, &store_id)?;
    let invoice = find(&state, &invoice_id)?;
    Ok(ok(&mapping::invoice_data(&invoice, &view(&state))))
}

/// `GET stores/{storeId}/invoices/{invoiceId}/payment-methods`: one item.
pub async fn payment_methods(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, GreenfieldError> {
    let (store_id, invoice_id) = path.into_inner();
    check_store(&state, &store_id)?;
    let invoice = find(&state, &invoice_id)?;
    Ok(ok(&[mapping::payment_method(&invoice, &view(&state))]))
}
