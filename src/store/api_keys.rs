//! The `api_keys` tree: keys made, revoked and marked used, as plain functions
//! over the trees (the writer's messages and a stopped store's `bchpay keys`
//! both call them), and the reads the HTTP guard makes per request.

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::actor::InvoiceStore;
use super::{layout, Store, StoreError, StoreReader, Trees};
use crate::api_key::{ApiKeyRecord, KeyDigest, KeyId};

/// Keep a new key (its record; the key itself never reaches the store).
#[derive(Debug, Message)]
#[rtype(result = "Result<ApiKeyRecord, StoreError>")]
pub struct CreateApiKey(pub ApiKeyRecord);

/// Forget a key: from the moment it is applied, the key opens nothing.
#[derive(Debug, Message)]
#[rtype(result = "Result<ApiKeyRecord, StoreError>")]
pub struct RevokeApiKey(pub KeyId);

/// A key opened a request at `at`: written down if the last mark is a minute old.
/// Fire and forget (`do_send`): nothing waits on it.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct TouchApiKey {
    /// The key's digest.
    pub digest: KeyDigest,
    /// When it was used.
    pub at: DateTime<Utc>,
}

/// Writes a new key. Refuses a digest already kept (two keys alike: a bug).
fn create(trees: &Trees, record: &ApiKeyRecord) -> Result<ApiKeyRecord, StoreError> {
    let value = layout::encode_api_key(record)?;
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
fn revoke(trees: &Trees, id: &KeyId) -> Result<ApiKeyRecord, StoreError> {
    let found = find(trees, id)?.ok_or(StoreError::NotFound)?;
    trees.api_keys.remove(found.digest.0)?;
    log::info!("api key {} ({:?}) revoked", found.id, found.label);
    Ok(found)
}

/// Marks a key used at `at` unless it was marked less than a minute before;
/// whether it wrote. A key revoked meanwhile stays revoked.
fn touch(trees: &Trees, digest: &KeyDigest, at: DateTime<Utc>) -> Result<bool, StoreError> {
    let Some(before) = trees.api_keys.get(digest.0)? else {
        return Ok(false);
    };
    let mut record = layout::decode_api_key(&before)?;
    if !record.due_for_touch(at) {
        return Ok(false);
    }
    record.last_used_at = Some(at);
    let after = layout::encode_api_key(&record)?;
    Ok(trees
        .api_keys
        .compare_and_swap(digest.0, Some(before), Some(after))?
        .is_ok())
}

/// The key with this id (a walk: keys are few, and found by digest per request).
fn find(trees: &Trees, id: &KeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
    for entry in trees.api_keys.iter() {
        let (_, value) = entry?;
        let record = layout::decode_api_key(&value)?;
        if record.id == *id {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

impl StoreReader {
    /// The key whose digest this is, if it is kept (not revoked).
    pub fn api_key(&self, digest: &KeyDigest) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.trees
            .api_keys
            .get(digest.0)?
            .map(|v| layout::decode_api_key(&v))
            .transpose()
    }

    /// Every kept key, oldest first.
    pub fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let mut keys = self
            .trees
            .api_keys
            .iter()
            .map(|entry| layout::decode_api_key(&entry?.1))
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(keys)
    }
}

impl Store {
    /// `bchpay keys create` on a stopped engine's store: written and flushed.
    pub fn create_api_key(&self, record: &ApiKeyRecord) -> Result<ApiKeyRecord, StoreError> {
        let created = create(&self.trees, record)?;
        self.db.flush()?;
        Ok(created)
    }

    /// `bchpay keys revoke` on a stopped engine's store: removed and flushed.
    pub fn revoke_api_key(&self, id: &KeyId) -> Result<ApiKeyRecord, StoreError> {
        let revoked = revoke(&self.trees, id)?;
        self.db.flush()?;
        Ok(revoked)
    }
}

impl Handler<CreateApiKey> for InvoiceStore {
    type Result = ResponseFuture<Result<ApiKeyRecord, StoreError>>;

    fn handle(&mut self, msg: CreateApiKey, ctx: &mut Context<Self>) -> Self::Result {
        let result = create(&self.trees, &msg.0);
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<RevokeApiKey> for InvoiceStore {
    type Result = ResponseFuture<Result<ApiKeyRecord, StoreError>>;

    fn handle(&mut self, msg: RevokeApiKey, ctx: &mut Context<Self>) -> Self::Result {
        let result = revoke(&self.trees, &msg.0);
        self.reply_when_durable(result, ctx)
    }
}

impl Handler<TouchApiKey> for InvoiceStore {
    type Result = ();

    fn handle(&mut self, msg: TouchApiKey, _: &mut Context<Self>) {
        if let Err(e) = touch(&self.trees, &msg.digest, msg.at) {
            log::warn!("could not mark an API key used: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_key::{Permission, Permissions};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(dir.path().join("s")).unwrap_or_else(|e| panic!("{e}"));
        (dir, store)
    }

    #[test]
    fn a_key_is_found_by_its_digest_until_it_is_revoked() {
        let (_dir, store) = store();
        let reader = store.reader();
        let (key, record) = ApiKeyRecord::generate(
            "shop".into(),
            Permissions::of([Permission::CanViewInvoices]),
            Utc::now(),
        );
        store.create_api_key(&record).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            reader.api_key(&KeyDigest::of(key.expose())).ok().flatten(),
            Some(record.clone())
        );
        assert_eq!(reader.api_key(&KeyDigest::of("other")).ok().flatten(), None);
        assert_eq!(reader.api_keys().ok(), Some(vec![record.clone()]));
        assert_eq!(store.revoke_api_key(&record.id).ok(), Some(record.clone()));
        assert_eq!(reader.api_key(&KeyDigest::of(key.expose())).ok().flatten(), None);
        assert_eq!(store.revoke_api_key(&record.id), Err(StoreError::NotFound));
        assert_eq!(reader.api_keys().ok(), Some(vec![]));
    }

    #[test]
    fn a_use_is_marked_at_most_once_a_minute_and_never_brings_a_key_back() {
        let (_dir, store) = store();
        let now = Utc::now();
        let (_, record) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), now);
        store.create_api_key(&record).unwrap_or_else(|e| panic!("{e}"));
        let at = |secs| now + chrono::Duration::seconds(secs);
        assert_eq!(touch(&store.trees, &record.digest, at(1)), Ok(true));
        assert_eq!(touch(&store.trees, &record.digest, at(30)), Ok(false));
        assert_eq!(touch(&store.trees, &record.digest, at(61)), Ok(true));
        let kept = store.reader().api_key(&record.digest).ok().flatten();
        assert_eq!(kept.and_then(|r| r.last_used_at), Some(at(61)));
        store.revoke_api_key(&record.id).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(touch(&store.trees, &record.digest, at(200)), Ok(false));
        assert_eq!(store.reader().api_key(&record.digest).ok().flatten(), None);
    }

    #[test]
    fn keys_outlive_a_reopen() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("s");
        let (key, record) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), Utc::now());
        {
            let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
            store.create_api_key(&record).unwrap_or_else(|e| panic!("{e}"));
        }
        let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            store.reader().api_key(&KeyDigest::of(key.expose())).ok().flatten(),
            Some(record)
        );
    }

    #[test]
    fn a_store_written_before_the_api_keys_tree_opens_with_no_key() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("s");
        {
            // The layout of this schema version without the tree: meta and an invoice entry.
            let db = sled::open(&path).unwrap_or_else(|e| panic!("{e}"));
            let meta = db.open_tree("meta").unwrap_or_else(|e| panic!("{e}"));
            let version = super::super::SCHEMA_VERSION.to_string();
            meta.insert(super::super::META_SCHEMA_VERSION, version.as_bytes())
                .unwrap_or_else(|e| panic!("{e}"));
            db.open_tree("pool")
                .and_then(|t| t.insert("bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2", &[]))
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(!db.tree_names().iter().any(|n| n.as_ref() == b"api_keys"));
            db.flush().unwrap_or_else(|e| panic!("{e}"));
        }
        let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.reader().api_keys().ok(), Some(vec![]));
        assert_eq!(store.reader().pool_len(), 1);
        let (_, record) = ApiKeyRecord::generate("first".into(), Permissions::unrestricted(), Utc::now());
        assert!(store.create_api_key(&record).is_ok());
    }

    #[actix_rt::test]
    async fn the_writer_creates_revokes_and_marks_keys() {
        let (_dir, store) = store();
        let (addr, reader) = super::super::start(store);
        let (key, record) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), Utc::now());
        let digest = KeyDigest::of(key.expose());
        assert_eq!(
            addr.send(CreateApiKey(record.clone())).await.ok().and_then(Result::ok),
            Some(record.clone())
        );
        addr.do_send(TouchApiKey { digest, at: Utc::now() });
        let marked = addr
            .send(super::super::Flush)
            .await
            .ok()
            .and_then(|_| reader.api_key(&digest).ok().flatten())
            .and_then(|r| r.last_used_at);
        assert!(marked.is_some());
        let revoked = addr
            .send(RevokeApiKey(record.id.clone()))
            .await
            .ok()
            .and_then(Result::ok);
        assert_eq!(revoked.map(|r| r.id), Some(record.id.clone()));
        assert_eq!(reader.api_key(&digest).ok().flatten(), None);
        let again = addr.send(RevokeApiKey(record.id)).await.ok();
        assert_eq!(again, Some(Err(StoreError::NotFound)));
    }
}
