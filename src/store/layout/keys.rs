//! Typed keys: each kind of key the store writes, with its byte form and the
//! way back. Big-endian integers, so that byte order is number order.

use crate::event::{DeliveryState, Event};
use crate::invoice::InvoiceStatus;

use super::super::error::StoreError;

/// An 8-byte big-endian number, read back.
fn be_u64(bytes: &[u8], what: &str) -> Result<u64, StoreError> {
    <[u8; 8]>::try_from(bytes)
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt(format!("unreadable {what} {bytes:?}")))
}

/// An event's global sequence (from 1): the key of `outbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seq(pub u64);

impl Seq {
    /// The key bytes.
    pub fn encode(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// Reads a key back.
    pub fn decode(bytes: &[u8]) -> Result<Seq, StoreError> {
        be_u64(bytes, "event sequence key").map(Seq)
    }
}

/// The number of a chunk of a chunked log (`log.rs`): entries `64 n ..
/// 64 n + 63` live in chunk `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChunkNo(pub u64);

impl ChunkNo {
    /// The key bytes.
    pub fn encode(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// Reads a key back.
    pub fn decode(bytes: &[u8]) -> Result<ChunkNo, StoreError> {
        be_u64(bytes, "log chunk key").map(ChunkNo)
    }
}

/// The tag byte of a status in [`StatusKey`] (stable: part of the format).
pub fn status_tag(status: InvoiceStatus) -> u8 {
    match status {
        InvoiceStatus::New => 1,
        InvoiceStatus::Paid => 2,
        InvoiceStatus::Confirmed => 3,
        InvoiceStatus::Expired => 4,
        InvoiceStatus::Invalid => 5,
    }
}

/// Every status, in tag order.
pub const STATUSES: [InvoiceStatus; 5] = [
    InvoiceStatus::New,
    InvoiceStatus::Paid,
    InvoiceStatus::Confirmed,
    InvoiceStatus::Expired,
    InvoiceStatus::Invalid,
];

/// An invoice in the status index: its status, then its creation position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusKey {
    /// The invoice's status.
    pub status: InvoiceStatus,
    /// Its position in the creation log.
    pub position: u64,
}

impl StatusKey {
    /// The key bytes: tag ‖ position (u64 BE).
    pub fn encode(self) -> [u8; 9] {
        let mut key = [0u8; 9];
        key[0] = status_tag(self.status);
        key[1..].copy_from_slice(&self.position.to_be_bytes());
        key
    }

    /// Reads a key back.
    pub fn decode(bytes: &[u8]) -> Result<StatusKey, StoreError> {
        let (tag, position) = bytes
            .split_first()
            .ok_or_else(|| StoreError::Corrupt("empty status key".into()))?;
        let status = STATUSES
            .into_iter()
            .find(|s| status_tag(*s) == *tag)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown status tag {tag}")))?;
        Ok(StatusKey {
            status,
            position: be_u64(position, "status key position")?,
        })
    }
}

/// The tag byte of a delivery state in [`EventStateKey`]; `None` for
/// `pending`, which the outbox indexes.
pub fn event_state_tag(state: DeliveryState) -> Option<u8> {
    match state {
        DeliveryState::Pending => None,
        DeliveryState::Delivered => Some(2),
        DeliveryState::Failed => Some(3),
        DeliveryState::NoEndpoint => Some(4),
    }
}

/// An event that is not pending, in the event-state index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventStateKey {
    /// Its state (never `Pending`).
    pub state: DeliveryState,
    /// Its global sequence.
    pub seq: u64,
}

impl EventStateKey {
    /// The key bytes: tag ‖ seq (u64 BE); `None` for a pending event.
    pub fn encode(self) -> Option<[u8; 9]> {
        let tag = event_state_tag(self.state)?;
        let mut key = [0u8; 9];
        key[0] = tag;
        key[1..].copy_from_slice(&self.seq.to_be_bytes());
        Some(key)
    }

    /// The index key of `event`; `None` while it is pending.
    pub fn of(event: &Event) -> Option<[u8; 9]> {
        EventStateKey {
            state: event.state,
            seq: event.seq,
        }
        .encode()
    }

    /// Reads a key back.
    pub fn decode(bytes: &[u8]) -> Result<EventStateKey, StoreError> {
        let (tag, seq) = bytes
            .split_first()
            .ok_or_else(|| StoreError::Corrupt("empty event state key".into()))?;
        let state = [
            DeliveryState::Delivered,
            DeliveryState::Failed,
            DeliveryState::NoEndpoint,
        ]
        .into_iter()
        .find(|s| event_state_tag(*s) == Some(*tag))
        .ok_or_else(|| StoreError::Corrupt(format!("unknown event state tag {tag}")))?;
        Ok(EventStateKey {
            state,
            seq: be_u64(seq, "event state key sequence")?,
        })
    }
}

/// A key of the `meta` tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaKey {
    /// `schema_version`: decimal text.
    SchemaVersion,
    /// `invoice_count`: invoices ever created (u64 BE), the length of `by_time`.
    InvoiceCount,
    /// `event_seq`: the last event sequence handed out (u64 BE), the length of `event_log`.
    EventSeq,
    /// `status:<status>`: invoices in that status (u64 BE).
    Status(InvoiceStatus),
    /// `migrating_from`: the layout a migration in progress started from (text).
    MigratingFrom,
    /// `greenfield_store_id`: the Greenfield store id made at first start
    /// (text). Absent in a store written before it (any schema 3 store made
    /// before issue 14): the next start makes it, nothing else reads it.
    GreenfieldStoreId,
}

impl MetaKey {
    /// The key bytes.
    pub fn encode(self) -> Vec<u8> {
        match self {
            MetaKey::SchemaVersion => b"schema_version".to_vec(),
            MetaKey::InvoiceCount => b"invoice_count".to_vec(),
            MetaKey::EventSeq => b"event_seq".to_vec(),
            MetaKey::Status(s) => format!("status:{}", s.as_str()).into_bytes(),
            MetaKey::MigratingFrom => b"migrating_from".to_vec(),
            MetaKey::GreenfieldStoreId => b"greenfield_store_id".to_vec(),
        }
    }
}

/// A counter's value bytes (u64 BE).
pub fn encode_counter(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

/// Reads a counter (absent = 0).
pub fn decode_counter(bytes: Option<&[u8]>) -> Result<u64, StoreError> {
    match bytes {
        None => Ok(0),
        Some(b) => be_u64(b, "counter"),
    }
}
