//! Reading a webhook create/update body (`POST`/`PUT
//! stores/{storeId}/webhooks[/{id}]`) into a [`WebhookRequest`], with
//! Greenfield's 422 paths: a field of the wrong JSON type is named, and the
//! URL must be an absolute http(s) URL (BTCPay: `[{"path": "Url",
//! "message": "Invalid Url"}]`, `docs/greenfield.md` §4.9). Pure.

use serde_json::Value;

use super::types::{FieldError, WebhookRequest};

/// The body as a request, or every field that is wrong.
pub fn parse(body: &[u8]) -> Result<WebhookRequest, Vec<FieldError>> {
    let value: Value = serde_json::from_slice(body).map_err(|_| vec![FieldError::new("", "Invalid JSON")])?;
    let Some(object) = value.as_object() else {
        return Err(vec![FieldError::new("", "The body must be a JSON object")]);
    };
    let mut errors = Vec::new();
    let mut check = |path: &str, v: Option<&Value>, ok: fn(&Value) -> bool, what: &str| {
        if v.is_some_and(|v| !v.is_null() && !ok(v)) {
            errors.push(FieldError::new(path, &format!("{path} must be {what}")));
        }
    };
    check("enabled", object.get("enabled"), Value::is_boolean, "true or false");
    check(
        "automaticRedelivery",
        object.get("automaticRedelivery"),
        Value::is_boolean,
        "true or false",
    );
    check("url", object.get("url"), Value::is_string, "a string");
    check("secret", object.get("secret"), Value::is_string, "a string");
    let events = object.get("authorizedEvents");
    check("authorizedEvents", events, Value::is_object, "an object");
    if let Some(events) = events.and_then(Value::as_object) {
        check(
            "authorizedEvents.everything",
            events.get("everything"),
            Value::is_boolean,
            "true or false",
        );
        check(
            "authorizedEvents.specificEvents",
            events.get("specificEvents"),
            |v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            "an array of event type names",
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // Nulls mean "the default", as BTCPay reads them.
    let mut cleaned = value.clone();
    if let Some(map) = cleaned.as_object_mut() {
        map.retain(|_, v| !v.is_null());
        if let Some(events) = map.get_mut("authorizedEvents").and_then(Value::as_object_mut) {
            events.retain(|_, v| !v.is_null());
        }
    }
    let request: WebhookRequest =
        serde_json::from_value(cleaned).map_err(|e| vec![FieldError::new("", &e.to_string())])?;
    if !request.url.as_deref().is_some_and(is_absolute_http_url) {
        return Err(vec![FieldError::new("Url", "Invalid Url")]);
    }
    Ok(request)
}

/// `http://host…` or `https://host…` with a host, no spaces.
pub fn is_absolute_http_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !url.chars().any(char::is_whitespace) && url.parse::<awc::http::Uri>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugins_body_reads_with_its_six_events_and_no_secret() {
        let body = br#"{"enabled":true,"automaticRedelivery":true,"url":"https://shop/?wc-api=btcpaygf_default",
            "authorizedEvents":{"everything":false,"specificEvents":["InvoiceReceivedPayment","InvoicePaymentSettled",
            "InvoiceProcessing","InvoiceExpired","InvoiceSettled","InvoiceInvalid"]}}"#;
        let r = parse(body).unwrap();
        assert!(r.enabled && r.automatic_redelivery);
        assert_eq!(r.url.as_deref(), Some("https://shop/?wc-api=btcpaygf_default"));
        assert!(!r.authorized_events.everything);
        assert_eq!(r.authorized_events.specific_events.len(), 6);
        assert!(r.authorized_events.allows("InvoiceSettled") && !r.authorized_events.allows("InvoiceCreated"));
        assert_eq!(r.secret, None);
    }

    #[test]
    fn nulls_take_the_defaults_and_bad_fields_are_named() {
        let r = parse(br#"{"url":"http://a.example/h","enabled":null,"secret":null,"authorizedEvents":null}"#).unwrap();
        assert!(r.enabled && r.automatic_redelivery && r.authorized_events.everything);
        let paths = |body: &[u8]| {
            parse(body)
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|e| e.path)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            paths(br#"{"url":"http://a/","enabled":"yes","authorizedEvents":{"specificEvents":[1]}}"#),
            ["enabled", "authorizedEvents.specificEvents"]
        );
        for bad in [
            &br#"{}"#[..],
            br#"{"url":"shop/hook"}"#,
            br#"{"url":"ftp://shop/hook"}"#,
            br#"{"url":"http:///x"}"#,
            br#"{"url":"http://sh op/"}"#,
        ] {
            assert_eq!(paths(bad), ["Url"], "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(paths(b"[]"), [""]);
    }
}
