//! The `api_keys` tree: keys made, revoked and marked used. Plain functions
//! over the trees: the writer's handlers and a stopped store's `bchpay keys`
//! both call them.

use chrono::{DateTime, Utc};

use super::super::error::StoreError;
use super::super::layout::trees::Trees;
use super::super::layout::values::{decode_api_key, encode_api_key};
use crate::api_key::{ApiKeyRecord, KeyDigest, KeyId};

/// Writes a new key. Refuses a digest already kept (two keys alike: a bug).
pub fn create(trees: &Trees, record: &ApiKeyRecord) -> Result<ApiKeyRecord, StoreError> {
    let value = encode_api_key(record)?;
    let put = trees
        .api_keys
        .compare_and_swap(record.digest.0, None::<&[u8]>, Some(value))?;
    if put.is_err() {
        return Err(StoreError::Corrupt("a key with the same digest is already kept".into()));
    }
    log::info!(
        "api key {} ({:?}) created with permissions {}",
        record.id,
        record.label,
        record.permissions.names().join(",")
    );
    Ok(record.clone())
}

/// Removes the key with this id; [`StoreError::NotFound`] if there is none.
pub fn revoke(trees: &Trees, id: &KeyId) -> Result<ApiKeyRecord, StoreError> {
    let found = find(trees, id)?.ok_or(StoreError::NotFound)?;
    trees.api_keys.remove(found.digest.0)?;
    log::info!("api key {} ({:?}) revoked", found.id, found.label);
    Ok(found)
}

/// Marks a key used at `at` unless it was marked less than a minute before;
/// whether it wrote. A key revoked meanwhile stays revoked.
pub fn touch(trees: &Trees, digest: &KeyDigest, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let Some(before) = trees.api_keys.get(digest.0)? else {
        return Ok(false);
    };
    let mut record = decode_api_key(&before)?;
    if !record.due_for_touch(at) {
        return Ok(false);
    }
    record.last_used_at = Some(at);
    let after = encode_api_key(&record)?;
    Ok(trees
        .api_keys
        .compare_and_swap(digest.0, Some(before), Some(after))?
        .is_ok())
}

/// The key with this id (a walk: keys are few, and found by digest per request).
fn find(trees: &Trees, id: &KeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
    for entry in trees.api_keys.iter() {
        let (_, value) = entry?;
        let record = decode_api_key(&value)?;
        if record.id == *id {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// The key whose digest this is, if it is kept (not revoked).
pub fn by_digest(trees: &Trees, digest: &KeyDigest) -> Result<Option<ApiKeyRecord>, StoreError> {
    trees.api_keys.get(digest.0)?.map(|v| decode_api_key(&v)).transpose()
}

/// Every kept key, oldest first.
pub fn all(trees: &Trees) -> Result<Vec<ApiKeyRecord>, StoreError> {
    let mut keys = trees
        .api_keys
        .iter()
        .map(|entry| decode_api_key(&entry?.1))
        .collect::<Result<Vec<_>, _>>()?;
    keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::Permissions;

    #[test]
    fn a_use_is_marked_at_most_once_a_minute_and_never_brings_a_key_back() {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .unwrap_or_else(|e| panic!("{e}"));
        let trees = Trees::open(&db).unwrap_or_else(|e| panic!("{e}"));
        let now = Utc::now();
        let (_, record) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), now);
        create(&trees, &record).unwrap_or_else(|e| panic!("{e}"));
        let at = |secs| now + chrono::Duration::seconds(secs);
        assert_eq!(touch(&trees, &record.digest, at(1)), Ok(true));
        assert_eq!(touch(&trees, &record.digest, at(30)), Ok(false));
        assert_eq!(touch(&trees, &record.digest, at(61)), Ok(true));
        let kept = by_digest(&trees, &record.digest).ok().flatten();
        assert_eq!(kept.and_then(|r| r.last_used_at), Some(at(61)));
        revoke(&trees, &record.id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(touch(&trees, &record.digest, at(200)), Ok(false));
        assert_eq!(by_digest(&trees, &record.digest).ok().flatten(), None);
        assert_eq!(revoke(&trees, &record.id), Err(StoreError::NotFound));
    }
}
