//! CashAddr: Bitcoin Cash addresses, their checksum and their network prefix.
//!
//! The daemon gives addresses without the prefix (`qr3le…`); the checksum
//! covers the prefix, so only the right network's prefix validates, and
//! [`Address::parse`] finds it. Implemented from the cashaddr specification
//! (bitcoincash.org `spec/cashaddr.md`); tested against its vectors.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The prefixes of the networks bchpay knows, tried in this order.
pub const NETWORK_PREFIXES: [&str; 3] = ["bitcoincash", "bchtest", "bchreg"];

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// Why a text is not a cashaddr.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashAddrError {
    /// A character outside the base32 alphabet, or mixed case.
    #[error("address has a character that cashaddr does not use")]
    BadCharacter,
    /// The checksum does not match (for any known network when no prefix was given).
    #[error("address checksum does not match")]
    BadChecksum,
    /// Too short, or the version byte's size bits disagree with the payload.
    #[error("address has the wrong length")]
    BadLength,
}

fn polymod(values: impl Iterator<Item = u8>) -> u64 {
    let mut c: u64 = 1;
    for d in values {
        let c0 = (c >> 35) as u8;
        c = ((c & 0x07_ffff_ffff) << 5) ^ u64::from(d);
        for (bit, gen) in [
            0x98_f2bc_8e61,
            0x79_b76d_99e2,
            0xf3_3e5f_b3c4,
            0xae_2eab_e2a8,
            0x1e_4f43_e470,
        ]
        .iter()
        .enumerate()
        {
            if c0 & (1 << bit) != 0 {
                c ^= gen;
            }
        }
    }
    c ^ 1
}

fn prefix_values(prefix: &str) -> impl Iterator<Item = u8> + '_ {
    prefix.bytes().map(|b| b & 0x1f).chain(std::iter::once(0))
}

/// Regroups bits (8 → 5 with padding, or 5 → 8 without).
fn convert_bits(data: &[u8], from: u32, to: u32, pad: bool) -> Option<Vec<u8>> {
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    let max = (1u32 << to) - 1;
    let mut out = Vec::with_capacity(data.len() * from as usize / to as usize + 1);
    for &value in data {
        acc = (acc << from) | u32::from(value);
        bits += from;
        while bits >= to {
            bits -= to;
            out.push(((acc >> bits) & max) as u8);
        }
    }
    if pad {
        if bits > 0 {
            out.push(((acc << (to - bits)) & max) as u8);
        }
    } else if bits >= from || ((acc << (to - bits)) & max) != 0 {
        return None;
    }
    Some(out)
}

/// Encodes `version` and `hash` as `prefix:payload` (the version byte carries
/// the type in bits 3..7 and the size code in bits 0..3).
pub fn encode(prefix: &str, version: u8, hash: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(hash.len() + 1);
    bytes.push(version);
    bytes.extend_from_slice(hash);
    let data = convert_bits(&bytes, 8, 5, true).unwrap_or_default();
    encode_raw(prefix, &data)
}

fn encode_raw(prefix: &str, data: &[u8]) -> String {
    let checksum = polymod(prefix_values(prefix).chain(data.iter().copied()).chain([0u8; 8]));
    let mut out = String::with_capacity(prefix.len() + 1 + data.len() + 8);
    out.push_str(prefix);
    out.push(':');
    for &d in data {
        out.push(CHARSET[d as usize] as char);
    }
    for i in 0..8 {
        out.push(CHARSET[((checksum >> (5 * (7 - i))) & 0x1f) as usize] as char);
    }
    out
}

/// Decodes the 5-bit data of `payload` under `prefix`, checksum checked,
/// checksum stripped.
fn decode_raw(prefix: &str, payload: &str) -> Result<Vec<u8>, CashAddrError> {
    let mut data = Vec::with_capacity(payload.len());
    for b in payload.bytes() {
        let value = CHARSET
            .iter()
            .position(|&c| c == b)
            .ok_or(CashAddrError::BadCharacter)?;
        data.push(value as u8);
    }
    if data.len() < 8 {
        return Err(CashAddrError::BadLength);
    }
    if polymod(prefix_values(prefix).chain(data.iter().copied())) != 0 {
        return Err(CashAddrError::BadChecksum);
    }
    data.truncate(data.len() - 8);
    Ok(data)
}

/// Lower-cases an address that is all one case; refuses mixed case.
fn fold_case(text: &str) -> Result<String, CashAddrError> {
    let has_lower = text.bytes().any(|b| b.is_ascii_lowercase());
    let has_upper = text.bytes().any(|b| b.is_ascii_uppercase());
    if has_lower && has_upper {
        return Err(CashAddrError::BadCharacter);
    }
    Ok(text.to_ascii_lowercase())
}

/// Checks only the checksum of a full `prefix:payload` text (any payload,
/// even an empty one, as in the specification's checksum vectors).
pub fn verify_checksum(text: &str) -> Result<(), CashAddrError> {
    let text = fold_case(text)?;
    let (prefix, payload) = text.rsplit_once(':').ok_or(CashAddrError::BadChecksum)?;
    decode_raw(prefix, payload).map(|_| ())
}

/// Decodes a full `prefix:payload` address into `(prefix, version, hash)`.
pub fn decode(text: &str) -> Result<(String, u8, Vec<u8>), CashAddrError> {
    let text = fold_case(text)?;
    let (prefix, payload) = text.rsplit_once(':').ok_or(CashAddrError::BadChecksum)?;
    let data = decode_raw(prefix, payload)?;
    let bytes = convert_bits(&data, 5, 8, false).ok_or(CashAddrError::BadLength)?;
    let (&version, hash) = bytes.split_first().ok_or(CashAddrError::BadLength)?;
    let size = match version & 0x07 {
        0 => 20,
        1 => 24,
        2 => 28,
        3 => 32,
        4 => 40,
        5 => 48,
        6 => 56,
        _ => 64,
    };
    if hash.len() != size || version & 0x80 != 0 {
        return Err(CashAddrError::BadLength);
    }
    Ok((prefix.to_owned(), version, hash.to_vec()))
}

/// A checked cashaddr, always held with its network prefix (`bchreg:qr…`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(String);

impl Address {
    /// Parses an address with or without its prefix. Without one, the known
    /// network prefixes are tried and the one whose checksum holds is kept.
    pub fn parse(text: &str) -> Result<Address, CashAddrError> {
        if text.contains(':') {
            let (prefix, version, hash) = decode(text)?;
            return Ok(Address(encode(&prefix, version, &hash)));
        }
        let mut last = CashAddrError::BadChecksum;
        for prefix in NETWORK_PREFIXES {
            match decode(&format!("{prefix}:{text}")) {
                Ok((prefix, version, hash)) => return Ok(Address(encode(&prefix, version, &hash))),
                Err(CashAddrError::BadChecksum) => {}
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// The whole address with its prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The network prefix (`bitcoincash`, `bchtest`, `bchreg`, …).
    pub fn prefix(&self) -> &str {
        self.0.split_once(':').map_or("", |(p, _)| p)
    }

    /// The part after the colon, as the daemon writes it.
    pub fn without_prefix(&self) -> &str {
        self.0.split_once(':').map_or(self.0.as_str(), |(_, rest)| rest)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Address {
    type Error = CashAddrError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Address::parse(&value)
    }
}

impl From<Address> for String {
    fn from(value: Address) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The specification's checksum vectors.
    #[test]
    fn spec_checksum_vectors_verify() {
        for text in [
            "prefix:x64nx6hz",
            "PREFIX:X64NX6HZ",
            "p:gpf8m4h7",
            "bitcoincash:qpzry9x8gf2tvdw0s3jn54khce6mua7lcw20ayyn",
            "bchtest:testnetaddress4d6njnut",
            "bchreg:555555555555555555555555555555555555555555555udxmlmrz",
        ] {
            assert_eq!(verify_checksum(text), Ok(()), "{text}");
        }
        assert_eq!(verify_checksum("prefix:x64nx6hy"), Err(CashAddrError::BadChecksum));
        assert_eq!(verify_checksum("Prefix:x64nx6hz"), Err(CashAddrError::BadCharacter));
        assert_eq!(verify_checksum("prefix:x64nx6hb"), Err(CashAddrError::BadCharacter));
    }

    /// The specification's payload vectors: (type, hash, address).
    #[test]
    fn spec_payload_vectors_encode_and_decode() {
        let h20 = "F5BF48B397DAE70BE82B3CCA4793F8EB2B6CDAC9";
        let h24 = "7ADBF6C17084BC86C1706827B41A56F5CA32865925E946EA";
        let h28 = "3A84F9CF51AAE98A3BB3A78BF16A6183790B18719126325BFC0C075B";
        for (kind, size_code, hash, address) in [
            (0u8, 0u8, h20, "bitcoincash:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2"),
            (1, 0, h20, "bchtest:pr6m7j9njldwwzlg9v7v53unlr4jkmx6eyvwc0uz5t"),
            (1, 0, h20, "pref:pr6m7j9njldwwzlg9v7v53unlr4jkmx6ey65nvtks5"),
            (15, 0, h20, "prefix:0r6m7j9njldwwzlg9v7v53unlr4jkmx6ey3qnjwsrf"),
            (
                0,
                1,
                h24,
                "bitcoincash:q9adhakpwzztepkpwp5z0dq62m6u5v5xtyj7j3h2ws4mr9g0",
            ),
            (1, 1, h24, "bchtest:p9adhakpwzztepkpwp5z0dq62m6u5v5xtyj7j3h2u94tsynr"),
            (1, 1, h24, "pref:p9adhakpwzztepkpwp5z0dq62m6u5v5xtyj7j3h2khlwwk5v"),
            (15, 1, h24, "prefix:09adhakpwzztepkpwp5z0dq62m6u5v5xtyj7j3h2p29kc2lp"),
            (
                0,
                2,
                h28,
                "bitcoincash:qgagf7w02x4wnz3mkwnchut2vxphjzccwxgjvvjmlsxqwkcw59jxxuz",
            ),
            (
                1,
                2,
                h28,
                "bchtest:pgagf7w02x4wnz3mkwnchut2vxphjzccwxgjvvjmlsxqwkcvs7md7wt",
            ),
        ] {
            let hash = hex::decode(hash).unwrap();
            let version = (kind << 3) | size_code;
            let prefix = address.split_once(':').unwrap().0;
            assert_eq!(encode(prefix, version, &hash), address);
            assert_eq!(decode(address), Ok((prefix.to_owned(), version, hash)));
        }
    }

    #[test]
    fn prefix_is_found_by_checksum() {
        // Recorded from a regtest daemon: addressconvert answered bchreg:.
        let a = Address::parse("qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen").unwrap();
        assert_eq!(a.as_str(), "bchreg:qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen");
        assert_eq!(a.prefix(), "bchreg");
        assert_eq!(a.without_prefix(), "qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen");
        let main = Address::parse("qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2").unwrap();
        assert_eq!(main.prefix(), "bitcoincash");
        let test = Address::parse("pr6m7j9njldwwzlg9v7v53unlr4jkmx6eyvwc0uz5t").unwrap();
        assert_eq!(test.prefix(), "bchtest");
        assert_eq!(
            Address::parse("qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg3"),
            Err(CashAddrError::BadChecksum)
        );
        assert_eq!(
            Address::parse("bchtest:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2"),
            Err(CashAddrError::BadChecksum)
        );
        assert_eq!(Address::parse("hello"), Err(CashAddrError::BadCharacter));
        assert_eq!(Address::parse(""), Err(CashAddrError::BadLength));
    }

    #[test]
    fn upper_case_addresses_are_accepted_and_lowered() {
        let a = Address::parse("BITCOINCASH:QR6M7J9NJLDWWZLG9V7V53UNLR4JKMX6EYLEP8EKG2").unwrap();
        assert_eq!(a.as_str(), "bitcoincash:qr6m7j9njldwwzlg9v7v53unlr4jkmx6eylep8ekg2");
    }

    proptest! {
        #[test]
        fn encode_then_parse_is_identity(hash in proptest::collection::vec(any::<u8>(), 20), p2sh: bool, net in 0usize..3) {
            let prefix = NETWORK_PREFIXES[net];
            let text = encode(prefix, if p2sh { 8 } else { 0 }, &hash);
            let parsed = Address::parse(text.split_once(':').unwrap().1).unwrap();
            prop_assert_eq!(parsed.as_str(), text.as_str());
        }

        #[test]
        fn parse_never_panics(text in "\\PC{0,60}") {
            let _ = Address::parse(&text);
        }
    }
}
