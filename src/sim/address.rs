//! Addresses as the simulated daemon reads and writes them: cashaddr with or
//! without the network prefix, legacy base58check, and the output scripts
//! they stand for.

use sha2::{Digest, Sha256};

use crate::cashaddr;

/// Where an output pays: a P2PKH or P2SH hash (all the simulator needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dest {
    /// `true` for pay-to-script-hash, `false` for pay-to-public-key-hash.
    pub p2sh: bool,
    /// The 20-byte hash the script commits to.
    pub hash: [u8; 20],
}

impl Dest {
    /// A P2PKH destination.
    pub fn p2pkh(hash: [u8; 20]) -> Dest {
        Dest { p2sh: false, hash }
    }

    /// The output script: `76a914{hash}88ac` or `a914{hash}87`.
    pub fn script(&self) -> Vec<u8> {
        let mut s = Vec::with_capacity(25);
        if self.p2sh {
            s.extend_from_slice(&[0xa9, 0x14]);
            s.extend_from_slice(&self.hash);
            s.push(0x87);
        } else {
            s.extend_from_slice(&[0x76, 0xa9, 0x14]);
            s.extend_from_slice(&self.hash);
            s.extend_from_slice(&[0x88, 0xac]);
        }
        s
    }

    /// Recognises a P2PKH or P2SH output script.
    pub fn from_script(script: &[u8]) -> Option<Dest> {
        let mut hash = [0u8; 20];
        match script {
            [0x76, 0xa9, 0x14, body @ .., 0x88, 0xac] if body.len() == 20 => {
                hash.copy_from_slice(body);
                Some(Dest { p2sh: false, hash })
            }
            [0xa9, 0x14, body @ .., 0x87] if body.len() == 20 => {
                hash.copy_from_slice(body);
                Some(Dest { p2sh: true, hash })
            }
            _ => None,
        }
    }

    /// The cashaddr with its prefix (`bchreg:qr…`).
    pub fn cashaddr(&self, prefix: &str) -> String {
        cashaddr::encode(prefix, if self.p2sh { 8 } else { 0 }, &self.hash)
    }

    /// The cashaddr without its prefix, as the daemon writes addresses.
    pub fn short(&self, prefix: &str) -> String {
        let full = self.cashaddr(prefix);
        match full.split_once(':') {
            Some((_, rest)) => rest.to_owned(),
            None => full,
        }
    }

    /// The legacy base58check form (version bytes by network).
    pub fn legacy(&self, prefix: &str) -> String {
        let mainnet = prefix == "bitcoincash";
        let version = match (mainnet, self.p2sh) {
            (true, false) => 0x00,
            (true, true) => 0x05,
            (false, false) => 0x6f,
            (false, true) => 0xc4,
        };
        let mut payload = vec![version];
        payload.extend_from_slice(&self.hash);
        let check = double_sha256(&payload);
        payload.extend_from_slice(&check[..4]);
        base58_encode(&payload)
    }
}

/// Parses an address as the daemon's `Address.from_string` does for the
/// network `prefix`: cashaddr with or without the prefix (only the network's
/// own prefix validates), or legacy base58check of that network.
pub fn parse(text: &str, prefix: &str) -> Option<Dest> {
    let text = text.trim();
    if text.contains(':') {
        let (p, version, hash) = cashaddr::decode(text).ok()?;
        return if p == prefix {
            from_version(version, &hash)
        } else {
            None
        };
    }
    if let Ok((_, version, hash)) = cashaddr::decode(&format!("{prefix}:{text}")) {
        return from_version(version, &hash);
    }
    parse_legacy(text, prefix)
}

fn from_version(version: u8, hash: &[u8]) -> Option<Dest> {
    let hash: [u8; 20] = hash.try_into().ok()?;
    match version {
        0 => Some(Dest { p2sh: false, hash }),
        8 => Some(Dest { p2sh: true, hash }),
        _ => None,
    }
}

fn parse_legacy(text: &str, prefix: &str) -> Option<Dest> {
    let bytes = base58_decode(text)?;
    if bytes.len() != 25 {
        return None;
    }
    let (payload, check) = bytes.split_at(21);
    if double_sha256(payload)[..4] != *check {
        return None;
    }
    let mainnet = prefix == "bitcoincash";
    let p2sh = match (mainnet, payload[0]) {
        (true, 0x00) | (false, 0x6f) => false,
        (true, 0x05) | (false, 0xc4) => true,
        _ => return None,
    };
    let mut hash = [0u8; 20];
    hash.copy_from_slice(&payload[1..]);
    Some(Dest { p2sh, hash })
}

/// sha256(sha256(data)).
pub fn double_sha256(data: &[u8]) -> [u8; 32] {
    let once = Sha256::digest(data);
    Sha256::digest(once).into()
}

/// ripemd160(sha256(data)), the hash of a P2PKH address.
pub fn hash160(data: &[u8]) -> [u8; 20] {
    use ripemd::Ripemd160;
    let once = Sha256::digest(data);
    Ripemd160::digest(once).into()
}

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_encode(data: &[u8]) -> String {
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    let mut digits: Vec<u8> = Vec::with_capacity(data.len() * 2);
    for &byte in &data[zeros..] {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = "1".repeat(zeros);
    out.extend(digits.iter().rev().map(|&d| BASE58[d as usize] as char));
    out
}

fn base58_decode(text: &str) -> Option<Vec<u8>> {
    let zeros = text.bytes().take_while(|&b| b == b'1').count();
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes().skip(zeros) {
        let mut carry = BASE58.iter().position(|&x| x == c)? as u32;
        for b in bytes.iter_mut() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADDR: &str = "qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen";

    #[test]
    fn the_recorded_address_converts_to_the_recorded_legacy_form() {
        let dest = parse(ADDR, "bchreg").expect("valid");
        assert_eq!(dest.legacy("bchreg"), "n19KvFPyqBrGKkWXvjri3CQXtUCf7GwMv9");
        assert_eq!(dest.cashaddr("bchreg"), format!("bchreg:{ADDR}"));
        assert_eq!(parse("n19KvFPyqBrGKkWXvjri3CQXtUCf7GwMv9", "bchreg"), Some(dest));
        assert_eq!(parse(&format!("bchreg:{ADDR}"), "bchreg"), Some(dest));
    }

    #[test]
    fn another_networks_address_or_a_bad_checksum_is_refused() {
        assert_eq!(parse(ADDR, "bitcoincash"), None);
        assert_eq!(parse(&format!("bitcoincash:{ADDR}"), "bchreg"), None);
        assert_eq!(parse("qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnem", "bchreg"), None);
        assert_eq!(parse("", "bchreg"), None);
        assert_eq!(parse("n19KvFPyqBrGKkWXvjri3CQXtUCf7GwMv8", "bchreg"), None);
    }

    #[test]
    fn scripts_round_trip() {
        let dest = parse(ADDR, "bchreg").expect("valid");
        assert_eq!(
            hex::encode(dest.script()),
            "76a914d74b6a5566bb8fcba4d94f4bf8dfa97aa21fbc4f88ac"
        );
        assert_eq!(Dest::from_script(&dest.script()), Some(dest));
        let p2sh = Dest {
            p2sh: true,
            hash: [7; 20],
        };
        assert_eq!(Dest::from_script(&p2sh.script()), Some(p2sh));
        assert_eq!(parse(&p2sh.legacy("bitcoincash"), "bitcoincash"), Some(p2sh));
    }

    #[test]
    fn hash160_of_the_recorded_public_key_is_the_recorded_input_address() {
        let key = hex::decode("03b138b5cdf89907b556a8a553e6827ad513c41f6ad24e6d97c8e43a86f6fd2eb0").expect("hex");
        let dest = Dest::p2pkh(hash160(&key));
        assert_eq!(dest.short("bchreg"), "qpq5nkzs4le3xnhj08e8esecwycl07k68ug2wpj2tc");
    }
}
