//! docs/openapi.yaml against the server as it is: every operation of the spec
//! is routed by the running engine, every route of `src/http/mod.rs::routes`
//! and of the `/api/v1` route table is in the spec, and the spec's main schemas name the fields real answers have.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use crate::helpers::*;
use awc::http::Method;
use serde_json::{json, Value};

/// The spec as JSON.
fn spec() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("read docs/openapi.yaml");
    serde_norway::from_str(&text).expect("docs/openapi.yaml is YAML")
}

/// HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// `(path, method)` of every operation in the spec, methods uppercase.
fn spec_operations(spec: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (key, _) in item.as_object().expect("a path item") {
            if METHODS.contains(&key.as_str()) {
                ops.insert((path.clone(), key.to_uppercase()));
            } else {
                assert_eq!(key, "parameters", "unexpected key {key} under {path}");
            }
        }
    }
    ops
}

/// `{anything}` → `{}`: actix and the spec may name a parameter differently.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            c => out.push(c),
        }
    }
    out
}

/// The string literal that starts at `text[at]` (a `"`), and the index after it.
fn literal(text: &str, at: usize) -> (String, usize) {
    assert_eq!(&text[at..at + 1], "\"", "a string literal at {at}");
    let end = text[at + 1..].find('"').expect("a closing quote") + at + 1;
    (text[at + 1..end].to_owned(), end + 1)
}

/// Reads `src/http/mod.rs`'s `routes` without a regex: `.route("P", web::M()…)`
/// calls, prefixed by the `web::scope("S")` they are chained on (a scope ends
/// where the parenthesis it sits in, that of `.service(`, closes). Anything it does not understand
/// (`web::resource`, `.service(` of a handler) fails the test rather than
/// being skipped.
fn server_routes() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/mod.rs")).unwrap();
    let start = source.find("pub fn routes(").expect("fn routes in src/http/mod.rs");
    let end = start + source[start..].find("\n}\n").expect("the end of fn routes");
    let body = &source[start..end];
    assert!(
        !body.contains("web::resource("),
        "routes uses web::resource: teach this scan about it"
    );
    let mut routes = BTreeSet::new();
    // (prefix, depth at which the scope was opened)
    let mut scopes: Vec<(String, i32)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < body.len() {
        let rest = &body[i..];
        if rest.starts_with("web::scope(") {
            let (prefix, next) = literal(body, i + "web::scope(".len());
            scopes.push((prefix, depth));
            depth += 1;
            i = next;
        } else if rest.starts_with(".route(") {
            let (path, next) = literal(body, i + ".route(".len());
            let after = &body[next..];
            let method_at = after.find("web::").expect("web::METHOD() after a route path") + "web::".len();
            let method: String = after[method_at..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            assert!(
                METHODS.contains(&method.as_str()),
                "route {path}: web::{method} is not a method guard"
            );
            let prefix: String = scopes.iter().map(|(p, _)| p.as_str()).collect();
            routes.insert((format!("{prefix}{path}"), method.to_uppercase()));
            depth += 1;
            i = next;
        } else if rest.starts_with(".service(") && !rest["service(".len() + 1..].trim_start().starts_with("web::scope(")
        {
            panic!(
                "routes mounts a service that is not a web::scope: teach this scan about it: {}",
                &rest[..40.min(rest.len())]
            );
        } else {
            match rest.as_bytes()[0] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    while scopes.last().is_some_and(|(_, d)| depth < *d) {
                        scopes.pop();
                    }
                }
                _ => {}
            }
            i += rest.chars().next().unwrap().len_utf8();
        }
    }
    assert!(scopes.is_empty() && depth == 0, "unbalanced parentheses in routes");
    // The /api/v1 scope mounts the route table (the rows, not source text).
    // Greenfield's rows are described by BTCPay's swagger, not by this spec:
    // tests/api/greenfield.rs checks them against tests/fixtures/greenfield/.
    for route in bchpay::http::routes::API_V1
        .iter()
        .filter(|r| r.errors == bchpay::http::routes::ErrorShape::Bchpay)
    {
        routes.insert((route.full_path(), route.verb.as_str().to_owned()));
    }
    routes
}

#[test]
fn the_route_scan_reads_src_http_mod_rs() {
    let routes = server_routes();
    assert!(routes.contains(&("/healthz".into(), "GET".into())), "{routes:?}");
    assert!(
        routes.contains(&("/api/v1/invoices".into(), "POST".into())),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("/api/v1/admin/stats".into(), "GET".into())),
        "{routes:?}"
    );
    assert!(routes.contains(&("/i/{id}/status".into(), "GET".into())), "{routes:?}");
    assert!(
        !routes.iter().any(|(p, _)| p.starts_with("/api/v1/api/v1")),
        "a scope applied twice: {routes:?}"
    );
    assert!(routes.len() >= 16, "{routes:?}");
}

#[test]
fn every_route_of_the_server_is_in_the_spec_and_nothing_else() {
    let spec = spec();
    let documented: BTreeSet<(String, String)> = spec_operations(&spec)
        .into_iter()
        .map(|(p, m)| (shape(&p), m))
        .collect();
    let served: BTreeSet<(String, String)> = server_routes().into_iter().map(|(p, m)| (shape(&p), m)).collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(missing.is_empty(), "routes the spec lacks: {missing:?}");
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(extra.is_empty(), "operations the server does not route: {extra:?}");
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn the_spec_is_openapi_3_with_bearer_auth_and_resolvable_refs() {
    let spec = spec();
    assert!(
        spec["openapi"].as_str().is_some_and(|v| v.starts_with("3.0.")),
        "{}",
        spec["openapi"]
    );
    let scheme = &spec["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["scheme"].as_str()),
        (Some("http"), Some("bearer"))
    );
    assert_eq!(spec["security"], json!([{"bearer": []}]));
    let mut all = Vec::new();
    refs(&spec, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {r}"));
        assert!(spec.pointer(pointer).is_some(), "$ref {r} resolves to nothing");
    }
    for (path, method) in spec_operations(&spec) {
        let op = &spec["paths"][&path][method.to_lowercase()];
        let public = !path.starts_with("/api/");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
        if public {
            assert_eq!(
                op["security"],
                json!([]),
                "{method} {path} needs no key: say `security: []`"
            );
        } else {
            assert!(
                op.get("security").is_none(),
                "{method} {path} must keep the bearer requirement"
            );
            assert!(op["responses"].get("401").is_some(), "{method} {path}: no 401");
        }
        // Every path parameter is declared.
        let declared: HashSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => spec.pointer(&r[1..]).unwrap().clone(),
                None => p.clone(),
            })
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(
                declared.contains(name),
                "{method} {path}: path parameter {name} not declared"
            );
        }
    }
}

/// The spec's property names of schema `name`, and its required ones.
fn schema_fields(spec: &Value, name: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let schema = &spec["components"]["schemas"][name];
    let props = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {name} has properties"));
    let required = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| v.as_str().unwrap().to_owned());
    (props.keys().cloned().collect(), required.collect())
}

/// The real answer has every required field of the schema and no field the schema lacks.
#[track_caller]
fn assert_matches_schema(spec: &Value, name: &str, real: &Value) {
    let (props, required) = schema_fields(spec, name);
    let keys: BTreeSet<String> = real
        .as_object()
        .unwrap_or_else(|| panic!("{name}: {real}"))
        .keys()
        .cloned()
        .collect();
    let undocumented: Vec<_> = keys.difference(&props).collect();
    assert!(
        undocumented.is_empty(),
        "{name}: fields the spec lacks: {undocumented:?}"
    );
    let absent: Vec<_> = required.difference(&keys).collect();
    assert!(
        absent.is_empty(),
        "{name}: required fields the server omits: {absent:?}"
    );
}

#[actix_rt::test]
async fn every_operation_of_the_spec_is_routed_and_its_schemas_match_real_answers() {
    let spec = spec();
    let token = "notify-token-0123456789abcdef";
    let app = TestApp::spawn_with(|s| {
        s.payments.poll_interval_ms = 200;
        s.electron_cash.notify_url = format!("http://127.0.0.1:{}/wallet/notify/{token}", free_port());
    })
    .await;
    let invoice = app
        .create_ok(&json!({"amount_sats": 10_000, "order_id": "spec-1"}))
        .await;
    let id = invoice["id"].as_str().unwrap().to_owned();
    app.sim.pay(invoice["address"].as_str().unwrap(), 10_000).expect("pay");
    let events = eventually("an event of the paid invoice", Duration::from_secs(10), || async {
        let reply = app.get(&format!("/api/v1/events?invoice_id={id}")).await;
        reply.body["events"].as_array().filter(|e| !e.is_empty()).cloned()
    })
    .await;
    let event_id = events[0]["id"].as_str().unwrap().to_owned();

    let route_not_found = json!({"error": {"code": "not_found", "message": "route not found"}});
    for (path, method) in spec_operations(&spec) {
        let filled = path
            .replace("{id}", &id)
            .replace("{event_id}", &event_id)
            .replace("{token}", token);
        let url = format!("{}{filled}", app.base);
        assert!(!url.contains('{'), "{path}: a path parameter this test does not fill");
        let body = match (method.as_str(), path.as_str()) {
            ("POST", "/api/v1/invoices") => Some(json!({"amount_sats": 2_000})),
            ("POST", "/api/v1/api-keys") => Some(json!({"label": "spec", "permissions": ["unrestricted"]})),
            ("POST", "/wallet/notify/{token}") => Some(json!({"address": invoice["address"], "status": null})),
            _ => None,
        };
        let body = body.map(|b| b.to_string().into_bytes());
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = send(&app.client, method.clone(), &url, Some(&bearer(API_KEY)), body).await;
        assert_ne!(reply.status, 405, "{method} {path}: 405");
        assert!(
            !(reply.status == 404 && reply.body == route_not_found),
            "{method} {path}: the server has no such route"
        );
        let documented =
            spec["paths"][&path][method.as_str().to_lowercase()]["responses"][reply.status.to_string()].clone();
        assert!(
            !documented.is_null(),
            "{method} {path}: answered {} which the spec does not list: {}",
            reply.status,
            reply.body
        );
    }

    // The control: a route that does not exist is told apart.
    let reply = app.get("/api/v1/no-such-route").await;
    assert_eq!((reply.status, &reply.body), (404, &route_not_found));

    // The schemas name what the server really sends.
    let fresh = app.get(&format!("/api/v1/invoices/{id}")).await.body;
    assert_matches_schema(&spec, "Invoice", &fresh);
    assert_matches_schema(&spec, "Payment", &fresh["payments"][0]);
    assert_matches_schema(&spec, "Event", &events[0]);
    assert_matches_schema(&spec, "WebhookPayload", &events[0]["payload"]);
    let status = app.get_with(&format!("/i/{id}/status"), None).await.body;
    assert_matches_schema(&spec, "CheckoutStatus", &status);
    let ready = app.get_with("/readyz", None).await.body;
    assert_matches_schema(&spec, "Readiness", &ready);
    let stats = app.get("/api/v1/admin/stats").await.body;
    assert_matches_schema(&spec, "Stats", &stats);
    let keys = app.get("/api/v1/api-keys").await.body;
    assert_matches_schema(&spec, "ApiKey", &keys["api_keys"][0]);
    let wallet = app.get("/api/v1/wallet").await.body;
    assert_matches_schema(&spec, "Wallet", &wallet);
    let error = app.get_with("/api/v1/invoices", None).await.body;
    assert_matches_schema(&spec, "Error", &error);
    let create_fields: BTreeSet<String> = schema_fields(&spec, "CreateInvoice").0;
    for field in [
        "amount",
        "amount_sats",
        "order_id",
        "description",
        "webhook_url",
        "redirect_url",
        "metadata",
    ] {
        assert!(create_fields.contains(field), "CreateInvoice lacks {field}");
    }
    // A field the spec does not list is refused by the server (additionalProperties: false).
    let reply = app.create(&json!({"amount_sats": 1_000, "not_in_spec": 1})).await;
    assert_error(&reply, 400, "unknown_field", None);
}
