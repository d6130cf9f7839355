//! Greenfield's order rule (decision 2 of issue 14): an order's invoice is
//! handed back only while it is live with the same terms; otherwise a new one
//! takes the order id, and the old one keeps its id and history.

use super::*;
use crate::invoice::lifecycle::Policy;
use crate::invoice::InvoiceStatus;

fn greenfield(order_id: &str, sats: u64) -> CreateInvoice {
    CreateInvoice {
        order_rule: OrderRule::NewUnlessLiveAndSame,
        ..create(Some(order_id), sats)
    }
}

#[actix_rt::test]
async fn a_live_invoice_of_the_same_terms_is_handed_back_and_anything_else_gets_a_new_one() {
    let (_dir, store, reader) = started(5).await;
    let first = store.send(greenfield("42", 5_000)).await.unwrap().unwrap();
    assert!(first.created);
    let again = store.send(greenfield("42", 5_000)).await.unwrap().unwrap();
    assert_eq!(
        (again.invoice.id.clone(), again.created),
        (first.invoice.id.clone(), false)
    );

    // Another price: a new invoice takes the order (bchpay's own rule would refuse).
    let repriced = store.send(greenfield("42", 6_000)).await.unwrap().unwrap();
    assert!(repriced.created);
    assert_ne!(repriced.invoice.id, first.invoice.id);
    assert_eq!(
        reader.invoice_by_order("42").unwrap().map(|i| i.id),
        Some(repriced.invoice.id.clone())
    );
    assert_eq!(
        store.send(create(Some("42"), 5_000)).await.unwrap().unwrap_err(),
        StoreError::OrderConflict,
        "bchpay's own rule is unchanged"
    );

    // Expired: the same terms get a new invoice too.
    let expired = store
        .send(ApplyObservation {
            invoice_id: repriced.invoice.id.clone(),
            payments: Some(Vec::new()),
            tip: 100,
            now: repriced.invoice.expires_at + chrono::Duration::seconds(1),
            policy: Policy {
                tolerance_percent: 0,
                monitoring_secs: 60,
            },
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(expired.invoice.status, InvoiceStatus::Expired);
    let renewed = store.send(greenfield("42", 6_000)).await.unwrap().unwrap();
    assert!(renewed.created);
    assert_ne!(renewed.invoice.id, repriced.invoice.id);
    assert_eq!(
        reader.invoice_by_order("42").unwrap().map(|i| i.id),
        Some(renewed.invoice.id.clone())
    );
    // The old ones keep their ids, order ids and history.
    let old = reader.invoice(&first.invoice.id).unwrap().unwrap();
    assert_eq!(old.order_id.as_deref(), Some("42"));
    assert_eq!(
        reader.invoice(&repriced.invoice.id).unwrap().unwrap().status,
        InvoiceStatus::Expired
    );
    assert_eq!(check_invariants(&reader).unwrap(), Vec::<String>::new());
}
