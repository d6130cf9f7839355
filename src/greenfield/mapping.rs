//! bchpay's invoice as Greenfield shows it (`docs/greenfield.md` §5):
//! `InvoiceData` and the invoice's payment-methods item. Pure: the invoice,
//! the chain tip and the configuration in, the bodies out. Amounts are exact
//! (integer satoshis, decimals), never through a float.

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};

use super::types::{
    bch_fixed8, sats_fixed8, AdditionalStatus, CheckoutOptions, GreenfieldPayment, InvoiceData, InvoicePaymentMethod,
    InvoiceStatus as GfStatus, PaymentStatus, ReceiptOptions, SpeedPolicy, BCH_CHAIN,
};
use crate::fiat::Currency;
use crate::invoice::lifecycle::{available_marks, watch_until, Mark, Policy};
use crate::invoice::{Invoice, InvoiceException, InvoiceStatus};
use crate::money::COIN;

/// What the mapping needs besides the invoice.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// `greenfield.store_id`.
    pub store_id: &'a str,
    /// `server.public_url`.
    pub public_url: &'a str,
    /// The chain tip, when known (for payment statuses).
    pub tip: Option<u64>,
    /// Tolerance and monitoring window.
    pub policy: Policy,
}

/// The Greenfield status and additional status (§5.2, decision 1 of issue
/// 14: a late full payment is `Processing`/`Settled` with `PaidLate`; an
/// invoice marked by hand is `Marked`).
pub fn statuses(invoice: &Invoice) -> (GfStatus, AdditionalStatus) {
    let status = match invoice.status {
        InvoiceStatus::New => GfStatus::New,
        InvoiceStatus::Paid => GfStatus::Processing,
        InvoiceStatus::Confirmed => GfStatus::Settled,
        InvoiceStatus::Expired => GfStatus::Expired,
        InvoiceStatus::Invalid => GfStatus::Invalid,
    };
    let additional = match invoice.exception {
        _ if invoice.marked => AdditionalStatus::Marked,
        None => AdditionalStatus::None,
        Some(InvoiceException::PaidPartial) => AdditionalStatus::PaidPartial,
        Some(InvoiceException::PaidOver) => AdditionalStatus::PaidOver,
        Some(InvoiceException::PaidLate) => AdditionalStatus::PaidLate,
    };
    (status, additional)
}

/// What `POST …/status` accepts for `invoice` now (§4.8, BTCPay's
/// `CanMarkInvalid`/`CanMarkComplete`: the lifecycle's rule).
pub fn markable(invoice: &Invoice) -> Vec<GfStatus> {
    available_marks(invoice)
        .into_iter()
        .map(|m| match m {
            Mark::Settled => GfStatus::Settled,
            Mark::Invalid => GfStatus::Invalid,
        })
        .collect()
}

/// The price at the currency's minor units (`"12.30"`, KRW `"15000"`); a BCH
/// invoice's amount in BCH with eight decimals.
pub fn amount_text(invoice: &Invoice) -> String {
    match (invoice.price, Currency::parse(&invoice.currency)) {
        (Some(price), Ok(currency)) => at_minor_units(price, currency.minor_units()),
        _ => sats_fixed8(invoice.amount_sats),
    }
}

/// `value` written with exactly `minor` decimals (rounded half away from zero).
fn at_minor_units(value: Decimal, minor: u32) -> String {
    let mut v = value.round_dp_with_strategy(minor, RoundingStrategy::MidpointAwayFromZero);
    v.rescale(minor);
    v.to_string()
}

/// What was received, in the invoice's currency at its locked rate, at the
/// currency's minor units (BTCPay rounds `PaidAmount` so); BCH in BCH.
pub fn paid_amount_text(invoice: &Invoice) -> String {
    let received = invoice.received_sats();
    let fiat = invoice.rate.zip(Currency::parse(&invoice.currency).ok());
    let Some((rate, currency)) = fiat else {
        return sats_fixed8(received);
    };
    // received / 1e8 is exact at scale 8; times the rate, checked.
    let paid = Decimal::from(received.0)
        .checked_div(Decimal::from(COIN))
        .and_then(|bch| bch.checked_mul(rate));
    match paid {
        Some(paid) => at_minor_units(paid, currency.minor_units()),
        None => {
            log::error!("invoice {}: paid amount out of range", invoice.id);
            at_minor_units(Decimal::ZERO, currency.minor_units())
        }
    }
}

/// Whole seconds between two times, never below 0.
fn secs_between(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> u64 {
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

/// `InvoiceData` (§5.1).
pub fn invoice_data(invoice: &Invoice, view: &View<'_>) -> InvoiceData {
    let (status, additional_status) = statuses(invoice);
    let metadata = match &invoice.metadata {
        Value::Object(_) => invoice.metadata.clone(),
        _ => Value::Object(Map::new()),
    };
    InvoiceData {
        id: invoice.id.as_str().to_owned(),
        store_id: view.store_id.to_owned(),
        amount: amount_text(invoice),
        paid_amount: paid_amount_text(invoice),
        currency: invoice.currency.clone(),
        kind: "Standard".to_owned(),
        checkout_link: invoice.checkout_url(view.public_url),
        created_time: invoice.created_at.timestamp(),
        expiration_time: invoice.expires_at.timestamp(),
        monitoring_expiration: watch_until(invoice, &view.policy).timestamp(),
        status,
        additional_status,
        available_statuses_for_manual_marking: markable(invoice),
        archived: false,
        metadata,
        checkout: CheckoutOptions {
            speed_policy: SpeedPolicy::from_confirmations(invoice.required_confirmations),
            payment_methods: vec![BCH_CHAIN.to_owned()],
            default_payment_method: Some(BCH_CHAIN.to_owned()),
            lazy_payment_methods: Some(false),
            expiration_minutes: Some(secs_between(invoice.created_at, invoice.expires_at) / 60),
            monitoring_minutes: Some(view.policy.monitoring_secs / 60),
            payment_tolerance: Some(view.policy.tolerance_percent),
            redirect_url: invoice.redirect_url.clone(),
            redirect_automatically: Some(false),
            default_language: None,
        },
        receipt: ReceiptOptions {
            enabled: Some(false),
            show_qr: None,
            show_payments: None,
        },
    }
}

/// The payments of the invoice, one per output paying its address (§5.5):
/// `Settled` once the invoice's confirmations are reached, else `Processing`.
pub fn payments(invoice: &Invoice, tip: Option<u64>) -> Vec<GreenfieldPayment> {
    let destination = invoice.address.as_str().to_owned();
    invoice
        .payments
        .iter()
        .flat_map(|p| {
            let settled = p.confirmations(tip) >= u64::from(invoice.required_confirmations);
            let status = if settled {
                PaymentStatus::Settled
            } else {
                PaymentStatus::Processing
            };
            let received_date = p.seen_at.timestamp();
            let destination = destination.clone();
            p.per_output().into_iter().map(move |(id, value)| GreenfieldPayment {
                id,
                received_date,
                value: sats_fixed8(value),
                fee: sats_fixed8(crate::money::Sats(0)),
                status,
                destination: destination.clone(),
            })
        })
        .collect()
}

/// The one item of `GET …/invoices/{id}/payment-methods` (§5.5).
pub fn payment_method(invoice: &Invoice, view: &View<'_>) -> InvoicePaymentMethod {
    let received = invoice.received_sats();
    let due = i128::from(invoice.amount_sats.0) - i128::from(received.0);
    let due = i64::try_from(due).unwrap_or(0);
    InvoicePaymentMethod {
        payment_method_id: BCH_CHAIN.to_owned(),
        currency: "BCH".to_owned(),
        destination: invoice.address.as_str().to_owned(),
        payment_link: Some(invoice.payment_uri()),
        rate: invoice.rate.map_or_else(|| "1".to_owned(), |r| r.to_string()),
        payment_method_paid: sats_fixed8(received),
        total_paid: sats_fixed8(received),
        due: bch_fixed8(due),
        amount: sats_fixed8(invoice.amount_sats),
        payment_method_fee: sats_fixed8(crate::money::Sats(0)),
        payments: payments(invoice, view.tip),
        activated: true,
        additional_data: Value::Object(Map::new()),
    }
}

#[cfg(test)]
#[path = "mapping_tests.rs"]
mod tests;
