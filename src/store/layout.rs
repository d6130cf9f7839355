//! The byte formats of the store's values, in one place for the writer, the
//! reader and the bulk fill of `bench scale`.
//!
//! Why these shapes: sled 0.34 splits a leaf past 16 entries and keeps, for
//! every page, state in memory from the moment the store opens (~260 bytes
//! a page, measured with heaptrack). The engine's memory at rest therefore
//! follows the number of entries, not their size: an invoice's events share
//! one entry, and the global order of events is a dense log of 64 references
//! per entry. The invoice itself stays in an entry of its own, apart from its
//! events: reads of invoices, the hot path, then load small leaves (sled's
//! cache lets up to 256 × 64 recently loaded pages go unaccounted, so what a
//! leaf weighs counts).
//!
//! - **Invoice** (`invoices` tree): the invoice JSON.
//! - **Events of an invoice** (`events` tree, key: the invoice id): the JSON
//!   array of its events with their delivery records, in their order.
//! - **Chunked log** (`event_log` tree): entry `n` (from 0) of a log lives in
//!   chunk `n / CHUNK` (key: u64 big-endian) at line `n % CHUNK`, one line
//!   per entry, each ended by `\n`. The single writer appends.
//! - **Event reference** (a line of `event_log`): the invoice id, a space, the
//!   event's index among the invoice's events (its `sequence` − 1).
//! - **API key** (`api_keys` tree, key: the 32 bytes of the key's SHA-256):
//!   the [`ApiKeyRecord`] JSON (id, label, digest in hex, permissions by
//!   name, created and last used at). The key itself is never stored.

use std::collections::BTreeMap;

use super::StoreError;
use crate::api_key::ApiKeyRecord;
use crate::event::{DeliveryState, Event};
use crate::invoice::{Invoice, InvoiceId};

/// Entries per chunk of a chunked log.
pub const CHUNK: u64 = 64;

/// An invoice's stored form.
pub fn encode_invoice(invoice: &Invoice) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(invoice).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads an invoice's stored form.
pub fn decode_invoice(bytes: &[u8]) -> Result<Invoice, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable invoice: {e}")))
}

/// The stored form of an invoice's events.
pub fn encode_events(events: &[Event]) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(events).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads an invoice's events.
pub fn decode_events(bytes: &[u8]) -> Result<Vec<Event>, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable events: {e}")))
}

/// The delivery state of each of an invoice's events, without the rest of them.
pub fn decode_event_states(bytes: &[u8]) -> Result<Vec<DeliveryState>, StoreError> {
    #[derive(serde::Deserialize)]
    struct StateOnly {
        state: DeliveryState,
    }
    let states: Vec<StateOnly> =
        serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable events: {e}")))?;
    Ok(states.into_iter().map(|s| s.state).collect())
}

/// An API key's stored form.
pub fn encode_api_key(record: &ApiKeyRecord) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Reads an API key's stored form.
pub fn decode_api_key(bytes: &[u8]) -> Result<ApiKeyRecord, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(format!("unreadable API key: {e}")))
}

/// The key of the chunk that holds entry `n` (from 0), and the line in it.
pub fn chunk_of(n: u64) -> ([u8; 8], usize) {
    ((n / CHUNK).to_be_bytes(), (n % CHUNK) as usize)
}

/// Line `line` of a chunk.
pub fn chunk_line(chunk: &[u8], line: usize) -> Option<&str> {
    std::str::from_utf8(chunk).ok()?.split_terminator('\n').nth(line)
}

/// A chunk with `line` appended.
pub fn chunk_push(chunk: Option<&[u8]>, line: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.map_or(0, <[u8]>::len) + line.len() + 1);
    out.extend_from_slice(chunk.unwrap_or_default());
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
    out
}

/// The chunks of a chunked log after `lines` are appended as entries
/// `first`, `first + 1`, …: each chunk touched, whole, to be written back.
/// `read` gives a chunk's value before (the single writer reads it before its
/// transaction: nothing else changes a chunk meanwhile).
pub fn append_lines<E>(
    first: u64,
    lines: impl IntoIterator<Item = String>,
    mut read: impl FnMut(&[u8; 8]) -> Result<Option<Vec<u8>>, E>,
) -> Result<BTreeMap<[u8; 8], Vec<u8>>, E> {
    let mut chunks: BTreeMap<[u8; 8], Vec<u8>> = BTreeMap::new();
    for (n, line) in (first..).zip(lines) {
        let (key, _) = chunk_of(n);
        let before = match chunks.remove(&key) {
            Some(chunk) => Some(chunk),
            None => read(&key)?,
        };
        chunks.insert(key, chunk_push(before.as_deref(), &line));
    }
    Ok(chunks)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::lifecycle::EventKind;
    use chrono::Utc;
    use serde_json::json;

    fn invoice() -> Invoice {
        let draft = crate::invoice::NewInvoice {
            amount_sats: crate::money::Sats(70_000),
            fiat: None,
            order_id: Some("order-1".into()),
            description: None,
            metadata: json!({}),
            webhook_url: None,
            redirect_url: None,
            expires_in_secs: 900,
            required_confirmations: 1,
        };
        let address = crate::cashaddr::Address::parse("bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2")
            .unwrap_or_else(|e| panic!("{e}"));
        Invoice::create(InvoiceId::from_bytes([5; 16]), draft, address, Utc::now())
    }

    #[test]
    fn an_invoice_and_its_events_read_back() {
        let inv = invoice();
        let stored = encode_invoice(&inv).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decode_invoice(&stored).ok(), Some(inv.clone()));
        let events = vec![
            Event::new(
                7,
                EventKind::PaymentReceived,
                inv.id.clone(),
                1,
                json!({}),
                None,
                Utc::now(),
            ),
            Event::new(
                8,
                EventKind::Paid,
                inv.id.clone(),
                2,
                json!({"a": 1}),
                Some("http://x/".into()),
                Utc::now(),
            ),
        ];
        let stored = encode_events(&events).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decode_events(&stored).ok(), Some(events.clone()));
        assert_eq!(
            decode_event_states(&stored).ok(),
            Some(events.iter().map(|e| e.state).collect())
        );
    }

    #[test]
    fn damaged_values_are_corrupt_not_a_panic() {
        for bytes in [&b""[..], b"\0\0", b"[{}]", b"{\"id\": 1}"] {
            assert!(
                matches!(decode_invoice(bytes), Err(StoreError::Corrupt(_))),
                "{bytes:?}"
            );
            assert!(matches!(decode_events(bytes), Err(StoreError::Corrupt(_))), "{bytes:?}");
        }
    }

    #[test]
    fn an_api_key_reads_back_without_the_key_and_a_damaged_one_is_corrupt() {
        use crate::api_key::{Permission, Permissions};
        let perms = Permissions::of([Permission::CanCreateInvoice, Permission::CanViewInvoices]);
        let (key, mut record) = ApiKeyRecord::generate("web shop".into(), perms, Utc::now());
        record.last_used_at = Some(Utc::now());
        let stored = encode_api_key(&record).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(decode_api_key(&stored).ok(), Some(record.clone()));
        let text = String::from_utf8_lossy(&stored);
        assert!(!text.contains(key.expose()), "{text}");
        assert!(text.contains("btcpay.store.cancreateinvoice"), "{text}");
        for bytes in [&b""[..], b"{}", b"{\"id\": \"key_x\"}", &stored[..stored.len() - 1]] {
            assert!(
                matches!(decode_api_key(bytes), Err(StoreError::Corrupt(_))),
                "{bytes:?}"
            );
        }
        let unknown = text.replace("btcpay.store.cancreateinvoice", "btcpay.store.canfly");
        assert!(decode_api_key(unknown.as_bytes()).is_err());
    }

    #[test]
    fn chunks_hold_sixty_four_lines_each_in_order() {
        let mut chunks: std::collections::BTreeMap<[u8; 8], Vec<u8>> = Default::default();
        for n in 0..200u64 {
            let (key, line) = chunk_of(n);
            let chunk = chunks.get(&key).map(Vec::as_slice);
            assert_eq!(chunk.map_or(0, |c| c.split(|b| *b == b'\n').count() - 1), line);
            let next = chunk_push(chunk, &n.to_string());
            chunks.insert(key, next);
        }
        assert_eq!(chunks.len(), 4);
        for n in 0..200u64 {
            let (key, line) = chunk_of(n);
            assert_eq!(chunk_line(&chunks[&key], line), Some(n.to_string().as_str()));
        }
        assert_eq!(chunk_line(&chunks[&chunk_of(199).0], 8), None);
    }

    #[test]
    fn appended_lines_fill_the_last_chunk_then_start_the_next() {
        let mut log: BTreeMap<[u8; 8], Vec<u8>> = BTreeMap::new();
        let mut next = 0u64;
        for batch in [1usize, 62, 3, 64, 70] {
            let lines: Vec<String> = (next..next + batch as u64).map(|n| format!("line {n}")).collect();
            let touched = append_lines(next, lines, |k| Ok::<_, ()>(log.get(k).cloned())).unwrap_or_default();
            log.extend(touched);
            next += batch as u64;
        }
        assert_eq!(log.len() as u64, next.div_ceil(CHUNK));
        for n in 0..next {
            let (key, line) = chunk_of(n);
            assert_eq!(chunk_line(&log[&key], line), Some(format!("line {n}").as_str()));
        }
    }

    #[test]
    fn an_event_reference_reads_back_and_a_bad_one_is_corrupt() {
        let id = InvoiceId::from_bytes([9; 16]);
        assert_eq!(parse_event_ref(&event_ref(&id, 2)).ok(), Some((id, 2)));
        for bad in [
            "",
            "inv_x 1",
            "inv_0000000000000000000001",
            "inv_0000000000000000000001 -1",
        ] {
            assert!(parse_event_ref(bad).is_err(), "{bad}");
        }
    }
}
