use chrono::{Duration, TimeZone};
use serde_json::json;

use super::*;
use crate::event::route::{destinations, Destination, Routes};
use crate::event::DeliveryState;
use crate::greenfield::webhook_body::verify_btcpay_sig;
use crate::invoice::lifecycle::{self, Emitted, Observation, Policy};
use crate::invoice::{InvoiceId, NewInvoice, Payment, PaymentOutput};
use crate::money::Sats;

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, 0).unwrap()
}

fn hook(id: &str, everything: bool, specific: &[&str]) -> RegisteredWebhook {
    RegisteredWebhook {
        id: id.into(),
        store_id: "store1".into(),
        url: format!("http://shop/{id}"),
        secret: "s3cret-value".into(),
        enabled: true,
        automatic_redelivery: true,
        authorized_events: AuthorizedEvents {
            everything,
            specific_events: specific.iter().map(|s| s.to_string()).collect(),
        },
        created_at: t(0),
    }
}

/// An invoice for 10,000 sat, 0 confirmations required, paid by one
/// transaction of two outputs at t(10).
fn paid_invoice(required_confirmations: u32) -> (Invoice, lifecycle::Transition) {
    let draft = NewInvoice {
        amount_sats: Sats(10_000),
        fiat: None,
        order_id: Some("42".into()),
        description: None,
        metadata: json!({"orderId": "42"}),
        webhook_url: None,
        redirect_url: None,
        expires_in_secs: 900,
        required_confirmations,
    };
    let address = crate::cashaddr::Address::parse("bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2").unwrap();
    let inv = Invoice::create(InvoiceId::from_bytes([9; 16]), draft, address, t(0));
    let outputs = vec![
        PaymentOutput {
            vout: 0,
            amount_sats: Sats(4_000),
        },
        PaymentOutput {
            vout: 2,
            amount_sats: Sats(6_000),
        },
    ];
    let seen = Observation {
        payments: vec![Payment::from_outputs("ab".repeat(32), 0, outputs, t(10))],
        tip: 100,
        now: t(10),
    };
    let policy = Policy {
        tolerance_percent: 0,
        monitoring_secs: 0,
    };
    let tr = lifecycle::apply(&inv, &seen, &policy);
    (inv, tr)
}

#[test]
fn the_debug_output_hides_the_secret() {
    let text = format!("{:?}", hook("w1", true, &[]));
    assert!(!text.contains("s3cret-value"), "{text}");
    assert!(text.contains("<hidden>"));
}

#[test]
fn a_registered_webhook_gets_what_its_authorized_events_allow_and_only_while_enabled() {
    let routes = Routes::new("http://pay", None, false);
    let (_, tr) = paid_invoice(1);
    let inv = &tr.invoice;
    let plugin = hook(
        "plugin",
        false,
        &[
            "InvoiceReceivedPayment",
            "InvoicePaymentSettled",
            "InvoiceProcessing",
            "InvoiceSettled",
        ],
    );
    let all = hook("all", true, &[]);
    let mut off = hook("off", true, &[]);
    off.enabled = false;
    let hooks = [plugin, all, off];
    assert_eq!(
        destinations(inv, EventKind::Expired, &routes, &hooks),
        vec![Destination::Registered {
            id: "all".into(),
            url: "http://shop/all".into()
        }]
    );
    assert_eq!(destinations(inv, EventKind::Paid, &routes, &hooks).len(), 2);
    // bchpay's own destination never gets a Greenfield-only kind.
    let own = Routes::new("http://pay", Some("http://own/".into()), true);
    assert_eq!(destinations(inv, EventKind::PaymentSettled, &own, &[]), vec![]);
    assert_eq!(destinations(inv, EventKind::Created, &own, &[]), vec![]);
    assert_eq!(
        destinations(inv, EventKind::MarkedInvalid, &own, &[]),
        vec![Destination::Url("http://own/".into())]
    );
}

#[test]
fn at_zero_confirmations_the_events_come_in_the_order_of_the_spec_one_per_output() {
    let (_, tr) = paid_invoice(0);
    assert_eq!(
        tr.events,
        vec![
            Emitted::payment(EventKind::PaymentReceived, &"ab".repeat(32)),
            Emitted::payment(EventKind::PaymentSettled, &"ab".repeat(32)),
            Emitted::invoice(EventKind::Paid),
            Emitted::invoice(EventKind::Confirmed),
        ]
    );
    let routes = Routes::new("http://pay", Some("http://own/".into()), true);
    let events = routes.events(&tr.invoice, &tr.events, &[hook("gf", true, &[])], 1, 0, 100, t(10));
    let seen: Vec<(Option<&str>, &str, Option<&str>)> = events
        .iter()
        .map(|e| {
            let gf = e.greenfield.as_ref().map(|b| b["type"].as_str().unwrap_or(""));
            (e.webhook.as_deref(), e.kind.type_name(), gf)
        })
        .collect();
    let own = |t| (None, t, None);
    let gf = |t, g| (Some("gf"), t, Some(g));
    assert_eq!(
        seen,
        vec![
            own("invoice.payment_received"),
            gf("invoice.payment_received", "InvoiceReceivedPayment"),
            gf("invoice.payment_received", "InvoiceReceivedPayment"),
            gf("invoice.payment_settled", "InvoicePaymentSettled"),
            gf("invoice.payment_settled", "InvoicePaymentSettled"),
            own("invoice.paid"),
            gf("invoice.paid", "InvoiceProcessing"),
            own("invoice.confirmed"),
            gf("invoice.confirmed", "InvoiceSettled"),
        ]
    );
    assert_eq!(
        events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=9).collect::<Vec<_>>()
    );
    let first = events[1].greenfield.as_ref().unwrap();
    let txid = "ab".repeat(32);
    assert_eq!(first["payment"]["id"], format!("{txid}-0"));
    assert_eq!(first["payment"]["value"], "0.00004000");
    assert_eq!(first["payment"]["receivedDate"], t(10).timestamp());
    assert_eq!(first["payment"]["status"], "Settled");
    assert_eq!(first["payment"]["fee"], "0.00000000");
    assert_eq!(first["afterExpiration"], false);
    assert_eq!(first["paymentMethodId"], "BCH-CHAIN");
    assert_eq!(first["storeId"], "store1");
    assert_eq!(first["metadata"], json!({"orderId": "42"}));
    assert_eq!(
        events[2].greenfield.as_ref().unwrap()["payment"]["id"],
        format!("{txid}-2")
    );
    let settled = events[8].greenfield.as_ref().unwrap();
    assert_eq!(
        (settled["overPaid"].clone(), settled["manuallyMarked"].clone()),
        (json!(false), json!(false))
    );
    assert!(events.iter().all(|e| e.state == DeliveryState::Pending));
}

#[test]
fn greenfield_only_kinds_nobody_wants_are_not_kept_and_own_kinds_are_kept_as_no_endpoint() {
    let (_, tr) = paid_invoice(0);
    let events = Routes::new("http://pay", None, true).events(&tr.invoice, &tr.events, &[], 1, 0, 100, t(10));
    assert_eq!(
        events.iter().map(|e| (e.kind.type_name(), e.state)).collect::<Vec<_>>(),
        vec![
            ("invoice.payment_received", DeliveryState::NoEndpoint),
            ("invoice.paid", DeliveryState::NoEndpoint),
            ("invoice.confirmed", DeliveryState::NoEndpoint),
        ]
    );
}

#[test]
fn a_late_payment_is_after_expiration_and_marks_say_manually_marked() {
    let (_, tr) = paid_invoice(1);
    let mut late = tr.invoice.clone();
    late.payments[0].seen_at = late.expires_at + Duration::seconds(1);
    let txid = "ab".repeat(32);
    let item = payment_items(&late, &txid).remove(0);
    assert_eq!(
        item.status,
        PaymentStatus::Processing,
        "1 confirmation required, none yet"
    );
    match facts(EventKind::PaymentReceived, &late, Some(item)) {
        Some(InvoiceFacts::ReceivedPayment { after_expiration, .. }) => assert!(after_expiration),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        facts(EventKind::MarkedInvalid, &late, None),
        Some(InvoiceFacts::Invalid { manually_marked: true })
    );
    assert_eq!(
        facts(EventKind::MarkedSettled, &late, None),
        Some(InvoiceFacts::Settled {
            over_paid: false,
            manually_marked: true
        })
    );
    assert_eq!(
        facts(EventKind::PaymentReceived, &late, None),
        None,
        "a payment event needs its payment"
    );
}

#[test]
fn each_attempt_has_its_own_delivery_id_and_the_body_is_signed_as_php_checks() {
    let first = delivery_ids("evt_x_0123", "wh1", 0);
    assert_eq!(first.delivery_id, "evt_x_0123-0");
    assert_eq!(first.original_delivery_id, first.delivery_id);
    assert!(!first.is_redelivery);
    let third = delivery_ids("evt_x_0123", "wh1", 2);
    assert_eq!(third.delivery_id, "evt_x_0123-2");
    assert_eq!(third.original_delivery_id, "evt_x_0123-0");
    assert!(third.is_redelivery);
    assert_eq!(parse_delivery_id("evt_x_0123-2"), Some(("evt_x_0123", 2)));
    assert_eq!(parse_delivery_id("evt_x_0123"), None);

    let stored = json!({"type": "InvoiceExpired", "invoiceId": "inv_1", "partiallyPaid": false});
    let body = with_delivery(&stored, &third);
    assert_eq!(body["deliveryId"], "evt_x_0123-2");
    assert_eq!(body["webhookId"], "wh1");
    assert_eq!(body["originalDeliveryId"], "evt_x_0123-0");
    assert_eq!(body["isRedelivery"], true);
    assert_eq!(body["partiallyPaid"], false);
    let bytes = crate::greenfield::webhook_body::to_bytes(&body);
    let sig = crate::greenfield::webhook_body::btcpay_sig("s3cret", &bytes);
    assert!(verify_btcpay_sig("s3cret", &sig, &bytes));
}
