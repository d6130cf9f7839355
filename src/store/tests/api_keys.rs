//! API keys in the store: found by digest until revoked, kept across a
//! reopen, written by the writer, and a store written before the tree opens.

use chrono::Utc;

use crate::api_key::{ApiKeyRecord, KeyDigest, Permission, Permissions};
use crate::store::{CreateApiKey, Flush, RevokeApiKey, Store, StoreError, TouchApiKey, SCHEMA_VERSION};

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
fn keys_outlive_a_reopen() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("s");
    let (key, record) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), Utc::now());
    {
        let store = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        store.create_api_key(&record).unwrap_or_else(|e| panic!("{e}"));
    }
    let store = crate::store::open::when_unlocked(std::time::Duration::from_secs(5), || Store::open(&path))
        .unwrap_or_else(|e| panic!("{e}"));
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
        let version = SCHEMA_VERSION.to_string();
        meta.insert(b"schema_version", version.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        db.open_tree("pool")
            .and_then(|t| t.insert("bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2", &[]))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!db.tree_names().iter().any(|n| n.as_ref() == b"api_keys"));
        db.flush().unwrap_or_else(|e| panic!("{e}"));
    }
    let store = crate::store::open::when_unlocked(std::time::Duration::from_secs(5), || Store::open(&path))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(store.reader().api_keys().ok(), Some(vec![]));
    assert_eq!(store.reader().pool_len(), 1);
    let (_, record) = ApiKeyRecord::generate("first".into(), Permissions::unrestricted(), Utc::now());
    assert!(store.create_api_key(&record).is_ok());
}

#[actix_rt::test]
async fn the_writer_creates_revokes_and_marks_keys() {
    let (_dir, store) = store();
    let (addr, reader) = crate::store::start(store);
    let (key, record) = ApiKeyRecord::generate("shop".into(), Permissions::unrestricted(), Utc::now());
    let digest = KeyDigest::of(key.expose());
    assert_eq!(
        addr.send(CreateApiKey(record.clone())).await.ok().and_then(Result::ok),
        Some(record.clone())
    );
    addr.do_send(TouchApiKey { digest, at: Utc::now() });
    let marked = addr
        .send(Flush)
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
