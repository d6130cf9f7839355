use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::greenfield::types::PaymentStatus;

const STORE: &str = "6Vn3s9yKp2QdXwZtR8cLmB4jHaE7fGuN1oPqWxYz5Ak";
const INVOICE: &str = "inv_4fQ2mZ8rT1xKp9sL3vB7nC";

fn payment(status: PaymentStatus) -> GreenfieldPayment {
    GreenfieldPayment {
        id: format!("{}-1", "a1".repeat(32)),
        received_date: 1_765_000_100,
        value: "0.04113333".to_owned(),
        fee: "0.00000000".to_owned(),
        status,
        destination: "bitcoincash:qrt5k6j4v6acljaym985h7xl49a2y8aufunmwusnen".to_owned(),
    }
}

fn all_facts() -> Vec<InvoiceFacts> {
    vec![
        InvoiceFacts::Created,
        InvoiceFacts::ReceivedPayment {
            after_expiration: false,
            payment: payment(PaymentStatus::Processing),
        },
        InvoiceFacts::PaymentSettled {
            after_expiration: true,
            payment: payment(PaymentStatus::Settled),
        },
        InvoiceFacts::Processing { over_paid: false },
        InvoiceFacts::Settled {
            over_paid: true,
            manually_marked: false,
        },
        InvoiceFacts::Expired { partially_paid: true },
        InvoiceFacts::Invalid { manually_marked: true },
    ]
}

fn build(facts: &InvoiceFacts) -> Value {
    let metadata = json!({"orderId": "1042", "posData": "{\"a\":1}", "taxIncluded": "1.10"});
    let at = Utc.timestamp_opt(1_765_000_101, 0).single().unwrap_or_default();
    body(
        &DeliveryIds::first("dlv_1", "wh_1"),
        InvoiceRef {
            store_id: STORE,
            invoice_id: INVOICE,
            metadata: &metadata,
        },
        at,
        facts,
    )
}

/// The keys of a body, sorted.
fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

#[test]
fn every_body_has_the_common_fields_with_their_json_types() {
    for facts in all_facts() {
        let b = build(&facts);
        assert_eq!(b["deliveryId"], "dlv_1");
        assert_eq!(b["webhookId"], "wh_1");
        assert_eq!(b["originalDeliveryId"], "dlv_1");
        assert_eq!(b["isRedelivery"], false);
        assert_eq!(b["type"], facts.event_type().as_str());
        assert!(
            b["timestamp"].is_i64(),
            "timestamp must be an integer: {}",
            b["timestamp"]
        );
        assert_eq!(b["timestamp"], 1_765_000_101);
        assert_eq!(b["storeId"], STORE);
        assert_eq!(b["invoiceId"], INVOICE);
        assert_eq!(b["metadata"]["orderId"], "1042");
    }
}

#[test]
fn each_type_carries_exactly_its_fields_always_present() {
    let common = [
        "deliveryId",
        "invoiceId",
        "isRedelivery",
        "metadata",
        "originalDeliveryId",
        "storeId",
        "timestamp",
        "type",
        "webhookId",
    ];
    let expected: [&[&str]; 7] = [
        &[],
        &["afterExpiration", "payment", "paymentMethodId"],
        &["afterExpiration", "payment", "paymentMethodId"],
        &["overPaid"],
        &["manuallyMarked", "overPaid"],
        &["partiallyPaid"],
        &["manuallyMarked"],
    ];
    for (facts, own) in all_facts().iter().zip(expected) {
        let mut want: Vec<String> = common.iter().chain(own).map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(keys(&build(facts)), want, "{:?}", facts.event_type());
    }
}

#[test]
fn flags_are_json_booleans_with_the_given_values() {
    let b = build(&InvoiceFacts::Settled {
        over_paid: true,
        manually_marked: false,
    });
    assert_eq!(
        (b["overPaid"].clone(), b["manuallyMarked"].clone()),
        (json!(true), json!(false))
    );
    let b = build(&InvoiceFacts::Expired { partially_paid: true });
    assert_eq!(b["partiallyPaid"], json!(true));
    let b = build(&InvoiceFacts::Invalid { manually_marked: true });
    assert_eq!(b["manuallyMarked"], json!(true));
    let b = build(&InvoiceFacts::Processing { over_paid: false });
    assert_eq!(b["overPaid"], json!(false));
}

#[test]
fn payment_events_carry_the_payment_in_greenfield_shape() {
    let b = build(&InvoiceFacts::PaymentSettled {
        after_expiration: true,
        payment: payment(PaymentStatus::Settled),
    });
    assert_eq!(b["afterExpiration"], true);
    assert_eq!(b["paymentMethodId"], "BCH-CHAIN");
    let p = &b["payment"];
    assert_eq!(keys(p), ["destination", "fee", "id", "receivedDate", "status", "value"]);
    assert_eq!(p["id"], format!("{}-1", "a1".repeat(32)));
    assert!(p["receivedDate"].is_i64());
    assert_eq!(p["value"], "0.04113333");
    assert_eq!(p["fee"], "0.00000000");
    assert_eq!(p["status"], "Settled");
}

#[test]
fn a_metadata_that_is_not_an_object_is_sent_as_an_empty_object() {
    let at = Utc.timestamp_opt(1_765_000_000, 0).single().unwrap_or_default();
    let b = body(
        &DeliveryIds::first("d", "w"),
        InvoiceRef {
            store_id: STORE,
            invoice_id: INVOICE,
            metadata: &Value::Null,
        },
        at,
        &InvoiceFacts::Created,
    );
    assert_eq!(b["metadata"], json!({}));
}

#[test]
fn a_redelivery_keeps_the_original_delivery_id() {
    let first = DeliveryIds::first("dlv_1", "wh_1");
    let again = first.redelivery("dlv_2").redelivery("dlv_3");
    assert_eq!(again.delivery_id, "dlv_3");
    assert_eq!(again.original_delivery_id, "dlv_1");
    assert!(again.is_redelivery);
    let b = body(
        &again,
        InvoiceRef {
            store_id: STORE,
            invoice_id: INVOICE,
            metadata: &json!({}),
        },
        Utc.timestamp_opt(1, 0).single().unwrap_or_default(),
        &InvoiceFacts::Created,
    );
    assert_eq!(
        (
            b["deliveryId"].clone(),
            b["originalDeliveryId"].clone(),
            b["isRedelivery"].clone()
        ),
        (json!("dlv_3"), json!("dlv_1"), json!(true))
    );
}

#[test]
fn event_types_read_back_their_names_and_nothing_else() {
    for t in EventType::ALL {
        assert_eq!(EventType::parse(t.as_str()), Some(t));
    }
    assert_eq!(EventType::parse("invoiceSettled"), None);
    assert_eq!(EventType::parse("InvoicePaidAfterExpiration"), None);
}

#[test]
fn the_signature_is_lowercase_hex_hmac_sha256_of_the_exact_bytes() {
    // Known answers from Python's hmac (the same function as PHP's hash_hmac).
    assert_eq!(
        btcpay_sig("key", b"The quick brown fox jumps over the lazy dog"),
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
    assert_eq!(
        btcpay_sig("3kQ9vX2mP7sT4wL8nB5cR1yH6jF0gD", br#"{"deliveryId":"d1"}"#),
        "sha256=52ebcaa011c7971e741f997173cc4cbf0c3ad28f28cfc9661a9c436d6583558a"
    );
}

#[test]
fn the_check_accepts_only_the_exact_header_over_the_exact_body() {
    let bytes = to_bytes(&build(&InvoiceFacts::Processing { over_paid: false }));
    let sig = btcpay_sig("s3cret", &bytes);
    assert!(verify_btcpay_sig("s3cret", &sig, &bytes));
    assert!(!verify_btcpay_sig("s3cret", &sig.to_uppercase(), &bytes));
    assert!(!verify_btcpay_sig("s3cret", sig.trim_start_matches("sha256="), &bytes));
    assert!(!verify_btcpay_sig("other", &sig, &bytes));
    let mut changed = bytes.clone();
    changed.push(b' ');
    assert!(!verify_btcpay_sig("s3cret", &sig, &changed));
    assert!(!verify_btcpay_sig("s3cret", "", &bytes));
    assert!(!verify_btcpay_sig("s3cret", &btcpay_sig("s3cret", b""), b""));
}

#[test]
fn the_bytes_are_the_body_as_json() {
    let b = build(&InvoiceFacts::Created);
    let back: Value = serde_json::from_slice(&to_bytes(&b)).unwrap_or_default();
    assert_eq!(back, b);
}
