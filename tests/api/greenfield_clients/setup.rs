//! What a driver's setup phase must have seen: the plugin's setup checks
//! pass, its webhook is registered, its invoice is made in USD and read back
//! as bchpay made it, the mark Invalid holds, errors come in Greenfield's
//! shapes; and every answer passes BTCPay's schema.

use serde_json::{json, Value};

use super::driver::{ok, step};
use super::schema::Schemas;

/// What the shop was set up with.
pub struct Shop {
    /// The store id bchpay gives.
    pub store_id: String,
    /// The key with the plugin's permissions.
    pub key: String,
    /// Where the plugin's webhook points.
    pub webhook_url: String,
    /// The checkout's order id.
    pub order_id: String,
}

/// The plugin's four required permissions and the webhook one, as
/// `api-keys/current` must list them for this store.
pub fn plugin_permissions(store_id: &str) -> Vec<String> {
    super::PLUGIN_PERMISSIONS
        .iter()
        .map(|p| format!("{p}:{store_id}"))
        .collect()
}

/// Every step that the server answered (not `unsupported`, not a refused
/// connection) against the schemas; the Python client's models must have read
/// every success too.
pub fn check_schemas(schemas: &Schemas, out: &Value) {
    let steps = out["steps"].as_object().expect("steps");
    for (name, s) in steps {
        if s.get("unsupported").is_some() {
            continue;
        }
        let route = s["route"].as_str().expect("a route");
        // The node client hands a success's body only (its status was 2xx).
        let status = match (&s["ok"], s["status"].as_u64()) {
            (_, Some(status)) => status as u16,
            (Value::Bool(true), None) => 200,
            _ => panic!("{} {name}: no answer: {s}", out["client"]),
        };
        if let Err(e) = schemas.check_answer(route, status, &s["body"]) {
            panic!("{} {name}: {e}", out["client"]);
        }
        if s["ok"] == true && s.get("model_ok").is_some() {
            assert_eq!(
                s["model_ok"], true,
                "{} {name}: the package's models failed: {s}",
                out["client"]
            );
        }
    }
}

/// The setup phase, field by field.
pub fn check_setup(out: &Value, shop: &Shop) {
    let client = &out["client"];
    // GET stores, GET stores/{id}.
    let stores = ok(out, "stores");
    assert_eq!(stores.as_array().map(Vec::len), Some(1), "{client}: stores {stores}");
    assert_eq!(stores[0]["id"], shop.store_id.as_str());
    assert_eq!(ok(out, "store")["id"], shop.store_id.as_str());
    // GET api-keys/current: the key presented and its permissions, as given.
    let key = ok(out, "apiKeyCurrent");
    assert_eq!(key["apiKey"], shop.key.as_str(), "{client}: {key}");
    let mut listed: Vec<String> = key["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p.as_str().expect("a permission string").to_owned())
        .collect();
    listed.sort();
    let mut want = plugin_permissions(&shop.store_id);
    want.sort();
    assert_eq!(listed, want, "{client}: api-keys/current");
    // GET server/info.
    let info = ok(out, "serverInfo");
    assert_eq!(info["version"], "2.4.1", "{client}: {info}");
    assert_eq!(info["fullySynched"], true, "{client}: {info}");
    assert!(
        info["supportedPaymentMethods"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("BCH-CHAIN"))),
        "{client}: {info}"
    );
    // The plugin's conclusions: a usable key for one store, no notices.
    let plugin = &out["plugin"];
    for (check, want) in [
        ("storesNonEmpty", true),
        ("hasSingleStore", true),
        ("hasRequiredPermissions", true),
        ("hasWebhookPermission", true),
        ("hasRefundsPermission", false),
        ("fullySynchedNotice", false),
        ("versionNotice", false),
        ("webhookExists", true),
        ("validInvoiceExists", true),
    ] {
        assert_eq!(plugin[check], want, "{client}: the plugin's {check}: {plugin}");
    }
    assert_eq!(plugin["storeId"], shop.store_id.as_str(), "{client}: {plugin}");
    assert_eq!(plugin["invoiceGateways"], json!(["BCH_CHAIN"]), "{client}: {plugin}");
    // GET stores/{id}/payment-methods: through the client where it has the call.
    let pms = step(out, "storePaymentMethods");
    if pms.get("unsupported").is_none() {
        assert_eq!(
            pms["body"],
            json!([{"enabled": true, "paymentMethodId": "BCH-CHAIN"}]),
            "{client}"
        );
        assert_eq!(plugin["gateways"], json!(["BCH_CHAIN"]), "{client}: {plugin}");
    }
    // The webhook: the secret once, in the create answer only.
    let created = ok(out, "webhookCreate");
    let id = created["id"].as_str().filter(|s| !s.is_empty()).expect("a webhook id");
    assert!(
        created["secret"].as_str().is_some_and(|s| !s.is_empty()),
        "{client}: {created}"
    );
    assert_eq!(created["url"], shop.webhook_url.as_str());
    assert_eq!(
        (&created["enabled"], &created["automaticRedelivery"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(
        created["authorizedEvents"],
        json!({"everything": false, "specificEvents": super::PLUGIN_EVENTS}),
        "{client}"
    );
    let got = ok(out, "webhookGet");
    assert_eq!(got["id"], id);
    assert!(got.get("secret").is_none(), "{client}: the secret again: {got}");
    let list = ok(out, "webhookList").as_array().expect("a webhook list");
    assert!(list.iter().any(|w| w["id"] == id), "{client}: {list:?}");
    assert!(list.iter().all(|w| w.get("secret").is_none()), "{client}: {list:?}");
    // The checkout's invoice.
    let inv = ok(out, "invoiceCreate");
    assert_eq!(
        (&inv["amount"], &inv["currency"]),
        (&json!("12.34"), &json!("USD")),
        "{client}: {inv}"
    );
    assert_eq!(
        (&inv["status"], &inv["additionalStatus"]),
        (&json!("New"), &json!("None"))
    );
    assert_eq!(inv["storeId"], shop.store_id.as_str());
    let inv_id = inv["id"].as_str().expect("an invoice id");
    assert_eq!(
        inv["checkoutLink"],
        format!("{}/i/{inv_id}", crate::helpers::PUBLIC_URL)
    );
    let meta = &inv["metadata"];
    assert_eq!(meta["orderId"], shop.order_id.as_str(), "{client}: {meta}");
    assert_eq!(meta["taxIncluded"], "1.10", "{client}: metadata kept as sent: {meta}");
    assert!(
        meta["posData"].as_str().is_some_and(|p| p.contains("WooCommerce")),
        "{meta}"
    );
    assert_eq!(
        inv["checkout"]["paymentMethods"],
        json!(["BCH-CHAIN"]),
        "{client}: {inv}"
    );
    assert_eq!(
        inv["checkout"]["speedPolicy"], "MediumSpeed",
        "{client}: 1 confirmation"
    );
    assert_eq!(ok(out, "invoiceGet")["id"], inv_id);
    // Marked Invalid by hand.
    let marked = ok(out, "invoiceMarkInvalid");
    assert_eq!(
        (&marked["status"], &marked["additionalStatus"]),
        (&json!("Invalid"), &json!("Marked"))
    );
    let after = ok(out, "invoiceGetAfterMark");
    assert_eq!(
        (&after["status"], &after["additionalStatus"]),
        (&json!("Invalid"), &json!("Marked"))
    );
    assert!(ok(out, "webhookDeliveries").is_array());
    // Errors in Greenfield's shapes.
    let unknown = step(out, "invoiceGetUnknown");
    assert_eq!(
        (&unknown["status"], &unknown["body"]["code"]),
        (&json!(404), &json!("invoice-not-found"))
    );
    let bad = step(out, "invoiceCreateBadAmount");
    assert_eq!(bad["status"], 422, "{client}: {bad}");
    assert!(
        bad["body"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["path"] == "amount")),
        "{client}: {bad}"
    );
}
