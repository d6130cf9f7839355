//! Greenfield's writes: registered webhooks kept and deleted, marks by hand
//! written as transitions, `InvoiceCreated` only when a webhook wants it,
//! and events routed to registered webhooks in the outbox.

use super::*;
use crate::event::registered::RegisteredWebhook;
use crate::event::DeliveryState;
use crate::greenfield::types::AuthorizedEvents;
use crate::invoice::lifecycle::{EventKind, Mark, MarkRefused};
use crate::invoice::InvoiceStatus;

fn hook(id: &str, specific: &[&str]) -> RegisteredWebhook {
    RegisteredWebhook {
        id: id.into(),
        store_id: "st".into(),
        url: format!("http://127.0.0.1:9/{id}"),
        secret: "sec".into(),
        enabled: true,
        automatic_redelivery: true,
        authorized_events: AuthorizedEvents {
            everything: specific.is_empty(),
            specific_events: specific.iter().map(|s| s.to_string()).collect(),
        },
        created_at: chrono::Utc::now(),
    }
}

fn mark(inv: &crate::invoice::Invoice, mark: Mark) -> MarkInvoice {
    MarkInvoice {
        invoice_id: inv.id.clone(),
        mark,
        tip: 100,
        now: chrono::Utc::now(),
    }
}

#[actix_rt::test]
async fn webhooks_are_kept_replaced_and_deleted_and_survive_a_restart() {
    let (dir, store, reader) = started(1).await;
    store.send(SaveWebhook(hook("a", &[]))).await.unwrap().unwrap();
    store
        .send(SaveWebhook(hook("b", &["InvoiceSettled"])))
        .await
        .unwrap()
        .unwrap();
    let mut changed = hook("a", &["InvoiceExpired"]);
    changed.enabled = false;
    store.send(SaveWebhook(changed.clone())).await.unwrap().unwrap();
    assert_eq!(reader.webhooks().unwrap().len(), 2);
    assert_eq!(reader.webhook("a").unwrap(), Some(changed));
    store.send(DeleteWebhook("b".into())).await.unwrap().unwrap();
    assert!(matches!(
        store.send(DeleteWebhook("b".into())).await.unwrap(),
        Err(StoreError::NotFound)
    ));
    drop((store, reader));
    let reader = reopen(dir.path()).await.reader();
    assert_eq!(
        reader
            .webhooks()
            .unwrap()
            .iter()
            .map(|w| w.id.as_str())
            .collect::<Vec<_>>(),
        ["a"]
    );
}

#[actix_rt::test]
async fn a_mark_is_a_transition_with_its_event_and_a_refused_one_writes_nothing() {
    let (_dir, store, reader) = started(2).await;
    store.send(SaveWebhook(hook("gf", &[]))).await.unwrap().unwrap();
    let inv = store.send(create(Some("m"), 5_000)).await.unwrap().unwrap().invoice;
    let created = reader.invoice_events(&inv.id).unwrap();
    assert_eq!(
        created
            .iter()
            .map(|e| (e.kind, e.webhook.as_deref()))
            .collect::<Vec<_>>(),
        [(EventKind::Created, Some("gf"))],
        "InvoiceCreated for the webhook that wants everything, nothing of bchpay's own"
    );

    let applied = store.send(mark(&inv, Mark::Invalid)).await.unwrap().unwrap().unwrap();
    assert_eq!(applied.invoice.status, InvoiceStatus::Invalid);
    assert!(applied.invoice.marked);
    assert_eq!(applied.events, [EventKind::MarkedInvalid]);
    let again = store.send(mark(&inv, Mark::Invalid)).await.unwrap().unwrap();
    assert_eq!(again.err(), Some(MarkRefused));
    let stored = reader.invoice(&inv.id).unwrap().unwrap();
    assert_eq!((stored.status, stored.marked), (InvoiceStatus::Invalid, true));
    let events = reader.invoice_events(&inv.id).unwrap();
    let kinds: Vec<_> = events.iter().map(|e| (e.kind, e.webhook.as_deref(), e.state)).collect();
    assert_eq!(
        kinds[1..],
        [
            (EventKind::MarkedInvalid, None, DeliveryState::NoEndpoint),
            (EventKind::MarkedInvalid, Some("gf"), DeliveryState::Pending),
        ]
    );
    assert_eq!(events[2].greenfield.as_ref().unwrap()["manuallyMarked"], true);
    assert_eq!(events[2].greenfield.as_ref().unwrap()["type"], "InvoiceInvalid");

    let settled = store.send(mark(&inv, Mark::Settled)).await.unwrap().unwrap().unwrap();
    assert_eq!(settled.invoice.status, InvoiceStatus::Confirmed);
    assert!(matches!(
        store
            .send(MarkInvoice {
                invoice_id: crate::invoice::InvoiceId::from_bytes([0; 16]),
                ..mark(&inv, Mark::Settled)
            })
            .await
            .unwrap(),
        Err(StoreError::NotFound)
    ));
    assert_invariants(&reader);
}

#[actix_rt::test]
async fn no_invoice_created_event_is_kept_when_no_webhook_wants_it() {
    let (_dir, store, reader) = started(2).await;
    store
        .send(SaveWebhook(hook("plugin", &["InvoiceSettled"])))
        .await
        .unwrap()
        .unwrap();
    let inv = store.send(create(None, 5_000)).await.unwrap().unwrap().invoice;
    assert!(reader.invoice_events(&inv.id).unwrap().is_empty());
    assert_invariants(&reader);
}
