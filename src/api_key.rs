//! API keys: the record kept in the store (a SHA-256 digest of the key, never
//! the key), making a new key, and the permissions ([`permission`]). Pure: no I/O.
//!
//! A key is 40 lowercase hex digits, 160 bits from the operating system; it
//! is shown once, when made. What is kept is its digest, so a copy of the
//! store opens nothing, and a key is found by looking its digest up: the
//! only comparison is of digests, which tells an attacker nothing about a key.

pub mod permission;

use std::fmt;

use chrono::{DateTime, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use permission::{Permission, Permissions, UnknownPermission};

use crate::config::Secret;

/// Random bytes of a key (160 bits).
const KEY_BYTES: usize = 20;
/// Characters of a key: its bytes in hex.
pub const KEY_LEN: usize = KEY_BYTES * 2;
/// Every key id starts with this.
const ID_PREFIX: &str = "key_";
/// The longest label.
pub const MAX_LABEL: usize = 100;
/// `last_used_at` is written at most this often per key (seconds).
pub const LAST_USED_EVERY_SECS: i64 = 60;

/// The SHA-256 digest of a key: how a key is kept and found.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest(pub [u8; 32]);

impl KeyDigest {
    /// The digest of the key `key` as given.
    pub fn of(key: &str) -> KeyDigest {
        KeyDigest(Sha256::digest(key.as_bytes()).into())
    }
}

impl fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyDigest(…)")
    }
}

impl Serialize for KeyDigest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for KeyDigest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&text, &mut bytes).map_err(serde::de::Error::custom)?;
        Ok(KeyDigest(bytes))
    }
}

/// A key's id: `key_` + 16 hex digits. Not secret: it names the key in
/// listings, logs and `revoke`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

/// A text that is not a key id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key id is \"key_\" followed by 16 hex digits")]
pub struct InvalidKeyId;

impl KeyId {
    /// A new id of 64 random bits.
    pub fn generate() -> KeyId {
        let mut bytes = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        KeyId(format!("{ID_PREFIX}{}", hex::encode(bytes)))
    }

    /// Checks the form.
    pub fn parse(text: &str) -> Result<KeyId, InvalidKeyId> {
        let digits = text.strip_prefix(ID_PREFIX).ok_or(InvalidKeyId)?;
        if digits.len() == 16 && digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(KeyId(text.to_owned()))
        } else {
            Err(InvalidKeyId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for KeyId {
    type Error = InvalidKeyId;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        KeyId::parse(&text)
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

/// A key as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRecord {
    /// Its id.
    pub id: KeyId,
    /// What the merchant called it ("web shop").
    pub label: String,
    /// SHA-256 of the key.
    pub digest: KeyDigest,
    /// What it may do.
    pub permissions: Permissions,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last opened a request (to the minute), if ever.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKeyRecord {
    /// A new key: the key itself (to show once) and the record to keep.
    pub fn generate(label: String, permissions: Permissions, now: DateTime<Utc>) -> (Secret, ApiKeyRecord) {
        let mut bytes = [0u8; KEY_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let key = hex::encode(bytes);
        let record = ApiKeyRecord {
            id: KeyId::generate(),
            label,
            digest: KeyDigest::of(&key),
            permissions,
            created_at: now,
            last_used_at: None,
        };
        (Secret::new(key), record)
    }

    /// Whether a use at `now` should be written down (at most once a minute).
    pub fn due_for_touch(&self, now: DateTime<Utc>) -> bool {
        self.last_used_at
            .is_none_or(|at| (now - at).num_seconds() >= LAST_USED_EVERY_SECS)
    }

    /// The API's view: everything but the digest.
    pub fn to_api(&self) -> Value {
        json!({
            "id": self.id,
            "label": self.label,
            "permissions": self.permissions.names(),
            "created_at": self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "last_used_at": self.last_used_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        })
    }
}

/// Checks a label: 1 to [`MAX_LABEL`] characters, no control characters.
pub fn check_label(label: &str) -> Result<(), String> {
    let n = label.chars().count();
    if label.trim().is_empty() || n > MAX_LABEL {
        return Err(format!("label must be 1 to {MAX_LABEL} characters"));
    }
    if label.chars().any(char::is_control) {
        return Err("label must not hold control characters".into());
    }
    Ok(())
}

/// Checks what a new key asks for: a label and at least one permission.
pub fn check_new(label: &str, permissions: &Permissions) -> Result<(), (&'static str, String)> {
    check_label(label).map_err(|m| ("label", m))?;
    if permissions.is_empty() {
        return Err(("permissions", "at least one permission is needed".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_40_lowercase_hex_and_only_its_digest_is_kept() {
        let (key, record) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), Utc::now());
        let key = key.expose();
        assert_eq!(key.len(), KEY_LEN);
        assert!(key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{key}");
        assert_eq!(record.digest, KeyDigest::of(key));
        let stored = serde_json::to_string(&record).unwrap_or_default();
        assert!(!stored.contains(key), "{stored}");
        assert!(!format!("{record:?}").contains(key));
        assert!(!record.to_api().to_string().contains(key));
        assert_eq!(KeyId::parse(record.id.as_str()), Ok(record.id.clone()));
        let (other, _) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), Utc::now());
        assert_ne!(other.expose(), key);
    }

    #[test]
    fn ids_have_one_form() {
        assert!(KeyId::parse("key_0123456789abcdef").is_ok());
        for bad in [
            "",
            "key_",
            "key_0123456789ABCDEF",
            "key_0123456789abcde",
            "inv_0123456789abcdef",
            "key_0123456789abcdefa",
        ] {
            assert!(KeyId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn last_used_is_written_at_most_once_a_minute() {
        let now = Utc::now();
        let (_, mut record) = ApiKeyRecord::generate("x".into(), Permissions::unrestricted(), now);
        assert!(record.due_for_touch(now));
        record.last_used_at = Some(now);
        assert!(!record.due_for_touch(now + chrono::Duration::seconds(59)));
        assert!(record.due_for_touch(now + chrono::Duration::seconds(60)));
    }

    #[test]
    fn labels_and_permissions_are_checked() {
        assert!(check_new("web shop", &Permissions::unrestricted()).is_ok());
        assert_eq!(
            check_new("", &Permissions::unrestricted()).map_err(|e| e.0),
            Err("label")
        );
        assert_eq!(
            check_new("a\nb", &Permissions::unrestricted()).map_err(|e| e.0),
            Err("label")
        );
        assert_eq!(
            check_new(&"x".repeat(101), &Permissions::unrestricted()).map_err(|e| e.0),
            Err("label")
        );
        assert_eq!(
            check_new("x", &Permissions::default()).map_err(|e| e.0),
            Err("permissions")
        );
    }
}
