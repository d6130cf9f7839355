//! Every read the dashboard makes, one function per query, each run off the
//! HTTP workers (`web::block`) through the same [`StoreReader`] as the API.
//!
//! ======================================================================
//! SEAM for issue 10 (branch `store`): a per-status index and reads off the
//! HTTP workers are coming. Until then these functions use the existing
//! listings; the coordinator swaps the bodies here, nothing else.
//! Costs today: an unfiltered page is O(page); a status-filtered page and
//! the failing events scan until they have a page (O(invoices) / O(events)
//! at worst); a txid search looks at the newest [`TXID_SCAN`] invoices.
//! ======================================================================

use crate::cashaddr::Address;
use crate::event::{DeliveryState, Event};
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus};
use crate::store::{StoreError, StoreReader};

/// How many of the newest invoices a txid search looks through (there is no txid index).
pub const TXID_SCAN: usize = 10_000;

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// A page cursor this engine did not give out.
    #[error("invalid cursor")]
    InvalidCursor,
    /// The store failed.
    #[error("{0}")]
    Store(String),
}

impl From<StoreError> for QueryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::InvalidCursor => QueryError::InvalidCursor,
            other => QueryError::Store(other.to_string()),
        }
    }
}

/// Runs `read` on the blocking pool.
async fn off_worker<T: Send + 'static>(
    reader: &StoreReader,
    read: impl FnOnce(&StoreReader) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, QueryError> {
    let reader = reader.clone();
    match actix_web::web::block(move || read(&reader)).await {
        Ok(result) => result.map_err(QueryError::from),
        Err(e) => Err(QueryError::Store(format!("blocking pool: {e}"))),
    }
}

/// A page of invoices, newest first, in one status or any.
pub async fn invoice_page(
    reader: &StoreReader,
    status: Option<InvoiceStatus>,
    limit: usize,
    cursor: Option<String>,
) -> Result<(Vec<Invoice>, Option<String>), QueryError> {
    off_worker(reader, move |r| r.list(status, None, limit, cursor.as_deref())).await
}

/// Invoices that `q` names: an invoice id, an order id, an address (with or
/// without its prefix) or a txid (among the newest [`TXID_SCAN`] invoices).
pub async fn search(reader: &StoreReader, q: String, network: Option<String>) -> Result<Vec<Invoice>, QueryError> {
    off_worker(reader, move |r| {
        let q = q.trim();
        let mut found: Vec<Invoice> = Vec::new();
        let mut add = |inv: Option<Invoice>| {
            if let Some(inv) = inv {
                if !found.iter().any(|f| f.id == inv.id) {
                    found.push(inv);
                }
            }
        };
        if let Ok(id) = InvoiceId::parse(q) {
            add(r.invoice(&id)?);
        }
        add(r.invoice_by_order(q)?);
        let prefixes = [network.as_deref(), Some("bitcoincash"), Some("bchtest"), Some("bchreg")];
        let candidates =
            std::iter::once(q.to_owned()).chain(prefixes.into_iter().flatten().map(|p| format!("{p}:{q}")));
        for text in candidates {
            if let Ok(address) = Address::parse(&text) {
                add(r.invoice_by_address(&address)?);
                break;
            }
        }
        if q.len() == 64 && q.bytes().all(|b| b.is_ascii_hexdigit()) {
            let txid = q.to_ascii_lowercase();
            let (newest, _) = r.list(None, None, TXID_SCAN, None)?;
            for inv in newest {
                if inv.payments.iter().any(|p| p.txid.eq_ignore_ascii_case(&txid)) {
                    add(Some(inv));
                }
            }
        }
        Ok(found)
    })
    .await
}

/// An invoice and its events.
pub async fn invoice_with_events(
    reader: &StoreReader,
    id: InvoiceId,
) -> Result<Option<(Invoice, Vec<Event>)>, QueryError> {
    off_worker(reader, move |r| match r.invoice(&id)? {
        Some(inv) => Ok(Some((inv, r.invoice_events(&id)?))),
        None => Ok(None),
    })
    .await
}

/// What the overview counts: invoices by status, addresses in the pool,
/// events waiting in the outbox.
pub async fn counts(reader: &StoreReader) -> Result<(Vec<(InvoiceStatus, u64)>, usize, usize), QueryError> {
    off_worker(reader, |r| Ok((r.status_counts()?, r.pool_len(), r.outbox_len()))).await
}

/// At most `limit` events whose delivery failed for good, oldest first.
pub async fn failed_events(reader: &StoreReader, limit: usize) -> Result<Vec<Event>, QueryError> {
    off_worker(reader, move |r| {
        Ok(r.events(None, Some(DeliveryState::Failed), limit, None)?.0)
    })
    .await
}

/// At most `limit` events waiting in the outbox after at least one failed attempt.
pub async fn retrying_events(reader: &StoreReader, limit: usize) -> Result<Vec<Event>, QueryError> {
    off_worker(reader, move |r| {
        let mut out = Vec::new();
        for seq in r.outbox()? {
            if out.len() == limit {
                break;
            }
            if let Some(e) = r.event_by_seq(seq)? {
                if !e.attempts.is_empty() {
                    out.push(e);
                }
            }
        }
        Ok(out)
    })
    .await
}
