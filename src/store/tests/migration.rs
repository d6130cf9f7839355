//! Stores written in the two schema-2 layouts (made here through sled
//! directly, from their documented formats: `store/migrate.rs`) open,
//! migrate, and show every invoice, event and pool address again; a kill at
//! any point of the migration leaves a store the next open migrates.

use chrono::{TimeZone, Utc};

use super::*;
use crate::event::route::Routes;
use crate::event::{DeliveryState, Event};
use crate::invoice::lifecycle::{self, Observation, Policy};
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus, Payment};

/// The two layouts written under schema version 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Old {
    /// `by_time`: created-at millis (u64 BE) ‖ invoice id → invoice id.
    V2a,
    /// `by_time`: chunks of 64 invoice ids, `\n`-ended, key = chunk number (u64 BE).
    V2b,
}

/// What the old store holds.
pub(in crate::store) struct Written {
    /// Invoices in creation order.
    pub(in crate::store) invoices: Vec<Invoice>,
    /// Events in sequence order.
    events: Vec<Event>,
    /// Pooled addresses.
    pool: Vec<Address>,
}

/// Invoice `n` of the old store, with the events of its transitions.
fn old_invoice(n: u32, first_seq: u64) -> (Invoice, Vec<Event>, bool) {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::seconds(i64::from(n));
    let inv = Invoice::create(
        InvoiceId::generate(),
        draft(Some(&format!("O-{n}")), 1_000 + u64::from(n)),
        address(n),
        at,
    );
    let policy = Policy {
        tolerance_percent: 0,
        monitoring_secs: 0,
    };
    let payments = if n.is_multiple_of(4) {
        vec![Payment {
            txid: format!("{n:064x}"),
            amount_sats: inv.amount_sats,
            height: 100,
            outputs: Vec::new(),
            seen_at: at + chrono::Duration::days(1),
            settled: false,
        }]
    } else {
        Vec::new()
    };
    let now = if n.is_multiple_of(4) || n.is_multiple_of(7) {
        at + chrono::Duration::days(1)
    } else {
        at
    };
    let t = lifecycle::apply(
        &inv,
        &Observation {
            payments,
            tip: 100,
            now,
        },
        &policy,
    );
    let routes = Routes::new(
        "http://shop",
        (!n.is_multiple_of(3)).then(|| "http://hook/".to_owned()),
        true,
    );
    let mut events = routes.events(&t.invoice, &t.events, &[], first_seq, 0, 100, now);
    for e in &mut events {
        match e.seq % 5 {
            0 if e.state == DeliveryState::Pending => e.state = DeliveryState::Delivered,
            1 if e.state == DeliveryState::Pending => e.state = DeliveryState::Failed,
            _ => {}
        }
    }
    let watched = t.invoice.status == InvoiceStatus::New;
    (t.invoice, events, watched)
}

/// The invoice as schema 2 stored it: payments without `seen_at`, `outputs` and `settled` (schema 4).
fn schema_2_invoice(inv: &Invoice) -> Vec<u8> {
    let mut value = serde_json::to_value(inv).unwrap();
    for p in value["payments"].as_array_mut().unwrap() {
        p.as_object_mut().unwrap().remove("seen_at");
        p.as_object_mut().unwrap().remove("outputs");
        p.as_object_mut().unwrap().remove("settled");
    }
    serde_json::to_vec(&value).unwrap()
}

/// Chunks of 64 `\n`-ended lines, keyed by chunk number (u64 BE).
fn chunks(lines: &[String]) -> Vec<([u8; 8], Vec<u8>)> {
    lines
        .chunks(64)
        .enumerate()
        .map(|(i, c)| {
            (
                (i as u64).to_be_bytes(),
                c.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect(),
            )
        })
        .collect()
}

/// Writes a schema-2 store of `count` invoices in `layout` at `path`.
pub(in crate::store) fn write_old(path: &std::path::Path, layout: Old, count: u32) -> Written {
    let db = sled::open(path).unwrap();
    let tree = |name: &str| db.open_tree(name).unwrap();
    let mut written = Written {
        invoices: Vec::new(),
        events: Vec::new(),
        pool: (1000..1010).map(address).collect(),
    };
    let (mut created, mut refs) = (Vec::new(), Vec::new());
    let mut statuses = std::collections::HashMap::<&str, u64>::new();
    for n in 0..count {
        let (inv, events, watched) = old_invoice(n, written.events.len() as u64 + 1);
        let id = inv.id.as_str().as_bytes();
        tree("invoices").insert(id, schema_2_invoice(&inv)).unwrap();
        tree("by_address").insert(inv.address.as_str(), id).unwrap();
        tree("by_order").insert(inv.order_id.clone().unwrap(), id).unwrap();
        if layout == Old::V2a {
            let mut key = (inv.created_at.timestamp_millis() as u64).to_be_bytes().to_vec();
            key.extend_from_slice(id);
            tree("by_time").insert(key, id).unwrap();
        }
        created.push(inv.id.as_str().to_owned());
        if watched {
            tree("watch").insert(id, &[]).unwrap();
        }
        if !events.is_empty() {
            tree("events").insert(id, serde_json::to_vec(&events).unwrap()).unwrap();
        }
        for (i, e) in events.iter().enumerate() {
            refs.push(format!("{} {i}", inv.id.as_str()));
            if e.state == DeliveryState::Pending {
                tree("outbox").insert(e.seq.to_be_bytes(), &[]).unwrap();
            }
        }
        *statuses.entry(inv.status.as_str()).or_default() += 1;
        written.events.extend(events);
        written.invoices.push(inv);
    }
    if layout == Old::V2b {
        for (key, chunk) in chunks(&created) {
            tree("by_time").insert(key, chunk).unwrap();
        }
    }
    for (key, chunk) in chunks(&refs) {
        tree("event_log").insert(key, chunk).unwrap();
    }
    for a in &written.pool {
        tree("pool").insert(a.as_str(), &[]).unwrap();
    }
    let meta = tree("meta");
    meta.insert("schema_version", "2").unwrap();
    meta.insert("invoice_count", &u64::from(count).to_be_bytes()).unwrap();
    meta.insert("event_seq", &(written.events.len() as u64).to_be_bytes())
        .unwrap();
    for (status, n) in statuses {
        meta.insert(format!("status:{status}"), &n.to_be_bytes()).unwrap();
    }
    db.flush().unwrap();
    written
}

/// Opens the store at `path` once sled has let go of its lock.
pub(super) fn open_when_free(path: &std::path::Path) -> Result<Store, StoreError> {
    crate::store::open::when_unlocked(std::time::Duration::from_secs(5), || Store::open(path))
}

/// Every page of a listing, following the cursors.
fn all_pages<T>(mut page: impl FnMut(Option<&str>) -> (Vec<T>, Option<String>)) -> Vec<T> {
    let (mut all, mut cursor) = (Vec::new(), None::<String>);
    loop {
        let (items, next) = page(cursor.as_deref());
        all.extend(items);
        match next {
            Some(c) => cursor = Some(c),
            None => return all,
        }
    }
}

/// The migrated store shows everything the old one held.
pub(super) fn assert_migrated(reader: &StoreReader, old: &Written) {
    assert_eq!(reader.schema_version().unwrap(), Some(SCHEMA_VERSION));
    for inv in &old.invoices {
        assert_eq!(reader.invoice(&inv.id).unwrap().as_ref(), Some(inv));
        assert_eq!(reader.invoice_by_address(&inv.address).unwrap().as_ref(), Some(inv));
        assert_eq!(
            reader
                .invoice_by_order(inv.order_id.as_deref().unwrap())
                .unwrap()
                .as_ref(),
            Some(inv)
        );
    }
    let newest_first: Vec<_> = old.invoices.iter().rev().cloned().collect();
    assert_eq!(all_pages(|c| reader.list(None, None, 7, c).unwrap()), newest_first);
    for status in crate::store::layout::keys::STATUSES {
        let want: Vec<_> = newest_first.iter().filter(|i| i.status == status).cloned().collect();
        assert_eq!(
            all_pages(|c| reader.list(Some(status), None, 5, c).unwrap()),
            want,
            "{status}"
        );
    }
    assert_eq!(all_pages(|c| reader.events(None, None, 11, c).unwrap()), old.events);
    for state in [
        DeliveryState::Pending,
        DeliveryState::Delivered,
        DeliveryState::Failed,
        DeliveryState::NoEndpoint,
    ] {
        let want: Vec<_> = old.events.iter().filter(|e| e.state == state).cloned().collect();
        assert!(!want.is_empty(), "the old store has {state:?} events");
        assert_eq!(
            all_pages(|c| reader.events(None, Some(state), 4, c).unwrap()),
            want,
            "{state:?}"
        );
    }
    let mut pool = old.pool.clone();
    pool.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(reader.pool_addresses().unwrap(), pool, "the pool, in key order");
    assert_invariants(reader);
}

#[test]
fn stores_of_both_schema_2_layouts_migrate_and_keep_every_invoice_event_and_address() {
    for layout in [Old::V2a, Old::V2b] {
        let dir = tempfile::tempdir().unwrap();
        let old = write_old(dir.path(), layout, 150);

        let store = open_when_free(dir.path()).unwrap_or_else(|e| panic!("{layout:?}: {e}"));

        assert_migrated(&store.reader(), &old);
        drop(store);
        let again = open_when_free(dir.path()).unwrap();
        assert_migrated(&again.reader(), &old);
    }
}

#[test]
fn a_migration_killed_at_any_point_is_finished_by_the_next_open() {
    super::super::migrate::BATCH_OVERRIDE.with(|b| b.set(Some(40)));
    for layout in [Old::V2a, Old::V2b] {
        for kill_at in 1.. {
            let dir = tempfile::tempdir().unwrap();
            let old = write_old(dir.path(), layout, 150);
            super::super::migrate::KILL_AT.with(|k| k.set(Some(kill_at)));
            let killed = open_when_free(dir.path());
            super::super::migrate::KILL_AT.with(|k| k.set(None));
            let finished = killed.is_ok();
            drop(killed);

            let store = open_when_free(dir.path()).unwrap_or_else(|e| panic!("{layout:?} killed at {kill_at}: {e}"));

            assert_migrated(&store.reader(), &old);
            if finished {
                assert!(kill_at > 4, "{layout:?}: only {kill_at} kill points");
                break;
            }
        }
    }
}

#[actix_rt::test]
async fn a_migrated_store_takes_new_invoices_after_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let old = write_old(dir.path(), Old::V2a, 70);
    let (store, reader) = start(open_when_free(dir.path()).unwrap());

    let new = store.send(create(Some("after"), 5)).await.unwrap().unwrap().invoice;

    let (page, _) = reader.list(None, None, 2, None).unwrap();
    assert_eq!(page, vec![new, old.invoices[69].clone()]);
    assert_invariants(&reader);
}
