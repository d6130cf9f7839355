//! Transitions and events: the event log, the outbox, the event-state index.

use super::*;

/// Pays `inv` in full, mined at the tip: payment received, paid, confirmed.
pub fn paid_and_mined(inv: &crate::invoice::Invoice, n: u32) -> ApplyObservation {
    ApplyObservation {
        invoice_id: inv.id.clone(),
        payments: Some(vec![crate::invoice::Payment {
            txid: format!("{n:064x}"),
            amount_sats: inv.amount_sats,
            height: 100,
            outputs: Vec::new(),
            seen_at: chrono::Utc::now(),
            settled: false,
        }]),
        tip: 100,
        now: chrono::Utc::now(),
        policy: crate::invoice::lifecycle::Policy {
            tolerance_percent: 0,
            monitoring_secs: 0,
        },
    }
}

/// A started store whose events go somewhere, with `n` invoices paid and
/// mined (3 events each).
pub async fn with_paid_invoices(
    n: u32,
) -> (
    tempfile::TempDir,
    Addr<InvoiceStore>,
    StoreReader,
    Vec<crate::invoice::Invoice>,
) {
    let dir = tempfile::tempdir().unwrap();
    let opened = Store::open(dir.path())
        .unwrap()
        .with_routes(crate::event::route::Routes::new(
            "http://shop",
            Some("http://127.0.0.1:9/hook".into()),
            true,
        ));
    let (store, reader) = start(opened);
    store
        .send(AddToPool {
            addresses: (0..n).map(address).collect(),
        })
        .await
        .unwrap()
        .unwrap();
    let mut invoices = Vec::new();
    for n in 0..n {
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
    (dir, store, reader, invoices)
}

#[actix_rt::test]
async fn events_live_with_their_invoice_and_read_back_in_order_by_id_by_sequence_and_in_pages() {
    // 30 invoices × 3 events: the event log spans two chunks of 64.
    let (_dir, _store, reader, invoices) = with_paid_invoices(30).await;

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

    assert_invariants(&reader);
}

#[actix_rt::test]
async fn a_delivery_is_recorded_with_its_event_leaves_the_outbox_and_survives_a_restart() {
    let (dir, store, reader, invoices) = with_paid_invoices(30).await;
    let (all, _) = reader.events(None, None, 500, None).unwrap();

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
    assert_invariants(&reader);

    // All of it survives a restart.
    store.send(Flush).await.unwrap().unwrap();
    drop((store, reader));
    let reopened = reopen(dir.path()).await;
    let (again, _) = reopened.reader().events(None, None, 500, None).unwrap();
    assert_eq!(again.len(), 90);
    assert_eq!(again[64].state, crate::event::DeliveryState::Delivered);
}
