//! Schema 5 packs invoices and events (zstd): a schema-4 store, whose values
//! are plain JSON, opens without a rewrite and shows everything it held;
//! what is written afterwards is packed.

use super::migration::{assert_migrated, open_when_free, write_old, Old};
use super::*;
use crate::store::layout::keys::MetaKey;
use crate::store::layout::packed;
use crate::store::layout::values;

/// Turns the (schema-5) store at `path` into the schema-4 layout: every
/// invoice and events value as plain JSON, version 4.
fn to_schema_4(path: &std::path::Path) {
    let db = sled::open(path).unwrap();
    let invoices = db.open_tree("invoices").unwrap();
    for entry in invoices.iter() {
        let (id, bytes) = entry.unwrap();
        let stored = values::decode_invoice(&bytes).unwrap();
        invoices.insert(id, serde_json::to_vec(&stored).unwrap()).unwrap();
    }
    let events = db.open_tree("events").unwrap();
    for entry in events.iter() {
        let (id, bytes) = entry.unwrap();
        let list = values::decode_events(&bytes).unwrap();
        events.insert(id, serde_json::to_vec(&list).unwrap()).unwrap();
    }
    db.open_tree("meta")
        .unwrap()
        .insert(MetaKey::SchemaVersion.encode(), "4")
        .unwrap();
    db.flush().unwrap();
}

/// Whether every value of `tree` is packed (`true`) or every one plain (`false`).
fn all_packed(path: &std::path::Path, tree: &str) -> Option<bool> {
    let db = sled::open(path).unwrap();
    let packed: Vec<bool> = db
        .open_tree(tree)
        .unwrap()
        .iter()
        .map(|e| packed::is_packed(&e.unwrap().1))
        .collect();
    assert!(!packed.is_empty(), "{tree} is empty");
    if packed.iter().all(|&p| p) {
        Some(true)
    } else if packed.iter().all(|&p| !p) {
        Some(false)
    } else {
        None
    }
}

#[test]
fn a_schema_4_store_of_plain_json_opens_as_schema_5_and_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let old = write_old(dir.path(), Old::V2b, 40);
    drop(open_when_free(dir.path()).unwrap()); // schema 2 → 5: invoices rewritten, packed
    assert_eq!(all_packed(dir.path(), "invoices"), Some(true));

    to_schema_4(dir.path());
    assert_eq!(all_packed(dir.path(), "invoices"), Some(false));
    assert_eq!(all_packed(dir.path(), "events"), Some(false));

    let store = open_when_free(dir.path()).unwrap();
    let reader = store.reader();
    assert_migrated(&reader, &old);
    assert_invariants(&reader);
    drop(reader);
    drop(store);
    // Nothing was rewritten: the plain values are read as they are.
    assert_eq!(all_packed(dir.path(), "invoices"), Some(false));
}

#[actix_rt::test]
async fn new_invoices_are_stored_packed_and_read_back() {
    let (dir, store, reader) = started(3).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let created = store
            .send(create(Some(&format!("P-{n}")), 1_000))
            .await
            .unwrap()
            .unwrap();
        ids.push(created.invoice);
    }
    for invoice in &ids {
        assert_eq!(reader.invoice(&invoice.id).unwrap().as_ref(), Some(invoice));
    }
    assert_invariants(&reader);
    drop(reader);
    drop(store);
    drop(reopen(dir.path()).await); // once the writer let go of sled's lock
    assert_eq!(all_packed(dir.path(), "invoices"), Some(true));
}
