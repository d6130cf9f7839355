//! The paid invoice, as the plugin sees it: the four webhooks of a payment
//! arriving signed, then (the driver's paid phase) the invoice `Settled` and
//! its payment method paid; the deliveries recorded; a redelivery.

use serde_json::{json, Value};

use super::driver::ok;
use super::schema::Schemas;
use super::signature;
use crate::helpers::receiver::Delivery;

/// `sats` as a BCH decimal string with 8 decimals.
pub fn bch(sats: u64) -> String {
    format!("{}.{:08}", sats / 100_000_000, sats % 100_000_000)
}

/// Whether two decimal strings are the same number ("412.40" and "412.4").
pub fn same_decimal(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    norm(a) == norm(b)
}

/// What bchpay's own API says of the invoice.
pub struct Own {
    /// Greenfield's invoice id (bchpay's).
    pub id: String,
    /// The address paid.
    pub address: String,
    /// The BCH amount in satoshis.
    pub amount_sats: u64,
    /// The locked rate, a decimal string.
    pub rate: String,
}

/// The invoice's payment method before a payment: nothing paid, all due.
pub fn check_unpaid_method(out: &Value, own: &Own) {
    let pms = ok(out, "invoicePaymentMethods").as_array().expect("an array");
    assert_eq!(pms.len(), 1, "{}: {pms:?}", out["client"]);
    let pm = &pms[0];
    let amount = bch(own.amount_sats);
    assert_eq!(pm["paymentMethodId"], "BCH-CHAIN", "{pm}");
    assert_eq!(pm["currency"], "BCH", "{pm}");
    assert_eq!(pm["destination"], own.address.as_str(), "{pm}");
    assert_eq!(pm["amount"], amount.as_str(), "{pm}");
    assert_eq!(pm["due"], amount.as_str(), "{pm}");
    assert_eq!(
        (&pm["paymentMethodPaid"], &pm["totalPaid"]),
        (&json!("0.00000000"), &json!("0.00000000"))
    );
    assert_eq!(pm["paymentMethodFee"], "0.00000000", "{pm}");
    assert!(
        same_decimal(pm["rate"].as_str().expect("a rate string"), &own.rate),
        "{pm} vs {}",
        own.rate
    );
    assert_eq!(pm["payments"], json!([]), "{pm}");
}

/// The four events of the paid invoice, in order, each signed with `secret`,
/// of its schema, with the payment `txid-vout`; returns that payment id.
pub fn check_payment_events(
    schemas: &Schemas,
    got: &[Delivery],
    secret: &str,
    (store_id, webhook_id, order_id): (&str, &str, &str),
    own: &Own,
    txid: &str,
) -> String {
    let of_invoice: Vec<&Delivery> = got
        .iter()
        .filter(|d| d.json()["invoiceId"] == own.id.as_str())
        .collect();
    let kinds: Vec<String> = of_invoice.iter().map(|d| d.kind()).collect();
    assert_eq!(
        kinds,
        [
            "InvoiceReceivedPayment",
            "InvoiceProcessing",
            "InvoicePaymentSettled",
            "InvoiceSettled"
        ],
        "the plugin's events for the paid invoice, in order (and InvoiceCreated filtered out)"
    );
    let amount = bch(own.amount_sats);
    let mut payment_id = String::new();
    for d in &of_invoice {
        signature::assert_signed(d, secret);
        let body = d.json();
        schemas.check_event(&body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body["storeId"], store_id, "{body}");
        assert_eq!(body["webhookId"], webhook_id, "{body}");
        assert_eq!(body["metadata"]["orderId"], order_id, "{body}");
        assert_eq!(body["isRedelivery"], false, "{body}");
        assert_eq!(body["originalDeliveryId"], body["deliveryId"], "{body}");
        match body["type"].as_str() {
            Some("InvoiceReceivedPayment") | Some("InvoicePaymentSettled") => {
                assert_eq!(body["afterExpiration"], false, "{body}");
                assert_eq!(body["paymentMethodId"], "BCH-CHAIN", "{body}");
                let p = &body["payment"];
                let id = p["id"].as_str().expect("a payment id");
                let vout = id
                    .strip_prefix(&format!("{txid}-"))
                    .unwrap_or_else(|| panic!("{id} is not {txid}-vout"));
                assert!(
                    !vout.is_empty() && vout.bytes().all(|b| b.is_ascii_digit()),
                    "vout of {id}"
                );
                assert!(
                    payment_id.is_empty() || payment_id == id,
                    "two payment ids: {payment_id}, {id}"
                );
                payment_id = id.to_owned();
                assert_eq!(
                    (&p["value"], &p["destination"]),
                    (&json!(amount), &json!(own.address)),
                    "{body}"
                );
                let settled = body["type"] == "InvoicePaymentSettled";
                assert_eq!(p["status"], if settled { "Settled" } else { "Processing" }, "{body}");
            }
            Some("InvoiceProcessing") => assert_eq!(body["overPaid"], false, "{body}"),
            _ => assert_eq!(
                (&body["overPaid"], &body["manuallyMarked"]),
                (&json!(false), &json!(false))
            ),
        }
    }
    payment_id
}

/// The paid phase: the invoice `Settled`, its payment method paid, the
/// plugin reading the payment, the deliveries recorded; the new delivery id
/// of the redelivery and the id of the delivery it repeats (the oldest).
pub fn check_paid(
    out: &Value,
    own: &Own,
    (txid, payment_id): (&str, &str),
    created_at: i64,
    now: i64,
) -> (String, String) {
    let client = &out["client"];
    let inv = ok(out, "invoiceGet");
    assert_eq!(
        (&inv["status"], &inv["additionalStatus"]),
        (&json!("Settled"), &json!("None")),
        "{client}"
    );
    assert_eq!(out["plugin"]["isSettled"], true, "{client}");
    let pms = ok(out, "invoicePaymentMethods").as_array().expect("an array");
    let pm = &pms[0];
    let amount = bch(own.amount_sats);
    assert_eq!(
        (&pm["paymentMethodPaid"], &pm["totalPaid"]),
        (&json!(amount), &json!(amount)),
        "{client}: {pm}"
    );
    let due = pm["due"].as_str().expect("due");
    assert!(due.starts_with('0') && same_decimal(due, "0"), "{client}: due {due}");
    let payments = pm["payments"].as_array().expect("payments");
    assert_eq!(payments.len(), 1, "{client}: {pm}");
    let p = &payments[0];
    assert_eq!(p["id"], payment_id, "{client}: the same id as in the webhooks");
    let received = p["receivedDate"].as_i64().expect("an integer receivedDate");
    assert!(
        (created_at..=now).contains(&received),
        "{client}: receivedDate {received}"
    );
    assert_eq!(
        (&p["value"], &p["status"], &p["fee"]),
        (&json!(amount), &json!("Settled"), &json!("0.00000000"))
    );
    assert_eq!(p["destination"], own.address.as_str());
    // What updateWCOrderPayments() takes from it.
    let seen = &out["plugin"]["payments"];
    assert_eq!(
        seen,
        &json!([{"paymentMethod": "BCH-CHAIN", "transactionId": txid, "receivedTimestamp": received,
                 "value": amount, "status": "Settled"}]),
        "{client}"
    );
    // The deliveries, newest first, all answered 200 by the shop.
    let deliveries = ok(out, "webhookDeliveries").as_array().expect("deliveries");
    assert!(deliveries.len() >= 5, "{client}: {deliveries:?}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["status"] == "HttpSuccess" && d["httpCode"] == 200),
        "{client}: {deliveries:?}"
    );
    let times: Vec<i64> = deliveries
        .iter()
        .map(|d| d["timestamp"].as_i64().unwrap_or(0))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "{client}: not newest first: {times:?}"
    );
    let again = ok(out, "webhookRedeliver")
        .as_str()
        .expect("a delivery id string")
        .to_owned();
    assert!(
        deliveries.iter().all(|d| d["id"] != again.as_str()),
        "{client}: a new delivery id"
    );
    let original = deliveries.last().and_then(|d| d["id"].as_str()).expect("a delivery id");
    (again, original.to_owned())
}
