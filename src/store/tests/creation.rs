//! Creation: addresses, orders, the pool, batches, restarts.

use std::collections::HashSet;

use super::*;
use crate::invoice::{InvoiceId, InvoiceStatus};

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
    assert_invariants(&reader);
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
        order_rule: Default::default(),
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
    reader.trees().unwrap().pool.insert(used.as_str(), &[]).unwrap();
    counts::Counts::adjust(&reader.counts().pool, 1);
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
        order_rule: Default::default(),
    };
    let inv = store.send(fresh).await.unwrap().unwrap().invoice;
    assert_eq!(inv.address, address(50));
    assert_eq!(reader.pool_len(), 1);

    let reused = CreateInvoice {
        draft: draft(None, 5),
        fresh_address: Some(address(50)),
        order_rule: Default::default(),
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
    assert_invariants(&reader);
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
        order_rule: Default::default(),
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
    assert_invariants(&reader);
}
