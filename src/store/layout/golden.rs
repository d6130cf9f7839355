//! Golden bytes: every key kind and value kind the store writes, pinned to
//! the exact bytes schema 4 writes. A test here fails when a format changes;
//! that is the point. If it fails because you changed a format on purpose,
//! bump `SCHEMA_VERSION`, add the migration (`store/migrate.rs`) and a test
//! on the old layout, then update the bytes here (layout.rs, "The rule").

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::keys::*;
use super::log::ChunkedLog;
use super::trees::TREES;
use super::values::*;
use super::SCHEMA_VERSION;
use crate::event::{Attempt, DeliveryState, Event};
use crate::invoice::lifecycle::EventKind;
use crate::invoice::{Invoice, InvoiceId, InvoiceStatus, NewInvoice, Payment, PaymentOutput};

/// An invoice with every field set, at a fixed time.
fn invoice() -> Invoice {
    let draft = NewInvoice {
        amount_sats: crate::money::Sats(70_000),
        fiat: None,
        order_id: Some("A-1".into()),
        description: Some("Gold".into()),
        metadata: json!({"k": "v"}),
        webhook_url: Some("https://shop.example/hook".into()),
        redirect_url: Some("https://shop.example/back".into()),
        expires_in_secs: 900,
        required_confirmations: 1,
    };
    let address = crate::cashaddr::Address::parse("bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2")
        .unwrap_or_else(|e| panic!("{e}"));
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let mut invoice = Invoice::create(InvoiceId::from_bytes([5; 16]), draft, address, at);
    invoice.status = InvoiceStatus::Paid;
    invoice.payments = vec![Payment {
        txid: "ab".repeat(32),
        amount_sats: crate::money::Sats(70_000),
        height: 0,
        outputs: vec![PaymentOutput {
            vout: 1,
            amount_sats: crate::money::Sats(70_000),
        }],
        seen_at: at,
        settled: false,
    }];
    invoice.paid_at = Some(at);
    invoice
}

#[test]
fn the_tree_list_and_the_version_are_pinned() {
    assert_eq!(SCHEMA_VERSION, 4);
    assert_eq!(
        TREES,
        [
            "invoices",
            "by_address",
            "by_order",
            "by_time",
            "by_status",
            "watch",
            "pool",
            "events",
            "event_log",
            "outbox",
            "by_event_state",
            "meta",
            "api_keys",
            "webhooks"
        ]
    );
}

#[test]
fn keys_are_pinned() {
    assert_eq!(Seq(258).encode(), [0, 0, 0, 0, 0, 0, 1, 2]);
    assert_eq!(ChunkNo(3).encode(), [0, 0, 0, 0, 0, 0, 0, 3]);
    let status = |status, position| StatusKey { status, position }.encode();
    assert_eq!(status(InvoiceStatus::New, 258), [1, 0, 0, 0, 0, 0, 0, 1, 2]);
    assert_eq!(status(InvoiceStatus::Paid, 0)[0], 2);
    assert_eq!(status(InvoiceStatus::Confirmed, 0)[0], 3);
    assert_eq!(status(InvoiceStatus::Expired, 0)[0], 4);
    assert_eq!(status(InvoiceStatus::Invalid, 0)[0], 5);
    let state = |state, seq| EventStateKey { state, seq }.encode();
    assert_eq!(state(DeliveryState::Pending, 1), None);
    assert_eq!(state(DeliveryState::Delivered, 258), Some([2, 0, 0, 0, 0, 0, 0, 1, 2]));
    assert_eq!(state(DeliveryState::Failed, 1).map(|k| k[0]), Some(3));
    assert_eq!(state(DeliveryState::NoEndpoint, 1).map(|k| k[0]), Some(4));
    let meta: Vec<Vec<u8>> = [
        MetaKey::SchemaVersion,
        MetaKey::InvoiceCount,
        MetaKey::EventSeq,
        MetaKey::Status(InvoiceStatus::New),
        MetaKey::Status(InvoiceStatus::Invalid),
        MetaKey::MigratingFrom,
        MetaKey::GreenfieldStoreId,
    ]
    .map(MetaKey::encode)
    .into();
    assert_eq!(
        meta,
        [
            &b"schema_version"[..],
            b"invoice_count",
            b"event_seq",
            b"status:new",
            b"status:invalid",
            b"migrating_from",
            b"greenfield_store_id"
        ]
    );
}

#[test]
fn keys_read_back_and_bad_ones_are_corrupt() {
    let key = StatusKey {
        status: InvoiceStatus::Expired,
        position: 9,
    };
    assert_eq!(StatusKey::decode(&key.encode()).ok(), Some(key));
    let key = EventStateKey {
        state: DeliveryState::Failed,
        seq: 9,
    };
    assert_eq!(key.encode().map(|k| EventStateKey::decode(&k).ok()), Some(Some(key)));
    assert!(StatusKey::decode(&[9, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    assert!(EventStateKey::decode(&[1, 0, 0, 0, 0, 0, 0, 0, 1]).is_err());
    assert!(Seq::decode(&[1, 2]).is_err());
}

#[test]
fn counters_and_the_version_are_pinned() {
    assert_eq!(encode_counter(258), [0, 0, 0, 0, 0, 0, 1, 2]);
    assert_eq!(decode_counter(None).ok(), Some(0));
    assert_eq!(encode_schema_version(4), b"4");
    assert_eq!(decode_schema_version(b"4").ok(), Some(4));
}

#[test]
fn the_stored_invoice_is_pinned() {
    let expected = concat!(
        r#"{"position":7,"invoice":{"id":"inv_"#,
        "{ID}",
        r#"","status":"paid","exception":null,"amount_sats":70000,"#,
        r#""address":"bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2","order_id":"A-1","#,
        r#""description":"Gold","metadata":{"k":"v"},"webhook_url":"https://shop.example/hook","#,
        r#""redirect_url":"https://shop.example/back","required_confirmations":1,"#,
        r#""payments":[{"txid":"{TXID}","amount_sats":70000,"height":0,"#,
        r#""outputs":[{"vout":1,"amount_sats":70000}],"seen_at":"2026-01-02T03:04:05Z"}],"#,
        r#""created_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T03:19:05Z","#,
        r#""paid_at":"2026-01-02T03:04:05Z","confirmed_at":null}}"#
    );
    let inv = invoice();
    let expected = expected
        .replace("inv_{ID}", inv.id.as_str())
        .replace("{TXID}", &"ab".repeat(32));
    let stored = encode_invoice(7, &inv).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&stored), expected);
    assert_eq!(
        decode_invoice(&stored).ok(),
        Some(StoredInvoice {
            position: 7,
            invoice: inv
        })
    );
}

#[test]
fn a_fiat_invoice_is_pinned_and_a_bch_one_reads_without_the_fiat_fields() {
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let mut inv = invoice();
    inv.currency = "KRW".into();
    inv.price = Some(rust_decimal::Decimal::new(15_000, 0));
    inv.rate = Some(rust_decimal::Decimal::new(6_123_455, 1));
    inv.rate_sources = vec!["upbit".into(), "bithumb".into()];
    inv.rate_at = Some(at);
    let stored =
        String::from_utf8(encode_invoice(7, &inv).unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        stored.contains(concat!(
            r#""amount_sats":70000,"currency":"KRW","price":"15000","rate":"612345.5","#,
            r#""rate_sources":["upbit","bithumb"],"rate_at":"2026-01-02T03:04:05Z","address""#
        )),
        "{stored}"
    );
    assert_eq!(decode_invoice(stored.as_bytes()).ok().map(|s| s.invoice), Some(inv));
    // A BCH invoice is stored without them and reads back priced in BCH.
    let bch = String::from_utf8(encode_invoice(7, &invoice()).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!bch.contains("currency") && !bch.contains("rate"), "{bch}");
    let read = decode_invoice(bch.as_bytes()).unwrap_or_else(|e| panic!("{e}")).invoice;
    assert_eq!((read.currency.as_str(), read.price, read.rate), ("BCH", None, None));
}

#[test]
fn an_api_key_is_pinned() {
    use crate::api_key::{ApiKeyRecord, KeyDigest, KeyId, Permission, Permissions};
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let record = ApiKeyRecord {
        id: KeyId::parse("key_0123456789abcdef").unwrap_or_else(|_| panic!("a key id")),
        label: "web shop".into(),
        digest: KeyDigest::of("k"),
        permissions: Permissions::of([Permission::CanCreateInvoice, Permission::CanViewInvoices]),
        created_at: at,
        last_used_at: None,
    };
    let expected = format!(
        concat!(
            r#"{{"id":"key_0123456789abcdef","label":"web shop","digest":"{}","#,
            r#""permissions":["btcpay.store.canviewinvoices","btcpay.store.cancreateinvoice"],"#,
            r#""created_at":"2026-01-02T03:04:05Z","last_used_at":null}}"#
        ),
        hex::encode(KeyDigest::of("k").0)
    );
    let stored = encode_api_key(&record).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&stored), expected);
    assert_eq!(decode_api_key(&stored).ok(), Some(record));
}

#[test]
fn the_events_of_an_invoice_are_pinned() {
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let event = Event {
        id: "evt_x_0123456789abcdef".into(),
        seq: 4,
        kind: EventKind::Paid,
        invoice_id: InvoiceId::from_bytes([5; 16]),
        sequence: 2,
        created_at: at,
        invoice: json!({"status": "paid"}),
        url: Some("https://shop.example/hook".into()),
        state: DeliveryState::Failed,
        attempts: vec![Attempt {
            at,
            status: Some(500),
            error: Some("HTTP 500".into()),
        }],
        next_attempt_at: None,
        round_start: 0,
        webhook: None,
        greenfield: None,
    };
    let expected = format!(
        concat!(
            r#"[{{"id":"evt_x_0123456789abcdef","seq":4,"kind":"invoice.paid","invoice_id":"{}","#,
            r#""sequence":2,"created_at":"2026-01-02T03:04:05Z","invoice":{{"status":"paid"}},"#,
            r#""url":"https://shop.example/hook","state":"failed","#,
            r#""attempts":[{{"at":"2026-01-02T03:04:05Z","status":500,"error":"HTTP 500"}}],"#,
            r#""next_attempt_at":null,"round_start":0}}]"#
        ),
        event.invoice_id.as_str()
    );
    let stored = encode_events(std::slice::from_ref(&event)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&stored), expected);
    assert_eq!(decode_events(&stored).ok(), Some(vec![event]));
    assert_eq!(decode_event_states(&stored).ok(), Some(vec![DeliveryState::Failed]));
}

#[test]
fn a_registered_webhook_and_its_events_are_pinned() {
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let webhook = crate::event::registered::RegisteredWebhook {
        id: "wh1".into(),
        store_id: "st1".into(),
        url: "https://shop.example/?wc-api=btcpaygf_default".into(),
        secret: "sec".into(),
        enabled: true,
        automatic_redelivery: false,
        authorized_events: crate::greenfield::types::AuthorizedEvents {
            everything: false,
            specific_events: vec!["InvoiceSettled".into()],
        },
        created_at: at,
    };
    let expected = concat!(
        r#"{"id":"wh1","store_id":"st1","url":"https://shop.example/?wc-api=btcpaygf_default","#,
        r#""secret":"sec","enabled":true,"automatic_redelivery":false,"#,
        r#""authorized_events":{"everything":false,"specificEvents":["InvoiceSettled"]},"#,
        r#""created_at":"2026-01-02T03:04:05Z"}"#
    );
    let stored = super::webhooks::encode_webhook(&webhook).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(String::from_utf8_lossy(&stored), expected);
    assert_eq!(super::webhooks::decode_webhook(&stored).ok(), Some(webhook));

    let event = Event::new(
        4,
        EventKind::PaymentSettled,
        InvoiceId::from_bytes([5; 16]),
        2,
        json!({}),
        Some("https://shop.example/".into()),
        at,
    )
    .for_webhook("wh1", json!({"type": "InvoicePaymentSettled"}));
    let stored = encode_events(std::slice::from_ref(&event)).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&stored).replace(&event.id, "ID");
    assert!(
        text.contains(r#""kind":"invoice.payment_settled""#)
            && text.ends_with(r#""round_start":0,"webhook":"wh1","greenfield":{"type":"InvoicePaymentSettled"}}]"#),
        "{text}"
    );
    assert_eq!(decode_events(&stored).ok(), Some(vec![event]));
}

#[test]
fn an_event_reference_and_a_log_chunk_are_pinned() {
    let id = InvoiceId::from_bytes([9; 16]);
    assert_eq!(event_ref(&id, 2), format!("{} 2", id.as_str()));
    assert_eq!(parse_event_ref(&event_ref(&id, 2)).ok(), Some((id, 2)));
    for bad in [
        "",
        "inv_x 1",
        "inv_0000000000000000000001",
        "inv_0000000000000000000001 -1",
    ] {
        assert!(parse_event_ref(bad).is_err(), "{bad}");
    }
    let db = sled::Config::new()
        .temporary(true)
        .open()
        .unwrap_or_else(|e| panic!("{e}"));
    let log = ChunkedLog::new(db.open_tree("log").unwrap_or_else(|e| panic!("{e}")));
    let chunks = log
        .plan_append(0, ["a".to_owned(), "b".to_owned()])
        .unwrap_or_else(|e| panic!("{e}"));
    let chunks: Vec<_> = chunks.into_iter().map(|(k, c)| (k.encode(), c)).collect();
    assert_eq!(chunks, [([0, 0, 0, 0, 0, 0, 0, 0], b"a\nb\n".to_vec())]);
}

#[test]
fn damaged_values_are_corrupt_not_a_panic() {
    for bytes in [&b""[..], b"\0\0", b"[{}]", b"{\"id\": 1}"] {
        assert!(decode_invoice(bytes).is_err(), "{bytes:?}");
        assert!(decode_events(bytes).is_err(), "{bytes:?}");
    }
}
