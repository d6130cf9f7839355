//! The packed form of the large values (invoices and an invoice's events):
//! their JSON compressed with zstd, one frame per value (schema 4).
//!
//! Why: an invoice's events each carry the invoice as the API showed it, so
//! the events entry repeats the same ~600 bytes of JSON three times; zstd
//! stores each repetition as a back reference. Plain JSON (schema 3 and
//! before) stays readable: a value is unpacked only if it starts with zstd's
//! frame magic, which no JSON text starts with, so an old store needs no
//! rewrite (see `store/migrate/packed_values.rs`).
//!
//! The compression contexts are kept per thread (the writer, each reader):
//! making one costs more than compressing a small value.

use std::cell::RefCell;

use super::super::error::StoreError;

/// zstd's level: the fastest. Values are packed on the writer's thread while
/// creations wait for their flush; level 1 already takes the repetitions.
const LEVEL: i32 = 1;
/// The first bytes of a zstd frame (little-endian 0xFD2FB528).
const MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];
/// The largest value unpacked: a store value is far smaller (events are
/// bounded by the retry schedule); a corrupt frame announcing more is refused.
const MAX_UNPACKED: usize = 64 * 1024 * 1024;

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// `json` packed for the store.
pub fn pack(json: &[u8]) -> Result<Vec<u8>, StoreError> {
    let failed = |e: std::io::Error| StoreError::Corrupt(format!("could not compress a value: {e}"));
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(zstd::bulk::Compressor::new(LEVEL).map_err(failed)?),
        };
        compressor.compress(json).map_err(failed)
    })
}

/// Whether `bytes` is a packed value (else plain JSON, as schema 3 wrote).
pub fn is_packed(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Reads a stored value back to JSON: a packed one is unpacked, plain JSON
/// handed to `f` as it is.
pub fn with_json<T>(bytes: &[u8], f: impl FnOnce(&[u8]) -> Result<T, StoreError>) -> Result<T, StoreError> {
    if !is_packed(bytes) {
        return f(bytes);
    }
    let failed = |e: std::io::Error| StoreError::Corrupt(format!("unreadable compressed value: {e}"));
    let json = DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let decompressor = match cell.as_mut() {
            Some(d) => d,
            None => cell.insert(zstd::bulk::Decompressor::new().map_err(failed)?),
        };
        let size = zstd::zstd_safe::get_frame_content_size(bytes)
            .ok()
            .flatten()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= MAX_UNPACKED)
            .ok_or_else(|| StoreError::Corrupt("a compressed value without a valid size".into()))?;
        decompressor.decompress(bytes, size).map_err(failed)
    })?;
    f(&json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_value_reads_back_and_repetitions_shrink() {
        let snapshot = r#"{"id":"inv_5xbMZq7sTt3D8VjBg7UZ1a","status":"confirmed","amount_sats":70000}"#;
        let json = format!("[{snapshot},{snapshot},{snapshot}]");
        let packed = pack(json.as_bytes()).unwrap();
        assert!(is_packed(&packed));
        assert!(
            packed.len() < json.len() / 2,
            "{} packed from {}",
            packed.len(),
            json.len()
        );
        let back = with_json(&packed, |j| Ok(j.to_vec())).unwrap();
        assert_eq!(back, json.as_bytes());
    }

    #[test]
    fn plain_json_is_read_as_it_is() {
        for plain in [&b"{\"position\":1}"[..], b"[]", b" {}"] {
            assert!(!is_packed(plain));
            assert_eq!(with_json(plain, |j| Ok(j.to_vec())).unwrap(), plain);
        }
    }

    #[test]
    fn a_damaged_frame_is_an_error_not_a_panic() {
        let mut packed = pack(br#"{"a":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}"#).unwrap();
        let n = packed.len();
        packed.truncate(n - 3);
        assert!(matches!(
            with_json(&packed, |j| Ok(j.to_vec())),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            with_json(&MAGIC, |j| Ok(j.to_vec())),
            Err(StoreError::Corrupt(_))
        ));
    }
}
