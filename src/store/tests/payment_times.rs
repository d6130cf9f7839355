//! A schema-3 store (payments without first-seen time nor outputs) opens,
//! migrates to schema 4, and shows every payment with `seen_at` = its
//! invoice's `paid_at`, else `created_at`, and no guessed output index.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::invoice::lifecycle::Policy;
use crate::invoice::{Invoice, Payment, PaymentOutput};

/// A payment of `sats` in one output, first seen at `seen_at`.
fn payment(n: u32, sats: u64, seen_at: chrono::DateTime<Utc>) -> Payment {
    Payment::from_outputs(
        format!("{n:064x}"),
        100,
        vec![PaymentOutput {
            vout: 1,
            amount_sats: Sats(sats),
        }],
        seen_at,
    )
}

/// Turns the schema-4 store at `path` into the schema-3 layout: the one
/// difference is that payments have neither `seen_at`, `outputs` nor `settled`
/// (a store without registered webhooks: the `webhooks` tree is new and empty).
fn rewrite_as_schema_3(path: &std::path::Path) {
    let db = crate::store::open::when_unlocked(std::time::Duration::from_secs(5), || {
        crate::store::open::open_db(path, sled::Config::new())
    })
    .unwrap();
    let invoices = db.open_tree("invoices").unwrap();
    for entry in invoices.iter() {
        let (key, bytes) = entry.unwrap();
        let mut value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for p in value["invoice"]["payments"].as_array_mut().unwrap() {
            let p = p.as_object_mut().unwrap();
            assert!(p.remove("seen_at").is_some() && p.remove("outputs").is_some());
            p.remove("settled");
        }
        invoices.insert(key, serde_json::to_vec(&value).unwrap()).unwrap();
    }
    db.open_tree("meta").unwrap().insert("schema_version", "3").unwrap();
    db.flush().unwrap();
}

#[actix_rt::test]
async fn a_schema_3_store_gives_each_payment_paid_at_else_created_at_and_no_output_index() {
    let (dir, store, reader) = started(3).await;
    let policy = Policy {
        tolerance_percent: 0,
        monitoring_secs: 0,
    };
    let paid = store.send(create(Some("paid"), 5_000)).await.unwrap().unwrap().invoice;
    let partial = store
        .send(create(Some("partial"), 5_000))
        .await
        .unwrap()
        .unwrap()
        .invoice;
    let unpaid = store
        .send(create(Some("unpaid"), 5_000))
        .await
        .unwrap()
        .unwrap()
        .invoice;
    let early = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for (inv, n, sats) in [(&paid, 1, 5_000), (&partial, 2, 1_000)] {
        store
            .send(ApplyObservation {
                invoice_id: inv.id.clone(),
                payments: Some(vec![payment(n, sats, early)]),
                tip: 100,
                now: inv.created_at + Duration::seconds(30),
                policy,
            })
            .await
            .unwrap()
            .unwrap();
    }
    let before: Vec<Invoice> = [&paid, &partial, &unpaid]
        .map(|i| reader.invoice(&i.id).unwrap().unwrap())
        .into();
    store.send(Flush).await.unwrap().unwrap();
    drop((store, reader));
    rewrite_as_schema_3(dir.path());

    let store = reopen(dir.path()).await;

    let reader = store.reader();
    assert_eq!(reader.schema_version().unwrap(), Some(SCHEMA_VERSION));
    let after: Vec<Invoice> = before.iter().map(|i| reader.invoice(&i.id).unwrap().unwrap()).collect();
    let paid_at = before[0].paid_at.unwrap();
    assert_eq!(
        after[0].payments[0].seen_at, paid_at,
        "a paid invoice's payment: paid_at"
    );
    assert_eq!(after[1].paid_at, None);
    assert_eq!(
        after[1].payments[0].seen_at, before[1].created_at,
        "an unpaid invoice's payment: created_at"
    );
    for (a, b) in after.iter().zip(&before) {
        assert!(
            a.payments.iter().all(|p| p.outputs.is_empty()),
            "no output index is guessed"
        );
        assert_eq!(
            a.payments.iter().map(Payment::per_output).collect::<Vec<_>>(),
            b.payments
                .iter()
                .map(|p| vec![(p.txid.clone(), p.amount_sats)])
                .collect::<Vec<_>>(),
            "Greenfield shows the bare txid and the whole amount"
        );
        let mut unchanged = a.clone();
        for (p, q) in unchanged.payments.iter_mut().zip(&b.payments) {
            p.seen_at = q.seen_at;
            p.outputs.clone_from(&q.outputs);
            p.settled = q.settled;
        }
        assert_eq!(&unchanged, b, "nothing else changed");
    }
    assert!(after[0].payments[0].settled, "a confirmed invoice's payment is settled");
    assert!(!after[1].payments[0].settled, "the others settle at the next look");
    assert_invariants(&reader);
    drop((store, reader));
    let again = reopen(dir.path()).await;
    assert_eq!(
        again.reader().invoice(&paid.id).unwrap().unwrap().payments[0].seen_at,
        paid_at,
        "kept"
    );
}
