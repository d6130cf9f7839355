use serde_json::{json, Value};

use super::*;

/// The body the WooCommerce plugin v2.8.0 builds (docs/greenfield.md §4.5).
fn plugin_body() -> Value {
    json!({
        "amount": "12.34", "currency": "USD",
        "metadata": {"buyerEmail": "a@b.example", "taxIncluded": "1.10",
                     "posData": "{\"WooCommerce\":{\"Order ID\":42}}",
                     "orderUrl": "https://shop.example/wp-admin/post.php?post=42", "orderId": "42"},
        "checkout": {"speedPolicy": null, "paymentMethods": ["BCH_CHAIN"], "expirationMinutes": null,
                     "monitoringMinutes": null, "paymentTolerance": null,
                     "redirectURL": "https://shop.example/checkout/order-received/42/?key=wc_order_x",
                     "redirectAutomatically": null, "defaultLanguage": null}
    })
}

fn parsed(body: Value) -> Result<Parsed, Vec<FieldError>> {
    let request = read(body.to_string().as_bytes())?;
    parse(&request, &Settings::default())
}

fn paths(body: Value) -> Vec<String> {
    match parsed(body) {
        Ok(p) => panic!("accepted: {p:?}"),
        Err(errors) => errors.into_iter().map(|e| e.path).collect(),
    }
}

#[test]
fn the_plugins_body_is_a_usd_price_with_its_order_and_redirect() {
    let parsed = parsed(plugin_body()).unwrap();
    let (currency, price) = parsed.fiat.unwrap();
    assert_eq!((currency.code(), price), ("USD", Decimal::new(1234, 2)));
    let draft = parsed.draft;
    assert_eq!(draft.order_id.as_deref(), Some("42"));
    assert_eq!(
        draft.redirect_url.as_deref(),
        Some("https://shop.example/checkout/order-received/42/?key=wc_order_x")
    );
    assert_eq!(draft.metadata, plugin_body()["metadata"], "metadata kept verbatim");
    let defaults = Settings::default().payments;
    assert_eq!(draft.expires_in_secs, defaults.expiry_secs);
    assert_eq!(draft.required_confirmations, defaults.required_confirmations);
}

#[test]
fn extra_zero_decimals_pass_and_other_extra_decimals_do_not() {
    let mut body = plugin_body();
    body["currency"] = json!("KRW");
    body["amount"] = json!("15000.00");
    assert_eq!(parsed(body.clone()).unwrap().fiat.unwrap().1, Decimal::new(15000, 0));
    body["amount"] = json!("15000.50");
    assert_eq!(paths(body), ["amount"]);
    assert_eq!(without_extra_zeros("12.340", 2), "12.34");
    assert_eq!(without_extra_zeros("12.3", 2), "12.3");
    assert_eq!(without_extra_zeros("12.00", 0), "12");
    assert_eq!(without_extra_zeros("0.123456780", 8), "0.12345678");
}

#[test]
fn bch_amounts_default_currency_and_options_are_read() {
    let body = json!({"amount": "0.001", "currency": "BCH",
                      "checkout": {"speedPolicy": "HighSpeed", "expirationMinutes": 30}});
    let bch = parsed(body).unwrap();
    assert_eq!(bch.fiat, None);
    assert_eq!(bch.draft.amount_sats, Sats(100_000));
    assert_eq!(bch.draft.required_confirmations, 0);
    assert_eq!(bch.draft.expires_in_secs, 1800);
    // No currency: the store's default (USD).
    let fiat = parsed(json!({"amount": "5"})).unwrap().fiat.unwrap();
    assert_eq!(fiat.0.code(), "USD");
    // An integer amount is its digits.
    assert!(parsed(json!({"amount": 5, "currency": "EUR"})).is_ok());
}

#[test]
fn each_problem_is_a_422_item_at_its_path() {
    for (body, expected) in [
        (json!({"currency": "USD"}), vec!["amount"]),
        (json!({"amount": "0", "currency": "USD"}), vec!["amount"]),
        (json!({"amount": "-1", "currency": "USD"}), vec!["amount"]),
        (json!({"amount": 12.34, "currency": "USD"}), vec!["amount"]),
        (json!({"amount": "1", "currency": "BTC"}), vec!["currency"]),
        (json!({"amount": "1", "currency": "XYZ"}), vec!["currency"]),
        (
            json!({"amount": "1", "checkout": {"paymentMethods": ["BTC-CHAIN"]}}),
            vec!["checkout.paymentMethods[0]"],
        ),
        (
            json!({"amount": "1", "checkout": {"expirationMinutes": 0}}),
            vec!["checkout.expirationMinutes"],
        ),
        (
            json!({"amount": "1", "checkout": {"expirationMinutes": 20000}}),
            vec!["checkout.expirationMinutes"],
        ),
        (
            json!({"amount": "1", "checkout": {"paymentTolerance": 101}}),
            vec!["checkout.paymentTolerance"],
        ),
        (
            json!({"amount": "1", "checkout": {"paymentTolerance": 5}}),
            vec!["checkout.paymentTolerance"],
        ),
        (
            json!({"amount": "1", "checkout": {"monitoringMinutes": 5}}),
            vec!["checkout.monitoringMinutes"],
        ),
        (
            json!({"amount": "1", "checkout": {"redirectURL": "javascript:alert(1)"}}),
            vec!["checkout.redirectURL"],
        ),
        (json!({"amount": "1", "metadata": [1]}), vec!["metadata"]),
        (
            json!({"amount": "1", "metadata": {"orderId": 42}}),
            vec!["metadata.orderId"],
        ),
        (
            json!({"amount": "x", "currency": "USD", "checkout": {"paymentMethods": ["LTC"]}}),
            vec!["amount", "checkout.paymentMethods[0]"],
        ),
        (
            json!({"amount": "1", "checkout": {"speedPolicy": "Fast"}}),
            vec!["checkout.speedPolicy"],
        ),
    ] {
        assert_eq!(paths(body.clone()), expected, "{body}");
    }
    // The store's own values are taken.
    let store = Settings::default().payments;
    let body = json!({"amount": "1", "checkout": {"paymentTolerance": store.payment_tolerance_percent,
                                                   "monitoringMinutes": store.monitoring_secs / 60}});
    assert!(parsed(body).is_ok());
}
