//! Tests of the invoice id, the stored record and its API view.

use super::*;
use chrono::TimeZone;

fn address() -> Address {
    Address::parse("bitcoincash:qpm2qsznhks23z7629mms6s4cwef74vcwvy22gdx6a").expect("valid test address")
}

fn draft() -> NewInvoice {
    NewInvoice {
        amount_sats: Sats(70_000),
        fiat: None,
        order_id: Some("A-1001".into()),
        description: Some("Gold membership".into()),
        metadata: json!({"customer": 7}),
        webhook_url: Some("https://shop.example/hook".into()),
        redirect_url: None,
        expires_in_secs: 900,
        required_confirmations: 1,
    }
}

fn invoice() -> Invoice {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap() + Duration::nanoseconds(123_456_789);
    Invoice::create(InvoiceId::from_bytes([7; 16]), draft(), address(), now)
}

#[test]
fn generated_ids_have_the_prefix_and_22_digits_and_parse_back() {
    let id = InvoiceId::generate();
    assert!(id.as_str().starts_with("inv_"));
    assert_eq!(id.as_str().len(), 4 + 22);
    assert_eq!(InvoiceId::parse(id.as_str()), Ok(id));
}

#[test]
fn generated_ids_differ() {
    let ids: std::collections::HashSet<_> = (0..1000).map(|_| InvoiceId::generate()).collect();
    assert_eq!(ids.len(), 1000);
}

#[test]
fn extreme_ids_encode_at_full_width() {
    assert_eq!(InvoiceId::from_bytes([0; 16]).as_str(), "inv_0000000000000000000000");
    let max = InvoiceId::from_bytes([0xff; 16]);
    assert_eq!(max.as_str(), "inv_7n42DGM5Tflk9n8mt7Fhc7");
    assert_eq!(InvoiceId::parse(max.as_str()), Ok(max));
}

#[test]
fn parse_refuses_malformed_ids() {
    for bad in [
        "",
        "inv_",
        "7Yc2mQ0e9xk1f3Vb8nRz4A",
        "INV_7Yc2mQ0e9xk1f3Vb8nRz4A",
        "inv_7Yc2mQ0e9xk1f3Vb8nRz4",
        "inv_7Yc2mQ0e9xk1f3Vb8nRz4AB",
        "inv_7Yc2mQ0e9xk1f3Vb8nRz4-",
        "inv_7Yc2mQ0e9xk1f3Vb8nRz4é",
        // 2^128: one past what 16 bytes hold.
        "inv_7n42DGM5Tflk9n8mt7Fhc8",
        "inv_zzzzzzzzzzzzzzzzzzzzzz",
    ] {
        assert_eq!(InvoiceId::parse(bad), Err(InvalidInvoiceId), "{bad:?}");
    }
    assert!(InvoiceId::parse("inv_7Yc2mQ0e9xk1f3Vb8nRz4A").is_ok());
}

#[test]
fn ids_serialize_as_strings_and_are_checked_when_read() {
    let id = InvoiceId::from_bytes([1; 16]);
    let text = serde_json::to_string(&id).unwrap();
    assert_eq!(text, format!("\"{id}\""));
    assert_eq!(serde_json::from_str::<InvoiceId>(&text).unwrap(), id);
    assert!(serde_json::from_str::<InvoiceId>("\"inv_nope\"").is_err());
}

#[test]
fn statuses_and_exceptions_serialize_in_snake_case() {
    assert_eq!(
        serde_json::to_value(InvoiceStatus::Confirmed).unwrap(),
        json!("confirmed")
    );
    assert_eq!(
        serde_json::to_value(InvoiceException::PaidLate).unwrap(),
        json!("paid_late")
    );
    assert_eq!(
        serde_json::to_value(InvoiceException::PaidPartial).unwrap(),
        json!("paid_partial")
    );
    for s in ["new", "paid", "confirmed", "expired", "invalid"] {
        let status = InvoiceStatus::parse(s).unwrap();
        assert_eq!(serde_json::to_value(status).unwrap(), json!(s));
    }
    assert_eq!(InvoiceStatus::parse("New"), None);
}

#[test]
fn create_starts_new_and_expires_after_the_given_seconds() {
    let inv = invoice();
    assert_eq!(inv.status, InvoiceStatus::New);
    assert_eq!(inv.exception, None);
    assert!(inv.payments.is_empty());
    assert_eq!(
        inv.created_at.timestamp_subsec_nanos(),
        123_000_000,
        "kept to the millisecond"
    );
    assert_eq!(inv.expires_at - inv.created_at, Duration::seconds(900));
    assert_eq!(inv.paid_at, None);
}

#[test]
fn stored_json_round_trips() {
    let mut inv = invoice();
    inv.payments.push(Payment {
        txid: "ab".repeat(32),
        amount_sats: Sats(5),
        height: 0,
        outputs: Vec::new(),
        seen_at: inv.created_at,
        settled: false,
    });
    let text = serde_json::to_string(&inv).unwrap();
    assert_eq!(serde_json::from_str::<Invoice>(&text).unwrap(), inv);
}

fn fiat_draft() -> NewInvoice {
    NewInvoice {
        amount_sats: Sats(2_449_598),
        fiat: Some(FiatPrice {
            currency: crate::fiat::Currency::parse("KRW").unwrap(),
            price: "15000".parse().unwrap(),
            rate: "612345.5".parse().unwrap(),
            rate_sources: vec!["upbit".into(), "bithumb".into()],
            rate_at: Utc.with_ymd_and_hms(2026, 11, 25, 14, 59, 30).unwrap(),
        }),
        ..draft()
    }
}

#[test]
fn an_invoice_stored_before_fiat_prices_reads_back_in_bch_byte_for_byte() {
    // A BCH invoice's stored JSON has none of the fiat keys, as before them.
    let inv = invoice();
    let text = serde_json::to_string(&inv).unwrap();
    for key in [
        "\"currency\"",
        "\"price\"",
        "\"rate\"",
        "\"rate_sources\"",
        "\"rate_at\"",
    ] {
        assert!(!text.contains(key), "{key} in {text}");
    }
    let back: Invoice = serde_json::from_str(&text).unwrap();
    let api = back.to_api("", None);
    assert_eq!(
        (
            &api["currency"],
            &api["price"],
            &api["rate"],
            &api["rate_sources"],
            &api["rate_at"]
        ),
        (&json!("BCH"), &json!("0.0007"), &json!(null), &json!([]), &json!(null))
    );
}

#[test]
fn a_fiat_invoice_keeps_its_price_and_rate_through_the_store() {
    let inv = Invoice::create(InvoiceId::from_bytes([3; 16]), fiat_draft(), address(), Utc::now());
    let text = serde_json::to_string(&inv).unwrap();
    assert!(
        text.contains("\"currency\":\"KRW\",\"price\":\"15000\",\"rate\":\"612345.5\""),
        "{text}"
    );
    let back: Invoice = serde_json::from_str(&text).unwrap();
    assert_eq!(back, inv);
    let api = back.to_api("", None);
    assert_eq!(api["price"], "15000");
    assert_eq!(api["currency"], "KRW");
    assert_eq!(api["rate"], "612345.5");
    assert_eq!(api["rate_sources"], json!(["upbit", "bithumb"]));
    assert_eq!(api["rate_at"], "2026-11-25T14:59:30Z");
    assert_eq!(api["amount_sats"], 2_449_598);
}

#[test]
fn the_order_rule_compares_the_price_and_currency_not_the_rate() {
    let fiat = Invoice::create(InvoiceId::from_bytes([3; 16]), fiat_draft(), address(), Utc::now());
    let mut moved = fiat_draft();
    moved.amount_sats = Sats(2_000_000);
    if let Some(f) = moved.fiat.as_mut() {
        f.rate = "750000".parse().unwrap();
    }
    assert!(fiat.same_terms(&moved), "the rate moved: still the same order");
    let mut other_price = fiat_draft();
    if let Some(f) = other_price.fiat.as_mut() {
        f.price = "15001".parse().unwrap();
    }
    assert!(!fiat.same_terms(&other_price));
    let mut other_currency = fiat_draft();
    if let Some(f) = other_currency.fiat.as_mut() {
        f.currency = crate::fiat::Currency::parse("JPY").unwrap();
    }
    assert!(!fiat.same_terms(&other_currency));
    assert!(
        !fiat.same_terms(&NewInvoice {
            amount_sats: Sats(2_449_598),
            ..draft()
        }),
        "BCH vs KRW"
    );
    let bch = invoice();
    assert!(bch.same_terms(&draft()));
    assert!(!bch.same_terms(&fiat_draft()));
}

#[test]
fn to_api_of_a_new_invoice_is_exactly_the_documented_shape() {
    let inv = invoice();
    let api = inv.to_api("http://127.0.0.1:8080/", Some(100));
    let id = inv.id.as_str();
    let addr = inv.address.as_str();
    assert_eq!(
        api,
        json!({
            "id": id,
            "status": "new",
            "exception": null,
            "amount": "0.0007", "amount_sats": 70000,
            "price": "0.0007", "currency": "BCH", "rate": null, "rate_sources": [], "rate_at": null,
            "received": "0", "received_sats": 0,
            "address": addr,
            "payment_uri": format!("{addr}?amount=0.0007"),
            "checkout_url": format!("http://127.0.0.1:8080/i/{id}"),
            "order_id": "A-1001", "description": "Gold membership", "metadata": {"customer": 7},
            "required_confirmations": 1, "confirmations": 0,
            "payments": [],
            "created_at": "2026-11-25T15:00:00Z", "expires_at": "2026-11-25T15:15:00Z",
            "paid_at": null, "confirmed_at": null
        })
    );
}

#[test]
fn to_api_sums_payments_and_counts_the_least_confirmed() {
    let mut inv = invoice();
    inv.status = InvoiceStatus::Paid;
    inv.exception = Some(InvoiceException::PaidOver);
    inv.paid_at = Some(inv.created_at + Duration::seconds(61));
    inv.payments = vec![
        Payment {
            txid: "aa".into(),
            amount_sats: Sats(50_000),
            height: 98,
            outputs: Vec::new(),
            seen_at: inv.created_at,
            settled: false,
        },
        Payment {
            txid: "bb".into(),
            amount_sats: Sats(30_001),
            height: 100,
            outputs: Vec::new(),
            seen_at: inv.created_at,
            settled: false,
        },
    ];
    let api = inv.to_api("https://pay.example", Some(100));
    assert_eq!(api["status"], "paid");
    assert_eq!(api["exception"], "paid_over");
    assert_eq!(api["received"], "0.00080001");
    assert_eq!(api["received_sats"], 80_001);
    assert_eq!(api["confirmations"], 1);
    assert_eq!(api["payments"][0]["confirmations"], 3);
    assert_eq!(api["payments"][1]["confirmations"], 1);
    assert_eq!(api["paid_at"], "2026-11-25T15:01:01Z");
    assert_eq!(api["checkout_url"], format!("https://pay.example/i/{}", inv.id));
}

#[test]
fn confirmations_are_zero_in_the_mempool_or_without_a_tip() {
    let mut inv = invoice();
    inv.payments = vec![
        Payment {
            txid: "aa".into(),
            amount_sats: Sats(1),
            height: 90,
            outputs: Vec::new(),
            seen_at: inv.created_at,
            settled: false,
        },
        Payment {
            txid: "bb".into(),
            amount_sats: Sats(1),
            height: 0,
            outputs: Vec::new(),
            seen_at: inv.created_at,
            settled: false,
        },
    ];
    assert_eq!(inv.confirmations(Some(100)), 0);
    inv.payments[1].height = -1;
    assert_eq!(inv.confirmations(Some(100)), 0);
    inv.payments.pop();
    assert_eq!(inv.confirmations(Some(100)), 11);
    assert_eq!(inv.confirmations(None), 0);
    // A tip behind the payment (a daemon still syncing) is not a negative count.
    assert_eq!(inv.confirmations(Some(80)), 0);
}

proptest::proptest! {
    /// Every 16 bytes give a well-formed id, and different bytes different ids.
    #[test]
    fn any_bytes_make_a_parseable_id_and_distinct_bytes_distinct_ids(a: [u8; 16], b: [u8; 16]) {
        let id = InvoiceId::from_bytes(a);
        proptest::prop_assert_eq!(InvoiceId::parse(id.as_str()), Ok(id.clone()));
        proptest::prop_assert_eq!(a == b, id == InvoiceId::from_bytes(b));
    }
}
