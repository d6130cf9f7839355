//! Real serialized Bitcoin Cash transactions: built by the simulator, parsed
//! back for `deserialize`, identified by their txid.

use serde_json::{json, Value};

use super::address::{double_sha256, hash160, Dest};

/// A transaction input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIn {
    /// The previous transaction's hash in wire (internal, reversed) byte order.
    pub prev_hash: [u8; 32],
    /// The previous output's index.
    pub prev_n: u32,
    /// The unlocking script.
    pub script_sig: Vec<u8>,
    /// nSequence.
    pub sequence: u32,
}

/// A transaction output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxOut {
    /// Satoshis.
    pub value: u64,
    /// The locking script.
    pub script: Vec<u8>,
}

/// A whole transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// nVersion (2 for what the simulator makes).
    pub version: u32,
    /// The inputs.
    pub inputs: Vec<TxIn>,
    /// The outputs.
    pub outputs: Vec<TxOut>,
    /// nLockTime.
    pub locktime: u32,
}

/// Why bytes are not a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TxError {
    /// Not hexadecimal text.
    #[error("Non-hexadecimal digit found")]
    NotHex,
    /// The bytes end too early or go on after the transaction.
    #[error("a bytes-like object is required, not 'NoneType'")]
    Truncated,
    /// Bytes are left after the lock time.
    #[error("extra junk at the end")]
    Trailing,
}

fn push_varint(out: &mut Vec<u8>, n: u64) {
    match n {
        0..=0xfc => out.push(n as u8),
        0xfd..=0xffff => {
            out.push(0xfd);
            out.extend_from_slice(&(n as u16).to_le_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xfe);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        _ => {
            out.push(0xff);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
}

/// A cursor over bytes whose every read is bounds checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TxError> {
        let end = self.pos.checked_add(n).ok_or(TxError::Truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or(TxError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }
    fn u32(&mut self) -> Result<u32, TxError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, TxError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(a))
    }
    fn varint(&mut self) -> Result<u64, TxError> {
        let first = self.take(1)?[0];
        Ok(match first {
            0xfd => {
                let b = self.take(2)?;
                u64::from(u16::from_le_bytes([b[0], b[1]]))
            }
            0xfe => u64::from(self.u32()?),
            0xff => self.u64()?,
            n => u64::from(n),
        })
    }
    /// A length-prefixed byte string, refused if longer than what is left.
    fn var_bytes(&mut self) -> Result<&'a [u8], TxError> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| TxError::Truncated)?;
        self.take(n)
    }
}

impl Transaction {
    /// The wire serialization.
    pub fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.inputs.len() * 150 + self.outputs.len() * 34);
        out.extend_from_slice(&self.version.to_le_bytes());
        push_varint(&mut out, self.inputs.len() as u64);
        for i in &self.inputs {
            out.extend_from_slice(&i.prev_hash);
            out.extend_from_slice(&i.prev_n.to_le_bytes());
            push_varint(&mut out, i.script_sig.len() as u64);
            out.extend_from_slice(&i.script_sig);
            out.extend_from_slice(&i.sequence.to_le_bytes());
        }
        push_varint(&mut out, self.outputs.len() as u64);
        for o in &self.outputs {
            out.extend_from_slice(&o.value.to_le_bytes());
            push_varint(&mut out, o.script.len() as u64);
            out.extend_from_slice(&o.script);
        }
        out.extend_from_slice(&self.locktime.to_le_bytes());
        out
    }

    /// Parses the wire serialization; every byte must belong to the transaction.
    pub fn parse(bytes: &[u8]) -> Result<Transaction, TxError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.u32()?;
        let n_in = r.varint()?;
        let mut inputs = Vec::new();
        for _ in 0..n_in {
            let mut prev_hash = [0u8; 32];
            prev_hash.copy_from_slice(r.take(32)?);
            let prev_n = r.u32()?;
            let script_sig = r.var_bytes()?.to_vec();
            let sequence = r.u32()?;
            inputs.push(TxIn {
                prev_hash,
                prev_n,
                script_sig,
                sequence,
            });
        }
        let n_out = r.varint()?;
        let mut outputs = Vec::new();
        for _ in 0..n_out {
            let value = r.u64()?;
            let script = r.var_bytes()?.to_vec();
            outputs.push(TxOut { value, script });
        }
        let locktime = r.u32()?;
        if r.pos != bytes.len() {
            return Err(TxError::Trailing);
        }
        Ok(Transaction {
            version,
            inputs,
            outputs,
            locktime,
        })
    }

    /// Parses hexadecimal text.
    pub fn from_hex(text: &str) -> Result<Transaction, TxError> {
        let bytes = hex::decode(text.trim()).map_err(|_| TxError::NotHex)?;
        Transaction::parse(&bytes)
    }

    /// The txid: the double sha256 of the serialization, byte-reversed, in hex.
    pub fn txid(&self) -> String {
        txid_of(&self.serialize())
    }
}

/// The txid of serialized bytes.
pub fn txid_of(raw: &[u8]) -> String {
    let mut h = double_sha256(raw);
    h.reverse();
    hex::encode(h)
}

/// A txid in hex turned into the wire byte order of a prevout.
pub fn prev_hash_of(txid: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    if let Ok(bytes) = hex::decode(txid) {
        if bytes.len() == 32 {
            out.copy_from_slice(&bytes);
            out.reverse();
        }
    }
    out
}

/// A P2PKH-shaped scriptSig (a DER-looking signature and a compressed public
/// key, both made up from `seed`); nothing verifies it in the simulator.
pub fn fake_script_sig(seed: &[u8]) -> Vec<u8> {
    let part = |tag: &[u8]| -> [u8; 32] {
        let mut data = tag.to_vec();
        data.extend_from_slice(seed);
        let mut h = double_sha256(&data);
        h[0] = (h[0] & 0x7f) | 0x01;
        h
    };
    let (r, s, key) = (part(b"r"), part(b"s"), part(b"k"));
    let mut sig = vec![0x30, 0x44, 0x02, 0x20];
    sig.extend_from_slice(&r);
    sig.extend_from_slice(&[0x02, 0x20]);
    sig.extend_from_slice(&s);
    sig.push(0x41);
    let mut script = vec![sig.len() as u8];
    script.extend_from_slice(&sig);
    script.push(33);
    script.push(0x02 | (key[31] & 1));
    script.extend_from_slice(&key);
    script
}

/// Splits a script into its data pushes; `None` if it holds anything else.
fn pushes(script: &[u8]) -> Option<Vec<&[u8]>> {
    let mut r = Reader { bytes: script, pos: 0 };
    let mut out = Vec::new();
    while r.pos < script.len() {
        let op = r.take(1).ok()?[0];
        let len = match op {
            1..=75 => usize::from(op),
            76 => usize::from(r.take(1).ok()?[0]),
            77 => {
                let b = r.take(2).ok()?;
                usize::from(u16::from_le_bytes([b[0], b[1]]))
            }
            78 => usize::try_from(r.u32().ok()?).ok()?,
            _ => return None,
        };
        out.push(r.take(len).ok()?);
    }
    Some(out)
}

/// What `deserialize` answers for a parsed transaction, in the recorded shape.
pub fn deserialize_json(tx: &Transaction, prefix: &str) -> Value {
    let inputs: Vec<Value> = tx.inputs.iter().map(|i| input_json(i, prefix)).collect();
    let outputs: Vec<Value> = tx
        .outputs
        .iter()
        .enumerate()
        .map(|(n, o)| {
            let (kind, address) = match Dest::from_script(&o.script) {
                Some(d) => (0, d.short(prefix)),
                None if o.script.first() == Some(&0x6a) => (2, format!("OP_RETURN {}", hex::encode(&o.script[1..]))),
                None => (2, hex::encode(&o.script)),
            };
            json!({
                "value": o.value,
                "type": kind,
                "address": address,
                "scriptPubKey": hex::encode(&o.script),
                "token_data": null,
                "prevout_n": n,
            })
        })
        .collect();
    json!({"version": tx.version, "inputs": inputs, "outputs": outputs, "lockTime": tx.locktime})
}

fn input_json(i: &TxIn, prefix: &str) -> Value {
    let mut prev = i.prev_hash;
    prev.reverse();
    let prevout_hash = hex::encode(prev);
    if i.prev_hash == [0u8; 32] {
        return json!({"prevout_hash": prevout_hash, "prevout_n": i.prev_n, "sequence": i.sequence,
            "type": "coinbase", "address": null, "scriptSig": hex::encode(&i.script_sig)});
    }
    match pushes(&i.script_sig).as_deref() {
        Some([sig, key]) if key.len() == 33 || key.len() == 65 => json!({
            "prevout_hash": prevout_hash,
            "prevout_n": i.prev_n,
            "sequence": i.sequence,
            "address": Dest::p2pkh(hash160(key)).short(prefix),
            "x_pubkeys": [hex::encode(key)],
            "pubkeys": [hex::encode(key)],
            "signatures": [hex::encode(sig)],
            "type": "p2pkh",
            "num_sig": 1,
            "scriptSig": hex::encode(&i.script_sig),
        }),
        _ => json!({
            "prevout_hash": prevout_hash,
            "prevout_n": i.prev_n,
            "sequence": i.sequence,
            "address": null,
            "x_pubkeys": [],
            "pubkeys": [],
            "signatures": [],
            "type": "unknown",
            "num_sig": 0,
            "scriptSig": hex::encode(&i.script_sig),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDED: &str = "02000000017aa15c353f34f92a997fd9da5dca044f8f2bee8b23e78365be5f199216623778000000006a4730440220647830d20ad38d2a66eb958a946f1979e0cf79a221c91752b50d3b466be85702022078fd79e398acf84eed54c67d922eda5e9029d30de84f0eaf126e3db3f52b36ee412103b138b5cdf89907b556a8a553e6827ad513c41f6ad24e6d97c8e43a86f6fd2eb0feffffff0285b34422010000001976a914cc928a7304fa19912ec80135c66067d7eba04ae488ac39300000000000001976a914d74b6a5566bb8fcba4d94f4bf8dfa97aa21fbc4f88ac59000000";

    #[test]
    fn the_recorded_transaction_parses_to_the_recorded_txid_and_fields() {
        let tx = Transaction::from_hex(RECORDED).expect("parses");
        assert_eq!(
            tx.txid(),
            "ff871cee7410db32ccd8d9c5cacd83de6e94d7da9fdd0322c8272ccb4efbd243"
        );
        assert_eq!(hex::encode(tx.serialize()), RECORDED);
        let v = deserialize_json(&tx, "bchreg");
        assert_eq!(v["lockTime"], 89);
        assert_eq!(v["outputs"][1]["value"], 12345);
        assert_eq!(v["outputs"][1]["address"], "qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen");
        assert_eq!(v["outputs"][0]["value"], 4869895045u64);
        assert_eq!(v["inputs"][0]["address"], "qpq5nkzs4le3xnhj08e8esecwycl07k68ug2wpj2tc");
        assert_eq!(
            v["inputs"][0]["prevout_hash"],
            "7837621692195fbe6583e7238bee2b8f4f04ca5ddad97f992af9343f355ca17a"
        );
        assert_eq!(v["inputs"][0]["sequence"], 4294967294u64);
    }

    #[test]
    fn a_built_transaction_round_trips() {
        let tx = Transaction {
            version: 2,
            inputs: vec![TxIn {
                prev_hash: [9; 32],
                prev_n: 3,
                script_sig: fake_script_sig(b"seed"),
                sequence: 0xffff_fffe,
            }],
            outputs: vec![TxOut {
                value: 70_000,
                script: Dest::p2pkh([1; 20]).script(),
            }],
            locktime: 100,
        };
        let raw = tx.serialize();
        assert_eq!(Transaction::parse(&raw), Ok(tx.clone()));
        let v = deserialize_json(&tx, "bchreg");
        assert_eq!(v["inputs"][0]["type"], "p2pkh");
        assert_eq!(prev_hash_of(&txid_of(&raw)).len(), 32);
    }

    #[test]
    fn broken_hex_is_an_error_not_a_panic() {
        assert_eq!(Transaction::from_hex("zz"), Err(TxError::NotHex));
        assert_eq!(Transaction::from_hex(""), Err(TxError::Truncated));
        assert_eq!(
            Transaction::from_hex(&RECORDED[..RECORDED.len() - 2]),
            Err(TxError::Truncated)
        );
        assert_eq!(Transaction::from_hex(&format!("{RECORDED}00")), Err(TxError::Trailing));
        assert!(Transaction::from_hex("0200000001ffffffffffffffff").is_err());
    }
}
