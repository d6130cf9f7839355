//! The Greenfield store id: made once, kept across restarts, and made for a
//! store written before the meta key existed (the old layout: no key).

use super::*;
use crate::store::layout::keys::MetaKey;

fn reopen(path: &std::path::Path) -> Store {
    crate::store::open::when_unlocked(std::time::Duration::from_secs(5), || Store::open(path)).unwrap()
}

#[test]
fn the_store_id_is_made_once_and_kept_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = store.greenfield_store_id().unwrap();
    assert!(crate::config::is_store_id(&first), "{first}");
    assert_eq!(store.greenfield_store_id().unwrap(), first);
    drop(store);
    assert_eq!(reopen(dir.path()).greenfield_store_id().unwrap(), first);
}

#[test]
fn a_store_written_without_the_key_gets_one_and_a_damaged_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // What every schema-3 store made before issue 14 looks like: no key.
    assert_eq!(store.trees.meta.get(MetaKey::GreenfieldStoreId.encode()).unwrap(), None);
    let made = store.greenfield_store_id().unwrap();
    assert_eq!(
        store
            .trees
            .meta
            .get(MetaKey::GreenfieldStoreId.encode())
            .unwrap()
            .as_deref(),
        Some(made.as_bytes())
    );
    store
        .trees
        .meta
        .insert(MetaKey::GreenfieldStoreId.encode(), b"a:b".as_slice())
        .unwrap();
    assert!(matches!(store.greenfield_store_id(), Err(StoreError::Corrupt(_))));
}
