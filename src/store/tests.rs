//! Tests of the writer and the reader over a real sled store in a temp directory.

use std::collections::HashSet;

use actix::Addr;
use serde_json::json;

use super::*;
use crate::cashaddr::{encode, Address};
use crate::invoice::{InvoiceId, InvoiceStatus, NewInvoice};
use crate::money::Sats;

/// A valid regtest address, distinct for each `n`.
fn address(n: u32) -> Address {
    let mut hash = [0u8; 20];
    hash[..4].copy_from_slice(&n.to_be_bytes());
    Address::parse(&encode("bchreg", 0, &hash)).unwrap()
}

fn draft(order_id: Option<&str>, sats: u64) -> NewInvoice {
    NewInvoice {
        amount_sats: Sats(sats),
        fiat: None,
        order_id: order_id.map(str::to_owned),
        description: Some("Gold membership".into()),
        metadata: json!({"k": "v"}),
        webhook_url: None,
        redirect_url: Some("https://shop.example/back".into()),
        expires_in_secs: 900,
        required_confirmations: 1,
    }
}

fn create(order_id: Option<&str>, sats: u64) -> CreateInvoice {
    CreateInvoice {
        draft: draft(order_id, sats),
        fresh_address: None,
    }
}

/// A started store over a temp directory with `pool` addresses `0..pool` pooled.
async fn started(pool: u32) -> (tempfile::TempDir, Addr<InvoiceStore>, StoreReader) {
    let dir = tempfile::tempdir().unwrap();
    let (store, reader) = start(Store::open(dir.path()).unwrap());
    let added = store
        .send(AddToPool {
            addresses: (0..pool).map(address).collect(),
        })
        .await
        .unwrap();
    assert_eq!(added.unwrap(), pool as usize);
    (dir, store, reader)
}

#[actix_rt::test]
async fn created_invoice_reads_back_by_id_order_and_address() {
    let (_dir, store, reader) = started(3).await;

    let created = store.send(create(Some("A-1"), 70_000)).await.unwrap().unwrap();

    assert!(created.created);
    let inv = created.invoice;
    assert_eq!(inv.status, InvoiceStatus::New);
    assert_eq!(reader.invoice(&inv.id).unwrap().as_ref(), Some(&inv));
    assert_eq!(reader.invoice_by_order("A-1").unwrap().as_ref(), Some(&inv));
    assert_eq!(reader.invoice_by_address(&inv.address).unwrap().as_ref(), Some(&inv));
    assert_eq!(reader.watched_ids().unwrap(), vec![inv.id.clone()]);
    assert_eq!(reader.invoice_count().unwrap(), 1);
    assert_eq!(reader.invoice(&InvoiceId::generate()).unwrap(), None);
}

#[actix_rt::test]
async fn the_pool_address_moves_to_the_ledger_in_the_same_write() {
    let (_dir, store, reader) = started(2).await;
    let first = reader.pool_addresses().unwrap()[0].clone();

    let inv = store.send(create(None, 1_000)).await.unwrap().unwrap().invoice;

    assert_eq!(inv.address, first);
    assert!(!reader.pool_addresses().unwrap().contains(&first));
    assert_eq!((reader.pool_len(), reader.ledger_len()), (1, 1));
}

#[actix_rt::test]
async fn the_same_order_and_amount_returns_the_existing_invoice() {
    let (_dir, store, reader) = started(3).await;
    let first = store.send(create(Some("A-1"), 70_000)).await.unwrap().unwrap();

    let again = store.send(create(Some("A-1"), 70_000)).await.unwrap().unwrap();

    assert!(!again.created);
    assert_eq!(again.invoice, first.invoice);
    assert_eq!(
        (reader.pool_len(), reader.ledger_len()),
        (2, 1),
        "no second address taken"
    );
    assert_eq!(reader.invoice_count().unwrap(), 1);
}

#[actix_rt::test]
async fn the_same_order_with_another_amount_is_a_conflict() {
    let (_dir, store, reader) = started(3).await;
    store.send(create(Some("A-1"), 70_000)).await.unwrap().unwrap();

    let err = store.send(create(Some("A-1"), 70_001)).await.unwrap().unwrap_err();

    assert_eq!(err, StoreError::OrderConflict);
    assert_eq!(reader.ledger_len(), 1);
}

#[actix_rt::test]
async fn a_repeated_order_answers_even_with_an_empty_pool_and_keeps_the_fresh_address() {
    let (_dir, store, reader) = started(1).await;
    let first = store.send(create(Some("A-1"), 5)).await.unwrap().unwrap();

    let again = CreateInvoice {
        draft: draft(Some("A-1"), 5),
        fresh_address: Some(address(99)),
    };
    let again = store.send(again).await.unwrap().unwrap();

    assert_eq!(again.invoice.id, first.invoice.id);
    assert_eq!(reader.pool_addresses().unwrap(), vec![address(99)]);
}

#[actix_rt::test]
async fn a_pooled_address_already_in_the_ledger_is_skipped_and_dropped() {
    // A wallet restored from an old backup hands out an address used before.
    let (_dir, store, reader) = started(1).await;
    let used = store.send(create(None, 5)).await.unwrap().unwrap().invoice.address;
    let fresh: Vec<_> = (1..=5).map(address).collect();
    store
        .send(AddToPool {
            addresses: fresh.clone(),
        })
        .await
        .unwrap()
        .unwrap();
    // As the pool of an older version might hold it (counted as opening the store would).
    reader.trees.pool.insert(used.as_str(), &[]).unwrap();
    Trees::adjust(&reader.trees.counts.pool, 1);
    assert_eq!(reader.pool_len(), 6);

    let mut handed_out = HashSet::new();
    for _ in 0..5 {
        handed_out.insert(store.send(create(None, 5)).await.unwrap().unwrap().invoice.address);
    }
    let last = store.send(create(None, 5)).await.unwrap();

    assert_eq!(handed_out, fresh.into_iter().collect());
    assert_eq!(last.unwrap_err(), StoreError::PoolEmpty);
    assert_eq!(reader.pool_len(), 0, "the used address left the pool");
    assert_eq!(reader.ledger_len(), 6);
    assert_eq!(reader.invoice_by_address(&used).unwrap().unwrap().amount_sats, Sats(5));
}

#[actix_rt::test]
async fn add_to_pool_skips_ledger_pooled_and_repeated_addresses() {
    let (_dir, store, reader) = started(1).await;
    let used = store.send(create(None, 5)).await.unwrap().unwrap().invoice.address;
    store
        .send(AddToPool {
            addresses: vec![address(1)],
        })
        .await
        .unwrap()
        .unwrap();

    let added = store
        .send(AddToPool {
            addresses: vec![used, address(1), address(2), address(2), address(3)],
        })
        .await
        .unwrap()
        .unwrap();

    assert_eq!(added, 2);
    let pooled: HashSet<_> = reader.pool_addresses().unwrap().into_iter().collect();
    assert_eq!(pooled, [address(1), address(2), address(3)].into_iter().collect());
}

#[actix_rt::test]
async fn an_empty_pool_without_a_fresh_address_is_pool_empty() {
    let (_dir, store, reader) = started(0).await;

    let err = store.send(create(Some("A-1"), 5)).await.unwrap().unwrap_err();

    assert_eq!(err, StoreError::PoolEmpty);
    assert_eq!(reader.invoice_by_order("A-1").unwrap(), None);
    assert_eq!(reader.invoice_count().unwrap(), 0);
}

#[actix_rt::test]
async fn a_fresh_address_is_used_before_the_pool_unless_it_is_in_the_ledger() {
    let (_dir, store, reader) = started(1).await;

    let fresh = CreateInvoice {
        draft: draft(None, 5),
        fresh_address: Some(address(50)),
    };
    let inv = store.send(fresh).await.unwrap().unwrap().invoice;
    assert_eq!(inv.address, address(50));
    assert_eq!(reader.pool_len(), 1);

    let reused = CreateInvoice {
        draft: draft(None, 5),
        fresh_address: Some(address(50)),
    };
    let inv = store.send(reused).await.unwrap().unwrap().invoice;
    assert_eq!(
        inv.address,
        address(0),
        "the used fresh address is refused, the pool serves"
    );
    assert_eq!((reader.pool_len(), reader.ledger_len()), (0, 2));
}

#[actix_rt::test]
async fn listing_is_newest_first_with_a_cursor_and_filters() {
    let (_dir, store, reader) = started(5).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let inv = store
            .send(create(Some(&format!("O-{i}")), 5))
            .await
            .unwrap()
            .unwrap()
            .invoice;
        ids.push(inv.id);
    }
    let newest_first: Vec<_> = ids.iter().rev().cloned().collect();

    let (page1, cursor) = reader.list(None, None, 2, None).unwrap();
    let (page2, cursor2) = reader.list(None, None, 2, cursor.as_deref()).unwrap();
    let (page3, cursor3) = reader.list(None, None, 2, cursor2.as_deref()).unwrap();
    let listed: Vec<_> = page1.iter().chain(&page2).chain(&page3).map(|i| i.id.clone()).collect();
    assert_eq!(listed, newest_first);
    assert!(cursor.is_some() && cursor2.is_some());
    assert_eq!(cursor3, None);

    let (exact, cursor) = reader.list(None, None, 5, None).unwrap();
    assert_eq!((exact.len(), cursor), (5, None), "no cursor to an empty page");

    let (by_order, _) = reader.list(None, Some("O-3"), 50, None).unwrap();
    assert_eq!(by_order.iter().map(|i| &i.id).collect::<Vec<_>>(), vec![&ids[3]]);
    assert!(reader.list(None, Some("nope"), 50, None).unwrap().0.is_empty());
    assert!(reader
        .list(Some(InvoiceStatus::Paid), Some("O-3"), 50, None)
        .unwrap()
        .0
        .is_empty());
    assert_eq!(
        reader.list(Some(InvoiceStatus::New), None, 50, None).unwrap().0.len(),
        5
    );
    assert!(reader
        .list(Some(InvoiceStatus::Paid), None, 50, None)
        .unwrap()
        .0
        .is_empty());

    for bad in ["zz", "00", "0", "-1", "+2", " 2", &hex::encode(b"12345678inv_short")] {
        assert_eq!(
            reader.list(None, None, 2, Some(bad)).unwrap_err(),
            StoreError::InvalidCursor
        );
    }
}

#[actix_rt::test]
async fn listing_pages_through_batched_creations_across_log_chunks_newest_first() {
    const N: u32 = 150;
    let (_dir, store, reader) = started(N).await;
    let created: Vec<_> =
        futures_util::future::join_all((0..N).map(|i| store.send(create(None, 1_000 + u64::from(i)))))
            .await
            .into_iter()
            .map(|r| r.unwrap().unwrap().invoice)
            .collect();

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let (page, next) = reader.list(None, None, 7, cursor.as_deref()).unwrap();
        pages += 1;
        listed.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(pages, (N as usize).div_ceil(7));
    assert_eq!(listed.len(), N as usize);
    let listed_ids: HashSet<_> = listed.iter().map(|i| i.id.clone()).collect();
    assert_eq!(listed_ids, created.iter().map(|i| i.id.clone()).collect::<HashSet<_>>());
    assert!(
        listed.windows(2).all(|w| w[0].created_at >= w[1].created_at),
        "newest first"
    );
    assert_eq!(reader.list(None, None, 500, None).unwrap().0, listed);
}

/// Opens the store at `path` again once the actor that had it let go of
/// sled's lock (it drops its handles on its own thread).
async fn reopen(path: &std::path::Path) -> Store {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match Store::open(path) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                actix_rt::time::sleep(std::time::Duration::from_millis(20)).await
            }
            other => return other.unwrap(),
        }
    }
}

#[actix_rt::test]
async fn invoices_survive_a_restart() {
    let (dir, store, reader) = started(2).await;
    let inv = store.send(create(Some("A-1"), 5)).await.unwrap().unwrap().invoice;
    drop((store, reader));

    let reader = reopen(dir.path()).await.reader();
    assert_eq!(reader.invoice(&inv.id).unwrap(), Some(inv));
    assert_eq!((reader.pool_len(), reader.ledger_len()), (1, 1));
}

#[actix_rt::test]
async fn a_thousand_concurrent_creates_get_distinct_addresses_with_few_flushes() {
    const N: u32 = 1000;
    let (_dir, store, reader) = started(N).await;
    let flushes_before = reader.flush_count();

    let started_at = std::time::Instant::now();
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let store = store.clone();
            actix_rt::spawn(async move { store.send(create(Some(&format!("O-{i}")), 1_000 + u64::from(i))).await })
        })
        .collect();
    let mut invoices = Vec::new();
    for task in tasks {
        invoices.push(task.await.unwrap().unwrap().unwrap().invoice);
    }

    let addresses: HashSet<_> = invoices.iter().map(|i| i.address.clone()).collect();
    assert_eq!(addresses.len(), N as usize);
    assert_eq!((reader.ledger_len(), reader.pool_len()), (N as usize, 0));
    for inv in &invoices {
        assert_eq!(reader.invoice_by_address(&inv.address).unwrap().unwrap().id, inv.id);
    }
    assert_eq!(reader.invoice_count().unwrap(), u64::from(N));
    let flushes = reader.flush_count() - flushes_before;
    assert!(flushes < u64::from(N) / 10, "{flushes} flushes for {N} writes");
    eprintln!(
        "{N} concurrent creates: {flushes} flushes in {:?}",
        started_at.elapsed()
    );
}

#[test]
fn open_creates_a_store_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.reader().invoice_count().unwrap(), 0);
    drop(store);
    Store::open(dir.path()).unwrap();
}

#[test]
fn open_refuses_another_schema_version_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        // Version 1: the layout before invoice records carried their events.
        db.open_tree("meta").unwrap().insert(META_SCHEMA_VERSION, "1").unwrap();
        db.flush().unwrap();
    }
    let err = Store::open(dir.path()).err().unwrap();
    assert_eq!(
        err,
        StoreError::SchemaMismatch {
            found: 1,
            expected: SCHEMA_VERSION
        }
    );
    let message = err.to_string();
    assert!(
        message.contains("version 1") && message.contains("move the store directory aside"),
        "{message}"
    );
}

#[test]
fn open_refuses_data_without_a_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("invoices").unwrap().insert("x", "y").unwrap();
        db.flush().unwrap();
    }
    // sled lets go of its lock file from a background thread: wait for that, not for a verdict.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let verdict = loop {
        match Store::open(dir.path()) {
            Err(StoreError::Locked(_)) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => break other,
        }
    };
    assert!(matches!(verdict, Err(StoreError::Corrupt(_))), "{:?}", verdict.err());
}

#[test]
fn a_store_held_by_another_opener_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Store::open(dir.path()).unwrap();
    let err = Store::open(dir.path()).err().unwrap();
    assert!(matches!(err, StoreError::Locked(_)), "{err:?}");
    assert!(err.to_string().contains("in use by another process"));
}

#[actix_rt::test]
async fn concurrent_duplicates_of_an_order_in_one_batch_get_one_invoice() {
    let (_dir, store, reader) = started(10).await;
    // Sent without awaiting in between: they queue up and share one apply step.
    let same: Vec<_> = (0..5).map(|_| store.send(create(Some("O-dup"), 5_000))).collect();
    let other_amount = store.send(create(Some("O-dup"), 6_000));
    let fresh = store.send(CreateInvoice {
        draft: draft(Some("O-dup"), 5_000),
        fresh_address: Some(address(99)),
    });
    let unrelated = store.send(create(Some("O-other"), 7_000));
    let mut results = Vec::new();
    for r in same {
        results.push(r.await.unwrap().unwrap());
    }
    assert_eq!(other_amount.await.unwrap().unwrap_err(), StoreError::OrderConflict);
    results.push(fresh.await.unwrap().unwrap());
    let unrelated = unrelated.await.unwrap().unwrap();

    let ids: HashSet<_> = results.iter().map(|c| c.invoice.id.clone()).collect();
    assert_eq!(ids.len(), 1, "one invoice for the order");
    assert_eq!(results.iter().filter(|c| c.created).count(), 1, "created once");
    assert!(unrelated.created);
    assert_ne!(unrelated.invoice.address, results[0].invoice.address);
    assert_eq!(reader.invoice_count().unwrap(), 2);
    // The repeated request's fresh address is pooled, not lost.
    assert_eq!((reader.ledger_len(), reader.pool_len()), (2, 9));
    assert_eq!(
        reader.invoice_by_order("O-dup").unwrap().unwrap().id,
        results[0].invoice.id
    );
}

/// Pays `inv` in full, mined at the tip: payment received, paid, confirmed.
fn paid_and_mined(inv: &crate::invoice::Invoice, n: u32) -> ApplyObservation {
    ApplyObservation {
        invoice_id: inv.id.clone(),
        payments: Some(vec![crate::invoice::Payment {
            txid: format!("{n:064x}"),
            amount_sats: inv.amount_sats,
            height: 100,
        }]),
        tip: 100,
        now: chrono::Utc::now(),
        policy: crate::invoice::lifecycle::Policy {
            tolerance_percent: 0,
            monitoring_secs: 0,
        },
    }
}

#[actix_rt::test]
async fn events_live_with_their_invoice_and_read_back_in_order_by_id_by_sequence_and_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let opened = Store::open(dir.path()).unwrap().with_event_settings(
        "http://shop",
        Some("http://127.0.0.1:9/hook".into()),
        false,
    );
    let (store, reader) = start(opened);
    store
        .send(AddToPool {
            addresses: (0..30).map(address).collect(),
        })
        .await
        .unwrap()
        .unwrap();
    // 30 invoices × 3 events: the event log spans two chunks of 64.
    let mut invoices = Vec::new();
    for n in 0..30 {
        let inv = store
            .send(create(None, 10_000 + u64::from(n)))
            .await
            .unwrap()
            .unwrap()
            .invoice;
        let applied = store.send(paid_and_mined(&inv, n)).await.unwrap().unwrap();
        assert_eq!(applied.events.len(), 3, "invoice {n}");
        invoices.push(applied.invoice);
    }

    let (all, next) = reader.events(None, None, 500, None).unwrap();
    assert_eq!(next, None);
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=90).collect::<Vec<_>>()
    );
    assert_eq!(reader.outbox().unwrap(), (1..=90).collect::<Vec<_>>());
    for (n, inv) in invoices.iter().enumerate() {
        let (mine, _) = reader.events(Some(&inv.id), None, 500, None).unwrap();
        assert_eq!(mine, all[3 * n..3 * n + 3].to_vec(), "invoice {n}");
        assert_eq!(mine.iter().map(|e| e.sequence).collect::<Vec<_>>(), vec![1, 2, 3]);
        for e in &mine {
            assert_eq!(reader.event(&e.id).unwrap().as_ref(), Some(e));
            assert_eq!(reader.event_by_seq(e.seq).unwrap().as_ref(), Some(e));
        }
        // The invoice reads back as the transition left it, events aside.
        assert_eq!(reader.invoice(&inv.id).unwrap().as_ref(), Some(inv));
    }
    assert_eq!(reader.event_by_seq(91).unwrap(), None);
    assert_eq!(reader.event_by_seq(0).unwrap(), None);
    assert_eq!(reader.event("evt_00000000000000000000000000000000").unwrap(), None);

    // Pages of 7 walk the whole log once, across the chunk boundary.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (page, next) = reader.events(None, None, 7, cursor.as_deref()).unwrap();
        paged.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, all);

    // A delivery is recorded in the invoice's record and leaves the outbox.
    let first = &all[64];
    let delivered = store
        .send(RecordAttempt {
            seq: first.seq,
            attempt: crate::event::Attempt {
                at: chrono::Utc::now(),
                status: Some(200),
                error: None,
            },
            outcome: Outcome::Delivered,
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.state, crate::event::DeliveryState::Delivered);
    assert_eq!(reader.event(&first.id).unwrap(), Some(delivered.clone()));
    assert_eq!((reader.outbox_len(), reader.outbox().unwrap().len()), (89, 89));
    let (only, _) = reader
        .events(None, Some(crate::event::DeliveryState::Delivered), 500, None)
        .unwrap();
    assert_eq!(only, vec![delivered]);
    let counts = reader.event_state_counts().unwrap();
    assert!(
        counts.contains(&(crate::event::DeliveryState::Delivered, 1)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&(crate::event::DeliveryState::Pending, 89)),
        "{counts:?}"
    );
    let owner = invoices.iter().find(|i| i.id == first.invoice_id).unwrap();
    assert_eq!(reader.invoice(&owner.id).unwrap().as_ref(), Some(owner));

    // All of it survives a restart.
    store.send(Flush).await.unwrap().unwrap();
    drop((store, reader));
    let reopened = reopen(dir.path()).await;
    let (again, _) = reopened.reader().events(None, None, 500, None).unwrap();
    assert_eq!(again.len(), 90);
    assert_eq!(again[64].state, crate::event::DeliveryState::Delivered);
}
