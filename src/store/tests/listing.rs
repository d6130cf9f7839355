//! Listing invoices: newest first, cursors, filters through the status index.

use std::collections::HashSet;

use super::*;
use crate::invoice::InvoiceStatus;

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

#[actix_rt::test]
async fn invoice_pages_by_status_come_from_the_index_and_follow_transitions() {
    let dir = tempfile::tempdir().unwrap();
    let routes = crate::event::route::Routes::new("http://shop", None, true);
    let (store, reader) = start(Store::open(dir.path()).unwrap().with_routes(routes));
    store
        .send(AddToPool {
            addresses: (0..100).map(address).collect(),
        })
        .await
        .unwrap()
        .unwrap();
    let mut confirmed = Vec::new();
    for n in 0..100u32 {
        let inv = store
            .send(create(None, 1_000 + u64::from(n)))
            .await
            .unwrap()
            .unwrap()
            .invoice;
        if n % 9 == 0 {
            let applied = store
                .send(super::events::paid_and_mined(&inv, n))
                .await
                .unwrap()
                .unwrap();
            confirmed.push(applied.invoice.id);
        }
    }

    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let (page, next) = reader
            .list(Some(InvoiceStatus::Confirmed), None, 3, cursor.as_deref())
            .unwrap();
        listed.extend(page.into_iter().map(|i| i.id));
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let (new, _) = reader.list(Some(InvoiceStatus::New), None, 500, None).unwrap();

    assert_eq!(listed, confirmed.iter().rev().cloned().collect::<Vec<_>>());
    assert_eq!(new.len(), 100 - confirmed.len());
    assert!(new.iter().all(|i| i.status == InvoiceStatus::New));
    assert_invariants(&reader);
}

#[actix_rt::test]
async fn event_pages_by_state_come_from_the_outbox_and_the_state_index() {
    let (_dir, store, reader, invoices) = super::events::with_paid_invoices(10).await;
    let (pending, _) = reader
        .events(None, Some(crate::event::DeliveryState::Pending), 500, None)
        .unwrap();
    assert_eq!(pending.len(), 3 * invoices.len());
    let first = pending[4].clone();

    store
        .send(RecordAttempt {
            seq: first.seq,
            attempt: crate::event::Attempt {
                at: chrono::Utc::now(),
                status: Some(500),
                error: Some("HTTP 500".into()),
            },
            outcome: Outcome::Failed,
        })
        .await
        .unwrap()
        .unwrap();

    let (failed, next) = reader
        .events(None, Some(crate::event::DeliveryState::Failed), 500, None)
        .unwrap();
    assert_eq!(
        (failed.iter().map(|e| e.seq).collect::<Vec<_>>(), next),
        (vec![first.seq], None)
    );
    let (pending_now, _) = reader
        .events(None, Some(crate::event::DeliveryState::Pending), 500, None)
        .unwrap();
    assert_eq!(pending_now.len(), pending.len() - 1);
    assert_invariants(&reader);
}
