use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use super::*;
use crate::cashaddr::Address;
use crate::invoice::{FiatPrice, InvoiceId, NewInvoice, Payment, PaymentOutput};
use crate::money::Sats;

const ADDRESS: &str = "bchreg:qp000v3t6elz6e3d58nakg8eeuayn087jvzvl7emj2";

fn view() -> View<'static> {
    View {
        store_id: "S1",
        public_url: "https://pay.example/",
        tip: Some(110),
        policy: Policy {
            tolerance_percent: 0,
            monitoring_secs: 3600,
        },
    }
}

/// A 12.30 USD invoice at 300.00 USD/BCH (0.041 BCH), 15 minutes, 1 confirmation.
fn usd_invoice() -> Invoice {
    let currency = Currency::parse("USD").unwrap_or_else(|e| panic!("{e}"));
    let draft = NewInvoice {
        amount_sats: Sats(4_100_000),
        fiat: Some(FiatPrice {
            currency,
            price: Decimal::new(1230, 2),
            rate: Decimal::new(30000, 2),
            rate_sources: vec!["kraken".into()],
            rate_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 0).unwrap(),
        }),
        order_id: Some("42".into()),
        description: None,
        metadata: json!({"orderId": "42", "taxIncluded": "1.10"}),
        webhook_url: None,
        redirect_url: Some("https://shop.example/back".into()),
        expires_in_secs: 900,
        required_confirmations: 1,
    };
    let address = Address::parse(ADDRESS).unwrap_or_else(|e| panic!("{e}"));
    let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    Invoice::create(InvoiceId::from_bytes([7; 16]), draft, address, at)
}

fn paid(invoice: &mut Invoice, height: i64, outputs: &[(u32, u64)]) {
    let outputs = outputs
        .iter()
        .map(|&(vout, sats)| PaymentOutput {
            vout,
            amount_sats: Sats(sats),
        })
        .collect();
    let seen = invoice.created_at + Duration::seconds(60);
    invoice
        .payments
        .push(Payment::from_outputs("ab".repeat(32), height, outputs, seen));
}

#[test]
fn a_new_fiat_invoice_maps_every_field() {
    let invoice = usd_invoice();
    let data = serde_json::to_value(invoice_data(&invoice, &view())).unwrap();
    let created = invoice.created_at.timestamp();
    assert_eq!(data["id"], invoice.id.as_str());
    assert_eq!(data["storeId"], "S1");
    assert_eq!(data["amount"], "12.30");
    assert_eq!(data["paidAmount"], "0.00");
    assert_eq!(data["currency"], "USD");
    assert_eq!(data["type"], "Standard");
    assert_eq!(data["checkoutLink"], format!("https://pay.example/i/{}", invoice.id));
    assert_eq!(data["createdTime"], created);
    assert_eq!(data["expirationTime"], created + 900);
    assert_eq!(data["monitoringExpiration"], created + 900 + 3600);
    assert_eq!(data["status"], "New");
    assert_eq!(data["additionalStatus"], "None");
    assert_eq!(data["availableStatusesForManualMarking"], json!(["Settled", "Invalid"]));
    assert_eq!(data["archived"], false);
    assert_eq!(data["metadata"], json!({"orderId": "42", "taxIncluded": "1.10"}));
    assert_eq!(
        data["checkout"],
        json!({"speedPolicy": "MediumSpeed", "paymentMethods": ["BCH-CHAIN"], "defaultPaymentMethod": "BCH-CHAIN",
               "lazyPaymentMethods": false, "expirationMinutes": 15, "monitoringMinutes": 60, "paymentTolerance": 0,
               "redirectURL": "https://shop.example/back", "redirectAutomatically": false, "defaultLanguage": null})
    );
    assert_eq!(
        data["receipt"],
        json!({"enabled": false, "showQR": null, "showPayments": null})
    );
}

#[test]
fn statuses_follow_the_contract_table() {
    let mut invoice = usd_invoice();
    let cases = [
        (InvoiceStatus::New, None, "New", "None"),
        (
            InvoiceStatus::New,
            Some(InvoiceException::PaidPartial),
            "New",
            "PaidPartial",
        ),
        (InvoiceStatus::Paid, None, "Processing", "None"),
        (
            InvoiceStatus::Paid,
            Some(InvoiceException::PaidOver),
            "Processing",
            "PaidOver",
        ),
        (InvoiceStatus::Confirmed, None, "Settled", "None"),
        (
            InvoiceStatus::Confirmed,
            Some(InvoiceException::PaidLate),
            "Settled",
            "PaidLate",
        ),
        (
            InvoiceStatus::Paid,
            Some(InvoiceException::PaidLate),
            "Processing",
            "PaidLate",
        ),
        (
            InvoiceStatus::Expired,
            Some(InvoiceException::PaidPartial),
            "Expired",
            "PaidPartial",
        ),
        (InvoiceStatus::Invalid, None, "Invalid", "None"),
    ];
    for (status, exception, gf, additional) in cases {
        invoice.status = status;
        invoice.exception = exception;
        let (s, a) = statuses(&invoice);
        assert_eq!(
            (serde_json::to_value(s).unwrap(), serde_json::to_value(a).unwrap()),
            (json!(gf), json!(additional)),
            "{status:?} {exception:?}"
        );
    }
    invoice.exception = None;
    invoice.status = InvoiceStatus::Confirmed;
    assert_eq!(markable(&invoice), Vec::new());
    invoice.status = InvoiceStatus::Invalid;
    assert_eq!(markable(&invoice), vec![GfStatus::Settled]);
    // Marked by hand: Marked, and markable back (BTCPay: a marked invoice may be re-marked).
    invoice.marked = true;
    assert_eq!(statuses(&invoice).1, AdditionalStatus::Marked);
    assert_eq!(markable(&invoice), vec![GfStatus::Settled]);
    invoice.status = InvoiceStatus::Confirmed;
    assert_eq!(
        (statuses(&invoice), markable(&invoice)),
        ((GfStatus::Settled, AdditionalStatus::Marked), vec![GfStatus::Invalid])
    );
}

#[test]
fn payments_are_one_per_output_with_txid_vout_and_exact_bch_strings() {
    let mut invoice = usd_invoice();
    // Two outputs of one transaction, mined at 110 (1 confirmation at tip 110).
    paid(&mut invoice, 110, &[(0, 4_000_000), (3, 200_000)]);
    invoice.status = InvoiceStatus::Confirmed;
    invoice.exception = Some(InvoiceException::PaidOver);
    let method = serde_json::to_value(payment_method(&invoice, &view())).unwrap();
    assert_eq!(method["paymentMethodId"], "BCH-CHAIN");
    assert_eq!(method["currency"], "BCH");
    assert_eq!(method["destination"], ADDRESS);
    assert_eq!(method["paymentLink"], format!("{ADDRESS}?amount=0.041"));
    assert_eq!(method["rate"], "300.00");
    assert_eq!(method["amount"], "0.04100000");
    assert_eq!(method["paymentMethodPaid"], "0.04200000");
    assert_eq!(method["totalPaid"], "0.04200000");
    assert_eq!(
        method["due"], "-0.00100000",
        "overpaid: negative, as BTCPay's DueUncapped"
    );
    assert_eq!(method["paymentMethodFee"], "0.00000000");
    assert_eq!(method["activated"], true);
    assert_eq!(method["additionalData"], json!({}));
    let seen = invoice.created_at.timestamp() + 60;
    let txid = "ab".repeat(32);
    assert_eq!(
        method["payments"],
        json!([
            {"id": format!("{txid}-0"), "receivedDate": seen, "value": "0.04000000", "fee": "0.00000000",
             "status": "Settled", "destination": ADDRESS},
            {"id": format!("{txid}-3"), "receivedDate": seen, "value": "0.00200000", "fee": "0.00000000",
             "status": "Settled", "destination": ADDRESS},
        ])
    );
    // In the invoice's currency at the locked rate: 0.042 BCH × 300 = 12.60 USD.
    assert_eq!(invoice_data(&invoice, &view()).paid_amount, "12.60");
}

#[test]
fn an_unconfirmed_payment_is_processing_and_a_bch_invoice_has_rate_one() {
    let mut invoice = usd_invoice();
    invoice.currency = "BCH".into();
    invoice.price = None;
    invoice.rate = None;
    paid(&mut invoice, 0, &[(1, 1_000_000)]);
    let method = payment_method(&invoice, &view());
    assert_eq!(method.rate, "1");
    assert_eq!(method.due, "0.03100000");
    assert_eq!(method.payments[0].status, PaymentStatus::Processing);
    let data = invoice_data(&invoice, &view());
    assert_eq!(
        (data.amount.as_str(), data.paid_amount.as_str()),
        ("0.04100000", "0.01000000")
    );
}

#[test]
fn amounts_are_written_at_the_currencys_minor_units() {
    assert_eq!(at_minor_units(Decimal::new(15000, 0), 0), "15000");
    assert_eq!(at_minor_units(Decimal::new(123, 1), 2), "12.30");
    assert_eq!(at_minor_units(Decimal::new(12345, 3), 2), "12.35");
    assert_eq!(at_minor_units(Decimal::new(1, 3), 3), "0.001");
}
