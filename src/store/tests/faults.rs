//! The watched writer: a panic restarts it without losing acknowledged
//! writes, failing writes answer an error at once and mark the store down,
//! and it comes back by itself when the fault goes.

use super::*;

/// A started store with its health handle and `pool` addresses pooled.
async fn started_with_health(
    pool: u32,
) -> (
    tempfile::TempDir,
    Addr<InvoiceStore>,
    StoreReader,
    std::sync::Arc<Health>,
) {
    let dir = tempfile::tempdir().unwrap();
    let opened = Store::open(dir.path()).unwrap();
    let health = opened.health();
    let (store, reader) = start(opened);
    let added = store
        .send(AddToPool {
            addresses: (0..pool).map(address).collect(),
        })
        .await
        .unwrap();
    assert_eq!(added.unwrap(), pool as usize);
    (dir, store, reader, health)
}

#[actix_rt::test]
async fn a_writer_that_panics_fails_its_batch_restarts_and_keeps_what_it_acknowledged() {
    let (_dir, store, reader, health) = started_with_health(5).await;
    let before = store.send(create(Some("A-1"), 5)).await.unwrap().unwrap().invoice;

    health.faults.panic_next_write();
    let failed = store.send(create(Some("A-2"), 5)).await.unwrap();
    let after = store.send(create(Some("A-3"), 5)).await.unwrap().unwrap().invoice;

    assert!(matches!(failed, Err(StoreError::WriterFailed(_))), "{failed:?}");
    assert_eq!(reader.invoice(&before.id).unwrap(), Some(before));
    assert_eq!(reader.invoice(&after.id).unwrap(), Some(after));
    assert_eq!(reader.invoice_by_order("A-2").unwrap(), None);
    assert_eq!(store.send(Ping).await.unwrap(), Ok(()));
    assert_invariants(&reader);
}

#[actix_rt::test]
async fn failing_writes_answer_unavailable_at_once_and_the_store_comes_back_by_itself() {
    let (_dir, store, reader, health) = started_with_health(5).await;

    health.faults.fail_writes(true);
    let refused = store.send(create(Some("A-1"), 5)).await.unwrap().unwrap_err();
    let ping = store.send(Ping).await.unwrap();
    health.faults.fail_writes(false);
    let ping_after = store.send(Ping).await.unwrap();
    let created = store.send(create(Some("A-1"), 5)).await.unwrap();

    assert!(refused.is_unavailable(), "{refused:?}");
    assert!(matches!(ping, Err(StoreError::Io(_))), "{ping:?}");
    assert!(health.down().is_none(), "down after the fault went");
    assert_eq!(ping_after, Ok(()));
    assert!(created.unwrap().created);
    assert_eq!(reader.invoice_count().unwrap(), 1);
    assert_invariants(&reader);
}
