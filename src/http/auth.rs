//! Who is asking: the `Authorization` header (`Bearer KEY` or `token KEY`,
//! the scheme in any case) turned into the key's id and permissions.
//!
//! Keys are found by their SHA-256 digest: the configured keys' digests are
//! compared with the given key's (`[u8; 32] == [u8; 32]`: what it can leak is
//! where two digests differ, which says nothing about a key), and the stored
//! keys are looked up by it. No key is ever compared as text.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};

use super::error::ApiError;
use crate::api_key::{KeyDigest, Permissions};
use crate::config::Secret;
use crate::store::{StoreError, StoreReader};

/// Where an authenticated key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `api.keys` / `BCHPAY_API_KEYS`, at this index: `unrestricted`.
    Config(usize),
    /// The store's `api_keys`.
    Store,
}

/// The key a request was let in with, set by the guard for the handler
/// (take it as an argument: `GET /api/v1/api-keys/current` answers with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The key's id (`key_…`, or `config-N` for the N-th configured key, from 1).
    pub id: String,
    /// Its label.
    pub label: String,
    /// What it may do.
    pub permissions: Permissions,
    /// Where it is kept.
    pub source: KeySource,
    /// Its digest (to mark it used).
    pub digest: KeyDigest,
    /// For a stored key: whether its last use is a minute old (worth writing down).
    pub due_for_touch: bool,
}

/// The key of an `Authorization` header: `Bearer KEY` or `token KEY`, the
/// scheme in any case; `None` for anything else.
pub fn presented_key(header: &str) -> Option<&str> {
    let (scheme, key) = header.split_once(' ')?;
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    let key = key.trim();
    (known && !key.is_empty()).then_some(key)
}

/// The key `given` opens, if any: a configured key, else a stored one.
pub fn authenticate(
    given: &str,
    configured: &[Secret],
    reader: &StoreReader,
) -> Result<Option<Authenticated>, StoreError> {
    let digest = KeyDigest::of(given);
    if let Some(index) = configured.iter().position(|k| KeyDigest::of(k.expose()) == digest) {
        return Ok(Some(Authenticated {
            id: format!("config-{}", index + 1),
            label: "api.keys".into(),
            permissions: Permissions::unrestricted(),
            source: KeySource::Config(index),
            digest,
            due_for_touch: false,
        }));
    }
    let now = chrono::Utc::now();
    Ok(reader.api_key(&digest)?.map(|record| Authenticated {
        id: record.id.to_string(),
        due_for_touch: record.due_for_touch(now),
        label: record.label,
        permissions: record.permissions,
        source: KeySource::Store,
        digest,
    }))
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Authenticated, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // The guard sets it on every /api/v1 request it lets through.
        ready(
            req.extensions()
                .get::<Authenticated>()
                .cloned()
                .ok_or_else(ApiError::unauthorized),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_and_token_in_any_case_and_nothing_else() {
        for header in [
            "Bearer k1",
            "bearer k1",
            "BEARER k1",
            "token k1",
            "Token k1",
            "TOKEN  k1 ",
        ] {
            assert_eq!(presented_key(header), Some("k1"), "{header}");
        }
        for header in [
            "",
            "Bearer",
            "Bearer ",
            "Basic k1",
            "k1",
            "Bearerk1",
            "Bearer\tk1",
            "Bear k1",
        ] {
            assert_eq!(presented_key(header), None, "{header:?}");
        }
    }

    #[test]
    fn only_configured_keys_match_and_they_are_unrestricted() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = crate::store::Store::open(dir.path().join("s")).unwrap_or_else(|e| panic!("{e}"));
        let reader = store.reader();
        let keys = vec![Secret::new("key-one-0001"), Secret::new("key-two-0002")];
        let found = |k: &str| authenticate(k, &keys, &reader).ok().flatten();
        assert_eq!(found("key-two-0002").map(|a| a.id), Some("config-2".into()));
        assert_eq!(
            found("key-one-0001").map(|a| a.permissions),
            Some(Permissions::unrestricted())
        );
        for wrong in ["key-one-000", "key-one-00011", "", "KEY-ONE-0001"] {
            assert_eq!(found(wrong), None, "{wrong}");
        }
        assert_eq!(authenticate("key-one-0001", &[], &reader).ok().flatten(), None);
    }
}
