//! Value formats: the stored invoice, an invoice's events, an event
//! reference (a line of `event_log`), the schema version.
//!
//! Invoices and events are JSON (the serde shapes of [`Invoice`] and
//! [`Event`] are part of the format), stored packed: compressed with zstd
//! ([`super::packed`], schema 4); plain JSON from older stores reads as well.

use serde::{Deserialize, Serialize};

use super::super::error::StoreError;
use super::packed;
use crate::event::{DeliveryState, Event};
use crate::invoice::{Invoice, InvoiceId};

/// An invoice as stored: with its position in the creation log, which the
/// status index is keyed by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredInvoice {
    /// Position in `by_time` (0 = the first invoice created).
    pub position: u64,
    /// The invoice.
    pub invoice: Invoice,
}

/// An invoice's stored form.
pub fn encode_invoice(position: u64, invoice: &Invoice) -> Result<Vec<u8>, StoreError> {
    #[derive(Serialize)]
    struct Borrowed<'a> {
        position: u64,
        invoice: &'a Invoice,
    }
    let json = serde_json::to_vec(&Borrowed { position, invoice }).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    packed::pack(&json)
}

/// Reads an invoice's stored form.
pub fn decode_invoice(bytes: &[u8]) -> Result<StoredInvoice, StoreError> {
    packed::with_json(bytes, |json| {
        serde_json::from_slice(json).map_err(|e| StoreError::Corrupt(format!("unreadable invoice: {e}")))
    })
}

/// The stored form of an invoice's events.
pub fn encode_events(events: &[Event]) -> Result<Vec<u8>, StoreError> {
    let json = serde_json::to_vec(events).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    packed::pack(&json)
}

/// Reads an invoice's events.
pub fn decode_events(bytes: &[u8]) -> Result<Vec<Event>, StoreError> {
    packed::with_json(bytes, |json| {
        serde_json::from_slice(json).map_err(|e| StoreError::Corrupt(format!("unreadable events: {e}")))
    })
}

/// The delivery state of each of an invoice's events, without the rest of them.
pub fn decode_event_states(bytes: &[u8]) -> Result<Vec<DeliveryState>, StoreError> {
    #[derive(Deserialize)]
    struct StateOnly {
        state: DeliveryState,
    }
    let states: Vec<StateOnly> = packed::with_json(bytes, |json| {
        serde_json::from_slice(json).map_err(|e| StoreError::Corrupt(format!("unreadable events: {e}")))
    })?;
    Ok(states.into_iter().map(|s| s.state).collect())
}

/// The `event_log` line of the event at `index` among an invoice's events.
pub fn event_ref(invoice: &InvoiceId, index: usize) -> String {
    format!("{} {index}", invoice.as_str())
}

/// Reads an `event_log` line back.
pub fn parse_event_ref(line: &str) -> Result<(InvoiceId, usize), StoreError> {
    let corrupt = || StoreError::Corrupt(format!("unreadable event reference {line:?}"));
    let (id, index) = line.split_once(' ').ok_or_else(corrupt)?;
    Ok((
        InvoiceId::parse(id).map_err(|_| corrupt())?,
        index.parse().map_err(|_| corrupt())?,
    ))
}

/// The schema version's stored form (decimal text).
pub fn encode_schema_version(version: u32) -> Vec<u8> {
    version.to_string().into_bytes()
}

/// Reads the schema version.
pub fn decode_schema_version(bytes: &[u8]) -> Result<u32, StoreError> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("unreadable schema version {bytes:?}")))
}

/// An API key's stored form: the [`ApiKeyRecord`] JSON (id, label, digest in
/// hex, permissions by name, created and last used at).
pub fn encode_api_key(record: &crate::api_key::ApiKeyRecord) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads an API key's stored form.
pub fn decode_api_key(bytes: &[u8]) -> Result<crate::api_key::ApiKeyRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable API key: {e}")))
}
