//! Marking an invoice settled or invalid by hand (Greenfield's `POST
//! …/invoices/{id}/status`), with BTCPay's rules (v2.4.1
//! `InvoiceEntity.CanMarkInvalid`/`CanMarkComplete`, `docs/greenfield.md`
//! §4.8), seen through bchpay's statuses (`paid` is Greenfield's
//! `Processing`, `confirmed` its `Settled`):
//! - Invalid: from new, paid, expired, or an invoice marked before, unless it
//!   is invalid already;
//! - Settled: from new, paid, expired, invalid, or an invoice marked before,
//!   unless it is confirmed already.
//!
//! A marked invoice keeps `marked`, its status is not changed by the
//! lifecycle again (its payments still are), and the mark emits
//! `MarkedSettled`/`MarkedInvalid` (bchpay's own destinations see them as
//! `invoice.confirmed`/`invoice.invalid`).

use chrono::{DateTime, Utc};

use super::{Emitted, EventKind, Transition};
use crate::invoice::{Invoice, InvoiceStatus};

/// The status asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Greenfield `Settled`: bchpay `confirmed`.
    Settled,
    /// Greenfield `Invalid`: bchpay `invalid`.
    Invalid,
}

/// The mark is not allowed from the invoice's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Status can only be marked to invalid or settled within certain conditions.")]
pub struct MarkRefused;

/// Whether `invoice` may be marked `mark` now.
pub fn can_mark(invoice: &Invoice, mark: Mark) -> bool {
    use InvoiceStatus as S;
    match mark {
        Mark::Invalid => {
            invoice.status != S::Invalid && (matches!(invoice.status, S::New | S::Paid | S::Expired) || invoice.marked)
        }
        Mark::Settled => {
            invoice.status != S::Confirmed
                && (matches!(invoice.status, S::New | S::Paid | S::Expired | S::Invalid) || invoice.marked)
        }
    }
}

/// The marks `invoice` allows now (Greenfield's `availableStatusesForManualMarking`).
pub fn available_marks(invoice: &Invoice) -> Vec<Mark> {
    [Mark::Settled, Mark::Invalid]
        .into_iter()
        .filter(|m| can_mark(invoice, *m))
        .collect()
}

/// The invoice marked `mark` at `now`, and its event.
pub fn mark(invoice: &Invoice, mark: Mark, now: DateTime<Utc>) -> Result<Transition, MarkRefused> {
    if !can_mark(invoice, mark) {
        return Err(MarkRefused);
    }
    let mut next = invoice.clone();
    next.marked = true;
    let kind = match mark {
        Mark::Settled => {
            next.status = InvoiceStatus::Confirmed;
            next.confirmed_at = Some(now);
            EventKind::MarkedSettled
        }
        Mark::Invalid => {
            next.status = InvoiceStatus::Invalid;
            EventKind::MarkedInvalid
        }
    };
    Ok(Transition {
        invoice: next,
        events: vec![Emitted::invoice(kind)],
    })
}
