use serde_json::{json, Value};

use super::*;

/// The fixture's valid instances (tests/fixtures/greenfield/examples.json):
/// shapes a BTCPay client accepts, written from the swagger.
fn example(name: &str) -> Value {
    let all: Value =
        serde_json::from_str(include_str!("../../tests/fixtures/greenfield/examples.json")).unwrap_or_default();
    all["valid"][name].clone()
}

/// Parses `value` as `T` and writes it back: the JSON must come back equal.
fn round_trip<T: serde::de::DeserializeOwned + Serialize>(value: &Value) -> Value {
    let parsed: T = match serde_json::from_value(value.clone()) {
        Ok(p) => p,
        Err(e) => panic!("does not parse: {e}\n{value}"),
    };
    serde_json::to_value(parsed).unwrap_or_default()
}

#[test]
fn response_types_mirror_the_fixture_shapes_field_for_field() {
    let invoice = example("InvoiceData");
    assert!(invoice.is_object());
    assert_eq!(round_trip::<InvoiceData>(&invoice), invoice);
    let pms = example("InvoicePaymentMethodList");
    assert_eq!(round_trip::<Vec<InvoicePaymentMethod>>(&pms), pms);
    let key = example("ApiKeyData");
    assert_eq!(round_trip::<ApiKeyData>(&key), key);
    let methods = example("GenericPaymentMethodList");
    assert_eq!(round_trip::<Vec<StorePaymentMethod>>(&methods), methods);
    let info = example("ApplicationServerInfoData");
    assert_eq!(round_trip::<ServerInfo>(&info), info);
    let created = example("WebhookDataCreateResult");
    assert_eq!(round_trip::<WebhookCreated>(&created), created);
    let webhook = example("WebhookData");
    assert_eq!(round_trip::<WebhookData>(&webhook), webhook);
    let deliveries = example("WebhookDeliveryList");
    assert_eq!(round_trip::<Vec<WebhookDelivery>>(&deliveries), deliveries);
    let problems = example("ValidationProblemDetails");
    assert_eq!(round_trip::<Vec<FieldError>>(&problems), problems);
    let problem = example("ProblemDetails");
    assert_eq!(round_trip::<ApiError>(&problem), problem);
}

#[test]
fn empty_options_are_sent_as_null_not_left_out() {
    let checkout = CheckoutOptions {
        speed_policy: None,
        payment_methods: vec![BCH_CHAIN.to_owned()],
        default_payment_method: None,
        lazy_payment_methods: None,
        expiration_minutes: None,
        monitoring_minutes: None,
        payment_tolerance: None,
        redirect_url: None,
        redirect_automatically: None,
        default_language: None,
    };
    let v = serde_json::to_value(&checkout).unwrap_or_default();
    for key in [
        "speedPolicy",
        "defaultPaymentMethod",
        "expirationMinutes",
        "monitoringMinutes",
        "paymentTolerance",
        "redirectURL",
        "redirectAutomatically",
        "defaultLanguage",
        "lazyPaymentMethods",
    ] {
        assert_eq!(v.get(key), Some(&Value::Null), "{key}");
    }
}

#[test]
fn the_plugins_create_request_parses_with_every_checkout_key_null() {
    // As woocommerce-greenfield-plugin v2.8.0 + greenfield-php v2.9.0 send it.
    let body = json!({
        "amount": "12.34", "currency": "USD",
        "metadata": {"taxIncluded": "1.10", "posData": "{\"WooCommerce\":{\"Order ID\":42}}",
                     "orderUrl": "https://shop/wp-admin/post.php?post=42&action=edit", "orderId": "42"},
        "checkout": {"speedPolicy": null, "paymentMethods": ["BCH_CHAIN"], "expirationMinutes": null,
                     "monitoringMinutes": null, "paymentTolerance": null,
                     "redirectURL": "https://shop/checkout/order-received/42/", "redirectAutomatically": null,
                     "defaultLanguage": null}
    });
    let req: CreateInvoiceRequest = serde_json::from_value(body).unwrap_or_default();
    assert_eq!(req.amount_text(), Ok("12.34".to_owned()));
    assert_eq!(req.currency.as_deref(), Some("USD"));
    assert_eq!(req.order_id(), Some("42"));
    assert_eq!(req.checkout_errors(), vec![]);
    assert_eq!(req.expiration_minutes(), Ok(None));
    assert_eq!(req.tolerance_percent(), Ok(None));
    let redirect = req.checkout.as_ref().and_then(|c| c.redirect_url.as_deref());
    assert_eq!(redirect, Some("https://shop/checkout/order-received/42/"));
}

#[test]
fn amounts_are_read_as_text_and_never_through_a_float() {
    let read = |v: Value| -> Result<String, FieldError> {
        let req: CreateInvoiceRequest = serde_json::from_value(json!({ "amount": v })).unwrap_or_default();
        req.amount_text()
    };
    assert_eq!(read(json!("15000.00")), Ok("15000.00".to_owned()));
    assert_eq!(read(json!(15000)), Ok("15000".to_owned()));
    assert_eq!(read(json!(12.34)).map_err(|e| e.path), Err("amount".to_owned()));
    assert_eq!(
        read(json!(null)).map_err(|e| e.message),
        Err("amount is required".to_owned())
    );
    assert!(read(json!("")).is_err());
    assert!(read(json!(["1"])).is_err());
    let absent: CreateInvoiceRequest = serde_json::from_value(json!({})).unwrap_or_default();
    assert!(absent.amount_text().is_err());
}

#[test]
fn checkout_options_are_checked_with_greenfield_paths() {
    let req: CreateInvoiceRequest = serde_json::from_value(json!({
        "amount": "1", "checkout": {"paymentMethods": ["BCH_CHAIN", "BTC-LN"], "defaultPaymentMethod": "XMR",
                                     "expirationMinutes": 0, "monitoringMinutes": 1.5, "paymentTolerance": 101}
    }))
    .unwrap_or_default();
    let paths: Vec<String> = req.checkout_errors().into_iter().map(|e| e.path).collect();
    assert_eq!(
        paths,
        [
            "checkout.paymentMethods[1]",
            "checkout.defaultPaymentMethod",
            "checkout.expirationMinutes",
            "checkout.monitoringMinutes",
            "checkout.paymentTolerance"
        ]
    );
    let fine: CreateInvoiceRequest = serde_json::from_value(json!({
        "amount": "1", "checkout": {"expirationMinutes": 15, "monitoringMinutes": 1440, "paymentTolerance": 100}
    }))
    .unwrap_or_default();
    assert_eq!(fine.checkout_errors(), vec![]);
    assert_eq!(fine.expiration_minutes(), Ok(Some(15)));
    assert_eq!(fine.monitoring_minutes(), Ok(Some(1440)));
    assert_eq!(fine.tolerance_percent(), Ok(Some(100)));
}

#[test]
fn bch_on_chain_is_recognised_in_every_legacy_spelling_and_nothing_else() {
    for id in [
        "BCH",
        "bch",
        "BCH-CHAIN",
        "BCH_CHAIN",
        "bch_chain",
        "BCH_OnChain",
        "BCH-OnChain",
        " BCH-CHAIN ",
    ] {
        assert!(is_bch_chain(id), "{id}");
    }
    for id in [
        "BTC",
        "BTC-CHAIN",
        "BCH-LN",
        "BCH_LightningLike",
        "BCHCHAIN",
        "",
        "BCH-CHAIN-X",
        "XBCH",
    ] {
        assert!(!is_bch_chain(id), "{id}");
    }
}

#[test]
fn speed_policies_map_to_confirmations_and_back() {
    for p in [
        SpeedPolicy::HighSpeed,
        SpeedPolicy::MediumSpeed,
        SpeedPolicy::LowMediumSpeed,
        SpeedPolicy::LowSpeed,
    ] {
        assert_eq!(SpeedPolicy::from_confirmations(p.confirmations()), Some(p));
    }
    assert_eq!(SpeedPolicy::LowSpeed.confirmations(), 6);
    assert_eq!(SpeedPolicy::from_confirmations(3), None);
    assert_eq!(
        serde_json::to_value(SpeedPolicy::LowMediumSpeed).unwrap_or_default(),
        json!("LowMediumSpeed")
    );
}

#[test]
fn bch_amounts_have_eight_decimals_and_a_sign_when_negative() {
    assert_eq!(bch_fixed8(4_113_333), "0.04113333");
    assert_eq!(bch_fixed8(0), "0.00000000");
    assert_eq!(bch_fixed8(-10_000), "-0.00010000");
    assert_eq!(bch_fixed8(2_100_000_000_000_000), "21000000.00000000");
    assert_eq!(sats_fixed8(crate::money::Sats(100_000_001)), "1.00000001");
}

#[test]
fn webhook_requests_default_like_btcpay_and_filter_events() {
    let req: WebhookRequest = serde_json::from_value(json!({"url": "https://shop/?wc-api=btcpaygf_default"}))
        .unwrap_or_else(|_| WebhookRequest {
            enabled: false,
            automatic_redelivery: false,
            url: None,
            authorized_events: AuthorizedEvents {
                everything: false,
                specific_events: vec![],
            },
            secret: None,
        });
    assert!(req.enabled && req.automatic_redelivery && req.authorized_events.everything);
    assert!(req.authorized_events.allows("InvoiceCreated"));
    let some = AuthorizedEvents {
        everything: false,
        specific_events: vec!["InvoiceSettled".to_owned()],
    };
    assert!(some.allows("InvoiceSettled"));
    assert!(!some.allows("InvoiceCreated"));
}

#[test]
fn secrets_do_not_reach_debug_output() {
    let key = ApiKeyData {
        api_key: "k3y-v4lue".to_owned(),
        label: "shop".to_owned(),
        permissions: vec![],
    };
    assert!(!format!("{key:?}").contains("k3y-v4lue"));
    let created = WebhookCreated {
        webhook: WebhookData {
            id: "wh".to_owned(),
            enabled: true,
            automatic_redelivery: true,
            url: "https://shop/".to_owned(),
            authorized_events: AuthorizedEvents::default(),
        },
        secret: "s3cr3t-value".to_owned(),
    };
    assert!(!format!("{created:?}").contains("s3cr3t-value"));
    let req = WebhookRequest {
        enabled: true,
        automatic_redelivery: true,
        url: None,
        authorized_events: AuthorizedEvents::default(),
        secret: Some("s3cr3t-value".to_owned()),
    };
    assert!(!format!("{req:?}").contains("s3cr3t-value"));
}

#[test]
fn the_permission_error_names_the_permission() {
    let e = serde_json::to_value(PermissionError::new("btcpay.store.canviewinvoices")).unwrap_or_default();
    assert_eq!(e["code"], "missing-permission");
    assert_eq!(e["missingPermission"], "btcpay.store.canviewinvoices");
    assert!(e["message"]
        .as_str()
        .unwrap_or_default()
        .contains("btcpay.store.canviewinvoices"));
}
