//! Backups over a real store: what is written while the dump runs is in the
//! file, a stopped store and an older schema restore, and every refusal.

use std::path::Path;

use super::super::tests::migration::{write_old, Old};
use super::super::tests::{address, assert_invariants, create, reopen, started};
use super::super::SCHEMA_VERSION;
use super::*;
use crate::invoice::InvoiceStatus;

/// Every invoice id of the store `reader` reads.
fn ids(reader: &super::super::StoreReader) -> Vec<String> {
    let trees = reader.trees().unwrap();
    trees
        .invoices
        .iter()
        .keys()
        .map(|k| String::from_utf8(k.unwrap().to_vec()).unwrap())
        .collect()
}

fn restored_reader(dir: &Path) -> super::super::StoreReader {
    super::super::open::when_unlocked(std::time::Duration::from_secs(5), || super::super::Store::open(dir))
        .unwrap()
        .reader()
}

#[actix_rt::test]
async fn writes_made_while_the_dump_runs_are_in_the_backup_as_of_the_cut() {
    let (_dir, store, reader) = started(100).await;
    for i in 0..20 {
        store
            .send(create(Some(&format!("before-{i}")), 1_000))
            .await
            .unwrap()
            .unwrap();
    }
    // The dump is read; then, before the cut, 30 creations (each takes a pool
    // address: removals) land only in the changes.
    let (go_tx, mut go_rx) = tokio::sync::mpsc::channel::<()>(1);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let (result_tx, result_rx) = tokio::sync::oneshot::channel();
    let (writer, read) = (store.clone(), reader.clone());
    std::thread::spawn(move || {
        let hook = move || {
            go_tx.blocking_send(()).unwrap();
            done_rx.recv().unwrap();
        };
        let _ = result_tx.send(snapshot::online_with(&writer, &read, Vec::new(), hook));
    });
    go_rx.recv().await.unwrap();
    for i in 0..30 {
        store
            .send(create(Some(&format!("during-{i}")), 2_000))
            .await
            .unwrap()
            .unwrap();
    }
    done_tx.send(()).unwrap();
    let (bytes, summary) = result_rx.await.unwrap().unwrap();
    // After the cut: not in the backup.
    store.send(create(Some("after"), 3_000)).await.unwrap().unwrap();

    assert!(summary.changes > 30, "{summary:?}");
    assert_eq!(summary.written.bytes, bytes.len() as u64);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bytes).unwrap();
    let target = tempfile::tempdir().unwrap();
    let restored = restore(file.path(), &target.path().join("store")).unwrap();

    assert_eq!(restored.pool_dropped, 50);
    assert!(restored.statuses.contains(&(InvoiceStatus::New, 50)), "{restored:?}");
    let back = restored_reader(&target.path().join("store"));
    assert_eq!(back.invoice_count().unwrap(), 50);
    assert!(back.invoice_by_order("during-29").unwrap().is_some());
    assert!(back.invoice_by_order("after").unwrap().is_none());
    assert_eq!(back.pool_len(), 0);
    assert_eq!(back.ledger_len(), 50);
    assert_invariants(&back);
    assert_eq!(ids(&back).len(), 50);
}

#[actix_rt::test]
async fn a_stopped_store_backs_up_and_restores_whole_but_its_pool() {
    let (dir, store, reader) = started(10).await;
    for i in 0..5 {
        store
            .send(create(Some(&format!("o-{i}")), 1_000))
            .await
            .unwrap()
            .unwrap();
    }
    let before = ids(&reader);
    drop((store, reader));
    let _stopped = reopen(dir.path()).await;
    drop(_stopped);
    let file = tempfile::NamedTempFile::new().unwrap();
    let summary = super::super::open::when_unlocked(std::time::Duration::from_secs(5), || {
        offline(dir.path(), std::fs::File::create(file.path()).unwrap()).map_err(|e| match e {
            BackupError::Store(s) => s,
            other => panic!("{other}"),
        })
    })
    .unwrap();
    assert_eq!(summary.header.schema, SCHEMA_VERSION);
    assert!(summary.entries.contains(&("pool".to_owned(), 5)), "{summary:?}");

    let target = tempfile::tempdir().unwrap();
    let restored = restore(file.path(), target.path()).unwrap();
    assert_eq!(restored.pool_dropped, 5);
    assert_eq!(ids(&restored_reader(target.path())), before);
}

#[test]
fn a_backup_of_a_schema_2_store_is_migrated_on_restore() {
    let old = tempfile::tempdir().unwrap();
    let written = write_old(old.path(), Old::V2b, 40);
    let file = tempfile::NamedTempFile::new().unwrap();
    let summary = super::super::open::when_unlocked(std::time::Duration::from_secs(5), || {
        offline(old.path(), std::fs::File::create(file.path()).unwrap()).map_err(|e| match e {
            BackupError::Store(s) => s,
            other => panic!("{other}"),
        })
    })
    .unwrap();
    assert_eq!(summary.header.schema, 2);

    let target = tempfile::tempdir().unwrap();
    let restored = restore(file.path(), target.path()).unwrap();
    assert_eq!(restored.header.schema, 2);
    let back = restored_reader(target.path());
    assert_eq!(back.schema_version().unwrap(), Some(SCHEMA_VERSION));
    assert_eq!(back.invoice_count().unwrap(), 40);
    for inv in &written.invoices {
        assert_eq!(
            back.invoice(&inv.id).unwrap().map(|i| i.address),
            Some(inv.address.clone())
        );
    }
}

/// A small valid backup (one pooled address, schema `schema`) in a file.
fn small_backup(schema: u32) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut w = format::Writer::new(
        std::fs::File::create(file.path()).unwrap(),
        &Header {
            format: FORMAT_VERSION,
            schema,
            taken_at: 0,
        },
    )
    .unwrap();
    w.tree("meta").unwrap();
    w.put(b"schema_version", schema.to_string().as_bytes()).unwrap();
    w.tree("pool").unwrap();
    w.put(address(7).as_str().as_bytes(), b"").unwrap();
    w.finish().unwrap();
    file
}

#[test]
fn restore_refuses_a_directory_that_holds_anything() {
    let file = small_backup(SCHEMA_VERSION);
    let target = tempfile::tempdir().unwrap();
    std::fs::write(target.path().join("notes.txt"), "mine").unwrap();

    let refused = restore(file.path(), target.path()).unwrap_err();

    assert!(matches!(refused, BackupError::NotEmpty(_)), "{refused}");
    assert_eq!(
        std::fs::read_to_string(target.path().join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 1);
}

#[test]
fn restore_refuses_a_newer_schema_and_leaves_nothing() {
    let file = small_backup(SCHEMA_VERSION + 1);
    let target = tempfile::tempdir().unwrap();
    let dir = target.path().join("store");

    let refused = restore(file.path(), &dir).unwrap_err();

    assert_eq!(
        refused,
        BackupError::NewerSchema {
            found: SCHEMA_VERSION + 1,
            supported: SCHEMA_VERSION
        }
    );
    assert!(!dir.exists());
}

#[test]
fn restore_refuses_a_damaged_file_and_leaves_nothing() {
    let file = small_backup(SCHEMA_VERSION);
    let mut bytes = std::fs::read(file.path()).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(file.path(), &bytes).unwrap();
    let target = tempfile::tempdir().unwrap();

    let refused = restore(file.path(), target.path()).unwrap_err();

    assert_eq!(refused, BackupError::Format(FormatError::Checksum));
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 0);
}

#[test]
fn a_small_backup_restores_an_empty_store_with_its_pool_dropped() {
    let file = small_backup(SCHEMA_VERSION);
    let target = tempfile::tempdir().unwrap();
    let restored = restore(file.path(), target.path()).unwrap();
    assert_eq!(restored.pool_dropped, 1);
    assert!(
        restored.entries.iter().all(|(name, n)| name == "meta" || *n == 0),
        "{restored:?}"
    );
}

#[test]
fn a_write_of_the_same_value_does_not_stall_the_watch() {
    let db = sled::Config::new().temporary(true).open().unwrap();
    let tree = db.open_tree("t").unwrap();
    tree.insert(b"a", b"1").unwrap();
    let watched = changes::Changes::watch(&[("t", &tree)]).unwrap();

    tree.insert(b"a", b"1").unwrap(); // a no-op: sled drops its event
    tree.insert(b"b", b"2").unwrap();
    tree.remove(b"a").unwrap();
    let cut = watched.cut().unwrap();

    let expected: changes::Latest = [(b"a".to_vec(), None), (b"b".to_vec(), Some(b"2".to_vec()))].into();
    assert_eq!(cut.latest["t"], expected);
    assert_eq!(cut.events, 2);
}
