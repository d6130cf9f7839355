//! Reads of the `api_keys` tree: the guard's lookup per request, the listing.

use super::super::error::StoreError;
use super::super::write::api_keys;
use super::StoreReader;
use crate::api_key::{ApiKeyRecord, KeyDigest};

impl StoreReader {
    /// The key whose digest this is, if it is kept (not revoked).
    pub fn api_key(&self, digest: &KeyDigest) -> Result<Option<ApiKeyRecord>, StoreError> {
        api_keys::by_digest(&self.trees()?, digest)
    }

    /// Every kept key, oldest first.
    pub fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        api_keys::all(&self.trees()?)
    }
}
